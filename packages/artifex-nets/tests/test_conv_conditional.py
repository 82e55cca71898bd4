"""Conditional networks: one-hot and integer labels, label errors, both construction styles."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ConditionalDiscriminatorConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
)
from artifex.generative_models.nets import ConditionalDiscriminator, ConditionalGenerator

LATENT, CLASSES = 8, 3
SHAPE = (1, 28, 28)
INDICES = jnp.array([0, 2, 1, 2])
ONE_HOT = jax.nn.one_hot(INDICES, CLASSES)
Z = jax.random.normal(jax.random.key(0), (4, LATENT))
IMAGES = jax.random.normal(jax.random.key(1), (4, *SHAPE))


@pytest.fixture(scope="module")
def generator():
    gen = ConditionalGenerator(
        output_shape=SHAPE,
        num_classes=CLASSES,
        latent_dim=LATENT,
        hidden_dims=(4, 4),
        embedding_dim=5,
        rngs=nnx.Rngs(params=0),
    )
    gen.eval()
    return gen


@pytest.fixture(scope="module")
def discriminator():
    disc = ConditionalDiscriminator(
        input_shape=SHAPE,
        num_classes=CLASSES,
        hidden_dims=(4, 4),
        embedding_dim=5,
        rngs=nnx.Rngs(params=1),
    )
    disc.eval()
    return disc


# -- both label forms -----------------------------------------------------------------


def test_one_hot_and_integer_labels_give_identical_images(generator):
    from_indices = generator(Z, INDICES)
    assert from_indices.shape == (4, *SHAPE)
    np.testing.assert_allclose(generator(Z, ONE_HOT), from_indices, rtol=1e-6, atol=1e-7)
    # int32 and int64-like inputs, lists and one-hot rows of integer dtype are accepted.
    np.testing.assert_allclose(
        generator(Z, ONE_HOT.astype(jnp.int32)), from_indices, rtol=1e-6, atol=1e-7
    )


def test_one_hot_and_integer_labels_give_identical_scores(discriminator):
    from_indices = discriminator(IMAGES, INDICES)
    assert from_indices.shape == (4,)
    assert discriminator.score_type == "probabilities"
    np.testing.assert_allclose(discriminator(IMAGES, ONE_HOT), from_indices, rtol=1e-6)
    np.testing.assert_allclose(
        discriminator.logits(IMAGES, ONE_HOT), discriminator.logits(IMAGES, INDICES), rtol=1e-6
    )


def test_labels_condition_the_output(generator, discriminator):
    other = (INDICES + 1) % CLASSES
    assert not np.allclose(generator(Z, INDICES), generator(Z, other))
    assert not np.allclose(
        discriminator.logits(IMAGES, INDICES), discriminator.logits(IMAGES, other)
    )


def test_jit_equals_eager_for_both_label_forms(generator, discriminator):
    @nnx.jit
    def run(gen, disc, z, labels):
        return disc.logits(gen(z, labels), labels)

    eager = discriminator.logits(generator(Z, INDICES), INDICES)
    np.testing.assert_allclose(run(generator, discriminator, Z, INDICES), eager, rtol=1e-5)
    np.testing.assert_allclose(run(generator, discriminator, Z, ONE_HOT), eager, rtol=1e-5)


def test_gradient_reaches_the_shared_embedding_table_from_both_forms(discriminator):
    model = nnx.clone(discriminator)
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)

    @nnx.jit
    def table_grads_then_step(model, optimizer):
        def loss(m, labels):
            return jnp.mean(m.logits(IMAGES, labels, training=False))

        from_indices = nnx.grad(loss)(model, INDICES)
        from_one_hot = nnx.grad(loss)(model, ONE_HOT)
        optimizer.update(model, from_one_hot)
        table = ("label_embedding", "embed", "embedding")
        pick = lambda grads: grads[table[0]][table[1]][table[2]][...]  # noqa: E731
        return pick(from_indices), pick(from_one_hot)

    before = np.asarray(model.label_embedding.embed.embedding[...])
    from_indices, from_one_hot = table_grads_then_step(model, optimizer)
    assert np.abs(from_indices).sum() > 0
    np.testing.assert_allclose(from_one_hot, from_indices, rtol=1e-5, atol=1e-7)
    assert not np.array_equal(before, model.label_embedding.embed.embedding[...])


# -- label errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (jnp.array([0, 1, 2]), r"expects labels for a batch of 4 .* got shape \(3,\)"),
        (
            jax.nn.one_hot(INDICES, 5),
            r"was built for num_classes=3: one-hot labels must have shape \(4, 3\), got \(4, 5\)",
        ),
        (
            jnp.array([0, 1, 3, 0]),
            r"class indices in \[0, 2\] \(num_classes=3\), got values from 0 to 3",
        ),
        (jnp.array([-1, 1, 2, 0]), r"got values from -1 to 2"),
        (jnp.array([0.0, 1.0, 2.0, 0.0]), r"to be integer class indices, got dtype float32"),
        (
            ONE_HOT[:, :, None],
            r"integer class indices of shape \(4,\) or one-hot rows of shape \(4, 3\), "
            r"got shape \(4, 3, 1\)",
        ),
    ],
)
def test_label_problems_are_refused_with_expected_and_got(
    generator, discriminator, labels, message
):
    with pytest.raises(ValueError, match=r"ConditionalGenerator .*" + message):
        generator(Z, labels)
    with pytest.raises(ValueError, match=r"ConditionalDiscriminator .*" + message):
        discriminator(IMAGES, labels)


def test_label_shape_problems_are_refused_under_jit(generator):
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        nnx.jit(lambda g, z, labels: g(z, labels))(generator, Z, INDICES[:3])


# -- construction styles --------------------------------------------------------------


def test_keyword_num_classes_and_embedding_dim_become_conditional_params(generator, discriminator):
    assert generator.config.conditional == ConditionalParams(num_classes=3, embedding_dim=5)
    assert discriminator.config.conditional == ConditionalParams(num_classes=3, embedding_dim=5)
    assert generator.num_classes == discriminator.num_classes == 3
    assert tuple(generator.label_embedding.embed.embedding.shape) == (3, 5)


def test_config_style_equals_keyword_style(generator):
    config = ConditionalGeneratorConfig(
        output_shape=SHAPE,
        latent_dim=LATENT,
        hidden_dims=(4, 4),
        conditional=ConditionalParams(num_classes=CLASSES, embedding_dim=5),
    )
    from_config = ConditionalGenerator(config=config, rngs=nnx.Rngs(params=0))
    np.testing.assert_array_equal(from_config(Z, INDICES, training=False), generator(Z, INDICES))
    # Keywords with a config change it; num_classes changes the nested ConditionalParams.
    changed = ConditionalGenerator(config=config, num_classes=4, rngs=nnx.Rngs(params=0))
    assert changed.config.conditional == ConditionalParams(num_classes=4, embedding_dim=5)


def test_discriminator_config_style():
    config = ConditionalDiscriminatorConfig(
        input_shape=(28, 28, 1),
        hidden_dims=(4, 4),
        conditional=ConditionalParams(num_classes=CLASSES, embedding_dim=5),
    )
    disc = ConditionalDiscriminator(config=config, rngs=nnx.Rngs(params=1))
    images = jnp.transpose(IMAGES, (0, 2, 3, 1))
    assert disc(images, INDICES, training=False).shape == (4,)


def test_missing_or_doubled_num_classes_is_refused():
    with pytest.raises(TypeError, match=r"ConditionalGenerator\(\) needs num_classes=\.\.\."):
        ConditionalGenerator(output_shape=SHAPE, rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match=r"give the label parameters one way"):
        ConditionalDiscriminator(
            input_shape=SHAPE,
            num_classes=3,
            conditional=ConditionalParams(num_classes=3),
            rngs=nnx.Rngs(0),
        )
    with pytest.raises(ValueError, match=r"ConditionalParams.num_classes=1"):
        ConditionalGenerator(output_shape=SHAPE, num_classes=1, rngs=nnx.Rngs(0))
