"""MNIST-style IDX files (MNIST, Fashion-MNIST, KMNIST), plain or gzipped.

The IDX format: two zero bytes, a type byte, the number of dimensions ``d``, then ``d``
big-endian uint32 sizes, then the values, big-endian, in row-major order. Type bytes:
0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any, Literal

import numpy as np

from artifex.generative_models.training.data._sources import ArraySource

__all__ = ["IDX_DTYPES", "MnistIdxSource", "read_idx"]

#: IDX type byte -> element dtype (big-endian).
IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_PREFIXES = {"train": "train", "test": "t10k"}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (``.gz`` decompressed by its name) into a native-endian array.

    Raises:
        FileNotFoundError: No file at ``path``.
        ValueError: A file that is not IDX (bad magic, unknown type), truncated, too long,
            or not valid gzip; the message names the file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file (expected an IDX file)")
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                content = handle.read()
        else:
            with open(path, "rb") as handle:
                content = handle.read()
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"cannot read IDX file {path}: {type(error).__name__}: {error}") from None
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] not in IDX_DTYPES:
        raise ValueError(
            f"{path} is not an IDX file: expected the header 00 00 <type> <ndim> with type "
            f"one of {', '.join(f'{t:#04x}' for t in IDX_DTYPES)}, got {content[:4].hex(' ')}"
        )
    dtype, ndim = IDX_DTYPES[content[2]], content[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(content) < header:
        raise ValueError(f"IDX file {path} has a truncated header ({ndim} dimensions declared)")
    shape = tuple(int(n) for n in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape) * dtype.itemsize
    if len(content) - header != expected:
        raise ValueError(
            f"IDX file {path}: the header declares shape {shape} of {dtype.name}, "
            f"{expected} bytes of data, but the file holds {len(content) - header}"
            + (" (truncated?)" if len(content) - header < expected else "")
        )
    array = np.frombuffer(content, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _find(folder: Path, prefix: str, kind: str, rank: int) -> Path | None:
    for separator in ("-", "."):
        for suffix in ("", ".gz"):
            candidate = folder / f"{prefix}-{kind}{separator}idx{rank}-ubyte{suffix}"
            if candidate.is_file():
                return candidate
    return None


class MnistIdxSource(ArraySource):
    """Images and labels from MNIST IDX files.

    Args:
        path: A folder holding ``train-images-idx3-ubyte[.gz]`` / ``t10k-...`` and the
            matching ``...-labels-idx1-ubyte[.gz]`` (also ``train-images.idx3-ubyte``
            spellings), or the path of an images file (its labels file is looked for by
            replacing ``images`` with ``labels`` and ``idx3`` with ``idx1``).
        split: ``"train"`` or ``"test"`` (``t10k``), for a folder ``path``.
        labels_path: The labels IDX file, when it cannot be found by name.
        use_labels: True requires labels; None uses them when found; False never.
        **options: The other arguments of :class:`ArraySource` (uint8 pixels are read as 0..255).

    Raises:
        FileNotFoundError: The images file (or a required labels file) is missing; the
            message lists the names looked for.
        ValueError: Bad IDX files (see :func:`read_idx`) and every :class:`ArraySource`
            check (image / label counts, label ranges, ...).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        split: Literal["train", "test"] = "train",
        labels_path: str | os.PathLike[str] | None = None,
        use_labels: bool | None = None,
        **options: Any,
    ) -> None:
        root = Path(path)
        if split not in _PREFIXES:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        prefix = _PREFIXES[split]
        if root.is_dir():
            images_file = _find(root, prefix, "images", 3)
            if images_file is None:
                raise FileNotFoundError(
                    f"{root} holds no {prefix}-images-idx3-ubyte[.gz] (or "
                    f"{prefix}-images.idx3-ubyte[.gz]): expected MNIST IDX files"
                )
            found_labels = _find(root, prefix, "labels", 1)
        else:
            images_file = root
            guess = root.with_name(root.name.replace("images", "labels").replace("idx3", "idx1"))
            found_labels = guess if guess != root and guess.is_file() else None
        if labels_path is not None:
            found_labels = Path(labels_path)
        wanted = use_labels is not False and found_labels is not None
        if use_labels and found_labels is None:
            raise FileNotFoundError(
                f"use_labels=True but no labels file was found for {images_file}; pass labels_path"
            )
        images = read_idx(images_file)
        if images.ndim not in (3, 4):
            raise ValueError(
                f"IDX file {images_file} holds an array of shape {images.shape}: expected "
                "images (N, H, W) or (N, H, W, C)"
            )
        labels = read_idx(found_labels) if wanted and found_labels is not None else None
        options.setdefault("name", str(images_file))
        options.setdefault("source_layout", "NHWC")
        super().__init__(images, labels, **options)
