"""``BigGAN``: class-conditional GAN with projection D, conditional-BN G and hinge loss.

Self-attention and spectral normalization are options of the networks (spectral norm on by
default).

Everything about labels (the data's labels for real images, uniform labels for fakes,
``generate(labels=...)``) is :class:`ConditionalGAN`'s; this family adds its networks
(:mod:`artifex.generative_models.nets.biggan`) and BigGAN's orthogonal regularization of
the generator, a term of the generator's loss in the training step and in ``loss_fn``.

References:
    Brock, Donahue, Simonyan. "Large Scale GAN Training for High Fidelity Natural Image
    Synthesis", ICLR 2019. https://arxiv.org/abs/1809.11096
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration.biggan_configs import BigGANConfig
from artifex.generative_models.models.gan._rules import Batch, Losses
from artifex.generative_models.models.gan.conditional import ConditionalGAN, ConditionalRules
from artifex.generative_models.nets.biggan import (
    BigGANDiscriminator,
    BigGANGenerator,
    orthogonal_penalty,
)

__all__ = ["BigGAN", "BigGANRules"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class BigGANRules(ConditionalRules):
    """Conditional rules plus the orthogonal regularization of the generator.

    Attributes:
        orthogonal_weight: Weight of :func:`orthogonal_penalty` of the generator in its
            loss (reported as ``orthogonal``); 0: none.
    """

    orthogonal_weight: float = 0.0

    def orthogonal_term(self, g: Any) -> jax.Array | None:
        """The weighted penalty of ``g``'s kernels, or None when the weight is 0."""
        if self.orthogonal_weight <= 0:
            return None
        return self.orthogonal_weight * orthogonal_penalty(g)

    def generator_loss(
        self,
        g: Any,
        d: Any,
        real: Batch,
        key: jax.Array,
        step: jax.Array,
        *,
        augment_p: jax.Array | None = None,
    ) -> Losses:
        """The adversarial loss on fresh fakes plus the orthogonal term."""
        loss, metrics = super().generator_loss(g, d, real, key, step, augment_p=augment_p)
        term = self.orthogonal_term(g)
        if term is None:
            return loss, metrics
        return loss + term, {**metrics, "orthogonal": term}


class BigGAN(ConditionalGAN):
    """A class-conditional BigGAN-style GAN: ``generator(z, labels)``, ``discriminator(x, labels)``.

    Args:
        config: A :class:`BigGANConfig`.
        rngs: See :class:`ConditionalGAN`.
        precision: See :class:`ConditionalGAN`.

    Attributes:
        orthogonal_weight: The config's weight of the orthogonal regularization.
        num_classes: See :class:`ConditionalGAN`.
        config: See :class:`ConditionalGAN`.
        generator: A :class:`BigGANGenerator`.
        discriminator: A :class:`BigGANDiscriminator`.
        latent_dim: See :class:`ConditionalGAN`.
        loss_type: See :class:`ConditionalGAN`.
        precision: See :class:`ConditionalGAN`.
        sample_stream: See :class:`ConditionalGAN`.

    Raises:
        TypeError: ``config`` is not a :class:`BigGANConfig`.
    """

    config: BigGANConfig
    rules_class = BigGANRules

    def __init__(self, config: Any, *, rngs: nnx.Rngs, precision: Any = None):
        if not isinstance(config, BigGANConfig):
            raise TypeError(f"BigGAN needs a BigGANConfig, got {type(config).__name__}")
        self.orthogonal_weight = float(config.orthogonal_weight)
        super().__init__(config, rngs=rngs, precision=precision)

    def _network_classes(self, config: Any) -> tuple[type, type]:
        return BigGANGenerator, BigGANDiscriminator

    def _rule_fields(self) -> dict[str, Any]:
        return {**super()._rule_fields(), "orthogonal_weight": self.orthogonal_weight}

    def _objective(
        self,
        real: jax.Array,
        fake: jax.Array,
        real_args: tuple[Any, ...],
        fake_args: tuple[Any, ...],
        *,
        training: bool | None,
        rngs: nnx.Rngs | None,
    ) -> dict[str, jax.Array]:
        losses = super()._objective(real, fake, real_args, fake_args, training=training, rngs=rngs)
        rules = self.training_rules(training=training)
        assert isinstance(rules, BigGANRules)
        term = rules.orthogonal_term(self.generator)
        if term is None:
            return losses
        generator_loss = losses["generator_loss"] + term
        return {
            **losses,
            "generator_loss": generator_loss,
            "loss": generator_loss + losses["discriminator_loss"],
            "orthogonal": jnp.asarray(term),
        }
