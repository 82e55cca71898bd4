"""``StyleGAN``: a style-based generator against a residual critic (seed 001's patterns).

References:
    Karras, Laine, Aila. "A Style-Based Generator Architecture for Generative Adversarial
    Networks", CVPR 2019. https://arxiv.org/abs/1812.04948
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration import StyleGANConfig
from artifex.generative_models.models.gan._common import (
    IMAGE_KEYS,
    check_no_options,
    draw_key,
    extract,
    precision_scope,
    reseed_dropout,
    sample_count,
)
from artifex.generative_models.models.gan._rules import LatentRules
from artifex.generative_models.models.gan.base import GAN
from artifex.generative_models.nets.stylegan import StyleGANDiscriminator, StyleGANGenerator

__all__ = ["StyleGAN", "StyleRules"]


def _noise_rngs(rngs: nnx.Rngs | None) -> nnx.Rngs | None:
    """``rngs`` for the generator's noise injection when it has a usable stream."""
    if rngs is not None and ("noise" in rngs or "default" in rngs):
        return rngs
    return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class StyleRules(LatentRules):
    """StyleGAN rules: noise injection from the step's key, and style mixing.

    Attributes:
        style_mixing_prob: Probability that a batch of fakes mixes the styles of two
            latents, switched at a random block.
        num_blocks: Synthesis blocks (mixing needs at least two).
    """

    style_mixing_prob: float = 0.0
    num_blocks: int = 1

    def generate(self, g: Any, z: jax.Array, context: tuple[Any, ...], key: jax.Array) -> Any:
        """Images with noise from ``key``, in training mode maybe with mixed styles.

        With probability ``style_mixing_prob`` the styles of two latents are switched at
        a random block.
        """
        noise_key, mix_key, layer_key, z2_key = jax.random.split(key, 4)
        noise = nnx.Rngs(noise=noise_key)
        mixing_possible = self.style_mixing_prob > 0 and self.num_blocks >= 2
        if not (mixing_possible and g.is_training(self.training)):
            return g(z, noise, training=self.training)
        # A crossover block in [1, num_blocks); num_blocks means "no mixing".
        crossover = jax.random.randint(layer_key, (), 1, self.num_blocks)
        mixing = jax.random.uniform(mix_key) < self.style_mixing_prob
        mix_layer = jnp.where(mixing, crossover, self.num_blocks)
        z2 = jax.random.normal(z2_key, z.shape, z.dtype)
        return g.style_mixing(z, z2, mix_layer, noise, training=self.training)


class StyleGAN(GAN):
    """A StyleGAN: mapping network, style blocks with AdaIN and noise, residual critic.

    The generator is a :class:`StyleGANGenerator`, the discriminator a
    :class:`StyleGANDiscriminator` at the generator's resolution (both from
    :class:`StyleGANConfig`). In training mode :meth:`loss_fn` applies style mixing
    regularization: with probability ``generator.style_mixing_prob`` a batch is generated
    from two latents switched at a random block.

    Args:
        config: A :class:`StyleGANConfig`.
        rngs: ``params`` initialises the networks; ``noise`` seeds the noise injection;
            the model forks its own ``sample`` stream.
        precision: See :class:`GAN`.

    Attributes:
        num_blocks: Style blocks of the generator.
        config: See :class:`GAN`.
        generator: See :class:`GAN`.
        discriminator: See :class:`GAN`.
        latent_dim: See :class:`GAN`.
        loss_type: See :class:`GAN`.
        precision: See :class:`GAN`.
        sample_stream: See :class:`GAN`.
    """

    family = "stylegan"
    config: StyleGANConfig  # type: ignore[assignment]

    def __init__(self, config: Any, *, rngs: nnx.Rngs, precision: Any = None):
        super().__init__(config, rngs=rngs, precision=precision)
        self.num_blocks = self.config.generator.num_blocks

    def _network_classes(self, config: Any) -> tuple[type, type]:
        return StyleGANGenerator, StyleGANDiscriminator

    def generate(
        self,
        n_samples: int = 1,
        rngs: nnx.Rngs | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> jax.Array:
        """Generate images; ``rngs`` may also carry a ``noise`` stream for noise injection.

        Args:
            n_samples: Number of samples.
            rngs: Latents from its ``sample`` stream (else ``default``, ``params``); None
                uses the model's own stream.
            batch_size: Alternative to ``n_samples``.
            **kwargs: ``training`` (default False: no noise injection).

        Returns:
            Images ``(n, *sample_shape)``.
        """
        owner = f"{type(self).__name__}.generate"
        training = kwargs.pop("training", False)
        check_no_options(kwargs, owner=owner, known="n_samples, rngs, batch_size, training")
        n = sample_count(n_samples, batch_size, owner=owner)
        with precision_scope(self._matmul_precision):
            z = self.sample_latent(n, rngs)
            return self.generator(z, _noise_rngs(rngs), training=training)

    rules_class = StyleRules

    def _rule_fields(self) -> dict[str, Any]:
        return {
            "style_mixing_prob": float(self.config.generator.style_mixing_prob),
            "num_blocks": int(self.num_blocks),
        }

    def loss_fn(
        self,
        batch: Any,
        model_outputs: Any = None,
        rngs: nnx.Rngs | None = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The adversarial losses (see :meth:`GAN.loss_fn`), with style mixing in training."""
        owner = f"{type(self).__name__}.loss_fn"
        training = kwargs.pop("training", None)
        check_no_options(kwargs, owner=owner, known="batch, model_outputs, rngs, training")
        real = self._real(extract(batch, IMAGE_KEYS, owner=owner, what="real data"), owner)
        with precision_scope(self._matmul_precision):
            reseed_dropout(self, rngs)
            rules = self.training_rules(training=training)
            z = self.sample_latent(real.shape[0], rngs)
            # The training step's generation: noise and mixing from one drawn key.
            key = draw_key(rngs, self.sample_stream, owner=owner)
            fake = rules.generate(self.generator, z, (), key)
            return self._objective(real, fake, (), (), training=training, rngs=rngs)

    def sample_styles(self, n_samples: int, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Style vectors ``w = mapping(z)`` of ``n_samples`` random latents."""
        n = sample_count(n_samples, None, owner=f"{type(self).__name__}.sample_styles")
        return self.generator.mapping(self.sample_latent(n, rngs))
