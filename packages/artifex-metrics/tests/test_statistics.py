"""Statistics files and the streaming accumulator; formulas against independent implementations."""

import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    FeatureReservoir,
    FeatureStatistics,
    check_compatible,
    frechet_distance,
    kernel_inception_distance,
    load_statistics,
    save_statistics,
)

scipy_linalg = pytest.importorskip("scipy.linalg")

META = {
    "extractor": "inception-v3-fid",
    "extractor_sha256": "6726825d" + "0" * 56,
    "mode": "clean",
    "count": 300,
    "fingerprint": "ab" * 32,
}


def pytorch_fid_calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid 0.3.0 ``fid_score.calculate_frechet_distance``, transcribed from its source."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    diff = mu1 - mu2
    try:
        covmean, _ = scipy_linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    except TypeError:  # SciPy 1.16+ dropped ``disp`` (pytorch-fid 0.3.0 predates that)
        covmean = scipy_linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy_linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("Imaginary component")
        covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def features(rng, n, d, shift=0.0):
    return np.abs(rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * 0.3 + shift)


def moments(x):
    stats = FeatureStatistics().update(x)
    return stats.mean, stats.covariance


def test_streaming_statistics_equal_numpy_cov_in_any_batching(rng):
    x = features(rng, 301, 16, shift=2.0)
    expected_mu, expected_sigma = x.mean(0), np.cov(x, rowvar=False)
    acc = FeatureStatistics()
    for batch in np.array_split(x, 7):
        acc.update(batch)
    np.testing.assert_allclose(acc.mean, expected_mu, rtol=1e-12)
    np.testing.assert_allclose(acc.covariance, expected_sigma, rtol=1e-9, atol=1e-12)
    assert acc.count == 301


def test_merged_shards_equal_one_pass(rng):
    x = features(rng, 200, 8)
    shards = [FeatureStatistics().update(part) for part in np.array_split(x, 4)]
    merged = FeatureStatistics()
    for shard in shards:
        merged.merge(shard)
    merged.merge(FeatureStatistics())  # an empty shard changes nothing
    whole = FeatureStatistics().update(x)
    assert merged.count == whole.count == 200
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(merged.covariance, whole.covariance, rtol=1e-12, atol=1e-14)


def test_streaming_statistics_errors(rng):
    with pytest.raises(ValueError, match="at least 2 samples, got 1"):
        _ = FeatureStatistics().update(np.ones((1, 3))).covariance
    acc = FeatureStatistics().update(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dimension 4.*have 3"):
        acc.update(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"cannot merge 4-d statistics into 3-d"):
        acc.merge(FeatureStatistics().update(np.ones((2, 4))))
    loaded = FeatureStatistics.from_moments(np.zeros(3), np.eye(3), None)
    with pytest.raises(ValueError, match="without a sample count cannot be merged"):
        acc.merge(loaded)
    with pytest.raises(ValueError, match="NaN"):
        acc.update(np.full((2, 3), np.nan))


def test_file_reads_as_pytorch_fid_and_round_trips(tmp_path, rng):
    x = features(rng, 300, 10)
    mu, sigma = moments(x)
    path = tmp_path / "stats.npz"
    save_statistics(path, mu, sigma, **META)
    # What pytorch-fid (fid_score.compute_statistics_of_path) and clean-fid do with a file:
    with np.load(path, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["mu"][:], mu)
        np.testing.assert_array_equal(data["sigma"][:], sigma)
        assert data["mu"].dtype == np.float64
        assert str(data["mode"][()]) == "clean"
    loaded = load_statistics(path)
    np.testing.assert_array_equal(loaded.mu, mu)
    assert (loaded.extractor, loaded.mode, loaded.count) == ("inception-v3-fid", "clean", 300)
    assert loaded.extractor_sha256 == META["extractor_sha256"]
    assert loaded.fingerprint == META["fingerprint"]


def test_plain_pytorch_fid_file_loads_without_metadata(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, mu=np.zeros(3), sigma=np.eye(3))
    loaded = load_statistics(path)
    assert loaded.extractor is None and loaded.count is None
    check_compatible(loaded, loaded)  # unknown metadata is not checked


@pytest.mark.parametrize(
    ("key", "value"),
    [("extractor", "digits-cnn"), ("mode", "legacy_pytorch"), ("extractor_sha256", "f" * 64)],
)
def test_different_extractors_or_modes_are_refused_naming_both(tmp_path, rng, key, value):
    x = features(rng, 50, 4)
    mu, sigma = moments(x)
    save_statistics(tmp_path / "a.npz", mu, sigma, **META)
    save_statistics(tmp_path / "b.npz", mu, sigma, **{**META, key: value})
    a, b = load_statistics(tmp_path / "a.npz"), load_statistics(tmp_path / "b.npz")
    with pytest.raises(ValueError, match=f"different {key.replace('_', ' ')}") as info:
        a.frechet_distance(b)
    message = str(info.value)
    assert "a.npz" in message and "b.npz" in message
    assert str(META[key])[:12] in message and value[:12] in message


def test_bad_files_are_refused(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        load_statistics(tmp_path / "one.npy")
    np.savez(tmp_path / "other.npz", images=np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"lacks \['mu', 'sigma'\].*artifex-metrics stats"):
        load_statistics(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable statistics file"):
        load_statistics(tmp_path / "text.npz")
    with pytest.raises(ValueError, match="count must be a positive integer"):
        save_statistics(tmp_path / "x.npz", np.zeros(2), np.eye(2), **{**META, "count": 0})


@pytest.mark.filterwarnings("ignore:The `disp` argument:DeprecationWarning")
def test_fid_matches_pytorch_fid_formula_on_the_same_features(rng):
    # 64-d features from 500 images: a well-conditioned case where sqrtm is accurate.
    x, y = features(rng, 500, 64), features(rng, 400, 64, shift=0.2)
    (mu1, s1), (mu2, s2) = (moments(f) for f in (x, y))
    ours = frechet_distance(mu1, s1, mu2, s2)
    reference = pytorch_fid_calculate_frechet_distance(mu1, s1, mu2, s2)
    assert abs(ours - reference) <= 1e-6 * abs(reference)


def test_kid_matches_an_independent_subset_computation(rng):
    """Bińkowski et al.'s ``polynomial_mmd_averages`` with the same subset draws."""
    x, y = rng.normal(size=(60, 5)), rng.normal(size=(50, 5)) + 0.3
    draws = np.random.default_rng(7)
    values = []
    for _ in range(10):
        a = x[draws.choice(60, 20, replace=False)]
        b = y[draws.choice(50, 20, replace=False)]
        d, m = a.shape[1], 20
        kxx, kyy, kxy = ((p @ q.T / d + 1) ** 3 for p, q in ((a, a), (b, b), (a, b)))
        mmd = (
            (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean()
        )
        values.append(mmd)
    result = kernel_inception_distance(x, y, subsets=10, subset_size=20, seed=7)
    assert result["kid_mean"] == pytest.approx(np.mean(values), rel=1e-12)
    assert result["kid_std"] == pytest.approx(np.std(values), rel=1e-10)


def test_reservoir_keeps_the_first_rows_then_a_uniform_sample():
    rows = np.arange(30, dtype=np.float32)[:, None] * np.ones((1, 2), np.float32)
    reservoir = FeatureReservoir(10, seed=0)
    reservoir.update(rows[:7])
    np.testing.assert_array_equal(reservoir.rows, rows[:7])  # fewer rows than capacity
    for start in range(7, 30, 5):
        reservoir.update(rows[start : start + 5])
    assert reservoir.seen == 30 and reservoir.rows.shape == (10, 2)
    assert len(set(reservoir.rows[:, 0].tolist())) == 10  # ten distinct rows of the stream
    # Algorithm R keeps each of n rows with probability k / n, whatever its position and
    # however the stream is cut into batches: count over seeds, chi-square against uniform.
    n, k, trials = 20, 5, 4000
    counts = np.zeros(n)
    for seed in range(trials):
        r = FeatureReservoir(k, seed=seed)
        for batch in np.array_split(np.arange(n, dtype=np.float32)[:, None], [3, 4, 11]):
            r.update(batch)
        counts[r.rows[:, 0].astype(int)] += 1
    expected = trials * k / n
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 43.8, (chi2, counts)  # chi-square 0.999 quantile at 19 degrees of freedom
    assert FeatureReservoir(0).rows is None
    with pytest.raises(ValueError, match=r"capacity must be an integer >= 0, got -1"):
        FeatureReservoir(-1)


def test_features_round_trip_and_are_checked(tmp_path):
    mu, sigma = np.zeros(3), np.eye(3)
    features = np.random.default_rng(0).normal(size=(4, 3))
    save_statistics(tmp_path / "f.npz", mu, sigma, **META, features=features)
    loaded = load_statistics(tmp_path / "f.npz")
    np.testing.assert_array_equal(loaded.features, features.astype(np.float32))
    assert load_statistics(tmp_path / "f.npz").features.dtype == np.float32
    save_statistics(tmp_path / "n.npz", mu, sigma, **META)
    assert load_statistics(tmp_path / "n.npz").features is None
    with pytest.raises(ValueError, match=r"features must be \(K, 3\) with K >= 2.*\(4, 2\)"):
        save_statistics(tmp_path / "x.npz", mu, sigma, **META, features=features[:, :2])
