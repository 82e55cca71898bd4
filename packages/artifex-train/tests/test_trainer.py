"""The Trainer: exact resume, NaN stop, EMA, signals. Tiny MLP GANs keep compiles short."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    DiscriminatorConfig,
    EMAConfig,
    GANConfig,
    GeneratorConfig,
    LoggingConfig,
    TrainingConfig,
)
from artifex.generative_models.models.gan import GAN
from artifex.generative_models.training.trainer import NonFiniteLossError, Trainer

MODEL = GANConfig(
    generator=GeneratorConfig(hidden_dims=(16,), output_shape=(4,), latent_dim=4),
    discriminator=DiscriminatorConfig(hidden_dims=(16,), batch_norm=True, dropout_rate=0.2),
)


class Points:
    """Deterministic batches of 2-D-ish points with a checkpointable position."""

    def __init__(self, batch=8, poison_at=None):
        self.position, self.batch, self.poison_at = 0, batch, poison_at

    def __next__(self):
        rng = np.random.default_rng(self.position)
        self.position += 1
        points = np.tanh(rng.normal(size=(self.batch, 4))).astype(np.float32)
        if self.poison_at is not None and self.position > self.poison_at:
            points[0, 0] = np.nan
        return {"image": points}

    def get_state(self):
        return {"position": self.position}

    def set_state(self, state):
        self.position = state["position"]


def training(steps, workdir, **changes):
    return TrainingConfig(
        steps=steps,
        steps_per_dispatch=2,
        ema=EMAConfig(decay=0.5),
        logging=LoggingConfig(log_every=2, sample_every=2),
        checkpoint=CheckpointConfig(directory=str(workdir), every_n_steps=4, keep_last=2),
    ).replace(**changes)


def trainer(workdir, steps=8, data=None, **changes):
    model = GAN(MODEL, rngs=nnx.Rngs(0))
    return Trainer(model, data or Points(), training(steps, workdir, **changes))


def leaves(state):
    return [
        np.asarray(
            jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x
        )
        for x in jax.tree.leaves(state)
    ]


def test_resuming_continues_the_run_exactly(tmp_path):
    straight = trainer(tmp_path / "straight")
    straight.fit()

    first_half = trainer(tmp_path / "halves", steps=4)
    first_half.fit()
    assert first_half.checkpoints.latest_step() == 4
    resumed = trainer(tmp_path / "halves")  # a new process would build exactly this
    resumed.fit()
    assert resumed.step == 8
    for a, b in zip(leaves(straight.state), leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(a, b)  # bitwise on CPU
    assert resumed.data.position == straight.data.position


def test_ema_is_the_running_average_of_the_generator(tmp_path):
    run = trainer(tmp_path, steps=2, steps_per_dispatch=1, logging=LoggingConfig(log_every=1))

    def snapshot(generator):  # a copy: nnx.state refers to the live variables
        return jax.tree.map(np.array, nnx.state(generator, nnx.Param))

    params = [snapshot(run.model.generator)]
    for step in (1, 2):
        run.fit(step)
        params.append(snapshot(nnx.merge(run.graphdef, run.state.nets)[0]))
    expected = params[0]
    for p in params[1:]:
        expected = jax.tree.map(lambda e, q: 0.5 * e + 0.5 * q, expected, p)
    for a, b in zip(jax.tree.leaves(expected), jax.tree.leaves(run.state.ema), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_nan_loss_stops_the_run_naming_the_step_and_the_last_checkpoint(tmp_path):
    run = trainer(tmp_path, steps=16, data=Points(poison_at=5))
    with pytest.raises(NonFiniteLossError, match=r"at step 6; .* last good checkpoint is step 4"):
        run.fit()
    # The bad update was not applied: every parameter is finite.
    assert all(np.all(np.isfinite(x)) for x in leaves(nnx.state(run.state.nets, nnx.Param)))


def test_fit_writes_the_metrics_log_and_moves_the_model(tmp_path):
    run = trainer(tmp_path, steps=4)
    before = [np.asarray(x) for x in jax.tree.leaves(nnx.state(run.model.generator, nnx.Param))]
    history = run.fit()
    assert [row["step"] for row in history] == [2, 4]
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 and '"d_loss"' in lines[0]
    after = jax.tree.leaves(nnx.state(run.model.generator, nnx.Param))
    assert all(not np.allclose(a, b) for a, b in zip(before, after, strict=True))


def test_steps_must_be_a_multiple_of_the_dispatch_size(tmp_path):
    with pytest.raises(ValueError, match="steps=5 must be a multiple of steps_per_dispatch=2"):
        trainer(tmp_path).fit(5)


SIGNALLED_RUN = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from test_trainer import trainer
    from artifex.generative_models.training.trainer import TrainingInterrupted
    run = trainer({workdir!r}, steps=100000, checkpoint=__import__(
        "artifex.generative_models.core.configuration", fromlist=["x"]
    ).CheckpointConfig(directory={workdir!r}, every_n_steps=100000))
    print("ready", flush=True)
    try:
        run.fit()
    except TrainingInterrupted as stop:
        print("interrupted", stop, flush=True)
        sys.exit(0)
    """
)


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    script = SIGNALLED_RUN.format(tests=os.path.dirname(__file__), workdir=str(tmp_path))
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "ready"
    deadline = time.time() + 120
    while not (tmp_path / "metrics.jsonl").exists() and time.time() < deadline:
        time.sleep(0.2)  # wait until it trains (past compilation)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    assert "interrupted stopped by signal 15" in out
    resumed = trainer(tmp_path, steps=4)
    step = resumed.restore()
    assert step > 0 and step % 2 == 0
