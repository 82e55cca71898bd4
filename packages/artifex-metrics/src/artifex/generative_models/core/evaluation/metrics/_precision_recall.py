"""Improved precision and recall: k-nearest-neighbour manifolds of real and generated features.

Each real feature vector ``r`` spans a ball whose radius is the distance to its k-th
nearest *other* real vector; the real manifold is the union of those balls. Precision
is the share of generated vectors inside the real manifold (``||f - r|| <= radius(r)``
for some ``r``); recall is the share of real vectors inside the generated manifold,
built the same way from the generated vectors.

References:
    Kynkäänniemi et al., "Improved Precision and Recall Metric for Assessing Generative
    Models", NeurIPS 2019. https://arxiv.org/abs/1904.06991
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._checks import (
    feature_matrix,
    positive_int,
    same_width,
)
from artifex.generative_models.core.evaluation.metrics._paired import PairedFeatureMetric

__all__ = ["PrecisionRecall", "knn_radii", "manifold_coverage", "precision_recall"]

DEFAULT_K = 3
"""The neighbourhood size the paper recommends."""

ROWS_PER_CHUNK = 1024
"""Rows of a distance matrix held at once: memory stays ``O(1024 · N)``."""


def _squared_distances(rows: np.ndarray, points: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """Chunks of the float64 squared-distance matrix between ``rows`` and ``points``."""
    point_norms = np.einsum("ij,ij->i", points, points)
    for start in range(0, rows.shape[0], ROWS_PER_CHUNK):
        part = slice(start, start + ROWS_PER_CHUNK)
        chunk = rows[part]
        squared = np.einsum("ij,ij->i", chunk, chunk)[:, None] - 2.0 * chunk @ points.T
        yield part, np.maximum(squared + point_norms[None, :], 0.0)


def knn_radii(features: Any, k: int = DEFAULT_K) -> np.ndarray:
    """Distance from each vector to its k-th nearest other vector of the same set.

    Args:
        features: ``(N, D)`` features, ``N > k``.
        k: Neighbourhood size.

    Returns:
        ``(N,)`` float64 radii.
    """
    points = feature_matrix(features, "features")
    k = positive_int(k, "k")
    if points.shape[0] <= k:
        raise ValueError(f"k={k} nearest neighbours need more than {k} samples, got {len(points)}")
    radii = np.empty(points.shape[0])
    for part, squared in _squared_distances(points, points):
        # Index k of the sorted row skips the vector itself (distance 0 at index 0).
        radii[part] = np.sqrt(np.partition(squared, k, axis=1)[:, k])
    return radii


def manifold_coverage(manifold: Any, radii: Any, queries: Any) -> np.ndarray:
    """Which ``queries`` lie in the union of balls around ``manifold`` with ``radii``.

    Args:
        manifold: ``(N, D)`` ball centres.
        radii: ``(N,)`` ball radii.
        queries: ``(M, D)`` points to test.

    Returns:
        ``(M,)`` booleans: inside (or on the boundary of) at least one ball.
    """
    centres = feature_matrix(manifold, "manifold")
    points = feature_matrix(queries, "queries")
    same_width(centres, points, ("manifold", "queries"))
    radius = np.asarray(radii, dtype=np.float64)
    if radius.shape != (centres.shape[0],):
        raise ValueError(f"radii must have shape ({centres.shape[0]},), got {radius.shape}")
    inside = np.empty(points.shape[0], dtype=bool)
    for part, squared in _squared_distances(points, centres):
        inside[part] = (squared <= radius[None, :] ** 2).any(axis=1)
    return inside


def precision_recall(
    real_features: Any, fake_features: Any, *, k: int = DEFAULT_K
) -> dict[str, float]:
    """Improved precision and recall of generated features against real ones.

    Args:
        real_features: ``(N_real, D)``, ``N_real > k``.
        fake_features: ``(N_fake, D)``, ``N_fake > k``.
        k: Neighbourhood size of the manifold estimate.

    Returns:
        ``{"precision": ..., "recall": ...}``, each in ``[0, 1]``.
    """
    real = feature_matrix(real_features, "real_features")
    fake = feature_matrix(fake_features, "fake_features")
    same_width(real, fake, ("real_features", "fake_features"))
    k = positive_int(k, "k")
    for name, array in (("real", real), ("fake", fake)):
        if array.shape[0] <= k:
            raise ValueError(
                f"k={k} nearest neighbours need more than {k} {name} samples, got {len(array)}"
            )
    precision = manifold_coverage(real, knn_radii(real, k), fake).mean()
    recall = manifold_coverage(fake, knn_radii(fake, k), real).mean()
    return {"precision": float(precision), "recall": float(recall)}


class PrecisionRecall(PairedFeatureMetric):
    """Improved precision and recall between real and generated images.

    Args:
        feature_extractor: Maps images ``(B, ...)`` to features ``(B, D)``.
        k: Neighbourhood size of the manifold estimate.
        batch_size: Images per compiled call.
        jit: Compile the extractor with ``jax.jit``.
    """

    def __init__(
        self,
        feature_extractor: Callable[[Any], Any],
        *,
        k: int = DEFAULT_K,
        batch_size: int = 256,
        jit: bool = True,
    ) -> None:
        super().__init__(feature_extractor, batch_size=batch_size, jit=jit)
        self.k = positive_int(k, "k")

    def score(self, real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
        """``{"precision", "recall"}`` of two feature arrays."""
        return precision_recall(real, fake, k=self.k)
