"""``ConditionalGAN``: both networks see class labels (Mirza and Osindero, 2014).

Labels are integer class indices ``(B,)`` (seed 001) or one-hot rows ``(B, num_classes)``
(seeds 000 and 003); both give the same result.

References:
    Mirza, Osindero. "Conditional Generative Adversarial Nets", 2014.
    https://arxiv.org/abs/1411.1784
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import jax
import numpy as np
from flax import nnx

from artifex.generative_models.core.configuration import ConditionalGANConfig
from artifex.generative_models.models.gan._common import (
    IMAGE_KEYS,
    LABEL_KEYS,
    check_no_options,
    draw_key,
    extract,
    precision_scope,
    reseed_dropout,
    sample_count,
)
from artifex.generative_models.models.gan._networks import network_classes
from artifex.generative_models.models.gan._rules import Batch, LatentRules
from artifex.generative_models.models.gan.base import GAN
from artifex.generative_models.nets.conditional import check_labels

__all__ = ["ConditionalGAN", "ConditionalRules"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConditionalRules(LatentRules):
    """Class-conditional rules: real labels from the data, fake labels drawn uniformly.

    Attributes:
        num_classes: Labels lie in ``[0, num_classes)``.
    """

    num_classes: int

    batch_keys: ClassVar[tuple[str, ...]] = ("image", "label")

    def batch_shapes(self) -> Mapping[str, tuple[int, ...]]:
        """Images and one integer label per example."""
        return {"image": self.image_shape, "label": ()}

    def check_batch(self, batch: Mapping[str, np.ndarray]) -> None:
        """Shapes as :meth:`LatentRules.check_batch`; labels integers in range.

        Raises:
            ValueError: A missing entry, another example shape, or labels that are not
                integers in ``[0, num_classes)``.
        """
        super().check_batch(batch)
        labels = np.asarray(batch["label"])
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= self.num_classes:
            raise ValueError(
                f"labels must lie in [0, {self.num_classes}) for this model, got values "
                f"from {low} to {high}"
            )

    def real_context(self, real: Batch, step: jax.Array) -> tuple[Any, ...]:
        """The data's labels."""
        return (real["label"],)

    def fake_context(self, size: int, key: jax.Array, step: jax.Array) -> tuple[Any, ...]:
        """Uniformly drawn labels."""
        return (jax.random.randint(key, (size,), 0, self.num_classes),)


class ConditionalGAN(GAN):
    """A class-conditional GAN: ``generator(z, labels)`` and ``discriminator(x, labels)``.

    Args:
        config: A :class:`ConditionalGANConfig`, or a legacy ``ModelConfig`` whose
            ``gan_params`` give ``num_classes`` (seed 003).
        rngs: See :class:`GAN`.
        precision: See :class:`GAN`.

    Attributes:
        num_classes: Number of classes.
        config: See :class:`GAN`.
        generator: See :class:`GAN`.
        discriminator: See :class:`GAN`.
        latent_dim: See :class:`GAN`.
        loss_type: See :class:`GAN`.
        precision: See :class:`GAN`.
        sample_stream: See :class:`GAN`.
    """

    family = "conditional"
    config: ConditionalGANConfig

    def __init__(self, config: Any, *, rngs: nnx.Rngs, precision: Any = None):
        super().__init__(config, rngs=rngs, precision=precision)
        self.num_classes = self.config.num_classes

    rules_class = ConditionalRules

    def _network_classes(self, config: Any) -> tuple[type, type]:
        return network_classes(config, owner=type(self).__name__, conditional=True)

    def _rule_fields(self) -> dict[str, Any]:
        return {"num_classes": int(self.num_classes)}

    def random_labels(self, n_samples: int, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Uniform random class indices ``(n_samples,)`` (same streams as the latents)."""
        owner = f"{type(self).__name__}.random_labels"
        n = sample_count(n_samples, None, owner=owner)
        key = draw_key(rngs, self.sample_stream, owner=owner)
        return jax.random.randint(key, (n,), 0, self.num_classes)

    def _labels(self, labels: Any, n: int, owner: str) -> jax.Array:
        return check_labels(owner, labels, self.num_classes, n)

    def __call__(  # type: ignore[override]
        self,
        x: Any,
        labels: Any = None,
        rngs: nnx.Rngs | None = None,
        training: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Score real data and its labels with the discriminator.

        Args:
            x: Real images, or a batch dict holding images (``"images"``, ``"image"``,
                ``"x"``, ``"data"``) and labels (``"labels"``, ``"label"``, ``"y"``).
            labels: Class indices ``(B,)`` or one-hot rows; required unless ``x`` holds
                them.
            rngs: Optional; its ``dropout`` stream reseeds the discriminator's dropout.
            training: Run the discriminator in training mode.
            **kwargs: None are taken; an unknown keyword raises ``TypeError``.

        Returns:
            ``{"real_scores": D(x, labels), "fake_scores": None, "fake_samples": None}``.
        """
        owner = f"{type(self).__name__}.__call__"
        check_no_options(kwargs, owner=owner, known="x, labels, rngs, training")
        real, real_labels = self._split_batch(x, labels, owner)
        with precision_scope(self._matmul_precision):
            reseed_dropout(self.discriminator, rngs)
            scores = self.discriminator(real, real_labels, training=training)
        return {"real_scores": scores, "fake_scores": None, "fake_samples": None}

    def _split_batch(self, batch: Any, labels: Any, owner: str) -> tuple[jax.Array, jax.Array]:
        if isinstance(batch, tuple | list) and len(batch) == 2 and labels is None:
            batch, labels = batch
        if isinstance(batch, Mapping) and labels is None:
            labels = extract(batch, LABEL_KEYS, owner=owner, what="labels")
        if labels is None:
            raise ValueError(
                f"{owner}: a conditional GAN needs the labels of the real data: pass "
                "labels=..., a (images, labels) pair or a dict with a 'labels' key"
            )
        real = self._real(extract(batch, IMAGE_KEYS, owner=owner, what="real data"), owner)
        return real, self._labels(labels, real.shape[0], owner)

    def generate(  # type: ignore[override]
        self,
        n_samples: int | None = None,
        labels: Any = None,
        rngs: nnx.Rngs | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> jax.Array:
        """Generate samples of given (or random) classes.

        Args:
            n_samples: Number of samples; defaults to the number of labels, else 1.
            labels: Class indices ``(n,)`` or one-hot rows ``(n, num_classes)``; None
                draws uniform random classes.
            rngs: Source of latents (and random labels): ``sample`` stream, else
                ``default``, else ``params``; None uses the model's own stream.
            batch_size: Alternative to ``n_samples`` (wins when given).
            **kwargs: ``training`` (default False: eval mode).

        Returns:
            Samples ``(n, *sample_shape)``.

        Raises:
            ValueError: Labels of the wrong shape, dtype or number, or out of range.
        """
        owner = f"{type(self).__name__}.generate"
        training = kwargs.pop("training", False)
        check_no_options(kwargs, owner=owner, known="n_samples, labels, rngs, batch_size, training")
        if n_samples is None and batch_size is None:
            n_samples = 1 if labels is None else len(labels)
        n = sample_count(n_samples, batch_size, owner=owner)
        if labels is not None:
            labels = self._labels(labels, n, owner)
        with precision_scope(self._matmul_precision):
            z = self.sample_latent(n, rngs)
            if labels is None:
                labels = self.random_labels(n, rngs)
            return self.generator(z, labels, training=training)

    def loss_fn(
        self,
        batch: Any,
        model_outputs: Any = None,
        rngs: nnx.Rngs | None = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The adversarial losses on labelled real data and generated samples.

        The generated samples get uniform random labels; the discriminator sees every
        sample with its label. Otherwise as :meth:`GAN.loss_fn`.

        Args:
            batch: A dict with images and labels (see :meth:`__call__`), or an
                ``(images, labels)`` pair.
            model_outputs: Unused.
            rngs: See :meth:`GAN.loss_fn`.
            **kwargs: ``training`` (None: each network's mode); ``labels`` for an array
                ``batch``.

        Returns:
            ``loss``, ``generator_loss``, ``discriminator_loss``, ``real_scores_mean``,
            ``fake_scores_mean``.
        """
        owner = f"{type(self).__name__}.loss_fn"
        training = kwargs.pop("training", None)
        labels = kwargs.pop("labels", None)
        check_no_options(kwargs, owner=owner, known="batch, model_outputs, rngs, training, labels")
        real, real_labels = self._split_batch(batch, labels, owner)
        with precision_scope(self._matmul_precision):
            reseed_dropout(self, rngs)
            n = real.shape[0]
            z = self.sample_latent(n, rngs)
            fake_labels = self.random_labels(n, rngs)
            fake = self.generator(z, fake_labels, training=training)
            return self._objective(
                real, fake, (real_labels,), (fake_labels,), training=training, rngs=rngs
            )
