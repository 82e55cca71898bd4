"""Checkpoints that let a run continue exactly: orbax for the state, grain for the data.

A checkpoint is one orbax ``Composite`` directory per step::

    <directory>/<step>/
        state/    the training state as nested arrays (orbax StandardSave, OCDBT):
                  ``nets/0/layers/0/kernel/...``, ``step``, ``key``, ...
        layout/   JSON: every array's path, shape, dtype and CRC-32; the CRC-32s of the
                  JSON items and of the layout itself (all checked on restore)
        extra/    JSON: what the caller passed as ``extra`` (the run's config, ...)
        data/     the grain iterator's position, written by grain's own orbax handler
        data_state/  or JSON from a plain iterator's ``get_state()``

The state is any pytree of arrays (dicts, tuples, ``nnx.State``, flax struct
dataclasses, None leaves, typed PRNG keys). It is saved as nested dicts named by the
tree's own keys, not as its classes: the checkpoint then reads the same whatever Python
classes wrote it, and restoring puts the arrays back into the caller's tree (``like``),
whose structure, shapes, dtypes and shardings are the target.

Orbax writes each checkpoint into a temporary directory and renames it when complete, so
a process killed mid-save leaves the previous checkpoint as the latest one. Nothing is
pickled: loading a checkpoint never runs code.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grain
import grain.checkpoint
import jax
import numpy as np
import orbax.checkpoint as ocp
import tensorstore as ts
from flax import nnx

__all__ = ["CheckpointError", "CheckpointStore", "stored_array_reader", "verify_checkpoint"]

# The checkpoint's items (sub-directories); see the module docstring.
_STATE, _LAYOUT, _EXTRA, _GRAIN_DATA, _JSON_DATA = "state", "layout", "extra", "data", "data_state"
_LAYOUT_VERSION = 1
_GRAIN_ITERATORS = (grain.DatasetIterator, grain.DataLoaderIterator)


class CheckpointError(ValueError):
    """A checkpoint could not be read; the message names it and the others kept."""


# -- the state as named arrays -------------------------------------------------------------


def _key_name(key: Any) -> str:
    name = str(key)
    for field in ("key", "idx", "name"):  # DictKey, SequenceKey / FlattenedIndexKey, GetAttrKey
        if hasattr(key, field):
            name = str(getattr(key, field))
            break
    if not name or "/" in name:
        # "/" separates the levels of a path: such a key would read back as two levels.
        raise ValueError(f"the state has a key {name!r}: keys must be non-empty, without '/'")
    return name


def _is_prng_key(leaf: Any) -> bool:
    return hasattr(leaf, "dtype") and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def _named_leaves(tree: Any) -> list[tuple[str, Any]]:
    """``(path, leaf)`` for every leaf of ``tree``, in ``jax.tree.leaves`` order.

    A path joins the tree's keys with ``/`` (``nets/0/layers/0/kernel``). An
    ``nnx.Variable`` is a pytree node whose one child is its value: its own key
    (``.value``) is left out, as ``nnx.State.to_pure_dict`` does.

    Raises:
        ValueError: Two leaves would get the same path (keys ``0`` and ``"0"`` side by side).
    """
    named: list[tuple[str, Any]] = []
    is_variable: Callable[[Any], bool] = lambda x: isinstance(x, nnx.Variable)  # noqa: E731
    for path, node in jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_variable)[0]:
        prefix = [_key_name(k) for k in path]
        if is_variable(node):
            for inner, leaf in jax.tree_util.tree_flatten_with_path(node)[0]:
                named.append(("/".join(prefix + [_key_name(k) for k in inner[1:]]), leaf))
        else:
            named.append(("/".join(prefix), node))
    names = [name for name, _ in named]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise ValueError(f"the state has leaves that share a path: {twice[:5]}; rename the keys")
    return named


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, value in flat.items():
        *parents, last = name.split("/")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return nested


def _flatten(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name))
        else:
            flat[name] = value
    return flat


def _stored(leaf: Any) -> Any:
    """The array saved for ``leaf``: random keys as their raw data, scalars as NumPy."""
    if _is_prng_key(leaf):
        return jax.random.key_data(leaf)
    return leaf if isinstance(leaf, jax.Array) else np.asarray(leaf)


def _dtype_name(leaf: Any) -> str:
    return str(leaf.dtype) if hasattr(leaf, "dtype") else str(np.asarray(leaf).dtype)


def _crc32(array: Any) -> int:
    # A CRC of the bytes catches what orbax and tensorstore may not (a flipped bit in an
    # uncompressed chunk): a damaged checkpoint is refused instead of resumed from.
    return zlib.crc32(np.ascontiguousarray(np.asarray(array)).tobytes())


def _whole_here(array: Any) -> Any:
    """``array`` whole on this host, or None when parts of it live only on other hosts.

    A state replicated over the devices of several processes (data-parallel training) is
    not *fully addressable*, but each process holds a complete copy: its first local
    shard is the whole array, so every process sums the same bytes.
    """
    if getattr(array, "is_fully_addressable", True):
        return array
    if getattr(array, "is_fully_replicated", False):
        return array.addressable_data(0)
    return None


def _layout(named: list[tuple[str, Any]], *, checksums: bool) -> dict[str, dict[str, Any]]:
    layout = {}
    for name, leaf in named:
        entry: dict[str, Any] = {"shape": list(np.shape(leaf)), "dtype": _dtype_name(leaf)}
        # An array split over several hosts is not here to sum (none is today: the
        # state is replicated); orbax's own checks cover its structure.
        whole = _whole_here(_stored(leaf)) if checksums else None
        if whole is not None:
            entry["crc32"] = _crc32(whole)
        layout[name] = entry
    return layout


def _target(leaf: Any) -> Any:
    """What orbax restores ``leaf``'s array as: its shape, dtype and sharding."""
    stored = _stored(leaf)
    if isinstance(stored, jax.Array):
        return jax.ShapeDtypeStruct(stored.shape, stored.dtype, sharding=stored.sharding)
    return stored


def _from_stored(raw: Any, template: Any) -> Any:
    if _is_prng_key(template):
        return jax.random.wrap_key_data(raw, impl=jax.random.key_impl(template))
    if isinstance(template, bool | int | float | complex):
        return type(template)(np.asarray(raw).item())
    return raw


def _differences(saved: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    lines = []
    for name in sorted(set(saved) | set(expected)):
        if name not in expected:
            lines.append(f"{name}: in the checkpoint, not in the state")
        elif name not in saved:
            lines.append(f"{name}: in the state, not in the checkpoint")
        else:
            got = {k: saved[name][k] for k in ("shape", "dtype")}
            want = {k: expected[name][k] for k in ("shape", "dtype")}
            if got != want:
                lines.append(
                    f"{name}: the state has shape {tuple(want['shape'])} {want['dtype']}, "
                    f"the checkpoint {tuple(got['shape'])} {got['dtype']}"
                )
    return lines


# -- the store -----------------------------------------------------------------------------


class CheckpointStore:
    """The checkpoints of one run, in ``directory``; keeps the last ``keep_last``.

    Args:
        directory: Where the checkpoints live (created if needed).
        keep_last: How many checkpoints to keep; older ones are deleted.
        read_only: Only restore (``evaluate``, ``generate``): nothing is created or
            deleted, the unfinished saves (orbax's temporary folders) included, which
            belong to a run that may still be training in the folder.
    """

    def __init__(self, directory: str | Path, *, keep_last: int = 3, read_only: bool = False):
        self.directory = Path(directory).resolve()
        self.read_only = read_only
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep_last,
            # (Not orbax's own read_only: it logs warnings on every open; this store
            # simply never saves when read_only.)
            create=not read_only,
            # A save finishes before the call returns: a signal handler that saves and
            # exits must not leave half a checkpoint behind.
            enable_async_checkpointing=False,
            cleanup_tmp_directories=not read_only,
        )
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self) -> int | None:
        """The step of the newest complete checkpoint, or None."""
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        """Steps of the checkpoints kept, oldest first."""
        return sorted(self._manager.all_steps())

    def save(
        self, step: int, state: Any, extra: dict[str, Any], *, data_iterator: Any = None
    ) -> None:
        """Save ``state``, ``extra`` and the data position as checkpoint ``step``.

        Checkpoints at ``step`` or later are deleted first: they belong to a run that was
        continued from an earlier checkpoint (or restarted), and the history being saved
        now replaces them.

        Args:
            step: The checkpoint's number.
            state: A pytree of arrays (see the module docstring).
            extra: JSON-serialisable values restored beside the state.
            data_iterator: A grain ``DatasetIterator`` / ``DataLoaderIterator`` (saved by
                grain's checkpoint handler), an iterator whose ``get_state()`` returns
                JSON-serialisable state, or anything else (its position is not saved).

        Raises:
            TypeError: ``extra`` or the iterator's ``get_state()`` is not JSON.
            ValueError: Two of the state's leaves would share a path, or the store is
                read-only.
        """
        if self.read_only:
            raise ValueError(
                f"the checkpoints in {self.directory} were opened read-only (a trainer "
                "without data only restores): pass data to the Trainer to train and save"
            )
        named = _named_leaves(state)
        layout: dict[str, Any] = {
            "version": _LAYOUT_VERSION,
            "arrays": _layout(named, checksums=True),
            # The JSON beside the arrays is checked too, and the layout itself.
            "extra_crc32": _json_crc32(_checked_json("extra", extra)),
        }
        items: dict[str, Any] = {
            _STATE: ocp.args.StandardSave(_nest({name: _stored(leaf) for name, leaf in named})),
            _EXTRA: ocp.args.JsonSave(extra),
        }
        if isinstance(data_iterator, _GRAIN_ITERATORS):
            items[_GRAIN_DATA] = grain.checkpoint.CheckpointSave(data_iterator)
        elif callable(getattr(data_iterator, "get_state", None)):
            position = _checked_json("the data iterator's get_state()", data_iterator.get_state())
            items[_JSON_DATA] = ocp.args.JsonSave({"state": position})
            layout["data_state_crc32"] = _json_crc32({"state": position})
        layout["crc32"] = _json_crc32(layout)
        items[_LAYOUT] = ocp.args.JsonSave(layout)
        for stale in self.all_steps():
            if stale >= step:
                self._manager.delete(stale)
        self._manager.save(step, args=ocp.args.Composite(**items), force=True)
        self._manager.wait_until_finished()

    def restore(
        self, like: Any, step: int | None = None, *, data_iterator: Any = None
    ) -> tuple[int, Any, dict[str, Any]]:
        """Load checkpoint ``step`` (the latest by default) into a tree shaped like ``like``.

        Every array is checked against the CRC-32 saved with it. ``data_iterator``, when
        given and the checkpoint holds a position, is moved to that position in place,
        after the state has been read and checked.

        Args:
            like: The live state: the tree, shapes, dtypes and shardings to restore into.
            step: Which checkpoint; the latest by default.
            data_iterator: The iterator saved with the checkpoint (see :meth:`save`).

        Returns:
            ``(step, state, extra)``.

        Raises:
            FileNotFoundError: There is no checkpoint to restore.
            CheckpointError: The checkpoint is damaged or unreadable.
            ValueError: It holds other arrays than ``like`` (the message lists them), or a
                data position of another kind than ``data_iterator`` takes.
        """
        step = self.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"no checkpoint in {self.directory}")
        step_dir = self.directory / str(step)
        json_items = {_LAYOUT: ocp.args.JsonRestore(), _EXTRA: ocp.args.JsonRestore()}
        if (step_dir / _JSON_DATA).is_dir():
            json_items[_JSON_DATA] = ocp.args.JsonRestore()
        described = self._read(step, json_items)
        layout = described[_LAYOUT]
        if not isinstance(layout, dict) or layout.get("version") != _LAYOUT_VERSION:
            raise self._damaged(step, f"unknown layout {str(layout)[:100]}")
        self._check_json(step, layout, described)

        named = _named_leaves(like)
        expected = _layout(named, checksums=False)
        differences = _differences(layout["arrays"], expected)
        if differences:
            raise ValueError(
                f"checkpoint step {step} in {self.directory} holds other arrays than this "
                f"state ({len(differences)} differ):\n  "
                + "\n  ".join(differences[:20])
                + "\nRestore it with the model, optimizers and training config it was saved "
                "with, or start a new run in another directory."
            )
        # Every stored array is read whole from disk and compared with its CRC-32 before
        # orbax reads any, and this is the only check of the arrays' bytes: orbax's restore
        # runs its reads on an event loop that it closes as soon as one read fails, and
        # the reads still in flight then report "Event loop is closed" tracebacks on
        # stderr. A checkpoint that passes this check reads without error, and orbax then
        # reads the same immutable files (a finished checkpoint is never written again).
        for problem in _array_damage(step_dir / _STATE, layout["arrays"]):
            raise self._damaged(step, problem)
        target = _nest({name: _target(leaf) for name, leaf in named})
        arrays = _flatten(self._read(step, {_STATE: ocp.args.StandardRestore(target)})[_STATE])
        leaves = [_from_stored(arrays[name], leaf) for name, leaf in named]
        state = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(like), leaves)

        if data_iterator is not None:
            self._restore_position(step, step_dir, data_iterator, described.get(_JSON_DATA))
        return step, state, dict(described[_EXTRA])

    def close(self) -> None:
        """Release the manager's resources."""
        self._manager.close()

    # -- helpers ---------------------------------------------------------------------------

    def _read(self, step: int, items: dict[str, Any]) -> Any:
        try:
            return self._manager.restore(step, args=ocp.args.Composite(**items))
        except Exception as error:  # orbax and tensorstore raise many kinds
            raise self._damaged(step, f"{type(error).__name__}: {str(error)[:300]}") from error

    def _check_json(self, step: int, layout: dict[str, Any], described: Any) -> None:
        """Compare the layout, ``extra`` and a JSON data position with their CRC-32s.

        Checkpoints written before these were kept have none: nothing to compare.
        """
        if "crc32" in layout:
            rest = {k: v for k, v in layout.items() if k != "crc32"}
            if _json_crc32(rest) != layout["crc32"]:
                raise self._damaged(step, f"its {_LAYOUT} does not match its CRC-32")
        for item, key in ((_EXTRA, "extra_crc32"), (_JSON_DATA, "data_state_crc32")):
            if key in layout and _json_crc32(described.get(item)) != layout[key]:
                raise self._damaged(step, f"its {item} does not match its CRC-32")

    def _damaged(self, step: int, reason: str) -> CheckpointError:
        others = [s for s in self.all_steps() if s != step]
        return CheckpointError(
            f"checkpoint step {step} in {self.directory} could not be read ({reason}); "
            f"other checkpoints kept: {others or 'none'}"
        )

    def _restore_position(
        self, step: int, step_dir: Path, iterator: Any, json_position: Any
    ) -> None:
        is_grain = isinstance(iterator, _GRAIN_ITERATORS)
        if (step_dir / _GRAIN_DATA).is_dir():
            if not is_grain:
                raise ValueError(
                    f"checkpoint step {step} holds a grain iterator's position, but the data "
                    f"iterator is a {type(iterator).__name__}: pass the grain pipeline the "
                    "run was saved with"
                )
            position = _position_of_any_process(step, step_dir / _GRAIN_DATA)
            if position is None:
                self._read(step, {_GRAIN_DATA: grain.checkpoint.CheckpointRestore(iterator)})
            else:
                iterator.set_state(position)
        elif json_position is not None:
            if is_grain:
                raise ValueError(
                    f"checkpoint step {step} holds the position of a non-grain iterator "
                    f"(get_state() JSON), but the data iterator is a grain "
                    f"{type(iterator).__name__}: pass the iterator the run was saved with"
                )
            # A plain generator cannot be repositioned: its caller chose to feed one.
            if callable(getattr(iterator, "set_state", None)):
                iterator.set_state(json_position["state"])


def _position_of_any_process(step: int, directory: Path) -> Any:
    """The data position of a checkpoint saved by another number of processes, or None.

    grain saves one file per process (``process_<i>-of-<n>.json``) and reads back this
    process's own. Saved by ``n`` processes and resumed by another number, every file must
    hold the same position (as the pipeline's do: it counts global batches), which is then
    every process's. None: this process's file is there (grain reads it), or grain's
    naming is another one.

    Raises:
        ValueError: The processes saved different positions.
    """
    if (directory / f"process_{jax.process_index()}-of-{jax.process_count()}.json").is_file():
        return None
    files = sorted(directory.glob("process_*-of-*.json"))
    if not files:
        return None
    positions = {json.dumps(json.loads(f.read_text()), sort_keys=True) for f in files}
    if len(positions) > 1:
        raise ValueError(
            f"checkpoint step {step} in {directory.parent.parent} was saved by {len(files)} "
            f"processes with different data positions, and this run has "
            f"{jax.process_count()}: resume it with {len(files)} processes"
        )
    return json.loads(positions.pop())


def verify_checkpoint(step_dir: str | Path) -> list[str]:
    """What is damaged in the checkpoint folder ``step_dir``: one line each; [] if nothing.

    Every stored array is read (with tensorstore, synchronously: no model, no orbax
    restore) and compared with the CRC-32 saved in the layout; the layout,
    ``extra`` and a JSON data position with theirs. A grain data position has no digest
    of its own (grain writes it); it is checked to be JSON.
    """
    step_dir = Path(step_dir)
    try:
        layout = json.loads((step_dir / _LAYOUT / "metadata").read_text())
    except (OSError, ValueError) as error:
        return [f"its {_LAYOUT} cannot be read ({type(error).__name__}: {str(error)[:200]})"]
    if not isinstance(layout, dict) or layout.get("version") != _LAYOUT_VERSION:
        return [f"its {_LAYOUT} is of an unknown kind ({str(layout)[:100]})"]
    problems = []
    if (
        "crc32" in layout
        and _json_crc32({k: v for k, v in layout.items() if k != "crc32"}) != layout["crc32"]
    ):
        problems.append(f"its {_LAYOUT} does not match its CRC-32")
    for item, key in ((_EXTRA, "extra_crc32"), (_JSON_DATA, "data_state_crc32")):
        if key not in layout:
            continue
        try:
            value = json.loads((step_dir / item / "metadata").read_text())
        except (OSError, ValueError) as error:
            problems.append(f"its {item} cannot be read ({type(error).__name__})")
            continue
        if _json_crc32(value) != layout[key]:
            problems.append(f"its {item} does not match its CRC-32")
    for position in sorted((step_dir / _GRAIN_DATA).glob("*.json")):
        try:
            json.loads(position.read_text())
        except (OSError, ValueError) as error:
            problems.append(f"its data position {position.name} cannot be read ({error})")
    arrays = layout.get("arrays")
    if not isinstance(arrays, dict):
        return [*problems, f"its {_LAYOUT} lists no arrays"]
    return problems + list(_array_damage(step_dir / _STATE, arrays))


def stored_array_reader(state_dir: str | Path) -> Callable[[str], np.ndarray]:
    """A function reading one array of a checkpoint's ``state`` folder by its layout name.

    The arrays are read from orbax's OCDBT database with tensorstore's synchronous calls
    (no model, no orbax restore, no event loop): a read that fails raises there and then.

    Raises:
        ValueError: The database cannot be opened (tensorstore reports damage so).
    """
    context = ts.Context()  # one cache of the database for all the arrays
    base = {"driver": "ocdbt", "base": Path(state_dir).resolve().as_uri() + "/"}
    keys = set(ts.KvStore.open(base, context=context).result().list().result())

    def read(name: str) -> np.ndarray:
        # orbax names an array by its tree path joined with "." (keys hold no "/").
        path = name.replace("/", ".")
        driver = "zarr" if f"{path}/.zarray".encode() in keys else "zarr3"
        spec = {"driver": driver, "kvstore": {**base, "path": f"{path}/"}}
        return np.asarray(ts.open(spec, open=True, context=context).result().read().result())

    return read


def _array_damage(state_dir: Path, arrays: dict[str, dict[str, Any]]) -> Any:
    """Yield a line for each array of ``arrays`` (the layout's) that is damaged on disk."""
    try:
        read = stored_array_reader(state_dir)
    except Exception as error:  # tensorstore reports damage as ValueError, OSError, ...
        yield f"its array database cannot be read ({type(error).__name__}: {str(error)[:200]})"
        return
    for name, entry in arrays.items():
        try:
            array = read(name)
        except Exception as error:
            yield f"the array {name} cannot be read ({type(error).__name__}: {str(error)[:200]})"
            continue
        # (No shape to compare: a random key is stored as its raw data, of another shape.)
        if "crc32" in entry and _crc32(array) != entry["crc32"]:
            yield f"the array {name} does not match its CRC-32"


def _json_crc32(value: Any) -> int:
    """The CRC-32 of ``value`` as canonical JSON (what reads back from the file the same)."""
    return zlib.crc32(json.dumps(value, sort_keys=True, separators=(",", ":")).encode())


def _checked_json(what: str, value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{what} must be JSON-serialisable (dicts, lists, str, numbers), got "
            f"{type(value).__name__}: {error}"
        ) from error
    return value
