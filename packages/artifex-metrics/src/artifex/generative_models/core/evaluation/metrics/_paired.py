"""The shared shape of metrics that compare real and generated feature sets in full."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._extraction import BatchedFunction, Images


class PairedFeatureMetric:
    """Extracts features of a real and a generated set and keeps them (float32) for a score.

    Subclasses implement :meth:`score` on two ``(N, D)`` float64 feature arrays.

    Args:
        feature_extractor: Maps images ``(B, ...)`` to features ``(B, D)``.
        batch_size: Images per compiled call.
        jit: Compile the extractor with ``jax.jit``.
    """

    def __init__(
        self, feature_extractor: Callable[[Any], Any], *, batch_size: int = 256, jit: bool = True
    ) -> None:
        self._extract = BatchedFunction(
            feature_extractor, name="feature_extractor", batch_size=batch_size, jit=jit
        )
        self._features: dict[bool, list[np.ndarray]] = {True: [], False: []}

    def features(self, images: Images) -> np.ndarray:
        """The ``(N, D)`` float64 features of ``images`` (array or iterable of batches)."""
        return np.concatenate(list(self._extract(images, "images")), axis=0)

    def score(self, real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
        """The metric on two feature arrays."""
        raise NotImplementedError

    def compute(self, real: Images, fake: Images) -> dict[str, float]:
        """The metric between two image sets in one call; the streaming state is untouched.

        Args:
            real: Real images, an array or an iterable of batches.
            fake: Generated images, an array or an iterable of batches.

        Returns:
            The metric's values by name.
        """
        return self.score(self.features(real), self.features(fake))

    def update(self, images: Images, *, real: bool) -> None:
        """Add images to the real or the generated side of the streaming state."""
        # float32 halves the memory of 50k kept feature vectors; scores run in float64.
        for batch in self._extract(images, "real" if real else "fake"):
            self._features[bool(real)].append(batch.astype(np.float32))

    def result(self) -> dict[str, float]:
        """The metric on everything passed to :meth:`update`."""
        for side, name in ((True, "real"), (False, "fake")):
            if not self._features[side]:
                raise ValueError(f"no {name} images were given: call update(..., real=...)")
        real = np.concatenate(self._features[True], axis=0).astype(np.float64)
        fake = np.concatenate(self._features[False], axis=0).astype(np.float64)
        return self.score(real, fake)

    def reset(self, *, keep_real: bool = False) -> None:
        """Forget the generated side, and the real side unless ``keep_real``."""
        self._features[False] = []
        if not keep_real:
            self._features[True] = []
