"""AdaptiveInstanceNorm and ModulatedConv against NumPy formulas."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.nets.layers import AdaptiveInstanceNorm, ModulatedConv

RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 4, 4, 4)).astype(np.float32)
STYLE = RNG.normal(size=(2, 3)).astype(np.float32)


def _dense(layer, x):
    return x @ np.asarray(layer.kernel[...], np.float64) + np.asarray(layer.bias[...])


def test_adain_matches_the_seed_formula_in_numpy():
    layer = AdaptiveInstanceNorm(4, 3, rngs=nnx.Rngs(0))
    x = X.astype(np.float64)
    normalized = (x - x.mean(axis=(1, 2), keepdims=True)) / np.sqrt(
        x.var(axis=(1, 2), keepdims=True) + 1e-8
    )
    scale = _dense(layer.style_scale, STYLE)[:, None, None, :]
    bias = _dense(layer.style_bias, STYLE)[:, None, None, :]
    expected = normalized * (1 + scale) + bias
    got = layer(jnp.asarray(X), jnp.asarray(STYLE))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-4, atol=1e-5)


def test_adain_errors():
    with pytest.raises(ValueError, match=r"AdaptiveInstanceNorm: num_features must be a positive"):
        AdaptiveInstanceNorm(0, 3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"AdaptiveInstanceNorm: eps must be a finite number > 0"):
        AdaptiveInstanceNorm(4, 3, eps=-1.0, rngs=nnx.Rngs(0))
    layer = AdaptiveInstanceNorm(4, 3, rngs=nnx.Rngs(0))
    with pytest.raises(
        ValueError, match=r"AdaptiveInstanceNorm expects an NHWC input with 4 channels"
    ):
        layer(jnp.ones((2, 4, 4, 3)), jnp.asarray(STYLE))
    with pytest.raises(ValueError, match=r"AdaptiveInstanceNorm expects an NHWC input of rank 4"):
        layer(jnp.ones((4, 4, 4)), jnp.asarray(STYLE))
    with pytest.raises(
        ValueError,
        match=r"AdaptiveInstanceNorm expects a style of shape \(batch, style_dim\) = \(2, 3\), "
        r"got shape \(2, 5\)",
    ):
        layer(jnp.asarray(X), jnp.ones((2, 5)))


def _modulated_conv_reference(layer, x, style, *, demodulate, upsample):
    """Per-sample modulated (and demodulated) kernels, zero SAME padding, explicit loops."""
    x = x.astype(np.float64)
    if upsample:
        x = x.repeat(2, axis=1).repeat(2, axis=2)
    # EqualizedLinear applies its scales at run time.
    s = style @ (np.asarray(layer.affine.kernel[...], np.float64) * layer.affine.weight_scale)
    s = s + np.asarray(layer.affine.bias[...]) * layer.affine.lr_multiplier
    weight = np.asarray(layer.kernel[...], np.float64) * layer.weight_scale
    k = weight.shape[0]
    pad = k // 2
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, w, _ = x.shape
    out = np.zeros((n, h, w, weight.shape[-1]))
    for b in range(n):
        wb = weight * s[b][None, None, :, None]
        if demodulate:
            wb = wb / np.sqrt(np.sum(wb**2, axis=(0, 1, 2), keepdims=True) + 1e-8)
        for i in range(h):
            for j in range(w):
                out[b, i, j] = np.einsum("hwc,hwco->o", padded[b, i : i + k, j : j + k], wb)
    return out + np.asarray(layer.bias[...])


@pytest.mark.parametrize(("demodulate", "upsample"), [(True, False), (False, False), (True, True)])
def test_modulated_conv_matches_per_sample_kernels(demodulate, upsample):
    layer = ModulatedConv(4, 4, 3, 3, demodulate=demodulate, upsample=upsample, rngs=nnx.Rngs(0))
    layer.bias[...] = jnp.asarray(RNG.normal(size=4), jnp.float32)
    got = np.asarray(layer(jnp.asarray(X), jnp.asarray(STYLE)))
    expected = _modulated_conv_reference(layer, X, STYLE, demodulate=demodulate, upsample=upsample)
    assert got.shape == ((2, 8, 8, 4) if upsample else (2, 4, 4, 4))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_demodulated_output_has_unit_variance_per_channel():
    layer = ModulatedConv(4, 4, 3, 3, rngs=nnx.Rngs(1))
    # Styles far from the initial s ≈ 1, so only demodulation can bring the variance to 1.
    layer.affine.bias[...] = jnp.asarray([5.0, 0.2, 3.0, 1.0])
    # Its own generator (the module's RNG depends on which tests ran before on this
    # worker), and maps large enough that the sample variance is within ~0.1 of the true
    # one (at 24x24 one draw in ten strayed past the tolerance).
    x = np.random.default_rng(7).normal(size=(2, 48, 48, 4)).astype(np.float32)
    y = np.asarray(layer(jnp.asarray(x), jnp.asarray(STYLE)))[:, 1:-1, 1:-1, :]  # no padding
    variances = y.reshape(2, -1, 4).var(axis=1)
    np.testing.assert_allclose(variances, 1.0, atol=0.2)


def test_modulated_conv_errors():
    with pytest.raises(ValueError, match=r"ModulatedConv: style_dim must be a positive int"):
        ModulatedConv(4, 4, 3, 0, rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match=r"ModulatedConv: demodulate must be a bool, got 'yes'"):
        ModulatedConv(4, 4, 3, 3, demodulate="yes", rngs=nnx.Rngs(0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ModulatedConv: kernel_size must be a positive int"):
        ModulatedConv(4, 4, 0, 3, rngs=nnx.Rngs(0))
    layer = ModulatedConv(4, 4, 3, 3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"ModulatedConv expects an NHWC input with 4 channels"):
        layer(jnp.ones((2, 4, 4, 2)), jnp.asarray(STYLE))
    with pytest.raises(
        ValueError, match=r"ModulatedConv expects a style of shape \(batch, style_dim\) = \(2, 3\)"
    ):
        layer(jnp.asarray(X), jnp.ones((3, 3)))
