"""Random-access image sources: the common interface, in-memory arrays, digits, npz / npy.

Every source is a sequence of examples ``{"image": float32, "label": int32}`` (``"label"``
only when the source has labels) with the images in the declared ``layout`` and scaled
to ``value_range``. ``get_batch(indices)`` returns many at once, stacked; the pipeline
uses it so that a batch costs one vectorised read, not ``batch_size`` Python calls.
"""

from __future__ import annotations

import abc
import operator
import os
import zipfile
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from artifex.generative_models.core.configuration.layout import resolve_image_layout
from artifex.generative_models.training.data._convert import (
    ImageTransform,
    Layout,
    ResizeMode,
    check_labels,
    check_layout,
    check_value_range,
    image_size_pair,
    resolve_input_range,
)

__all__ = [
    "ArraySource",
    "DigitsSource",
    "ImageSource",
    "NpySource",
    "NpzSource",
]

Example = dict[str, np.ndarray]


class ImageSource(abc.ABC):
    """A random-access set of images (and optional class labels), ready for a model.

    Attributes:
        name: What the data is (a path, ``"digits[train]"``): used in every error.
        image_shape: Per-image shape in ``layout``: ``(H, W, C)`` or ``(C, H, W)``.
        layout: ``"NHWC"`` or ``"NCHW"``: how the delivered images are laid out.
        value_range: The interval pixels are scaled to.
        labels: ``(N,)`` int32 class indices, or None for a source without labels.
        num_classes: The number of classes (labels lie in ``[0, num_classes)``), or None.
        class_names: Names of the classes where the data names them, else None.
    """

    name: str = "source"
    image_shape: tuple[int, ...] = ()
    layout: Layout
    value_range: tuple[float, float]
    labels: np.ndarray | None = None
    num_classes: int | None = None
    class_names: tuple[str, ...] | None = None

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Example:
        """Examples at ``indices`` (each in ``[0, len)``), stacked along a first axis."""

    def __getitem__(self, index: int) -> Example:
        position = operator.index(index)
        length = len(self)
        if position < 0:
            position += length
        if not 0 <= position < length:
            raise IndexError(f"{self.name}: index {index} out of range for {length} images")
        return {key: value[0] for key, value in self.get_batch(np.asarray([position])).items()}

    def check(self, *, sample: int | None = None) -> None:
        """Read the data and refuse what cannot be trained on (a no-op if already done).

        In-memory sources check everything when they are built; sources that decode
        files lazily (image folders) decode them here.

        Args:
            sample: Check only this many examples, evenly spaced; None checks all.
        """
        del sample

    def _indices(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        array = np.asarray(indices)
        if array.ndim != 1 or array.dtype.kind not in "ui":
            raise TypeError(f"{self.name}: indices must be a 1-D integer array, got {array!r}")
        if array.size and (int(array.min()) < 0 or int(array.max()) >= len(self)):
            raise IndexError(f"{self.name}: indices must lie in [0, {len(self)}), got {array}")
        return array

    def __repr__(self) -> str:
        labels = f", num_classes={self.num_classes}" if self.labels is not None else ""
        return (
            f"{type(self).__name__}({self.name!r}, {len(self)} images of "
            f"{self.image_shape} {self.layout} in {self.value_range}{labels})"
        )


def _stored_nhwc_shape(
    images: np.ndarray, source_layout: str, name: str
) -> tuple[np.ndarray, Layout, tuple[int, int, int]]:
    """Images as 4-D, their stored layout, and the per-image ``(H, W, C)``."""
    if images.ndim == 3:
        images = images[..., None]
        return images, "NHWC", (images.shape[1], images.shape[2], 1)
    if images.ndim != 4:
        raise ValueError(
            f"{name}: expected images of shape (N, H, W), (N, H, W, C) or (N, C, H, W), got "
            f"shape {images.shape}"
        )
    if source_layout not in ("auto", "NHWC", "NCHW"):
        raise ValueError(f"source_layout must be 'auto', 'NHWC' or 'NCHW', got {source_layout!r}")
    try:
        resolved = resolve_image_layout(images.shape[1:], source_layout)
    except ValueError:
        raise ValueError(
            f"{name}: stored images of shape {images.shape} are ambiguous: source_layout='auto' "
            "reads (N, C, H, W) or (N, H, W, C) only when C <= 4 < H, W; set "
            "source_layout='NHWC' or source_layout='NCHW'"
        ) from None
    return images, resolved.data_format, resolved.nhwc_shape


class ArraySource(ImageSource):
    """Images (and labels) held in arrays: the base of every file-array source.

    All data checks run here, once, when the source is built: dtype, shape, empty data,
    NaN / Inf pixels, pixels outside the input range, label count, dtype and range.

    Args:
        images: ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, C, H, W)`` pixels: uint8, float,
            or another integer dtype with ``input_range``. May be memory-mapped.
        labels: ``(N,)`` integer class indices, or None.
        input_range: Interval of the stored pixels; None infers it (uint8: 0..255; float:
            0..1 or -1..1, checked against the data).
        source_layout: ``"auto"``, ``"NHWC"`` or ``"NCHW"``: how 4-D ``images`` are laid
            out (``"auto"`` reads ``(C, H, W)`` / ``(H, W, C)`` with C <= 4 < H, W).
        num_classes: Labels must lie in ``[0, num_classes)``; None infers ``max + 1``.
        image_size: Resize to this size (int: square) with ``resize``; None keeps it.
        resize: ``"nearest"`` (nearest-neighbour, any size) or ``"pad"`` (centred,
            padded with the lowest input value, i.e. black).
        channels: Convert to 1, 3 or 4 channels (BT.601 grey; alpha dropped or opaque).
        layout: Layout of the delivered images, ``"NHWC"`` or ``"NCHW"``.
        value_range: Interval the pixels are scaled to.
        max_examples: Keep only the first this many examples.
        name: How to name the data in errors.
        class_names: Optional names of the classes.

    Raises:
        TypeError: Pixels or labels of a wrong dtype.
        ValueError: Empty data, wrong shapes, non-finite or out-of-range pixels, label
            count or range errors, impossible resize or channel conversions.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | None = None,
        *,
        input_range: tuple[float, float] | None = None,
        source_layout: Literal["auto", "NHWC", "NCHW"] = "auto",
        num_classes: int | None = None,
        image_size: int | tuple[int, int] | None = None,
        resize: ResizeMode = "nearest",
        channels: int | None = None,
        layout: Layout = "NHWC",
        value_range: tuple[float, float] = (-1.0, 1.0),
        max_examples: int | None = None,
        name: str = "arrays",
        class_names: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        if not isinstance(images, np.ndarray):
            raise TypeError(f"{name}: images must be a NumPy array, got {type(images).__name__}")
        if images.ndim in (3, 4) and images.shape[0] == 0:
            raise ValueError(
                f"{name} is empty: expected at least one image, got shape {images.shape}"
            )
        images, stored_layout, stored_hwc = _stored_nhwc_shape(images, source_layout, name)
        if labels is not None:
            # Checked in full before max_examples, so that a count mismatch still shows.
            labels, num_classes = check_labels(labels, images.shape[0], num_classes, name)
        if max_examples is not None:
            if max_examples < 1:
                raise ValueError(f"max_examples must be >= 1, got {max_examples}")
            images = images[:max_examples]
            labels = None if labels is None else labels[:max_examples]
        self.transform = ImageTransform(
            input_range=resolve_input_range(images, input_range, name),
            value_range=check_value_range(value_range),
            layout=check_layout(layout),
            stored_layout=stored_layout,
            size=image_size_pair(image_size),
            resize=resize,
            channels=channels,
        )
        self.image_shape = self.transform.output_shape(stored_hwc)
        self.layout = self.transform.layout
        self.value_range = self.transform.value_range
        self.images = images
        if labels is not None:
            self.labels, self.num_classes = labels, num_classes
            self.class_names = None if class_names is None else tuple(class_names)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Example:
        """Examples at ``indices``, stacked: ``{"image": (B, *image_shape), "label": (B,)}``."""
        rows = self._indices(indices)
        # Sorted reads are much faster from memory-mapped files; the order is restored.
        order = np.argsort(rows, kind="stable")
        raw = np.empty((rows.size, *self.images.shape[1:]), dtype=self.images.dtype)
        raw[order] = self.images[rows[order]]
        batch = {"image": self.transform(raw)}
        if self.labels is not None:
            batch["label"] = self.labels[rows]
        return batch


def _wants_labels(use_labels: bool | None, available: bool, name: str, where: str) -> bool:
    if use_labels and not available:
        raise ValueError(f"{name}: use_labels=True but {where}")
    return available and use_labels is not False


class DigitsSource(ArraySource):
    """The bundled UCI 8×8 handwritten digits (1797 images, 10 classes; no download).

    Raw pixels are 0..16 (``input_range=(0, 16)``), so ``value_range=(-1, 1)`` gives
    ``x / 8 - 1``, the convention of the metrics package's digits classifier. The split is
    the fixed one of ``artifex.generative_models.core.evaluation.metrics.digits.load_digits``.
    Convolutional GANs that want a power-of-two size can have 16×16 or 32×32 with
    ``image_size`` and ``resize="nearest"`` (pixel replication) or ``"pad"`` (a black border).

    Args:
        split: ``"train"`` (1438 images), ``"test"`` (359) or ``"all"``.
        use_labels: Deliver the digit as ``"label"``; None and True do, False does not.
        image_size: Resize to this size; None keeps 8×8.
        resize: ``"nearest"`` or ``"pad"``.
        channels: Convert to 1, 3 or 4 channels; None keeps 1.
        layout: ``"NHWC"`` or ``"NCHW"``.
        value_range: Interval the pixels are scaled to.
        max_examples: Keep only the first this many images.
    """

    def __init__(
        self,
        split: Literal["train", "test", "all"] = "train",
        *,
        use_labels: bool | None = None,
        image_size: int | tuple[int, int] | None = None,
        resize: ResizeMode = "nearest",
        channels: int | None = None,
        layout: Layout = "NHWC",
        value_range: tuple[float, float] = (-1.0, 1.0),
        max_examples: int | None = None,
    ) -> None:
        # Imported here: the metrics package pulls in flax, which a pipeline reading
        # other files does not need.
        from artifex.generative_models.core.evaluation.metrics.digits import (
            DIGITS_NUM_CLASSES,
            DIGITS_PIXEL_MAX,
            load_digits,
        )

        data = load_digits(split, raw=True)
        super().__init__(
            data.images,
            data.labels if use_labels is not False else None,
            input_range=(0.0, float(DIGITS_PIXEL_MAX)),
            source_layout="NHWC",
            num_classes=DIGITS_NUM_CLASSES,
            image_size=image_size,
            resize=resize,
            channels=channels,
            layout=layout,
            value_range=value_range,
            max_examples=max_examples,
            name=f"digits[{split}]",
            class_names=[str(d) for d in range(DIGITS_NUM_CLASSES)],
        )


def _file_error(path: str, what: str, error: BaseException) -> ValueError:
    return ValueError(f"cannot read {path} as {what}: {type(error).__name__}: {error}")


def _load_npy(path: str, mmap: bool) -> np.ndarray:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file (expected a .npy array)")
    try:
        array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise _file_error(path, "a .npy array", error) from None
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{path} is an .npz archive, not an .npy array; use NpzSource")
    return array


class NpzSource(ArraySource):
    """Images (and labels) from arrays in an ``.npz`` archive.

    Args:
        path: The ``.npz`` file.
        images_key: Name of the image array in the archive.
        labels_key: Name of the label array in the archive.
        use_labels: True requires ``labels_key``; None uses it when present; False never.
        **options: The other arguments of :class:`ArraySource`.

    Raises:
        FileNotFoundError: No file at ``path``.
        ValueError: An unreadable or corrupt file, a missing array (the message lists the
            arrays present), and every :class:`ArraySource` check.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        images_key: str = "images",
        labels_key: str = "labels",
        use_labels: bool | None = None,
        **options: Any,
    ) -> None:
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such file (expected an .npz archive)")
        try:
            loaded = np.load(path, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError(f"{path} is an .npy array, not an .npz archive; use NpySource")
            with loaded as archive:
                keys = sorted(archive.files)
                if images_key not in keys:
                    raise ValueError(
                        f"{path} has no array {images_key!r} (images_key); it holds {keys}"
                    )
                images = archive[images_key]
                wanted = _wants_labels(
                    use_labels,
                    labels_key in keys,
                    path,
                    f"it has no array {labels_key!r} (labels_key); it holds {keys}",
                )
                labels = archive[labels_key] if wanted else None
        except (OSError, EOFError, zipfile.BadZipFile) as error:
            raise _file_error(path, "an .npz archive", error) from None
        except ValueError as error:
            if str(error).startswith(path):
                raise
            raise _file_error(path, "an .npz archive", error) from None
        options.setdefault("name", path)
        super().__init__(images, labels, **options)


class NpySource(ArraySource):
    """Images from an ``.npy`` file (memory-mapped), labels from an optional second one.

    Args:
        path: The image ``.npy`` file.
        labels_path: An ``.npy`` file of ``(N,)`` integer labels.
        use_labels: True requires ``labels_path``; None uses it when given; False never.
        mmap: Memory-map the images instead of reading them into memory.
        **options: The other arguments of :class:`ArraySource`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        labels_path: str | os.PathLike[str] | None = None,
        use_labels: bool | None = None,
        mmap: bool = True,
        **options: Any,
    ) -> None:
        path = os.fspath(path)
        images = _load_npy(path, mmap)
        wanted = _wants_labels(use_labels, labels_path is not None, path, "no labels_path given")
        labels = _load_npy(os.fspath(labels_path), False) if wanted and labels_path else None
        options.setdefault("name", path)
        super().__init__(images, labels, **options)
