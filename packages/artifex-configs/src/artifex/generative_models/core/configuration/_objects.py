"""Reading duck-typed config objects (attribute-style classes, mappings) into typed configs."""

import inspect
from collections.abc import Mapping
from typing import Any, TypeVar

from artifex.generative_models.core.configuration._hints import config_target
from artifex.generative_models.core.configuration.base import ConfigBase

_C = TypeVar("_C", bound=ConfigBase)


def public_attributes(source: Any) -> dict[str, Any]:
    """The public attributes of an object (class attributes included), or a mapping's items."""
    if isinstance(source, Mapping):
        return dict(source)
    return {name: getattr(source, name) for name in dir(source) if not name.startswith("_")}


def build_from_object(
    cls: type[_C],
    source: Any,
    where: str,
    overrides: Mapping[str, Any] | None = None,
) -> _C:
    """Build ``cls`` from the attributes of ``source`` whose names are fields of ``cls``.

    Nested config fields are built the same way from nested objects (a nested class such
    as seed 003's ``class generator:`` works). Methods are skipped; any other attribute
    that is not a field is an error listing the known ones. ``overrides`` win over the
    attributes. An instance of ``cls`` is returned as it is (with ``overrides`` applied).

    Raises:
        ValueError: ``source`` has an attribute that is not a field of ``cls``.
    """
    overrides = dict(overrides or {})
    if isinstance(source, cls):
        return source.replace(**overrides) if overrides else source
    attributes = public_attributes(source)
    known = cls.field_names()
    for name, value in attributes.items():
        if name not in known and not inspect.isroutine(value):
            raise ValueError(
                f"{where}: unknown attribute {name!r} for {cls.__name__}; known: {', '.join(known)}"
            )
    hints = cls.field_types()
    kwargs = {}
    for name in known:
        if name not in attributes:
            continue
        value = attributes[name]
        target = config_target(hints[name])
        if target is not None and value is not None and not isinstance(value, ConfigBase):
            value = build_from_object(target, value, f"{where}.{name}")
        kwargs[name] = value
    kwargs.update(overrides)
    return cls(**kwargs)
