"""Kernel Inception Distance: an unbiased estimate of the squared MMD between feature sets.

With the cubic polynomial kernel ``k(x, y) = (x·y / D + 1)³`` and ``m`` samples from each
set, the unbiased estimator is::

    MMD²_u = Σ_{i≠j} k(x_i, x_j) / (m(m-1)) + Σ_{i≠j} k(y_i, y_j) / (m(m-1))
             - 2 Σ_{i,j} k(x_i, y_j) / m²

Its expectation is exactly the population MMD², 0 when both sets come from one
distribution (a single estimate may be negative). It is averaged over random subsets.

References:
    Bińkowski et al., "Demystifying MMD GANs", ICLR 2018. https://arxiv.org/abs/1801.01401
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._checks import (
    feature_matrix,
    positive_int,
    same_width,
)
from artifex.generative_models.core.evaluation.metrics._paired import PairedFeatureMetric

__all__ = ["KernelInceptionDistance", "kernel_inception_distance", "polynomial_mmd2_unbiased"]


def polynomial_mmd2_unbiased(x: Any, y: Any) -> float:
    """Unbiased MMD² of two equally sized samples under ``k(a, b) = (a·b / D + 1)³``.

    Args:
        x: ``(m, D)`` features, ``m >= 2``.
        y: ``(m, D)`` features.

    Returns:
        The unbiased estimate (may be slightly negative).
    """
    x = feature_matrix(x, "x", min_rows=2)
    y = feature_matrix(y, "y", min_rows=2)
    same_width(x, y, ("x", "y"))
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of rows, got {len(x)} and {len(y)}")
    m, dim = x.shape
    k_xx = (x @ x.T / dim + 1.0) ** 3
    k_yy = (y @ y.T / dim + 1.0) ** 3
    k_xy = (x @ y.T / dim + 1.0) ** 3
    within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(within - 2.0 * k_xy.mean())


def kernel_inception_distance(
    real_features: Any,
    fake_features: Any,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """KID: the unbiased polynomial-kernel MMD² averaged over random subsets.

    Each subset draws ``subset_size`` rows without replacement from each set
    (``numpy.random.default_rng(seed)``), as the reference implementation does.

    Args:
        real_features: ``(N_real, D)`` features.
        fake_features: ``(N_fake, D)`` features.
        subsets: Number of subsets averaged.
        subset_size: Rows per subset, at least 2 and at most ``min(N_real, N_fake)``.
        seed: Seed of the subset draws.

    Returns:
        ``{"kid_mean": ..., "kid_std": ...}`` over the subsets (``ddof=0``).

    Raises:
        ValueError: Bad shapes or values, or ``subset_size`` larger than a set.
    """
    real = feature_matrix(real_features, "real_features")
    fake = feature_matrix(fake_features, "fake_features")
    same_width(real, fake, ("real_features", "fake_features"))
    subsets = positive_int(subsets, "subsets")
    subset_size = positive_int(subset_size, "subset_size", minimum=2)
    for name, array in (("real", real), ("fake", fake)):
        if subset_size > array.shape[0]:
            raise ValueError(
                f"subset_size={subset_size} exceeds the {array.shape[0]} {name} samples; pass "
                f"subset_size<={min(real.shape[0], fake.shape[0])}"
            )
    rng = np.random.default_rng(seed)
    estimates = np.empty(subsets)
    for index in range(subsets):
        x = real[rng.choice(real.shape[0], subset_size, replace=False)]
        y = fake[rng.choice(fake.shape[0], subset_size, replace=False)]
        estimates[index] = polynomial_mmd2_unbiased(x, y)
    return {"kid_mean": float(estimates.mean()), "kid_std": float(estimates.std())}


class KernelInceptionDistance(PairedFeatureMetric):
    """KID between real and generated images, through any feature function.

    Args:
        feature_extractor: Maps images ``(B, ...)`` to features ``(B, D)``.
        subsets: Number of random subsets averaged.
        subset_size: Samples per subset from each set (1000 in the literature).
        seed: Seed of the subset draws.
        batch_size: Images per compiled call.
        jit: Compile the extractor with ``jax.jit``.
    """

    def __init__(
        self,
        feature_extractor: Callable[[Any], Any],
        *,
        subsets: int = 100,
        subset_size: int = 1000,
        seed: int = 0,
        batch_size: int = 256,
        jit: bool = True,
    ) -> None:
        super().__init__(feature_extractor, batch_size=batch_size, jit=jit)
        self.subsets = positive_int(subsets, "subsets")
        self.subset_size = positive_int(subset_size, "subset_size", minimum=2)
        self.seed = seed

    def score(self, real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
        """``{"kid_mean", "kid_std"}`` of two feature arrays."""
        return kernel_inception_distance(
            real, fake, subsets=self.subsets, subset_size=self.subset_size, seed=self.seed
        )
