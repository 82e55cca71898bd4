"""Reading PyTorch ``.pth`` state dicts without PyTorch, and without running code from the file.

A ``.pth`` file is a pickle whose tensors point at raw storages kept beside it. Two layouts
exist, and both are read here:

* **zip** (``torch.save`` since PyTorch 1.6): a zip archive with one top folder ``<name>/``
  holding ``data.pkl`` (the pickle), ``data/<key>`` (one raw storage per key), ``byteorder``
  (``little`` or ``big``), ``version`` and a few bookkeeping records.
* **legacy** (before 1.6, and ``_use_new_zipfile_serialization=False``; pytorch-fid's FID
  weights, published in 2019, are of this kind): five pickles in a row (magic number,
  protocol version, system info, the object, the list of storage keys), then each storage
  as an 8-byte little-endian element count followed by its bytes.

Unpickling normally imports and calls whatever the file names, so a crafted file runs any
code it likes. :class:`RestrictedUnpickler` resolves only the handful of globals a state dict
needs (the tensor rebuild functions, ``OrderedDict``, the storage types), each to a NumPy
stand-in; every other global is refused with :class:`UnsafePickleError` before anything is
called. Tensor views are checked to stay inside their storage before NumPy makes them.
"""

from __future__ import annotations

import collections
import os
import pickle
import struct
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, Any, Literal

import numpy as np

__all__ = ["UnsafePickleError", "read_torch_state_dict"]

# ``torch.save`` of the legacy layout writes this number first, then LEGACY_PROTOCOL.
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001


class UnsafePickleError(ValueError):
    """A pickle names a global that a tensor state dict never needs; nothing was run."""


@dataclass(frozen=True)
class StorageType:
    """Stand-in for ``torch.FloatStorage`` & co.: the NumPy dtype of the storage's elements."""

    name: str
    dtype: np.dtype[Any]


def _bfloat16() -> np.dtype[Any]:
    # NumPy has no bfloat16; ml_dtypes (which jax depends on) provides it through jax.numpy.
    import jax.numpy as jnp

    return np.dtype(jnp.bfloat16)


_STORAGE_DTYPES: dict[str, Callable[[], np.dtype[Any]]] = {
    "DoubleStorage": lambda: np.dtype(np.float64),
    "FloatStorage": lambda: np.dtype(np.float32),
    "HalfStorage": lambda: np.dtype(np.float16),
    "BFloat16Storage": _bfloat16,
    "LongStorage": lambda: np.dtype(np.int64),
    "IntStorage": lambda: np.dtype(np.int32),
    "ShortStorage": lambda: np.dtype(np.int16),
    "CharStorage": lambda: np.dtype(np.int8),
    "ByteStorage": lambda: np.dtype(np.uint8),
    "BoolStorage": lambda: np.dtype(np.bool_),
    "ComplexFloatStorage": lambda: np.dtype(np.complex64),
    "ComplexDoubleStorage": lambda: np.dtype(np.complex128),
}


@dataclass(frozen=True)
class _Storage:
    """One storage's elements (1-D, little-endian or as the file says) and where it came from."""

    key: str
    elements: np.ndarray[Any, Any]


@dataclass(frozen=True)
class _Tensor:
    """A checked view into a storage, made into an array once every storage has its bytes.

    The legacy layout stores the bytes after the pickle, so tensors cannot be copied while
    unpickling; :meth:`array` runs after the whole file is read.
    """

    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]

    def array(self) -> np.ndarray[Any, Any]:
        """The view as a fresh contiguous array in native byte order."""
        elements = self.storage.elements
        if 0 in self.shape:
            return np.zeros(self.shape, elements.dtype.newbyteorder("="))
        itemsize = elements.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            elements[self.offset :],
            shape=self.shape,
            strides=tuple(s * itemsize for s in self.strides),
            writeable=False,
        )
        return np.array(view, dtype=view.dtype.newbyteorder("="), order="C")


def _rebuild_tensor(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any = False,
    backward_hooks: Any = None,
    metadata: Any = None,
) -> _Tensor:
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: a bounds-checked view of a storage."""
    del requires_grad, backward_hooks, metadata  # autograd bookkeeping, meaningless here
    if not isinstance(storage, _Storage):
        raise UnsafePickleError(
            f"a tensor must be rebuilt from a storage, got {type(storage).__name__}"
        )
    shape = _ints("size", size)
    strides = _ints("stride", stride)
    (offset,) = _ints("storage offset", (storage_offset,))
    if len(shape) != len(strides):
        raise ValueError(f"tensor in storage {storage.key}: size {shape} but stride {strides}")
    if any(n < 0 for n in shape) or any(s < 0 for s in strides) or offset < 0:
        raise ValueError(
            f"tensor in storage {storage.key}: negative size, stride or offset "
            f"(size {shape}, stride {strides}, offset {offset})"
        )
    available = storage.elements.size
    # as_strided reads raw memory: the last element the view touches must be in the storage.
    last = offset + sum((n - 1) * s for n, s in zip(shape, strides, strict=True))
    if 0 not in shape and last >= available:
        raise ValueError(
            f"tensor in storage {storage.key} (size {shape}, stride {strides}, offset {offset}) "
            f"reaches element {last}, but the storage holds {available}: the file is damaged"
        )
    return _Tensor(storage, offset, shape, strides)


def _rebuild_parameter(
    data: Any, requires_grad: Any = False, backward_hooks: Any = None
) -> _Tensor:
    """Stand-in for ``torch._utils._rebuild_parameter``: a parameter is its data."""
    del requires_grad, backward_hooks
    if not isinstance(data, _Tensor):
        raise UnsafePickleError(f"a parameter must wrap a tensor, got {type(data).__name__}")
    return data


def _ints(what: str, values: Any) -> tuple[int, ...]:
    if not isinstance(values, tuple | list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise ValueError(f"a tensor's {what} must be integers, got {values!r}")
    return tuple(values)


_SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles tensor state dicts only: every global it resolves is a NumPy stand-in.

    Args:
        file: The pickle stream.
        load_storage: Called with ``(key, storage type, element count)`` for each storage the
            pickle refers to; returns its elements as a 1-D array.
        source: How error messages name the file.
    """

    def __init__(
        self,
        file: IO[bytes],
        load_storage: Callable[[str, StorageType, int], np.ndarray[Any, Any]],
        source: str,
    ) -> None:
        super().__init__(file)
        self._load_storage = load_storage
        self._source = source
        self._storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        """The stand-in for an allowed global; :class:`UnsafePickleError` for any other."""
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return StorageType(name, _STORAGE_DTYPES[name]())
        allowed = [*sorted(f"{m}.{n}" for m, n in _SAFE_GLOBALS), "torch.<Type>Storage"]
        raise UnsafePickleError(
            f"{self._source}: the pickle asks for the global {module}.{name}, which a tensor "
            f"state dict never needs; refused (loading never runs code from the file). "
            f"Allowed: {', '.join(allowed)}. If the file is yours, load it with torch and "
            "save its state_dict() instead."
        )

    def persistent_load(self, pid: Any) -> Any:
        """A storage named by ``('storage', type, key, location, numel[, view])``."""
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage" or len(pid) not in (5, 6):
            raise UnsafePickleError(
                f"{self._source}: persistent id {pid!r:.200} is not a tensor storage "
                "('storage', type, key, location, numel); refused"
            )
        storage_type, key, _location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(storage_type, StorageType):
            raise UnsafePickleError(
                f"{self._source}: storage {key!r} has type {storage_type!r}, not a torch "
                "storage type"
            )
        if not isinstance(numel, int) or numel < 0:
            raise ValueError(f"{self._source}: storage {key!r} has element count {numel!r}")
        key = str(key)
        if key not in self._storages:
            elements = self._load_storage(key, storage_type, numel)
            self._storages[key] = _Storage(key, elements)
        storage = self._storages[key]
        if view is None:
            return storage
        # Legacy files may name a slice of a storage: (view key, offset, size).
        view_key, view_offset, view_size = view
        if not (0 <= view_offset <= view_offset + view_size <= storage.elements.size):
            raise ValueError(f"{self._source}: storage view {view!r} outside storage {key!r}")
        return _Storage(str(view_key), storage.elements[view_offset : view_offset + view_size])


def _state_dict(obj: Any, source: str) -> dict[str, np.ndarray[Any, Any]]:
    if not isinstance(obj, Mapping):
        raise ValueError(
            f"{source}: expected a state dict (names to tensors), got {type(obj).__name__}; "
            "save model.state_dict(), not the model or a checkpoint around it"
        )
    others = {str(k): type(v).__name__ for k, v in obj.items() if not isinstance(v, _Tensor)}
    if others or not all(isinstance(k, str) for k in obj):
        raise ValueError(
            f"{source}: expected a state dict of tensors by name, got other entries "
            f"{dict(list(others.items())[:5])}; save model.state_dict()"
        )
    return {name: tensor.array() for name, tensor in obj.items()}


def _read_zip(path: str, source: str) -> dict[str, np.ndarray[Any, Any]]:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError(
                f"{source}: a PyTorch zip file holds one <name>/data.pkl, found {pickles}"
            )
        prefix = pickles[0][: -len("data.pkl")]
        names = set(archive.namelist())
        order: Literal["<", ">"] = "<"
        if f"{prefix}byteorder" in names:
            byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise ValueError(f"{source}: byteorder record says {byteorder!r}")
            order = "<" if byteorder == "little" else ">"

        def load_storage(key: str, storage_type: StorageType, numel: int) -> np.ndarray[Any, Any]:
            record = f"{prefix}data/{key}"
            if record not in names:
                raise ValueError(f"{source}: storage {key!r} has no record {record}")
            raw = archive.read(record)
            dtype = storage_type.dtype.newbyteorder(order)
            if len(raw) < numel * dtype.itemsize:
                raise ValueError(
                    f"{source}: storage {key!r} should hold {numel} {storage_type.name} "
                    f"elements ({numel * dtype.itemsize} bytes), its record has {len(raw)}"
                )
            return np.frombuffer(raw, dtype=dtype, count=numel)

        with archive.open(pickles[0]) as stream:
            obj = RestrictedUnpickler(stream, load_storage, source).load()
    return _state_dict(obj, source)


def _read_legacy(path: str, source: str) -> dict[str, np.ndarray[Any, Any]]:
    with open(path, "rb") as stream:
        # Every pickle in the file goes through the restricted unpickler, the headers too.
        def header() -> Any:
            return RestrictedUnpickler(stream, _no_storage(source), source).load()

        try:
            magic = header()
        except (pickle.UnpicklingError, EOFError) as error:
            raise ValueError(
                f"{source}: neither a PyTorch zip file nor a legacy .pth pickle ({error})"
            ) from None
        if magic != LEGACY_MAGIC_NUMBER:
            raise ValueError(
                f"{source}: not a PyTorch file (a legacy .pth starts with the magic number "
                f"{LEGACY_MAGIC_NUMBER:#x}, this one with {magic!r:.60})"
            )
        protocol = header()
        if protocol != LEGACY_PROTOCOL:
            raise ValueError(
                f"{source}: legacy protocol {protocol!r}, only {LEGACY_PROTOCOL} is read"
            )
        sys_info = header()
        little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
        order: Literal["<", ">"] = "<" if little else ">"

        # The object comes before the storages' bytes: note what it needs, read them after.
        wanted: dict[str, tuple[StorageType, np.ndarray[Any, Any]]] = {}

        def load_storage(key: str, storage_type: StorageType, numel: int) -> np.ndarray[Any, Any]:
            elements = np.empty(numel, storage_type.dtype.newbyteorder(order))
            wanted[key] = (storage_type, elements)
            return elements

        obj = RestrictedUnpickler(stream, load_storage, source).load()
        keys = header()
        if not isinstance(keys, list) or set(map(str, keys)) != set(wanted):
            raise ValueError(
                f"{source}: the storage list {keys!r:.200} does not match the storages the "
                f"tensors use {sorted(wanted)[:10]}"
            )
        for key in map(str, keys):
            _, elements = wanted[key]
            (count,) = struct.unpack(f"{order}q", _read_exactly(stream, 8, source, key))
            if count != elements.size:
                raise ValueError(
                    f"{source}: storage {key!r} should hold {elements.size} elements, "
                    f"its header says {count}"
                )
            raw = _read_exactly(stream, count * elements.dtype.itemsize, source, key)
            elements[...] = np.frombuffer(raw, dtype=elements.dtype)
    return _state_dict(obj, source)


def _no_storage(source: str) -> Callable[[str, StorageType, int], np.ndarray[Any, Any]]:
    def refuse(key: str, storage_type: StorageType, numel: int) -> np.ndarray[Any, Any]:
        raise ValueError(f"{source}: a legacy header pickle refers to storage {key!r}")

    return refuse


def _read_exactly(stream: IO[bytes], n: int, source: str, key: str) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise ValueError(
            f"{source}: storage {key!r} needs {n} more bytes, the file ends after "
            f"{len(data)}: it is truncated"
        )
    return data


def read_torch_state_dict(path: str | os.PathLike[str]) -> dict[str, np.ndarray[Any, Any]]:
    """A PyTorch state dict (``torch.save(model.state_dict(), path)``) as NumPy arrays.

    Needs no PyTorch and never runs code from the file: the pickle may name only the
    tensor-rebuild functions, ``collections.OrderedDict`` and the storage types. Reads the zip
    layout (PyTorch ≥ 1.6) and the legacy one (earlier, like pytorch-fid's FID weights).

    Args:
        path: The ``.pth`` file.

    Returns:
        ``{name: array}`` in the file's order; arrays are contiguous copies in native byte
        order with the tensors' dtypes, shapes and values (strides and offsets applied).

    Raises:
        UnsafePickleError: The pickle names any other global (e.g. ``os.system``).
        ValueError: The file is not a PyTorch file, is damaged or truncated, or holds
            something other than a state dict of tensors.
    """
    source = os.fspath(path)
    if zipfile.is_zipfile(source):
        return _read_zip(source, source)
    with open(source, "rb") as stream:
        start = stream.read(512)
    if len(start) > 262 and start[257:262] == b"ustar":
        raise ValueError(
            f"{source}: a tar-format .pth (PyTorch before 0.4) is not supported; load it with "
            "torch and torch.save(state_dict, path) it again"
        )
    return _read_legacy(source, source)
