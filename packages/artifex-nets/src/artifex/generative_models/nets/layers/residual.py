"""The residual block of CycleGAN's ResNet generator, and reflection padding.

References:
    Zhu, Park, Isola, Efros. "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks", ICCV 2017. https://arxiv.org/abs/1703.10593
    Johnson, Alahi, Fei-Fei. "Perceptual Losses for Real-Time Style Transfer and
    Super-Resolution", ECCV 2016 (the generator design). https://arxiv.org/abs/1603.08155
"""

from __future__ import annotations

from typing import Any, Literal

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.nets.layers._checks import (
    check_choice,
    check_nhwc,
    check_positive_int,
)

__all__ = ["ResidualBlock", "reflect_pad"]

PaddingMode = Literal["reflect", "zero"]
NormKind = Literal["instance", "batch", "none"]


def reflect_pad(x: jax.Array, pad: int) -> jax.Array:
    """Pads the height and width of NHWC maps by mirroring, without repeating the edge.

    The same as ``numpy.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")``
    and PyTorch's ``ReflectionPad2d``. It avoids the dark borders zero padding leaves in
    image-to-image generators.

    Args:
        x: NHWC ``(N, H, W, C)``.
        pad: Pixels added on each side, ≥ 0 and smaller than ``H`` and ``W`` (a mirror
            cannot reach further than the opposite edge).

    Returns:
        ``(N, H + 2 * pad, W + 2 * pad, C)``.

    Raises:
        ValueError: If ``x`` is not rank 4 or ``pad`` is out of range.
    """
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
        raise ValueError(f"reflect_pad: pad must be an int >= 0, got {pad!r}")
    check_nhwc("reflect_pad", x)
    if pad >= min(x.shape[1], x.shape[2]):
        raise ValueError(
            f"reflect_pad: pad={pad} must be smaller than the height and width of the input, "
            f"got shape {tuple(x.shape)}"
        )
    return jnp.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")


def _make_norm(
    norm: str, channels: int, rngs: nnx.Rngs, **precision: Any
) -> nnx.InstanceNorm | nnx.BatchNorm | None:
    if norm == "instance":
        return nnx.InstanceNorm(channels, rngs=rngs, **precision)
    if norm == "batch":
        # Flax keeps BatchNorm's running statistics in float32 whatever the dtypes.
        return nnx.BatchNorm(channels, rngs=rngs, **precision)
    return None


class ResidualBlock(nnx.Module):
    """``x + norm(conv(pad(relu(norm(conv(pad(x)))))))`` with two 3×3 convolutions.

    The block of CycleGAN's ResNet generator: it keeps the shape of its input (any height and
    width, odd or even; reflection needs both ≥ 2). Padding is explicit, one pixel each side,
    and the convolutions are ``"VALID"``.

    Mode: with ``norm="batch"`` the ``nnx.BatchNorm`` layers follow ``module.train()`` /
    ``module.eval()``; ``training=`` overrides them for one call. Instance norm and no norm
    have no mode.

    Attributes:
        conv1: First 3×3 convolution.
        norm1: Normalization after ``conv1``, or ``None``.
        conv2: Second 3×3 convolution.
        norm2: Normalization after ``conv2``, or ``None``.
        channels: Channels of input and output.
        padding_mode: ``"reflect"`` or ``"zero"``.
        norm: ``"instance"``, ``"batch"`` or ``"none"``.
    """

    def __init__(
        self,
        channels: int,
        *,
        padding_mode: PaddingMode = "reflect",
        norm: NormKind = "instance",
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        """Creates the block.

        Args:
            channels: Channels of input and output, ≥ 1.
            padding_mode: ``"reflect"`` (CycleGAN's choice) or ``"zero"``.
            norm: ``"instance"`` (CycleGAN's choice), ``"batch"`` or ``"none"``.
            dtype: Compute dtype of the convolutions and norms; None infers it.
            param_dtype: Storage dtype of the parameters.
            rngs: Supplies the weights.

        Raises:
            ValueError: If an argument is out of range.
        """
        owner = "ResidualBlock"
        self.channels = check_positive_int(owner, "channels", channels)
        self.padding_mode = check_choice(owner, "padding_mode", padding_mode, ("reflect", "zero"))
        self.norm = check_choice(owner, "norm", norm, ("instance", "batch", "none"))
        precision = {"dtype": dtype, "param_dtype": param_dtype}
        self.conv1 = nnx.Conv(channels, channels, (3, 3), padding="VALID", rngs=rngs, **precision)
        self.norm1 = _make_norm(norm, channels, rngs, **precision)
        self.conv2 = nnx.Conv(channels, channels, (3, 3), padding="VALID", rngs=rngs, **precision)
        self.norm2 = _make_norm(norm, channels, rngs, **precision)

    def _pad(self, x: jax.Array) -> jax.Array:
        if self.padding_mode == "reflect":
            return reflect_pad(x, 1)
        return jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))

    @staticmethod
    def _normalize(
        norm: nnx.InstanceNorm | nnx.BatchNorm | None, x: jax.Array, training: bool | None
    ) -> jax.Array:
        if norm is None:
            return x
        if isinstance(norm, nnx.BatchNorm) and training is not None:
            return norm(x, use_running_average=not training)
        return norm(x)

    def __call__(self, x: jax.Array, *, training: bool | None = None) -> jax.Array:
        """Applies the block.

        Args:
            x: NHWC ``(N, H, W, channels)``.
            training: Overrides the batch-norm mode for this call.

        Returns:
            An array shaped like ``x``.

        Raises:
            ValueError: If ``x`` is not NHWC with ``channels`` channels, or is smaller than
                2×2 with reflection padding.
        """
        check_nhwc("ResidualBlock", x, self.channels)
        if self.padding_mode == "reflect" and min(x.shape[1], x.shape[2]) < 2:
            raise ValueError(
                "ResidualBlock with padding_mode='reflect' needs a height and width >= 2, "
                f"got shape {tuple(x.shape)}"
            )
        h = self._normalize(self.norm1, self.conv1(self._pad(x)), training)
        h = jax.nn.relu(h)
        h = self._normalize(self.norm2, self.conv2(self._pad(h)), training)
        return x + h
