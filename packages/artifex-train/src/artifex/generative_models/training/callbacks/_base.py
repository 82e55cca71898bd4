"""The hooks the training loop calls, and the base class every callback derives from.

The :class:`~artifex.generative_models.training.Trainer` knows nothing of writers,
samples, checkpoints or growth schedules: it dispatches compiled steps and calls its
callbacks around them. Every hook has a default that does nothing, so a callback
overrides only the moments it cares about.

Order of a ``fit``: ``on_fit_start`` once; then per dispatch ``on_dispatch_start``, the
compiled call, ``on_log`` when the metrics were read (every ``log_every`` iterations and
at the end), ``on_dispatch_end``; finally ``on_fit_end`` (also when the run stops early,
with the reason in ``error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the trainer imports the callbacks, not the other way round
    from artifex.generative_models.training.trainer import Trainer

__all__ = ["Callback"]


class Callback:
    """A piece of periodic work beside the training loop.

    Subclass it and override the hooks you need; pass instances to
    ``Trainer(..., callbacks=[...])`` or ``trainer.callbacks.append(...)``.
    Hooks run on the host between dispatches; reading device arrays in them waits for
    the device, so read them only when the work is due.
    """

    def on_fit_start(self, trainer: Trainer, *, start: int, target: int) -> None:
        """``fit`` begins at iteration ``start`` (after any resume) and ends at ``target``."""

    def on_dispatch_start(self, trainer: Trainer, *, step: int) -> None:
        """The next dispatch starts at iteration ``step`` (the state may still be changed)."""

    def on_log(self, trainer: Trainer, *, step: int, row: Mapping[str, float]) -> None:
        """Metrics of iteration ``step`` were read back.

        ``row`` holds ``step``, the losses, the scores and ``it_per_s`` (iterations per
        second since the previous report).
        """

    def on_dispatch_end(self, trainer: Trainer, *, step: int) -> None:
        """A dispatch finished; ``step`` iterations are done."""

    def on_fit_end(self, trainer: Trainer, *, step: int, error: BaseException | None) -> None:
        """``fit`` ends at iteration ``step``; ``error`` is what stops it early, if anything."""

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state this callback needs after a resume (saved in checkpoints)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
