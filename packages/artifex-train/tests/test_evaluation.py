"""Periodic FID and KID in training: the scores, where they are logged, the best checkpoint,
devices, statistics files with and without a feature sample."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    DCGANConfig,
    EvaluationConfig,
    LoggingConfig,
    TrainingConfig,
)
from artifex.generative_models.core.evaluation.metrics import (
    FrechetInceptionDistance,
    digits_feature_extractor,
    kernel_inception_distance,
    load_digits,
)
from artifex.generative_models.models.gan import DCGAN
from artifex.generative_models.training.callbacks import Evaluation
from artifex.generative_models.training.evaluation import digits_view
from artifex.generative_models.training.trainer import Trainer

# Tiny evaluations (16 samples of 64-d features) are biased, and the metrics say so.
pytestmark = pytest.mark.filterwarnings("ignore:.*samples of 64-dimensional features")

SHAPE = {"output_shape": (8, 8, 1), "data_format": "NHWC"}
MODEL = DCGANConfig(
    generator=ConvGeneratorConfig(hidden_dims=(8,), latent_dim=4, **SHAPE),
    discriminator=ConvDiscriminatorConfig(
        hidden_dims=(8,), input_shape=(8, 8, 1), data_format="NHWC", batch_norm=False
    ),
)


class Digits:
    """Batches of the bundled training digits, in order."""

    def __init__(self, batch=8):
        self.images, self.batch, self.position = load_digits("train")[0], batch, 0

    def __next__(self):
        start = self.position * self.batch % (len(self.images) - self.batch)
        self.position += 1
        return {"image": np.asarray(self.images[start : start + self.batch], np.float32)}


def training(workdir, **evaluation):
    return TrainingConfig(
        steps=4,
        steps_per_dispatch=2,
        logging=LoggingConfig(log_every=2, sample_every=0),
        checkpoint=CheckpointConfig(directory=str(workdir), every_n_steps=4, save_final=False),
        evaluation=EvaluationConfig(every=2, samples=16, batch_size=8, **evaluation),
    )


def test_periodic_fid_joins_the_logged_rows_and_keeps_the_best_checkpoint(tmp_path):
    trainer = Trainer(DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), training(tmp_path), progress=False)
    history = trainer.fit()
    scores = {row["step"]: row["fid"] for row in history}
    assert sorted(scores) == [2, 4] and all(np.isfinite(v) and v > 0 for v in scores.values())
    kids = {row["step"]: row["kid"] for row in history}
    assert sorted(kids) == [2, 4] and all(np.isfinite(v) for v in kids.values())
    # metrics.jsonl (and so every writer) holds the same scores.
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {row["step"]: row["fid"] for row in rows} == scores
    assert {row["step"]: row["kid"] for row in rows} == kids
    # best/ keeps one checkpoint: the step of the lowest score, with the score beside it.
    best_step = min(scores, key=scores.get)
    (evaluation,) = [cb for cb in trainer.callbacks if isinstance(cb, Evaluation)]
    assert evaluation.best == scores[best_step]
    assert evaluation.best_store.all_steps() == [best_step]
    _, _, extra = evaluation.best_store.restore(trainer.state, best_step)
    assert extra["fid"] == pytest.approx(scores[best_step])
    assert extra["kid"] == pytest.approx(kids[best_step])


def test_the_device_side_fid_equals_the_metrics_package_on_the_same_images(tmp_path):
    trainer = Trainer(DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), training(tmp_path), progress=False)
    trainer.fit(2)
    (evaluation,) = [cb for cb in trainer.callbacks if isinstance(cb, Evaluation)]
    ours = evaluation.evaluate(trainer)
    # The same latents, generated and scored on the host by the metrics package's own
    # (float64, batch-merged) statistics.
    generator = trainer.ema_generator()
    keys = jax.random.split(jax.random.key(evaluation.seed), evaluation.batches)
    fake = np.concatenate(
        [
            np.asarray(digits_view("NHWC")(trainer.rules.sample(generator, key, 8, 2)))
            for key in keys
        ]
    )
    extractor = digits_feature_extractor()
    fid = FrechetInceptionDistance(feature_extractor=extractor)
    theirs = fid.compute(load_digits("test")[0], jnp.asarray(fake))["fid"]
    assert ours["fid"] == pytest.approx(theirs, rel=1e-4)
    # KID: the metrics package's estimator on host-side features of the same images, with
    # the same subsets (seeded by the evaluation's seed; 16 generated rows cap the size).
    real = np.asarray(extractor(jnp.asarray(load_digits("test")[0], jnp.float32)))
    kid = kernel_inception_distance(
        real, np.asarray(extractor(jnp.asarray(fake))), subset_size=16, seed=evaluation.seed
    )
    assert ours["kid"] == pytest.approx(kid["kid_mean"], rel=1e-3, abs=1e-6)


def test_a_statistics_file_of_another_mode_is_refused(tmp_path):
    from artifex.generative_models.core.evaluation.metrics import save_statistics
    from artifex.generative_models.training.evaluation import reference_for

    path = tmp_path / "stats.npz"
    save_statistics(
        path,
        np.zeros(4),
        np.eye(4),
        extractor="inception-v3-fid",
        extractor_sha256="0" * 64,
        mode="clean",
        count=10,
        fingerprint="x",
    )
    config = EvaluationConfig(every=2, against=str(path), extractor="inception", kid=False)
    with pytest.raises(ValueError, match=r"mode 'clean'.*--mode legacy_pytorch"):
        reference_for(config, "NHWC")
    missing = EvaluationConfig(every=2, against=str(tmp_path / "none.npz"), extractor="inception")
    with pytest.raises(FileNotFoundError, match=r"no such statistics file.*artifex-metrics stats"):
        reference_for(missing, "NHWC")


@pytest.mark.slow
def test_one_and_four_devices_give_the_same_fid():
    # The batch of each evaluation call is split over the mesh; the feature sums are
    # reduced across devices. The same generator on 1 and on 4 virtual CPU devices.
    script = textwrap.dedent(
        """
        import json
        import jax, numpy as np
        from flax import nnx
        from artifex.generative_models.models.gan import DCGAN
        from artifex.generative_models.training.devices import DeviceManager
        from artifex.generative_models.training.trainer import Trainer
        from test_evaluation import MODEL, Digits, training
        import tempfile
        scores = []
        for devices in (jax.devices()[:1], jax.devices()):
            with tempfile.TemporaryDirectory() as workdir:
                trainer = Trainer(DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), training(workdir),
                                  device_manager=DeviceManager(devices), progress=False)
                (evaluation,) = [cb for cb in trainer.callbacks
                                 if type(cb).__name__ == "Evaluation"]
                scores.append((len(devices), evaluation.evaluate(trainer)))
        print(json.dumps(scores))
        """
    )
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": os.pathsep.join(
            [os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]
        ),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (one, four) = json.loads(result.stdout.strip().splitlines()[-1])
    assert one[0] == 1 and four[0] == 4
    assert four[1]["fid"] == pytest.approx(one[1]["fid"], rel=1e-5)
    assert four[1]["kid"] == pytest.approx(one[1]["kid"], rel=1e-4, abs=1e-7)


def test_artifex_train_evaluate_scores_a_finished_run_folder(tmp_path, capsys):
    from artifex.generative_models.core.configuration import ExperimentConfig
    from artifex.generative_models.training.cli import main

    experiment = ExperimentConfig(model=MODEL, training=training(tmp_path))
    (tmp_path / "config.yaml").write_text(experiment.to_yaml(include_type=True))
    trainer = Trainer(
        DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), experiment, workdir=tmp_path, progress=False
    )
    trainer.fit()
    (evaluation,) = [cb for cb in trainer.callbacks if isinstance(cb, Evaluation)]
    expected = evaluation.evaluate(trainer)  # the same latents and weights, in this process
    assert main(["evaluate", str(tmp_path), "--samples", "16"]) == 0
    printed = capsys.readouterr().out
    written = json.loads((tmp_path / "evaluation_step_000004.json").read_text())
    assert written["step"] == 4 and written["samples"] == 16 and written["against"] == "digits"
    assert written["fid"] == pytest.approx(expected["fid"], rel=1e-6)
    assert written["kid"] == pytest.approx(expected["kid"], rel=1e-5, abs=1e-8)
    assert f"fid: {written['fid']}" in printed and f"kid: {written['kid']}" in printed
    # A folder that is not a run is one clear line and exit 2.
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "has no config.yaml" in capsys.readouterr().err


def test_a_statistics_file_of_digits_features_scores_as_the_bundled_reference(tmp_path):
    from artifex.generative_models.core.evaluation.metrics import (
        FeatureStatistics,
        save_statistics,
    )
    from artifex.generative_models.training.evaluation import evaluation_for

    extractor = digits_feature_extractor()
    held_out = jnp.asarray(load_digits("test")[0], jnp.float32)
    FeatureStatistics.from_features(np.asarray(extractor(held_out))).save(tmp_path / "d.npz")
    trainer = Trainer(
        DCGAN(MODEL, rngs=nnx.Rngs(0)), None, training(tmp_path / "run"), progress=False
    )
    bundled = EvaluationConfig(every=2, samples=16, batch_size=8)
    from_file = bundled.replace(against=str(tmp_path / "d.npz"), extractor="digits")
    expected = evaluation_for(bundled, "NHWC").evaluate(trainer)
    with pytest.warns(UserWarning, match=r"keeps no sample of features.*--kid-features"):
        scores = evaluation_for(from_file, "NHWC").evaluate(trainer)
    assert scores == {"fid": pytest.approx(expected["fid"], rel=1e-6)}  # FID alone
    # A file that keeps every held-out feature as its sample scores KID as the bundled set.
    features = np.asarray(extractor(held_out))
    stats = FeatureStatistics.from_features(features)
    save_statistics(
        tmp_path / "k.npz",
        stats.mean,
        stats.covariance,
        extractor="digits",
        extractor_sha256="0" * 64,
        mode="clean",
        count=len(features),
        fingerprint="x",
        features=features,
    )
    with_sample = from_file.replace(against=str(tmp_path / "k.npz"))
    scores = evaluation_for(with_sample, "NHWC").evaluate(trainer)
    assert scores["fid"] == pytest.approx(expected["fid"], rel=1e-6)
    assert scores["kid"] == pytest.approx(expected["kid"], rel=1e-5, abs=1e-8)
    assert evaluation_for(with_sample.replace(kid=False), "NHWC").evaluate(trainer).keys() == {
        "fid"
    }


def test_the_datasets_artifex_metrics_reads_by_name():
    from artifex.generative_models.core.evaluation.metrics.digits import (
        DIGITS_PIXEL_MAX,
        load_digits,
    )
    from artifex.generative_models.training.data._image_sets import (
        cifar10_images,
        digits_images,
    )

    images = digits_images(split="train")
    raw = load_digits("train", raw=True).images
    assert images.dtype == np.uint8 and images.shape == (len(raw), 8, 8, 1)
    expected = np.rint(raw.reshape(images.shape).astype(np.float64) * 255 / DIGITS_PIXEL_MAX)
    np.testing.assert_array_equal(images, expected)
    assert len(digits_images()) == len(load_digits("test", raw=True).images)  # test: default
    with pytest.raises(ValueError, match=r"splits train, test, all; got 'dev'"):
        digits_images(split="dev")
    with pytest.raises(ValueError, match=r"bundled and takes no path"):
        digits_images(path="/x")
    with pytest.raises(ValueError, match=r"cifar10 needs a path: cifar10\[:SPLIT\]=PATH"):
        cifar10_images()


def test_artifex_metrics_stats_of_the_digits_dataset(tmp_path, capsys):
    # The entry point this package registers, found by the metrics command (which cannot
    # import this package); a stand-in extractor keeps it fast.
    from artifex.generative_models.core.evaluation.metrics import load_statistics
    from artifex.generative_models.core.evaluation.metrics._cli import Extractor, main

    def means(x):
        return x.reshape(x.shape[0], -1, 3).mean(axis=1)

    tiny = Extractor(name="means", sha256="0" * 64, features=means)
    out = tmp_path / "d.npz"
    argv = ["stats", "digits:train", "--out", str(out), "--kid-features", "0", "--quiet"]
    assert main(argv, load_extractor=lambda args: tiny) == 0
    stats = load_statistics(out)
    assert stats.count == len(load_digits("train")[0]) and stats.mu.shape == (3,)


def test_the_digits_view_scores_any_image_size():
    # Multiples of 8 are block-averaged (pixel replication undone exactly); other sizes,
    # e.g. a 12x12 model, are resized with an antialiased linear filter, not refused.
    rng = np.random.default_rng(0)
    digits = rng.uniform(-1, 1, size=(3, 8, 8, 1)).astype(np.float32)
    upscaled = digits.repeat(2, axis=1).repeat(2, axis=2)
    np.testing.assert_allclose(np.asarray(digits_view("NHWC")(jnp.asarray(upscaled))), digits)
    nchw = np.transpose(upscaled, (0, 3, 1, 2))
    np.testing.assert_allclose(np.asarray(digits_view("NCHW")(jnp.asarray(nchw))), digits)
    twelve = rng.uniform(-1, 1, size=(2, 12, 12, 3)).astype(np.float32)
    viewed = np.asarray(digits_view("NHWC")(jnp.asarray(twelve)))
    assert viewed.shape == (2, 8, 8, 1)
    # A constant image stays that constant; the first channel is kept.
    flat = np.full((1, 7, 7, 1), 0.25, np.float32)
    np.testing.assert_allclose(np.asarray(digits_view("NHWC")(jnp.asarray(flat))), 0.25, rtol=1e-6)
    # Linear with antialiasing averages: the view of 12x12 noise is smoother than the noise.
    assert viewed.std() < twelve[..., :1].std()
