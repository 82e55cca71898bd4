"""Running any image function over many images, as the metrics do, for your own analyses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._extraction import BatchedFunction, Images


def extract_features(
    fn: Callable[[Any], Any], images: Images, *, batch_size: int = 256, jit: bool = True
) -> np.ndarray:
    """``fn`` applied to ``images`` in compiled fixed-size batches, as one float64 array.

    Args:
        fn: Maps a batch ``(B, ...)`` to ``(B, D)``, e.g. ``digits_classifier()``.
        images: An array ``(N, ...)`` or an iterable of such batches.
        batch_size: Images per compiled call (the last chunk is padded to it).
        jit: Compile ``fn`` with ``jax.jit``.

    Returns:
        ``(N, D)`` float64 outputs in the order of the images.

    Raises:
        TypeError, ValueError: Bad input or output shapes or non-finite values.
    """
    run = BatchedFunction(fn, name="fn", batch_size=batch_size, jit=jit)
    return np.concatenate(list(run(images, "images")), axis=0)
