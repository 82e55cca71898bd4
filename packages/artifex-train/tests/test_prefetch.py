"""Batches prepared ahead by a thread: the same batches in the same order, exact resumes.

The data is a grain iterator whose batch ``i`` is drawn from a generator seeded with
``i``, so every batch differs and its number can be read back from the iterator's
position (``{"next_index": i}``). The tiny MLP GAN of the crash tests keeps the compiles short.
"""

import os
import signal
import sys
import threading
import traceback
from pathlib import Path

import grain
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    DataConfig,
    EMAConfig,
    LoggingConfig,
    TrainingConfig,
)
from artifex.generative_models.models.gan import GAN
from artifex.generative_models.training.callbacks import Callback
from artifex.generative_models.training.data._prefetch import DevicePrefetcher
from artifex.generative_models.training.trainer import Trainer, TrainingInterrupted

sys.path.insert(0, str(Path(__file__).parent))
from test_crash_resume import MODEL, assert_same_state  # the crash tests' tiny GAN

STEPS = 8


def batch(number):
    rng = np.random.default_rng(int(number))
    return {"image": np.tanh(rng.normal(size=(8, 4))).astype(np.float32)}


def points():
    """A grain iterator of distinct batches; its position is checkpointed by grain."""
    return iter(grain.MapDataset.range(10_000).map(batch).to_iter_dataset())


def make_trainer(workdir, *, ahead, every=100, data=None):
    config = TrainingConfig(
        steps=STEPS,
        steps_per_dispatch=2,
        ema=EMAConfig(decay=0.5),
        data=DataConfig(device_prefetch=ahead),
        logging=LoggingConfig(log_every=2, sample_every=0),
        checkpoint=CheckpointConfig(directory=str(workdir), every_n_steps=every, keep_last=2),
    )
    model = GAN(MODEL, rngs=nnx.Rngs(0))
    return Trainer(model, points() if data is None else data, config, progress=False)


def record_batches(trainer):
    """Keep a host copy of every dispatch's batches as the compiled step receives them."""
    seen, step = [], trainer._step

    def recording(state, batches):
        seen.append(np.asarray(batches["image"]))
        return step(state, batches)

    trainer._step = recording
    return seen


def prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "artifex-device-prefetch"]


@pytest.fixture(scope="module")
def without_prefetch(tmp_path_factory):
    """8 steps, batches prepared in the loop, a checkpoint every 2 steps."""
    trainer = make_trainer(tmp_path_factory.mktemp("plain"), ahead=0, every=2)
    seen = record_batches(trainer)
    trainer.fit()
    return trainer, seen


def test_the_same_batches_in_the_same_order_with_and_without_prefetch(tmp_path, without_prefetch):
    plain, plain_seen = without_prefetch
    trainer = make_trainer(tmp_path, ahead=2, every=2)  # checkpoints rewind the feed
    seen = record_batches(trainer)
    trainer.fit()
    # Batch i of the stream is batch(i): each dispatch holds 2 iterations x 1 batch.
    expected = [np.stack([batch(2 * d)["image"], batch(2 * d + 1)["image"]]) for d in range(4)]
    for got in (plain_seen, seen):
        assert len(got) == 4
        for dispatch, want in zip(got, expected, strict=True):
            np.testing.assert_array_equal(dispatch[:, 0], want)
    assert_same_state(plain.state, trainer.state)
    # After fit the iterator is where the training is, not where the thread got to.
    assert trainer.data.get_state() == plain.data.get_state() == {"next_index": STEPS}
    assert not prefetch_threads()


class SigtermAt(Callback):
    """Send this process SIGTERM after dispatch ``step``: the trainer saves and stops."""

    def __init__(self, step):
        self.at = step

    def on_dispatch_end(self, trainer, *, step):
        if step == self.at:
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_run_interrupted_with_prefetch_resumes_bitwise(tmp_path, without_prefetch):
    plain, _ = without_prefetch
    first = make_trainer(tmp_path, ahead=2)
    first.callbacks.append(SigtermAt(4))
    with pytest.raises(TrainingInterrupted, match="checkpoint saved at step 4"):
        first.fit()
    # The thread had drawn past step 4; the checkpoint holds the position of step 4.
    assert first.checkpoints.all_steps() == [4]
    assert first.data.get_state() == {"next_index": 4}
    assert not prefetch_threads()

    resumed = make_trainer(tmp_path, ahead=2, data=points())
    resumed.fit()
    assert resumed.data.get_state() == {"next_index": STEPS}
    assert_same_state(plain.state, resumed.state)  # bitwise on CPU


def test_an_error_in_the_data_source_is_raised_in_the_main_thread(tmp_path):
    def broken_record(number):
        if number == 5:
            raise OSError(f"record {number} is unreadable")
        return batch(number)

    data = iter(grain.MapDataset.range(100).map(broken_record).to_iter_dataset())
    trainer = make_trainer(tmp_path, ahead=2, data=data)
    with pytest.raises(OSError, match="record 5 is unreadable") as raised:
        trainer.fit()
    # The traceback reaches into the data source, where the error happened.
    frames = [frame.name for frame in traceback.extract_tb(raised.value.__traceback__)]
    assert "broken_record" in frames
    assert trainer.step == 4  # the dispatches before the bad batch were trained
    assert not prefetch_threads()


def test_prefetcher_order_rewind_and_iterators_without_a_position():
    source = points()
    feed = DevicePrefetcher(lambda: next(source)["image"], size=3, position=source)
    first = [next(feed) for _ in range(2)]
    feed.rewind()  # the thread had run ahead: the iterator goes back to batch 2
    assert source.get_state() == {"next_index": 2}
    rest = [next(feed) for _ in range(3)]
    feed.close()
    assert source.get_state() == {"next_index": 5}
    for number, got in enumerate(first + rest):
        np.testing.assert_array_equal(got, batch(number)["image"])

    # No get_state / set_state: nothing to set back, so the prepared items are kept.
    counter = iter(range(100))
    feed = DevicePrefetcher(lambda: next(counter), size=2)
    assert [next(feed), next(feed)] == [0, 1]
    feed.rewind()
    assert [next(feed) for _ in range(4)] == [2, 3, 4, 5]
    feed.close()
    with pytest.raises(ValueError, match="was closed"):
        next(feed)
    with pytest.raises(
        ValueError, match=r"size must be an int >= 1 \(items prepared ahead\), got 0"
    ):
        DevicePrefetcher(lambda: 0, size=0)
    with pytest.raises(ValueError, match=r"DataConfig.device_prefetch=-1: must be >= 0"):
        DataConfig(device_prefetch=-1)
