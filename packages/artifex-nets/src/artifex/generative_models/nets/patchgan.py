"""PatchGAN discriminators: one score per overlapping image patch (pix2pix, CycleGAN).

Both documents build them, with different return values (DESIGN.md: a config field with a
default per construction style)::

    # user guide (config): a list of feature maps, the patch scores last
    PatchGANDiscriminator(config=PatchGANDiscriminatorConfig(hidden_dims=(64, 128, 256, 512),
                          input_shape=(256, 256, 3)), rngs=rngs)
    # API reference (keywords): the patch scores alone, (B, H', W', 1)
    PatchGANDiscriminator(input_shape=(3, 256, 256), hidden_dims=(64, 128, 256, 512),
                          kernel_size=4, stride=2, rngs=rngs)

Score maps and feature maps are **NHWC whatever the image layout**: ``(B, H', W', 1)`` is
what the API reference prints for ``(B, 3, 256, 256)`` images.

Architecture (Isola et al. 2017, appendix 6.1.2): ``hidden_dims`` convolutions with
``kernel_size``; every one but the last uses ``stride``, the last uses stride 1; then a
stride-1 convolution to one channel. The first layer has no normalization, the others
have instance norm (``use_instance_norm``) or batch norm (``batch_norm``); all use the
config's activation (leaky ReLU by default) and dropout when ``dropout_rate > 0``. With
``"SAME"`` padding a ``H x W`` image gives ``ceil(H / s**(n-1)) x ceil(W / s**(n-1))``
patch scores (``n = len(hidden_dims)``): 32x32 for 256x256 images and four hidden layers.

References:
    Isola, Zhu, Zhou, Efros. "Image-to-Image Translation with Conditional Adversarial
    Networks", CVPR 2017. https://arxiv.org/abs/1611.07004
    Wang et al. "High-Resolution Image Synthesis and Semantic Manipulation with Conditional
    GANs", CVPR 2018 (multi-scale discriminators). https://arxiv.org/abs/1711.11585
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import jax
from flax import nnx

from artifex.generative_models.core.configuration import (
    MultiScalePatchGANDiscriminatorConfig,
    PatchGANDiscriminatorConfig,
)
from artifex.generative_models.core.configuration.layout import ImageLayout
from artifex.generative_models.nets._base import (
    Network,
    activation_fn,
    build_config,
    check_batch,
    to_nhwc,
    with_stream,
)
from artifex.generative_models.nets._precision import layer_dtypes
from artifex.generative_models.nets.layers import SpectralNorm

__all__ = ["CycleGANDiscriminator", "MultiScalePatchGANDiscriminator", "PatchGANDiscriminator"]

Norm = nnx.InstanceNorm | nnx.BatchNorm | None


def conv_output_size(size: int, kernel: int, stride: int, padding: str | int) -> int:
    """Output length of a convolution along one axis; 0 when the input is too small."""
    if padding == "SAME":
        return -(-size // stride)
    pad = 0 if padding == "VALID" else int(padding)
    if size + 2 * pad < kernel:
        return 0
    return (size + 2 * pad - kernel) // stride + 1


def make_norm(config: Any, channels: int, rngs: nnx.Rngs) -> Norm:
    """Batch norm, instance norm or none, as ``config.batch_norm`` / ``use_instance_norm`` say."""
    if config.batch_norm:
        # Flax keeps BatchNorm's running statistics in float32 whatever the dtypes.
        return nnx.BatchNorm(channels, momentum=0.9, rngs=rngs, **layer_dtypes(config))
    if config.use_instance_norm:
        return nnx.InstanceNorm(channels, rngs=rngs, **layer_dtypes(config))
    return None


def apply_norm(norm: Norm, x: jax.Array, training: bool) -> jax.Array:
    """Apply ``norm`` (batch norm in the given mode)."""
    if norm is None:
        return x
    if isinstance(norm, nnx.BatchNorm):
        return norm(x, use_running_average=not training)
    return norm(x)


def apply_layer(layer: nnx.Module, x: jax.Array, training: bool) -> jax.Array:
    """Call a layer, telling a :class:`SpectralNorm` wrapper the mode."""
    if isinstance(layer, SpectralNorm):
        return layer(x, training=training)
    return layer(x)


class PatchConvBlock(nnx.Module):
    """Convolution, optional normalization, activation, optional dropout.

    Attributes:
        conv: ``nnx.Conv`` (in :class:`SpectralNorm` when asked).
        norm: ``nnx.InstanceNorm``, ``nnx.BatchNorm`` or None.
        dropout: ``nnx.Dropout`` or None.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        stride: tuple[int, int],
        config: PatchGANDiscriminatorConfig,
        normalize: bool,
        rngs: nnx.Rngs,
    ):
        conv = nnx.Conv(
            in_features,
            out_features,
            config.kernel_size,
            strides=stride,
            padding=config.padding,
            rngs=rngs,
            **layer_dtypes(config),
        )
        self.conv: nnx.Module = SpectralNorm(conv, rngs=rngs) if config.use_spectral_norm else conv
        self.norm = nnx.data(make_norm(config, out_features, rngs) if normalize else None)
        self.dropout = nnx.data(
            nnx.Dropout(config.dropout_rate, rngs=with_stream(rngs, "dropout"))
            if config.dropout_rate > 0
            else None
        )
        self.activation_name = config.activation
        self.leaky_relu_slope = config.leaky_relu_slope

    def __call__(self, x: jax.Array, *, training: bool) -> jax.Array:
        """Apply the block in the given mode to NHWC maps."""
        x = apply_norm(self.norm, apply_layer(self.conv, x, training), training)
        x = activation_fn(self.activation_name, self.leaky_relu_slope)(x)
        if self.dropout is not None:
            x = self.dropout(x, deterministic=not training)
        return x


def _score_map_size(
    config: PatchGANDiscriminatorConfig, layout: ImageLayout, owner: str
) -> tuple[int, int]:
    """The patch-score map size for ``layout``'s images; raises if a layer gets nothing."""
    strides = _layer_strides(config)
    height, width = layout.height, layout.width
    (kh, kw), padding = config.kernel_size, config.padding
    for index, (sh, sw) in enumerate([*strides, (1, 1)]):
        new_h = conv_output_size(height, kh, sh, padding)
        new_w = conv_output_size(width, kw, sw, padding)
        if new_h < 1 or new_w < 1:
            what = f"hidden layer {index}" if index < len(strides) else "the output layer"
            raise ValueError(
                f"{owner}: input_shape={config.input_shape!r} is too small: {what} "
                f"(kernel {kh}x{kw}, stride {sh}x{sw}, padding {padding!r}) gets "
                f"{height}x{width} maps and would make {max(new_h, 0)}x{max(new_w, 0)}; "
                "use larger images, fewer hidden_dims, or padding='SAME'"
            )
        height, width = new_h, new_w
    return height, width


def _layer_strides(config: PatchGANDiscriminatorConfig) -> list[tuple[int, int]]:
    # pix2pix: every hidden layer downsamples but the last, which keeps the size.
    count = len(config.hidden_dims)
    return [config.stride] * (count - 1) + [(1, 1)] if count > 1 else [config.stride]


class PatchGANDiscriminator(Network):
    """PatchGAN discriminator: images in, a map of patch scores ``(B, H', W', 1)`` out.

    The scores are logits or probabilities as ``config.score_type`` says (alone,
    ``"auto"`` means logits); :meth:`logits` always gives logits. With
    ``config.return_features`` (the config default) a call returns the list of hidden
    feature maps with the scores last; the keyword constructor sets it to False (one
    array), as the API reference shows. Score and feature maps are NHWC for NHWC and NCHW
    images alike.

    Args:
        config: A :class:`PatchGANDiscriminatorConfig` with ``input_shape``; or None and
            the config's fields as keywords (keyword defaults: ``hidden_dims=(64, 128,
            256, 512)``, ``return_features=False``).
        rngs: ``params`` initialises the weights; ``dropout`` (derived from ``params``
            when absent) drives dropout.
        **options: Config fields (keyword style) or changes to ``config``.

    Raises:
        ValueError: No ``input_shape``, or an image size the layers cannot reduce to a
            score map (the message names the layer).

    Example:
        >>> d = PatchGANDiscriminator(input_shape=(3, 32, 32), hidden_dims=(8, 16),
        ...                           rngs=nnx.Rngs(params=0))
        >>> d(jnp.ones((2, 3, 32, 32)), training=False).shape
        (2, 16, 16, 1)
    """

    config: PatchGANDiscriminatorConfig
    #: Defaults of the keyword style (the API reference's parameter table).
    KEYWORD_DEFAULTS: ClassVar[Mapping[str, Any]] = {
        "hidden_dims": (64, 128, 256, 512),
        "return_features": False,
    }

    def __init__(
        self,
        config: PatchGANDiscriminatorConfig | None = None,
        *,
        rngs: nnx.Rngs,
        **options: Any,
    ):
        owner = type(self).__name__
        super().__init__(
            build_config(
                PatchGANDiscriminatorConfig,
                config,
                options,
                owner=owner,
                keyword_defaults=self.KEYWORD_DEFAULTS,
            )
        )
        cfg = self.config
        layout = cfg.input_layout
        if layout is None:
            raise ValueError(
                f"{owner} needs input_shape, the image shape (H, W, C) or (C, H, W); got None"
            )
        self.layout = layout
        self.input_shape = layout.shape
        self.score_type = cfg.resolved_score_type()
        self.return_features = cfg.return_features
        height, width = _score_map_size(cfg, layout, owner)
        self.score_shape: tuple[int, int, int] = (height, width, 1)
        widths = (layout.channels, *cfg.hidden_dims)
        self.blocks = nnx.List(
            [
                PatchConvBlock(
                    widths[i],
                    widths[i + 1],
                    stride=stride,
                    config=cfg,
                    normalize=i > 0,
                    rngs=rngs,
                )
                for i, stride in enumerate(_layer_strides(cfg))
            ]
        )
        output = nnx.Conv(
            cfg.hidden_dims[-1],
            1,
            cfg.kernel_size,
            strides=1,
            padding=cfg.padding,
            rngs=rngs,
            **layer_dtypes(cfg),
        )
        self.output_layer: nnx.Module = (
            SpectralNorm(output, rngs=rngs) if cfg.use_spectral_norm else output
        )

    def features_nhwc(self, x: jax.Array, training: bool) -> list[jax.Array]:
        """Hidden feature maps and the score logits (last) of an NHWC batch, unchecked."""
        maps = []
        for block in self.blocks:
            x = block(x, training=training)
            maps.append(x)
        maps.append(apply_layer(self.output_layer, x, training))
        return maps

    def features(self, x: jax.Array, training: bool | None = None) -> list[jax.Array]:
        """Every hidden feature map (NHWC) and, last, the score logits ``(B, H', W', 1)``."""
        check_batch("images", x, self.input_shape, type(self).__name__)
        return self.features_nhwc(to_nhwc(x, self.layout), self.is_training(training))

    def logits(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        """Patch logits ``(B, H', W', 1)`` of a batch of images in the declared layout."""
        return self.features(x, training)[-1]

    def __call__(self, x: jax.Array, training: bool | None = None) -> jax.Array | list[jax.Array]:
        """Patch scores ``(B, H', W', 1)`` (per ``score_type``), or the features and them.

        Returns:
            With ``config.return_features``: ``[feature_1, ..., feature_n, scores]``;
            otherwise ``scores``.
        """
        maps = self.features(x, training)
        if self.score_type == "probabilities":
            maps[-1] = jax.nn.sigmoid(maps[-1])
        return maps if self.return_features else maps[-1]


class CycleGANDiscriminator(PatchGANDiscriminator):
    """CycleGAN's discriminator: a :class:`PatchGANDiscriminator` (70x70 PatchGAN design).

    Same arguments and returns; keyword defaults ``hidden_dims=(64, 128, 256, 512)`` and
    ``return_features=False`` (the patch scores ``(B, H', W', 1)``).
    """


class MultiScalePatchGANDiscriminator(Network):
    """PatchGAN discriminators on the image at ``num_scales`` resolutions (pix2pixHD).

    Scale 0 sees the image itself; scale ``i`` sees it average-pooled ``i`` times (3x3
    window, stride 2, padding not counted, so a size ``n`` becomes ``ceil(n / 2)``). Each
    scale has its own :class:`PatchGANDiscriminator` of the same design.

    Returns of a call:
        * ``config.return_features`` (seed 000's config style): ``(outputs, features)``,
          ``outputs[i]`` the scores ``(B, H_i, W_i, 1)`` of scale ``i`` and
          ``features[i]`` the list of its hidden feature maps (NHWC, without the scores);
        * otherwise (seed 003's keyword style): the list of the ``num_scales`` score maps.

    Args:
        config: A :class:`MultiScalePatchGANDiscriminatorConfig`, or a single-scale
            :class:`PatchGANDiscriminatorConfig` (then ``num_scales`` may be given as an
            option, 3 by default); or None and the config's fields as keywords (keyword
            defaults: ``hidden_dims=(64, 128, 256)``, ``return_features=False``).
        rngs: ``params`` initialises the weights; ``dropout`` drives dropout.
        **options: Config fields (keyword style) or changes to ``config``.

    Raises:
        ValueError: No ``input_shape``, or a scale whose pooled images are too small for
            the PatchGAN (the message names the scale and its size).
    """

    config: MultiScalePatchGANDiscriminatorConfig

    def __init__(
        self,
        config: PatchGANDiscriminatorConfig | None = None,
        *,
        rngs: nnx.Rngs,
        **options: Any,
    ):
        owner = "MultiScalePatchGANDiscriminator"
        if isinstance(config, PatchGANDiscriminatorConfig) and not isinstance(
            config, MultiScalePatchGANDiscriminatorConfig
        ):
            num_scales = options.pop("num_scales", 3)
            config = MultiScalePatchGANDiscriminatorConfig.from_patch_config(config, num_scales)
        super().__init__(
            build_config(
                MultiScalePatchGANDiscriminatorConfig,
                config,
                options,
                owner=owner,
                keyword_defaults={"hidden_dims": (64, 128, 256), "return_features": False},
            )
        )
        cfg = self.config
        layout = cfg.input_layout
        if layout is None:
            raise ValueError(
                f"{owner} needs input_shape, the image shape (H, W, C) or (C, H, W); got None"
            )
        self.layout = layout
        self.input_shape = layout.shape
        self.num_scales = cfg.num_scales
        self.score_type = cfg.resolved_score_type()
        self.return_features = cfg.return_features
        single = {name: getattr(cfg, name) for name in PatchGANDiscriminatorConfig.field_names()}
        discriminators = []
        height, width = layout.height, layout.width
        for scale in range(cfg.num_scales):
            scaled = ImageLayout(height, width, layout.channels, layout.data_format)
            scale_config = PatchGANDiscriminatorConfig(
                **{**single, "input_shape": scaled.shape, "data_format": layout.data_format}
            )
            try:
                discriminators.append(PatchGANDiscriminator(scale_config, rngs=rngs))
            except ValueError as error:
                raise ValueError(
                    f"{owner}: scale {scale} sees {height}x{width} images ({layout.height}x"
                    f"{layout.width} pooled {scale} times), too small for its PatchGAN: "
                    f"{error}; use fewer scales (num_scales={cfg.num_scales})"
                ) from None
            height, width = -(-height // 2), -(-width // 2)
        self.discriminators = nnx.List(discriminators)
        self.score_shapes = tuple(d.score_shape for d in discriminators)

    @staticmethod
    def downsample(x: jax.Array) -> jax.Array:
        """Average-pool NHWC maps by 2 (3x3 window, padding not counted): ``ceil(n / 2)``."""
        return nnx.avg_pool(
            x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)), count_include_pad=False
        )

    def features(self, x: jax.Array, training: bool | None = None) -> list[list[jax.Array]]:
        """Per scale, the hidden feature maps and, last, the score logits (all NHWC)."""
        check_batch("images", x, self.input_shape, "MultiScalePatchGANDiscriminator")
        training = self.is_training(training)
        x = to_nhwc(x, self.layout)
        per_scale = []
        for scale, discriminator in enumerate(self.discriminators):
            if scale > 0:
                x = self.downsample(x)
            per_scale.append(discriminator.features_nhwc(x, training))
        return per_scale

    def logits(self, x: jax.Array, training: bool | None = None) -> list[jax.Array]:
        """The score logits of each scale, ``[(B, H_i, W_i, 1)]``."""
        return [maps[-1] for maps in self.features(x, training)]

    def __call__(
        self, x: jax.Array, training: bool | None = None
    ) -> list[jax.Array] | tuple[list[jax.Array], list[list[jax.Array]]]:
        """Scores per scale, with the feature maps per scale when ``return_features``."""
        per_scale = self.features(x, training)
        outputs = [maps[-1] for maps in per_scale]
        if self.score_type == "probabilities":
            outputs = [jax.nn.sigmoid(scores) for scores in outputs]
        if self.return_features:
            return outputs, [maps[:-1] for maps in per_scale]
        return outputs
