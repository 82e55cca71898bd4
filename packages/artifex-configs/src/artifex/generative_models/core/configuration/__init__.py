"""Every configuration class of Artifex GAN: networks, GAN families, training and data.

The package needs no array library: configs are plain frozen dataclasses that
validate on construction and round-trip through dicts, JSON and YAML.

Modules: ``network_configs`` (generator / discriminator configs), ``gan_config`` (whole
GANs; CycleGAN, StyleGAN and Progressive GAN in ``cyclegan_config`` and
``growing_gan_configs``), ``training_config`` and ``data_config`` (the trainer's settings),
``experiment_config`` (a model and its training together), ``layout`` (image layout
rule), ``model_config`` and ``gan`` (seed 003's legacy ``ModelConfig`` and
``DCGANConfiguration``), ``conversion`` (``to_typed_config``), ``base`` (the machinery).
"""

from artifex.generative_models.core.configuration._fields import (
    ACTIVATIONS,
    DTYPES,
    LOSS_TYPES,
    SCORE_TYPES,
)
from artifex.generative_models.core.configuration.base import (
    TYPE_KEY,
    ConfigBase,
    FrozenConfigError,
    FrozenDict,
    config_classes,
    config_dataclass,
    config_field,
)
from artifex.generative_models.core.configuration.biggan_configs import (
    BigGANConfig,
    BigGANDiscriminatorConfig,
    BigGANGeneratorConfig,
)
from artifex.generative_models.core.configuration.conversion import (
    GAN_FAMILIES,
    FamilyDefaults,
    family_defaults,
    to_typed_config,
)
from artifex.generative_models.core.configuration.data_config import DATA_SOURCES, DataConfig
from artifex.generative_models.core.configuration.experiment_config import ExperimentConfig
from artifex.generative_models.core.configuration.gan import DCGANConfiguration
from artifex.generative_models.core.configuration.gan_config import (
    BaseGANConfig,
    ConditionalGANConfig,
    CycleGANConfig,
    DCGANConfig,
    GANConfig,
    LSGANConfig,
    ProgressiveGANConfig,
    StyleGANConfig,
    WGANConfig,
)
from artifex.generative_models.core.configuration.layout import (
    DATA_FORMATS,
    ImageLayout,
    normalize_sample_shape,
    resolve_image_layout,
)
from artifex.generative_models.core.configuration.model_config import GAN_PARAMS_KEYS, ModelConfig
from artifex.generative_models.core.configuration.network_configs import (
    ConditionalDiscriminatorConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    CycleGANGeneratorConfig,
    DiscriminatorConfig,
    GeneratorConfig,
    MultiScalePatchGANDiscriminatorConfig,
    NetworkConfig,
    PatchGANDiscriminatorConfig,
    ProgressiveDiscriminatorConfig,
    ProgressiveGeneratorConfig,
    StyleGANGeneratorConfig,
)
from artifex.generative_models.core.configuration.stylegan2_config import (
    StyleGAN2Config,
    StyleGAN2GeneratorConfig,
)
from artifex.generative_models.core.configuration.training_config import (
    AugmentConfig,
    CheckpointConfig,
    EMAConfig,
    EvaluationConfig,
    LoggingConfig,
    OptimizerConfig,
    PrecisionConfig,
    ScheduleConfig,
    TrainingConfig,
    ttur,
)

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "DATA_FORMATS",
    "DATA_SOURCES",
    "DTYPES",
    "GAN_FAMILIES",
    "GAN_PARAMS_KEYS",
    "LOSS_TYPES",
    "SCORE_TYPES",
    "TYPE_KEY",
    "AugmentConfig",
    "BaseGANConfig",
    "BigGANConfig",
    "BigGANDiscriminatorConfig",
    "BigGANGeneratorConfig",
    "CheckpointConfig",
    "ConditionalDiscriminatorConfig",
    "ConditionalGANConfig",
    "ConditionalGeneratorConfig",
    "ConditionalParams",
    "ConfigBase",
    "ConvDiscriminatorConfig",
    "ConvGeneratorConfig",
    "CycleGANConfig",
    "CycleGANGeneratorConfig",
    "DCGANConfig",
    "DCGANConfiguration",
    "DataConfig",
    "DiscriminatorConfig",
    "EMAConfig",
    "EvaluationConfig",
    "ExperimentConfig",
    "FamilyDefaults",
    "FrozenConfigError",
    "FrozenDict",
    "GANConfig",
    "GeneratorConfig",
    "ImageLayout",
    "LSGANConfig",
    "LoggingConfig",
    "ModelConfig",
    "MultiScalePatchGANDiscriminatorConfig",
    "NetworkConfig",
    "OptimizerConfig",
    "PatchGANDiscriminatorConfig",
    "PrecisionConfig",
    "ProgressiveDiscriminatorConfig",
    "ProgressiveGANConfig",
    "ProgressiveGeneratorConfig",
    "ScheduleConfig",
    "StyleGAN2Config",
    "StyleGAN2GeneratorConfig",
    "StyleGANConfig",
    "StyleGANGeneratorConfig",
    "TrainingConfig",
    "WGANConfig",
    "__version__",
    "config_classes",
    "config_dataclass",
    "config_field",
    "family_defaults",
    "normalize_sample_shape",
    "resolve_image_layout",
    "to_typed_config",
    "ttur",
]
