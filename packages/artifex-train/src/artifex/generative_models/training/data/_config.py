"""``DataConfig`` -> the image source it describes."""

from __future__ import annotations

from typing import Any, Literal

from artifex.generative_models.core.configuration.data_config import DataConfig
from artifex.generative_models.training.data._cifar import Cifar10Source
from artifex.generative_models.training.data._convert import Layout, ResizeMode, check_layout
from artifex.generative_models.training.data._folder import FolderSource
from artifex.generative_models.training.data._idx import MnistIdxSource
from artifex.generative_models.training.data._sources import (
    DigitsSource,
    ImageSource,
    NpySource,
    NpzSource,
)
from artifex.generative_models.training.data._unpaired import TransformedSource, UnpairedSource

__all__ = ["source_from_config"]


def _one_source(
    config: DataConfig, path: str | None, split: str, common: dict[str, Any]
) -> ImageSource:
    use_labels = bool(config.use_labels)
    if config.source == "digits":
        return DigitsSource(split, use_labels=use_labels, **common)  # type: ignore[arg-type]
    assert path is not None  # DataConfig requires a path for every other source
    if config.source == "folder":
        return FolderSource(path, use_labels=use_labels, **common)
    if config.source == "cifar10":
        return Cifar10Source(path, split=split, use_labels=use_labels, **common)  # type: ignore[arg-type]
    arrays = {**common, "source_layout": config.source_layout}
    if config.source == "npz":
        return NpzSource(
            path,
            images_key=config.images_key,
            labels_key=config.labels_key,
            use_labels=use_labels,
            **arrays,
        )
    if config.source == "npy":
        return NpySource(path, labels_path=config.labels_path, use_labels=use_labels, **arrays)
    if config.source == "mnist_idx":
        return MnistIdxSource(path, split=split, use_labels=use_labels, **arrays)  # type: ignore[arg-type]
    raise ValueError(f"DataConfig.source={config.source!r} is not a known source")


def source_from_config(
    data_config: DataConfig,
    *,
    model_layout: Layout = "NHWC",
    resize: ResizeMode = "nearest",
    split: Literal["train", "test", "all"] = "train",
) -> ImageSource:
    """The source a ``DataConfig`` describes; with ``domain_b_path``, an :class:`UnpairedSource`.

    ``source`` picks the class (``"digits"`` :class:`DigitsSource`, ``"folder"``
    :class:`FolderSource`, ``"npz"`` :class:`NpzSource`, ``"npy"`` :class:`NpySource`,
    ``"mnist_idx"`` :class:`MnistIdxSource`, ``"cifar10"`` :class:`Cifar10Source`); the
    config's ``image_size``, ``channels``, ``value_range``, ``max_examples``,
    ``source_layout``, keys and ``use_labels`` (True: labels required; False: none
    delivered) are passed on. Domain B is read like domain A, from ``domain_b_path``,
    and/or made from it by ``domain_b_transform`` (then an :class:`UnpairedSource`).

    Args:
        data_config: The data config.
        model_layout: The model's layout, used when ``data_config.layout == "auto"``.
        resize: How ``image_size`` is reached (not in ``DataConfig``): ``"nearest"`` or
            ``"pad"``.
        split: The split of the files (``"train"``, ``"test"``; ``"all"`` for digits only).

    Raises:
        TypeError: Not a ``DataConfig``.
        ValueError, FileNotFoundError, ImportError: From the source (see each class).
    """
    if not isinstance(data_config, DataConfig):
        raise TypeError(f"data_config must be a DataConfig, got {type(data_config).__name__}")
    layout = check_layout(
        model_layout if data_config.layout == "auto" else data_config.layout, "layout"
    )
    if split == "all" and data_config.source != "digits":
        raise ValueError(f"split='all' applies to source='digits' only, not {data_config.source!r}")

    common: dict[str, Any] = {
        "image_size": data_config.image_size,
        "resize": resize,
        "channels": data_config.channels,
        "layout": layout,
        "value_range": tuple(data_config.value_range),
        "max_examples": data_config.max_examples,
    }
    domain_a = _one_source(data_config, data_config.path, split, common)
    if data_config.domain_b_path is None and data_config.domain_b_transform is None:
        return domain_a
    domain_b = (
        domain_a
        if data_config.domain_b_path is None
        else _one_source(data_config, data_config.domain_b_path, split, common)
    )
    if data_config.domain_b_transform is not None:
        domain_b = TransformedSource(domain_b, data_config.domain_b_transform)
    return UnpairedSource(domain_a, domain_b)
