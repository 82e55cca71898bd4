"""``WGAN`` and ``compute_gradient_penalty``: the losses package's numbers, clipping, training."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import ModelConfig, WGANConfig
from artifex.generative_models.core.losses import (
    gradient_penalty,
    wasserstein_discriminator_loss,
)
from artifex.generative_models.models.gan import (
    WGAN,
    WGANDiscriminator,
    compute_gradient_penalty,
)

SHAPE = (1, 28, 28)  # channels first: NCHW arrays


@pytest.fixture(scope="module")
def wgan(tiny):
    with tiny.fast_prng_scope():
        model = WGAN(tiny.wgan_config(SHAPE), rngs=nnx.Rngs(params=0, sample=1))
    model.eval()  # instance norm only; eval keeps every call free of state updates
    return model


@pytest.fixture(scope="module")
def samples(tiny):
    return tiny.images(SHAPE, seed=1), tiny.images(SHAPE, seed=2)


def critic(model):
    return lambda x: model.discriminator.logits(x, training=False)


def test_legacy_model_config_of_seed_003(tiny):
    wgan = tiny.abstract(
        lambda: WGAN(
            ModelConfig(
                input_dim=8,
                output_dim=(3, 16, 16),
                hidden_dims=None,
                metadata={
                    "gan_params": {
                        "gen_hidden_dims": (8, 4),
                        "disc_hidden_dims": (4, 8),
                        "gradient_penalty_weight": 5.0,
                        "critic_iterations": 2,
                    }
                },
            ),
            rngs=nnx.Rngs(params=0, sample=1),
        )
    )
    assert isinstance(wgan.config, WGANConfig)
    assert (wgan.critic_iterations, wgan.gradient_penalty_weight) == (2, 5.0)
    assert isinstance(wgan.discriminator, WGANDiscriminator)
    assert wgan.discriminator.score_type == "logits"
    assert wgan.sample_shape == (3, 16, 16)
    assert tiny.shape_of(lambda m: m.generate(16, rngs=nnx.Rngs(sample=0)), wgan) == (16, 3, 16, 16)


def test_discriminator_loss_is_wasserstein_plus_the_gradient_penalty(wgan, samples):
    real, fake = samples
    got = nnx.jit(lambda m, r, f: m.discriminator_loss(r, f, rngs=nnx.Rngs(params=2)))(
        wgan, real, fake
    )

    @nnx.jit
    def expected(model, real, fake):
        key = nnx.Rngs(params=2).params()
        logits = critic(model)
        return wasserstein_discriminator_loss(logits(real), logits(fake)), gradient_penalty(
            logits, real, fake, key, weight=10.0
        )

    distance, penalty = expected(wgan, real, fake)
    assert float(penalty) > 0
    np.testing.assert_allclose(got, distance + penalty, rtol=1e-5, atol=1e-6)


def test_generator_loss_is_minus_the_mean_critic_score(wgan, samples, tiny):
    _, fake = samples
    got, logits = nnx.jit(lambda m, f: (m.generator_loss(f), critic(m)(f)))(wgan, fake)
    assert logits.shape == (4,)  # the WGAN critic's flat scores
    np.testing.assert_allclose(got, -tiny.to_numpy(logits).mean(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wgan.generator_loss(fake), got, rtol=1e-5, atol=1e-6)  # eager


def test_compute_gradient_penalty_matches_the_losses_package(wgan, samples):
    real, fake = samples

    @nnx.jit
    def both(model, real, fake):
        ours = compute_gradient_penalty(
            model.discriminator, real, fake, rngs=nnx.Rngs(params=2), lambda_gp=3.0
        )
        theirs = gradient_penalty(
            critic(model), real, fake, nnx.Rngs(params=2).params(), weight=3.0
        )
        return ours, theirs

    ours, theirs = both(wgan, real, fake)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_compute_gradient_penalty_of_a_linear_critic_is_analytic():
    # D(x) = <w, x> has gradient w everywhere: GP = lambda * (|w| - 1)^2 exactly.
    w = jnp.arange(1.0, 13.0).reshape(1, 3, 2, 2) / 10.0
    real = jnp.ones((5, 3, 2, 2))
    fake = -jnp.ones((5, 3, 2, 2))
    gp = compute_gradient_penalty(
        lambda x: jnp.sum(x * w, axis=(1, 2, 3)), real, fake, rngs=jax.random.key(0), lambda_gp=2.5
    )
    norm = float(np.linalg.norm(np.arange(1.0, 13.0) / 10.0))
    np.testing.assert_allclose(gp, 2.5 * (norm - 1.0) ** 2, rtol=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        compute_gradient_penalty(lambda x: x.sum(), real, fake[:2], rngs=jax.random.key(0))
    with pytest.raises(ValueError, match="'sample', 'params' or 'default'"):
        compute_gradient_penalty(lambda x: x.sum(), real, fake, rngs=nnx.Rngs(dropout=0))


def test_loss_fn_draws_the_penalty_key_after_the_latent(wgan, tiny):
    real = tiny.images(SHAPE, seed=3)

    @nnx.jit
    def both(model, real):
        losses = model.loss_fn(real, None, rngs=nnx.Rngs(sample=4), training=False)
        rngs = nnx.Rngs(sample=4)
        fake = model.generator(jax.random.normal(rngs.sample(), (4, 8)), training=False)
        return losses, model.discriminator_loss(real, fake, rngs=rngs), model.generator_loss(fake)

    losses, discriminator_loss, generator_loss = both(wgan, real)
    np.testing.assert_allclose(losses["discriminator_loss"], discriminator_loss, rtol=1e-5)
    np.testing.assert_allclose(losses["generator_loss"], generator_loss, rtol=1e-5)


def test_weight_clipping_instead_of_penalty(tiny):
    wgan = WGAN(
        tiny.wgan_config(SHAPE, use_gradient_penalty=False, clip_value=0.01),
        rngs=nnx.Rngs(params=0, sample=1),
    )
    assert wgan.gradient_penalty_weight == 0.0
    nnx.jit(lambda m: m.clip_critic_weights())(wgan)
    params = jax.tree.leaves(nnx.state(wgan.discriminator, nnx.Param))
    assert all(float(jnp.max(jnp.abs(p))) <= 0.01 for p in params)
    assert any(float(jnp.max(jnp.abs(p))) == pytest.approx(0.01) for p in params)
    with pytest.raises(ValueError, match="clip_value must be > 0"):
        wgan.clip_critic_weights(0.0)


def test_one_optimizer_step_nchw(wgan, tiny):
    model = nnx.clone(wgan)
    model.train()
    tiny.assert_trained(tiny.optimizer_step(model, tiny.images(SHAPE)))


def test_wrong_shapes_are_refused(wgan):
    with pytest.raises(
        ValueError, match=r"real_samples must have shape \(batch, 1, 28, 28\) \(NCHW\)"
    ):
        wgan.discriminator_loss(jnp.zeros((4, 28, 28, 1)), jnp.zeros((4, 1, 28, 28)))
    with pytest.raises(ValueError, match="same shape"):
        wgan.discriminator_loss(jnp.zeros((4, *SHAPE)), jnp.zeros((3, *SHAPE)))
    with pytest.raises(ValueError, match="does not apply to family 'wgan'"):
        WGAN(
            ModelConfig(
                input_dim=8, output_dim=(1, 28, 28), metadata={"gan_params": {"num_classes": 3}}
            ),
            rngs=nnx.Rngs(0),
        )
