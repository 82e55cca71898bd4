"""The legacy ``DCGANConfiguration`` of seed 003 (``core.configuration.gan``).

Seed 003 builds ``DCGAN(config)`` from::

    DCGANConfiguration(image_size=64, channels=3, latent_dim=100,
                       gen_hidden_dims=(256, 128, 64, 32),
                       disc_hidden_dims=(32, 64, 128, 256), loss_type="vanilla")

and gets channels-first samples ``(16, 3, 64, 64)``. :meth:`to_dcgan_config` translates it
into a :class:`DCGANConfig` whose networks take and make ``(channels, image_size,
image_size)`` images with ``data_format="NCHW"``; the other network settings are the DCGAN
keyword defaults (``family_defaults("dcgan")``: ReLU + batch norm in the generator; leaky
ReLU 0.2, dropout 0.3 and spectral norm in the discriminator).
"""

from artifex.generative_models.core.configuration._families import family_defaults
from artifex.generative_models.core.configuration._fields import (
    LossType,
    check_positive,
    check_positive_entries,
    check_range,
)
from artifex.generative_models.core.configuration.base import ConfigBase, config_dataclass
from artifex.generative_models.core.configuration.gan_config import DCGANConfig
from artifex.generative_models.core.configuration.network_configs import (
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
)

__all__ = ["DCGANConfiguration"]


@config_dataclass
class DCGANConfiguration(ConfigBase):
    """The legacy DCGAN configuration (square, channels-first images).

    Attributes:
        name: Name of the translated config.
        image_size: Image height and width; >= 1.
        channels: Image channels; >= 1.
        latent_dim: Latent size; >= 1.
        gen_hidden_dims: Generator channel counts, widest first.
        disc_hidden_dims: Discriminator channel counts, narrowest first.
        loss_type: ``"vanilla"``, ``"wasserstein"``, ``"least_squares"`` or ``"hinge"``.
        generator_lr: Generator learning rate; > 0.
        discriminator_lr: Discriminator learning rate; > 0.
        beta1: Adam first-moment decay; in [0, 1).
        beta2: Adam second-moment decay; in [0, 1).
    """

    name: str = "dcgan"
    image_size: int = 64
    channels: int = 3
    latent_dim: int = 100
    gen_hidden_dims: tuple[int, ...] = (256, 128, 64, 32)
    disc_hidden_dims: tuple[int, ...] = (32, 64, 128, 256)
    loss_type: LossType = "vanilla"
    generator_lr: float = 2e-4
    discriminator_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999

    def _validate(self) -> None:
        super()._validate()
        for name in ("image_size", "channels", "latent_dim", "generator_lr", "discriminator_lr"):
            check_positive(self, name)
        check_positive_entries(self, "gen_hidden_dims")
        check_positive_entries(self, "disc_hidden_dims")
        check_range(self, "beta1", 0, 1)
        check_range(self, "beta2", 0, 1)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """The sample shape ``(channels, image_size, image_size)``."""
        return (self.channels, self.image_size, self.image_size)

    def to_dcgan_config(self) -> DCGANConfig:
        """Translate into the typed :class:`DCGANConfig` (see the module's rules)."""
        spec = family_defaults("dcgan")
        shape = self.output_shape
        generator = ConvGeneratorConfig(
            **{
                **spec.generator_defaults,
                "hidden_dims": self.gen_hidden_dims,
                "latent_dim": self.latent_dim,
                "output_shape": shape,
                "data_format": "NCHW",
            }
        )
        discriminator = ConvDiscriminatorConfig(
            **{
                **spec.discriminator_defaults,
                "hidden_dims": self.disc_hidden_dims,
                "input_shape": shape,
                "data_format": "NCHW",
            }
        )
        return DCGANConfig(
            name=self.name,
            generator=generator,
            discriminator=discriminator,
            loss_type=self.loss_type,
            generator_lr=self.generator_lr,
            discriminator_lr=self.discriminator_lr,
            beta1=self.beta1,
            beta2=self.beta2,
        )
