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
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    vanilla_discriminator_loss_from_logits,
    vanilla_generator_loss_from_logits,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
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
    loss_type = config.loss_type
    if loss_type == "vanilla":
        real_label = 1.0 - config.label_smoothing
        return (
            vanilla_discriminator_loss_from_logits(real_logits, fake_logits, real_label=real_label),
            vanilla_generator_loss_from_logits(fake_logits),
        )
    if loss_type == "least_squares":
        a, b, c, reduction = least_squares_targets(config)
        return (
            least_squares_discriminator_loss(
                real_logits,
                fake_logits,
                target_real=b,
                target_fake=a,
                reduction=reduction,  # type: ignore[arg-type]
            ),
            least_squares_generator_loss(fake_logits, target_real=c, reduction=reduction),  # type: ignore[arg-type]
        )
    if loss_type == "wasserstein":
        return (
            wasserstein_discriminator_loss(real_logits, fake_logits),
            wasserstein_generator_loss(fake_logits),
        )
    if loss_type == "hinge":
        return (
            hinge_discriminator_loss(real_logits, fake_logits),
            hinge_generator_loss(fake_logits),
        )
    raise ValueError(
        f"loss_type={loss_type!r}: must be 'vanilla', 'least_squares', 'wasserstein' or 'hinge'"
    )


def scores_from_logits(logits: Any, score_type: str) -> jax.Array:
    """Logits in the discriminator's declared score space (probabilities or logits)."""
    logits = jnp.asarray(logits)
    return jax.nn.sigmoid(logits) if score_type == "probabilities" else logits
