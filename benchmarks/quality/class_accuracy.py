"""Conditional correctness of a class-conditional GAN on the bundled digits.

For each class ``c`` the generator makes ``per_class`` samples asked to be ``c``; the
bundled digits classifier (``digits_classifier()``, artifex-metrics) labels them; the
accuracy of class ``c`` is the fraction labelled ``c``. The issue's target is >= 95 % per
class.

Usage::

    # the BigGAN-style experiment on the digits, as YAML for `artifex-train train --config`
    python benchmarks/quality/class_accuracy.py write-config biggan.yaml
    artifex-train train --config biggan.yaml --out runs/biggan
    # accuracy of the run's EMA generator (latest checkpoint), printed and written as
    # class_accuracy.json in the run folder
    python benchmarks/quality/class_accuracy.py measure runs/biggan --per-class 100
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    ConditionalParams,
    DataConfig,
    EMAConfig,
    ExperimentConfig,
    LoggingConfig,
    TrainingConfig,
    ttur,
)
from artifex.generative_models.core.configuration.biggan_configs import (
    BigGANConfig,
    BigGANDiscriminatorConfig,
    BigGANGeneratorConfig,
)


def class_accuracy(
    generator: Any,
    latent_dim: int,
    *,
    num_classes: int = 10,
    per_class: int = 100,
    seed: int = 0,
    data_format: str = "NHWC",
) -> dict[str, Any]:
    """The digits classifier's accuracy on ``per_class`` samples of each requested class.

    Args:
        generator: ``generator(z, labels, training=False)`` -> digits in ``[-1, 1]``.
        latent_dim: Size of ``z``.
        num_classes: Classes asked for: ``0 .. num_classes - 1``.
        per_class: Samples per class.
        seed: Seed of the latents.
        data_format: ``"NHWC"`` or ``"NCHW"``: the layout the generator returns.

    Returns:
        ``{"per_class": [accuracy of class 0, ...], "mean": ..., "min": ...,
        "samples_per_class": per_class}``; accuracies in [0, 1].
    """
    from artifex.generative_models.core.evaluation.metrics import digits_classifier

    classify = digits_classifier()
    labels = jnp.repeat(jnp.arange(num_classes), per_class)
    z = jax.random.normal(jax.random.key(seed), (labels.shape[0], latent_dim))
    images = generator(z, labels, training=False)
    if data_format == "NCHW":
        images = jnp.transpose(images, (0, 2, 3, 1))
    predicted = np.asarray(jnp.argmax(classify(images), axis=-1))
    correct = (predicted == np.asarray(labels)).reshape(num_classes, per_class)
    accuracy = correct.mean(axis=1)
    return {
        "per_class": [float(a) for a in accuracy],
        "mean": float(accuracy.mean()),
        "min": float(accuracy.min()),
        "samples_per_class": per_class,
    }


def ema_generator_of(run: Path) -> tuple[Any, ExperimentConfig]:
    """The EMA generator of a run folder's latest checkpoint, and the run's config."""
    from artifex.generative_models.training.cli import read_config
    from artifex.generative_models.training.run import build_model
    from artifex.generative_models.training.trainer import Trainer

    experiment = read_config(run / "config.yaml")
    trainer = Trainer(build_model(experiment), None, experiment, workdir=run, progress=False)
    trainer.restore()
    return trainer.ema_generator(), experiment


def biggan_digits(steps: int = 5000) -> ExperimentConfig:
    """The BigGAN-style experiment on the bundled 8x8 digits (the ``biggan`` preset).

    Spectral norm in both networks, conditional batch norm from a shared 16-d class
    embedding with the hierarchical latent (30 = 3 chunks of 10), self-attention on the
    4x4 maps of both networks, a projection discriminator, the hinge loss, orthogonal
    regularization 1e-4 and the two-timescale Adam of SAGAN (beta1 0, beta2 0.9).
    """
    shape: dict[str, Any] = {"data_format": "NHWC"}
    model = BigGANConfig(
        name="biggan-digits",
        generator=BigGANGeneratorConfig(
            hidden_dims=(64, 32),
            latent_dim=30,
            output_shape=(8, 8, 1),
            conditional=ConditionalParams(num_classes=10, embedding_dim=16),
            hierarchical_latent=True,
            self_attention_at=4,
            **shape,
        ),
        discriminator=BigGANDiscriminatorConfig(
            hidden_dims=(32, 64),
            input_shape=(8, 8, 1),
            conditional=ConditionalParams(num_classes=10, embedding_dim=64),
            self_attention_at=4,
            **shape,
        ),
        orthogonal_weight=1e-4,
    )
    generator_optimizer, discriminator_optimizer = ttur(2e-4, 4e-4, beta1=0.0, beta2=0.9)
    training = TrainingConfig(
        steps=steps,
        seed=0,
        steps_per_dispatch=10,
        generator_optimizer=generator_optimizer,
        discriminator_optimizer=discriminator_optimizer,
        ema=EMAConfig(decay=0.99),
        data=DataConfig(source="digits", batch_size=64, channels=1, image_size=8, use_labels=True),
        logging=LoggingConfig(log_every=100, sample_every=500, num_samples=64),
        checkpoint=CheckpointConfig(every_n_steps=500, keep_last=2),
    )
    return ExperimentConfig(model=model, training=training)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write-config", help="write the biggan experiment as YAML")
    write.add_argument("path", type=Path)
    write.add_argument("--steps", type=int, default=5000)
    measure = commands.add_parser("measure", help="class accuracy of a run's EMA generator")
    measure.add_argument("run", type=Path)
    measure.add_argument("--per-class", type=int, default=100)
    measure.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "write-config":
        args.path.write_text(biggan_digits(args.steps).to_yaml())
        return 0
    generator, experiment = ema_generator_of(args.run)
    model = experiment.model
    layout = model.data_layout
    result = class_accuracy(
        generator,
        model.latent_dim,
        num_classes=model.num_classes,
        per_class=args.per_class,
        seed=args.seed,
        data_format=layout.data_format if layout is not None else "NHWC",
    )
    (args.run / "class_accuracy.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
