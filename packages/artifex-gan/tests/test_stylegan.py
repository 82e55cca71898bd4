"""``StyleGAN``: generation, rngs, losses, training with style mixing."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import StyleGANConfig
from artifex.generative_models.models.gan import (
    StyleGAN,
    StyleGANDiscriminator,
    StyleGANGenerator,
)


@pytest.fixture(scope="module")
def stylegan(tiny):
    with tiny.fast_prng_scope():
        return StyleGAN(tiny.stylegan_config(), rngs=nnx.Rngs(params=0, sample=1, noise=2))


# -- StyleGAN -------------------------------------------------------------------------


def test_stylegan_construction_and_generation(stylegan):
    assert isinstance(stylegan.config, StyleGANConfig)
    assert isinstance(stylegan.generator, StyleGANGenerator)
    assert isinstance(stylegan.discriminator, StyleGANDiscriminator)
    assert (stylegan.latent_dim, stylegan.num_blocks, stylegan.sample_shape) == (8, 2, (8, 8, 3))
    assert stylegan.discriminator.score_type == "probabilities"  # vanilla loss by default

    @nnx.jit
    def run(model):
        return (
            model.generate(3, rngs=nnx.Rngs(sample=4)),
            model.generate(3, rngs=nnx.Rngs(sample=4)),
            model.generate(3),
            model.generate(3),
        )

    a, b, own_1, own_2 = run(nnx.clone(stylegan))
    assert a.shape == (3, 8, 8, 3)
    np.testing.assert_array_equal(a, b)
    eager = stylegan.generate(3, rngs=nnx.Rngs(sample=4))
    np.testing.assert_allclose(eager, a, rtol=1e-5, atol=1e-6)
    assert not np.allclose(own_1, own_2)


def test_stylegan_loss_fn_in_eval_mode_matches_the_logits(stylegan, tiny):
    real = tiny.images((8, 8, 3))

    @nnx.jit
    def run(model, real):
        losses = model.loss_fn(real, None, rngs=nnx.Rngs(sample=5), training=False)
        z = jax.random.normal(nnx.Rngs(sample=5).sample(), (4, 8))
        fake = model.generator(z, training=False)
        return (
            losses,
            model.discriminator.logits(real, False),
            model.discriminator.logits(fake, False),
        )

    losses, r, f = run(stylegan, real)
    r, f, ls = tiny.to_numpy(r), tiny.to_numpy(f), tiny.log_sigmoid
    np.testing.assert_allclose(
        losses["discriminator_loss"], np.mean(-ls(r)) + np.mean(-ls(-f)), rtol=1e-5
    )
    np.testing.assert_allclose(losses["generator_loss"], np.mean(-ls(f)), rtol=1e-5)


def test_stylegan_one_optimizer_step_with_style_mixing(stylegan, tiny):
    model = nnx.clone(stylegan)
    assert model.config.generator.style_mixing_prob > 0
    tiny.assert_trained(tiny.optimizer_step(model, tiny.images((8, 8, 3))))
