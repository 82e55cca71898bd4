"""What every metric writer offers, and the helpers the writers share.

The method names follow ``clu.metric_writers.MetricWriter``, so code written against
either reads the same. A writer is anything with these five methods: no base class to
derive from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["MetricWriter", "MultiWriter", "as_uint8_hwc", "flatten_hparams"]

HParamValue = str | int | float | bool


@runtime_checkable
class MetricWriter(Protocol):
    """Where a run's numbers, pictures and settings go (TensorBoard, W&B, MLflow, a file).

    Images are ``uint8`` arrays of shape ``(height, width, channels)`` with 1, 3 or 4
    channels, as :func:`~artifex.generative_models.training.artifacts.image_grid` makes
    them; writers check them with :func:`as_uint8_hwc`.
    """

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """Record ``scalars`` (name -> number) at iteration ``step``."""
        ...

    def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Record ``images`` (name -> uint8 HWC array) at iteration ``step``."""
        ...

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        """Record the run's settings, once, at the start (see :func:`flatten_hparams`)."""
        ...

    def flush(self) -> None:
        """Make everything written so far durable / visible."""
        ...

    def close(self) -> None:
        """Flush and release the files or the run; the writer is not used afterwards."""
        ...


def as_uint8_hwc(name: str, image: Any) -> np.ndarray:
    """Check that ``image`` is what writers accept and return it as a NumPy array.

    Args:
        name: The image's name, for the error message.
        image: A ``uint8`` array ``(height, width, channels)``, channels 1, 3 or 4.

    Returns:
        The image as a C-contiguous ``np.ndarray``.

    Raises:
        TypeError: The array is not ``uint8``.
        ValueError: The shape is not ``(height, width, 1 | 3 | 4)``.
    """
    array = np.ascontiguousarray(np.asarray(image))
    how = (
        "pass a uint8 (height, width, channels) array with 1, 3 or 4 channels, e.g. "
        "training.artifacts.image_grid(images) of NHWC images in [-1, 1]"
    )
    if array.ndim != 3 or array.shape[-1] not in (1, 3, 4) or 0 in array.shape:
        raise ValueError(
            f"image {name!r}: expected shape (height, width, 1|3|4), got {array.shape}; {how}"
        )
    if array.dtype != np.uint8:
        raise TypeError(f"image {name!r}: expected dtype uint8, got {array.dtype}; {how}")
    return array


def flatten_hparams(nested: Mapping[str, Any], *, prefix: str = "") -> dict[str, HParamValue]:
    """Flatten a nested config into ``{"dotted.key": str | int | float | bool}``.

    Every tracker takes flat, typed settings; nesting becomes dotted keys, and what no
    tracker can compare (None, tuples, lists, other objects) becomes its string.

    Args:
        nested: The config, e.g. ``config.to_dict()``.
        prefix: Put before every key (used by the recursion).

    Returns:
        The flat dictionary, keys in the order they were met.
    """
    flat: dict[str, HParamValue] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_hparams(value, prefix=f"{name}."))
        elif isinstance(value, bool | int | float | str):
            flat[name] = value
        elif isinstance(value, np.generic):
            flat[name] = value.item()
        else:
            flat[name] = str(value)
    return flat


class MultiWriter:
    """Hands every call to each of ``writers``, in order.

    Args:
        writers: The writers to fan out to.
    """

    def __init__(self, writers: Iterable[MetricWriter]):
        self.writers = tuple(writers)

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """Record ``scalars`` in every writer."""
        for writer in self.writers:
            writer.write_scalars(step, scalars)

    def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Record ``images`` in every writer."""
        for writer in self.writers:
            writer.write_images(step, images)

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        """Record ``hparams`` in every writer."""
        for writer in self.writers:
            writer.write_hparams(hparams)

    def flush(self) -> None:
        """Flush every writer."""
        for writer in self.writers:
            writer.flush()

    def close(self) -> None:
        """Close every writer, even when one of them fails; the first failure is raised."""
        failure: BaseException | None = None
        for writer in self.writers:
            try:
                writer.close()
            except Exception as error:  # the other runs must still be closed
                failure = failure or error
        if failure is not None:
            raise failure
