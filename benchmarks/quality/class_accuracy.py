"""Conditional correctness of a class-conditional GAN on the bundled digits.

For each class ``c`` the generator makes ``per_class`` samples asked to be ``c``; the
bundled digits classifier (``digits_classifier()``, artifex-metrics) labels them; the
accuracy of class ``c`` is the fraction labelled ``c``. The issue's target is >= 95 % per
class.

Usage::

    artifex-train train --preset biggan --out runs/biggan
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

from artifex.generative_models.core.configuration import ExperimentConfig


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    measure = commands.add_parser("measure", help="class accuracy of a run's EMA generator")
    measure.add_argument("run", type=Path)
    measure.add_argument("--per-class", type=int, default=100)
    measure.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
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
