"""Argument and input checks shared by the layers.

Every message starts with the name of the layer that refused the value, says what was
expected and what came, so a mistake is reported before anything is traced or compiled.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import jax


def check_positive_int(owner: str, name: str, value: object) -> int:
    """Returns ``value`` if it is an ``int`` ≥ 1, else raises naming ``owner`` and ``name``."""
    # bool is an int subclass; ``True`` channels is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value}")
    return value


def check_positive_float(owner: str, name: str, value: object) -> float:
    """Returns ``float(value)`` if it is a finite real number > 0, else raises."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{owner}: {name} must be a float, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{owner}: {name} must be a finite number > 0, got {value}")
    return float(value)


def check_finite_float(owner: str, name: str, value: object) -> float:
    """Returns ``float(value)`` if it is a finite real number, else raises."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{owner}: {name} must be a float, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    return float(value)


def check_bool(owner: str, name: str, value: object) -> bool:
    """Returns ``value`` if it is a ``bool``, else raises."""
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")
    return value


def check_choice(owner: str, name: str, value: object, allowed: Collection[str]) -> str:
    """Returns ``value`` if it is one of ``allowed``, else raises listing them."""
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(option) for option in allowed)
        raise ValueError(f"{owner}: {name} must be one of {options}, got {value!r}")
    return value


def check_kernel_size(owner: str, value: object) -> tuple[int, int]:
    """Returns a 2-D kernel size from an int or a pair of positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if (
        not isinstance(value, tuple | list)
        or len(value) != 2
        or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in value)
    ):
        raise ValueError(
            f"{owner}: kernel_size must be a positive int or a pair of positive ints, got {value!r}"
        )
    return (value[0], value[1])


def check_nhwc(owner: str, x: jax.Array, channels: int | None = None) -> None:
    """Raises unless ``x`` is rank 4 (NHWC) and, if given, has ``channels`` channels."""
    if x.ndim != 4:
        raise ValueError(f"{owner} expects an NHWC input of rank 4, got shape {tuple(x.shape)}")
    if channels is not None and x.shape[-1] != channels:
        raise ValueError(
            f"{owner} expects an NHWC input with {channels} channels, got shape {tuple(x.shape)}"
        )


def check_features(owner: str, x: jax.Array, features: int, min_rank: int = 1) -> None:
    """Raises unless ``x`` has rank ≥ ``min_rank`` and ``features`` entries on its last axis."""
    if x.ndim < min_rank or x.shape[-1] != features:
        raise ValueError(
            f"{owner} expects an input of rank >= {min_rank} whose last axis has {features} "
            f"features, got shape {tuple(x.shape)}"
        )


def check_style(owner: str, style: jax.Array, style_dim: int, batch: int) -> None:
    """Raises unless ``style`` is ``(batch, style_dim)``."""
    if style.ndim != 2 or style.shape != (batch, style_dim):
        raise ValueError(
            f"{owner} expects a style of shape (batch, style_dim) = ({batch}, {style_dim}), "
            f"got shape {tuple(style.shape)}"
        )
