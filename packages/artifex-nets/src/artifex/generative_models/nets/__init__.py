"""Flax NNX layers and every generator, discriminator and critic architecture.

Subpackages:
    layers: Reusable layers (spectral norm, pixel norm, minibatch standard deviation,
        equalized learning rate, AdaIN and modulated convolution, noise injection,
        residual blocks).

Precision is chosen when a network is built: its config's ``dtype`` (compute) and
``param_dtype`` (storage) reach every layer; :func:`compute_dtypes` reads it back from a
built module.
"""

from artifex.generative_models.nets import layers
from artifex.generative_models.nets._precision import compute_dtypes, layer_dtypes
from artifex.generative_models.nets.biggan import BigGANDiscriminator, BigGANGenerator
from artifex.generative_models.nets.conditional import (
    ConditionalDiscriminator,
    ConditionalGenerator,
)
from artifex.generative_models.nets.conv import ConvDiscriminator, ConvGenerator
from artifex.generative_models.nets.cyclegan import CycleGANGenerator
from artifex.generative_models.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from artifex.generative_models.nets.lsgan import LSGANDiscriminator, LSGANGenerator
from artifex.generative_models.nets.mlp import Discriminator, Generator
from artifex.generative_models.nets.patchgan import (
    CycleGANDiscriminator,
    MultiScalePatchGANDiscriminator,
    PatchGANDiscriminator,
)
from artifex.generative_models.nets.progressive import (
    ProgressiveConvBlock,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
)
from artifex.generative_models.nets.stylegan import (
    MappingNetwork,
    StyleConvBlock,
    StyleGANDiscriminator,
    StyleGANGenerator,
)
from artifex.generative_models.nets.stylegan2 import StyleGAN2Generator
from artifex.generative_models.nets.wgan import WGANDiscriminator, WGANGenerator

__version__ = "0.1.0"

__all__ = [
    "BigGANDiscriminator",
    "BigGANGenerator",
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "ConvDiscriminator",
    "ConvGenerator",
    "CycleGANDiscriminator",
    "CycleGANGenerator",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "Discriminator",
    "Generator",
    "LSGANDiscriminator",
    "LSGANGenerator",
    "MappingNetwork",
    "MultiScalePatchGANDiscriminator",
    "PatchGANDiscriminator",
    "ProgressiveConvBlock",
    "ProgressiveDiscriminator",
    "ProgressiveGenerator",
    "StyleConvBlock",
    "StyleGAN2Generator",
    "StyleGANDiscriminator",
    "StyleGANGenerator",
    "WGANDiscriminator",
    "WGANGenerator",
    "__version__",
    "compute_dtypes",
    "layer_dtypes",
    "layers",
]
