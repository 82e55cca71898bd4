"""The augmentations of ``models.gan.augment`` against NumPy/SciPy formulas of their own.

Each reference takes the random parameters the module draws (its ``_*_draws`` helpers,
called with the same key) and applies an independent NumPy formula: loops in the manner of
the official DiffAugment code, ``np.pad``/``np.rot90``/``np.flip`` for the pixel blitting,
``scipy.ndimage.map_coordinates(order=1, mode="mirror")`` for the bilinear resampling with
reflect padding, ``scipy.spatial.transform.Rotation`` for the hue rotation.

Speed: every jitted function is compiled once per module (fixtures of module scope compute
all the transforms of a kind in one jit).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial.transform import Rotation

from artifex.generative_models.models.gan import augment
from artifex.generative_models.models.gan.augment import (
    ADA_DEFAULT,
    ADA_TRANSFORMS,
    ada_augment,
    diff_augment,
    mirror,
)

# Keys carry their implementation; the module fixtures run outside the per-test PRNG scope.
IMPL = "rbg"


def key(seed: int) -> jax.Array:
    return jax.random.key(seed, impl=IMPL)


def images(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype(np.float32)


def to_np(tree: Any) -> Any:
    return jax.tree.map(np.asarray, tree)


# --------------------------------------------------------------------------------------
# DiffAugment.
# --------------------------------------------------------------------------------------

DIFF_SHAPE = (48, 8, 12, 3)  # non-square: catches height/width mix-ups


@pytest.fixture(scope="module")
def diff_results() -> dict[str, Any]:
    rgb = images(0, DIFF_SHAPE)
    grey = images(1, (*DIFF_SHAPE[:3], 1))
    k = key(7)
    _, height, width, _ = DIFF_SHAPE

    @jax.jit
    def run(rgb: jax.Array, grey: jax.Array, k: jax.Array) -> dict[str, Any]:
        draws = augment._diff_augment_draws(
            k, batch=DIFF_SHAPE[0], height=height, width=width, policy=augment.DIFF_AUGMENT_DEFAULT
        )
        out = {name: diff_augment(rgb, k, policy=(name,)) for name in augment.DIFF_AUGMENT_POLICIES}
        out["grey_color"] = diff_augment(grey, k, policy=("color",))
        out["all"] = diff_augment(rgb, k)
        out["all_string"] = diff_augment(rgb, k, policy="color, translation,cutout")
        out["translation_cutout"] = diff_augment(rgb, k, policy=("translation", "cutout"))
        out["empty"] = diff_augment(rgb, k, policy=())
        return {"draws": draws, "out": out}

    result = to_np(run(rgb, grey, k))
    result.update(rgb=rgb, grey=grey)
    return result


def ref_color(x: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
    x = x.astype(np.float64)
    b, s, c = (d[n][:, None, None, None] for n in ("brightness", "saturation", "contrast"))
    x = x + b
    pixel_mean = x.mean(axis=3, keepdims=True)
    x = (x - pixel_mean) * s + pixel_mean
    image_mean = x.mean(axis=(1, 2, 3), keepdims=True)
    return (x - image_mean) * c + image_mean


def ref_translation(x: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
    # The official code: pad by one zero pixel, gather at clamp(i + shift + 1, 0, size + 1).
    n, height, width, _ = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    out = np.empty_like(x)
    for b in range(n):
        for i in range(height):
            for j in range(width):
                r = min(max(i + int(d["shift_h"][b]) + 1, 0), height + 1)
                c = min(max(j + int(d["shift_w"][b]) + 1, 0), width + 1)
                out[b, i, j] = padded[b, r, c]
    return out


def ref_cutout(x: np.ndarray, d: dict[str, np.ndarray]) -> np.ndarray:
    # The official code: zero the mask at clamped grid indices around the offset.
    n, height, width, _ = x.shape
    size_h, size_w = int(height * 0.5 + 0.5), int(width * 0.5 + 0.5)
    mask = np.ones((n, height, width), np.float32)
    for b in range(n):
        for a in range(size_h):
            for c in range(size_w):
                r = min(max(a + int(d["cutout_h"][b]) - size_h // 2, 0), height - 1)
                cc = min(max(c + int(d["cutout_w"][b]) - size_w // 2, 0), width - 1)
                mask[b, r, cc] = 0.0
    return x * mask[..., None]


def test_diff_augment_draws_follow_the_official_ranges(diff_results: dict[str, Any]) -> None:
    d = diff_results["draws"]
    # 48 images: every integer value of the small ranges occurs (a miss has odds < 1e-5).
    assert set(np.unique(d["shift_h"])) == {-1, 0, 1}  # int(8 / 8 + 0.5) = 1
    assert set(np.unique(d["shift_w"])) == {-2, -1, 0, 1, 2}  # int(12 / 8 + 0.5) = 2
    assert d["cutout_h"].min() >= 0 and d["cutout_h"].max() <= 8  # size 4 (even): [0, 9)
    assert d["cutout_w"].min() >= 0 and d["cutout_w"].max() <= 12  # size 6 (even): [0, 13)
    assert np.all((d["brightness"] >= -0.5) & (d["brightness"] < 0.5))
    assert np.all((d["saturation"] >= 0.0) & (d["saturation"] < 2.0))
    assert np.all((d["contrast"] >= 0.5) & (d["contrast"] < 1.5))
    assert np.ptp(d["brightness"]) > 0.5  # per-image draws, not one per batch


def test_diff_augment_color_matches_numpy(diff_results: dict[str, Any]) -> None:
    out, d = diff_results["out"], diff_results["draws"]
    np.testing.assert_allclose(out["color"], ref_color(diff_results["rgb"], d), atol=2e-6)


def test_diff_augment_color_on_grey_is_brightness_then_contrast(
    diff_results: dict[str, Any],
) -> None:
    out, d, grey = diff_results["out"], diff_results["draws"], diff_results["grey"]
    np.testing.assert_allclose(out["grey_color"], ref_color(grey, d), atol=2e-6)
    # Saturation is the identity on one channel: the same without it.
    no_saturation = dict(d, saturation=np.ones_like(d["saturation"]))
    np.testing.assert_allclose(out["grey_color"], ref_color(grey, no_saturation), atol=2e-6)


def test_diff_augment_translation_matches_the_official_gather(
    diff_results: dict[str, Any],
) -> None:
    out, d, rgb = diff_results["out"], diff_results["draws"], diff_results["rgb"]
    np.testing.assert_array_equal(out["translation"], ref_translation(rgb, d))


def test_diff_augment_cutout_matches_the_official_mask(diff_results: dict[str, Any]) -> None:
    out, d, rgb = diff_results["out"], diff_results["draws"], diff_results["rgb"]
    expected = ref_cutout(rgb, d)
    np.testing.assert_array_equal(out["cutout"], expected)
    # Some rectangles lie partly outside: fewer than 4 x 6 pixels are zeroed there.
    zeroed = (expected[..., 0] == 0).sum(axis=(1, 2))
    assert zeroed.max() == 24 and zeroed.min() < 24


def test_diff_augment_policies_compose_in_order(diff_results: dict[str, Any]) -> None:
    out, d, rgb = diff_results["out"], diff_results["draws"], diff_results["rgb"]
    expected = ref_cutout(ref_translation(ref_color(rgb, d).astype(np.float32), d), d)
    np.testing.assert_allclose(out["all"], expected, atol=2e-6)
    np.testing.assert_array_equal(out["all_string"], out["all"])
    np.testing.assert_array_equal(out["translation_cutout"], ref_cutout(ref_translation(rgb, d), d))
    np.testing.assert_array_equal(out["empty"], rgb)


# --------------------------------------------------------------------------------------
# ADA: each transform alone at p = 1.
# --------------------------------------------------------------------------------------

ADA_SHAPE = (16, 8, 12, 3)  # non-square
SQUARE_SHAPE = (16, 8, 8, 3)


@pytest.fixture(scope="module")
def ada_results() -> dict[str, Any]:
    rgb = images(2, ADA_SHAPE)
    grey = images(3, (*ADA_SHAPE[:3], 1))
    square = images(4, SQUARE_SHAPE)
    k = key(11)
    one = jnp.float32(1.0)

    @jax.jit
    def run(rgb: jax.Array, grey: jax.Array, square: jax.Array, k: jax.Array, p: jax.Array) -> Any:
        draws = augment._ada_draws(k, p, batch=ADA_SHAPE[0], transforms=ADA_TRANSFORMS)
        rgb_out = {name: ada_augment(rgb, k, p, transforms=(name,)) for name in ADA_TRANSFORMS}
        grey_out = {
            name: ada_augment(grey, k, p, transforms=(name,)) for name in ADA_TRANSFORMS[7:]
        }
        return {
            "draws": draws,
            "rgb": rgb_out,
            "grey": grey_out,
            "square_rotate90": ada_augment(square, k, p, transforms="rotate90"),
            "bgc": ada_augment(rgb, k, p),
            "bgc_grey": ada_augment(grey, k, p),
        }

    result = to_np(run(rgb, grey, square, k, one))
    result.update(rgb_in=rgb, grey_in=grey, square_in=square)
    return result


def rotation(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def translation(tx: float, ty: float) -> np.ndarray:
    return np.array([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def diag(sx: float, sy: float) -> np.ndarray:
    return np.diag([sx, sy, 1.0])


def inverse_matrix(name: str, d: dict[str, np.ndarray], b: int, height: int, width: int) -> Any:
    """Output pixel -> input pixel of one transform, in pixels about the centre (float64)."""
    if name == "xflip":
        return diag(-1.0 if d["xflip"][b] else 1.0, 1.0)
    if name == "rotate90":
        return rotation(np.pi / 2 * int(d["rotate90"][b]))
    if name == "xint":
        tx, ty = np.round(d["xint"][b, 0] * width), np.round(d["xint"][b, 1] * height)
        return translation(-tx, -ty)
    if name == "scale":
        return diag(1 / d["scale"][b], 1 / d["scale"][b])
    if name == "rotate":
        # Two rotations without the aniso between them: one by the sum of the angles.
        return rotation(float(d["rotate_pre"][b]) + float(d["rotate_post"][b]))
    if name == "aniso":
        return diag(1 / d["aniso"][b], d["aniso"][b])
    assert name == "xfrac"
    return translation(-d["xfrac"][b, 0] * width, -d["xfrac"][b, 1] * height)


def bgc_inverse_matrix(d: dict[str, np.ndarray], b: int, height: int, width: int) -> Any:
    m = np.eye(3)
    for name in ("xflip", "rotate90", "xint", "scale"):
        m = m @ inverse_matrix(name, d, b, height, width)
    m = m @ rotation(float(d["rotate_pre"][b])) @ inverse_matrix("aniso", d, b, height, width)
    m = m @ rotation(float(d["rotate_post"][b])) @ inverse_matrix("xfrac", d, b, height, width)
    return m


def source_coordinates(m: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    cx, cy = (width - 1) / 2, (height - 1) / 2
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    out = np.stack([cols - cx, rows - cy, np.ones_like(rows, float)]).reshape(3, -1)
    src = m @ out
    return (src[1] + cy).reshape(height, width), (src[0] + cx).reshape(height, width)


def scipy_resample(image: np.ndarray, m: np.ndarray) -> np.ndarray:
    height, width, channels = image.shape
    rows, cols = source_coordinates(m, height, width)
    return np.stack(
        [
            ndimage.map_coordinates(
                image[..., c].astype(np.float64), [rows, cols], order=1, mode="mirror"
            )
            for c in range(channels)
        ],
        axis=-1,
    )


GEOMETRIC = ADA_TRANSFORMS[:7]
COLOUR = ADA_TRANSFORMS[7:]


@pytest.mark.parametrize("name", GEOMETRIC)
def test_ada_geometric_transform_matches_scipy_bilinear_mirror(
    ada_results: dict[str, Any], name: str
) -> None:
    d, x, out = ada_results["draws"], ada_results["rgb_in"], ada_results["rgb"][name]
    _, height, width, _ = ADA_SHAPE
    for b in range(ADA_SHAPE[0]):
        expected = scipy_resample(x[b], inverse_matrix(name, d, b, height, width))
        np.testing.assert_allclose(out[b], expected, atol=2e-5, err_msg=f"{name}, image {b}")


def reflect_pad_shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``out[i, j] = image[i - dy, j - dx]``, reflected (no repeated edge) where outside."""
    height, width, _ = image.shape
    pad = max(height, width)
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="reflect")
    return padded[pad - dy : pad - dy + height, pad - dx : pad - dx + width]


def test_ada_pixel_blitting_is_exact(ada_results: dict[str, Any]) -> None:
    d, x, out = ada_results["draws"], ada_results["rgb_in"], ada_results["rgb"]
    _, height, width, _ = ADA_SHAPE
    for b in range(ADA_SHAPE[0]):
        flipped = x[b, :, ::-1] if d["xflip"][b] else x[b]
        np.testing.assert_array_equal(out["xflip"][b], flipped)
        dx = int(np.round(d["xint"][b, 0] * width))
        dy = int(np.round(d["xint"][b, 1] * height))
        np.testing.assert_array_equal(out["xint"][b], reflect_pad_shift(x[b], dy, dx))
    # Multiples of 90 degrees on square images: np.rot90 by as many quarter turns.
    sq, sq_out = ada_results["square_in"], ada_results["square_rotate90"]
    for b in range(SQUARE_SHAPE[0]):
        turns = int(d["rotate90"][b])
        np.testing.assert_array_equal(sq_out[b], np.rot90(sq[b], k=turns, axes=(0, 1)))
    # Every draw of the small sets occurs (16 images; a miss has odds below 1e-2 each).
    assert set(np.unique(d["rotate90"])) == {0, 1, 2, 3}
    assert set(np.unique(d["xflip"])) == {0.0, 1.0}


def ref_colour(x: np.ndarray, name: str, d: dict[str, np.ndarray]) -> np.ndarray:
    x = x.astype(np.float64)
    out = np.empty_like(x)
    luma = np.ones(3) / np.sqrt(3.0)
    for b in range(x.shape[0]):
        img = x[b]
        if name == "brightness":
            out[b] = img + d["brightness"][b]
        elif name == "contrast":
            out[b] = img * d["contrast"][b]
        elif x.shape[-1] == 1:  # grey: the luma flip negates, hue and saturation keep
            out[b] = -img if (name == "lumaflip" and d["lumaflip"][b]) else img
        elif name == "lumaflip":
            along = img @ luma
            out[b] = img - 2.0 * d["lumaflip"][b] * along[..., None] * luma
        elif name == "hue":
            r = Rotation.from_rotvec(float(d["hue"][b]) * luma).as_matrix()
            out[b] = img @ r.T
        else:
            assert name == "saturation"
            grey = img.mean(axis=-1, keepdims=True)
            out[b] = grey + d["saturation"][b] * (img - grey)
    return out


@pytest.mark.parametrize("name", COLOUR)
def test_ada_colour_transform_matches_numpy(ada_results: dict[str, Any], name: str) -> None:
    d = ada_results["draws"]
    np.testing.assert_allclose(
        ada_results["rgb"][name], ref_colour(ada_results["rgb_in"], name, d), atol=2e-6
    )
    grey_expected = ref_colour(ada_results["grey_in"], name, d)
    np.testing.assert_allclose(ada_results["grey"][name], grey_expected, atol=2e-6)
    if name in ("hue", "saturation"):
        np.testing.assert_array_equal(ada_results["grey"][name], ada_results["grey_in"])


def test_ada_bgc_pipeline_matches_numpy_composition(ada_results: dict[str, Any]) -> None:
    d = ada_results["draws"]
    _, height, width, _ = ADA_SHAPE
    for key_in, key_out in (("rgb_in", "bgc"), ("grey_in", "bgc_grey")):
        x = ada_results[key_in]
        moved = np.stack(
            [scipy_resample(x[b], bgc_inverse_matrix(d, b, height, width)) for b in range(len(x))]
        )
        for name in COLOUR:  # stylegan2-ada's colour order
            moved = ref_colour(moved, name, d)
        np.testing.assert_allclose(ada_results[key_out], moved, atol=5e-5)


def non_identity(name: str, d: dict[str, np.ndarray]) -> np.ndarray:
    """Which images the transform's drawn parameters change."""
    if name == "xint":
        return (np.round(d["xint"][:, 0] * ADA_SHAPE[2]) != 0) | (
            np.round(d["xint"][:, 1] * ADA_SHAPE[1]) != 0
        )
    if name == "rotate":
        return (d["rotate_pre"] != 0) | (d["rotate_post"] != 0)
    identity = 1.0 if name in ("scale", "aniso", "contrast", "saturation") else 0.0
    values = d[name].reshape(len(d[name]), -1)
    return np.any(values != identity, axis=1)


@pytest.mark.parametrize("name", ADA_TRANSFORMS)
def test_ada_at_p1_changes_exactly_the_images_with_non_identity_draws(
    ada_results: dict[str, Any], name: str
) -> None:
    d = ada_results["draws"]
    changed = np.any(ada_results["rgb"][name] != ada_results["rgb_in"], axis=(1, 2, 3))
    expected = non_identity(name, d)
    np.testing.assert_array_equal(changed, expected)
    # At p = 1 the continuous transforms change every image, the others a part.
    minimum = {"xflip": 3, "lumaflip": 3, "rotate90": 8, "xint": 8}.get(name, ADA_SHAPE[0])
    assert expected.sum() >= minimum


# --------------------------------------------------------------------------------------
# ADA: the probability p.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [3, 1])
def test_ada_p_is_traced_and_p0_is_the_exact_identity(channels: int) -> None:
    traces: list[int] = []

    @jax.jit
    def run(x: jax.Array, k: jax.Array, p: jax.Array) -> jax.Array:
        traces.append(1)  # a Python side effect: runs once per trace
        return ada_augment(x, k, p)

    x = jnp.asarray(images(5, (8, 8, 12, channels)))
    same = run(x, key(0), jnp.float32(0.0))
    changed = run(x, key(0), jnp.float32(1.0))
    halfway = run(x, key(0), jnp.float32(0.5))
    assert len(traces) == 1
    np.testing.assert_array_equal(np.asarray(same), np.asarray(x))
    assert np.all(np.any(np.asarray(changed) != np.asarray(x), axis=(1, 2, 3)))
    assert not np.array_equal(np.asarray(halfway), np.asarray(changed))


def test_ada_fraction_of_changed_images_follows_p() -> None:
    n = 4000
    x = jnp.asarray(images(6, (n, 2, 2, 1)))

    @jax.jit
    def run(x: jax.Array, k: jax.Array, p: jax.Array) -> tuple[jax.Array, ...]:
        return (
            ada_augment(x, k, p, transforms=("brightness",)),
            ada_augment(x, k, p, transforms=("xflip",)),
            ada_augment(x, k, p, transforms=("rotate",)),
        )

    bright, flipped, rotated = (np.asarray(a) for a in run(x, key(3), jnp.float32(0.5)))
    changed = np.mean(np.any(bright != np.asarray(x), axis=(1, 2, 3)))
    assert abs(changed - 0.5) < 0.04  # binomial std 0.008
    # An applied xflip flips with probability 1/2 (stylegan2-ada): p / 2 of the images.
    flips = np.mean(np.any(flipped != np.asarray(x), axis=(1, 2, 3)))
    assert abs(flips - 0.25) < 0.04
    # Two rotations (before and after aniso), each with 1 - sqrt(1 - p): P(either) = p.
    turned = np.mean(np.any(rotated != np.asarray(x), axis=(1, 2, 3)))
    assert abs(turned - 0.5) < 0.04


# --------------------------------------------------------------------------------------
# Mirror, gradients, layouts, dtypes, errors.
# --------------------------------------------------------------------------------------


def test_mirror_flips_about_half_the_images_left_right() -> None:
    x = images(8, (200, 4, 6, 1))
    out = np.asarray(jax.jit(mirror)(jnp.asarray(x), key(4)))
    flipped = np.all(out == x[:, :, ::-1], axis=(1, 2, 3))
    kept = np.all(out == x, axis=(1, 2, 3))
    assert np.all(flipped ^ kept)
    assert 0.4 < flipped.mean() < 0.6


def test_gradients_flow_through_every_augmentation() -> None:
    x = jnp.asarray(images(9, (4, 8, 8, 3)))
    weights = jnp.asarray(images(10, (4, 8, 8, 3)))
    k = key(5)

    def weighted(fn: Any) -> Any:
        return jax.grad(lambda x: jnp.sum(weights * fn(x)))

    grads = jax.jit(
        lambda x: (
            weighted(lambda x: ada_augment(x, k, jnp.float32(1.0)))(x),
            weighted(lambda x: diff_augment(x, k))(x),
            weighted(lambda x: mirror(x, k))(x),
        )
    )(x)
    for name, g in zip(("ada_augment", "diff_augment", "mirror"), grads, strict=True):
        g = np.asarray(g)
        assert np.all(np.isfinite(g)), name
        assert np.all(np.any(g != 0, axis=(1, 2, 3))), name  # every image has a gradient


def test_nchw_is_the_transposed_nhwc_result() -> None:
    x = jnp.asarray(images(12, (6, 8, 12, 3)))
    xt = jnp.transpose(x, (0, 3, 1, 2))
    k = key(6)

    @jax.jit
    def run(x: jax.Array, xt: jax.Array) -> Any:
        p = jnp.float32(0.7)
        return [
            (ada_augment(x, k, p), ada_augment(xt, k, p, data_format="NCHW")),
            (diff_augment(x, k), diff_augment(xt, k, data_format="NCHW")),
            (mirror(x, k), mirror(xt, k, data_format="NCHW")),
        ]

    for name, (nhwc, nchw) in zip(("ada", "diff", "mirror"), run(x, xt), strict=True):
        assert nchw.shape == xt.shape
        expected = np.asarray(jnp.transpose(nhwc, (0, 3, 1, 2)))
        # DiffAugment's contrast takes an image mean, which XLA may sum in another order
        # in the other layout (seen: 1 ulp); the other two are exact.
        atol = 1e-6 if name == "diff" else 0.0
        np.testing.assert_allclose(np.asarray(nchw), expected, rtol=0, atol=atol, err_msg=name)


def test_bf16_in_bf16_out() -> None:
    x = jnp.asarray(images(13, (4, 8, 8, 3))).astype(jnp.bfloat16)
    k = key(7)
    outs = jax.jit(
        lambda x: (ada_augment(x, k, jnp.float32(1.0)), diff_augment(x, k), mirror(x, k))
    )(x)
    for out in outs:
        assert out.dtype == jnp.bfloat16
        assert out.shape == x.shape
        assert np.all(np.isfinite(np.asarray(out, np.float32)))


def test_default_is_stylegan2_ada_bgc() -> None:
    assert ADA_DEFAULT == ADA_TRANSFORMS
    assert ADA_TRANSFORMS == (
        "xflip",
        "rotate90",
        "xint",
        "scale",
        "rotate",
        "aniso",
        "xfrac",
        "brightness",
        "contrast",
        "lumaflip",
        "hue",
        "saturation",
    )


X = np.zeros((2, 4, 4, 3), np.float32)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: diff_augment(X, key(0), policy=("color", "flip")), ValueError,
         r"unknown policy \['flip'\]; the known ones are \['color', 'translation'"),
        (lambda: diff_augment(X, key(0), policy="color,color"), ValueError,
         r"\['color'\] are given more than once"),
        (lambda: ada_augment(X, key(0), 0.5, transforms=("xflip", "noise")), ValueError,
         r"unknown transform \['noise'\]; the known ones are \['xflip', 'rotate90'"),
        (lambda: ada_augment(X[0], key(0), 0.5), ValueError,
         r"rank 4 \(NHWC\), got rank 3 with shape \(4, 4, 3\)"),
        (lambda: mirror(X, key(0), data_format="CHW"), ValueError,
         r"data_format must be one of \('NHWC', 'NCHW'\), got 'CHW'"),
        (lambda: diff_augment(X, key(0), data_format="nhwc"), ValueError,
         r"got 'nhwc'"),
        (lambda: ada_augment(X, key(0), jnp.ones(2)), ValueError,
         r"p must be a scalar probability, got shape \(2,\)"),
        (lambda: ada_augment(X[..., :2], key(0), 0.5), ValueError,
         r"colour transforms \['brightness'.*got 2 channels"),
        (lambda: diff_augment(X.astype(np.uint8), key(0)), TypeError,
         r"floating array scaled to \[-1, 1\], got dtype uint8"),
    ],
)  # fmt: skip
def test_errors_name_what_was_expected(call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_errors_raise_while_tracing_before_compilation() -> None:
    traced = jax.jit(lambda x, k: ada_augment(x, k, 0.5, transforms=("warp",)))
    with pytest.raises(ValueError, match=r"unknown transform \['warp'\]"):
        traced(X, key(0))


def test_geometric_transforms_take_any_number_of_channels() -> None:
    x = jnp.asarray(images(14, (4, 8, 8, 2)))
    geometric = ADA_TRANSFORMS[:7]
    run = jax.jit(lambda x: ada_augment(x, key(1), jnp.float32(1.0), transforms=geometric))
    both, first = run(x), run(x[..., :1])
    # Each channel moves alike: the first channel of the 2-channel result is the 1-channel
    # one (up to float32 rounding: XLA fuses the two shapes differently).
    np.testing.assert_allclose(np.asarray(both[..., :1]), np.asarray(first), rtol=0, atol=1e-6)
    assert not np.array_equal(np.asarray(both), np.asarray(x))
