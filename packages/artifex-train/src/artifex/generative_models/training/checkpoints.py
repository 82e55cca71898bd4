"""Checkpoints that let a run continue exactly: orbax for arrays, JSON for the rest.

A checkpoint holds the whole :data:`~artifex.generative_models.training.step.TrainState`
(both networks, both optimizer states, the EMA, the iteration count, the random key and
every random stream inside the networks), the data iterator's position and the run's
config. Orbax writes each checkpoint into a temporary directory and renames it when it is
complete, so a process killed mid-save leaves the previous checkpoint as the latest one.
Nothing is pickled: loading a checkpoint never runs code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

__all__ = ["CheckpointError", "CheckpointStore"]


class CheckpointError(ValueError):
    """A checkpoint could not be read; the message names it and the others kept."""


def _is_key(leaf: Any) -> bool:
    return hasattr(leaf, "dtype") and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def leaf_names(tree: Any) -> list[str]:
    """The path of every array of ``tree``, in flattening order."""
    return [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


def to_savable(tree: Any) -> dict[str, np.ndarray]:
    """``tree`` as a flat dict of host arrays, random keys as their raw data.

    A flat dict of plain arrays is what orbax stores most simply, whatever pytree classes
    (``nnx.State``, optimizer states) the tree is made of. Entries are numbered in
    flattening order (array paths may hold characters a file name cannot); the paths
    themselves are saved beside them, to check a restore against.
    """
    return {
        f"{i:06d}": np.asarray(jax.random.key_data(x) if _is_key(x) else x)
        for i, x in enumerate(jax.tree_util.tree_leaves(tree))
    }


def from_savable(saved: dict[str, Any], names: list[str], like: Any) -> Any:
    """Undo :func:`to_savable`: the structure and key types come from ``like``.

    Raises:
        ValueError: The checkpoint does not hold the same arrays as ``like``.
    """
    templates, treedef = jax.tree_util.tree_flatten(like)
    expected = leaf_names(like)
    if names != expected:
        missing = sorted(set(expected) - set(names))
        unexpected = sorted(set(names) - set(expected))
        raise ValueError(
            "the checkpoint does not match this model and trainer: "
            f"missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    leaves = []
    for i, (template, name) in enumerate(zip(templates, names, strict=True)):
        raw = saved[f"{i:06d}"]
        if _is_key(template):
            leaves.append(jax.random.wrap_key_data(raw, impl=jax.random.key_impl(template)))
            continue
        if tuple(np.shape(raw)) != tuple(np.shape(template)):
            raise ValueError(
                f"the checkpoint's {name} has shape {np.shape(raw)}, the model's has "
                f"{np.shape(template)}"
            )
        leaves.append(jax.numpy.asarray(raw, dtype=template.dtype))
    return jax.tree_util.tree_unflatten(treedef, leaves)


class CheckpointStore:
    """The checkpoints of one run, in ``directory``; keeps the last ``keep_last``.

    Args:
        directory: Where the checkpoints live (created if needed).
        keep_last: How many checkpoints to keep; older ones are deleted.
    """

    def __init__(self, directory: str | Path, *, keep_last: int = 3):
        self.directory = Path(directory).resolve()
        options = ocp.CheckpointManagerOptions(
            max_to_keep=keep_last,
            create=True,
            # A save finishes before the call returns: a signal handler that saves and
            # exits must not leave half a checkpoint behind.
            enable_async_checkpointing=False,
            cleanup_tmp_directories=True,
        )
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self) -> int | None:
        """The step of the newest complete checkpoint, or None."""
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        """Steps of the checkpoints kept, oldest first."""
        return sorted(self._manager.all_steps())

    def save(self, step: int, state: Any, extra: dict[str, Any]) -> None:
        """Save ``state`` (a pytree of arrays) and ``extra`` (JSON) as checkpoint ``step``.

        Checkpoints at ``step`` or later are deleted first: they belong to a run that was
        continued from an earlier checkpoint (or restarted), and the history being saved
        now replaces them.
        """
        for stale in self.all_steps():
            if stale >= step:
                self._manager.delete(stale)
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(to_savable(state)),
                extra=ocp.args.JsonSave({**extra, "leaf_names": leaf_names(state)}),
            ),
            force=True,
        )
        self._manager.wait_until_finished()

    def restore(self, like: Any, step: int | None = None) -> tuple[int, Any, dict[str, Any]]:
        """Load checkpoint ``step`` (the latest by default) shaped like ``like``.

        Returns:
            ``(step, state, extra)``.

        Raises:
            FileNotFoundError: There is no checkpoint to restore.
            CheckpointError: The checkpoint is damaged or unreadable.
            ValueError: It holds other arrays than ``like``.
        """
        step = self.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"no checkpoint in {self.directory}")
        template = to_savable(like)
        try:
            restored = self._manager.restore(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(template), extra=ocp.args.JsonRestore()
                ),
            )
        except Exception as error:  # orbax and tensorstore raise many kinds
            others = [s for s in self.all_steps() if s != step]
            raise CheckpointError(
                f"checkpoint step {step} in {self.directory} could not be read "
                f"({type(error).__name__}: {str(error)[:300]}); other checkpoints kept: "
                f"{others or 'none'}"
            ) from error
        extra = dict(restored["extra"])
        names = extra.pop("leaf_names")
        return step, from_savable(restored["state"], names, like), extra

    def close(self) -> None:
        """Release the manager's resources."""
        self._manager.close()
