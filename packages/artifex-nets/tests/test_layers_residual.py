"""ResidualBlock and reflect_pad."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.nets.layers import ResidualBlock, reflect_pad

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    ("shape", "pad"), [((1, 5, 4, 2), 1), ((1, 5, 4, 2), 3), ((2, 2, 3, 1), 1)]
)
def test_reflect_pad_is_numpy_reflect(shape, pad):
    x = RNG.normal(size=shape).astype(np.float32)
    expected = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    np.testing.assert_array_equal(np.asarray(reflect_pad(jnp.asarray(x), pad)), expected)


@pytest.mark.parametrize(
    ("norm", "padding_mode", "size"),
    # (5, 4): an odd height and an even width in one case.
    [("instance", "reflect", (5, 4)), ("batch", "zero", (4, 4)), ("none", "reflect", (4, 4))],
)
def test_block_keeps_the_shape_and_is_the_identity_with_zero_convolutions(norm, padding_mode, size):
    block = ResidualBlock(4, norm=norm, padding_mode=padding_mode, rngs=nnx.Rngs(0))
    x = jnp.asarray(RNG.normal(size=(2, *size, 4)), jnp.float32)
    y = block(x)
    assert y.shape == x.shape
    assert not np.allclose(np.asarray(y), np.asarray(x))
    for conv in (block.conv1, block.conv2):
        conv.kernel[...] = jnp.zeros_like(conv.kernel[...])
        conv.bias[...] = jnp.zeros_like(conv.bias[...])
    np.testing.assert_allclose(np.asarray(block(x)), np.asarray(x), atol=1e-6)


def test_batch_norm_block_follows_the_mode_and_the_override():
    block = ResidualBlock(4, norm="batch", rngs=nnx.Rngs(0))
    x = jnp.asarray(RNG.normal(size=(2, 4, 4, 4)) + 3.0, jnp.float32)
    mean0 = np.asarray(block.norm1.mean[...])
    block.eval()
    block(x)
    np.testing.assert_array_equal(np.asarray(block.norm1.mean[...]), mean0)
    block(x, training=True)
    mean1 = np.asarray(block.norm1.mean[...])
    assert not np.allclose(mean1, mean0)
    block.train()
    block(x, training=False)
    np.testing.assert_array_equal(np.asarray(block.norm1.mean[...]), mean1)


def test_residual_errors():
    with pytest.raises(
        ValueError,
        match=r"ResidualBlock: padding_mode must be one of 'reflect', 'zero', got 'circular'",
    ):
        ResidualBlock(4, padding_mode="circular", rngs=nnx.Rngs(0))  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"ResidualBlock: norm must be one of 'instance', 'batch', 'none'"
    ):
        ResidualBlock(4, norm="layer", rngs=nnx.Rngs(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ResidualBlock: channels must be a positive int, got 0"):
        ResidualBlock(0, rngs=nnx.Rngs(0))
    block = ResidualBlock(4, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"ResidualBlock expects an NHWC input with 4 channels"):
        block(jnp.ones((2, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"ResidualBlock with padding_mode='reflect' needs a"):
        block(jnp.ones((1, 1, 5, 4)))
    with pytest.raises(ValueError, match=r"reflect_pad: pad=2 must be smaller than the height"):
        reflect_pad(jnp.ones((1, 2, 5, 1)), 2)
    with pytest.raises(ValueError, match=r"reflect_pad: pad must be an int >= 0, got -1"):
        reflect_pad(jnp.ones((1, 4, 4, 1)), -1)
    with pytest.raises(ValueError, match=r"reflect_pad expects an NHWC input of rank 4"):
        reflect_pad(jnp.ones((4, 4)), 1)
