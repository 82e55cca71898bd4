"""Pixel conversion shared by every source: resize, channels, scaling, layout; data checks.

Sources keep their pixels as stored (uint8 as a rule, so a large set stays small in
memory) and convert each batch on the way out with an :class:`ImageTransform`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Literal

import numpy as np

__all__ = [
    "RESIZE_MODES",
    "ImageTransform",
    "Layout",
    "ResizeMode",
    "check_labels",
    "check_layout",
    "check_value_range",
    "image_size_pair",
    "resolve_input_range",
]

Layout = Literal["NHWC", "NCHW"]
ResizeMode = Literal["nearest", "pad"]
#: How images are brought to ``image_size``: ``"nearest"`` (nearest-neighbour, any size)
#: or ``"pad"`` (centred, padded with the darkest value; never shrinks).
RESIZE_MODES: tuple[str, ...] = ("nearest", "pad")

# BT.601 luma, the weights Pillow uses for RGB -> L.
_LUMA = np.asarray([0.299, 0.587, 0.114], dtype=np.float32)
# Elements per chunk when scanning large (possibly memory-mapped) arrays.
_SCAN_CHUNK_ELEMENTS = 1 << 22


def check_layout(layout: Any, name: str = "layout") -> Layout:
    """``layout`` if it is ``"NHWC"`` or ``"NCHW"``; a ValueError otherwise."""
    if layout not in ("NHWC", "NCHW"):
        raise ValueError(f"{name} must be 'NHWC' or 'NCHW', got {layout!r}")
    return layout


def check_value_range(value_range: Any, name: str = "value_range") -> tuple[float, float]:
    """A finite ``(low, high)`` pair with ``low < high``, as floats."""
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got {value_range!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} must be finite with low < high, got {value_range!r}")
    return low, high


def image_size_pair(image_size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """``image_size`` as ``(height, width)``; an int means a square."""
    if image_size is None:
        return None
    pair = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(pair) != 2 or not all(
        isinstance(n, int | np.integer) and not isinstance(n, bool) and n > 0 for n in pair
    ):
        raise ValueError(
            f"image_size must be a positive int or a (height, width) pair, got {image_size!r}"
        )
    return int(pair[0]), int(pair[1])


@dataclasses.dataclass(frozen=True)
class ImageTransform:
    """Stored pixels → float32 images in ``value_range`` and ``layout``.

    Steps, in this order: to NHWC float32, resize to ``size``, convert to ``channels``,
    map ``input_range`` linearly onto ``value_range``, transpose to ``layout``.

    Attributes:
        input_range: The pixel interval of the stored data (``(0, 255)`` for uint8).
        value_range: The interval the pixels are mapped onto.
        layout: Layout of the images delivered.
        stored_layout: Layout of the stored batches (``"NHWC"`` or ``"NCHW"``).
        size: ``(height, width)`` to resize to, or None to keep the stored size.
        resize: ``"nearest"`` or ``"pad"`` (see :data:`RESIZE_MODES`).
        channels: Channels to convert to (1, 3 or 4), or None to keep them.
    """

    input_range: tuple[float, float]
    value_range: tuple[float, float] = (-1.0, 1.0)
    layout: Layout = "NHWC"
    stored_layout: Layout = "NHWC"
    size: tuple[int, int] | None = None
    resize: ResizeMode = "nearest"
    channels: int | None = None

    def __post_init__(self) -> None:
        check_value_range(self.input_range, "input_range")
        check_value_range(self.value_range, "value_range")
        check_layout(self.layout)
        check_layout(self.stored_layout, "source_layout")
        if self.resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {RESIZE_MODES}, got {self.resize!r}")
        if self.channels is not None and self.channels not in (1, 3, 4):
            raise ValueError(f"channels must be 1, 3, 4 or None, got {self.channels!r}")

    def output_shape(self, stored_hwc: tuple[int, int, int]) -> tuple[int, int, int]:
        """Per-sample output shape, in ``layout``, for stored images of ``(H, W, C)``.

        Raises:
            ValueError: ``resize="pad"`` to a size smaller than the images, or a channel
                conversion from a channel count other than 1, 3 or 4.
        """
        height, width, channels = stored_hwc
        if self.size is not None:
            if self.resize == "pad" and (self.size[0] < height or self.size[1] < width):
                raise ValueError(
                    f"resize='pad' cannot shrink {height}x{width} images to "
                    f"{self.size[0]}x{self.size[1]}; use resize='nearest' or a larger image_size"
                )
            height, width = self.size
        if self.channels is not None and self.channels != channels:
            if channels not in (1, 3, 4):
                raise ValueError(
                    f"cannot convert images with {channels} channels to {self.channels}: "
                    "conversion works between 1 (grey), 3 (RGB) and 4 (RGBA) channels"
                )
            channels = self.channels
        if self.layout == "NHWC":
            return (height, width, channels)
        return (channels, height, width)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        """Convert a stored batch ``(B, H, W, C)`` (or ``(B, C, H, W)``) to float32."""
        x = np.asarray(raw)
        if self.stored_layout == "NCHW":
            x = x.transpose(0, 2, 3, 1)
        x = x.astype(np.float32)
        if self.size is not None:
            x = self._resize(x)
        if self.channels is not None and self.channels != x.shape[-1]:
            x = self._convert_channels(x)
        in_low, in_high = self.input_range
        out_low, out_high = self.value_range
        scale = (out_high - out_low) / (in_high - in_low)
        x = (x - np.float32(in_low)) * np.float32(scale) + np.float32(out_low)
        if self.layout == "NCHW":
            x = x.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(x, dtype=np.float32)

    def _resize(self, x: np.ndarray) -> np.ndarray:
        assert self.size is not None
        (height, width), (new_height, new_width) = x.shape[1:3], self.size
        if (height, width) == (new_height, new_width):
            return x
        if self.resize == "nearest":
            rows = (np.arange(new_height) * height) // new_height
            cols = (np.arange(new_width) * width) // new_width
            return x[:, rows][:, :, cols]
        top, left = (new_height - height) // 2, (new_width - width) // 2
        padding = ((0, 0), (top, new_height - height - top), (left, new_width - width - left))
        return np.pad(x, (*padding, (0, 0)), constant_values=self.input_range[0])

    def _convert_channels(self, x: np.ndarray) -> np.ndarray:
        target, current = self.channels, x.shape[-1]
        if current == 4:  # alpha is dropped, not composited
            x, current = x[..., :3], 3
        if target == 1:
            return (x @ _LUMA)[..., None] if current == 3 else x
        rgb = np.repeat(x, 3, axis=-1) if current == 1 else x
        if target == 3:
            return rgb
        opaque = np.full((*rgb.shape[:-1], 1), self.input_range[1], dtype=np.float32)
        return np.concatenate([rgb, opaque], axis=-1)


def _scan_float_pixels(images: np.ndarray, name: str) -> tuple[float, float]:
    """Min and max of float pixels, in chunks; a ValueError at the first NaN or Inf."""
    per_example = max(1, math.prod(images.shape[1:]))
    step = max(1, _SCAN_CHUNK_ELEMENTS // per_example)
    low, high = math.inf, -math.inf
    for start in range(0, images.shape[0], step):
        chunk = np.asarray(images[start : start + step])
        finite = np.isfinite(chunk).reshape(chunk.shape[0], -1)
        if not finite.all():
            bad_rows = np.flatnonzero(~finite.all(axis=1))
            count = int((~finite).sum())
            raise ValueError(
                f"{name}: image {start + int(bad_rows[0])} holds NaN or Inf pixel values "
                f"({count} non-finite values in images {start}..{start + chunk.shape[0] - 1}); "
                "expected finite pixels"
            )
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    return low, high


def _pixel_bounds(images: np.ndarray) -> tuple[float, float]:
    per_example = max(1, math.prod(images.shape[1:]))
    step = max(1, _SCAN_CHUNK_ELEMENTS // per_example)
    low, high = math.inf, -math.inf
    for start in range(0, images.shape[0], step):
        chunk = np.asarray(images[start : start + step])
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    return low, high


def resolve_input_range(
    images: np.ndarray, input_range: tuple[float, float] | None, name: str
) -> tuple[float, float]:
    """Check pixel dtype and values; return the interval the stored pixels live in.

    uint8 pixels default to ``(0, 255)``. Float pixels must be finite; without a declared
    range they are read as ``(0, 1)`` when all lie in it, else ``(-1, 1)`` when all lie
    in that, and otherwise refused. Other integer dtypes need a declared range. Declared
    ranges are checked against the data.

    Raises:
        TypeError: Pixels that are not numbers (bool, complex, object, strings), or an
            integer dtype other than uint8 without ``input_range``.
        ValueError: NaN or Inf pixels, or pixels outside the (declared or inferred) range.
    """
    kind = images.dtype.kind
    if kind not in "uif":
        raise TypeError(
            f"{name}: expected uint8 or float pixels, got dtype {images.dtype}"
            + (" (bool masks are not images)" if kind == "b" else "")
        )
    declared = None if input_range is None else check_value_range(input_range, "input_range")
    if kind == "f":
        low, high = _scan_float_pixels(images, name)
    elif declared is None and images.dtype == np.uint8:
        return (0.0, 255.0)
    elif declared is None:
        raise TypeError(
            f"{name}: pixels of dtype {images.dtype} need an explicit input_range=(low, high); "
            "only uint8 (0..255) and float (0..1 or -1..1) ranges are inferred"
        )
    else:
        low, high = _pixel_bounds(images)
    if declared is not None:
        if low < declared[0] or high > declared[1]:
            raise ValueError(
                f"{name}: pixel values span [{low:g}, {high:g}], outside the declared "
                f"input_range {declared}"
            )
        return declared
    if low >= 0.0 and high <= 1.0:
        return (0.0, 1.0)
    if low >= -1.0 and high <= 1.0:
        return (-1.0, 1.0)
    raise ValueError(
        f"{name}: float pixel values span [{low:g}, {high:g}]; only [0, 1] and [-1, 1] are "
        "inferred, declare the data's range with input_range=(low, high)"
    )


def check_labels(
    labels: Any, count: int, num_classes: int | None, name: str
) -> tuple[np.ndarray, int]:
    """Check class labels against ``count`` images; return them as int32 and the class count.

    Args:
        labels: One integer label per image, shape ``(count,)``.
        count: The number of images.
        num_classes: Labels must lie in ``[0, num_classes)``; None infers ``max + 1``.
        name: How to name the data in errors.

    Raises:
        TypeError: Labels that are not integers.
        ValueError: Wrong shape, a count that differs from the images', or labels out of
            range.
    """
    array = np.asarray(labels)
    if array.dtype.kind not in "ui":
        raise TypeError(f"{name}: labels must be integers, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(
            f"{name}: expected labels of shape ({count},), one class index per image, got shape "
            f"{array.shape}"
            + (" (one-hot labels? pass the class indices)" if array.ndim == 2 else "")
        )
    if array.shape[0] != count:
        raise ValueError(
            f"{name}: {count} images but {array.shape[0]} labels; expected one label per image"
        )
    if num_classes is not None and (
        not isinstance(num_classes, int | np.integer)
        or isinstance(num_classes, bool)
        or num_classes < 1
    ):
        raise ValueError(f"{name}: num_classes must be a positive int, got {num_classes!r}")
    if count:
        low, high = int(array.min()), int(array.max())
        limit = int(num_classes) if num_classes is not None else None
        if low < 0 or (limit is not None and high >= limit):
            bad = int(np.flatnonzero((array < 0) | (array >= (limit or np.iinfo(np.int64).max)))[0])
            allowed = f"[0, {limit})" if limit is not None else "[0, ...) (non-negative)"
            raise ValueError(
                f"{name}: label {int(array[bad])} of image {bad} is out of range: expected "
                f"class indices in {allowed}"
            )
        if high > np.iinfo(np.int32).max:
            raise ValueError(f"{name}: label {high} does not fit in int32")
    classes = (
        int(num_classes) if num_classes is not None else (int(array.max()) + 1 if count else 0)
    )
    return array.astype(np.int32), classes
