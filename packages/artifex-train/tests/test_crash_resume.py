"""Crashes around checkpoints: a half-written checkpoint is never resumed from.

A process killed with SIGKILL (no handler runs, nothing is flushed) in the middle of
writing a checkpoint leaves the previous checkpoint as the latest one; a new trainer on the
same directory resumes from it and ends bitwise where an uninterrupted run ends. A complete
checkpoint whose array files were damaged afterwards is refused when restored, and the one
before it still restores and continues the run exactly. Tiny MLP GANs keep compiles short.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

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
from artifex.generative_models.training.trainer import Trainer, TrainingInterrupted

MODEL = GANConfig(
    generator=GeneratorConfig(hidden_dims=(16,), output_shape=(4,), latent_dim=4),
    discriminator=DiscriminatorConfig(hidden_dims=(16,), batch_norm=True, dropout_rate=0.2),
)
STEPS = 8
EVERY = 2  # a checkpoint every 2 steps: the second one is step 4


class Points:
    """Deterministic batches with a checkpointable position."""

    def __init__(self, batch=8):
        self.position, self.batch = 0, batch

    def __next__(self):
        rng = np.random.default_rng(self.position)
        self.position += 1
        return {"image": np.tanh(rng.normal(size=(self.batch, 4))).astype(np.float32)}

    def get_state(self):
        return {"position": self.position}

    def set_state(self, state):
        self.position = state["position"]


def make_trainer(workdir, steps=STEPS, sample_every=0, **checkpoint):
    checkpoint = {"directory": str(workdir), "every_n_steps": EVERY, "keep_last": 3, **checkpoint}
    config = TrainingConfig(
        steps=steps,
        steps_per_dispatch=2,
        ema=EMAConfig(decay=0.5),
        logging=LoggingConfig(log_every=2, sample_every=sample_every),
        checkpoint=CheckpointConfig(**checkpoint),
    )
    return Trainer(GAN(MODEL, rngs=nnx.Rngs(0)), Points(), config)


def leaves(state):
    return [
        np.asarray(
            jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x
        )
        for x in jax.tree.leaves(state)
    ]


def assert_same_state(a, b):
    a, b = leaves(a), leaves(b)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)  # bitwise on CPU


def losses(history):
    return {row["step"]: {k: v for k, v in row.items() if k != "it_per_s"} for row in history}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The run as it goes when nothing crashes (same config, checkpoints included)."""
    run = make_trainer(tmp_path_factory.mktemp("uninterrupted"))
    run.fit()
    assert run.checkpoints.all_steps() == [4, 6, 8]  # keep_last=3
    return run


# The kill happens inside orbax's save of the second checkpoint (step 4), at the point
# where every item (the arrays and the JSON) has been written into the checkpoint's
# temporary directory but nothing has been finalised: the per-process array database is
# not yet merged and the temporary directory is not yet renamed to its final name.
# CompositeCheckpointHandler.finalize runs exactly once per checkpoint, at that point.
KILLED_MID_SAVE = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path

    sys.path.insert(0, {tests!r})
    import orbax.checkpoint as ocp

    from test_crash_resume import make_trainer

    real_finalize = ocp.CompositeCheckpointHandler.finalize
    saves = []


    def finalize_or_die(self, directory):
        saves.append(directory)
        if len(saves) == 2:
            root = Path(directory)
            files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
            print("KILLING " + json.dumps({{"directory": str(root), "files": files}}), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return real_finalize(self, directory)


    ocp.CompositeCheckpointHandler.finalize = finalize_or_die
    make_trainer({workdir!r}).fit()
    print("finished without being killed", flush=True)
    """
)


@pytest.mark.slow
def test_a_process_killed_mid_save_resumes_from_the_previous_checkpoint(tmp_path, uninterrupted):
    script = KILLED_MID_SAVE.format(tests=os.path.dirname(__file__), workdir=str(tmp_path))
    killed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert killed.returncode == -signal.SIGKILL, (killed.stdout, killed.stderr[-3000:])
    (marker,) = [line for line in killed.stdout.splitlines() if line.startswith("KILLING ")]
    mid_save = json.loads(marker.removeprefix("KILLING "))

    # The kill was genuinely mid-write: step 4's temporary directory is still there with
    # the array files already written into it, and no directory has step 4's final name.
    checkpoints = tmp_path / "checkpoints"
    partial = Path(mid_save["directory"])
    assert partial.parent == checkpoints
    assert partial.name.startswith("4") and partial.name != "4"
    assert partial.is_dir() and not (checkpoints / "4").exists()
    array_files = [f for f in mid_save["files"] if f.startswith("state")]
    assert array_files, mid_save["files"]
    assert all((partial / f).is_file() for f in array_files)

    # A new process on the same directory sees step 2 as the latest checkpoint ...
    resumed = make_trainer(tmp_path)
    assert resumed.checkpoints.latest_step() == 2
    assert resumed.checkpoints.all_steps() == [2]
    # ... resumes from it (the first iterations it logs are 3-4, not 1-2 and not 5-6) ...
    resumed.fit()
    assert [row["step"] for row in resumed.history] == [4, 6, 8]
    # ... and ends exactly where the run would have ended had nothing crashed.
    assert_same_state(uninterrupted.state, resumed.state)
    assert resumed.data.position == uninterrupted.data.position
    expected = losses(uninterrupted.history)
    assert losses(resumed.history) == {step: expected[step] for step in (4, 6, 8)}
    # The half-written directory was cleared away and step 4 was written again, whole.
    assert not partial.exists()
    assert resumed.checkpoints.all_steps() == [4, 6, 8]


def array_database_files(step_dir):
    # The arrays are an OCDBT database under the "state" item: its data files live in
    # directories named "d" (the per-process ones and the merged one).
    files = [p for p in (step_dir / "state").rglob("*") if p.is_file() and p.parent.name == "d"]
    assert files, sorted(str(p) for p in step_dir.rglob("*"))
    return files


def flip_a_byte_in_the_arrays(step_dir):
    for path in array_database_files(Path(step_dir)):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))


def truncate_the_arrays(step_dir):
    for path in array_database_files(Path(step_dir)):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])


DAMAGES = {f.__name__: f for f in (flip_a_byte_in_the_arrays, truncate_the_arrays)}

# Both damages in one subprocess: after a failed restore, orbax's threads leave "Event loop
# is closed" exceptions behind, which this suite would turn into errors of whichever test
# runs next in the pytest process.
DAMAGED_THEN_RECOVERED = textwrap.dedent(
    """
    import json, sys, warnings

    sys.path.insert(0, {tests!r})
    import numpy as np

    from test_crash_resume import DAMAGES, leaves, make_trainer

    report = {{}}
    for name, workdir in {workdirs!r}.items():
        DAMAGES[name](workdir + "/checkpoints/8")
        # Asked for by number, the damaged checkpoint is refused, naming itself and the
        # checkpoints still there, and nothing of it is loaded.
        run = make_trainer(workdir, resume=False, every_n_steps=10**6, save_final=False)
        try:
            run.restore(8)
        except Exception as error:
            refused = [type(error).__name__, str(error)]
        else:
            refused = None
        step_after_refusal = run.step
        # Resuming (fit's default) warns about step 8, falls back to step 6, and trains on,
        # saving its own step 8 over the damaged one.
        run = make_trainer(workdir)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run.fit()
        report[name] = {{
            "refused": refused,
            "step_after_refusal": step_after_refusal,
            "warnings": [str(w.message) for w in caught if "could not be read" in str(w.message)],
            "history": [row["step"] for row in run.history],
            "kept": run.checkpoints.all_steps(),
            "latest_restores": make_trainer(workdir).restore(),
        }}
        np.savez(workdir + "/recovered.npz", *leaves(run.state))
    print("REPORT " + json.dumps(report), flush=True)
    """
)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory, uninterrupted):
    """Per damage: a copy of the uninterrupted run's checkpoints (steps 4, 6, 8) with step 8
    damaged, and what a new trainer did with it (in a subprocess)."""
    workdirs = {}
    for name in DAMAGES:
        workdir = tmp_path_factory.mktemp(name)
        shutil.copytree(uninterrupted.checkpoints.directory, workdir / "checkpoints")
        workdirs[name] = str(workdir)
    script = DAMAGED_THEN_RECOVERED.format(tests=os.path.dirname(__file__), workdirs=workdirs)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    report = json.loads(line.removeprefix("REPORT "))
    return {name: (report[name], Path(workdirs[name])) for name in DAMAGES}


@pytest.mark.slow
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_newest_checkpoint_is_refused_and_the_previous_one_continues_the_run(
    damaged, uninterrupted, damage
):
    report, workdir = damaged[damage]
    kind, message = report["refused"]
    assert kind == "CheckpointError"
    assert "checkpoint step 8" in message and "other checkpoints kept: [4, 6]" in message
    assert report["step_after_refusal"] == 0
    # Resuming fell back to step 6 with a warning, trained on to 8 (logging 8 only) and
    # replaced the damaged step 8 with a readable one.
    (warning,) = report["warnings"]
    assert "checkpoint step 8" in warning
    assert report["history"] == [8]
    assert report["kept"] == [4, 6, 8] and report["latest_restores"] == 8
    with np.load(workdir / "recovered.npz") as recovered:
        arrays = [recovered[f"arr_{i}"] for i in range(len(recovered.files))]
    expected = leaves(uninterrupted.state)
    assert len(arrays) == len(expected)
    for a, b in zip(expected, arrays, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_training_on_from_an_earlier_checkpoint_replaces_the_later_ones(tmp_path, uninterrupted):
    shutil.copytree(uninterrupted.checkpoints.directory, tmp_path / "checkpoints")
    run = make_trainer(tmp_path, resume=False)
    assert run.restore(6) == 6
    run.fit()  # saves step 8 again, where the earlier run left its own step 8
    assert_same_state(uninterrupted.state, run.state)
    again = make_trainer(tmp_path)
    assert again.restore() == 8
    assert_same_state(uninterrupted.state, again.state)


def test_a_signal_on_a_checkpoint_step_stops_cleanly_with_that_checkpoint(tmp_path):
    # The dispatch that ends at step 4 saves the regular checkpoint, then sees SIGTERM:
    # the stop reuses that checkpoint instead of saving step 4 a second time.
    # The trainer schedules its callbacks from the config it is built with.
    run = make_trainer(tmp_path, sample_every=2, every_n_steps=4)
    run.on_sample = lambda step: os.kill(os.getpid(), signal.SIGTERM) if step == 4 else None
    with pytest.raises(TrainingInterrupted, match="checkpoint saved at step 4"):
        run.fit()
    assert run.checkpoints.all_steps() == [4]


def grain_trainer(workdir, steps):
    """A trainer fed by the grain pipeline the CLI builds (its position saved by grain)."""
    from artifex.generative_models.training.data import ArraySource, make_pipeline

    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, size=(40, 6, 6, 1)).astype(np.float32)
    source = ArraySource(images, source_layout="NHWC", input_range=(-1.0, 1.0))
    model = GANConfig(
        generator=GeneratorConfig(hidden_dims=(8,), output_shape=(6, 6, 1), latent_dim=4),
        discriminator=DiscriminatorConfig(hidden_dims=(8,)),
    )
    config = TrainingConfig(
        steps=steps,
        steps_per_dispatch=2,
        logging=LoggingConfig(log_every=2, sample_every=0),
        checkpoint=CheckpointConfig(directory=str(workdir), every_n_steps=4, keep_last=2),
    )
    data = make_pipeline(source, batch_size=8, seed=3, prefetch=0)
    return Trainer(GAN(model, rngs=nnx.Rngs(0)), data, config)


def test_a_grain_pipeline_resumes_the_same_batches_after_a_restart(tmp_path):
    straight = grain_trainer(tmp_path / "straight", steps=8)
    straight.fit()
    first = grain_trainer(tmp_path / "halves", steps=4)
    first.fit()
    assert (tmp_path / "halves" / "checkpoints" / "4" / "data").is_dir()  # grain's handler
    second = grain_trainer(tmp_path / "halves", steps=8)
    second.fit()  # resumes from step 4: its pipeline continues at the batch step 5 reads
    assert_same_state(straight.state, second.state)
    # The data streams stand at the same batch too (40 examples, 5 batches per epoch, the
    # runs are past the first epoch).
    for _ in range(3):
        np.testing.assert_array_equal(next(straight.data)["image"], next(second.data)["image"])
