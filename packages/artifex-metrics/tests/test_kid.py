"""KID: the unbiased estimator, its subsets, its unbiasedness and its errors."""

import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    KernelInceptionDistance,
    kernel_inception_distance,
    polynomial_mmd2_unbiased,
)


def loop_mmd2(x, y):
    """The definition, term by term."""
    m, d = x.shape

    def k(a, b):
        return (a @ b / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_estimator_matches_its_definition(rng):
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 0.5
    assert polynomial_mmd2_unbiased(x, y) == pytest.approx(loop_mmd2(x, y), rel=1e-12)


def test_full_size_subsets_all_give_the_full_estimate(rng):
    x, y = rng.normal(size=(12, 4)), rng.normal(size=(15, 4)) * 2
    result = kernel_inception_distance(x, y, subsets=5, subset_size=12)
    # Every subset of x is x itself (permuted); y's subsets differ, so compare one draw.
    assert result["kid_std"] >= 0
    same = kernel_inception_distance(x, y[:12], subsets=4, subset_size=12)
    assert same["kid_mean"] == pytest.approx(polynomial_mmd2_unbiased(x, y[:12]), rel=1e-10)
    assert same["kid_std"] == pytest.approx(0.0, abs=1e-10)


def test_unbiased_for_two_samples_of_one_distribution():
    # The estimator's mean over many independent pairs from one distribution must be 0.
    # With 400 pairs its standard error is std/20: |mean| < 4 standard errors fails by
    # chance with probability ~6e-5. The biased (V-statistic) estimate has a positive
    # mean of order (E k(x,x) - E k(x,x')) / m, here far beyond that band: the test can fail.
    rng = np.random.default_rng(7)
    m, d, trials = 16, 3, 400
    unbiased, biased = [], []
    for _ in range(trials):
        x, y = rng.normal(size=(m, d)), rng.normal(size=(m, d))
        unbiased.append(polynomial_mmd2_unbiased(x, y))
        k_xx, k_yy, k_xy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        biased.append(k_xx.mean() + k_yy.mean() - 2 * k_xy.mean())
    unbiased, biased = np.array(unbiased), np.array(biased)
    assert abs(unbiased.mean()) < 4 * unbiased.std() / np.sqrt(trials)
    assert biased.mean() > 10 * biased.std() / np.sqrt(trials)


def test_positive_for_different_distributions(rng):
    x, y = rng.normal(size=(200, 3)), rng.normal(size=(200, 3)) + 1.0
    result = kernel_inception_distance(x, y, subsets=10, subset_size=100)
    assert result["kid_mean"] > 5 * result["kid_std"] > 0


def test_class_api_matches_function(rng, flatten):
    real = rng.normal(size=(40, 2)).astype(np.float32)
    fake = rng.normal(size=(30, 2)).astype(np.float32) + 0.5
    kid = KernelInceptionDistance(flatten, subsets=8, subset_size=20, seed=3, batch_size=16)
    expected = kernel_inception_distance(real, fake, subsets=8, subset_size=20, seed=3)
    assert kid.compute(real, fake) == pytest.approx(expected, rel=1e-12)
    kid.update(real, real=True)
    kid.update([fake[:10], fake[10:]], real=False)
    assert kid.result() == pytest.approx(expected, rel=1e-12)
    kid.reset(keep_real=True)
    with pytest.raises(ValueError, match="no fake images"):
        kid.result()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"subset_size": 11}, ValueError, r"subset_size=11 exceeds the 10 real samples"),
        ({"subset_size": 1}, ValueError, "subset_size must be an integer >= 2"),
        ({"subsets": 0}, ValueError, "subsets must be an integer >= 1"),
        ({"subsets": True}, TypeError, "subsets must be an integer"),
    ],
)
def test_bad_arguments_are_refused(rng, kwargs, error, message):
    with pytest.raises(error, match=message):
        kernel_inception_distance(rng.normal(size=(10, 2)), rng.normal(size=(12, 2)), **kwargs)


def test_mismatched_dimensions_are_refused(rng):
    with pytest.raises(ValueError, match="same feature dimension, got 2 and 3"):
        kernel_inception_distance(rng.normal(size=(10, 2)), rng.normal(size=(10, 3)), subset_size=5)
