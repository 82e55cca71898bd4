"""Improved precision and recall on constructed point sets and against a brute-force version."""

import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    PrecisionRecall,
    knn_radii,
    precision_recall,
)

scipy_distance = pytest.importorskip("scipy.spatial.distance")


def brute_force(real, fake, k):
    def radii(points):
        return np.sort(scipy_distance.cdist(points, points), axis=1)[:, k]

    def inside(centres, r, queries):
        return (scipy_distance.cdist(queries, centres) <= r[None, :]).any(axis=1)

    return inside(real, radii(real), fake).mean(), inside(fake, radii(fake), real).mean()


def test_constructed_line():
    # Real points 0..4: with k=1 every ball has radius 1, so the real manifold is [-1, 5].
    real = np.arange(5.0)[:, None]
    fake = np.array([0.5, 2.2, 4.9, 10.0, -3.0])[:, None]
    np.testing.assert_allclose(knn_radii(real, k=1), np.ones(5))
    # Fake radii (k=1): 3.5, 1.7, 1.7, 2.7, 5.1: their balls cover every real point.
    result = precision_recall(real, fake, k=1)
    assert result == {"precision": 3 / 5, "recall": 1.0}


def test_mode_collapse_keeps_precision_and_loses_recall(rng):
    real = np.concatenate([rng.normal(size=(50, 2)) * 0.1 + c for c in ([0, 0], [5, 5])])
    fake = rng.normal(size=(50, 2)) * 0.05  # only the first cluster, tightly
    result = precision_recall(real, fake, k=3)
    assert result["precision"] == 1.0
    assert result["recall"] <= 0.5  # the second cluster's 50 points are far from every fake ball


def test_equals_brute_force(rng):
    real, fake = rng.normal(size=(70, 5)), rng.normal(size=(60, 5)) * 1.3 + 0.2
    got = precision_recall(real, fake, k=3)
    expected = brute_force(real, fake, 3)
    assert (got["precision"], got["recall"]) == pytest.approx(expected, abs=0)


def test_chunked_distances_match(rng, monkeypatch):
    from artifex.generative_models.core.evaluation.metrics import _precision_recall as module

    real, fake = rng.normal(size=(45, 3)), rng.normal(size=(33, 3))
    whole = precision_recall(real, fake)
    monkeypatch.setattr(module, "ROWS_PER_CHUNK", 8)
    assert precision_recall(real, fake) == whole


def test_class_api(rng, flatten):
    real = rng.normal(size=(30, 2)).astype(np.float32)
    fake = rng.normal(size=(20, 2)).astype(np.float32)
    metric = PrecisionRecall(flatten, k=2, batch_size=8)
    assert metric.compute(real, fake) == precision_recall(real, fake, k=2)


def test_too_few_samples_are_refused(rng):
    with pytest.raises(ValueError, match="need more than 3 fake samples, got 3"):
        precision_recall(rng.normal(size=(10, 2)), rng.normal(size=(3, 2)), k=3)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        precision_recall(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)), k=0)
