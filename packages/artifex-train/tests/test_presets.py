"""The presets that exist for a reason beyond their family: what makes them what they are."""

import numpy as np
import pytest

from artifex.generative_models.training.presets import (
    DIGIT_ADA_TRANSFORMS,
    SMALL_SUBSET,
    preset,
)


@pytest.mark.slow
def test_the_dcgan_ada_preset_trains_two_steps_on_a_twentieth_of_the_digits_with_ada(tmp_path):
    from artifex.generative_models.training.data import pipeline_from_config, source_from_config
    from artifex.generative_models.training.run import build_model
    from artifex.generative_models.training.trainer import Trainer

    experiment = preset("dcgan-ada")
    training = experiment.training
    # It is the dcgan preset (same networks) on the small subset, with adaptive p.
    assert experiment.model.generator == preset("dcgan").model.generator
    assert training.augment.kind == "ada" and training.augment.target == 0.6
    # Only transforms under which a digit stays the same digit (no flips, no rotations).
    assert training.augment.transforms == DIGIT_ADA_TRANSFORMS
    assert not {"xflip", "rotate90", "rotate"} & set(DIGIT_ADA_TRANSFORMS)
    source = source_from_config(training.data, model_layout="NHWC")
    assert len(source) == SMALL_SUBSET == round(0.05 * 1438)
    short = experiment.replace(
        training=training.replace(
            steps=2,
            steps_per_dispatch=1,
            logging=training.logging.replace(log_every=1, sample_every=0),
            checkpoint=training.checkpoint.replace(every_n_steps=2),
        )
    )
    batches = pipeline_from_config(short.training.data, source, shard_index=0, shard_count=1)
    trainer = Trainer(build_model(short), batches, short, workdir=tmp_path, progress=False)
    rows = trainer.fit()
    assert [row["step"] for row in rows] == [1, 2]
    assert all(np.isfinite(row["d_loss"]) and np.isfinite(row["g_loss"]) for row in rows)
    # p starts at 0 and is steered every 4 iterations: after 2 it is still 0 and logged.
    assert rows[-1]["augment_p"] == 0.0
    assert float(trainer.state.augment["p"]) == 0.0
