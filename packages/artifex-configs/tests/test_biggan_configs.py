"""BigGAN configs: defaults, and every refused value with its reason."""

import pytest

from artifex.generative_models.core.configuration import (
    ConditionalDiscriminatorConfig,
    ConditionalParams,
)
from artifex.generative_models.core.configuration.biggan_configs import (
    BigGANConfig,
    BigGANDiscriminatorConfig,
    BigGANGeneratorConfig,
)

PARAMS = ConditionalParams(num_classes=10, embedding_dim=8)
GENERATOR = BigGANGeneratorConfig(
    hidden_dims=(16, 8), latent_dim=6, output_shape=(8, 8, 1), conditional=PARAMS
)
DISCRIMINATOR = BigGANDiscriminatorConfig(
    hidden_dims=(8, 16), input_shape=(8, 8, 1), conditional=PARAMS.replace(embedding_dim=16)
)


def test_defaults_are_biggans():
    model = BigGANConfig(generator=GENERATOR, discriminator=DISCRIMINATOR)
    assert model.loss_type == "hinge" and model.orthogonal_weight == 0.0
    assert model.discriminator_score_type == "logits"
    assert GENERATOR.batch_norm and GENERATOR.use_spectral_norm
    assert DISCRIMINATOR.use_spectral_norm
    assert GENERATOR.self_attention_at is None and not GENERATOR.hierarchical_latent


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch_norm": False}, r"batch_norm=False: must be True: .*conditional batch norm"),
        ({"dropout_rate": 0.1}, r"dropout_rate=0.1: must be 0"),
        ({"self_attention_at": 0}, r"self_attention_at=0: must be None .*an int >= 1"),
        (
            {"hierarchical_latent": True, "latent_dim": 7},
            r"latent_dim=7: must be divisible by 3 with hierarchical_latent=True",
        ),
    ],
)
def test_generator_refuses(changes, message):
    with pytest.raises(ValueError, match=message):
        GENERATOR.replace(**changes)


def test_attention_site_is_an_int():
    with pytest.raises(TypeError, match=r"self_attention_at=True: expected int or None, got bool"):
        GENERATOR.replace(self_attention_at=True)


def test_discriminator_embedding_must_match_the_pooled_features():
    with pytest.raises(ValueError, match=r"embedding_dim=8 must equal hidden_dims\[-1\]=16"):
        DISCRIMINATOR.replace(conditional=PARAMS)
    with pytest.raises(ValueError, match=r"self_attention_at=-2"):
        DISCRIMINATOR.replace(self_attention_at=-2)


def test_model_refuses_other_networks_and_negative_weights():
    with pytest.raises(ValueError, match=r"orthogonal_weight=-1.0: must be >= 0"):
        BigGANConfig(generator=GENERATOR, discriminator=DISCRIMINATOR, orthogonal_weight=-1.0)
    plain = ConditionalDiscriminatorConfig(hidden_dims=(8,), conditional=PARAMS)
    with pytest.raises(TypeError, match=r"expected BigGANDiscriminatorConfig"):
        BigGANConfig(generator=GENERATOR, discriminator=plain)
    other = DISCRIMINATOR.replace(conditional=ConditionalParams(num_classes=3, embedding_dim=16))
    with pytest.raises(ValueError, match=r"num_classes=3 does not match"):
        BigGANConfig(generator=GENERATOR, discriminator=other)


def test_residual_blocks_round_trip_through_yaml_and_default_to_plain():
    assert GENERATOR.blocks == DISCRIMINATOR.blocks == "plain"
    model = BigGANConfig(
        generator=GENERATOR.replace(blocks="residual"),
        discriminator=DISCRIMINATOR.replace(blocks="residual"),
    )
    text = model.to_yaml()
    assert "blocks: residual" in text
    back = BigGANConfig.from_yaml(text)
    assert back == model and back.generator.blocks == back.discriminator.blocks == "residual"


@pytest.mark.parametrize(
    ("config", "changes", "error", "message"),
    [
        (
            GENERATOR,
            {"blocks": "resnet"},
            ValueError,
            r"BigGANGeneratorConfig.blocks='resnet': must be one of 'plain', 'residual'",
        ),
        (
            DISCRIMINATOR,
            {"blocks": True},
            TypeError,
            r"BigGANDiscriminatorConfig.blocks=True: expected one of 'plain', 'residual'",
        ),
        (
            DISCRIMINATOR,
            {"blocks": "residual", "batch_norm": True},
            ValueError,
            r"batch_norm=True: must be False with blocks='residual' .*set batch_norm=False",
        ),
        (
            DISCRIMINATOR,
            {"blocks": "residual", "dropout_rate": 0.2},
            ValueError,
            r"dropout_rate=0.2: must be 0 with blocks='residual'",
        ),
    ],
)
def test_bad_block_options_are_refused(config, changes, error, message):
    with pytest.raises(error, match=message):
        config.replace(**changes)
