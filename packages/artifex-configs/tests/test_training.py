"""Training configs: schedules against their formulas, TTUR, stages, experiment resolution."""

import math
import re

import pytest

import artifex.generative_models.core.configuration as cfg


def test_constant_schedule_with_warmup():
    schedule = cfg.ScheduleConfig(warmup_steps=10)
    assert [schedule.value(s, 1e-3) for s in (0, 5, 10, 1000)] == [0.0, 5e-4, 1e-3, 1e-3]


def test_exponential_schedule_matches_seed_001():
    # optax.exponential_decay(init_value=0.001, transition_steps=1000, decay_rate=0.99)
    schedule = cfg.ScheduleConfig(kind="exponential", transition_steps=1000, decay_rate=0.99)
    for step in (0, 1, 500, 1000, 2500):
        assert schedule.value(step, 0.001) == pytest.approx(0.001 * 0.99 ** (step / 1000))
    stairs = schedule.replace(staircase=True)
    assert stairs.value(1999, 0.001) == pytest.approx(0.001 * 0.99)


def test_warmup_then_exponential_matches_create_gan_schedule():
    # linear 0 -> base over warmup_steps, then exponential_decay(base, decay_steps, 0.95)
    base, warmup, decay = 2e-4, 1000, 10_000
    schedule = cfg.ScheduleConfig(
        kind="exponential", warmup_steps=warmup, transition_steps=decay, decay_rate=0.95
    )
    assert schedule.value(250, base) == pytest.approx(base * 250 / warmup)
    assert schedule.value(warmup + 5000, base) == pytest.approx(base * 0.95**0.5)


def test_cosine_and_linear_schedules():
    cosine = cfg.ScheduleConfig(kind="cosine", decay_steps=100, final_fraction=0.1)
    assert cosine.value(0, 1.0) == pytest.approx(1.0)
    assert cosine.value(50, 1.0) == pytest.approx(0.1 + 0.9 * 0.5)
    assert cosine.value(25, 1.0) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert cosine.value(100, 1.0) == cosine.value(10_000, 1.0) == pytest.approx(0.1)
    linear = cfg.ScheduleConfig(kind="linear", decay_steps=10, warmup_steps=10)
    assert [linear.value(s, 2.0) for s in (10, 15, 20, 30)] == pytest.approx([2.0, 1.0, 0.0, 0.0])


def test_optimizer_and_ttur():
    generator, discriminator = cfg.ttur(name="adam", beta1=0.0, beta2=0.9)
    assert (generator.learning_rate, discriminator.learning_rate) == (1e-4, 4e-4)
    assert generator.beta1 == discriminator.beta1 == 0.0
    optimizer = cfg.OptimizerConfig(learning_rate=1e-3, schedule=cfg.ScheduleConfig(warmup_steps=4))
    assert optimizer.learning_rate_at(2) == pytest.approx(5e-4)


def test_precision():
    assert not cfg.PrecisionConfig().mixed
    assert cfg.PrecisionConfig(compute_dtype="bfloat16").mixed


def test_training_config_multiples_of_dispatch():
    config = cfg.TrainingConfig(
        steps=1000,
        steps_per_dispatch=10,
        logging=cfg.LoggingConfig(log_every=50, sample_every=0),
        checkpoint=cfg.CheckpointConfig(every_n_steps=500),
    )
    assert config.steps_per_dispatch == 10
    with pytest.raises(
        ValueError,
        match=re.escape(
            "TrainingConfig.checkpoint.every_n_steps=505 is not a multiple of steps_per_dispatch=10"
        ),
    ):
        config.replace(checkpoint=cfg.CheckpointConfig(every_n_steps=505))
    with pytest.raises(ValueError, match=re.escape("TrainingConfig.steps=1001 is not a multiple")):
        config.replace(steps=1001)


def test_progressive_stage_schedule():
    gan = cfg.ProgressiveGANConfig(
        generator=cfg.ProgressiveGeneratorConfig(num_stages=3, max_channels=8),
        transition_steps=10,
        stable_steps=20,
    )
    assert gan.total_steps == 3 * 20 + 2 * 10
    expected = {
        0: (0, 1.0),
        19: (0, 1.0),
        20: (1, 0.0),
        25: (1, 0.5),
        30: (1, 1.0),
        49: (1, 1.0),
        50: (2, 0.0),
        59: (2, 0.9),
        60: (2, 1.0),
        79: (2, 1.0),
        10_000: (2, 1.0),
    }
    for step, (stage, alpha) in expected.items():
        assert gan.stage_at(step) == (stage, pytest.approx(alpha))


def _conv_gan(cls=cfg.DCGANConfig, **kw):
    return cls(
        generator=cfg.ConvGeneratorConfig(hidden_dims=(8,), output_shape=(1, 16, 16)),
        discriminator=cfg.ConvDiscriminatorConfig(hidden_dims=(8,)),
        **kw,
    )


def test_experiment_resolves_overrides_from_the_model():
    experiment = cfg.ExperimentConfig(
        model=_conv_gan(cfg.WGANConfig, critic_iterations=3, generator_lr=5e-5)
    )
    assert experiment.resolved_objective == "wasserstein"
    assert experiment.resolved_n_critic == 3
    assert experiment.resolved_label_smoothing == 0.0
    generator, discriminator = experiment.resolved_optimizers
    assert generator == cfg.OptimizerConfig(learning_rate=5e-5, beta1=0.0, beta2=0.9)
    assert discriminator.learning_rate == 1e-4

    plain = cfg.ExperimentConfig(model=_conv_gan(label_smoothing=0.1))
    assert plain.resolved_n_critic == 1 and plain.resolved_label_smoothing == 0.1

    overridden = cfg.ExperimentConfig(
        model=_conv_gan(cfg.WGANConfig),
        training=cfg.TrainingConfig(
            objective="hinge", n_critic=2, generator_optimizer=cfg.OptimizerConfig(name="sgd")
        ),
    )
    assert overridden.resolved_objective == "hinge"
    assert overridden.resolved_n_critic == 2
    assert overridden.resolved_optimizers[0].name == "sgd"


def test_experiment_accepts_matching_data():
    experiment = cfg.ExperimentConfig(
        model=_conv_gan(),
        training=cfg.TrainingConfig(data=cfg.DataConfig(layout="NCHW", image_size=16, channels=1)),
    )
    assert experiment.model.data_layout.shape == (1, 16, 16)


def test_experiment_yaml_from_the_module_docstring():
    text = """
model:
  config_type: DCGANConfig
  generator: {hidden_dims: [256, 128], output_shape: [32, 32, 1]}
  discriminator: {hidden_dims: [64, 128]}
training:
  steps: 2000
  data: {source: digits, batch_size: 64}
"""
    experiment = cfg.ExperimentConfig.from_yaml(text)
    assert isinstance(experiment.model, cfg.DCGANConfig)
    assert experiment.model.discriminator.input_shape == (32, 32, 1)
    assert experiment.training.steps == 2000
    assert cfg.ExperimentConfig.from_yaml(experiment.to_yaml()) == experiment


def test_evaluation_config_refuses_what_cannot_be_scored():
    from artifex.generative_models.core.configuration import (
        EvaluationConfig,
        LoggingConfig,
        TrainingConfig,
    )

    with pytest.raises(ValueError, match=r"EvaluationConfig.samples=1.*>= 2"):
        EvaluationConfig(samples=1)
    with pytest.raises(ValueError, match=r"EvaluationConfig.kid_subset_size=1.*>= 2"):
        EvaluationConfig(kid_subset_size=1)
    with pytest.raises(ValueError, match=r"EvaluationConfig.kid_subsets=0"):
        EvaluationConfig(kid_subsets=0)
    with pytest.raises(ValueError, match=r"against.*'digits' is scored with extractor='digits'"):
        EvaluationConfig(against="digits", extractor="inception")
    with pytest.raises(ValueError, match=r"evaluation.every=150 is not a multiple.*log_every=100"):
        TrainingConfig(
            steps=300, evaluation=EvaluationConfig(every=150), logging=LoggingConfig(log_every=100)
        )
    assert TrainingConfig().evaluation.every == 0  # off by default
