"""A second domain made from the first by a known transform (CycleGAN on bundled data)."""

import numpy as np
import pytest

from artifex.generative_models.core.configuration import DataConfig
from artifex.generative_models.training.data import (
    DigitsSource,
    NpySource,
    TransformedSource,
    UnpairedSource,
    make_pipeline,
    source_from_config,
)


@pytest.fixture(scope="module")
def digits():
    return DigitsSource("test", use_labels=False, max_examples=20)


def _images(source, count=5):
    return source.get_batch(np.arange(count))["image"]


def test_invert_negates_within_the_value_range(digits):
    inverted = _images(TransformedSource(digits, "invert"))
    np.testing.assert_array_equal(inverted, -_images(digits))  # (-1, 1): low + high = 0
    assert inverted.dtype == np.float32


def test_invert_in_another_range(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, np.random.default_rng(0).uniform(0, 255, (4, 8, 8, 1)).astype(np.uint8))
    source = NpySource(path, value_range=(0.0, 1.0))
    np.testing.assert_allclose(
        _images(TransformedSource(source, "invert"), 4), 1.0 - _images(source, 4), atol=1e-6
    )


def test_flip_and_transpose_move_pixels_in_both_layouts():
    for layout, height_axis in (("NHWC", 1), ("NCHW", 2)):
        source = DigitsSource("test", use_labels=False, max_examples=5, layout=layout)
        original = _images(source)
        flipped = _images(TransformedSource(source, "flip"))
        transposed = _images(TransformedSource(source, "transpose"))
        np.testing.assert_array_equal(flipped, np.flip(original, axis=height_axis + 1))
        np.testing.assert_array_equal(
            transposed, np.swapaxes(original, height_axis, height_axis + 1)
        )


def test_bad_transforms_are_refused(digits, tmp_path):
    with pytest.raises(ValueError, match="transform='rotate': must be one of invert, flip"):
        TransformedSource(digits, "rotate")
    path = tmp_path / "wide.npy"
    np.save(path, np.zeros((2, 6, 12, 1), np.uint8))
    with pytest.raises(ValueError, match=r"needs square images.*6x12"):
        TransformedSource(NpySource(path), "transpose")


def test_config_makes_two_unpaired_domains_of_the_digits():
    config = DataConfig(source="digits", domain_b_transform="invert", max_examples=50)
    source = source_from_config(config)
    assert isinstance(source, UnpairedSource)
    batch = next(make_pipeline(source, batch_size=10, seed=0))
    a, b = batch["image_a"], batch["image_b"]
    digits = _images(DigitsSource("train", use_labels=False, max_examples=50), 50)
    # Every B image is an inverted digit, but the pipeline shuffles the domains apart.
    for image in b:
        assert any(np.array_equal(image, -d) for d in digits)
    assert not all(np.array_equal(x, -y) for x, y in zip(a, b, strict=True))
