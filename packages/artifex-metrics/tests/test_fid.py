"""FID: exact against SciPy and closed forms, streaming, stats files, warnings and errors."""

import warnings

import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    FeatureStatistics,
    FewSamplesWarning,
    FrechetInceptionDistance,
    frechet_distance,
)

scipy_linalg = pytest.importorskip("scipy.linalg")


def correlated(rng, n, d, shift=0.0):
    mixing = rng.normal(size=(d, d))
    return rng.normal(size=(n, d)) @ mixing + shift


def scipy_fid(x, y):
    """pytorch-fid's formula: sqrtm of the non-symmetric product, real part."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy_linalg.sqrtm(s1 @ s2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * np.real(covmean)))


def test_equals_scipy_sqrtm_on_random_features(rng):
    x, y = correlated(rng, 300, 6), correlated(rng, 200, 6, shift=0.7)
    ours = FeatureStatistics.from_features(x).frechet_distance(FeatureStatistics.from_features(y))
    assert ours == pytest.approx(scipy_fid(x, y), rel=1e-9)


def test_closed_form_for_diagonal_gaussians(rng):
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    s1, s2 = rng.uniform(0.1, 3.0, 5), rng.uniform(0.1, 3.0, 5)
    expected = ((mu1 - mu2) ** 2).sum() + (s1 + s2 - 2 * np.sqrt(s1 * s2)).sum()
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(
        expected, rel=1e-12
    )


def test_closed_form_for_covariances_sharing_eigenvectors(rng):
    # Non-diagonal but commuting: the trace term is sum (sqrt a - sqrt b)^2 in the shared basis.
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    a, b = rng.uniform(0.2, 2.0, 4), rng.uniform(0.2, 2.0, 4)
    mu = rng.normal(size=4)
    got = frechet_distance(mu, q @ np.diag(a) @ q.T, np.zeros(4), q @ np.diag(b) @ q.T)
    assert got == pytest.approx(mu @ mu + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum(), rel=1e-10)


def test_singular_covariances_stay_real_and_exact():
    # Rank-deficient covariances: sqrtm of the product is singular; ours stays exact.
    s1, s2 = np.diag([1.0, 0.0, 0.0]), np.diag([0.0, 4.0, 0.0])
    got = frechet_distance(np.zeros(3), s1, np.ones(3), s2)
    assert np.isfinite(got)
    assert got == pytest.approx(3.0 + 1.0 + 4.0, rel=1e-12)


def test_symmetric_and_zero_for_identical_statistics(rng):
    x, y = correlated(rng, 120, 5), correlated(rng, 90, 5, shift=-0.3)
    sx, sy = FeatureStatistics.from_features(x), FeatureStatistics.from_features(y)
    assert sx.frechet_distance(sy) == pytest.approx(sy.frechet_distance(sx), rel=1e-10)
    assert sx.frechet_distance(sx) == pytest.approx(0.0, abs=1e-10 * np.trace(sx.covariance))
    copy = FeatureStatistics.from_moments(sx.mean, sx.covariance, count=sx.count)
    assert frechet_distance(sx.mean, sx.covariance, copy.mean, copy.covariance) < 1e-9


def test_unchanged_by_batch_size_and_streaming(rng, flatten):
    real = rng.normal(size=(97, 3)).astype(np.float32)
    fake = (rng.normal(size=(61, 3)) * 1.5 + 0.2).astype(np.float32)
    expected = scipy_fid(real.astype(np.float64), fake.astype(np.float64))
    results = [
        FrechetInceptionDistance(feature_extractor=flatten, batch_size=size).compute(real, fake)
        for size in (7, 256)
    ]
    streaming = FrechetInceptionDistance(feature_extractor=flatten, batch_size=16)
    for start, stop in ((0, 40), (40, 41), (41, 97)):
        streaming.update(real[start:stop], real=True)
    streaming.update((fake[i : i + 10] for i in range(0, 61, 10)), real=False)
    for result in (*results, streaming.result()):
        assert result["fid"] == pytest.approx(expected, rel=1e-9)


def test_streaming_statistics_survive_a_large_mean(rng):
    # Raw sums of squares in float64 would lose ~1e-4 relative accuracy at a 1e6 offset.
    x = rng.normal(size=(500, 3)) + 1e6
    stats = FeatureStatistics()
    for batch in np.array_split(x, 9):
        stats.update(batch)
    np.testing.assert_allclose(stats.covariance, np.cov(x - 1e6, rowvar=False), rtol=0, atol=1e-9)
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-14)


def test_statistics_file_round_trip(tmp_path, rng):
    stats = FeatureStatistics.from_features(correlated(rng, 50, 4))
    stats.save(tmp_path / "stats.npz")
    with np.load(tmp_path / "stats.npz", allow_pickle=False) as data:
        assert sorted(data.files) == ["count", "mu", "sigma"]
    loaded = FeatureStatistics.load(tmp_path / "stats.npz")
    assert loaded.count == 50
    np.testing.assert_array_equal(loaded.mean, stats.mean)
    np.testing.assert_allclose(loaded.covariance, stats.covariance, rtol=1e-15)
    more = correlated(rng, 20, 4)
    combined = np.concatenate([np.zeros((0, 4)), more])
    loaded.update(combined)
    assert loaded.count == 70


def test_precomputed_real_statistics_in_compute(tmp_path, rng, flatten):
    real = rng.normal(size=(80, 2)).astype(np.float32)
    fake = rng.normal(size=(60, 2)).astype(np.float32) + 1
    fid = FrechetInceptionDistance(feature_extractor=flatten)
    fid.statistics(real).save(tmp_path / "real.npz")
    cached = fid.compute(FeatureStatistics.load(tmp_path / "real.npz"), fake)
    assert cached["fid"] == pytest.approx(fid.compute(real, fake)["fid"], rel=1e-12)


def test_pytorch_fid_style_file_without_count(tmp_path):
    np.savez(tmp_path / "ref.npz", mu=np.zeros(2), sigma=np.eye(2))
    loaded = FeatureStatistics.load(tmp_path / "ref.npz")
    assert loaded.count is None
    assert loaded.frechet_distance(loaded) == 0.0
    with pytest.raises(ValueError, match="without a sample count"):
        loaded.update(np.ones((3, 2)))
    np.savez(tmp_path / "bad.npz", mean=np.zeros(2))
    with pytest.raises(ValueError, match=r"lacks \['mu', 'sigma'\]"):
        FeatureStatistics.load(tmp_path / "bad.npz")


def test_warns_when_samples_do_not_exceed_dimensions(rng):
    few = FeatureStatistics.from_features(rng.normal(size=(8, 8)))
    many = FeatureStatistics.from_features(rng.normal(size=(40, 8)))
    with pytest.warns(FewSamplesWarning, match="8 samples of 8-dimensional features"):
        value = few.frechet_distance(many)
    assert np.isfinite(value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        many.frechet_distance(many)


def test_reset_keeps_real_side_on_request(rng, flatten):
    fid = FrechetInceptionDistance(feature_extractor=flatten, batch_size=32)
    real = rng.normal(size=(30, 2)).astype(np.float32)
    fid.update(real, real=True)
    fid.update(real + 1, real=False)
    first = fid.result()["fid"]
    fid.reset(keep_real=True)
    fid.update(real + 1, real=False)
    assert fid.result()["fid"] == pytest.approx(first, rel=1e-12)
    fid.reset()
    with pytest.raises(ValueError, match="empty"):
        fid.result()


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (np.ones(5), "2-D array"),
        (np.array([[1.0, np.nan]]), "NaN or infinite values in 1 of 1 samples"),
        (np.ones((3, 0)), "no feature columns"),
        (np.array([["a", "b"]]), "must hold numbers"),
    ],
)
def test_bad_features_are_refused(features, message):
    with pytest.raises((ValueError, TypeError), match=message):
        FeatureStatistics().update(features)


def test_errors_of_the_distance():
    one = FeatureStatistics.from_features(np.ones((1, 2)))
    two = FeatureStatistics.from_features(np.eye(2))
    with pytest.raises(ValueError, match="at least 2 samples per set"):
        one.frechet_distance(two)
    with pytest.raises(ValueError, match="empty"):
        FeatureStatistics().frechet_distance(two)
    with pytest.raises(ValueError, match="dimension"):
        two.update(np.ones((2, 3)))
    with pytest.raises(ValueError, match="feature dimensions differ"):
        two.frechet_distance(FeatureStatistics.from_features(np.eye(3)))
    with pytest.raises(ValueError, match="not positive semi-definite"):
        frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="not symmetric"):
        frechet_distance(np.zeros(2), [[1.0, 0.5], [0.0, 1.0]], np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match=r"sigma2 must have shape \(2, 2\)"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="at least 2 samples, got 1"):
        one.covariance  # noqa: B018
