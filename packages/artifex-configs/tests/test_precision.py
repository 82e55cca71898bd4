"""Network precision fields (``dtype`` / ``param_dtype``) and ``with_compute_dtype``."""

import pytest

import artifex.generative_models.core.configuration as cfg
from artifex.generative_models.core.configuration import DTYPES, ConfigBase


def _conv_pair(shape=(3, 16, 16)):
    return (
        cfg.ConvGeneratorConfig(hidden_dims=(32, 16), output_shape=shape, latent_dim=8),
        cfg.ConvDiscriminatorConfig(hidden_dims=(16, 32), input_shape=shape),
    )


def _cycle():
    generator = cfg.CycleGANGeneratorConfig(
        hidden_dims=(8, 16), input_shape=(16, 16, 3), output_shape=(16, 16, 3), n_residual_blocks=2
    )
    return cfg.CycleGANConfig(
        generator={"a_to_b": generator, "b_to_a": generator.replace(name="b_to_a")},
        discriminator={
            "disc_a": cfg.PatchGANDiscriminatorConfig(hidden_dims=(8, 16)),
            "disc_b": cfg.PatchGANDiscriminatorConfig(hidden_dims=(8,), input_shape=(16, 16, 3)),
        },
    )


def _networks():
    params = cfg.ConditionalParams(num_classes=3, embedding_dim=4)
    generator, discriminator = _conv_pair()
    return [
        cfg.GeneratorConfig(hidden_dims=(8,), output_shape=(4,)),
        cfg.DiscriminatorConfig(hidden_dims=(8,), input_shape=(4,)),
        generator,
        discriminator,
        cfg.ConditionalGeneratorConfig(
            hidden_dims=(8,), output_shape=(1, 28, 28), conditional=params
        ),
        cfg.ConditionalDiscriminatorConfig(
            hidden_dims=(8,), input_shape=(1, 28, 28), conditional=params
        ),
        cfg.PatchGANDiscriminatorConfig(hidden_dims=(8,), input_shape=(32, 32, 3)),
        cfg.MultiScalePatchGANDiscriminatorConfig(hidden_dims=(8,), num_scales=2),
        cfg.CycleGANGeneratorConfig(
            hidden_dims=(8,), input_shape=(16, 16, 3), output_shape=(16, 16, 3)
        ),
        cfg.ProgressiveGeneratorConfig(max_channels=16, num_stages=2),
        cfg.ProgressiveDiscriminatorConfig(max_channels=16, num_stages=2),
        cfg.StyleGANGeneratorConfig(image_size=8, max_channels=16, min_channels=8),
        cfg.StyleGAN2GeneratorConfig(image_size=8, max_channels=16, min_channels=8),
        cfg.BigGANGeneratorConfig(hidden_dims=(8,), output_shape=(1, 8, 8), conditional=params),
        cfg.BigGANDiscriminatorConfig(
            hidden_dims=(4,), input_shape=(1, 8, 8), conditional=params.replace(embedding_dim=4)
        ),
    ]


def _gans():
    generator, discriminator = _conv_pair()
    params = cfg.ConditionalParams(num_classes=3, embedding_dim=4)
    return [
        cfg.GANConfig(
            generator=cfg.GeneratorConfig(hidden_dims=(4,), output_shape=(2,), latent_dim=3),
            discriminator=cfg.DiscriminatorConfig(hidden_dims=(8,)),
        ),
        cfg.DCGANConfig(generator=generator, discriminator=discriminator),
        cfg.WGANConfig(generator=generator, discriminator=discriminator),
        cfg.LSGANConfig(generator=generator, discriminator=discriminator),
        cfg.ConditionalGANConfig(
            generator=cfg.ConditionalGeneratorConfig(
                hidden_dims=(8,), output_shape=(1, 28, 28), conditional=params
            ),
            discriminator=cfg.ConditionalDiscriminatorConfig(hidden_dims=(8,), conditional=params),
        ),
        _cycle(),
        cfg.StyleGANConfig(
            generator=cfg.StyleGANGeneratorConfig(image_size=8, max_channels=16, min_channels=8)
        ),
        cfg.ProgressiveGANConfig(
            generator=cfg.ProgressiveGeneratorConfig(max_channels=16, num_stages=2)
        ),
        cfg.StyleGAN2Config(
            generator=cfg.StyleGAN2GeneratorConfig(image_size=8, max_channels=16, min_channels=8)
        ),
    ]


def _ids(configs):
    return [type(c).__name__ for c in configs]


def test_every_network_config_class_has_the_precision_fields():
    # The classes with a compute dtype are exactly the generator/discriminator configs:
    # a new network config without the fields would fail here.
    with_fields = {
        name
        for name, cls in cfg.config_classes().items()
        if {"dtype", "param_dtype"} <= set(cls.field_names())
    }
    networks = {type(c).__name__ for c in _networks()} | {"NetworkConfig"}
    assert with_fields == networks


@pytest.mark.parametrize("config", _networks(), ids=_ids(_networks()))
def test_defaults_are_float32(config):
    assert (config.dtype, config.param_dtype) == ("float32", "float32")


@pytest.mark.parametrize("config", _networks(), ids=_ids(_networks()))
@pytest.mark.parametrize("field", ["dtype", "param_dtype"])
def test_a_bad_dtype_names_class_field_value_and_choices(config, field):
    name = type(config).__name__
    with pytest.raises(ValueError) as info:
        config.replace(**{field: "float64"})
    message = str(info.value)
    assert f"{name}.{field}='float64'" in message
    for allowed in DTYPES:
        assert repr(allowed) in message


@pytest.mark.parametrize("config", _networks(), ids=_ids(_networks()))
def test_dtypes_round_trip_through_dict_json_and_yaml(config):
    changed = config.replace(dtype="bfloat16", param_dtype="float16")
    assert changed.to_dict()["dtype"] == "bfloat16"
    for back in (
        type(config).from_dict(changed.to_dict()),
        type(config).from_json(changed.to_json()),
        type(config).from_yaml(changed.to_yaml()),
        ConfigBase.from_yaml(changed.to_yaml(include_type=True)),
    ):
        assert back == changed
        assert (back.dtype, back.param_dtype) == ("bfloat16", "float16")


class _FakeDtype:
    """Stands in for ``np.dtype("bfloat16")``: configs read dtype objects by their name."""

    name = "bfloat16"


class _FakeScalarType:
    """Stands in for ``jnp.bfloat16``: a scalar type whose ``dtype`` names it."""

    dtype = _FakeDtype()


@pytest.mark.parametrize("value", [_FakeDtype(), _FakeScalarType()])
def test_dtype_objects_are_stored_by_name(value):
    config = cfg.GeneratorConfig(hidden_dims=(8,), output_shape=(4,), dtype=value)
    assert config.dtype == "bfloat16"


@pytest.mark.parametrize("config", _gans(), ids=_ids(_gans()))
def test_with_compute_dtype_reaches_every_network(config):
    before = config.network_dtypes
    expected = {"generator", "discriminator"}
    if isinstance(config, cfg.CycleGANConfig):
        expected = {
            "generator['a_to_b']",
            "generator['b_to_a']",
            "discriminator['disc_a']",
            "discriminator['disc_b']",
        }
    assert set(before) == expected
    assert config.compute_dtype == "float32"

    changed = config.with_compute_dtype("bfloat16")
    assert type(changed) is type(config)
    assert changed.network_dtypes == dict.fromkeys(expected, "bfloat16")
    assert changed.compute_dtype == "bfloat16"
    # Only dtype changed: param_dtype and everything else is kept.
    assert changed.with_compute_dtype("float32") == config
    networks = [changed.generator, changed.discriminator]
    if isinstance(changed, cfg.CycleGANConfig):
        networks = [*changed.generator.values(), *changed.discriminator.values()]
    assert all(network.param_dtype == "float32" for network in networks)
    # The original is untouched (configs are immutable).
    assert config.compute_dtype == "float32"
    assert type(config).from_yaml(changed.to_yaml()) == changed


def test_with_compute_dtype_keeps_param_dtype():
    config = _gans()[1]
    config = config.replace(generator=config.generator.replace(param_dtype="bfloat16"))
    changed = config.with_compute_dtype("float16")
    assert changed.generator.param_dtype == "bfloat16"
    assert changed.discriminator.param_dtype == "float32"
    assert changed.compute_dtype == "float16"


def test_with_compute_dtype_refuses_an_unknown_dtype():
    with pytest.raises(ValueError, match=r"GANConfig.with_compute_dtype: dtype='int8'.*'bfloat16'"):
        _gans()[0].with_compute_dtype("int8")


def test_compute_dtype_of_mixed_networks_raises_naming_each():
    config = _gans()[1]
    mixed = config.replace(discriminator=config.discriminator.replace(dtype="bfloat16"))
    with pytest.raises(ValueError) as info:
        _ = mixed.compute_dtype
    message = str(info.value)
    assert "generator.dtype='float32'" in message
    assert "discriminator.dtype='bfloat16'" in message
    assert "with_compute_dtype" in message


def test_cyclegan_mixed_networks_are_reported_by_key():
    config = _cycle()
    generators = dict(config.generator)
    generators["b_to_a"] = generators["b_to_a"].replace(dtype="float16")
    mixed = config.replace(generator=generators)
    with pytest.raises(ValueError, match=r"generator\['b_to_a'\]\.dtype='float16'"):
        _ = mixed.compute_dtype
