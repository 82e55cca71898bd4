"""Send the logged metrics, the run's settings and sample images to metric writers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from artifex.generative_models.training.callbacks._base import Callback
from artifex.generative_models.training.writers import (
    MetricWriter,
    MultiWriter,
    flatten_hparams,
)

if TYPE_CHECKING:
    from artifex.generative_models.training.trainer import Trainer

__all__ = ["WriterCallback"]


class WriterCallback(Callback):
    """Open writers when ``fit`` starts, write every logged row, close them at the end.

    The writers are opened per ``fit`` (``open_writers()``), so a file the run folder
    keeps (``metrics.jsonl``) is appended to after a resume, never rewritten.

    Args:
        open_writers: Makes the writers of one ``fit``.
    """

    def __init__(self, open_writers: Callable[[], Sequence[MetricWriter]]):
        self.open_writers = open_writers
        self.writer: MultiWriter | None = None

    def on_fit_start(self, trainer: Trainer, *, start: int, target: int) -> None:
        """Open the writers and record the run's settings (hyper-parameters)."""
        self.writer = MultiWriter(self.open_writers())
        self.writer.write_hparams(flatten_hparams(trainer.experiment.to_dict()))

    def on_log(self, trainer: Trainer, *, step: int, row: Mapping[str, float]) -> None:
        """Write the row's scalars (all but ``step``)."""
        if self.writer is not None:
            self.writer.write_scalars(step, {k: v for k, v in row.items() if k != "step"})

    def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Write images (uint8 HWC grids) while a ``fit`` is running; else nothing."""
        if self.writer is not None:
            self.writer.write_images(step, images)

    def on_fit_end(self, trainer: Trainer, *, step: int, error: BaseException | None) -> None:
        """Close the writers (their files are complete even when the run failed)."""
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.close()
