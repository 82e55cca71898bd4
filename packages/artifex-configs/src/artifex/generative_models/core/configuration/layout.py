"""Image layout at the boundary: which axis of a user's image shape holds the channels.

Compute is NHWC inside every network; the arrays a user passes in and gets back keep the
layout the user declared. The rule (DESIGN.md, "Image layout"):

* an ``(H, W, C)`` shape means NHWC arrays, a ``(C, H, W)`` shape means NCHW arrays;
* with ``data_format="auto"`` the shape decides: ``(C, H, W)`` when ``C <= 4 < H, W``,
  ``(H, W, C)`` when ``C <= 4 < H, W`` read the other way; any other shape is ambiguous
  and raises, asking for ``data_format="NHWC"`` or ``"NCHW"``.

So ``(28, 28, 1)`` and ``(64, 64, 3)`` are NHWC, ``(1, 28, 28)`` and ``(3, 64, 64)`` are
NCHW, and ``(4, 4, 4)`` or ``(32, 32, 16)`` need an explicit ``data_format``.
"""

import dataclasses
from collections.abc import Sequence
from typing import Literal

__all__ = [
    "DATA_FORMATS",
    "DataFormat",
    "ImageLayout",
    "normalize_sample_shape",
    "resolve_image_layout",
]

DataFormat = Literal["auto", "NHWC", "NCHW"]
#: Allowed values of every ``data_format`` field.
DATA_FORMATS: tuple[str, ...] = ("auto", "NHWC", "NCHW")

_MAX_AUTO_CHANNELS = 4


@dataclasses.dataclass(frozen=True)
class ImageLayout:
    """A resolved image layout: sizes and where the channel axis sits.

    Attributes:
        height: Image height in pixels.
        width: Image width in pixels.
        channels: Number of channels.
        data_format: ``"NHWC"`` (channels last) or ``"NCHW"`` (channels first) for
            batched arrays at the boundary.
    """

    height: int
    width: int
    channels: int
    data_format: Literal["NHWC", "NCHW"]

    @property
    def shape(self) -> tuple[int, int, int]:
        """The per-sample shape in the declared layout: ``(H, W, C)`` or ``(C, H, W)``."""
        if self.data_format == "NHWC":
            return (self.height, self.width, self.channels)
        return (self.channels, self.height, self.width)

    @property
    def nhwc_shape(self) -> tuple[int, int, int]:
        """The per-sample shape used inside the networks: ``(H, W, C)``."""
        return (self.height, self.width, self.channels)

    @property
    def channel_axis(self) -> int:
        """The channel axis of a batched array at the boundary: ``-1`` or ``1``."""
        return -1 if self.data_format == "NHWC" else 1

    @property
    def to_nhwc(self) -> tuple[int, int, int, int] | None:
        """Transpose axes turning a boundary batch into NHWC, or None when already NHWC."""
        return None if self.data_format == "NHWC" else (0, 2, 3, 1)

    @property
    def from_nhwc(self) -> tuple[int, int, int, int] | None:
        """Transpose axes turning an NHWC batch into the boundary layout, or None."""
        return None if self.data_format == "NHWC" else (0, 3, 1, 2)


def normalize_sample_shape(shape: Sequence[int], name: str = "shape") -> tuple[int, ...]:
    """Drop a leading batch dimension of 1 from a 4-entry shape.

    Seed 003 writes ``output_shape=(1, 1, 28, 28)`` for "(batch, C, H, W)"; the sample
    shape is ``(1, 28, 28)``. A 4-entry shape whose first entry is not 1 is refused.

    Args:
        shape: A per-sample shape, or a 4-entry one with a leading 1.
        name: How to name the shape in errors (``"GeneratorConfig.output_shape"``).

    Returns:
        The per-sample shape as a tuple.

    Raises:
        ValueError: A 4-entry shape whose leading entry is not 1.
    """
    shape = tuple(shape)
    if len(shape) == 4:
        if shape[0] != 1:
            raise ValueError(
                f"{name}={shape!r}: a 4-entry shape is read as (1, C, H, W) or (1, H, W, C) "
                "with a leading batch dimension of 1; give the per-sample shape instead"
            )
        return shape[1:]
    return shape


def resolve_image_layout(
    shape: Sequence[int], data_format: str = "auto", *, name: str = "shape"
) -> ImageLayout:
    """Resolve a 3-entry image shape and a ``data_format`` into an :class:`ImageLayout`.

    Args:
        shape: ``(H, W, C)`` or ``(C, H, W)``.
        data_format: ``"NHWC"``, ``"NCHW"`` or ``"auto"`` (decide from the shape).
        name: How to name the shape in errors.

    Returns:
        The layout.

    Raises:
        ValueError: The shape does not have 3 positive entries, ``data_format`` is
            unknown, or ``"auto"`` cannot tell the channel axis.
    """
    shape = tuple(shape)
    if len(shape) != 3:
        raise ValueError(f"{name}={shape!r}: an image shape has 3 entries, (H, W, C) or (C, H, W)")
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape):
        raise ValueError(f"{name}={shape!r}: image sizes must be positive integers")
    first, second, third = shape
    if data_format == "NHWC":
        return ImageLayout(first, second, third, "NHWC")
    if data_format == "NCHW":
        return ImageLayout(second, third, first, "NCHW")
    if data_format != "auto":
        raise ValueError(f"data_format={data_format!r}: must be one of 'auto', 'NHWC', 'NCHW'")
    if first <= _MAX_AUTO_CHANNELS < min(second, third):
        return ImageLayout(second, third, first, "NCHW")
    if third <= _MAX_AUTO_CHANNELS < min(first, second):
        return ImageLayout(first, second, third, "NHWC")
    raise ValueError(
        f"{name}={shape!r} is ambiguous: data_format='auto' reads (C, H, W) or (H, W, C) "
        f"only when C <= {_MAX_AUTO_CHANNELS} < H, W, and this shape fits neither; "
        "set data_format='NHWC' or data_format='NCHW'"
    )
