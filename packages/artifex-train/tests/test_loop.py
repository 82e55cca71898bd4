"""The loop: scan and unrolled dispatches agree; callbacks and writers see what happened."""

import jax
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    LoggingConfig,
    PrecisionConfig,
    TrainingConfig,
)
from artifex.generative_models.models.gan import GAN
from artifex.generative_models.training.callbacks import Callback
from artifex.generative_models.training.step import build_step, resolve_loop
from artifex.generative_models.training.trainer import NonFiniteLossError, Trainer

MODEL = GANConfig(
    generator=GeneratorConfig(hidden_dims=(8,), output_shape=(4,), latent_dim=3),
    discriminator=DiscriminatorConfig(hidden_dims=(8,), dropout_rate=0.2),
)


class Points:
    """Deterministic batches; ``nan_from`` poisons every batch from that draw on."""

    def __init__(self, nan_from=None):
        self.draws, self.nan_from = 0, nan_from

    def __next__(self):
        rng = np.random.default_rng(self.draws)
        self.draws += 1
        points = np.tanh(rng.normal(size=(4, 4))).astype(np.float32)
        if self.nan_from is not None and self.draws > self.nan_from:
            points[:] = np.nan
        return {"image": points}


def config(workdir, *, every=6, save_final=False, **changes):
    return TrainingConfig(
        steps=6,
        steps_per_dispatch=3,
        logging=LoggingConfig(log_every=3, sample_every=0),
        checkpoint=CheckpointConfig(
            directory=str(workdir), every_n_steps=every, save_final=save_final
        ),
        **changes,
    )


def trained_state(workdir, loop):
    trainer = Trainer(
        GAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1)),
        Points(),
        config(workdir, loop=loop),
        progress=False,
    )
    trainer.fit()
    return trainer


def as_numbers(leaf):
    if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):  # the networks' streams
        return np.asarray(jax.random.key_data(leaf))
    return np.asarray(leaf)


def test_scan_and_unrolled_dispatches_give_the_same_state(tmp_path):
    # GPUs and TPUs run the scan; CPU runs unrolled code by default. Both must be the
    # same K iterations: compare every array of the state after two dispatches of K=3.
    scanned = trained_state(tmp_path / "scan", "scan")
    unrolled = trained_state(tmp_path / "unrolled", "unrolled")
    assert resolve_loop("auto") == ("unrolled" if jax.default_backend() == "cpu" else "scan")
    a, b = jax.tree.leaves(scanned.state), jax.tree.leaves(unrolled.state)
    assert len(a) == len(b) > 10
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(as_numbers(x), as_numbers(y), rtol=2e-5, atol=1e-6)
    assert int(scanned.state.step) == 6
    for row_scan, row_unrolled in zip(scanned.history, unrolled.history, strict=True):
        assert row_scan["d_loss"] == pytest.approx(row_unrolled["d_loss"], rel=2e-5)


def test_lazy_r1_written_out_per_iteration_agrees_with_the_scans_cond(tmp_path):
    # Unrolled, each iteration's lazy R1 is left in or out while tracing (XLA:CPU runs a
    # cond branch's convolutions ~10x slower); the scan decides by lax.cond. K=3 with R1
    # every 2 iterations: dispatches at steps 0 and 3 are due on (0, 2) and (4): two
    # programs, the same numbers as the scan's.
    lazy = {"r1_weight": 1.0, "r1_interval": 2}
    runs = {}
    for loop in ("scan", "unrolled"):
        runs[loop] = Trainer(
            GAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1)),
            Points(),
            config(tmp_path / loop, loop=loop, **lazy),
            progress=False,
        )
        runs[loop].fit()
    scanned, unrolled = runs["scan"], runs["unrolled"]
    assert len(unrolled._phased_steps) == 2 and not scanned._phased_steps
    for x, y in zip(jax.tree.leaves(scanned.state), jax.tree.leaves(unrolled.state), strict=True):
        np.testing.assert_allclose(as_numbers(x), as_numbers(y), rtol=2e-5, atol=1e-6)
    # Logged rows are iterations 2 (R1 due) and 5 (not due).
    r1 = [row["r1"] for row in unrolled.history]
    assert [(row["step"], row["r1"] > 0) for row in unrolled.history] == [(3, True), (6, False)]
    np.testing.assert_allclose(r1, [row["r1"] for row in scanned.history], rtol=2e-5)


def test_per_iteration_rules_need_an_unrolled_loop_of_their_length(tmp_path):
    gan = GAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1))
    trainer = Trainer(gan, Points(), config(tmp_path, r1_weight=1.0, r1_interval=2))
    each = tuple(trainer.rules.at_lazy_phase(i) for i in range(2))
    with pytest.raises(ValueError, match=r"one rules object per iteration \(2 given\) needs "):
        build_step.__wrapped__(trainer.graphdef, each, loop="scan")
    step = build_step.__wrapped__(trainer.graphdef, each, loop="unrolled")
    with pytest.raises(ValueError, match=r"2 rules for a dispatch of 3 iterations"):
        step(trainer.state, trainer._next_batches(3))


def test_an_unknown_loop_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"loop='rolled'.*'auto', 'scan', 'unrolled'"):
        resolve_loop("rolled")


class Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_fit_start(self, trainer, *, start, target):
        self.calls.append(("start", start, target))

    def on_dispatch_start(self, trainer, *, step):
        self.calls.append(("dispatch", step))

    def on_log(self, trainer, *, step, row):
        self.calls.append(("log", step, row["d_loss"]))

    def on_dispatch_end(self, trainer, *, step):
        self.calls.append(("done", step))

    def on_fit_end(self, trainer, *, step, error):
        self.calls.append(("end", step, type(error).__name__ if error else None))


class ListWriter:
    """A MetricWriter that keeps what it is given."""

    def __init__(self):
        self.scalars, self.hparams, self.closed = [], None, False

    def write_scalars(self, step, scalars):
        self.scalars.append((step, dict(scalars)))

    def write_images(self, step, images):
        pass

    def write_hparams(self, hparams):
        self.hparams = dict(hparams)

    def flush(self):
        pass

    def close(self):
        self.closed = True


def test_callbacks_and_writers_see_every_dispatch_and_every_logged_row(tmp_path):
    recorder, writer = Recorder(), ListWriter()
    trainer = Trainer(
        GAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1)),
        Points(),
        config(tmp_path),
        callbacks=[recorder],
        writers=[writer],
        progress=False,
    )
    history = trainer.fit()
    logged = [(row["step"], row["d_loss"]) for row in history]
    assert recorder.calls == [
        ("start", 0, 6),
        ("dispatch", 0),
        ("log", 3, logged[0][1]),
        ("done", 3),
        ("dispatch", 3),
        ("log", 6, logged[1][1]),
        ("done", 6),
        ("end", 6, None),
    ]
    # The writer got the same rows as the history (less the step), and the settings.
    assert [(step, scalars["d_loss"]) for step, scalars in writer.scalars] == logged
    assert set(writer.scalars[0][1]) == set(history[0]) - {"step"}
    assert writer.hparams["training.steps"] == 6 and writer.closed
    # metrics.jsonl holds the same rows.
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 and '"step": 6' in lines[1]


def test_callbacks_hear_why_a_run_stopped(tmp_path):
    recorder = Recorder()
    trainer = Trainer(
        GAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1)),
        Points(nan_from=3),
        config(tmp_path),
        callbacks=[recorder],
        progress=False,
    )
    with pytest.raises(NonFiniteLossError, match="at step 4"):
        trainer.fit()
    assert recorder.calls[-1] == ("end", 6, "NonFiniteLossError")


def test_networks_built_for_another_precision_are_refused_with_the_fix(tmp_path):
    model = GAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1))
    bf16 = config(tmp_path, precision=PrecisionConfig(compute_dtype="bfloat16"))
    with pytest.raises(
        ValueError,
        match=r"compute_dtype='bfloat16'.*generator \['float32'\].*"
        r"config.with_compute_dtype\('bfloat16'\)",
    ):
        Trainer(model, Points(), bf16, progress=False)


class StopAfter(Callback):
    """Early stopping: asks the trainer to stop once ``step`` iterations are done."""

    def __init__(self, step):
        self.step = step

    def on_dispatch_end(self, trainer, *, step):
        if step >= self.step:
            trainer.request_stop()


def test_a_callback_can_end_the_run_early_and_it_completes_normally(tmp_path):
    model = GAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1))
    before = jax.tree.map(np.array, nnx.state(model.generator, nnx.Param))
    trainer = Trainer(
        model,
        Points(),
        config(tmp_path, save_final=True),
        callbacks=[StopAfter(3)],
        progress=False,
    )
    history = trainer.fit()
    assert trainer.step == 3 and [row["step"] for row in history] == [3]
    assert trainer.checkpoints.all_steps() == [3]  # the final checkpoint of a completed run
    after = nnx.state(model.generator, nnx.Param)  # written back into the model
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True)
    )


class Counter(Callback):
    """Counts the logged rows; its count must survive a resume."""

    def __init__(self):
        self.rows = 0

    def on_log(self, trainer, *, step, row):
        self.rows += 1

    def state_dict(self):
        return {"rows": self.rows}

    def load_state_dict(self, state):
        self.rows = state["rows"]


def test_callback_states_are_checkpointed_and_restored(tmp_path):
    def make(counter):
        return Trainer(
            GAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1)),
            Points(),
            config(tmp_path, every=3),
            callbacks=[counter],
            progress=False,
        )

    first = Counter()
    make(first).fit(3)
    assert first.rows == 1
    second = Counter()
    resumed = make(second)
    assert resumed.restore() == 3 and second.rows == 1  # the count came back
    resumed.fit(6)
    assert second.rows == 2
