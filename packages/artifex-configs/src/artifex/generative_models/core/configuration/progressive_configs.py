"""Configs of the Progressive GAN networks (seed 001): resolution grows stage by stage.

Stage ``i`` works at ``start_size * 2**i`` pixels; the last of ``num_stages`` stages is
the final resolution (``start_size=4, num_stages=6``: 4x4 up to 128x128). Channel counts
halve with every doubling of resolution, starting from ``max_channels``.
"""

from typing import ClassVar, Literal

from artifex.generative_models.core.configuration._fields import (
    DtypeName,
    ScoreType,
    activation_name,
    check_positive,
    check_range,
    dtype_name,
    resolve_score_type,
)
from artifex.generative_models.core.configuration._ladder import (
    check_channel_halvings,
    square_layout,
)
from artifex.generative_models.core.configuration.base import (
    ConfigBase,
    config_dataclass,
    config_field,
)
from artifex.generative_models.core.configuration.layout import ImageLayout

__all__ = ["ProgressiveDiscriminatorConfig", "ProgressiveGeneratorConfig"]


def _check_ladder(config: "ProgressiveGeneratorConfig | ProgressiveDiscriminatorConfig") -> None:
    for name in ("max_channels", "num_stages", "start_size", "channels"):
        check_positive(config, name)
    check_range(config, "leaky_relu_slope", 0, 1)
    check_channel_halvings(config, config.max_channels, config.num_stages - 1)


@config_dataclass
class ProgressiveGeneratorConfig(ConfigBase):
    """A progressively grown generator (seed 001's ``ProgressiveGenerator``).

    A dense layer maps the latent vector to ``max_channels`` maps of
    ``start_size x start_size``; each later stage upsamples by 2 and applies a block of two
    3x3 convolutions with ``max_channels // 2**stage`` channels; a 1x1 "to RGB"
    convolution per stage makes the image, blended with the previous stage's by ``alpha``
    during a transition.

    Attributes:
        name: A name for the network.
        latent_dim: Size of the latent vector; >= 1.
        max_channels: Channels at the first stage; must survive ``num_stages - 1``
            halvings.
        num_stages: Number of resolutions; >= 1.
        start_size: Resolution of the first stage.
        channels: Channels of the generated images (3 for RGB).
        use_pixel_norm: Pixel-wise feature normalization after each convolution.
        use_equalized_lr: Equalized learning rate (weights scaled at run time).
        leaky_relu_slope: Negative slope of the hidden leaky ReLUs; in [0, 1).
        output_activation: Activation of the images (``"tanh"``).
        data_format: ``"NHWC"`` or ``"NCHW"``: layout of the generated images.
        dtype: The compute dtype of activations, matmuls and convolutions: ``"float32"``,
            ``"bfloat16"`` or ``"float16"`` (see :class:`NetworkConfig`).
        param_dtype: The storage dtype of the parameters (see :class:`NetworkConfig`).
    """

    name: str = "progressive_generator"
    latent_dim: int = 512
    max_channels: int = 512
    num_stages: int = 6
    start_size: int = 4
    channels: int = 3
    use_pixel_norm: bool = True
    use_equalized_lr: bool = False
    leaky_relu_slope: float = 0.2
    output_activation: str = config_field(default="tanh", convert=activation_name)
    data_format: Literal["NHWC", "NCHW"] = "NHWC"
    dtype: DtypeName = config_field(default="float32", convert=dtype_name)
    param_dtype: DtypeName = config_field(default="float32", convert=dtype_name)

    def _validate(self) -> None:
        super()._validate()
        check_positive(self, "latent_dim")
        _check_ladder(self)

    @property
    def resolutions(self) -> tuple[int, ...]:
        """The image size of each stage, first to last."""
        return tuple(self.start_size * 2**stage for stage in range(self.num_stages))

    @property
    def final_resolution(self) -> int:
        """The image size of the last stage."""
        return self.resolutions[-1]

    @property
    def stage_channels(self) -> tuple[int, ...]:
        """The feature channels of each stage: ``max_channels // 2**stage``."""
        return tuple(self.max_channels >> stage for stage in range(self.num_stages))

    def output_layout_at(self, stage: int) -> ImageLayout:
        """The layout of the images made at ``stage``."""
        return square_layout(self.resolutions[stage], self.channels, self.data_format)

    @property
    def output_layout(self) -> ImageLayout:
        """The layout of the images made at the last stage."""
        return self.output_layout_at(self.num_stages - 1)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """The per-sample shape at the last stage, in ``data_format``."""
        return self.output_layout.shape


@config_dataclass
class ProgressiveDiscriminatorConfig(ConfigBase):
    """A progressively grown discriminator (seed 001's ``ProgressiveDiscriminator``).

    A 1x1 "from RGB" convolution per stage, blocks of two 3x3 convolutions that halve
    the resolution and double the channels up to ``max_channels``, then a minibatch
    standard-deviation feature, a 3x3 and a 4x4 convolution and a dense score.

    Attributes:
        name: A name for the network.
        max_channels: Channels at the lowest resolution; must survive ``num_stages - 1``
            halvings.
        num_stages: Number of resolutions; >= 1.
        start_size: Resolution of the first stage.
        channels: Channels of the images taken (3 for RGB).
        use_minibatch_std: Append the minibatch standard-deviation feature map.
        use_equalized_lr: Equalized learning rate (weights scaled at run time).
        use_spectral_norm: Spectral normalization of the weights.
        leaky_relu_slope: Negative slope of the hidden leaky ReLUs; in [0, 1).
        score_type: ``"auto"``, ``"probabilities"`` or ``"logits"``; ``"auto"`` alone
            means logits.
        data_format: ``"NHWC"`` or ``"NCHW"``: layout of the images taken.
        dtype: The compute dtype of activations, matmuls and convolutions: ``"float32"``,
            ``"bfloat16"`` or ``"float16"`` (see :class:`NetworkConfig`).
        param_dtype: The storage dtype of the parameters (see :class:`NetworkConfig`).
    """

    STANDALONE_SCORE_TYPE: ClassVar[str] = "logits"

    name: str = "progressive_discriminator"
    max_channels: int = 512
    num_stages: int = 6
    start_size: int = 4
    channels: int = 3
    use_minibatch_std: bool = True
    use_equalized_lr: bool = False
    use_spectral_norm: bool = False
    leaky_relu_slope: float = 0.2
    score_type: ScoreType = "auto"
    data_format: Literal["NHWC", "NCHW"] = "NHWC"
    dtype: DtypeName = config_field(default="float32", convert=dtype_name)
    param_dtype: DtypeName = config_field(default="float32", convert=dtype_name)

    def _validate(self) -> None:
        super()._validate()
        _check_ladder(self)

    @property
    def resolutions(self) -> tuple[int, ...]:
        """The image size of each stage, first to last."""
        return tuple(self.start_size * 2**stage for stage in range(self.num_stages))

    @property
    def final_resolution(self) -> int:
        """The image size of the last stage."""
        return self.resolutions[-1]

    @property
    def stage_channels(self) -> tuple[int, ...]:
        """The feature channels at each stage's resolution: ``max_channels // 2**stage``.

        The "from RGB" convolution of the current stage makes this many channels, and each
        block on the way down to the first stage moves to the next entry back.
        """
        return tuple(self.max_channels >> stage for stage in range(self.num_stages))

    def input_layout_at(self, stage: int) -> ImageLayout:
        """The layout of the images taken at ``stage``."""
        return square_layout(self.resolutions[stage], self.channels, self.data_format)

    @property
    def input_layout(self) -> ImageLayout:
        """The layout of the images taken at the last stage."""
        return self.input_layout_at(self.num_stages - 1)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """The per-sample shape at the last stage, in ``data_format``."""
        return self.input_layout.shape

    def resolved_score_type(self, loss_type: str | None = None) -> str:
        """``"probabilities"`` or ``"logits"``: what a call returns under ``loss_type``."""
        return resolve_score_type(self.score_type, loss_type, self.STANDALONE_SCORE_TYPE)
