"""What a run leaves for people to look at: sample grids and loss curves as PNG."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["image_grid", "save_grid", "save_image_grid", "save_loss_curves"]


def image_grid(images: np.ndarray, *, columns: int | None = None, padding: int = 1) -> np.ndarray:
    """Tile NHWC images in [-1, 1] into one uint8 picture ``(rows*h, columns*w, C)``.

    Raises:
        ValueError: ``images`` is not a non-empty NHWC batch.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(f"image_grid expects a non-empty NHWC batch, got shape {images.shape}")
    count, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    pixels = np.clip((images + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    grid = np.zeros(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        np.uint8,
    )
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        grid[top : top + height, left : left + width] = pixels[index]
    return grid


def save_image_grid(
    images: np.ndarray, path: str | Path, *, scale: int = 4, columns: int | None = None
) -> Path:
    """Write ``images`` (NHWC, [-1, 1]) as one PNG grid, each pixel ``scale`` x ``scale``."""
    return save_grid(image_grid(images, columns=columns), path, scale=scale)


def save_grid(grid: np.ndarray, path: str | Path, *, scale: int = 4) -> Path:
    """Write a uint8 HWC grid (from :func:`image_grid`) as a PNG, each pixel enlarged."""
    from PIL import Image

    grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path)
    return path


def save_loss_curves(history: Sequence[dict[str, Any]], path: str | Path) -> Path | None:
    """Plot every ``*loss`` series of ``history`` against its step; None if nothing logged."""
    if not history:
        return None
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window
    import matplotlib.pyplot as plt

    steps = [row["step"] for row in history]
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for name in sorted(k for k in history[0] if k.endswith("loss")):
        axes.plot(steps, [row[name] for row in history], label=name)
    axes.set_xlabel("iteration")
    axes.set_ylabel("loss")
    axes.set_title("GAN training losses")
    axes.legend()
    axes.grid(alpha=0.3)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
