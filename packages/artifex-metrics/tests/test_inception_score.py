"""Inception Score: closed forms, an independent SciPy computation, splits and errors."""

import jax
import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import InceptionScore, inception_score

scipy_stats = pytest.importorskip("scipy.stats")


def test_identical_predictions_score_one(rng):
    row = rng.dirichlet(np.ones(7))
    result = inception_score(np.tile(row, (40, 1)), splits=4)
    assert result["is_mean"] == pytest.approx(1.0, abs=1e-12)
    assert result["is_std"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("splits", [1, 3])
def test_confident_uniform_predictions_score_k(splits):
    k = 6
    labels = np.tile(np.arange(k), 5 * splits)  # every split holds each class equally often
    result = inception_score(np.eye(k)[labels], splits=splits)
    assert result["is_mean"] == pytest.approx(k, rel=1e-12)
    assert result["is_std"] == pytest.approx(0.0, abs=1e-9)


def test_equals_independent_scipy_computation(rng):
    probs = rng.dirichlet(np.full(5, 0.3), size=101)
    splits = 4
    scores = []
    for part in np.array_split(np.arange(101), [101 * i // splits for i in range(1, splits)]):
        p = probs[part]
        kl = [scipy_stats.entropy(row, p.mean(0)) for row in p]
        scores.append(np.exp(np.mean(kl)))
    result = inception_score(probs, splits=splits)
    assert result["is_mean"] == pytest.approx(np.mean(scores), rel=1e-10)
    assert result["is_std"] == pytest.approx(np.std(scores), rel=1e-8)


def test_class_api_matches_function_and_streams(rng):
    logits = rng.normal(size=(50, 4)).astype(np.float32) * 3
    metric = InceptionScore(classifier=lambda x: jax.nn.softmax(x, axis=-1), batch_size=16)
    probs = np.asarray(jax.nn.softmax(logits, axis=-1), dtype=np.float64)
    expected = inception_score(probs, splits=5)
    assert metric.compute(logits, splits=5) == pytest.approx(expected, rel=1e-6)
    metric.update(logits[:20])
    metric.update(iter([logits[20:35], logits[35:]]))
    assert metric.result(splits=5) == pytest.approx(expected, rel=1e-6)
    metric.reset()
    with pytest.raises(ValueError, match="call update"):
        metric.result()


@pytest.mark.parametrize(
    ("probs", "splits", "error", "message"),
    [
        (np.array([[2.0, -1.0]]), 1, ValueError, "did you pass logits"),
        (np.array([[0.2, 0.2]]), 1, ValueError, "must sum to 1"),
        (np.array([[0.5, np.nan]]), 1, ValueError, "NaN"),
        (np.ones(3) / 3, 1, ValueError, "2-D array"),
        (np.eye(3), 0, ValueError, "splits must be an integer >= 1, got 0"),
        (np.eye(3), 2.5, TypeError, "splits must be an integer"),
        (np.eye(3), 4, ValueError, r"at most the number of samples \(3\)"),
    ],
)
def test_bad_inputs_are_refused(probs, splits, error, message):
    with pytest.raises(error, match=message):
        inception_score(probs, splits=splits)
