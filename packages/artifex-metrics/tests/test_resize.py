"""Resize modes against the libraries they reproduce: PIL (clean-fid's ``clean``) and bilinear.

PIL, PyTorch and clean-fid are not dependencies of artifex-metrics; these comparisons skip
where they are missing. Max abs differences recorded on this machine (values in [0, 255],
the seven shapes of ``SHAPES``, Pillow 13.0, torch 2.14.1, clean-fid 0.1.35 installed with
``pip install --no-deps --target``): ``clean`` vs clean-fid's own
``make_resizer("PIL", False, "bicubic", (299, 299))`` 1.5e-5 (one float32 ulp at 255);
``legacy_pytorch`` vs clean-fid's ``make_resizer("PyTorch", False, "bilinear", ...)`` /
``F.interpolate`` 6.8e-3 at 1024x768 (2.7e-5 relative: PyTorch interpolates in float32),
vs ``jax.image.resize`` bilinear 1.7e-2.
"""

import jax
import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics._resize import (
    as_rgb_uint8,
    pil_bicubic_weights,
    resize_image,
    to_extractor_range,
)

SHAPES = [(64, 48), (256, 256), (500, 333), (299, 299), (32, 32), (7, 300), (1024, 768)]


def clean_fid_pil_resizer(output_size=(299, 299)):
    """clean-fid's ``make_resizer("PIL", False, "bicubic", output_size)`` (cleanfid/resize.py).

    Transcribed because clean-fid imports torch at module level; ``Image.fromarray(..., mode="F")``
    becomes ``Image.fromarray(float32 array)``, which gives mode ``F`` in every Pillow.
    """
    image_module = pytest.importorskip("PIL.Image")
    s1, s2 = output_size

    def resize_single_channel(x_np):
        img = image_module.fromarray(x_np.astype(np.float32))
        assert img.mode == "F"
        img = img.resize(output_size, resample=image_module.BICUBIC)
        return np.asarray(img).clip(0, 255).reshape(s2, s1, 1)

    def func(x):
        x = [resize_single_channel(x[:, :, idx]) for idx in range(3)]
        return np.concatenate(x, axis=2).astype(np.float32)

    return func


def random_image(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(*shape, 3), dtype=np.uint8)


@pytest.mark.parametrize("shape", SHAPES)
def test_clean_equals_clean_fid_pil_resizer(shape):
    reference = clean_fid_pil_resizer()
    image = random_image(shape)
    ours = resize_image(image, "clean")
    theirs = reference(image)
    assert ours.shape == theirs.shape == (299, 299, 3) and ours.dtype == np.float32
    # One float32 ulp at 255 is 1.5e-5; PIL sums in another order.
    assert np.abs(ours - theirs).max() <= 1e-4


def test_clean_equals_real_clean_fid_when_installed():
    resize = pytest.importorskip("cleanfid.resize")
    image = random_image((200, 150), seed=3)
    theirs = resize.make_resizer("PIL", False, "bicubic", (299, 299))(image)
    assert np.abs(resize_image(image, "clean") - theirs).max() <= 1e-4
    legacy = resize.make_resizer("PyTorch", False, "bilinear", (299, 299))(image)
    assert np.abs(resize_image(image, "legacy_pytorch") - legacy).max() <= 1e-2


def test_clean_antialiases_and_legacy_aliases():
    # A one-pixel checkerboard downscaled 3x: antialiasing averages it to grey; bilinear
    # sampling without it lands on pixel centres (3i + 1) and keeps the full contrast.
    board = ((np.indices((897, 897)).sum(0) % 2) * 255).astype(np.uint8)
    clean = resize_image(board, "clean")
    legacy = resize_image(board, "legacy_pytorch")
    assert clean[8:-8, 8:-8].std() < 1.0
    assert legacy[8:-8, 8:-8].std() > 50.0


@pytest.mark.parametrize("shape", [(64, 48), (500, 333), (17, 299)])
def test_legacy_pytorch_equals_jax_bilinear_without_antialias(shape):
    """``jax.image.resize(..., antialias=False)`` is what the InceptionV3 itself uses."""
    image = random_image(shape, seed=1)
    ours = resize_image(image, "legacy_pytorch")
    theirs = jax.image.resize(image.astype(np.float32), (299, 299, 3), "bilinear", antialias=False)
    # jax builds its kernel differently in float32: 0.02 of 255 at most.
    assert np.abs(ours - np.clip(np.asarray(theirs), 0, 255)).max() <= 0.05


def test_legacy_pytorch_equals_torch_when_installed():
    torch = pytest.importorskip("torch")
    image = random_image((200, 150), seed=4)
    x = torch.Tensor(image.transpose((2, 0, 1)))[None]
    theirs = torch.nn.functional.interpolate(x, size=(299, 299), mode="bilinear")
    theirs = theirs[0].numpy().transpose((1, 2, 0)).clip(0, 255)
    # PyTorch interpolates in float32; we sum float64 weights: 2.7e-5 of 255 at most.
    assert np.abs(resize_image(image, "legacy_pytorch") - theirs).max() <= 1e-2


def test_weights_rows_sum_to_one_and_identity_at_same_size():
    for n_in, n_out in ((500, 299), (64, 299), (299, 299)):
        np.testing.assert_allclose(pil_bicubic_weights(n_in, n_out).sum(1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(pil_bicubic_weights(299, 299), np.eye(299))


def test_channels_grey_repeated_alpha_dropped():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(as_rgb_uint8(grey), np.repeat(grey[:, :, None], 3, 2))
    rgba = random_image((5, 6))
    rgba = np.concatenate([rgba, np.zeros((5, 6, 1), np.uint8)], axis=2)
    np.testing.assert_array_equal(as_rgb_uint8(rgba), rgba[:, :, :3])
    grey_alpha = np.stack([grey, grey * 0], axis=2)
    np.testing.assert_array_equal(as_rgb_uint8(grey_alpha), as_rgb_uint8(grey))


@pytest.mark.parametrize(
    ("image", "error", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), TypeError, "uint8"),
        (np.zeros((3, 32, 32), np.uint8), ValueError, "channels-first"),
        (np.zeros((4, 4, 5), np.uint8), ValueError, r"got shape \(4, 4, 5\)"),
        (np.zeros((4,), np.uint8), ValueError, "got shape"),
    ],
)
def test_bad_images_are_refused(image, error, message):
    with pytest.raises(error, match=message):
        as_rgb_uint8(image)


def test_unknown_mode_and_range():
    with pytest.raises(ValueError, match=r"clean, legacy_pytorch.*'bicubic'"):
        resize_image(random_image((8, 8)), "bicubic")
    np.testing.assert_allclose(to_extractor_range(np.array([0.0, 255.0])), [-1.0, 1.0])
