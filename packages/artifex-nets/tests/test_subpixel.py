"""The sub-pixel convolution kernels equal the plain XLA ops, forward and gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax import lax

from artifex.generative_models.nets import _subpixel
from artifex.generative_models.nets._subpixel import (
    SubpixelConv,
    SubpixelConvTranspose,
    dilated_conv,
    strided_conv,
    transpose_padding,
    use_subpixel,
)

DN = ("NHWC", "HWIO", "NHWC")
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _numpy_conv_transpose(x: np.ndarray, w: np.ndarray, stride: int, pads) -> np.ndarray:
    """Scatter form, in float64: every input pixel adds ``x * w`` at ``stride*i + t - low``."""
    b, h, wd, _ = x.shape
    k = w.shape[0]
    (lo_h, hi_h), (lo_w, hi_w) = pads
    out_h = (h - 1) * stride + 1 + lo_h + hi_h - k + 1
    out_w = (wd - 1) * stride + 1 + lo_w + hi_w - k + 1
    y = np.zeros((b, out_h, out_w, w.shape[3]))
    for i in range(h):
        for j in range(wd):
            for th in range(k):
                for tw in range(k):
                    # correlation: output o meets dilated pixel o + t - low
                    oh, ow = stride * i + lo_h - th, stride * j + lo_w - tw
                    if 0 <= oh < out_h and 0 <= ow < out_w:
                        y[:, oh, ow] += x[:, i, j] @ w[th, tw]
    return y


def _assert_gradients_match(op, plain, x, w, rng) -> None:
    """Both gradients of ``sum(op(x, w) * g)`` equal ``plain``'s, for a random ``g``."""
    g = rng.normal(size=plain(x, w).shape).astype(np.float32)
    got = jax.grad(lambda a, b: jnp.sum(op(a, b) * g), (0, 1))(x, w)
    want = jax.grad(lambda a, b: jnp.sum(plain(a, b) * g), (0, 1))(x, w)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, **TOL)


# 8 output features: the value and kernel gradient by phases; 3 (thin outputs): XLA's own
# value, the kernel gradient through the adjoint strided convolution.
@pytest.mark.parametrize(
    ("size", "kernel", "padding", "features"),
    [
        ((4, 4), 4, "SAME", 8),
        ((3, 5), 4, "VALID", 8),
        ((5, 3), 3, (1, 1), 8),
        ((3, 3), 4, (2, 1), 8),
        ((4, 4), 4, "SAME", 3),
        ((3, 5), 4, "VALID", 3),
        ((5, 3), 3, (1, 1), 3),
        ((3, 3), 4, (2, 1), 3),
    ],
)
def test_dilated_conv_equals_plain_and_numpy(size, kernel, padding, features):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, *size, 3)).astype(np.float32)
    w = rng.normal(size=(kernel, kernel, 3, features)).astype(np.float32)
    pads = (transpose_padding(kernel, 2, padding),) * 2
    plain = lambda x, w: lax.conv_general_dilated(  # noqa: E731
        x, w, (1, 1), pads, lhs_dilation=(2, 2), dimension_numbers=DN
    )
    y = dilated_conv(jnp.asarray(x), jnp.asarray(w), (2, 2), pads)
    np.testing.assert_allclose(y, _numpy_conv_transpose(x, w, 2, pads), **TOL)
    if isinstance(padding, str):
        ref = lax.conv_transpose(x, w, (2, 2), padding, dimension_numbers=DN)
        np.testing.assert_allclose(y, ref, **TOL)
    _assert_gradients_match(lambda a, b: dilated_conv(a, b, (2, 2), pads), plain, x, w, rng)


@pytest.mark.parametrize("features", [3, 8])
def test_dilated_conv_gradients_with_unequal_strides_and_odd_pads(features):
    # The thin kernel gradient's adjoint pads (a crop where negative) for strides 3 and 2.
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 4, 5, 6)).astype(np.float32)
    w = rng.normal(size=(5, 3, 6, features)).astype(np.float32)
    strides, pads = (3, 2), ((4, 1), (0, 3))
    plain = lambda a, b: lax.conv_general_dilated(  # noqa: E731
        a, b, (1, 1), pads, lhs_dilation=strides, dimension_numbers=DN
    )
    np.testing.assert_allclose(dilated_conv(x, w, strides, pads), plain(x, w), **TOL)
    _assert_gradients_match(lambda a, b: dilated_conv(a, b, strides, pads), plain, x, w, rng)


@pytest.mark.parametrize(("features", "xla_value"), [(3, True), (8, False)])
def test_dilated_conv_value_is_xla_own_only_for_thin_outputs(features, xla_value):
    # The rule of _MIN_PHASE_FEATURES: an lhs-dilated convolution appears in the value's
    # program only below 8 output features; the backward pass never holds one.
    x = jnp.zeros((1, 4, 4, 8))
    w = jnp.zeros((4, 4, 8, features))
    pads = ((2, 2), (2, 2))
    value = str(jax.make_jaxpr(lambda a, b: dilated_conv(a, b, (2, 2), pads))(x, w))
    assert ("lhs_dilation=(2, 2)" in value) is xla_value
    y, pullback = jax.vjp(lambda a, b: dilated_conv(a, b, (2, 2), pads), x, w)
    backward = str(jax.make_jaxpr(pullback)(y))
    assert "conv_general_dilated" in backward and "lhs_dilation=(2, 2)" not in backward


def test_dilated_conv_gradient_against_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 3, 3, 2))
    w = rng.normal(size=(4, 4, 2, 2))
    pads = ((2, 2), (2, 2))
    # jax.enable_x64 is new; the oldest supported JAX (0.7.1) has only the experimental one.
    enable_x64 = getattr(jax, "enable_x64", None)
    if enable_x64 is None:  # pragma: no cover - depends on the JAX version
        from jax.experimental import enable_x64
    with enable_x64(True):
        f = lambda a: jnp.sum(dilated_conv(a, jnp.asarray(w), (2, 2), pads) ** 2)  # noqa: E731
        grad = np.asarray(jax.grad(f)(jnp.asarray(x)))
        step = np.zeros_like(x)
        step[0, 1, 2, 1] = 1e-6
        numeric = (f(jnp.asarray(x + step)) - f(jnp.asarray(x - step))) / 2e-6
    assert grad[0, 1, 2, 1] == pytest.approx(float(numeric), rel=1e-6)


# The input gradient has the input's features: 8 by phases, 3 by XLA's own (thin) value.
@pytest.mark.parametrize(
    ("size", "pads", "features"), [((8, 8), ((1, 1), (1, 1)), 3), ((7, 5), ((1, 2), (0, 1)), 8)]
)
def test_strided_conv_equals_plain(size, pads, features):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, *size, features)).astype(np.float32)
    w = rng.normal(size=(4, 4, features, 4)).astype(np.float32)
    plain = lambda a, b: lax.conv_general_dilated(a, b, (2, 2), pads, dimension_numbers=DN)  # noqa: E731
    y = strided_conv(jnp.asarray(x), jnp.asarray(w), (2, 2), pads)
    np.testing.assert_allclose(y, plain(x, w), **TOL)
    _assert_gradients_match(lambda a, b: strided_conv(a, b, (2, 2), pads), plain, x, w, rng)


def test_kernel_gradients_summed_over_batch_chunks_equal_plain(monkeypatch):
    # A bound of 20 rows at 4 output pixels per example (per phase for the transposed
    # convolution) slices a batch of 7 into 5 + 2 examples, an uneven last chunk; the
    # chunked kernel gradients must still equal lax's in one piece.
    monkeypatch.setattr(_subpixel, "_KERNEL_GRAD_ROWS", 20)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(7, 4, 4, 3)).astype(np.float32)
    w = rng.normal(size=(4, 4, 3, 8)).astype(np.float32)
    pads = ((1, 1), (1, 1))
    transposed = lambda a, b: lax.conv_transpose(a, b, (2, 2), "SAME", dimension_numbers=DN)  # noqa: E731
    strided = lambda a, b: lax.conv_general_dilated(a, b, (2, 2), pads, dimension_numbers=DN)  # noqa: E731
    cases = [  # (sub-pixel op, plain op, input): 2x2 pixels per example (per phase)
        (
            lambda a, b: dilated_conv(a, b, (2, 2), (transpose_padding(4, 2, "SAME"),) * 2),
            transposed,
            x[:, :2, :2],
        ),
        (lambda a, b: strided_conv(a, b, (2, 2), pads), strided, x),
    ]
    for sub, plain, inputs in cases:
        g = rng.normal(size=plain(inputs, w).shape).astype(np.float32)
        grad_w = lambda f, a, g: jax.jit(jax.grad(lambda b: jnp.sum(f(a, b) * g)))(w)  # noqa: E731
        np.testing.assert_allclose(grad_w(sub, inputs, g), grad_w(plain, inputs, g), **TOL)
    # The slices the sum runs over: 5 examples (20 rows / 4 pixels), then the 2 left; on a
    # jax whose XLA miscompiles the slices (0.7.1), one piece.
    version = tuple(int(part) for part in jax.__version__.split(".")[:2])
    assert (version >= (0, 10)) == _subpixel._SLICED_KERNEL_GRADS
    sizes = []
    counted = lambda a, b: sizes.append(a.shape[0]) or strided(a, b)  # noqa: E731
    dy = jnp.zeros((7, 2, 2, 8))
    _subpixel._kernel_grad(counted, jnp.asarray(x), jnp.asarray(w), dy, pixels=4)
    assert sizes == ([5, 2] if _subpixel._SLICED_KERNEL_GRADS else [7])
    # Thin outputs (3 < 8 features) stay in one piece: slicing measured no gain there.
    sizes.clear()
    _subpixel._kernel_grad(counted, jnp.asarray(x), jnp.asarray(w[..., :3]), dy[..., :3], pixels=4)
    assert sizes == [7]


def _param_shapes(module: nnx.Module) -> dict[str, tuple[int, ...]]:
    flat = jax.tree_util.tree_flatten_with_path(nnx.state(module, nnx.Param))[0]
    return {jax.tree_util.keystr(path): tuple(leaf.shape) for path, leaf in flat}


@pytest.mark.parametrize(
    ("sub", "plain"), [(SubpixelConvTranspose, nnx.ConvTranspose), (SubpixelConv, nnx.Conv)]
)
def test_layers_have_the_plain_parameters_and_numbers(sub, plain):
    kwargs = {"strides": (2, 2), "padding": "SAME"}
    a = sub(3, 4, (4, 4), rngs=nnx.Rngs(0), **kwargs)
    b = plain(3, 4, (4, 4), rngs=nnx.Rngs(0), **kwargs)
    # Same parameter names and shapes, so checkpoints of either layer load into the other.
    # (Compared as plain {path: shape} dicts: older flax Variables do not compare by value.)
    assert _param_shapes(a) == _param_shapes(b)
    x = jnp.asarray(np.random.default_rng(3).normal(size=(2, 5, 5, 3)), jnp.float32)
    np.testing.assert_allclose(a(x), b(x), **TOL)


def test_use_subpixel_choice(monkeypatch):
    monkeypatch.delenv("ARTIFEX_SUBPIXEL", raising=False)
    assert use_subpixel("auto") is (jax.default_backend() == "cpu")
    assert use_subpixel(False) is False
    monkeypatch.setenv("ARTIFEX_SUBPIXEL", "0")
    assert use_subpixel("auto") is False
    monkeypatch.setenv("ARTIFEX_SUBPIXEL", "yes")
    with pytest.raises(ValueError, match=r"ARTIFEX_SUBPIXEL must be '1'.*got 'yes'"):
        use_subpixel("auto")
    with pytest.raises(ValueError, match=r"subpixel must be 'auto', True or False, got 'cpu'"):
        use_subpixel("cpu")  # type: ignore[arg-type]
