"""``GAN`` with MLP networks: construction styles, generation, rngs, losses, training, jit.

Tests that check structure or errors build abstract models (``tiny.abstract``: traced,
never compiled); tests that check numbers build real ones.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import GANConfig, ModelConfig
from artifex.generative_models.core.losses import gradient_penalty
from artifex.generative_models.models.gan import GAN, Discriminator, Generator
from artifex.generative_models.models.gan._common import IMAGE_KEYS, extract

SHAPE = (28, 28, 1)


class SeedGANConfig:
    """Seed 003's attribute-style config, with tiny widths."""

    latent_dim = 8
    loss_type = "vanilla"
    gradient_penalty_weight = 0.0

    class generator:
        hidden_dims = [8, 4]  # noqa: RUF012 - a list, as seed 003 writes it
        output_shape = (1, 1, 28, 28)
        activation = "relu"
        batch_norm = True
        dropout_rate = 0.0

    class discriminator:
        hidden_dims = [8, 4]  # noqa: RUF012
        activation = "leaky_relu"
        leaky_relu_slope = 0.2
        batch_norm = False
        dropout_rate = 0.3
        use_spectral_norm = False


def build(config):
    return GAN(config, rngs=nnx.Rngs(params=0, dropout=1, sample=2))


# -- construction (abstract: nothing is compiled) -------------------------------------


def test_typed_config_style(tiny):
    config = tiny.mlp_config(loss_type="hinge")
    gan = tiny.abstract(lambda: build(config))
    assert gan.config is config
    assert isinstance(gan.generator, Generator) and isinstance(gan.discriminator, Discriminator)
    assert (gan.latent_dim, gan.loss_type, gan.sample_shape) == (8, "hinge", SHAPE)
    assert gan.discriminator.score_type == "logits"
    assert tiny.shape_of(lambda m: m.generate(5), gan) == (5, *SHAPE)
    assert tiny.shape_of(lambda m: m.generate(9, batch_size=3), gan) == (3, *SHAPE)


def test_seed_003_attribute_config_style(tiny):
    gan = tiny.abstract(lambda: build(SeedGANConfig()))
    assert isinstance(gan.config, GANConfig)
    assert gan.latent_dim == 8
    assert gan.sample_shape == (1, 28, 28)  # (1, 1, 28, 28) is read as a batch of one
    assert gan.config.discriminator.dropout_rate == 0.3
    assert gan.discriminator.score_type == "probabilities"  # vanilla: D returns [0, 1]
    shapes = tiny.shape_of(lambda m, x: m(x), gan, jnp.zeros((2, 1, 28, 28)))
    assert shapes == {"real_scores": (2, 1), "fake_scores": None, "fake_samples": None}


def test_legacy_model_config_style(tiny):
    gan = tiny.abstract(lambda: build(ModelConfig(input_dim=8, output_dim=16, hidden_dims=[8, 4])))
    assert gan.sample_shape == (16,)
    assert gan.config.discriminator.hidden_dims == (4, 8)
    assert tiny.shape_of(lambda m: m.generate(4, rngs=nnx.Rngs(sample=0)), gan) == (4, 16)


def test_explicit_score_type_is_kept(tiny):
    config = tiny.mlp_config()
    config = config.replace(discriminator=config.discriminator.replace(score_type="logits"))
    assert tiny.abstract(lambda: build(config)).discriminator.score_type == "logits"


def test_precision_is_validated(tiny):
    gan = tiny.abstract(
        lambda: GAN(tiny.mlp_config(), rngs=nnx.Rngs(0), precision=jax.lax.Precision.HIGHEST)
    )
    assert gan.precision == jax.lax.Precision.HIGHEST
    assert tiny.shape_of(lambda m: m.generate(2), gan) == (2, *SHAPE)
    with pytest.raises(ValueError, match="precision='fastest'"):
        GAN(tiny.mlp_config(), rngs=nnx.Rngs(0), precision="fastest")


def test_config_is_hashable_and_the_graph_is_static(tiny):
    gan = tiny.abstract(lambda: build(tiny.mlp_config()))
    assert hash(gan.config) == hash(tiny.mlp_config())
    graphdef, _ = nnx.split(gan)
    hash(graphdef)  # nnx.jit keys its compilation cache on it


# -- seed 003's example, eagerly, and the same under nnx.jit --------------------------


def test_seed_003_example_eager_equals_jit():
    gan = GAN(SeedGANConfig(), rngs=nnx.Rngs(params=0, dropout=1, sample=2))
    samples = gan.generate(n_samples=3, rngs=nnx.Rngs(sample=0))
    assert samples.shape == (3, 1, 28, 28)
    assert bool(jnp.all(jnp.abs(samples) <= 1.0))  # tanh output
    gan.eval()  # no dropout, running BatchNorm statistics: deterministic
    scores = gan(jnp.zeros((2, 1, 28, 28)))["real_scores"]
    assert bool(jnp.all((scores >= 0) & (scores <= 1)))
    batch = jnp.ones((4, 1, 28, 28))
    eager = gan.loss_fn(batch, None, rngs=nnx.Rngs(sample=0))
    jitted = nnx.jit(lambda m, b: m.loss_fn(b, None, rngs=nnx.Rngs(sample=0)))(gan, batch)
    assert set(eager) == {
        "loss",
        "generator_loss",
        "discriminator_loss",
        "real_scores_mean",
        "fake_scores_mean",
    }
    for name in eager:
        np.testing.assert_allclose(eager[name], jitted[name], rtol=1e-5, atol=1e-6)


# -- generation and rngs --------------------------------------------------------------


def test_generate_honours_rngs_and_the_own_stream(tiny):
    gan = build(tiny.mlp_config())

    @nnx.jit
    def run(model):
        latents = jax.random.normal(nnx.Rngs(sample=7).sample(), (4, 8))
        return (
            model.generate(4, rngs=nnx.Rngs(sample=7)),
            model.generate(4, rngs=nnx.Rngs(sample=7)),
            model.generate(4, rngs=nnx.Rngs(sample=8)),
            model.generate(4),
            model.generate(4),
            model.generator(latents, training=False),
        )

    stats = [np.array(x) for x in jax.tree.leaves(nnx.state(gan.generator, nnx.BatchStat))]
    same_a, same_b, other, own_1, own_2, direct = run(gan)
    assert same_a.shape == (4, *SHAPE)
    np.testing.assert_array_equal(same_a, same_b)  # same rngs, same samples
    assert not np.allclose(same_a, other)
    assert not np.allclose(own_1, own_2)  # the own stream advances between calls
    np.testing.assert_allclose(same_a, direct, rtol=1e-6)  # z from the sample stream, eval mode
    after = [np.array(x) for x in jax.tree.leaves(nnx.state(gan.generator, nnx.BatchStat))]
    assert all(np.array_equal(a, b) for a, b in zip(stats, after, strict=True))  # eval mode


def test_latents_come_from_sample_else_default_else_params(tiny):
    gan = tiny.abstract(lambda: build(tiny.mlp_config()))
    for streams, name in (
        ({"sample": 1, "default": 2}, "sample"),
        ({"default": 3}, "default"),
        ({"params": 4}, "params"),
    ):
        expected = jax.random.normal(getattr(nnx.Rngs(**streams), name)(), (2, 8))
        np.testing.assert_array_equal(gan.sample_latent(2, nnx.Rngs(**streams)), expected)
    with pytest.raises(
        ValueError, match="rngs needs one of the streams 'sample', 'default', 'params'"
    ):
        gan.sample_latent(2, nnx.Rngs(dropout=0))


def test_generate_refuses_bad_counts_and_options(tiny):
    gan = tiny.abstract(lambda: build(tiny.mlp_config()))
    with pytest.raises(ValueError, match="n_samples must be a positive int, got 0"):
        gan.generate(0)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got -1"):
        gan.generate(batch_size=-1)
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*'labels'"):
        gan.generate(2, labels=jnp.zeros(2))


def test_dropout_follows_the_given_rngs(tiny):
    gan = build(tiny.mlp_config(dropout_rate=0.5))

    @nnx.jit
    def run(model, x):
        return [model(x, rngs=nnx.Rngs(dropout=s), training=True)["real_scores"] for s in (1, 1, 2)]

    a, b, c = run(gan, tiny.images(SHAPE))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# -- losses: the losses package's numbers on the same logits --------------------------


def _losses_and_logits(gan, real, seed):
    """``loss_fn`` and the logits it should have used, in one compiled call."""

    @nnx.jit
    def run(model, real):
        losses = model.loss_fn(real, None, rngs=nnx.Rngs(sample=seed), training=False)
        rngs = nnx.Rngs(sample=seed)
        z = jax.random.normal(rngs.sample(), (real.shape[0], model.latent_dim))
        fake = model.generator(z, training=False)
        logits = model.discriminator.logits
        r, f = logits(real, training=False), logits(fake, training=False)
        penalty = gradient_penalty(
            lambda x: logits(x, training=False), real, fake, rngs.sample(), weight=10.0
        )  # the key drawn after the latent's
        return losses, r, f, penalty

    losses, r, f, penalty = run(gan, real)
    return losses, np.asarray(r, np.float64), np.asarray(f, np.float64), float(penalty)


def _check(losses, d, g, real_mean, fake_mean):
    np.testing.assert_allclose(losses["discriminator_loss"], d, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses["generator_loss"], g, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses["loss"], d + g, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses["real_scores_mean"], real_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(losses["fake_scores_mean"], fake_mean, rtol=1e-5, atol=1e-6)


def test_vanilla_loss_with_label_smoothing(tiny):
    gan = build(tiny.mlp_config(loss_type="vanilla", label_smoothing=0.1))
    losses, r, f, _ = _losses_and_logits(gan, tiny.images(SHAPE), 11)
    ls = tiny.log_sigmoid
    d = np.mean(-(0.9 * ls(r) + 0.1 * ls(-r))) + np.mean(-ls(-f))
    g = np.mean(-ls(f))  # non-saturating
    _check(losses, d, g, np.exp(ls(r)).mean(), np.exp(ls(f)).mean())  # probabilities


def test_least_squares_loss(tiny):
    gan = build(tiny.mlp_config(loss_type="least_squares"))
    losses, r, f, _ = _losses_and_logits(gan, tiny.images(SHAPE), 12)
    d = np.mean(0.5 * (r - 1.0) ** 2) + np.mean(0.5 * f**2)
    g = np.mean(0.5 * (f - 1.0) ** 2)
    _check(losses, d, g, r.mean(), f.mean())  # raw scores


def test_hinge_loss(tiny):
    gan = build(tiny.mlp_config(loss_type="hinge"))
    losses, r, f, _ = _losses_and_logits(gan, tiny.images(SHAPE), 13)
    d = np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f))
    _check(losses, d, -f.mean(), r.mean(), f.mean())


def test_wasserstein_loss_with_gradient_penalty(tiny):
    gan = build(tiny.mlp_config(loss_type="wasserstein", gradient_penalty_weight=10.0))
    losses, r, f, penalty = _losses_and_logits(gan, tiny.images(SHAPE), 14)
    assert penalty > 0
    _check(losses, f.mean() - r.mean() + penalty, -f.mean(), r.mean(), f.mean())


def test_batch_dicts(tiny):
    x = jnp.zeros((2, *SHAPE))
    for key in IMAGE_KEYS:
        assert extract({key: x, "labels": None}, IMAGE_KEYS, owner="t", what="data") is x
    gan = tiny.abstract(lambda: build(tiny.mlp_config()))
    shapes = tiny.shape_of(lambda m: m.loss_fn({"image": x}, None), gan)
    assert shapes["loss"] == ()
    with pytest.raises(KeyError, match="'images', 'image', 'x', 'data'; it has 'pixels'"):
        gan.loss_fn({"pixels": x}, None)


# -- training -------------------------------------------------------------------------


def test_one_optimizer_step_with_a_batchnorm_discriminator(tiny):
    # Dropout and BatchNorm in training mode inside the gradient penalty's input gradient.
    config = tiny.mlp_config(
        disc_batch_norm=True,
        dropout_rate=0.3,
        loss_type="wasserstein",
        gradient_penalty_weight=10.0,
    )
    gan = build(config)
    tiny.assert_trained(tiny.optimizer_step(gan, tiny.images(SHAPE)))


# -- errors ---------------------------------------------------------------------------


def test_wrong_shapes_and_bad_data_are_refused(tiny):
    gan = tiny.abstract(lambda: build(tiny.mlp_config()))
    with pytest.raises(
        ValueError, match=r"must have shape \(batch, 28, 28, 1\) \(NHWC\), got \(4, 1, 28, 28\)"
    ):
        gan.loss_fn(jnp.zeros((4, 1, 28, 28)), None)
    with pytest.raises(ValueError, match=r"must have shape \(batch, 28, 28, 1\)"):
        gan(jnp.zeros((28, 28, 1)))
    with pytest.raises(TypeError, match=r"must be floating point.*uint8"):
        gan.loss_fn(jnp.zeros((4, *SHAPE), jnp.uint8), None)
    with pytest.raises(ValueError, match="NaN or infinite"):
        gan.loss_fn(jnp.full((4, *SHAPE), jnp.nan), None)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        gan.loss_fn(jnp.zeros((4, *SHAPE)), None, alpha=0.5)


def test_mismatched_and_wrong_configs_are_refused(tiny):
    config = tiny.mlp_config()
    with pytest.raises(ValueError, match="does not match"):
        GANConfig(
            generator=config.generator,
            discriminator=config.discriminator.replace(input_shape=(32, 32, 1)),
        )
    with pytest.raises(TypeError, match="use ConditionalGAN"):
        GAN(tiny.conditional_config(), rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match="CycleGANConfig"):
        GAN(tiny.cyclegan_config(), rngs=nnx.Rngs(0))

    class Wrong(SeedGANConfig):
        latent_size = 3

    with pytest.raises(ValueError, match="unknown attribute 'latent_size'"):
        GAN(Wrong(), rngs=nnx.Rngs(0))
