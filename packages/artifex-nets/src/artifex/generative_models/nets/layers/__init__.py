"""Reusable Flax NNX layers for GAN generators and discriminators.

All image layers compute in NHWC. Layers with state or randomness follow
``module.train()`` / ``module.eval()`` (through the ``deterministic`` and
``use_running_average`` attributes Flax sets) and take ``training=`` to override the mode
for one call. Every layer checks its constructor arguments and input shapes and raises a
``ValueError`` or ``TypeError`` naming itself before anything is computed.

- :class:`SpectralNorm` wraps ``nnx.Linear`` / ``nnx.Conv`` / ``nnx.ConvTranspose``
  (:func:`spectral_normalize` is the pure function; its state is :class:`SpectralNormStat`).
- :class:`PixelNorm`, :class:`MinibatchStdDev`, :class:`EqualizedLinear`,
  :class:`EqualizedConv`: the progressive-GAN layers.
- :class:`AdaptiveInstanceNorm`, :class:`ModulatedConv`, :class:`NoiseInjection`: StyleGAN.
- :class:`ResidualBlock` and :func:`reflect_pad`: CycleGAN's ResNet generator.
"""

from artifex.generative_models.nets.layers.equalized import EqualizedConv, EqualizedLinear
from artifex.generative_models.nets.layers.minibatch_std import MinibatchStdDev
from artifex.generative_models.nets.layers.noise import NoiseInjection
from artifex.generative_models.nets.layers.pixel_norm import PixelNorm
from artifex.generative_models.nets.layers.residual import ResidualBlock, reflect_pad
from artifex.generative_models.nets.layers.spectral_norm import (
    SpectralNorm,
    SpectralNormStat,
    spectral_normalize,
)
from artifex.generative_models.nets.layers.style import AdaptiveInstanceNorm, ModulatedConv

__all__ = [
    "AdaptiveInstanceNorm",
    "EqualizedConv",
    "EqualizedLinear",
    "MinibatchStdDev",
    "ModulatedConv",
    "NoiseInjection",
    "PixelNorm",
    "ResidualBlock",
    "SpectralNorm",
    "SpectralNormStat",
    "reflect_pad",
    "spectral_normalize",
]
