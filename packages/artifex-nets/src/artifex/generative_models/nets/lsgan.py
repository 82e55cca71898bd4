"""LSGAN generator and discriminator (Mao et al., 2017).

Same architecture as DCGAN; the discriminator returns raw scores ``(B, 1)`` (no
sigmoid) for the least-squares loss.

References:
    Mao, Li, Xie, Lau, Wang, Smolley. "Least Squares Generative Adversarial Networks",
    ICCV 2017. https://arxiv.org/abs/1611.04076
"""

from __future__ import annotations

from artifex.generative_models.nets.conv import ConvDiscriminator, ConvGenerator

__all__ = ["LSGANDiscriminator", "LSGANGenerator"]


class LSGANGenerator(ConvGenerator):
    """LSGAN generator: the DCGAN generator with the same keyword defaults."""

    family = "lsgan"


class LSGANDiscriminator(ConvDiscriminator):
    """LSGAN discriminator: the DCGAN discriminator returning raw scores ``(B, 1)``.

    ``score_type="auto"`` means logits (the least-squares loss); keyword defaults are the
    DCGAN discriminator's.
    """

    family = "lsgan"
    loss_type = "least_squares"
