"""Work that runs every N iterations: a function of the trainer and the step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from artifex.generative_models.training.callbacks._base import Callback

if TYPE_CHECKING:
    from artifex.generative_models.training.trainer import Trainer

__all__ = ["Periodic"]


class Periodic(Callback):
    """Call ``fn(trainer, step)`` after every dispatch that ends on a multiple of ``every``.

    Args:
        fn: The work; it runs on the host between dispatches.
        every: Interval in iterations (a multiple of ``steps_per_dispatch``); 0: never.

    Raises:
        ValueError: ``every`` is negative.
    """

    def __init__(self, fn: Callable[[Trainer, int], Any], *, every: int):
        if every < 0:
            raise ValueError(f"Periodic(every={every}): must be >= 0 (0 means never)")
        self.fn = fn
        self.every = every

    def due(self, step: int) -> bool:
        """Whether the work is due after iteration ``step``."""
        return bool(self.every) and step % self.every == 0

    def on_dispatch_end(self, trainer: Trainer, *, step: int) -> None:
        """Run the work when due."""
        if self.due(step):
            self.fn(trainer, step)
