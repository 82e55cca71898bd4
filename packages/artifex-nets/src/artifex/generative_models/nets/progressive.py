"""Progressive GAN networks (seed 001): the resolution grows one doubling per stage.

Built from a config or from the advanced examples' keywords::

    ProgressiveGenerator(latent_dim=512, max_channels=512, num_stages=6, rngs=rngs)
    ProgressiveDiscriminator(max_channels=512, num_stages=6, rngs=rngs)

Stage ``s`` works at ``start_size * 2**s`` pixels (4x4 up to 128x128 for six stages) with
``max_channels // 2**s`` channels. ``set_stage(stage)`` selects the resolution; during a
transition ``alpha`` in [0, 1] fades the new stage in: 0 gives exactly the previous stage
(its image upsampled by nearest neighbour, or the input average-pooled for the
discriminator), 1 the new stage alone. ``alpha`` may be a Python number (checked) or a
traced JAX scalar (under ``jit``).

Differences from the example code, where it does not run as written: the generator's
fade-in takes the previous stage's "to RGB" of the previous stage's features (the example
applies it to the new stage's features, whose channel count differs); the discriminator
orders its channel counts as :class:`ProgressiveDiscriminatorConfig.stage_channels`
(``max_channels // 2**stage`` at stage ``stage``'s resolution, the mirror image of the
generator), downsamples by 2x2 average pooling and ends with a ``start_size`` x
``start_size`` "VALID" convolution so the dense score layer gets ``max_channels`` features.

References:
    Karras, Aila, Laine, Lehtinen. "Progressive Growing of GANs for Improved Quality,
    Stability, and Variation", ICLR 2018. https://arxiv.org/abs/1710.10196
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration import (
    ProgressiveDiscriminatorConfig,
    ProgressiveGeneratorConfig,
)
from artifex.generative_models.nets._base import (
    Network,
    activation_fn,
    build_config,
    check_batch,
    from_nhwc,
    to_nhwc,
)
from artifex.generative_models.nets._precision import layer_dtypes
from artifex.generative_models.nets.layers import (
    EqualizedConv,
    EqualizedLinear,
    MinibatchStdDev,
    PixelNorm,
    SpectralNorm,
)
from artifex.generative_models.nets.layers.equalized import HE_GAIN

__all__ = ["ProgressiveConvBlock", "ProgressiveDiscriminator", "ProgressiveGenerator"]

#: Largest group of samples the minibatch standard deviation is taken over.
MINIBATCH_STD_GROUP = 4


def make_conv(
    in_features: int,
    out_features: int,
    kernel_size: int,
    *,
    padding: str | int,
    equalized: bool,
    spectral: bool,
    rngs: nnx.Rngs,
    gain: float | None = None,
    dtype: Any = None,
    param_dtype: Any = jnp.float32,
) -> nnx.Module:
    """An NHWC convolution: :class:`EqualizedConv`, ``nnx.Conv`` or spectrally normalized."""
    precision = {"dtype": dtype, "param_dtype": param_dtype}
    if equalized:
        return EqualizedConv(
            in_features,
            out_features,
            kernel_size,
            padding=padding,
            gain=HE_GAIN if gain is None else gain,
            rngs=rngs,
            **precision,
        )
    conv = nnx.Conv(
        in_features,
        out_features,
        (kernel_size, kernel_size),
        padding=padding,
        rngs=rngs,
        **precision,
    )
    return SpectralNorm(conv, rngs=rngs) if spectral else conv


def make_dense(
    in_features: int,
    out_features: int,
    *,
    equalized: bool,
    spectral: bool,
    rngs: nnx.Rngs,
    gain: float | None = None,
    lr_multiplier: float = 1.0,
    dtype: Any = None,
    param_dtype: Any = jnp.float32,
) -> nnx.Module:
    """A dense layer: :class:`EqualizedLinear`, ``nnx.Linear`` or spectrally normalized."""
    precision = {"dtype": dtype, "param_dtype": param_dtype}
    if equalized:
        return EqualizedLinear(
            in_features,
            out_features,
            gain=HE_GAIN if gain is None else gain,
            lr_multiplier=lr_multiplier,
            rngs=rngs,
            **precision,
        )
    dense = nnx.Linear(in_features, out_features, rngs=rngs, **precision)
    return SpectralNorm(dense, rngs=rngs) if spectral else dense


def apply(layer: nnx.Module, x: jax.Array, training: bool | None) -> jax.Array:
    """Call a layer made by :func:`make_conv` / :func:`make_dense` in the given mode."""
    if isinstance(layer, SpectralNorm):
        return layer(x, training=training)
    return layer(x)


def check_no_conflict(owner: str, equalized: bool, spectral: bool) -> None:
    """Refuse equalized learning rate together with spectral normalization."""
    if equalized and spectral:
        raise ValueError(
            f"{owner}: use_equalized_lr and use_spectral_norm cannot be combined (both rescale "
            "the weights); pick one"
        )


def minibatch_std(x: jax.Array) -> jax.Array:
    """Append the minibatch standard deviation over groups of up to 4 samples.

    The group is the largest of 4, 3, 2, 1 that divides the batch, so any batch size works
    (one sample gets a zero-variance feature).
    """
    batch = x.shape[0]
    group = next(g for g in range(MINIBATCH_STD_GROUP, 0, -1) if batch % g == 0)
    return MinibatchStdDev(group_size=group)(x)


def downsample(x: jax.Array) -> jax.Array:
    """2x2 average pooling of NHWC maps."""
    return nnx.avg_pool(x, (2, 2), strides=(2, 2))


def upsample(x: jax.Array) -> jax.Array:
    """2x nearest-neighbour upsampling of NHWC maps."""
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def check_alpha(owner: str, alpha: Any) -> Any:
    """``alpha`` as given; a Python number must lie in [0, 1]."""
    if isinstance(alpha, bool):
        raise TypeError(f"{owner}: alpha must be a number in [0, 1], got {alpha!r}")
    if isinstance(alpha, int | float) and not 0.0 <= alpha <= 1.0:
        raise ValueError(f"{owner}: alpha must be in [0, 1] (0 = previous stage), got {alpha}")
    return alpha


def blend(alpha: Any, current: jax.Array, previous: jax.Array) -> jax.Array:
    """``alpha * current + (1 - alpha) * previous`` in the dtype of ``current``.

    A traced float32 ``alpha`` (the training step's fade-in) or a NumPy scalar would
    otherwise promote a bf16 network's maps to float32; Python numbers are weakly typed.
    """
    if not isinstance(alpha, int | float):
        alpha = jnp.asarray(alpha, current.dtype)
    return alpha * current + (1 - alpha) * previous


def is_exactly_one(alpha: Any) -> bool:
    """True for a Python ``alpha`` of 1: the fade-in is skipped altogether."""
    return isinstance(alpha, int | float) and alpha == 1.0


class ProgressiveConvBlock(nnx.Module):
    """Two 3x3 convolutions, each followed by leaky ReLU and optional pixel norm.

    Args:
        in_channels: Input channels.
        out_channels: Output channels of both convolutions.
        rngs: Supplies the weights.
        use_pixelnorm: Pixel-wise feature normalization after each activation (generator).
        leaky_relu_slope: Negative slope of the leaky ReLUs.
        use_equalized_lr: :class:`EqualizedConv` instead of ``nnx.Conv``.
        use_spectral_norm: Spectral normalization of the convolutions.
        dtype: Compute dtype of the convolutions; None infers it.
        param_dtype: Storage dtype of the parameters.

    Attributes:
        conv1: ``in_channels -> out_channels``.
        conv2: ``out_channels -> out_channels``.
        pixel_norm: :class:`PixelNorm` or None.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        rngs: nnx.Rngs,
        use_pixelnorm: bool = True,
        leaky_relu_slope: float = 0.2,
        use_equalized_lr: bool = False,
        use_spectral_norm: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
    ):
        check_no_conflict("ProgressiveConvBlock", use_equalized_lr, use_spectral_norm)
        conv = {
            "padding": 1,
            "equalized": use_equalized_lr,
            "spectral": use_spectral_norm,
            "rngs": rngs,
            "dtype": dtype,
            "param_dtype": param_dtype,
        }
        self.conv1 = make_conv(in_channels, out_channels, 3, **conv)
        self.conv2 = make_conv(out_channels, out_channels, 3, **conv)
        self.pixel_norm = nnx.data(PixelNorm() if use_pixelnorm else None)
        self.use_pixelnorm = use_pixelnorm
        self.leaky_relu_slope = leaky_relu_slope
        self.in_channels = in_channels
        self.out_channels = out_channels

    def __call__(self, x: jax.Array, *, training: bool | None = None) -> jax.Array:
        """Apply the block to NHWC maps ``(B, H, W, in_channels)``; same size out."""
        if x.ndim != 4 or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"ProgressiveConvBlock expects NHWC maps (batch, H, W, {self.in_channels}), "
                f"got {tuple(x.shape)}"
            )
        for conv in (self.conv1, self.conv2):
            x = jax.nn.leaky_relu(apply(conv, x, training), self.leaky_relu_slope)
            if self.pixel_norm is not None:
                x = self.pixel_norm(x)
        return x


def _check_stage(owner: str, stage: Any, num_stages: int) -> int:
    if isinstance(stage, bool) or not isinstance(stage, int):
        raise TypeError(f"{owner}.set_stage: stage must be an int, got {stage!r}")
    if not 0 <= stage < num_stages:
        raise ValueError(
            f"{owner}.set_stage: stage must be in [0, {num_stages - 1}] (num_stages="
            f"{num_stages}), got {stage}"
        )
    return stage


class ProgressiveGenerator(Network):
    """Progressively grown generator: ``z`` ``(B, latent_dim)`` in, images of the stage out.

    At stage ``s`` a call returns ``(B, R, R, channels)`` images (``R = start_size *
    2**s``; NCHW with ``data_format="NCHW"``) in the range of ``output_activation``.
    The network: pixel norm of ``z`` (with ``use_pixel_norm``), a dense layer to
    ``max_channels`` maps of ``start_size x start_size``, leaky ReLU and pixel norm; per
    later stage nearest upsampling and a :class:`ProgressiveConvBlock`; per stage a 1x1
    "to RGB" convolution.

    Args:
        config: A :class:`ProgressiveGeneratorConfig`; or None and its fields as keywords
            (``latent_dim``, ``max_channels``, ``num_stages``, ...).
        rngs: ``params`` initialises the weights.
        **options: Config fields (keyword style) or changes to ``config``.

    Attributes:
        current_stage: The stage a call generates at (0 after construction).
        initial: The dense layer from ``z``.
        blocks: ``blocks[s]`` takes stage ``s`` features to stage ``s + 1``.
        to_rgb_layers: ``to_rgb_layers[s]`` makes the images of stage ``s``.
    """

    config: ProgressiveGeneratorConfig

    def __init__(
        self,
        config: ProgressiveGeneratorConfig | None = None,
        *,
        rngs: nnx.Rngs,
        **options: Any,
    ):
        super().__init__(
            build_config(ProgressiveGeneratorConfig, config, options, owner="ProgressiveGenerator")
        )
        cfg = self.config
        equalized = cfg.use_equalized_lr
        channels = cfg.stage_channels
        self.latent_dim = cfg.latent_dim
        self.num_stages = cfg.num_stages
        self.current_stage = 0
        self.initial = make_dense(
            cfg.latent_dim,
            channels[0] * cfg.start_size**2,
            equalized=equalized,
            spectral=False,
            rngs=rngs,
            # ProGAN's first layer: a 4x4 "convolution" of a 1x1 input, He gain / 4.
            gain=2**0.5 / cfg.start_size if equalized else None,
            **layer_dtypes(cfg),
        )
        self.pixel_norm = nnx.data(PixelNorm() if cfg.use_pixel_norm else None)
        self.blocks = nnx.List(
            [
                ProgressiveConvBlock(
                    channels[s],
                    channels[s + 1],
                    rngs=rngs,
                    use_pixelnorm=cfg.use_pixel_norm,
                    leaky_relu_slope=cfg.leaky_relu_slope,
                    use_equalized_lr=equalized,
                    **layer_dtypes(cfg),
                )
                for s in range(cfg.num_stages - 1)
            ]
        )
        self.to_rgb_layers = nnx.List(
            [
                make_conv(
                    channels[s],
                    cfg.channels,
                    1,
                    padding="VALID",
                    equalized=equalized,
                    spectral=False,
                    rngs=rngs,
                    gain=1.0,
                    **layer_dtypes(cfg),
                )
                for s in range(cfg.num_stages)
            ]
        )

    def set_stage(self, stage: int) -> None:
        """Generate at ``stage`` (0 to ``num_stages - 1``) from now on.

        Raises:
            ValueError: ``stage`` is out of range.
        """
        self.current_stage = _check_stage("ProgressiveGenerator", stage, self.num_stages)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """The per-sample shape at the current stage, in ``data_format``."""
        return self.config.output_layout_at(self.current_stage).shape

    def __call__(
        self, z: jax.Array, alpha: float | jax.Array = 1.0, training: bool | None = None
    ) -> jax.Array:
        """Images of the current stage; ``alpha`` < 1 blends in the previous stage's.

        Args:
            z: Latent vectors ``(B, latent_dim)``.
            alpha: Fade-in of the current stage: 0 gives the previous stage's images
                upsampled 2x (nearest), 1 the current stage's. Ignored at stage 0.
            training: Accepted for a uniform interface; the generator has no mode.

        Returns:
            ``(B, R, R, channels)`` (or NCHW) with ``R = start_size * 2**current_stage``.
        """
        check_batch("z", z, (self.latent_dim,), "ProgressiveGenerator")
        alpha = check_alpha("ProgressiveGenerator", alpha)
        self.is_training(training)
        cfg = self.config
        slope = cfg.leaky_relu_slope
        stage = self.current_stage
        x = self.pixel_norm(z) if self.pixel_norm is not None else z
        x = apply(self.initial, x, False)
        x = x.reshape(z.shape[0], cfg.start_size, cfg.start_size, -1)
        x = jax.nn.leaky_relu(x, slope)
        if self.pixel_norm is not None:
            x = self.pixel_norm(x)
        previous = x
        for block in list(self.blocks)[:stage]:
            previous = x
            x = block(upsample(x))
        rgb = apply(self.to_rgb_layers[stage], x, False)
        if stage > 0 and not is_exactly_one(alpha):
            previous_rgb = upsample(apply(self.to_rgb_layers[stage - 1], previous, False))
            rgb = blend(alpha, rgb, previous_rgb)
        images = activation_fn(cfg.output_activation)(rgb)
        return from_nhwc(images, cfg.output_layout_at(stage))


class ProgressiveDiscriminator(Network):
    """Progressively grown discriminator: images of the stage in, scores ``(B, 1)`` out.

    At stage ``s`` it takes ``(B, R, R, channels)`` images (NCHW with
    ``data_format="NCHW"``), ``R = start_size * 2**s``: a 1x1 "from RGB" convolution and
    leaky ReLU to ``stage_channels[s]`` maps, then for each stage down to 0 a
    :class:`ProgressiveConvBlock` (no pixel norm) to the next stage's channels and 2x2
    average pooling; at ``start_size``: the minibatch standard deviation (groups of up to
    4 samples, with ``use_minibatch_std``), a 3x3 and a ``start_size x start_size``
    "VALID" convolution, a dense score. The score is a logit or a probability as
    ``config.score_type`` says (alone, ``"auto"`` means logits); :meth:`logits` always
    gives logits.

    Args:
        config: A :class:`ProgressiveDiscriminatorConfig`; or None and its fields as
            keywords (``max_channels``, ``num_stages``, ...).
        rngs: ``params`` initialises the weights.
        **options: Config fields (keyword style) or changes to ``config``.

    Raises:
        ValueError: ``use_equalized_lr`` together with ``use_spectral_norm``.

    Attributes:
        current_stage: The stage whose images a call takes (0 after construction).
        from_rgb_layers: ``from_rgb_layers[s]`` reads the images of stage ``s``.
        blocks: ``blocks[num_stages - 1 - s]`` takes stage ``s`` features to stage
            ``s - 1`` (the example's order).
        final: The :class:`FinalBlock` at ``start_size``.
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
                ProgressiveDiscriminatorConfig, config, options, owner="ProgressiveDiscriminator"
            )
        )
        cfg = self.config
        check_no_conflict("ProgressiveDiscriminator", cfg.use_equalized_lr, cfg.use_spectral_norm)
        eq, sn = cfg.use_equalized_lr, cfg.use_spectral_norm
        channels = cfg.stage_channels
        self.num_stages = cfg.num_stages
        self.current_stage = 0
        self.score_type = cfg.resolved_score_type()
        self.from_rgb_layers = nnx.List(
            [
                make_conv(
                    cfg.channels,
                    channels[s],
                    1,
                    padding="VALID",
                    equalized=eq,
                    spectral=sn,
                    rngs=rngs,
                    **layer_dtypes(cfg),
                )
                for s in range(cfg.num_stages)
            ]
        )
        self.blocks = nnx.List(
            [
                ProgressiveConvBlock(
                    channels[s],
                    channels[s - 1],
                    rngs=rngs,
                    use_pixelnorm=False,
                    leaky_relu_slope=cfg.leaky_relu_slope,
                    use_equalized_lr=eq,
                    use_spectral_norm=sn,
                    **layer_dtypes(cfg),
                )
                for s in range(cfg.num_stages - 1, 0, -1)
            ]
        )
        self.final = FinalBlock(cfg, rngs=rngs)

    def set_stage(self, stage: int) -> None:
        """Take images of ``stage`` (0 to ``num_stages - 1``) from now on.

        Raises:
            ValueError: ``stage`` is out of range.
        """
        self.current_stage = _check_stage("ProgressiveDiscriminator", stage, self.num_stages)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The per-sample image shape at the current stage, in ``data_format``."""
        return self.config.input_layout_at(self.current_stage).shape

    def _from_rgb(self, stage: int, x: jax.Array, training: bool) -> jax.Array:
        return jax.nn.leaky_relu(
            apply(self.from_rgb_layers[stage], x, training), self.config.leaky_relu_slope
        )

    def _block(self, stage: int, x: jax.Array, training: bool) -> jax.Array:
        """Stage ``stage`` features to stage ``stage - 1`` (block, then 2x2 pooling)."""
        return downsample(self.blocks[self.num_stages - 1 - stage](x, training=training))

    def logits(
        self, x: jax.Array, alpha: float | jax.Array = 1.0, training: bool | None = None
    ) -> jax.Array:
        """Logits ``(B, 1)`` of images of the current stage.

        Args:
            x: Images ``(B, R, R, channels)`` (or NCHW) of the current stage.
            alpha: Fade-in of the current stage: 0 reads the images average-pooled 2x
                with the previous stage's layers, 1 with the current stage's.
            training: Overrides the module's mode (spectral norm updates) for this call.
        """
        stage = self.current_stage
        layout = self.config.input_layout_at(stage)
        check_batch("images", x, layout.shape, "ProgressiveDiscriminator")
        alpha = check_alpha("ProgressiveDiscriminator", alpha)
        training = self.is_training(training)
        x = to_nhwc(x, layout)
        h = self._from_rgb(stage, x, training)
        if stage > 0:
            h = self._block(stage, h, training)
            if not is_exactly_one(alpha):
                previous = self._from_rgb(stage - 1, downsample(x), training)
                h = blend(alpha, h, previous)
        for lower in range(stage - 1, 0, -1):
            h = self._block(lower, h, training)
        return self.final(h, training=training)

    def __call__(
        self, x: jax.Array, alpha: float | jax.Array = 1.0, training: bool | None = None
    ) -> jax.Array:
        """Scores ``(B, 1)``: logits or probabilities as ``score_type`` says."""
        logits = self.logits(x, alpha, training)
        return jax.nn.sigmoid(logits) if self.score_type == "probabilities" else logits


class FinalBlock(nnx.Module):
    """The discriminator's last layers at ``start_size``: minibatch std, two convs, dense.

    Attributes:
        conv1: 3x3, ``max_channels (+1) -> max_channels``.
        conv2: ``start_size x start_size`` "VALID", to ``1 x 1``.
        dense: ``max_channels -> 1`` score.
    """

    def __init__(self, config: ProgressiveDiscriminatorConfig, *, rngs: nnx.Rngs):
        channels = config.max_channels
        eq, sn = config.use_equalized_lr, config.use_spectral_norm
        extra = 1 if config.use_minibatch_std else 0
        self.use_minibatch_std = config.use_minibatch_std
        self.leaky_relu_slope = config.leaky_relu_slope
        self.channels = channels
        precision = layer_dtypes(config)
        self.conv1 = make_conv(
            channels + extra,
            channels,
            3,
            padding=1,
            equalized=eq,
            spectral=sn,
            rngs=rngs,
            **precision,
        )
        self.conv2 = make_conv(
            channels,
            channels,
            config.start_size,
            padding="VALID",
            equalized=eq,
            spectral=sn,
            rngs=rngs,
            **precision,
        )
        self.dense = make_dense(
            channels, 1, equalized=eq, spectral=sn, gain=1.0, rngs=rngs, **precision
        )

    def __call__(self, x: jax.Array, *, training: bool | None = None) -> jax.Array:
        """``(B, start_size, start_size, max_channels)`` maps to logits ``(B, 1)``."""
        if self.use_minibatch_std:
            x = minibatch_std(x)
        x = jax.nn.leaky_relu(apply(self.conv1, x, training), self.leaky_relu_slope)
        x = jax.nn.leaky_relu(apply(self.conv2, x, training), self.leaky_relu_slope)
        return apply(self.dense, x.reshape(x.shape[0], self.channels), training)
