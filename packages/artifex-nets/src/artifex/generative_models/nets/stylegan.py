"""StyleGAN networks (seed 001): mapping network, style blocks, generator, discriminator.

The generator as the advanced examples build it::

    StyleGANGenerator(latent_dim=512, style_dim=512, image_size=256, rngs=rngs)

An MLP maps ``z`` to a style ``w``; a learned constant ``start_size x start_size`` input
runs through ``num_blocks`` :class:`StyleConvBlock` s (upsample by 2 from the second on,
3x3 convolution, noise injection, AdaIN, leaky ReLU) and a 1x1 "to RGB" convolution:
``(B, image_size, image_size, channels)`` images (NCHW with ``data_format="NCHW"``).
:meth:`StyleGANGenerator.style_mixing` feeds ``w(z1)`` to the blocks before
``mix_layer`` and ``w(z2)`` to the rest.

:class:`StyleGANDiscriminator` is a residual critic (StyleGAN2's "resnet"
discriminator) with a minibatch standard-deviation feature, configured by the same
:class:`ProgressiveDiscriminatorConfig` as the progressive one but always at the final
resolution.

References:
    Karras, Laine, Aila. "A Style-Based Generator Architecture for Generative Adversarial
    Networks", CVPR 2019. https://arxiv.org/abs/1812.04948
    Karras et al. "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020
    (residual discriminator). https://arxiv.org/abs/1912.04958
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration import (
    ProgressiveDiscriminatorConfig,
    StyleGANGeneratorConfig,
)
from artifex.generative_models.core.configuration.layout import ImageLayout
from artifex.generative_models.nets._base import (
    Network,
    activation_fn,
    build_config,
    check_batch,
    from_nhwc,
    to_nhwc,
    with_stream,
)
from artifex.generative_models.nets._precision import layer_dtypes
from artifex.generative_models.nets.layers import (
    AdaptiveInstanceNorm,
    NoiseInjection,
    PixelNorm,
)
from artifex.generative_models.nets.layers._checks import check_positive_int
from artifex.generative_models.nets.progressive import (
    FinalBlock,
    apply,
    check_no_conflict,
    downsample,
    make_conv,
    make_dense,
    upsample,
)

__all__ = [
    "MappingNetwork",
    "StyleConvBlock",
    "StyleGANDiscriminator",
    "StyleGANGenerator",
]


class MappingNetwork(nnx.Module):
    """MLP from a latent code ``z`` to a style vector ``w``: dense + leaky ReLU per layer.

    Args:
        latent_dim: Size of ``z``.
        style_dim: Size of ``w`` and of every hidden layer.
        num_layers: Dense layers.
        rngs: Supplies the weights.
        lr_multiplier: Relative learning rate of the layers (StyleGAN: 0.01); used with
            ``use_equalized_lr``.
        use_equalized_lr: :class:`EqualizedLinear` layers instead of ``nnx.Linear``.
        normalize_latent: Pixel-normalize ``z`` first (StyleGAN does).
        leaky_relu_slope: Negative slope of the leaky ReLUs.
        dtype: Compute dtype of the dense layers; None infers it.
        param_dtype: Storage dtype of the parameters.

    Attributes:
        layers: The dense layers, first to last.
    """

    def __init__(
        self,
        latent_dim: int,
        style_dim: int,
        num_layers: int = 8,
        *,
        rngs: nnx.Rngs,
        lr_multiplier: float = 0.01,
        use_equalized_lr: bool = True,
        normalize_latent: bool = True,
        leaky_relu_slope: float = 0.2,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
    ):
        owner = "MappingNetwork"
        self.latent_dim = check_positive_int(owner, "latent_dim", latent_dim)
        self.style_dim = check_positive_int(owner, "style_dim", style_dim)
        check_positive_int(owner, "num_layers", num_layers)
        self.layers = nnx.List(
            [
                make_dense(
                    latent_dim if i == 0 else style_dim,
                    style_dim,
                    equalized=use_equalized_lr,
                    spectral=False,
                    lr_multiplier=lr_multiplier,
                    rngs=rngs,
                    dtype=dtype,
                    param_dtype=param_dtype,
                )
                for i in range(num_layers)
            ]
        )
        self.pixel_norm = nnx.data(PixelNorm() if normalize_latent else None)
        self.leaky_relu_slope = leaky_relu_slope

    def __call__(self, z: jax.Array) -> jax.Array:
        """Map ``z`` ``(B, latent_dim)`` to ``w`` ``(B, style_dim)``."""
        check_batch("z", z, (self.latent_dim,), "MappingNetwork")
        w = self.pixel_norm(z) if self.pixel_norm is not None else z
        for layer in self.layers:
            w = jax.nn.leaky_relu(apply(layer, w, None), self.leaky_relu_slope)
        return w


class StyleConvBlock(nnx.Module):
    """Optional 2x upsampling, 3x3 convolution, noise, AdaIN with the style, leaky ReLU.

    Noise: in training mode (``module.train()``, or ``training=True``) each call adds
    per-element Gaussian noise scaled by a learned per-channel weight (zero at first),
    drawn from the call's ``rngs`` (its ``noise`` stream, else ``default``) or the block's
    own stream; ``noise=`` gives the noise explicitly, in either mode. In eval mode and
    without ``noise=`` nothing is added.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        style_dim: Size of the style vector.
        rngs: Supplies the weights and the block's own noise stream.
        upsample: Upsample the input 2x (nearest) first.
        use_noise: Add noise (a :class:`NoiseInjection` layer).
        use_equalized_lr: :class:`EqualizedConv` instead of ``nnx.Conv``.
        leaky_relu_slope: Negative slope of the leaky ReLU.
        dtype: Compute dtype of the block's layers; None infers it.
        param_dtype: Storage dtype of the parameters.

    Attributes:
        conv: The 3x3 convolution.
        noise: :class:`NoiseInjection` or None.
        adain: :class:`AdaptiveInstanceNorm`.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        style_dim: int,
        *,
        rngs: nnx.Rngs,
        upsample: bool = False,
        use_noise: bool = True,
        use_equalized_lr: bool = False,
        leaky_relu_slope: float = 0.2,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
    ):
        self.in_channels = check_positive_int("StyleConvBlock", "in_channels", in_channels)
        self.upsample = upsample
        precision = {"dtype": dtype, "param_dtype": param_dtype}
        self.conv = make_conv(
            in_channels,
            out_channels,
            3,
            padding=1,
            equalized=use_equalized_lr,
            spectral=False,
            rngs=rngs,
            **precision,
        )
        self.noise = nnx.data(
            NoiseInjection(out_channels, rngs=with_stream(rngs, "noise"), **precision)
            if use_noise
            else None
        )
        self.adain = AdaptiveInstanceNorm(out_channels, style_dim, rngs=rngs, **precision)
        self.leaky_relu_slope = leaky_relu_slope

    def __call__(
        self,
        x: jax.Array,
        style: jax.Array,
        *,
        rngs: nnx.Rngs | None = None,
        noise: jax.Array | None = None,
        training: bool | None = None,
    ) -> jax.Array:
        """Apply the block to NHWC maps with a style ``(B, style_dim)``.

        Returns:
            ``(B, H, W, out_channels)``, or ``(B, 2H, 2W, out_channels)`` with ``upsample``.
        """
        if x.ndim != 4 or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"StyleConvBlock expects NHWC maps (batch, H, W, {self.in_channels}), got "
                f"{tuple(x.shape)}"
            )
        if self.upsample:
            x = upsample(x)
        x = apply(self.conv, x, training)
        if self.noise is not None:
            if noise is not None:
                x = self.noise(x, noise=noise)
            else:
                x = self.noise(x, rngs=rngs, training=training)
        x = self.adain(x, style)
        return jax.nn.leaky_relu(x, self.leaky_relu_slope)


class _StyleGenerator(Network):
    """What StyleGAN's and StyleGAN2's generators share ahead of their synthesis layers.

    Attributes:
        latent_dim: Size of ``z``.
        style_dim: Size of ``w``.
        num_blocks: Blocks (resolutions).
        output_layout: The layout of the generated images.
        output_shape: Per-sample shape of the images, in the declared layout.
    """

    latent_dim: int
    style_dim: int
    num_blocks: int
    output_layout: ImageLayout
    output_shape: tuple[int, ...]

    def _mapping_front(self, rngs: nnx.Rngs, *, use_equalized_lr: bool) -> MappingNetwork:
        """Set the attributes above from the config; the mapping network.

        Built first in both generators, so they draw their initial weights in one order.
        """
        cfg: Any = self.config
        self.latent_dim = cfg.latent_dim
        self.style_dim = cfg.style_dim
        self.num_blocks = cfg.num_blocks
        self.output_layout = cfg.output_layout
        self.output_shape = cfg.output_shape
        return MappingNetwork(
            cfg.latent_dim,
            cfg.style_dim,
            cfg.mapping_layers,
            rngs=rngs,
            lr_multiplier=cfg.mapping_lr_multiplier,
            use_equalized_lr=use_equalized_lr,
            leaky_relu_slope=cfg.leaky_relu_slope,
            **layer_dtypes(cfg),
        )


class StyleGANGenerator(_StyleGenerator):
    """Style-based generator: ``z`` ``(B, latent_dim)`` in, ``(B, H, W, channels)`` out.

    Args:
        config: A :class:`StyleGANGeneratorConfig`; or None and its fields as keywords
            (``latent_dim``, ``style_dim``, ``image_size``, ...; seed 001's defaults).
        rngs: ``params`` initialises the weights; ``noise`` (derived from ``params`` when
            absent) is the blocks' own noise stream.
        **options: Config fields (keyword style) or changes to ``config``.

    Attributes:
        mapping: The :class:`MappingNetwork`.
        constant_input: The learned input ``(1, start_size, start_size, max_channels)``.
        style_blocks: The :class:`StyleConvBlock` s, coarsest first.
        to_rgb: The 1x1 output convolution.
        num_blocks: ``len(style_blocks)``.
    """

    config: StyleGANGeneratorConfig

    def __init__(
        self,
        config: StyleGANGeneratorConfig | None = None,
        *,
        rngs: nnx.Rngs,
        **options: Any,
    ):
        super().__init__(
            build_config(StyleGANGeneratorConfig, config, options, owner="StyleGANGenerator")
        )
        cfg = self.config
        channels = cfg.block_channels
        self.mapping = self._mapping_front(rngs, use_equalized_lr=cfg.use_equalized_lr)
        self.constant_input = nnx.Param(
            jnp.ones(
                (1, cfg.start_size, cfg.start_size, cfg.max_channels),
                layer_dtypes(cfg)["param_dtype"],
            )
        )
        self.style_blocks = nnx.List(
            [
                StyleConvBlock(
                    cfg.max_channels if i == 0 else channels[i - 1],
                    channels[i],
                    cfg.style_dim,
                    rngs=rngs,
                    upsample=i > 0,
                    use_noise=cfg.use_noise_injection,
                    use_equalized_lr=cfg.use_equalized_lr,
                    leaky_relu_slope=cfg.leaky_relu_slope,
                    **layer_dtypes(cfg),
                )
                for i in range(cfg.num_blocks)
            ]
        )
        self.to_rgb = make_conv(
            channels[-1],
            cfg.channels,
            1,
            padding="VALID",
            equalized=cfg.use_equalized_lr,
            spectral=False,
            gain=1.0,
            rngs=rngs,
            **layer_dtypes(cfg),
        )

    def _check_rngs(self, rngs: nnx.Rngs | None) -> None:
        if rngs is not None and "noise" not in rngs and "default" not in rngs:
            raise ValueError(
                "StyleGANGenerator: rngs given to a call must have a 'noise' or 'default' "
                "stream for the noise injection"
            )

    def synthesize(
        self,
        styles: jax.Array,
        rngs: nnx.Rngs | None = None,
        *,
        training: bool | None = None,
    ) -> jax.Array:
        """Images from styles given directly, skipping the mapping network.

        ``styles`` is one ``(B, style_dim)`` for all blocks or ``(B, num_blocks,
        style_dim)``, one per block.

        Raises:
            ValueError: ``styles`` has another shape.
        """
        if styles.ndim == 2:
            check_batch("styles", styles, (self.style_dim,), "StyleGANGenerator.synthesize")
            per_block: Sequence[jax.Array] = [styles] * self.num_blocks
        else:
            check_batch(
                "styles",
                styles,
                (self.num_blocks, self.style_dim),
                "StyleGANGenerator.synthesize",
            )
            per_block = [styles[:, i] for i in range(self.num_blocks)]
        self._check_rngs(rngs)
        training = self.is_training(training)
        batch = styles.shape[0]
        # The learned input is stored in param_dtype and used in the compute dtype.
        constant = self.constant_input[...].astype(layer_dtypes(self.config)["dtype"])
        x = jnp.broadcast_to(constant, (batch, *self.constant_input.shape[1:]))
        for block, style in zip(self.style_blocks, per_block, strict=True):
            x = block(x, style, rngs=rngs, training=training)
        rgb = apply(self.to_rgb, x, training)
        images = activation_fn(self.config.output_activation)(rgb)
        return from_nhwc(images, self.output_layout)

    def __call__(
        self,
        z: jax.Array,
        rngs: nnx.Rngs | None = None,
        *,
        training: bool | None = None,
    ) -> jax.Array:
        """Generate images ``(B, H, W, channels)`` (or NCHW) from ``z`` ``(B, latent_dim)``.

        Args:
            z: Latent codes.
            rngs: Source of this call's noise (``noise`` stream, else ``default``); the
                blocks' own streams are used without it. Noise is added in training mode.
            training: Overrides the module's mode for this call.
        """
        check_batch("z", z, (self.latent_dim,), "StyleGANGenerator")
        return self.synthesize(self.mapping(z), rngs, training=training)

    def style_mixing(
        self,
        z1: jax.Array,
        z2: jax.Array,
        mix_layer: int | jax.Array,
        rngs: nnx.Rngs | None = None,
        *,
        training: bool | None = None,
    ) -> jax.Array:
        """Images whose blocks before ``mix_layer`` get ``w(z1)`` and the others ``w(z2)``.

        ``mix_layer=0`` is generating from ``z2`` alone, ``mix_layer=num_blocks`` from
        ``z1`` alone. A traced ``mix_layer`` (under ``jit``) is accepted.

        Raises:
            ValueError: ``z1`` and ``z2`` differ in shape, or ``mix_layer`` is not in
                ``[0, num_blocks]``.
        """
        check_batch("z1", z1, (self.latent_dim,), "StyleGANGenerator.style_mixing")
        if tuple(z2.shape) != tuple(z1.shape):
            raise ValueError(
                "StyleGANGenerator.style_mixing expects z2 of the shape of z1 "
                f"{tuple(z1.shape)}, got {tuple(z2.shape)}"
            )
        if isinstance(mix_layer, bool) or (
            isinstance(mix_layer, int) and not 0 <= mix_layer <= self.num_blocks
        ):
            raise ValueError(
                f"StyleGANGenerator.style_mixing: mix_layer must be an int in [0, "
                f"{self.num_blocks}] (num_blocks), got {mix_layer!r}"
            )
        w1, w2 = self.mapping(z1), self.mapping(z2)
        layers = jnp.arange(self.num_blocks)[None, :, None]
        styles = jnp.where(layers < mix_layer, w1[:, None, :], w2[:, None, :])
        return self.synthesize(styles, rngs, training=training)


class DiscriminatorResidualBlock(nnx.Module):
    """StyleGAN2's residual discriminator block: two 3x3 convs and a 1x1 skip, halving.

    ``(main + skip) / sqrt(2)`` with ``main = pool(lrelu(conv2(lrelu(conv1(x)))))`` and
    ``skip = conv1x1(pool(x))``; ``pool`` is 2x2 average pooling.

    Attributes:
        conv1: 3x3, ``in_channels -> in_channels``.
        conv2: 3x3, ``in_channels -> out_channels``.
        skip: 1x1, ``in_channels -> out_channels``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        rngs: nnx.Rngs,
        leaky_relu_slope: float = 0.2,
        use_equalized_lr: bool = False,
        use_spectral_norm: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
    ):
        check_no_conflict("DiscriminatorResidualBlock", use_equalized_lr, use_spectral_norm)
        conv = {
            "equalized": use_equalized_lr,
            "spectral": use_spectral_norm,
            "rngs": rngs,
            "dtype": dtype,
            "param_dtype": param_dtype,
        }
        self.conv1 = make_conv(in_channels, in_channels, 3, padding=1, **conv)
        self.conv2 = make_conv(in_channels, out_channels, 3, padding=1, **conv)
        self.skip = make_conv(in_channels, out_channels, 1, padding="VALID", gain=1.0, **conv)
        self.leaky_relu_slope = leaky_relu_slope

    def __call__(self, x: jax.Array, *, training: bool | None = None) -> jax.Array:
        """NHWC ``(B, H, W, in_channels)`` to ``(B, H / 2, W / 2, out_channels)``."""
        slope = self.leaky_relu_slope
        h = jax.nn.leaky_relu(apply(self.conv1, x, training), slope)
        h = downsample(jax.nn.leaky_relu(apply(self.conv2, h, training), slope))
        return (h + apply(self.skip, downsample(x), training)) / math.sqrt(2.0)


def _translate_image_size(config: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Accept ``image_size`` (like the generator's) for ``num_stages``."""
    if "image_size" not in options:
        return options
    options = dict(options)
    size = options.pop("image_size")
    start = options.get("start_size", config.start_size if config is not None else 4)
    ratio, remainder = divmod(size, start) if isinstance(size, int) and size > 0 else (0, 1)
    if remainder or ratio < 1 or ratio & (ratio - 1):
        raise ValueError(
            f"StyleGANDiscriminator: image_size={size!r} must be start_size * 2**k with "
            f"start_size={start}"
        )
    stages = ratio.bit_length()
    if options.get("num_stages", stages) != stages:
        raise ValueError(
            f"StyleGANDiscriminator: image_size={size} means num_stages={stages} with "
            f"start_size={start}, but num_stages={options['num_stages']} was given"
        )
    options["num_stages"] = stages
    return options


class StyleGANDiscriminator(Network):
    """Residual critic at the final resolution: images in, scores ``(B, 1)`` out.

    Takes ``(B, R, R, channels)`` images (NCHW with ``data_format="NCHW"``), ``R =
    start_size * 2**(num_stages - 1)``: a 1x1 "from RGB" convolution and leaky ReLU to
    ``stage_channels[-1]`` maps, a :class:`DiscriminatorResidualBlock` per halving down to
    ``start_size``, then the minibatch standard deviation (groups of up to 4 samples, with
    ``use_minibatch_std``), a 3x3 and a ``start_size x start_size`` "VALID" convolution and
    a dense score. The score is a logit or a probability as ``config.score_type`` says
    (alone, ``"auto"`` means logits); :meth:`logits` always gives logits.

    Args:
        config: A :class:`ProgressiveDiscriminatorConfig` (its last stage is the image
            size); or None and its fields as keywords, where ``image_size`` may replace
            ``num_stages`` (keyword default: 256x256, ``num_stages=7``).
        rngs: ``params`` initialises the weights.
        **options: Config fields (keyword style) or changes to ``config``.

    Raises:
        ValueError: ``image_size`` is not ``start_size * 2**k``, or equalized learning rate
            together with spectral norm.
    """

    config: ProgressiveDiscriminatorConfig

    def __init__(
        self,
        config: ProgressiveDiscriminatorConfig | None = None,
        *,
        rngs: nnx.Rngs,
        **options: Any,
    ):
        super().__init__(
            build_config(
                ProgressiveDiscriminatorConfig,
                config,
                _translate_image_size(config, options),
                owner="StyleGANDiscriminator",
                keyword_defaults={"name": "stylegan_discriminator", "num_stages": 7},
            )
        )
        cfg = self.config
        check_no_conflict("StyleGANDiscriminator", cfg.use_equalized_lr, cfg.use_spectral_norm)
        eq, sn = cfg.use_equalized_lr, cfg.use_spectral_norm
        channels = cfg.stage_channels
        self.layout = cfg.input_layout
        self.input_shape = cfg.input_shape
        self.score_type = cfg.resolved_score_type()
        self.from_rgb = make_conv(
            cfg.channels,
            channels[-1],
            1,
            padding="VALID",
            equalized=eq,
            spectral=sn,
            rngs=rngs,
            **layer_dtypes(cfg),
        )
        self.blocks = nnx.List(
            [
                DiscriminatorResidualBlock(
                    channels[s],
                    channels[s - 1],
                    rngs=rngs,
                    leaky_relu_slope=cfg.leaky_relu_slope,
                    use_equalized_lr=eq,
                    use_spectral_norm=sn,
                    **layer_dtypes(cfg),
                )
                for s in range(cfg.num_stages - 1, 0, -1)
            ]
        )
        self.final = FinalBlock(cfg, rngs=rngs)

    def logits(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        """Logits ``(B, 1)`` of a batch of images in the declared layout."""
        check_batch("images", x, self.input_shape, "StyleGANDiscriminator")
        training = self.is_training(training)
        h = apply(self.from_rgb, to_nhwc(x, self.layout), training)
        h = jax.nn.leaky_relu(h, self.config.leaky_relu_slope)
        for block in self.blocks:
            h = block(h, training=training)
        return self.final(h, training=training)

    def __call__(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        """Scores ``(B, 1)``: logits or probabilities as ``score_type`` says."""
        logits = self.logits(x, training)
        return jax.nn.sigmoid(logits) if self.score_type == "probabilities" else logits
