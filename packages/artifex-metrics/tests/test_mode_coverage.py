"""Mode coverage of 2-D Gaussian mixtures and class coverage of labels."""

import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    MIXTURE_STD,
    class_coverage,
    grid_modes,
    mode_coverage,
    ring_modes,
    sample_mixture,
)


def test_standard_mixtures():
    ring = ring_modes()
    assert ring.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0)
    np.testing.assert_allclose(ring[2], [0.0, 2.0], atol=1e-15)
    grid = grid_modes()
    assert grid.shape == (25, 2)
    assert sorted(set(grid[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert MIXTURE_STD == 0.02


def test_true_samples_capture_every_mode():
    # In 2-D, P(|x - mode| <= 3 std) = 1 - exp(-9/2) ≈ 0.98889 (a Rayleigh distribution).
    points, _ = sample_mixture(grid_modes(), 5000, seed=1)
    result = mode_coverage(points, grid_modes())
    assert result["modes_captured"] == 25
    expected = 1 - np.exp(-4.5)
    tolerance = 4 * np.sqrt(expected * (1 - expected) / 5000)
    assert result["high_quality_fraction"] == pytest.approx(expected, abs=tolerance)


def test_constructed_samples():
    modes = ring_modes()
    offset = np.array([0.03, 0.04])  # 0.05 from its mode: within 3 std = 0.06
    points = [np.repeat(modes[i : i + 1] + offset, 20, axis=0) for i in range(4)]
    points.append(np.repeat(modes[4:5], 19, axis=0))  # one short of min_samples
    # 0.07 from its mode: beyond 3 std, low quality.
    points.append(np.repeat(modes[5:6] + np.array([0.07, 0.0]), 30, axis=0))
    points.append(np.zeros((11, 2)))  # far from every mode
    result = mode_coverage(np.concatenate(points), modes, min_samples=20)
    assert result["modes_captured"] == 4
    assert result["num_modes"] == 8
    assert result["high_quality_fraction"] == pytest.approx(99 / 140)
    np.testing.assert_array_equal(result["mode_counts"], [20, 20, 20, 20, 19, 0, 0, 0])


def test_mode_coverage_errors():
    with pytest.raises(ValueError, match="samples have 3 coordinates but modes have 2"):
        mode_coverage(np.zeros((4, 3)), ring_modes())
    with pytest.raises(ValueError, match="std must be positive"):
        mode_coverage(np.zeros((4, 2)), ring_modes(), std=0.0)
    with pytest.raises(ValueError, match="NaN"):
        mode_coverage(np.full((4, 2), np.nan), ring_modes())


def test_class_coverage_of_labels():
    uniform = class_coverage(np.tile(np.arange(10), 3), num_classes=10)
    assert (uniform["classes_covered"], uniform["kl_from_uniform"]) == (10, 0.0)
    collapsed = class_coverage(np.full(30, 7), num_classes=10)
    assert collapsed["classes_covered"] == 1
    assert collapsed["kl_from_uniform"] == pytest.approx(np.log(10))
    partial = class_coverage(np.array([0, 0, 1, 2]), num_classes=4)
    assert partial["classes_covered"] == 3
    assert partial["kl_from_uniform"] == pytest.approx(0.5 * np.log(2))
    np.testing.assert_array_equal(partial["class_counts"], [2, 1, 1, 0])
    assert class_coverage(np.array([0, 0, 1, 2]), 4, min_samples=2)["classes_covered"] == 1


def test_class_coverage_of_probabilities():
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    result = class_coverage(probs)
    assert result["num_classes"] == 3
    np.testing.assert_array_equal(result["class_counts"], [2, 1, 0])


@pytest.mark.parametrize(
    ("predictions", "num_classes", "error", "message"),
    [
        (np.array([0.5, 1.0]), 3, TypeError, "must be integer labels"),
        (np.array([0, 3]), 3, ValueError, r"labels must lie in \[0, 2\]"),
        (np.array([0, 1]), None, ValueError, "num_classes is required"),
        (np.eye(3), 4, ValueError, "num_classes=4 but predictions have 3 columns"),
        (np.zeros((2, 2, 2)), 2, ValueError, "labels .N,. or probabilities"),
        (np.array([], dtype=int), 2, ValueError, "empty"),
    ],
)
def test_class_coverage_errors(predictions, num_classes, error, message):
    with pytest.raises(error, match=message):
        class_coverage(predictions, num_classes)
