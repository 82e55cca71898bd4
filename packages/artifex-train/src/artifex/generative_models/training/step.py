"""The compiled training step: a whole GAN iteration, K iterations per dispatch.

The networks and their optimizers are split once (``nnx.split``) into a static graph
definition and a state pytree. The step is a pure function of that state, compiled with
``jax.jit`` and the state donated, so there is no graph traversal and no copy of the
parameters per call (DESIGN.md, "How it stays fast"). One iteration is:

1. ``n_critic`` discriminator updates, each on its own real batch and fresh fakes, with
   the objective's penalties and the family's constraint (weight clipping);
2. one generator update through the (updated) discriminator;
3. the exponential moving average of the generator's parameters;
4. a guard: if a loss is NaN or Inf, the iteration's updates are dropped, the state stays
   the last good one and the first bad iteration is recorded for the host to report.

A dispatch runs K iterations (``lax.scan``, or straight-line code: see
:func:`resolve_loop`); their metrics come back stacked, and the host reads them only when
it logs. Nothing here knows which GAN family is trained: the family's rules
(``model.training_rules()``, in ``artifex-gan``) say what its players do.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.models.gan import TrainingRules
from artifex.generative_models.training.state import TrainState

__all__ = ["LOOPS", "build_step", "resolve_loop"]

LOOPS = ("auto", "scan", "unrolled")
"""How a dispatch runs its K iterations: ``scan`` (one rolled loop body), ``unrolled``
(straight-line code, K bodies) or ``auto`` (unrolled on CPU, scan elsewhere)."""


def resolve_loop(loop: str) -> Literal["scan", "unrolled"]:
    """``"scan"`` or ``"unrolled"`` for ``loop`` on the current backend.

    On XLA:CPU a scan body loses the fast convolution layouts (4-5x slower per
    iteration, even for one iteration; benchmarks/scan_probe.py), so ``auto`` writes the
    K iterations out there, at the price of a program K iterations long. Other backends
    keep the rolled loop.

    Raises:
        ValueError: ``loop`` is not one of :data:`LOOPS`.
    """
    if loop not in LOOPS:
        raise ValueError(f"loop={loop!r}: must be one of {', '.join(map(repr, LOOPS))}")
    if loop == "auto":
        return "unrolled" if jax.default_backend() == "cpu" else "scan"
    return loop  # type: ignore[return-value]


def _cast_floats(tree: Any, dtype: Any) -> Any:
    return jax.tree.map(
        lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree
    )


@functools.lru_cache(maxsize=32)
def build_step(
    graphdef: Any,
    rules: TrainingRules | tuple[TrainingRules, ...],
    *,
    ema_decay: float | None = None,
    ema_start: int = 0,
    compute_dtype: str = "float32",
    loop: Literal["scan", "unrolled"] = "scan",
) -> Callable[[TrainState, dict[str, jax.Array]], tuple[TrainState, dict[str, jax.Array]]]:
    """The dispatch function: ``(state, batches) -> (state, metrics)``, jitted and donated.

    Args:
        graphdef: From :func:`~.state.initial_state`.
        rules: The family's training rules (``model.training_rules(...)``): players'
            fakes, losses, penalties, constraints and ``n_critic``. With ``loop="unrolled"``
            also a tuple of K rules, one per iteration of the dispatch: each iteration's
            lazy terms are then decided while tracing (``rules.at_lazy_phase``: on CPU a
            lazy R1 inside ``lax.cond`` runs ~10x slower than written out).
        ema_decay: Generator EMA decay; None when the state has no EMA.
        ema_start: Iteration before which the EMA simply copies the parameters.
        compute_dtype: The dtype real batches are cast to (the networks themselves
            compute in the dtype they were built with; parameters, optimizer states
            and losses stay float32).
        loop: ``"scan"`` or ``"unrolled"`` (see :func:`resolve_loop`).

    Steps are cached by their arguments (all static and hashable), so a second trainer
    for the same architecture and settings reuses the compiled program.

    The ``batches`` dict holds the rules' batch entries with leading axes
    ``(K, n_critic, batch, ...)``: K iterations, one real batch per discriminator update.
    """
    dtype = jnp.dtype(compute_dtype)
    each: tuple[TrainingRules, ...] | None
    each, first = (rules, rules[0]) if isinstance(rules, tuple) else (None, rules)
    if each is not None and loop != "unrolled":
        raise ValueError(
            f"build_step: one rules object per iteration ({len(each)} given) needs "
            f"loop='unrolled', got loop={loop!r}; a scan body has one set of rules"
        )
    n_critic = first.n_critic

    def iteration(
        state: TrainState, batch: dict[str, jax.Array], rules: TrainingRules
    ) -> tuple[TrainState, dict[str, jax.Array]]:
        # Merge a rebuilt copy: the modules' updates must not reach the carried ``state``,
        # which stays the fallback if this iteration's losses are not finite.
        nets = jax.tree.map(lambda leaf: leaf, state.nets)
        generator, discriminator, g_optimizer, d_optimizer = nnx.merge(graphdef, nets)
        step = state.step
        keys = jax.random.split(jax.random.wrap_key_data(state.key), 2 * n_critic + 2)
        if dtype != jnp.float32:
            batch = _cast_floats(batch, dtype)
        metrics: dict[str, jax.Array] = {}

        # Augmentation (rules with an active ``augment``): ADA's p comes from the state,
        # and its controller runs after each discriminator update.
        augment = state.augment
        extra: dict[str, Any] = {} if augment is None else {"augment_p": augment["p"]}
        controller = getattr(rules, "augment", None)  # latent rules' Augment

        for i in range(n_critic):
            real = {name: array[i] for name, array in batch.items()}
            fakes = jax.lax.stop_gradient(rules.fakes(generator, real, keys[2 * i], step))

            def d_loss_fn(
                d: Any,
                real: dict[str, jax.Array] = real,
                fakes: Any = fakes,
                penalty_key: jax.Array = keys[2 * i + 1],
            ) -> tuple[jax.Array, dict[str, jax.Array]]:
                return rules.discriminator_loss(d, real, fakes, penalty_key, step, **extra)

            (d_loss, aux), d_grads = nnx.value_and_grad(d_loss_fn, has_aux=True)(discriminator)
            d_optimizer.update(discriminator, d_grads)
            rules.after_discriminator_update(discriminator)
            metrics = {"d_loss": d_loss, **aux}  # the last critic update's numbers
            if augment is not None and controller is not None:
                images = jax.tree.leaves(real)[0].shape[0]
                augment = controller.adjust(augment, aux["real_sign"], images)

        def g_loss_fn(g: Any, d: Any) -> tuple[jax.Array, dict[str, jax.Array]]:
            return rules.generator_loss(g, d, real, keys[-2], step, **extra)

        (g_loss, g_aux), g_grads = nnx.value_and_grad(g_loss_fn, has_aux=True)(
            generator, discriminator
        )
        g_optimizer.update(generator, g_grads)
        metrics.update(g_loss=g_loss, **g_aux)
        if augment is not None:
            metrics["augment_p"] = augment["p"]  # the p of the next iteration

        ema = state.ema
        if ema is not None:
            assert ema_decay is not None
            params = nnx.state(generator, nnx.Param)
            decay = jnp.where(step >= ema_start, ema_decay, 0.0)
            ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)

        updated = TrainState(
            nets=nnx.state((generator, discriminator, g_optimizer, d_optimizer)),
            ema=ema,
            step=step + 1,
            key=jax.random.key_data(keys[-1]),
            first_bad_step=state.first_bad_step,
            augment=augment,
        )
        finite = jnp.isfinite(d_loss) & jnp.isfinite(g_loss)
        # Keep the last good state: a bad iteration changes nothing but the record of it
        # (and the step count, so the host can say where it happened).
        kept = dataclasses.replace(
            state,
            step=step + 1,
            first_bad_step=jnp.where(state.first_bad_step >= 0, state.first_bad_step, step),
        )
        new_state = jax.lax.cond(finite, lambda: updated, lambda: kept)
        return new_state, metrics

    def dispatch(
        state: TrainState, batches: dict[str, jax.Array]
    ) -> tuple[TrainState, dict[str, jax.Array]]:
        if loop == "scan":
            return jax.lax.scan(functools.partial(iteration, rules=first), state, batches)
        steps = jax.tree.leaves(batches)[0].shape[0]
        if each is not None and len(each) != steps:
            raise ValueError(
                f"build_step: {len(each)} rules for a dispatch of {steps} iterations; "
                "give one per iteration (steps_per_dispatch of them)"
            )
        rows = []
        for k in range(steps):
            batch = jax.tree.map(lambda x, k=k: x[k], batches)
            state, row = iteration(state, batch, each[k] if each else first)
            rows.append(row)
        return state, jax.tree.map(lambda *values: jnp.stack(values), *rows)

    return jax.jit(dispatch, donate_argnums=0)
