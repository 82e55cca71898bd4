"""``LSGAN``: the losses honour a, b, c and the reduction of the config."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import LSGANConfig, ModelConfig
from artifex.generative_models.models.gan import LSGAN, LSGANDiscriminator, LSGANGenerator

SHAPE = (28, 28, 1)
REAL = np.array([[0.5], [-1.0], [2.0], [0.0]])
FAKE = np.array([[1.5], [0.25], [-0.5], [1.0]])


@pytest.fixture(scope="module")
def lsgan(tiny):
    with tiny.fast_prng_scope():
        return LSGAN(
            tiny.lsgan_config(SHAPE, a=-1.0, b=1.0, c=0.5, reduction="sum"),
            rngs=nnx.Rngs(params=0, dropout=1, sample=2),
        )


def test_method_losses_use_the_config_targets_and_reduction(lsgan):
    real, fake = jnp.asarray(REAL, jnp.float32), jnp.asarray(FAKE, jnp.float32)
    d = np.sum(0.5 * (REAL - 1.0) ** 2 + 0.5 * (FAKE + 1.0) ** 2)  # b = 1, a = -1, sum
    g = np.sum(0.5 * (FAKE - 0.5) ** 2)  # c = 0.5, sum
    np.testing.assert_allclose(lsgan.discriminator_loss(real, fake), d, rtol=1e-6)
    np.testing.assert_allclose(lsgan.generator_loss(fake), g, rtol=1e-6)


def test_arguments_override_the_config(lsgan):
    real, fake = jnp.asarray(REAL, jnp.float32), jnp.asarray(FAKE, jnp.float32)
    d = np.mean(0.5 * (REAL - 2.0) ** 2 + 0.5 * (FAKE - 0.0) ** 2)
    got = lsgan.discriminator_loss(real, fake, target_real=2.0, target_fake=0.0, reduction="mean")
    np.testing.assert_allclose(got, d, rtol=1e-6)
    g = 0.5 * (FAKE[:, 0] - 1.0) ** 2
    got = lsgan.generator_loss(fake, target_real=1.0, reduction="none")
    np.testing.assert_allclose(got, g, rtol=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        lsgan.generator_loss(fake, reduction="max")


def test_loss_fn_honours_a_b_c_and_reduction(lsgan, tiny):
    model = nnx.clone(lsgan)
    real = tiny.images(SHAPE)

    @nnx.jit
    def run(model, real):
        losses = model.loss_fn(real, None, rngs=nnx.Rngs(sample=3), training=False)
        z = jax.random.normal(nnx.Rngs(sample=3).sample(), (4, 8))
        fake = model.generator(z, training=False)
        return (
            losses,
            model.discriminator.logits(real, False),
            model.discriminator.logits(fake, False),
        )

    losses, r, f = run(model, real)
    r, f = tiny.to_numpy(r), tiny.to_numpy(f)
    np.testing.assert_allclose(
        losses["discriminator_loss"],
        np.sum(0.5 * (r - 1.0) ** 2 + 0.5 * (f + 1.0) ** 2),
        rtol=1e-5,
    )
    np.testing.assert_allclose(losses["generator_loss"], np.sum(0.5 * (f - 0.5) ** 2), rtol=1e-5)
    np.testing.assert_allclose(losses["real_scores_mean"], r.mean(), rtol=1e-5, atol=1e-6)


def test_seed_003_legacy_flow(tiny):
    lsgan = tiny.abstract(
        lambda: LSGAN(
            ModelConfig(input_dim=8, output_dim=(3, 16, 16), hidden_dims=[8, 4]),
            rngs=nnx.Rngs(params=0, dropout=1, sample=2),
        )
    )
    assert isinstance(lsgan.config, LSGANConfig)
    assert isinstance(lsgan.generator, LSGANGenerator)
    assert isinstance(lsgan.discriminator, LSGANDiscriminator)

    def flow(lsgan, real_images, z):
        fake_images = lsgan.generator(z, training=True)
        real_scores = lsgan.discriminator(real_images, training=True)
        fake_scores = lsgan.discriminator(fake_images, training=True)
        return (
            real_scores,
            lsgan.generator_loss(fake_scores),
            lsgan.discriminator_loss(real_scores, fake_scores),
        )

    real = tiny.images((3, 16, 16))
    shapes = tiny.shape_of(flow, lsgan, real, jnp.zeros((4, 8)))
    assert shapes == ((4, 1), (), ())  # raw scores (B, 1); scalar losses


def test_one_optimizer_step_with_batchnorm_discriminator(lsgan, tiny):
    tiny.assert_trained(tiny.optimizer_step(nnx.clone(lsgan), tiny.images(SHAPE)))
