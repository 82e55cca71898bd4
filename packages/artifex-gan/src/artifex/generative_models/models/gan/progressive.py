"""``ProgressiveGAN``: both networks grow one resolution per stage (Karras et al., 2018).

The model follows seed 001's progressive training: a stage ``s`` works at ``start_size *
2**s`` pixels; while a new stage fades in, ``alpha`` blends its layers with the previous
stage's. ``config.stage_at(step)`` gives the stage and ``alpha`` of a training step.

References:
    Karras, Aila, Laine, Lehtinen. "Progressive Growing of GANs for Improved Quality,
    Stability, and Variation", ICLR 2018. https://arxiv.org/abs/1710.10196
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration import ProgressiveGANConfig
from artifex.generative_models.models.gan._common import (
    IMAGE_KEYS,
    check_no_options,
    check_samples,
    extract,
    precision_scope,
    reseed_dropout,
    sample_count,
)
from artifex.generative_models.models.gan._rules import Batch, LatentRules
from artifex.generative_models.models.gan.base import GAN
from artifex.generative_models.nets.progressive import (
    ProgressiveDiscriminator,
    ProgressiveGenerator,
)

__all__ = ["ProgressiveGAN", "ProgressiveRules", "pool_images"]


def pool_images(x: jax.Array, factor: int, *, channels_last: bool) -> jax.Array:
    """Average-pool a batch of images by ``factor``: each pixel the mean of its block."""
    if factor == 1:
        return x
    if not channels_last:
        x = x.transpose(0, 2, 3, 1)
    b, h, w, c = x.shape
    x = x.reshape(b, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))
    return x if channels_last else x.transpose(0, 3, 1, 2)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProgressiveRules(LatentRules):
    """ProgressiveGAN rules at one growth stage (the stage is part of the compiled program).

    Real images (final resolution) are average-pooled to the stage's size; the fade-in
    ``alpha`` follows the step count inside the compiled step by the schedule's one closed
    form, :meth:`ProgressiveGANConfig.fade_in`.

    Attributes:
        schedule: The model config (stages, ``stable_steps``, ``transition_steps``).
        stage: The growth stage these rules are for.
    """

    schedule: ProgressiveGANConfig
    stage: int = 0

    @property
    def _final(self) -> Any:
        return self.schedule.generator.output_layout

    def alpha(self, step: jax.Array) -> jax.Array:
        """The fade-in of this stage at iteration ``step``."""
        return jnp.asarray(self.schedule.fade_in(self.stage, step, clip=jnp.clip), jnp.float32)

    def real_images(self, real: Batch, step: jax.Array) -> jax.Array:
        """The data, pooled from the final resolution to this stage's."""
        resolutions = self.schedule.generator.resolutions
        factor = resolutions[-1] // resolutions[self.stage]
        return pool_images(real["image"], factor, channels_last=self._final.data_format == "NHWC")

    def real_context(self, real: Batch, step: jax.Array) -> tuple[Any, ...]:
        """The fade-in."""
        return (self.alpha(step).astype(real["image"].dtype),)

    def fake_context(self, size: int, key: jax.Array, step: jax.Array) -> tuple[Any, ...]:
        """The fade-in (the generator blends its two last outputs with it)."""
        return (self.alpha(step),)

    def phase_starts(self) -> tuple[int, ...]:
        """The iterations at which stages 1, 2, ... begin to fade in."""
        return tuple(
            self.schedule.stage_start(s) for s in range(1, self.schedule.generator.num_stages)
        )

    def phase_at(self, step: int) -> ProgressiveRules:
        """The rules of the stage that iteration ``step`` trains."""
        stage = self.schedule.stage_at(step)[0]
        return self if stage == self.stage else dataclasses.replace(self, stage=stage)

    def enter(self, players: Sequence[Any]) -> None:
        """Move both networks to this stage (which blocks run: static structure)."""
        for network in players:
            network.set_stage(self.stage)


class ProgressiveGAN(GAN):
    """A Progressive GAN: generator and discriminator that grow stage by stage.

    Both networks start at stage 0; :meth:`set_stage` (or :meth:`set_step`) moves them
    together. Samples, real data and every method work at the current stage's
    resolution; ``alpha`` (default 1) is the fade-in of the current stage.

    Args:
        config: A :class:`ProgressiveGANConfig` (Wasserstein loss with gradient penalty
            by default).
        rngs: See :class:`GAN`.
        precision: See :class:`GAN`.

    Attributes:
        num_stages: Number of stages (resolutions).
        config: See :class:`GAN`.
        generator: See :class:`GAN`.
        discriminator: See :class:`GAN`.
        latent_dim: See :class:`GAN`.
        loss_type: See :class:`GAN`.
        precision: See :class:`GAN`.
        sample_stream: See :class:`GAN`.
    """

    family = "progressive"
    config: ProgressiveGANConfig  # type: ignore[assignment]

    def __init__(self, config: Any, *, rngs: nnx.Rngs, precision: Any = None):
        super().__init__(config, rngs=rngs, precision=precision)
        self.num_stages = self.config.generator.num_stages

    rules_class = ProgressiveRules

    def _network_classes(self, config: Any) -> tuple[type, type]:
        return ProgressiveGenerator, ProgressiveDiscriminator

    def _rule_fields(self) -> dict[str, Any]:
        # The data keeps the final resolution at every stage; the rules pool it.
        return {
            "image_shape": tuple(self.config.generator.output_layout.shape),
            "schedule": self.config,
            "stage": self.stage,
        }

    # -- stages ------------------------------------------------------------------------

    @property
    def stage(self) -> int:
        """The current stage of both networks."""
        return int(self.generator.current_stage)

    @property
    def resolution(self) -> int:
        """The image size of the current stage."""
        return int(self.config.generator.resolutions[self.stage])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample at the current stage, in the declared layout."""
        return tuple(self.generator.output_shape)

    def set_stage(self, stage: int) -> None:
        """Move both networks to ``stage`` (0 to ``num_stages - 1``).

        Raises:
            ValueError: ``stage`` is out of range.
        """
        self.generator.set_stage(stage)
        self.discriminator.set_stage(stage)

    def set_step(self, step: int) -> float:
        """Move to the stage of training step ``step`` and return its ``alpha``."""
        stage, alpha = self.config.stage_at(step)
        self.set_stage(stage)
        return alpha

    def downsample_to_stage(self, images: jax.Array) -> jax.Array:
        """Average-pool images of the final resolution to the current stage's.

        Args:
            images: ``(B, *final_shape)`` in the declared layout.

        Returns:
            ``(B, *sample_shape)``: each output pixel the mean of its ``2**k x 2**k``
            block, ``k = num_stages - 1 - stage``.
        """
        owner = f"{type(self).__name__}.downsample_to_stage"
        final = self.config.generator.output_layout
        x = check_samples("images", images, final.shape, owner=owner, layout=final.data_format)
        factor = final.height // self.resolution
        return pool_images(x, factor, channels_last=final.data_format == "NHWC")

    # -- calls -------------------------------------------------------------------------

    def __call__(
        self,
        x: Any,
        rngs: nnx.Rngs | None = None,
        training: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Score real data of the current stage (``alpha=`` as a keyword, default 1)."""
        owner = f"{type(self).__name__}.__call__"
        alpha = kwargs.pop("alpha", 1.0)
        check_no_options(kwargs, owner=owner, known="x, rngs, training, alpha")
        real = self._real(extract(x, IMAGE_KEYS, owner=owner, what="real data"), owner)
        with precision_scope(self._matmul_precision):
            reseed_dropout(self.discriminator, rngs)
            scores = self.discriminator(real, alpha, training=training)
        return {"real_scores": scores, "fake_scores": None, "fake_samples": None}

    def generate(
        self,
        n_samples: int = 1,
        rngs: nnx.Rngs | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> jax.Array:
        """Generate images of the current stage.

        Args:
            n_samples: Number of samples.
            rngs: See :meth:`GAN.generate`.
            batch_size: Alternative to ``n_samples``.
            **kwargs: ``alpha`` (fade-in, default 1.0) and ``training`` (default False).

        Returns:
            Images ``(n, *sample_shape)``.
        """
        owner = f"{type(self).__name__}.generate"
        alpha = kwargs.pop("alpha", 1.0)
        training = kwargs.pop("training", False)
        check_no_options(kwargs, owner=owner, known="n_samples, rngs, batch_size, alpha, training")
        n = sample_count(n_samples, batch_size, owner=owner)
        with precision_scope(self._matmul_precision):
            z = self.sample_latent(n, rngs)
            return self.generator(z, alpha, training=training)

    def loss_fn(
        self,
        batch: Any,
        model_outputs: Any = None,
        rngs: nnx.Rngs | None = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The adversarial losses at the current stage (see :meth:`GAN.loss_fn`).

        ``batch`` holds real images of the current stage's resolution (see
        :meth:`downsample_to_stage`); ``alpha=`` (default 1.0) and ``training=`` are
        keywords.
        """
        owner = f"{type(self).__name__}.loss_fn"
        alpha = kwargs.pop("alpha", 1.0)
        training = kwargs.pop("training", None)
        check_no_options(kwargs, owner=owner, known="batch, model_outputs, rngs, alpha, training")
        real = self._real(extract(batch, IMAGE_KEYS, owner=owner, what="real data"), owner)
        with precision_scope(self._matmul_precision):
            reseed_dropout(self, rngs)
            z = self.sample_latent(real.shape[0], rngs)
            fake = self.generator(z, alpha, training=training)
            return self._objective(real, fake, (alpha,), (alpha,), training=training, rngs=rngs)
