"""Argument checks shared by the metrics: each raises before any computation."""

from __future__ import annotations

import numbers

import numpy as np


def positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int, or a ``ValueError`` naming ``name`` when it is not ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def feature_matrix(values: object, name: str, *, min_rows: int = 1) -> np.ndarray:
    """``values`` as a finite float64 ``(N, D)`` array, or a ``ValueError`` saying why not."""
    array = np.asarray(values)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples, features), got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if array.shape[1] == 0:
        raise ValueError(f"{name} has no feature columns: shape {array.shape}")
    if array.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} samples, got {array.shape[0]}")
    finite = np.isfinite(array)
    if not finite.all():
        rows = np.flatnonzero(~finite.all(axis=1))
        raise ValueError(
            f"{name} contains NaN or infinite values in {rows.size} of {array.shape[0]} "
            f"samples (first at index {rows[0]})"
        )
    return array


def same_width(first: np.ndarray, second: np.ndarray, names: tuple[str, str]) -> None:
    """A ``ValueError`` unless two feature matrices have the same number of columns."""
    if first.shape[1] != second.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same feature dimension, got "
            f"{first.shape[1]} and {second.shape[1]}"
        )
