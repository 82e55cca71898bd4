"""A folder of PNG / JPEG files, optionally one sub-folder per class; decoded with Pillow."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from artifex.generative_models.training.data._convert import (
    ImageTransform,
    Layout,
    ResizeMode,
    check_layout,
    check_value_range,
    image_size_pair,
)
from artifex.generative_models.training.data._sources import Example, ImageSource

__all__ = ["IMAGE_EXTENSIONS", "FolderSource"]

#: File name endings read as images (case-insensitive); other files are ignored.
IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg")

_GREY_MODES = frozenset({"1", "L"})
_COLOUR_MODES = frozenset({"P", "PA", "LA", "RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr"})
_MODE_FOR_CHANNELS = {1: "L", 3: "RGB", 4: "RGBA"}


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "FolderSource reads PNG / JPEG files with Pillow, which is not installed: "
            "pip install pillow"
        ) from None
    return Image


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in IMAGE_EXTENSIONS
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


class FolderSource(ImageSource):
    """PNG / JPEG images in a folder; with labels, one sub-folder per class.

    Class names are the sub-folder names, sorted, and a label is the class's index in
    that order. Files are decoded when read (so a large folder costs little memory);
    every file's header is read when the source is built (sizes and colour modes are
    checked then), and :meth:`check` (called by :func:`validate_source`) decodes every
    file, or an evenly spaced sample, so a corrupt file is refused before training.

    Files whose names end in one of :data:`IMAGE_EXTENSIONS` are read, in sorted path
    order, recursively; hidden files and folders are skipped.

    Args:
        path: The folder.
        use_labels: True: each immediate sub-folder is a class (images directly in
            ``path`` are refused). False: all images, no labels. None: labels exactly
            when every image lies in a sub-folder.
        image_size: Resize every image to this size (int: square) with ``resize``; None
            requires all images to have one size.
        resize: ``"nearest"`` or ``"pad"``.
        channels: 1 (grey), 3 (RGB) or 4 (RGBA); None gives 1 when every file is grey
            and 3 otherwise (alpha dropped).
        layout: ``"NHWC"`` or ``"NCHW"``.
        value_range: Interval the 0..255 pixels are scaled to.
        max_examples: Keep only the first this many images.

    Raises:
        ImportError: Pillow is not installed.
        FileNotFoundError: ``path`` is not a folder.
        ValueError: No images, an unreadable file (named), images of different sizes
            without ``image_size``, 16-bit or float images, an empty class folder.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        use_labels: bool | None = None,
        image_size: int | tuple[int, int] | None = None,
        resize: ResizeMode = "nearest",
        channels: int | None = None,
        layout: Layout = "NHWC",
        value_range: tuple[float, float] = (-1.0, 1.0),
        max_examples: int | None = None,
    ) -> None:
        image_module = _pillow()
        root = Path(path)
        self.name = str(root)
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: no such folder (expected a folder of images)")
        files, labels, class_names = self._find_files(root, use_labels)
        if max_examples is not None:
            if max_examples < 1:
                raise ValueError(f"max_examples must be >= 1, got {max_examples}")
            files, labels = files[:max_examples], None if labels is None else labels[:max_examples]
        self.files = tuple(files)
        if labels is not None:
            self.labels = np.asarray(labels, dtype=np.int32)
            self.class_names = tuple(class_names)
            self.num_classes = len(class_names)
        if channels not in (None, 1, 3, 4):
            raise ValueError(f"channels must be 1, 3, 4 or None, got {channels!r}")
        size, grey = self._scan_headers(image_module, image_size is None)
        self._mode = _MODE_FOR_CHANNELS[channels or (1 if grey else 3)]
        self.transform = ImageTransform(
            input_range=(0.0, 255.0),
            value_range=check_value_range(value_range),
            layout=check_layout(layout),
            size=image_size_pair(image_size),
            resize=resize,
        )
        self.layout = self.transform.layout
        self.value_range = self.transform.value_range
        channel_count = 1 if self._mode == "L" else len(self._mode)
        self.image_shape = self.transform.output_shape((*size, channel_count))

    def _find_files(
        self, root: Path, use_labels: bool | None
    ) -> tuple[list[Path], list[int] | None, list[str]]:
        loose = sorted(
            p
            for p in root.iterdir()
            if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith(".")
        )
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if use_labels is None:
            use_labels = not loose and bool(folders) and any(_image_files(f) for f in folders)
        if not use_labels:
            files = _image_files(root)
            if not files:
                raise ValueError(
                    f"{root} is empty: expected PNG or JPEG images ({', '.join(IMAGE_EXTENSIONS)})"
                )
            return files, None, []
        if loose:
            raise ValueError(
                f"{root}: class labels come from sub-folders, but {len(loose)} image(s) lie "
                f"directly in the folder (first: {loose[0].name}); move them into class "
                "folders or set use_labels=False"
            )
        if not folders:
            raise ValueError(f"{root} is empty: expected one sub-folder of images per class")
        files, labels = [], []
        for index, folder in enumerate(folders):
            found = _image_files(folder)
            if not found:
                raise ValueError(
                    f"class folder {folder} holds no PNG or JPEG images: expected at least one "
                    "image per class"
                )
            files += found
            labels += [index] * len(found)
        return files, labels, [folder.name for folder in folders]

    def _scan_headers(self, image_module: Any, same_size: bool) -> tuple[tuple[int, int], bool]:
        first_size: tuple[int, int] | None = None
        grey = True
        for file in self.files:
            try:
                with image_module.open(file) as image:
                    width, height = image.size
                    mode = image.mode
            except Exception as error:  # Pillow raises many types for bad files
                raise ValueError(
                    f"cannot read image file {file}: {type(error).__name__}: {error}"
                ) from None
            if mode not in _GREY_MODES and mode not in _COLOUR_MODES:
                raise ValueError(
                    f"image file {file} has colour mode {mode!r} (16-bit or float pixels); "
                    "expected 8-bit grey, RGB, RGBA or palette images"
                )
            grey = grey and mode in _GREY_MODES
            if first_size is None:
                first_size = (height, width)
            elif same_size and (height, width) != first_size:
                raise ValueError(
                    f"image file {file} is {height}x{width} (HxW) but {self.files[0]} is "
                    f"{first_size[0]}x{first_size[1]}: expected one size; set image_size to "
                    "resize them all"
                )
        assert first_size is not None
        return first_size, grey

    def __len__(self) -> int:
        return len(self.files)

    def _decode(self, index: int) -> np.ndarray:
        file = self.files[index]
        image_module = _pillow()
        try:
            with image_module.open(file) as image:
                pixels = np.asarray(image.convert(self._mode), dtype=np.uint8)
        except Exception as error:  # Pillow raises many types for bad files
            raise ValueError(
                f"cannot decode image file {file}: {type(error).__name__}: {error}"
            ) from None
        pixels = pixels.reshape(*pixels.shape[:2], -1)
        converted = self.transform(pixels[None])[0]
        if converted.shape != self.image_shape:
            raise ValueError(
                f"image file {file} decodes to shape {pixels.shape} (HWC), expected "
                f"{self.image_shape} ({self.layout}) like the first image"
            )
        return converted

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Example:
        """Decoded examples at ``indices``, stacked."""
        rows = self._indices(indices)
        batch: Example = {
            "image": np.stack([self._decode(int(i)) for i in rows]).astype(np.float32, copy=False)
        }
        if self.labels is not None:
            batch["label"] = self.labels[rows]
        return batch

    def check(self, *, sample: int | None = None) -> None:
        """Decode every image (or ``sample`` of them, evenly spaced); refuse bad files.

        Raises:
            ValueError: A file that cannot be decoded, or decodes to another size.
        """
        count = len(self)
        if sample is None or sample >= count:
            chosen = list(range(count))
        else:
            chosen = sorted({int(i) for i in np.linspace(0, count - 1, max(sample, 1))})
        for index in chosen:
            self._decode(index)
