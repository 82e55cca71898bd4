"""The machinery every config shares: frozen, validated, serializable dataclasses.

A config class is a dataclass decorated with :func:`config_dataclass` that derives from
:class:`ConfigBase`. At construction every field is checked against its type hint (lists
become tuples, dicts become read-only mappings, ``bool`` is not an ``int``) and then the
class's ``_validate`` checks the values. Errors name the class, the field, the value and
what is allowed::

    ValueError: DiscriminatorConfig.dropout_rate=1.5: must be in [0, 1)

Configs are immutable: ``config.replace(field=value)`` returns a validated copy, and
assigning to a field raises :class:`FrozenConfigError`, which says so. ``to_dict`` /
``from_dict``, ``to_json`` / ``from_json`` and ``to_yaml`` / ``from_yaml`` round-trip
exactly, nested configs and dicts of configs included.
"""

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import (
    Any,
    ClassVar,
    NoReturn,
    Self,
    TypeVar,
    cast,
    dataclass_transform,
    get_type_hints,
)

import yaml

from artifex.generative_models.core.configuration._hints import (
    TYPE_KEY,
    FrozenDict,
    coerce,
    from_plain,
    to_plain,
)

__all__ = [
    "TYPE_KEY",
    "ConfigBase",
    "FrozenConfigError",
    "FrozenDict",
    "config_classes",
    "config_dataclass",
    "config_field",
]

_REGISTRY: dict[str, type["ConfigBase"]] = {}
_HINTS: dict[type, dict[str, Any]] = {}

Converter = Callable[[Any, str], Any]
_C = TypeVar("_C", bound=type)


class FrozenConfigError(dataclasses.FrozenInstanceError):
    """Raised on assignment to a config field: configs are immutable, use ``replace``.

    It is an ``AttributeError`` (through ``dataclasses.FrozenInstanceError``).
    """


def config_field(
    *,
    default: Any = dataclasses.MISSING,
    default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
    convert: Converter | None = None,
) -> Any:
    """Declare a config field with an optional converter.

    Args:
        default: The default value; omit for a required field.
        default_factory: A zero-argument callable making the default.
        convert: ``convert(value, where) -> value``, run before the type check; it
            normalizes accepted spellings (``4`` -> ``(4, 4)``, ``jax.nn.relu`` ->
            ``"relu"``). ``where`` is ``"Class.field"`` for error messages.

    Returns:
        A ``dataclasses.field`` carrying the converter in its metadata.
    """
    metadata = {"convert": convert} if convert is not None else {}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(config_field,))
def config_dataclass(cls: _C | None = None, *, abstract: bool = False, kw_only: bool = True) -> Any:
    """Make a :class:`ConfigBase` subclass a frozen, keyword-only, registered dataclass.

    Args:
        cls: The class to decorate.
        abstract: An abstract config cannot be built; ``from_dict`` on it needs a
            ``config_type`` key naming a concrete subclass.
        kw_only: Fields are keyword-only (the default; legacy classes allow positions).

    Returns:
        The decorated class (or a decorator, when called with options only).
    """

    def wrap(klass: _C) -> _C:
        if not issubclass(klass, ConfigBase):
            raise TypeError(f"{klass.__name__} must derive from ConfigBase")
        dataclasses.dataclass(frozen=True, kw_only=kw_only)(klass)  # decorates in place
        # The dataclass put its own __setattr__/__delattr__ here; ConfigBase's explain more.
        del klass.__setattr__
        del klass.__delattr__
        klass._abstract = abstract
        if klass.__name__ in _REGISTRY:
            raise TypeError(f"a config class named {klass.__name__} already exists")
        _REGISTRY[klass.__name__] = klass
        return klass

    return wrap if cls is None else wrap(cls)


def config_classes() -> dict[str, type["ConfigBase"]]:
    """All registered config classes by name (concrete and abstract)."""
    return dict(_REGISTRY)


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        hints = get_type_hints(cls)
        _HINTS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    return _HINTS[cls]


def _concrete_names(cls: type) -> str:
    names = [n for n, c in _REGISTRY.items() if issubclass(c, cls) and not c._abstract]
    return ", ".join(sorted(names))


class ConfigBase:
    """Base class of every config: validation, ``replace`` and (de)serialization.

    Subclasses are declared with :func:`config_dataclass` and extend ``_validate`` (calling
    ``super()._validate()``) for checks beyond the type hints.
    """

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    __artifex_config__: ClassVar[bool] = True
    _abstract: ClassVar[bool] = True

    # -- construction ------------------------------------------------------------------

    def __post_init__(self) -> None:
        cls = type(self)
        if cls._abstract:
            raise TypeError(f"{cls.__name__} is abstract; use one of: {_concrete_names(cls)}")
        hints = _hints(cls)
        for field in dataclasses.fields(self):
            where = f"{cls.__name__}.{field.name}"
            value = getattr(self, field.name)
            convert = field.metadata.get("convert")
            if convert is not None:
                value = convert(value, where)
            object.__setattr__(self, field.name, coerce(value, hints[field.name], where))
        self._validate()

    def _validate(self) -> None:
        """Check field values beyond their types; subclasses extend it."""

    def _set(self, name: str, value: Any) -> None:
        """Set a field during validation (derived or inferred values)."""
        object.__setattr__(self, name, value)

    def _fail(self, name: str, message: str, error: type[Exception] = ValueError) -> NoReturn:
        """Raise ``error`` naming this class, the field ``name`` and its value."""
        raise error(f"{type(self).__name__}.{name}={getattr(self, name)!r}: {message}")

    # -- immutability ------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        cls = type(self).__name__
        if name in self.field_names():
            raise FrozenConfigError(
                f"{cls} is frozen: cannot assign {name}={value!r}. Configs are immutable; "
                f"make a changed copy with config = config.replace({name}={value!r}) "
                f"(for a nested config: outer.replace(child=outer.child.replace({name}=...)))"
            )
        raise FrozenConfigError(
            f"{cls} is frozen and has no field {name!r}; fields: {', '.join(self.field_names())}"
        )

    def __delattr__(self, name: str) -> None:
        raise FrozenConfigError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        """The resolved type hint of each field."""
        return dict(_hints(cls))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of this class's fields, in declaration order."""
        return tuple(field.name for field in dataclasses.fields(cls))

    def replace(self, **changes: Any) -> Self:
        """Return a copy with ``changes`` applied, validated like a new config.

        Raises:
            TypeError: A key is not a field of this class.
        """
        known = self.field_names()
        for name in changes:
            if name not in known:
                raise TypeError(
                    f"{type(self).__name__}.replace: unknown field {name!r}; "
                    f"known fields: {', '.join(known)}"
                )
        return dataclasses.replace(self, **self._prepare_replace(dict(changes)))

    def _prepare_replace(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Adjust ``replace`` changes (re-derive inferred fields); subclasses extend it."""
        return changes

    # -- plain data --------------------------------------------------------------------

    def to_dict(self, *, include_type: bool = False) -> dict[str, Any]:
        """Plain data (dicts, lists, scalars) that ``from_dict`` turns back into this config.

        Tuples become lists; a nested config whose class the field's hint does not name
        exactly carries a ``config_type`` key.

        Args:
            include_type: Add a top-level ``config_type`` key naming this class, making the
                data self-describing (``ConfigBase.from_dict`` then picks the class).
        """
        hints = _hints(type(self))
        data = {name: to_plain(getattr(self, name), hints[name]) for name in self.field_names()}
        return {TYPE_KEY: type(self).__name__, **data} if include_type else data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a config from plain data, rebuilding tuples and nested configs.

        A ``config_type`` key picks a subclass of ``cls`` by name.

        Raises:
            TypeError: ``data`` is not a mapping, or a required key is missing.
            ValueError: A key is not a field (the message lists the known keys), or
                ``config_type`` names no subclass of ``cls``.
        """
        if not isinstance(data, Mapping):
            raise TypeError(
                f"{cls.__name__}.from_dict: expected a mapping, got {type(data).__name__}"
            )
        data = dict(data)
        target: type[ConfigBase] = cls
        if TYPE_KEY in data:
            name = data.pop(TYPE_KEY)
            found = _REGISTRY.get(name) if isinstance(name, str) else None
            if found is None or not issubclass(found, cls):
                raise ValueError(
                    f"{cls.__name__}.from_dict: {TYPE_KEY}={name!r} is not a config class "
                    f"derived from {cls.__name__}; known: {_concrete_names(cls)}"
                )
            target = found
        if target._abstract:
            raise ValueError(
                f"{target.__name__}.from_dict: {target.__name__} is abstract; add a "
                f"{TYPE_KEY!r} key naming one of: {_concrete_names(target)}"
            )
        known = target.field_names()
        for key in data:
            if key not in known:
                raise ValueError(
                    f"{target.__name__}.from_dict: unknown key {key!r}; "
                    f"known keys: {', '.join(known)}"
                )
        for field in dataclasses.fields(target):
            required = (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            )
            if required and field.name not in data:
                raise TypeError(f"{target.__name__}.from_dict: missing required key {field.name!r}")
        hints = _hints(target)
        kwargs = {key: from_plain(value, hints[key]) for key, value in data.items()}
        return cast(Self, target(**kwargs))

    # -- JSON, YAML, files --------------------------------------------------------------

    def to_json(self, *, indent: int | None = 2, include_type: bool = False) -> str:
        """This config as JSON text (see ``to_dict``)."""
        return json.dumps(self.to_dict(include_type=include_type), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Build a config from JSON text (see ``from_dict``)."""
        return cls.from_dict(json.loads(text))

    def to_yaml(self, *, include_type: bool = False) -> str:
        """This config as YAML text, written with ``yaml.safe_dump`` (see ``to_dict``)."""
        return yaml.safe_dump(
            self.to_dict(include_type=include_type), sort_keys=False, default_flow_style=None
        )

    @classmethod
    def from_yaml(cls, text: str) -> Self:
        """Build a config from YAML text, read with ``yaml.safe_load`` (see ``from_dict``)."""
        return cls.from_dict(yaml.safe_load(text))

    def to_file(self, path: str | Path) -> Path:
        """Write this config, tagged with its class, to a ``.json``, ``.yaml`` or ``.yml`` file.

        Returns:
            The path written.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".json":
            text = self.to_json(include_type=True) + "\n"
        elif suffix in (".yaml", ".yml"):
            text = self.to_yaml(include_type=True)
        else:
            raise ValueError(f"{path}: the suffix must be .json, .yaml or .yml")
        path.write_text(text, encoding="utf-8")
        return path

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """Read a config from a ``.json``, ``.yaml`` or ``.yml`` file.

        ``ConfigBase.from_file`` reads any config whose file names its ``config_type``.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        text = path.read_text(encoding="utf-8")
        if suffix == ".json":
            return cls.from_json(text)
        if suffix in (".yaml", ".yml"):
            return cls.from_yaml(text)
        raise ValueError(f"{path}: the suffix must be .json, .yaml or .yml")
