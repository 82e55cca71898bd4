"""What the user watches: the trainer's TensorBoard scalars agree with its history.

The writers and the progress bar themselves are tested in ``test_writers.py`` and
``test_progress.py``; this checks the trainer's wiring end to end.
"""

import struct

import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    LoggingConfig,
    TrainingConfig,
)
from artifex.generative_models.models.gan import GAN
from artifex.generative_models.training.trainer import Trainer


def read_scalars(path):
    """(step, tag, value) of every scalar in one event file (TFRecords of Event protos)."""
    from tensorboardX.proto.event_pb2 import Event

    raw, i, found = path.read_bytes(), 0, []
    while i < len(raw):
        (length,) = struct.unpack("<Q", raw[i : i + 8])
        event = Event.FromString(raw[i + 12 : i + 12 + length])
        i += 16 + length
        found += [
            (event.step, value.tag, value.simple_value)
            for value in event.summary.value
            if value.HasField("simple_value")
        ]
    return found


def test_trainer_writes_tensorboard_scalars_that_match_its_history(tmp_path):
    model = GAN(
        GANConfig(
            generator=GeneratorConfig(hidden_dims=(8,), output_shape=(4,), latent_dim=2),
            discriminator=DiscriminatorConfig(hidden_dims=(8,)),
        ),
        rngs=nnx.Rngs(0),
    )
    rng = np.random.default_rng(0)
    data = iter(lambda: {"image": rng.uniform(-1, 1, (4, 4)).astype(np.float32)}, None)
    config = TrainingConfig(
        steps=4,
        steps_per_dispatch=2,
        logging=LoggingConfig(log_every=2, tensorboard=True, log_dir=str(tmp_path / "logs")),
        checkpoint=CheckpointConfig(every_n_steps=100, save_final=False),
    )
    trainer = Trainer(model, data, config, workdir=tmp_path)
    history = trainer.fit()
    (events,) = (tmp_path / "logs" / "tensorboard").glob("events.out.tfevents.*")
    scalars = read_scalars(events)
    for row in history:
        for tag in ("d_loss", "g_loss", "it_per_s"):
            assert (row["step"], tag, pytest.approx(row[tag], rel=1e-6)) in scalars
