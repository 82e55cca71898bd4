"""Legacy and duck-typed configs translate into the expected typed configs."""

import re

import pytest

import artifex.generative_models.core.configuration as cfg
from artifex.generative_models.core.configuration import ImageLayout, to_typed_config

IMG = (3, 64, 64)


def test_model_config_positional_and_defaults():
    config = cfg.ModelConfig(100, IMG)
    assert (config.input_dim, config.output_dim, config.hidden_dims) == (100, IMG, None)
    assert config.gan_params == {}
    assert config.output_shape == IMG
    assert cfg.ModelConfig(10, 784).output_shape == (784,)
    assert cfg.ModelConfig(10, (1, 1, 28, 28)).output_dim == (1, 28, 28)


@pytest.mark.parametrize(
    ("family", "config_class", "generator_dims", "discriminator_dims"),
    [
        ("dcgan", cfg.DCGANConfig, (256, 128, 64, 32), (32, 64, 128, 256)),
        ("wgan", cfg.WGANConfig, (1024, 512, 256), (256, 512, 1024)),
        ("lsgan", cfg.LSGANConfig, (256, 128, 64, 32), (32, 64, 128, 256)),
        ("gan", cfg.GANConfig, (256, 512), (512, 256)),
    ],
)
def test_model_config_family_defaults(family, config_class, generator_dims, discriminator_dims):
    typed = cfg.ModelConfig(100, IMG).to_gan_config(family)
    assert type(typed) is config_class
    assert typed.generator.hidden_dims == generator_dims
    assert typed.discriminator.hidden_dims == discriminator_dims
    assert typed.latent_dim == 100
    assert typed.generator.output_shape == typed.discriminator.input_shape == IMG
    assert typed.generator.data_format == typed.discriminator.data_format == "NCHW"
    assert typed.generator.activation == "relu" and typed.generator.batch_norm
    assert typed.discriminator.activation == "leaky_relu"
    assert typed.discriminator.leaky_relu_slope == 0.2


def test_family_specific_network_defaults():
    wgan = cfg.ModelConfig(100, IMG).to_gan_config("wgan")
    assert wgan.discriminator.use_instance_norm and not wgan.discriminator.batch_norm
    assert wgan.discriminator.dropout_rate == 0.0
    assert (wgan.critic_iterations, wgan.gradient_penalty_weight) == (5, 10.0)
    dcgan = cfg.ModelConfig(100, IMG).to_gan_config("dcgan")
    assert dcgan.discriminator.use_spectral_norm and dcgan.discriminator.dropout_rate == 0.3
    mlp = cfg.ModelConfig(100, 784).to_gan_config("gan")
    assert mlp.generator.output_shape == (784,) and mlp.generator.output_layout is None
    assert not mlp.discriminator.use_spectral_norm and mlp.discriminator.dropout_rate == 0.3


def test_gan_params_reach_the_typed_config():
    config = cfg.ModelConfig(
        64,
        (1, 32, 32),
        hidden_dims=[16, 8],
        name="legacy",
        metadata={
            "gan_params": {
                "loss_type": "hinge",
                "generator_lr": 1e-4,
                "discriminator_lr": 4e-4,
                "beta1": 0.0,
                "beta2": 0.9,
                "gradient_penalty_weight": 1.0,
            }
        },
    )
    typed = config.to_gan_config("dcgan")
    assert typed.name == "legacy"
    assert (typed.loss_type, typed.generator_lr, typed.discriminator_lr) == ("hinge", 1e-4, 4e-4)
    assert (typed.beta1, typed.beta2, typed.gradient_penalty_weight) == (0.0, 0.9, 1.0)
    assert typed.generator.hidden_dims == (16, 8)
    assert typed.discriminator.hidden_dims == (8, 16)  # hidden_dims reversed
    wgan = cfg.ModelConfig(
        8,
        (1, 8, 8),
        metadata={"gan_params": {"use_gradient_penalty": False, "critic_iterations": 2}},
    ).to_gan_config("wgan")
    assert wgan.effective_gradient_penalty_weight == 0.0 and wgan.critic_iterations == 2


def test_conditional_translation():
    typed = cfg.ModelConfig(
        100, (1, 28, 28), metadata={"gan_params": {"num_classes": 10, "embedding_dim": 16}}
    ).to_gan_config("conditional")
    assert type(typed) is cfg.ConditionalGANConfig
    assert typed.generator.conditional == cfg.ConditionalParams(num_classes=10, embedding_dim=16)
    assert typed.discriminator.conditional == typed.generator.conditional
    assert typed.generator.hidden_dims == (512, 256, 128, 64)
    assert typed.discriminator.hidden_dims == (64, 128, 256, 512)
    assert typed.discriminator.dropout_rate == 0.0


def test_dcgan_configuration_translation():
    legacy = cfg.DCGANConfiguration(
        image_size=32,
        channels=1,
        latent_dim=16,
        gen_hidden_dims=(64, 32),
        disc_hidden_dims=(32, 64),
        loss_type="least_squares",
        generator_lr=1e-4,
        discriminator_lr=3e-4,
        beta1=0.0,
        beta2=0.99,
        name="legacy_dcgan",
    )
    typed = legacy.to_dcgan_config()
    assert typed == cfg.DCGANConfig(
        name="legacy_dcgan",
        generator=cfg.ConvGeneratorConfig(
            hidden_dims=(64, 32),
            latent_dim=16,
            output_shape=(1, 32, 32),
            data_format="NCHW",
            activation="relu",
            batch_norm=True,
            dropout_rate=0.0,
        ),
        discriminator=cfg.ConvDiscriminatorConfig(
            hidden_dims=(32, 64),
            input_shape=(1, 32, 32),
            data_format="NCHW",
            activation="leaky_relu",
            leaky_relu_slope=0.2,
            batch_norm=False,
            dropout_rate=0.3,
            use_spectral_norm=True,
        ),
        loss_type="least_squares",
        generator_lr=1e-4,
        discriminator_lr=3e-4,
        beta1=0.0,
        beta2=0.99,
    )
    # Ambiguous sizes stay channels-first: the legacy class declares its layout.
    tiny = cfg.DCGANConfiguration(
        image_size=4, channels=4, gen_hidden_dims=(8,), disc_hidden_dims=(8,)
    ).to_dcgan_config()
    assert tiny.data_layout == ImageLayout(4, 4, 4, "NCHW")


def test_family_defaults_table():
    spec = cfg.family_defaults("wgan")
    assert spec.gan_config is cfg.WGANConfig and spec.generator is cfg.ConvGeneratorConfig
    assert spec.discriminator_defaults["use_instance_norm"] is True
    with pytest.raises(ValueError, match=re.escape("family='x': must be one of 'gan', 'dcgan'")):
        cfg.family_defaults("x")


# -- duck-typed objects --------------------------------------------------------------------


class DuckConfig:
    latent_dim = 100
    loss_type = "vanilla"
    gradient_penalty_weight = 0.0

    class generator:
        hidden_dims = [256, 512]  # noqa: RUF012 (seed 003, verbatim)
        output_shape = (1, 1, 28, 28)
        activation = "relu"
        batch_norm = True
        dropout_rate = 0.0

    class discriminator:
        hidden_dims = [512, 256]  # noqa: RUF012 (seed 003, verbatim)
        activation = "leaky_relu"
        leaky_relu_slope = 0.2
        batch_norm = False
        dropout_rate = 0.3
        use_spectral_norm = False

    def describe(self):  # methods are not config
        return "duck"


def test_from_object_reads_seed_003_classes():
    typed = cfg.GANConfig.from_object(DuckConfig())
    assert typed == cfg.GANConfig(
        generator=cfg.GeneratorConfig(
            hidden_dims=(256, 512), output_shape=(1, 28, 28), latent_dim=100
        ),
        discriminator=cfg.DiscriminatorConfig(hidden_dims=(512, 256), input_shape=(1, 28, 28)),
    )
    assert cfg.GANConfig.from_object(DuckConfig) == typed  # the class itself works too


def test_from_object_reads_mappings_and_typed_parts():
    generator = cfg.ConvGeneratorConfig(hidden_dims=(8,), output_shape=(3, 16, 16), latent_dim=4)
    typed = cfg.DCGANConfig.from_object(
        {
            "generator": generator,
            "discriminator": {"hidden_dims": [8]},
            "latent_dim": 4,
            "name": "m",
        }
    )
    assert typed.name == "m" and typed.generator == generator
    assert typed.discriminator.input_shape == (3, 16, 16)
    assert isinstance(typed.discriminator, cfg.ConvDiscriminatorConfig)
    with_override = cfg.GANConfig.from_object(
        {
            "generator": cfg.GeneratorConfig(hidden_dims=(8,), output_shape=(2,)),
            "discriminator": {"hidden_dims": [8]},
            "latent_dim": 100,
        }
    )
    assert with_override.latent_dim == 100


def test_from_object_errors():
    class NoDiscriminator:
        generator = DuckConfig.generator

    with pytest.raises(
        TypeError,
        match=re.escape("GANConfig.from_object: the object has no 'discriminator' attribute"),
    ):
        cfg.GANConfig.from_object(NoDiscriminator())

    class Typo(DuckConfig):
        class generator(DuckConfig.generator):
            hiden_dims = [1]  # noqa: RUF012

    with pytest.raises(
        ValueError,
        match=re.escape(
            "GANConfig.from_object.generator: unknown attribute "
            "'hiden_dims' for GeneratorConfig; known: name, hidden_dims,"
        ),
    ):
        cfg.GANConfig.from_object(Typo())

    class Disagree(DuckConfig):
        class generator(DuckConfig.generator):
            latent_dim = 64

    with pytest.raises(
        ValueError,
        match=re.escape(
            "GANConfig.from_object: latent_dim=100 disagrees with generator.latent_dim=64"
        ),
    ):
        cfg.GANConfig.from_object(Disagree())

    class TopTypo(DuckConfig):
        loss = "vanilla"

    with pytest.raises(
        ValueError, match=re.escape("GANConfig.from_object: unknown attribute 'loss' for GANConfig")
    ):
        cfg.GANConfig.from_object(TopTypo())


# -- to_typed_config -----------------------------------------------------------------------


def _dcgan():
    return cfg.DCGANConfiguration(image_size=16, gen_hidden_dims=(8,), disc_hidden_dims=(8,))


def test_to_typed_config_dispatch():
    typed = _dcgan().to_dcgan_config()
    assert to_typed_config(typed, "dcgan") is typed
    assert to_typed_config(typed, "gan") is typed  # a DCGANConfig is a GANConfig
    assert to_typed_config(_dcgan(), "dcgan") == typed
    assert to_typed_config(cfg.ModelConfig(100, IMG), "wgan") == (
        cfg.ModelConfig(100, IMG).to_gan_config("wgan")
    )
    assert to_typed_config(typed.to_dict(include_type=True), "dcgan") == typed
    assert to_typed_config(DuckConfig(), "gan") == cfg.GANConfig.from_object(DuckConfig())
    plain = cfg.GANConfig(generator=typed.generator, discriminator=typed.discriminator)
    assert to_typed_config(plain, "dcgan") == cfg.DCGANConfig(
        name="gan", generator=typed.generator, discriminator=typed.discriminator
    )
    assert to_typed_config(cfg.StyleGANConfig(), "stylegan") == cfg.StyleGANConfig()


def test_to_typed_config_errors():
    typed = _dcgan().to_dcgan_config()
    with pytest.raises(
        ValueError, match=re.escape("family='vae': must be one of 'gan', 'dcgan', 'wgan'")
    ):
        to_typed_config(typed, "vae")
    with pytest.raises(
        TypeError,
        match=re.escape("a 'wgan' model needs a WGANConfig (or a legacy config), got DCGANConfig"),
    ):
        to_typed_config(typed, "wgan")
    with pytest.raises(
        TypeError, match=re.escape("DCGANConfiguration configures a DCGAN, not a 'wgan'")
    ):
        to_typed_config(_dcgan(), "wgan")
    with pytest.raises(
        TypeError, match=re.escape("needs a GANConfig (or a legacy config), got EMAConfig")
    ):
        to_typed_config(cfg.EMAConfig(), "gan")
    with pytest.raises(
        TypeError, match=re.escape("a 'cyclegan' model needs a CycleGANConfig, got DuckConfig")
    ):
        to_typed_config(DuckConfig(), "cyclegan")
    with pytest.raises(ValueError, match=re.escape("WGANConfig.loss_type='vanilla'")):
        to_typed_config(
            cfg.GANConfig(generator=typed.generator, discriminator=typed.discriminator), "wgan"
        )
