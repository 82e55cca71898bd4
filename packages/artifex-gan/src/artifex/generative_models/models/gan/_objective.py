"""The adversarial objective of a GAN config, computed from discriminator logits."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from artifex.generative_models.core.configuration import (
    BaseGANConfig,
    LSGANConfig,
    WGANConfig,
)
from artifex.generative_models.core.losses import (
    adversarial_discriminator_loss,
    adversarial_generator_loss,
)

__all__ = ["adversarial_losses", "penalty_weight", "scores_from_logits"]


def least_squares_targets(config: BaseGANConfig) -> tuple[float, float, float, str]:
    """``(a, b, c, reduction)`` of a least-squares objective (LSGAN's, else 0, 1, 1, mean)."""
    if isinstance(config, LSGANConfig):
        return config.a, config.b, config.c, config.reduction
    return 0.0, 1.0, 1.0, "mean"


def penalty_weight(config: BaseGANConfig) -> float:
    """The gradient-penalty weight in use (0 for a WGAN that clips weights instead)."""
    if isinstance(config, WGANConfig):
        return config.effective_gradient_penalty_weight
    return config.gradient_penalty_weight


def adversarial_losses(
    config: BaseGANConfig, real_logits: jax.Array, fake_logits: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """``(discriminator_loss, generator_loss)`` of ``config.loss_type``, from logits.

    * ``vanilla``: sigmoid cross-entropy; the generator's loss is non-saturating and the
      real target is ``1 - config.label_smoothing``.
    * ``least_squares``: targets ``a`` (fake), ``b`` (real), ``c`` (generator) and the
      reduction of an :class:`LSGANConfig`.
    * ``wasserstein`` and ``hinge``: the critic's raw scores.

    The gradient penalty is not included (see :func:`penalty_weight`).
    """
    a, b, c, reduction = least_squares_targets(config)
    return (
        adversarial_discriminator_loss(
            config.loss_type,
            real_logits,
            fake_logits,
            real_label=1.0 - config.label_smoothing,
            least_squares_targets=(a, b),
            reduction=reduction,  # type: ignore[arg-type]
        ),
        adversarial_generator_loss(
            config.loss_type,
            fake_logits,
            least_squares_target=c,
            reduction=reduction,  # type: ignore[arg-type]
        ),
    )


def scores_from_logits(logits: Any, score_type: str) -> jax.Array:
    """Logits in the discriminator's declared score space (probabilities or logits)."""
    logits = jnp.asarray(logits)
    return jax.nn.sigmoid(logits) if score_type == "probabilities" else logits
