"""The training state: everything a run needs to continue exactly, as one typed pytree."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx, struct

__all__ = ["TrainState", "initial_state"]


@struct.dataclass
class TrainState:
    """The whole trainable state, carried through the compiled step and checkpointed.

    Attributes:
        nets: ``nnx.State`` of ``(generator side, discriminator side, g_optimizer,
            d_optimizer)``: parameters, optimizer moments, batch statistics and every
            random stream inside the networks.
        ema: The generator's exponential moving average (its ``nnx.Param`` state), or
            None when the run keeps none.
        step: Iterations done (int32 scalar).
        key: Raw data of the step's random key (uint32; raw, so it checkpoints as a
            plain array).
        first_bad_step: The first iteration whose loss was NaN or Inf; -1 while all
            were finite.
        augment: The augmentation's arrays (``Augment.init_state``: ADA's ``p`` and its
            running statistics), or None when the run does not augment. Here, and not
            in the rules, so that ``p`` is checkpointed and a resumed run continues
            with the ``p`` it had (stylegan2-ada's trainer starts again from 0).
    """

    nets: Any
    ema: Any
    step: jax.Array
    key: jax.Array
    first_bad_step: jax.Array
    augment: dict[str, jax.Array] | None = None


def initial_state(
    nets: tuple[Any, Any, Any, Any],
    *,
    seed: int,
    ema: bool,
    augment: dict[str, jax.Array] | None = None,
) -> tuple[nnx.GraphDef[Any], TrainState]:
    """Split ``(generator, discriminator, g_optimizer, d_optimizer)`` once.

    Returns:
        ``(graphdef, state)``: the static graph definition the step is built for, and the
        first :class:`TrainState`.
    """
    graphdef, nets_state = nnx.split(nets)
    generator_params = nnx.state(nets[0], nnx.Param)
    return graphdef, TrainState(
        # Copies: the step donates its state, and the caller's modules must stay usable.
        nets=jax.tree.map(jnp.copy, nets_state),
        ema=jax.tree.map(jnp.copy, generator_params) if ema else None,
        step=jnp.zeros((), jnp.int32),
        key=jax.random.key_data(jax.random.key(seed)),
        first_bad_step=jnp.full((), -1, jnp.int32),
        augment=augment,
    )
