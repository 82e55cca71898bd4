"""What the user watches: the trainer's TensorBoard scalars, images and settings.

The writers and the progress bar themselves are tested in ``test_writers.py`` and
``test_progress.py``; this checks the trainer's wiring end to end.
"""

import io
import struct

import jax
import jax.numpy as jnp
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
from artifex.generative_models.training.artifacts import image_grid
from artifex.generative_models.training.callbacks import SampleGrids
from artifex.generative_models.training.trainer import Trainer


def read_events(path):
    """Every Event proto of one event file (TFRecords: length, CRC, data, CRC)."""
    from tensorboardX.proto.event_pb2 import Event

    raw, i, events = path.read_bytes(), 0, []
    while i < len(raw):
        (length,) = struct.unpack("<Q", raw[i : i + 8])
        events.append(Event.FromString(raw[i + 12 : i + 12 + length]))
        i += 16 + length
    return events


def read_scalars(path):
    """(step, tag, value) of every scalar in one event file."""
    return [
        (event.step, value.tag, value.simple_value)
        for event in read_events(path)
        for value in event.summary.value
        if value.HasField("simple_value")
    ]


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
    grids = {}

    def sample(trainer):
        # The EMA-less generator's 4-vectors as 2x2 one-channel "images".
        images = np.asarray(trainer.ema_generator()(jnp.ones((3, 2)), training=False))
        grids[trainer.step] = image_grid(images.reshape(3, 2, 2, 1))
        return images.reshape(3, 2, 2, 1), None

    trainer.callbacks.append(SampleGrids(sample, tmp_path / "samples", every=2))
    history = trainer.fit()
    (path,) = (tmp_path / "logs" / "tensorboard").glob("events.out.tfevents.*")
    scalars = read_scalars(path)
    for row in history:
        for tag in ("d_loss", "g_loss", "it_per_s"):
            assert (row["step"], tag, pytest.approx(row[tag], rel=1e-6)) in scalars
    # The sample grids, as PNG images, equal the grids made at those steps.
    from PIL import Image

    images = {
        event.step: np.asarray(Image.open(io.BytesIO(value.image.encoded_image_string)))
        for event in read_events(path)
        for value in event.summary.value
        if value.HasField("image") and value.tag == "samples"
    }
    assert sorted(images) == sorted(grids) == [2, 4]
    for step, grid in grids.items():
        # A one-channel grid is stored as grey RGB: every channel is the grid.
        decoded = images[step].reshape(*grid.shape[:2], -1)
        for channel in range(decoded.shape[-1]):
            np.testing.assert_array_equal(decoded[..., channel], grid[..., 0])
    # The run's settings, as the hparams plugin's session start.
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    starts = [
        HParamsPluginData.FromString(value.metadata.plugin_data.content).session_start_info
        for event in read_events(path)
        for value in event.summary.value
        if value.metadata.plugin_data.plugin_name == "hparams"
        and value.tag == "_hparams_/session_start_info"
    ]
    assert len(starts) == 1
    hparams = starts[0].hparams
    assert hparams["training.steps"].number_value == 4
    assert hparams["training.logging.log_every"].number_value == 2
    assert hparams["model.generator.latent_dim"].number_value == 2


def test_sample_grids_run_one_compiled_program_with_the_eager_values(tmp_path):
    from artifex.generative_models.training.run import _compiled, _sampler

    traces = []

    def call(module, x):
        traces.append(1)  # Python runs once per trace: once per compiled program
        return module(x)

    run = _compiled(call)
    linear = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(5, 3)), jnp.float32)
    np.testing.assert_allclose(run(linear, x), linear(x), rtol=1e-6, atol=1e-7)
    linear.kernel.value = linear.kernel.value * -2.0  # new weights: the same program
    np.testing.assert_allclose(run(linear, x), linear(x), rtol=1e-6, atol=1e-7)
    assert len(traces) == 1
    # The run's grid sampler: the EMA-less generator's images, as an eager call gives them.
    model = GAN(
        GANConfig(
            generator=GeneratorConfig(
                hidden_dims=(8,), output_shape=(2, 2, 1), latent_dim=2, data_format="NHWC"
            ),
            discriminator=DiscriminatorConfig(hidden_dims=(8,)),
        ),
        rngs=nnx.Rngs(0),
    )
    config = TrainingConfig(steps=1, checkpoint=CheckpointConfig(save_final=False))
    trainer = Trainer(model, None, config, workdir=tmp_path)
    images, columns = _sampler(trainer, None, 6, None, "NHWC")(trainer)
    latent = jax.random.normal(jax.random.key(config.seed + 1), (6, 2))
    eager = np.asarray(trainer.ema_generator()(latent, training=False))
    assert columns is None and images.shape == (6, 2, 2, 1)
    np.testing.assert_allclose(images, eager, rtol=1e-6, atol=1e-7)
