"""Style injection: adaptive instance normalization and modulated convolution.

AdaIN is StyleGAN's way to apply a style; the modulated convolution is StyleGAN2's.

References:
    Huang, Belongie. "Arbitrary Style Transfer in Real-time with Adaptive Instance
    Normalization", ICCV 2017. https://arxiv.org/abs/1703.06868
    Karras, Laine, Aila. "A Style-Based Generator Architecture for Generative Adversarial
    Networks", CVPR 2019. https://arxiv.org/abs/1812.04948
    Karras et al. "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020,
    section 2.2. https://arxiv.org/abs/1912.04958
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from flax.nnx.nn.dtypes import canonicalize_dtype, promote_dtype

from artifex.generative_models.nets.layers._checks import (
    check_bool,
    check_kernel_size,
    check_nhwc,
    check_positive_float,
    check_positive_int,
    check_style,
)
from artifex.generative_models.nets.layers.equalized import EqualizedLinear

__all__ = ["AdaptiveInstanceNorm", "ModulatedConv"]


class AdaptiveInstanceNorm(nnx.Module):
    """Instance normalization whose per-channel scale and bias come from a style vector.

    ``normalized = (x - mean) / sqrt(var + eps)`` with mean and (population) variance over
    each sample's height and width, then ``normalized * (1 + scale(style)) + bias(style)``
    where ``scale`` and ``bias`` are ``nnx.Linear`` maps of the style: the StyleGAN example's
    layer, attribute for attribute.

    Attributes:
        style_scale: ``nnx.Linear(style_dim, num_features)``; its output is added to 1.
        dtype: Compute dtype (None: inferred from the input and the parameters).
        param_dtype: Storage dtype of the parameters.
        style_bias: ``nnx.Linear(style_dim, num_features)``.
        num_features: Channels of the feature maps.
        style_dim: Length of the style vector.
        eps: Added to the variance.
    """

    def __init__(
        self,
        num_features: int,
        style_dim: int,
        *,
        eps: float = 1e-8,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        """Creates the layer.

        Args:
            num_features: Channels of the feature maps, ≥ 1.
            style_dim: Length of the style vector, ≥ 1.
            eps: Added to the variance, > 0.
            dtype: Compute dtype of the output and the affine maps; None infers it from
                the input and the parameters. The statistics are at least float32.
            param_dtype: Storage dtype of the affine maps' parameters.
            rngs: Supplies the affine maps' weights.

        Raises:
            ValueError: If an argument is out of range.
        """
        owner = "AdaptiveInstanceNorm"
        self.num_features = check_positive_int(owner, "num_features", num_features)
        self.style_dim = check_positive_int(owner, "style_dim", style_dim)
        self.eps = check_positive_float(owner, "eps", eps)
        self.dtype = dtype
        self.param_dtype = param_dtype
        precision = {"dtype": dtype, "param_dtype": param_dtype}
        self.style_scale = nnx.Linear(style_dim, num_features, rngs=rngs, **precision)
        self.style_bias = nnx.Linear(style_dim, num_features, rngs=rngs, **precision)

    def __call__(self, x: jax.Array, style: jax.Array) -> jax.Array:
        """Normalizes ``x`` per sample and channel, then applies the style.

        Args:
            x: NHWC feature maps ``(N, H, W, num_features)``.
            style: Style vectors ``(N, style_dim)``.

        Returns:
            An array shaped like ``x``.

        Raises:
            ValueError: If ``x`` or ``style`` has the wrong shape.
        """
        check_nhwc("AdaptiveInstanceNorm", x, self.num_features)
        check_style("AdaptiveInstanceNorm", style, self.style_dim, x.shape[0])
        dtype = canonicalize_dtype(x, jnp.zeros((), self.param_dtype), dtype=self.dtype)
        # Statistics in at least float32, as Flax's norms keep them: bf16 variances are coarse.
        stats = x.astype(jnp.promote_types(x.dtype, jnp.float32))
        mean = jnp.mean(stats, axis=(1, 2), keepdims=True)
        var = jnp.var(stats, axis=(1, 2), keepdims=True)
        normalized = ((stats - mean) / jnp.sqrt(var + self.eps)).astype(dtype)
        scale = self.style_scale(style)[:, None, None, :]
        bias = self.style_bias(style)[:, None, None, :]
        return normalized * (1 + scale) + bias


class ModulatedConv(nnx.Module):
    """StyleGAN2 convolution whose weights are modulated by a style, then demodulated.

    For sample ``b``, ``s_b = affine(style_b)`` scales the kernel's input channels,
    ``w'[..., i, o] = w[..., i, o] * s_b[i]``; with ``demodulate`` each output channel is
    then rescaled to unit norm, ``w''[..., o] = w'[..., o] / sqrt(sum(w'[..., o] ** 2) +
    eps)``, so unit-variance inputs give unit-variance outputs whatever the style. The
    kernel uses the equalized learning rate (stored ``N(0, 1)``, scaled by
    ``1 / sqrt(fan_in)``); ``affine`` is an :class:`EqualizedLinear` whose bias starts at 1,
    so ``s`` starts near 1.

    It is computed without per-sample kernels: scaling the input channels by ``s_b``, running
    one shared convolution, and scaling the output channels by the demodulation factor is the
    same linear map. With ``upsample`` the input is first upsampled 2× by nearest neighbour
    (StyleGAN2 uses a transposed convolution and a blur filter instead). Zero ``"SAME"``
    padding keeps the spatial size; ``bias`` is added after demodulation.

    Attributes:
        affine: Style to per-input-channel scales ``s``.
        dtype: Compute dtype (None: inferred from the input and the parameters).
        param_dtype: Storage dtype of the parameters.
        kernel: Stored weights ``(k, k, in_features, out_features)``.
        bias: ``(out_features,)`` or ``None``.
        weight_scale: ``1 / sqrt(k * k * in_features)``.
        demodulate: Whether output channels are normalized.
        upsample: Whether the input is upsampled 2× first.
        eps: Added under the demodulation square root.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel_size: int | tuple[int, int],
        style_dim: int,
        *,
        demodulate: bool = True,
        upsample: bool = False,
        use_bias: bool = True,
        eps: float = 1e-8,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        """Creates the layer.

        Args:
            in_features: Input channels, ≥ 1.
            out_features: Output channels, ≥ 1.
            kernel_size: An int or ``(kh, kw)``.
            style_dim: Length of the style vector, ≥ 1.
            demodulate: Normalize each sample's output channels.
            upsample: Upsample the input 2× (nearest) before the convolution.
            use_bias: Add a per-channel bias, initialised to zero.
            eps: Added under the demodulation square root, > 0.
            dtype: Compute dtype; None infers it from the input and the parameters.
            param_dtype: Storage dtype of the parameters.
            rngs: Supplies the weights.

        Raises:
            ValueError: If an argument is out of range.
        """
        owner = "ModulatedConv"
        self.in_features = check_positive_int(owner, "in_features", in_features)
        self.out_features = check_positive_int(owner, "out_features", out_features)
        self.kernel_size = check_kernel_size(owner, kernel_size)
        self.style_dim = check_positive_int(owner, "style_dim", style_dim)
        self.demodulate = check_bool(owner, "demodulate", demodulate)
        self.upsample = check_bool(owner, "upsample", upsample)
        use_bias = check_bool(owner, "use_bias", use_bias)
        self.eps = check_positive_float(owner, "eps", eps)
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.affine = EqualizedLinear(
            style_dim,
            in_features,
            gain=1.0,
            bias_init=1.0,
            dtype=dtype,
            param_dtype=param_dtype,
            rngs=rngs,
        )
        shape = (*self.kernel_size, in_features, out_features)
        self.kernel = nnx.Param(jax.random.normal(rngs.params(), shape, param_dtype))
        self.weight_scale = 1.0 / math.sqrt(self.kernel_size[0] * self.kernel_size[1] * in_features)
        self.bias = nnx.Param(jnp.zeros((out_features,), param_dtype)) if use_bias else None

    def __call__(self, x: jax.Array, style: jax.Array) -> jax.Array:
        """Applies the style-modulated convolution.

        Args:
            x: NHWC ``(N, H, W, in_features)``.
            style: ``(N, style_dim)``.

        Returns:
            ``(N, H, W, out_features)``, or ``(N, 2H, 2W, out_features)`` with ``upsample``.

        Raises:
            ValueError: If ``x`` or ``style`` has the wrong shape.
        """
        check_nhwc("ModulatedConv", x, self.in_features)
        check_style("ModulatedConv", style, self.style_dim, x.shape[0])
        bias = self.bias[...] if self.bias is not None else None
        x, scales, weight, bias = promote_dtype(
            (x, self.affine(style), self.kernel[...] * self.weight_scale, bias),
            dtype=self.dtype,
        )  # scales: (N, in)
        if self.upsample:
            x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
        y = jax.lax.conv_general_dilated(
            x * scales[:, None, None, :],
            weight,
            window_strides=(1, 1),
            padding="SAME",
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )
        if self.demodulate:
            # ‖w'[..., o]‖² = Σ_i s_i² Σ_{kh,kw} w[kh, kw, i, o]²
            squared_norms = jnp.square(scales) @ jnp.sum(jnp.square(weight), axis=(0, 1))
            y = y * jax.lax.rsqrt(squared_norms + self.eps)[:, None, None, :].astype(y.dtype)
        if bias is not None:
            y = y + bias
        return y
