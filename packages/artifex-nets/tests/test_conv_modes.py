"""Train / eval, batch norm, dropout, spectral norm, scores, one optimizer step, jit."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import ConvDiscriminatorConfig
from artifex.generative_models.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    LSGANDiscriminator,
    WGANDiscriminator,
)
from artifex.generative_models.nets.layers import SpectralNorm, SpectralNormStat

# Small shared shapes: 28×28×1 images, 4 channels per layer (see test_conv_sizes).
LATENT = 8
SHAPE = (28, 28, 1)
Z = jax.random.normal(jax.random.key(0), (4, LATENT))
IMAGES = jax.random.normal(jax.random.key(1), (4, *SHAPE))


def bn_discriminator(**options):
    options = {"batch_norm": True, "dropout_rate": 0.0, "use_spectral_norm": False, **options}
    return DCGANDiscriminator(
        input_shape=SHAPE, hidden_dims=(4, 4), rngs=nnx.Rngs(params=0), **options
    )


def small_generator(**options):
    return DCGANGenerator(
        output_shape=SHAPE,
        latent_dim=LATENT,
        hidden_dims=(4, 4),
        rngs=nnx.Rngs(params=0),
        **options,
    )


def as_numpy(tree):
    return jax.tree.map(np.asarray, tree)


def tree_changed(before, after):
    return any(
        not np.array_equal(a, b)
        for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True)
    )


# -- batch norm -----------------------------------------------------------------------


def test_batchnorm_discriminator_one_adam_step_changes_params_and_keeps_them_finite():
    model = bn_discriminator(use_spectral_norm=True)
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    before = as_numpy(nnx.state(model, nnx.Param))

    def loss_fn(m):
        logits = m.logits(IMAGES, training=True)
        return optax.sigmoid_binary_cross_entropy(logits, jnp.ones_like(logits)).mean()

    # Compiled whole: eager dispatch would compile each of the many small ops on CPU.
    @nnx.jit
    def train_step(model, optimizer):
        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    loss = train_step(model, optimizer)
    after = as_numpy(nnx.state(model, nnx.Param))
    assert np.isfinite(float(loss))
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(after))
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after), strict=True)
    ]
    assert all(changed)  # every parameter, batch-norm scale and bias included


def test_batch_statistics_change_in_train_mode_and_not_in_eval_mode():
    model = bn_discriminator()
    stats = as_numpy(nnx.state(model, nnx.BatchStat))
    model.eval()
    model(IMAGES)
    model(IMAGES, training=False)
    assert not tree_changed(stats, as_numpy(nnx.state(model, nnx.BatchStat)))
    model(IMAGES, training=True)  # override of the eval mode
    assert tree_changed(stats, as_numpy(nnx.state(model, nnx.BatchStat)))
    model.train()
    stats = as_numpy(nnx.state(model, nnx.BatchStat))
    model(IMAGES)
    assert tree_changed(stats, as_numpy(nnx.state(model, nnx.BatchStat)))


def test_generator_batch_norm_follows_the_mode():
    gen = small_generator()
    assert isinstance(gen.projection.norm, nnx.BatchNorm)
    assert isinstance(gen.blocks[0].norm, nnx.BatchNorm)
    assert gen.output_layer.norm is None
    stats = as_numpy(nnx.state(gen, nnx.BatchStat))
    gen(Z, training=False)
    assert not tree_changed(stats, as_numpy(nnx.state(gen, nnx.BatchStat)))
    train_out = gen(Z, training=True)
    assert tree_changed(stats, as_numpy(nnx.state(gen, nnx.BatchStat)))
    # Train mode normalises with batch statistics, eval mode with the running ones.
    assert not np.allclose(train_out, gen(Z, training=False))


# -- dropout --------------------------------------------------------------------------


def test_dropout_changes_outputs_in_train_mode_and_not_in_eval_mode():
    # Built with params only, as the user guide does: the dropout stream is derived.
    model = DCGANDiscriminator(
        input_shape=SHAPE,
        hidden_dims=(4, 4),
        dropout_rate=0.5,
        use_spectral_norm=False,
        rngs=nnx.Rngs(params=2),
    )
    # Every dropout layer forks its own key from the derived stream.
    keys = [jax.random.key_data(block.dropout.rngs.key[...]) for block in model.blocks]
    assert not np.array_equal(keys[0], keys[1])
    first, second = model.logits(IMAGES), model.logits(IMAGES)  # training mode by default
    assert not np.allclose(first, second)
    model.eval()
    np.testing.assert_array_equal(model.logits(IMAGES), model.logits(IMAGES))
    assert not np.allclose(model.logits(IMAGES, training=True), model.logits(IMAGES))


def test_generator_dropout_is_applied_when_configured():
    gen = small_generator(dropout_rate=0.5, batch_norm=False)
    assert not np.allclose(gen(Z, training=True), gen(Z, training=True))
    np.testing.assert_array_equal(gen(Z, training=False), gen(Z, training=False))


# -- spectral norm, instance norm -----------------------------------------------------


def test_spectral_norm_wraps_every_layer_and_updates_only_in_train_mode():
    model = DCGANDiscriminator(input_shape=SHAPE, hidden_dims=(4, 4), rngs=nnx.Rngs(params=0))
    assert all(isinstance(block.conv, SpectralNorm) for block in model.blocks)
    assert isinstance(model.output_layer, SpectralNorm)
    stats = as_numpy(nnx.state(model, SpectralNormStat))
    model.logits(IMAGES, training=False)
    assert not tree_changed(stats, as_numpy(nnx.state(model, SpectralNormStat)))
    model.logits(IMAGES, training=True)
    assert tree_changed(stats, as_numpy(nnx.state(model, SpectralNormStat)))


def test_wgan_critic_normalises_each_sample_on_its_own():
    critic = WGANDiscriminator(input_shape=SHAPE, hidden_dims=(4, 4), rngs=nnx.Rngs(params=0))
    assert critic.blocks[0].norm is None
    assert isinstance(critic.blocks[1].norm, nnx.InstanceNorm)
    # Instance norm: a sample's score does not depend on the rest of the batch.
    alone = critic(IMAGES[:1], training=True)
    together = critic(IMAGES, training=True)[:1]
    np.testing.assert_allclose(alone, together, rtol=1e-5, atol=1e-6)


# -- scores ---------------------------------------------------------------------------


def test_dcgan_call_is_sigmoid_of_logits_and_wgan_lsgan_calls_are_logits():
    dcgan = bn_discriminator(batch_norm=False)
    logits = dcgan.logits(IMAGES, training=False)
    assert dcgan.score_type == "probabilities" and logits.shape == (4, 1)
    np.testing.assert_allclose(dcgan(IMAGES, training=False), jax.nn.sigmoid(logits), rtol=1e-6)

    lsgan = LSGANDiscriminator(
        input_shape=SHAPE,
        hidden_dims=(4, 4),
        dropout_rate=0.0,
        use_spectral_norm=False,
        rngs=nnx.Rngs(params=0),
    )
    np.testing.assert_array_equal(lsgan(IMAGES, training=False), logits)  # same weights

    critic = WGANDiscriminator(
        input_shape=SHAPE, hidden_dims=(4, 4), use_instance_norm=False, rngs=nnx.Rngs(params=0)
    )
    scores = critic(IMAGES, training=False)
    assert scores.shape == (4,)
    np.testing.assert_array_equal(scores, logits[:, 0])


def test_explicit_score_type_wins():
    config = ConvDiscriminatorConfig(input_shape=SHAPE, hidden_dims=(4, 4), score_type="logits")
    dcgan = DCGANDiscriminator(config=config, rngs=nnx.Rngs(params=0))
    np.testing.assert_array_equal(
        dcgan(IMAGES, training=False), dcgan.logits(IMAGES, training=False)
    )
    critic = WGANDiscriminator(
        config=config.replace(score_type="probabilities"), rngs=nnx.Rngs(params=0)
    )
    np.testing.assert_allclose(
        critic(IMAGES, training=False),
        jax.nn.sigmoid(critic.logits(IMAGES, training=False)),
        rtol=1e-6,
    )


def test_generator_output_is_tanh_bounded_and_output_activation_is_honoured():
    images = small_generator()(Z, training=False)
    assert np.all(np.abs(np.asarray(images)) <= 1.0)
    images = small_generator(output_activation="sigmoid")(Z, training=False)
    assert np.all((np.asarray(images) >= 0) & (np.asarray(images) <= 1))


# -- jit ------------------------------------------------------------------------------


@pytest.mark.parametrize("training", [False, True])
def test_jit_equals_eager(training):
    gen, disc = small_generator(), bn_discriminator(use_spectral_norm=True)
    gen_copy, disc_copy = nnx.clone(gen), nnx.clone(disc)

    @nnx.jit(static_argnames="training")
    def step(gen, disc, z, training):
        return disc.logits(gen(z, training=training), training=training)

    compiled = step(gen_copy, disc_copy, Z, training=training)
    eager = disc.logits(gen(Z, training=training), training=training)
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)
    # The state written in train mode (batch stats, spectral norm u) agrees too.
    for a, b in zip(
        jax.tree.leaves(nnx.state(disc, nnx.BatchStat)),
        jax.tree.leaves(nnx.state(disc_copy, nnx.BatchStat)),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
