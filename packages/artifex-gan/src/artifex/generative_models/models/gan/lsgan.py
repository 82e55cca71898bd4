"""``LSGAN``: the least-squares GAN (Mao et al., 2017).

References:
    Mao, Li, Xie, Lau, Wang, Smolley. "Least Squares Generative Adversarial Networks",
    ICCV 2017. https://arxiv.org/abs/1611.04076
"""

from __future__ import annotations

from typing import Any

import jax
from jax.typing import ArrayLike

from artifex.generative_models.core.configuration import LSGANConfig
from artifex.generative_models.core.losses import (
    least_squares_discriminator_loss,
    least_squares_generator_loss,
)
from artifex.generative_models.models.gan.base import GAN

__all__ = ["LSGAN"]


class LSGAN(GAN):
    """A GAN trained with least-squares losses; the discriminator returns raw scores.

    With the config's targets ``a`` (fake, discriminator), ``b`` (real) and ``c`` (fake,
    generator): ``L_D = ½E[(D(x) - b)²] + ½E[(D(G(z)) - a)²]`` and
    ``L_G = ½E[(D(G(z)) - c)²]``, reduced over the batch with the config's ``reduction``.
    :meth:`loss_fn`, :meth:`generator_loss` and :meth:`discriminator_loss` all use them.

    Args:
        config: An :class:`LSGANConfig`, or a legacy ``ModelConfig`` (seed 003).
        rngs: See :class:`GAN`.
        precision: See :class:`GAN`.
    """

    family = "lsgan"
    config: LSGANConfig

    def generator_loss(
        self,
        fake_scores: ArrayLike,
        target_real: float | None = None,
        reduction: str | None = None,
    ) -> jax.Array:
        """``½E[(D(G(z)) - c)²]`` of discriminator scores for generated samples.

        Args:
            fake_scores: Raw scores ``(B,)``, ``(B, 1)`` or a patch map.
            target_real: The target ``c``; None uses the config's ``c``.
            reduction: ``"mean"``, ``"sum"`` or ``"none"``; None uses the config's.

        Returns:
            The loss (a scalar, or ``(B,)`` for ``"none"``).
        """
        return least_squares_generator_loss(
            fake_scores,
            target_real=self.config.c if target_real is None else target_real,
            reduction=self._reduction(reduction),
        )

    def discriminator_loss(
        self,
        real_scores: ArrayLike,
        fake_scores: ArrayLike,
        target_real: float | None = None,
        target_fake: float | None = None,
        reduction: str | None = None,
    ) -> jax.Array:
        """``½E[(D(x) - b)²] + ½E[(D(G(z)) - a)²]`` of real and fake scores.

        Args:
            real_scores: Raw scores of real samples.
            fake_scores: Raw scores of generated samples, the same shape.
            target_real: The real target ``b``; None uses the config's ``b``.
            target_fake: The fake target ``a``; None uses the config's ``a``.
            reduction: ``"mean"``, ``"sum"`` or ``"none"``; None uses the config's.

        Returns:
            The loss (a scalar, or ``(B,)`` for ``"none"``).
        """
        return least_squares_discriminator_loss(
            real_scores,
            fake_scores,
            target_real=self.config.b if target_real is None else target_real,
            target_fake=self.config.a if target_fake is None else target_fake,
            reduction=self._reduction(reduction),
        )

    def _reduction(self, reduction: str | None) -> Any:
        return self.config.reduction if reduction is None else reduction
