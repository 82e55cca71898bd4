"""Inception Score: how confidently and how evenly a classifier labels generated samples.

``IS = exp(E_x KL(p(y|x) || p(y)))`` where ``p(y)`` is the mean prediction over the
samples of one split. It is 1 when every sample gets the same prediction and K when
each sample is confidently one of K classes, all equally often.

References:
    Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
    https://arxiv.org/abs/1606.03498
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._checks import feature_matrix, positive_int
from artifex.generative_models.core.evaluation.metrics._extraction import BatchedFunction, Images

__all__ = ["InceptionScore", "inception_score"]

ROW_SUM_TOLERANCE = 1e-3
"""Largest ``|sum_k p_k - 1|`` accepted: float32 softmax sums drift by ~1e-6, logits by far more."""


def _probabilities(values: Any) -> np.ndarray:
    probs = feature_matrix(values, "probabilities")
    if probs.min() < 0:
        raise ValueError(
            f"probabilities must be non-negative, got a minimum of {probs.min():.3g}; did you "
            "pass logits? apply a softmax first"
        )
    sums = probs.sum(axis=1)
    if np.abs(sums - 1.0).max() > ROW_SUM_TOLERANCE:
        raise ValueError(
            f"each row of probabilities must sum to 1, got row sums in [{sums.min():.4g}, "
            f"{sums.max():.4g}]; did you pass logits? apply a softmax first"
        )
    return probs / sums[:, None]


def inception_score(probabilities: Any, splits: int = 10) -> dict[str, float]:
    """The Inception Score of class probabilities, over ``splits`` equal parts.

    The samples are cut, in order, at ``i * N // splits`` (as the original code does);
    the score is computed on each part, and its mean and standard deviation (``ddof=0``)
    are returned. Computed in float64, with ``0 log 0 = 0``.

    Args:
        probabilities: ``(N, K)`` class probabilities, rows summing to 1.
        splits: Number of parts, ``1 <= splits <= N``.

    Returns:
        ``{"is_mean": ..., "is_std": ...}``.

    Raises:
        ValueError: Not a 2-D finite probability array, or ``splits`` out of range.
    """
    probs = _probabilities(probabilities)
    count = probs.shape[0]
    splits = positive_int(splits, "splits")
    if splits > count:
        raise ValueError(
            f"splits must be at most the number of samples ({count}), got splits={splits}"
        )
    safe_log = np.log(np.where(probs > 0, probs, 1.0))
    scores = []
    for part in range(splits):
        chunk = slice(part * count // splits, (part + 1) * count // splits)
        p = probs[chunk]
        marginal = p.mean(axis=0)
        log_marginal = np.log(np.where(marginal > 0, marginal, 1.0))
        kl = np.where(p > 0, p * (safe_log[chunk] - log_marginal), 0.0).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return {"is_mean": float(np.mean(scores)), "is_std": float(np.std(scores))}


class InceptionScore:
    """Inception Score of generated images, through any classifier.

    Args:
        classifier: Maps a batch of images ``(B, ...)`` to class probabilities ``(B, K)``
            (a softmax output), e.g. ``digits_classifier()``.
        batch_size: Images per compiled call.
        jit: Compile the classifier with ``jax.jit``.

    Example:
        >>> is_metric = InceptionScore(classifier=digits_classifier())  # doctest: +SKIP
        >>> is_metric.compute(samples, splits=10)  # doctest: +SKIP
        {'is_mean': ..., 'is_std': ...}
    """

    def __init__(
        self, classifier: Callable[[Any], Any], *, batch_size: int = 256, jit: bool = True
    ) -> None:
        self._classify = BatchedFunction(
            classifier, name="classifier", batch_size=batch_size, jit=jit
        )
        self._probabilities: list[np.ndarray] = []

    def probabilities(self, samples: Images) -> np.ndarray:
        """The classifier's ``(N, K)`` float64 probabilities for ``samples``."""
        return np.concatenate(list(self._classify(samples, "samples")), axis=0)

    def compute(self, samples: Images, splits: int = 10) -> dict[str, float]:
        """Inception Score of ``samples`` (array or iterable of batches) in one call.

        Args:
            samples: Generated images.
            splits: Number of equal parts the score is averaged over.

        Returns:
            ``{"is_mean": ..., "is_std": ...}``.
        """
        positive_int(splits, "splits")
        return inception_score(self.probabilities(samples), splits=splits)

    def update(self, samples: Images) -> None:
        """Classify more samples for :meth:`result`."""
        self._probabilities.extend(self._classify(samples, "samples"))

    def result(self, splits: int = 10) -> dict[str, float]:
        """Inception Score of everything passed to :meth:`update`."""
        if not self._probabilities:
            raise ValueError("no samples were given: call update() first")
        return inception_score(np.concatenate(self._probabilities, axis=0), splits=splits)

    def reset(self) -> None:
        """Forget the samples seen so far."""
        self._probabilities = []
