"""Resolution ladders of networks that grow by doubling (Progressive GAN, StyleGAN)."""

from typing import Literal

from artifex.generative_models.core.configuration.base import ConfigBase
from artifex.generative_models.core.configuration.layout import ImageLayout


def doublings(config: ConfigBase, size_field: str, start_size: int) -> int:
    """The ``k`` with ``size == start_size * 2**k``; raises naming the field otherwise."""
    size = getattr(config, size_field)
    ratio, remainder = divmod(size, start_size)
    if remainder == 0 and ratio >= 1 and ratio & (ratio - 1) == 0:
        return ratio.bit_length() - 1
    odd_part = size // (size & -size)
    config._fail(
        size_field,
        f"must be start_size * 2**k with start_size={start_size} (the network starts at "
        f"{start_size}x{start_size} and doubles); for {size}x{size} set start_size={odd_part} "
        "or another divisor that doubles up to it",
    )


def check_channel_halvings(config: ConfigBase, max_channels: int, halvings: int) -> None:
    """``config.max_channels`` must stay >= 1 after ``halvings`` halvings."""
    if max_channels >> halvings < 1:
        config._fail(
            "max_channels",
            f"halves to 0 channels after {halvings} doublings of resolution; "
            f"need max_channels >= {2**halvings}",
        )


def square_layout(size: int, channels: int, data_format: Literal["NHWC", "NCHW"]) -> ImageLayout:
    """The layout of square ``size`` x ``size`` images with ``channels`` channels."""
    return ImageLayout(size, size, channels, data_format)
