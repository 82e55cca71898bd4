"""Every validation error: raised at construction, naming class, field, value and the rule."""

import re

import pytest

import artifex.generative_models.core.configuration as cfg

IMG = (3, 16, 16)


def gen(**kw):
    return cfg.GeneratorConfig(**{"hidden_dims": (8,), "output_shape": (28, 28, 1), **kw})


def disc(**kw):
    return cfg.DiscriminatorConfig(**{"hidden_dims": (8,), **kw})


def conv_gen(**kw):
    return cfg.ConvGeneratorConfig(**{"hidden_dims": (8,), "output_shape": IMG, **kw})


def conv_disc(**kw):
    return cfg.ConvDiscriminatorConfig(**{"hidden_dims": (8,), "input_shape": IMG, **kw})


def cycle_gen(**kw):
    return cfg.CycleGANGeneratorConfig(
        **{"hidden_dims": (8,), "input_shape": (16, 16, 3), "output_shape": (16, 16, 3), **kw}
    )


def patch(**kw):
    return cfg.PatchGANDiscriminatorConfig(**{"hidden_dims": (8,), **kw})


def cycle(**kw):
    args = {
        "generator": {"a_to_b": cycle_gen(), "b_to_a": cycle_gen()},
        "discriminator": {"disc_a": patch(), "disc_b": patch()},
        **kw,
    }
    return cfg.CycleGANConfig(**args)


def cond(num_classes=10):
    return cfg.ConditionalParams(num_classes=num_classes)


def wgan(**kw):
    return cfg.WGANConfig(**{"generator": conv_gen(), "discriminator": conv_disc(), **kw})


def experiment(model=None, **data):
    model = model or cfg.GANConfig(generator=conv_gen(), discriminator=conv_disc())
    return cfg.ExperimentConfig(
        model=model, training=cfg.TrainingConfig(data=cfg.DataConfig(**data))
    )


def exact(text):
    return re.escape(text)


CASES = [
    # -- type checks (every field, from its hint) --
    (
        "bool is not int",
        lambda: gen(latent_dim=True),
        TypeError,
        exact("GeneratorConfig.latent_dim=True: expected int, got bool"),
    ),
    (
        "float is not int",
        lambda: gen(latent_dim=100.0),
        TypeError,
        exact("GeneratorConfig.latent_dim=100.0: expected int, got float"),
    ),
    (
        "str is not float",
        lambda: gen(dropout_rate="0.1"),
        TypeError,
        r"GeneratorConfig.dropout_rate='0.1': expected float, got str \(YAML 1.1",
    ),
    (
        "bool is not float",
        lambda: gen(dropout_rate=False),
        TypeError,
        exact("GeneratorConfig.dropout_rate=False: expected float, got bool"),
    ),
    (
        "non-finite float",
        lambda: gen(leaky_relu_slope=float("nan")),
        ValueError,
        exact("GeneratorConfig.leaky_relu_slope=nan: must be a finite number"),
    ),
    (
        "str is not bool",
        lambda: gen(batch_norm="yes"),
        TypeError,
        exact("GeneratorConfig.batch_norm='yes': expected bool, got str"),
    ),
    (
        "tuple entry type",
        lambda: gen(hidden_dims=(8, "16")),
        TypeError,
        exact("GeneratorConfig.hidden_dims[1]='16': expected int, got str"),
    ),
    (
        "tuple given a str",
        lambda: gen(hidden_dims="8"),
        TypeError,
        exact("GeneratorConfig.hidden_dims='8': expected a tuple of int, got str"),
    ),
    (
        "tuple given an int",
        lambda: gen(output_shape=784),
        TypeError,
        exact("GeneratorConfig.output_shape=784: expected a tuple of int, got int"),
    ),
    (
        "literal miss",
        lambda: gen(data_format="NHCW"),
        ValueError,
        exact("GeneratorConfig.data_format='NHCW': must be one of 'auto', 'NHWC', 'NCHW'"),
    ),
    (
        "literal type",
        lambda: disc(score_type=1),
        TypeError,
        r"DiscriminatorConfig.score_type=1: expected one of 'auto', 'probabilities', 'logits'",
    ),
    (
        "fixed tuple length",
        lambda: conv_gen(kernel_size=(4, 4, 4)),
        ValueError,
        exact("ConvGeneratorConfig.kernel_size=(4, 4, 4): must have 2 entries"),
    ),
    (
        "union miss",
        lambda: conv_gen(padding=1.5),
        TypeError,
        exact("ConvGeneratorConfig.padding=1.5: expected one of 'SAME', 'VALID' or int, got float"),
    ),
    (
        "optional",
        lambda: disc(input_shape="28"),
        TypeError,
        exact("DiscriminatorConfig.input_shape='28': expected a tuple of int or None, got str"),
    ),
    (
        "nested config given a dict",
        lambda: cfg.GANConfig(generator={}, discriminator=disc()),
        TypeError,
        r"GANConfig.generator=\{\}: expected GeneratorConfig, got dict; build it with "
        r"GeneratorConfig\(\.\.\.\) or GeneratorConfig\.from_dict",
    ),
    (
        "wrong nested config",
        lambda: cfg.DCGANConfig(generator=gen(), discriminator=conv_disc()),
        TypeError,
        r"DCGANConfig.generator=GeneratorConfig\(.*\): expected ConvGeneratorConfig, "
        "got GeneratorConfig",
    ),
    (
        "cycle generator in a GAN",
        lambda: cfg.GANConfig(generator=cycle_gen(), discriminator=disc()),
        TypeError,
        "expected GeneratorConfig, got CycleGANGeneratorConfig",
    ),
    (
        "mapping value type",
        lambda: cycle(generator={"a_to_b": cycle_gen(), "b_to_a": gen()}),
        TypeError,
        exact("CycleGANConfig.generator['b_to_a']=") + ".*expected CycleGANGeneratorConfig",
    ),
    (
        "mapping key type",
        lambda: cycle(generator={1: cycle_gen()}),
        TypeError,
        exact("CycleGANConfig.generator key=1: expected str, got int"),
    ),
    (
        "metadata plain data",
        lambda: cfg.ModelConfig(1, 2, metadata={"x": object()}),
        TypeError,
        r"ModelConfig.metadata\['x'\]=<object object at .*>: expected plain data",
    ),
    (
        "metadata keys",
        lambda: cfg.ModelConfig(1, 2, metadata={1: 2}),
        TypeError,
        exact("ModelConfig.metadata key=1: expected str, got int"),
    ),
    (
        "nested metadata keys",
        lambda: cfg.ModelConfig(1, 2, metadata={"a": {1: 2}}),
        TypeError,
        exact("ModelConfig.metadata['a']: keys must be str, got 1"),
    ),
    (
        "metadata nan",
        lambda: cfg.ModelConfig(1, 2, metadata={"x": [float("inf")]}),
        ValueError,
        exact("ModelConfig.metadata['x'][0]=inf: must be a finite number"),
    ),
    # -- activations --
    (
        "activation name",
        lambda: gen(activation="swish"),
        ValueError,
        exact(
            "GeneratorConfig.activation='swish': must be one of relu, leaky_relu, tanh, gelu, "
            "silu, elu, sigmoid, linear"
        ),
    ),
    (
        "activation function",
        lambda: gen(activation=lambda x: x),
        ValueError,
        r"GeneratorConfig.activation=<function .*>: cannot name this activation function",
    ),
    (
        "output activation",
        lambda: gen(output_activation="softmax"),
        ValueError,
        exact("GeneratorConfig.output_activation='softmax': must be one of"),
    ),
    # -- network fields --
    (
        "dropout range",
        lambda: disc(dropout_rate=1.5),
        ValueError,
        exact("DiscriminatorConfig.dropout_rate=1.5: must be in [0, 1)"),
    ),
    (
        "dropout negative",
        lambda: gen(dropout_rate=-0.1),
        ValueError,
        exact("GeneratorConfig.dropout_rate=-0.1: must be in [0, 1)"),
    ),
    (
        "slope range",
        lambda: disc(leaky_relu_slope=1.0),
        ValueError,
        exact("DiscriminatorConfig.leaky_relu_slope=1.0: must be in [0, 1)"),
    ),
    (
        "hidden dims empty",
        lambda: gen(hidden_dims=()),
        ValueError,
        exact("GeneratorConfig.hidden_dims=(): must not be empty"),
    ),
    (
        "hidden dims positive",
        lambda: disc(hidden_dims=(8, 0)),
        ValueError,
        exact("DiscriminatorConfig.hidden_dims=(8, 0): every entry must be > 0"),
    ),
    (
        "two norms",
        lambda: gen(use_instance_norm=True),
        ValueError,
        exact("GeneratorConfig.use_instance_norm=True: cannot be combined with batch_norm=True"),
    ),
    (
        "latent dim",
        lambda: gen(latent_dim=0),
        ValueError,
        exact("GeneratorConfig.latent_dim=0: must be > 0"),
    ),
    (
        "shape length",
        lambda: gen(output_shape=(28, 28)),
        ValueError,
        exact("GeneratorConfig.output_shape=(28, 28): must be a flat shape (N,) or an image shape"),
    ),
    (
        "shape entries",
        lambda: disc(input_shape=(0, 28, 28)),
        ValueError,
        exact("DiscriminatorConfig.input_shape=(0, 28, 28): every entry must be > 0"),
    ),
    (
        "batch of 4-entry shape",
        lambda: gen(output_shape=(2, 1, 28, 28)),
        ValueError,
        exact("GeneratorConfig.output_shape=(2, 1, 28, 28): a 4-entry shape is read as"),
    ),
    (
        "ambiguous layout",
        lambda: gen(output_shape=(4, 4, 4)),
        ValueError,
        exact("GeneratorConfig.output_shape=(4, 4, 4) is ambiguous") + ".*set data_format='NHWC'",
    ),
    (
        "format of a flat shape",
        lambda: gen(output_shape=(784,), data_format="NHWC"),
        ValueError,
        exact(
            "GeneratorConfig.data_format='NHWC': applies to image shapes, but output_shape=(784,) "
            "is flat"
        ),
    ),
    (
        "conv needs image",
        lambda: conv_gen(output_shape=(784,)),
        ValueError,
        exact(
            "ConvGeneratorConfig.output_shape=(784,): a convolutional network needs an image shape"
        ),
    ),
    (
        "conv disc needs image",
        lambda: conv_disc(input_shape=(784,)),
        ValueError,
        exact("ConvDiscriminatorConfig.input_shape=(784,): a convolutional network needs"),
    ),
    (
        "kernel positive",
        lambda: conv_gen(kernel_size=0),
        ValueError,
        exact("ConvGeneratorConfig.kernel_size=(0, 0): every entry must be > 0"),
    ),
    (
        "stride positive",
        lambda: conv_disc(stride=(2, -1)),
        ValueError,
        exact("ConvDiscriminatorConfig.stride=(2, -1): every entry must be > 0"),
    ),
    (
        "padding negative",
        lambda: conv_gen(padding=-1),
        ValueError,
        exact("ConvGeneratorConfig.padding=-1: must be 'SAME', 'VALID' or an int >= 0"),
    ),
    (
        "padding name",
        lambda: conv_gen(padding="full"),
        ValueError,
        exact("ConvGeneratorConfig.padding='FULL': must be one of 'SAME', 'VALID'"),
    ),
    (
        "classes",
        lambda: cfg.ConditionalParams(num_classes=1),
        ValueError,
        exact("ConditionalParams.num_classes=1: a conditional model needs at least 2 classes"),
    ),
    (
        "embedding",
        lambda: cfg.ConditionalParams(num_classes=2, embedding_dim=0),
        ValueError,
        exact("ConditionalParams.embedding_dim=0: must be > 0"),
    ),
    (
        "conditional missing",
        lambda: cfg.ConditionalGeneratorConfig(hidden_dims=(8,), output_shape=IMG),
        TypeError,
        "conditional",
    ),
    (
        "scales",
        lambda: cfg.MultiScalePatchGANDiscriminatorConfig(hidden_dims=(8,), num_scales=0),
        ValueError,
        exact("MultiScalePatchGANDiscriminatorConfig.num_scales=0: must be > 0"),
    ),
    (
        "cycle latent",
        lambda: cycle_gen(latent_dim=100),
        ValueError,
        exact(
            "CycleGANGeneratorConfig.latent_dim=100: a CycleGAN generator takes no latent vector"
        ),
    ),
    (
        "residual blocks",
        lambda: cycle_gen(n_residual_blocks=-1),
        ValueError,
        exact("CycleGANGeneratorConfig.n_residual_blocks=-1: must be >= 0"),
    ),
    (
        "even edge kernel",
        lambda: cycle_gen(edge_kernel_size=4),
        ValueError,
        exact("CycleGANGeneratorConfig.edge_kernel_size=4: must be an odd integer >= 1"),
    ),
    (
        "zero edge kernel",
        lambda: cycle_gen(edge_kernel_size=0),
        ValueError,
        exact("CycleGANGeneratorConfig.edge_kernel_size=0: must be an odd integer >= 1"),
    ),
    (
        "cycle image",
        lambda: cycle_gen(input_shape=(784,)),
        ValueError,
        exact("CycleGANGeneratorConfig.input_shape=(784,): a convolutional network needs"),
    ),
    (
        "cycle size",
        lambda: cycle_gen(output_shape=(32, 32, 3)),
        ValueError,
        exact(
            "CycleGANGeneratorConfig.output_shape=(32, 32, 3): must keep the input's height and "
            "width (16, 16)"
        ),
    ),
    # -- progressive and style networks --
    (
        "progressive halvings",
        lambda: cfg.ProgressiveGeneratorConfig(max_channels=16, num_stages=6),
        ValueError,
        exact(
            "ProgressiveGeneratorConfig.max_channels=16: halves to 0 channels after 5 doublings "
            "of resolution; need max_channels >= 32"
        ),
    ),
    (
        "progressive stages",
        lambda: cfg.ProgressiveDiscriminatorConfig(num_stages=0),
        ValueError,
        exact("ProgressiveDiscriminatorConfig.num_stages=0: must be > 0"),
    ),
    (
        "progressive latent",
        lambda: cfg.ProgressiveGeneratorConfig(latent_dim=0),
        ValueError,
        exact("ProgressiveGeneratorConfig.latent_dim=0: must be > 0"),
    ),
    (
        "progressive slope",
        lambda: cfg.ProgressiveDiscriminatorConfig(leaky_relu_slope=-0.2),
        ValueError,
        exact("ProgressiveDiscriminatorConfig.leaky_relu_slope=-0.2: must be in [0, 1)"),
    ),
    (
        "progressive format",
        lambda: cfg.ProgressiveGeneratorConfig(data_format="auto"),
        ValueError,
        exact("ProgressiveGeneratorConfig.data_format='auto': must be one of 'NHWC', 'NCHW'"),
    ),
    (
        "style ladder",
        lambda: cfg.StyleGANGeneratorConfig(image_size=28),
        ValueError,
        exact("StyleGANGeneratorConfig.image_size=28: must be start_size * 2**k with start_size=4")
        + ".*set start_size=7",
    ),
    (
        "style small",
        lambda: cfg.StyleGANGeneratorConfig(image_size=2),
        ValueError,
        exact("StyleGANGeneratorConfig.image_size=2: must be start_size * 2**k"),
    ),
    (
        "style channels",
        lambda: cfg.StyleGANGeneratorConfig(max_channels=32),
        ValueError,
        exact("StyleGANGeneratorConfig.min_channels=64: must be <= max_channels=32"),
    ),
    (
        "style mixing",
        lambda: cfg.StyleGANGeneratorConfig(style_mixing_prob=1.5),
        ValueError,
        exact("StyleGANGeneratorConfig.style_mixing_prob=1.5: must be in [0, 1]"),
    ),
    (
        "style mapping lr",
        lambda: cfg.StyleGANGeneratorConfig(mapping_lr_multiplier=0.0),
        ValueError,
        exact("StyleGANGeneratorConfig.mapping_lr_multiplier=0.0: must be in (0, 1]"),
    ),
    (
        "style dim",
        lambda: cfg.StyleGANGeneratorConfig(style_dim=0),
        ValueError,
        exact("StyleGANGeneratorConfig.style_dim=0: must be > 0"),
    ),
    # -- GAN configs --
    (
        "lr",
        lambda: cfg.GANConfig(generator=gen(), discriminator=disc(), generator_lr=0.0),
        ValueError,
        exact("GANConfig.generator_lr=0.0: must be > 0"),
    ),
    ("beta", lambda: wgan(beta2=1.0), ValueError, exact("WGANConfig.beta2=1.0: must be in [0, 1)")),
    (
        "gp weight",
        lambda: cfg.GANConfig(generator=gen(), discriminator=disc(), gradient_penalty_weight=-1.0),
        ValueError,
        exact("GANConfig.gradient_penalty_weight=-1.0: must be >= 0"),
    ),
    (
        "loss type",
        lambda: cfg.GANConfig(generator=gen(), discriminator=disc(), loss_type="bce"),
        ValueError,
        exact(
            "GANConfig.loss_type='bce': must be one of 'vanilla', 'wasserstein', "
            "'least_squares', 'hinge'"
        ),
    ),
    (
        "smoothing range",
        lambda: cfg.GANConfig(generator=gen(), discriminator=disc(), label_smoothing=1.0),
        ValueError,
        exact("GANConfig.label_smoothing=1.0: must be in [0, 1)"),
    ),
    (
        "smoothing loss",
        lambda: cfg.GANConfig(
            generator=gen(), discriminator=disc(), loss_type="hinge", label_smoothing=0.1
        ),
        ValueError,
        exact("GANConfig.label_smoothing=0.1: applies to loss_type='vanilla' only, not 'hinge'"),
    ),
    (
        "shape mismatch",
        lambda: cfg.GANConfig(generator=gen(), discriminator=disc(input_shape=(1, 28, 28))),
        ValueError,
        exact(
            "GANConfig.discriminator.input_shape=(1, 28, 28) (NCHW) does not match "
            "GANConfig.generator.output_shape=(28, 28, 1) (NHWC): the discriminator must take "
            "what the generator makes"
        ),
    ),
    (
        "layout mismatch",
        lambda: cfg.DCGANConfig(
            generator=conv_gen(output_shape=(4, 4, 4), data_format="NHWC"),
            discriminator=conv_disc(input_shape=(4, 4, 4), data_format="NCHW"),
        ),
        ValueError,
        exact(
            "DCGANConfig.discriminator.input_shape=(4, 4, 4) (NCHW) does not match "
            "DCGANConfig.generator.output_shape=(4, 4, 4) (NHWC)"
        ),
    ),
    (
        "flat mismatch",
        lambda: cfg.GANConfig(
            generator=gen(output_shape=(2,)), discriminator=disc(input_shape=(3,))
        ),
        ValueError,
        exact(
            "GANConfig.discriminator.input_shape=(3,) does not match "
            "GANConfig.generator.output_shape=(2,)"
        ),
    ),
    (
        "wgan loss",
        lambda: wgan(loss_type="vanilla"),
        ValueError,
        exact("WGANConfig.loss_type='vanilla': a WGAN uses the 'wasserstein' loss"),
    ),
    (
        "critic iterations",
        lambda: wgan(critic_iterations=0),
        ValueError,
        exact("WGANConfig.critic_iterations=0: must be > 0"),
    ),
    (
        "clip",
        lambda: wgan(use_gradient_penalty=False, clip_value=0.0),
        ValueError,
        exact("WGANConfig.clip_value=0.0: must be > 0"),
    ),
    (
        "gp needs weight",
        lambda: wgan(gradient_penalty_weight=0.0),
        ValueError,
        exact("WGANConfig.gradient_penalty_weight=0.0: must be > 0 with use_gradient_penalty=True"),
    ),
    (
        "lsgan loss",
        lambda: cfg.LSGANConfig(generator=conv_gen(), discriminator=conv_disc(), loss_type="hinge"),
        ValueError,
        exact("LSGANConfig.loss_type='hinge': an LSGAN uses the 'least_squares' loss"),
    ),
    (
        "lsgan targets",
        lambda: cfg.LSGANConfig(generator=conv_gen(), discriminator=conv_disc(), a=1.0),
        ValueError,
        exact("LSGANConfig.b=1.0: must differ from a=1.0"),
    ),
    (
        "lsgan reduction",
        lambda: cfg.LSGANConfig(generator=conv_gen(), discriminator=conv_disc(), reduction="none"),
        ValueError,
        exact("LSGANConfig.reduction='none': must be one of 'mean', 'sum'"),
    ),
    (
        "classes mismatch",
        lambda: cfg.ConditionalGANConfig(
            generator=cfg.ConditionalGeneratorConfig(
                hidden_dims=(8,), output_shape=IMG, conditional=cond(10)
            ),
            discriminator=cfg.ConditionalDiscriminatorConfig(hidden_dims=(8,), conditional=cond(5)),
        ),
        ValueError,
        exact(
            "ConditionalGANConfig.discriminator.conditional.num_classes=5 does not "
            "match generator.conditional.num_classes=10"
        ),
    ),
    (
        "cycle generator keys",
        lambda: cycle(generator={"g": cycle_gen(), "f": cycle_gen()}),
        ValueError,
        exact("CycleGANConfig.generator={'g': ") + ".*must have exactly the keys "
        "'a_to_b', 'b_to_a'",
    ),
    (
        "cycle discriminator keys",
        lambda: cycle(discriminator={"disc_a": patch()}),
        ValueError,
        "must have exactly the keys 'disc_a', 'disc_b'",
    ),
    (
        "cycle lambda",
        lambda: cycle(lambda_cycle=-1.0),
        ValueError,
        exact("CycleGANConfig.lambda_cycle=-1.0: must be >= 0"),
    ),
    (
        "cycle domain",
        lambda: cycle(input_shape_a=(32, 32, 3)),
        ValueError,
        exact(
            "CycleGANConfig.input_shape_a=(32, 32, 3): generator['a_to_b'].input_shape="
            "(16, 16, 3) (NHWC) does not match"
        ),
    ),
    (
        "cycle discriminator domain",
        lambda: cycle(discriminator={"disc_a": patch(), "disc_b": patch(input_shape=(3, 16, 16))}),
        ValueError,
        exact(
            "CycleGANConfig.input_shape_b=(16, 16, 3): discriminator['disc_b'].input_shape="
            "(3, 16, 16) (NCHW) does not match"
        ),
    ),
    (
        "cycle backward",
        lambda: cycle(
            generator={"a_to_b": cycle_gen(), "b_to_a": cycle_gen(output_shape=(16, 16, 1))}
        ),
        ValueError,
        exact(
            "CycleGANConfig.input_shape_a=(16, 16, 3): generator['b_to_a'].output_shape="
            "(16, 16, 1) (NHWC) does not match"
        ),
    ),
    (
        "cycle identity",
        lambda: cfg.CycleGANConfig(
            generator={
                "a_to_b": cycle_gen(output_shape=(16, 16, 1)),
                "b_to_a": cycle_gen(input_shape=(16, 16, 1)),
            },
            discriminator={"disc_a": patch(), "disc_b": patch()},
        ),
        ValueError,
        exact(
            "CycleGANConfig.lambda_identity=0.5: needs both domains to share one image shape "
            "(input_shape_a=(16, 16, 3), input_shape_b=(16, 16, 1)); set lambda_identity=0.0"
        ),
    ),
    (
        "style discriminator",
        lambda: cfg.StyleGANConfig(
            generator=cfg.StyleGANGeneratorConfig(image_size=16, max_channels=32, min_channels=8),
            discriminator=cfg.ProgressiveDiscriminatorConfig(num_stages=4, max_channels=32),
        ),
        ValueError,
        exact("StyleGANConfig.discriminator.num_stages=4 does not match the generator (needs 3)"),
    ),
    (
        "progressive discriminator",
        lambda: cfg.ProgressiveGANConfig(
            discriminator=cfg.ProgressiveDiscriminatorConfig(channels=1)
        ),
        ValueError,
        exact(
            "ProgressiveGANConfig.discriminator.channels=1 does not match the generator (needs 3)"
        ),
    ),
    (
        "progressive steps",
        lambda: cfg.ProgressiveGANConfig(stable_steps=0),
        ValueError,
        exact("ProgressiveGANConfig.stable_steps=0: must be > 0"),
    ),
    (
        "progressive fade",
        lambda: cfg.ProgressiveGANConfig(transition_steps=-1),
        ValueError,
        exact("ProgressiveGANConfig.transition_steps=-1: must be >= 0"),
    ),
    (
        "stage step",
        lambda: cfg.ProgressiveGANConfig().stage_at(-1),
        ValueError,
        exact("step=-1: must be >= 0"),
    ),
    # -- legacy configs --
    (
        "model input",
        lambda: cfg.ModelConfig(0, 784),
        ValueError,
        exact("ModelConfig.input_dim=0: must be > 0"),
    ),
    (
        "model output int",
        lambda: cfg.ModelConfig(10, 0),
        ValueError,
        exact("ModelConfig.output_dim=0: must be > 0"),
    ),
    (
        "model output shape",
        lambda: cfg.ModelConfig(10, (28, 28)),
        ValueError,
        exact("ModelConfig.output_dim=(28, 28): must be a flat shape"),
    ),
    (
        "model hidden",
        lambda: cfg.ModelConfig(10, 784, [0]),
        ValueError,
        exact("ModelConfig.hidden_dims=(0,): every entry must be > 0"),
    ),
    (
        "gan_params mapping",
        lambda: cfg.ModelConfig(10, 784, metadata={"gan_params": [1]}),
        TypeError,
        exact(
            "ModelConfig.metadata={'gan_params': (1,)}: metadata['gan_params'] must be a mapping"
        ),
    ),
    (
        "gan_params key",
        lambda: cfg.ModelConfig(10, 784, metadata={"gan_params": {"lr": 1.0}}),
        ValueError,
        exact(
            "ModelConfig.metadata['gan_params'] has unknown key 'lr'; known keys: "
            "gen_hidden_dims, disc_hidden_dims, discriminator_features,"
        ),
    ),
    (
        "gan_params alias twice",
        lambda: cfg.ModelConfig(
            10,
            784,
            metadata={"gan_params": {"disc_hidden_dims": [8], "discriminator_features": [8]}},
        ),
        ValueError,
        "gives both 'disc_hidden_dims' and its alias 'discriminator_features'",
    ),
    (
        "gan_params family",
        lambda: cfg.ModelConfig(
            10, IMG, metadata={"gan_params": {"critic_iterations": 5}}
        ).to_gan_config("dcgan"),
        ValueError,
        exact(
            "ModelConfig.metadata['gan_params']['critic_iterations'] does not apply to family "
            "'dcgan' (only to 'wgan')"
        ),
    ),
    (
        "conditional classes",
        lambda: cfg.ModelConfig(10, IMG).to_gan_config("conditional"),
        ValueError,
        exact("ModelConfig.metadata['gan_params'] needs 'num_classes' for family 'conditional'"),
    ),
    (
        "legacy family",
        lambda: cfg.ModelConfig(10, IMG).to_gan_config("cyclegan"),
        ValueError,
        exact("family='cyclegan': must be one of 'gan', 'dcgan', 'wgan', 'lsgan', 'conditional'"),
    ),
    (
        "legacy conv flat",
        lambda: cfg.ModelConfig(10, 784).to_gan_config("dcgan"),
        ValueError,
        exact("ConvGeneratorConfig.output_shape=(784,): a convolutional network needs"),
    ),
    (
        "dcgan configuration",
        lambda: cfg.DCGANConfiguration(image_size=0),
        ValueError,
        exact("DCGANConfiguration.image_size=0: must be > 0"),
    ),
    (
        "dcgan configuration dims",
        lambda: cfg.DCGANConfiguration(gen_hidden_dims=()),
        ValueError,
        exact("DCGANConfiguration.gen_hidden_dims=(): must not be empty"),
    ),
    (
        "dcgan configuration beta",
        lambda: cfg.DCGANConfiguration(beta1=-0.5),
        ValueError,
        exact("DCGANConfiguration.beta1=-0.5: must be in [0, 1)"),
    ),
    # -- data --
    (
        "digits path",
        lambda: cfg.DataConfig(path="x"),
        ValueError,
        exact("DataConfig.path='x': source='digits' is bundled and reads no files; must be None"),
    ),
    (
        "path needed",
        lambda: cfg.DataConfig(source="npy"),
        ValueError,
        exact("DataConfig.path=None: source='npy' needs a path"),
    ),
    (
        "source",
        lambda: cfg.DataConfig(source="imagenet"),
        ValueError,
        exact(
            "DataConfig.source='imagenet': must be one of 'digits', 'folder', 'npz', 'npy', "
            "'mnist_idx', 'cifar10'"
        ),
    ),
    (
        "labels path",
        lambda: cfg.DataConfig(source="npz", path="x", labels_path="y"),
        ValueError,
        exact("DataConfig.labels_path='y': applies to source='npy' only, not 'npz'"),
    ),
    (
        "batch",
        lambda: cfg.DataConfig(batch_size=0),
        ValueError,
        exact("DataConfig.batch_size=0: must be > 0"),
    ),
    (
        "image size",
        lambda: cfg.DataConfig(image_size=0),
        ValueError,
        exact("DataConfig.image_size=0: must be > 0"),
    ),
    (
        "channels",
        lambda: cfg.DataConfig(channels=2),
        ValueError,
        exact("DataConfig.channels=2: must be 1, 3, 4 or None"),
    ),
    (
        "value range",
        lambda: cfg.DataConfig(value_range=(1, -1)),
        ValueError,
        exact("DataConfig.value_range=(1.0, -1.0): must be (low, high) with low < high"),
    ),
    (
        "workers",
        lambda: cfg.DataConfig(worker_count=-1),
        ValueError,
        exact("DataConfig.worker_count=-1: must be >= 0"),
    ),
    # -- training --
    (
        "schedule field",
        lambda: cfg.ScheduleConfig(decay_rate=0.5),
        ValueError,
        exact("ScheduleConfig.decay_rate=0.5: does not apply to kind='constant'"),
    ),
    (
        "schedule cosine steps",
        lambda: cfg.ScheduleConfig(kind="cosine"),
        ValueError,
        exact("ScheduleConfig.decay_steps=0: must be >= 1 for kind='cosine'"),
    ),
    (
        "schedule rate",
        lambda: cfg.ScheduleConfig(kind="exponential", decay_rate=0.0),
        ValueError,
        exact("ScheduleConfig.decay_rate=0.0: must be in (0, 1]"),
    ),
    (
        "schedule final",
        lambda: cfg.ScheduleConfig(kind="linear", decay_steps=10, final_fraction=2.0),
        ValueError,
        exact("ScheduleConfig.final_fraction=2.0: must be in [0, 1]"),
    ),
    (
        "schedule warmup",
        lambda: cfg.ScheduleConfig(warmup_steps=-1),
        ValueError,
        exact("ScheduleConfig.warmup_steps=-1: must be >= 0"),
    ),
    (
        "optimizer name",
        lambda: cfg.OptimizerConfig(name="lamb"),
        ValueError,
        exact("OptimizerConfig.name='lamb': must be one of 'adam', 'adamw', 'rmsprop', 'sgd'"),
    ),
    (
        "optimizer lr",
        lambda: cfg.OptimizerConfig(learning_rate=-1e-4),
        ValueError,
        exact("OptimizerConfig.learning_rate=-0.0001: must be > 0"),
    ),
    (
        "optimizer eps",
        lambda: cfg.OptimizerConfig(eps=0.0),
        ValueError,
        exact("OptimizerConfig.eps=0.0: must be > 0"),
    ),
    (
        "optimizer clip",
        lambda: cfg.OptimizerConfig(grad_clip_norm=0.0),
        ValueError,
        exact("OptimizerConfig.grad_clip_norm=0.0: must be > 0"),
    ),
    (
        "optimizer momentum",
        lambda: cfg.OptimizerConfig(momentum=1.0),
        ValueError,
        exact("OptimizerConfig.momentum=1.0: must be in [0, 1)"),
    ),
    (
        "optimizer decay",
        lambda: cfg.OptimizerConfig(weight_decay=-1.0),
        ValueError,
        exact("OptimizerConfig.weight_decay=-1.0: must be >= 0"),
    ),
    (
        "ema decay",
        lambda: cfg.EMAConfig(decay=1.0),
        ValueError,
        exact("EMAConfig.decay=1.0: must be in (0, 1)"),
    ),
    (
        "ema start",
        lambda: cfg.EMAConfig(start_step=-1),
        ValueError,
        exact("EMAConfig.start_step=-1: must be >= 0"),
    ),
    (
        "precision",
        lambda: cfg.PrecisionConfig(param_dtype="bfloat16"),
        ValueError,
        exact("PrecisionConfig.param_dtype='bfloat16': must be one of 'float32'"),
    ),
    (
        "checkpoint every",
        lambda: cfg.CheckpointConfig(every_n_steps=0),
        ValueError,
        exact("CheckpointConfig.every_n_steps=0: must be > 0"),
    ),
    (
        "checkpoint keep",
        lambda: cfg.CheckpointConfig(keep_last=0),
        ValueError,
        exact("CheckpointConfig.keep_last=0: must be > 0"),
    ),
    (
        "tensorboard dir",
        lambda: cfg.LoggingConfig(tensorboard=True),
        ValueError,
        exact("LoggingConfig.tensorboard=True: needs log_dir"),
    ),
    (
        "log every",
        lambda: cfg.LoggingConfig(log_every=0),
        ValueError,
        exact("LoggingConfig.log_every=0: must be > 0"),
    ),
    (
        "samples",
        lambda: cfg.LoggingConfig(num_samples=0),
        ValueError,
        exact("LoggingConfig.num_samples=0: must be > 0"),
    ),
    (
        "steps",
        lambda: cfg.TrainingConfig(steps=0),
        ValueError,
        exact("TrainingConfig.steps=0: must be > 0"),
    ),
    (
        "n_critic",
        lambda: cfg.TrainingConfig(n_critic=0),
        ValueError,
        exact("TrainingConfig.n_critic=0: must be > 0"),
    ),
    (
        "training smoothing",
        lambda: cfg.TrainingConfig(label_smoothing=1.5),
        ValueError,
        exact("TrainingConfig.label_smoothing=1.5: must be in [0, 1)"),
    ),
    (
        "r1",
        lambda: cfg.TrainingConfig(r1_weight=-1.0),
        ValueError,
        exact("TrainingConfig.r1_weight=-1.0: must be >= 0"),
    ),
    (
        "r1 interval",
        lambda: cfg.TrainingConfig(r1_interval=0),
        ValueError,
        exact("TrainingConfig.r1_interval=0: must be > 0"),
    ),
    (
        "accumulation",
        lambda: cfg.TrainingConfig(gradient_accumulation_steps=0),
        ValueError,
        exact("TrainingConfig.gradient_accumulation_steps=0: must be > 0"),
    ),
    (
        "dispatch",
        lambda: cfg.TrainingConfig(steps_per_dispatch=0),
        ValueError,
        exact("TrainingConfig.steps_per_dispatch=0: must be > 0"),
    ),
    (
        "dispatch multiple",
        lambda: cfg.TrainingConfig(steps_per_dispatch=3, steps=9),
        ValueError,
        exact(
            "TrainingConfig.logging.log_every=100 is not a multiple of steps_per_dispatch=3: the "
            "host sees the state only every 3 steps"
        ),
    ),
    (
        "objective",
        lambda: cfg.TrainingConfig(objective="bce"),
        ValueError,
        exact(
            "TrainingConfig.objective='bce': must be one of 'vanilla', 'wasserstein', "
            "'least_squares', 'hinge'"
        ),
    ),
    # -- experiment --
    (
        "data layout",
        lambda: experiment(layout="NHWC"),
        ValueError,
        exact(
            "ExperimentConfig.training.data.layout='NHWC' does not match the model, which takes "
            "(3, 16, 16) images (NCHW): use 'NCHW'"
        ),
    ),
    (
        "data size",
        lambda: experiment(image_size=32),
        ValueError,
        exact("ExperimentConfig.training.data.image_size=32 does not match the model"),
    ),
    (
        "data channels",
        lambda: experiment(channels=1),
        ValueError,
        exact("ExperimentConfig.training.data.channels=1 does not match the model"),
    ),
    (
        "cycle domain b",
        lambda: experiment(cycle(), source="folder", path="a"),
        ValueError,
        exact(
            "ExperimentConfig.training.data.domain_b_path=None: a CycleGAN needs a second image "
            "source for domain B"
        ),
    ),
    (
        "conditional labels",
        lambda: experiment(
            cfg.ModelConfig(
                10, (1, 28, 28), metadata={"gan_params": {"num_classes": 10}}
            ).to_gan_config("conditional")
        ),
        ValueError,
        exact(
            "ExperimentConfig.training.data.use_labels=False: a conditional GAN needs labelled data"
        ),
    ),
    (
        "experiment smoothing",
        lambda: cfg.ExperimentConfig(
            model=cfg.GANConfig(generator=gen(), discriminator=disc(), label_smoothing=0.1),
            training=cfg.TrainingConfig(objective="hinge"),
        ),
        ValueError,
        exact(
            "ExperimentConfig: label smoothing 0.1 applies to the 'vanilla' objective only, not "
            "'hinge'"
        ),
    ),
]


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_validation_error(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_case_names_are_unique():
    names = [case[0] for case in CASES]
    assert len(names) == len(set(names))
