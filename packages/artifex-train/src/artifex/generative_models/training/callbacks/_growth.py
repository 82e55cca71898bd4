"""Growth schedules: switch to the training rules of each phase (a progressive stage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from artifex.generative_models.training.callbacks._base import Callback

if TYPE_CHECKING:
    from artifex.generative_models.training.trainer import Trainer

__all__ = ["PhaseSchedule"]


class PhaseSchedule(Callback):
    """Before each dispatch, train by the rules of the phase that dispatch is in.

    The rules say where their phases start (``rules.phase_starts()``, e.g. the stages
    of a ProgressiveGAN) and which rules hold at a step (``rules.phase_at(step)``); a
    change compiles the new phase's program once (the trainer checks at construction
    that phases start on dispatch boundaries).
    """

    def on_dispatch_start(self, trainer: Trainer, *, step: int) -> None:
        """Switch rules when ``step`` starts a new phase."""
        trainer.set_rules(trainer.rules.phase_at(step))
