"""Module weights as flat ``name -> array`` maps, stored in ``.npz`` (never pickle).

A name is the module's attribute path joined by ``/``, e.g. ``Mixed_5b/branch1x1/conv/kernel``;
it covers parameters and batch-norm statistics.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx

# A tuple filter selects the union: parameters and batch-norm running statistics.
WEIGHT_TYPES = (nnx.Param, nnx.BatchStat)


def _walk(tree: Mapping[Any, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_walk(value, name + "/"))
        else:
            flat[name] = value
    return flat


def module_arrays(module: nnx.Module) -> dict[str, np.ndarray]:
    """The module's weights as ``{name: numpy array}``."""
    pure = nnx.to_pure_dict(nnx.state(module, WEIGHT_TYPES))
    return {name: np.asarray(value) for name, value in _walk(pure).items()}


def module_shapes(module: nnx.Module) -> dict[str, tuple[int, ...]]:
    """``{name: shape}`` of the module's weights; works on abstract modules (``nnx.eval_shape``)."""
    pure = nnx.to_pure_dict(nnx.state(module, WEIGHT_TYPES))
    return {name: tuple(value.shape) for name, value in _walk(pure).items()}


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file, read without unpickling anything."""
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def load_arrays(module: nnx.Module, arrays: Mapping[str, Any], source: str) -> None:
    """Overwrite the module's weights with ``arrays``, after checking names and shapes.

    Args:
        module: The module to update in place.
        arrays: ``{name: array}``, exactly the names :func:`module_arrays` gives.
        source: How error messages name where the arrays came from.

    Raises:
        ValueError: Names are missing or unexpected, or a shape differs.
    """
    state = nnx.state(module, WEIGHT_TYPES)
    pure = nnx.to_pure_dict(state)
    expected = _walk(pure)
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"{source} does not match {type(module).__name__}: missing {len(missing)} "
            f"weights {missing[:5]}, unexpected {len(unexpected)} {unexpected[:5]}"
        )
    for name, current in expected.items():
        if tuple(np.shape(arrays[name])) != tuple(current.shape):
            raise ValueError(
                f"{source}: weight {name!r} has shape {tuple(np.shape(arrays[name]))}, "
                f"{type(module).__name__} needs {tuple(current.shape)}"
            )

    def replace(tree: Mapping[Any, Any], prefix: str = "") -> dict[Any, Any]:
        return {
            key: replace(value, f"{prefix}{key}/")
            if isinstance(value, Mapping)
            else jnp.asarray(arrays[f"{prefix}{key}"], dtype=value.dtype)
            for key, value in tree.items()
        }

    nnx.replace_by_pure_dict(state, replace(pure))
    nnx.update(module, state)


def write_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write named arrays to an uncompressed ``.npz`` file."""
    # numpy's stubs read **arrays as its keyword options; the names here are weight paths.
    savez: Any = np.savez
    savez(path, **arrays)


def save_arrays(module: nnx.Module, path: str | os.PathLike[str]) -> None:
    """Write the module's weights to an ``.npz`` file."""
    write_npz(path, module_arrays(module))
