"""Config of the StyleGAN generator (seed 001's ``StyleGANGenerator``)."""

from collections.abc import Callable
from typing import Any, Literal

from artifex.generative_models.core.configuration._fields import (
    DtypeName,
    activation_name,
    check_positive,
    check_range,
    dtype_name,
)
from artifex.generative_models.core.configuration._ladder import doublings, square_layout
from artifex.generative_models.core.configuration.base import (
    ConfigBase,
    config_dataclass,
    config_field,
)
from artifex.generative_models.core.configuration.layout import ImageLayout

__all__ = ["StyleGANGeneratorConfig"]


def check_style_generator(config: Any, own_checks: Callable[[], None]) -> None:
    """The checks StyleGAN's and StyleGAN2's generator configs share.

    Sizes and channel counts positive, the mapping's learning-rate multiplier in
    ``(0, 1]``, then ``own_checks`` (the family's own fields), then the leaky ReLU slope
    in ``[0, 1)``, ``min_channels <= max_channels`` and ``image_size = start_size * 2**k``.
    """
    for name in (
        "latent_dim",
        "style_dim",
        "mapping_layers",
        "image_size",
        "start_size",
        "channels",
        "max_channels",
        "min_channels",
    ):
        check_positive(config, name)
    check_range(config, "mapping_lr_multiplier", 0, 1, low_inclusive=False, high_inclusive=True)
    own_checks()
    check_range(config, "leaky_relu_slope", 0, 1)
    if config.min_channels > config.max_channels:
        config._fail("min_channels", f"must be <= max_channels={config.max_channels}")
    doublings(config, "image_size", config.start_size)


@config_dataclass
class StyleGANGeneratorConfig(ConfigBase):
    """A style-based generator: mapping network, constant input, AdaIN style blocks.

    An MLP of ``mapping_layers`` layers maps ``z`` to a style ``w`` of ``style_dim``; a
    learned constant of ``max_channels`` maps at ``start_size x start_size`` goes through
    ``num_blocks`` style blocks (3x3 convolution, optional noise injection, AdaIN, leaky
    ReLU), each after the first upsampling by 2; a 1x1 convolution makes the image.
    Block ``i`` has ``max(min_channels, max_channels // 2**i)`` channels (seed 001:
    512, 256, 128, 64, 64, ...).

    Example (seed 001's defaults)::

        StyleGANGeneratorConfig(latent_dim=512, style_dim=512, image_size=256)

    Attributes:
        name: A name for the network.
        latent_dim: Size of ``z``; >= 1.
        style_dim: Size of the style vector ``w``; >= 1.
        mapping_layers: Dense layers of the mapping network; >= 1.
        mapping_lr_multiplier: Learning-rate multiplier of the mapping network (applied
            with equalized learning rate); in (0, 1].
        image_size: Output height and width; must be ``start_size * 2**k``.
        start_size: Size of the constant input.
        channels: Channels of the generated images.
        max_channels: Channels of the constant input and the first block.
        min_channels: Floor of the halving channel counts; <= ``max_channels``.
        use_noise_injection: Add per-pixel noise, scaled by a learned weight, in each
            block (uses the ``noise`` RNG stream when given).
        style_mixing_prob: Probability of mixing two styles during training; in [0, 1].
        use_equalized_lr: Equalized learning rate.
        leaky_relu_slope: Negative slope of the leaky ReLUs; in [0, 1).
        output_activation: Activation of the images (``"tanh"``).
        data_format: ``"NHWC"`` or ``"NCHW"``: layout of the generated images.
        dtype: The compute dtype of activations, matmuls and convolutions: ``"float32"``,
            ``"bfloat16"`` or ``"float16"`` (see :class:`NetworkConfig`).
        param_dtype: The storage dtype of the parameters (see :class:`NetworkConfig`).
    """

    name: str = "stylegan_generator"
    latent_dim: int = 512
    style_dim: int = 512
    mapping_layers: int = 8
    mapping_lr_multiplier: float = 0.01
    image_size: int = 256
    start_size: int = 4
    channels: int = 3
    max_channels: int = 512
    min_channels: int = 64
    use_noise_injection: bool = True
    style_mixing_prob: float = 0.9
    use_equalized_lr: bool = True
    leaky_relu_slope: float = 0.2
    output_activation: str = config_field(default="tanh", convert=activation_name)
    data_format: Literal["NHWC", "NCHW"] = "NHWC"
    dtype: DtypeName = config_field(default="float32", convert=dtype_name)
    param_dtype: DtypeName = config_field(default="float32", convert=dtype_name)

    def _validate(self) -> None:
        super()._validate()
        check_style_generator(
            self,
            lambda: check_range(self, "style_mixing_prob", 0, 1, high_inclusive=True),
        )

    @property
    def num_blocks(self) -> int:
        """Number of style blocks: one per resolution from ``start_size`` to ``image_size``."""
        return doublings(self, "image_size", self.start_size) + 1

    @property
    def block_channels(self) -> tuple[int, ...]:
        """Channels of each style block."""
        return tuple(max(self.min_channels, self.max_channels >> i) for i in range(self.num_blocks))

    @property
    def output_layout(self) -> ImageLayout:
        """The layout of the generated images."""
        return square_layout(self.image_size, self.channels, self.data_format)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """The per-sample shape, in ``data_format``."""
        return self.output_layout.shape
