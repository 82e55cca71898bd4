"""Convolutional generator and discriminator stacks shared by DCGAN, WGAN, LSGAN and cGAN.

:class:`ConvGenerator` projects a latent vector to a small feature map and grows it with
transposed convolutions; :class:`ConvDiscriminator` shrinks an image with strided
convolutions to a small map and scores it with one dense layer. The family modules
(:mod:`.dcgan`, :mod:`.wgan`, :mod:`.lsgan`, :mod:`.conditional`) only choose defaults and
what a call returns.

**Any image size.** The feature-map sizes (the *ladder*) are planned at construction:

* Generator: the output size is the last rung and each earlier rung is the smallest size
  the next layer grows into at least the rung above it — with ``"SAME"`` padding
  ``h[k-1] = ceil(h[k] / stride)``. A layer that overshoots is centre-cropped (offset
  ``excess // 2`` at the top / left), so 28 is reached as ``2 → 4 → 8 (crop 7) → 14 → 28``.
* Discriminator: each strided convolution takes the map down by its stride (``"SAME"``:
  ``ceil(h / stride)``), 28 goes ``28 → 14 → 7 → 4 → 2``.

A ladder that cannot work — a strided layer that would have to grow or shrink a 1-pixel map
— is refused at construction with a ``ValueError`` naming the ladder and the largest number
of layers that fits.

**Padding.** ``"SAME"`` and ``"VALID"`` are Flax's. An int ``p`` pads ``p`` pixels on each
side of a strided convolution and, for a transposed convolution, follows PyTorch's
``ConvTranspose2d``: ``out = (in - 1) * stride - 2 * p + kernel``, so kernel 4, stride 2,
padding 1 doubles the size.

**Layout.** Compute is NHWC; arrays at the boundary follow the config's declared layout
(``(H, W, C)`` shapes: NHWC, ``(C, H, W)`` shapes: NCHW).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration import (
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    family_defaults,
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
from artifex.generative_models.nets._subpixel import (
    SubpixelChoice,
    SubpixelConv,
    SubpixelConvTranspose,
    use_subpixel,
)
from artifex.generative_models.nets.layers import SpectralNorm

__all__ = [
    "ConvBlock",
    "ConvDiscriminator",
    "ConvGenerator",
    "MapProjection",
    "check_images",
    "downsampling_ladder",
    "upsampling_ladder",
]

NormKind = Literal["batch", "instance", "none"]
PaddingSpec = str | int | Sequence[tuple[int, int]]
Size = tuple[int, int]

# -- size ladders ---------------------------------------------------------------------


def _up_size(size: int, kernel: int, stride: int, padding: str | int) -> int:
    """The output size of a transposed convolution along one axis."""
    if padding == "SAME":
        return size * stride
    if padding == "VALID":
        return size * stride + max(kernel - stride, 0)
    assert isinstance(padding, int)
    return (size - 1) * stride + kernel - 2 * padding


def _up_input(target: int, kernel: int, stride: int, padding: str | int) -> int:
    """The smallest input size (>= 1) a transposed convolution grows to >= ``target``."""
    extra = _up_size(0, kernel, stride, padding)  # out = in * stride + extra
    return max(1, -(-(target - extra) // stride))


def _down_size(size: int, kernel: int, stride: int, padding: str | int) -> int:
    """The output size of a strided convolution along one axis (may be < 1: impossible)."""
    if padding == "SAME":
        return -(-size // stride)
    total = 0 if padding == "VALID" else 2 * int(padding)
    return (size + total - kernel) // stride + 1 if size + total >= kernel else 0


def _padding_text(padding: str | int) -> str:
    return repr(padding)


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def upsampling_ladder(
    owner: str,
    size: Size,
    n_layers: int,
    *,
    kernel_size: Size,
    stride: Size,
    padding: str | int,
) -> list[Size]:
    """Plan the feature-map sizes of a generator that upsamples ``n_layers`` times.

    Args:
        owner: The network's class name, for error messages.
        size: The output ``(height, width)``.
        n_layers: The number of transposed convolutions.
        kernel_size: Their kernel ``(kh, kw)``.
        stride: Their stride ``(sh, sw)``.
        padding: ``"SAME"``, ``"VALID"`` or an int (PyTorch ``ConvTranspose2d`` semantics).

    Returns:
        ``n_layers + 1`` sizes: the first feature map's, then the size each layer must
        produce (after cropping its overshoot); the last one is ``size``.

    Raises:
        ValueError: A strided layer would have to grow a map that cannot shrink further
            going backwards (1 pixel): too many layers for this image size.
    """
    axes = []
    for axis, name in enumerate(("height", "width")):
        k, s = kernel_size[axis], stride[axis]
        rungs = [size[axis]]
        for _ in range(n_layers):
            target = rungs[0]
            source = _up_input(target, k, s, padding)
            if s > 1 and source >= target:
                fits = len(rungs) - 1
                ladder = " → ".join(map(str, [source, *rungs]))
                raise ValueError(
                    f"{owner}: cannot generate an output {name} of {size[axis]} with "
                    f"{n_layers} upsampling layers (kernel {k}, stride {s}, padding "
                    f"{_padding_text(padding)}): going back from the output the feature-map "
                    f"{name}s are {ladder}, and a stride-{s} layer cannot grow a map of "
                    f"{name} {source} into {target}. This size allows at most {fits} "
                    f"upsampling layer{_plural(fits)}: give hidden_dims at most {fits} "
                    f"entr{'y' if fits == 1 else 'ies'} (the "
                    "projected first map is upsampled by each later hidden layer and by the "
                    "output layer), use stride 1 along this axis, or a larger image"
                )
            rungs.insert(0, source)
        axes.append(rungs)
    return list(zip(axes[0], axes[1], strict=True))


def downsampling_ladder(
    owner: str,
    size: Size,
    n_layers: int,
    *,
    kernel_size: Size,
    stride: Size,
    padding: str | int,
) -> list[Size]:
    """Plan the feature-map sizes of a discriminator with ``n_layers`` strided convolutions.

    Args:
        owner: The network's class name, for error messages.
        size: The input ``(height, width)``.
        n_layers: The number of strided convolutions.
        kernel_size: Their kernel ``(kh, kw)``.
        stride: Their stride ``(sh, sw)``.
        padding: ``"SAME"``, ``"VALID"`` or an int (pixels on each side).

    Returns:
        ``n_layers + 1`` sizes: the input's, then each layer's output.

    Raises:
        ValueError: A layer would produce an empty map, or a strided layer would not
            shrink its input (a 1-pixel map): too many layers for this image size.
    """
    axes = []
    for axis, name in enumerate(("height", "width")):
        k, s = kernel_size[axis], stride[axis]
        rungs = [size[axis]]
        for layer in range(1, n_layers + 1):
            source = rungs[-1]
            out = _down_size(source, k, s, padding)
            if out < 1 or (s > 1 and out >= source):
                fits = layer - 1
                ladder = " → ".join(map(str, rungs))
                reason = (
                    f"a map of {name} {source} is smaller than the kernel"
                    if out < 1
                    else f"a stride-{s} layer cannot shrink a map of {name} {source}"
                )
                raise ValueError(
                    f"{owner}: an input {name} of {size[axis]} is too small for {n_layers} "
                    f"strided convolutions (kernel {k}, stride {s}, padding "
                    f"{_padding_text(padding)}): the feature-map {name}s are {ladder}, and at "
                    f"layer {layer} {reason}. This size allows at most {fits} "
                    f"layer{_plural(fits)}: give "
                    "hidden_dims fewer entries or use a larger image"
                )
            rungs.append(out)
        axes.append(rungs)
    return list(zip(axes[0], axes[1], strict=True))


def _flax_padding(padding: str | int, kernel_size: Size, *, transpose: bool) -> PaddingSpec:
    if isinstance(padding, str):
        return padding
    if transpose:
        # PyTorch ConvTranspose2d semantics: pad the stride-dilated input by kernel - 1 - p.
        return tuple((k - 1 - padding, k - 1 - padding) for k in kernel_size)
    # Tuples, not lists: the padding is part of the module's static graph, which must be
    # hashable for a compiled step to be cached on it.
    return ((padding, padding), (padding, padding))


def _check_transpose_padding(owner: str, padding: str | int, kernel_size: Size) -> None:
    if isinstance(padding, int) and padding > min(kernel_size) - 1:
        raise ValueError(
            f"{owner}: padding={padding} is too large for kernel_size={kernel_size}; a "
            f"transposed convolution takes padding <= kernel - 1 = {min(kernel_size) - 1} "
            "(PyTorch ConvTranspose2d semantics), 'SAME' or 'VALID'"
        )


def _centre_crop(x: jax.Array, size: Size) -> jax.Array:
    height, width = size
    top = (x.shape[1] - height) // 2
    left = (x.shape[2] - width) // 2
    return x[:, top : top + height, left : left + width, :]


# -- blocks ---------------------------------------------------------------------------


def _make_norm(
    kind: NormKind, channels: int, rngs: nnx.Rngs, **precision: Any
) -> nnx.Module | None:
    if kind == "batch":
        # Flax keeps BatchNorm's running statistics in float32 whatever the dtypes.
        return nnx.BatchNorm(channels, momentum=0.9, rngs=rngs, **precision)
    if kind == "instance":
        return nnx.InstanceNorm(channels, rngs=rngs, **precision)
    return None


def _norm_kind(config: ConvGeneratorConfig | ConvDiscriminatorConfig) -> NormKind:
    if config.batch_norm:
        return "batch"
    return "instance" if config.use_instance_norm else "none"


class _Activated(nnx.Module):
    """The part after a layer: optional norm, the activation, optional dropout."""

    def _init_post(
        self,
        channels: int,
        *,
        norm: NormKind,
        activation: str,
        leaky_relu_slope: float,
        dropout_rate: float,
        rngs: nnx.Rngs,
        dropout_rngs: nnx.Rngs | None,
        dtype: Any,
        param_dtype: Any,
    ) -> None:
        self.norm = nnx.data(_make_norm(norm, channels, rngs, dtype=dtype, param_dtype=param_dtype))
        # Each Dropout forks its own key from the shared stream, so layers draw
        # independent masks even when the stream was derived from ``params``.
        if dropout_rate > 0 and dropout_rngs is None:
            dropout_rngs = with_stream(rngs, "dropout")
        self.dropout = nnx.data(
            nnx.Dropout(dropout_rate, rngs=dropout_rngs) if dropout_rate > 0 else None
        )
        self.activation_name = activation
        self.leaky_relu_slope = leaky_relu_slope

    def _post(self, x: jax.Array, training: bool) -> jax.Array:
        if isinstance(self.norm, nnx.BatchNorm):
            x = self.norm(x, use_running_average=not training)
        elif self.norm is not None:
            x = self.norm(x)
        x = activation_fn(self.activation_name, self.leaky_relu_slope)(x)
        if self.dropout is not None:
            x = self.dropout(x, deterministic=not training)
        return x


def _maybe_spectral(layer: Any, spectral_norm: bool, rngs: nnx.Rngs) -> nnx.Module:
    return SpectralNorm(layer, rngs=rngs) if spectral_norm else layer


def _apply(layer: nnx.Module, x: jax.Array, training: bool) -> jax.Array:
    if isinstance(layer, SpectralNorm):
        return layer(x, training=training)
    return layer(x)


class ConvBlock(_Activated):
    """A strided or transposed convolution, then crop, norm, activation and dropout.

    Attributes:
        conv: ``nnx.Conv`` or ``nnx.ConvTranspose`` (in :class:`SpectralNorm` when asked).
        output_size: ``(height, width)`` the output is centre-cropped to, or None.
        norm: ``nnx.BatchNorm``, ``nnx.InstanceNorm`` or None.
        dropout: ``nnx.Dropout`` or None.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        transpose: bool,
        kernel_size: Size,
        stride: Size,
        padding: str | int,
        output_size: Size | None = None,
        norm: NormKind = "none",
        activation: str = "linear",
        leaky_relu_slope: float = 0.2,
        dropout_rate: float = 0.0,
        spectral_norm: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        subpixel: SubpixelChoice = "auto",
        rngs: nnx.Rngs,
        dropout_rngs: nnx.Rngs | None = None,
    ):
        # The sub-pixel layers (same parameters) skip the inserted zeros of strided
        # transposed convolutions and of strided convolutions' input gradients; "auto"
        # takes them where that is faster (CPU backends, issue 17's measurements).
        layer_class: type[nnx.Conv] | type[nnx.ConvTranspose]
        if use_subpixel(subpixel):
            layer_class = SubpixelConvTranspose if transpose else SubpixelConv
        else:
            layer_class = nnx.ConvTranspose if transpose else nnx.Conv
        conv = layer_class(
            in_features,
            out_features,
            kernel_size,
            strides=stride,
            padding=_flax_padding(padding, kernel_size, transpose=transpose),
            dtype=dtype,
            param_dtype=param_dtype,
            rngs=rngs,
        )
        self.conv = _maybe_spectral(conv, spectral_norm, rngs)
        self.output_size = output_size
        self._init_post(
            out_features,
            norm=norm,
            activation=activation,
            leaky_relu_slope=leaky_relu_slope,
            dropout_rate=dropout_rate,
            rngs=rngs,
            dropout_rngs=dropout_rngs,
            dtype=dtype,
            param_dtype=param_dtype,
        )

    def __call__(self, x: jax.Array, *, training: bool) -> jax.Array:
        """Apply the block to an NHWC batch in the given mode."""
        x = _apply(self.conv, x, training)
        if self.output_size is not None and x.shape[1:3] != self.output_size:
            x = _centre_crop(x, self.output_size)
        return self._post(x, training)


class MapProjection(_Activated):
    """Dense projection of a vector to an NHWC feature map, then norm, activation, dropout.

    Attributes:
        dense: The linear layer (in :class:`SpectralNorm` when asked).
        map_shape: ``(height, width, channels)`` of the map.
    """

    def __init__(
        self,
        in_features: int,
        map_shape: tuple[int, int, int],
        *,
        norm: NormKind = "none",
        activation: str = "linear",
        leaky_relu_slope: float = 0.2,
        dropout_rate: float = 0.0,
        spectral_norm: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
        dropout_rngs: nnx.Rngs | None = None,
    ):
        dense = nnx.Linear(
            in_features, math.prod(map_shape), dtype=dtype, param_dtype=param_dtype, rngs=rngs
        )
        self.dense = _maybe_spectral(dense, spectral_norm, rngs)
        self.map_shape = tuple(map_shape)
        self._init_post(
            map_shape[-1],
            norm=norm,
            activation=activation,
            leaky_relu_slope=leaky_relu_slope,
            dropout_rate=dropout_rate,
            rngs=rngs,
            dropout_rngs=dropout_rngs,
            dtype=dtype,
            param_dtype=param_dtype,
        )

    def __call__(self, h: jax.Array, *, training: bool) -> jax.Array:
        """Project ``(B, in_features)`` to ``(B, *map_shape)`` in the given mode."""
        x = _apply(self.dense, h, training).reshape(h.shape[0], *self.map_shape)
        return self._post(x, training)


# -- checks ---------------------------------------------------------------------------


def check_images(owner: str, x: jax.Array, layout: ImageLayout) -> None:
    """Refuse ``x`` unless it is a batch of images in the declared layout.

    The message names the expected shape and layout and, when ``x`` is the same images in
    the other layout, says so.
    """
    shape = tuple(getattr(x, "shape", ()))
    expected = layout.shape
    if len(shape) == 4 and shape[1:] == expected:
        return
    hint = ""
    other_format: Literal["NHWC", "NCHW"] = "NHWC" if layout.data_format == "NCHW" else "NCHW"
    other = ImageLayout(layout.height, layout.width, layout.channels, other_format).shape
    if len(shape) == 4 and shape[1:] == other:
        hint = (
            f" — that is the {other_format} layout of these images; this network was "
            f"declared with the {layout.data_format} shape {expected}, so transpose the "
            f"batch or build the network with shape {other}"
        )
    raise ValueError(
        f"{owner} expects images of shape (batch, {', '.join(map(str, expected))}) "
        f"({layout.data_format}), got {shape}{hint}"
    )


# -- networks -------------------------------------------------------------------------


class ConvGenerator(Network):
    """Transposed-convolution generator: a latent vector in, a batch of images out.

    The latent vector is projected (dense) to the first feature map with
    ``hidden_dims[0]`` channels; each later entry of ``hidden_dims`` is a stride-``stride``
    transposed convolution, and a last transposed convolution maps to the image channels,
    followed by ``output_activation`` (tanh by default). So there are ``len(hidden_dims)``
    upsampling layers; their sizes are planned as the module docstring says. Batch or
    instance norm (as configured) follows the projection and every hidden layer, never the
    output (DCGAN guidelines); dropout follows them when ``dropout_rate > 0``.

    Subclasses set ``family`` (the keyword defaults of seed 003).

    Args:
        config: A :class:`ConvGeneratorConfig`; or None and the config's fields as keywords.
        rngs: ``params`` initialises the weights; ``dropout`` (derived from ``params`` when
            absent) drives dropout.
        **options: Config fields (keyword style) or changes to ``config``.

    Attributes:
        latent_dim: Size of the latent vectors taken.
        output_shape: Per-sample shape of the images, in the declared layout.
        layout: The resolved layout of the images.
        feature_sizes: The planned ``(height, width)`` of every feature map, first map
            first, the output last.
    """

    family: ClassVar[str] = "dcgan"
    config_class: ClassVar[type[ConvGeneratorConfig]] = ConvGeneratorConfig
    config: ConvGeneratorConfig

    def __init__(
        self, config: ConvGeneratorConfig | None = None, *, rngs: nnx.Rngs, **options: Any
    ):
        super().__init__(self._make_config(config, options))
        cfg = self.config
        owner = type(self).__name__
        layout = cfg.output_layout
        assert layout is not None  # ConvGeneratorConfig requires an image shape
        _check_transpose_padding(owner, cfg.padding, cfg.kernel_size)
        self.latent_dim = cfg.latent_dim
        self.output_shape = layout.shape
        self.layout = layout
        widths = cfg.hidden_dims
        sizes = upsampling_ladder(
            owner,
            (layout.height, layout.width),
            len(widths),
            kernel_size=cfg.kernel_size,
            stride=cfg.stride,
            padding=cfg.padding,
        )
        self.feature_sizes = tuple(sizes)
        hidden: dict[str, Any] = {
            "norm": _norm_kind(cfg),
            "activation": cfg.activation,
            "leaky_relu_slope": cfg.leaky_relu_slope,
            "dropout_rate": cfg.dropout_rate,
            "spectral_norm": cfg.use_spectral_norm,
            "dropout_rngs": with_stream(rngs, "dropout") if cfg.dropout_rate > 0 else None,
        }
        conv: dict[str, Any] = {
            "transpose": True,
            "kernel_size": cfg.kernel_size,
            "stride": cfg.stride,
            "padding": cfg.padding,
            **layer_dtypes(cfg),
        }
        self.projection = MapProjection(
            cfg.latent_dim + self._condition_features(),
            (*sizes[0], widths[0]),
            rngs=rngs,
            **hidden,
            **layer_dtypes(cfg),
        )
        self.blocks = nnx.List(
            [
                ConvBlock(
                    widths[i - 1], widths[i], output_size=sizes[i], rngs=rngs, **conv, **hidden
                )
                for i in range(1, len(widths))
            ]
        )
        self.output_layer = ConvBlock(
            widths[-1],
            layout.channels,
            output_size=sizes[-1],
            activation=cfg.output_activation,
            spectral_norm=cfg.use_spectral_norm,
            rngs=rngs,
            **conv,
        )

    def _make_config(self, config: Any, options: dict[str, Any]) -> Any:
        return build_config(
            self.config_class,
            config,
            options,
            owner=type(self).__name__,
            keyword_defaults=self._keyword_defaults(),
        )

    def _keyword_defaults(self) -> Mapping[str, Any]:
        return family_defaults(self.family).generator_defaults

    def _condition_features(self) -> int:
        """Features concatenated to the latent vector before the projection."""
        return 0

    def _decode(self, h: jax.Array, training: bool) -> jax.Array:
        x = self.projection(h, training=training)
        for block in self.blocks:
            x = block(x, training=training)
        return from_nhwc(self.output_layer(x, training=training), self.layout)

    def __call__(self, z: jax.Array, training: bool | None = None) -> jax.Array:
        """Generate images from latent vectors.

        Args:
            z: Latent vectors, ``(B, latent_dim)``.
            training: Overrides the module's mode (``.train()`` / ``.eval()``).

        Returns:
            Images ``(B, *output_shape)`` in the declared layout.
        """
        check_batch("z", z, (self.latent_dim,), type(self).__name__)
        return self._decode(z, self.is_training(training))


class ConvDiscriminator(Network):
    """Strided-convolution discriminator: a batch of images in, one score per image out.

    Each entry of ``hidden_dims`` is a strided convolution (``kernel_size``, ``stride``,
    ``padding`` from the config) followed by batch or instance norm as configured — never
    on the first layer (DCGAN guidelines) — the activation (LeakyReLU with
    ``leaky_relu_slope`` by default) and dropout when ``dropout_rate > 0``. The last map
    is flattened and a dense layer gives one logit. ``use_spectral_norm`` wraps every
    convolution and the dense layer in :class:`SpectralNorm`.

    Subclasses set ``family`` (keyword defaults), ``loss_type`` (what ``score_type="auto"``
    resolves to) and ``flat_scores`` (``(B,)`` instead of ``(B, 1)``).

    Args:
        config: A :class:`ConvDiscriminatorConfig` with an ``input_shape``; or None and the
            config's fields as keywords.
        rngs: ``params`` initialises the weights; ``dropout`` (derived from ``params`` when
            absent) drives dropout.
        **options: Config fields (keyword style) or changes to ``config``.

    Attributes:
        input_shape: Per-sample shape of the images taken, in the declared layout.
        layout: The resolved layout of the images.
        score_type: ``"probabilities"`` or ``"logits"``: what a call returns.
        feature_sizes: The planned ``(height, width)`` of the input and of every layer's
            output.
    """

    family: ClassVar[str] = "dcgan"
    loss_type: ClassVar[str | None] = None
    flat_scores: ClassVar[bool] = False
    config_class: ClassVar[type[ConvDiscriminatorConfig]] = ConvDiscriminatorConfig
    config: ConvDiscriminatorConfig

    def __init__(
        self, config: ConvDiscriminatorConfig | None = None, *, rngs: nnx.Rngs, **options: Any
    ):
        super().__init__(self._make_config(config, options))
        cfg = self.config
        owner = type(self).__name__
        layout = cfg.input_layout
        if layout is None:
            raise ValueError(
                f"{owner} needs input_shape, the image shape it scores: (H, W, C) for NHWC "
                "arrays or (C, H, W) for NCHW arrays"
            )
        self.input_shape = layout.shape
        self.layout = layout
        self.score_type = cfg.resolved_score_type(self.loss_type)
        widths = cfg.hidden_dims
        sizes = downsampling_ladder(
            owner,
            (layout.height, layout.width),
            len(widths),
            kernel_size=cfg.kernel_size,
            stride=cfg.stride,
            padding=cfg.padding,
        )
        self.feature_sizes = tuple(sizes)
        in_widths = (layout.channels + self._condition_channels(), *widths[:-1])
        dropout_rngs = with_stream(rngs, "dropout") if cfg.dropout_rate > 0 else None
        self.blocks = nnx.List(
            [
                ConvBlock(
                    in_widths[i],
                    widths[i],
                    transpose=False,
                    kernel_size=cfg.kernel_size,
                    stride=cfg.stride,
                    padding=cfg.padding,
                    norm="none" if i == 0 else _norm_kind(cfg),
                    activation=cfg.activation,
                    leaky_relu_slope=cfg.leaky_relu_slope,
                    dropout_rate=cfg.dropout_rate,
                    spectral_norm=cfg.use_spectral_norm,
                    rngs=rngs,
                    dropout_rngs=dropout_rngs,
                    **layer_dtypes(cfg),
                )
                for i in range(len(widths))
            ]
        )
        height, width = sizes[-1]
        self.output_layer = _maybe_spectral(
            nnx.Linear(height * width * widths[-1], 1, rngs=rngs, **layer_dtypes(cfg)),
            cfg.use_spectral_norm,
            rngs,
        )

    def _make_config(self, config: Any, options: dict[str, Any]) -> Any:
        return build_config(
            self.config_class,
            config,
            options,
            owner=type(self).__name__,
            keyword_defaults=self._keyword_defaults(),
        )

    def _keyword_defaults(self) -> Mapping[str, Any]:
        return family_defaults(self.family).discriminator_defaults

    def _condition_channels(self) -> int:
        """Channels concatenated to the image before the first convolution."""
        return 0

    def _score(self, x: jax.Array, training: bool) -> jax.Array:
        """Logits of an NHWC batch (with any condition channels already attached)."""
        for block in self.blocks:
            x = block(x, training=training)
        logits = _apply(self.output_layer, x.reshape(x.shape[0], -1), training)
        return logits[:, 0] if self.flat_scores else logits

    def _as_scores(self, logits: jax.Array) -> jax.Array:
        return jax.nn.sigmoid(logits) if self.score_type == "probabilities" else logits

    def logits(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        """The logits (raw scores) of a batch of images.

        Args:
            x: Images ``(B, *input_shape)`` in the declared layout.
            training: Overrides the module's mode (``.train()`` / ``.eval()``).

        Returns:
            ``(B,)`` when ``flat_scores`` (WGAN critic), else ``(B, 1)``.
        """
        check_images(type(self).__name__, x, self.layout)
        return self._score(to_nhwc(x, self.layout), self.is_training(training))

    def __call__(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        """Scores of a batch of images: probabilities or logits as ``score_type`` says.

        Args:
            x: Images ``(B, *input_shape)`` in the declared layout.
            training: Overrides the module's mode (``.train()`` / ``.eval()``).

        Returns:
            Same shape as :meth:`logits`.
        """
        return self._as_scores(self.logits(x, training))
