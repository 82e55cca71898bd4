"""The main job: an experiment config in; a trained model, samples, plots and scores out.

:func:`run_experiment` builds the model and the data the config describes, refuses data
that does not fit the model before compiling anything, trains with the :class:`Trainer`
(resuming from the run folder's latest checkpoint), and writes into the run folder:

* ``samples/step_NNNNNN.png`` — sample grids from the EMA generator, every
  ``logging.sample_every`` iterations, and ``samples/final.png`` (for CycleGAN: rows of
  domain A, ``G(A)``, domain B, ``F(B)``);
* ``loss_curves.png`` — the losses logged during training;
* ``metrics.jsonl`` — one line per logged iteration;
* ``scores.json`` — for the bundled digits, FID against the held-out digits with the
  metrics package's digits feature extractor, beside the floor of real against real
  (for CycleGAN: of ``F(B)``, and the error of ``G`` against the known transform);
* ``config.yaml`` — the experiment as started (never rewritten by a resume);
  ``config-history.jsonl`` — each start and resume, with the config changes it made;
  ``checkpoints/`` — to resume; ``.lock`` — held by the run in progress.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from artifex.generative_models.core.configuration import EvaluationConfig, ExperimentConfig
from artifex.generative_models.models.gan import build_model as build_family_model
from artifex.generative_models.training._runfolder import RunFolder
from artifex.generative_models.training.artifacts import save_loss_curves
from artifex.generative_models.training.callbacks import Evaluation, SampleGrids
from artifex.generative_models.training.data import (
    TransformedSource,
    pipeline_from_config,
    source_from_config,
    validate_source,
)
from artifex.generative_models.training.evaluation import data_format_of, evaluation_for
from artifex.generative_models.training.trainer import Trainer, rules_of
from artifex.generative_models.training.writers._jsonl import read_rows

__all__ = ["build_model", "run_experiment", "validate_data"]


def with_precision(experiment: ExperimentConfig) -> ExperimentConfig:
    """``experiment`` with its networks built for the training's compute dtype."""
    dtype = experiment.training.precision.compute_dtype
    return experiment.replace(model=experiment.model.with_compute_dtype(dtype))


def build_model(experiment: ExperimentConfig) -> Any:
    """The GAN model of the experiment's model config, initialised from its seed.

    Its networks compute in the training's precision (``training.precision``).
    """
    return build_family_model(with_precision(experiment).model, seed=experiment.training.seed)


def _translates(rules: Any) -> bool:
    """Whether the rules train an image-to-image translation (two domains per batch)."""
    return "image_a" in rules.batch_shapes()


def validate_data(model: Any, source: Any, experiment: ExperimentConfig | None = None) -> None:
    """Refuse a source ``model`` cannot train on (see :func:`validate_source`)."""
    rules = model.training_rules() if experiment is None else rules_of(model, experiment)
    shapes = rules.batch_shapes()
    if _translates(rules):
        validate_source(source, shapes["image_a"], expected_shape_b=shapes["image_b"])
    else:
        validate_source(source, shapes["image"], num_classes=getattr(rules, "num_classes", None))


def _to_nhwc(images: jax.Array, data_format: str) -> np.ndarray:
    array = np.asarray(images, dtype=np.float32)
    return np.transpose(array, (0, 2, 3, 1)) if data_format == "NCHW" else array


def run_experiment(
    experiment: ExperimentConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    allow_config_change: Sequence[str] = (),
) -> dict[str, Any]:
    """Train ``experiment`` in the run folder ``out``; return the scores written.

    Running it again with the same folder resumes from the latest checkpoint, with the
    config the folder was started with (see :class:`~._runfolder.RunFolder`): the folder
    is locked for the run, and a config that changes what the checkpoints hold or the
    data they continue with is refused before anything is written.

    Args:
        experiment: What to train.
        out: The run folder.
        overwrite: Start over in a folder with checkpoints when
            ``training.checkpoint.resume`` is false (the old files are moved aside).
        allow_config_change: Fields that may change on resume although they are refused
            by default (dotted names; a prefix covers the fields under it).

    Raises:
        RunFolderError: The folder is in use, or cannot be resumed or started as asked.
    """
    experiment = with_precision(experiment)
    with RunFolder.open(
        out,
        experiment,
        overwrite=overwrite,
        allow_config_change=allow_config_change,
        process_index=jax.process_index(),
        process_count=jax.process_count(),
    ) as folder:
        return _run_in(experiment, folder.path)


def _run_in(experiment: ExperimentConfig, out: Path) -> dict[str, Any]:
    training = experiment.training
    model = build_model(experiment)
    layout = experiment.model.data_layout
    data_format = layout.data_format if layout is not None else "NHWC"
    num_classes = getattr(experiment.model, "num_classes", None)

    source = source_from_config(training.data, model_layout=data_format)
    # Refuse data that does not fit before anything is compiled.
    validate_data(model, source, experiment)
    # The data config's batch size, seed, shuffling and workers; each process its share.
    batches = pipeline_from_config(
        training.data, source, shard_index=jax.process_index(), shard_count=jax.process_count()
    )
    trainer = Trainer(model, batches, experiment, workdir=out)
    grids = SampleGrids(
        _sampler(trainer, source, training.logging.num_samples, num_classes, data_format),
        out / "samples",
        every=training.logging.sample_every,
    )
    trainer.callbacks.append(grids)
    trainer.fit()
    grids.write(trainer, trainer.step, "final.png")
    # The whole log, not only this fit's rows: a resumed run plots and reports all of it.
    # In a multi-process run process 0 writes; the others only compute (the scores'
    # arrays span all the processes).
    writes = jax.process_index() == 0
    history = read_rows(out / "metrics.jsonl") if writes else []
    if writes:
        save_loss_curves(history, out / "loss_curves.png")
    scores: dict[str, Any] = {"steps": trainer.step, "final": history[-1] if history else {}}
    if training.data.source == "digits":
        if _translates(trainer.rules):
            scores.update(_translation_scores(trainer, experiment, data_format))
        else:
            scores.update(_digits_scores(trainer))
    if writes:
        (out / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
    return scores


def _compiled(call: Any) -> Any:
    """``(module, *inputs) -> call(module, *inputs)``, jitted once per module structure.

    The sample grids come every ``logging.sample_every`` iterations. Called eagerly, each of
    the generator's operations compiles a program of its own the first time (56 for the
    stylegan preset's generator, ~2 s of a 75 s run) and runs one dispatch at a time after.
    The module's state is an argument, so each grid's new weights reuse the one program.
    """
    programs: dict[Any, Any] = {}

    def run(module: Any, *inputs: Any) -> Any:
        graphdef, state = nnx.split(module)
        if graphdef not in programs:
            programs[graphdef] = jax.jit(
                lambda state, *inputs: call(nnx.merge(graphdef, state), *inputs)
            )
        return programs[graphdef](state, *inputs)

    return run


def _sampler(
    trainer: Trainer, source: Any, count: int, num_classes: int | None, data_format: str
) -> Any:
    """A function of the trainer returning ``(NHWC images, columns)`` of its EMA generator."""
    if _translates(trainer.rules):
        examples = source.get_batch(np.arange(min(count, len(source))))
        a, b = examples["image_a"], examples["image_b"]
        translate = _compiled(
            lambda pair, a, b: (pair.first(a, training=False), pair.second(b, training=False))
        )

        def translations(trainer: Trainer) -> tuple[np.ndarray, int]:
            a_to_b, b_to_a = translate(trainer.ema_generator(), a, b)
            rows = [a, a_to_b, b, b_to_a]
            return np.concatenate([_to_nhwc(r, data_format) for r in rows]), len(a)

        return translations
    latent = jax.random.normal(
        jax.random.key(trainer.config.seed + 1), (count, trainer.model.latent_dim)
    )
    extra = () if not num_classes else (jnp.arange(count) % num_classes,)
    draw = _compiled(lambda generator, *inputs: generator(*inputs, training=False))

    def samples(trainer: Trainer) -> tuple[np.ndarray, int | None]:
        return _to_nhwc(draw(trainer.ema_generator(), latent, *extra), data_format), None

    return samples


def _translation_scores(
    trainer: Trainer, experiment: ExperimentConfig, data_format: str
) -> dict[str, Any]:
    """CycleGAN on digits: FID of ``F(B)`` against held-out digits; error against truth."""
    from artifex.generative_models.core.evaluation.metrics import FrechetInceptionDistance

    evaluation = evaluation_for(_DIGITS_SCORING, data_format)
    held_out: Any = source_from_config(
        experiment.training.data,
        model_layout=data_format,  # type: ignore[arg-type]
        split="test",
    )
    examples = held_out.get_batch(np.arange(len(held_out)))
    pair = trainer.ema_generator()
    translated_back = _to_nhwc(pair.second(examples["image_b"], training=False), data_format)
    fid = FrechetInceptionDistance(feature_extractor=evaluation.extractor)
    scores: dict[str, Any] = {
        "fid_digits_of_F(B)": float(
            fid.compute(evaluation.reference, translated_back[..., :1])["fid"]
        ),
        "fid_digits_floor_real_vs_real": _digits_floors(evaluation)["fid"],
    }
    transform = experiment.training.data.domain_b_transform
    if transform is not None:
        # Domain B is a known function of domain A: G should have learned it.
        truth = TransformedSource(held_out.domain_a, transform).get_batch(
            np.arange(len(held_out.domain_a))
        )["image"]
        translated = pair.first(
            held_out.domain_a.get_batch(np.arange(len(truth)))["image"], training=False
        )
        scores[f"mean_abs_error_of_G_vs_{transform}"] = float(
            np.mean(np.abs(np.asarray(translated) - truth))
        )
    return scores


# The scoring of a finished run on the bundled digits: 1000 samples against the held-out
# split, KID included (its features are what the floors below share).
_DIGITS_SCORING = EvaluationConfig(every=1, samples=1000, batch_size=250, against="digits")


def _digits_floors(evaluation: Evaluation) -> dict[str, float]:
    """The training digits scored against the held-out ones (real vs real): FID and KID.

    ``evaluation`` is a digits evaluation with KID (``_DIGITS_SCORING``): its reference is
    the held-out digits' statistics and features, so only the training digits are
    extracted, once for both floors.
    """
    from artifex.generative_models.core.evaluation.metrics import (
        FeatureStatistics,
        kernel_inception_distance,
        load_digits,
    )

    held_out = evaluation.reference_features
    assert held_out is not None  # (_DIGITS_SCORING has KID on: the reference has features)
    training = np.asarray(
        evaluation.extractor(jnp.asarray(load_digits("train")[0], jnp.float32)), np.float64
    )
    config = _DIGITS_SCORING
    return {
        "fid": FeatureStatistics.from_features(training).frechet_distance(evaluation.reference),
        # With only 359 held-out digits, every KID subset holds all of them, so their own
        # sampling noise shifts every KID alike (the training digits score about -24
        # against them, not 0). A KID-digits means something only beside this floor.
        "kid": float(
            kernel_inception_distance(
                held_out,
                training.astype(np.float32),
                subsets=config.kid_subsets,
                subset_size=min(config.kid_subset_size, len(held_out), len(training)),
                seed=config.seed,
            )["kid_mean"]
        ),
    }


def _digits_scores(trainer: Trainer) -> dict[str, Any]:
    """FID of generated digits against the held-out digits, and the real-vs-real floor.

    The same evaluation as a run's periodic FID (``TrainingConfig.evaluation``), with 1000
    samples; a run with phases (a progressive one) is scored in its last phase.
    """
    trainer.set_rules(trainer.rules.phase_at(max(trainer.rules.phase_starts(), default=0)))
    evaluation = evaluation_for(_DIGITS_SCORING, data_format_of(trainer))
    floors = _digits_floors(evaluation)
    scores = evaluation.evaluate(trainer)
    return {
        "fid_digits": scores["fid"],
        "kid_digits": scores["kid"],
        "fid_digits_floor_real_vs_real": floors["fid"],
        "kid_digits_floor_real_vs_real": floors["kid"],
        "fid_samples": evaluation.batches * evaluation.batch_size,
    }
