"""Configs of GANs whose networks grow by resolution: StyleGAN and Progressive GAN.

Both pair their generator with a progressive discriminator; a missing discriminator is
built to match the generator's resolutions, and ``replace(generator=...)`` carries a
matching discriminator along.
"""

from typing import Any

from artifex.generative_models.core.configuration._fields import (
    LossType,
    check_non_negative,
    check_positive,
)
from artifex.generative_models.core.configuration._gan_base import BaseGANConfig
from artifex.generative_models.core.configuration.base import config_dataclass, config_field
from artifex.generative_models.core.configuration.layout import ImageLayout
from artifex.generative_models.core.configuration.network_configs import (
    ProgressiveDiscriminatorConfig,
    ProgressiveGeneratorConfig,
    StyleGANGeneratorConfig,
)

__all__ = ["ProgressiveGANConfig", "StyleGANConfig"]


def _progressive_discriminator_ladder(generator: Any) -> dict[str, Any]:
    """The discriminator fields that must follow a style or progressive generator.

    ``generator``: a progressive generator config (``num_stages``) or a style-based one
    (StyleGAN's or StyleGAN2's, ``num_blocks``: one stage per block).
    """
    if isinstance(generator, ProgressiveGeneratorConfig):
        num_stages = generator.num_stages
    else:
        num_stages = generator.num_blocks
    return {
        "num_stages": num_stages,
        "start_size": generator.start_size,
        "channels": generator.channels,
        "data_format": generator.data_format,
    }


class _GrowingGANMixin:
    """Shared checks of GANs whose discriminator is a progressive one.

    Used by StyleGAN, Progressive GAN and StyleGAN2 (``stylegan2_config``).
    """

    def _default_discriminator_options(self) -> dict[str, Any]:
        """Fields of the discriminator built when none is given, besides the ladder."""
        return {}

    def _fill_and_check_discriminator(self) -> None:
        config: Any = self
        ladder = _progressive_discriminator_ladder(config.generator)
        if config.discriminator is None:
            config._set(
                "discriminator",
                ProgressiveDiscriminatorConfig(
                    max_channels=config.generator.max_channels,
                    **self._default_discriminator_options(),
                    **ladder,
                ),
            )
        for name, wanted in ladder.items():
            if getattr(config.discriminator, name) != wanted:
                raise ValueError(
                    f"{type(config).__name__}.discriminator.{name}="
                    f"{getattr(config.discriminator, name)!r} does not match the generator "
                    f"(needs {wanted!r}): the discriminator must take what the generator makes"
                )

    def _follow_generator(self, changes: dict[str, Any]) -> dict[str, Any]:
        config: Any = self
        new = changes.get("generator")
        old_ladder = _progressive_discriminator_ladder(config.generator)
        follows = all(getattr(config.discriminator, k) == v for k, v in old_ladder.items())
        if isinstance(new, type(config.generator)) and "discriminator" not in changes and follows:
            ladder = _progressive_discriminator_ladder(new)
            changes["discriminator"] = config.discriminator.replace(**ladder)
        return changes


@config_dataclass
class StyleGANConfig(_GrowingGANMixin, BaseGANConfig):
    """A StyleGAN: style-based generator against a progressive-style discriminator.

    The discriminator defaults to one matching the generator's resolutions (seed 001 pairs
    ``StyleGANGenerator`` with ``ProgressiveDiscriminator``); R1 regularization is set in
    the training config.

    Attributes:
        generator: The style-based generator.
        discriminator: A progressive discriminator whose last stage takes the generator's
            images; None builds the matching one.
        loss_type: Defaults to ``"vanilla"`` (non-saturating logistic).
        generator_lr: Defaults to 0.002.
        discriminator_lr: Defaults to 0.002.
        beta1: Defaults to 0.0.
        beta2: Defaults to 0.99.
        name: See :class:`BaseGANConfig`.
        gradient_penalty_weight: See :class:`BaseGANConfig`.
        label_smoothing: See :class:`BaseGANConfig`.
    """

    name: str = "stylegan"
    generator: StyleGANGeneratorConfig = config_field(default_factory=StyleGANGeneratorConfig)
    discriminator: ProgressiveDiscriminatorConfig | None = None
    generator_lr: float = 0.002
    discriminator_lr: float = 0.002
    beta1: float = 0.0
    beta2: float = 0.99

    def _validate(self) -> None:
        super()._validate()
        self._fill_and_check_discriminator()

    def _prepare_replace(self, changes: dict[str, Any]) -> dict[str, Any]:
        return self._follow_generator(changes)

    @property
    def latent_dim(self) -> int:
        """The latent size, taken from the generator."""
        return self.generator.latent_dim

    @property
    def data_layout(self) -> ImageLayout:
        """The layout of the real images."""
        return self.generator.output_layout


@config_dataclass
class ProgressiveGANConfig(_GrowingGANMixin, BaseGANConfig):
    """A Progressive GAN: both networks grow one resolution per stage (seed 001).

    Schedule: stage 0 trains ``stable_steps``; each later stage first fades in over
    ``transition_steps`` (``alpha`` from 0 to 1) and then trains ``stable_steps`` at
    ``alpha = 1`` (see :meth:`stage_at`).

    Attributes:
        generator: The progressive generator.
        discriminator: The progressive discriminator; None builds the matching one.
        transition_steps: Fade-in steps of each new stage; >= 0.
        stable_steps: Steps at full blend per stage; >= 1.
        loss_type: Defaults to ``"wasserstein"``.
        gradient_penalty_weight: Defaults to 10.0.
        generator_lr: Defaults to 0.001.
        discriminator_lr: Defaults to 0.001.
        beta1: Defaults to 0.0.
        beta2: Defaults to 0.99.
        name: See :class:`BaseGANConfig`.
        label_smoothing: See :class:`BaseGANConfig`.
    """

    name: str = "progressive_gan"
    generator: ProgressiveGeneratorConfig = config_field(default_factory=ProgressiveGeneratorConfig)
    discriminator: ProgressiveDiscriminatorConfig | None = None
    transition_steps: int = 1000
    stable_steps: int = 1000
    loss_type: LossType = "wasserstein"
    gradient_penalty_weight: float = 10.0
    generator_lr: float = 0.001
    discriminator_lr: float = 0.001
    beta1: float = 0.0
    beta2: float = 0.99

    def _validate(self) -> None:
        super()._validate()
        check_non_negative(self, "transition_steps")
        check_positive(self, "stable_steps")
        self._fill_and_check_discriminator()

    def _prepare_replace(self, changes: dict[str, Any]) -> dict[str, Any]:
        return self._follow_generator(changes)

    @property
    def latent_dim(self) -> int:
        """The latent size, taken from the generator."""
        return self.generator.latent_dim

    @property
    def data_layout(self) -> ImageLayout:
        """The layout of the real images at the final resolution."""
        return self.generator.output_layout

    @property
    def total_steps(self) -> int:
        """Steps until the last stage has finished its stable phase."""
        stages = self.generator.num_stages
        return stages * self.stable_steps + (stages - 1) * self.transition_steps

    def stage_start(self, stage: int) -> int:
        """The step at which ``stage`` begins to fade in (0 for stage 0).

        Stage ``s >= 1`` follows stage 0's stable phase and ``s - 1`` whole stages
        (fade-in and stable phase each).
        """
        if stage == 0:
            return 0
        return self.stable_steps + (stage - 1) * (self.transition_steps + self.stable_steps)

    def fade_in(self, stage: int, step: Any, *, clip: Any = None) -> Any:
        """``alpha`` of ``stage`` at ``step``: ``clip((step - start) / transition, 0, 1)``.

        The one closed form of the schedule. It is written with arithmetic alone, so the
        compiled training step evaluates it on a traced step count by passing
        ``clip=jnp.clip``; with the default ``clip`` it works on Python numbers.
        Stage 0 (nothing to fade in) and ``transition_steps == 0`` give 1.
        """
        if stage == 0 or self.transition_steps == 0:
            return 1.0
        clip = clip or (lambda value, low, high: min(max(value, low), high))
        return clip((step - self.stage_start(stage)) / self.transition_steps, 0.0, 1.0)

    def stage_at(self, step: int) -> tuple[int, float]:
        """The stage and blend factor ``alpha`` at training step ``step`` (from 0)."""
        if step < 0:
            raise ValueError(f"step={step}: must be >= 0")
        stage = max(s for s in range(self.generator.num_stages) if self.stage_start(s) <= step)
        return stage, float(self.fade_in(stage, step))
