"""Class-conditional BigGAN-style networks and their layers (SAGAN, BigGAN, cGANs-proj).

Layers:

* :class:`ConditionalBatchNorm` — batch norm without its own scale and offset; the gain
  ``1 + W_g c`` and bias ``W_b c`` come from a condition vector ``c`` (BigGAN: the shared
  class embedding, with a chunk of ``z`` under the hierarchical latent).
* :class:`SelfAttention` — SAGAN's block ``x + gamma * o(softmax(q k^T) v)``, ``gamma`` a
  learned scalar starting at 0 (the block starts as the identity).
* :class:`ProjectionHead` — the projection discriminator's output
  ``psi(h) + <embed(y), h>``.
* :func:`orthogonal_regularization` / :func:`orthogonal_penalty` — BigGAN's
  ``||W^T W * (1 - I)||_F^2`` of one kernel / summed over a module's kernels.

* :class:`ResidualUpBlock` / :class:`ResidualDownBlock` — BigGAN's generator and
  discriminator residual blocks (``blocks="residual"``).

Networks (configs in ``biggan_configs``): :class:`BigGANGenerator` has a dense projection,
then either the conditional family's upsampling ladder of transposed convolutions, every
hidden map normalized with :class:`ConditionalBatchNorm` (``blocks="plain"``), or
:class:`ResidualUpBlock` s (``blocks="residual"``); all norms are driven by one shared
class embedding. :class:`BigGANDiscriminator` has the strided ladder or
:class:`ResidualDownBlock` s, sums the last map over its positions and scores it with a
:class:`ProjectionHead`. Either may hold one :class:`SelfAttention` block after the map of
height ``self_attention_at``. Spectral normalization (on by default) wraps every
convolution and dense layer.

References:
    Miyato, Koyama. "cGANs with Projection Discriminator", ICLR 2018.
    https://arxiv.org/abs/1802.05637
    Zhang, Goodfellow, Metaxas, Odena. "Self-Attention Generative Adversarial Networks",
    ICML 2019. https://arxiv.org/abs/1805.08318
    Miyato, Kataoka, Koyama, Yoshida. "Spectral Normalization for Generative Adversarial
    Networks", ICLR 2018 (the residual networks' "optimized" first D block).
    https://arxiv.org/abs/1802.05957
    Brock, Donahue, Simonyan. "Large Scale GAN Training for High Fidelity Natural Image
    Synthesis", ICLR 2019. https://arxiv.org/abs/1809.11096
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration.biggan_configs import (
    BigGANDiscriminatorConfig,
    BigGANGeneratorConfig,
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
from artifex.generative_models.nets.conditional import (
    LabelEmbedding,
    _conditional_options,
    check_labels,
)
from artifex.generative_models.nets.conv import (
    ConvBlock,
    _apply,
    _check_transpose_padding,
    _maybe_spectral,
    check_images,
    downsampling_ladder,
    upsampling_ladder,
)
from artifex.generative_models.nets.layers.spectral_norm import (
    SpectralNormStat,
    spectral_normalize,
)

__all__ = [
    "BigGANDiscriminator",
    "BigGANGenerator",
    "ConditionalBatchNorm",
    "ProjectionHead",
    "ResidualDownBlock",
    "ResidualUpBlock",
    "SelfAttention",
    "orthogonal_penalty",
    "orthogonal_regularization",
]

_KERNEL_LAYERS = (nnx.Linear, nnx.Conv, nnx.ConvTranspose)


# -- layers ---------------------------------------------------------------------------


def orthogonal_regularization(kernel: jax.Array) -> jax.Array:
    """BigGAN's orthogonal regularization of one kernel: ``||W^T W * (1 - I)||_F^2``.

    ``W`` is the kernel as a ``(fan_in, out)`` matrix (Flax kernels keep output features
    last), so ``W^T W`` holds the inner products of the output filters; only the
    off-diagonal ones are penalized, leaving the filters' norms free (Brock et al.,
    2019, eq. 3, without its weight).

    Args:
        kernel: A kernel of rank >= 2.

    Returns:
        The float32 scalar.

    Raises:
        ValueError: A kernel of rank < 2.
    """
    if kernel.ndim < 2:
        raise ValueError(
            "orthogonal_regularization expects a kernel of rank >= 2, got shape "
            f"{tuple(kernel.shape)}"
        )
    w = kernel.reshape(-1, kernel.shape[-1]).astype(jnp.float32)
    gram = jnp.matmul(w.T, w, precision=jax.lax.Precision.HIGHEST)
    off_diagonal = gram * (1.0 - jnp.eye(gram.shape[0], dtype=gram.dtype))
    return jnp.sum(off_diagonal**2)


def orthogonal_penalty(module: nnx.Module) -> jax.Array:
    """:func:`orthogonal_regularization` summed over every dense and convolution kernel.

    Embedding tables, norm scales and biases are left out (as in BigGAN). Kernels under
    spectral normalization are taken raw (the parameter the optimizer updates).
    """
    total = jnp.zeros((), jnp.float32)
    for _, node in nnx.iter_graph(module):
        if isinstance(node, _KERNEL_LAYERS):
            total = total + orthogonal_regularization(node.kernel[...])
    return total


def _per_example(values: jax.Array, like: jax.Array) -> jax.Array:
    """``(B, C)`` reshaped to broadcast against ``like`` ``(B, ..., C)``."""
    return values.reshape(values.shape[0], *([1] * (like.ndim - 2)), values.shape[-1])


class ConditionalBatchNorm(nnx.Module):
    """Batch norm whose gain and bias are linear functions of a condition vector.

    ``y = BN(x) * (1 + W_g c + b_g) + (W_b c + b_b)``, where ``BN`` normalizes with batch
    statistics in training mode and running statistics in eval mode, without a scale or
    offset of its own.

    Args:
        channels: Features of ``x`` (last axis).
        condition_features: Size of the condition vector ``c``.
        spectral_norm: Spectral normalization of the gain and bias maps (as BigGAN).
        momentum: Running-statistics momentum.
        epsilon: Added to the variance.
        dtype: Compute dtype.
        param_dtype: Parameter dtype.
        rngs: Initialisation randomness.

    Attributes:
        norm: The ``nnx.BatchNorm`` (no scale, no offset).
        gain: Dense map ``c -> gain - 1`` (in :class:`SpectralNorm` when asked).
        bias: Dense map ``c -> bias``.
    """

    def __init__(
        self,
        channels: int,
        condition_features: int,
        *,
        spectral_norm: bool = False,
        momentum: float = 0.9,
        epsilon: float = 1e-5,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        precision = {"dtype": dtype, "param_dtype": param_dtype}
        self.norm = nnx.BatchNorm(
            channels,
            use_scale=False,
            use_bias=False,
            momentum=momentum,
            epsilon=epsilon,
            rngs=rngs,
            **precision,
        )
        self.gain = _maybe_spectral(
            nnx.Linear(condition_features, channels, rngs=rngs, **precision), spectral_norm, rngs
        )
        self.bias = _maybe_spectral(
            nnx.Linear(condition_features, channels, rngs=rngs, **precision), spectral_norm, rngs
        )

    def __call__(self, x: jax.Array, condition: jax.Array, *, training: bool) -> jax.Array:
        """Normalize ``x`` ``(B, ..., C)`` with the gains of ``condition`` ``(B, F)``."""
        normalized = self.norm(x, use_running_average=not training)
        gain = 1.0 + _apply(self.gain, condition, training)
        bias = _apply(self.bias, condition, training)
        return normalized * _per_example(gain, x).astype(x.dtype) + _per_example(bias, x).astype(
            x.dtype
        )


class SelfAttention(nnx.Module):
    """SAGAN's self-attention block over the positions of an NHWC map.

    ``q, k, v`` are 1x1 convolutions (``C/8``, ``C/8`` and ``C/2`` channels, at least 1)
    without bias; each position attends to all positions with weights
    ``softmax_j(q_i . k_j)``, the result goes through a 1x1 convolution back to ``C``
    channels and is added to the input scaled by ``gamma``, a learned scalar that starts
    at 0, so a fresh block is the identity.

    Args:
        channels: Channels of the map.
        spectral_norm: Spectral normalization of the four convolutions.
        dtype: Compute dtype.
        param_dtype: Parameter dtype.
        rngs: Initialisation randomness.

    Attributes:
        query: 1x1 convolution to ``max(C // 8, 1)`` channels.
        key: 1x1 convolution to ``max(C // 8, 1)`` channels.
        value: 1x1 convolution to ``max(C // 2, 1)`` channels.
        output: 1x1 convolution back to ``C`` channels.
        gamma: The scalar gate, an ``nnx.Param`` initialised to 0.
    """

    def __init__(
        self,
        channels: int,
        *,
        spectral_norm: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        inner, values = max(channels // 8, 1), max(channels // 2, 1)

        def conv(features_in: int, features_out: int) -> nnx.Module:
            layer = nnx.Conv(
                features_in,
                features_out,
                (1, 1),
                use_bias=False,
                dtype=dtype,
                param_dtype=param_dtype,
                rngs=rngs,
            )
            return _maybe_spectral(layer, spectral_norm, rngs)

        self.query = conv(channels, inner)
        self.key = conv(channels, inner)
        self.value = conv(channels, values)
        self.output = conv(values, channels)
        self.gamma = nnx.Param(jnp.zeros((), param_dtype))

    def __call__(self, x: jax.Array, *, training: bool = False) -> jax.Array:
        """``x + gamma * attention(x)`` for an NHWC map ``x``."""
        batch, height, width, _ = x.shape
        positions = height * width

        def flat(layer: nnx.Module) -> jax.Array:
            y = _apply(layer, x, training)
            return y.reshape(batch, positions, y.shape[-1])

        q, k, v = flat(self.query), flat(self.key), flat(self.value)
        # The softmax in float32: bf16 logits lose the small differences it weighs.
        scores = jnp.einsum("bic,bjc->bij", q, k).astype(jnp.float32)
        weights = jax.nn.softmax(scores, axis=-1).astype(v.dtype)
        attended = jnp.einsum("bij,bjc->bic", weights, v).reshape(batch, height, width, -1)
        gamma = self.gamma[...].astype(x.dtype)
        return x + gamma * _apply(self.output, attended, training)


class ProjectionHead(nnx.Module):
    """The projection discriminator's output: ``psi(h) + <embed(y), h>`` per example.

    With ``embedding_spectral_norm`` the class embedding table ``V`` ``(num_classes, F)``,
    the linear map from one-hot labels to ``F`` features, is divided by its largest
    singular value as cGANs-proj and BigGAN do (``SNEmbedID`` / ``SNEmbedding``): the
    same power iteration as :class:`SpectralNorm`, its ``u`` and ``sigma`` kept as
    :class:`SpectralNormStat` (advanced in training mode only).

    Args:
        features: Size of the pooled features ``h``.
        num_classes: Number of classes.
        spectral_norm: Spectral normalization of ``psi``.
        embedding_spectral_norm: Spectral normalization of the embedding table.
        dtype: Compute dtype.
        param_dtype: Parameter dtype.
        rngs: Initialisation randomness.

    Attributes:
        psi: Dense ``features -> 1`` (in :class:`SpectralNorm` when asked).
        embedding: The class embedding (:class:`LabelEmbedding`, ``features`` wide): class
            indices and one-hot rows both work. Its table is the raw parameter.
        embedding_u: The power iteration's ``(features,)`` vector, or None.
        embedding_sigma: The latest estimate of the table's largest singular value, or None.
    """

    def __init__(
        self,
        features: int,
        num_classes: int,
        *,
        spectral_norm: bool = False,
        embedding_spectral_norm: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        precision = {"dtype": dtype, "param_dtype": param_dtype}
        self.psi = _maybe_spectral(
            nnx.Linear(features, 1, rngs=rngs, **precision), spectral_norm, rngs
        )
        self.embedding = LabelEmbedding(num_classes, features, rngs=rngs, **precision)
        self.embedding_u: SpectralNormStat | None = nnx.data(None)
        self.embedding_sigma: SpectralNormStat | None = nnx.data(None)
        if embedding_spectral_norm:
            # The start as SpectralNorm's: a random unit vector, float32 whatever the table.
            u = jax.random.normal(rngs.params(), (features,), jnp.float32)
            u = u / jnp.linalg.norm(u)
            _, u, sigma = spectral_normalize(self.embedding.embed.embedding[...], u)
            self.embedding_u = SpectralNormStat(u)
            self.embedding_sigma = SpectralNormStat(sigma)

    def _embedding(self, training: bool) -> LabelEmbedding:
        """The embedding to use: the raw one, or a copy holding ``V / sigma(V)``."""
        if self.embedding_u is None or self.embedding_sigma is None:
            return self.embedding
        table, u, sigma = spectral_normalize(
            self.embedding.embed.embedding[...], self.embedding_u[...]
        )
        if training:
            self.embedding_u[...] = u
            self.embedding_sigma[...] = sigma
        # As SpectralNorm does: a copy with the normalized table runs LabelEmbedding's own
        # lookup, and the raw table (the parameter the optimizer updates) is left as is.
        graphdef, state = nnx.split(self.embedding)
        raw = typing.cast(nnx.Param, state["embed"]["embedding"])
        state["embed"]["embedding"] = raw.replace(table)
        normalized: LabelEmbedding = nnx.merge(graphdef, state)
        return normalized

    def __call__(self, h: jax.Array, labels: jax.Array, *, training: bool = False) -> jax.Array:
        """Logits ``(B,)`` of pooled features ``h`` ``(B, F)`` with checked ``labels``."""
        embedded = self._embedding(training)(labels)
        projection = jnp.sum(embedded.astype(h.dtype) * h, axis=-1)
        return _apply(self.psi, h, training)[:, 0] + projection


def upsample_nearest(x: jax.Array) -> jax.Array:
    """An NHWC map doubled in height and width, every value repeated in a 2x2 square."""
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def average_pool(x: jax.Array) -> jax.Array:
    """An NHWC map halved in height and width by 2x2 average pooling (even sizes)."""
    batch, height, width, channels = x.shape
    return x.reshape(batch, height // 2, 2, width // 2, 2, channels).mean(axis=(2, 4))


def _conv(
    features_in: int,
    features_out: int,
    size: int,
    *,
    spectral_norm: bool,
    dtype: Any,
    param_dtype: Any,
    rngs: nnx.Rngs,
) -> nnx.Module:
    """A ``size x size`` stride-1 "SAME" convolution (in :class:`SpectralNorm` when asked)."""
    layer = nnx.Conv(
        features_in,
        features_out,
        (size, size),
        padding="SAME",
        dtype=dtype,
        param_dtype=param_dtype,
        rngs=rngs,
    )
    return _maybe_spectral(layer, spectral_norm, rngs)


Activation = Callable[[jax.Array], jax.Array]


class _ResidualConvs(nnx.Module):
    """The convolutions both residual blocks have.

    3x3 ``in -> out`` and 3x3 ``out -> out`` on the main path, 1x1 ``in -> out`` on the
    skip path.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        spectral_norm: bool,
        dtype: Any,
        param_dtype: Any,
        rngs: nnx.Rngs,
    ):
        layer: dict[str, Any] = {
            "spectral_norm": spectral_norm,
            "dtype": dtype,
            "param_dtype": param_dtype,
            "rngs": rngs,
        }
        self.conv1 = _conv(in_features, out_features, 3, **layer)
        self.conv2 = _conv(out_features, out_features, 3, **layer)
        self.skip = _conv(in_features, out_features, 1, **layer)


class ResidualUpBlock(_ResidualConvs):
    """BigGAN's generator block: ``main(x) + skip(x)`` at twice the height and width.

    ``main``: CBN, activation, x2 nearest upsampling, 3x3 convolution, CBN, activation,
    3x3 convolution; ``skip``: x2 nearest upsampling, 1x1 convolution. Both norms take
    the same condition (the shared embedding, with the block's chunk of ``z`` under the
    hierarchical latent).

    Args:
        in_features: Channels of ``x``.
        out_features: Channels of the output.
        condition_features: Size of the condition vector.
        spectral_norm: Spectral normalization of the convolutions and the norms' maps.
        dtype: Compute dtype.
        param_dtype: Parameter dtype.
        rngs: Initialisation randomness.

    Attributes:
        norm1: :class:`ConditionalBatchNorm` of the input.
        conv1: 3x3 convolution ``in -> out`` after the upsampling.
        norm2: :class:`ConditionalBatchNorm` of ``conv1``'s output.
        conv2: 3x3 convolution ``out -> out``.
        skip: 1x1 convolution ``in -> out`` of the upsampled input.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        condition_features: int,
        *,
        spectral_norm: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        layer: dict[str, Any] = {
            "spectral_norm": spectral_norm,
            "dtype": dtype,
            "param_dtype": param_dtype,
            "rngs": rngs,
        }
        super().__init__(in_features, out_features, **layer)
        self.norm1 = ConditionalBatchNorm(in_features, condition_features, **layer)
        self.norm2 = ConditionalBatchNorm(out_features, condition_features, **layer)

    def __call__(
        self, x: jax.Array, condition: jax.Array, *, act: Activation, training: bool
    ) -> jax.Array:
        """The block's output ``(B, 2H, 2W, out)`` of an NHWC map ``x`` and ``condition``."""
        h = act(self.norm1(x, condition, training=training))
        h = _apply(self.conv1, upsample_nearest(h), training)
        h = act(self.norm2(h, condition, training=training))
        h = _apply(self.conv2, h, training)
        return h + _apply(self.skip, upsample_nearest(x), training)


class ResidualDownBlock(_ResidualConvs):
    """BigGAN's discriminator block: ``main(x) + skip(x)`` at half the height and width.

    ``main``: activation, 3x3 convolution, activation, 3x3 convolution, 2x2 average
    pooling; ``skip``: 1x1 convolution, then pooling. The first block of a network reads
    the image itself, so it has no leading activation (``preactivation=False``, SNGAN's
    "optimized" block) and pools before its 1x1 convolution (the same linear map, on a
    quarter of the positions).

    Args:
        in_features: Channels of ``x``.
        out_features: Channels of the output.
        preactivation: Apply the activation to ``x`` first (False for the first block).
        spectral_norm: Spectral normalization of the three convolutions.
        dtype: Compute dtype.
        param_dtype: Parameter dtype.
        rngs: Initialisation randomness.

    Attributes:
        preactivation: See Args.
        conv1: 3x3 convolution ``in -> out``.
        conv2: 3x3 convolution ``out -> out``.
        skip: 1x1 convolution ``in -> out``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        preactivation: bool = True,
        spectral_norm: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        super().__init__(
            in_features,
            out_features,
            spectral_norm=spectral_norm,
            dtype=dtype,
            param_dtype=param_dtype,
            rngs=rngs,
        )
        self.preactivation = preactivation

    def __call__(self, x: jax.Array, *, act: Activation, training: bool) -> jax.Array:
        """The block's output ``(B, H/2, W/2, out)`` of an NHWC map ``x``."""
        h = act(x) if self.preactivation else x
        h = _apply(self.conv1, h, training)
        h = average_pool(_apply(self.conv2, act(h), training))
        if self.preactivation:
            skip = average_pool(_apply(self.skip, x, training))
        else:
            skip = _apply(self.skip, average_pool(x), training)
        return h + skip


# -- networks -------------------------------------------------------------------------


def _attention(
    owner: str,
    at: int | None,
    heights: list[int],
    widths: tuple[int, ...],
    where: str,
    **layer: Any,
) -> tuple[int | None, SelfAttention | None]:
    """The index in ``heights`` of the map a self-attention block follows, and the block.

    ``at`` is a height of the planned ladder (first match) or None (no block); the block
    has ``widths[index]`` channels and takes ``layer``'s keywords (spectral norm, dtypes).
    """
    if at is None:
        return None, None
    if at not in heights:
        raise ValueError(
            f"{owner}: self_attention_at={at} is not the height of a {where}; the planned "
            f"heights are {', '.join(map(str, heights))}"
        )
    index = heights.index(at)
    return index, SelfAttention(widths[index], **layer)


def _residual_sizes(owner: str, size: tuple[int, int], blocks: int) -> list[tuple[int, int]]:
    """The map sizes of ``blocks`` residual blocks from ``size`` down, each one halving.

    Raises:
        ValueError: ``size`` is not divisible by ``2 ** blocks``.
    """
    factor = 2**blocks
    if size[0] % factor or size[1] % factor:
        raise ValueError(
            f"{owner}: blocks='residual' resamples by 2 in each of the {blocks} blocks, so "
            f"the image height and width must be divisible by {factor}; got "
            f"{size[0]}x{size[1]}: use fewer hidden_dims, another image size or "
            "blocks='plain'"
        )
    return [(size[0] // 2**i, size[1] // 2**i) for i in range(blocks + 1)]


def _options(owner: str, config_class: type, config: Any, options: dict[str, Any]) -> Any:
    options = _conditional_options(owner, config_class, config, options)
    return build_config(config_class, config, options, owner=owner)


class BigGANGenerator(Network):
    """Generator with class-conditional batch norm: ``generator(z, labels, training=None)``.

    ``z`` (or its first chunk under ``hierarchical_latent``) is projected (dense) to the
    first feature map; each later entry of ``hidden_dims`` is an upsampling transposed
    convolution; a last one makes the image (``output_activation``, tanh by default). The
    projection and every hidden layer are followed by :class:`ConditionalBatchNorm` and
    the activation; the norms' condition is the shared class embedding (concatenated with
    the norm's own chunk of ``z`` under ``hierarchical_latent``). The feature-map sizes
    follow the ladder of :class:`~artifex.generative_models.nets.conv.ConvGenerator`.

    With ``blocks="residual"`` the projected map (``hidden_dims[0]`` channels, the output
    size over ``2 ** len(hidden_dims)``) goes through one :class:`ResidualUpBlock` per
    entry of ``hidden_dims`` (block ``i``'s condition: the shared embedding, with chunk
    ``i + 1`` of ``z`` under ``hierarchical_latent``), then batch norm, the activation, a
    3x3 convolution to the image channels and ``output_activation``.

    Args:
        config: A :class:`BigGANGeneratorConfig`; or None and its fields as keywords
            (``num_classes`` / ``embedding_dim`` become ``conditional``).
        rngs: ``params`` initialises the weights.
        **options: Config fields (keyword style) or changes to ``config``.

    Attributes:
        latent_dim: Size of ``z``.
        num_classes: Number of classes.
        output_shape: Per-sample shape of the images, in the declared layout.
        layout: The resolved layout.
        feature_sizes: The planned ``(height, width)`` of every map, the output last.
        shared_embedding: The :class:`LabelEmbedding` every norm reads.
        residual: Whether the network has residual blocks (``blocks="residual"``).
        attention_index: Which hidden map (0: the projected one) the self-attention block
            follows, or None; with residual blocks, which block.
    """

    config: BigGANGeneratorConfig

    def __init__(
        self, config: BigGANGeneratorConfig | None = None, *, rngs: nnx.Rngs, **options: Any
    ):
        owner = type(self).__name__
        super().__init__(_options(owner, BigGANGeneratorConfig, config, options))
        cfg = self.config
        layout = cfg.output_layout
        assert layout is not None  # the config requires an image shape
        widths = cfg.hidden_dims
        self.residual = cfg.blocks == "residual"
        if self.residual:
            sizes = _residual_sizes(owner, (layout.height, layout.width), len(widths))[::-1]
        else:
            _check_transpose_padding(owner, cfg.padding, cfg.kernel_size)
            sizes = upsampling_ladder(
                owner,
                (layout.height, layout.width),
                len(widths),
                kernel_size=cfg.kernel_size,
                stride=cfg.stride,
                padding=cfg.padding,
            )
        precision = layer_dtypes(cfg)
        self.latent_dim = cfg.latent_dim
        self.num_classes = cfg.conditional.num_classes
        self.output_shape = layout.shape
        self.layout = layout
        self.feature_sizes = tuple(sizes)
        self.hierarchical = cfg.hierarchical_latent
        self.n_chunks = len(widths) + 1 if self.hierarchical else 1
        chunk = cfg.latent_dim // self.n_chunks
        condition = cfg.conditional.embedding_dim + (chunk if self.hierarchical else 0)
        sn = cfg.use_spectral_norm
        self.shared_embedding = LabelEmbedding(
            self.num_classes, cfg.conditional.embedding_dim, rngs=rngs, **precision
        )
        self.map_shape = (*sizes[0], widths[0])
        self.projection = _maybe_spectral(
            nnx.Linear(chunk, math.prod(self.map_shape), rngs=rngs, **precision), sn, rngs
        )
        if self.residual:
            # One block per width, each doubling the map; the self-attention block may
            # follow any of them (BigGAN places it after a block).
            self.blocks = nnx.List(
                [
                    ResidualUpBlock(
                        widths[max(i - 1, 0)],
                        widths[i],
                        condition,
                        spectral_norm=sn,
                        rngs=rngs,
                        **precision,
                    )
                    for i in range(len(widths))
                ]
            )
            attention_heights = [h for h, _ in sizes[1:]]
        else:
            conv: dict[str, Any] = {
                "transpose": True,
                "kernel_size": cfg.kernel_size,
                "stride": cfg.stride,
                "padding": cfg.padding,
                "spectral_norm": sn,
                **precision,
            }
            self.convs = nnx.List(
                [
                    ConvBlock(widths[i - 1], widths[i], output_size=sizes[i], rngs=rngs, **conv)
                    for i in range(1, len(widths))
                ]
            )
            self.norms = nnx.List(
                [
                    ConditionalBatchNorm(width, condition, spectral_norm=sn, rngs=rngs, **precision)
                    for width in widths
                ]
            )
            attention_heights = [h for h, _ in sizes[:-1]]
        # The attention block is made before the output layer: the order the initial
        # weights are drawn in, kept from before residual blocks, so the plain preset's
        # runs stay bitwise the same.
        self.attention_index, attention = _attention(
            owner,
            cfg.self_attention_at,
            attention_heights,
            widths,
            "residual block's output" if self.residual else "hidden feature map",
            spectral_norm=sn,
            rngs=rngs,
            **precision,
        )
        self.attention: SelfAttention | None = nnx.data(attention)
        if self.residual:
            self.output_norm = nnx.BatchNorm(widths[-1], rngs=rngs, **precision)
            self.output_layer = _conv(
                widths[-1], layout.channels, 3, spectral_norm=sn, rngs=rngs, **precision
            )
        else:
            self.output_layer = ConvBlock(
                widths[-1],
                layout.channels,
                output_size=sizes[-1],
                activation=cfg.output_activation,
                rngs=rngs,
                **conv,
            )

    def _conditions(self, z: jax.Array, shared: jax.Array) -> tuple[jax.Array, list[jax.Array]]:
        """``z``'s part for the projection and the condition of each norm."""
        if not self.hierarchical:
            return z, [shared] * len(self.config.hidden_dims)
        chunks = jnp.split(z, self.n_chunks, axis=-1)
        return chunks[0], [jnp.concatenate([shared, part], axis=-1) for part in chunks[1:]]

    def __call__(self, z: jax.Array, labels: jax.Array, training: bool | None = None) -> jax.Array:
        """Generate images of the given classes.

        Args:
            z: Latent vectors, ``(B, latent_dim)``.
            labels: Class indices ``(B,)`` or one-hot rows ``(B, num_classes)``.
            training: Overrides the module's mode (``.train()`` / ``.eval()``).

        Returns:
            Images ``(B, *output_shape)`` in the declared layout.
        """
        owner = type(self).__name__
        check_batch("z", z, (self.latent_dim,), owner)
        labels = check_labels(owner, labels, self.num_classes, z.shape[0])
        training = self.is_training(training)
        act = activation_fn(self.config.activation, self.config.leaky_relu_slope)
        start, conditions = self._conditions(z, self.shared_embedding(labels).astype(z.dtype))
        x = _apply(self.projection, start, training).reshape(z.shape[0], *self.map_shape)
        if self.residual:
            for index, block in enumerate(self.blocks):
                x = block(x, conditions[index], act=act, training=training)
                if self.attention is not None and index == self.attention_index:
                    x = self.attention(x, training=training)
            x = act(self.output_norm(x, use_running_average=not training))
            output_act = activation_fn(self.config.output_activation)
            x = output_act(_apply(self.output_layer, x, training))
            return from_nhwc(x, self.layout)
        for index, norm in enumerate(self.norms):
            if index > 0:
                x = self.convs[index - 1](x, training=training)
            x = act(norm(x, conditions[index], training=training))
            if self.attention is not None and index == self.attention_index:
                x = self.attention(x, training=training)
        return from_nhwc(self.output_layer(x, training=training), self.layout)


class BigGANDiscriminator(Network):
    """Projection discriminator: ``discriminator(x, labels)`` → ``(B,)``.

    Each entry of ``hidden_dims`` is a strided convolution and the activation (ReLU by
    default); the last map is summed over its positions into ``h`` and scored by a
    :class:`ProjectionHead`, ``psi(h) + <embed(y), h>``. A call returns probabilities
    or logits as ``score_type`` says (logits under the hinge loss); :meth:`logits`
    always returns logits.

    With ``blocks="residual"`` each entry of ``hidden_dims`` is a
    :class:`ResidualDownBlock` (the first without its leading activation), and the
    activation is applied to the last map before the sum pooling.

    Args:
        config: A :class:`BigGANDiscriminatorConfig` with an ``input_shape``; or None and
            its fields as keywords.
        rngs: ``params`` initialises the weights; ``dropout`` drives dropout.
        **options: Config fields (keyword style) or changes to ``config``.

    Attributes:
        input_shape: Per-sample shape of the images, in the declared layout.
        num_classes: Number of classes.
        layout: The resolved layout.
        score_type: ``"probabilities"`` or ``"logits"``.
        feature_sizes: The planned sizes of the input and of every layer's output.
        residual: Whether the network has residual blocks (``blocks="residual"``).
        blocks: The :class:`ConvBlock` s (plain) or :class:`ResidualDownBlock` s.
        attention_index: Which strided layer or residual block the self-attention block
            follows, or None.
        head: The :class:`ProjectionHead`.
    """

    config: BigGANDiscriminatorConfig

    def __init__(
        self, config: BigGANDiscriminatorConfig | None = None, *, rngs: nnx.Rngs, **options: Any
    ):
        owner = type(self).__name__
        super().__init__(_options(owner, BigGANDiscriminatorConfig, config, options))
        cfg = self.config
        layout = cfg.input_layout
        if layout is None:
            raise ValueError(
                f"{owner} needs input_shape, the image shape it scores: (H, W, C) for NHWC "
                "arrays or (C, H, W) for NCHW arrays"
            )
        widths = cfg.hidden_dims
        self.residual = cfg.blocks == "residual"
        if self.residual:
            sizes = _residual_sizes(owner, (layout.height, layout.width), len(widths))
        else:
            sizes = downsampling_ladder(
                owner,
                (layout.height, layout.width),
                len(widths),
                kernel_size=cfg.kernel_size,
                stride=cfg.stride,
                padding=cfg.padding,
            )
        precision = layer_dtypes(cfg)
        sn = cfg.use_spectral_norm
        self.input_shape = layout.shape
        self.layout = layout
        self.num_classes = cfg.conditional.num_classes
        self.score_type = cfg.resolved_score_type(None)
        self.feature_sizes = tuple(sizes)
        in_widths = (layout.channels, *widths[:-1])
        blocks: list[nnx.Module]
        if self.residual:
            blocks = [
                ResidualDownBlock(
                    in_widths[i],
                    widths[i],
                    preactivation=i > 0,
                    spectral_norm=sn,
                    rngs=rngs,
                    **precision,
                )
                for i in range(len(widths))
            ]
        else:
            blocks = [
                ConvBlock(
                    in_widths[i],
                    widths[i],
                    transpose=False,
                    kernel_size=cfg.kernel_size,
                    stride=cfg.stride,
                    padding=cfg.padding,
                    norm="batch" if cfg.batch_norm and i > 0 else "none",
                    activation=cfg.activation,
                    leaky_relu_slope=cfg.leaky_relu_slope,
                    dropout_rate=cfg.dropout_rate,
                    spectral_norm=sn,
                    rngs=rngs,
                    **precision,
                )
                for i in range(len(widths))
            ]
        self.blocks = nnx.List(blocks)
        self.attention_index, attention = _attention(
            owner,
            cfg.self_attention_at,
            [h for h, _ in sizes[1:]],
            widths,
            "residual block's output" if self.residual else "strided layer's output",
            spectral_norm=sn,
            rngs=rngs,
            **precision,
        )
        self.attention: SelfAttention | None = nnx.data(attention)
        self.head = ProjectionHead(
            widths[-1],
            self.num_classes,
            spectral_norm=sn,
            embedding_spectral_norm=cfg.embedding_spectral_norm,
            rngs=rngs,
            **precision,
        )

    def features(self, x: jax.Array, training: bool) -> jax.Array:
        """The pooled features ``h`` ``(B, hidden_dims[-1])`` of an NHWC batch."""
        act = activation_fn(self.config.activation, self.config.leaky_relu_slope)
        for index, block in enumerate(self.blocks):
            if self.residual:
                x = block(x, act=act, training=training)
            else:
                x = block(x, training=training)
            if self.attention is not None and index == self.attention_index:
                x = self.attention(x, training=training)
        if self.residual:
            # A residual block's sum is not activated; BigGAN activates before pooling.
            x = act(x)
        return jnp.sum(x, axis=(1, 2))

    def logits(self, x: jax.Array, labels: jax.Array, training: bool | None = None) -> jax.Array:
        """The logits ``(B,)`` of a batch of images given their labels.

        Args:
            x: Images ``(B, *input_shape)`` in the declared layout.
            labels: Class indices ``(B,)`` or one-hot rows ``(B, num_classes)``.
            training: Overrides the module's mode (``.train()`` / ``.eval()``).
        """
        owner = type(self).__name__
        check_images(owner, x, self.layout)
        labels = check_labels(owner, labels, self.num_classes, x.shape[0])
        training = self.is_training(training)
        h = self.features(to_nhwc(x, self.layout), training)
        return self.head(h, labels, training=training)

    def __call__(self, x: jax.Array, labels: jax.Array, training: bool | None = None) -> jax.Array:
        """Scores ``(B,)``: probabilities or logits as ``score_type`` says."""
        logits = self.logits(x, labels, training)
        return jax.nn.sigmoid(logits) if self.score_type == "probabilities" else logits
