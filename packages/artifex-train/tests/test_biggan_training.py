"""BigGAN trains through the Trainer: labels from the data, hinge loss, orthogonal term.

One tiny model on the bundled 8x8 digits (spectral norm, self-attention in both networks,
hierarchical latent) keeps the compile short.
"""

import jax
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
from artifex.generative_models.nets.layers.spectral_norm import SpectralNormStat
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


def _training(workdir, steps=4, every=100):
    return TrainingConfig(
        steps=steps,
        # One iteration per compiled call: on CPU a dispatch of K is K unrolled bodies,
        # K times the compile, and these tests are about BigGAN, not the dispatch.
        steps_per_dispatch=1,
        logging=LoggingConfig(log_every=2, sample_every=0),
        checkpoint=CheckpointConfig(directory=str(workdir), every_n_steps=every, keep_last=3),
    )


def _trainer(workdir, steps=4):
    """A trainer of a fresh tiny BigGAN that checkpoints every 2 steps."""
    model = BigGAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1))
    return Trainer(model, Digits(), _training(workdir, steps, every=2), progress=False)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """4 steps in one go; the first test reads its history, the resume test its state."""
    run = _trainer(tmp_path_factory.mktemp("uninterrupted"))
    history = run.fit()
    run.write_back()
    return run, history


@pytest.mark.slow  # trains end to end; run by CI's main session, not the JAX-matrix legs (CI time)
def test_biggan_trains_a_few_steps_with_labels_from_the_data(uninterrupted):
    model = BigGAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1))
    rules = model.training_rules()
    assert isinstance(rules, BigGANRules) and rules.orthogonal_weight == 1e-3
    assert rules.objective.loss_type == "hinge" and rules.batch_keys == ("image", "label")
    expected = 1e-3 * float(orthogonal_penalty(model.generator))
    np.testing.assert_allclose(rules.orthogonal_term(model.generator), expected, rtol=1e-5)

    run, history = uninterrupted
    last = history[-1]
    assert last["step"] == 4
    for name in ("d_loss", "g_loss", "orthogonal"):
        assert np.isfinite(last[name]), name
    assert last["orthogonal"] > 0
    assert float(run.model.generator.attention.gamma[...]) != 0.0  # attention is trained


def test_biggan_refuses_data_without_labels_and_other_configs(tmp_path):
    model = BigGAN(MODEL, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="no 'label' entry"):
        Trainer(model, Digits(labels=False), _training(tmp_path, steps=2), progress=False).fit()
    with pytest.raises(TypeError, match="BigGAN needs a BigGANConfig, got DCGANConfig"):
        from artifex.generative_models.training.presets import preset

        BigGAN(preset("dcgan").model, rngs=nnx.Rngs(0))


def _leaves(model, kind):
    """``{path: array}`` of the ``kind`` variables of ``model``."""
    flat = jax.tree_util.tree_flatten_with_path(nnx.state(model, kind))[0]
    return {jax.tree_util.keystr(path): np.asarray(x) for path, x in flat}


# SpectralNormStat is a BatchStat; the running BN statistics are the other BatchStats.
BN_STATISTICS = nnx.All(nnx.BatchStat, nnx.Not(SpectralNormStat))


@pytest.mark.slow  # two more compiled trainers (~30 s of CPU)
def test_biggan_resumes_exactly_with_its_power_iteration_vectors_and_bn_statistics(
    uninterrupted, tmp_path
):
    run, _ = uninterrupted
    _trainer(tmp_path, steps=2).fit()
    resumed = _trainer(tmp_path)
    resumed.fit()  # restores step 2, trains steps 3 and 4
    assert int(resumed.state.step) == 4
    resumed.write_back()

    fresh = BigGAN(MODEL, rngs=nnx.Rngs(params=0, dropout=1))
    for kind, names in (
        (SpectralNormStat, ("['u']", "['sigma']")),
        (BN_STATISTICS, ("['mean']", "['var']")),
    ):
        start, expected, got = (_leaves(m, kind) for m in (fresh, run.model, resumed.model))
        assert expected.keys() == got.keys() == start.keys()
        # Both kinds of each are there: the u vectors and sigmas of every spectral norm
        # (both networks, the self-attention convolutions included), the BN means and
        # variances (the conditional norms of G); training moved every one of them, so
        # a resume that restarted them from their initial values would show.
        assert all(any(n in name for name in expected) for n in names), kind
        for name in expected:
            # (A u of one entry, the power iteration of a one-output layer, is always 1.)
            if expected[name].size > 1:
                assert not np.array_equal(expected[name], start[name]), name
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    # The whole carried state (parameters, optimizers, keys) agrees bitwise too.
    for a, b in zip(jax.tree.leaves(resumed.state), jax.tree.leaves(run.state), strict=True):
        if jax.dtypes.issubdtype(a.dtype, jax.dtypes.prng_key):
            a, b = jax.random.key_data(a), jax.random.key_data(b)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.slow  # one more compiled trainer
def test_biggan_with_residual_blocks_trains_a_step_to_finite_losses(tmp_path):
    residual = MODEL.replace(
        generator=MODEL.generator.replace(blocks="residual"),
        discriminator=MODEL.discriminator.replace(blocks="residual"),
    )
    model = BigGAN(residual, rngs=nnx.Rngs(params=0, dropout=1))
    before = _leaves(model, nnx.Param)
    run = Trainer(model, Digits(), _training(tmp_path, steps=2), progress=False)
    last = run.fit()[-1]
    run.write_back()
    assert last["step"] == 2
    for name in ("d_loss", "g_loss", "orthogonal"):
        assert np.isfinite(last[name]), name
    after = _leaves(run.model, nnx.Param)
    # Both networks' residual convolutions (main and skip paths) were updated.
    for net in ("generator", "discriminator"):
        for conv in ("conv1", "conv2", "skip"):
            prefix = f"['{net}']['blocks'][1]['{conv}']['layer']['kernel']"
            (name,) = (n for n in after if n.startswith(prefix))
            assert not np.array_equal(after[name], before[name]), name
