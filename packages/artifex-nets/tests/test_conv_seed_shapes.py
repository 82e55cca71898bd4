"""The seeds' convolutional networks: every API-reference example and user-guide config.

The seed-sized networks (64×64, up to 1024 channels) are built and called abstractly with
``nnx.eval_shape``: the whole Python path runs (config translation, size ladder, layout,
checks, every layer's shape rule) without compiling tens of large initialisers on a
2-core CI machine. The numerics of the same code paths are exercised with small channel
counts here (real 64×64 calls) and in the other ``test_conv_*`` files; the integration
harness executes the seed blocks verbatim.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ConditionalDiscriminatorConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
)
from artifex.generative_models.nets import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    DCGANDiscriminator,
    DCGANGenerator,
    LSGANDiscriminator,
    LSGANGenerator,
    WGANDiscriminator,
    WGANGenerator,
)


def abstract(make, call, *args):
    """Build with ``make`` and apply ``call(model, *args)`` abstractly; returns (model, out)."""
    model = nnx.eval_shape(make)
    return model, nnx.eval_shape(call, model, *args)


def kernel_shape(layer):
    inner = getattr(layer, "layer", layer)  # through SpectralNorm
    return tuple(inner.kernel.shape)


Z16 = jax.ShapeDtypeStruct((16, 100), jnp.float32)
IMAGES_NCHW = jax.ShapeDtypeStruct((16, 3, 64, 64), jnp.float32)


# -- seed 003, API reference examples -------------------------------------------------


def test_dcgan_generator_example():
    generator, images = abstract(
        lambda: DCGANGenerator(
            output_shape=(3, 64, 64),  # RGB 64×64 images
            latent_dim=100,
            hidden_dims=(256, 128, 64, 32),
            activation=jax.nn.relu,
            batch_norm=True,
            rngs=nnx.Rngs(params=0),
        ),
        lambda g, z: g(z, training=False),
        Z16,
    )
    assert images.shape == (16, 3, 64, 64)
    assert generator.feature_sizes == ((4, 4), (8, 8), (16, 16), (32, 32), (64, 64))
    assert tuple(generator.projection.dense.kernel.shape) == (100, 4 * 4 * 256)
    assert kernel_shape(generator.output_layer.conv) == (4, 4, 32, 3)
    assert isinstance(generator.projection.norm, nnx.BatchNorm)
    assert generator.output_layer.norm is None  # DCGAN: no batch norm on the output


def test_dcgan_discriminator_example():
    discriminator, scores = abstract(
        lambda: DCGANDiscriminator(
            input_shape=(3, 64, 64),
            hidden_dims=(32, 64, 128, 256),
            activation=jax.nn.leaky_relu,
            leaky_relu_slope=0.2,
            batch_norm=False,
            dropout_rate=0.3,
            use_spectral_norm=True,
            rngs=nnx.Rngs(params=0, dropout=1),
        ),
        lambda d, x: d(x, training=True),
        IMAGES_NCHW,
    )
    assert scores.shape == (16, 1)
    assert discriminator.feature_sizes[-1] == (4, 4)
    assert all(block.dropout is not None for block in discriminator.blocks)
    assert kernel_shape(discriminator.output_layer) == (4 * 4 * 256, 1)


def test_wgan_generator_example():
    generator, images = abstract(
        lambda: WGANGenerator(
            output_shape=(3, 64, 64),
            latent_dim=100,
            hidden_dims=(1024, 512, 256),
            activation=jax.nn.relu,
            batch_norm=True,
            rngs=nnx.Rngs(params=0),
        ),
        lambda g, z: g(z, training=False),
        Z16,
    )
    assert images.shape == (16, 3, 64, 64)
    assert generator.feature_sizes[0] == (8, 8)


def test_wgan_discriminator_example_returns_flat_raw_scores():
    critic, scores = abstract(
        lambda: WGANDiscriminator(
            input_shape=(3, 64, 64),
            hidden_dims=(256, 512, 1024),
            activation=jax.nn.leaky_relu,
            use_instance_norm=True,
            rngs=nnx.Rngs(params=0),
        ),
        lambda d, x: d(x, training=True),
        IMAGES_NCHW,
    )
    assert scores.shape == (16,)
    assert critic.score_type == "logits"
    assert critic.blocks[0].norm is None
    assert all(isinstance(block.norm, nnx.InstanceNorm) for block in critic.blocks[1:])


def test_lsgan_generator_example():
    _, images = abstract(
        lambda: LSGANGenerator(
            output_shape=(3, 64, 64),
            latent_dim=100,
            hidden_dims=(512, 256, 128, 64),
            rngs=nnx.Rngs(params=0),
        ),
        lambda g, z: g(z, training=False),
        Z16,
    )
    assert images.shape == (16, 3, 64, 64)


def test_lsgan_discriminator_example_returns_raw_logits():
    discriminator, scores = abstract(
        lambda: LSGANDiscriminator(
            input_shape=(3, 64, 64),
            hidden_dims=(64, 128, 256, 512),
            rngs=nnx.Rngs(params=0, dropout=1),
        ),
        lambda d, x: d(x, training=True),
        IMAGES_NCHW,
    )
    assert scores.shape == (16, 1)
    assert discriminator.score_type == "logits"


def test_conditional_generator_example():
    z = jax.random.normal(jax.random.key(0), (10, 100))
    labels = jax.nn.one_hot(jnp.arange(10), 10)  # One of each digit
    generator, images = abstract(
        lambda: ConditionalGenerator(
            output_shape=(1, 28, 28),  # MNIST
            num_classes=10,
            latent_dim=100,
            hidden_dims=(512, 256, 128, 64),
            rngs=nnx.Rngs(params=0),
        ),
        lambda g, z, labels: g(z, labels, training=False),
        z,
        labels,
    )
    assert images.shape == (10, 1, 28, 28)
    assert generator.config.conditional == ConditionalParams(num_classes=10)
    assert generator.feature_sizes == ((2, 2), (4, 4), (7, 7), (14, 14), (28, 28))
    assert tuple(generator.projection.dense.kernel.shape) == (100 + 50, 2 * 2 * 512)


def test_conditional_discriminator_example():
    images = jax.random.normal(jax.random.key(0), (32, 1, 28, 28))
    labels = jax.nn.one_hot(jnp.zeros(32, dtype=int), 10)  # All zeros
    discriminator, scores = abstract(
        lambda: ConditionalDiscriminator(
            input_shape=(1, 28, 28),
            num_classes=10,
            hidden_dims=(64, 128, 256, 512),
            rngs=nnx.Rngs(params=0, dropout=1),
        ),
        lambda d, x, labels: d(x, labels, training=True),
        images,
        labels,
    )
    assert scores.shape == (32,)
    assert discriminator.feature_sizes == ((28, 28), (14, 14), (7, 7), (4, 4), (2, 2))
    assert kernel_shape(discriminator.blocks[0].conv) == (4, 4, 1 + 1, 64)  # + label plane


# -- seed 000, user guide configs -----------------------------------------------------


def test_user_guide_dcgan_configs_nhwc():
    gen_config = ConvGeneratorConfig(
        name="dcgan_generator",
        latent_dim=100,
        hidden_dims=(512, 256, 128, 64),
        output_shape=(64, 64, 3),
        activation="relu",
        batch_norm=True,
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
    )
    disc_config = ConvDiscriminatorConfig(
        name="dcgan_discriminator",
        hidden_dims=(64, 128, 256, 512),
        input_shape=(64, 64, 3),
        activation="leaky_relu",
        batch_norm=True,
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
    )
    _, samples = abstract(
        lambda: DCGANGenerator(config=gen_config, rngs=nnx.Rngs(params=0)),
        lambda g, z: g(z, training=False),
        jax.ShapeDtypeStruct((4, 100), jnp.float32),
    )
    assert samples.shape == (4, 64, 64, 3)
    discriminator, scores = abstract(
        lambda: DCGANDiscriminator(config=disc_config, rngs=nnx.Rngs(params=1)),
        lambda d, x: d(x, training=True),
        jax.ShapeDtypeStruct((4, 64, 64, 3), jnp.float32),
    )
    assert scores.shape == (4, 1)
    assert discriminator.score_type == "probabilities"
    assert discriminator.blocks[0].norm is None  # DCGAN: no batch norm on the input layer
    assert all(isinstance(block.norm, nnx.BatchNorm) for block in discriminator.blocks[1:])


@pytest.mark.parametrize(
    ("generator_class", "discriminator_class", "score_shape", "extra"),
    [
        (WGANGenerator, WGANDiscriminator, (4,), {"use_instance_norm": True}),
        (LSGANGenerator, LSGANDiscriminator, (4, 1), {}),
    ],
)
def test_user_guide_wgan_and_lsgan_configs_nchw(
    generator_class, discriminator_class, score_shape, extra
):
    gen_config = ConvGeneratorConfig(
        latent_dim=100,
        hidden_dims=(512, 256, 128, 64),
        output_shape=(3, 64, 64),
        activation="relu",
        batch_norm=True,
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
    )
    disc_config = ConvDiscriminatorConfig(
        hidden_dims=(64, 128, 256, 512),
        input_shape=(3, 64, 64),
        activation="leaky_relu",
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
        **extra,
    )
    _, samples = abstract(
        lambda: generator_class(config=gen_config, rngs=nnx.Rngs(params=0)),
        lambda g, z: g(z, training=False),
        jax.ShapeDtypeStruct((4, 100), jnp.float32),
    )
    assert samples.shape == (4, 3, 64, 64)
    discriminator, scores = abstract(
        lambda: discriminator_class(config=disc_config, rngs=nnx.Rngs(params=1)),
        lambda d, x: d(x, training=True),
        jax.ShapeDtypeStruct((4, 3, 64, 64), jnp.float32),
    )
    assert scores.shape == score_shape
    assert discriminator.score_type == "logits"


def test_user_guide_conditional_configs():
    cond_params = ConditionalParams(num_classes=10, embedding_dim=50)
    gen_config = ConditionalGeneratorConfig(
        name="cgan_generator",
        latent_dim=100,
        hidden_dims=(512, 256, 128, 64),
        output_shape=(1, 28, 28),
        activation="relu",
        batch_norm=True,
        conditional=cond_params,
    )
    disc_config = ConditionalDiscriminatorConfig(
        name="cgan_discriminator",
        hidden_dims=(64, 128, 256, 512),
        input_shape=(1, 28, 28),
        activation="leaky_relu",
        conditional=cond_params,
    )
    labels = jax.nn.one_hot(jnp.arange(10), 10)
    _, samples = abstract(
        lambda: ConditionalGenerator(config=gen_config, rngs=nnx.Rngs(params=0)),
        lambda g, z, labels: g(z, labels, training=False),
        jax.ShapeDtypeStruct((10, 100), jnp.float32),
        labels,
    )
    assert samples.shape == (10, 1, 28, 28)
    _, scores = abstract(
        lambda: ConditionalDiscriminator(config=disc_config, rngs=nnx.Rngs(params=1)),
        lambda d, x, labels: d(x, labels, training=True),
        samples,
        labels,
    )
    assert scores.shape == (10,)


# -- real 64×64 calls with small channel counts ----------------------------------------


@pytest.fixture(scope="module")
def small_64_pair():
    generator = DCGANGenerator(
        output_shape=(3, 64, 64), latent_dim=8, hidden_dims=(4, 4), rngs=nnx.Rngs(params=0)
    )
    discriminator = DCGANDiscriminator(
        input_shape=(3, 64, 64), hidden_dims=(4, 4), rngs=nnx.Rngs(params=1, dropout=2)
    )
    return generator, discriminator


def test_real_64x64_nchw_generation_is_tanh_bounded(small_64_pair):
    generator, _ = small_64_pair
    images = generator(jax.random.normal(jax.random.key(0), (2, 8)), training=False)
    assert images.shape == (2, 3, 64, 64)
    values = np.asarray(images)
    assert np.all(np.isfinite(values)) and np.all(np.abs(values) <= 1.0)
    assert values.std() > 0


def test_real_64x64_discriminator_with_keyword_defaults(small_64_pair):
    generator, discriminator = small_64_pair
    # Keyword defaults of the API reference: spectral norm and dropout 0.3.
    assert discriminator.config.use_spectral_norm and discriminator.config.dropout_rate == 0.3
    images = generator(jax.random.normal(jax.random.key(0), (2, 8)), training=False)

    @nnx.jit(static_argnames="training")
    def scores_and_logits(discriminator, images, training):
        return discriminator(images, training=training), discriminator.logits(
            images, training=False
        )

    scores, _ = scores_and_logits(discriminator, images, training=True)
    assert scores.shape == (2, 1)
    assert np.all((np.asarray(scores) > 0) & (np.asarray(scores) < 1))
    scores, logits = scores_and_logits(discriminator, images, training=False)
    np.testing.assert_allclose(scores, jax.nn.sigmoid(logits), rtol=1e-6)
