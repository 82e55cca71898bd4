"""The bundled digits, the shipped classifier, its recorded accuracy and the FID-digits floor."""

from importlib import resources

import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    FrechetInceptionDistance,
    InceptionScore,
    class_coverage,
    digits_classifier,
    digits_classifier_record,
    digits_feature_extractor,
    extract_features,
    load_digits,
)

DATA = resources.files("artifex.generative_models.core.evaluation.metrics") / "data"


@pytest.fixture(scope="module")
def features():
    return digits_feature_extractor()


@pytest.fixture(scope="module")
def classifier():
    return digits_classifier()


def test_splits_are_fixed_disjoint_and_stratified():
    all_images, all_labels = load_digits("all")
    train, test = load_digits("train"), load_digits("test")
    assert all_images.shape == (1797, 8, 8, 1) and all_images.dtype == np.float32
    assert (len(train.labels), len(test.labels)) == (1438, 359)
    assert all_labels.dtype == np.int32
    counts = np.bincount(all_labels, minlength=10)
    np.testing.assert_array_equal(np.bincount(test.labels, minlength=10), np.round(counts / 5))
    with DATA.joinpath("digits.npz").open("rb") as handle, np.load(handle) as data:
        is_test = data["is_test"]
    np.testing.assert_array_equal(test.images, all_images[is_test])
    np.testing.assert_array_equal(train.images, all_images[~is_test])


def test_pixel_conventions():
    raw = load_digits("all", raw=True).images
    assert raw.dtype == np.uint8 and raw.min() == 0 and raw.max() == 16
    scaled = load_digits("all").images
    np.testing.assert_allclose(scaled, raw / 8.0 - 1.0)
    with pytest.raises(ValueError, match="split must be 'train', 'test' or 'all', got 'val'"):
        load_digits("val")


def test_licence_notice_ships_beside_the_data():
    notice = DATA.joinpath("NOTICE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in notice and "Alpaydin" in notice


def test_recorded_accuracy_is_the_shipped_classifiers(classifier):
    record = digits_classifier_record()
    images, labels = load_digits("test")
    probs = extract_features(classifier, images)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert (probs.argmax(axis=1) == labels).mean() == pytest.approx(record["test_accuracy"], abs=0)
    assert record["test_accuracy"] >= 0.95
    coverage = class_coverage(probs)
    assert coverage["classes_covered"] == 10 and coverage["kl_from_uniform"] < 0.01


def test_fid_digits_floor_matches_the_record(features):
    # The floor every model is measured against: real held-out digits vs real training digits.
    train, test = load_digits("train").images, load_digits("test").images
    fid = FrechetInceptionDistance(feature_extractor=features).compute(train, test)["fid"]
    recorded = digits_classifier_record()["reference_scores"]["fid"]
    assert fid == pytest.approx(recorded, rel=1e-3)
    # A model that copies one digit class is far above it.
    collapsed = np.repeat(test[load_digits("test").labels == 3][:10], 36, axis=0)
    worse = FrechetInceptionDistance(feature_extractor=features).compute(train, collapsed)["fid"]
    assert worse > 20 * fid


def test_inception_score_of_real_digits_matches_the_record(classifier):
    result = InceptionScore(classifier=classifier).compute(load_digits("test").images, splits=10)
    recorded = digits_classifier_record()["reference_scores"]
    assert result["is_mean"] == pytest.approx(recorded["test_is_mean"], rel=1e-3)
    assert 8.0 < result["is_mean"] <= 10.0


def test_every_accepted_layout_gives_the_same_features(features):
    nhwc = load_digits("test").images[:5]
    expected = np.asarray(features(nhwc))
    assert expected.shape == (5, 64)
    np.testing.assert_allclose(
        np.asarray(features(nhwc.transpose(0, 3, 1, 2))), expected, rtol=1e-6
    )
    np.testing.assert_allclose(np.asarray(features(nhwc[..., 0])), expected, rtol=1e-6)


def test_wrong_images_are_refused_with_the_convention(features):
    with pytest.raises(
        ValueError, match=r"\(B, 8, 8, 1\), \(B, 1, 8, 8\) or \(B, 8, 8\).*got shape"
    ):
        features(np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(TypeError, match="x / 8 - 1"):
        features(load_digits("test", raw=True).images[:2])
    raw_as_float = load_digits("test", raw=True).images[:4].astype(np.float32)
    with pytest.raises(ValueError, match=r"expects pixel values in \[-1, 1\]"):
        extract_features(features, raw_as_float)
