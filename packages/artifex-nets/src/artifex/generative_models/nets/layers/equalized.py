"""Equalized-learning-rate dense and convolutional layers (Karras et al., 2018).

Weights are stored with unit variance and scaled at run time by the He constant
``gain / sqrt(fan_in)``, so every weight sees updates of the same relative size under
adaptive optimizers such as Adam. ``lr_multiplier`` further slows a layer's effective
learning rate (StyleGAN's mapping network uses 0.01): the stored weights are drawn with
standard deviation ``1 / lr_multiplier`` and multiplied by ``lr_multiplier`` at run time,
so the initial effective weights are unchanged while each optimizer step moves them
``lr_multiplier`` times as far.

References:
    Karras, Aila, Laine, Lehtinen. "Progressive Growing of GANs for Improved Quality,
    Stability, and Variation", ICLR 2018, section 4.1. https://arxiv.org/abs/1710.10196
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from flax.nnx.nn.dtypes import promote_dtype

from artifex.generative_models.nets.layers._checks import (
    check_bool,
    check_features,
    check_finite_float,
    check_kernel_size,
    check_nhwc,
    check_positive_float,
    check_positive_int,
)

__all__ = ["EqualizedConv", "EqualizedLinear"]

HE_GAIN: float = math.sqrt(2.0)
"""The He gain for ReLU-family activations, the default ``gain``."""


class EqualizedLinear(nnx.Module):
    """Dense layer ``y = x @ (kernel * weight_scale) + bias * lr_multiplier``.

    ``kernel`` is stored ``N(0, 1 / lr_multiplier²)`` and ``weight_scale = gain *
    lr_multiplier / sqrt(in_features)``, so the effective weight has the He standard
    deviation ``gain / sqrt(in_features)``. ``bias`` is stored as ``bias_init /
    lr_multiplier`` so the effective bias starts at ``bias_init``.

    Attributes:
        dtype: Compute dtype (None: inferred from the input and the parameters).
        param_dtype: Storage dtype of the parameters.
        kernel: Stored weights ``(in_features, out_features)``.
        bias: Stored bias ``(out_features,)``, or ``None``.
        weight_scale: The run-time multiplier of ``kernel``.
        lr_multiplier: The run-time multiplier of ``bias`` (and part of ``weight_scale``).
        in_features: Input features.
        out_features: Output features.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        use_bias: bool = True,
        gain: float = HE_GAIN,
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        """Creates the layer.

        Args:
            in_features: Input features, ≥ 1.
            out_features: Output features, ≥ 1.
            use_bias: Whether to add a bias.
            gain: Effective weight std times ``sqrt(in_features)``; ``sqrt(2)`` (He) by
                default, 1 for a linear output.
            lr_multiplier: Relative learning rate of this layer, > 0.
            bias_init: Initial effective bias.
            dtype: Compute dtype; None infers it from the input and the parameters.
            param_dtype: Storage dtype of ``kernel`` and ``bias``.
            rngs: Supplies the weights (its ``params`` stream).

        Raises:
            ValueError: If an argument is out of range.
        """
        owner = "EqualizedLinear"
        self.in_features = check_positive_int(owner, "in_features", in_features)
        self.out_features = check_positive_int(owner, "out_features", out_features)
        use_bias = check_bool(owner, "use_bias", use_bias)
        gain = check_positive_float(owner, "gain", gain)
        self.lr_multiplier = check_positive_float(owner, "lr_multiplier", lr_multiplier)
        bias_init = check_finite_float(owner, "bias_init", bias_init)
        self.weight_scale = gain * self.lr_multiplier / math.sqrt(in_features)
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.kernel = nnx.Param(
            jax.random.normal(rngs.params(), (in_features, out_features), param_dtype)
            / self.lr_multiplier
        )
        self.bias = (
            nnx.Param(jnp.full((out_features,), bias_init / self.lr_multiplier, param_dtype))
            if use_bias
            else None
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        """Applies the layer.

        Args:
            x: ``(..., in_features)``.

        Returns:
            ``(..., out_features)``.

        Raises:
            ValueError: If the last axis of ``x`` is not ``in_features``.
        """
        check_features("EqualizedLinear", x, self.in_features)
        # Scaled in the parameters' own dtype, then cast to the compute dtype.
        kernel = self.kernel[...] * self.weight_scale
        bias = self.bias[...] * self.lr_multiplier if self.bias is not None else None
        x, kernel, bias = promote_dtype((x, kernel, bias), dtype=self.dtype)
        y = x @ kernel
        if bias is not None:
            y = y + bias
        return y


class EqualizedConv(nnx.Module):
    """2-D NHWC convolution with equalized learning rate.

    Like :class:`EqualizedLinear` with ``fan_in = kh * kw * in_features``: the kernel
    ``(kh, kw, in_features, out_features)`` is stored with unit variance (divided by
    ``lr_multiplier``) and multiplied by ``gain * lr_multiplier / sqrt(fan_in)`` at run time.

    Attributes:
        dtype: Compute dtype (None: inferred from the input and the parameters).
        param_dtype: Storage dtype of the parameters.
        kernel: Stored weights ``(kh, kw, in_features, out_features)``.
        bias: Stored bias ``(out_features,)``, or ``None``.
        weight_scale: The run-time multiplier of ``kernel``.
        lr_multiplier: The run-time multiplier of ``bias``.
        in_features: Input channels.
        out_features: Output channels.
        kernel_size: ``(kh, kw)``.
        strides: Stride along height and width.
        padding: ``"SAME"``, ``"VALID"`` or the zero padding on each side.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel_size: int | tuple[int, int],
        *,
        strides: int = 1,
        padding: str | int = "SAME",
        use_bias: bool = True,
        gain: float = HE_GAIN,
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        """Creates the layer.

        Args:
            in_features: Input channels, ≥ 1.
            out_features: Output channels, ≥ 1.
            kernel_size: An int or ``(kh, kw)``.
            strides: Stride along height and width, ≥ 1.
            padding: ``"SAME"``, ``"VALID"`` or an int ≥ 0 of zero padding on each side.
            use_bias: Whether to add a bias.
            gain: Effective weight std times ``sqrt(fan_in)``; ``sqrt(2)`` by default.
            lr_multiplier: Relative learning rate of this layer, > 0.
            bias_init: Initial effective bias.
            dtype: Compute dtype; None infers it from the input and the parameters.
            param_dtype: Storage dtype of ``kernel`` and ``bias``.
            rngs: Supplies the weights (its ``params`` stream).

        Raises:
            ValueError: If an argument is out of range.
        """
        owner = "EqualizedConv"
        self.in_features = check_positive_int(owner, "in_features", in_features)
        self.out_features = check_positive_int(owner, "out_features", out_features)
        self.kernel_size = check_kernel_size(owner, kernel_size)
        self.strides = check_positive_int(owner, "strides", strides)
        if not (
            padding in ("SAME", "VALID")
            or (isinstance(padding, int) and not isinstance(padding, bool) and padding >= 0)
        ):
            raise ValueError(
                f"{owner}: padding must be 'SAME', 'VALID' or an int >= 0, got {padding!r}"
            )
        self.padding = padding
        use_bias = check_bool(owner, "use_bias", use_bias)
        gain = check_positive_float(owner, "gain", gain)
        self.lr_multiplier = check_positive_float(owner, "lr_multiplier", lr_multiplier)
        bias_init = check_finite_float(owner, "bias_init", bias_init)
        fan_in = self.kernel_size[0] * self.kernel_size[1] * in_features
        self.weight_scale = gain * self.lr_multiplier / math.sqrt(fan_in)
        shape = (*self.kernel_size, in_features, out_features)
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.kernel = nnx.Param(
            jax.random.normal(rngs.params(), shape, param_dtype) / self.lr_multiplier
        )
        self.bias = (
            nnx.Param(jnp.full((out_features,), bias_init / self.lr_multiplier, param_dtype))
            if use_bias
            else None
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        """Applies the convolution.

        Args:
            x: NHWC ``(N, H, W, in_features)``.

        Returns:
            NHWC ``(N, H', W', out_features)``.

        Raises:
            ValueError: If ``x`` is not NHWC with ``in_features`` channels.
        """
        check_nhwc("EqualizedConv", x, self.in_features)
        padding: str | list[tuple[int, int]] = (
            self.padding if isinstance(self.padding, str) else [(self.padding, self.padding)] * 2
        )
        kernel = self.kernel[...] * self.weight_scale
        bias = self.bias[...] * self.lr_multiplier if self.bias is not None else None
        x, kernel, bias = promote_dtype((x, kernel, bias), dtype=self.dtype)
        y = jax.lax.conv_general_dilated(
            x,
            kernel,
            window_strides=(self.strides, self.strides),
            padding=padding,
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )
        if bias is not None:
            y = y + bias
        return y
