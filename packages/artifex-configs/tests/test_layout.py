"""The image-layout rule (DESIGN.md): which axis of a declared shape holds the channels."""

import pytest

from artifex.generative_models.core.configuration import (
    GeneratorConfig,
    ImageLayout,
    normalize_sample_shape,
    resolve_image_layout,
)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((28, 28, 1), ImageLayout(28, 28, 1, "NHWC")),
        ((1, 28, 28), ImageLayout(28, 28, 1, "NCHW")),
        ((3, 64, 64), ImageLayout(64, 64, 3, "NCHW")),
        ((64, 64, 3), ImageLayout(64, 64, 3, "NHWC")),
        ((4, 32, 48), ImageLayout(32, 48, 4, "NCHW")),
        ((5, 7, 2), ImageLayout(5, 7, 2, "NHWC")),
    ],
)
def test_auto_resolution(shape, expected):
    layout = resolve_image_layout(shape)
    assert layout == expected
    assert layout.shape == shape


@pytest.mark.parametrize("shape", [(4, 4, 4), (3, 3, 3), (32, 32, 16), (3, 64, 3), (1, 1, 1)])
def test_ambiguous_shapes_need_a_data_format(shape):
    with pytest.raises(
        ValueError,
        match=r"is ambiguous: .*set data_format='NHWC' or "
        r"data_format='NCHW'",
    ):
        resolve_image_layout(shape)


def test_explicit_data_format_settles_ambiguity():
    assert resolve_image_layout((4, 4, 4), "NHWC") == ImageLayout(4, 4, 4, "NHWC")
    assert resolve_image_layout((4, 8, 16), "NCHW") == ImageLayout(8, 16, 4, "NCHW")
    assert resolve_image_layout((32, 32, 16), "NHWC").channels == 16
    config = GeneratorConfig(hidden_dims=(8,), output_shape=(4, 4, 4), data_format="NCHW")
    assert config.output_layout == ImageLayout(4, 4, 4, "NCHW")


def test_explicit_data_format_wins_over_the_shape():
    assert resolve_image_layout((3, 64, 64), "NHWC") == ImageLayout(3, 64, 64, "NHWC")


def test_layout_axes():
    nhwc, nchw = resolve_image_layout((8, 8, 3)), resolve_image_layout((3, 8, 8))
    assert (nhwc.channel_axis, nchw.channel_axis) == (-1, 1)
    assert nhwc.to_nhwc is None and nhwc.from_nhwc is None
    assert nchw.to_nhwc == (0, 2, 3, 1) and nchw.from_nhwc == (0, 3, 1, 2)
    assert nchw.nhwc_shape == nhwc.nhwc_shape == (8, 8, 3)
    # The permutations are inverse: applying one after the other is the identity.
    assert tuple(nchw.to_nhwc[i] for i in nchw.from_nhwc) == (0, 1, 2, 3)


@pytest.mark.parametrize(
    ("shape", "data_format", "message"),
    [
        ((28, 28), "auto", r"shape=\(28, 28\): an image shape has 3 entries"),
        ((0, 28, 28), "auto", r"image sizes must be positive integers"),
        ((1, 28, 28.0), "auto", r"image sizes must be positive integers"),
        ((1, 28, 28), "CHW", r"data_format='CHW': must be one of 'auto', 'NHWC', 'NCHW'"),
    ],
)
def test_resolution_errors(shape, data_format, message):
    with pytest.raises(ValueError, match=message):
        resolve_image_layout(shape, data_format)


def test_leading_batch_of_one_is_dropped():
    assert normalize_sample_shape((1, 1, 28, 28)) == (1, 28, 28)
    assert normalize_sample_shape([28, 28, 1]) == (28, 28, 1)
    with pytest.raises(ValueError, match=r"x=\(16, 1, 28, 28\): a 4-entry shape is read as"):
        normalize_sample_shape((16, 1, 28, 28), "x")


def test_flat_shapes_have_no_layout():
    assert GeneratorConfig(hidden_dims=(8,), output_shape=(784,)).output_layout is None
    assert GeneratorConfig(hidden_dims=(8,), output_shape=[2]).output_shape == (2,)
