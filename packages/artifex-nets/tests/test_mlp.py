import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import DiscriminatorConfig, GeneratorConfig
from artifex.generative_models.nets import Discriminator, Generator

Z = jax.random.normal(jax.random.key(0), (4, 8))


def small_generator(**changes):
    config = GeneratorConfig(hidden_dims=(16,), output_shape=(6, 6, 1), latent_dim=8)
    return Generator(config=config.replace(**changes), rngs=nnx.Rngs(params=0))


def test_user_guide_quick_start_shape():
    config = GeneratorConfig(
        name="g", hidden_dims=(32, 64), output_shape=(28, 28, 1), latent_dim=100
    )
    generator = Generator(config=config, rngs=nnx.Rngs(params=0, sample=1, dropout=2))
    generator.eval()
    samples = generator(jax.random.normal(jax.random.key(0), (16, 100)))
    assert samples.shape == (16, 28, 28, 1)
    assert float(jnp.max(jnp.abs(samples))) <= 1.0  # tanh output


def test_api_reference_keyword_style_keeps_the_batch_of_one_shape():
    generator = Generator(
        hidden_dims=[16, 32], output_shape=(1, 1, 28, 28), latent_dim=100,
        activation="relu", batch_norm=True, rngs=nnx.Rngs(params=0),
    )  # fmt: skip
    assert generator(jnp.ones((32, 100)), training=False).shape == (32, 1, 28, 28)
    discriminator = Discriminator(
        hidden_dims=[16, 8], activation="leaky_relu", leaky_relu_slope=0.2,
        batch_norm=False, dropout_rate=0.3, rngs=nnx.Rngs(params=0, dropout=1),
    )  # fmt: skip
    scores = discriminator(jnp.ones((32, 1, 28, 28)), training=True)
    assert scores.shape == (32, 1)
    assert bool(jnp.all((scores >= 0) & (scores <= 1)))


def test_probabilities_are_the_sigmoid_of_the_logits():
    config = DiscriminatorConfig(hidden_dims=(8,), input_shape=(4,), dropout_rate=0.0)
    discriminator = Discriminator(config=config, rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.key(1), (3, 4))
    logits = discriminator.logits(x, training=False)
    np.testing.assert_allclose(discriminator(x, training=False), jax.nn.sigmoid(logits))
    as_logits = Discriminator(config=config.replace(score_type="logits"), rngs=nnx.Rngs(0))
    np.testing.assert_allclose(as_logits(x, training=False), logits, rtol=1e-6)


def test_lazy_layers_and_initialize_layers():
    lazy = Discriminator(hidden_dims=(8,), rngs=nnx.Rngs(0))
    lazy.initialize_layers((1, 2, 3, 3))  # (batch, C, H, W) as the API reference writes
    assert lazy.input_shape == (2, 3, 3)
    with pytest.raises(ValueError, match=r"exist for samples of shape \(2, 3, 3\)"):
        lazy.initialize_layers((5,))
    with pytest.raises(ValueError, match=r"expects x of shape \(batch, 2, 3, 3\), got \(4, 5\)"):
        lazy(jnp.ones((4, 5)))
    under_jit = Discriminator(hidden_dims=(8,), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="no input_shape and no layers yet"):
        nnx.jit(lambda m, x: m(x))(under_jit, jnp.ones((2, 3)))


def test_both_styles_build_the_same_network():
    by_keywords = Generator(
        hidden_dims=(16,), output_shape=(6, 6, 1), latent_dim=8, rngs=nnx.Rngs(params=0)
    )
    by_config = small_generator()
    assert by_keywords.config == by_config.config
    np.testing.assert_array_equal(by_keywords(Z, training=False), by_config(Z, training=False))


def test_construction_errors_name_what_is_allowed():
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'hidden_dim'"):
        Generator(hidden_dim=(8,), output_shape=(4,), latent_dim=2, rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match="needs a GeneratorConfig, got DiscriminatorConfig"):
        Generator(config=DiscriminatorConfig(hidden_dims=(8,)), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"expects z of shape \(batch, 8\), got \(4, 7\)"):
        small_generator()(jnp.ones((4, 7)))


def test_dropout_acts_in_training_mode_only():
    config = DiscriminatorConfig(hidden_dims=(64,), input_shape=(6,), dropout_rate=0.5)
    discriminator = Discriminator(config=config, rngs=nnx.Rngs(params=0))  # no dropout stream
    x = jnp.ones((2, 6))
    first, second = discriminator.logits(x), discriminator.logits(x)
    assert not np.allclose(first, second)
    discriminator.eval()
    np.testing.assert_array_equal(discriminator.logits(x), discriminator.logits(x))
    np.testing.assert_array_equal(discriminator.logits(x), discriminator.logits(x, training=False))


def test_batch_norm_statistics_move_in_training_mode_only():
    generator = small_generator()
    stats = lambda: nnx.state(generator, nnx.BatchStat)  # noqa: E731
    before = jax.tree.map(np.asarray, stats())
    generator.eval()
    generator(Z)
    jax.tree.map(np.testing.assert_array_equal, before, jax.tree.map(np.asarray, stats()))
    generator(Z, training=True)
    changed = jax.tree.map(lambda a, b: not np.allclose(a, b), before, stats())
    assert any(jax.tree.leaves(changed))


def test_jit_equals_eager_with_spectral_norm_and_one_optimizer_step_moves_parameters():
    config = DiscriminatorConfig(
        hidden_dims=(8,), input_shape=(4,), use_spectral_norm=True, batch_norm=True,
        dropout_rate=0.0, score_type="logits",
    )  # fmt: skip
    discriminator = Discriminator(config=config, rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.key(2), (4, 4))
    eager = discriminator(x, training=False)
    jitted = nnx.jit(lambda m, x: m(x, training=False))(discriminator, x)
    np.testing.assert_allclose(jitted, eager, rtol=1e-5)  # XLA may fuse differently

    optimizer = nnx.Optimizer(discriminator, optax.adam(1e-2), wrt=nnx.Param)
    before = jax.tree.map(np.asarray, nnx.state(discriminator, nnx.Param))

    @nnx.jit
    def step(model, optimizer, x):
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean(m(x, training=True) ** 2))(model)
        optimizer.update(model, grads)
        return loss

    assert np.isfinite(float(step(discriminator, optimizer, x)))
    after = nnx.state(discriminator, nnx.Param)
    moved = jax.tree.map(lambda a, b: not np.allclose(a, b), before, after)
    assert all(jax.tree.leaves(moved))
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(after))


def test_dropout_layers_get_distinct_keys_without_a_dropout_stream():
    discriminator = Discriminator(
        hidden_dims=(8, 8), input_shape=(4,), dropout_rate=0.5, rngs=nnx.Rngs(params=0)
    )
    keys = [jax.random.key_data(block.dropout.rngs.key[...]) for block in discriminator.blocks]
    assert not np.array_equal(keys[0], keys[1])
