"""The shared machinery: immutability, replace, plain-data errors, the class registry."""

import copy
import dataclasses
import re

import pytest

import artifex.generative_models.core.configuration as cfg
from artifex.generative_models.core.configuration import (
    ConfigBase,
    FrozenConfigError,
    FrozenDict,
    config_dataclass,
)


def conv_pair(shape=(3, 16, 16), **generator):
    return (
        cfg.ConvGeneratorConfig(hidden_dims=(8,), output_shape=shape, **generator),
        cfg.ConvDiscriminatorConfig(hidden_dims=(8,), input_shape=shape),
    )


# -- immutability --------------------------------------------------------------------------


def test_assignment_raises_frozen_error_pointing_to_replace():
    config = cfg.EMAConfig()
    with pytest.raises(FrozenConfigError) as info:
        config.decay = 0.9
    message = str(info.value)
    assert message.startswith("EMAConfig is frozen: cannot assign decay=0.9.")
    assert "config = config.replace(decay=0.9)" in message
    assert isinstance(info.value, dataclasses.FrozenInstanceError)
    assert isinstance(info.value, AttributeError)
    assert config.decay == 0.999


def test_unknown_attribute_and_deletion_are_refused():
    config = cfg.EMAConfig()
    with pytest.raises(
        FrozenConfigError,
        match=re.escape("EMAConfig is frozen and has no field 'x'; fields: decay, start_step"),
    ):
        config.x = 1
    with pytest.raises(
        FrozenConfigError, match=re.escape("EMAConfig is frozen: cannot delete 'decay'")
    ):
        del config.decay


def test_lists_become_tuples_and_dicts_become_frozen():
    generator = cfg.GeneratorConfig(hidden_dims=[8, 16], output_shape=[28, 28, 1])
    assert generator.hidden_dims == (8, 16) and isinstance(generator.hidden_dims, tuple)
    assert generator.output_shape == (28, 28, 1)
    model = cfg.ModelConfig(1, 2, metadata={"a": [1, [2, 3]], "b": {"c": [4]}})
    assert model.metadata == {"a": (1, (2, 3)), "b": {"c": (4,)}}
    assert isinstance(model.metadata["b"], FrozenDict)
    with pytest.raises(TypeError):
        model.metadata["a"] = 1


def test_ints_become_floats_in_float_fields():
    config = cfg.OptimizerConfig(learning_rate=1)
    assert config.learning_rate == 1.0 and isinstance(config.learning_rate, float)


def test_configs_are_hashable_and_compare_by_value():
    a, b = cfg.EMAConfig(decay=0.9), cfg.EMAConfig(decay=0.9)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != cfg.EMAConfig()


def test_copies_are_equal_and_hashable():
    config = cfg.ExperimentConfig(model=cfg.StyleGANConfig())
    assert copy.deepcopy(config) == config == copy.copy(config)
    assert hash(copy.deepcopy(config)) == hash(config)


def test_frozen_dict_behaves_like_a_read_only_dict():
    frozen = FrozenDict({"a": 1})
    assert frozen == {"a": 1} and repr(frozen) == "{'a': 1}"
    assert hash(frozen) == hash(FrozenDict({"a": 1}))
    assert list(frozen) == ["a"] and len(frozen) == 1


# -- replace -------------------------------------------------------------------------------


def test_replace_returns_a_validated_copy():
    config = cfg.DiscriminatorConfig(hidden_dims=(8,))
    changed = config.replace(dropout_rate=0.5, hidden_dims=[4, 2])
    assert changed.dropout_rate == 0.5 and changed.hidden_dims == (4, 2)
    assert config.dropout_rate == 0.3
    with pytest.raises(ValueError, match=r"DiscriminatorConfig.dropout_rate=1.5: must be in"):
        config.replace(dropout_rate=1.5)


def test_replace_refuses_unknown_fields():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "EMAConfig.replace: unknown field 'decay_rate'; known fields: decay, start_step"
        ),
    ):
        cfg.EMAConfig().replace(decay_rate=0.9)


def test_gan_replace_carries_an_inferred_discriminator_shape_along():
    generator = cfg.GeneratorConfig(hidden_dims=(8,), output_shape=(28, 28, 1))
    gan = cfg.GANConfig(
        generator=generator, discriminator=cfg.DiscriminatorConfig(hidden_dims=(4,))
    )
    assert gan.discriminator.input_shape == (28, 28, 1)
    bigger = gan.replace(generator=generator.replace(output_shape=(1, 32, 32)))
    assert bigger.discriminator.input_shape == (1, 32, 32)
    assert bigger.discriminator.input_layout.data_format == "NCHW"
    assert bigger.discriminator.hidden_dims == (4,)
    assert gan.replace(loss_type="wasserstein").loss_type == "wasserstein"  # seed 000


def test_gan_replace_keeps_an_explicit_different_discriminator():
    generator, discriminator = conv_pair()
    gan = cfg.DCGANConfig(generator=generator, discriminator=discriminator)
    new_discriminator = discriminator.replace(input_shape=(1, 16, 16))
    with pytest.raises(ValueError, match=re.escape("does not match")):
        gan.replace(
            generator=generator.replace(output_shape=(1, 8, 8)), discriminator=new_discriminator
        )


def test_growing_gans_follow_a_replaced_generator():
    style = cfg.StyleGANConfig(
        generator=cfg.StyleGANGeneratorConfig(image_size=16, max_channels=32, min_channels=8),
        discriminator=cfg.ProgressiveDiscriminatorConfig(
            num_stages=3, max_channels=64, use_minibatch_std=False
        ),
    )
    bigger = style.replace(generator=style.generator.replace(image_size=32))
    assert bigger.discriminator.num_stages == 4
    assert bigger.discriminator.max_channels == 64
    assert bigger.discriminator.use_minibatch_std is False
    progressive = cfg.ProgressiveGANConfig()
    fewer = progressive.replace(generator=progressive.generator.replace(num_stages=3))
    assert fewer.discriminator.num_stages == 3


def test_inferred_fields_are_filled():
    style = cfg.StyleGANConfig()
    assert style.discriminator == cfg.ProgressiveDiscriminatorConfig(num_stages=7)
    generator = cfg.CycleGANGeneratorConfig(
        hidden_dims=(8,), input_shape=(3, 32, 32), output_shape=(3, 32, 32)
    )
    cycle = cfg.CycleGANConfig(
        generator={"a_to_b": generator, "b_to_a": generator},
        discriminator={
            "disc_a": cfg.PatchGANDiscriminatorConfig(hidden_dims=(8,)),
            "disc_b": cfg.PatchGANDiscriminatorConfig(hidden_dims=(8,)),
        },
    )
    assert cycle.input_shape_a == cycle.input_shape_b == (3, 32, 32)
    assert cycle.discriminator_a.input_layout == cfg.ImageLayout(32, 32, 3, "NCHW")
    assert cycle.data_layout_b.data_format == "NCHW"


# -- plain data ----------------------------------------------------------------------------


def test_from_dict_refuses_unknown_keys_listing_known_ones():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "EMAConfig.from_dict: unknown key 'decay_rate'; known keys: decay, start_step"
        ),
    ):
        cfg.EMAConfig.from_dict({"decay_rate": 0.9})


def test_from_dict_refuses_unknown_keys_in_nested_configs():
    data = cfg.OptimizerConfig().to_dict()
    data["schedule"]["kind_"] = "cosine"
    with pytest.raises(
        ValueError, match=re.escape("ScheduleConfig.from_dict: unknown key 'kind_'")
    ):
        cfg.OptimizerConfig.from_dict(data)


def test_from_dict_needs_required_keys_and_a_mapping():
    with pytest.raises(
        TypeError,
        match=re.escape("ConditionalParams.from_dict: missing required key 'num_classes'"),
    ):
        cfg.ConditionalParams.from_dict({})
    with pytest.raises(
        TypeError, match=re.escape("EMAConfig.from_dict: expected a mapping, got list")
    ):
        cfg.EMAConfig.from_dict([])
    with pytest.raises(
        TypeError, match=re.escape("EMAConfig.from_dict: expected a mapping, got str")
    ):
        cfg.EMAConfig.from_yaml("just text")


def test_from_dict_config_type_must_name_a_subclass():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "GANConfig.from_dict: config_type='EMAConfig' is not a "
            "config class derived from GANConfig; known: BigGANConfig, ConditionalGANConfig, "
            "DCGANConfig, GANConfig, LSGANConfig, WGANConfig"
        ),
    ):
        cfg.GANConfig.from_dict({"config_type": "EMAConfig"})
    with pytest.raises(ValueError, match=re.escape("config_type='Nope' is not a config class")):
        ConfigBase.from_dict({"config_type": "Nope"})


def test_from_dict_on_an_abstract_class_needs_config_type():
    with pytest.raises(
        ValueError,
        match=re.escape(
            "BaseGANConfig.from_dict: BaseGANConfig is abstract; add "
            "a 'config_type' key naming one of: BigGANConfig, ConditionalGANConfig, "
            "CycleGANConfig"
        ),
    ):
        cfg.ExperimentConfig.from_dict({"model": {"name": "x"}})


def test_from_dict_picks_the_subclass_named():
    generator, discriminator = conv_pair()
    wgan = cfg.WGANConfig(generator=generator, discriminator=discriminator)
    assert cfg.GANConfig.from_dict(wgan.to_dict(include_type=True)) == wgan


def test_abstract_classes_cannot_be_built():
    with pytest.raises(
        TypeError,
        match=re.escape(
            "NetworkConfig is abstract; use one of: BigGANDiscriminatorConfig, "
            "BigGANGeneratorConfig, "
            "ConditionalDiscriminatorConfig, ConditionalGeneratorConfig"
        ),
    ):
        cfg.NetworkConfig(hidden_dims=(8,))


def test_file_suffixes(tmp_path):
    with pytest.raises(ValueError, match=r"the suffix must be \.json, \.yaml or \.yml"):
        cfg.EMAConfig().to_file(tmp_path / "ema.toml")
    (tmp_path / "ema.toml").write_text("")
    with pytest.raises(ValueError, match=r"the suffix must be \.json, \.yaml or \.yml"):
        cfg.EMAConfig.from_file(tmp_path / "ema.toml")


def test_json_refuses_nothing_it_cannot_read_back():
    text = cfg.OptimizerConfig(learning_rate=1e-10).to_json()
    assert cfg.OptimizerConfig.from_json(text).learning_rate == 1e-10
    assert cfg.OptimizerConfig.from_yaml(cfg.OptimizerConfig(eps=1e-12).to_yaml()).eps == 1e-12


# -- registry ------------------------------------------------------------------------------


def test_registry_and_decorator_rules():
    classes = cfg.config_classes()
    assert classes["GANConfig"] is cfg.GANConfig
    assert classes["BaseGANConfig"]._abstract
    with pytest.raises(TypeError, match=re.escape("a config class named EMAConfig already exists")):

        @config_dataclass
        class EMAConfig(ConfigBase):
            decay: float = 0.5

    with pytest.raises(TypeError, match=re.escape("Plain must derive from ConfigBase")):

        @config_dataclass
        class Plain:
            x: int = 0


def test_field_names_and_types():
    assert cfg.EMAConfig.field_names() == ("decay", "start_step")
    assert cfg.EMAConfig.field_types() == {"decay": float, "start_step": int}


def test_score_types_resolve_by_loss():
    generator, discriminator = conv_pair()
    for loss, expected in [
        ("vanilla", "probabilities"),
        ("hinge", "logits"),
        ("least_squares", "logits"),
    ]:
        gan = cfg.DCGANConfig(generator=generator, discriminator=discriminator, loss_type=loss)
        assert gan.discriminator_score_type == expected
    explicit = discriminator.replace(score_type="logits")
    gan = cfg.DCGANConfig(generator=generator, discriminator=explicit)
    assert gan.discriminator_score_type == "logits"
    assert cfg.ProgressiveDiscriminatorConfig().resolved_score_type() == "logits"
    assert cfg.ProgressiveDiscriminatorConfig().resolved_score_type("vanilla") == "probabilities"


def test_activation_spellings():
    generator = cfg.GeneratorConfig(hidden_dims=(8,), output_shape=(2,), activation="LeakY_ReLU")
    assert generator.activation == "leaky_relu"
    assert set(cfg.ACTIVATIONS) >= {
        "relu",
        "leaky_relu",
        "tanh",
        "gelu",
        "silu",
        "elu",
        "sigmoid",
        "linear",
    }
