"""InceptionV3 as used for FID (pool3, 2048-d), in Flax NNX, with user-supplied weights.

The network is the FID variant of pytorch-fid (``FIDInceptionA/C/E_1/E_2``: average
pools that exclude padding, a max pool in the last block), which reproduces the
TensorFlow 2015 Inception graph that published FIDs come from. No weights ship with the
package: convert pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` once, without
PyTorch (``artifex-metrics convert-inception FILE.pth``, or ``convert_inception_weights`` /
``fetch_inception_weights`` in :mod:`.inception_conversion`), and :func:`load_inception_v3`
finds the ``.npz`` in the cache.

Inputs follow the package convention: float RGB images in ``[-1, 1]``, NHWC
``(B, H, W, 3)`` or NCHW ``(B, 3, H, W)``, any size. Images are resized to 299×299 with
bilinear interpolation without antialiasing, as pytorch-fid does
(``F.interpolate(..., mode="bilinear", align_corners=False)``); pytorch-fid takes
``[0, 1]`` and maps it to ``[-1, 1]`` itself, a linear step that commutes with resizing.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.evaluation.metrics._module_function import ModuleFunction
from artifex.generative_models.core.evaluation.metrics._params_io import (
    load_arrays,
    read_npz,
    save_arrays,
)
from artifex.generative_models.core.evaluation.metrics._weights import (
    inception_weights_path,
    missing_inception_weights_message,
)

__all__ = [
    "INCEPTION_FEATURE_DIM",
    "INCEPTION_INPUT_SIZE",
    "INCEPTION_NUM_CLASSES",
    "InceptionV3",
    "inception_classifier",
    "inception_feature_extractor",
    "load_inception_v3",
    "save_inception_v3",
]

INCEPTION_INPUT_SIZE = 299
"""Height and width every image is resized to."""

INCEPTION_FEATURE_DIM = 2048
"""Width of the pool3 features."""

INCEPTION_NUM_CLASSES = 1008
"""Logits of the 2015 graph's classifier (1000 ImageNet classes and 8 unused)."""

BATCH_NORM_EPSILON = 1e-3


class BasicConv(nnx.Module):
    """Convolution without bias, batch norm (inference statistics), ReLU."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        kernel: int | tuple[int, int],
        *,
        stride: int = 1,
        padding: int | tuple[int, int] = 0,
        rngs: nnx.Rngs,
    ) -> None:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        ph, pw = (padding, padding) if isinstance(padding, int) else padding
        self.conv = nnx.Conv(
            in_features,
            out_features,
            (kh, kw),
            strides=stride,
            padding=((ph, ph), (pw, pw)),
            use_bias=False,
            rngs=rngs,
        )
        self.bn = nnx.BatchNorm(
            out_features, use_running_average=True, epsilon=BATCH_NORM_EPSILON, rngs=rngs
        )

    def __call__(self, x: jax.Array) -> jax.Array:
        """``relu(bn(conv(x)))``."""
        return jax.nn.relu(self.bn(self.conv(x)))


def _avg_pool_3x3(x: jax.Array) -> jax.Array:
    # count_include_pad=False: the FID blocks' change from torchvision's Inception.
    return nnx.avg_pool(
        x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)), count_include_pad=False
    )


def _max_pool_3x3_stride2(x: jax.Array) -> jax.Array:
    return nnx.max_pool(x, (3, 3), strides=(2, 2), padding="VALID")


class InceptionA(nnx.Module):
    """Mixed_5b/5c/5d: 1×1, 5×5, double 3×3 and pooled branches."""

    def __init__(self, in_features: int, pool_features: int, *, rngs: nnx.Rngs) -> None:
        self.branch1x1 = BasicConv(in_features, 64, 1, rngs=rngs)
        self.branch5x5_1 = BasicConv(in_features, 48, 1, rngs=rngs)
        self.branch5x5_2 = BasicConv(48, 64, 5, padding=2, rngs=rngs)
        self.branch3x3dbl_1 = BasicConv(in_features, 64, 1, rngs=rngs)
        self.branch3x3dbl_2 = BasicConv(64, 96, 3, padding=1, rngs=rngs)
        self.branch3x3dbl_3 = BasicConv(96, 96, 3, padding=1, rngs=rngs)
        self.branch_pool = BasicConv(in_features, pool_features, 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Concatenation of the branches along channels."""
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(_avg_pool_3x3(x))
        return jnp.concatenate([self.branch1x1(x), branch5x5, branch3x3dbl, branch_pool], -1)


class InceptionB(nnx.Module):
    """Mixed_6a: strided 3×3, strided double 3×3 and max-pooled branches (35 → 17)."""

    def __init__(self, in_features: int, *, rngs: nnx.Rngs) -> None:
        self.branch3x3 = BasicConv(in_features, 384, 3, stride=2, rngs=rngs)
        self.branch3x3dbl_1 = BasicConv(in_features, 64, 1, rngs=rngs)
        self.branch3x3dbl_2 = BasicConv(64, 96, 3, padding=1, rngs=rngs)
        self.branch3x3dbl_3 = BasicConv(96, 96, 3, stride=2, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Concatenation of the branches along channels."""
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return jnp.concatenate([self.branch3x3(x), branch3x3dbl, _max_pool_3x3_stride2(x)], -1)


class InceptionC(nnx.Module):
    """Mixed_6b..6e: factorised 7×7 branches."""

    def __init__(self, in_features: int, channels_7x7: int, *, rngs: nnx.Rngs) -> None:
        c7 = channels_7x7
        self.branch1x1 = BasicConv(in_features, 192, 1, rngs=rngs)
        self.branch7x7_1 = BasicConv(in_features, c7, 1, rngs=rngs)
        self.branch7x7_2 = BasicConv(c7, c7, (1, 7), padding=(0, 3), rngs=rngs)
        self.branch7x7_3 = BasicConv(c7, 192, (7, 1), padding=(3, 0), rngs=rngs)
        self.branch7x7dbl_1 = BasicConv(in_features, c7, 1, rngs=rngs)
        self.branch7x7dbl_2 = BasicConv(c7, c7, (7, 1), padding=(3, 0), rngs=rngs)
        self.branch7x7dbl_3 = BasicConv(c7, c7, (1, 7), padding=(0, 3), rngs=rngs)
        self.branch7x7dbl_4 = BasicConv(c7, c7, (7, 1), padding=(3, 0), rngs=rngs)
        self.branch7x7dbl_5 = BasicConv(c7, 192, (1, 7), padding=(0, 3), rngs=rngs)
        self.branch_pool = BasicConv(in_features, 192, 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Concatenation of the branches along channels."""
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        dbl = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4):
            dbl = layer(dbl)
        dbl = self.branch7x7dbl_5(dbl)
        branch_pool = self.branch_pool(_avg_pool_3x3(x))
        return jnp.concatenate([self.branch1x1(x), branch7x7, dbl, branch_pool], -1)


class InceptionD(nnx.Module):
    """Mixed_7a: strided 3×3 and 7×7-then-3×3 branches with a max pool (17 → 8)."""

    def __init__(self, in_features: int, *, rngs: nnx.Rngs) -> None:
        self.branch3x3_1 = BasicConv(in_features, 192, 1, rngs=rngs)
        self.branch3x3_2 = BasicConv(192, 320, 3, stride=2, rngs=rngs)
        self.branch7x7x3_1 = BasicConv(in_features, 192, 1, rngs=rngs)
        self.branch7x7x3_2 = BasicConv(192, 192, (1, 7), padding=(0, 3), rngs=rngs)
        self.branch7x7x3_3 = BasicConv(192, 192, (7, 1), padding=(3, 0), rngs=rngs)
        self.branch7x7x3_4 = BasicConv(192, 192, 3, stride=2, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Concatenation of the branches along channels."""
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        branch7x7x3 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            branch7x7x3 = layer(branch7x7x3)
        return jnp.concatenate([branch3x3, branch7x7x3, _max_pool_3x3_stride2(x)], -1)


class InceptionE(nnx.Module):
    """Mixed_7b (average pool) and Mixed_7c (max pool): expanded 3×3 branches.

    Args:
        in_features: Input channels.
        pool: ``"avg"`` (FIDInceptionE_1) or ``"max"`` (FIDInceptionE_2, a quirk of the
            TensorFlow graph that pytorch-fid reproduces).
        rngs: Initialisation randomness.
    """

    def __init__(self, in_features: int, *, pool: str, rngs: nnx.Rngs) -> None:
        self.pool = pool
        self.branch1x1 = BasicConv(in_features, 320, 1, rngs=rngs)
        self.branch3x3_1 = BasicConv(in_features, 384, 1, rngs=rngs)
        self.branch3x3_2a = BasicConv(384, 384, (1, 3), padding=(0, 1), rngs=rngs)
        self.branch3x3_2b = BasicConv(384, 384, (3, 1), padding=(1, 0), rngs=rngs)
        self.branch3x3dbl_1 = BasicConv(in_features, 448, 1, rngs=rngs)
        self.branch3x3dbl_2 = BasicConv(448, 384, 3, padding=1, rngs=rngs)
        self.branch3x3dbl_3a = BasicConv(384, 384, (1, 3), padding=(0, 1), rngs=rngs)
        self.branch3x3dbl_3b = BasicConv(384, 384, (3, 1), padding=(1, 0), rngs=rngs)
        self.branch_pool = BasicConv(in_features, 192, 1, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        """Concatenation of the branches along channels."""
        b3 = self.branch3x3_1(x)
        branch3x3 = jnp.concatenate([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], -1)
        dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = jnp.concatenate([self.branch3x3dbl_3a(dbl), self.branch3x3dbl_3b(dbl)], -1)
        if self.pool == "max":
            pooled = nnx.max_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)))
        else:
            pooled = _avg_pool_3x3(x)
        branch_pool = self.branch_pool(pooled)
        return jnp.concatenate([self.branch1x1(x), branch3x3, branch3x3dbl, branch_pool], -1)


def as_inception_input(images: Any) -> jax.Array:
    """RGB images in ``[-1, 1]``, NHWC or NCHW, as float32 ``(B, 299, 299, 3)``.

    Works under ``jax.jit`` (the checks read only shapes and dtypes).

    Raises:
        TypeError: Integer pixels.
        ValueError: Not a batch of 3-channel images.
    """
    shape = tuple(images.shape)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise TypeError(
            f"InceptionV3 expects float RGB pixels in [-1, 1], got dtype {images.dtype}; "
            "convert uint8 images with x / 127.5 - 1"
        )
    x = jnp.asarray(images, dtype=jnp.float32)
    if len(shape) == 4 and shape[-1] == 3:
        pass
    elif len(shape) == 4 and shape[1] == 3:
        x = jnp.transpose(x, (0, 2, 3, 1))
    else:
        hint = " (repeat grayscale to 3 channels)" if len(shape) == 4 and 1 in shape[1::2] else ""
        raise ValueError(
            "InceptionV3 expects RGB images (B, H, W, 3) or (B, 3, H, W) in [-1, 1], got "
            f"shape {shape}{hint}"
        )
    size = INCEPTION_INPUT_SIZE
    if x.shape[1:3] != (size, size):
        x = jax.image.resize(x, (x.shape[0], size, size, 3), "bilinear", antialias=False)
    return x


class InceptionV3(nnx.Module):
    """The FID InceptionV3: pool3 features (2048) and, optionally, the 1008 logits.

    Module and weight names follow torchvision / pytorch-fid (``Conv2d_1a_3x3``,
    ``Mixed_5b/branch1x1/conv/kernel``, ...), so the conversion is a renaming.

    Args:
        include_logits: Build the final ``fc`` layer (needed for the Inception Score).
        rngs: Initialisation randomness (the weights are meant to be loaded).
    """

    def __init__(self, *, include_logits: bool = True, rngs: nnx.Rngs) -> None:
        self.Conv2d_1a_3x3 = BasicConv(3, 32, 3, stride=2, rngs=rngs)
        self.Conv2d_2a_3x3 = BasicConv(32, 32, 3, rngs=rngs)
        self.Conv2d_2b_3x3 = BasicConv(32, 64, 3, padding=1, rngs=rngs)
        self.Conv2d_3b_1x1 = BasicConv(64, 80, 1, rngs=rngs)
        self.Conv2d_4a_3x3 = BasicConv(80, 192, 3, rngs=rngs)
        self.Mixed_5b = InceptionA(192, 32, rngs=rngs)
        self.Mixed_5c = InceptionA(256, 64, rngs=rngs)
        self.Mixed_5d = InceptionA(288, 64, rngs=rngs)
        self.Mixed_6a = InceptionB(288, rngs=rngs)
        self.Mixed_6b = InceptionC(768, 128, rngs=rngs)
        self.Mixed_6c = InceptionC(768, 160, rngs=rngs)
        self.Mixed_6d = InceptionC(768, 160, rngs=rngs)
        self.Mixed_6e = InceptionC(768, 192, rngs=rngs)
        self.Mixed_7a = InceptionD(768, rngs=rngs)
        self.Mixed_7b = InceptionE(1280, pool="avg", rngs=rngs)
        self.Mixed_7c = InceptionE(2048, pool="max", rngs=rngs)
        self.fc = (
            nnx.Linear(INCEPTION_FEATURE_DIM, INCEPTION_NUM_CLASSES, rngs=rngs)
            if include_logits
            else None
        )

    def features(self, images: Any) -> jax.Array:
        """pool3 features ``(B, 2048)`` of RGB images in ``[-1, 1]`` (any size, NHWC/NCHW)."""
        x = as_inception_input(images)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = _max_pool_3x3_stride2(x)
        x = _max_pool_3x3_stride2(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)))
        for block in (
            self.Mixed_5b,
            self.Mixed_5c,
            self.Mixed_5d,
            self.Mixed_6a,
            self.Mixed_6b,
            self.Mixed_6c,
            self.Mixed_6d,
            self.Mixed_6e,
            self.Mixed_7a,
            self.Mixed_7b,
            self.Mixed_7c,
        ):
            x = block(x)
        return jnp.mean(x, axis=(1, 2))

    def __call__(self, images: Any) -> jax.Array:
        """pool3 features ``(B, 2048)``."""
        return self.features(images)

    def logits(self, images: Any) -> jax.Array:
        """The 1008 classifier logits; needs ``include_logits=True``."""
        if self.fc is None:
            raise ValueError("this InceptionV3 was built without its fc layer (include_logits)")
        return self.fc(self.features(images))

    def probabilities(self, images: Any) -> jax.Array:
        """Softmax over the 1008 logits, as the Inception Score uses them."""
        return jax.nn.softmax(self.logits(images), axis=-1)


@functools.cache
def _abstract_inception(include_logits: bool) -> tuple[nnx.GraphDef[InceptionV3], nnx.State]:
    # Tracing the constructor takes seconds; its structure never changes, so trace it once.
    model = nnx.eval_shape(lambda: InceptionV3(include_logits=include_logits, rngs=nnx.Rngs(0)))
    return nnx.split(model)


def abstract_inception_v3(*, include_logits: bool = True) -> InceptionV3:
    """An :class:`InceptionV3` whose weights are shapes only, ready to be loaded into."""
    return nnx.merge(*_abstract_inception(include_logits))


def load_inception_v3(
    path: str | os.PathLike[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
) -> InceptionV3:
    """An :class:`InceptionV3` with the weights of an ``.npz`` file (no pickle).

    The file is what ``convert_inception_weights`` or :func:`save_inception_v3` writes; the
    ``fc`` layer is built when the file has ``fc/kernel``.

    Args:
        path: The ``.npz``; by default the converted standard weights in the cache.
        cache_dir: The cache folder when ``path`` is not given; else ``$ARTIFEX_CACHE``,
            else ``~/.cache/artifex``.

    Raises:
        FileNotFoundError: No ``path`` and nothing converted yet; the message gives the
            commands that fetch and convert the weights.
        ValueError: Names or shapes do not match the architecture.
    """
    if path is None:
        path = inception_weights_path(cache_dir)
        if not path.is_file():
            raise FileNotFoundError(missing_inception_weights_message(cache_dir))
    arrays = read_npz(path)
    model = abstract_inception_v3(include_logits="fc/kernel" in arrays)
    load_arrays(model, arrays, os.fspath(path))
    return model


def save_inception_v3(model: InceptionV3, path: str | os.PathLike[str]) -> None:
    """Write the model's weights to ``path`` under the names :func:`load_inception_v3` reads."""
    save_arrays(model, path)


def inception_feature_extractor(path: str | os.PathLike[str] | None = None) -> ModuleFunction:
    """Images in ``[-1, 1]`` → pool3 features ``(B, 2048)``; weights: ``path`` or the cache."""
    return ModuleFunction(load_inception_v3(path), "features")


def inception_classifier(path: str | os.PathLike[str] | None = None) -> ModuleFunction:
    """Images in ``[-1, 1]`` → softmax over 1008 classes; weights: ``path`` or the cache."""
    return ModuleFunction(load_inception_v3(path), "probabilities")
