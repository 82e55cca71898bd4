"""EqualizedLinear and EqualizedConv: run-time He scaling, lr multiplier, NumPy reference."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.nets.layers import EqualizedConv, EqualizedLinear

RNG = np.random.default_rng(0)


def _conv_reference(x, w, stride, pad):
    """Zero-padded NHWC cross-correlation by explicit loops."""
    x = np.pad(x.astype(np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    kh, kw = w.shape[:2]
    out_h = (x.shape[1] - kh) // stride + 1
    out_w = (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, w.shape[-1]))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[:, i, j, :] = np.einsum("nhwc,hwco->no", patch, w)
    return out


def test_linear_matches_numpy_with_run_time_scaling():
    layer = EqualizedLinear(3, 4, lr_multiplier=0.5, bias_init=0.3, rngs=nnx.Rngs(0))
    x = RNG.normal(size=(2, 3)).astype(np.float32)
    scale = math.sqrt(2.0) * 0.5 / math.sqrt(3)
    kernel = np.asarray(layer.kernel[...], np.float64)
    expected = x @ (kernel * scale) + np.asarray(layer.bias[...]) * 0.5
    np.testing.assert_allclose(np.asarray(layer(jnp.asarray(x))), expected, rtol=1e-5, atol=1e-6)
    # The effective bias starts at bias_init whatever the multiplier.
    np.testing.assert_allclose(np.asarray(layer.bias[...]) * 0.5, 0.3, rtol=1e-6)
    assert layer.weight_scale == pytest.approx(scale)


def test_stored_weights_are_unit_normal_and_effective_weights_have_he_std():
    layer = EqualizedLinear(256, 64, rngs=nnx.Rngs(0))
    stored = np.asarray(layer.kernel[...])
    assert abs(stored.std() - 1.0) < 0.03 and abs(stored.mean()) < 0.03
    effective_std = (stored * layer.weight_scale).std()
    assert effective_std == pytest.approx(math.sqrt(2.0 / 256), rel=0.03)
    slow = EqualizedLinear(256, 64, lr_multiplier=0.01, rngs=nnx.Rngs(0))
    assert np.asarray(slow.kernel[...]).std() == pytest.approx(100.0, rel=0.03)
    assert (np.asarray(slow.kernel[...]) * slow.weight_scale).std() == pytest.approx(
        math.sqrt(2.0 / 256), rel=0.03
    )


def test_linear_without_bias():
    layer = EqualizedLinear(3, 4, use_bias=False, gain=1.0, rngs=nnx.Rngs(0))
    assert layer.bias is None
    x = RNG.normal(size=(2, 3)).astype(np.float32)
    expected = x @ (np.asarray(layer.kernel[...]) / math.sqrt(3))
    np.testing.assert_allclose(np.asarray(layer(jnp.asarray(x))), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("strides", "padding", "pad"), [(1, "SAME", 1), (2, 1, 1), (1, "VALID", 0)]
)
def test_conv_matches_numpy(strides, padding, pad):
    layer = EqualizedConv(
        4, 4, 3, strides=strides, padding=padding, bias_init=0.1, rngs=nnx.Rngs(0)
    )
    x = RNG.normal(size=(2, 5, 5, 4)).astype(np.float32)
    scale = math.sqrt(2.0) / math.sqrt(3 * 3 * 4)
    expected = _conv_reference(x, np.asarray(layer.kernel[...]) * scale, strides, pad) + 0.1
    np.testing.assert_allclose(np.asarray(layer(jnp.asarray(x))), expected, rtol=1e-4, atol=1e-5)


def test_linear_errors():
    with pytest.raises(ValueError, match=r"EqualizedLinear: in_features must be a positive int"):
        EqualizedLinear(0, 4, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"EqualizedLinear: lr_multiplier must be a finite number"):
        EqualizedLinear(3, 4, lr_multiplier=0.0, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"EqualizedLinear: gain must be a finite number > 0"):
        EqualizedLinear(3, 4, gain=-1.0, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"EqualizedLinear: bias_init must be finite, got inf"):
        EqualizedLinear(3, 4, bias_init=float("inf"), rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match=r"EqualizedLinear: use_bias must be a bool, got 1"):
        EqualizedLinear(3, 4, use_bias=1, rngs=nnx.Rngs(0))  # type: ignore[arg-type]
    layer = EqualizedLinear(3, 4, rngs=nnx.Rngs(0))
    with pytest.raises(
        ValueError,
        match=r"EqualizedLinear expects an input of rank >= 1 whose last axis has 3 features, "
        r"got shape \(2, 5\)",
    ):
        layer(jnp.ones((2, 5)))


def test_conv_errors():
    with pytest.raises(ValueError, match=r"EqualizedConv: kernel_size must be a positive int or"):
        EqualizedConv(4, 4, (3, 0), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"EqualizedConv: padding must be 'SAME', 'VALID' or an"):
        EqualizedConv(4, 4, 3, padding="FULL", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"EqualizedConv: strides must be a positive int, got 0"):
        EqualizedConv(4, 4, 3, strides=0, rngs=nnx.Rngs(0))
    layer = EqualizedConv(4, 4, 3, rngs=nnx.Rngs(0))
    with pytest.raises(
        ValueError, match=r"EqualizedConv expects an NHWC input with 4 channels, got shape"
    ):
        layer(jnp.ones((1, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"EqualizedConv expects an NHWC input of rank 4"):
        layer(jnp.ones((4, 4, 4)))
