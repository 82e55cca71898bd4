"""Adversarial losses and regularizers for GANs as small, pure JAX functions.

Depends on ``jax`` alone, so it can be installed in any JAX project.

Every loss takes arrays with a leading batch axis, validates its inputs before
computing, works under ``jax.jit``, ``jax.grad`` and ``jax.vmap``, accepts
float32 and bfloat16 and returns float32. Options are keyword-only;
``reduction`` is ``"mean"``, ``"sum"`` or ``"none"`` (per-sample values).
"""

from artifex.generative_models.core.losses.adversarial import (
    ADVERSARIAL_LOSS_TYPES,
    DEFAULT_PROBABILITY_EPS,
    adversarial_discriminator_loss,
    adversarial_generator_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    least_squares_discriminator_loss,
    least_squares_generator_loss,
    vanilla_discriminator_loss,
    vanilla_discriminator_loss_from_logits,
    vanilla_generator_loss,
    vanilla_generator_loss_from_logits,
    wasserstein_discriminator_loss,
    wasserstein_generator_loss,
)
from artifex.generative_models.core.losses.feature_matching import feature_matching_loss
from artifex.generative_models.core.losses.reconstruction import (
    cycle_consistency_loss,
    identity_loss,
)
from artifex.generative_models.core.losses.regularizers import (
    GRADIENT_NORM_EPS,
    dragan_penalty,
    gradient_penalty,
    r1_penalty,
    r2_penalty,
)

__version__ = "0.1.0"

__all__ = [
    "ADVERSARIAL_LOSS_TYPES",
    "DEFAULT_PROBABILITY_EPS",
    "GRADIENT_NORM_EPS",
    "__version__",
    "adversarial_discriminator_loss",
    "adversarial_generator_loss",
    "cycle_consistency_loss",
    "dragan_penalty",
    "feature_matching_loss",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "identity_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "r1_penalty",
    "r2_penalty",
    "vanilla_discriminator_loss",
    "vanilla_discriminator_loss_from_logits",
    "vanilla_generator_loss",
    "vanilla_generator_loss_from_logits",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
]
