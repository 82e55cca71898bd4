"""CIFAR-10 "python version" batches, read with an unpickler that cannot run code.

The batch files (``data_batch_1`` .. ``data_batch_5``, ``test_batch``, ``batches.meta``)
are Python pickles. A pickle may name any importable callable and call it while loading,
so a plain ``pickle.load`` of a downloaded file can run arbitrary code. Loading here
goes through :class:`RestrictedUnpickler`, which resolves only the few globals that a
NumPy array needs (its reconstruction functions, ``ndarray``, ``dtype``, and latin-1
``_codecs.encode`` used by protocol-2 pickles for bytes); every other global is refused
with :class:`UnsafePickleError` before it is resolved. Dicts, lists, strings, bytes and
numbers need no globals at all. The loaded arrays must then be uint8: object arrays,
whose elements would be further pickles, are refused.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from artifex.generative_models.training.data._sources import ArraySource

__all__ = ["Cifar10Source", "RestrictedUnpickler", "UnsafePickleError", "load_cifar_batch"]

_CIFAR_SIDE = 32
_CIFAR_CLASSES = 10


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for a global (a callable) outside the allowed list."""


def _numpy_function(module: str, name: str) -> Callable[..., Any]:
    # NumPy 2 moved numpy.core to numpy._core; pickles name either.
    core = getattr(np, "_core", None)
    if core is None:  # pragma: no cover - NumPy 1.x
        core = np.core
    return getattr(getattr(core, module), name)


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode`` as protocol-2 pickles use it for bytes, and only that."""
    if codecs.lookup(encoding).name != "iso8859-1":
        raise UnsafePickleError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


def _allowed_globals() -> dict[tuple[str, str], Any]:
    reconstruct = _numpy_function("multiarray", "_reconstruct")
    frombuffer = _numpy_function("numeric", "_frombuffer")
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = reconstruct
        allowed[(f"{package}.numeric", "_frombuffer")] = frombuffer
    return allowed


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler for plain data and NumPy arrays; any other global is refused.

    Allowed globals: ``numpy.ndarray``, ``numpy.dtype``, the array reconstruction
    functions ``numpy[._]core.multiarray._reconstruct`` and
    ``numpy[._]core.numeric._frombuffer``, and ``_codecs.encode`` with latin-1 only.
    """

    def __init__(self, file: Any, *, source: str = "pickle") -> None:
        super().__init__(file, encoding="bytes")
        self._source = source
        self._allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        """Resolve an allowed global; raise :class:`UnsafePickleError` for any other."""
        found = self._allowed.get((module, name))
        if found is None:
            raise UnsafePickleError(
                f"refusing to load {self._source}: it asks for the global {module}.{name}, "
                "and CIFAR batches need only NumPy arrays, dicts, lists, strings and numbers; "
                "the file is not a CIFAR batch or has been tampered with"
            )
        return found


def _text_key(key: Any) -> Any:
    return key.decode("latin1") if isinstance(key, bytes) else key


def load_cifar_batch(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load one CIFAR pickle safely; keys come back as ``str``.

    Raises:
        FileNotFoundError: No file at ``path``.
        UnsafePickleError: The pickle names a global outside the allowed list.
        ValueError: A file that is not a readable pickle of a dict; the message names it.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file (expected a CIFAR-10 python batch)")
    with open(path, "rb") as handle:
        content = handle.read()
    try:
        loaded = RestrictedUnpickler(io.BytesIO(content), source=path).load()
    except UnsafePickleError:
        raise
    except Exception as error:  # a corrupt pickle raises many types
        raise ValueError(
            f"cannot read CIFAR batch {path}: {type(error).__name__}: {error}"
        ) from None
    if not isinstance(loaded, dict):
        raise ValueError(f"CIFAR batch {path} holds a {type(loaded).__name__}, expected a dict")
    return {_text_key(key): value for key, value in loaded.items()}


def _batch_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = load_cifar_batch(path)
    for key in ("data", "labels"):
        if key not in batch:
            raise ValueError(f"CIFAR batch {path} has no {key!r} entry; it holds {sorted(batch)}")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        kind = data.dtype if isinstance(data, np.ndarray) else type(data).__name__
        raise TypeError(f"CIFAR batch {path}: 'data' must be a uint8 array, got {kind}")
    size = 3 * _CIFAR_SIDE * _CIFAR_SIDE
    if data.ndim != 2 or data.shape[1] != size:
        raise ValueError(
            f"CIFAR batch {path}: expected 'data' of shape (N, {size}), got {data.shape}"
        )
    labels = np.asarray(batch["labels"])
    if labels.shape != (data.shape[0],):
        raise ValueError(
            f"CIFAR batch {path}: {data.shape[0]} images but labels of shape {labels.shape}; "
            "expected one label per image"
        )
    return data.reshape(-1, 3, _CIFAR_SIDE, _CIFAR_SIDE), labels


def _batch_number(path: Path) -> int:
    match = re.search(r"(\d+)$", path.name)
    return int(match.group(1)) if match else 0


class Cifar10Source(ArraySource):
    """CIFAR-10 from the python batches (``cifar-10-batches-py``), loaded without running code.

    Args:
        path: The folder with ``data_batch_1`` .. ``data_batch_5`` and ``test_batch`` (and
            optionally ``batches.meta`` for class names), or one batch file.
        split: ``"train"`` (all ``data_batch_*`` in numeric order) or ``"test"``, for a
            folder ``path``.
        use_labels: None and True deliver the class (0..9); False does not.
        **options: The other arguments of :class:`ArraySource` (pixels are uint8, read as 0..255).

    Raises:
        FileNotFoundError: No batch files.
        UnsafePickleError: A file asks for a global outside the allowed list.
        TypeError: ``data`` that is not uint8.
        ValueError: Corrupt files, wrong shapes, label counts or ranges.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        split: Literal["train", "test"] = "train",
        use_labels: bool | None = None,
        **options: Any,
    ) -> None:
        root = Path(path)
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        class_names = None
        if root.is_dir():
            pattern = "data_batch_*" if split == "train" else "test_batch"
            files = sorted(root.glob(pattern), key=_batch_number)
            if not files:
                raise FileNotFoundError(
                    f"{root} holds no {pattern} file: expected the CIFAR-10 python batches "
                    "(cifar-10-batches-py)"
                )
            meta = root / "batches.meta"
            if meta.is_file():
                names = load_cifar_batch(meta).get("label_names")
                if isinstance(names, list):
                    class_names = [_text_key(n) for n in names]
        else:
            files = [root]
        arrays = [_batch_arrays(file) for file in files]
        images = np.concatenate([a for a, _ in arrays]) if len(arrays) > 1 else arrays[0][0]
        labels = np.concatenate([b for _, b in arrays]) if len(arrays) > 1 else arrays[0][1]
        options.setdefault("name", str(root))
        options.setdefault("num_classes", _CIFAR_CLASSES)
        if class_names is not None and len(class_names) == options["num_classes"]:
            options.setdefault("class_names", class_names)
        super().__init__(
            images,
            labels if use_labels is not False else None,
            source_layout="NCHW",
            **options,
        )
