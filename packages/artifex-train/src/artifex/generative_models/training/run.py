"""The main job: an experiment config in; a trained model, samples, plots and scores out.

:func:`run_experiment` builds the model and the data the config describes, refuses data
that does not fit the model before compiling anything, trains with the :class:`Trainer`
(resuming from the run folder's latest checkpoint), and writes into the run folder:

* ``samples/step_NNNNNN.png`` — sample grids from the EMA generator, every
  ``logging.sample_every`` iterations, and ``samples/final.png``;
* ``loss_curves.png`` — the losses logged during training;
* ``metrics.jsonl`` — one line per logged iteration;
* ``scores.json`` — for the bundled digits, FID against the held-out digits with the
  metrics package's digits feature extractor, beside the floor of real against real;
* ``config.yaml`` — the experiment as run; ``checkpoints/`` — to resume.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from artifex.generative_models.core.configuration import (
    ConditionalGANConfig,
    DCGANConfig,
    ExperimentConfig,
    LSGANConfig,
    WGANConfig,
)
from artifex.generative_models.models.gan import DCGAN, GAN, LSGAN, WGAN, ConditionalGAN
from artifex.generative_models.training.artifacts import save_image_grid, save_loss_curves
from artifex.generative_models.training.data import (
    make_pipeline,
    source_from_config,
    validate_source,
)
from artifex.generative_models.training.trainer import Trainer

__all__ = ["build_model", "run_experiment"]

_MODELS: list[tuple[type, type]] = [
    (ConditionalGANConfig, ConditionalGAN),
    (WGANConfig, WGAN),
    (LSGANConfig, LSGAN),
    (DCGANConfig, DCGAN),
]


def build_model(experiment: ExperimentConfig) -> Any:
    """The GAN model of the experiment's model config, initialised from its seed."""
    model_class = next(
        (model for config, model in _MODELS if isinstance(experiment.model, config)), GAN
    )
    return model_class(experiment.model, rngs=nnx.Rngs(params=experiment.training.seed))


def _to_nhwc(images: jax.Array, data_format: str) -> np.ndarray:
    array = np.asarray(images, dtype=np.float32)
    return np.transpose(array, (0, 2, 3, 1)) if data_format == "NCHW" else array


def run_experiment(experiment: ExperimentConfig, out: str | Path) -> dict[str, Any]:
    """Train ``experiment`` in the run folder ``out``; return the scores written.

    Running it again with the same folder resumes from the latest checkpoint.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(experiment.to_yaml(include_type=True))
    training = experiment.training
    model = build_model(experiment)
    layout = experiment.model.data_layout
    data_format = layout.data_format if layout is not None else "NHWC"
    num_classes = getattr(experiment.model, "num_classes", None)

    source = source_from_config(training.data, model_layout=data_format)
    # Refuse data that does not fit before anything is compiled.
    validate_source(source, model.sample_shape, num_classes=num_classes)
    batches = make_pipeline(
        source,
        batch_size=training.data.batch_size,
        seed=training.seed,
        shard_index=jax.process_index(),
        shard_count=jax.process_count(),
    )
    trainer = Trainer(model, batches, experiment, workdir=out)
    latent = jax.random.normal(
        jax.random.key(training.seed + 1), (training.logging.num_samples, model.latent_dim)
    )
    labels = jnp.arange(training.logging.num_samples) % num_classes if num_classes else None

    def write_samples(step: int, name: str | None = None) -> None:
        generator = trainer.ema_generator()
        images = (
            generator(latent, training=False)
            if labels is None
            else generator(latent, labels, training=False)
        )
        save_image_grid(
            _to_nhwc(images, data_format), out / "samples" / (name or f"step_{step:06d}.png")
        )

    trainer.on_sample = write_samples
    history = trainer.fit()
    write_samples(trainer.step, "final.png")
    save_loss_curves(history, out / "loss_curves.png")
    scores: dict[str, Any] = {"steps": trainer.step, "final": history[-1] if history else {}}
    if training.data.source == "digits":
        scores.update(_digits_scores(trainer, data_format, labels_count=num_classes))
    (out / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
    return scores


def _digits_scores(trainer: Trainer, data_format: str, labels_count: int | None) -> dict[str, Any]:
    """FID of generated digits against the held-out digits, and the real-vs-real floor."""
    from artifex.generative_models.core.evaluation.metrics import (
        FrechetInceptionDistance,
        digits_feature_extractor,
        load_digits,
    )

    held_out = load_digits("test")[0]  # (images, labels): the images
    generator = trainer.ema_generator()
    count = 1000
    z = jax.random.normal(jax.random.key(12345), (count, trainer.model.latent_dim))
    if labels_count:
        fake = generator(z, jnp.arange(count) % labels_count, training=False)
    else:
        fake = generator(z, training=False)
    fake = _to_nhwc(fake, data_format)
    if fake.shape[1:3] != (8, 8):  # digits upscaled for the model: pool back to 8x8
        factor = fake.shape[1] // 8
        fake = fake.reshape(count, 8, factor, 8, factor, fake.shape[-1]).mean(axis=(2, 4))
    fake = fake[..., :1]
    fid = FrechetInceptionDistance(feature_extractor=digits_feature_extractor())
    floor = fid.compute(load_digits("train")[0], held_out)["fid"]
    return {
        "fid_digits": float(fid.compute(held_out, fake)["fid"]),
        "fid_digits_floor_real_vs_real": float(floor),
        "fid_samples": count,
    }
