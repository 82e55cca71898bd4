"""Class-conditional generator and discriminator (Mirza and Osindero, 2014).

Labels come in either of the two forms the documents use: integer class indices ``(B,)``
(advanced examples) or one-hot rows ``(B, num_classes)`` (user guide, API reference). Both
go through one embedding table of ``embedding_dim`` features — indices look rows up,
one-hot rows multiply the table — so the two forms give the same result.

* The generator concatenates the label embedding to ``z`` before the projection.
* The discriminator maps the embedding (dense) to one ``H × W`` plane and concatenates it
  to the image as an extra input channel, as the advanced examples do.

References:
    Mirza, Osindero. "Conditional Generative Adversarial Nets", 2014.
    https://arxiv.org/abs/1411.1784
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from flax.nnx.nn.dtypes import promote_dtype

from artifex.generative_models.core.configuration import (
    ConditionalDiscriminatorConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
)
from artifex.generative_models.nets._base import check_batch, to_nhwc
from artifex.generative_models.nets._precision import layer_dtypes
from artifex.generative_models.nets.conv import ConvDiscriminator, ConvGenerator, check_images

__all__ = [
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "LabelEmbedding",
    "check_labels",
]


def check_labels(owner: str, labels: Any, num_classes: int, batch: int) -> jax.Array:
    """Refuse labels that are neither ``(batch,)`` class indices nor ``(batch, num_classes)``.

    Concrete integer labels (not traced) are also checked to lie in ``[0, num_classes)``.

    Returns:
        ``labels`` as an array.

    Raises:
        ValueError: Wrong rank, batch, number of classes, dtype, or an index out of range.
    """
    if not isinstance(labels, jax.Array | np.ndarray):
        labels = np.asarray(labels)
    shape = tuple(labels.shape)
    forms = (
        f"integer class indices of shape ({batch},) or one-hot rows of shape "
        f"({batch}, {num_classes})"
    )
    if len(shape) not in (1, 2):
        raise ValueError(f"{owner} expects labels as {forms}, got shape {shape}")
    if shape[0] != batch:
        raise ValueError(
            f"{owner} expects labels for a batch of {batch} ({forms}), got shape {shape}"
        )
    if len(shape) == 2:
        if shape[1] != num_classes:
            raise ValueError(
                f"{owner} was built for num_classes={num_classes}: one-hot labels must have "
                f"shape ({batch}, {num_classes}), got {shape}"
            )
        return jnp.asarray(labels)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(
            f"{owner} expects labels of shape ({batch},) to be integer class indices, got "
            f"dtype {labels.dtype} (one-hot labels have shape ({batch}, {num_classes}))"
        )
    if not isinstance(labels, jax.core.Tracer) and batch > 0:
        # Concrete labels (eager calls, constants under jit) are read on the host: a
        # traced comparison could not raise.
        values = np.asarray(labels)
        low, high = int(values.min()), int(values.max())
        if low < 0 or high >= num_classes:
            raise ValueError(
                f"{owner} expects class indices in [0, {num_classes - 1}] "
                f"(num_classes={num_classes}), got values from {low} to {high}"
            )
    return jnp.asarray(labels)


class LabelEmbedding(nnx.Module):
    """One embedding table for class indices and one-hot labels.

    Indices ``(B,)`` look up rows of the table; one-hot (or soft) rows ``(B, num_classes)``
    multiply it at full precision, so a one-hot row gives exactly its class's row.
    Traced indices out of ``[0, num_classes)`` cannot be refused and give NaN rows
    (``jnp.take``'s fill mode), never another class's embedding.

    Attributes:
        embed: The ``nnx.Embed`` table, ``(num_classes, features)``.
        num_classes: Number of classes.
    """

    def __init__(
        self,
        num_classes: int,
        features: int,
        *,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs,
    ):
        self.embed = nnx.Embed(
            num_classes, features, dtype=dtype, param_dtype=param_dtype, rngs=rngs
        )
        self.num_classes = num_classes

    def __call__(self, labels: jax.Array) -> jax.Array:
        """Embed checked labels: ``(B,)`` indices or ``(B, num_classes)`` rows → ``(B, F)``."""
        # The table is stored in param_dtype and used in the compute dtype, as nnx.Embed does.
        (table,) = promote_dtype((self.embed.embedding[...],), dtype=self.embed.dtype)
        if labels.ndim == 1:
            return jnp.take(table, labels, axis=0, mode="fill", fill_value=jnp.nan)
        return jnp.matmul(labels.astype(table.dtype), table, precision=jax.lax.Precision.HIGHEST)


def _conditional_options(
    owner: str,
    config_class: type[ConditionalGeneratorConfig | ConditionalDiscriminatorConfig],
    config: Any,
    options: dict[str, Any],
) -> dict[str, Any]:
    """Fold the keywords ``num_classes`` / ``embedding_dim`` into ``conditional``."""
    options = dict(options)
    changes = {
        name: options.pop(name) for name in ("num_classes", "embedding_dim") if name in options
    }
    if changes and "conditional" in options:
        raise TypeError(
            f"{owner}() got conditional= and {', '.join(changes)}=; give the label "
            "parameters one way: conditional=ConditionalParams(...) or num_classes=..."
        )
    if isinstance(config, config_class):
        if changes:
            options["conditional"] = config.conditional.replace(**changes)
        return options
    if config is None and "conditional" not in options:
        if "num_classes" not in changes:
            raise TypeError(
                f"{owner}() needs num_classes=... (or conditional=ConditionalParams(...))"
            )
        options["conditional"] = ConditionalParams(**changes)
    return options


class ConditionalGenerator(ConvGenerator):
    """Generator conditioned on class labels: ``generator(z, labels, training=None)``.

    Keyword defaults (API reference): ``latent_dim=100``, ``hidden_dims=(512, 256, 128,
    64)``, ``activation="relu"``, ``batch_norm=True``; ``num_classes`` is required and
    ``embedding_dim`` defaults to 50 (they become ``conditional=ConditionalParams(...)``).
    The label embedding is concatenated to ``z`` before the projection; the rest is
    :class:`~artifex.generative_models.nets.conv.ConvGenerator`.

    Attributes:
        num_classes: Number of classes.
        label_embedding: The :class:`LabelEmbedding`.
    """

    family = "conditional"
    config_class = ConditionalGeneratorConfig
    config: ConditionalGeneratorConfig

    def __init__(
        self,
        config: ConditionalGeneratorConfig | None = None,
        *,
        rngs: nnx.Rngs,
        **options: Any,
    ):
        options = _conditional_options(
            type(self).__name__, ConditionalGeneratorConfig, config, options
        )
        super().__init__(config, rngs=rngs, **options)
        params = self.config.conditional
        self.num_classes = params.num_classes
        self.label_embedding = LabelEmbedding(
            params.num_classes, params.embedding_dim, rngs=rngs, **layer_dtypes(self.config)
        )

    def _condition_features(self) -> int:
        return self.config.conditional.embedding_dim

    def __call__(  # type: ignore[override]
        self, z: jax.Array, labels: jax.Array, training: bool | None = None
    ) -> jax.Array:
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
        h = jnp.concatenate([z, self.label_embedding(labels).astype(z.dtype)], axis=-1)
        return self._decode(h, self.is_training(training))


class ConditionalDiscriminator(ConvDiscriminator):
    """Discriminator conditioned on class labels: ``discriminator(x, labels)`` → ``(B,)``.

    Keyword defaults (API reference): ``hidden_dims=(64, 128, 256, 512)``,
    ``activation="leaky_relu"``, ``leaky_relu_slope=0.2``, ``batch_norm=False``,
    ``dropout_rate=0.0``; ``num_classes`` is required, ``embedding_dim`` defaults to 50.
    The label embedding is mapped (dense) to one ``H × W`` plane concatenated to the image
    as an extra channel. A call returns probabilities unless ``score_type="logits"``;
    :meth:`logits` always returns logits.

    Attributes:
        num_classes: Number of classes.
        label_embedding: The :class:`LabelEmbedding`.
        label_plane: Dense map from the embedding to the ``H × W`` plane.
    """

    family = "conditional"
    flat_scores = True
    config_class = ConditionalDiscriminatorConfig
    config: ConditionalDiscriminatorConfig

    def __init__(
        self,
        config: ConditionalDiscriminatorConfig | None = None,
        *,
        rngs: nnx.Rngs,
        **options: Any,
    ):
        options = _conditional_options(
            type(self).__name__, ConditionalDiscriminatorConfig, config, options
        )
        super().__init__(config, rngs=rngs, **options)
        params = self.config.conditional
        self.num_classes = params.num_classes
        self.label_embedding = LabelEmbedding(
            params.num_classes, params.embedding_dim, rngs=rngs, **layer_dtypes(self.config)
        )
        self.label_plane = nnx.Linear(
            params.embedding_dim,
            self.layout.height * self.layout.width,
            rngs=rngs,
            **layer_dtypes(self.config),
        )

    def _condition_channels(self) -> int:
        return 1

    def logits(  # type: ignore[override]
        self, x: jax.Array, labels: jax.Array, training: bool | None = None
    ) -> jax.Array:
        """The logits of a batch of images given their labels.

        Args:
            x: Images ``(B, *input_shape)`` in the declared layout.
            labels: Class indices ``(B,)`` or one-hot rows ``(B, num_classes)``.
            training: Overrides the module's mode (``.train()`` / ``.eval()``).

        Returns:
            Logits ``(B,)``.
        """
        owner = type(self).__name__
        check_images(owner, x, self.layout)
        labels = check_labels(owner, labels, self.num_classes, x.shape[0])
        images = to_nhwc(x, self.layout)
        plane = self.label_plane(self.label_embedding(labels)).astype(images.dtype)
        plane = plane.reshape(x.shape[0], self.layout.height, self.layout.width, 1)
        return self._score(jnp.concatenate([images, plane], axis=-1), self.is_training(training))

    def __call__(  # type: ignore[override]
        self, x: jax.Array, labels: jax.Array, training: bool | None = None
    ) -> jax.Array:
        """Scores of a batch of images given their labels, shape ``(B,)``.

        Probabilities or logits as ``score_type`` says.
        """
        return self._as_scores(self.logits(x, labels, training))
