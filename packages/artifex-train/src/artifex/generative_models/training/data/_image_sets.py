"""The datasets this package trains on, as uint8 images for ``artifex-metrics``.

``artifex-metrics stats digits:test --out stats.npz`` reads a dataset by name, but the
metrics package cannot import this one (it sits below it in the package map). So these
functions are registered as entry points of the group ``artifex.generative_models.
image_datasets`` (see ``pyproject.toml``), which the metrics command looks up: each
takes ``split`` and ``path`` (as ``NAME[:SPLIT][=PATH]`` gives them) and returns the
images exactly as the trainer reads them — the same files, split and channel order —
scaled to 0..255 and rounded to uint8, NHWC.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artifex.generative_models.training.data._cifar import Cifar10Source
from artifex.generative_models.training.data._idx import MnistIdxSource
from artifex.generative_models.training.data._sources import DigitsSource, ImageSource

__all__ = ["cifar10_images", "digits_images", "mnist_idx_images", "uint8_images"]

_CHUNK = 1024
"""Images converted at a time: bounds the float32 copy of a large dataset."""
_UINT8: dict[str, Any] = {"value_range": (0.0, 255.0), "layout": "NHWC", "use_labels": False}


def uint8_images(source: ImageSource) -> np.ndarray:
    """Every image of a source made with ``value_range=(0, 255)``, as uint8 NHWC."""
    if tuple(source.value_range) != (0.0, 255.0) or source.layout != "NHWC":
        raise ValueError(
            f"{source.name}: uint8_images needs value_range (0, 255) and layout NHWC, got "
            f"{source.value_range} and {source.layout}"
        )
    out = np.empty((len(source), *source.image_shape), np.uint8)
    for start in range(0, len(source), _CHUNK):
        rows = np.arange(start, min(start + _CHUNK, len(source)))
        out[rows] = np.clip(np.rint(source.get_batch(rows)["image"]), 0, 255)
    return out


def _split(name: str, split: str | None, allowed: tuple[str, ...], default: str) -> Any:
    if split is None:
        return default
    if split not in allowed:
        raise ValueError(f"dataset {name} has splits {', '.join(allowed)}; got {split!r}")
    return split


def _path(name: str, path: str | None, what: str) -> str:
    if path is None:
        raise ValueError(f"dataset {name} needs a path: {name}[:SPLIT]=PATH, PATH being {what}")
    return path


def digits_images(*, split: str | None = None, path: str | None = None) -> np.ndarray:
    """The bundled 8x8 digits: ``train``, ``test`` or ``all``; no path.

    The default split is ``test``, the training package's digits FID reference.
    """
    if path is not None:
        raise ValueError(f"dataset digits is bundled and takes no path, got {path!r}")
    chosen = _split("digits", split, ("train", "test", "all"), "test")
    return uint8_images(DigitsSource(chosen, **_UINT8))


def cifar10_images(*, split: str | None = None, path: str | None = None) -> np.ndarray:
    """CIFAR-10 from its python batches (default split ``train``, the usual FID reference)."""
    where = _path("cifar10", path, "the cifar-10-batches-py folder")
    chosen = _split("cifar10", split, ("train", "test"), "train")
    return uint8_images(Cifar10Source(where, split=chosen, **_UINT8))


def mnist_idx_images(*, split: str | None = None, path: str | None = None) -> np.ndarray:
    """MNIST-style IDX files (default split ``train``)."""
    where = _path("mnist_idx", path, "a folder or file of IDX data")
    chosen = _split("mnist_idx", split, ("train", "test"), "train")
    return uint8_images(MnistIdxSource(where, split=chosen, **_UINT8))
