"""FID and KID of a training run: its reference, how generated images are viewed, when.

The periodic evaluation is what ``TrainingConfig.evaluation`` asks for.

Two references are known:

* ``"digits"``: the bundled held-out digits (``load_digits("test")``), scored with the
  bundled digits classifier's 64-d features; generated images are pooled to 8x8 and their
  first channel kept, as the digits are.
* a statistics file (``artifex-metrics stats``, pytorch-fid or clean-fid ``.npz``) under
  the FID InceptionV3 (weights converted into the cache once). Generated float images go
  to the network's own bilinear resize (pytorch-fid's ``legacy_pytorch`` mode), so a file
  made in another mode is refused. KID is measured against the file's sample of
  features (``kid_features``, kept by ``artifex-metrics stats`` by default).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np

from artifex.generative_models.core.configuration import EvaluationConfig
from artifex.generative_models.training.callbacks._evaluation import Evaluation, View
from artifex.generative_models.training.checkpoints import CheckpointStore

if TYPE_CHECKING:
    from artifex.generative_models.core.evaluation.metrics import FeatureStatistics
    from artifex.generative_models.training.trainer import Trainer

__all__ = [
    "Reference",
    "data_format_of",
    "digits_view",
    "evaluation_for",
    "evaluation_from_config",
    "inception_view",
    "reference_for",
]

DIGITS_SIZE = 8
# The name `artifex-metrics stats` records for the FID InceptionV3.
INCEPTION_EXTRACTOR = "inception-v3-fid"


def _nhwc(images: jax.Array, data_format: str) -> jax.Array:
    return jnp.transpose(images, (0, 2, 3, 1)) if data_format == "NCHW" else images


def digits_view(data_format: str) -> View:
    """Generated images -> 8x8 one-channel NHWC images, as the bundled digits are.

    Images whose size is a multiple of 8 (digits upscaled for a model) are block-averaged
    back, exactly undoing pixel replication; any other size is resized to 8x8 with an
    antialiased linear filter (``jax.image.resize``), so every size a model makes is scored.
    """

    def view(images: jax.Array) -> jax.Array:
        images = _nhwc(images, data_format).astype(jnp.float32)
        count, height, width, channels = images.shape
        if height % DIGITS_SIZE or width % DIGITS_SIZE:
            shape = (count, DIGITS_SIZE, DIGITS_SIZE, channels)
            resized = jax.image.resize(images, shape, method="linear", antialias=True)
            return resized[..., :1]
        fh, fw = height // DIGITS_SIZE, width // DIGITS_SIZE
        pooled = images.reshape(count, DIGITS_SIZE, fh, DIGITS_SIZE, fw, channels).mean((2, 4))
        return pooled[..., :1]

    return view


def inception_view(data_format: str) -> View:
    """Generated images -> NHWC RGB (grey repeated), for the InceptionV3's own resize."""

    def view(images: jax.Array) -> jax.Array:
        images = _nhwc(images, data_format).astype(jnp.float32)
        channels = images.shape[-1]
        if channels == 1:
            return jnp.repeat(images, 3, axis=-1)
        if channels != 3:
            raise ValueError(f"Inception FID needs 1 or 3 channels, got {channels}")
        return images

    return view


@dataclasses.dataclass(frozen=True)
class Reference:
    """What generated images are scored against.

    Attributes:
        extractor: ``weights`` and ``apply(weights, images) -> (B, D)``.
        statistics: The real data's feature moments (FID).
        view: Generated images -> the extractor's input.
        features: A sample of the real data's features (KID), or None.
    """

    extractor: Any
    statistics: FeatureStatistics
    view: View
    features: np.ndarray | None = None


@functools.lru_cache(maxsize=1)
def _digits_reference() -> tuple[Any, FeatureStatistics, np.ndarray]:
    from artifex.generative_models.core.evaluation.metrics import (
        FeatureStatistics,
        digits_feature_extractor,
        load_digits,
    )

    extractor = digits_feature_extractor()
    held_out = load_digits("test")[0]
    features = np.asarray(extractor(jnp.asarray(held_out, jnp.float32)), np.float64)
    return extractor, FeatureStatistics.from_features(features), features.astype(np.float32)


def reference_for(config: EvaluationConfig, data_format: str) -> Reference:
    """The :class:`Reference` of an evaluation config (features only with ``config.kid``).

    Raises:
        FileNotFoundError: The statistics file or the Inception weights are missing (the
            message says how to make them).
        ValueError: The statistics file was made in another resize mode or with another
            extractor.
    """
    if config.against == "digits":
        extractor, reference, held_out = _digits_reference()
        return Reference(
            extractor, reference, digits_view(data_format), held_out if config.kid else None
        )
    from artifex.generative_models.core.evaluation.metrics import (
        FeatureStatistics,
        inception_feature_extractor,
        load_statistics,
    )

    path = Path(config.against)
    if not path.is_file():
        raise FileNotFoundError(
            f"evaluation.against={config.against!r}: no such statistics file; make one with "
            "`artifex-metrics stats SOURCE --out stats.npz --mode legacy_pytorch`"
        )
    stats = load_statistics(path)
    reference = FeatureStatistics.from_moments(stats.mu, stats.sigma, stats.count)
    features = stats.features if config.kid else None
    if config.kid and features is None:
        warnings.warn(
            f"{path} keeps no sample of features, so the evaluation measures FID without "
            "KID; remake it with `artifex-metrics stats SOURCE --out FILE --kid-features "
            "2000` (or set evaluation.kid=false to silence this)",
            stacklevel=2,
        )
    if config.extractor == "digits":
        # A file of the digits classifier's features (FeatureStatistics.save of them).
        extractor, _, _ = _digits_reference()
        if stats.extractor not in (None, "digits"):
            raise ValueError(
                f"{path} holds statistics of extractor {stats.extractor!r}; "
                "evaluation.extractor='digits' compares the digits classifier's features"
            )
        return Reference(extractor, reference, digits_view(data_format), features)
    if stats.mode not in (None, "legacy_pytorch"):
        raise ValueError(
            f"{path} holds statistics in mode {stats.mode!r}; the in-training FID feeds "
            "float images to InceptionV3's bilinear resize (mode 'legacy_pytorch'): make "
            "the statistics with --mode legacy_pytorch"
        )
    if stats.extractor not in (None, INCEPTION_EXTRACTOR):
        raise ValueError(
            f"{path} holds statistics of extractor {stats.extractor!r}; "
            "evaluation.extractor='inception' compares InceptionV3 features"
        )
    return Reference(
        inception_feature_extractor(), reference, inception_view(data_format), features
    )


def evaluation_for(
    config: EvaluationConfig, data_format: str, *, best_store: CheckpointStore | None = None
) -> Evaluation:
    """The :class:`Evaluation` of ``config`` for images in ``data_format``.

    Its :meth:`Evaluation.evaluate` scores a trainer's EMA generator now (the end of a run,
    ``artifex-train evaluate``); installed as a callback it scores every ``config.every``.
    """
    reference = reference_for(config, data_format)
    return Evaluation(
        reference=reference.statistics,
        extractor=reference.extractor,
        view=reference.view,
        reference_features=reference.features,
        kid_subsets=config.kid_subsets,
        kid_subset_size=config.kid_subset_size,
        every=config.every,
        samples=config.samples,
        batch_size=config.batch_size,
        seed=config.seed,
        best_store=best_store,
    )


def data_format_of(trainer: Trainer) -> str:
    """The layout of the images the trainer's model makes."""
    layout = trainer.experiment.model.data_layout
    return layout.data_format if layout is not None else "NHWC"


def evaluation_from_config(trainer: Trainer) -> Evaluation | None:
    """The :class:`Evaluation` callback the trainer's config asks for, or None."""
    config = trainer.config.evaluation
    if not config.every:
        return None
    best = CheckpointStore(trainer.workdir / "best", keep_last=1) if config.keep_best else None
    return evaluation_for(config, data_format_of(trainer), best_store=best)
