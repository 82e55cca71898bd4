"""Config of the training data: where it comes from and how batches are made."""

from typing import Literal

from artifex.generative_models.core.configuration._fields import (
    check_non_negative,
    check_positive,
)
from artifex.generative_models.core.configuration.base import ConfigBase, config_dataclass

__all__ = ["DATA_SOURCES", "DataConfig"]

#: Data sources the training pipeline reads.
DATA_SOURCES: tuple[str, ...] = ("digits", "folder", "npz", "npy", "mnist_idx", "cifar10")


@config_dataclass
class DataConfig(ConfigBase):
    """Where the real images come from and how they are batched.

    Sources: ``"digits"`` (the small 8x8 digits set bundled with the library, no path),
    ``"folder"`` (image files; with labels, one subfolder per class), ``"npz"`` (arrays
    under ``images_key`` / ``labels_key``), ``"npy"`` (an image array; labels from
    ``labels_path``), ``"mnist_idx"`` (a folder or file of MNIST IDX data), ``"cifar10"``
    (the CIFAR-10 python batches folder). Nothing is downloaded.

    Attributes:
        source: One of ``DATA_SOURCES``.
        path: File or folder to read; required for every source but ``"digits"``.
        domain_b_path: A second source of the same kind for CycleGAN's domain B.
        domain_b_transform: Make domain B from domain A's data (or ``domain_b_path``'s)
            by ``"invert"`` (negate the pixels in ``value_range``), ``"flip"`` (mirror
            left-right) or ``"transpose"`` (swap rows and columns); None: no transform.
            With ``source="digits"`` this gives CycleGAN two domains out of the box.
        labels_path: Labels file for ``"npy"``.
        images_key: Array name of the images in an ``.npz`` file.
        labels_key: Array name of the labels in an ``.npz`` file.
        use_labels: Deliver class labels with the images (conditional GANs).
        batch_size: Global batch size (split over devices); >= 1.
        shuffle: Shuffle each epoch.
        seed: Shuffle seed; >= 0.
        image_size: Resize images to this square size; None: no resizing (images of
            another size than the model's are refused, with a hint).
        channels: Convert images to this many channels (1, 3 or 4); None keeps them.
        layout: ``"auto"`` (the model's layout), ``"NHWC"`` or ``"NCHW"``: layout of the
            batches delivered.
        source_layout: ``"auto"``, ``"NHWC"`` or ``"NCHW"``: how the stored arrays are
            laid out (``"auto"`` applies the image-layout rule).
        value_range: Pixel values are scaled to this interval (``(-1, 1)`` for tanh).
        drop_remainder: Drop a last incomplete batch.
        max_examples: Use at most this many examples (quick runs); None for all.
        worker_count: Data-loading worker processes; 0 loads in the main process.
        device_prefetch: Dispatches of batches the trainer prepares and places on the
            devices ahead of the training step, in a background thread (the checkpointed
            data position stays that of the last batch trained on); 0 prepares each
            dispatch's batches in the loop.
    """

    source: Literal["digits", "folder", "npz", "npy", "mnist_idx", "cifar10"] = "digits"
    path: str | None = None
    domain_b_path: str | None = None
    domain_b_transform: Literal["invert", "flip", "transpose"] | None = None
    labels_path: str | None = None
    images_key: str = "images"
    labels_key: str = "labels"
    use_labels: bool = False
    batch_size: int = 64
    shuffle: bool = True
    seed: int = 0
    image_size: int | None = None
    channels: int | None = None
    layout: Literal["auto", "NHWC", "NCHW"] = "auto"
    source_layout: Literal["auto", "NHWC", "NCHW"] = "auto"
    value_range: tuple[float, float] = (-1.0, 1.0)
    drop_remainder: bool = True
    max_examples: int | None = None
    worker_count: int = 0
    device_prefetch: int = 2

    def _validate(self) -> None:
        super()._validate()
        if self.source == "digits":
            for name in ("path", "domain_b_path"):
                if getattr(self, name) is not None:
                    self._fail(name, "source='digits' is bundled and reads no files; must be None")
        elif self.path is None:
            self._fail("path", f"source={self.source!r} needs a path")
        if self.labels_path is not None and self.source != "npy":
            self._fail("labels_path", f"applies to source='npy' only, not {self.source!r}")
        check_positive(self, "batch_size")
        check_non_negative(self, "seed")
        check_non_negative(self, "worker_count")
        check_non_negative(self, "device_prefetch")
        for name in ("image_size", "max_examples"):
            if getattr(self, name) is not None:
                check_positive(self, name)
        if self.channels is not None and self.channels not in (1, 3, 4):
            self._fail("channels", "must be 1, 3, 4 or None")
        low, high = self.value_range
        if not low < high:
            self._fail("value_range", "must be (low, high) with low < high")
