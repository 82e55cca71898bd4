"""Every config construction the seed documents show runs and means what they say.

The config parts of the seed code blocks are copied here verbatim (imports included);
what the blocks then do with networks belongs to other packages' tests.
"""

import pytest

from artifex.generative_models.core.configuration import FrozenConfigError, ImageLayout

# -- seed 000: GAN user guide --------------------------------------------------------------


def test_quick_start():
    from artifex.generative_models.core.configuration.network_configs import (
        DiscriminatorConfig,
        GeneratorConfig,
    )

    # Create generator config
    gen_config = GeneratorConfig(
        name="simple_generator",
        hidden_dims=(256, 512),  # Use tuples, not lists
        output_shape=(28, 28, 1),  # MNIST shape (H, W, C)
        latent_dim=100,
        activation="relu",
        batch_norm=True,
        dropout_rate=0.0,
    )

    # Create discriminator config
    disc_config = DiscriminatorConfig(
        name="simple_discriminator",
        input_shape=(28, 28, 1),
        hidden_dims=(512, 256),
        activation="leaky_relu",
        batch_norm=False,
        dropout_rate=0.3,
    )
    assert gen_config.output_layout == ImageLayout(28, 28, 1, "NHWC")
    assert disc_config.input_layout == ImageLayout(28, 28, 1, "NHWC")
    assert disc_config.resolved_score_type() == "probabilities"


def test_basic_generator_and_discriminator():
    from artifex.generative_models.core.configuration.network_configs import (
        DiscriminatorConfig,
        GeneratorConfig,
    )

    gen_config = GeneratorConfig(
        name="image_generator",
        hidden_dims=(128, 256, 512),  # Hidden layer sizes (use tuples)
        output_shape=(32, 32, 3),  # Output: 32x32 RGB images (H, W, C)
        latent_dim=100,  # Latent space dimension
        activation="relu",  # Activation function
        batch_norm=True,  # Use batch normalization
        dropout_rate=0.0,  # Dropout rate (usually 0 for generator)
    )
    disc_config = DiscriminatorConfig(
        name="image_discriminator",
        input_shape=(32, 32, 3),  # Input image shape (H, W, C)
        hidden_dims=(512, 256, 128),  # Hidden layer sizes (often mirrors generator)
        activation="leaky_relu",  # LeakyReLU prevents dying neurons
        batch_norm=False,  # Usually False for discriminator
        dropout_rate=0.3,  # Dropout to prevent overfitting
    )
    assert gen_config.output_layout.data_format == "NHWC"
    assert disc_config.leaky_relu_slope == 0.2


def test_vanilla_gan():
    from artifex.generative_models.core.configuration.gan_config import GANConfig
    from artifex.generative_models.core.configuration.network_configs import (
        DiscriminatorConfig,
        GeneratorConfig,
    )

    # Create nested configs
    gen_config = GeneratorConfig(
        name="vanilla_generator",
        hidden_dims=(256, 512),
        output_shape=(28, 28, 1),
        latent_dim=100,
        activation="relu",
        batch_norm=True,
    )

    disc_config = DiscriminatorConfig(
        name="vanilla_discriminator",
        input_shape=(28, 28, 1),
        hidden_dims=(512, 256),
        activation="leaky_relu",
        batch_norm=False,
        dropout_rate=0.3,
    )

    # Create GAN config
    gan_config = GANConfig(
        name="vanilla_gan",
        generator=gen_config,
        discriminator=disc_config,
        loss_type="vanilla",
        generator_lr=0.0002,
        discriminator_lr=0.0002,
    )
    assert gan_config.latent_dim == 100
    assert gan_config.discriminator_score_type == "probabilities"
    assert gan_config.data_layout == ImageLayout(28, 28, 1, "NHWC")


def test_dcgan():
    from artifex.generative_models.core.configuration.gan_config import DCGANConfig
    from artifex.generative_models.core.configuration.network_configs import (
        ConvDiscriminatorConfig,
        ConvGeneratorConfig,
    )

    # Create convolutional generator config
    conv_gen_config = ConvGeneratorConfig(
        name="dcgan_generator",
        latent_dim=100,
        hidden_dims=(512, 256, 128, 64),  # Feature map progression
        output_shape=(64, 64, 3),  # 64x64 RGB images (H, W, C)
        activation="relu",
        batch_norm=True,
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
    )

    # Create convolutional discriminator config
    conv_disc_config = ConvDiscriminatorConfig(
        name="dcgan_discriminator",
        hidden_dims=(64, 128, 256, 512),  # Mirrored progression
        input_shape=(64, 64, 3),
        activation="leaky_relu",
        batch_norm=True,
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
    )

    # Create DCGAN config with nested network configs
    dcgan_config = DCGANConfig(
        name="dcgan_64",
        generator=conv_gen_config,
        discriminator=conv_disc_config,
        loss_type="vanilla",
        generator_lr=0.0002,
        discriminator_lr=0.0002,
        beta1=0.5,
        beta2=0.999,
    )
    assert dcgan_config.generator.kernel_size == (4, 4)
    assert dcgan_config.data_layout.shape == (64, 64, 3)


def _wgan_networks():
    from artifex.generative_models.core.configuration.network_configs import (
        ConvDiscriminatorConfig,
        ConvGeneratorConfig,
    )

    # Create WGAN with proper typed configs
    generator_config = ConvGeneratorConfig(
        name="wgan_generator",
        latent_dim=100,
        hidden_dims=(512, 256, 128, 64),
        output_shape=(3, 64, 64),
        activation="relu",
        batch_norm=True,
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
    )

    discriminator_config = ConvDiscriminatorConfig(
        name="wgan_critic",
        hidden_dims=(64, 128, 256, 512),
        input_shape=(3, 64, 64),
        activation="leaky_relu",
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
        use_instance_norm=True,
    )
    return generator_config, discriminator_config


def test_wgan():
    from artifex.generative_models.core.configuration.gan_config import WGANConfig

    generator_config, discriminator_config = _wgan_networks()
    wgan_config = WGANConfig(
        name="wgan",
        generator=generator_config,
        discriminator=discriminator_config,
        critic_iterations=5,  # Update critic 5x per generator
        use_gradient_penalty=True,
        gradient_penalty_weight=10.0,  # Lambda for gradient penalty
    )
    assert wgan_config.loss_type == "wasserstein"
    assert wgan_config.latent_dim == 100
    # "Critic instead of discriminator (no sigmoid at output)"
    assert wgan_config.discriminator_score_type == "logits"
    assert wgan_config.data_layout == ImageLayout(64, 64, 3, "NCHW")
    assert wgan_config.effective_gradient_penalty_weight == 10.0


def test_lsgan():
    from artifex.generative_models.core.configuration.gan_config import LSGANConfig
    from artifex.generative_models.core.configuration.network_configs import (
        ConvDiscriminatorConfig,
        ConvGeneratorConfig,
    )

    # Create LSGAN with typed configs
    generator_config = ConvGeneratorConfig(
        name="lsgan_generator",
        latent_dim=100,
        hidden_dims=(512, 256, 128, 64),
        output_shape=(3, 64, 64),
        activation="relu",
        batch_norm=True,
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
    )

    discriminator_config = ConvDiscriminatorConfig(
        name="lsgan_discriminator",
        hidden_dims=(64, 128, 256, 512),
        input_shape=(3, 64, 64),
        activation="leaky_relu",
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
    )

    lsgan_config = LSGANConfig(
        name="lsgan",
        generator=generator_config,
        discriminator=discriminator_config,
        a=0.0,  # Target for fake samples in discriminator
        b=1.0,  # Target for real samples in discriminator
        c=1.0,  # Target for fake samples in generator
    )
    assert lsgan_config.loss_type == "least_squares"
    assert lsgan_config.discriminator_score_type == "logits"


def test_conditional_gan():
    from artifex.generative_models.core.configuration.gan_config import ConditionalGANConfig
    from artifex.generative_models.core.configuration.network_configs import (
        ConditionalDiscriminatorConfig,
        ConditionalGeneratorConfig,
        ConditionalParams,
    )

    # Shared conditional parameters
    cond_params = ConditionalParams(num_classes=10, embedding_dim=50)

    # Create conditional generator config
    gen_config = ConditionalGeneratorConfig(
        name="cgan_generator",
        latent_dim=100,
        hidden_dims=(512, 256, 128, 64),
        output_shape=(1, 28, 28),
        activation="relu",
        batch_norm=True,
        conditional=cond_params,
    )

    # Create conditional discriminator config
    disc_config = ConditionalDiscriminatorConfig(
        name="cgan_discriminator",
        hidden_dims=(64, 128, 256, 512),
        input_shape=(1, 28, 28),
        activation="leaky_relu",
        conditional=cond_params,
    )

    # Create the conditional GAN
    cgan_config = ConditionalGANConfig(
        name="conditional_gan",
        generator=gen_config,
        discriminator=disc_config,
    )
    assert cgan_config.num_classes == 10
    assert cgan_config.data_layout == ImageLayout(28, 28, 1, "NCHW")


def _cyclegan_config():
    from artifex.generative_models.core.configuration.gan_config import CycleGANConfig
    from artifex.generative_models.core.configuration.network_configs import (
        CycleGANGeneratorConfig,
        PatchGANDiscriminatorConfig,
    )

    # Create CycleGAN for domain transfer (e.g., horse ↔ zebra)
    cyclegan_config = CycleGANConfig(
        name="cyclegan_horse2zebra",
        generator={
            "a_to_b": CycleGANGeneratorConfig(
                name="horse_to_zebra",
                latent_dim=0,
                hidden_dims=(64, 128, 256),
                output_shape=(256, 256, 3),
                input_shape=(256, 256, 3),
                n_residual_blocks=6,
                activation="relu",
            ),
            "b_to_a": CycleGANGeneratorConfig(
                name="zebra_to_horse",
                latent_dim=0,
                hidden_dims=(64, 128, 256),
                output_shape=(256, 256, 3),
                input_shape=(256, 256, 3),
                n_residual_blocks=6,
                activation="relu",
            ),
        },
        discriminator={
            "disc_a": PatchGANDiscriminatorConfig(
                name="horse_discriminator",
                hidden_dims=(64, 128, 256, 512),
                input_shape=(256, 256, 3),
                activation="leaky_relu",
            ),
            "disc_b": PatchGANDiscriminatorConfig(
                name="zebra_discriminator",
                hidden_dims=(64, 128, 256, 512),
                input_shape=(256, 256, 3),
                activation="leaky_relu",
            ),
        },
        input_shape_a=(256, 256, 3),
        input_shape_b=(256, 256, 3),
        lambda_cycle=10.0,
        lambda_identity=0.5,
    )
    return cyclegan_config


def test_cyclegan():
    config = _cyclegan_config()
    assert config.generator["a_to_b"].name == "horse_to_zebra"
    assert config.generator_b_to_a.name == "zebra_to_horse"
    assert config.discriminator_a.name == "horse_discriminator"
    assert config.discriminator_b.input_layout == ImageLayout(256, 256, 3, "NHWC")
    assert config.lambda_cycle == 10.0
    assert config.lambda_identity == 0.5
    with pytest.raises(TypeError):
        config.generator["a_to_b"] = None  # the dict of configs is read-only too


def test_patchgan_config_style():
    from artifex.generative_models.core.configuration.network_configs import (
        MultiScalePatchGANDiscriminatorConfig,
        PatchGANDiscriminatorConfig,
    )

    patch_config = PatchGANDiscriminatorConfig(
        name="patchgan_disc",
        hidden_dims=(64, 128, 256, 512),
        input_shape=(256, 256, 3),
        activation="leaky_relu",
    )
    # "Returns list of intermediate features with final output last"
    assert patch_config.return_features is True
    assert patch_config.resolved_score_type() == "logits"
    # MultiScalePatchGANDiscriminator(config=patch_config, num_scales=3, rngs=rngs)
    multi = MultiScalePatchGANDiscriminatorConfig.from_patch_config(patch_config, num_scales=3)
    assert multi.num_scales == 3
    assert multi.return_features is True
    assert multi.hidden_dims == patch_config.hidden_dims


def test_troubleshooting_assignments_point_to_replace():
    config = _cyclegan_config()
    with pytest.raises(FrozenConfigError, match=r"config\.replace\(loss_type='wasserstein'\)"):
        config.loss_type = "wasserstein"  # or "least_squares"

    from artifex.generative_models.core.configuration.gan_config import WGANConfig

    generator_config, discriminator_config = _wgan_networks()
    wgan_config = WGANConfig(generator=generator_config, discriminator=discriminator_config)
    with pytest.raises(FrozenConfigError, match=r"replace\(gradient_penalty_weight=10\.0\)"):
        wgan_config.gradient_penalty_weight = 10.0
    with pytest.raises(AttributeError, match=r"replace\(hidden_dims=\[256, 128\]\)"):
        wgan_config.discriminator.hidden_dims = [256, 128]  # Smaller than [512, 256]
    # What the guide means, spelled the immutable way:
    smaller = wgan_config.replace(
        discriminator=wgan_config.discriminator.replace(hidden_dims=[256, 128])
    )
    assert smaller.discriminator.hidden_dims == (256, 128)
    larger = wgan_config.replace(
        generator=wgan_config.generator.replace(hidden_dims=[512, 1024, 2048])
    )
    assert larger.generator.hidden_dims == (512, 1024, 2048)


# -- seed 001: advanced examples (their keyword arguments, as configs) ----------------------


def test_progressive_gan_seed_arguments():
    from artifex.generative_models.core.configuration.gan_config import ProgressiveGANConfig
    from artifex.generative_models.core.configuration.network_configs import (
        ProgressiveDiscriminatorConfig,
        ProgressiveGeneratorConfig,
    )

    config = {"latent_dim": 512, "seed": 0}
    generator = ProgressiveGeneratorConfig(
        latent_dim=config["latent_dim"],
        max_channels=512,
        num_stages=6,
    )
    discriminator = ProgressiveDiscriminatorConfig(max_channels=512, num_stages=6)
    assert generator.resolutions == (4, 8, 16, 32, 64, 128)  # "4x4 to 128x128"
    assert generator.stage_channels == (512, 256, 128, 64, 32, 16)
    assert generator.output_shape == (128, 128, 3)
    assert discriminator.input_layout_at(0).shape == (4, 4, 3)
    assert discriminator.use_minibatch_std
    assert generator.use_pixel_norm
    gan = ProgressiveGANConfig(generator=generator, discriminator=discriminator)
    assert gan.latent_dim == 512
    # "Training Stage {stage} (Resolution: {4 * (2**stage)}...)"
    assert [gan.generator.resolutions[s] for s in range(6)] == [4 * 2**s for s in range(6)]


def test_stylegan_seed_arguments():
    from artifex.generative_models.core.configuration.gan_config import StyleGANConfig
    from artifex.generative_models.core.configuration.network_configs import (
        StyleGANGeneratorConfig,
    )

    generator = StyleGANGeneratorConfig(latent_dim=512, style_dim=512, image_size=256)
    assert generator.mapping_layers == 8
    # num_blocks = int(jnp.log2(image_size)) - 1; out_channels = 512 // (2 ** min(i, 3))
    assert generator.num_blocks == 7
    assert generator.block_channels == tuple(512 // 2 ** min(i, 3) for i in range(7))
    assert generator.output_shape == (256, 256, 3)
    # train_wgan_gp: ProgressiveDiscriminator(num_stages=int(log2(image_size)) - 1)
    config = {"latent_dim": 128, "style_dim": 128, "image_size": 64, "lr": 1e-4}
    wgan_gp = StyleGANConfig(
        generator=StyleGANGeneratorConfig(
            latent_dim=config["latent_dim"],
            style_dim=config["style_dim"],
            image_size=config["image_size"],
        ),
        loss_type="wasserstein",
        gradient_penalty_weight=config.get("lambda_gp", 10.0),
        generator_lr=config["lr"],
        discriminator_lr=config["lr"],
    )
    assert wgan_gp.discriminator.num_stages == 5
    assert wgan_gp.discriminator.final_resolution == 64


# -- seed 003: API reference ----------------------------------------------------------------


def test_wgan_model_config():
    from artifex.generative_models.core.configuration import ModelConfig

    config = ModelConfig(
        input_dim=100,  # Latent dimension
        output_dim=(3, 64, 64),  # Output image shape
        hidden_dims=None,  # Use defaults
        metadata={
            "gan_params": {
                "gen_hidden_dims": (1024, 512, 256),
                "disc_hidden_dims": (256, 512, 1024),
                "gradient_penalty_weight": 10.0,  # Lambda for GP
                "critic_iterations": 5,  # Critic updates per generator
            }
        },
    )
    wgan = config.to_gan_config("wgan")
    assert wgan.generator.hidden_dims == (1024, 512, 256)
    assert wgan.discriminator.hidden_dims == (256, 512, 1024)
    assert wgan.critic_iterations == 5
    assert wgan.gradient_penalty_weight == 10.0
    assert wgan.generator.output_shape == (3, 64, 64)
    assert wgan.data_layout == ImageLayout(64, 64, 3, "NCHW")


def test_lsgan_model_config():
    from artifex.generative_models.core.configuration import ModelConfig

    config = ModelConfig(
        input_dim=100,
        output_dim=(3, 64, 64),
        hidden_dims=[512, 256, 128, 64],
    )
    lsgan = config.to_gan_config("lsgan")
    assert lsgan.generator.hidden_dims == (512, 256, 128, 64)
    assert lsgan.discriminator.hidden_dims == (64, 128, 256, 512)
    assert lsgan.loss_type == "least_squares"


def test_conditional_model_config():
    from artifex.generative_models.core.configuration import ModelConfig

    config = ModelConfig(
        input_dim=100,  # Latent dimension
        output_dim=(1, 28, 28),  # MNIST shape
        metadata={
            "gan_params": {
                "num_classes": 10,  # Number of classes
                "gen_hidden_dims": (512, 256, 128, 64),
                "discriminator_features": [64, 128, 256, 512],
            }
        },
    )
    cgan = config.to_gan_config("conditional")
    assert cgan.num_classes == 10
    assert cgan.discriminator.hidden_dims == (64, 128, 256, 512)
    assert cgan.data_layout == ImageLayout(28, 28, 1, "NCHW")


def test_dcgan_configuration():
    from artifex.generative_models.core.configuration.gan import DCGANConfiguration

    config = DCGANConfiguration(
        image_size=64,  # Image size (H=W)
        channels=3,  # Number of channels
        latent_dim=100,  # Latent dimension
        gen_hidden_dims=(256, 128, 64, 32),  # Generator channels
        disc_hidden_dims=(32, 64, 128, 256),  # Discriminator channels
        loss_type="vanilla",  # Loss type
        generator_lr=0.0002,  # Generator learning rate
        discriminator_lr=0.0002,  # Discriminator learning rate
        beta1=0.5,  # Adam β1
        beta2=0.999,  # Adam β2
    )
    dcgan = config.to_dcgan_config()
    # samples.shape == (16, 3, 64, 64): channels first
    assert dcgan.generator.output_layout == ImageLayout(64, 64, 3, "NCHW")
    assert dcgan.generator.output_layout.shape == (3, 64, 64)

    short = DCGANConfiguration(
        image_size=64,
        channels=3,
        latent_dim=100,
        gen_hidden_dims=(256, 128, 64, 32),
        disc_hidden_dims=(32, 64, 128, 256),
        loss_type="vanilla",
    )
    assert short.to_dcgan_config().beta1 == 0.5


def test_duck_typed_gan_config():
    from artifex.generative_models.core.configuration.gan_config import GANConfig as TypedConfig

    # Create configuration
    class GANConfig:
        latent_dim = 100
        loss_type = "vanilla"

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

    typed = TypedConfig.from_object(GANConfig())
    assert typed.latent_dim == 100
    # "(batch, C, H, W)" with batch 1: samples are (B, 1, 28, 28)
    assert typed.generator.output_shape == (1, 28, 28)
    assert typed.generator.output_layout == ImageLayout(28, 28, 1, "NCHW")
    assert typed.discriminator.input_shape == (1, 28, 28)
    assert typed.discriminator.hidden_dims == (512, 256)


def test_keyword_style_argument_sets_translate():
    """Seed 003's keyword constructors hand their arguments to the configs."""
    from artifex.generative_models.core.configuration.network_configs import (
        ConditionalGeneratorConfig,
        ConditionalParams,
        ConvDiscriminatorConfig,
        ConvGeneratorConfig,
        DiscriminatorConfig,
        GeneratorConfig,
        MultiScalePatchGANDiscriminatorConfig,
        PatchGANDiscriminatorConfig,
    )

    def relu(x):  # stands in for jax.nn.relu: only its name is read
        return x

    def leaky_relu(x):
        return x

    generator = GeneratorConfig(
        hidden_dims=[256, 512, 1024],
        output_shape=(1, 1, 28, 28),  # MNIST
        latent_dim=100,
        activation="relu",
        batch_norm=True,
    )
    assert generator.output_shape == (1, 28, 28)
    discriminator = DiscriminatorConfig(
        hidden_dims=[512, 256, 128],
        activation="leaky_relu",
        leaky_relu_slope=0.2,
        batch_norm=False,
        dropout_rate=0.3,
    )
    assert discriminator.input_shape is None  # sized lazily from its first input
    dcgan_generator = ConvGeneratorConfig(
        output_shape=(3, 64, 64),
        latent_dim=100,
        hidden_dims=(256, 128, 64, 32),
        activation=relu,
        batch_norm=True,
    )
    assert dcgan_generator.activation == "relu"
    dcgan_discriminator = ConvDiscriminatorConfig(
        input_shape=(3, 64, 64),
        hidden_dims=(32, 64, 128, 256),
        activation=leaky_relu,
        leaky_relu_slope=0.2,
        batch_norm=False,
        dropout_rate=0.3,
        use_spectral_norm=True,
        score_type="probabilities",
    )
    assert dcgan_discriminator.activation == "leaky_relu"
    conditional = ConditionalGeneratorConfig(
        output_shape=(1, 28, 28),
        conditional=ConditionalParams(num_classes=10),
        latent_dim=100,
        hidden_dims=(512, 256, 128, 64),
    )
    assert conditional.conditional.embedding_dim == 50
    patch = PatchGANDiscriminatorConfig(
        input_shape=(3, 256, 256),
        hidden_dims=(64, 128, 256, 512),
        kernel_size=4,
        stride=2,
        return_features=False,  # seed 003: one array of patch scores
    )
    assert (patch.kernel_size, patch.stride) == ((4, 4), (2, 2))
    multi = MultiScalePatchGANDiscriminatorConfig(
        input_shape=(3, 256, 256),
        hidden_dims=(64, 128, 256),
        num_scales=3,
        return_features=False,  # seed 003: a list of predictions
    )
    assert multi.input_layout == ImageLayout(256, 256, 3, "NCHW")
