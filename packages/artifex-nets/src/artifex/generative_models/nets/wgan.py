"""WGAN generator and critic (Arjovsky et al., 2017; Gulrajani et al., 2017).

The critic returns raw scores of shape ``(B,)`` — no sigmoid — and uses instance norm
rather than batch norm, so the gradient penalty sees each sample on its own.

References:
    Arjovsky, Chintala, Bottou. "Wasserstein GAN", ICML 2017.
    https://arxiv.org/abs/1701.07875
    Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville. "Improved Training of Wasserstein
    GANs", NeurIPS 2017. https://arxiv.org/abs/1704.00028
"""

from __future__ import annotations

from artifex.generative_models.nets.conv import ConvDiscriminator, ConvGenerator

__all__ = ["WGANDiscriminator", "WGANGenerator"]


class WGANGenerator(ConvGenerator):
    """WGAN generator: the DCGAN architecture with the API reference's WGAN defaults.

    Keyword defaults: ``latent_dim=100``, ``hidden_dims=(1024, 512, 256)``,
    ``activation="relu"``, ``batch_norm=True``, ``dropout_rate=0.0``. A call maps
    ``(B, latent_dim)`` to ``(B, *output_shape)``.
    """

    family = "wgan"


class WGANDiscriminator(ConvDiscriminator):
    """WGAN critic: strided convolutions with instance norm; raw scores of shape ``(B,)``.

    Keyword defaults (API reference): ``hidden_dims=(256, 512, 1024)``,
    ``activation="leaky_relu"``, ``leaky_relu_slope=0.2``, ``use_instance_norm=True``,
    ``dropout_rate=0.0``. ``score_type="auto"`` means logits (the Wasserstein loss), so a
    call and :meth:`logits` return the same unbounded scores.
    """

    family = "wgan"
    loss_type = "wasserstein"
    flat_scores = True
