"""Weights & Biases runs (optional: ``pip install "artifex-train[wandb]"``)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from artifex.generative_models.training.writers._base import as_uint8_hwc, flatten_hparams

__all__ = ["WandbWriter"]


def _import_wandb() -> Any:
    try:
        # Imported by name: the library is optional, and untyped where it is missing.
        module = importlib.import_module("wandb")
    except ImportError as error:
        raise ImportError(
            "WandbWriter needs the wandb library, which is not installed; install it with "
            'pip install "artifex-train[wandb]"'
        ) from error
    return module


class WandbWriter:
    """Logs to one W&B run, started on construction and finished by :meth:`close`.

    Args:
        **wandb_init_kwargs: Passed to ``wandb.init`` (``project``, ``name``, ``dir``,
            ``mode="offline"``, ...).

    Raises:
        ImportError: wandb is not installed (the message says how to install it).
    """

    def __init__(self, **wandb_init_kwargs: Any):
        self._wandb = _import_wandb()
        self.run = self._wandb.init(**wandb_init_kwargs)

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """Log ``scalars`` at ``step``."""
        self.run.log({name: float(value) for name, value in scalars.items()}, step=int(step))

    def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Log each image as a ``wandb.Image`` at ``step``."""
        media = {
            name: self._wandb.Image(as_uint8_hwc(name, image)) for name, image in images.items()
        }
        self.run.log(media, step=int(step))

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        """Add the flattened ``hparams`` to the run's config."""
        self.run.config.update(flatten_hparams(hparams), allow_val_change=True)

    def flush(self) -> None:
        """Nothing to do: wandb hands every log to its own writer process at once."""

    def close(self) -> None:
        """Finish the run."""
        self.run.finish()
