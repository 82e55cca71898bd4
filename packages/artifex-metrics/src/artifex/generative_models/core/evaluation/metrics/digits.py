"""The bundled 8×8 digits and a small classifier trained on them: FID/IS/KID with no download.

The data is the UCI ML hand-written digits set (1797 images of 8×8 pixels, values
0..16, CC BY 4.0; see ``data/NOTICE``) with a fixed stratified held-out split of 359
images (``scripts/make_digits_npz.py``). The classifier is a two-convolution CNN
trained on the training split by ``scripts/train_digits_classifier.py`` (fixed seed);
its weights ship as ``data/digits_classifier.npz`` and its held-out accuracy, and the
FID / KID / IS of the held-out split against the training split, in
``data/digits_classifier.json``.

Image convention: float pixels in ``[-1, 1]`` (a GAN's tanh range; raw digits map by
``x / 8 - 1``), in any of the layouts ``(B, 8, 8, 1)``, ``(B, 1, 8, 8)`` or ``(B, 8, 8)``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from artifex.generative_models.core.evaluation.metrics._module_function import ModuleFunction
from artifex.generative_models.core.evaluation.metrics._params_io import load_arrays, read_npz

__all__ = [
    "DIGITS_FEATURE_DIM",
    "DIGITS_IMAGE_SHAPE",
    "DIGITS_NUM_CLASSES",
    "DIGITS_PIXEL_MAX",
    "DigitsClassifierNetwork",
    "DigitsSplit",
    "as_digits_nhwc",
    "digits_classifier",
    "digits_classifier_record",
    "digits_feature_extractor",
    "digits_network",
    "load_digits",
]

DIGITS_IMAGE_SHAPE = (8, 8, 1)
"""One image, NHWC."""

DIGITS_NUM_CLASSES = 10
"""The digits 0..9."""

DIGITS_PIXEL_MAX = 16
"""Raw pixels count 'on' bits in a 4×4 block: 0..16."""

DIGITS_FEATURE_DIM = 64
"""Width of the classifier's penultimate layer, the FID features."""

Split = Literal["train", "test", "all"]


def _data_file(name: str) -> Any:
    return resources.files("artifex.generative_models.core.evaluation.metrics") / "data" / name


class DigitsSplit(NamedTuple):
    """Images and labels of one split of the digits."""

    images: np.ndarray
    """``(N, 8, 8, 1)`` float32 in ``[-1, 1]`` (or uint8 0..16 with ``raw=True``)."""

    labels: np.ndarray
    """``(N,)`` int32 digits 0..9."""


@cache
def _digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with _data_file("digits.npz").open("rb") as handle, np.load(handle, allow_pickle=False) as data:
        return data["images"], data["labels"], data["is_test"]


def load_digits(split: Split = "all", *, raw: bool = False) -> DigitsSplit:
    """The bundled UCI 8×8 digits: 1438 training and 359 held-out images.

    The held-out split is fixed and stratified (about 20% of each digit), stored in the
    data file itself, so it never changes with library versions.

    Args:
        split: ``"train"``, ``"test"`` or ``"all"`` (file order).
        raw: Return the original uint8 pixels 0..16 instead of float32 in ``[-1, 1]``.

    Returns:
        A :class:`DigitsSplit` ``(images, labels)``; images are ``(N, 8, 8, 1)``.

    Raises:
        ValueError: Unknown ``split``.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    images, labels, is_test = _digits_arrays()
    keep = slice(None) if split == "all" else (is_test if split == "test" else ~is_test)
    chosen = images[keep][..., None]
    out = chosen.copy() if raw else chosen.astype(np.float32) / (DIGITS_PIXEL_MAX / 2) - 1.0
    return DigitsSplit(out, labels[keep].astype(np.int32))


def as_digits_nhwc(images: Any) -> jax.Array:
    """Digits in any accepted layout as float32 ``(B, 8, 8, 1)``; works under ``jax.jit``.

    Raises:
        TypeError: Integer or boolean pixels (the convention is floats in ``[-1, 1]``).
        ValueError: Any shape but ``(B, 8, 8, 1)``, ``(B, 1, 8, 8)`` or ``(B, 8, 8)``.
    """
    shape = tuple(images.shape)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise TypeError(
            f"the digits classifier expects float pixels in [-1, 1], got dtype {images.dtype}; "
            f"convert raw digits (0..{DIGITS_PIXEL_MAX}) with x / 8 - 1"
        )
    x = jnp.asarray(images, dtype=jnp.float32)
    if len(shape) == 4 and shape[1:] == (8, 8, 1):
        return x
    if len(shape) == 4 and shape[1:] == (1, 8, 8):
        return jnp.transpose(x, (0, 2, 3, 1))
    if len(shape) == 3 and shape[1:] == (8, 8):
        return x[..., None]
    raise ValueError(
        "the digits classifier expects images of shape (B, 8, 8, 1), (B, 1, 8, 8) or "
        f"(B, 8, 8) with pixels in [-1, 1], got shape {shape}"
    )


class DigitsClassifierNetwork(nnx.Module):
    """A small CNN for 8×8 digits: two 3×3 convolutions, a 64-unit layer, 10 logits.

    ``conv1`` (16 channels) and ``conv2`` (32 channels, stride 2) use GELU, then the
    4×4×32 map is flattened into ``hidden`` (64 GELU units: the features) and ``logits``.

    Args:
        rngs: Initialisation randomness.
    """

    def __init__(self, *, rngs: nnx.Rngs) -> None:
        self.conv1 = nnx.Conv(1, 16, (3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(16, 32, (3, 3), strides=2, rngs=rngs)
        self.hidden = nnx.Linear(4 * 4 * 32, DIGITS_FEATURE_DIM, rngs=rngs)
        self.logits = nnx.Linear(DIGITS_FEATURE_DIM, DIGITS_NUM_CLASSES, rngs=rngs)

    def features(self, images: Any) -> jax.Array:
        """Penultimate activations ``(B, 64)`` for digits in any accepted layout."""
        x = as_digits_nhwc(images)
        x = jax.nn.gelu(self.conv1(x))
        x = jax.nn.gelu(self.conv2(x))
        return jax.nn.gelu(self.hidden(x.reshape(x.shape[0], -1)))

    def __call__(self, images: Any) -> jax.Array:
        """Class logits ``(B, 10)``."""
        return self.logits(self.features(images))

    def probabilities(self, images: Any) -> jax.Array:
        """Softmax class probabilities ``(B, 10)``."""
        return jax.nn.softmax(self(images), axis=-1)


def digits_network() -> DigitsClassifierNetwork:
    """The classifier with its shipped, trained weights."""
    # Built abstractly: random initial values would be computed only to be overwritten.
    network = nnx.eval_shape(lambda: DigitsClassifierNetwork(rngs=nnx.Rngs(0)))
    with _data_file("digits_classifier.npz").open("rb") as handle:
        arrays = read_npz(handle)
    load_arrays(network, arrays, "digits_classifier.npz")
    return network


def digits_feature_extractor() -> ModuleFunction:
    """Images in ``[-1, 1]`` → the trained classifier's 64-d penultimate features.

    Use it as ``feature_extractor`` of :class:`FrechetInceptionDistance`,
    :class:`KernelInceptionDistance` or :class:`PrecisionRecall`.
    """
    return ModuleFunction(digits_network(), "features")


def digits_classifier() -> ModuleFunction:
    """Images in ``[-1, 1]`` → softmax probabilities over the 10 digits.

    Use it as ``classifier`` of :class:`InceptionScore`, or with ``class_coverage``.
    """
    return ModuleFunction(digits_network(), "probabilities")


def digits_classifier_record() -> dict[str, Any]:
    """What the training script recorded: test accuracy, seed, settings, reference scores."""
    return json.loads(_data_file("digits_classifier.json").read_text(encoding="utf-8"))
