"""Refuse data that does not fit the model, before any compilation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from artifex.generative_models.core.configuration.layout import (
    normalize_sample_shape,
    resolve_image_layout,
)
from artifex.generative_models.training.data._sources import ImageSource
from artifex.generative_models.training.data._unpaired import UnpairedSource

__all__ = ["validate_source"]


def _size_and_channels(shape: tuple[int, ...], layout: str) -> tuple[tuple[int, ...], int]:
    return (shape[:2], shape[2]) if layout == "NHWC" else (shape[1:], shape[0])


def _shape_hint(got: tuple[int, ...], expected: tuple[int, ...], layout: str) -> str:
    """What to set so that ``got`` (in ``layout``) becomes ``expected``."""
    if len(got) != 3 or len(expected) != 3:
        return ""
    model_layout: str
    try:  # the model's layout, when its shape tells
        model_layout = resolve_image_layout(expected).data_format
    except ValueError:
        model_layout = layout
    hints = [f"layout={model_layout!r}"] if model_layout != layout else []
    size, channels = _size_and_channels(got, layout)
    expected_size, expected_channels = _size_and_channels(expected, model_layout)
    if size != expected_size:
        side = expected_size[0] if expected_size[0] == expected_size[1] else expected_size
        hints.append(f"image_size={side}")
    if channels != expected_channels:
        hints.append(f"channels={expected_channels}")
    return f"; set {', '.join(hints)}" if hints else ""


def _check_domain(
    source: ImageSource, expected: tuple[int, ...], what: str, sample: int | None
) -> None:
    if len(source) == 0:
        raise ValueError(f"{source.name} is empty: expected at least one image")
    if source.image_shape != expected:
        hint = _shape_hint(source.image_shape, expected, source.layout)
        raise ValueError(
            f"{source.name} gives {what} of shape {source.image_shape} ({source.layout}) but "
            f"the model expects {expected}{hint}"
        )
    source.check(sample=sample)
    # One example through the whole read path: what the model will actually get.
    batch = source.get_batch(np.asarray([0]))
    image = batch["image"]
    if image.dtype != np.float32 or image.shape[1:] != expected:
        raise TypeError(
            f"{source.name} delivered {what} of dtype {image.dtype} and shape {image.shape[1:]}; "
            f"expected float32 of shape {expected}"
        )
    if not np.isfinite(image).all():
        raise ValueError(f"{source.name}: image 0 holds NaN or Inf after scaling")


def _sample_shape(shape: Sequence[int], name: str) -> tuple[int, ...]:
    normalized = normalize_sample_shape(shape, name)
    if len(normalized) != 3:
        raise ValueError(
            f"{name}={tuple(shape)!r}: an image shape has 3 entries, (H, W, C) or (C, H, W)"
        )
    return normalized


def validate_source(
    source: ImageSource,
    expected_shape: Sequence[int],
    num_classes: int | None = None,
    *,
    expected_shape_b: Sequence[int] | None = None,
    sample: int | None = None,
) -> None:
    """Refuse a source that a model cannot train on, with what was expected and what came.

    Checks: the source is not empty; its images have the model's per-sample shape in the
    model's layout; with ``num_classes``, it has labels and all lie in
    ``[0, num_classes)``; every file decodes (image folders; see ``sample``); one
    example read end to end is finite float32 of that shape. Arrays (digits, npz, npy,
    IDX, CIFAR) were scanned for NaN / Inf, dtype and range when the source was built.

    Args:
        source: The data.
        expected_shape: The model's per-sample image shape in its layout, ``(H, W, C)`` or
            ``(C, H, W)`` (a leading batch dimension of 1 is dropped).
        num_classes: A conditional model's class count; None for unconditional models.
        expected_shape_b: For an :class:`UnpairedSource`, domain B's shape when it
            differs from ``expected_shape``.
        sample: Decode only this many files per folder source, evenly spaced (a
            documented sample for very large folders); None decodes all.

    Raises:
        ValueError: An empty source, a shape mismatch (with a hint: ``layout``,
            ``image_size`` or ``channels``), missing labels or labels out of range, a
            corrupt file, non-finite pixels.
        TypeError: A delivered image that is not float32.
    """
    expected = _sample_shape(expected_shape, "expected_shape")
    if isinstance(source, UnpairedSource):
        if num_classes is not None:
            raise ValueError(
                f"{source.name} has two unpaired domains and no labels, but the model is "
                f"conditional on {num_classes} classes"
            )
        expected_b = (
            expected
            if expected_shape_b is None
            else _sample_shape(expected_shape_b, "expected_shape_b")
        )
        _check_domain(source.domain_a, expected, "domain A images", sample)
        _check_domain(source.domain_b, expected_b, "domain B images", sample)
        return
    if not isinstance(source, ImageSource):
        raise TypeError(f"source must be an ImageSource, got {type(source).__name__}")
    _check_domain(source, expected, "images", sample)
    if num_classes is None:
        return
    if source.labels is None:
        raise ValueError(
            f"the model is conditional on {num_classes} classes but {source.name} has no "
            "labels (use_labels=True, class sub-folders, or a labels array)"
        )
    labels = source.labels
    out_of_range = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if out_of_range.size:
        bad = int(out_of_range[0])
        raise ValueError(
            f"{source.name}: label {int(labels[bad])} of image {bad} is out of range for a "
            f"model with num_classes={num_classes}: expected labels in [0, {num_classes}) "
            f"({out_of_range.size} labels out of range)"
        )
