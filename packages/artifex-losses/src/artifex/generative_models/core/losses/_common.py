"""Input checks, dtype policy and reductions shared by every loss.

Every check here reads only static information (shapes, dtypes, Python
options), so it runs once at trace time under ``jax.jit`` and raises before
anything is compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeAlias

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

Reduction: TypeAlias = Literal["mean", "sum", "none"]
"""How per-sample values are combined: ``"mean"``, ``"sum"`` or ``"none"``."""

Norm: TypeAlias = Literal["l1", "l2"]
"""Element-wise distance of the reconstruction losses."""

CriticFn: TypeAlias = Callable[[jax.Array], jax.Array]
"""A critic or discriminator as a function from a batch of inputs to per-sample scores."""

REDUCTIONS: tuple[str, ...] = ("mean", "sum", "none")
NORMS: tuple[str, ...] = ("l1", "l2")

_SCORE_SHAPES = "(B,), (B, 1) or (B, H, W, 1)"


def check_reduction(reduction: object) -> None:
    """Raises ValueError unless ``reduction`` is one of :data:`REDUCTIONS`."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}")


def check_norm(norm: object) -> None:
    """Raises ValueError unless ``norm`` is one of :data:`NORMS`."""
    if not isinstance(norm, str) or norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}; got {norm!r}")


def _is_python_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_in_range(
    name: str,
    value: object,
    low: float,
    high: float,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> None:
    """Checks a scalar option that is a Python number; traced values pass through.

    Options such as label targets may legitimately be traced (for example a
    smoothing schedule fed through ``jax.jit``); those cannot be checked at
    trace time and are used as given.
    """
    if not _is_python_number(value):
        return
    v = float(value)  # type: ignore[arg-type]
    above = v >= low if low_inclusive else v > low
    below = v <= high if high_inclusive else v < high
    if not (above and below):
        lo = "[" if low_inclusive else "("
        hi = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must lie in {lo}{low}, {high}{hi}; got {value!r}")


def check_non_negative(name: str, value: object) -> None:
    """Raises ValueError if a Python-number option is negative."""
    if _is_python_number(value) and float(value) < 0:  # type: ignore[arg-type]
        raise ValueError(f"{name} must be non-negative; got {value!r}")


def as_float_array(name: str, x: ArrayLike) -> jax.Array:
    """Converts ``x`` to a JAX array and checks it is floating point."""
    arr = jnp.asarray(x)
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        raise TypeError(f"{name} must be a floating-point array; got dtype {arr.dtype}")
    return arr


def as_batched(name: str, x: ArrayLike, *, what: str = "scores") -> jax.Array:
    """A floating array with a leading batch axis (rank >= 1)."""
    arr = as_float_array(name, x)
    if arr.ndim < 1:
        expected = _SCORE_SHAPES if what == "scores" else "(B, ...)"
        raise ValueError(
            f"{name} needs a leading batch axis, shape {expected}; got shape {arr.shape}"
        )
    return arr


def check_same_shape(name_a: str, a: jax.Array, name_b: str, b: jax.Array) -> None:
    """Raises ValueError naming both shapes unless they are identical."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape; "
            f"got {name_a}.shape={a.shape} and {name_b}.shape={b.shape}"
        )


def compute_dtype(*arrays: jax.Array) -> jnp.dtype:
    """The dtype losses compute in: the inputs' dtype, promoted to at least float32.

    bfloat16 and float16 become float32; float64 (with x64 enabled) stays float64.
    """
    return jnp.promote_types(jnp.result_type(*arrays), jnp.float32)


def upcast(x: jax.Array) -> jax.Array:
    """``x`` in its computation dtype (at least float32)."""
    return x.astype(compute_dtype(x))


def per_sample_mean(x: jax.Array) -> jax.Array:
    """Mean over every axis but the leading batch axis; shape ``(B,)``."""
    return jnp.mean(x, axis=tuple(range(1, x.ndim)))


def per_sample_sum(x: jax.Array) -> jax.Array:
    """Sum over every axis but the leading batch axis; shape ``(B,)``."""
    return jnp.sum(x, axis=tuple(range(1, x.ndim)))


def reduce(per_sample: jax.Array, reduction: Reduction) -> jax.Array:
    """Combines per-sample values of shape ``(B,)`` as ``reduction`` says."""
    if reduction == "mean":
        return jnp.mean(per_sample)
    if reduction == "sum":
        return jnp.sum(per_sample)
    return per_sample
