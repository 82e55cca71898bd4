"""Bad data is refused before training, with what was expected and what came."""

import sys

import numpy as np
import pytest

from artifex.generative_models.training.data import (
    ArraySource,
    DigitsSource,
    FolderSource,
    NpzSource,
    UnpairedSource,
    validate_source,
)


def images(count=4, size=8, channels=1, dtype=np.uint8):
    return np.zeros((count, size, size, channels), dtype=dtype)


def test_a_fitting_source_passes():
    validate_source(DigitsSource(image_size=16, layout="NCHW"), (1, 16, 16), num_classes=10)
    validate_source(DigitsSource(), (1, 8, 8, 1))  # a leading batch dimension of 1 is dropped


def test_shape_mismatches_name_both_shapes_and_the_fix():
    digits = DigitsSource()
    with pytest.raises(
        ValueError,
        match=r"digits\[train\] gives images of shape \(8, 8, 1\) \(NHWC\) but the model expects "
        r"\(1, 8, 8\); set layout='NCHW'$",
    ):
        validate_source(digits, (1, 8, 8))
    with pytest.raises(ValueError, match=r"expects \(32, 32, 1\); set image_size=32$"):
        validate_source(digits, (32, 32, 1))
    with pytest.raises(
        ValueError, match=r"expects \(3, 28, 28\); set layout='NCHW', image_size=28, channels=3$"
    ):
        validate_source(digits, (3, 28, 28))
    with pytest.raises(ValueError, match=r"an image shape has 3 entries"):
        validate_source(digits, (8, 8))


def test_labels_missing_or_out_of_the_models_range():
    with pytest.raises(
        ValueError, match=r"conditional on 10 classes but digits\[train\] has no labels"
    ):
        validate_source(DigitsSource(use_labels=False), (8, 8, 1), num_classes=10)
    with pytest.raises(
        ValueError,
        match=r"label \d+ of image \d+ is out of range for a model with num_classes=5: "
        r"expected labels "
        r"in \[0, 5\) \(\d+ labels out of range\)",
    ):
        validate_source(DigitsSource(), (8, 8, 1), num_classes=5)
    pair = UnpairedSource(DigitsSource(), DigitsSource())
    with pytest.raises(
        ValueError, match="two unpaired domains and no labels, but the model is conditional"
    ):
        validate_source(pair, (8, 8, 1), num_classes=10)


def test_unpaired_domains_are_checked_each():
    pair = UnpairedSource(DigitsSource(), DigitsSource(channels=3))
    with pytest.raises(
        ValueError,
        match=r"gives domain B images of shape \(8, 8, 3\) .*expects \(8, 8, 1\); set channels=1",
    ):
        validate_source(pair, (8, 8, 1))
    validate_source(pair, (8, 8, 1), expected_shape_b=(8, 8, 3))
    with pytest.raises(ValueError, match="same layout and value range"):
        UnpairedSource(DigitsSource(), DigitsSource(layout="NCHW"))


def test_empty_data():
    with pytest.raises(
        ValueError, match=r"arrays is empty: expected at least one image, got shape \(0, 8, 8, 1\)"
    ):
        ArraySource(images(0))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels(bad):
    pixels = images(5, dtype=np.float32)
    pixels[3, 2, 1, 0] = bad
    with pytest.raises(
        ValueError,
        match=r"arrays: image 3 holds NaN or Inf pixel values "
        r"\(1 non-finite values in images 0..4\); expected finite pixels",
    ):
        ArraySource(pixels)


def test_non_finite_pixels_in_a_file_are_named(tmp_path):
    pixels = images(3, dtype=np.float64)
    pixels[2] = np.nan
    np.savez(tmp_path / "nan.npz", images=pixels)
    with pytest.raises(ValueError, match=r"nan\.npz: image 2 holds NaN or Inf"):
        NpzSource(tmp_path / "nan.npz")


def test_pixels_outside_the_declared_range():
    pixels = images(2, dtype=np.float32)
    pixels[1, 0, 0, 0] = 1.5
    with pytest.raises(
        ValueError,
        match=r"pixel values span \[0, 1.5\], outside the declared input_range \(0.0, 1.0\)",
    ):
        ArraySource(pixels, input_range=(0, 1))
    small = images(2, dtype=np.uint8)
    small[0, 0, 0, 0] = 17
    with pytest.raises(
        ValueError, match=r"span \[0, 17\], outside the declared input_range \(0.0, 16.0\)"
    ):
        ArraySource(small, input_range=(0, 16))


def test_wrong_dtypes():
    with pytest.raises(
        TypeError,
        match=r"expected uint8 or float pixels, got dtype bool \(bool masks are not images\)",
    ):
        ArraySource(images(dtype=bool))
    with pytest.raises(TypeError, match="expected uint8 or float pixels, got dtype complex64"):
        ArraySource(images(dtype=np.complex64))
    with pytest.raises(
        TypeError, match=r"pixels of dtype int16 need an explicit input_range=\(low, high\)"
    ):
        ArraySource(images(dtype=np.int16))
    assert ArraySource(images(dtype=np.int16), input_range=(0, 1000)).image_shape == (8, 8, 1)
    with pytest.raises(TypeError, match="labels must be integers, got dtype float32"):
        ArraySource(images(), np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="images must be a NumPy array, got list"):
        ArraySource([[0]])


def test_image_and_label_counts_and_shapes():
    with pytest.raises(
        ValueError, match="arrays: 4 images but 3 labels; expected one label per image"
    ):
        ArraySource(images(), np.arange(3))
    with pytest.raises(ValueError, match="4 images but 3 labels"):
        ArraySource(images(), np.arange(3), max_examples=2)  # checked before truncation
    with pytest.raises(
        ValueError,
        match=r"expected labels of shape \(4,\), .*got shape \(4, 10\) \(one-hot labels\?",
    ):
        ArraySource(images(), np.eye(10, dtype=np.int64)[:4])
    with pytest.raises(
        ValueError,
        match=r"expected images of shape \(N, H, W\), \(N, H, W, C\) or \(N, C, H, W\), "
        r"got shape \(4, 64\)",
    ):
        ArraySource(np.zeros((4, 64), np.uint8))


def test_labels_out_of_range_at_construction():
    with pytest.raises(
        ValueError,
        match=r"label -1 of image 2 is out of range: "
        r"expected class indices in \[0, \.\.\.\) \(non-negative\)",
    ):
        ArraySource(images(), np.array([0, 1, -1, 2]))
    with pytest.raises(
        ValueError, match=r"label 3 of image 1 is out of range: expected class indices in \[0, 3\)"
    ):
        ArraySource(images(), np.array([0, 3, 1, 2]), num_classes=3)


def test_missing_pillow_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match="Pillow, which is not installed: pip install pillow"):
        FolderSource(tmp_path)
