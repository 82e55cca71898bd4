"""SpectralNorm: the estimate, the normalized operator, gradients, modes, jit.

Layer shapes are shared between tests: on CPU, compiling the random initializers for a new
shape costs more than the checks themselves.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax.test_util import check_grads

from artifex.generative_models.nets.layers import (
    SpectralNorm,
    SpectralNormStat,
    spectral_normalize,
)

RNG = np.random.default_rng(0)


def _top_singular_value(kernel):
    matrix = np.asarray(kernel, np.float64).reshape(-1, kernel.shape[-1])
    return np.linalg.svd(matrix, compute_uv=False)[0]


def _kernel_with_spectrum(fan_in, out, singular_values, seed=0):
    rng = np.random.default_rng(seed)
    left, _ = np.linalg.qr(rng.normal(size=(fan_in, fan_in)))
    right, _ = np.linalg.qr(rng.normal(size=(out, out)))
    diag = np.zeros((fan_in, out))
    diag[np.arange(len(singular_values)), np.arange(len(singular_values))] = singular_values
    return (left @ diag @ right.T).astype(np.float32)


def _conv(**kwargs):
    return nnx.Conv(4, 4, (3, 3), rngs=nnx.Rngs(0), **kwargs)


def _linear(**kwargs):
    return nnx.Linear(3, 4, rngs=nnx.Rngs(0), **kwargs)


def test_sigma_converges_to_the_largest_singular_value_of_a_conv_kernel():
    kernel = jnp.asarray(RNG.normal(size=(3, 3, 4, 4)), jnp.float32)
    u0 = jnp.ones((4,)) / 2.0
    normalized, u, sigma = spectral_normalize(kernel, u0, n_power_iterations=200)
    np.testing.assert_allclose(float(sigma), _top_singular_value(kernel), rtol=1e-5)
    # The normalized operator has spectral norm 1.
    np.testing.assert_allclose(_top_singular_value(normalized), 1.0, rtol=1e-5)
    assert normalized.shape == kernel.shape and u.shape == (4,)
    np.testing.assert_allclose(float(jnp.linalg.norm(u)), 1.0, rtol=1e-6)


def test_repeated_training_calls_converge_and_the_output_uses_the_normalized_kernel():
    layer = _linear()
    kernel = _kernel_with_spectrum(3, 4, [3.0, 1.5, 0.5])
    layer.kernel[...] = jnp.asarray(kernel)
    sn = SpectralNorm(layer, rngs=nnx.Rngs(1))  # one power iteration per call
    x = RNG.normal(size=(2, 3)).astype(np.float32)
    for _ in range(25):
        y = sn(jnp.asarray(x))
    np.testing.assert_allclose(float(sn.sigma[...]), 3.0, rtol=1e-5)
    expected = x @ (kernel / 3.0) + np.asarray(layer.bias[...])
    np.testing.assert_allclose(np.asarray(y), expected, rtol=1e-4, atol=1e-5)
    # The raw kernel is still the Param and was never overwritten.
    np.testing.assert_array_equal(np.asarray(sn.layer.kernel[...]), kernel)
    assert isinstance(sn.layer.kernel, nnx.Param)


def test_normalized_conv_has_unit_gain_on_its_top_input_direction():
    conv = _conv(padding="VALID")
    sn = SpectralNorm(conv, n_power_iterations=100, rngs=nnx.Rngs(1))
    # On a 3x3 input a VALID 3x3 conv is the matrix M plus the bias: its largest gain is 1.
    matrix = np.asarray(conv.kernel[...]).reshape(-1, 4)
    _, _, vh = np.linalg.svd(matrix.T)
    bias = np.asarray(conv.bias[...])
    x_top = jnp.asarray(vh[0].reshape(1, 3, 3, 4), jnp.float32)
    gain = np.linalg.norm(np.asarray(sn(x_top, training=False)) - bias)
    np.testing.assert_allclose(gain, 1.0, rtol=1e-4)
    x_random = RNG.normal(size=(1, 3, 3, 4)).astype(np.float32)
    outputs = np.asarray(sn(jnp.asarray(x_random), training=False)) - bias
    assert np.linalg.norm(outputs) <= np.linalg.norm(x_random) * (1 + 1e-5)


def test_conv_transpose_is_normalized_too():
    deconv = nnx.ConvTranspose(4, 4, (3, 3), strides=(2, 2), rngs=nnx.Rngs(0))
    sn = SpectralNorm(deconv, n_power_iterations=100, rngs=nnx.Rngs(1))
    x = jnp.asarray(RNG.normal(size=(2, 4, 4, 4)), jnp.float32)
    y = sn(x, training=False)
    reference = nnx.clone(deconv)
    reference.kernel[...] = deconv.kernel[...] / _top_singular_value(deconv.kernel[...])
    np.testing.assert_allclose(np.asarray(y), np.asarray(reference(x)), rtol=1e-4, atol=1e-5)


def test_gradient_of_the_raw_kernel_matches_finite_differences():
    # With u fixed and the iteration converged, the stop-gradient formulation is the true
    # gradient of kernel / sigma_max(kernel).
    kernel = jnp.asarray(_kernel_with_spectrum(3, 4, [2.0, 1.0, 0.3], seed=1))
    u0 = jnp.asarray(RNG.normal(size=4), jnp.float32)
    weights = jnp.asarray(RNG.normal(size=kernel.shape), jnp.float32)

    def loss(k):
        normalized, _, _ = spectral_normalize(k, u0, n_power_iterations=60)
        return jnp.sum(weights * normalized)

    check_grads(loss, (kernel,), order=1, modes=("rev",), eps=1e-2, atol=2e-2, rtol=2e-2)


def test_module_gradient_is_the_stop_gradient_formula():
    layer = _linear(use_bias=False)
    sn = SpectralNorm(layer, rngs=nnx.Rngs(1))
    x = RNG.normal(size=(2, 3)).astype(np.float32)
    target = RNG.normal(size=(2, 4)).astype(np.float32)
    k = np.asarray(layer.kernel[...], np.float64)
    u0 = np.asarray(sn.u[...], np.float64)

    grads = nnx.grad(lambda m: jnp.sum(m(jnp.asarray(x)) * target))(sn)

    v = k @ u0
    v /= np.linalg.norm(v)
    u = v @ k
    u /= np.linalg.norm(u)
    sigma = v @ k @ u
    upstream = x.T.astype(np.float64) @ target  # dL/d(normalized kernel)
    expected = upstream / sigma - np.sum(upstream * k) / sigma**2 * np.outer(v, u)
    np.testing.assert_allclose(np.asarray(grads.layer.kernel[...]), expected, rtol=1e-4, atol=1e-6)
    # Only Params are differentiated: the power-iteration state has no gradient.
    assert not jax.tree.leaves(nnx.state(grads, SpectralNormStat))


def test_eval_mode_leaves_u_unchanged_and_training_mode_updates_it():
    sn = SpectralNorm(_conv(), rngs=nnx.Rngs(1))
    x = jnp.ones((2, 4, 4, 4))
    u0 = np.asarray(sn.u[...])
    sn.eval()
    assert sn.use_running_average
    sn(x)
    np.testing.assert_array_equal(np.asarray(sn.u[...]), u0)
    sn(x, training=True)  # the per-call override wins over the mode
    u1 = np.asarray(sn.u[...])
    assert not np.allclose(u1, u0)
    sn.train()
    assert not sn.use_running_average
    sn(x, training=False)
    np.testing.assert_array_equal(np.asarray(sn.u[...]), u1)
    sn(x)
    assert not np.allclose(np.asarray(sn.u[...]), u1)


def test_jit_gives_the_eager_result_and_state():
    eager = SpectralNorm(_conv(), rngs=nnx.Rngs(1))
    compiled = nnx.clone(eager)
    u0 = np.asarray(eager.u[...])
    x = jnp.asarray(RNG.normal(size=(2, 4, 4, 4)), jnp.float32)

    @nnx.jit
    def forward(module, inputs):
        return module(inputs)

    y_eager = eager(x)
    y_jit = forward(compiled, x)
    np.testing.assert_allclose(np.asarray(y_jit), np.asarray(y_eager), rtol=1e-5, atol=1e-6)
    # The jitted call wrote the updated state back, the same as the eager one.
    assert not np.allclose(np.asarray(compiled.u[...]), u0)
    np.testing.assert_allclose(np.asarray(compiled.u[...]), np.asarray(eager.u[...]), rtol=1e-5)
    np.testing.assert_allclose(float(compiled.sigma[...]), float(eager.sigma[...]), rtol=1e-5)


def test_zero_kernel_stays_finite():
    layer = _linear()
    layer.kernel[...] = jnp.zeros((3, 4))
    sn = SpectralNorm(layer, rngs=nnx.Rngs(1))
    y = sn(jnp.ones((2, 3)))
    assert bool(jnp.all(jnp.isfinite(y)))
    assert bool(jnp.all(jnp.isfinite(sn.u[...])))


def test_state_is_a_batch_stat_not_a_param():
    sn = SpectralNorm(_linear(), rngs=nnx.Rngs(1))
    assert isinstance(sn.u, nnx.BatchStat) and isinstance(sn.u, SpectralNormStat)
    assert isinstance(sn.sigma, SpectralNormStat)
    assert len(jax.tree.leaves(nnx.state(sn, nnx.Param))) == 2  # raw kernel and bias only


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"layer": "conv"}, TypeError, "SpectralNorm wraps an nnx.Linear, nnx.Conv or nnx"),
        ({"n_power_iterations": 0}, ValueError, "SpectralNorm: n_power_iterations must be a "),
        ({"n_power_iterations": 1.5}, TypeError, "SpectralNorm: n_power_iterations must be an"),
        ({"eps": 0.0}, ValueError, r"SpectralNorm: eps must be a finite number > 0, got 0.0"),
        ({"use_running_average": 1}, TypeError, "SpectralNorm: use_running_average must be a"),
    ],
)
def test_constructor_errors(kwargs, error, match):
    arguments = {"layer": _linear(), "rngs": nnx.Rngs(1)}
    arguments.update(kwargs)
    layer = arguments.pop("layer")
    with pytest.raises(error, match=match):
        SpectralNorm(layer, **arguments)


def test_input_errors():
    dense = SpectralNorm(_linear(), rngs=nnx.Rngs(1))
    with pytest.raises(
        ValueError,
        match=r"SpectralNorm\(Linear\) expects an input of rank >= 1 whose last axis has 3 "
        r"features, got shape \(2, 4\)",
    ):
        dense(jnp.ones((2, 4)))
    conv = SpectralNorm(_conv(), rngs=nnx.Rngs(1))
    with pytest.raises(ValueError, match=r"SpectralNorm\(Conv\) expects an input of rank >= 3"):
        conv(jnp.ones((4, 4)))


def test_spectral_normalize_errors():
    with pytest.raises(ValueError, match=r"spectral_normalize expects a kernel of rank >= 2"):
        spectral_normalize(jnp.ones((3,)), jnp.ones((3,)))
    with pytest.raises(ValueError, match=r"spectral_normalize expects u of shape \(2,\)"):
        spectral_normalize(jnp.ones((3, 2)), jnp.ones((3,)))
    with pytest.raises(ValueError, match="spectral_normalize: n_power_iterations must be a"):
        spectral_normalize(jnp.ones((3, 2)), jnp.ones((2,)), n_power_iterations=0)
