"""``DCGAN``: the GAN with deep convolutional networks (Radford et al., 2016).

References:
    Radford, Metz, Chintala. "Unsupervised Representation Learning with Deep
    Convolutional Generative Adversarial Networks", ICLR 2016.
    https://arxiv.org/abs/1511.06434
"""

from __future__ import annotations

from artifex.generative_models.core.configuration import DCGANConfig
from artifex.generative_models.models.gan.base import GAN

__all__ = ["DCGAN"]


class DCGAN(GAN):
    """A GAN with a transposed-convolution generator and a strided-convolution discriminator.

    Args:
        config: A :class:`DCGANConfig` (seed 000) or the legacy ``DCGANConfiguration``
            (seed 003, channels-first images); a ``ModelConfig`` works too.
        rngs: See :class:`GAN`.
        precision: See :class:`GAN`.

    Example:
        >>> config = DCGANConfiguration(image_size=64, channels=3, latent_dim=100)
        >>> dcgan = DCGAN(config, rngs=nnx.Rngs(params=0, dropout=1, sample=2))
        >>> dcgan.generate(n_samples=16, rngs=nnx.Rngs(sample=0)).shape
        (16, 3, 64, 64)

    Everything else is :class:`GAN`'s.
    """

    family = "dcgan"
    config: DCGANConfig
