"""Gradient penalties against finite differences and analytic critics."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from artifex.generative_models.core.losses import (
    GRADIENT_NORM_EPS,
    dragan_penalty,
    gradient_penalty,
    r1_penalty,
    r2_penalty,
)

REDUCTIONS = ("mean", "sum", "none")
KEY = jax.random.key(42)

# --------------------------------------------------------------------------------------
# Critics
# --------------------------------------------------------------------------------------


def make_mlp(in_dim: int, hidden: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "w1": rng.standard_normal((in_dim, hidden)) / np.sqrt(in_dim),
        "b1": 0.1 * rng.standard_normal(hidden),
        "w2": rng.standard_normal(hidden),
    }


def mlp_jax(params, x):
    """A 2-layer tanh MLP on the flattened sample: (B, ...) -> (B,)."""
    h = jnp.tanh(x.reshape(x.shape[0], -1) @ params["w1"] + params["b1"])
    return h @ params["w2"]


def mlp_numpy(params, x: np.ndarray) -> np.ndarray:
    h = np.tanh(x.reshape(x.shape[0], -1) @ params["w1"] + params["b1"])
    return h @ params["w2"]


def fd_input_gradients(params, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central finite differences of the NumPy critic, one coordinate at a time."""
    flat = x.reshape(x.shape[0], -1).astype(np.float64)
    grads = np.zeros_like(flat)
    for j in range(flat.shape[1]):
        step = np.zeros_like(flat)
        step[:, j] = h
        grads[:, j] = (mlp_numpy(params, flat + step) - mlp_numpy(params, flat - step)) / (2 * h)
    return grads


def linear_critic(w: np.ndarray):
    w = jnp.asarray(w)
    return lambda x: jnp.sum(x * w, axis=tuple(range(1, x.ndim)))


def unit(shape: tuple[int, ...], seed: int) -> np.ndarray:
    w = np.random.default_rng(seed).standard_normal(shape)
    return (w / np.linalg.norm(w)).astype(np.float32)


def reduce_np(per_sample: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]


def batch(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


SHAPES = [(3, 4), (2, 3, 2, 2)]  # rank 2 and rank 4


def all_reductions(penalty, critic, *args, **kwargs) -> tuple[jax.Array, ...]:
    """The penalty under every reduction."""
    return tuple(penalty(critic, *args, reduction=r, **kwargs) for r in REDUCTIONS)


# --------------------------------------------------------------------------------------
# WGAN-GP
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gradient_penalty_matches_finite_differences_of_the_critic(shape):
    real, fake = batch(shape, 1), batch(shape, 2)
    params = make_mlp(int(np.prod(shape[1:])))
    # The interpolation coefficients, drawn as documented: U[0,1) of shape (B, 1, ..., 1).
    alpha = np.asarray(jax.random.uniform(KEY, (shape[0],) + (1,) * (len(shape) - 1)), np.float64)
    interpolates = alpha * real + (1 - alpha) * fake
    norms = np.linalg.norm(fd_input_gradients(params, interpolates), axis=1)
    per_sample = 10.0 * (norms - 1.0) ** 2
    jparams = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), params)

    def critic(x):
        return mlp_jax(jparams, x)

    got_all = all_reductions(gradient_penalty, critic, real, fake, KEY)
    for reduction, got in zip(REDUCTIONS, got_all, strict=True):
        assert got.dtype == jnp.float32
        np.testing.assert_allclose(got, reduce_np(per_sample, reduction), rtol=2e-5, atol=1e-6)
    # weight and target_norm enter as weight * (norm - target)^2.
    got_all = all_reductions(gradient_penalty, critic, real, fake, KEY, weight=2.0, target_norm=0.5)
    np.testing.assert_allclose(got_all[2], 2.0 * (norms - 0.5) ** 2, rtol=2e-5)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gradient_penalty_vanishes_for_a_unit_norm_linear_critic(shape):
    critic = linear_critic(unit(shape[1:], 3))
    got = gradient_penalty(critic, batch(shape, 4), batch(shape, 5), KEY, reduction="none")
    assert got.shape == (shape[0],)
    np.testing.assert_allclose(got, 0.0, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_gradient_penalty_of_a_scaled_linear_critic_is_analytic(shape):
    critic = linear_critic(3.0 * unit(shape[1:], 6))  # gradient norm 3 everywhere
    got = gradient_penalty(critic, batch(shape, 7), batch(shape, 8), KEY, weight=10.0)
    np.testing.assert_allclose(got, 10.0 * (3.0 - 1.0) ** 2, rtol=1e-5)


def test_gradient_penalty_has_finite_gradient_where_the_critic_gradient_is_zero():
    real, fake = batch((3, 4), 9), batch((3, 4), 10)

    def penalty(w):
        return gradient_penalty(lambda x: x @ w, real, fake, KEY)

    w0 = jnp.zeros(4)
    value, grad = jax.value_and_grad(penalty)(w0)
    np.testing.assert_allclose(value, 10.0 * (np.sqrt(GRADIENT_NORM_EPS) - 1.0) ** 2, rtol=1e-6)
    assert bool(jnp.all(jnp.isfinite(grad)))
    np.testing.assert_allclose(grad, 0.0, atol=1e-6)


def test_penalties_are_differentiable_with_respect_to_critic_parameters(x64):
    with x64():
        params = jax.tree.map(jnp.asarray, make_mlp(4))
        real, fake = batch((2, 4), 11).astype(np.float64), batch((2, 4), 12).astype(np.float64)

        def gp(w1):
            return gradient_penalty(lambda x: mlp_jax({**params, "w1": w1}, x), real, fake, KEY)

        def r1(w1):
            return r1_penalty(lambda x: mlp_jax({**params, "w1": w1}, x), real)

        for fn in (gp, r1):
            check_grads(fn, (params["w1"],), order=1, modes=("rev",), eps=1e-6)


def test_gradient_penalty_under_jit_vmap_and_bfloat16():
    critic = linear_critic(2.0 * unit((2, 2, 1), 13))
    params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), make_mlp(4, seed=1))

    def mlp_critic(x):
        return mlp_jax(params, x)

    real, fake = batch((3, 2, 2, 1), 14), batch((3, 2, 2, 1), 15)
    fn = jax.jit(lambda r, f, k: gradient_penalty(mlp_critic, r, f, k, reduction="none"))
    np.testing.assert_allclose(
        fn(real, fake, KEY),
        gradient_penalty(mlp_critic, real, fake, KEY, reduction="none"),
        rtol=1e-5,
    )
    keys = jax.random.split(KEY, 2)
    stacked_r, stacked_f = np.stack([real, fake]), np.stack([fake, real])
    out = jax.vmap(fn)(stacked_r, stacked_f, keys)
    for k in range(2):
        np.testing.assert_allclose(out[k], fn(stacked_r[k], stacked_f[k], keys[k]), rtol=1e-5)

    seen = []

    def recording_critic(x):
        seen.append(x.dtype)
        return critic(x)

    got = gradient_penalty(
        recording_critic, jnp.asarray(real, jnp.bfloat16), jnp.asarray(fake, jnp.bfloat16), KEY
    )
    assert seen == [jnp.bfloat16]  # the critic sees the caller's dtype
    assert got.dtype == jnp.float32
    # A bf16 linear critic with gradient norm ≈ 2: penalty ≈ 10, up to bf16 rounding of w.
    np.testing.assert_allclose(got, 10.0, rtol=2e-2)


# --------------------------------------------------------------------------------------
# R1 / R2
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_r1_of_a_linear_critic_is_half_weight_times_squared_norm(shape):
    w = batch(shape[1:], 16)
    got_all = all_reductions(r1_penalty, linear_critic(w), batch(shape, 17), weight=4.0)
    for reduction, got in zip(REDUCTIONS, got_all, strict=True):
        expected = np.full(shape[0], 4.0 / 2 * np.sum(w.astype(np.float64) ** 2))
        np.testing.assert_allclose(got, reduce_np(expected, reduction), rtol=1e-6)


@pytest.mark.parametrize("penalty", [r1_penalty, r2_penalty], ids=lambda f: f.__name__)
def test_r1_r2_match_finite_differences(penalty):
    x = batch((3, 2, 2, 1), 18)
    params = make_mlp(4, seed=2)
    jparams = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), params)
    squared = np.sum(fd_input_gradients(params, x) ** 2, axis=1)
    got = penalty(lambda v: mlp_jax(jparams, v), x, weight=3.0, reduction="none")
    np.testing.assert_allclose(got, 1.5 * squared, rtol=2e-5)


def test_r2_of_a_quadratic_critic_is_the_squared_input_norm():
    # D(x) = ||x||^2 / 2 has gradient x.
    x = batch((3, 2, 2, 2), 19)
    got = r2_penalty(lambda v: 0.5 * jnp.sum(v**2, axis=(1, 2, 3)), x, reduction="none")
    expected = 5.0 * np.sum(x.astype(np.float64) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(got, expected, rtol=1e-6)  # float32 sums: ~1 ulp


def test_r1_under_jit_vmap_and_bfloat16():
    w = batch((4,), 20)
    critic = linear_critic(w)
    fn = jax.jit(lambda x: r1_penalty(critic, x, reduction="none"))
    x = batch((2, 3, 4), 21)
    out = jax.vmap(fn)(x)
    np.testing.assert_allclose(
        out, np.full((2, 3), 5.0 * np.sum(w.astype(np.float64) ** 2)), rtol=1e-6
    )
    got = r1_penalty(linear_critic(jnp.asarray(w, jnp.bfloat16)), jnp.asarray(x[0], jnp.bfloat16))
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(got, 5.0 * np.sum(w.astype(np.float64) ** 2), rtol=2e-2)


# --------------------------------------------------------------------------------------
# DRAGAN
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_dragan_penalty_follows_its_documented_sampling(shape):
    x = batch(shape, 22)
    # The documented draws: split the key, U[0,1) noise like x, one U[0,1) alpha per sample.
    noise_key, alpha_key = jax.random.split(KEY)
    noise = np.asarray(jax.random.uniform(noise_key, shape), np.float64)
    alpha = np.asarray(
        jax.random.uniform(alpha_key, (shape[0],) + (1,) * (len(shape) - 1)), np.float64
    )
    xd = x.astype(np.float64)
    perturbed = xd + 0.5 * xd.std() * noise
    neighbours = xd + alpha * (perturbed - xd)
    # Quadratic critic: the input gradient at a point is the point itself.
    norms = np.linalg.norm(neighbours.reshape(shape[0], -1), axis=1)

    def critic(v):
        return 0.5 * jnp.sum(v**2, axis=tuple(range(1, v.ndim)))

    for reduction, got in zip(
        REDUCTIONS, all_reductions(dragan_penalty, critic, x, KEY), strict=True
    ):
        np.testing.assert_allclose(got, reduce_np(10.0 * (norms - 1.0) ** 2, reduction), rtol=1e-5)
    # With no perturbation the penalty is taken at the real samples themselves.
    got = dragan_penalty(critic, x, KEY, perturbation_scale=0.0, weight=1.0, reduction="none")
    np.testing.assert_allclose(
        got, (np.linalg.norm(xd.reshape(shape[0], -1), axis=1) - 1) ** 2, rtol=1e-5
    )


def test_dragan_penalty_vanishes_for_a_unit_norm_linear_critic():
    got = dragan_penalty(linear_critic(unit((3,), 23)), batch((4, 3), 24), KEY, reduction="none")
    np.testing.assert_allclose(got, 0.0, atol=1e-10)


def test_dragan_penalty_under_jit_and_vmap():
    critic = linear_critic(2.0 * unit((3,), 25))
    fn = jax.jit(lambda x, k: dragan_penalty(critic, x, k))
    out = jax.vmap(fn)(batch((2, 4, 3), 26), jax.random.split(KEY, 2))
    np.testing.assert_allclose(out, [10.0, 10.0], rtol=1e-5)


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

X = batch((2, 3), 27)
CRITIC = linear_critic(unit((3,), 28))
CALLS = {
    "gradient_penalty": lambda **kw: gradient_penalty(CRITIC, X, X, KEY, **kw),
    "r1_penalty": lambda **kw: r1_penalty(CRITIC, X, **kw),
    "r2_penalty": lambda **kw: r2_penalty(CRITIC, X, **kw),
    "dragan_penalty": lambda **kw: dragan_penalty(CRITIC, X, KEY, **kw),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_penalty_option_errors(name):
    call = CALLS[name]
    with pytest.raises(
        ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\); got 'avg'"
    ):
        call(reduction="avg")
    with pytest.raises(ValueError, match=r"weight must be non-negative; got -1.0"):
        call(weight=-1.0)


@pytest.mark.parametrize(
    "penalty",
    [
        lambda critic, x: gradient_penalty(critic, x, x, KEY),
        lambda critic, x: r1_penalty(critic, x),
        lambda critic, x: r2_penalty(critic, x),
        lambda critic, x: dragan_penalty(critic, x, KEY),
    ],
    ids=["gp", "r1", "r2", "dragan"],
)
def test_penalty_input_and_critic_errors(penalty):
    with pytest.raises(
        ValueError,
        match=r"critic_fn must return per-sample scores .* size 2 .*got scores of shape \(\)",
    ):
        penalty(lambda x: jnp.mean(CRITIC(x)), X)  # a critic that averages over the batch
    with pytest.raises(ValueError, match=r"got scores of shape \(1,\)"):
        penalty(lambda x: jnp.sum(CRITIC(x), keepdims=True), X)
    with pytest.raises(ValueError, match=r"needs a leading batch axis.*got shape \(\)"):
        penalty(CRITIC, np.float32(1.0))
    with pytest.raises(TypeError, match=r"floating-point array; got dtype int32"):
        penalty(CRITIC, np.ones((2, 3), np.int32))


def test_gradient_penalty_rejects_mismatched_real_and_fake():
    with pytest.raises(ValueError, match=r"real\.shape=\(2, 3\) and fake\.shape=\(3, 3\)"):
        gradient_penalty(CRITIC, X, batch((3, 3), 29), KEY)
    with pytest.raises(ValueError, match=r"real\.shape=\(2, 3\) and fake\.shape=\(2, 3, 1\)"):
        jax.jit(lambda r, f: gradient_penalty(CRITIC, r, f, KEY))(X, X[..., None])


def test_dragan_rejects_negative_perturbation_scale():
    with pytest.raises(ValueError, match=r"perturbation_scale must be non-negative; got -0.5"):
        dragan_penalty(CRITIC, X, KEY, perturbation_scale=-0.5)
