"""Differentiable image augmentations for the discriminator: DiffAugment, ADA, x-flip.

Why: with little data the discriminator memorises the training set and GAN training
diverges. Augmenting every image the discriminator sees, real and generated alike, with
transforms that are differentiable with respect to the images lets the generator's
gradient pass through them and keeps the augmentations from leaking into the generated
distribution (Zhao et al. 2020; Karras et al. 2020).

- :func:`diff_augment`: DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for
  Data-Efficient GAN Training"), policies ``color``, ``translation``, ``cutout`` with the
  definitions of the official code (mit-han-lab/data-efficient-gans), always applied.
- :func:`ada_augment`: the pipeline of stylegan2-ada (Karras et al. 2020, "Training
  Generative Adversarial Networks with Limited Data"), each transform applied to each
  image with probability ``p``; ``p`` is a traced array, so changing it during training
  (adaptive discriminator augmentation) never recompiles.
- :func:`mirror`: the dataset x-flip, for real images only (it is a dataset
  augmentation: the generator then learns the flipped images as well).
- :class:`Augment`: which of these a run uses, as static, hashable data the training
  rules carry, with ADA's controller: the overfitting heuristic ``r_t = E[sign(D(real))]``
  moves ``p`` toward a target, and ``p`` lives in the training state (checkpointed).

All three are pure functions of ``(images, key)``: randomness only from ``key``, one
independent draw per image, no Python control flow on values, so they run under
``jax.jit`` and ``jax.vmap`` inside a training step. Images are floating arrays in
``[-1, 1]``, batched, ``NHWC`` or ``NCHW`` (``data_format``). Computation is in float32
(or wider) and the result has the dtype of the input (bf16 in, bf16 out). Every argument
check reads static information only and raises while tracing, before any compilation.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from artifex.generative_models.core.configuration.training_config import (
    ADA_TRANSFORMS as CONFIG_ADA_TRANSFORMS,
)
from artifex.generative_models.core.configuration.training_config import AUGMENT_POLICIES

__all__ = [
    "ADA_DEFAULT",
    "ADA_TRANSFORMS",
    "AUGMENT_KINDS",
    "DATA_FORMATS",
    "DIFF_AUGMENT_DEFAULT",
    "DIFF_AUGMENT_POLICIES",
    "Augment",
    "ada_augment",
    "diff_augment",
    "mirror",
]

#: The image layouts accepted by every function of this module.
DATA_FORMATS: tuple[str, ...] = ("NHWC", "NCHW")

# The names live once, in the training config (which checks them without this package):
# DiffAugment's policies, and every ADA transform in stylegan2-ada's names, in the order
# the pipeline applies them (pixel blitting, general geometry, colour).
DIFF_AUGMENT_POLICIES: tuple[str, ...] = AUGMENT_POLICIES
#: The policy the DiffAugment paper recommends ('color,translation,cutout').
DIFF_AUGMENT_DEFAULT: tuple[str, ...] = AUGMENT_POLICIES
ADA_TRANSFORMS: tuple[str, ...] = CONFIG_ADA_TRANSFORMS
#: stylegan2-ada's recommended 'bgc' pipeline (blit + geom + color): all of the above.
ADA_DEFAULT: tuple[str, ...] = ADA_TRANSFORMS

_GEOMETRIC: frozenset[str] = frozenset(ADA_TRANSFORMS[:7])
_COLOUR: frozenset[str] = frozenset(ADA_TRANSFORMS[7:])

# stylegan2-ada's default strengths (AugmentPipe's keyword defaults).
_XINT_MAX = 0.125  # integer translation range, relative to the image size
_SCALE_STD = 0.2  # log2 standard deviation of isotropic scaling
_ROTATE_MAX = 1.0  # range of arbitrary rotation, 1 = full circle
_ANISO_STD = 0.2  # log2 standard deviation of anisotropic scaling
_XFRAC_STD = 0.125  # standard deviation of fractional translation, relative to size
_BRIGHTNESS_STD = 0.2
_CONTRAST_STD = 0.5  # log2
_HUE_MAX = 1.0  # 1 = full circle
_SATURATION_STD = 1.0  # log2

# DiffAugment's official ratios.
_TRANSLATION_RATIO = 0.125
_CUTOUT_RATIO = 0.5

# The luma axis of stylegan2-ada's colour transforms (homogeneous RGB).
_LUMA = np.asarray([1.0, 1.0, 1.0, 0.0], dtype=np.float32) / np.sqrt(np.float32(3.0))
# The cross-product matrix [v]x of the luma axis (homogeneous) and its square (NumPy, so no
# device matmul rounds them).
_LUMA_CROSS = np.asarray(
    [
        [0.0, -_LUMA[2], _LUMA[1], 0.0],
        [_LUMA[2], 0.0, -_LUMA[0], 0.0],
        [-_LUMA[1], _LUMA[0], 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
    ],
    dtype=np.float32,
)
_LUMA_CROSS2 = _LUMA_CROSS @ _LUMA_CROSS

# Small matrix products at full float32 precision: the GPU default (TF32) would round the
# transform matrices to 10 mantissa bits and shift the sampling grid by a fraction of a pixel.
_HIGHEST = jax.lax.Precision.HIGHEST


# --------------------------------------------------------------------------------------
# Argument checks (static information only) and layout.
# --------------------------------------------------------------------------------------


def _check_images(images: jax.Array, data_format: str, caller: str) -> None:
    if data_format not in DATA_FORMATS:
        raise ValueError(
            f"{caller}: data_format must be one of {DATA_FORMATS}, got {data_format!r}; "
            "pass 'NHWC' for (batch, height, width, channels) or 'NCHW' for "
            "(batch, channels, height, width)"
        )
    shape = jnp.shape(images)
    if len(shape) != 4:
        raise ValueError(
            f"{caller}: images must be a batch of rank 4 ({data_format}), got rank "
            f"{len(shape)} with shape {tuple(shape)}; add a batch axis for a single image "
            "(images[None])"
        )
    dtype = jnp.result_type(images)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(
            f"{caller}: images must be a floating array scaled to [-1, 1], got dtype "
            f"{dtype}; convert integer pixels with images / 127.5 - 1"
        )


def _names(
    names: str | Sequence[str], known: tuple[str, ...], what: str, caller: str
) -> tuple[str, ...]:
    """Validated names; a string is split at commas, as the official DiffAugment does."""
    if isinstance(names, str):
        names = [name.strip() for name in names.split(",") if name.strip()]
    names = tuple(names)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"{caller}: unknown {what} {unknown}; the known ones are {list(known)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(
            f"{caller}: {what}s {repeated} are given more than once; name each at most once "
            "(a name's parameters are drawn once per image: a repeat would apply the same draw "
            "twice)"
        )
    return names


def _to_nhwc(images: jax.Array, data_format: str) -> tuple[jax.Array, jnp.dtype]:
    """The images as NHWC in the compute dtype (float32 or wider), and their own dtype."""
    dtype = jnp.result_type(images)
    compute = jnp.promote_types(dtype, jnp.float32)
    x = jnp.asarray(images).astype(compute)
    if data_format == "NCHW":
        x = jnp.transpose(x, (0, 2, 3, 1))
    return x, dtype


def _from_nhwc(x: jax.Array, dtype: jnp.dtype, data_format: str) -> jax.Array:
    if data_format == "NCHW":
        x = jnp.transpose(x, (0, 3, 1, 2))
    return x.astype(dtype)


# --------------------------------------------------------------------------------------
# DiffAugment.
# --------------------------------------------------------------------------------------


def _uniform_int(u: jax.Array, low: int, high: int) -> jax.Array:
    """An integer uniform in ``[low, high)`` from a uniform ``u`` in ``[0, 1)``."""
    return jnp.minimum(jnp.floor(u * (high - low)), high - low - 1).astype(jnp.int32) + low


def _diff_augment_draws(
    key: jax.Array, *, batch: int, height: int, width: int, policy: Sequence[str]
) -> dict[str, jax.Array]:
    """DiffAugment's random parameters, one set per image, with the official distributions.

    One uniform draw of shape (batch, 7) serves all policies (one random-number op compiles
    much faster than seven); each parameter has its own column, so a policy draws the same
    numbers alone or combined.
    """
    u = jax.random.uniform(key, (batch, 7))
    draws: dict[str, jax.Array] = {}
    if "color" in policy:
        draws["brightness"] = u[:, 0] - 0.5  # U(-0.5, 0.5)
        draws["saturation"] = u[:, 1] * 2.0  # U(0, 2)
        draws["contrast"] = u[:, 2] + 0.5  # U(0.5, 1.5)
    if "translation" in policy:
        shift_h = int(height * _TRANSLATION_RATIO + 0.5)
        shift_w = int(width * _TRANSLATION_RATIO + 0.5)
        draws["shift_h"] = _uniform_int(u[:, 3], -shift_h, shift_h + 1)
        draws["shift_w"] = _uniform_int(u[:, 4], -shift_w, shift_w + 1)
    if "cutout" in policy:
        size_h, size_w = _cutout_size(height, width)
        # The official range: an odd-sized rectangle may not centre one row past the end.
        draws["cutout_h"] = _uniform_int(u[:, 5], 0, height + 1 - size_h % 2)
        draws["cutout_w"] = _uniform_int(u[:, 6], 0, width + 1 - size_w % 2)
    return draws


def _cutout_size(height: int, width: int) -> tuple[int, int]:
    return int(height * _CUTOUT_RATIO + 0.5), int(width * _CUTOUT_RATIO + 0.5)


def _brightness(x: jax.Array, b: jax.Array) -> jax.Array:
    """Add ``b[n]`` to every value of image ``n`` (NHWC)."""
    return x + b[:, None, None, None].astype(x.dtype)


def _saturation(x: jax.Array, s: jax.Array) -> jax.Array:
    """Scale each pixel's deviation from its channel mean by ``s[n]``; grey is unchanged."""
    mean = jnp.mean(x, axis=3, keepdims=True)
    return (x - mean) * s[:, None, None, None].astype(x.dtype) + mean


def _contrast(x: jax.Array, c: jax.Array) -> jax.Array:
    """Scale each image's deviation from its own mean (all pixels and channels) by ``c[n]``."""
    mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * c[:, None, None, None].astype(x.dtype) + mean


def _translate(x: jax.Array, shift_h: jax.Array, shift_w: jax.Array) -> jax.Array:
    """``out[n, i, j] = x[n, i + shift_h[n], j + shift_w[n]]``, zero where that is outside."""
    _, height, width, _ = x.shape
    rows = jnp.arange(height)[None, :] + shift_h[:, None]  # (N, H)
    cols = jnp.arange(width)[None, :] + shift_w[:, None]  # (N, W)
    inside = ((rows >= 0) & (rows < height))[:, :, None] & ((cols >= 0) & (cols < width))[
        :, None, :
    ]
    rows = jnp.clip(rows, 0, height - 1)
    cols = jnp.clip(cols, 0, width - 1)
    moved = jax.vmap(lambda img, r, c: img[r[:, None], c[None, :]])(x, rows, cols)
    return jnp.where(inside[..., None], moved, jnp.zeros((), x.dtype))


def _cutout(x: jax.Array, centre_h: jax.Array, centre_w: jax.Array) -> jax.Array:
    """Zero a (half-size) rectangle whose rows start at ``centre_h - size_h // 2`` (cols alike).

    The rectangle may reach past the border; only its part inside the image is zeroed.
    """
    _, height, width, _ = x.shape
    size_h, size_w = _cutout_size(height, width)
    top = (centre_h - size_h // 2)[:, None]
    left = (centre_w - size_w // 2)[:, None]
    rows = jnp.arange(height)[None, :]
    cols = jnp.arange(width)[None, :]
    in_rows = (rows >= top) & (rows < top + size_h)  # (N, H)
    in_cols = (cols >= left) & (cols < left + size_w)  # (N, W)
    cut = in_rows[:, :, None, None] & in_cols[:, None, :, None]
    return jnp.where(cut, jnp.zeros((), x.dtype), x)


def diff_augment(
    images: jax.Array,
    key: jax.Array,
    *,
    policy: str | Sequence[str] = DIFF_AUGMENT_DEFAULT,
    data_format: str = "NHWC",
) -> jax.Array:
    """DiffAugment (Zhao et al. 2020): apply ``policy`` to every image, per-image random.

    Apply it to both the real and the generated images the discriminator sees, in the
    discriminator's and in the generator's step. The operations follow the official code
    (mit-han-lab/data-efficient-gans, ``DiffAugment_pytorch.py``), which works on images in
    ``[-1, 1]`` as here:

    - ``color``: brightness (add ``U(-0.5, 0.5)``), then saturation (scale each pixel's
      deviation from its channel mean by ``U(0, 2)``; identity on 1-channel images, whose
      pixels equal their mean), then contrast (scale the deviation from the image's mean by
      ``U(0.5, 1.5)``);
    - ``translation``: an integer shift of up to ``int(size / 8 + 0.5)`` pixels on each
      axis, uniform, with zero padding;
    - ``cutout``: a zeroed rectangle of half the image size at a uniform random position
      (it may lie partly outside the image).

    The policies are applied in the order given. The result is differentiable with respect
    to ``images`` (translation and cutout move and mask values; the gradient of a moved-out
    or cut-out value is zero).

    Args:
        images: a batch of floating images in ``[-1, 1]``, any number of channels.
        key: a JAX random key; each image gets its own draw.
        policy: policy names from :data:`DIFF_AUGMENT_POLICIES`, each at most once, or one
            comma-separated string as in the official code (``"color,translation,cutout"``).
            Empty: the images are returned unchanged.
        data_format: ``"NHWC"`` or ``"NCHW"``.

    Returns:
        The augmented images, same shape and dtype.

    Raises:
        ValueError: an unknown or repeated policy, images not of rank 4, or an unknown
            ``data_format``.
        TypeError: non-floating images.
    """
    _check_images(images, data_format, "diff_augment")
    names = _names(policy, DIFF_AUGMENT_POLICIES, "policy", "diff_augment")
    if not names:
        return images
    x, dtype = _to_nhwc(images, data_format)
    batch, height, width, _ = x.shape
    draws = _diff_augment_draws(key, batch=batch, height=height, width=width, policy=names)
    for name in names:
        if name == "color":
            x = _brightness(x, draws["brightness"])
            x = _saturation(x, draws["saturation"])
            x = _contrast(x, draws["contrast"])
        elif name == "translation":
            x = _translate(x, draws["shift_h"], draws["shift_w"])
        else:
            x = _cutout(x, draws["cutout_h"], draws["cutout_w"])
    return _from_nhwc(x, dtype, data_format)


# --------------------------------------------------------------------------------------
# Mirror (dataset x-flip).
# --------------------------------------------------------------------------------------


def mirror(images: jax.Array, key: jax.Array, *, data_format: str = "NHWC") -> jax.Array:
    """Flip each image left-right with probability 0.5 (the dataset x-flip, ``--mirror``).

    For the real images only: it enlarges the dataset with mirror images, and the generator
    is meant to learn them (unlike :func:`diff_augment` and :func:`ada_augment`, whose
    transforms must not leak into the generated images, and which therefore also transform
    the generated images). Use it only on data whose mirror image is as valid as the
    original (not on text or digits).

    Args:
        images: a batch of floating images.
        key: a JAX random key; each image gets its own coin.
        data_format: ``"NHWC"`` or ``"NCHW"``.

    Returns:
        The images, each flipped or not, same shape and dtype.

    Raises:
        ValueError: images not of rank 4, or an unknown ``data_format``.
        TypeError: non-floating images.
    """
    _check_images(images, data_format, "mirror")
    images = jnp.asarray(images)
    flip = jax.random.bernoulli(key, 0.5, (images.shape[0],))[:, None, None, None]
    # The width axis: 2 in NHWC, 3 in NCHW; a flip only moves values, so no dtype change.
    return jnp.where(flip, jnp.flip(images, axis=2 if data_format == "NHWC" else 3), images)


# --------------------------------------------------------------------------------------
# ADA (stylegan2-ada's pipeline).
# --------------------------------------------------------------------------------------


def _ada_draws(
    key: jax.Array, p: jax.Array, *, batch: int, transforms: Sequence[str]
) -> dict[str, jax.Array]:
    """The random parameters of each requested ADA transform, already gated by ``p``.

    One uniform draw (4 columns per transform) and one normal draw (2 columns per
    transform) serve the whole pipeline: two random-number ops compile much faster than
    dozens. Each transform reads its own columns (by its index in :data:`ADA_TRANSFORMS`), so
    it draws the same numbers alone or in any pipeline. An image the gate passes over gets
    the transform's identity value. The distributions are stylegan2-ada's; ``xflip``,
    ``rotate90`` and ``lumaflip``, when applied, themselves choose at random (flip or not;
    0, 90, 180 or 270 degrees), as there.
    """
    n = batch
    k_uniform, k_normal = jax.random.split(key)
    uniform = jax.random.uniform(k_uniform, (n, len(ADA_TRANSFORMS), 4))
    normal = jax.random.normal(k_normal, (n, len(ADA_TRANSFORMS), 2))
    draws: dict[str, jax.Array] = {}

    def gate(u: jax.Array, value: jax.Array, identity: float, prob: jax.Array) -> jax.Array:
        applied = (u < prob).reshape((n,) + (1,) * (value.ndim - 1))
        return jnp.where(applied, value, jnp.asarray(identity, value.dtype))

    log2_std = {
        "scale": _SCALE_STD,
        "aniso": _ANISO_STD,
        "contrast": _CONTRAST_STD,
        "saturation": _SATURATION_STD,
    }
    for name in transforms:
        column = ADA_TRANSFORMS.index(name)
        u = uniform[:, column]  # (n, 4): u[:, 0] gates, the others are values
        z = normal[:, column]  # (n, 2)
        if name in ("xflip", "lumaflip"):
            draws[name] = gate(u[:, 0], jnp.floor(u[:, 1] * 2.0), 0.0, p)
        elif name == "rotate90":
            draws[name] = gate(u[:, 0], _uniform_int(u[:, 1], 0, 4), 0, p)
        elif name == "xint":
            draws[name] = gate(u[:, 0], (u[:, 1:3] * 2.0 - 1.0) * _XINT_MAX, 0.0, p)
        elif name in log2_std:
            draws[name] = gate(u[:, 0], jnp.exp2(z[:, 0] * log2_std[name]), 1.0, p)  # lognormal
        elif name == "rotate":
            # Two rotations, before and after the anisotropic scaling, each with p_rot, so
            # that P(either) = p (stylegan2-ada): a rotated anisotropic scaling is a general
            # linear map, not only axis-aligned stretching.
            p_rot = 1.0 - jnp.sqrt(jnp.clip(1.0 - _ROTATE_MAX * p, 0.0, 1.0))
            theta = (u[:, 1:3] * 2.0 - 1.0) * (math.pi * _ROTATE_MAX)
            draws["rotate_pre"] = gate(u[:, 0], theta[:, 0], 0.0, p_rot)
            draws["rotate_post"] = gate(u[:, 3], theta[:, 1], 0.0, p_rot)
        elif name == "xfrac":
            draws[name] = gate(u[:, 0], z * _XFRAC_STD, 0.0, p)
        elif name == "brightness":
            draws[name] = gate(u[:, 0], z[:, 0] * _BRIGHTNESS_STD, 0.0, p)
        elif name == "hue":
            theta = (u[:, 1] * 2.0 - 1.0) * (math.pi * _HUE_MAX)
            draws[name] = gate(u[:, 0], theta, 0.0, p)
    return draws


def _mat3(rows: Sequence[Sequence[jax.Array | float]], n: int) -> jax.Array:
    """A (n, 3, 3) or (n, 4, 4) stack from rows of per-image arrays or constants."""
    return jnp.stack(
        [
            jnp.stack([jnp.broadcast_to(jnp.asarray(e, jnp.float32), (n,)) for e in r], -1)
            for r in rows
        ],
        -2,
    )


def _rotation2d(cos: jax.Array, sin: jax.Array, n: int) -> jax.Array:
    return _mat3([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]], n)


def _geometric_matrix(
    draws: dict[str, jax.Array], *, batch: int, height: int, width: int
) -> jax.Array:
    """The inverse transform of each image, (N, 3, 3): output pixel -> input pixel.

    Coordinates are ``(x, y, 1)`` in pixels, x along the width, relative to the image
    centre ``((width - 1) / 2, (height - 1) / 2)``, as stylegan2-ada's ``G_inv``; each
    transform multiplies its inverse on the right, in stylegan2-ada's order.
    """
    n = batch
    g = jnp.broadcast_to(jnp.eye(3, dtype=jnp.float32), (n, 3, 3))

    def then(m: jax.Array) -> None:
        nonlocal g
        g = jnp.matmul(g, m, precision=_HIGHEST)

    if "xflip" in draws:
        then(_mat3([[1.0 - 2.0 * draws["xflip"], 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], n))
    if "rotate90" in draws:
        # Exact cosines and sines of multiples of 90 degrees: a float32 cos(pi / 2) is not
        # 0, and the bilinear resampling would then blend neighbouring pixels.
        k = draws["rotate90"]
        cos = jnp.asarray([1.0, 0.0, -1.0, 0.0], jnp.float32)[k]
        sin = jnp.asarray([0.0, 1.0, 0.0, -1.0], jnp.float32)[k]
        then(_rotation2d(cos, sin, n))
    if "xint" in draws:
        # Whole pixels: the resampling at integer offsets copies values exactly.
        tx = jnp.round(draws["xint"][:, 0] * width)
        ty = jnp.round(draws["xint"][:, 1] * height)
        then(_mat3([[1.0, 0.0, -tx], [0.0, 1.0, -ty], [0.0, 0.0, 1.0]], n))
    if "scale" in draws:
        s = draws["scale"]
        then(_mat3([[1.0 / s, 0.0, 0.0], [0.0, 1.0 / s, 0.0], [0.0, 0.0, 1.0]], n))
    if "rotate_pre" in draws:
        theta = draws["rotate_pre"]
        then(_rotation2d(jnp.cos(theta), jnp.sin(theta), n))
    if "aniso" in draws:
        s = draws["aniso"]
        then(_mat3([[1.0 / s, 0.0, 0.0], [0.0, s, 0.0], [0.0, 0.0, 1.0]], n))
    if "rotate_post" in draws:
        theta = draws["rotate_post"]
        then(_rotation2d(jnp.cos(theta), jnp.sin(theta), n))
    if "xfrac" in draws:
        tx = draws["xfrac"][:, 0] * width
        ty = draws["xfrac"][:, 1] * height
        then(_mat3([[1.0, 0.0, -tx], [0.0, 1.0, -ty], [0.0, 0.0, 1.0]], n))
    return g


def _reflect(index: jax.Array, size: int) -> jax.Array:
    """Reflect integer indices into ``[0, size)`` without repeating the edge (torch 'reflect').

    Periodic with period ``2 (size - 1)``, so indices any distance outside are valid.
    """
    if size == 1:
        return jnp.zeros_like(index)
    period = 2 * (size - 1)
    index = jnp.mod(index, period)
    return jnp.where(index >= size, period - index, index)


def _resample(x: jax.Array, g_inv: jax.Array) -> jax.Array:
    """Bilinear resampling of NHWC images at ``g_inv @ (output pixel)``, reflect padding.

    Reflecting the two integer neighbours of a sample equals interpolating at the reflected
    coordinate (the reflection is linear between integers), so the padding is exact for
    any distance outside the image.
    """
    _, height, width, _ = x.shape
    cx = (width - 1) / 2.0
    cy = (height - 1) / 2.0
    xo = (jnp.arange(width, dtype=jnp.float32) - cx)[None, None, :]
    yo = (jnp.arange(height, dtype=jnp.float32) - cy)[None, :, None]
    g = g_inv[:, :, :, None, None]
    # Elementwise products and sums, not a matmul: exact at integer transforms on any device.
    col = g[:, 0, 0] * xo + g[:, 0, 1] * yo + g[:, 0, 2] + cx  # (N, H, W)
    row = g[:, 1, 0] * xo + g[:, 1, 1] * yo + g[:, 1, 2] + cy
    col0 = jnp.floor(col)
    row0 = jnp.floor(row)
    wx = (col - col0).astype(x.dtype)[..., None]
    wy = (row - row0).astype(x.dtype)[..., None]
    c0 = col0.astype(jnp.int32)
    r0 = row0.astype(jnp.int32)
    c1 = _reflect(c0 + 1, width)
    r1 = _reflect(r0 + 1, height)
    c0 = _reflect(c0, width)
    r0 = _reflect(r0, height)

    def gather(r: jax.Array, c: jax.Array) -> jax.Array:
        return jax.vmap(lambda img, rr, cc: img[rr, cc])(x, r, c)  # (N, H, W, C)

    top = gather(r0, c0) * (1 - wx) + gather(r0, c1) * wx
    bottom = gather(r1, c0) * (1 - wx) + gather(r1, c1) * wx
    return top * (1 - wy) + bottom * wy


def _colour_matrix(draws: dict[str, jax.Array], *, batch: int, channels: int) -> jax.Array:
    """Each image's homogeneous colour transform, (N, 4, 4): ``C @ (r, g, b, 1)``.

    stylegan2-ada's order (each multiplies on the left): brightness, contrast, luma flip,
    hue, saturation. Hue and saturation rotate or scale about the luma axis and are
    skipped for 1-channel images (identity on grey), as in stylegan2-ada.
    """
    n = batch
    eye = jnp.eye(4, dtype=jnp.float32)
    v = jnp.asarray(_LUMA)
    vv = jnp.outer(v, v)
    c = jnp.broadcast_to(eye, (n, 4, 4))

    def then(m: jax.Array) -> None:
        nonlocal c
        c = jnp.matmul(m, c, precision=_HIGHEST)

    if "brightness" in draws:
        b = draws["brightness"]
        then(_mat3([[1, 0, 0, b], [0, 1, 0, b], [0, 0, 1, b], [0, 0, 0, 1]], n))
    if "contrast" in draws:
        s = draws["contrast"]
        then(_mat3([[s, 0, 0, 0], [0, s, 0, 0], [0, 0, s, 0], [0, 0, 0, 1]], n))
    if "lumaflip" in draws:
        # Householder reflection through the plane orthogonal to the luma axis.
        then(eye - 2.0 * vv * draws["lumaflip"][:, None, None])
    if channels == 3 and "hue" in draws:
        # Rodrigues' rotation about the (unit) luma axis by theta:
        # I + sin(theta) [v]x + (1 - cos(theta)) [v]x^2, exactly the identity at theta = 0.
        theta = draws["hue"][:, None, None]
        then(eye + jnp.sin(theta) * _LUMA_CROSS + (1.0 - jnp.cos(theta)) * _LUMA_CROSS2)
    if channels == 3 and "saturation" in draws:
        # Keep the luma component, scale the chroma by s: I + (s - 1) (I - v v^T) on RGB,
        # written so that s = 1 is exactly the identity.
        chroma = jnp.eye(4, dtype=jnp.float32).at[3, 3].set(0.0) - vv
        then(eye + (draws["saturation"][:, None, None] - 1.0) * chroma)
    return c


def _apply_colour(x: jax.Array, c: jax.Array) -> jax.Array:
    """``C`` applied to NHWC images of 3 channels, or stylegan2-ada's grey reduction of it.

    Grey (1 channel): ``x * mean_i(sum_j C[i, j]) + mean_i(C[i, 3])`` over the RGB rows,
    the effect of ``C`` on a grey RGB pixel averaged to grey: brightness and contrast
    apply, and the luma flip negates the image.
    """
    c = c.astype(x.dtype)
    if x.shape[-1] == 3:
        linear = c[:, None, None, :3, :3]  # (N, 1, 1, out, in)
        offset = c[:, None, None, :3, 3]  # (N, 1, 1, out)
        # Broadcast products summed over the input channel, not a matmul (exact identity).
        return jnp.sum(linear * x[:, :, :, None, :], axis=-1) + offset
    gain = jnp.mean(jnp.sum(c[:, :3, :3], axis=2), axis=1)[:, None, None, None]
    offset = jnp.mean(c[:, :3, 3], axis=1)[:, None, None, None]
    return x * gain + offset


def ada_augment(
    images: jax.Array,
    key: jax.Array,
    p: jax.Array | float,
    *,
    transforms: str | Sequence[str] = ADA_DEFAULT,
    data_format: str = "NHWC",
) -> jax.Array:
    """stylegan2-ada's augmentation pipeline: each transform, each image, probability ``p``.

    Apply it to every image the discriminator sees, real and generated, with the ``p`` that
    ADA adjusts during training. ``p`` is traced: a new value never recompiles.

    Transforms (stylegan2-ada's names and default strengths; ``transforms`` selects which,
    the pipeline's order is fixed, that of :data:`ADA_TRANSFORMS`):

    - pixel blitting: ``xflip`` (left-right flip, chosen with probability 1/2 when applied),
      ``rotate90`` (0, 90, 180 or 270 degrees, uniform, when applied), ``xint`` (integer
      translation, uniform up to 0.125 of the size on each axis);
    - general geometric: ``scale`` (isotropic, lognormal, log2 std 0.2), ``rotate`` (uniform
      angle; stylegan2-ada's two rotations, before and after ``aniso``, each with
      probability ``1 - sqrt(1 - p)``), ``aniso`` (x by s and y by 1/s, lognormal, log2 std
      0.2), ``xfrac`` (translation, normal, std 0.125 of the size);
    - colour: ``brightness`` (add normal, std 0.2), ``contrast`` (scale about 0, lognormal,
      log2 std 0.5), ``lumaflip`` (reflection of the colour through the plane orthogonal to
      the luma axis, chosen with probability 1/2 when applied), ``hue`` (rotation about the
      luma axis, uniform angle), ``saturation`` (scale of the chroma, lognormal, log2 std
      1).

    So with ``p = 0`` the images come back exactly unchanged; with ``p`` = 1 an ``xflip``
    flips half the images, as in stylegan2-ada.

    The geometric transforms compose into one inverse affine matrix per image, applied once
    by **bilinear** resampling with **reflect** padding (no repeated edge), about the image
    centre. stylegan2-ada resamples with a windowed-sinc (sym6 wavelet) 2x upsampling,
    bilinear sampling and downsampling; the bilinear sampling alone is used here: simpler,
    differentiable everywhere, and exact for the pixel-blitting transforms (integer
    coordinates copy values). It blurs a little more under non-integer transforms; the ADA
    paper's leak analysis concerns which transforms are used and how large ``p`` is (below
    about 0.8), not the resampling filter. The colour transforms compose into one 4x4
    homogeneous colour matrix per image, as in stylegan2-ada.

    Images: 3 channels (RGB) or 1 channel (grey) when a colour transform is asked for; on
    grey images brightness, contrast and the luma flip (which negates) apply, hue and
    saturation are the identity (stylegan2-ada's reduction of the colour matrix). The
    geometric transforms take any number of channels.

    Args:
        images: a batch of floating images in ``[-1, 1]``.
        key: a JAX random key; each image and transform gets its own draw.
        p: the augmentation probability, a scalar in ``[0, 1]`` (a float32 array under
            ``jax.jit``, so that its changes do not recompile).
        transforms: names from :data:`ADA_TRANSFORMS`, each at most once, or one
            comma-separated string; default :data:`ADA_DEFAULT` ('bgc'). Empty: the images
            are returned unchanged.
        data_format: ``"NHWC"`` or ``"NCHW"``.

    Returns:
        The augmented images, same shape and dtype.

    Raises:
        ValueError: an unknown or repeated transform, a non-scalar ``p``, images not of
            rank 4, an unknown ``data_format``, or colour transforms on images with other
            than 1 or 3 channels.
        TypeError: non-floating images.
    """
    _check_images(images, data_format, "ada_augment")
    names = _names(transforms, ADA_TRANSFORMS, "transform", "ada_augment")
    if jnp.ndim(p) != 0:
        raise ValueError(
            f"ada_augment: p must be a scalar probability, got shape {jnp.shape(p)}; "
            "pass one value for the whole batch (e.g. jnp.float32(0.2))"
        )
    x, dtype = _to_nhwc(images, data_format)
    batch, height, width, channels = x.shape
    colour = [name for name in names if name in _COLOUR]
    if colour and channels not in (1, 3):
        raise ValueError(
            f"ada_augment: the colour transforms {colour} need RGB (3 channels) or grey "
            f"(1 channel) images, got {channels} channels; leave them out of transforms "
            "for other images"
        )
    if not names:
        return images
    draws = _ada_draws(key, jnp.asarray(p, jnp.float32), batch=batch, transforms=names)
    if any(name in _GEOMETRIC for name in names):
        g_inv = _geometric_matrix(draws, batch=batch, height=height, width=width)
        x = _resample(x, g_inv)
    if colour:
        x = _apply_colour(x, _colour_matrix(draws, batch=batch, channels=channels))
    return _from_nhwc(x, dtype, data_format)


#: What :class:`Augment` can apply to the discriminator's images.
AUGMENT_KINDS: tuple[str, ...] = ("none", "diffaugment", "ada")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Augment:
    """The augmentation a run applies: static, hashable data the training rules carry.

    The compiled step calls its methods while tracing; ``p`` and the ADA statistics are
    arrays of the training state (``init_state``, ``adjust``), so adapting ``p`` never
    recompiles and a resumed run continues with the ``p`` it had.

    Attributes:
        kind: ``"none"``, ``"diffaugment"`` (always applied) or ``"ada"`` (each transform
            with probability ``p``).
        policy: DiffAugment's policies.
        transforms: ADA's transforms.
        xflip: Mirror each real image with probability 0.5 before anything else (the
            dataset x-flip of stylegan2-ada's ``--mirror``; the generator learns the
            mirrored images too, so use it only for data symmetric under it).
        p: ADA's initial (or, without ``target``, fixed) probability.
        target: ADA's target for ``r_t = E[sign(D(augmented real))]``; None keeps ``p``
            fixed.
        speed_images: ADA's speed: images for ``p`` to move from 0 to 1 (stylegan2-ada:
            500k).
        interval: Iterations between two adjustments of ``p`` (stylegan2-ada: 4).
        data_format: The images' layout.
    """

    kind: str = "none"
    policy: tuple[str, ...] = DIFF_AUGMENT_DEFAULT
    transforms: tuple[str, ...] = ADA_DEFAULT
    xflip: bool = False
    p: float = 0.0
    target: float | None = 0.6
    speed_images: int = 500_000
    interval: int = 4
    data_format: str = "NHWC"

    def __post_init__(self) -> None:
        if self.kind not in AUGMENT_KINDS:
            raise ValueError(
                f"Augment.kind={self.kind!r}: expected one of {', '.join(AUGMENT_KINDS)}"
            )
        if self.data_format not in DATA_FORMATS:
            raise ValueError(
                f"Augment.data_format={self.data_format!r}: expected one of "
                f"{', '.join(DATA_FORMATS)}"
            )
        _names(self.policy, DIFF_AUGMENT_POLICIES, "policy", "Augment")
        _names(self.transforms, ADA_TRANSFORMS, "transforms", "Augment")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"Augment.p={self.p}: a probability, expected 0 <= p <= 1")
        if self.target is not None and not 0.0 < self.target < 1.0:
            raise ValueError(
                f"Augment.target={self.target}: E[sign(D(real))] lies in (-1, 1); stylegan2-"
                "ada's 0.6 is a good start (None keeps p fixed)"
            )
        if self.speed_images < 1 or self.interval < 1:
            raise ValueError(
                f"Augment.speed_images={self.speed_images}, interval={self.interval}: "
                "both must be >= 1"
            )

    @property
    def active(self) -> bool:
        """Whether anything is applied."""
        return self.kind != "none" or self.xflip

    @property
    def stateful(self) -> bool:
        """Whether the training state holds ``p`` (ADA, adaptive or fixed)."""
        return self.kind == "ada"

    @property
    def adaptive(self) -> bool:
        """Whether ``p`` follows the overfitting heuristic."""
        return self.kind == "ada" and self.target is not None

    def init_state(self) -> dict[str, jax.Array]:
        """The arrays of the training state: ``p``, and the sums of ``sign(D(real))``."""
        return {
            "p": jnp.asarray(self.p, jnp.float32),
            "sign_sum": jnp.zeros((), jnp.float32),
            "sign_count": jnp.zeros((), jnp.int32),
        }

    def real(self, images: jax.Array, key: jax.Array) -> jax.Array:
        """The real images as the data gives them to the discriminator (x-flip)."""
        return mirror(images, key, data_format=self.data_format) if self.xflip else images

    def view(self, images: jax.Array, key: jax.Array, p: jax.Array | None) -> jax.Array:
        """``images`` as the discriminator sees them (real and generated alike)."""
        if self.kind == "diffaugment":
            return diff_augment(images, key, policy=self.policy, data_format=self.data_format)
        if self.kind == "ada":
            if p is None:
                raise ValueError(
                    "ADA needs its probability p from the training state; the seed API "
                    "(loss_fn) does not augment"
                )
            return ada_augment(
                images, key, p, transforms=self.transforms, data_format=self.data_format
            )
        return images

    def adjust(
        self, state: dict[str, jax.Array], real_sign: jax.Array, images: int
    ) -> dict[str, jax.Array]:
        """ADA's controller after one discriminator update of ``images`` real images.

        Every ``interval`` updates, ``p`` moves by ``images * interval / speed_images``
        toward more augmentation when ``E[sign(D(real))]`` exceeds ``target`` (the
        discriminator is overconfident on the reals: overfitting) and toward less
        otherwise, clipped to ``[0, 1]`` (stylegan2-ada clips at 0 only; p > 1 means
        nothing more).
        """
        if not self.adaptive:
            return state
        assert self.target is not None
        total = state["sign_sum"] + real_sign.astype(jnp.float32)
        count = state["sign_count"] + 1
        due = count >= self.interval
        step = images * self.interval / self.speed_images
        moved = jnp.clip(state["p"] + jnp.sign(total / count - self.target) * step, 0.0, 1.0)
        return {
            "p": jnp.where(due, moved, state["p"]),
            "sign_sum": jnp.where(due, 0.0, total),
            "sign_count": jnp.where(due, 0, count),
        }
