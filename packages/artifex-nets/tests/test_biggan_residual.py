"""BigGAN's residual blocks (``blocks="residual"``) against NumPy formulas.

Up-block skip path: x2 nearest upsampling, then a 1x1 convolution; down-block: activation,
3x3 convolution, activation, 3x3 convolution, 2x2 average pooling, plus the 1x1-convolved,
pooled input (the first block without the leading activation). Tiny widths, eager calls.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import ConditionalParams
from artifex.generative_models.nets.biggan import (
    BigGANDiscriminator,
    BigGANGenerator,
    ResidualDownBlock,
    ResidualUpBlock,
)
from artifex.generative_models.nets.layers.spectral_norm import SpectralNorm

RNG = np.random.default_rng(0)
LABELS = ConditionalParams(num_classes=4, embedding_dim=6)
RESIDUAL = {"blocks": "residual", "data_format": "NHWC", "conditional": LABELS}


def _np(x):
    return np.asarray(x, np.float64)


def _upsample(x):
    return np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)


def _pool(x):
    b, h, w, c = x.shape
    return x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def _conv(x, layer):
    """A stride-1 "SAME" convolution of an NHWC map with ``layer``'s kernel and bias."""
    kernel, bias = _np(layer.kernel[...]), _np(layer.bias[...])
    k = kernel.shape[0]
    padded = np.pad(x, ((0, 0), (k // 2, k // 2), (k // 2, k // 2), (0, 0)))
    h, w = x.shape[1:3]
    out = sum(padded[:, i : i + h, j : j + w, :] @ kernel[i, j] for i in range(k) for j in range(k))
    return out + bias


def _relu(x):
    return np.maximum(x, 0.0)


def test_up_block_skip_path_is_the_upsampled_input_through_a_1x1_convolution():
    block = ResidualUpBlock(3, 5, 6, rngs=nnx.Rngs(0))
    # A fixed 1x1 kernel and bias; the main path's last convolution zeroed, so the block's
    # output is its skip path alone.
    kernel = np.arange(15, dtype=np.float32).reshape(1, 1, 3, 5) / 10 - 0.7
    block.skip.kernel[...] = jnp.asarray(kernel)
    block.skip.bias[...] = jnp.asarray(np.linspace(-1, 1, 5, dtype=np.float32))
    block.conv2.kernel[...] = jnp.zeros_like(block.conv2.kernel[...])
    block.conv2.bias[...] = jnp.zeros_like(block.conv2.bias[...])
    x = RNG.normal(size=(2, 4, 4, 3)).astype(np.float32)
    condition = jnp.asarray(RNG.normal(size=(2, 6)), jnp.float32)
    # One compiled call: cheaper than the block's many small eager operations (CI time).
    out = nnx.jit(lambda b, x, c: b(x, c, act=jax.nn.relu, training=True))(
        block, jnp.asarray(x), condition
    )
    expected = _upsample(_np(x)) @ _np(kernel)[0, 0] + np.linspace(-1, 1, 5)
    assert out.shape == (2, 8, 8, 5)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("preactivation", [False, True])
def test_down_block_matches_numpy(preactivation):
    block = ResidualDownBlock(2, 3, preactivation=preactivation, rngs=nnx.Rngs(1))
    x = RNG.normal(size=(2, 8, 8, 2)).astype(np.float32)
    out = nnx.jit(lambda b, x: b(x, act=jax.nn.relu, training=False))(block, jnp.asarray(x))
    h = _relu(_np(x)) if preactivation else _np(x)
    main = _pool(_conv(_relu(_conv(h, block.conv1)), block.conv2))
    skip = _pool(_conv(_np(x), block.skip))  # 1x1: pooling first or last is the same map
    assert out.shape == (2, 4, 4, 3)
    np.testing.assert_allclose(out, main + skip, rtol=1e-4, atol=1e-4)


def _abstract(make):
    """The network ``make()`` builds, with shapes in place of values (no eager init: CI time)."""
    return nnx.eval_shape(make)


def _output_shape(network, *args):
    """The shape ``network(*args, training=False)`` returns, by tracing only (no compilation)."""
    graphdef, state = nnx.split(network)
    call = lambda s, *a: nnx.merge(graphdef, s)(*a, training=False)  # noqa: E731
    return jax.eval_shape(call, state, *args).shape


@pytest.mark.parametrize("size", [8, 16])
def test_residual_networks_plan_and_produce_their_shapes(size):
    g = _abstract(
        lambda: BigGANGenerator(
            hidden_dims=(8, 4),
            latent_dim=6,
            output_shape=(size, size, 1),
            hierarchical_latent=True,
            self_attention_at=size // 2,
            rngs=nnx.Rngs(0),
            **RESIDUAL,
        )
    )
    quarter, half = size // 4, size // 2
    assert g.feature_sizes == ((quarter, quarter), (half, half), (size, size))
    assert g.attention_index == 0 and g.projection.layer.in_features == 2
    # One condition per block: the shared embedding and the block's chunk of z.
    assert [b.norm1.gain.layer.in_features for b in g.blocks] == [6 + 2, 6 + 2]
    assert [b.conv2.layer.kernel.shape[-1] for b in g.blocks] == [8, 4]
    # Shapes by tracing only (eval mode, so nothing is updated).
    labels = jnp.array([0, 3])
    z = jax.ShapeDtypeStruct((2, 6), jnp.float32)
    images = jax.ShapeDtypeStruct(_output_shape(g, z, labels), jnp.float32)
    assert images.shape == (2, size, size, 1)

    d = _abstract(
        lambda: BigGANDiscriminator(
            hidden_dims=(4, 8), input_shape=(size, size, 1), self_attention_at=half,
            rngs=nnx.Rngs(1), **{**RESIDUAL, "conditional": LABELS.replace(embedding_dim=8)},
        )
    )  # fmt: skip
    assert d.feature_sizes == ((size, size), (half, half), (quarter, quarter))
    assert [b.preactivation for b in d.blocks] == [False, True]
    graphdef, state = nnx.split(d)
    features = jax.eval_shape(lambda s, x: nnx.merge(graphdef, s).features(x, False), state, images)
    assert features.shape == (2, 8)
    assert _output_shape(d, images, labels) == (2,)


def test_every_residual_discriminator_convolution_is_spectrally_normalized():
    d = _abstract(
        lambda: BigGANDiscriminator(
            hidden_dims=(4, 8), input_shape=(8, 8, 1), self_attention_at=4, rngs=nnx.Rngs(0),
            **{**RESIDUAL, "conditional": LABELS.replace(embedding_dim=8)},
        )
    )  # fmt: skip
    convs = {id(n) for _, n in nnx.iter_graph(d) if isinstance(n, nnx.Conv)}
    wrapped = {id(n.layer) for _, n in nnx.iter_graph(d) if isinstance(n, SpectralNorm)}
    # 3 per block (two 3x3, the 1x1 skip) and the attention's 4; the head's psi as well.
    assert len(convs) == 2 * 3 + 4 and convs <= wrapped
    assert id(d.head.psi.layer) in wrapped


def test_residual_networks_refuse_sizes_their_blocks_cannot_halve():
    with pytest.raises(
        ValueError,
        match=r"BigGANGenerator: blocks='residual' resamples by 2 in each of the 3 blocks, "
        r"so the image height and width must be divisible by 8; got 12x12",
    ):
        BigGANGenerator(
            hidden_dims=(8, 8, 4), latent_dim=6, output_shape=(12, 12, 1), rngs=nnx.Rngs(0),
            **RESIDUAL,
        )  # fmt: skip
    with pytest.raises(ValueError, match=r"BigGANDiscriminator: .*divisible by 4; got 6x6"):
        BigGANDiscriminator(
            hidden_dims=(4, 6), input_shape=(6, 6, 1), rngs=nnx.Rngs(0),
            **RESIDUAL,
        )  # fmt: skip
