"""Checkpoints every N iterations and at the end of a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from artifex.generative_models.training.callbacks._periodic import Periodic

if TYPE_CHECKING:
    from artifex.generative_models.training.trainer import Trainer

__all__ = ["Checkpointing"]


def _save(trainer: Trainer, step: int) -> None:
    del step  # the trainer saves its own current step
    trainer.save()


class Checkpointing(Periodic):
    """Save the training state every ``every`` iterations and when ``fit`` completes.

    A stop by SIGINT / SIGTERM saves too, but the trainer does that itself: no callback
    list may lose it.

    Args:
        every: Interval in iterations; 0: only at the end (with ``save_final``).
        save_final: Save when ``fit`` completes (not when it fails), unless that step
            was just saved.

    Raises:
        ValueError: ``every`` is negative.
    """

    def __init__(self, *, every: int, save_final: bool = True):
        super().__init__(_save, every=every)
        self.save_final = save_final

    def on_fit_end(self, trainer: Trainer, *, step: int, error: BaseException | None) -> None:
        """Save the final state of a completed run."""
        if error is None and self.save_final and trainer.last_checkpoint != step:
            trainer.save()
