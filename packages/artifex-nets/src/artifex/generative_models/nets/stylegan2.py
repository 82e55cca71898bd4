"""StyleGAN2's generator: mapping network, modulated convolutions, skip connections.

The generator (``StyleGAN2Generator``) maps ``z`` to ``w`` with an equalized-learning-rate
MLP (learning-rate multiplier 0.01), broadcasts ``w`` to ``num_ws`` style inputs, and runs a
learned constant through one block per resolution: modulated / demodulated 3x3
convolutions (:class:`~.layers.ModulatedConv`), a per-pixel noise map scaled per channel,
leaky ReLU with gain ``sqrt(2)``. Every block has a ``toRGB`` (modulated 1x1, not
demodulated); the images of all resolutions are upsampled (bilinear) and summed: the
"skip" architecture of the paper's Figure 7.

It also carries two training statistics as non-parameter variables, so that a trainer
holds them in its state and checkpoints them with the parameters:

* :class:`WAverage` — the moving average of ``w`` (the centre of the truncation trick),
  moved by :meth:`StyleGAN2Generator.map` with ``update_w_avg=True``;
* :class:`PathLengthMean` — the moving average of the path lengths that the path-length
  regularizer pulls them towards (updated by the training rules of ``artifex-gan``).

The discriminator of StyleGAN2 is :class:`~.stylegan.StyleGANDiscriminator` (residual, with
minibatch standard deviation) built with equalized learning rate.

References:
    Karras et al. "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020.
    https://arxiv.org/abs/1912.04958
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration.stylegan2_config import StyleGAN2GeneratorConfig
from artifex.generative_models.nets._base import (
    activation_fn,
    build_config,
    check_batch,
    from_nhwc,
    with_stream,
)
from artifex.generative_models.nets._precision import layer_dtypes
from artifex.generative_models.nets.layers import ModulatedConv, NoiseInjection
from artifex.generative_models.nets.stylegan import _StyleGenerator

__all__ = [
    "PathLengthMean",
    "StyleGAN2Generator",
    "SynthesisLayer",
    "WAverage",
    "mix_styles",
    "upsample_image",
]

#: The gain after each leaky ReLU (StyleGAN2's ``bias_act``), keeping activations at unit scale.
ACTIVATION_GAIN = math.sqrt(2.0)


class WAverage(nnx.Variable):
    """The tracked average of the mapping network's ``w`` (not a parameter)."""


class PathLengthMean(nnx.Variable):
    """The moving average of the generator's path lengths (not a parameter)."""


def upsample_image(x: jax.Array) -> jax.Array:
    """2x bilinear upsampling of NHWC images (the skip generator's image path)."""
    n, h, w, c = x.shape
    return jax.image.resize(x, (n, 2 * h, 2 * w, c), "bilinear").astype(x.dtype)


class SynthesisLayer(nnx.Module):
    """Modulated 3x3 convolution (optionally upsampling), noise, leaky ReLU times ``sqrt(2)``.

    Noise: in training mode a per-pixel map ``(N, H, W, 1)`` of standard normal values
    drawn from the call's ``noise_key`` is added, scaled by a learned per-channel weight
    (zero at first); in eval mode nothing is added.

    Attributes:
        conv: The :class:`ModulatedConv` (demodulated, bias after demodulation).
        noise: :class:`NoiseInjection`, or None without noise.
        leaky_relu_slope: Negative slope of the leaky ReLU.
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
        leaky_relu_slope: float = 0.2,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
    ):
        precision = {"dtype": dtype, "param_dtype": param_dtype}
        self.conv = ModulatedConv(
            in_channels, out_channels, 3, style_dim, upsample=upsample, rngs=rngs, **precision
        )
        self.noise = nnx.data(NoiseInjection(out_channels, **precision) if use_noise else None)
        self.leaky_relu_slope = leaky_relu_slope

    def __call__(
        self, x: jax.Array, w: jax.Array, *, noise_key: jax.Array | None, training: bool
    ) -> jax.Array:
        """NHWC maps and a style ``(N, style_dim)`` to NHWC maps."""
        x = self.conv(x, w)
        if self.noise is not None and training:
            if noise_key is None:
                raise ValueError("SynthesisLayer needs a noise_key in training mode")
            noise = jax.random.normal(noise_key, (*x.shape[:3], 1), x.dtype)
            x = self.noise(x, noise=noise)
        return jax.nn.leaky_relu(x, self.leaky_relu_slope) * jnp.asarray(ACTIVATION_GAIN, x.dtype)


class StyleGAN2Generator(_StyleGenerator):
    """StyleGAN2 generator: ``z`` ``(B, latent_dim)`` in, ``(B, H, W, channels)`` out.

    Style index ``i`` of ``ws`` ``(B, num_ws, style_dim)`` drives the ``i``-th modulated
    convolution (block 0 has one, each later block two, coarsest first), and the
    ``toRGB`` of a block takes the index after its last convolution, so there are
    ``num_ws = 2 * num_blocks`` of them (as in the paper's code).

    Args:
        config: A :class:`StyleGAN2GeneratorConfig`; or None and its fields as keywords.
        rngs: ``params`` initialises the weights; ``noise`` (derived from ``params`` when
            absent) is the generator's own noise stream, used in training mode when a
            call gives no ``noise_key``.
        **options: Config fields (keyword style) or changes to ``config``.

    Attributes:
        mapping: The :class:`MappingNetwork` (equalized, ``mapping_lr_multiplier``).
        w_avg: :class:`WAverage` ``(style_dim,)`` float32, zeros at first.
        path_length_mean: :class:`PathLengthMean` scalar float32, zero at first.
        constant_input: The learned input ``(1, start_size, start_size, max_channels)``.
        convs: The :class:`SynthesisLayer` s in style-index order.
        to_rgbs: One modulated 1x1 convolution (no demodulation) per block.
        num_blocks: Blocks (resolutions).
        num_ws: Style inputs.
    """

    config: StyleGAN2GeneratorConfig

    def __init__(
        self,
        config: StyleGAN2GeneratorConfig | None = None,
        *,
        rngs: nnx.Rngs,
        **options: Any,
    ):
        super().__init__(
            build_config(StyleGAN2GeneratorConfig, config, options, owner="StyleGAN2Generator")
        )
        cfg = self.config
        precision = layer_dtypes(cfg)
        channels = cfg.block_channels
        self.num_ws = cfg.num_ws
        self.mapping = self._mapping_front(rngs, use_equalized_lr=True)
        self.w_avg = WAverage(jnp.zeros((cfg.style_dim,), jnp.float32))
        self.path_length_mean = PathLengthMean(jnp.zeros((), jnp.float32))
        self.constant_input = nnx.Param(
            jax.random.normal(
                rngs.params(),
                (1, cfg.start_size, cfg.start_size, cfg.max_channels),
                precision["param_dtype"],
            )
        )
        layer = {
            "rngs": rngs,
            "use_noise": cfg.use_noise_injection,
            "leaky_relu_slope": cfg.leaky_relu_slope,
            **precision,
        }
        convs = [SynthesisLayer(cfg.max_channels, channels[0], cfg.style_dim, **layer)]
        for i in range(1, cfg.num_blocks):
            convs.append(
                SynthesisLayer(channels[i - 1], channels[i], cfg.style_dim, upsample=True, **layer)
            )
            convs.append(SynthesisLayer(channels[i], channels[i], cfg.style_dim, **layer))
        self.convs = nnx.List(convs)
        self.to_rgbs = nnx.List(
            [
                ModulatedConv(
                    channels[i],
                    cfg.channels,
                    1,
                    cfg.style_dim,
                    demodulate=False,
                    rngs=rngs,
                    **precision,
                )
                for i in range(cfg.num_blocks)
            ]
        )
        self.noise_rngs = with_stream(rngs, "noise")["noise"].fork()

    # -- mapping ------------------------------------------------------------------------

    def map(
        self,
        z: jax.Array,
        *,
        truncation_psi: float | jax.Array = 1.0,
        truncation_cutoff: int | None = None,
        update_w_avg: bool = False,
    ) -> jax.Array:
        """Styles ``ws`` ``(B, num_ws, style_dim)`` of latents ``z`` ``(B, latent_dim)``.

        Args:
            z: Latent codes.
            truncation_psi: The truncation trick: ``w_avg + psi * (w - w_avg)``; 1 leaves
                ``w`` as it is, 0 gives ``w_avg``.
            truncation_cutoff: Truncate only the style indices below this; None: all.
            update_w_avg: Move :attr:`w_avg` towards the batch mean of ``w`` first
                (``w_avg_beta``); the training rules do it once per discriminator update.
        """
        check_batch("z", z, (self.latent_dim,), "StyleGAN2Generator.map")
        w = self.mapping(z)
        if update_w_avg:
            batch_mean = jax.lax.stop_gradient(jnp.mean(w.astype(jnp.float32), axis=0))
            beta = self.config.w_avg_beta
            self.w_avg[...] = batch_mean + beta * (self.w_avg[...] - batch_mean)
        ws = jnp.broadcast_to(w[:, None, :], (w.shape[0], self.num_ws, self.style_dim))
        return self.truncate(ws, truncation_psi, truncation_cutoff)

    def truncate(
        self, ws: jax.Array, psi: float | jax.Array = 1.0, cutoff: int | None = None
    ) -> jax.Array:
        """``w_avg + psi * (ws - w_avg)`` at the style indices below ``cutoff`` (None: all).

        Raises:
            ValueError: ``cutoff`` is not in ``[0, num_ws]``.
        """
        if cutoff is not None and not (
            isinstance(cutoff, int) and not isinstance(cutoff, bool) and 0 <= cutoff <= self.num_ws
        ):
            raise ValueError(
                f"StyleGAN2Generator: truncation_cutoff must be None or an int in [0, "
                f"{self.num_ws}] (num_ws), got {cutoff!r}"
            )
        if isinstance(psi, int | float) and psi == 1.0:
            return ws
        average = self.w_avg[...].astype(ws.dtype)
        truncated = average + jnp.asarray(psi, ws.dtype) * (ws - average)
        if cutoff is None:
            return truncated
        layers = jnp.arange(self.num_ws)[None, :, None]
        return jnp.where(layers < cutoff, truncated, ws)

    # -- synthesis ----------------------------------------------------------------------

    def synthesize(
        self,
        ws: jax.Array,
        noise_key: jax.Array | None = None,
        *,
        training: bool | None = None,
    ) -> jax.Array:
        """Images from styles ``ws`` ``(B, num_ws, style_dim)`` (or one ``(B, style_dim)``).

        Args:
            ws: Styles.
            noise_key: The noise maps' key in training mode; None draws one from the
                generator's own ``noise`` stream.
            training: Overrides the module's mode (noise in training mode only).

        Raises:
            ValueError: ``ws`` has another shape.
        """
        owner = "StyleGAN2Generator.synthesize"
        if ws.ndim == 2:
            check_batch("ws", ws, (self.style_dim,), owner)
            ws = jnp.broadcast_to(ws[:, None, :], (ws.shape[0], self.num_ws, self.style_dim))
        check_batch("ws", ws, (self.num_ws, self.style_dim), owner)
        training = self.is_training(training)
        keys: list[Any] = [None] * len(self.convs)
        if training and self.config.use_noise_injection:
            key = noise_key if noise_key is not None else self.noise_rngs()
            keys = list(jax.random.split(key, len(self.convs)))
        dtype = layer_dtypes(self.config)["dtype"]
        batch = ws.shape[0]
        x = jnp.broadcast_to(
            self.constant_input[...].astype(dtype), (batch, *self.constant_input.shape[1:])
        )
        image: jax.Array | None = None
        index = 0
        for block, to_rgb in enumerate(self.to_rgbs):
            for _ in range(1 if block == 0 else 2):
                x = self.convs[index](x, ws[:, index], noise_key=keys[index], training=training)
                index += 1
            rgb = to_rgb(x, ws[:, index])
            image = rgb if image is None else upsample_image(image) + rgb
        assert image is not None
        images = activation_fn(self.config.output_activation)(image)
        return from_nhwc(images, self.output_layout)

    def __call__(
        self,
        z: jax.Array,
        noise_key: jax.Array | None = None,
        *,
        training: bool | None = None,
        truncation_psi: float | jax.Array = 1.0,
        truncation_cutoff: int | None = None,
    ) -> jax.Array:
        """Images ``(B, H, W, channels)`` (or NCHW) from latents ``z`` ``(B, latent_dim)``.

        See :meth:`map` for the truncation and :meth:`synthesize` for the noise.
        """
        ws = self.map(z, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesize(ws, noise_key, training=training)

    def style_mixing(
        self,
        z1: jax.Array,
        z2: jax.Array,
        mix_layer: int | jax.Array,
        noise_key: jax.Array | None = None,
        *,
        training: bool | None = None,
        truncation_psi: float | jax.Array = 1.0,
        truncation_cutoff: int | None = None,
    ) -> jax.Array:
        """Images whose style indices below ``mix_layer`` come from ``z1``, the rest from ``z2``.

        ``mix_layer=0`` is ``z2`` alone, ``num_ws`` is ``z1`` alone; a traced
        ``mix_layer`` is accepted. Truncation applies to both.

        Raises:
            ValueError: ``z1`` and ``z2`` differ in shape, or ``mix_layer`` is not in
                ``[0, num_ws]``.
        """
        if tuple(z2.shape) != tuple(z1.shape):
            raise ValueError(
                "StyleGAN2Generator.style_mixing expects z2 of the shape of z1 "
                f"{tuple(z1.shape)}, got {tuple(z2.shape)}"
            )
        if isinstance(mix_layer, bool) or (
            isinstance(mix_layer, int) and not 0 <= mix_layer <= self.num_ws
        ):
            raise ValueError(
                f"StyleGAN2Generator.style_mixing: mix_layer must be an int in [0, "
                f"{self.num_ws}] (num_ws), got {mix_layer!r}"
            )
        ws1, ws2 = (
            self.map(z, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
            for z in (z1, z2)
        )
        ws = mix_styles(ws1, ws2, mix_layer)
        return self.synthesize(ws, noise_key, training=training)


def mix_styles(ws1: jax.Array, ws2: jax.Array, mix_layer: int | jax.Array) -> jax.Array:
    """``ws1`` at the style indices below ``mix_layer``, ``ws2`` from there on."""
    layers = jnp.arange(ws1.shape[1])[None, :, None]
    return jnp.where(layers < mix_layer, ws1, ws2)
