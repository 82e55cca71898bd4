"""Every config class round-trips exactly through dicts, JSON, YAML and files."""

import json

import pytest
import yaml

import artifex.generative_models.core.configuration as cfg
from artifex.generative_models.core.configuration import ConfigBase, biggan_configs, config_classes


def _conv_pair(shape=(3, 16, 16)):
    return (
        cfg.ConvGeneratorConfig(hidden_dims=(32, 16), output_shape=shape, latent_dim=8),
        cfg.ConvDiscriminatorConfig(hidden_dims=(16, 32), input_shape=shape),
    )


def _cycle():
    generator = cfg.CycleGANGeneratorConfig(
        hidden_dims=(8, 16),
        input_shape=(16, 16, 3),
        output_shape=(16, 16, 3),
        n_residual_blocks=2,
        edge_kernel_size=3,  # not the default: the field must survive every round trip
    )
    return cfg.CycleGANConfig(
        generator={"a_to_b": generator, "b_to_a": generator.replace(name="b_to_a")},
        discriminator={
            "disc_a": cfg.PatchGANDiscriminatorConfig(hidden_dims=(8, 16)),
            "disc_b": cfg.PatchGANDiscriminatorConfig(
                hidden_dims=(8,), input_shape=(16, 16, 3), return_features=False
            ),
        },
    )


def _biggan():
    params = cfg.ConditionalParams(num_classes=10, embedding_dim=8)
    generator = biggan_configs.BigGANGeneratorConfig(
        hidden_dims=(16, 8),
        latent_dim=6,
        output_shape=(1, 8, 8),
        conditional=params,
        hierarchical_latent=True,
        self_attention_at=4,
    )
    discriminator = biggan_configs.BigGANDiscriminatorConfig(
        hidden_dims=(8, 16), conditional=params.replace(embedding_dim=16), self_attention_at=4
    )
    model = biggan_configs.BigGANConfig(
        generator=generator, discriminator=discriminator, orthogonal_weight=1e-4
    )
    return [generator, discriminator, model]


def _examples():
    params = cfg.ConditionalParams(num_classes=10, embedding_dim=4)
    generator, discriminator = _conv_pair()
    mlp_gan = cfg.GANConfig(
        generator=cfg.GeneratorConfig(hidden_dims=[4, 8], output_shape=(2,), latent_dim=3),
        discriminator=cfg.DiscriminatorConfig(hidden_dims=[8], score_type="logits"),
        label_smoothing=0.1,
    )
    return [
        cfg.GeneratorConfig(hidden_dims=(256, 512), output_shape=(28, 28, 1)),
        cfg.GeneratorConfig(hidden_dims=(16,), output_shape=(4, 4, 4), data_format="NCHW"),
        cfg.DiscriminatorConfig(hidden_dims=(512, 256)),
        cfg.DiscriminatorConfig(hidden_dims=(8,), input_shape=(784,)),
        generator,
        discriminator,
        generator.replace(padding=1, kernel_size=3, activation="gelu"),
        params,
        cfg.ConditionalGeneratorConfig(
            hidden_dims=(8,), output_shape=(1, 28, 28), conditional=params
        ),
        cfg.ConditionalDiscriminatorConfig(
            hidden_dims=(8,), input_shape=(1, 28, 28), conditional=params
        ),
        cfg.PatchGANDiscriminatorConfig(hidden_dims=(8, 16), input_shape=(32, 32, 3)),
        cfg.MultiScalePatchGANDiscriminatorConfig(hidden_dims=(8,), num_scales=2),
        cfg.CycleGANGeneratorConfig(
            hidden_dims=(8,), input_shape=(3, 32, 32), output_shape=(1, 32, 32)
        ),
        cfg.ProgressiveGeneratorConfig(max_channels=64, num_stages=3),
        cfg.ProgressiveDiscriminatorConfig(max_channels=64, num_stages=3, data_format="NCHW"),
        cfg.StyleGANGeneratorConfig(image_size=28, start_size=7, max_channels=64, min_channels=8),
        cfg.StyleGAN2GeneratorConfig(
            image_size=28, start_size=7, max_channels=32, min_channels=8, dtype="bfloat16"
        ),
        cfg.StyleGAN2Config(
            generator=cfg.StyleGAN2GeneratorConfig(
                image_size=8, channels=1, max_channels=16, min_channels=8
            ),
            pl_weight=1.0,
            style_mixing_prob=0.5,
        ),
        mlp_gan,
        # A subclass in a field typed with its base class is tagged with config_type.
        cfg.GANConfig(generator=generator, discriminator=discriminator),
        cfg.DCGANConfig(generator=generator, discriminator=discriminator, loss_type="hinge"),
        cfg.WGANConfig(generator=generator, discriminator=discriminator, critic_iterations=3),
        cfg.LSGANConfig(generator=generator, discriminator=discriminator, a=-1.0, c=0.5),
        cfg.ConditionalGANConfig(
            generator=cfg.ConditionalGeneratorConfig(
                hidden_dims=(8,), output_shape=(1, 28, 28), conditional=params
            ),
            discriminator=cfg.ConditionalDiscriminatorConfig(hidden_dims=(8,), conditional=params),
        ),
        *_biggan(),
        _cycle(),
        cfg.StyleGANConfig(
            generator=cfg.StyleGANGeneratorConfig(image_size=16, max_channels=32, min_channels=8)
        ),
        cfg.ProgressiveGANConfig(
            generator=cfg.ProgressiveGeneratorConfig(max_channels=32, num_stages=3),
            transition_steps=10,
            stable_steps=20,
        ),
        cfg.ModelConfig(
            100,
            (3, 64, 64),
            metadata={"gan_params": {"gen_hidden_dims": [8, 4], "critic_iterations": 5}},
        ),
        cfg.ModelConfig(input_dim=10, output_dim=784, hidden_dims=[32], name="mlp"),
        cfg.DCGANConfiguration(image_size=32, channels=1),
        cfg.ScheduleConfig(kind="cosine", warmup_steps=10, decay_steps=100, final_fraction=0.1),
        cfg.ScheduleConfig(kind="exponential", transition_steps=1000, decay_rate=0.95),
        cfg.OptimizerConfig(name="adamw", weight_decay=1e-4, grad_clip_norm=1.0),
        cfg.EMAConfig(decay=0.99, start_step=100),
        cfg.EvaluationConfig(every=500, samples=2000, against="stats.npz", extractor="inception"),
        cfg.PrecisionConfig(compute_dtype="bfloat16"),
        cfg.AugmentConfig(kind="ada", transforms=("xflip", "rotate90"), target=None, p=0.3),
        cfg.CheckpointConfig(directory="runs/ckpt", every_n_steps=500, keep_last=2),
        cfg.LoggingConfig(tensorboard=True, log_dir="runs/logs", sample_every=0),
        cfg.DataConfig(source="npz", path="data.npz", use_labels=True, value_range=(0, 1)),
        cfg.TrainingConfig(
            steps=100,
            steps_per_dispatch=10,
            generator_optimizer=cfg.ttur()[0],
            discriminator_optimizer=cfg.ttur()[1],
            ema=cfg.EMAConfig(),
            objective="hinge",
            logging=cfg.LoggingConfig(log_every=10, sample_every=50),
            checkpoint=cfg.CheckpointConfig(every_n_steps=50),
        ),
        cfg.ExperimentConfig(model=mlp_gan),
        cfg.ExperimentConfig(
            model=_cycle(),
            training=cfg.TrainingConfig(
                data=cfg.DataConfig(source="folder", path="a", domain_b_path="b")
            ),
        ),
    ]


EXAMPLES = _examples()


def _id(config):
    return type(config).__name__


def test_every_concrete_config_class_has_an_example():
    concrete = {name for name, cls in config_classes().items() if not cls._abstract}
    covered = {type(config).__name__ for config in EXAMPLES}
    assert concrete - covered == set()


@pytest.mark.parametrize("config", EXAMPLES, ids=_id)
def test_dict_round_trip(config):
    data = config.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain data only
    rebuilt = type(config).from_dict(data)
    assert rebuilt == config
    assert type(rebuilt) is type(config)
    assert rebuilt.to_dict() == data


@pytest.mark.parametrize("config", EXAMPLES, ids=_id)
def test_json_round_trip(config):
    assert type(config).from_json(config.to_json()) == config
    assert type(config).from_json(config.to_json(indent=None)) == config


@pytest.mark.parametrize("config", EXAMPLES, ids=_id)
def test_yaml_round_trip(config):
    text = config.to_yaml()
    assert yaml.safe_load(text) == config.to_dict()
    assert type(config).from_yaml(text) == config


@pytest.mark.parametrize("config", EXAMPLES, ids=_id)
def test_self_describing_round_trip(config):
    data = config.to_dict(include_type=True)
    assert data["config_type"] == type(config).__name__
    assert ConfigBase.from_dict(data) == config
    assert ConfigBase.from_yaml(config.to_yaml(include_type=True)) == config


@pytest.mark.parametrize("config", EXAMPLES, ids=_id)
def test_hash_and_replace_identity(config):
    assert hash(config) == hash(config.replace())
    assert config.replace() == config


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_file_round_trip(tmp_path, suffix):
    config = EXAMPLES[-1]
    path = config.to_file(tmp_path / f"experiment{suffix}")
    assert ConfigBase.from_file(path) == config
    assert cfg.ExperimentConfig.from_file(path) == config


def test_subclass_in_base_typed_field_is_tagged():
    generator, discriminator = _conv_pair()
    data = cfg.GANConfig(generator=generator, discriminator=discriminator).to_dict()
    assert data["generator"]["config_type"] == "ConvGeneratorConfig"
    exact = cfg.DCGANConfig(generator=generator, discriminator=discriminator).to_dict()
    assert "config_type" not in exact["generator"]


def test_tuples_and_nested_configs_are_rebuilt():
    config = EXAMPLES[-1]
    rebuilt = cfg.ExperimentConfig.from_dict(json.loads(config.to_json()))
    assert isinstance(rebuilt.model.generator["a_to_b"], cfg.CycleGANGeneratorConfig)
    assert isinstance(rebuilt.model.generator["a_to_b"].hidden_dims, tuple)
    assert isinstance(rebuilt.model.input_shape_a, tuple)
    assert isinstance(rebuilt.training.data.value_range, tuple)


def test_legacy_metadata_round_trips_frozen():
    config = cfg.ModelConfig(10, 784, metadata={"gan_params": {"gen_hidden_dims": [8, 4]}})
    assert config.metadata == {"gan_params": {"gen_hidden_dims": (8, 4)}}
    assert isinstance(config.metadata, cfg.FrozenDict)
    assert cfg.ModelConfig.from_yaml(config.to_yaml()) == config
