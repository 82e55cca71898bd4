"""TensorBoard event files through ``tensorboardX``: scalars, sample grids, settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tensorboardX import SummaryWriter  # type: ignore[import-untyped]
from tensorboardX.summary import hparams as hparams_summaries  # type: ignore[import-untyped]

from artifex.generative_models.training.writers._base import as_uint8_hwc, flatten_hparams

__all__ = ["TensorBoardWriter"]


class TensorBoardWriter:
    """Writes one TensorBoard run into ``logdir`` (``tensorboard --logdir <logdir>``).

    Args:
        logdir: The run's folder (created if needed).
        flush_secs: How often tensorboardX's background thread flushes on its own.
    """

    def __init__(self, logdir: str | Path, *, flush_secs: int = 30):
        self.logdir = Path(logdir)
        self._writer = SummaryWriter(logdir=str(self.logdir), flush_secs=flush_secs)

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """One scalar series per name."""
        for name, value in scalars.items():
            self._writer.add_scalar(name, float(value), global_step=int(step))

    def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """One image series per name (stored as PNG)."""
        for name, image in images.items():
            pixels = as_uint8_hwc(name, image)
            self._writer.add_image(name, pixels, global_step=int(step), dataformats="HWC")

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        """The settings for TensorBoard's HPARAMS tab, in this run's own event file.

        ``SummaryWriter.add_hparams`` is not used: it writes into a new sub-run and wants
        the final metrics up front. Only the session-start record is written here; with no
        experiment record, TensorBoard takes the metric columns from this run's scalars,
        so every series written later shows up beside the settings.
        """
        _experiment, session_start, _session_end = hparams_summaries(flatten_hparams(hparams), {})
        # `file_writer` is the public FileWriter of this run (add_hparams uses it too).
        self._writer.file_writer.add_summary(session_start)

    def flush(self) -> None:
        """Write what is queued to the event file."""
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()
