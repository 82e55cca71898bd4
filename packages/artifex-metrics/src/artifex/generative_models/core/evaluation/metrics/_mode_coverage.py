"""Mode coverage: how many modes of a known mixture, or classes of a labelled set, are hit.

Two-dimensional Gaussian mixtures are the standard toy test of mode collapse: a ring of
8 modes of radius 2 and a 5×5 grid of modes 2 apart, each with standard deviation 0.02
(Srivastava et al., VEEGAN, 2017). A generated point is *high quality* when it lies within
3 standard deviations of its nearest mode; a mode is *captured* when at least
``min_samples`` high-quality points fall to it (20 of 2500 in Lin et al., PacGAN, 2018).

For labelled data, a classifier's predictions give a class histogram: the number of
classes covered and its KL divergence from the uniform distribution (0 when every class
is equally frequent, ``log K`` when all samples fall in one class).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._checks import feature_matrix, positive_int

__all__ = [
    "GRID_SPACING",
    "HIGH_QUALITY_STDS",
    "MIXTURE_STD",
    "RING_RADIUS",
    "class_coverage",
    "grid_modes",
    "mode_coverage",
    "ring_modes",
    "sample_mixture",
]

RING_RADIUS = 2.0
"""Radius of the ring of modes."""

GRID_SPACING = 2.0
"""Distance between neighbouring modes of the grid (centres at -4, -2, 0, 2, 4)."""

MIXTURE_STD = 0.02
"""Standard deviation of every mode."""

HIGH_QUALITY_STDS = 3.0
"""A sample within this many standard deviations of a mode is high quality."""

DEFAULT_MIN_SAMPLES = 20
"""High-quality samples a mode needs to count as captured (PacGAN's rule for 2500 samples)."""


def ring_modes(num_modes: int = 8, radius: float = RING_RADIUS) -> np.ndarray:
    """Centres ``radius · (cos 2πk/K, sin 2πk/K)`` of a ring of ``num_modes`` modes, ``(K, 2)``."""
    num_modes = positive_int(num_modes, "num_modes")
    angles = 2.0 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_modes(side: int = 5, spacing: float = GRID_SPACING) -> np.ndarray:
    """Centres of a ``side × side`` grid centred on the origin, ``(side², 2)``, row-major."""
    side = positive_int(side, "side")
    axis = spacing * (np.arange(side) - (side - 1) / 2.0)
    x, y = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([x.ravel(), y.ravel()], axis=1)


def sample_mixture(
    modes: Any, num_samples: int, *, std: float = MIXTURE_STD, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw from the equal-weight isotropic Gaussian mixture on ``modes``.

    Args:
        modes: ``(K, D)`` mode centres.
        num_samples: Number of points.
        std: Standard deviation of every mode.
        seed: Seed of ``numpy.random.default_rng``.

    Returns:
        ``(points, mode_index)``: ``(num_samples, D)`` float64 and ``(num_samples,)`` int.
    """
    centres = feature_matrix(modes, "modes")
    num_samples = positive_int(num_samples, "num_samples")
    if not std > 0:
        raise ValueError(f"std must be positive, got {std!r}")
    rng = np.random.default_rng(seed)
    index = rng.integers(centres.shape[0], size=num_samples)
    return centres[index] + std * rng.standard_normal((num_samples, centres.shape[1])), index


def mode_coverage(
    samples: Any,
    modes: Any,
    *,
    std: float = MIXTURE_STD,
    min_samples: int = DEFAULT_MIN_SAMPLES,
) -> dict[str, Any]:
    """Modes captured and share of high-quality samples for a Gaussian-mixture target.

    Args:
        samples: ``(N, D)`` generated points.
        modes: ``(K, D)`` mode centres, e.g. :func:`ring_modes` or :func:`grid_modes`.
        std: Standard deviation of the modes.
        min_samples: High-quality samples a mode needs to count as captured.

    Returns:
        ``modes_captured`` (int), ``num_modes`` (int), ``high_quality_fraction`` (float,
        share of samples within ``3 · std`` of their nearest mode) and ``mode_counts``
        (``(K,)`` int array of high-quality samples per mode).
    """
    points = feature_matrix(samples, "samples")
    centres = feature_matrix(modes, "modes")
    if points.shape[1] != centres.shape[1]:
        raise ValueError(
            f"samples have {points.shape[1]} coordinates but modes have {centres.shape[1]}"
        )
    if not std > 0:
        raise ValueError(f"std must be positive, got {std!r}")
    min_samples = positive_int(min_samples, "min_samples")
    distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    high_quality = distances[np.arange(points.shape[0]), nearest] <= HIGH_QUALITY_STDS * std
    counts = np.bincount(nearest[high_quality], minlength=centres.shape[0])
    return {
        "modes_captured": int((counts >= min_samples).sum()),
        "num_modes": int(centres.shape[0]),
        "high_quality_fraction": float(high_quality.mean()),
        "mode_counts": counts,
    }


def class_coverage(
    predictions: Any, num_classes: int | None = None, *, min_samples: int = 1
) -> dict[str, Any]:
    """Classes covered by predicted labels and the KL divergence of their histogram from uniform.

    Args:
        predictions: ``(N,)`` integer labels, or ``(N, K)`` class probabilities (their
            argmax is the label).
        num_classes: K; required for integer labels, checked against probabilities.
        min_samples: Samples a class needs to count as covered.

    Returns:
        ``classes_covered`` (int), ``num_classes`` (int), ``kl_from_uniform`` (float,
        ``Σ p_k log(K p_k)`` with ``0 log 0 = 0``, in ``[0, log K]``) and
        ``class_counts`` (``(K,)`` int array).
    """
    values = np.asarray(predictions)
    if values.ndim == 2:
        probs = feature_matrix(values, "predictions")
        if num_classes is not None and num_classes != probs.shape[1]:
            raise ValueError(
                f"num_classes={num_classes} but predictions have {probs.shape[1]} columns"
            )
        num_classes, labels = probs.shape[1], probs.argmax(axis=1)
    elif values.ndim == 1:
        if not np.issubdtype(values.dtype, np.integer):
            raise TypeError(
                f"1-D predictions must be integer labels, got dtype {values.dtype}; pass "
                "(N, K) probabilities for soft predictions"
            )
        if num_classes is None:
            raise ValueError("num_classes is required with integer labels")
        labels = values
    else:
        raise ValueError(
            f"predictions must be labels (N,) or probabilities (N, K), got shape {values.shape}"
        )
    num_classes = positive_int(num_classes, "num_classes")
    min_samples = positive_int(min_samples, "min_samples")
    if labels.size == 0:
        raise ValueError("predictions are empty")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}], got [{labels.min()}, {labels.max()}]"
        )
    counts = np.bincount(labels, minlength=num_classes)
    freq = counts / counts.sum()
    nonzero = freq > 0
    kl = float(np.sum(freq[nonzero] * np.log(num_classes * freq[nonzero])))
    return {
        "classes_covered": int((counts >= min_samples).sum()),
        "num_classes": num_classes,
        "kl_from_uniform": max(kl, 0.0),
        "class_counts": counts,
    }
