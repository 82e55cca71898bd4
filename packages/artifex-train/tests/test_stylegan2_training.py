"""StyleGAN2 trains through the Trainer and resumes exactly, its training statistics included.

The ``w`` average and the path-length mean are variables of the generator, so they are in
the training state: a checkpoint holds them and a resumed run continues with them, bitwise.
One tiny model (8x8, 4 channels, lazy R1 and path length every 2 iterations) and one
compiled program serve every test.
"""

import jax
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    EMAConfig,
    LoggingConfig,
    StyleGAN2Config,
    StyleGAN2GeneratorConfig,
    TrainingConfig,
)
from artifex.generative_models.models.gan import StyleGAN2
from artifex.generative_models.training.trainer import Trainer

MODEL = StyleGAN2Config(
    generator=StyleGAN2GeneratorConfig(
        latent_dim=4,
        style_dim=4,
        mapping_layers=2,
        image_size=8,
        channels=1,
        max_channels=4,
        min_channels=4,
    ),
    pl_interval=2,
    style_mixing_prob=0.5,
)
STEPS = 4


class Images:
    """Deterministic 8x8 batches in [-1, 1] with a checkpointable position."""

    def __init__(self, batch=4):
        self.position, self.batch = 0, batch

    def __next__(self):
        rng = np.random.default_rng(self.position)
        self.position += 1
        return {"image": np.tanh(rng.normal(size=(self.batch, 8, 8, 1))).astype(np.float32)}

    def get_state(self):
        return {"position": self.position}

    def set_state(self, state):
        self.position = state["position"]


def make_trainer(workdir, steps=STEPS):
    config = TrainingConfig(
        steps=steps,
        steps_per_dispatch=1,
        r1_weight=1.0,
        r1_interval=2,
        ema=EMAConfig(decay=0.5),
        logging=LoggingConfig(log_every=1, sample_every=0),
        checkpoint=CheckpointConfig(directory=str(workdir), every_n_steps=2, keep_last=3),
    )
    return Trainer(StyleGAN2(MODEL, rngs=nnx.Rngs(0)), Images(), config)


def statistics(trainer):
    """``(w_avg, path_length_mean)`` of the trainer's state, as NumPy arrays."""
    trainer.write_back()  # the trained state into trainer.model
    generator = trainer.model.generator
    return np.asarray(generator.w_avg[...]), np.asarray(generator.path_length_mean[...])


def leaves(state):
    return [
        np.asarray(
            jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x
        )
        for x in jax.tree.leaves(state)
    ]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("uninterrupted")
    run = make_trainer(workdir)
    history = run.fit()
    return run, history, workdir


def test_a_tiny_stylegan2_trains_with_finite_losses_and_moves_its_statistics(uninterrupted):
    run, history, _ = uninterrupted
    assert [row["step"] for row in history] == [1, 2, 3, 4]
    for row in history:
        for name in ("d_loss", "g_loss", "pl_mean", "pl_penalty", "r1"):
            assert np.isfinite(row[name]), (name, row)
    # Lazy terms: due on iterations 0 and 2 (logged as steps 1 and 3), zero in between.
    assert history[0]["pl_penalty"] > 0 and history[2]["pl_penalty"] > 0
    assert history[1]["pl_penalty"] == 0 and history[3]["pl_penalty"] == 0
    assert history[0]["r1"] > 0 and history[1]["r1"] == 0
    # The mean moves only when the penalty is due: m1 = 0.01 * mean(a) > 0, then held.
    assert history[0]["pl_mean"] > 0 and history[1]["pl_mean"] == history[0]["pl_mean"]
    w_avg, pl_mean = statistics(run)
    assert np.abs(w_avg).max() > 0 and pl_mean == np.float32(history[-1]["pl_mean"])


def test_resume_restores_the_w_average_and_path_length_mean_bitwise(uninterrupted, tmp_path):
    run, _, workdir = uninterrupted
    expected_w_avg, expected_pl_mean = statistics(run)

    # A straight restore of the last checkpoint gives the statistics back.
    restored = make_trainer(workdir)
    assert restored.restore(STEPS) == STEPS
    w_avg, pl_mean = statistics(restored)
    np.testing.assert_array_equal(w_avg, expected_w_avg)
    np.testing.assert_array_equal(pl_mean, expected_pl_mean)

    # A run stopped at step 2 and resumed ends where the uninterrupted run ends.
    make_trainer(tmp_path, steps=2).fit()
    resumed = make_trainer(tmp_path)
    resumed.fit()  # resumes from step 2
    assert int(resumed.state.step) == STEPS
    w_avg, pl_mean = statistics(resumed)
    np.testing.assert_array_equal(w_avg, expected_w_avg)
    np.testing.assert_array_equal(pl_mean, expected_pl_mean)
    for a, b in zip(leaves(resumed.state), leaves(run.state), strict=True):
        np.testing.assert_array_equal(a, b)
