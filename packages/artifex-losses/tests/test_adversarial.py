"""Adversarial losses against independent NumPy formulas, finite differences and edge cases."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from artifex.generative_models.core.losses import adversarial as adv

EPS = 1e-7
REDUCTIONS = ("mean", "sum", "none")
SCORE_SHAPES = [(5,), (5, 1), (5, 3, 2, 1)]

# --------------------------------------------------------------------------------------
# Independent references, float64 NumPy
# --------------------------------------------------------------------------------------


def np_log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def np_bce_prob(p: np.ndarray, t: float) -> np.ndarray:
    return -(t * np.log(np.clip(p, EPS, 1.0)) + (1 - t) * np.log(np.clip(1 - p, EPS, 1.0)))


def np_bce_logits(x: np.ndarray, t: float) -> np.ndarray:
    return -(t * np_log_sigmoid(x) + (1 - t) * np_log_sigmoid(-x))


def np_per_sample(x: np.ndarray) -> np.ndarray:
    return x.reshape(x.shape[0], -1).mean(axis=1)


def np_reduce(per_sample: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    return per_sample


# (name, jax loss, kwargs, NumPy element-wise loss, input kind)
GENERATOR_CASES: list[tuple[str, Callable, dict, Callable, str]] = [
    ("vanilla_ns", adv.vanilla_generator_loss, {}, lambda f: -np.log(np.clip(f, EPS, 1)), "prob"),
    (
        "vanilla_sat",
        adv.vanilla_generator_loss,
        {"non_saturating": False},
        lambda f: np.log(np.clip(1 - f, EPS, 1)),
        "prob",
    ),
    (
        "vanilla_eps",
        adv.vanilla_generator_loss,
        {"eps": 0.1},
        lambda f: -np.log(np.clip(f, 0.1, 1)),
        "prob",
    ),
    ("logits_ns", adv.vanilla_generator_loss_from_logits, {}, lambda f: -np_log_sigmoid(f), "real"),
    (
        "logits_sat",
        adv.vanilla_generator_loss_from_logits,
        {"non_saturating": False},
        lambda f: np.log1p(-1 / (1 + np.exp(-f))),
        "real",
    ),
    ("lsgan", adv.least_squares_generator_loss, {}, lambda f: 0.5 * (f - 1.0) ** 2, "real"),
    (
        "lsgan_c",
        adv.least_squares_generator_loss,
        {"target_real": 0.5},
        lambda f: 0.5 * (f - 0.5) ** 2,
        "real",
    ),
    ("wasserstein", adv.wasserstein_generator_loss, {}, lambda f: -f, "real"),
    ("hinge", adv.hinge_generator_loss, {}, lambda f: -f, "real"),
]

# (name, jax loss, kwargs, NumPy real-term, NumPy fake-term, input kind)
DISCRIMINATOR_CASES: list[tuple[str, Callable, dict, Callable, Callable, str]] = [
    (
        "vanilla",
        adv.vanilla_discriminator_loss,
        {},
        lambda r: np_bce_prob(r, 1.0),
        lambda f: np_bce_prob(f, 0.0),
        "prob",
    ),
    (
        "vanilla_smooth",
        adv.vanilla_discriminator_loss,
        {"real_label": 0.9, "fake_label": 0.1},
        lambda r: np_bce_prob(r, 0.9),
        lambda f: np_bce_prob(f, 0.1),
        "prob",
    ),
    (
        "logits",
        adv.vanilla_discriminator_loss_from_logits,
        {},
        lambda r: -np_log_sigmoid(r),
        lambda f: -np_log_sigmoid(-f),
        "real",
    ),
    (
        "logits_smooth",
        adv.vanilla_discriminator_loss_from_logits,
        {"real_label": 0.9},
        lambda r: np_bce_logits(r, 0.9),
        lambda f: np_bce_logits(f, 0.0),
        "real",
    ),
    (
        "lsgan",
        adv.least_squares_discriminator_loss,
        {},
        lambda r: 0.5 * (r - 1.0) ** 2,
        lambda f: 0.5 * f**2,
        "real",
    ),
    (
        "lsgan_ab",
        adv.least_squares_discriminator_loss,
        {"target_real": 1.0, "target_fake": -1.0},
        lambda r: 0.5 * (r - 1.0) ** 2,
        lambda f: 0.5 * (f + 1.0) ** 2,
        "real",
    ),
    ("wasserstein", adv.wasserstein_discriminator_loss, {}, lambda r: -r, lambda f: f, "real"),
    (
        "hinge",
        adv.hinge_discriminator_loss,
        {},
        lambda r: np.maximum(0, 1 - r),
        lambda f: np.maximum(0, 1 + f),
        "real",
    ),
]

ALL_LOSSES = sorted(
    {c[1] for c in GENERATOR_CASES} | {c[1] for c in DISCRIMINATOR_CASES}, key=lambda f: f.__name__
)
GENERATOR_LOSSES = sorted({c[1] for c in GENERATOR_CASES}, key=lambda f: f.__name__)
DISCRIMINATOR_LOSSES = sorted({c[1] for c in DISCRIMINATOR_CASES}, key=lambda f: f.__name__)


def draw(seed: int, shape: tuple[int, ...], kind: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "prob":
        return rng.uniform(0.02, 0.98, size=shape).astype(np.float32)
    return (2.0 * rng.standard_normal(shape)).astype(np.float32)


def all_reductions(loss: Callable, *scores: np.ndarray, **kwargs) -> tuple[jax.Array, ...]:
    """The loss under every reduction."""
    return tuple(loss(*scores, reduction=r, **kwargs) for r in REDUCTIONS)


# --------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SCORE_SHAPES, ids=str)
@pytest.mark.parametrize("case", GENERATOR_CASES, ids=lambda c: c[0])
def test_generator_losses_match_numpy(case, shape):
    _, loss, kwargs, element, kind = case
    fake = draw(1, shape, kind)
    per_sample = np_per_sample(element(fake.astype(np.float64)))
    for reduction, got in zip(REDUCTIONS, all_reductions(loss, fake, **kwargs), strict=True):
        assert got.dtype == jnp.float32
        assert got.shape == ((shape[0],) if reduction == "none" else ())
        np.testing.assert_allclose(got, np_reduce(per_sample, reduction), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("shape", SCORE_SHAPES, ids=str)
@pytest.mark.parametrize("case", DISCRIMINATOR_CASES, ids=lambda c: c[0])
def test_discriminator_losses_match_numpy(case, shape):
    _, loss, kwargs, real_term, fake_term, kind = case
    real, fake = draw(2, shape, kind), draw(3, shape, kind)
    real_ps = np_per_sample(real_term(real.astype(np.float64)))
    fake_ps = np_per_sample(fake_term(fake.astype(np.float64)))
    expected = {"mean": real_ps.mean() + fake_ps.mean(), "sum": real_ps.sum() + fake_ps.sum()}
    expected["none"] = real_ps + fake_ps
    for reduction, got in zip(REDUCTIONS, all_reductions(loss, real, fake, **kwargs), strict=True):
        assert got.dtype == jnp.float32
        assert got.shape == ((shape[0],) if reduction == "none" else ())
        np.testing.assert_allclose(got, expected[reduction], rtol=2e-6, atol=1e-6)


def test_patch_maps_average_per_image_before_reduction():
    # One image whose patches are all 0.9, one whose patches mix 0.1 and 0.9.
    fake = np.array([[0.9, 0.9], [0.1, 0.9]], np.float32).reshape(2, 1, 2, 1)
    got = adv.vanilla_generator_loss(fake, reduction="none")
    expected = [-np.log(0.9), -(np.log(0.1) + np.log(0.9)) / 2]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_probability_losses_clip_exact_zero_and_one():
    ones, zeros = jnp.ones((3,)), jnp.zeros((3,))
    big = -np.log(EPS)
    np.testing.assert_allclose(adv.vanilla_generator_loss(zeros), big, rtol=1e-6)
    np.testing.assert_allclose(adv.vanilla_generator_loss(ones), 0.0, atol=1e-7)
    # Perfectly wrong discriminator: both terms at the clip floor.
    np.testing.assert_allclose(adv.vanilla_discriminator_loss(zeros, ones), 2 * big, rtol=1e-6)
    grads = jax.grad(adv.vanilla_discriminator_loss, argnums=(0, 1))(zeros, ones)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)


def test_non_saturating_and_minimax_generators_have_the_same_optimum_direction():
    # Both push D(G(z)) up: the gradients with respect to the score are negative.
    fake = jnp.array([0.2, 0.5, 0.8])
    for non_saturating in (True, False):
        g = jax.grad(lambda f, ns=non_saturating: adv.vanilla_generator_loss(f, non_saturating=ns))(
            fake
        )
        assert bool(jnp.all(g < 0))
    # ... but the minimax gradient vanishes as D(G(z)) -> 0, the non-saturating one does not.
    tiny = jnp.array([1e-4])
    g_sat = jax.grad(lambda f: adv.vanilla_generator_loss(f, non_saturating=False))(tiny)
    g_ns = jax.grad(adv.vanilla_generator_loss)(tiny)
    assert abs(float(g_sat[0])) < 2.0 < abs(float(g_ns[0]))


# --------------------------------------------------------------------------------------
# Label smoothing
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("real_label", "fake_label"), [(0.9, 0.0), (0.9, 0.1), (0.7, 0.2)])
def test_label_smoothing_is_bce_against_the_smoothed_target(real_label, fake_label):
    logits_r, logits_f = draw(4, (6, 1), "real"), draw(5, (6, 1), "real")
    probs_r = 1 / (1 + np.exp(-logits_r.astype(np.float64)))
    probs_f = 1 / (1 + np.exp(-logits_f.astype(np.float64)))

    def bce(p, t):  # textbook formula on probabilities, computed independently
        return np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))

    expected = bce(probs_r, real_label) + bce(probs_f, fake_label)
    kw = {"real_label": real_label, "fake_label": fake_label}
    got_logits = adv.vanilla_discriminator_loss_from_logits(logits_r, logits_f, **kw)
    got_probs = adv.vanilla_discriminator_loss(
        probs_r.astype(np.float32), probs_f.astype(np.float32), **kw
    )
    np.testing.assert_allclose(got_logits, expected, rtol=2e-6)
    np.testing.assert_allclose(got_probs, expected, rtol=1e-5)


def test_smoothed_real_term_is_minimised_at_the_smoothed_target():
    target = 0.9
    logit = jnp.full((4,), np.log(target / (1 - target)), jnp.float32)
    fake = jnp.zeros((4,))
    g_real = jax.grad(
        lambda r: adv.vanilla_discriminator_loss_from_logits(r, fake, real_label=target)
    )(logit)
    np.testing.assert_allclose(g_real, 0.0, atol=1e-7)
    g_prob = jax.grad(lambda r: adv.vanilla_discriminator_loss(r, fake, real_label=target))(
        jax.nn.sigmoid(logit)
    )
    np.testing.assert_allclose(g_prob, 0.0, atol=1e-6)


# --------------------------------------------------------------------------------------
# Extreme logits
# --------------------------------------------------------------------------------------

EXTREME = np.array([-100.0, -30.0, 0.0, 30.0, 100.0], np.float32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [{}, {"real_label": 0.9, "fake_label": 0.1}], ids=str)
def test_discriminator_from_logits_finite_at_extreme_logits(kwargs, reduction):
    real, fake = EXTREME, EXTREME[::-1].copy()
    loss = adv.vanilla_discriminator_loss_from_logits(real, fake, reduction=reduction, **kwargs)
    t_r, t_f = kwargs.get("real_label", 1.0), kwargs.get("fake_label", 0.0)
    expected = np_reduce(
        np_bce_logits(real.astype(np.float64), t_r) + np_bce_logits(fake.astype(np.float64), t_f),
        reduction,
    )
    np.testing.assert_allclose(loss, expected, rtol=2e-6, atol=1e-30)

    def total(r, f):
        out = adv.vanilla_discriminator_loss_from_logits(r, f, reduction=reduction, **kwargs)
        return jnp.sum(out)

    for g in jax.grad(total, argnums=(0, 1))(real, fake):
        assert bool(jnp.all(jnp.isfinite(g)))


@pytest.mark.parametrize("non_saturating", [True, False])
def test_generator_from_logits_finite_at_extreme_logits(non_saturating):
    def loss(f):
        return adv.vanilla_generator_loss_from_logits(f, non_saturating=non_saturating)

    value, grad = jax.value_and_grad(loss)(jnp.asarray(EXTREME))
    x = EXTREME.astype(np.float64)
    expected = np.mean(-np_log_sigmoid(x) if non_saturating else np_log_sigmoid(-x))
    np.testing.assert_allclose(value, expected, rtol=2e-6)
    assert bool(jnp.all(jnp.isfinite(grad)))
    # d/dl of -log σ(l) is -σ(-l) (= -1 at l=-100); of log σ(-l) it is -σ(l).
    s = 1 / (1 + np.exp(x if non_saturating else -x))
    np.testing.assert_allclose(grad, -s / len(x), rtol=1e-5, atol=1e-30)


# --------------------------------------------------------------------------------------
# Gradients against finite differences (float64)
#
# Checked on the per-sample values (reduction="none") with check_grads' random cotangent; "mean"
# and "sum" are fixed linear maps of them, checked against NumPy above.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", GENERATOR_CASES, ids=lambda c: c[0])
def test_generator_gradients_match_finite_differences(case, x64):
    _, loss, kwargs, _, kind = case
    with x64():
        fake = jnp.asarray(draw(6, (3, 2), kind), jnp.float64)
        fn = functools.partial(loss, reduction="none", **kwargs)
        check_grads(fn, (fake,), order=1, modes=("rev",), eps=1e-6)


@pytest.mark.parametrize("case", DISCRIMINATOR_CASES, ids=lambda c: c[0])
def test_discriminator_gradients_match_finite_differences(case, x64):
    _, loss, kwargs, _, _, kind = case
    with x64():
        real = jnp.asarray(draw(7, (3, 2), kind), jnp.float64)
        fake = jnp.asarray(draw(8, (3, 2), kind), jnp.float64)
        fn = functools.partial(loss, reduction="none", **kwargs)
        check_grads(fn, (real, fake), order=1, modes=("rev",), eps=1e-6)


# --------------------------------------------------------------------------------------
# Transformations and dtypes
# --------------------------------------------------------------------------------------


def _call(loss: Callable, scores: list, **kw):
    return loss(*scores, **kw)


def _inputs(loss: Callable, shape=(4, 1), seed=9) -> list[np.ndarray]:
    n = 2 if loss in DISCRIMINATOR_LOSSES else 1
    kind = (
        "prob" if loss.__name__ in {"vanilla_generator_loss", "vanilla_discriminator_loss"} else ""
    )
    return [draw(seed + i, shape, kind or "real") for i in range(n)]


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda f: f.__name__)
def test_jit_vmap_and_bfloat16(loss):
    scores = _inputs(loss)
    eager = _call(loss, scores, reduction="none")
    jitted = jax.jit(lambda *s: loss(*s, reduction="none"))(*scores)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6, atol=1e-7)

    # vmap over a leading axis (e.g. several discriminators or scales).
    stacked = [np.stack([s, s[::-1] * 0.5]) for s in scores]
    batched = jax.vmap(lambda *s: loss(*s, reduction="none"))(*stacked)
    assert batched.shape == (2, 4)
    for k in range(2):
        np.testing.assert_allclose(
            batched[k], _call(loss, [s[k] for s in stacked], reduction="none"), rtol=1e-6
        )

    # bfloat16 in, float32 out, equal to the loss of the upcast inputs.
    low = [jnp.asarray(s, jnp.bfloat16) for s in scores]
    got = _call(loss, low)
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(
        got, _call(loss, [x.astype(jnp.float32) for x in low]), rtol=1e-6, atol=1e-7
    )


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda f: f.__name__)
def test_errors_are_raised_before_computing(loss):
    scores = _inputs(loss)
    with pytest.raises(
        ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\); got 'avg'"
    ):
        _call(loss, scores, reduction="avg")
    with pytest.raises(ValueError, match=r"needs a leading batch axis.*got shape \(\)"):
        _call(loss, [np.float32(0.5)] * len(scores))
    with pytest.raises(TypeError, match=r"floating-point array; got dtype int32"):
        _call(loss, [np.ones(3, np.int32)] * len(scores))


@pytest.mark.parametrize("loss", DISCRIMINATOR_LOSSES, ids=lambda f: f.__name__)
def test_discriminator_losses_reject_mismatched_shapes(loss):
    with pytest.raises(ValueError, match=r"real_\w+\.shape=\(4,\) and fake_\w+\.shape=\(3,\)"):
        loss(np.full(4, 0.5, np.float32), np.full(3, 0.5, np.float32))
    # No silent broadcasting of (B,) against (B, 1) either, also under jit.
    with pytest.raises(ValueError, match=r"real_\w+\.shape=\(4,\) and fake_\w+\.shape=\(4, 1\)"):
        jax.jit(loss)(np.full(4, 0.5, np.float32), np.full((4, 1), 0.5, np.float32))


@pytest.mark.parametrize(
    "loss", [adv.vanilla_discriminator_loss, adv.vanilla_discriminator_loss_from_logits]
)
@pytest.mark.parametrize("label", ["real_label", "fake_label"])
def test_labels_outside_unit_interval_are_rejected(loss, label):
    s = np.full(2, 0.5, np.float32)
    with pytest.raises(ValueError, match=rf"{label} must lie in \[0.0, 1.0\]; got 1.1"):
        loss(s, s, **{label: 1.1})
    with pytest.raises(ValueError, match=rf"{label} must lie in \[0.0, 1.0\]; got -0.1"):
        loss(s, s, **{label: -0.1})


@pytest.mark.parametrize("eps", [0.0, 0.5, -1e-3])
def test_bad_eps_is_rejected(eps):
    s = np.full(2, 0.5, np.float32)
    with pytest.raises(ValueError, match=r"eps must lie in \(0.0, 0.5\)"):
        adv.vanilla_generator_loss(s, eps=eps)
    with pytest.raises(ValueError, match=r"eps must lie in \(0.0, 0.5\)"):
        adv.vanilla_discriminator_loss(s, s, eps=eps)


def test_traced_labels_are_accepted():
    r, f = draw(10, (4,), "real"), draw(11, (4,), "real")
    fn = jax.jit(
        lambda t: adv.vanilla_discriminator_loss_from_logits(r, f, real_label=t, fake_label=0.0)
    )
    np.testing.assert_allclose(
        fn(0.8), adv.vanilla_discriminator_loss_from_logits(r, f, real_label=0.8), rtol=1e-6
    )


# -- choosing an objective by name ---------------------------------------------------------


def test_objective_by_name_is_the_named_loss():
    from artifex.generative_models.core.losses import (
        ADVERSARIAL_LOSS_TYPES,
        adversarial_discriminator_loss,
        adversarial_generator_loss,
    )

    real = jnp.array([[1.5], [-0.5], [0.25]])
    fake = jnp.array([[-1.0], [0.75], [2.0]])
    expected_d = {
        "vanilla": adv.vanilla_discriminator_loss_from_logits(real, fake, real_label=0.9),
        "least_squares": adv.least_squares_discriminator_loss(
            real, fake, target_real=0.5, target_fake=-0.5
        ),
        "wasserstein": adv.wasserstein_discriminator_loss(real, fake),
        "hinge": adv.hinge_discriminator_loss(real, fake),
    }
    expected_g = {
        "vanilla": adv.vanilla_generator_loss_from_logits(fake),
        "least_squares": adv.least_squares_generator_loss(fake, target_real=0.25),
        "wasserstein": adv.wasserstein_generator_loss(fake),
        "hinge": adv.hinge_generator_loss(fake),
    }
    assert set(ADVERSARIAL_LOSS_TYPES) == set(expected_d)
    for name in ADVERSARIAL_LOSS_TYPES:
        d = adversarial_discriminator_loss(
            name, real, fake, real_label=0.9, least_squares_targets=(-0.5, 0.5)
        )
        g = adversarial_generator_loss(name, fake, least_squares_target=0.25)
        assert float(d) == pytest.approx(float(expected_d[name]), rel=1e-6), name
        assert float(g) == pytest.approx(float(expected_g[name]), rel=1e-6), name
    # Least squares by hand: 0.5 * mean((real - b)^2) + 0.5 * mean((fake - a)^2).
    by_hand = 0.5 * np.mean((np.asarray(real) - 0.5) ** 2) + 0.5 * np.mean(
        (np.asarray(fake) + 0.5) ** 2
    )
    assert float(expected_d["least_squares"]) == pytest.approx(by_hand, rel=1e-6)
    with pytest.raises(ValueError, match=r"loss_type='bce': must be one of vanilla, least_squares"):
        adversarial_discriminator_loss("bce", real, fake)
    with pytest.raises(ValueError, match="loss_type='bce'"):
        adversarial_generator_loss("bce", fake)
