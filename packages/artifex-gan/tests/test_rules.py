"""The shared training rules (``_rules.py``) against NumPy formulas on tiny inputs.

Every expected number here is computed independently in NumPy: the critics are hand-made
stand-ins (``LinearCritic``: ``logits(x) = flatten(x) @ w + bias``; ``QuadraticCritic``:
``logits(x) = 0.5 * sum(q * x**2)``) whose values and input gradients are known in closed
form. The last section checks that the models' seed API (``loss_fn``,
``WGAN.discriminator_loss``, ``compute_gradient_penalty``, ``clip_critic_weights``) gives
the same numbers as the rules the compiled training step calls, on tiny real models.

The family rules (conditional, style-based, progressive, CycleGAN) are in
``test_rules_families.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ProgressiveGANConfig,
    ProgressiveGeneratorConfig,
)
from artifex.generative_models.models.gan import GAN, LSGAN, WGAN, compute_gradient_penalty
from artifex.generative_models.models.gan._rules import (
    LatentRules,
    Objective,
    TrainingRules,
    check_batch_shapes,
    critic_terms,
    functional_critic,
    when_due,
)

# -- NumPy references -----------------------------------------------------------------


def np_log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def per_sample(x: np.ndarray) -> np.ndarray:
    """Mean over every axis but the batch axis."""
    x = np.asarray(x, np.float64)
    return x.reshape(x.shape[0], -1).mean(axis=1)


def np_reduce(x: np.ndarray, reduction: str) -> float:
    return float(x.sum() if reduction == "sum" else x.mean())


def np_discriminator_loss(
    loss_type: str,
    real: np.ndarray,
    fake: np.ndarray,
    *,
    smoothing: float = 0.0,
    targets: tuple[float, float, float] = (0.0, 1.0, 1.0),
    reduction: str = "mean",
) -> float:
    """The four discriminator losses written out (LSGAN with the usual factor 1/2)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    a, b, _ = targets
    if loss_type == "vanilla":
        label = 1.0 - smoothing
        r = -(label * np_log_sigmoid(real) + (1 - label) * np_log_sigmoid(-real))
        f = -np_log_sigmoid(-fake)
    elif loss_type == "least_squares":
        r, f = 0.5 * (real - b) ** 2, 0.5 * (fake - a) ** 2
    elif loss_type == "wasserstein":
        r, f = -real, fake
    elif loss_type == "hinge":
        r, f = np.maximum(0.0, 1.0 - real), np.maximum(0.0, 1.0 + fake)
    else:
        raise AssertionError(loss_type)
    return np_reduce(per_sample(r) + per_sample(f), reduction)


def np_generator_loss(
    loss_type: str,
    fake: np.ndarray,
    *,
    targets: tuple[float, float, float] = (0.0, 1.0, 1.0),
    reduction: str = "mean",
) -> float:
    fake = np.asarray(fake, np.float64)
    if loss_type == "vanilla":
        f = -np_log_sigmoid(fake)
    elif loss_type == "least_squares":
        f = 0.5 * (fake - targets[2]) ** 2
    else:  # wasserstein and hinge: -E[D(G(z))]
        f = -fake
    return np_reduce(per_sample(f), reduction)


def np_score(loss_type: str, logits: np.ndarray) -> float:
    logits = np.asarray(logits, np.float64)
    return float((1 / (1 + np.exp(-logits)) if loss_type == "vanilla" else logits).mean())


# -- stand-in networks ----------------------------------------------------------------


class LinearCritic(nnx.Module):
    """``logits(x) = flatten(x) @ w + bias`` (shape ``(B, 1)``); gradient w.r.t. x: ``w``."""

    def __init__(self, w: np.ndarray, bias: float = 0.0):
        self.w = nnx.Param(jnp.asarray(w, jnp.float32))
        self.bias = nnx.Param(jnp.asarray(bias, jnp.float32))

    def logits(self, x: jax.Array, *context: Any, training: bool | None = None) -> jax.Array:
        flat = x.reshape(x.shape[0], -1).astype(jnp.float32)
        return (flat @ self.w[...] + self.bias[...])[:, None]

    def numpy(self, x: np.ndarray) -> np.ndarray:
        """The same logits in NumPy (float64)."""
        flat = np.asarray(x, np.float64).reshape(len(x), -1)
        return (flat @ np.asarray(self.w[...], np.float64) + float(self.bias[...]))[:, None]


class QuadraticCritic(nnx.Module):
    """``logits(x) = 0.5 * sum(q * x**2)``; gradient w.r.t. x: ``q * x``."""

    def __init__(self, q: np.ndarray):
        self.q = nnx.Param(jnp.asarray(q, jnp.float32))

    def logits(self, x: jax.Array, *context: Any, training: bool | None = None) -> jax.Array:
        flat = x.reshape(x.shape[0], -1)
        return 0.5 * jnp.sum(self.q[...] * flat**2, axis=1, keepdims=True)


class AffineGenerator:
    """``g(z) = reshape(z @ a)``: a plain callable that records each call's latents."""

    def __init__(self, a: np.ndarray, shape: tuple[int, ...]):
        self.a = jnp.asarray(a)
        self.shape = shape
        self.calls: list[dict[str, Any]] = []

    def __call__(self, z: jax.Array, *context: Any, training: bool | None = None) -> jax.Array:
        self.calls.append({"z": z, "context": context, "training": training})
        return (z @ self.a.astype(z.dtype)).reshape(z.shape[0], *self.shape)


RNG = np.random.default_rng(1234)
SHAPE = (2, 2, 3)  # one tiny image, 12 values
DIM = int(np.prod(SHAPE))


def rand(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * RNG.standard_normal(shape)).astype(np.float32)


def key(seed: int = 0) -> jax.Array:
    return jax.random.key(seed)


# -- Objective: the four losses -------------------------------------------------------

LOSS_CASES = [
    ("vanilla", {}),
    ("vanilla", {"label_smoothing": 0.1}),
    ("least_squares", {}),
    ("least_squares", {"ls_targets": (-1.0, 1.0, 0.0)}),
    ("least_squares", {"ls_targets": (-1.0, 1.0, 0.0), "reduction": "sum"}),
    ("wasserstein", {}),
    ("hinge", {}),
]


@pytest.mark.parametrize("logit_shape", [(5, 1), (3, 2, 2, 1)], ids=["scalar", "patch"])
@pytest.mark.parametrize(("loss_type", "options"), LOSS_CASES)
def test_objective_losses_match_numpy(
    loss_type: str, options: dict[str, Any], logit_shape: tuple[int, ...]
) -> None:
    real, fake = rand(*logit_shape, scale=2.0), rand(*logit_shape, scale=2.0)
    objective = Objective(loss_type=loss_type, **options)
    expected = {
        "smoothing": options.get("label_smoothing", 0.0),
        "targets": options.get("ls_targets", (0.0, 1.0, 1.0)),
        "reduction": options.get("reduction", "mean"),
    }
    d_loss = objective.discriminator_loss(jnp.asarray(real), jnp.asarray(fake))
    g_loss = objective.generator_loss(jnp.asarray(fake))
    assert d_loss.dtype == jnp.float32 and d_loss.shape == ()
    np.testing.assert_allclose(
        float(d_loss), np_discriminator_loss(loss_type, real, fake, **expected), rtol=1e-5
    )
    del expected["smoothing"]
    np.testing.assert_allclose(
        float(g_loss), np_generator_loss(loss_type, fake, **expected), rtol=1e-5
    )


def test_objective_losses_differ_between_types() -> None:
    """The parametrized reference above really distinguishes the losses."""
    real, fake = rand(6, 1), rand(6, 1)
    values = {
        t: float(Objective(loss_type=t).discriminator_loss(jnp.asarray(real), jnp.asarray(fake)))
        for t in ("vanilla", "least_squares", "wasserstein", "hinge")
    }
    assert len({round(v, 6) for v in values.values()}) == 4


def test_label_smoothing_matters_and_is_one_sided() -> None:
    real, fake = rand(6, 1), rand(6, 1)
    plain = Objective().discriminator_loss(jnp.asarray(real), jnp.asarray(fake))
    smooth = Objective(label_smoothing=0.2).discriminator_loss(jnp.asarray(real), jnp.asarray(fake))
    assert abs(float(plain) - float(smooth)) > 1e-4
    # The fake term is untouched: with all-real logits equal, only the real part moves.
    delta = float(smooth) - float(plain)
    r = real.astype(np.float64)
    expected = float(np.mean(-0.8 * np_log_sigmoid(r) - 0.2 * np_log_sigmoid(-r))) - float(
        np.mean(-np_log_sigmoid(r))
    )
    np.testing.assert_allclose(delta, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("loss_type", ["vanilla", "least_squares", "wasserstein", "hinge"])
def test_objective_score(loss_type: str) -> None:
    logits = rand(7, 1, scale=3.0)
    np.testing.assert_allclose(
        float(Objective(loss_type=loss_type).score(jnp.asarray(logits))),
        np_score(loss_type, logits),
        rtol=1e-5,
    )


def test_objective_refuses_bad_values() -> None:
    with pytest.raises(ValueError, match=r"Objective\.loss_type='bogus': must be one of .*hinge"):
        Objective(loss_type="bogus")
    with pytest.raises(ValueError, match=r"Objective\.r1_interval=0: must be >= 1"):
        Objective(r1_interval=0)


# -- Objective.from_config ------------------------------------------------------------


def test_from_config_gan(tiny: Any) -> None:
    objective = Objective.from_config(tiny.mlp_config(label_smoothing=0.1))
    assert objective == Objective(loss_type="vanilla", label_smoothing=0.1)
    assert not objective.penalized


def test_from_config_lsgan(tiny: Any) -> None:
    config = tiny.lsgan_config(a=-1.0, b=1.0, c=0.0, reduction="sum")
    assert Objective.from_config(config) == Objective(
        loss_type="least_squares", ls_targets=(-1.0, 1.0, 0.0), reduction="sum"
    )


def test_from_config_wgan_gradient_penalty_or_clipping(tiny: Any) -> None:
    gp = Objective.from_config(tiny.wgan_config(gradient_penalty_weight=5.0))
    assert gp == Objective(loss_type="wasserstein", gradient_penalty_weight=5.0)
    assert gp.penalized
    clip = Objective.from_config(tiny.wgan_config(use_gradient_penalty=False, clip_value=0.02))
    assert clip == Objective(loss_type="wasserstein", gradient_penalty_weight=0.0)
    assert not clip.penalized


def test_from_config_overrides(tiny: Any) -> None:
    config = tiny.mlp_config(label_smoothing=0.1)
    objective = Objective.from_config(
        config, loss_type="hinge", label_smoothing=0.0, r1_weight=2.0, r1_interval=4
    )
    assert objective == Objective(
        loss_type="hinge", label_smoothing=0.0, r1_weight=2.0, r1_interval=4
    )
    assert objective.penalized
    # None keeps the config's values.
    assert Objective.from_config(config, loss_type=None).label_smoothing == 0.1


# -- Objective.penalties ---------------------------------------------------------------


def test_gradient_penalty_of_a_linear_critic_is_analytic() -> None:
    """``D(x) = w.x``: every input gradient is ``w``, so GP = weight * (|w| - 1)^2."""
    w = rand(DIM, scale=0.7)
    critic = LinearCritic(w, bias=0.3)
    objective = Objective(loss_type="wasserstein", gradient_penalty_weight=10.0)
    real, fake = jnp.asarray(rand(4, *SHAPE)), jnp.asarray(rand(4, *SHAPE))
    terms = objective.penalties(critic.logits, real, fake, key(1), 0)
    assert set(terms) == {"gradient_penalty"}
    norm = np.linalg.norm(w.astype(np.float64))
    np.testing.assert_allclose(float(terms["gradient_penalty"]), 10.0 * (norm - 1) ** 2, rtol=1e-4)
    # Independent of where the interpolates fall (the key).
    other = objective.penalties(critic.logits, real, fake, key(2), 5)["gradient_penalty"]
    np.testing.assert_allclose(float(other), float(terms["gradient_penalty"]), rtol=1e-6)


def test_gradient_penalty_does_not_reach_the_fakes() -> None:
    critic = QuadraticCritic(rand(DIM) ** 2)
    objective = Objective(loss_type="wasserstein", gradient_penalty_weight=1.0)
    real = jnp.asarray(rand(3, *SHAPE))

    def penalty(fake: jax.Array) -> jax.Array:
        return objective.penalties(critic.logits, real, fake, key(0), 0)["gradient_penalty"]

    grad = jax.grad(penalty)(jnp.asarray(rand(3, *SHAPE)))
    assert float(jnp.abs(grad).max()) == 0.0
    assert float(penalty(jnp.asarray(rand(3, *SHAPE)))) > 0


def test_r1_of_a_quadratic_critic_is_analytic() -> None:
    """``D(x) = 0.5 sum(q x^2)``: gradient ``q x``, R1 = weight/2 * E|q x|^2."""
    q = rand(DIM)
    critic = QuadraticCritic(q)
    real = rand(5, *SHAPE)
    objective = Objective(r1_weight=3.0)
    terms = objective.penalties(
        critic.logits, jnp.asarray(real), jnp.asarray(rand(5, *SHAPE)), key(), 0
    )
    assert set(terms) == {"r1"}
    grads = q.astype(np.float64) * real.reshape(5, -1).astype(np.float64)
    expected = 0.5 * 3.0 * np.mean(np.sum(grads**2, axis=1))
    np.testing.assert_allclose(float(terms["r1"]), expected, rtol=1e-5)


def test_lazy_r1_is_zero_off_steps_and_scaled_on_due_steps() -> None:
    q = rand(DIM)
    critic = QuadraticCritic(q)
    real = rand(4, *SHAPE)
    grads = q.astype(np.float64) * real.reshape(4, -1).astype(np.float64)
    every_step = 0.5 * 2.0 * np.mean(np.sum(grads**2, axis=1))
    objective = Objective(r1_weight=2.0, r1_interval=4)
    fake = jnp.asarray(rand(4, *SHAPE))
    for iteration in range(9):
        r1 = objective.penalties(critic.logits, jnp.asarray(real), fake, key(), iteration)["r1"]
        expected = 4 * every_step if iteration % 4 == 0 else 0.0
        np.testing.assert_allclose(float(r1), expected, rtol=1e-5, err_msg=f"{iteration=}")
    # A traced iteration (the compiled step's) follows the same schedule.
    traced = jax.jit(
        lambda i: objective.penalties(critic.logits, jnp.asarray(real), fake, key(), i)["r1"]
    )
    assert float(traced(jnp.asarray(3))) == 0.0
    np.testing.assert_allclose(float(traced(jnp.asarray(8))), 4 * every_step, rtol=1e-5)


def test_lazy_r1_with_a_known_phase_is_decided_while_tracing() -> None:
    # An unrolled dispatch compiles each iteration with its phase: R1 is then in the
    # program or not (no lax.cond), with the same value as the run-time choice.
    q = rand(DIM)
    critic = QuadraticCritic(q)
    real, fake = jnp.asarray(rand(4, *SHAPE)), jnp.asarray(rand(4, *SHAPE))
    objective = Objective(r1_weight=2.0, r1_interval=4)
    assert objective.lazy_intervals == (4,)
    assert Objective(r1_weight=2.0).lazy_intervals == Objective(r1_interval=4).lazy_intervals == ()
    for phase in range(4):
        fixed = dataclasses.replace(objective, lazy_phase=phase)

        def r1(iteration: Any, fixed: Objective = fixed) -> jax.Array:
            return fixed.penalties(critic.logits, real, fake, key(), iteration)["r1"]

        # The traced iteration is ignored: the phase decides.
        program = jax.make_jaxpr(r1)(jnp.asarray(0))
        assert "cond" not in str(program), phase
        expected = objective.penalties(critic.logits, real, fake, key(), phase)["r1"]
        np.testing.assert_allclose(float(jax.jit(r1)(jnp.asarray(0))), float(expected), rtol=1e-6)
        assert (float(expected) > 0) == (phase == 0)
    # Without a phase the choice stays in the program.
    traced = jax.make_jaxpr(
        lambda i: objective.penalties(critic.logits, real, fake, key(), i)["r1"]
    )(jnp.asarray(0))
    assert "cond" in str(traced)


def test_when_due_runs_one_branch_for_a_phase_and_conds_without() -> None:
    def due(x: jax.Array) -> jax.Array:
        return x + 1.0

    def skipped(x: jax.Array) -> jax.Array:
        return x - 1.0

    for iteration in range(7):
        static = when_due(3, iteration, iteration % 3, due, skipped, jnp.zeros(()))
        dynamic = jax.jit(lambda i: when_due(3, i, None, due, skipped, jnp.zeros(())))(iteration)
        assert float(static) == float(dynamic) == (1.0 if iteration % 3 == 0 else -1.0)


def test_when_due_every_iteration_holds_no_cond() -> None:
    # R1 every iteration (r1_interval=1, the default) is not lazy: no phase is known, and a
    # lax.cond around the penalty would run its convolutions ~10x slower on XLA:CPU.
    def due(x: jax.Array) -> jax.Array:
        return x + 1.0

    def skipped(x: jax.Array) -> jax.Array:
        return x - 1.0

    program = jax.make_jaxpr(lambda i: when_due(1, i, None, due, skipped, jnp.zeros(())))
    assert "cond" not in str(program(jnp.asarray(5)))
    q = rand(DIM)
    critic = QuadraticCritic(q)
    real, fake = jnp.asarray(rand(4, *SHAPE)), jnp.asarray(rand(4, *SHAPE))
    objective = Objective(r1_weight=2.0)
    traced = jax.make_jaxpr(
        lambda i: objective.penalties(critic.logits, real, fake, key(), i)["r1"]
    )(jnp.asarray(3))
    assert "cond" not in str(traced)
    grads = q.astype(np.float64) * np.asarray(real, np.float64).reshape(4, -1)
    expected = 0.5 * 2.0 * np.mean(np.sum(grads**2, axis=1))
    r1 = jax.jit(lambda i: objective.penalties(critic.logits, real, fake, key(), i)["r1"])
    np.testing.assert_allclose(float(r1(jnp.asarray(3))), expected, rtol=1e-5)


def test_rules_at_a_lazy_phase_are_equal_when_the_same_terms_are_due() -> None:
    shapes = {"latent_dim": 3, "image_shape": (4,)}
    rules = LatentRules(objective=Objective(r1_weight=1.0, r1_interval=4), **shapes)
    assert rules.lazy_intervals() == (4,)
    phased = [rules.at_lazy_phase(i) for i in range(9)]
    assert [p.objective.lazy_phase for p in phased] == [0, 1, 1, 1, 0, 1, 1, 1, 0]
    assert len(set(phased)) == 2 and phased[0] == phased[8] != phased[1] == phased[3]
    # No lazy term: the rules themselves, one program.
    plain = LatentRules(objective=Objective(r1_weight=1.0), **shapes)
    assert plain.lazy_intervals() == () and plain.at_lazy_phase(3) is plain


def test_penalties_combined_and_none() -> None:
    w = rand(DIM)
    critic = LinearCritic(w)
    real, fake = jnp.asarray(rand(3, *SHAPE)), jnp.asarray(rand(3, *SHAPE))
    assert Objective().penalties(critic.logits, real, fake, key(), 0) == {}
    terms = Objective(gradient_penalty_weight=2.0, r1_weight=1.0).penalties(
        critic.logits, real, fake, key(), 0
    )
    norm = np.linalg.norm(w.astype(np.float64))
    np.testing.assert_allclose(float(terms["gradient_penalty"]), 2.0 * (norm - 1) ** 2, rtol=1e-4)
    np.testing.assert_allclose(float(terms["r1"]), 0.5 * norm**2, rtol=1e-5)


# -- functional_critic ----------------------------------------------------------------


class TanhCritic(nnx.Module):
    """A small nonlinear critic: ``v . tanh(W x + c)``."""

    def __init__(self, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(DIM, 5, rngs=rngs)
        self.out = nnx.Linear(5, 1, rngs=rngs)

    def logits(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        return self.out(jnp.tanh(self.hidden(x.reshape(x.shape[0], -1))))

    def numpy(self, x: np.ndarray) -> np.ndarray:
        w1, b1 = (np.asarray(p[...], np.float64) for p in (self.hidden.kernel, self.hidden.bias))
        w2, b2 = (np.asarray(p[...], np.float64) for p in (self.out.kernel, self.out.bias))
        return np.tanh(x.reshape(len(x), -1) @ w1 + b1) @ w2 + b2


def test_functional_critic_gradient_equals_finite_differences() -> None:
    module = TanhCritic(nnx.Rngs(0))
    critic = functional_critic(module, lambda copy, x: copy.logits(x))
    x = rand(2, *SHAPE)
    grad = np.asarray(jax.grad(lambda x: jnp.sum(critic(x)))(jnp.asarray(x)), np.float64)
    x64, h = x.astype(np.float64), 1e-5
    numeric = np.zeros_like(x64)
    for index in np.ndindex(x64.shape):
        step = np.zeros_like(x64)
        step[index] = h
        numeric[index] = (module.numpy(x64 + step).sum() - module.numpy(x64 - step).sum()) / (2 * h)
    assert np.abs(numeric).max() > 1e-2  # a real gradient, not zeros
    np.testing.assert_allclose(grad, numeric, rtol=1e-3, atol=1e-5)


class BatchNormCritic(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.norm = nnx.BatchNorm(DIM, momentum=0.5, rngs=rngs)
        self.out = nnx.Linear(DIM, 1, rngs=rngs)

    def logits(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        h = self.norm(x.reshape(x.shape[0], -1), use_running_average=not training)
        return self.out(h)


def test_functional_critic_leaves_batch_norm_statistics_alone() -> None:
    module = BatchNormCritic(nnx.Rngs(0))
    before = [np.array(v) for v in jax.tree.leaves(nnx.state(module, nnx.BatchStat))]
    critic = functional_critic(module, lambda copy, x: copy.logits(x, training=True))
    x = jnp.asarray(rand(4, *SHAPE) + 3.0)
    grad = jax.grad(lambda x: jnp.sum(critic(x) ** 2))(x)
    assert float(jnp.abs(grad).max()) > 0
    after = [np.array(v) for v in jax.tree.leaves(nnx.state(module, nnx.BatchStat))]
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    # The same call on the module itself does move them (so the check above can fail).
    module.logits(x, training=True)
    moved = [np.array(v) for v in jax.tree.leaves(nnx.state(module, nnx.BatchStat))]
    assert any(not np.array_equal(b, m) for b, m in zip(before, moved, strict=True))


# -- LatentRules ----------------------------------------------------------------------


def latent_rules(**options: Any) -> LatentRules:
    return LatentRules(latent_dim=3, image_shape=SHAPE, **options)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_latent_fakes_shapes_and_dtype(dtype: Any) -> None:
    rules = latent_rules()
    g = AffineGenerator(rand(3, DIM), SHAPE)
    real = {"image": jnp.zeros((5, *SHAPE), dtype)}
    fakes = rules.fakes(g, real, key(3), jnp.asarray(0))
    assert fakes["image"].shape == (5, *SHAPE)
    assert fakes["image"].dtype == dtype
    assert fakes["context"] == ()
    (call,) = g.calls
    assert call["z"].shape == (5, 3) and call["z"].dtype == dtype
    assert call["training"] is True
    # Fresh latents per key; the same key gives the same fakes.
    again = rules.fakes(g, real, key(3), jnp.asarray(0))["image"]
    other = rules.fakes(g, real, key(4), jnp.asarray(0))["image"]
    np.testing.assert_array_equal(
        np.asarray(again, np.float32), np.asarray(fakes["image"], np.float32)
    )
    assert not np.allclose(np.asarray(other, np.float32), np.asarray(fakes["image"], np.float32))


def test_latent_training_mode_reaches_the_networks() -> None:
    g = AffineGenerator(rand(3, DIM), SHAPE)
    latent_rules(training=None).fakes(g, {"image": jnp.zeros((2, *SHAPE))}, key(), jnp.asarray(0))
    assert g.calls[0]["training"] is None


@pytest.mark.parametrize(
    ("loss_type", "extra"),
    [("vanilla", {"label_smoothing": 0.1}), ("least_squares", {}), ("hinge", {})],
)
def test_latent_discriminator_loss_matches_numpy(loss_type: str, extra: dict[str, Any]) -> None:
    d = LinearCritic(rand(DIM, scale=0.5), bias=0.2)
    rules = latent_rules(objective=Objective(loss_type=loss_type, **extra))
    real, fake = rand(4, *SHAPE), rand(4, *SHAPE)
    loss, metrics = rules.discriminator_loss(
        d,
        {"image": jnp.asarray(real)},
        {"image": jnp.asarray(fake), "context": ()},
        key(),
        jnp.asarray(0),
    )
    r, f = d.numpy(real), d.numpy(fake)
    np.testing.assert_allclose(
        float(loss),
        np_discriminator_loss(loss_type, r, f, smoothing=extra.get("label_smoothing", 0.0)),
        rtol=1e-5,
    )
    assert set(metrics) == {"real_score", "fake_score"}
    np.testing.assert_allclose(float(metrics["real_score"]), np_score(loss_type, r), rtol=1e-5)
    np.testing.assert_allclose(float(metrics["fake_score"]), np_score(loss_type, f), rtol=1e-5)


def test_latent_discriminator_loss_adds_the_gradient_penalty() -> None:
    w = rand(DIM, scale=0.5)
    d = LinearCritic(w)
    rules = latent_rules(objective=Objective(loss_type="wasserstein", gradient_penalty_weight=10.0))
    real, fake = rand(4, *SHAPE), rand(4, *SHAPE)
    loss, metrics = rules.discriminator_loss(
        d,
        {"image": jnp.asarray(real)},
        {"image": jnp.asarray(fake), "context": ()},
        key(),
        jnp.asarray(0),
    )
    gp = 10.0 * (np.linalg.norm(w.astype(np.float64)) - 1) ** 2
    expected = np_discriminator_loss("wasserstein", d.numpy(real), d.numpy(fake)) + gp
    np.testing.assert_allclose(float(metrics["gradient_penalty"]), gp, rtol=1e-4)
    np.testing.assert_allclose(float(loss), expected, rtol=1e-4)


@pytest.mark.parametrize("loss_type", ["vanilla", "least_squares", "wasserstein"])
def test_latent_generator_loss_matches_numpy(loss_type: str) -> None:
    d = LinearCritic(rand(DIM, scale=0.5), bias=-0.1)
    g = AffineGenerator(rand(3, DIM), SHAPE)
    rules = latent_rules(objective=Objective(loss_type=loss_type))
    real = {"image": jnp.zeros((6, *SHAPE))}
    loss, metrics = rules.generator_loss(g, d, real, key(7), jnp.asarray(0))
    assert metrics == {}
    # The generator is judged on the fakes of the same key: g(z) with the same latents.
    z = np.asarray(rules.fakes(g, real, key(7), jnp.asarray(0))["image"])
    # (atol: the Wasserstein loss is a mean of scores of both signs, near 0, where float32's
    # summation order alone moves the relative error past 1e-5.)
    expected = np_generator_loss(loss_type, d.numpy(z))
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5, atol=1e-6)
    z_used = np.asarray(g.calls[0]["z"], np.float64)
    images = (z_used @ np.asarray(g.a, np.float64)).reshape(6, *SHAPE)
    np.testing.assert_allclose(
        float(loss), np_generator_loss(loss_type, d.numpy(images)), rtol=1e-4
    )


def test_after_discriminator_update_clips_every_parameter() -> None:
    d = LinearCritic(rand(DIM, scale=0.1), bias=0.5)
    before = [np.array(p) for p in jax.tree.leaves(nnx.state(d, nnx.Param))]
    latent_rules().after_discriminator_update(d)  # critic_clip=None: untouched
    for b, a in zip(before, jax.tree.leaves(nnx.state(d, nnx.Param)), strict=True):
        np.testing.assert_array_equal(np.asarray(a), b)
    latent_rules(critic_clip=0.05).after_discriminator_update(d)
    after = [np.array(p) for p in jax.tree.leaves(nnx.state(d, nnx.Param))]
    assert any(np.abs(b).max() > 0.05 for b in before)
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, np.clip(b, -0.05, 0.05))


def test_check_batch_shapes_messages() -> None:
    shapes = {"image": SHAPE}
    check_batch_shapes(shapes, {"image": np.zeros((2, 4, *SHAPE))})
    with pytest.raises(ValueError, match=r"no 'image' entry \(it has \['images'\]\)"):
        check_batch_shapes(shapes, {"images": np.zeros((2, 4, *SHAPE))})
    with pytest.raises(
        ValueError,
        match=r"'image' holds examples of shape \(3, 2, 2\); the model expects \(2, 2, 3\)",
    ):
        check_batch_shapes(shapes, {"image": np.zeros((2, 4, 3, 2, 2))})
    rules = latent_rules()
    with pytest.raises(ValueError, match=r"examples of shape \(2, 2\)"):
        rules.check_batch({"image": np.zeros((1, 4, 2, 2))})


def test_latent_rules_protocol_and_phases() -> None:
    rules = latent_rules(n_critic=3)
    assert isinstance(rules, TrainingRules)
    assert rules.phase_starts() == ()
    assert rules.phase_at(0) is rules and rules.phase_at(12345) is rules
    assert hash(rules) == hash(latent_rules(n_critic=3))
    assert rules.batch_shapes() == {"image": SHAPE}


# -- The progressive schedule's closed form vs the old loop ----------------------------


def loop_stage_at(stable: int, transition: int, stages: int, step: int) -> tuple[int, float]:
    """The schedule as a loop: stage 0 stable, then per stage a fade-in and a stable phase."""
    t = stable
    if step < t:
        return 0, 1.0
    for stage in range(1, stages):
        for i in range(transition):
            if step == t + i:
                return stage, i / transition
        t += transition
        if step < t + stable:
            return stage, 1.0
        t += stable
    return stages - 1, 1.0


@pytest.mark.parametrize(
    ("stable", "transition", "stages"), [(3, 2, 3), (2, 0, 3), (1, 4, 4), (5, 3, 1)]
)
def test_stage_at_equals_the_loop(stable: int, transition: int, stages: int) -> None:
    config = ProgressiveGANConfig(
        generator=ProgressiveGeneratorConfig(latent_dim=4, max_channels=8, num_stages=stages),
        stable_steps=stable,
        transition_steps=transition,
    )
    total = stages * stable + (stages - 1) * transition
    assert config.total_steps == total
    for step in range(total + 4):
        stage, alpha = config.stage_at(step)
        want_stage, want_alpha = loop_stage_at(stable, transition, stages, step)
        assert stage == want_stage, step
        assert alpha == pytest.approx(want_alpha, abs=1e-12), step
    with pytest.raises(ValueError, match="step=-1: must be >= 0"):
        config.stage_at(-1)


# -- The seed API and the rules agree (tiny real models) ---------------------------------


def rules_discriminator_loss(
    model: Any, real: jax.Array, seed: int, training: bool
) -> tuple[jax.Array, jax.Array]:
    """The rules' discriminator loss on the fakes and keys ``loss_fn(rngs=Rngs(sample=seed))`` uses.

    ``loss_fn`` draws the latents' key first and the penalty's key second from ``sample``.
    """
    rngs = nnx.Rngs(sample=seed)
    z_key, penalty_key = rngs.sample(), rngs.sample()
    z = jax.random.normal(z_key, (real.shape[0], model.latent_dim))
    fake = model.generator(z, training=training)
    rules = model.training_rules(training=training)
    loss, _ = rules.discriminator_loss(
        model.discriminator, {"image": real}, {"image": fake, "context": ()}, penalty_key, 0
    )
    return loss, fake


@pytest.fixture(scope="module")
def models(tiny: Any) -> dict[str, Any]:
    with tiny.fast_prng_scope():
        return {
            "gan": GAN(tiny.mlp_config(shape=(6, 6, 1)), rngs=nnx.Rngs(0)),
            "wgan": WGAN(tiny.wgan_config(shape=(1, 8, 8)), rngs=nnx.Rngs(1)),
            "lsgan": LSGAN(
                tiny.lsgan_config(shape=(8, 8, 1), a=-1.0, b=1.0, c=0.0, reduction="sum"),
                rngs=nnx.Rngs(2),
            ),
        }


@pytest.mark.parametrize("name", ["gan", "wgan", "lsgan"])
def test_loss_fn_agrees_with_the_rules(models: dict[str, Any], tiny: Any, name: str) -> None:
    model = models[name]
    real = tiny.images(model.sample_shape, batch=4, seed=5)
    out = model.loss_fn(real, None, rngs=nnx.Rngs(sample=11), training=True)
    expected, fake = rules_discriminator_loss(model, real, 11, True)
    np.testing.assert_allclose(float(out["discriminator_loss"]), float(expected), rtol=1e-5)
    # And both equal the NumPy formula on the discriminator's logits (+ the penalty).
    objective = model.training_rules().objective
    r = np.asarray(model.discriminator.logits(real, training=True), np.float64)
    f = np.asarray(model.discriminator.logits(fake, training=True), np.float64)
    formula = np_discriminator_loss(
        objective.loss_type,
        r,
        f,
        smoothing=objective.label_smoothing,
        targets=objective.ls_targets,
        reduction=objective.reduction,
    )
    np.testing.assert_allclose(
        float(out["generator_loss"]),
        np_generator_loss(
            objective.loss_type, f, targets=objective.ls_targets, reduction=objective.reduction
        ),
        rtol=1e-4,
    )
    if objective.penalized:  # the WGAN: the rest is the penalty, which is positive
        assert float(out["discriminator_loss"]) > formula
    else:
        np.testing.assert_allclose(float(out["discriminator_loss"]), formula, rtol=1e-4)


def test_loss_fn_agrees_with_critic_terms_on_the_same_logits(
    models: dict[str, Any], tiny: Any
) -> None:
    model = models["wgan"]
    real = tiny.images(model.sample_shape, batch=4, seed=6)
    out = model.loss_fn(real, None, rngs=nnx.Rngs(sample=3), training=True)
    _, fake = rules_discriminator_loss(model, real, 3, True)
    rngs = nnx.Rngs(sample=3)
    rngs.sample()
    penalty_key = rngs.sample()
    d = model.discriminator
    logits = (d.logits(real, training=True), d.logits(fake, training=True))
    loss, terms = critic_terms(
        model.training_rules().objective,
        d,
        lambda copy, x: copy.logits(x, training=True),
        real,
        fake,
        logits,
        penalty_key,
        0,
    )
    assert float(terms["gradient_penalty"]) > 0
    np.testing.assert_allclose(float(out["discriminator_loss"]), float(loss), rtol=1e-5)


def test_wgan_seed_api_agrees_with_the_rules(models: dict[str, Any], tiny: Any) -> None:
    model = models["wgan"]
    real = tiny.images(model.sample_shape, batch=4, seed=7)
    fake = tiny.images(model.sample_shape, batch=4, seed=8)
    penalty_key = nnx.Rngs(sample=9).sample()
    rules = model.training_rules(training=False)
    expected, metrics = rules.discriminator_loss(
        model.discriminator, {"image": real}, {"image": fake, "context": ()}, penalty_key, 0
    )
    seed_loss = model.discriminator_loss(real, fake, nnx.Rngs(sample=9), training=False)
    np.testing.assert_allclose(float(seed_loss), float(expected), rtol=1e-5)
    gp = compute_gradient_penalty(
        model.discriminator, real, fake, penalty_key, lambda_gp=10.0, training=False
    )
    np.testing.assert_allclose(float(gp), float(metrics["gradient_penalty"]), rtol=1e-5)
    f = np.asarray(model.discriminator.logits(fake, training=False), np.float64)
    np.testing.assert_allclose(
        float(model.generator_loss(fake, training=False)),
        np_generator_loss("wasserstein", f),
        rtol=1e-5,
    )


def test_wgan_clipping_is_the_rules_clipping(tiny: Any) -> None:
    config = tiny.wgan_config(shape=(1, 8, 8), use_gradient_penalty=False, clip_value=0.01)
    model = WGAN(config, rngs=nnx.Rngs(4))
    rules = model.training_rules()
    assert rules.critic_clip == 0.01 and rules.n_critic == config.critic_iterations
    before = tiny.params_of(model.discriminator)
    assert max(np.abs(p).max() for p in before) > 0.01
    model.clip_critic_weights()
    after = tiny.params_of(model.discriminator)
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, np.clip(b, -0.01, 0.01))
