"""Image folders: pixels, class labels from sub-folders, bad files named; Pillow required."""

import numpy as np
import pytest

from artifex.generative_models.training.data import FolderSource, validate_source

Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed (pip install pillow)")


def save(path, pixels, mode=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, np.uint8), mode=mode).save(path)
    return np.asarray(pixels, np.uint8)


def grey(seed, size=(4, 5)):
    return np.random.default_rng(seed).integers(0, 256, size=size, dtype=np.uint8)


def test_grey_pngs_without_labels(tmp_path):
    first = save(tmp_path / "b.png", grey(0))
    second = save(tmp_path / "nested" / "a.PNG", grey(1))
    (tmp_path / "notes.txt").write_text("ignored")
    save(tmp_path / ".hidden" / "c.png", grey(2))
    source = FolderSource(tmp_path, use_labels=False)
    assert len(source) == 2 and source.image_shape == (4, 5, 1) and source.labels is None
    # sorted by path: b.png before nested/a.PNG
    np.testing.assert_allclose(source[0]["image"][..., 0], first / 255 * 2 - 1, atol=1e-6)
    np.testing.assert_allclose(source[1]["image"][..., 0], second / 255 * 2 - 1, atol=1e-6)
    assert set(source[0]) == {"image"}


def test_class_subfolders_give_sorted_labels(tmp_path):
    pixels = {}
    for name, seed in [("zebra", 0), ("apple", 1), ("apple", 2), ("mango", 3)]:
        path = tmp_path / name / f"{seed}.png"
        pixels[path] = save(path, np.stack([grey(seed)] * 3, axis=-1))
    source = FolderSource(tmp_path, layout="NCHW", value_range=(0, 1))
    assert source.class_names == ("apple", "mango", "zebra") and source.num_classes == 3
    assert source.labels.tolist() == [0, 0, 1, 2]
    assert source.image_shape == (3, 4, 5)  # RGB files give 3 channels
    batch = source.get_batch(np.array([3, 1]))
    assert batch["label"].tolist() == [2, 0]
    np.testing.assert_allclose(
        batch["image"][0], pixels[tmp_path / "zebra" / "0.png"].transpose(2, 0, 1) / 255, atol=1e-6
    )
    validate_source(source, (3, 4, 5), num_classes=3)


def test_colour_conversion_resizing_and_jpeg(tmp_path):
    rgb = np.random.default_rng(4).integers(0, 256, size=(2, 3, 3), dtype=np.uint8)
    save(tmp_path / "x.png", rgb)
    as_grey = FolderSource(tmp_path, channels=1, value_range=(0, 255))
    luma = np.asarray(Image.fromarray(rgb).convert("L"), np.float32)
    np.testing.assert_allclose(as_grey[0]["image"][..., 0], luma)
    rgba = FolderSource(tmp_path, channels=4, image_size=4, value_range=(0, 255))
    image = rgba[0]["image"]
    assert image.shape == (4, 4, 4) and np.all(image[..., 3] == 255)
    np.testing.assert_allclose(image[0, 0, :3], rgb[0, 0])
    np.testing.assert_allclose(image[3, 3, :3], rgb[1, 2])  # nearest: row 3*2//4, column 3*3//4
    smooth = np.tile(np.linspace(0, 255, 16, dtype=np.uint8), (16, 1))
    save(tmp_path / "jpeg" / "smooth.jpg", np.stack([smooth] * 3, axis=-1))
    jpeg = FolderSource(tmp_path / "jpeg", value_range=(0, 255))
    assert jpeg.image_shape == (16, 16, 3)
    assert np.abs(jpeg[0]["image"][..., 0] - smooth).max() < 12  # lossy, but close


def test_mixed_sizes_need_image_size(tmp_path):
    save(tmp_path / "a.png", grey(0, (4, 4)))
    save(tmp_path / "b.png", grey(1, (6, 4)))
    with pytest.raises(
        ValueError,
        match=r"b\.png is 6x4 \(HxW\) but .*a\.png is 4x4: expected one size; set image_size",
    ):
        FolderSource(tmp_path)
    resized = FolderSource(tmp_path, image_size=8)
    assert resized.get_batch(np.array([0, 1]))["image"].shape == (2, 8, 8, 1)


def test_bad_folders_and_files_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        FolderSource(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"empty\S* is empty: expected PNG or JPEG images"):
        FolderSource(tmp_path / "empty")
    corrupt = tmp_path / "corrupt"
    save(corrupt / "good.png", grey(0))
    (corrupt / "bad.png").write_bytes(b"definitely not a png")
    with pytest.raises(ValueError, match=r"cannot read image file .*corrupt/bad\.png"):
        FolderSource(corrupt)
    loose = tmp_path / "loose"
    save(loose / "cats" / "1.png", grey(0))
    save(loose / "stray.png", grey(1))
    with pytest.raises(
        ValueError, match=r"1 image\(s\) lie directly in the folder \(first: stray\.png\)"
    ):
        FolderSource(loose, use_labels=True)
    assert FolderSource(loose).labels is None  # auto: not every image is in a class folder
    empty_class = tmp_path / "classes"
    save(empty_class / "cats" / "1.png", grey(0))
    (empty_class / "dogs").mkdir()
    with pytest.raises(ValueError, match=r"class folder .*dogs holds no PNG or JPEG images"):
        FolderSource(empty_class, use_labels=True)
    sixteen = tmp_path / "sixteen"
    sixteen.mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint16)).save(sixteen / "deep.png")
    with pytest.raises(ValueError, match=r"deep\.png has colour mode 'I;16' .*expected 8-bit"):
        FolderSource(sixteen)


def test_truncated_file_is_found_before_training(tmp_path):
    save(tmp_path / "a.png", grey(0, (32, 32)))
    save(tmp_path / "b.png", grey(1, (32, 32)))
    content = (tmp_path / "b.png").read_bytes()
    (tmp_path / "b.png").write_bytes(content[: len(content) // 2])
    source = FolderSource(tmp_path)  # the header is intact
    with pytest.raises(ValueError, match=r"cannot decode image file .*b\.png"):
        validate_source(source, (32, 32, 1))
    # a documented sample of 1 (the first file) does not reach it
    validate_source(source, (32, 32, 1), sample=1)
