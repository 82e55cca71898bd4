"""Every source's pixels, labels, layout and scaling, checked against the stored data."""

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from artifex.generative_models.training.data import (
    ArraySource,
    Cifar10Source,
    DigitsSource,
    MnistIdxSource,
    NpySource,
    NpzSource,
    UnsafePickleError,
    load_cifar_batch,
    read_idx,
)


def scaled(raw, low, high, out=(-1.0, 1.0)):
    """The documented linear map of [low, high] onto ``out``, in float64."""
    return (np.asarray(raw, np.float64) - low) / (high - low) * (out[1] - out[0]) + out[0]


# --------------------------------------------------------------------------- arrays


def test_uint8_nhwc_scaled_to_minus_one_one():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 6, 7, 3), dtype=np.uint8)
    source = ArraySource(images, np.arange(5) % 2)
    assert len(source) == 5 and source.image_shape == (6, 7, 3) and source.num_classes == 2
    example = source[3]
    assert example["image"].dtype == np.float32 and example["label"].dtype == np.int32
    np.testing.assert_allclose(example["image"], scaled(images[3], 0, 255), atol=1e-6)
    assert int(example["label"]) == 1
    assert source[-1]["label"] == source[4]["label"]
    with pytest.raises(IndexError, match="index 5 out of range for 5 images"):
        source[5]


def test_layouts_value_range_and_source_layout():
    rng = np.random.default_rng(1)
    nchw = rng.integers(0, 256, size=(4, 3, 8, 8), dtype=np.uint8)
    # (3, 8, 8) is read as (C, H, W); delivered NHWC, scaled to [0, 1]
    source = ArraySource(nchw, value_range=(0.0, 1.0))
    assert source.image_shape == (8, 8, 3)
    np.testing.assert_allclose(source[2]["image"], nchw[2].transpose(1, 2, 0) / 255.0, atol=1e-6)
    as_nchw = ArraySource(nchw, layout="NCHW")
    assert as_nchw.image_shape == (3, 8, 8)
    np.testing.assert_allclose(as_nchw[2]["image"], scaled(nchw[2], 0, 255), atol=1e-6)
    assert "label" not in as_nchw[0] and as_nchw.labels is None and as_nchw.num_classes is None


def test_ambiguous_stored_layout_needs_source_layout():
    images = np.zeros((2, 4, 4, 4), np.uint8)
    with pytest.raises(
        ValueError, match=r"shape \(2, 4, 4, 4\) are ambiguous: .*set source_layout='NHWC'"
    ):
        ArraySource(images)
    assert ArraySource(images, source_layout="NCHW").image_shape == (4, 4, 4)


def test_float_input_ranges_inferred_or_declared():
    unit = np.linspace(0, 1, 2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    np.testing.assert_allclose(ArraySource(unit)[1]["image"][..., 0], unit[1] * 2 - 1, atol=1e-6)
    symmetric = unit * 2 - 1
    np.testing.assert_allclose(ArraySource(symmetric)[0]["image"][..., 0], symmetric[0], atol=1e-6)
    wide = unit * 10
    declared = ArraySource(wide, input_range=(0, 10), value_range=(0, 2))
    np.testing.assert_allclose(declared[1]["image"][..., 0], unit[1] * 2, atol=1e-5)
    with pytest.raises(
        ValueError, match=r"span \[0, 10\]; only \[0, 1\] and \[-1, 1\] .*input_range"
    ):
        ArraySource(wide)


def test_resize_nearest_and_pad():
    images = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3) * 10
    nearest = ArraySource(images, image_size=(4, 6))
    expected = np.repeat(np.repeat(images[1], 2, axis=0), 2, axis=1)
    np.testing.assert_allclose(nearest[1]["image"][..., 0], scaled(expected, 0, 255), atol=1e-6)
    padded = ArraySource(images, image_size=5, resize="pad")
    picture = padded[0]["image"][..., 0]
    assert picture.shape == (5, 5)
    # centred: rows 1..2, columns 1..3; the border is the darkest value, -1
    np.testing.assert_allclose(picture[1:3, 1:4], scaled(images[0], 0, 255), atol=1e-6)
    border = np.ones((5, 5), bool)
    border[1:3, 1:4] = False
    assert np.all(picture[border] == -1.0)
    with pytest.raises(ValueError, match="resize='pad' cannot shrink 2x3 images to 1x1"):
        ArraySource(images, image_size=1, resize="pad")


def test_channel_conversions():
    rgb = np.random.default_rng(2).integers(0, 256, size=(1, 2, 2, 3), dtype=np.uint8)
    grey = ArraySource(rgb, channels=1, value_range=(0, 255), source_layout="NHWC")[0]["image"]
    luma = rgb[0].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(grey[..., 0], luma, rtol=1e-5)
    rgba = ArraySource(rgb, channels=4, value_range=(0, 255), source_layout="NHWC")[0]["image"]
    np.testing.assert_allclose(rgba[..., :3], rgb[0], atol=1e-4)
    assert np.all(rgba[..., 3] == 255.0)
    single = rgb[..., :1]
    tripled = ArraySource(single, channels=3, layout="NCHW", source_layout="NHWC")[0]["image"]
    assert tripled.shape == (3, 2, 2)
    assert np.array_equal(tripled[0], tripled[2])
    with pytest.raises(ValueError, match="cannot convert images with 2 channels to 3"):
        ArraySource(np.zeros((1, 8, 8, 2), np.uint8), channels=3)


def test_max_examples_and_get_batch_order():
    images = np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((1, 2, 2), np.uint8)
    source = ArraySource(images, np.arange(10), max_examples=6)
    assert len(source) == 6 and source.num_classes == 10
    batch = source.get_batch(np.array([5, 0, 3, 0]))
    assert batch["label"].tolist() == [5, 0, 3, 0]
    np.testing.assert_allclose(batch["image"][:, 0, 0, 0], scaled([5, 0, 3, 0], 0, 255), atol=1e-6)
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 6\)"):
        source.get_batch(np.array([6]))


# --------------------------------------------------------------------------- digits


def test_digits_match_the_metrics_loader():
    from artifex.generative_models.core.evaluation.metrics.digits import load_digits

    raw = load_digits("train", raw=True)
    source = DigitsSource()
    assert len(source) == 1438 == len(raw.labels)
    assert source.image_shape == (8, 8, 1) and source.num_classes == 10
    for i in (0, 700, 1437):
        np.testing.assert_allclose(source[i]["image"], raw.images[i] / 8.0 - 1.0, atol=1e-6)
        assert source[i]["label"] == raw.labels[i]
    assert len(DigitsSource("test")) == 359 and len(DigitsSource("all")) == 1797
    unlabeled = DigitsSource(use_labels=False)
    assert unlabeled.labels is None and set(unlabeled[0]) == {"image"}


def test_digits_upscaled_nearest_and_padded_nchw():
    from artifex.generative_models.core.evaluation.metrics.digits import load_digits

    picture = load_digits("train", raw=True).images[7, :, :, 0] / 8.0 - 1.0
    nearest = DigitsSource(image_size=16, layout="NCHW")
    assert nearest.image_shape == (1, 16, 16)
    np.testing.assert_allclose(nearest[7]["image"][0], np.kron(picture, np.ones((2, 2))), atol=1e-6)
    padded = DigitsSource(image_size=32, resize="pad")
    image = padded[7]["image"][..., 0]
    np.testing.assert_allclose(image[12:20, 12:20], picture, atol=1e-6)
    assert image.sum() == pytest.approx(picture.sum() - (32 * 32 - 64))


# --------------------------------------------------------------------------- npz / npy


def test_npz_images_and_optional_labels(tmp_path):
    images = np.random.default_rng(3).integers(0, 256, size=(4, 5, 5), dtype=np.uint8)
    path = tmp_path / "data.npz"
    np.savez(path, pictures=images, classes=np.array([3, 1, 2, 0]))
    source = NpzSource(path, images_key="pictures", labels_key="classes")
    assert source.image_shape == (5, 5, 1) and source.num_classes == 4
    np.testing.assert_allclose(source[2]["image"][..., 0], scaled(images[2], 0, 255), atol=1e-6)
    assert source[0]["label"] == 3
    without = NpzSource(path, images_key="pictures")  # no "labels" array: no labels
    assert without.labels is None
    with pytest.raises(
        ValueError,
        match=r"has no array 'labels' \(labels_key\); it holds \['classes', 'pictures'\]",
    ):
        NpzSource(path, images_key="pictures", use_labels=True)
    with pytest.raises(ValueError, match=r"has no array 'images' \(images_key\)"):
        NpzSource(path)


def test_npy_memory_mapped_with_labels(tmp_path):
    images = np.linspace(-1, 1, 3 * 6 * 6 * 3, dtype=np.float32).reshape(3, 6, 6, 3)
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", np.array([0, 1, 1], np.int64))
    source = NpySource(tmp_path / "x.npy", labels_path=tmp_path / "y.npy", value_range=(0, 1))
    assert isinstance(source.images, np.memmap)
    np.testing.assert_allclose(source[1]["image"], (images[1] + 1) / 2, atol=1e-6)
    assert source.labels.tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match="use_labels=True but no labels_path given"):
        NpySource(tmp_path / "x.npy", use_labels=True)


def test_unreadable_array_files_are_named(tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match=r"cannot read .*broken\.npz as an \.npz archive"):
        NpzSource(bad)
    bad_npy = tmp_path / "broken.npy"
    bad_npy.write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(ValueError, match=r"cannot read .*broken\.npy as a \.npy array"):
        NpySource(bad_npy)
    with pytest.raises(FileNotFoundError, match=r"missing\.npz: no such file"):
        NpzSource(tmp_path / "missing.npz")
    np.save(tmp_path / "plain.npy", np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"is an \.npy array, not an \.npz archive; use NpySource"):
        NpzSource(tmp_path / "plain.npy")
    objects = tmp_path / "objects.npz"
    np.savez(objects, images=np.array([object(), 1], dtype=object))
    with pytest.raises(ValueError, match=r"cannot read .*objects\.npz .*allow_pickle"):
        NpzSource(objects)


# --------------------------------------------------------------------------- IDX


def write_idx(path, array, type_byte=0x08):
    """IDX: 00 00 <type> <ndim>, ndim big-endian uint32 sizes, big-endian values."""
    dtype = {0x08: ">u1", 0x0C: ">i4", 0x0D: ">f4"}[type_byte]
    header = bytes([0, 0, type_byte, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + np.asarray(array).astype(dtype).tobytes()
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb") as handle:
            handle.write(content)
    else:
        path.write_bytes(content)


def test_idx_folder_plain_and_gzipped(tmp_path):
    rng = np.random.default_rng(4)
    train = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", train)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 9, 3, 3, 1, 2]))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", test)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([7, 5]))
    source = MnistIdxSource(tmp_path, layout="NCHW")
    assert source.image_shape == (1, 28, 28) and len(source) == 6 and source.num_classes == 10
    np.testing.assert_allclose(source[4]["image"][0], scaled(train[4], 0, 255), atol=1e-6)
    assert source.labels.tolist() == [0, 9, 3, 3, 1, 2]
    held_out = MnistIdxSource(tmp_path, split="test")
    np.testing.assert_allclose(held_out[1]["image"][..., 0], scaled(test[1], 0, 255), atol=1e-6)
    assert held_out[1]["label"] == 5
    # an images file given directly finds its labels file by name
    single = MnistIdxSource(tmp_path / "t10k-images-idx3-ubyte")
    assert single.labels.tolist() == [7, 5]


def test_read_idx_wider_types(tmp_path):
    values = np.arange(-3, 3, dtype=np.int32).reshape(2, 3)
    write_idx(tmp_path / "ints", values, 0x0C)
    assert np.array_equal(read_idx(tmp_path / "ints"), values)
    floats = np.linspace(0, 1, 8, dtype=np.float32).reshape(2, 2, 2)
    write_idx(tmp_path / "floats", floats, 0x0D)
    assert np.array_equal(read_idx(tmp_path / "floats"), floats)


def test_bad_idx_files_are_refused(tmp_path):
    bad_magic = tmp_path / "train-images-idx3-ubyte"
    bad_magic.write_bytes(b"\x01\x02\x08\x03" + b"\x00" * 12)
    with pytest.raises(
        ValueError, match=r"is not an IDX file: expected the header 00 00 .* got 01 02 08 03"
    ):
        MnistIdxSource(tmp_path)
    write_idx(bad_magic, np.zeros((3, 4, 4), np.uint8))
    content = bad_magic.read_bytes()
    bad_magic.write_bytes(content[:-5])
    with pytest.raises(
        ValueError,
        match=r"declares shape \(3, 4, 4\) of uint8, 48 bytes .* holds 43 \(truncated\?\)",
    ):
        read_idx(bad_magic)
    write_idx(bad_magic, np.zeros((3, 4, 4), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([1, 2]))
    with pytest.raises(ValueError, match="3 images but 2 labels"):
        MnistIdxSource(tmp_path)
    (tmp_path / "broken-idx3-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(ValueError, match=r"cannot read IDX file .*broken-idx3-ubyte\.gz"):
        read_idx(tmp_path / "broken-idx3-ubyte.gz")
    with pytest.raises(FileNotFoundError, match="holds no t10k-images-idx3-ubyte"):
        MnistIdxSource(tmp_path, split="test")


# --------------------------------------------------------------------------- CIFAR-10


def write_cifar_batch(path, data, labels, *, bytes_keys=True, protocol=2, extra=None):
    """A CIFAR-10 python batch: a pickled dict of uint8 data (N, 3072) and int labels."""
    batch = {"data": data, "labels": list(labels), "batch_label": "fake batch"}
    batch.update(extra or {})
    if bytes_keys:  # how the original Python 2 files read with encoding="bytes"
        batch = {key.encode(): value for key, value in batch.items()}
    with open(path, "wb") as handle:
        pickle.dump(batch, handle, protocol=protocol)


def test_cifar_batches_decode_to_the_stored_pixels(tmp_path):
    rng = np.random.default_rng(5)
    first = rng.integers(0, 256, size=(3, 3072), dtype=np.uint8)
    second = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
    write_cifar_batch(tmp_path / "data_batch_1", first, [0, 1, 2])
    write_cifar_batch(tmp_path / "data_batch_2", second, [9, 8], bytes_keys=False, protocol=5)
    write_cifar_batch(tmp_path / "test_batch", second[:1], [4])
    names = [f"class{i}" for i in range(10)]
    with open(tmp_path / "batches.meta", "wb") as handle:
        pickle.dump({b"label_names": [n.encode() for n in names]}, handle, protocol=2)
    source = Cifar10Source(tmp_path)
    assert len(source) == 5 and source.image_shape == (32, 32, 3) and source.num_classes == 10
    assert source.class_names == tuple(names)
    assert source.labels.tolist() == [0, 1, 2, 9, 8]
    row = second[1]
    # a row is the red plane, then green, then blue, each 32x32 row-major
    for h, w, c in [(0, 0, 0), (5, 17, 1), (31, 31, 2)]:
        expected = row[c * 1024 + h * 32 + w] / 255.0 * 2 - 1
        assert source[4]["image"][h, w, c] == pytest.approx(expected, abs=1e-6)
    nchw = Cifar10Source(tmp_path, layout="NCHW")
    np.testing.assert_allclose(
        nchw[0]["image"], scaled(first[0].reshape(3, 32, 32), 0, 255), atol=1e-6
    )
    test = Cifar10Source(tmp_path, split="test", use_labels=False)
    assert len(test) == 1 and test.labels is None


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "data_batch_1"
    with open(evil, "wb") as handle:
        pickle.dump({b"data": _RunsCode(marker), b"labels": [0]}, handle, protocol=2)
    with pytest.raises(UnsafePickleError, match=r"asks for the global (posix|os|nt)\.system"):
        Cifar10Source(tmp_path)
    assert not marker.exists()
    with open(evil, "wb") as handle:
        pickle.dump({"data": eval}, handle)  # builtins.eval
    with pytest.raises(UnsafePickleError, match=r"global builtins\.eval"):
        load_cifar_batch(evil)
    # an allowed function with a disallowed argument: _codecs.encode only does latin-1
    payload = pickle.dumps({"data": b"x"}, protocol=2).replace(b"latin1", b"base64")
    evil.write_bytes(payload)
    with pytest.raises(UnsafePickleError, match=r"refusing _codecs\.encode with encoding 'base64'"):
        load_cifar_batch(evil)


def test_python2_era_numpy_module_names_load(tmp_path):
    # The original files name numpy.core.multiarray, NumPy 2 writes numpy._core.multiarray.
    data = np.arange(2 * 3072, dtype=np.uint64).astype(np.uint8).reshape(2, 3072)
    path = tmp_path / "data_batch_1"
    write_cifar_batch(path, data, [1, 2])
    content = path.read_bytes()
    written = b"numpy._core.multiarray" if b"numpy._core." in content else b"numpy.core.multiarray"
    assert written in content
    for module in (b"numpy.core.multiarray", b"numpy._core.multiarray"):
        path.write_bytes(content.replace(written, module))
        loaded = load_cifar_batch(path)
        assert np.array_equal(loaded["data"], data) and loaded["labels"] == [1, 2]


def test_cifar_batches_with_wrong_contents(tmp_path):
    path = tmp_path / "data_batch_1"
    write_cifar_batch(path, np.array([[1, "a"]], dtype=object), [0])
    with pytest.raises(TypeError, match="'data' must be a uint8 array, got object"):
        Cifar10Source(tmp_path)
    write_cifar_batch(path, np.zeros((2, 100), np.uint8), [0, 1])
    with pytest.raises(ValueError, match=r"expected 'data' of shape \(N, 3072\), got \(2, 100\)"):
        Cifar10Source(tmp_path)
    write_cifar_batch(path, np.zeros((2, 3072), np.uint8), [0, 1, 2])
    with pytest.raises(ValueError, match=r"2 images but labels of shape \(3,\)"):
        Cifar10Source(tmp_path)
    write_cifar_batch(path, np.zeros((2, 3072), np.uint8), [0, 10])
    with pytest.raises(
        ValueError,
        match=r"label 10 of image 1 is out of range: expected class indices in \[0, 10\)",
    ):
        Cifar10Source(tmp_path)
    path.write_bytes(b"\x80\x02 truncated")
    with pytest.raises(ValueError, match=r"cannot read CIFAR batch .*data_batch_1"):
        Cifar10Source(tmp_path)
    path.unlink()
    with pytest.raises(FileNotFoundError, match="holds no data_batch_\\* file"):
        Cifar10Source(tmp_path)
