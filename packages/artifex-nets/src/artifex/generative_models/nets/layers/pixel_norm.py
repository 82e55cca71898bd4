"""Pixel-wise feature normalization (Karras et al., 2018).

References:
    Karras, Aila, Laine, Lehtinen. "Progressive Growing of GANs for Improved Quality,
    Stability, and Variation", ICLR 2018, section 4.2. https://arxiv.org/abs/1710.10196
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.nets.layers._checks import check_positive_float

__all__ = ["PixelNorm"]


class PixelNorm(nnx.Module):
    """Normalizes each pixel's feature vector to unit root-mean-square.

    ``y = x / sqrt(mean(x ** 2, over channels) + eps)``, the ``pixel_norm`` of the
    progressive-GAN example. It has no parameters and no mode. Besides NHWC feature maps it
    accepts ``(batch, features)`` arrays, which is how StyleGAN normalizes latent codes.

    Attributes:
        eps: Added under the square root so an all-zero pixel stays zero.
    """

    def __init__(self, *, eps: float = 1e-8):
        """Creates the layer.

        Args:
            eps: Added under the square root, > 0.

        Raises:
            ValueError: If ``eps`` is not positive.
        """
        self.eps = check_positive_float("PixelNorm", "eps", eps)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Normalizes ``x`` over its last (channel) axis.

        Args:
            x: NHWC feature maps ``(N, H, W, C)`` or vectors ``(N, C)``.

        Returns:
            An array of the same shape and dtype.

        Raises:
            ValueError: If ``x`` has rank other than 4 or 2.
        """
        if x.ndim not in (2, 4):
            raise ValueError(
                "PixelNorm expects an NHWC input of rank 4 (or a (batch, features) input of "
                f"rank 2), got shape {tuple(x.shape)}"
            )
        # The mean square in at least float32 (a bf16 sum over many channels is coarse);
        # the result keeps the input's dtype.
        wide = x.astype(jnp.promote_types(x.dtype, jnp.float32))
        rms = jnp.sqrt(jnp.mean(jnp.square(wide), axis=-1, keepdims=True) + self.eps)
        return (wide / rms).astype(x.dtype)
