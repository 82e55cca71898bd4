"""Configs of whole GANs: a generator, a discriminator and the adversarial objective.

::

    BaseGANConfig (abstract: name, loss and optimizer settings)
    ├── GANConfig                 generator + discriminator (MLP or any subclass)
    │   ├── DCGANConfig           convolutional networks
    │   ├── WGANConfig            Wasserstein loss, critic iterations, gradient penalty
    │   ├── LSGANConfig           least-squares loss with targets a, b, c
    │   └── ConditionalGANConfig  class-conditional networks
    ├── CycleGANConfig            two generators, two discriminators, cycle losses
    ├── StyleGANConfig            style-based generator
    └── ProgressiveGANConfig      progressively grown networks

A GAN config checks that the discriminator takes what the generator makes (shape and
layout); a discriminator without ``input_shape`` takes the generator's. The CycleGAN,
StyleGAN and Progressive GAN configs live in ``cyclegan_config`` and
``growing_gan_configs``; all are importable from here.
"""

from typing import Any, Literal, Self

from artifex.generative_models.core.configuration._fields import (
    LossType,
    check_positive,
)
from artifex.generative_models.core.configuration._gan_base import BaseGANConfig, describe_shape
from artifex.generative_models.core.configuration._objects import (
    build_from_object,
    public_attributes,
)
from artifex.generative_models.core.configuration.base import ConfigBase, config_dataclass
from artifex.generative_models.core.configuration.cyclegan_config import CycleGANConfig
from artifex.generative_models.core.configuration.growing_gan_configs import (
    ProgressiveGANConfig,
    StyleGANConfig,
)
from artifex.generative_models.core.configuration.layout import ImageLayout
from artifex.generative_models.core.configuration.network_configs import (
    ConditionalDiscriminatorConfig,
    ConditionalGeneratorConfig,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    DiscriminatorConfig,
    GeneratorConfig,
)

__all__ = [
    "BaseGANConfig",
    "ConditionalGANConfig",
    "CycleGANConfig",
    "DCGANConfig",
    "GANConfig",
    "LSGANConfig",
    "ProgressiveGANConfig",
    "StyleGANConfig",
    "WGANConfig",
]


@config_dataclass
class GANConfig(BaseGANConfig):
    """A GAN: one generator, one discriminator, an adversarial loss.

    Example (seed 000)::

        GANConfig(name="vanilla_gan", generator=gen_config, discriminator=disc_config,
                  loss_type="vanilla", generator_lr=0.0002, discriminator_lr=0.0002)

    A discriminator with ``input_shape=None`` takes the generator's ``output_shape`` (and
    ``data_format``); otherwise the two must match. ``replace(generator=...)`` carries a
    discriminator that followed the old generator's shape over to the new one.
    ``GANConfig.from_object`` reads seed 003's attribute-style config classes.

    Attributes:
        generator: The generator network.
        discriminator: The discriminator network.
        name: See :class:`BaseGANConfig`.
        loss_type: See :class:`BaseGANConfig`.
        generator_lr: See :class:`BaseGANConfig`.
        discriminator_lr: See :class:`BaseGANConfig`.
        beta1: See :class:`BaseGANConfig`.
        beta2: See :class:`BaseGANConfig`.
        gradient_penalty_weight: See :class:`BaseGANConfig`.
        label_smoothing: See :class:`BaseGANConfig`.
    """

    generator: GeneratorConfig
    discriminator: DiscriminatorConfig

    def _validate(self) -> None:
        super()._validate()
        generator, discriminator = self.generator, self.discriminator
        if discriminator.input_shape is None:
            data_format = discriminator.data_format
            if data_format == "auto":
                data_format = generator.data_format
            discriminator = discriminator.replace(
                input_shape=generator.output_shape, data_format=data_format
            )
            self._set("discriminator", discriminator)
        made, taken = generator.output_layout, discriminator.input_layout
        if generator.output_shape != discriminator.input_shape or made != taken:
            cls = type(self).__name__
            raise ValueError(
                f"{cls}.discriminator.input_shape="
                f"{describe_shape(discriminator.input_shape, taken)} does not match "
                f"{cls}.generator.output_shape={describe_shape(generator.output_shape, made)}: "
                "the discriminator must take what the generator makes"
            )

    def _prepare_replace(self, changes: dict[str, Any]) -> dict[str, Any]:
        new = changes.get("generator")
        old, discriminator = self.generator, self.discriminator
        follows = (
            discriminator.input_shape == old.output_shape
            and discriminator.input_layout == old.output_layout
        )
        if isinstance(new, GeneratorConfig) and "discriminator" not in changes and follows:
            changes["discriminator"] = discriminator.replace(
                input_shape=new.output_shape, data_format=new.data_format
            )
        return changes

    @property
    def latent_dim(self) -> int:
        """The latent size, taken from the generator."""
        return self.generator.latent_dim

    @property
    def data_layout(self) -> ImageLayout | None:
        """The layout of the real images the discriminator takes (None: flat data)."""
        return self.discriminator.input_layout

    @property
    def discriminator_score_type(self) -> str:
        """What the discriminator's call returns under this loss: probabilities or logits."""
        return self.discriminator.resolved_score_type(self.loss_type)

    @classmethod
    def from_object(cls, source: Any) -> Self:
        """Build this config from an attribute-style object or a mapping.

        Reads seed 003's duck-typed config::

            class GANConfig:
                latent_dim = 100
                loss_type = "vanilla"
                class generator:
                    hidden_dims = [256, 512]
                    output_shape = (1, 1, 28, 28)
                class discriminator:
                    hidden_dims = [512, 256]

        Rules: attributes named like fields are read (nested ``generator`` and
        ``discriminator`` objects become the field's config class); a top-level
        ``latent_dim`` goes to the generator (it must agree with one set there); the
        discriminator's input shape comes from the generator's output shape; methods are
        skipped and any other attribute is an error.

        Raises:
            TypeError: No ``generator`` or ``discriminator`` attribute.
            ValueError: An unknown attribute, or disagreeing ``latent_dim`` values.
        """
        where = f"{cls.__name__}.from_object"
        attributes = public_attributes(source)
        for name in ("generator", "discriminator"):
            if attributes.get(name) is None:
                raise TypeError(f"{where}: the object has no {name!r} attribute")
        generator_source = attributes["generator"]
        overrides: dict[str, Any] = {}
        latent_dim = attributes.pop("latent_dim", None)
        if latent_dim is not None:
            own = public_attributes(generator_source).get("latent_dim")
            if isinstance(generator_source, ConfigBase):
                own = getattr(generator_source, "latent_dim", None)
            if own is not None and own != latent_dim:
                raise ValueError(
                    f"{where}: latent_dim={latent_dim!r} disagrees with "
                    f"generator.latent_dim={own!r}"
                )
            overrides["latent_dim"] = latent_dim
        hints = cls.field_types()
        attributes["generator"] = build_from_object(
            hints["generator"], generator_source, f"{where}.generator", overrides
        )
        return build_from_object(cls, attributes, where)


@config_dataclass
class DCGANConfig(GANConfig):
    """A deep convolutional GAN: transposed-conv generator, strided-conv discriminator.

    Example (seed 000)::

        DCGANConfig(name="dcgan_64", generator=conv_gen_config,
                    discriminator=conv_disc_config, loss_type="vanilla",
                    generator_lr=0.0002, discriminator_lr=0.0002, beta1=0.5, beta2=0.999)

    Attributes:
        generator: A :class:`ConvGeneratorConfig`.
        discriminator: A :class:`ConvDiscriminatorConfig`.
        name: See :class:`BaseGANConfig`.
        loss_type: See :class:`BaseGANConfig`.
        generator_lr: See :class:`BaseGANConfig`.
        discriminator_lr: See :class:`BaseGANConfig`.
        beta1: See :class:`BaseGANConfig`.
        beta2: See :class:`BaseGANConfig`.
        gradient_penalty_weight: See :class:`BaseGANConfig`.
        label_smoothing: See :class:`BaseGANConfig`.
    """

    name: str = "dcgan"
    generator: ConvGeneratorConfig
    discriminator: ConvDiscriminatorConfig


@config_dataclass
class WGANConfig(GANConfig):
    """A Wasserstein GAN: critic scores, several critic updates per generator update.

    Example (seed 000)::

        WGANConfig(name="wgan", generator=generator_config,
                   discriminator=discriminator_config, critic_iterations=5,
                   use_gradient_penalty=True, gradient_penalty_weight=10.0)

    With ``use_gradient_penalty=False`` the critic's weights are clipped to
    ``[-clip_value, clip_value]`` instead (the original WGAN) and
    ``gradient_penalty_weight`` is not used (see ``effective_gradient_penalty_weight``).

    Attributes:
        loss_type: Must be ``"wasserstein"``.
        critic_iterations: Critic updates per generator update; >= 1.
        use_gradient_penalty: WGAN-GP (True) or weight clipping (False).
        gradient_penalty_weight: Lambda of the gradient penalty; > 0 with
            ``use_gradient_penalty``. Defaults to 10.
        clip_value: Weight-clipping bound without gradient penalty; > 0.
        generator_lr: Defaults to 1e-4 (WGAN-GP paper).
        discriminator_lr: Defaults to 1e-4.
        beta1: Defaults to 0.0.
        beta2: Defaults to 0.9.
        name: See :class:`GANConfig`.
        generator: See :class:`GANConfig`.
        discriminator: See :class:`GANConfig`.
        label_smoothing: See :class:`GANConfig`.
    """

    name: str = "wgan"
    loss_type: LossType = "wasserstein"
    generator_lr: float = 1e-4
    discriminator_lr: float = 1e-4
    beta1: float = 0.0
    beta2: float = 0.9
    critic_iterations: int = 5
    use_gradient_penalty: bool = True
    gradient_penalty_weight: float = 10.0
    clip_value: float = 0.01

    def _validate(self) -> None:
        super()._validate()
        if self.loss_type != "wasserstein":
            self._fail("loss_type", "a WGAN uses the 'wasserstein' loss")
        check_positive(self, "critic_iterations")
        check_positive(self, "clip_value")
        if self.use_gradient_penalty and self.gradient_penalty_weight <= 0:
            self._fail(
                "gradient_penalty_weight",
                "must be > 0 with use_gradient_penalty=True "
                "(set use_gradient_penalty=False for weight clipping)",
            )

    @property
    def effective_gradient_penalty_weight(self) -> float:
        """The gradient-penalty weight in use: 0 without ``use_gradient_penalty``."""
        return self.gradient_penalty_weight if self.use_gradient_penalty else 0.0


@config_dataclass
class LSGANConfig(GANConfig):
    """A least-squares GAN.

    Losses: ``L_D = ½E[(D(x) - b)²] + ½E[(D(G(z)) - a)²]`` and
    ``L_G = ½E[(D(G(z)) - c)²]``.

    Example (seed 000)::

        LSGANConfig(name="lsgan", generator=generator_config,
                    discriminator=discriminator_config, a=0.0, b=1.0, c=1.0)

    Attributes:
        loss_type: Must be ``"least_squares"``.
        a: Discriminator target for fake samples.
        b: Discriminator target for real samples; differs from ``a``.
        c: Generator target for fake samples.
        reduction: ``"mean"`` or ``"sum"`` over the batch.
        name: See :class:`GANConfig`.
        generator: See :class:`GANConfig`.
        discriminator: See :class:`GANConfig`.
        generator_lr: See :class:`GANConfig`.
        discriminator_lr: See :class:`GANConfig`.
        beta1: See :class:`GANConfig`.
        beta2: See :class:`GANConfig`.
        gradient_penalty_weight: See :class:`GANConfig`.
        label_smoothing: See :class:`GANConfig`.
    """

    name: str = "lsgan"
    loss_type: LossType = "least_squares"
    a: float = 0.0
    b: float = 1.0
    c: float = 1.0
    reduction: Literal["mean", "sum"] = "mean"

    def _validate(self) -> None:
        super()._validate()
        if self.loss_type != "least_squares":
            self._fail("loss_type", "an LSGAN uses the 'least_squares' loss")
        if self.a == self.b:
            self._fail("b", f"must differ from a={self.a!r}: real and fake need different targets")


@config_dataclass
class ConditionalGANConfig(GANConfig):
    """A class-conditional GAN; both networks see the labels.

    Example (seed 000)::

        ConditionalGANConfig(name="conditional_gan", generator=gen_config,
                             discriminator=disc_config)

    Attributes:
        generator: A :class:`ConditionalGeneratorConfig`.
        discriminator: A :class:`ConditionalDiscriminatorConfig` with the same
            ``conditional.num_classes``.
        name: See :class:`BaseGANConfig`.
        loss_type: See :class:`BaseGANConfig`.
        generator_lr: See :class:`BaseGANConfig`.
        discriminator_lr: See :class:`BaseGANConfig`.
        beta1: See :class:`BaseGANConfig`.
        beta2: See :class:`BaseGANConfig`.
        gradient_penalty_weight: See :class:`BaseGANConfig`.
        label_smoothing: See :class:`BaseGANConfig`.
    """

    name: str = "conditional_gan"
    generator: ConditionalGeneratorConfig
    discriminator: ConditionalDiscriminatorConfig

    def _validate(self) -> None:
        super()._validate()
        made = self.generator.conditional.num_classes
        taken = self.discriminator.conditional.num_classes
        if made != taken:
            raise ValueError(
                f"ConditionalGANConfig.discriminator.conditional.num_classes={taken} does not "
                f"match generator.conditional.num_classes={made}"
            )

    @property
    def num_classes(self) -> int:
        """The number of classes."""
        return self.generator.conditional.num_classes
