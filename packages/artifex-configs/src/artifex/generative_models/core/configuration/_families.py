"""The GAN families of the keyword and legacy construction styles, and their defaults.

The defaults are the ones seed 003's parameter tables give its keyword constructors
(``DCGANGenerator``, ``WGANDiscriminator``, ...); the legacy ``ModelConfig`` and
``DCGANConfiguration`` translate through them, so every construction style lands on
the same typed config.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from artifex.generative_models.core.configuration.base import FrozenDict
from artifex.generative_models.core.configuration.gan_config import (
    ConditionalGANConfig,
    DCGANConfig,
    GANConfig,
    LSGANConfig,
    WGANConfig,
)
from artifex.generative_models.core.configuration.network_configs import (
    ConditionalDiscriminatorConfig,
    ConditionalGeneratorConfig,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    DiscriminatorConfig,
    GeneratorConfig,
)


@dataclasses.dataclass(frozen=True)
class FamilyDefaults:
    """The config classes of one GAN family and the defaults of its networks.

    Attributes:
        family: The family name (``"gan"``, ``"dcgan"``, ``"wgan"``, ``"lsgan"``,
            ``"conditional"``).
        gan_config: The typed GAN config class.
        generator: The generator config class.
        discriminator: The discriminator config class.
        generator_defaults: Keyword defaults of the generator (``hidden_dims`` included).
        discriminator_defaults: Keyword defaults of the discriminator.
    """

    family: str
    gan_config: type[GANConfig]
    generator: type[GeneratorConfig]
    discriminator: type[DiscriminatorConfig]
    generator_defaults: Mapping[str, Any]
    discriminator_defaults: Mapping[str, Any]


_MLP_DISCRIMINATOR = {
    "activation": "leaky_relu",
    "leaky_relu_slope": 0.2,
    "batch_norm": False,
    "dropout_rate": 0.3,
    "use_spectral_norm": False,
}
_DCGAN_GENERATOR = {
    "hidden_dims": (256, 128, 64, 32),
    "activation": "relu",
    "batch_norm": True,
    "dropout_rate": 0.0,
}
_DCGAN_DISCRIMINATOR = {
    "hidden_dims": (32, 64, 128, 256),
    "activation": "leaky_relu",
    "leaky_relu_slope": 0.2,
    "batch_norm": False,
    "dropout_rate": 0.3,
    "use_spectral_norm": True,
}

FAMILIES: Mapping[str, FamilyDefaults] = FrozenDict(
    {
        "gan": FamilyDefaults(
            "gan",
            GANConfig,
            GeneratorConfig,
            DiscriminatorConfig,
            FrozenDict({**_DCGAN_GENERATOR, "hidden_dims": (256, 512)}),
            FrozenDict({**_MLP_DISCRIMINATOR, "hidden_dims": (512, 256)}),
        ),
        "dcgan": FamilyDefaults(
            "dcgan",
            DCGANConfig,
            ConvGeneratorConfig,
            ConvDiscriminatorConfig,
            FrozenDict(_DCGAN_GENERATOR),
            FrozenDict(_DCGAN_DISCRIMINATOR),
        ),
        "wgan": FamilyDefaults(
            "wgan",
            WGANConfig,
            ConvGeneratorConfig,
            ConvDiscriminatorConfig,
            FrozenDict({**_DCGAN_GENERATOR, "hidden_dims": (1024, 512, 256)}),
            FrozenDict(
                {
                    "hidden_dims": (256, 512, 1024),
                    "activation": "leaky_relu",
                    "leaky_relu_slope": 0.2,
                    "batch_norm": False,
                    "use_instance_norm": True,
                    "dropout_rate": 0.0,
                }
            ),
        ),
        "lsgan": FamilyDefaults(
            "lsgan",
            LSGANConfig,
            ConvGeneratorConfig,
            ConvDiscriminatorConfig,
            FrozenDict(_DCGAN_GENERATOR),
            FrozenDict(_DCGAN_DISCRIMINATOR),
        ),
        "conditional": FamilyDefaults(
            "conditional",
            ConditionalGANConfig,
            ConditionalGeneratorConfig,
            ConditionalDiscriminatorConfig,
            FrozenDict({**_DCGAN_GENERATOR, "hidden_dims": (512, 256, 128, 64)}),
            FrozenDict(
                {
                    "hidden_dims": (64, 128, 256, 512),
                    "activation": "leaky_relu",
                    "leaky_relu_slope": 0.2,
                    "batch_norm": False,
                    "dropout_rate": 0.0,
                }
            ),
        ),
    }
)


def family_defaults(family: str) -> FamilyDefaults:
    """The classes and network defaults of ``family``.

    Raises:
        ValueError: An unknown family (the message lists the known ones).
    """
    if family not in FAMILIES:
        raise ValueError(f"family={family!r}: must be one of {', '.join(map(repr, FAMILIES))}")
    return FAMILIES[family]
