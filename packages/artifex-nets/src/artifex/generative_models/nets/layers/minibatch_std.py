"""Minibatch standard deviation feature (Karras et al., 2018).

References:
    Karras, Aila, Laine, Lehtinen. "Progressive Growing of GANs for Improved Quality,
    Stability, and Variation", ICLR 2018, section 3. https://arxiv.org/abs/1710.10196
    Karras et al. "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020
    (the grouped, multi-feature form used here). https://arxiv.org/abs/1912.04958
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.nets.layers._checks import (
    check_nhwc,
    check_positive_float,
    check_positive_int,
)

__all__ = ["MinibatchStdDev"]


class MinibatchStdDev(nnx.Module):
    """Appends the standard deviation across a group of samples as extra channels.

    The batch of ``N`` samples is split into ``N / G`` groups of ``G = group_size`` samples;
    as in StyleGAN2, sample ``i`` belongs to group ``i mod (N / G)`` (groups are strided, so
    consecutive samples land in different groups). The channels are split into
    ``num_new_features`` equal slices. For each group and slice the layer takes the
    population standard deviation over the group's samples, ``sqrt(var + eps)``, at each
    pixel and channel, averages it over pixels and channels of the slice, and appends that
    number as a constant feature map to every sample of the group. The output has
    ``C + num_new_features`` channels.

    If ``group_size`` exceeds the batch (a small last batch, a single sample at
    evaluation), the whole batch is one group. ``MinibatchStdDev(group_size=N)`` on a batch
    of ``N`` reproduces the progressive-GAN example's ``minibatch_std`` (up to ``eps``).

    The feature mixes samples: a critic using it does not treat samples independently,
    which per-sample gradient penalties assume.

    Attributes:
        group_size: Samples per group.
        num_new_features: Number of channel slices, one appended channel each.
        eps: Added to the variance before the square root.
    """

    def __init__(self, group_size: int = 4, num_new_features: int = 1, *, eps: float = 1e-8):
        """Creates the layer.

        Args:
            group_size: Samples per group, ≥ 1.
            num_new_features: Channels appended, ≥ 1; must divide the input's channels.
            eps: Added to the variance before the square root, > 0.

        Raises:
            ValueError: If an argument is not positive.
        """
        self.group_size = check_positive_int("MinibatchStdDev", "group_size", group_size)
        self.num_new_features = check_positive_int(
            "MinibatchStdDev", "num_new_features", num_new_features
        )
        self.eps = check_positive_float("MinibatchStdDev", "eps", eps)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Appends the group standard deviation channels.

        Args:
            x: NHWC feature maps ``(N, H, W, C)``.

        Returns:
            ``(N, H, W, C + num_new_features)`` in the dtype of ``x``.

        Raises:
            ValueError: If ``x`` is not rank 4, ``group_size`` (≤ N) does not divide ``N`` or
                ``num_new_features`` does not divide ``C``.
        """
        check_nhwc("MinibatchStdDev", x)
        n, h, w, c = x.shape
        features = self.num_new_features
        if c % features:
            raise ValueError(
                f"MinibatchStdDev: num_new_features={features} must divide the number of "
                f"channels {c} (input shape {tuple(x.shape)})"
            )
        group = min(self.group_size, n)
        if n % group:
            raise ValueError(
                f"MinibatchStdDev: group_size={self.group_size} must divide the batch size {n}"
            )
        # Statistics in at least float32: bfloat16 variances of near-equal samples cancel.
        dtype = jnp.promote_types(x.dtype, jnp.float32)
        y = x.astype(dtype).reshape(group, n // group, h, w, features, c // features)
        y = y - jnp.mean(y, axis=0)
        std = jnp.sqrt(jnp.mean(jnp.square(y), axis=0) + self.eps)  # (N/G, H, W, F, C/F)
        std = jnp.mean(std, axis=(1, 2, 4))  # (N/G, F)
        # Tiling repeats the groups in the order the reshape assigned them: row i is group
        # i mod (N/G).
        std = jnp.tile(std, (group, 1))
        std_maps = jnp.broadcast_to(std[:, None, None, :], (n, h, w, features))
        return jnp.concatenate([x, std_maps.astype(x.dtype)], axis=-1)
