"""Mistakes are refused before compilation, saying what was expected and what came."""

import re

import jax.numpy as jnp
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    GeneratorConfig,
)
from artifex.generative_models.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    LSGANGenerator,
    WGANDiscriminator,
)

LATENT = 8


@pytest.fixture(scope="module")
def generator():
    return DCGANGenerator(
        output_shape=(1, 28, 28), latent_dim=LATENT, hidden_dims=(4, 4), rngs=nnx.Rngs(params=0)
    )


@pytest.fixture(scope="module")
def critic():
    return WGANDiscriminator(input_shape=(1, 28, 28), hidden_dims=(4, 4), rngs=nnx.Rngs(params=0))


def test_wrong_latent_shape(generator):
    with pytest.raises(
        ValueError, match=r"DCGANGenerator expects z of shape \(batch, 8\), got \(2, 7\)"
    ):
        generator(jnp.zeros((2, 7)))
    with pytest.raises(ValueError, match=r"expects z of shape \(batch, 8\), got \(8,\)"):
        generator(jnp.zeros((8,)))


def test_images_in_the_other_layout_are_refused_with_a_hint(critic):
    with pytest.raises(
        ValueError,
        match=r"WGANDiscriminator expects images of shape \(batch, 1, 28, 28\) \(NCHW\), got "
        r"\(2, 28, 28, 1\) — that is the NHWC layout of these images",
    ):
        critic(jnp.zeros((2, 28, 28, 1)))


@pytest.mark.parametrize("shape", [(2, 1, 32, 32), (1, 28, 28), (2, 3, 28, 28)])
def test_wrong_image_shapes_are_refused(critic, shape):
    with pytest.raises(
        ValueError,
        match=r"expects images of shape \(batch, 1, 28, 28\) \(NCHW\), got "
        + re.escape(str(shape))
        + "$",
    ):
        critic.logits(jnp.zeros(shape))


def test_errors_are_raised_while_tracing_under_jit(generator, critic):
    with pytest.raises(ValueError, match=r"expects z of shape \(batch, 8\)"):
        nnx.jit(lambda g, z: g(z))(generator, jnp.zeros((2, 9)))
    with pytest.raises(ValueError, match=r"expects images of shape"):
        nnx.jit(lambda d, x: d(x))(critic, jnp.zeros((2, 28, 28, 1)))


def test_training_must_be_a_bool(generator):
    with pytest.raises(TypeError, match=r"training must be True, False or None, got 'yes'"):
        generator(jnp.zeros((2, LATENT)), training="yes")


def test_discriminator_without_input_shape_is_refused():
    with pytest.raises(ValueError, match=r"DCGANDiscriminator needs input_shape"):
        DCGANDiscriminator(hidden_dims=(4, 4), rngs=nnx.Rngs(0))


def test_unknown_keyword_and_wrong_config_type():
    with pytest.raises(TypeError, match=r"LSGANGenerator\(\) got unexpected keyword .*'n_layers'"):
        LSGANGenerator(output_shape=(1, 28, 28), n_layers=3, rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match=r"needs a ConvGeneratorConfig, got GeneratorConfig"):
        DCGANGenerator(
            config=GeneratorConfig(hidden_dims=(4,), output_shape=(28, 28, 1)), rngs=nnx.Rngs(0)
        )
    with pytest.raises(
        TypeError, match=r"needs a ConvDiscriminatorConfig, got ConvGeneratorConfig"
    ):
        DCGANDiscriminator(
            config=ConvGeneratorConfig(hidden_dims=(4,), output_shape=(28, 28, 1)),
            rngs=nnx.Rngs(0),
        )


def test_invalid_config_values_name_the_field():
    with pytest.raises(ValueError, match=r"ConvDiscriminatorConfig.input_shape=\(28, 28\)"):
        DCGANDiscriminator(input_shape=(28, 28), rngs=nnx.Rngs(0))
    with pytest.raises(
        ValueError, match=r"ConvGeneratorConfig.output_shape=\(8, 8, 8\) is ambiguous"
    ):
        DCGANGenerator(output_shape=(8, 8, 8), rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"ConvDiscriminatorConfig.dropout_rate=1.5"):
        DCGANDiscriminator(
            config=ConvDiscriminatorConfig(hidden_dims=(4,), input_shape=(28, 28, 1)),
            dropout_rate=1.5,
            rngs=nnx.Rngs(0),
        )
