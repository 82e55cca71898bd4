"""Fréchet Inception Distance: streaming float64 statistics and an exact, real-valued distance.

The FID between two sets of features is the Fréchet (2-Wasserstein) distance between the
Gaussians with their means and covariances::

    FID = ||mu_1 - mu_2||² + tr(S_1) + tr(S_2) - 2 tr((S_1^½ S_2 S_1^½)^½)

The last trace equals ``tr((S_1 S_2)^½)`` of the usual formula, but the matrix inside is
symmetric positive semi-definite, so it is computed from ``numpy.linalg.eigh`` with its
eigenvalues clipped at zero: no complex parts to discard and no NaN, where
``scipy.linalg.sqrtm`` of the non-symmetric ``S_1 S_2`` can produce both.

References:
    Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a Local
    Nash Equilibrium", NeurIPS 2017. https://arxiv.org/abs/1706.08500
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._checks import feature_matrix
from artifex.generative_models.core.evaluation.metrics._extraction import BatchedFunction, Images

__all__ = [
    "FeatureStatistics",
    "FewSamplesWarning",
    "FrechetInceptionDistance",
    "frechet_distance",
]

SYMMETRY_TOLERANCE = 1e-6
"""Largest ``|S - Sᵀ|`` accepted for a covariance, relative to its largest entry."""

PSD_TOLERANCE = 1e-6
"""Most negative eigenvalue accepted for a covariance, relative to its largest one."""


class FewSamplesWarning(UserWarning):
    """Statistics rest on no more samples than feature dimensions: the covariance is singular.

    An FID computed from such statistics is strongly biased upwards and not comparable
    with FIDs from other sample sizes.
    """


def _psd_eigh(matrix: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (clipped at 0) and eigenvectors of a symmetric PSD matrix, or an error."""
    symmetric = 0.5 * (matrix + matrix.T)
    values, vectors = np.linalg.eigh(symmetric)
    scale = max(float(np.abs(values).max(initial=0.0)), np.finfo(np.float64).tiny)
    if values.min(initial=0.0) < -PSD_TOLERANCE * scale:
        raise ValueError(
            f"{name} is not positive semi-definite: smallest eigenvalue {values.min():.3g} "
            f"(largest magnitude {scale:.3g})"
        )
    return np.clip(values, 0.0, None), vectors


def _covariance(value: object, dim: int, name: str) -> np.ndarray:
    matrix = np.asarray(value, dtype=np.float64)
    if matrix.shape != (dim, dim):
        raise ValueError(f"{name} must have shape ({dim}, {dim}), got {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    scale = max(float(np.abs(matrix).max(initial=0.0)), np.finfo(np.float64).tiny)
    if np.abs(matrix - matrix.T).max(initial=0.0) > SYMMETRY_TOLERANCE * scale:
        raise ValueError(f"{name} is not symmetric")
    return matrix


def _mean(value: object, name: str) -> np.ndarray:
    vector = np.asarray(value, dtype=np.float64)
    if vector.ndim != 1 or vector.size == 0:
        raise ValueError(f"{name} must be a non-empty vector, got shape {vector.shape}")
    if not np.isfinite(vector).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return vector


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """The Fréchet distance between two Gaussians, in float64.

    Args:
        mu1: Mean of the first Gaussian, shape ``(D,)``.
        sigma1: Covariance of the first Gaussian, ``(D, D)``, symmetric PSD.
        mu2: Mean of the second Gaussian, ``(D,)``.
        sigma2: Covariance of the second Gaussian, ``(D, D)``.

    Returns:
        ``||mu1 - mu2||² + tr(sigma1 + sigma2 - 2 (sigma1^½ sigma2 sigma1^½)^½)``, a
        non-negative float (rounding below zero is clipped).

    Raises:
        ValueError: Shapes disagree, values are not finite, or a covariance is not
            symmetric positive semi-definite.
    """
    mean1, mean2 = _mean(mu1, "mu1"), _mean(mu2, "mu2")
    if mean1.shape != mean2.shape:
        raise ValueError(
            f"mu1 and mu2 must have the same shape, got {mean1.shape} and {mean2.shape}"
        )
    dim = mean1.size
    cov1, cov2 = _covariance(sigma1, dim, "sigma1"), _covariance(sigma2, dim, "sigma2")
    values1, vectors1 = _psd_eigh(cov1, "sigma1")
    _psd_eigh(cov2, "sigma2")
    sqrt1 = (vectors1 * np.sqrt(values1)) @ vectors1.T
    # sigma1^½ sigma2 sigma1^½ is similar to sigma1 sigma2, so it has the same trace root.
    product_values, _ = _psd_eigh(sqrt1 @ cov2 @ sqrt1, "sigma1^½ sigma2 sigma1^½")
    diff = mean1 - mean2
    distance = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.sqrt(product_values).sum()
    return max(float(distance), 0.0)


class FeatureStatistics:
    """Streaming mean and covariance of feature vectors, accumulated in float64.

    Batches are merged with Chan et al.'s pairwise update of (count, mean, centred
    scatter), which is exact for any batch sizes and avoids the cancellation of raw
    sums of squares when features have a large mean.

    Args:
        dim: Feature dimension; taken from the first batch when omitted.

    Example:
        >>> stats = FeatureStatistics()
        >>> for batch in feature_batches:  # doctest: +SKIP
        ...     stats.update(batch)
        >>> stats.save("cifar10_train.npz")  # doctest: +SKIP
    """

    def __init__(self, dim: int | None = None) -> None:
        self._dim = dim
        self._count: int | None = 0
        self._mean: np.ndarray | None = None
        self._scatter: np.ndarray | None = None
        self._fixed_covariance: np.ndarray | None = None

    @classmethod
    def from_features(cls, features: Any) -> FeatureStatistics:
        """Statistics of one ``(N, D)`` array of features."""
        return cls().update(features)

    @classmethod
    def from_moments(cls, mean: Any, covariance: Any, count: int | None) -> FeatureStatistics:
        """Statistics with a known mean, covariance and (if known) sample count.

        Args:
            mean: ``(D,)`` feature mean.
            covariance: ``(D, D)`` unbiased covariance (``ddof=1``, as ``numpy.cov``).
            count: Number of samples behind them; ``None`` when unknown (then the
                statistics cannot be updated further and no sample-size warning is given).

        Returns:
            The statistics.
        """
        vector = _mean(mean, "mean")
        matrix = _covariance(covariance, vector.size, "covariance")
        stats = cls(vector.size)
        stats._mean = vector
        if count is None:
            stats._count, stats._fixed_covariance = None, matrix
        else:
            if isinstance(count, bool) or int(count) != count or count < 1:
                raise ValueError(f"count must be a positive integer or None, got {count!r}")
            stats._count = int(count)
            stats._scatter = matrix * (int(count) - 1)
        return stats

    @property
    def count(self) -> int | None:
        """Number of feature vectors seen; ``None`` for loaded statistics without one."""
        return self._count

    @property
    def dim(self) -> int | None:
        """Feature dimension; ``None`` before the first update."""
        return self._dim

    @property
    def mean(self) -> np.ndarray:
        """``(D,)`` float64 mean."""
        if self._mean is None:
            raise ValueError("FeatureStatistics is empty: call update() with features first")
        return self._mean.copy()

    @property
    def covariance(self) -> np.ndarray:
        """``(D, D)`` float64 unbiased covariance; needs at least two samples."""
        if self._fixed_covariance is not None:
            return self._fixed_covariance.copy()
        if self._scatter is None or self._count is None or self._count < 2:
            raise ValueError(
                f"a covariance needs at least 2 samples, got {self._count or 0}; "
                "call update() with more features"
            )
        return self._scatter / (self._count - 1)

    def update(self, features: Any) -> FeatureStatistics:
        """Add a batch of feature vectors.

        Args:
            features: ``(B, D)`` finite numbers.

        Returns:
            ``self``, so calls can be chained.

        Raises:
            ValueError: Wrong shape, NaN or infinite values, or statistics loaded
                without a sample count.
        """
        batch = feature_matrix(features, "features")
        if self._count is None:
            raise ValueError(
                "these statistics were loaded without a sample count and cannot be updated"
            )
        if self._dim is not None and batch.shape[1] != self._dim:
            raise ValueError(
                f"features have dimension {batch.shape[1]}, but these statistics have {self._dim}"
            )
        self._dim = batch.shape[1]
        batch_mean = batch.mean(axis=0)
        centred = batch - batch_mean
        return self._combine(batch.shape[0], batch_mean, centred.T @ centred)

    def merge(self, other: FeatureStatistics) -> FeatureStatistics:
        """Add everything ``other`` has seen (another shard, device or process of the data).

        The same pairwise update as :meth:`update`, so merged shards equal one pass.

        Returns:
            ``self``, so calls can be chained.

        Raises:
            ValueError: Either side has no sample count (loaded without one), or the
                feature dimensions differ.
        """
        if other._count == 0:
            return self
        if self._count is None or other._count is None:
            raise ValueError(
                "statistics loaded without a sample count cannot be merged (the weights of "
                "the two sides are unknown)"
            )
        assert other._mean is not None and other._scatter is not None
        if self._dim is not None and other._dim != self._dim:
            raise ValueError(
                f"cannot merge {other._dim}-d statistics into {self._dim}-d statistics"
            )
        self._dim = other._dim
        return self._combine(other._count, other._mean, other._scatter)

    def _combine(self, count: int, mean: np.ndarray, scatter: np.ndarray) -> FeatureStatistics:
        """Chan et al.'s pairwise update with a part of ``count`` samples."""
        if self._mean is None or self._scatter is None:
            self._count, self._mean, self._scatter = count, mean.copy(), scatter.copy()
            return self
        assert self._count is not None
        total = self._count + count
        delta = mean - self._mean
        self._mean = self._mean + delta * (count / total)
        self._scatter = (
            self._scatter + scatter + np.outer(delta, delta) * (self._count * count / total)
        )
        self._count = total
        return self

    def frechet_distance(self, other: FeatureStatistics) -> float:
        """FID between these statistics and ``other``; warns if either is too small.

        Args:
            other: Statistics of the same feature dimension.

        Returns:
            The Fréchet distance (see :func:`frechet_distance`).

        Raises:
            ValueError: Either side is empty, has fewer than two samples, or the
                dimensions differ.
        """
        for name, stats in (("first", self), ("second", other)):
            if stats._mean is None:
                raise ValueError(f"the {name} statistics are empty: no features were given")
            if stats.count is not None and stats.count < 2:
                raise ValueError(
                    f"FID needs at least 2 samples per set to estimate a covariance; the {name} "
                    f"set has {stats.count}"
                )
        if self.dim != other.dim:
            raise ValueError(f"feature dimensions differ: {self.dim} and {other.dim}")
        for name, stats in (("first", self), ("second", other)):
            if stats.count is not None and stats.dim is not None and stats.count <= stats.dim:
                warnings.warn(
                    f"the {name} set has {stats.count} samples of {stats.dim}-dimensional "
                    "features: with no more samples than dimensions its covariance is singular "
                    "and the FID is biased upwards; use many more samples than dimensions "
                    "(the literature uses 50000 for 2048-d Inception features)",
                    FewSamplesWarning,
                    stacklevel=2,
                )
        return frechet_distance(self.mean, self.covariance, other.mean, other.covariance)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ``mu``, ``sigma`` and ``count`` to an ``.npz`` file (pytorch-fid's keys).

        ``count`` is -1 when unknown. Loading never runs code: the file holds arrays only.
        """
        count = -1 if self.count is None else self.count
        np.savez(path, mu=self.mean, sigma=self.covariance, count=np.int64(count))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FeatureStatistics:
        """Read statistics written by :meth:`save` (or pytorch-fid's ``mu``/``sigma`` files).

        Raises:
            ValueError: The file lacks ``mu`` or ``sigma``.
        """
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in ("mu", "sigma") if key not in data.files]
            if missing:
                raise ValueError(f"{os.fspath(path)} lacks {missing}; it holds {data.files}")
            count = int(data["count"]) if "count" in data.files else -1
            return cls.from_moments(data["mu"], data["sigma"], None if count < 0 else count)


class FrechetInceptionDistance:
    """FID between real and generated images, through any feature function.

    Args:
        feature_extractor: Maps a batch of images ``(B, ...)`` to features ``(B, D)``,
            e.g. :func:`~artifex.generative_models.core.evaluation.metrics.digits_feature_extractor`
            or an InceptionV3 pool3 function.
        batch_size: Images per compiled call (see ``extract_features``).
        jit: Compile the extractor with ``jax.jit``.

    Example:
        >>> fid = FrechetInceptionDistance(feature_extractor=extractor)  # doctest: +SKIP
        >>> fid.compute(real_images, generated_images)["fid"]  # doctest: +SKIP

        Streaming, with the real statistics cached in a file::

            fid.real_statistics = FeatureStatistics.load("real.npz")
            for batch in sample_batches:
                fid.update(batch, real=False)
            fid.result()
    """

    def __init__(
        self,
        feature_extractor: Callable[[Any], Any],
        *,
        batch_size: int = 256,
        jit: bool = True,
    ) -> None:
        self._extract = BatchedFunction(
            feature_extractor, name="feature_extractor", batch_size=batch_size, jit=jit
        )
        self.real_statistics = FeatureStatistics()
        self.fake_statistics = FeatureStatistics()

    def statistics(self, images: Images) -> FeatureStatistics:
        """Feature statistics of ``images`` (an array or an iterable of batches)."""
        stats = FeatureStatistics()
        for features in self._extract(images, "images"):
            stats.update(features)
        return stats

    def compute(self, real: Images | FeatureStatistics, fake: Images) -> dict[str, float]:
        """FID between two image sets in one call; the streaming state is left untouched.

        Args:
            real: Real images (array or iterable of batches) or precomputed statistics.
            fake: Generated images (array or iterable of batches).

        Returns:
            ``{"fid": value}``.
        """
        real_stats = real if isinstance(real, FeatureStatistics) else self.statistics(real)
        fake_stats = self.statistics(fake)
        return {"fid": real_stats.frechet_distance(fake_stats)}

    def update(self, images: Images, *, real: bool) -> None:
        """Add images to the real or the generated side of the streaming state."""
        stats = self.real_statistics if real else self.fake_statistics
        for features in self._extract(images, "real" if real else "fake"):
            stats.update(features)

    def result(self) -> dict[str, float]:
        """``{"fid": value}`` from everything passed to :meth:`update`."""
        return {"fid": self.real_statistics.frechet_distance(self.fake_statistics)}

    def reset(self, *, keep_real: bool = False) -> None:
        """Forget the generated side, and the real side unless ``keep_real``."""
        self.fake_statistics = FeatureStatistics()
        if not keep_real:
            self.real_statistics = FeatureStatistics()
