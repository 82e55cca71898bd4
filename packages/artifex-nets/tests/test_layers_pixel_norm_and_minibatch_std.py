"""PixelNorm and MinibatchStdDev against NumPy formulas."""

import jax.numpy as jnp
import numpy as np
import pytest

from artifex.generative_models.nets.layers import MinibatchStdDev, PixelNorm

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 4, 4, 4)).astype(np.float32)


def test_pixel_norm_matches_numpy_on_feature_maps_and_vectors():
    expected = X / np.sqrt(np.mean(X.astype(np.float64) ** 2, axis=-1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(np.asarray(PixelNorm()(jnp.asarray(X))), expected, rtol=1e-5)
    vectors = X.reshape(4, -1)
    expected = vectors / np.sqrt(np.mean(vectors**2, axis=-1, keepdims=True) + 1e-3)
    got = PixelNorm(eps=1e-3)(jnp.asarray(vectors))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)
    # Each pixel's feature vector has unit root-mean-square; zeros stay zero.
    rms = np.sqrt(np.mean(np.asarray(PixelNorm()(jnp.asarray(X))) ** 2, axis=-1))
    np.testing.assert_allclose(rms, 1.0, rtol=1e-5)
    assert not np.any(np.asarray(PixelNorm()(jnp.zeros_like(X))))


def test_pixel_norm_errors():
    with pytest.raises(
        ValueError, match=r"PixelNorm expects an NHWC input of rank 4 .*, got shape \(3, 5, 2\)"
    ):
        PixelNorm()(jnp.ones((3, 5, 2)))
    with pytest.raises(ValueError, match=r"PixelNorm: eps must be a finite number > 0, got 0"):
        PixelNorm(eps=0)
    with pytest.raises(TypeError, match=r"PixelNorm: eps must be a float, got '1e-8'"):
        PixelNorm(eps="1e-8")  # type: ignore[arg-type]


def _minibatch_std_reference(x, group_size, num_new_features, eps=1e-8):
    """Direct loops: sample i is in group i mod (N / G); channel slices of C / F."""
    x = x.astype(np.float64)
    n, h, w, c = x.shape
    g = min(group_size, n)
    m = n // g
    per_slice = c // num_new_features
    out = np.zeros((n, h, w, num_new_features))
    for i in range(n):
        members = x[[j for j in range(n) if j % m == i % m]]
        for f in range(num_new_features):
            block = members[..., f * per_slice : (f + 1) * per_slice]
            out[i, :, :, f] = np.mean(np.sqrt(np.var(block, axis=0) + eps))
    return np.concatenate([x, out], axis=-1)


@pytest.mark.parametrize(("group_size", "num_new_features"), [(2, 1), (2, 2), (4, 1), (1, 2)])
def test_minibatch_std_matches_numpy(group_size, num_new_features):
    layer = MinibatchStdDev(group_size, num_new_features)
    got = np.asarray(layer(jnp.asarray(X)))
    assert got.shape == (4, 4, 4, 4 + num_new_features)
    np.testing.assert_allclose(
        got, _minibatch_std_reference(X, group_size, num_new_features), rtol=1e-5, atol=1e-6
    )


def test_groups_are_strided_like_stylegan2():
    # Samples 0 and 2 form one group and are equal: their feature is sqrt(eps).
    x = X.copy()
    x[2] = x[0]
    got = np.asarray(MinibatchStdDev(group_size=2)(jnp.asarray(x)))
    np.testing.assert_allclose(got[[0, 2], ..., -1], 1e-4, rtol=1e-3)
    assert np.all(got[[1, 3], ..., -1] > 0.1)


def test_group_larger_than_batch_uses_the_whole_batch_like_the_seed():
    x = X[:3]
    got = np.asarray(MinibatchStdDev(group_size=4)(jnp.asarray(x)))
    # The progressive-GAN example's minibatch_std: the mean over the batch std.
    seed_value = np.mean(np.std(x.astype(np.float64), axis=0))
    np.testing.assert_allclose(got[..., -1], seed_value, rtol=1e-5)
    np.testing.assert_array_equal(got[..., :4], x)


def test_minibatch_std_errors():
    with pytest.raises(
        ValueError, match=r"MinibatchStdDev: group_size=3 must divide the batch size 4"
    ):
        MinibatchStdDev(group_size=3)(jnp.asarray(X))
    with pytest.raises(
        ValueError,
        match=r"MinibatchStdDev: num_new_features=3 must divide the number of channels 4",
    ):
        MinibatchStdDev(2, 3)(jnp.asarray(X))
    with pytest.raises(
        ValueError, match=r"MinibatchStdDev expects an NHWC input of rank 4, got shape \(4, 4\)"
    ):
        MinibatchStdDev()(jnp.ones((4, 4)))
    with pytest.raises(ValueError, match=r"MinibatchStdDev: group_size must be a positive int"):
        MinibatchStdDev(group_size=0)
    with pytest.raises(ValueError, match=r"MinibatchStdDev: num_new_features must be a positive"):
        MinibatchStdDev(num_new_features=-1)
    with pytest.raises(TypeError, match=r"MinibatchStdDev: group_size must be an int, got True"):
        MinibatchStdDev(group_size=True)
    with pytest.raises(ValueError, match=r"MinibatchStdDev: eps must be a finite number > 0"):
        MinibatchStdDev(eps=float("nan"))
