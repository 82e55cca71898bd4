"""``CycleGAN``: both construction styles and attribute names, the objective, training."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import CycleGANConfig
from artifex.generative_models.core.losses import (
    least_squares_discriminator_loss,
    least_squares_generator_loss,
)
from artifex.generative_models.models.gan import (
    CycleGAN,
    CycleGANDiscriminator,
    CycleGANGenerator,
    PatchGANDiscriminator,
)


@pytest.fixture(scope="module")
def keyword_model(tiny):
    with tiny.fast_prng_scope():
        return CycleGAN(
            input_shape_x=(3, 8, 8),
            input_shape_y=(3, 8, 8),
            gen_hidden_dims=(4, 8),
            disc_hidden_dims=(4, 8),
            cycle_weight=10.0,
            identity_weight=0.5,
            n_residual_blocks=1,
            rngs=nnx.Rngs(params=0, dropout=1),
        )


def test_keyword_style_of_seed_003(keyword_model):
    cyclegan = keyword_model
    assert isinstance(cyclegan.config, CycleGANConfig)
    assert (cyclegan.lambda_cycle, cyclegan.lambda_identity) == (10.0, 0.5)
    assert cyclegan.generator_g is cyclegan.generator_a_to_b
    assert cyclegan.generator_f is cyclegan.generator_b_to_a
    assert cyclegan.discriminator_x is cyclegan.discriminator_a
    assert cyclegan.discriminator_y is cyclegan.discriminator_b
    assert isinstance(cyclegan.generator_g, CycleGANGenerator)
    assert isinstance(cyclegan.discriminator_x, CycleGANDiscriminator)
    assert cyclegan.config.generator_a_to_b.n_residual_blocks == 1

    @nnx.jit
    def translate(model, horses):
        zebras = model.generator_g(horses, training=False)
        back = model.generator_f(zebras, training=False)
        return zebras, back, model.discriminator_x(horses), model.translate(horses, "a_to_b")

    horses = jax.random.normal(jax.random.key(0), (2, 3, 8, 8))
    zebras, back, patches, translated = translate(cyclegan, horses)
    assert zebras.shape == back.shape == (2, 3, 8, 8)
    assert patches.shape == (2, 4, 4, 1)  # keyword style: the patch scores alone
    np.testing.assert_allclose(translated, zebras, rtol=1e-6)
    np.testing.assert_allclose(cyclegan.translate(horses), zebras, rtol=1e-5, atol=1e-6)  # eager


def test_config_style_of_seed_000(tiny):
    cyclegan = tiny.abstract(
        lambda: CycleGAN(
            config=tiny.cyclegan_config((8, 8, 3), lambda_cycle=5.0, lambda_identity=0.25),
            rngs=nnx.Rngs(params=0, dropout=1, sample=2),
        )
    )
    assert (cyclegan.lambda_cycle, cyclegan.lambda_identity) == (5.0, 0.25)
    assert isinstance(cyclegan.discriminator_b, PatchGANDiscriminator)
    assert cyclegan.discriminator_b.score_type == "logits"  # least squares by default

    def step(model, batch_x):
        fake_b = model.generator_a_to_b(batch_x)
        return fake_b, model.discriminator_b(fake_b)

    fake_b, features = tiny.shape_of(step, cyclegan, jnp.zeros((2, 8, 8, 3)))
    assert fake_b == (2, 8, 8, 3)
    # Config style: intermediate features with the final patch scores last (seed 000).
    assert isinstance(features, list) and features[-1] == (2, 4, 4, 1)


def test_loss_fn_is_adversarial_plus_cycle_plus_identity(keyword_model, tiny):
    a, b = tiny.images((3, 8, 8), seed=1), tiny.images((3, 8, 8), seed=2)

    @nnx.jit
    def run(model, a, b):
        losses = model.loss_fn({"x": a, "y": b}, None, training=False)
        g, f = model.generator_g, model.generator_f
        fake_b, fake_a = g(a, training=False), f(b, training=False)
        parts = {
            "rec_a": f(fake_b, training=False),
            "rec_b": g(fake_a, training=False),
            "id_a": f(a, training=False),
            "id_b": g(b, training=False),
        }
        logits = {
            "real_a": model.discriminator_x.logits(a, training=False),
            "fake_a": model.discriminator_x.logits(fake_a, training=False),
            "real_b": model.discriminator_y.logits(b, training=False),
            "fake_b": model.discriminator_y.logits(fake_b, training=False),
        }
        return losses, parts, logits

    losses, parts, logits = run(keyword_model, a, b)
    n = tiny.to_numpy
    cycle = 10.0 * (
        np.abs(n(parts["rec_a"]) - n(a)).mean() + np.abs(n(parts["rec_b"]) - n(b)).mean()
    )
    identity = 0.5 * (
        np.abs(n(parts["id_a"]) - n(a)).mean() + np.abs(n(parts["id_b"]) - n(b)).mean()
    )
    adversarial = float(least_squares_generator_loss(logits["fake_a"])) + float(
        least_squares_generator_loss(logits["fake_b"])
    )
    disc_a = float(least_squares_discriminator_loss(logits["real_a"], logits["fake_a"]))
    disc_b = float(least_squares_discriminator_loss(logits["real_b"], logits["fake_b"]))
    np.testing.assert_allclose(losses["cycle_loss"], cycle, rtol=1e-5)
    np.testing.assert_allclose(losses["identity_loss"], identity, rtol=1e-5)
    np.testing.assert_allclose(losses["adversarial_loss"], adversarial, rtol=1e-5)
    np.testing.assert_allclose(losses["generator_loss"], adversarial + cycle + identity, rtol=1e-5)
    np.testing.assert_allclose(losses["discriminator_a_loss"], disc_a, rtol=1e-5)
    np.testing.assert_allclose(losses["discriminator_loss"], disc_a + disc_b, rtol=1e-5)


def test_one_optimizer_step_at_28x28(tiny):
    cyclegan = CycleGAN(
        config=tiny.cyclegan_config((28, 28, 3)), rngs=nnx.Rngs(params=0, dropout=1)
    )
    batch = (tiny.images((28, 28, 3), batch=2, seed=1), tiny.images((28, 28, 3), batch=2, seed=2))
    tiny.assert_trained(
        tiny.optimizer_step(
            cyclegan, batch, generator="generator_a_to_b", discriminator="discriminator_b"
        )
    )


def test_domains_of_different_shapes_without_identity_loss(tiny):
    config_error = "needs both domains to share one image shape"
    with pytest.raises(ValueError, match=config_error):
        CycleGAN(input_shape_x=(3, 8, 8), input_shape_y=(1, 8, 8), rngs=nnx.Rngs(0))
    cyclegan = tiny.abstract(
        lambda: CycleGAN(
            input_shape_x=(3, 8, 8),
            input_shape_y=(1, 8, 8),
            gen_hidden_dims=(4, 8),
            disc_hidden_dims=(4, 8),
            identity_weight=0.0,
            n_residual_blocks=1,
            rngs=nnx.Rngs(params=0, dropout=1),
        )
    )
    assert cyclegan.input_shape_b == (1, 8, 8)
    batch = (jnp.zeros((2, 3, 8, 8)), jnp.zeros((2, 1, 8, 8)))
    losses = tiny.shape_of(lambda m, b: m.loss_fn(b), cyclegan, batch)
    assert losses["identity_loss"] == ()
    with pytest.raises(ValueError, match=r"domain B images must have shape \(batch, 1, 8, 8\)"):
        cyclegan.loss_fn((jnp.zeros((2, 3, 8, 8)), jnp.zeros((2, 3, 8, 8))))


def test_bad_batches_and_mixed_styles_are_refused(keyword_model, tiny):
    x = jnp.zeros((2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"batches of one size, got 2 \(A\) and 3 \(B\)"):
        keyword_model.loss_fn((x, jnp.zeros((3, 3, 8, 8))))
    with pytest.raises(KeyError, match="domain B's images"):
        keyword_model.loss_fn({"a": x, "c": x})
    with pytest.raises(ValueError, match="direction must be 'a_to_b' or 'b_to_a'"):
        keyword_model.translate(x, "x_to_y")
    with pytest.raises(TypeError, match="not both"):
        CycleGAN(tiny.cyclegan_config(), input_shape_x=(3, 8, 8), rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match="needs config=CycleGANConfig"):
        CycleGAN(rngs=nnx.Rngs(0))
