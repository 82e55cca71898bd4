"""Sample grids every N iterations: a PNG in the run folder and an image for the writers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from artifex.generative_models.training.artifacts import image_grid, save_grid
from artifex.generative_models.training.callbacks._periodic import Periodic
from artifex.generative_models.training.callbacks._writers import WriterCallback

if TYPE_CHECKING:
    from artifex.generative_models.training.trainer import Trainer

__all__ = ["SampleGrids"]

Sampler = Callable[["Trainer"], tuple[np.ndarray, int | None]]
"""``trainer -> (NHWC images in [-1, 1], columns or None)``."""


class SampleGrids(Periodic):
    """Save ``directory/step_NNNNNN.png`` every ``every`` iterations; send it to the writers.

    Args:
        sample: Makes the images of one grid from the trainer (e.g. from its EMA
            generator with fixed latents, so grids of a run compare).
        directory: Where the PNG files go.
        every: Interval in iterations; 0: never.
    """

    def __init__(self, sample: Sampler, directory: str | Path, *, every: int):
        super().__init__(self.write, every=every)
        self.sample = sample
        self.directory = Path(directory)

    def write(self, trainer: Trainer, step: int, name: str | None = None) -> Path:
        """Make a grid now; return the PNG's path (``name`` or ``step_NNNNNN.png``).

        In a multi-process run every process makes the images (the generator's arrays
        span them all) and process 0 alone writes them.
        """
        images, columns = self.sample(trainer)
        path = self.directory / (name or f"step_{step:06d}.png")
        if trainer.devices.process_index != 0:
            return path
        grid = image_grid(images, columns=columns)
        save_grid(grid, path)
        for callback in trainer.callbacks:
            if isinstance(callback, WriterCallback):
                callback.write_images(step, {"samples": grid})
        return path
