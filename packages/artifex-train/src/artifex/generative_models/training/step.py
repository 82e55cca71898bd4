"""The compiled training step: a whole GAN iteration, K iterations per dispatch.

The networks and their optimizers are split once (``nnx.split``) into a static graph
definition and a state pytree. The step is a pure function of that state, compiled with
``jax.jit`` and the state donated, so there is no graph traversal and no copy of the
parameters per call (DESIGN.md, "How it stays fast"). One iteration is:

1. ``n_critic`` discriminator updates, each on its own real batch and fresh fakes, with
   the objective's penalties;
2. one generator update through the (updated) discriminator;
3. the exponential moving average of the generator's parameters;
4. a guard: if a loss is NaN or Inf, the iteration's updates are dropped, the state stays
   the last good one and the first bad iteration is recorded for the host to report.

``lax.scan`` runs K iterations in one dispatch; their metrics come back stacked, and the
host reads them only when it logs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.training.objective import Objective

__all__ = ["TrainState", "build_step", "initial_state"]

TrainState = dict[str, Any]
"""The whole trainable state: ``nets`` (networks and optimizers), ``ema`` (generator
parameter average or None), ``step`` (iterations done), ``key`` (raw key data) and
``first_bad_step`` (-1 while every loss has been finite)."""


def _generate(generator: Any, z: jax.Array, labels: jax.Array | None) -> jax.Array:
    if labels is None:
        return generator(z, training=True)
    return generator(z, labels, training=True)


def _pure_critic(discriminator: Any, labels: jax.Array | None) -> Callable[[jax.Array], jax.Array]:
    """The discriminator's logits as a function without side effects.

    Penalties differentiate the critic with respect to its input; a module that updates
    its batch statistics inside that inner transformation would leak state across traces,
    so each call works on a functional copy whose updates are discarded.
    """
    graphdef, state = nnx.split(discriminator)

    def critic(x: jax.Array) -> jax.Array:
        # Rebuilt inside the caller's transformation, so the copy's variables belong to
        # its trace and may be updated there.
        copy = nnx.merge(graphdef, jax.tree.map(lambda leaf: leaf, state))
        if labels is None:
            return copy.logits(x, training=True)
        return copy.logits(x, labels, training=True)

    return critic


def initial_state(
    nets: tuple[Any, Any, Any, Any], *, seed: int, ema: bool
) -> tuple[Any, TrainState]:
    """Split ``(generator, discriminator, g_optimizer, d_optimizer)`` once.

    Returns:
        ``(graphdef, state)``: the static graph definition the step is built for, and the
        first :data:`TrainState`.
    """
    graphdef, nets_state = nnx.split(nets)
    generator_params = nnx.state(nets[0], nnx.Param)
    return graphdef, {
        # A copy: the step donates its state, and the caller's modules must stay usable.
        "nets": jax.tree.map(jnp.copy, nets_state),
        "ema": jax.tree.map(jnp.copy, generator_params) if ema else None,
        "step": jnp.zeros((), jnp.int32),
        "key": jax.random.key_data(jax.random.key(seed)),
        "first_bad_step": jnp.full((), -1, jnp.int32),
    }


@functools.lru_cache(maxsize=32)
def build_step(
    graphdef: Any,
    objective: Objective,
    *,
    latent_dim: int,
    n_critic: int,
    num_classes: int | None = None,
    ema_decay: float | None = None,
    ema_start: int = 0,
) -> Callable[[TrainState, dict[str, jax.Array]], tuple[TrainState, dict[str, jax.Array]]]:
    """The dispatch function: ``(state, batches) -> (state, metrics)``, jitted and donated.

    Args:
        graphdef: From :func:`initial_state`.
        objective: The losses and penalties.
        latent_dim: Size of the generator's latent vectors.
        n_critic: Discriminator updates per iteration.
        num_classes: For conditional models: labels of the fakes are drawn uniformly
            from this many classes; None for unconditional models.
        ema_decay: Generator EMA decay; None when the state has no EMA.
        ema_start: Iteration before which the EMA simply copies the parameters.

    Steps are cached by their arguments (all static and hashable), so a second trainer
    for the same architecture and settings reuses the compiled program.

    The ``batches`` dict holds ``"image"`` (and ``"label"`` for conditional models)
    with leading axes ``(K, n_critic, batch, ...)``: K iterations, one real batch per
    discriminator update.
    """

    def iteration(
        state: TrainState, batch: dict[str, jax.Array]
    ) -> tuple[TrainState, dict[str, jax.Array]]:
        # Merge a rebuilt copy: the modules' updates must not reach the carried ``state``,
        # which stays the fallback if this iteration's losses are not finite.
        nets = jax.tree.map(lambda leaf: leaf, state["nets"])
        generator, discriminator, g_optimizer, d_optimizer = nnx.merge(graphdef, nets)
        step = state["step"]
        keys = jax.random.split(jax.random.wrap_key_data(state["key"]), 3 * n_critic + 3)
        metrics: dict[str, jax.Array] = {}

        for i in range(n_critic):
            real = batch["image"][i]
            size = real.shape[0]
            real_labels = batch["label"][i] if num_classes is not None else None
            fake_labels = (
                jax.random.randint(keys[3 * i], (size,), 0, num_classes)
                if num_classes is not None
                else None
            )
            z = jax.random.normal(keys[3 * i + 1], (size, latent_dim))
            fake = jax.lax.stop_gradient(_generate(generator, z, fake_labels))

            def d_loss_fn(
                d: Any,
                real: jax.Array = real,
                fake: jax.Array = fake,
                real_labels: jax.Array | None = real_labels,
                fake_labels: jax.Array | None = fake_labels,
                penalty_key: jax.Array = keys[3 * i + 2],
            ) -> tuple[jax.Array, dict[str, jax.Array]]:
                if real_labels is None:
                    real_logits = d.logits(real, training=True)
                    fake_logits = d.logits(fake, training=True)
                else:
                    real_logits = d.logits(real, real_labels, training=True)
                    fake_logits = d.logits(fake, fake_labels, training=True)
                adversarial = objective.discriminator_loss(real_logits, fake_logits)
                terms = objective.penalties(
                    _pure_critic(d, real_labels), real, fake, penalty_key, step
                )
                loss = adversarial + sum(terms.values(), jnp.zeros((), jnp.float32))
                aux = {
                    "real_score": objective.score(real_logits),
                    "fake_score": objective.score(fake_logits),
                    **terms,
                }
                return loss, aux

            (d_loss, aux), d_grads = nnx.value_and_grad(d_loss_fn, has_aux=True)(discriminator)
            d_optimizer.update(discriminator, d_grads)
            metrics = {"d_loss": d_loss, **aux}  # the last critic update's numbers

        size = batch["image"].shape[2]
        g_labels = (
            jax.random.randint(keys[-3], (size,), 0, num_classes)
            if num_classes is not None
            else None
        )
        z = jax.random.normal(keys[-2], (size, latent_dim))

        def g_loss_fn(g: Any, d: Any) -> jax.Array:
            fake = _generate(g, z, g_labels)
            logits = (
                d.logits(fake, training=True)
                if g_labels is None
                else d.logits(fake, g_labels, training=True)
            )
            return objective.generator_loss(logits)

        g_loss, g_grads = nnx.value_and_grad(g_loss_fn)(generator, discriminator)
        g_optimizer.update(generator, g_grads)
        metrics["g_loss"] = g_loss

        ema = state["ema"]
        if ema is not None:
            assert ema_decay is not None
            params = nnx.state(generator, nnx.Param)
            decay = jnp.where(step >= ema_start, ema_decay, 0.0)
            ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)

        updated: TrainState = {
            "nets": nnx.state((generator, discriminator, g_optimizer, d_optimizer)),
            "ema": ema,
            "step": step + 1,
            "key": jax.random.key_data(keys[-1]),
            "first_bad_step": state["first_bad_step"],
        }
        finite = jnp.isfinite(d_loss) & jnp.isfinite(g_loss)
        # Keep the last good state: a bad iteration changes nothing but the record of it
        # (and the step count, so the host can say where it happened).
        kept: TrainState = {
            **state,
            "step": step + 1,
            "first_bad_step": jnp.where(
                state["first_bad_step"] >= 0, state["first_bad_step"], step
            ),
        }
        new_state = jax.lax.cond(finite, lambda: updated, lambda: kept)
        return new_state, metrics

    def dispatch(
        state: TrainState, batches: dict[str, jax.Array]
    ) -> tuple[TrainState, dict[str, jax.Array]]:
        return jax.lax.scan(iteration, state, batches)

    return jax.jit(dispatch, donate_argnums=0)
