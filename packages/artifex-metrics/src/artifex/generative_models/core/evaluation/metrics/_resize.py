"""Resize and quantization modes as clean-fid defines them, in NumPy (no Pillow, no PyTorch).

FID depends on how images reach 299×299 as much as on the network (Parmar et al., "On
Aliased Resizing and Surprising Subtleties in GAN Evaluation", CVPR 2022), so the mode is
recorded in every statistics file. Both modes start from uint8 RGB images ``(H, W, 3)``
and give float32 ``(size, size, 3)`` in ``[0, 255]``; :func:`to_extractor_range` then maps
them to the ``[-1, 1]`` the InceptionV3 takes (``x / 127.5 - 1``, pytorch-fid's ``2·(x/255) - 1``).

``clean``
    clean-fid's ``make_resizer("PIL", False, "bicubic", (299, 299))``: each channel as a
    float32 image resized with PIL's bicubic filter *with antialiasing* (the filter's support
    grows with the downscale factor), clipped to ``[0, 255]``, not quantized. Implemented
    here as PIL's ``ImagingResample`` does it for mode ``F``: separable, horizontal pass
    first, double-precision coefficients normalised per output pixel, float32 between
    and after the passes, ``a = -0.5``.

``legacy_pytorch``
    what pytorch-fid does (and clean-fid's mode of that name): bilinear interpolation
    without antialiasing, ``F.interpolate(..., mode="bilinear", align_corners=False)``, on
    the float image, clipped to ``[0, 255]``.

Channels: grey images (``(H, W)`` or one channel) are repeated to RGB; an alpha channel
is dropped (grey+alpha becomes grey, then RGB) — what ``PIL.Image.convert("RGB")`` does in
pytorch-fid and clean-fid, so their statistics and ours come from the same pixels.
Images of any size are resized independently, so a folder may mix sizes.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import numpy as np

__all__ = [
    "RESIZE_MODES",
    "as_rgb_uint8",
    "resize_image",
    "to_extractor_range",
]

RESIZE_MODES: Final = ("clean", "legacy_pytorch")
"""The modes :func:`resize_image` knows, as clean-fid names them."""

_BICUBIC_A = -0.5  # PIL's choice (ImagingResample's bicubic_filter), not OpenCV's -0.75
_BICUBIC_SUPPORT = 2.0


def _bicubic(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    a = _BICUBIC_A
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


@functools.lru_cache(maxsize=64)
def pil_bicubic_weights(in_size: int, out_size: int) -> np.ndarray:
    """``(out_size, in_size)`` float64 matrix of PIL's antialiased bicubic resampling.

    A transcription of ``precompute_coeffs`` in Pillow's ``libImaging/Resample.c``: the
    filter is stretched by the downscale factor (antialiasing), its window is rounded
    as C's ``(int)`` cast does and clipped to the image, and each row is normalised.
    """
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support = _BICUBIC_SUPPORT * filter_scale
    weights = np.zeros((out_size, in_size), np.float64)
    for out_index in range(out_size):
        center = (out_index + 0.5) * scale
        # int() truncates toward zero as C's cast does; the clamp then fixes negatives.
        low = max(int(center - support + 0.5), 0)
        high = min(int(center + support + 0.5), in_size)
        taps = np.arange(low, high)
        row = _bicubic((taps - center + 0.5) / filter_scale)
        total = row.sum()
        weights[out_index, low:high] = row / total if total != 0.0 else row
    return weights


@functools.lru_cache(maxsize=64)
def torch_bilinear_weights(in_size: int, out_size: int) -> np.ndarray:
    """``(out_size, in_size)`` matrix of ``F.interpolate(mode="bilinear", align_corners=False)``.

    Source positions ``(i + 0.5)·in/out - 0.5``, clamped at 0 below and to the last pixel
    above, as PyTorch's ``area_pixel_compute_source_index``; no antialiasing.
    """
    weights = np.zeros((out_size, in_size), np.float64)
    # PyTorch computes positions in float32 for float32 images; so do we, to match it to
    # the last bit of the coordinates (float64 ones differ by up to 4e-3 at 255).
    scale = np.float32(in_size) / np.float32(out_size)
    half = np.float32(0.5)
    for out_index in range(out_size):
        source = max(scale * (np.float32(out_index) + half) - half, np.float32(0.0))
        first = min(int(source), in_size - 1)
        second = min(first + 1, in_size - 1)
        fraction = float(source - np.float32(first))
        weights[out_index, first] += 1.0 - fraction
        weights[out_index, second] += fraction
    return weights


def as_rgb_uint8(image: Any, name: str = "image") -> np.ndarray:
    """A uint8 image as ``(H, W, 3)``: grey repeated, alpha dropped.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` with ``C`` in 1..4, dtype uint8.
        name: How error messages name the image.

    Raises:
        TypeError: Not uint8.
        ValueError: Another shape (``(C, H, W)`` gets a hint to transpose).
    """
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise TypeError(
            f"{name} must be uint8 pixels 0..255, got dtype {array.dtype}; convert float "
            "images in [0, 1] with (x * 255).round().astype(np.uint8)"
        )
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or not 1 <= array.shape[2] <= 4 or min(array.shape[:2]) < 1:
        hint = ""
        if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[2] > 4:
            hint = "; it looks channels-first: transpose to (H, W, C)"
        raise ValueError(
            f"{name} must be an image (H, W) or (H, W, C) with C = 1 (grey), 2 (grey+alpha), "
            f"3 (RGB) or 4 (RGBA), got shape {array.shape}{hint}"
        )
    if array.shape[2] in (2, 4):
        array = array[:, :, :-1]  # drop alpha, as PIL's convert("RGB")
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return array


def resize_image(image: Any, mode: str, size: int = 299) -> np.ndarray:
    """Resize a uint8 image to ``(size, size, 3)`` float32 in ``[0, 255]`` as ``mode`` does.

    Args:
        image: uint8 ``(H, W)`` or ``(H, W, C)``; see :func:`as_rgb_uint8` for channels.
        mode: ``"clean"`` or ``"legacy_pytorch"`` (see the module docstring).
        size: Output height and width.

    Returns:
        float32 ``(size, size, 3)``, clipped to ``[0, 255]``, not quantized.

    Raises:
        ValueError: An unknown mode or a bad image.
    """
    if mode not in RESIZE_MODES:
        raise ValueError(f"mode must be one of {', '.join(RESIZE_MODES)}, got {mode!r}")
    rgb = as_rgb_uint8(image)
    height, width = rgb.shape[:2]
    weights = pil_bicubic_weights if mode == "clean" else torch_bilinear_weights
    channels = rgb.transpose(2, 0, 1).astype(np.float64)  # (3, H, W)
    rows = weights(height, size)
    columns = weights(width, size)
    if mode == "clean":
        # PIL stores the horizontal pass in the float32 image before the vertical one.
        horizontal = (channels @ columns.T).astype(np.float32).astype(np.float64)
        out = (rows @ horizontal).astype(np.float32)
    else:
        out = (rows @ channels @ columns.T).astype(np.float32)
    return np.clip(out, 0.0, 255.0).transpose(1, 2, 0)


def to_extractor_range(images: np.ndarray) -> np.ndarray:
    """``[0, 255]`` float images to the ``[-1, 1]`` the extractors take, in float32."""
    return np.asarray(images, np.float32) / np.float32(127.5) - np.float32(1.0)
