"""Configs of StyleGAN2: its skip generator and the whole model with its regularizers.

The discriminator is the residual critic of :class:`ProgressiveDiscriminatorConfig`
(``StyleGANDiscriminator`` in ``artifex-nets``) with equalized learning rate; a missing one
is built to match the generator.

References:
    Karras et al. "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020.
    https://arxiv.org/abs/1912.04958
"""

from typing import Any, Literal

from artifex.generative_models.core.configuration._fields import (
    DtypeName,
    activation_name,
    check_non_negative,
    check_positive,
    check_range,
    dtype_name,
)
from artifex.generative_models.core.configuration._gan_base import BaseGANConfig
from artifex.generative_models.core.configuration._ladder import doublings, square_layout
from artifex.generative_models.core.configuration.base import (
    ConfigBase,
    config_dataclass,
    config_field,
)
from artifex.generative_models.core.configuration.growing_gan_configs import _GrowingGANMixin
from artifex.generative_models.core.configuration.layout import ImageLayout
from artifex.generative_models.core.configuration.progressive_configs import (
    ProgressiveDiscriminatorConfig,
)
from artifex.generative_models.core.configuration.stylegan_configs import check_style_generator

__all__ = ["StyleGAN2Config", "StyleGAN2GeneratorConfig"]


@config_dataclass
class StyleGAN2GeneratorConfig(ConfigBase):
    """StyleGAN2's generator: mapping network, constant input, modulated convs, skips.

    The mapping network (``mapping_layers`` equalized dense layers at learning-rate
    multiplier ``mapping_lr_multiplier``) maps ``z`` to ``w``; the generator tracks the
    average ``w`` (decay ``w_avg_beta``) for the truncation trick. A learned constant of
    ``max_channels`` maps at ``start_size`` runs through one block per resolution: block 0
    has one modulated 3x3 convolution, each later block upsamples by 2 and has two; each
    block has a ``toRGB`` (modulated 1x1, not demodulated) whose image is added to the
    upsampled image of the blocks before (the "skip" architecture). Block ``i`` has
    ``max(min_channels, max_channels // 2**i)`` channels. There are ``num_ws = 2 *
    num_blocks`` style inputs (each convolution one, and the last ``toRGB`` one more), the
    indices style mixing and the truncation cut-off count.

    Attributes:
        name: A name for the network.
        latent_dim: Size of ``z``; >= 1.
        style_dim: Size of ``w``; >= 1.
        mapping_layers: Dense layers of the mapping network; >= 1.
        mapping_lr_multiplier: Learning-rate multiplier of the mapping network (equalized
            learning rate); in (0, 1].
        w_avg_beta: Decay of the tracked ``w`` average per update; in [0, 1).
        image_size: Output height and width; ``start_size * 2**k``.
        start_size: Size of the constant input; >= 1.
        channels: Channels of the generated images.
        max_channels: Channels of the constant input and the first block.
        min_channels: Floor of the halving channel counts; <= ``max_channels``.
        use_noise_injection: Add a per-pixel noise map, scaled by a learned per-channel
            weight, after each convolution in training mode.
        leaky_relu_slope: Negative slope of the leaky ReLUs; in [0, 1).
        output_activation: Activation of the images (StyleGAN2: ``"linear"``).
        data_format: ``"NHWC"`` or ``"NCHW"``: layout of the generated images.
        dtype: Compute dtype (``"float32"``, ``"bfloat16"``, ``"float16"``).
        param_dtype: Storage dtype of the parameters.
    """

    name: str = "stylegan2_generator"
    latent_dim: int = 512
    style_dim: int = 512
    mapping_layers: int = 8
    mapping_lr_multiplier: float = 0.01
    w_avg_beta: float = 0.995
    image_size: int = 256
    start_size: int = 4
    channels: int = 3
    max_channels: int = 512
    min_channels: int = 64
    use_noise_injection: bool = True
    leaky_relu_slope: float = 0.2
    output_activation: str = config_field(default="linear", convert=activation_name)
    data_format: Literal["NHWC", "NCHW"] = "NHWC"
    dtype: DtypeName = config_field(default="float32", convert=dtype_name)
    param_dtype: DtypeName = config_field(default="float32", convert=dtype_name)

    def _validate(self) -> None:
        super()._validate()
        check_style_generator(self, lambda: check_range(self, "w_avg_beta", 0, 1))

    @property
    def num_blocks(self) -> int:
        """Blocks: one per resolution from ``start_size`` to ``image_size``."""
        return doublings(self, "image_size", self.start_size) + 1

    @property
    def num_ws(self) -> int:
        """Style inputs: ``2 * num_blocks`` (convolutions, plus the last ``toRGB``)."""
        return 2 * self.num_blocks

    @property
    def block_channels(self) -> tuple[int, ...]:
        """Channels of each block."""
        return tuple(max(self.min_channels, self.max_channels >> i) for i in range(self.num_blocks))

    @property
    def output_layout(self) -> ImageLayout:
        """The layout of the generated images."""
        return square_layout(self.image_size, self.channels, self.data_format)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """The per-sample shape, in ``data_format``."""
        return self.output_layout.shape


@config_dataclass
class StyleGAN2Config(_GrowingGANMixin, BaseGANConfig):
    """StyleGAN2: the skip generator against a residual critic, with its regularizers.

    Lazy R1 on real data is a training setting (``TrainingConfig.r1_weight`` and
    ``r1_interval``); the path-length regularizer and style mixing are set here.

    Attributes:
        generator: The StyleGAN2 generator.
        discriminator: The residual critic (``StyleGANDiscriminator``); None builds one
            matching the generator, with equalized learning rate and minibatch standard
            deviation.
        style_mixing_prob: Probability that a batch of fakes switches from one latent's
            ``w`` to another's at a random style index; in [0, 1].
        pl_weight: Weight of the path-length penalty; >= 0 (0 disables it).
        pl_interval: Lazy regularization: the penalty is computed every this many
            iterations and scaled by it; >= 1.
        pl_decay: Decay of the path-length mean's moving average; in (0, 1].
        pl_batch_shrink: The penalty's batch is the batch divided by this (at least one
            sample); >= 1.
        loss_type: Defaults to ``"vanilla"`` (non-saturating logistic).
        generator_lr: Defaults to 0.0025.
        discriminator_lr: Defaults to 0.0025.
        beta1: Defaults to 0.0.
        beta2: Defaults to 0.99.
        name: See :class:`BaseGANConfig`.
        gradient_penalty_weight: See :class:`BaseGANConfig`.
        label_smoothing: See :class:`BaseGANConfig`.
    """

    name: str = "stylegan2"
    generator: StyleGAN2GeneratorConfig = config_field(default_factory=StyleGAN2GeneratorConfig)
    discriminator: ProgressiveDiscriminatorConfig | None = None
    style_mixing_prob: float = 0.9
    pl_weight: float = 2.0
    pl_interval: int = 4
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2
    generator_lr: float = 0.0025
    discriminator_lr: float = 0.0025
    beta1: float = 0.0
    beta2: float = 0.99

    def _validate(self) -> None:
        super()._validate()
        check_range(self, "style_mixing_prob", 0, 1, high_inclusive=True)
        check_non_negative(self, "pl_weight")
        check_positive(self, "pl_interval")
        check_range(self, "pl_decay", 0, 1, low_inclusive=False, high_inclusive=True)
        check_positive(self, "pl_batch_shrink")
        self._fill_and_check_discriminator()

    def _default_discriminator_options(self) -> dict[str, Any]:
        # StyleGAN2's critic: equalized learning rate like its generator.
        return {"name": "stylegan2_discriminator", "use_equalized_lr": True}

    def _prepare_replace(self, changes: dict[str, Any]) -> dict[str, Any]:
        return self._follow_generator(changes)

    @property
    def latent_dim(self) -> int:
        """The latent size, taken from the generator."""
        return self.generator.latent_dim

    @property
    def data_layout(self) -> ImageLayout:
        """The layout of the real images."""
        return self.generator.output_layout
