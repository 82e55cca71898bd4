"""Type-hint driven checking of config fields and their conversion to and from plain data.

Every config field carries a type hint; these functions read it to check a value at
construction (``coerce``), to turn a value into plain JSON/YAML data (``to_plain``) and to
rebuild typed values from plain data (``from_plain``). The hint forms understood are:
``bool``, ``int``, ``float``, ``str``, ``None``, unions, ``Literal[...]``,
``tuple[X, ...]``, ``tuple[X, Y]``, ``Mapping[str, X]``, ``Any`` (plain data only) and
config classes.
"""

import math
import types
from collections.abc import Iterator, Mapping
from typing import Any, Literal, Union, get_args, get_origin

NoneType = type(None)

#: Key that names the config class in a serialized nested config when the field's hint
#: alone cannot tell (a subclass, or a field typed with an abstract base class).
TYPE_KEY = "config_type"

_PLAIN_SCALARS = (str, int, float, bool, NoneType)


class FrozenDict(Mapping[str, Any]):
    """A read-only, hashable mapping: the frozen form of every dict held by a config.

    It compares equal to a ``dict`` with the same items and prints like one.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


def is_config_class(hint: Any) -> bool:
    """Whether ``hint`` is a config class (a subclass of ``ConfigBase``)."""
    return isinstance(hint, type) and bool(getattr(hint, "__artifex_config__", False))


def is_union(hint: Any) -> bool:
    """Whether ``hint`` is a union (``X | Y`` or ``Optional[X]``)."""
    return get_origin(hint) in (Union, types.UnionType)


def config_target(hint: Any) -> type | None:
    """The single config class a hint names (directly or in a union with None), if any."""
    if is_config_class(hint):
        return hint
    if is_union(hint):
        targets = [arg for arg in get_args(hint) if is_config_class(arg)]
        if len(targets) == 1:
            return targets[0]
    return None


def describe(hint: Any) -> str:
    """A short human description of a type hint, for error messages."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return "plain data"
    if hint is NoneType:
        return "None"
    if is_union(hint):
        return " or ".join(describe(arg) for arg in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a tuple of {describe(args[0])}"
        return f"a tuple of {len(args)} ({', '.join(describe(arg) for arg in args)})"
    if origin in (Mapping, dict):
        return f"a mapping of str to {describe(args[1])}"
    if isinstance(hint, type):
        return hint.__name__
    return str(hint)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _matches_kind(value: Any, hint: Any) -> bool:
    """Whether ``value`` has the right kind for ``hint`` (its contents are not checked)."""
    origin = get_origin(hint)
    if hint is Any:
        return True
    if hint is NoneType:
        return value is None
    if origin is Literal:
        return any(type(value) is type(arg) for arg in get_args(hint))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return _is_int(value)
    if hint is float:
        return _is_int(value) or isinstance(value, float)
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:
        return isinstance(value, list | tuple)
    if origin in (Mapping, dict):
        return isinstance(value, Mapping) and not is_config_class(type(value))
    if isinstance(hint, type):
        return isinstance(value, hint)
    return False


def _type_error(value: Any, hint: Any, where: str) -> TypeError:
    message = f"{where}={value!r}: expected {describe(hint)}, got {type(value).__name__}"
    target = config_target(hint)
    if target is not None and isinstance(value, Mapping):
        message += f"; build it with {target.__name__}(...) or {target.__name__}.from_dict(...)"
    if isinstance(value, str) and float in _members(hint):
        try:
            float(value)
        except ValueError:
            pass
        else:
            message += " (YAML 1.1 reads 1e-4 as a string: write 1.0e-4)"
    return TypeError(message)


def _members(hint: Any) -> tuple[Any, ...]:
    return get_args(hint) if is_union(hint) else (hint,)


def freeze_plain(value: Any, where: str) -> Any:
    """Freeze plain data: dicts become ``FrozenDict``, lists become tuples, recursively."""
    if isinstance(value, Mapping):
        frozen = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: keys must be str, got {key!r}")
            frozen[key] = freeze_plain(item, f"{where}[{key!r}]")
        return FrozenDict(frozen)
    if isinstance(value, list | tuple):
        return tuple(freeze_plain(item, f"{where}[{i}]") for i, item in enumerate(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}={value!r}: must be a finite number")
    if isinstance(value, _PLAIN_SCALARS):
        return value
    raise TypeError(
        f"{where}={value!r}: expected plain data (str, int, float, bool, None, list, dict), "
        f"got {type(value).__name__}"
    )


def coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against ``hint`` and return its canonical frozen form.

    Lists become tuples, mappings become ``FrozenDict``, ints become floats in float
    fields. A value of the wrong kind raises ``TypeError`` (``bool`` is not an ``int``);
    a value of the right kind that is not allowed (a ``Literal`` miss, a wrong tuple
    length, a non-finite float) raises ``ValueError``. ``where`` names the field.
    """
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return freeze_plain(value, where)
    if is_union(hint):
        for arg in args:
            if _matches_kind(value, arg):
                return coerce(value, arg, where)
        raise _type_error(value, hint, where)
    if not _matches_kind(value, hint):
        raise _type_error(value, hint, where)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(arg) for arg in args)
            raise ValueError(f"{where}={value!r}: must be one of {choices}")
        return value
    if hint is float:
        if not math.isfinite(value):
            raise ValueError(f"{where}={value!r}: must be a finite number")
        return float(value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(item, args[0], f"{where}[{i}]") for i, item in enumerate(value))
        if len(value) != len(args):
            raise ValueError(f"{where}={value!r}: must have {len(args)} entries")
        return tuple(
            coerce(item, arg, f"{where}[{i}]")
            for i, (item, arg) in enumerate(zip(value, args, strict=True))
        )
    if origin in (Mapping, dict):
        key_hint, value_hint = args
        items = {}
        for key, item in value.items():
            coerce(key, key_hint, f"{where} key")
            items[key] = coerce(item, value_hint, f"{where}[{key!r}]")
        return FrozenDict(items)
    return value


def _element_hint(hint: Any, index: int) -> Any:
    args = get_args(hint)
    if get_origin(hint) is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        if index < len(args):
            return args[index]
    return Any


def _value_hint(hint: Any) -> Any:
    if get_origin(hint) in (Mapping, dict):
        return get_args(hint)[1]
    return Any


def to_plain(value: Any, hint: Any) -> Any:
    """Turn a field value into plain data (dicts, lists, scalars) for JSON and YAML.

    A nested config becomes its ``to_dict()``, tagged with ``config_type`` when the
    field's hint does not name exactly its class.
    """
    if is_config_class(type(value)):
        data = value.to_dict()
        if config_target(hint) is not type(value):
            data = {TYPE_KEY: type(value).__name__, **data}
        return data
    if isinstance(value, Mapping):
        member = next((m for m in _members(hint) if get_origin(m) in (Mapping, dict)), Any)
        return {key: to_plain(item, _value_hint(member)) for key, item in value.items()}
    if isinstance(value, tuple):
        member = next((m for m in _members(hint) if get_origin(m) is tuple), Any)
        return [to_plain(item, _element_hint(member, i)) for i, item in enumerate(value)]
    return value


def from_plain(value: Any, hint: Any) -> Any:
    """Rebuild a typed field value (nested configs, tuples) from plain data."""
    if value is None:
        return None
    target: Any = config_target(hint)
    if target is not None and isinstance(value, Mapping):
        return target.from_dict(value)
    for member in _members(hint):
        origin = get_origin(member)
        if origin is tuple and isinstance(value, list | tuple):
            return tuple(from_plain(item, _element_hint(member, i)) for i, item in enumerate(value))
        if origin in (Mapping, dict) and isinstance(value, Mapping):
            return {key: from_plain(item, _value_hint(member)) for key, item in value.items()}
    return value
