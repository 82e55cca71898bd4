"""Named experiments that train on the bundled digits out of the box.

Each preset is a complete :class:`ExperimentConfig`: a model config of one GAN family and
a training config sized to finish in minutes on two CPU cores. ``artifex-train presets``
lists them; ``--preset NAME`` starts from one; ``--set key=value`` changes any field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from artifex.generative_models.core.configuration import (
    AugmentConfig,
    CheckpointConfig,
    ConditionalDiscriminatorConfig,
    ConditionalGANConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    CycleGANConfig,
    CycleGANGeneratorConfig,
    DataConfig,
    DCGANConfig,
    DiscriminatorConfig,
    EMAConfig,
    ExperimentConfig,
    GANConfig,
    GeneratorConfig,
    LoggingConfig,
    LSGANConfig,
    PatchGANDiscriminatorConfig,
    ProgressiveGANConfig,
    ProgressiveGeneratorConfig,
    StyleGAN2Config,
    StyleGAN2GeneratorConfig,
    StyleGANConfig,
    StyleGANGeneratorConfig,
    TrainingConfig,
    WGANConfig,
    ttur,
)
from artifex.generative_models.core.configuration.biggan_configs import (
    BigGANConfig,
    BigGANDiscriminatorConfig,
    BigGANGeneratorConfig,
)

__all__ = ["DEFAULT_PRESET", "PRESETS", "preset"]

DEFAULT_PRESET = "dcgan"

# The digits are 8x8, one channel, in [-1, 1].
_SHAPE = (8, 8, 1)
_GENERATOR: dict[str, Any] = {"latent_dim": 32, "output_shape": _SHAPE, "data_format": "NHWC"}
_DISCRIMINATOR: dict[str, Any] = {"input_shape": _SHAPE, "data_format": "NHWC"}


def _training(steps: int, **changes: Any) -> TrainingConfig:
    # One iteration per compiled call: on CPU a dispatch is written out iteration by
    # iteration, so K iterations compile K times the code, and at these sizes the compile
    # costs more than the calls saved (dcgan: 44 s at K=1 against 56 s at K=10 on a quiet
    # machine, the same FID-digits: the trajectory does not depend on K).
    return TrainingConfig(
        steps=steps,
        seed=0,
        steps_per_dispatch=1,
        ema=EMAConfig(decay=0.99),
        data=DataConfig(source="digits", batch_size=64, channels=1, image_size=8),
        logging=LoggingConfig(log_every=100, sample_every=500, num_samples=64),
        checkpoint=CheckpointConfig(every_n_steps=500, keep_last=2),
    ).replace(**changes)


def _gan() -> ExperimentConfig:
    model = GANConfig(
        name="gan-digits",
        generator=GeneratorConfig(hidden_dims=(128, 256), **_GENERATOR),
        discriminator=DiscriminatorConfig(
            hidden_dims=(256, 128), dropout_rate=0.3, **_DISCRIMINATOR
        ),
    )
    return ExperimentConfig(model=model, training=_training(3000))


def _conv_networks(**discriminator: Any) -> dict[str, Any]:
    return {
        "generator": ConvGeneratorConfig(hidden_dims=(64, 32), batch_norm=True, **_GENERATOR),
        "discriminator": ConvDiscriminatorConfig(
            hidden_dims=(32, 64), **{**_DISCRIMINATOR, **discriminator}
        ),
    }


def _dcgan() -> ExperimentConfig:
    model = DCGANConfig(name="dcgan-digits", **_conv_networks(batch_norm=True))
    return ExperimentConfig(model=model, training=_training(3000))


#: Training digits of the small-data preset: 5 % of the 1,438 (the file's order cycles
#: through the classes, so each digit has 5 to 9 images).
SMALL_SUBSET = 72

#: ADA's transforms that keep a digit a digit: no x-flip, 90-degree or arbitrary rotation
#: (a rotated 6 is a 9, a mirrored 2 no digit), no luma flip, hue or saturation (one grey
#: channel); integer and fractional translation, scaling and brightness / contrast remain.
DIGIT_ADA_TRANSFORMS = ("xint", "scale", "aniso", "xfrac", "brightness", "contrast")


def _dcgan_ada() -> ExperimentConfig:
    # The dcgan preset on 5 % of the digits with adaptive augmentation (p steered toward
    # E[sign(D(real))] = 0.6) of the transforms that keep digits digits. The quality suite's
    # data-efficiency part (quality_data_efficiency.md) chose it: on 144 images (10 %) no
    # augmentation helps up to 10k iterations (the generator does not degrade); on 72 images
    # training without augmentation degrades after ~4000 iterations and this holds it
    # (FID-digits at 6000 iterations 35.1 +- 1.7 vs 40.0 +- 4.0 over 3 seeds; DiffAugment
    # without cutout 39.4 +- 2.2; ADA's full 'bgc' pipeline 35.2 +- 1.5, the same: the
    # digit-safe transforms are a choice of principle, not of FID). stylegan2-ada's speed
    # of 500k images would let p reach at most ~0.8 in 6000 iterations of 64 images; 50k
    # lets it settle (~0.56).
    experiment = _dcgan()
    training = experiment.training
    return experiment.replace(
        model=experiment.model.replace(name="dcgan-ada-digits"),
        training=training.replace(
            steps=6000,
            data=training.data.replace(max_examples=SMALL_SUBSET),
            augment=AugmentConfig(
                kind="ada", transforms=DIGIT_ADA_TRANSFORMS, target=0.6, speed_images=50_000
            ),
        ),
    )


def _wgan() -> ExperimentConfig:
    model = WGANConfig(
        name="wgan-gp-digits",
        critic_iterations=5,
        gradient_penalty_weight=10.0,
        **_conv_networks(batch_norm=False, use_instance_norm=False),
    )
    return ExperimentConfig(model=model, training=_training(1000))


def _lsgan() -> ExperimentConfig:
    model = LSGANConfig(name="lsgan-digits", **_conv_networks(batch_norm=True))
    return ExperimentConfig(model=model, training=_training(3000))


def _conditional() -> ExperimentConfig:
    labels = ConditionalParams(num_classes=10, embedding_dim=16)
    model = ConditionalGANConfig(
        name="cgan-digits",
        generator=ConditionalGeneratorConfig(
            hidden_dims=(64, 32), conditional=labels, **_GENERATOR
        ),
        discriminator=ConditionalDiscriminatorConfig(
            hidden_dims=(32, 64), conditional=labels, **_DISCRIMINATOR
        ),
    )
    training = _training(3000)
    return ExperimentConfig(
        model=model, training=training.replace(data=training.data.replace(use_labels=True))
    )


def _biggan() -> ExperimentConfig:
    # Hinge loss and spectral norm (the defaults), conditional batch norm from a shared
    # class embedding with the hierarchical latent (30 = 3 chunks of 10), self-attention on
    # the 4x4 maps, a projection discriminator, SAGAN's two-timescale Adam. At 5000
    # iterations: FID-digits 4.5, the digits classifier agrees with the requested class on
    # 99 % of samples (the worst class 97 %); at 3000 the digit 1 was at 92 %.
    model = BigGANConfig(
        name="biggan-digits",
        generator=BigGANGeneratorConfig(
            hidden_dims=(64, 32),
            conditional=ConditionalParams(num_classes=10, embedding_dim=16),
            hierarchical_latent=True,
            self_attention_at=4,
            **{**_GENERATOR, "latent_dim": 30},
        ),
        discriminator=BigGANDiscriminatorConfig(
            hidden_dims=(32, 64),
            conditional=ConditionalParams(num_classes=10, embedding_dim=64),
            self_attention_at=4,
            **_DISCRIMINATOR,
        ),
        orthogonal_weight=1e-4,
    )
    generator_optimizer, discriminator_optimizer = ttur(2e-4, 4e-4, beta1=0.0, beta2=0.9)
    training = _training(
        5000,
        generator_optimizer=generator_optimizer,
        discriminator_optimizer=discriminator_optimizer,
    )
    return ExperimentConfig(
        model=model, training=training.replace(data=training.data.replace(use_labels=True))
    )


def _stylegan() -> ExperimentConfig:
    model = StyleGANConfig(
        name="stylegan-digits",
        generator=StyleGANGeneratorConfig(
            latent_dim=32,
            style_dim=32,
            mapping_layers=2,
            image_size=8,
            channels=1,
            max_channels=32,
            min_channels=16,
            # No style mixing: at 8x8 the two synthesis blocks are the only levels a
            # second style could take, and mixing them made the runs seed-dependent
            # (FID-digits over seeds 0-2 at 2000 iterations: 6.5 / 7.8 / 11.6 with
            # probability 0.5, 5.9 / 5.8 / 6.3 without). Set generator.style_mixing_prob
            # to train with it.
            style_mixing_prob=0.0,
            data_format="NHWC",
        ),
    )
    # Without R1 the residual critic wins (real 0.9, fake 0.08) and the generator
    # collapses to a few digits (FID-digits 84 against dcgan's 4.5); R1 on real data,
    # lazily every 4 iterations, keeps the game balanced. Its weight matters (seed 0,
    # 1200 iterations, with style mixing): 0.1 gives FID-digits 12.5, 1.0 gives 8.7, 3.0
    # gives 8.2 (quality_presets.md; dcgan over seeds 0-2: 5.1 +- 0.5). 1500 iterations:
    # FID-digits 6.8 +- 0.7 over seeds 0-2 (2000: 6.0 +- 0.3, 1200: 7.8 +- 0.2) in under
    # twice dcgan's wall time (issue 14's target; 2000 iterations take 2.0x).
    return ExperimentConfig(model=model, training=_training(1500, r1_weight=3.0, r1_interval=4))


def _stylegan2() -> ExperimentConfig:
    model = StyleGAN2Config(
        name="stylegan2-digits",
        generator=StyleGAN2GeneratorConfig(
            latent_dim=32,
            style_dim=32,
            mapping_layers=2,
            image_size=8,
            channels=1,
            max_channels=32,
            min_channels=16,
            output_activation="tanh",  # the digits are in [-1, 1]
            data_format="NHWC",
        ),
        # No style mixing, as the stylegan preset: at 8x8 it can only swap one of two
        # blocks' styles (FID-digits over seeds 0-2: 14.9 / 13.7 / 10.8 with probability
        # 0.5, 12.5 / 10.7 / 11.4 without).
        style_mixing_prob=0.0,
        # The path-length penalty (weight 2, every 4 iterations) costs quality on 8x8
        # digits at this length: FID-digits 22.2 with it, 14.8 without (1200 iterations,
        # seed 0, with style mixing; floor 2.1); set model.pl_weight=2 to train with it.
        pl_weight=0.0,
        generator_lr=0.002,
        discriminator_lr=0.002,
    )
    # Lazy R1 on real data (weight 1) every 4 iterations.
    return ExperimentConfig(model=model, training=_training(1200, r1_weight=1.0, r1_interval=4))


def _progressive() -> ExperimentConfig:
    # 4x4 for 500 iterations, a 500-iteration fade-in to 8x8, then 8x8.
    model = ProgressiveGANConfig(
        name="progan-digits",
        generator=ProgressiveGeneratorConfig(
            latent_dim=32, max_channels=32, num_stages=2, channels=1, data_format="NHWC"
        ),
        stable_steps=500,
        transition_steps=500,
    )
    return ExperimentConfig(model=model, training=_training(2000))


def _cyclegan() -> ExperimentConfig:
    # Domain A: the digits; domain B: the same digits inverted, shuffled apart so that
    # no pair is ever shown. The true translation (negation) is known, so it is scored.
    # A local generator: four 3x3 convolutions at full resolution (no downsampling, 3x3
    # ends, one residual block). With the paper's 7x7 ends and two downsamplings every
    # output pixel sees the whole 8x8 image from the first layer on, and a swap of one
    # digit for another satisfies the cycle loss as well as the inversion does: G settled
    # on such a swap (error 0.45 against the inversion). Built from 3x3 steps, a per-pixel
    # map is the easy solution (error 0.06-0.07 on seeds 0..4, see
    # benchmarks/results/quality_presets.md).
    def generator(name: str) -> CycleGANGeneratorConfig:
        return CycleGANGeneratorConfig(
            name=name,
            hidden_dims=(16,),
            input_shape=_SHAPE,
            output_shape=_SHAPE,
            n_residual_blocks=1,
            edge_kernel_size=3,
        )

    def discriminator(name: str) -> PatchGANDiscriminatorConfig:
        return PatchGANDiscriminatorConfig(
            name=name,
            hidden_dims=(16, 32),
            input_shape=_SHAPE,
            activation="leaky_relu",
            return_features=False,
        )

    model = CycleGANConfig(
        name="cyclegan-digits",
        generator={"a_to_b": generator("generator_g"), "b_to_a": generator("generator_f")},
        discriminator={
            "disc_a": discriminator("discriminator_x"),
            "disc_b": discriminator("discriminator_y"),
        },
        input_shape_a=_SHAPE,
        input_shape_b=_SHAPE,
        # The identity loss asks G(b) = b: right for style transfer, wrong for a
        # translation that inverts colours, so it is off here.
        lambda_identity=0.0,
        # 2, not the paper's 10: a copy of the input (the sign of the inversion wrong) also
        # satisfies the cycle loss, and turning it into the inversion passes through grey
        # images that break the cycle; at weight 10 that barrier held one seed of three in
        # the copy. At 2 all of seeds 0..4 reach the inversion (900 iterations).
        lambda_cycle=2.0,
        # 5x the paper's 2e-4: at 2e-4 the local generator was still at error 0.19
        # after 600 iterations; at 1e-3 it reached 0.07.
        generator_lr=1e-3,
        discriminator_lr=1e-3,
    )
    training = _training(900, ema=None)
    return ExperimentConfig(
        model=model,
        training=training.replace(
            data=training.data.replace(domain_b_transform="invert", batch_size=32)
        ),
    )


PRESETS: dict[str, Callable[[], ExperimentConfig]] = {
    "gan": _gan,
    "dcgan": _dcgan,
    "dcgan-ada": _dcgan_ada,
    "wgan": _wgan,
    "lsgan": _lsgan,
    "conditional": _conditional,
    "biggan": _biggan,
    "stylegan": _stylegan,
    "stylegan2": _stylegan2,
    "progressive": _progressive,
    "cyclegan": _cyclegan,
}
"""Preset name -> a function building its experiment config."""


def preset(name: str) -> ExperimentConfig:
    """The experiment config of preset ``name``.

    Raises:
        ValueError: An unknown name (the message lists the presets).
    """
    try:
        return PRESETS[name]()
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}") from None
