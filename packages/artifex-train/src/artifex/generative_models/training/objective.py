"""What the discriminator and the generator minimise, from discriminator logits.

An :class:`Objective` is static (hashable) data: which adversarial loss, its targets,
label smoothing and the regularizer weights. The compiled step calls its methods while
tracing, so a run compiles the one loss it uses and nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp

from artifex.generative_models.core.losses import (
    ADVERSARIAL_LOSS_TYPES,
    adversarial_discriminator_loss,
    adversarial_generator_loss,
    gradient_penalty,
    r1_penalty,
)

__all__ = ["OBJECTIVES", "Objective"]

OBJECTIVES = ADVERSARIAL_LOSS_TYPES


@dataclasses.dataclass(frozen=True)
class Objective:
    """An adversarial objective and its regularizers.

    Attributes:
        loss_type: ``"vanilla"`` (non-saturating), ``"least_squares"``, ``"wasserstein"``
            or ``"hinge"``.
        label_smoothing: One-sided smoothing of the real target of the vanilla loss.
        ls_targets: Least squares ``(a, b, c)``: fake and real targets of the
            discriminator, the generator's target.
        gradient_penalty_weight: WGAN-GP weight (0 disables the penalty).
        r1_weight: R1 weight on real data (0 disables it).
        r1_interval: Lazy R1: apply every this many iterations, scaled by the interval.
        reduction: How per-example losses are combined: ``"mean"`` or ``"sum"`` (an
            LSGAN config's ``reduction``).
    """

    loss_type: str = "vanilla"
    label_smoothing: float = 0.0
    ls_targets: tuple[float, float, float] = (0.0, 1.0, 1.0)
    gradient_penalty_weight: float = 0.0
    r1_weight: float = 0.0
    r1_interval: int = 1
    reduction: str = "mean"

    def __post_init__(self) -> None:
        if self.loss_type not in OBJECTIVES:
            raise ValueError(
                f"Objective.loss_type={self.loss_type!r}: must be one of {', '.join(OBJECTIVES)}"
            )
        if self.r1_interval < 1:
            raise ValueError(f"Objective.r1_interval={self.r1_interval}: must be >= 1")

    def discriminator_loss(self, real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
        """The adversarial part of the discriminator's loss."""
        a, b, _ = self.ls_targets
        return adversarial_discriminator_loss(
            self.loss_type,
            real_logits,
            fake_logits,
            real_label=1.0 - self.label_smoothing,
            least_squares_targets=(a, b),
            reduction=self.reduction,  # type: ignore[arg-type]
        )

    def generator_loss(self, fake_logits: jax.Array) -> jax.Array:
        """The generator's loss."""
        return adversarial_generator_loss(
            self.loss_type,
            fake_logits,
            least_squares_target=self.ls_targets[2],
            reduction=self.reduction,  # type: ignore[arg-type]
        )

    def penalties(
        self,
        critic: Callable[[jax.Array], jax.Array],
        real: jax.Array,
        fake: jax.Array,
        key: jax.Array,
        iteration: jax.Array,
    ) -> dict[str, jax.Array]:
        """The regularizers in use, each already weighted; empty when none is.

        ``critic`` must be free of side effects (the step passes a functional copy of the
        discriminator), because the penalties differentiate it with respect to its input.
        """
        terms: dict[str, jax.Array] = {}
        if self.gradient_penalty_weight > 0:
            terms["gradient_penalty"] = gradient_penalty(
                critic, real, fake, key, weight=self.gradient_penalty_weight
            )
        if self.r1_weight > 0:
            weight = self.r1_weight * self.r1_interval  # lazy regularization keeps the scale
            due = (iteration % self.r1_interval) == 0
            # cond, not where: on the iterations in between, R1's extra backward pass is
            # really skipped.
            terms["r1"] = jax.lax.cond(
                due,
                lambda x: r1_penalty(critic, x, weight=weight).astype(jnp.float32),
                lambda x: jnp.zeros((), jnp.float32),
                real,
            )
        return terms

    def score(self, logits: jax.Array) -> jax.Array:
        """Mean score in the discriminator's usual space (probability for vanilla)."""
        return jnp.mean(jax.nn.sigmoid(logits) if self.loss_type == "vanilla" else logits)
