"""Which network classes a GAN config builds.

Each network config is matched by its exact class (a ``ConvGeneratorConfig`` is a
``GeneratorConfig`` but must not build an MLP): MLP configs build the MLP networks,
convolutional configs the family's convolutional networks (DCGAN's for a plain
``GANConfig``), conditional configs the conditional networks of a conditional GAN.
"""

from __future__ import annotations

from typing import Any

from artifex.generative_models.core.configuration import (
    ConditionalDiscriminatorConfig,
    ConditionalGeneratorConfig,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    LSGANConfig,
    WGANConfig,
)
from artifex.generative_models.nets.conditional import (
    ConditionalDiscriminator,
    ConditionalGenerator,
)
from artifex.generative_models.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from artifex.generative_models.nets.lsgan import LSGANDiscriminator, LSGANGenerator
from artifex.generative_models.nets.mlp import Discriminator, Generator
from artifex.generative_models.nets.wgan import WGANDiscriminator, WGANGenerator

__all__ = ["network_classes"]

_CONV_NETWORKS: dict[type, tuple[type, type]] = {
    WGANConfig: (WGANGenerator, WGANDiscriminator),
    LSGANConfig: (LSGANGenerator, LSGANDiscriminator),
}
_DCGAN_NETWORKS = (DCGANGenerator, DCGANDiscriminator)


def network_classes(
    config: GANConfig, *, owner: str, conditional: bool = False
) -> tuple[type, type]:
    """``(generator_class, discriminator_class)`` for the networks of ``config``.

    ``conditional`` (a conditional GAN model) accepts the conditional networks only.

    Raises:
        TypeError: A network config this model cannot build (for example a conditional
            network outside a conditional GAN); the message names the accepted ones.
    """
    conv_generator, conv_discriminator = _CONV_NETWORKS.get(type(config), _DCGAN_NETWORKS)
    generators: dict[type, type] = {
        GeneratorConfig: Generator,
        ConvGeneratorConfig: conv_generator,
    }
    discriminators: dict[type, type] = {
        DiscriminatorConfig: Discriminator,
        ConvDiscriminatorConfig: conv_discriminator,
    }
    if conditional:
        generators = {ConditionalGeneratorConfig: ConditionalGenerator}
        discriminators = {ConditionalDiscriminatorConfig: ConditionalDiscriminator}
    return (
        _lookup(generators, config.generator, owner=owner, role="generator"),
        _lookup(discriminators, config.discriminator, owner=owner, role="discriminator"),
    )


def _lookup(table: dict[type, type], network: Any, *, owner: str, role: str) -> type:
    found = table.get(type(network))
    if found is not None:
        return found
    accepted = ", ".join(klass.__name__ for klass in table)
    hint = ""
    if isinstance(network, ConditionalGeneratorConfig | ConditionalDiscriminatorConfig):
        hint = "; conditional networks need labels: use ConditionalGAN"
    raise TypeError(
        f"{owner}: cannot build a {role} from a {type(network).__name__}; "
        f"accepted: {accepted}{hint}"
    )
