"""``ConditionalGAN``: labels as one-hot rows or indices, random labels, losses, training."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import ConditionalGANConfig, ModelConfig
from artifex.generative_models.models.gan import (
    ConditionalDiscriminator,
    ConditionalGAN,
    ConditionalGenerator,
)

SHAPE = (1, 28, 28)


@pytest.fixture(scope="module")
def cgan(tiny):
    with tiny.fast_prng_scope():
        return ConditionalGAN(
            tiny.conditional_config(SHAPE, num_classes=3),
            rngs=nnx.Rngs(params=0, dropout=1, sample=2),
        )


generate = nnx.jit(lambda model, labels, rngs: model.generate(labels=labels, rngs=rngs))


def test_legacy_model_config_of_seed_003(tiny):
    cgan = tiny.abstract(
        lambda: ConditionalGAN(
            ModelConfig(
                input_dim=8,
                output_dim=(1, 28, 28),
                metadata={
                    "gan_params": {
                        "num_classes": 10,
                        "gen_hidden_dims": (8, 4),
                        "discriminator_features": [4, 8],
                    }
                },
            ),
            rngs=nnx.Rngs(params=0, dropout=1, sample=2),
        )
    )
    assert isinstance(cgan.config, ConditionalGANConfig)
    assert isinstance(cgan.generator, ConditionalGenerator)
    assert isinstance(cgan.discriminator, ConditionalDiscriminator)
    assert cgan.num_classes == 10
    labels = jax.nn.one_hot(jnp.arange(10), 10)
    shape = tiny.shape_of(
        lambda m: m.generate(n_samples=10, labels=labels, rngs=nnx.Rngs(sample=0)), cgan
    )
    assert shape == (10, 1, 28, 28)
    assert tiny.shape_of(lambda m: m.generate(5), cgan) == (5, 1, 28, 28)  # random labels


def test_one_hot_and_integer_labels_give_the_same_samples(cgan):
    indices = jnp.array([0, 2, 1, 2])
    by_index = generate(cgan, indices, nnx.Rngs(sample=5))
    by_one_hot = generate(cgan, jax.nn.one_hot(indices, 3), nnx.Rngs(sample=5))
    assert by_index.shape == (4, *SHAPE)  # the number of labels when n_samples is not given
    np.testing.assert_allclose(by_index, by_one_hot, rtol=1e-5, atol=1e-6)
    z = jax.random.normal(nnx.Rngs(sample=5).sample(), (4, 8))
    direct = cgan.generator(z, indices, training=False)  # eager
    np.testing.assert_allclose(by_index, direct, rtol=1e-5, atol=1e-6)


def test_random_labels_when_none_are_given(cgan):
    run = nnx.jit(lambda m, rngs: (m.generate(6, rngs=rngs), m.random_labels(6, rngs)))
    samples, _ = run(cgan, nnx.Rngs(sample=9))
    again, _ = run(cgan, nnx.Rngs(sample=9))
    assert samples.shape == (6, *SHAPE)
    np.testing.assert_array_equal(samples, again)
    rngs = nnx.Rngs(sample=9)
    z = jax.random.normal(rngs.sample(), (6, 8))
    labels = jax.random.randint(rngs.sample(), (6,), 0, 3)  # drawn after the latents
    direct = nnx.jit(lambda m, z, y: m.generator(z, y, training=False))(cgan, z, labels)
    np.testing.assert_allclose(samples, direct, rtol=1e-5, atol=1e-6)


def test_loss_fn_matches_the_logits_of_labelled_samples(cgan, tiny):
    real = tiny.images(SHAPE)
    real_labels = jnp.array([0, 1, 2, 1])

    @nnx.jit
    def run(model, real):
        losses = model.loss_fn(
            {"images": real, "labels": real_labels}, None, rngs=nnx.Rngs(sample=4), training=False
        )
        pair = model.loss_fn((real, real_labels), None, rngs=nnx.Rngs(sample=4), training=False)
        rngs = nnx.Rngs(sample=4)
        z = jax.random.normal(rngs.sample(), (4, 8))
        fake_labels = jax.random.randint(rngs.sample(), (4,), 0, 3)
        fake = model.generator(z, fake_labels, training=False)
        r = model.discriminator.logits(real, real_labels, training=False)
        f = model.discriminator.logits(fake, fake_labels, training=False)
        return losses, pair, r, f

    losses, pair, r, f = run(cgan, real)
    r, f = tiny.to_numpy(r), tiny.to_numpy(f)
    ls = tiny.log_sigmoid
    np.testing.assert_allclose(
        losses["discriminator_loss"], np.mean(-ls(r)) + np.mean(-ls(-f)), rtol=1e-5
    )
    np.testing.assert_allclose(losses["generator_loss"], np.mean(-ls(f)), rtol=1e-5)
    for name in losses:
        np.testing.assert_allclose(pair[name], losses[name], rtol=1e-6)


def test_scores_of_real_data_and_labels(cgan, tiny):
    out = nnx.jit(lambda m, x: m(x, labels=jnp.array([0, 1, 2, 0])))(cgan, tiny.images(SHAPE))
    assert out["real_scores"].shape == (4,)
    assert out["fake_scores"] is None


def test_gradient_penalty_of_a_conditional_critic(cgan, tiny):
    from artifex.generative_models.core.losses import gradient_penalty
    from artifex.generative_models.models.gan import compute_gradient_penalty

    real, fake = tiny.images(SHAPE, seed=1), tiny.images(SHAPE, seed=2)
    labels = jnp.array([0, 1, 2, 1])

    @nnx.jit
    def both(model, real, fake):
        ours = compute_gradient_penalty(
            model.discriminator, real, fake, nnx.Rngs(sample=1), labels=labels, training=False
        )
        theirs = gradient_penalty(
            lambda x: model.discriminator.logits(x, labels, training=False),
            real,
            fake,
            nnx.Rngs(sample=1).sample(),
        )
        return ours, theirs

    ours, theirs = both(cgan, real, fake)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_one_optimizer_step_with_batchnorm_discriminator(cgan, tiny):
    batch = {"images": tiny.images(SHAPE), "labels": jnp.array([0, 1, 2, 1])}
    tiny.assert_trained(tiny.optimizer_step(nnx.clone(cgan), batch))


def test_wrong_labels_are_refused(cgan):
    with pytest.raises(ValueError, match=r"labels for a batch of 4.*got shape \(3,\)"):
        cgan.generate(n_samples=4, labels=jnp.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"num_classes=3: one-hot labels must have shape \(2, 3\)"):
        cgan.generate(labels=jax.nn.one_hot(jnp.array([0, 1]), 10))
    with pytest.raises(ValueError, match="integer class indices"):
        cgan.generate(labels=jnp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\]"):
        cgan.generate(labels=jnp.array([0, 3]))
    with pytest.raises(ValueError, match="needs the labels of the real data"):
        cgan.loss_fn(jnp.zeros((2, *SHAPE)), None)
    with pytest.raises(ValueError, match=r"\(batch, 1, 28, 28\) \(NCHW\)"):
        cgan(jnp.zeros((2, 28, 28, 1)), labels=jnp.array([0, 1]))
    with pytest.raises(
        ValueError, match=r"ConditionalGANConfig\.discriminator\.conditional\.num_classes"
    ):
        config = cgan.config
        params = config.discriminator.conditional.replace(num_classes=4)
        ConditionalGANConfig(
            generator=config.generator,
            discriminator=config.discriminator.replace(conditional=params),
        )
