"""Fully connected generator and discriminator (the user guide's ``Generator`` / ``Discriminator``).

Both build from a config (user guide) or from keywords (API reference)::

    Generator(config=GeneratorConfig(hidden_dims=(256, 512), output_shape=(28, 28, 1),
              latent_dim=100), rngs=nnx.Rngs(params=0))
    Generator(hidden_dims=[256, 512], output_shape=(1, 1, 28, 28), latent_dim=100,
              rngs=nnx.Rngs(params=0))

Samples keep the declared shape exactly — ``(28, 28, 1)`` gives ``(B, 28, 28, 1)``, the
API reference's ``(1, 1, 28, 28)`` (a batch of one) gives ``(B, 1, 28, 28)`` — because an
MLP works on the flattened sample and needs no layout change.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration import (
    DiscriminatorConfig,
    GeneratorConfig,
    family_defaults,
)
from artifex.generative_models.nets._base import (
    Network,
    activation_fn,
    build_config,
    check_batch,
    with_stream,
)
from artifex.generative_models.nets._precision import layer_dtypes
from artifex.generative_models.nets.layers import SpectralNorm

__all__ = ["DenseBlock", "Discriminator", "Generator"]


class DenseBlock(nnx.Module):
    """Dense layer, then optional batch norm, the activation and optional dropout.

    Attributes:
        dense: The linear layer (wrapped in :class:`SpectralNorm` when asked).
        norm: ``nnx.BatchNorm`` or None.
        dropout: ``nnx.Dropout`` or None.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        activation: str,
        leaky_relu_slope: float,
        batch_norm: bool,
        dropout_rate: float,
        spectral_norm: bool,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
        dropout_rngs: nnx.Rngs | None = None,
    ):
        precision = {"dtype": dtype, "param_dtype": param_dtype}
        dense = nnx.Linear(in_features, out_features, rngs=rngs, **precision)
        self.dense: nnx.Module = SpectralNorm(dense, rngs=rngs) if spectral_norm else dense
        self.norm = nnx.data(
            # Flax keeps BatchNorm's running statistics in float32 whatever the dtypes.
            nnx.BatchNorm(out_features, momentum=0.9, rngs=rngs, **precision)
            if batch_norm
            else None
        )
        self.dropout = nnx.data(
            nnx.Dropout(dropout_rate, rngs=dropout_rngs or with_stream(rngs, "dropout"))
            if dropout_rate > 0
            else None
        )
        self.activation_name = activation
        self.leaky_relu_slope = leaky_relu_slope

    def __call__(self, x: jax.Array, *, training: bool) -> jax.Array:
        """Apply the block in the given mode."""
        x = (
            self.dense(x, training=training)
            if isinstance(self.dense, SpectralNorm)
            else self.dense(x)
        )
        if self.norm is not None:
            x = self.norm(x, use_running_average=not training)
        x = activation_fn(self.activation_name, self.leaky_relu_slope)(x)
        if self.dropout is not None:
            x = self.dropout(x, deterministic=not training)
        return x


def _dense_stack(in_features: int, config: Any, *, rngs: nnx.Rngs) -> nnx.List:
    widths = (in_features, *config.hidden_dims)
    # One dropout stream for the whole stack: each layer forks its own keys from it.
    dropout_rngs = with_stream(rngs, "dropout")
    return nnx.List(
        [
            DenseBlock(
                widths[i],
                widths[i + 1],
                activation=config.activation,
                leaky_relu_slope=config.leaky_relu_slope,
                batch_norm=config.batch_norm,
                dropout_rate=config.dropout_rate,
                spectral_norm=config.use_spectral_norm,
                rngs=rngs,
                dropout_rngs=dropout_rngs,
                **layer_dtypes(config),
            )
            for i in range(len(config.hidden_dims))
        ]
    )


class Generator(Network):
    """MLP generator: a latent vector in, one sample of ``config.output_shape`` out.

    Args:
        config: A :class:`GeneratorConfig`; or None and the config's fields as keywords.
        rngs: ``params`` initialises the weights; ``dropout`` (derived from ``params``
            when absent) drives dropout when ``dropout_rate > 0``.
        **options: Config fields (keyword style) or changes to ``config``.

    Example:
        >>> gen = Generator(hidden_dims=(32,), output_shape=(4, 4, 1), latent_dim=8,
        ...                 rngs=nnx.Rngs(params=0))
        >>> gen(jnp.zeros((2, 8)), training=False).shape
        (2, 4, 4, 1)
    """

    config: GeneratorConfig

    def __init__(self, config: GeneratorConfig | None = None, *, rngs: nnx.Rngs, **options: Any):
        super().__init__(
            build_config(
                GeneratorConfig,
                config,
                options,
                owner="Generator",
                keyword_defaults=family_defaults("gan").generator_defaults,
            )
        )
        cfg = self.config
        self.latent_dim = cfg.latent_dim
        self.output_shape = cfg.output_shape
        self.blocks = _dense_stack(cfg.latent_dim, cfg, rngs=rngs)
        self.output_layer = nnx.Linear(
            cfg.hidden_dims[-1], math.prod(cfg.output_shape), rngs=rngs, **layer_dtypes(cfg)
        )

    def __call__(self, z: jax.Array, training: bool | None = None) -> jax.Array:
        """Generate a batch of samples from latent vectors ``z`` of shape ``(B, latent_dim)``."""
        check_batch("z", z, (self.latent_dim,), "Generator")
        training = self.is_training(training)
        x = z
        for block in self.blocks:
            x = block(x, training=training)
        x = activation_fn(self.config.output_activation)(self.output_layer(x))
        return x.reshape(x.shape[0], *self.output_shape)


class Discriminator(Network):
    """MLP discriminator: one sample in, one score ``(B, 1)`` out.

    The score is a probability in [0, 1] or a logit, as ``config.score_type`` says (alone,
    ``"auto"`` means probabilities, as the API reference shows); :meth:`logits` always gives
    the logits, which is what stable losses use.

    Without ``input_shape`` (the API reference builds ``Discriminator(hidden_dims=...)``),
    the layers are made by :meth:`initialize_layers` or on the first eager call.

    Args:
        config: A :class:`DiscriminatorConfig`; or None and the config's fields as keywords.
        rngs: ``params`` initialises the weights; ``dropout`` (derived from ``params`` when
            absent) drives dropout.
        **options: Config fields (keyword style) or changes to ``config``.
    """

    config: DiscriminatorConfig

    def __init__(
        self, config: DiscriminatorConfig | None = None, *, rngs: nnx.Rngs, **options: Any
    ):
        super().__init__(
            build_config(
                DiscriminatorConfig,
                config,
                options,
                owner="Discriminator",
                keyword_defaults=family_defaults("gan").discriminator_defaults,
            )
        )
        self.score_type = self.config.resolved_score_type()
        # Declared as data up front: they may be filled in later (lazy construction).
        self.blocks: nnx.List | None = nnx.data(None)
        self.output_layer: nnx.Linear | None = nnx.data(None)
        self.input_shape: tuple[int, ...] | None = None
        # Kept only until the layers exist (lazy construction without input_shape).
        self._rngs: nnx.Rngs | None = nnx.data(rngs)
        if self.config.input_shape is not None:
            self.initialize_layers(self.config.input_shape)

    def initialize_layers(self, input_shape: tuple[int, ...], rngs: nnx.Rngs | None = None) -> None:
        """Create the layers for samples of ``input_shape`` (with or without a batch axis 1).

        Raises:
            ValueError: The layers already exist for another shape.
        """
        shape = tuple(input_shape)
        if len(shape) == 4 and shape[0] == 1:
            shape = shape[1:]  # the API reference writes (batch, C, H, W)
        self._build(shape, rngs)

    def _build(self, shape: tuple[int, ...], rngs: nnx.Rngs | None) -> None:
        if self.input_shape is not None:
            if shape != self.input_shape:
                raise ValueError(
                    f"Discriminator layers exist for samples of shape {self.input_shape}; "
                    f"cannot re-initialize them for {shape}"
                )
            return
        rngs = rngs if rngs is not None else self._rngs
        if rngs is None:
            raise ValueError("Discriminator.initialize_layers needs rngs")
        cfg = self.config
        self.input_shape = shape
        self.blocks = _dense_stack(math.prod(shape), cfg, rngs=rngs)
        self.output_layer = nnx.Linear(cfg.hidden_dims[-1], 1, rngs=rngs, **layer_dtypes(cfg))
        self._rngs = nnx.data(None)

    def logits(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        """The discriminator's logits for a batch ``x``, shape ``(B, 1)``."""
        if self.input_shape is None:
            # Layers cannot be created while tracing: the shape must be known eagerly.
            if isinstance(x, jax.core.Tracer):
                raise ValueError(
                    "Discriminator has no input_shape and no layers yet: give input_shape, "
                    "call initialize_layers(shape), or call it once outside jit"
                )
            self._build(tuple(x.shape[1:]), None)
        assert self.blocks is not None and self.output_layer is not None
        assert self.input_shape is not None
        check_batch("x", x, self.input_shape, "Discriminator")
        training = self.is_training(training)
        h = x.reshape(x.shape[0], -1)
        for block in self.blocks:
            h = block(h, training=training)
        return self.output_layer(h)

    def __call__(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        """Scores of a batch ``x``: probabilities or logits per ``score_type``, ``(B, 1)``."""
        logits = self.logits(x, training)
        return jax.nn.sigmoid(logits) if self.score_type == "probabilities" else logits
