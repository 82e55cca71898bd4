import numpy as np
import pytest

from artifex.generative_models.core.configuration import OptimizerConfig, ScheduleConfig
from artifex.generative_models.training.optimizers import make_optimizer, make_schedule

SCHEDULES = [
    ScheduleConfig(),
    ScheduleConfig(kind="exponential", transition_steps=10, decay_rate=0.5),
    ScheduleConfig(kind="exponential", transition_steps=10, decay_rate=0.5, staircase=True),
    ScheduleConfig(kind="cosine", decay_steps=40, final_fraction=0.1, warmup_steps=5),
    ScheduleConfig(kind="linear", decay_steps=30, warmup_steps=10),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: f"{s.kind}-{s.warmup_steps}")
def test_optax_schedule_follows_the_config_formula(schedule):
    # ScheduleConfig.value is plain Python written from the formulas; the optax
    # schedule is assembled from optax pieces: they must agree at every step.
    compiled = make_schedule(schedule, 0.01)
    for step in [0, 1, 4, 5, 9, 10, 11, 25, 39, 40, 41, 100]:
        np.testing.assert_allclose(
            float(compiled(step)), schedule.value(step, 0.01), rtol=1e-5, atol=1e-9
        )


def test_adam_update_matches_the_textbook_first_step():
    # Adam's first step moves every parameter by lr * sign(g) (bias-corrected m / sqrt(v)).
    import jax.numpy as jnp

    tx = make_optimizer(OptimizerConfig(learning_rate=0.1, beta1=0.5, beta2=0.9, eps=1e-12))
    params = {"w": jnp.array([1.0, -2.0, 3.0])}
    grads = {"w": jnp.array([0.3, -4.0, 0.0])}
    updates, _ = tx.update(grads, tx.init(params), params)
    np.testing.assert_allclose(updates["w"], [-0.1, 0.1, 0.0], atol=1e-6)


def test_clipping_and_accumulation():
    import jax.numpy as jnp

    config = OptimizerConfig(name="sgd", learning_rate=1.0, grad_clip_norm=1.0)
    tx = make_optimizer(config)
    params = {"w": jnp.zeros(2)}
    updates, _ = tx.update({"w": jnp.array([3.0, 4.0])}, tx.init(params), params)
    np.testing.assert_allclose(updates["w"], [-0.6, -0.8], rtol=1e-6)  # norm 5 -> 1

    accumulated = make_optimizer(
        OptimizerConfig(name="sgd", learning_rate=1.0), accumulation_steps=2
    )
    state = accumulated.init(params)
    first, state = accumulated.update({"w": jnp.array([1.0, 0.0])}, state, params)
    second, state = accumulated.update({"w": jnp.array([3.0, 2.0])}, state, params)
    np.testing.assert_allclose(first["w"], [0.0, 0.0])  # nothing until the second micro-batch
    np.testing.assert_allclose(second["w"], [-2.0, -1.0])  # the mean of both gradients
