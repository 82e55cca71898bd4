"""Flax NNX layers and every generator, discriminator and critic architecture.

Subpackages:
    layers: Reusable layers (spectral norm, pixel norm, minibatch standard deviation,
        equalized learning rate, AdaIN and modulated convolution, noise injection,
        residual blocks).
"""

from artifex.generative_models.nets import layers
from artifex.generative_models.nets.mlp import Discriminator, Generator

__version__ = "0.1.0"

__all__ = ["Discriminator", "Generator", "__version__", "layers"]
