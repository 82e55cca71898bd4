"""CycleGAN's ResNet generator: an image in, an image of the same size out.

Built from a config (user guide) or keywords (API reference)::

    CycleGANGenerator(config=CycleGANGeneratorConfig(hidden_dims=(64, 128, 256),
                      input_shape=(256, 256, 3), output_shape=(256, 256, 3),
                      n_residual_blocks=6), rngs=rngs)
    CycleGANGenerator(output_shape=(3, 256, 256), hidden_dims=(64, 128, 256),
                      num_residual_blocks=9, rngs=rngs)   # NCHW in, NCHW out

Architecture (Johnson et al. 2016, as CycleGAN uses it): a 7x7 convolution after 3 pixels of
reflection padding to ``hidden_dims[0]`` channels (``edge_kernel_size`` sets the 7, the padding
follows); a stride-2 3x3 convolution to each later
entry of ``hidden_dims``; ``n_residual_blocks`` residual blocks (:class:`ResidualBlock`) at
the smallest size; as many stride-2 transposed convolutions back; a 7x7 convolution after
reflection padding (the same ``edge_kernel_size``) to the output channels and the output
activation (tanh). Every hidden
convolution is followed by instance norm (``use_instance_norm``, the default) or batch norm
(``batch_norm``) and the activation (ReLU); the residual blocks use ReLU inside.
``use_reflection_padding=False`` pads with zeros everywhere instead.

Any image size works: a downsampling takes ``n`` pixels to ``ceil(n / 2)`` and the matching
upsampling crops back to ``n`` exactly (28x28, 27x27, 32x48 all keep their shape).
Sizes reflection padding cannot handle are refused at construction with the reason.

References:
    Zhu, Park, Isola, Efros. "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks", ICCV 2017. https://arxiv.org/abs/1703.10593
    Johnson, Alahi, Fei-Fei. "Perceptual Losses for Real-Time Style Transfer and
    Super-Resolution", ECCV 2016. https://arxiv.org/abs/1603.08155
"""

from __future__ import annotations

from typing import Any, Literal

import jax
from flax import nnx

from artifex.generative_models.core.configuration import CycleGANGeneratorConfig
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
from artifex.generative_models.nets.layers import ResidualBlock, reflect_pad
from artifex.generative_models.nets.patchgan import apply_norm, make_norm

__all__ = ["CycleGANGenerator"]


def _translate_keywords(config: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Accept the API reference's ``num_residual_blocks`` and a missing ``input_shape``."""
    options = dict(options)
    if "num_residual_blocks" in options:
        value = options.pop("num_residual_blocks")
        if "n_residual_blocks" in options and options["n_residual_blocks"] != value:
            raise TypeError(
                "CycleGANGenerator() got num_residual_blocks="
                f"{value!r} and n_residual_blocks={options['n_residual_blocks']!r}; "
                "they are the same setting, give one"
            )
        options["n_residual_blocks"] = value
    if config is None:
        # The API reference gives only output_shape: an image-to-image generator keeps it.
        if "input_shape" not in options and "output_shape" in options:
            options["input_shape"] = options["output_shape"]
        elif "output_shape" not in options and "input_shape" in options:
            options["output_shape"] = options["input_shape"]
    return options


class CycleGANGenerator(Network):
    """ResNet image-to-image generator: ``(B, *input_shape)`` in, ``(B, *output_shape)`` out.

    Arrays keep the declared layout: ``(H, W, C)`` shapes mean NHWC, ``(C, H, W)`` NCHW.

    Args:
        config: A :class:`CycleGANGeneratorConfig`; or None and the config's fields as
            keywords. Keywords also take ``num_residual_blocks`` (the API reference's name
            of ``n_residual_blocks``) and default ``hidden_dims=(64, 128, 256)`` and
            ``input_shape=output_shape``.
        rngs: ``params`` initialises the weights; ``dropout`` (derived from ``params``
            when absent) drives dropout, applied after each residual block when
            ``dropout_rate > 0``.
        **options: Config fields (keyword style) or changes to ``config``.

    Raises:
        ValueError: ``use_spectral_norm=True`` (not supported by this generator), or an
            image size that reflection padding cannot handle (the message says which).

    Example:
        >>> g = CycleGANGenerator(output_shape=(3, 28, 28), hidden_dims=(8, 16),
        ...                       num_residual_blocks=1, rngs=nnx.Rngs(params=0))
        >>> g(jnp.zeros((2, 3, 28, 28)), training=False).shape
        (2, 3, 28, 28)
    """

    config: CycleGANGeneratorConfig

    def __init__(
        self,
        config: CycleGANGeneratorConfig | None = None,
        *,
        rngs: nnx.Rngs,
        **options: Any,
    ):
        super().__init__(
            build_config(
                CycleGANGeneratorConfig,
                config,
                _translate_keywords(config, options),
                owner="CycleGANGenerator",
                keyword_defaults={"hidden_dims": (64, 128, 256)},
            )
        )
        cfg = self.config
        if cfg.use_spectral_norm:
            raise ValueError(
                "CycleGANGenerator does not support use_spectral_norm=True: its residual "
                "blocks normalize activations (instance or batch norm), not weights; "
                "set use_spectral_norm=False"
            )
        self.input_layout = cfg.input_layout
        self.output_layout = cfg.output_layout
        self.input_shape = self.input_layout.shape
        self.output_shape = self.output_layout.shape
        self.reflect = cfg.use_reflection_padding
        # Same-size convolutions at both ends: (k - 1) / 2 pixels of padding (3 for 7x7).
        self.edge_pad = (cfg.edge_kernel_size - 1) // 2
        self.sizes = self._check_sizes()
        dims = cfg.hidden_dims
        edge_padding = "VALID" if self.reflect else self.edge_pad
        edge_kernel = (cfg.edge_kernel_size, cfg.edge_kernel_size)
        precision = layer_dtypes(cfg)
        self.stem = nnx.Conv(
            self.input_layout.channels,
            dims[0],
            edge_kernel,
            padding=edge_padding,
            rngs=rngs,
            **precision,
        )
        self.stem_norm = nnx.data(make_norm(cfg, dims[0], rngs))
        self.down = nnx.List(
            [
                nnx.Conv(dims[i], dims[i + 1], (3, 3), strides=2, padding=1, rngs=rngs, **precision)
                for i in range(len(dims) - 1)
            ]
        )
        self.down_norms = nnx.List([make_norm(cfg, d, rngs) for d in dims[1:]])
        norm_kind: Literal["instance", "batch", "none"] = (
            "batch" if cfg.batch_norm else "instance" if cfg.use_instance_norm else "none"
        )
        self.residual_blocks = nnx.List(
            [
                ResidualBlock(
                    dims[-1],
                    padding_mode="reflect" if self.reflect else "zero",
                    norm=norm_kind,
                    rngs=rngs,
                    **precision,
                )
                for _ in range(cfg.n_residual_blocks)
            ]
        )
        self.dropout = nnx.data(
            nnx.Dropout(cfg.dropout_rate, rngs=with_stream(rngs, "dropout"))
            if cfg.dropout_rate > 0
            else None
        )
        self.up = nnx.List(
            [
                nnx.ConvTranspose(
                    dims[i + 1], dims[i], (3, 3), strides=2, padding="SAME", rngs=rngs, **precision
                )
                for i in reversed(range(len(dims) - 1))
            ]
        )
        self.up_norms = nnx.List(
            [make_norm(cfg, dims[i], rngs) for i in reversed(range(len(dims) - 1))]
        )
        self.head = nnx.Conv(
            dims[0],
            self.output_layout.channels,
            edge_kernel,
            padding=edge_padding,
            rngs=rngs,
            **precision,
        )

    def _check_sizes(self) -> tuple[tuple[int, int], ...]:
        """The feature-map size at each level, first to bottleneck; refuses impossible ones."""
        cfg = self.config
        height, width = self.input_layout.height, self.input_layout.width
        if self.reflect and min(height, width) <= self.edge_pad:
            k = cfg.edge_kernel_size
            raise ValueError(
                f"CycleGANGenerator: input_shape={cfg.input_shape!r} is too small: reflection "
                f"padding of {self.edge_pad} pixels before the {k}x{k} convolutions needs a "
                f"height and width > {self.edge_pad}, got {height}x{width}; use larger images, "
                "a smaller edge_kernel_size or use_reflection_padding=False"
            )
        sizes = [(height, width)]
        for _ in cfg.hidden_dims[1:]:
            height, width = -(-height // 2), -(-width // 2)
            sizes.append((height, width))
        if self.reflect and cfg.n_residual_blocks > 0 and min(height, width) < 2:
            first = sizes[0]
            raise ValueError(
                f"CycleGANGenerator: input_shape={cfg.input_shape!r} is too small for "
                f"{len(cfg.hidden_dims) - 1} downsamplings: they take {first[0]}x{first[1]} to "
                f"{height}x{width}, and residual blocks with reflection padding need >= 2x2; "
                "use fewer hidden_dims, larger images or use_reflection_padding=False"
            )
        return tuple(sizes)

    def _edge_pad(self, x: jax.Array) -> jax.Array:
        # Zero padding is done by the convolution itself (padding=self.edge_pad).
        return reflect_pad(x, self.edge_pad) if self.reflect and self.edge_pad else x

    def __call__(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        """Translate a batch of images ``(B, *input_shape)`` into ``(B, *output_shape)``."""
        check_batch("images", x, self.input_shape, "CycleGANGenerator")
        training = self.is_training(training)
        act = activation_fn(self.config.activation, self.config.leaky_relu_slope)
        h = to_nhwc(x, self.input_layout)
        h = act(apply_norm(self.stem_norm, self.stem(self._edge_pad(h)), training))
        for conv, norm in zip(self.down, self.down_norms, strict=True):
            h = act(apply_norm(norm, conv(h), training))
        for block in self.residual_blocks:
            h = block(h, training=training)
            if self.dropout is not None:
                h = self.dropout(h, deterministic=not training)
        targets = self.sizes[-2::-1]
        for deconv, norm, (height, width) in zip(self.up, self.up_norms, targets, strict=True):
            # A transposed convolution doubles the size; crop odd sizes back exactly.
            h = deconv(h)[:, :height, :width, :]
            h = act(apply_norm(norm, h, training))
        h = self.head(self._edge_pad(h))
        h = activation_fn(self.config.output_activation)(h)
        return from_nhwc(h, self.output_layout)
