"""Scalars as JSON lines: the run folder's ``metrics.jsonl``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from artifex.generative_models.training.writers._base import as_uint8_hwc

__all__ = ["JsonlWriter"]


class JsonlWriter:
    """Appends one JSON object ``{"step": step, **scalars}`` per :meth:`write_scalars`.

    Each line is flushed as it is written, so a run that crashes loses no report.
    Images and hyper-parameters are not kept here (the run folder keeps its config);
    images are still checked, so a bad one fails the same way with every writer.

    Args:
        path: The file (its folder is created); lines are appended to what is there.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """Append ``{"step": step, **scalars}`` as one line."""
        row = {"step": int(step), **{name: float(value) for name, value in scalars.items()}}
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()

    def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Check ``images``; nothing is written."""
        for name, image in images.items():
            as_uint8_hwc(name, image)

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        """Nothing is written: the run folder keeps its config."""

    def flush(self) -> None:
        """Flush the file (already done on every write)."""
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()
