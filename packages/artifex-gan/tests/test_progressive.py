"""``ProgressiveGAN``: stages, fade-in, losses with gradient penalty, training."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import ProgressiveGANConfig
from artifex.generative_models.core.losses import gradient_penalty
from artifex.generative_models.models.gan import (
    ProgressiveDiscriminator,
    ProgressiveGAN,
    ProgressiveGenerator,
)


@pytest.fixture(scope="module")
def progressive(tiny):
    with tiny.fast_prng_scope():
        return ProgressiveGAN(tiny.progressive_config(), rngs=nnx.Rngs(params=0, sample=1))


# -- Progressive GAN ------------------------------------------------------------------


def test_progressive_stages_and_generation(progressive, tiny):
    model = nnx.clone(progressive)
    assert isinstance(model.config, ProgressiveGANConfig)
    assert isinstance(model.generator, ProgressiveGenerator)
    assert isinstance(model.discriminator, ProgressiveDiscriminator)
    assert (model.stage, model.resolution, model.sample_shape) == (0, 4, (4, 4, 3))
    assert tiny.shape_of(lambda m: m.generate(2), model) == (2, 4, 4, 3)
    model.set_stage(1)
    assert (model.generator.current_stage, model.discriminator.current_stage) == (1, 1)
    blended, full = nnx.jit(
        lambda m: (
            m.generate(2, rngs=nnx.Rngs(sample=0), alpha=0.5),
            m.generate(2, rngs=nnx.Rngs(sample=0)),
        )
    )(model)
    assert blended.shape == full.shape == (2, 8, 8, 3)
    assert not np.allclose(blended, full)
    eager = model.generate(2, rngs=nnx.Rngs(sample=0), alpha=0.5)
    np.testing.assert_allclose(eager, blended, rtol=1e-5, atol=1e-6)
    assert model.set_step(0) == 1.0 and model.stage == 0
    assert model.set_step(3) == 0.5 and model.stage == 1
    with pytest.raises(ValueError):
        model.set_stage(2)


def test_progressive_downsample_to_stage_averages_blocks(progressive):
    model = nnx.clone(progressive)  # stage 0: 4x4 out of 8x8
    x = jnp.arange(2 * 8 * 8 * 3, dtype=jnp.float32).reshape(2, 8, 8, 3)
    expected = np.asarray(x).reshape(2, 4, 2, 4, 2, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(model.downsample_to_stage(x), expected)
    model.set_stage(1)
    np.testing.assert_array_equal(model.downsample_to_stage(x), x)
    with pytest.raises(ValueError, match=r"\(batch, 8, 8, 3\)"):
        model.downsample_to_stage(jnp.zeros((2, 4, 4, 3)))


def test_progressive_loss_fn_with_alpha_and_gradient_penalty(progressive, tiny):
    model = nnx.clone(progressive)
    model.set_stage(1)
    real = tiny.images((8, 8, 3))

    @nnx.jit
    def run(model, real):
        losses = model.loss_fn(real, None, rngs=nnx.Rngs(sample=6), alpha=0.5, training=False)
        rngs = nnx.Rngs(sample=6)
        fake = model.generator(jax.random.normal(rngs.sample(), (4, 8)), 0.5)

        def critic(x):
            return model.discriminator.logits(x, 0.5, training=False)

        penalty = gradient_penalty(critic, real, fake, rngs.sample(), weight=10.0)
        return losses, critic(real), critic(fake), penalty

    losses, r, f, penalty = run(model, real)
    r, f = tiny.to_numpy(r), tiny.to_numpy(f)
    assert model.config.loss_type == "wasserstein"
    np.testing.assert_allclose(
        losses["discriminator_loss"], f.mean() - r.mean() + float(penalty), rtol=1e-5
    )
    np.testing.assert_allclose(losses["generator_loss"], -f.mean(), rtol=1e-5)
    with pytest.raises(ValueError, match=r"\(batch, 8, 8, 3\)"):
        model.loss_fn(jnp.zeros((4, 4, 4, 3)), None)


def test_progressive_one_optimizer_step_while_fading_in(progressive, tiny):
    model = nnx.clone(progressive)
    model.set_stage(1)
    tiny.assert_trained(tiny.optimizer_step(model, tiny.images((8, 8, 3)), alpha=0.5))
