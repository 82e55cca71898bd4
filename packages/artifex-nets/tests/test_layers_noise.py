"""NoiseInjection: identity at init, reproducible noise, modes and sources."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.nets.layers import NoiseInjection

X = jnp.asarray(np.random.default_rng(0).normal(size=(2, 4, 4, 4)), jnp.float32)
WEIGHT = jnp.asarray([0.5, -1.0, 2.0, 0.0])


def _noise(key):
    return jax.random.normal(key, X.shape, X.dtype)


def test_zero_weight_is_the_identity():
    layer = NoiseInjection(4)
    np.testing.assert_array_equal(np.asarray(layer(X, key=jax.random.key(0))), np.asarray(X))


def test_added_noise_is_weight_times_normal_from_the_same_key():
    layer = NoiseInjection(4)
    layer.weight[...] = WEIGHT
    key = jax.random.key(3)
    difference = np.asarray(layer(X, key=key) - X)
    np.testing.assert_allclose(difference, np.asarray(WEIGHT * _noise(key)), rtol=1e-6, atol=1e-6)
    # The call's rngs: its noise stream supplies the key.
    difference = np.asarray(layer(X, rngs=nnx.Rngs(noise=5)) - X)
    expected = WEIGHT * _noise(nnx.Rngs(noise=5)["noise"]())
    np.testing.assert_allclose(difference, np.asarray(expected), rtol=1e-6, atol=1e-6)


def test_own_noise_stream_is_forked_from_the_constructor_rngs():
    layer = NoiseInjection(4, rngs=nnx.Rngs(noise=7))
    layer.weight[...] = WEIGHT
    stream = nnx.Rngs(noise=7)["noise"].fork()
    first = np.asarray(layer(X) - X)
    np.testing.assert_allclose(first, np.asarray(WEIGHT * _noise(stream())), rtol=1e-6, atol=1e-6)
    second = np.asarray(layer(X) - X)
    np.testing.assert_allclose(second, np.asarray(WEIGHT * _noise(stream())), rtol=1e-6, atol=1e-6)
    assert not np.allclose(first, second)


def test_eval_mode_adds_no_noise_unless_overridden():
    layer = NoiseInjection(4, rngs=nnx.Rngs(0))
    layer.weight[...] = WEIGHT
    layer.eval()
    assert layer.deterministic
    np.testing.assert_array_equal(np.asarray(layer(X)), np.asarray(X))
    np.testing.assert_array_equal(np.asarray(layer(X, key=jax.random.key(0))), np.asarray(X))
    assert not np.allclose(np.asarray(layer(X, training=True)), np.asarray(X))
    layer.train()
    np.testing.assert_array_equal(np.asarray(layer(X, training=False)), np.asarray(X))


def test_explicit_noise_is_applied_as_given_in_both_modes():
    layer = NoiseInjection(4, deterministic=True)
    layer.weight[...] = WEIGHT
    single_map = jnp.asarray(np.random.default_rng(1).normal(size=(2, 4, 4, 1)), jnp.float32)
    np.testing.assert_allclose(
        np.asarray(layer(X, noise=single_map) - X), np.asarray(WEIGHT * single_map), atol=1e-6
    )


def test_noise_errors():
    with pytest.raises(ValueError, match=r"NoiseInjection: num_channels must be a positive int"):
        NoiseInjection(0)
    with pytest.raises(TypeError, match=r"NoiseInjection: rngs must be an nnx.Rngs, an nnx"):
        NoiseInjection(4, rngs=jax.random.key(0))  # type: ignore[arg-type]
    layer = NoiseInjection(4)
    with pytest.raises(ValueError, match=r"NoiseInjection needs a random key in training mode"):
        layer(X)
    with pytest.raises(ValueError, match=r"NoiseInjection takes at most one of noise=, key=, rn"):
        layer(X, key=jax.random.key(0), rngs=nnx.Rngs(0))
    with pytest.raises(
        ValueError,
        match=r"NoiseInjection: noise of shape \(2, 4, 4, 2\) does not broadcast to the input "
        r"shape \(2, 4, 4, 4\)",
    ):
        layer(X, noise=jnp.ones((2, 4, 4, 2)))
    with pytest.raises(ValueError, match=r"NoiseInjection expects an NHWC input with 4 channels"):
        layer(jnp.ones((2, 4, 4, 3)), key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"NoiseInjection expects an NHWC input of rank 4"):
        layer(jnp.ones((3, 4)), key=jax.random.key(0))
