"""DCGAN generator and discriminator (Radford et al., 2016).

Built from a config (user guide) or from keywords with the API reference's defaults::

    DCGANGenerator(config=ConvGeneratorConfig(hidden_dims=(512, 256, 128, 64),
                   output_shape=(64, 64, 3), latent_dim=100), rngs=nnx.Rngs(params=0))
    DCGANGenerator(output_shape=(3, 64, 64), latent_dim=100, rngs=nnx.Rngs(params=0))

References:
    Radford, Metz, Chintala. "Unsupervised Representation Learning with Deep
    Convolutional Generative Adversarial Networks", ICLR 2016.
    https://arxiv.org/abs/1511.06434
"""

from __future__ import annotations

from artifex.generative_models.nets.conv import ConvDiscriminator, ConvGenerator

__all__ = ["DCGANDiscriminator", "DCGANGenerator"]


class DCGANGenerator(ConvGenerator):
    """DCGAN generator: dense projection, transposed convolutions with batch norm, tanh.

    Keyword defaults (API reference): ``latent_dim=100``, ``hidden_dims=(256, 128, 64,
    32)``, ``activation="relu"``, ``batch_norm=True``, ``dropout_rate=0.0``. A call
    ``generator(z, training=None)`` maps ``(B, latent_dim)`` to ``(B, *output_shape)``.
    See :class:`~artifex.generative_models.nets.conv.ConvGenerator`.

    Example:
        >>> gen = DCGANGenerator(output_shape=(1, 28, 28), latent_dim=8, hidden_dims=(8, 4),
        ...                      rngs=nnx.Rngs(params=0))
        >>> gen(jnp.zeros((2, 8)), training=False).shape
        (2, 1, 28, 28)
    """

    family = "dcgan"


class DCGANDiscriminator(ConvDiscriminator):
    """DCGAN discriminator: strided convolutions, LeakyReLU, one score per image ``(B, 1)``.

    Keyword defaults (API reference): ``hidden_dims=(32, 64, 128, 256)``,
    ``activation="leaky_relu"``, ``leaky_relu_slope=0.2``, ``batch_norm=False``,
    ``dropout_rate=0.3``, ``use_spectral_norm=True``. A call returns probabilities unless
    ``score_type="logits"`` (a GAN with a non-vanilla loss sets that); :meth:`logits`
    always returns logits. See
    :class:`~artifex.generative_models.nets.conv.ConvDiscriminator`.
    """

    family = "dcgan"
