"""A whole run: the model config and the training config, checked against each other.

This is what the ``artifex-train`` CLI reads from a YAML file::

    model:
      config_type: DCGANConfig
      generator: {hidden_dims: [256, 128], output_shape: [32, 32, 1]}
      discriminator: {hidden_dims: [64, 128]}
    training:
      steps: 2000
      data: {source: digits, batch_size: 64}
"""

from artifex.generative_models.core.configuration.base import (
    ConfigBase,
    config_dataclass,
    config_field,
)
from artifex.generative_models.core.configuration.gan_config import (
    BaseGANConfig,
    ConditionalGANConfig,
    CycleGANConfig,
    WGANConfig,
)
from artifex.generative_models.core.configuration.layout import ImageLayout
from artifex.generative_models.core.configuration.training_config import (
    OptimizerConfig,
    TrainingConfig,
)

__all__ = ["ExperimentConfig"]


@config_dataclass
class ExperimentConfig(ConfigBase):
    """A model config and a training config that fit each other.

    Checks at construction: the data's explicit ``layout``, ``image_size`` and
    ``channels`` agree with the images the model takes; a conditional GAN gets labelled
    data; a CycleGAN gets a ``domain_b_path`` (or bundled data); label smoothing is used
    with the vanilla objective only. The ``resolved_*`` members settle the training
    config's ``None`` overrides from the model config.

    Attributes:
        model: The GAN config (any family; serialized with its ``config_type``).
        training: The training config.
    """

    model: BaseGANConfig
    training: TrainingConfig = config_field(default_factory=TrainingConfig)

    def _validate(self) -> None:
        super()._validate()
        data = self.training.data
        layouts = [self.model.data_layout]
        if isinstance(self.model, CycleGANConfig):
            layouts.append(self.model.data_layout_b)
            if data.source != "digits" and data.domain_b_path is None:
                raise ValueError(
                    "ExperimentConfig.training.data.domain_b_path=None: a CycleGAN needs "
                    "a second image source for domain B"
                )
        for layout in layouts:
            self._check_data(layout)
        if isinstance(self.model, ConditionalGANConfig) and not data.use_labels:
            raise ValueError(
                "ExperimentConfig.training.data.use_labels=False: a conditional GAN needs "
                "labelled data; set use_labels=True"
            )
        if self.resolved_label_smoothing > 0 and self.resolved_objective != "vanilla":
            raise ValueError(
                f"ExperimentConfig: label smoothing {self.resolved_label_smoothing} applies "
                f"to the 'vanilla' objective only, not {self.resolved_objective!r}"
            )

    def _check_data(self, layout: ImageLayout | None) -> None:
        data = self.training.data
        if layout is None:
            return
        wanted = {
            "layout": (data.layout, layout.data_format, "auto"),
            "channels": (data.channels, layout.channels, None),
        }
        if layout.height == layout.width:
            wanted["image_size"] = (data.image_size, layout.height, None)
        for name, (given, needed, unset) in wanted.items():
            if given != unset and given != needed:
                raise ValueError(
                    f"ExperimentConfig.training.data.{name}={given!r} does not match the "
                    f"model, which takes {layout.shape} images ({layout.data_format}): "
                    f"use {needed!r}"
                )

    @property
    def resolved_objective(self) -> str:
        """The adversarial loss: the training override, else the model's ``loss_type``."""
        return self.training.objective or self.model.loss_type

    @property
    def resolved_n_critic(self) -> int:
        """Discriminator updates per iteration: override, WGAN critic iterations, else 1."""
        if self.training.n_critic is not None:
            return self.training.n_critic
        if isinstance(self.model, WGANConfig):
            return self.model.critic_iterations
        return 1

    @property
    def resolved_label_smoothing(self) -> float:
        """One-sided label smoothing: the training override, else the model's."""
        if self.training.label_smoothing is not None:
            return self.training.label_smoothing
        return self.model.label_smoothing

    @property
    def resolved_optimizers(self) -> tuple[OptimizerConfig, OptimizerConfig]:
        """``(generator, discriminator)`` optimizers: overrides, else Adam from the model."""
        model = self.model
        generator = self.training.generator_optimizer or OptimizerConfig(
            learning_rate=model.generator_lr, beta1=model.beta1, beta2=model.beta2
        )
        discriminator = self.training.discriminator_optimizer or OptimizerConfig(
            learning_rate=model.discriminator_lr, beta1=model.beta1, beta2=model.beta2
        )
        return generator, discriminator
