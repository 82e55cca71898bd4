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

``lax.scan`` runs K iterations in one dispatch (straight-line on CPU, see ``dispatch``); their
metrics come back stacked, and the host reads them only when it logs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.training.games import Game
from artifex.generative_models.training.objective import Objective

__all__ = ["TrainState", "build_step", "initial_state"]

TrainState = dict[str, Any]
"""The whole trainable state: ``nets`` (networks and optimizers), ``ema`` (generator
parameter average or None), ``step`` (iterations done), ``key`` (raw key data) and
``first_bad_step`` (-1 while every loss has been finite)."""


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


def _cast_floats(tree: Any, dtype: Any) -> Any:
    return jax.tree.map(
        lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree
    )


def _like(new: jax.Array, old: jax.Array) -> jax.Array:
    return new.astype(old.dtype) if jnp.issubdtype(old.dtype, jnp.floating) else new


def _in_compute_dtype(module: Any, dtype: Any) -> tuple[Any, Callable[[], None]]:
    """A copy of ``module`` with its parameters cast to ``dtype``, and its write-back.

    The write-back copies the copy's other updates (batch statistics, RNG counts) back
    to ``module`` in their original dtypes, so the carried state stays float32. The cast
    is differentiable, so gradients reach the float32 parameters in float32.
    """
    graphdef, params, rest = nnx.split(module, nnx.Param, ...)  # type: ignore[misc]
    copy = nnx.merge(graphdef, _cast_floats(params, dtype), jax.tree.map(lambda x: x, rest))
    # Flax layers left to infer their dtype promote to the widest of their inputs, and a
    # BatchNorm's float32 statistics would lift everything after it back to float32: give
    # every such layer of the copy the compute dtype (its statistics stay float32).
    for _, node in nnx.iter_graph(copy):
        if isinstance(node, nnx.Module) and getattr(node, "dtype", False) is None:
            setattr(node, "dtype", dtype)  # noqa: B010  (any flax layer, not one class)

    def write_back() -> None:
        updated = nnx.state(copy, nnx.Not(nnx.Param))
        nnx.update(module, jax.tree.map(_like, updated, rest))

    return copy, write_back


@functools.lru_cache(maxsize=32)
def build_step(
    graphdef: Any,
    objective: Objective,
    game: Game,
    *,
    n_critic: int,
    ema_decay: float | None = None,
    ema_start: int = 0,
    compute_dtype: str = "float32",
    critic_clip: float | None = None,
) -> Callable[[TrainState, dict[str, jax.Array]], tuple[TrainState, dict[str, jax.Array]]]:
    """The dispatch function: ``(state, batches) -> (state, metrics)``, jitted and donated.

    Args:
        graphdef: From :func:`initial_state`.
        objective: The losses and penalties.
        game: What the family's players do (see :mod:`.games`).
        n_critic: Discriminator updates per iteration.
        ema_decay: Generator EMA decay; None when the state has no EMA.
        ema_start: Iteration before which the EMA simply copies the parameters.
        compute_dtype: ``"float32"``, or ``"bfloat16"`` for bf16 activations and
            matmuls with float32 parameters, optimizer states and losses.
        critic_clip: The original WGAN's constraint: after each discriminator update its
            parameters are clipped to ``[-critic_clip, critic_clip]``; None: no clipping.

    Steps are cached by their arguments (all static and hashable), so a second trainer
    for the same architecture and settings reuses the compiled program.

    The ``batches`` dict holds the game's ``batch_keys`` with leading axes
    ``(K, n_critic, batch, ...)``: K iterations, one real batch per discriminator update.
    """
    dtype = jnp.dtype(compute_dtype)
    mixed = dtype != jnp.float32

    def in_compute(*modules: Any) -> tuple[list[Any], Callable[[], None]]:
        if not mixed:
            return list(modules), lambda: None
        copies, write_backs = zip(*(_in_compute_dtype(m, dtype) for m in modules), strict=True)

        def write_back() -> None:
            for write in write_backs:
                write()

        return list(copies), write_back

    def iteration(
        state: TrainState, batch: dict[str, jax.Array]
    ) -> tuple[TrainState, dict[str, jax.Array]]:
        # Merge a rebuilt copy: the modules' updates must not reach the carried ``state``,
        # which stays the fallback if this iteration's losses are not finite.
        nets = jax.tree.map(lambda leaf: leaf, state["nets"])
        generator, discriminator, g_optimizer, d_optimizer = nnx.merge(graphdef, nets)
        step = state["step"]
        keys = jax.random.split(jax.random.wrap_key_data(state["key"]), 2 * n_critic + 2)
        if mixed:
            batch = _cast_floats(batch, dtype)
        metrics: dict[str, jax.Array] = {}

        for i in range(n_critic):
            real = {name: array[i] for name, array in batch.items()}
            (g,), write_back = in_compute(generator)
            fakes = jax.lax.stop_gradient(game.fakes(g, real, keys[2 * i], step))
            write_back()

            def d_loss_fn(
                d: Any,
                real: dict[str, jax.Array] = real,
                fakes: Any = fakes,
                penalty_key: jax.Array = keys[2 * i + 1],
            ) -> tuple[jax.Array, dict[str, jax.Array]]:
                (d_compute,), write_back = in_compute(d)
                loss, aux = game.discriminator_loss(
                    d_compute, real, fakes, penalty_key, step, objective
                )
                write_back()
                return loss, aux

            (d_loss, aux), d_grads = nnx.value_and_grad(d_loss_fn, has_aux=True)(discriminator)
            d_optimizer.update(discriminator, d_grads)
            if critic_clip is not None:
                params = nnx.state(discriminator, nnx.Param)
                nnx.update(
                    discriminator,
                    jax.tree.map(lambda p: jnp.clip(p, -critic_clip, critic_clip), params),
                )
            metrics = {"d_loss": d_loss, **aux}  # the last critic update's numbers

        def g_loss_fn(g: Any, d: Any) -> tuple[jax.Array, dict[str, jax.Array]]:
            (g_compute, d_compute), write_back = in_compute(g, d)
            loss, aux = game.generator_loss(g_compute, d_compute, real, keys[-2], step, objective)
            write_back()
            return loss, aux

        (g_loss, g_aux), g_grads = nnx.value_and_grad(g_loss_fn, has_aux=True)(
            generator, discriminator
        )
        g_optimizer.update(generator, g_grads)
        metrics.update(g_loss=g_loss, **g_aux)

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

    # On XLA:CPU a scan body loses the fast convolution layouts (4-5x slower per
    # iteration, even for one iteration; benchmarks/scan_probe.py): there the K iterations
    # are written out one after the other, at the price of a program K iterations long.
    # Other backends keep the rolled loop.
    straight_line = jax.default_backend() == "cpu"

    def dispatch(
        state: TrainState, batches: dict[str, jax.Array]
    ) -> tuple[TrainState, dict[str, jax.Array]]:
        if not straight_line:
            return jax.lax.scan(iteration, state, batches)
        steps = jax.tree.leaves(batches)[0].shape[0]
        rows = []
        for k in range(steps):
            state, row = iteration(state, jax.tree.map(lambda x, k=k: x[k], batches))
            rows.append(row)
        return state, jax.tree.map(lambda *values: jnp.stack(values), *rows)

    return jax.jit(dispatch, donate_argnums=0)
