"""BigGAN trains through the Trainer: labels from the data, hinge loss, orthogonal term.

One tiny model on the bundled 8x8 digits (spectral norm, self-attention in both networks,
hierarchical latent) keeps the compile short.
"""

import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    ConditionalParams,
    LoggingConfig,
    TrainingConfig,
)
from artifex.generative_models.core.configuration.biggan_configs import (
    BigGANConfig,
    BigGANDiscriminatorConfig,
    BigGANGeneratorConfig,
)
from artifex.generative_models.core.evaluation.metrics import load_digits
from artifex.generative_models.models.gan.biggan import BigGAN, BigGANRules
from artifex.generative_models.nets.biggan import orthogonal_penalty
from artifex.generative_models.training.trainer import Trainer

LABELS = ConditionalParams(num_classes=10, embedding_dim=8)
SHAPE = {"data_format": "NHWC"}
MODEL = BigGANConfig(
    generator=BigGANGeneratorConfig(
        hidden_dims=(8, 4),
        latent_dim=6,
        output_shape=(8, 8, 1),
        conditional=LABELS,
        hierarchical_latent=True,
        self_attention_at=4,
        **SHAPE,
    ),
    discriminator=BigGANDiscriminatorConfig(
        hidden_dims=(4, 8),
        input_shape=(8, 8, 1),
        conditional=LABELS.replace(embedding_dim=8),
        self_attention_at=4,
        **SHAPE,
    ),
    orthogonal_weight=1e-3,
)


class Digits:
    """Batches of the training digits in a fixed order; labels when asked."""

    def __init__(self, batch=8, labels=True):
        self.images, self.labels = load_digits("train")
        self.batch, self.position, self.with_labels = batch, 0, labels

    def __next__(self):
        start = self.position * self.batch % (len(self.images) - self.batch)
        self.position += 1
        batch = {"image": np.asarray(self.images[start : start + self.batch], np.float32)}
        if self.with_labels:
            batch["label"] = np.asarray(self.labels[start : start + self.batch], np.int32)
        return batch

    def get_state(self):
        return {"position": self.position}

    def set_state(self, state):
        self.position = state["position"]


def _training(workdir, steps=4):
    return TrainingConfig(
        steps=steps,
        steps_per_dispatch=2,
        logging=LoggingConfig(log_every=2, sample_every=0),
        checkpoint=CheckpointConfig(directory=str(workdir), every_n_steps=100, save_final=False),
    )


def test_biggan_trains_a_few_steps_with_labels_from_the_data(tmp_path):
    model = BigGAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1))
    rules = model.training_rules()
    assert isinstance(rules, BigGANRules) and rules.orthogonal_weight == 1e-3
    assert rules.objective.loss_type == "hinge" and rules.batch_keys == ("image", "label")
    expected = 1e-3 * float(orthogonal_penalty(model.generator))
    np.testing.assert_allclose(rules.orthogonal_term(model.generator), expected, rtol=1e-5)

    history = Trainer(model, Digits(), _training(tmp_path), progress=False).fit()
    last = history[-1]
    assert last["step"] == 4
    for name in ("d_loss", "g_loss", "orthogonal"):
        assert np.isfinite(last[name]), name
    assert last["orthogonal"] > 0
    assert float(model.generator.attention.gamma[...]) != 0.0  # attention is trained


def test_biggan_refuses_data_without_labels_and_other_configs(tmp_path):
    model = BigGAN(MODEL, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="no 'label' entry"):
        Trainer(model, Digits(labels=False), _training(tmp_path, steps=2), progress=False).fit()
    with pytest.raises(TypeError, match="BigGAN needs a BigGANConfig, got DCGANConfig"):
        from artifex.generative_models.training.presets import preset

        BigGAN(preset("dcgan").model, rngs=nnx.Rngs(0))
