"""``artifex-metrics`` in-process through ``main(argv)``, with a tiny stand-in extractor.

The real InceptionV3 needs its converted weights (not on test machines) and a random-weight
one takes minutes to build and compile on two CPU cores, so these tests pass a cheap
extractor through ``main``'s ``load_extractor`` hook; the InceptionV3 path is the same code
after that point.
"""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    FeatureStatistics,
    frechet_distance,
    inception_score,
    kernel_inception_distance,
    load_statistics,
    precision_recall,
)
from artifex.generative_models.core.evaluation.metrics._cli import Extractor, main
from artifex.generative_models.core.evaluation.metrics._resize import (
    as_rgb_uint8,
    resize_image,
    to_extractor_range,
)

CLASSES = jax.random.normal(jax.random.key(0), (27, 5))


def tiny_features(x):
    """3x3 grid of colour means of a 299x299 image: 27-d features."""
    return (
        x[:, :297, :297, :]
        .reshape(x.shape[0], 3, 99, 3, 99, 3)
        .mean(axis=(2, 4))
        .reshape(x.shape[0], 27)
    )


def tiny_probabilities(x):
    return jax.nn.softmax(4.0 * tiny_features(x) @ CLASSES, axis=-1)


TINY = Extractor(
    name="tiny-grid", sha256="0" * 64, features=tiny_features, probabilities=tiny_probabilities
)


def run(argv, extractor=TINY):
    return main(argv, load_extractor=lambda args: extractor)


def images(n, seed, shape=(40, 32, 3)):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(1, *shape))
    noise = rng.integers(-40, 40, size=(n, *shape))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def direct_features(array, mode="clean"):
    resized = np.stack([resize_image(image, mode) for image in array])
    return np.asarray(tiny_features(jnp.asarray(to_extractor_range(resized))), np.float64)


@pytest.fixture
def arrays(tmp_path):
    a, b = images(40, 1), images(30, 2)
    np.save(tmp_path / "a.npy", a)
    np.savez(tmp_path / "b.npz", images=b)
    return a, b, tmp_path


def test_stats_of_an_array_file(arrays, capsys):
    a, _, tmp = arrays
    out = tmp / "stats.npz"
    assert run(["stats", str(tmp / "a.npy"), "--out", str(out), "--batch-size", "16"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out)
    direct = FeatureStatistics().update(direct_features(a))
    mu, sigma = direct.mean, direct.covariance
    with np.load(out, allow_pickle=False) as data:  # as pytorch-fid reads it
        np.testing.assert_allclose(data["mu"], mu, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(data["sigma"], sigma, rtol=1e-4, atol=1e-7)
    stats = load_statistics(out)
    assert (stats.extractor, stats.mode, stats.count) == ("tiny-grid", "clean", 40)
    assert len(stats.fingerprint) == 64


def test_modes_give_different_statistics_and_fingerprints_follow_data(arrays):
    a, _, tmp = arrays
    for name, mode in (("c", "clean"), ("l", "legacy_pytorch")):
        run(["stats", str(tmp / "a.npy"), "--out", str(tmp / f"{name}.npz"), "--mode", mode])
    np.save(tmp / "a2.npy", a[::-1])
    run(["stats", str(tmp / "a2.npy"), "--out", str(tmp / "r.npz")])
    clean, legacy, reverse = (load_statistics(tmp / f"{n}.npz") for n in "clr")
    assert legacy.mode == "legacy_pytorch" and not np.allclose(clean.mu, legacy.mu, rtol=1e-6)
    assert clean.fingerprint == legacy.fingerprint != reverse.fingerprint


def test_folder_of_mixed_sizes_and_channels(tmp_path, capsys):
    pil_image = pytest.importorskip("PIL.Image")
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    rgb, grey, rgba = images(1, 3, (40, 30, 3))[0], images(1, 4, (50, 50))[0], images(1, 5)[0]
    rgba = np.concatenate([rgba[:, :, :3], np.full((40, 32, 1), 7, np.uint8)], axis=2)
    pil_image.fromarray(rgb).save(folder / "a.png")
    pil_image.fromarray(grey).save(folder / "b.png")
    pil_image.fromarray(rgba).save(folder / "sub" / "c.png")
    (folder / "notes.txt").write_text("ignored")
    assert run(["stats", str(folder), "--out", str(tmp_path / "s.npz"), "--quiet"]) == 0
    expected = np.concatenate(
        [direct_features(as_rgb_uint8(image)[None]) for image in (rgb, grey, rgba)]
    )
    stats = load_statistics(tmp_path / "s.npz")
    assert stats.count == 3
    np.testing.assert_allclose(stats.mu, expected.mean(0), rtol=1e-5, atol=1e-6)


def test_fid_of_arrays_and_of_a_statistics_file_agree(arrays, capsys):
    a, b, tmp = arrays
    assert run(["fid", str(tmp / "a.npy"), str(tmp / "b.npz")]) == 0
    printed = float(capsys.readouterr().out.split("fid:")[1])
    (mu1, s1), (mu2, s2) = (
        (lambda s: (s.mean, s.covariance))(FeatureStatistics().update(direct_features(x)))
        for x in (a, b)
    )
    assert printed == pytest.approx(frechet_distance(mu1, s1, mu2, s2), rel=1e-4)
    run(["stats", str(tmp / "a.npy"), "--out", str(tmp / "sa.npz")])
    capsys.readouterr()
    assert run(["fid", str(tmp / "sa.npz"), str(tmp / "b.npz")]) == 0
    assert float(capsys.readouterr().out.split("fid:")[1]) == pytest.approx(printed, rel=1e-9)


def test_kid_is_pr_match_the_functions(arrays, capsys):
    a, b, tmp = arrays
    fa, fb = direct_features(a), direct_features(b)
    assert run(["kid", str(tmp / "a.npy"), str(tmp / "b.npz"), "--subsets", "5"]) == 0
    out = dict(line.split(": ") for line in capsys.readouterr().out.strip().splitlines())
    expected = kernel_inception_distance(fa, fb, subsets=5, subset_size=30)
    assert float(out["kid_mean"]) == pytest.approx(expected["kid_mean"], rel=1e-3, abs=1e-7)
    assert run(["pr", str(tmp / "a.npy"), str(tmp / "b.npz")]) == 0
    out = dict(line.split(": ") for line in capsys.readouterr().out.strip().splitlines())
    assert float(out["precision"]) == pytest.approx(precision_recall(fa, fb)["precision"])
    assert run(["is", str(tmp / "a.npy"), "--splits", "4"]) == 0
    out = dict(line.split(": ") for line in capsys.readouterr().out.strip().splitlines())
    resized = np.stack([resize_image(image, "clean") for image in a])
    probabilities = np.asarray(tiny_probabilities(jnp.asarray(to_extractor_range(resized))))
    expected_is = inception_score(probabilities.astype(np.float64), splits=4)
    assert float(out["is_mean"]) == pytest.approx(expected_is["is_mean"], rel=1e-4)


def test_progress_lines_on_stderr(arrays, capsys):
    _, _, tmp = arrays
    run(["stats", str(tmp / "a.npy"), "--out", str(tmp / "s.npz"), "--batch-size", "4"])
    err = capsys.readouterr().err
    assert "40/40 images" in err and "images/s" in err


def error_of(argv, capsys, extractor=TINY):
    capsys.readouterr()  # drop what earlier runs printed
    code = run(argv, extractor)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("artifex-metrics: error: ")
    return err


def test_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    err = error_of(["stats", str(tmp_path / "empty"), "--out", str(tmp_path / "s.npz")], capsys)
    assert "holds no images" in err


def test_statistics_of_another_mode_or_extractor(arrays, capsys):
    _, _, tmp = arrays
    run(["stats", str(tmp / "a.npy"), "--out", str(tmp / "l.npz"), "--mode", "legacy_pytorch"])
    err = error_of(["fid", str(tmp / "l.npz"), str(tmp / "b.npz")], capsys)
    assert "mode legacy_pytorch" in err and "clean" in err and "l.npz" in err
    other = Extractor(name="other-net", sha256="1" * 64, features=tiny_features)
    run(["stats", str(tmp / "b.npz"), "--out", str(tmp / "o.npz")], other)
    err = error_of(
        ["fid", str(tmp / "l.npz"), str(tmp / "o.npz"), "--mode", "legacy_pytorch"], capsys
    )
    assert "tiny-grid" in err and "other-net" in err


def test_statistics_where_features_are_needed(arrays, capsys):
    _, _, tmp = arrays
    run(["stats", str(tmp / "a.npy"), "--out", str(tmp / "s.npz"), "--kid-features", "0"])
    capsys.readouterr()
    err = error_of(["kid", str(tmp / "s.npz"), str(tmp / "b.npz")], capsys)
    assert "statistics file" in err and "--kid-features" in err
    run(["stats", str(tmp / "a.npy"), "--out", str(tmp / "k.npz")])
    err = error_of(["pr", str(tmp / "k.npz"), str(tmp / "b.npz")], capsys)
    assert "statistics file" in err and "pr" in err
    # argparse's own error (with the usage above it), exit status 2
    assert run(["stats", str(tmp / "a.npy"), "--out", "x.npz", "--kid-features", "1"]) == 2
    assert "--kid-features: expected 0 (none) or an integer >= 2, got 1" in capsys.readouterr().err


def test_kid_against_the_feature_sample_of_a_statistics_file(arrays, capsys):
    a, b, tmp = arrays
    # 25 of a's 40 features kept: KID against the file equals KID against those rows.
    args = ["stats", str(tmp / "a.npy"), "--out", str(tmp / "s.npz"), "--batch-size", "16"]
    assert run([*args, "--kid-features", "25"]) == 0
    kept = load_statistics(tmp / "s.npz").features
    assert kept.shape == (25, 27) and kept.dtype == np.float32
    fa = direct_features(a)
    # Each kept row is one of a's features (a sample, not an average).
    nearest = np.abs(kept[:, None, :] - fa[None, :, :].astype(np.float32)).max(-1).min(-1)
    assert nearest.max() < 1e-4
    assert len({int(np.argmin(np.abs(fa - row).max(-1))) for row in kept}) == 25
    capsys.readouterr()
    assert run(["kid", str(tmp / "s.npz"), str(tmp / "b.npz"), "--subsets", "5"]) == 0
    out = dict(line.split(": ") for line in capsys.readouterr().out.strip().splitlines())
    expected = kernel_inception_distance(kept, direct_features(b), subsets=5, subset_size=25)
    assert float(out["kid_mean"]) == pytest.approx(expected["kid_mean"], rel=1e-3, abs=1e-7)


def test_a_dataset_an_installed_package_names(tmp_path, capsys, monkeypatch):
    from importlib import metadata

    calls = []

    def provide(*, split, path):
        calls.append((split, path))
        return images(12, 3, (16, 16, 1))

    class Point:
        name = "toy"

        def load(self):
            return provide

    monkeypatch.setattr(
        metadata,
        "entry_points",
        lambda group: [Point()] if group == "artifex.generative_models.image_datasets" else [],
    )
    out = tmp_path / "s.npz"
    assert run(["stats", "toy:test=/data/x", "--out", str(out)]) == 0
    assert calls == [("test", "/data/x")]
    stats = load_statistics(out)
    expected = FeatureStatistics.from_features(direct_features(images(12, 3, (16, 16, 1))))
    np.testing.assert_allclose(stats.mu, expected.mean, rtol=1e-5)
    assert stats.count == 12
    err = error_of(["stats", "nothing:test", "--out", str(out)], capsys)
    assert "no dataset named 'nothing'" in err and "installed datasets: toy" in err

    def broken(*, split, path):
        raise ValueError("dataset toy needs a path")

    Point.load = lambda self: broken
    assert "toy: dataset toy needs a path" in error_of(["is", "toy"], capsys)
    Point.load = lambda self: lambda **_: np.zeros((3, 4, 4, 3), np.float32)
    assert "expected uint8 (N, H, W, C)" in error_of(["is", "toy"], capsys)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: np.save(p, np.zeros((3, 8, 8, 3), np.float32)), "uint8"),
        (lambda p: np.save(p, np.zeros((3, 8, 8, 5), np.uint8)), "C = 1"),
        (lambda p: np.save(p, np.zeros((0, 8, 8, 3), np.uint8)), "no images"),
        (lambda p: np.save(p, np.zeros((8, 8), np.uint8)), "(N, H, W)"),
    ],
)
def test_bad_arrays(tmp_path, capsys, make, message):
    make(tmp_path / "x.npy")
    assert message in error_of(["fid", str(tmp_path / "x.npy"), str(tmp_path / "x.npy")], capsys)


def test_missing_source_and_pillow(tmp_path, capsys, monkeypatch):
    assert "no such file" in error_of(["is", str(tmp_path / "nope")], capsys)
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "x.png").write_bytes(b"not a png")
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    err = error_of(["is", str(tmp_path / "f")], capsys)
    assert 'pip install "artifex-metrics[images]"' in err


def test_unreadable_image_file(tmp_path, capsys):
    pytest.importorskip("PIL.Image")
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "x.png").write_bytes(b"not a png")
    assert "not a readable image" in error_of(["is", str(tmp_path / "f")], capsys)


def test_debug_shows_the_traceback_and_bad_arguments_exit_2(tmp_path, capsys):
    with pytest.raises(Exception, match="no such file"):
        run(["--debug", "is", str(tmp_path / "nope")])
    assert run(["fid", "only-one"]) == 2
    assert run(["stats", "x", "--out", "y.npz", "--mode", "bicubic"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_weights_that_are_not_inception(tmp_path, capsys):
    np.savez(tmp_path / "w.npz", x=np.zeros(2))
    np.save(tmp_path / "a.npy", images(3, 0))
    err = main(["is", str(tmp_path / "a.npy"), "--weights", str(tmp_path / "w.npz")])
    assert err == 2
    assert "is not InceptionV3 weights" in capsys.readouterr().err


def test_convert_inception_prints_the_path_last(tmp_path, capsys, monkeypatch):
    conversion = pytest.importorskip(
        "artifex.generative_models.core.evaluation.metrics.inception_conversion"
    )
    if not hasattr(conversion, "convert_inception_weights"):
        pytest.skip("convert_inception_weights is not written yet")
    pth = tmp_path / "w.pth"
    pth.write_bytes(b"not a checkpoint")
    assert main(["convert-inception", str(pth), "--cache-dir", str(tmp_path)]) == 2
    assert "artifex-metrics: error:" in capsys.readouterr().err
    calls = []

    def fake(path, *, sha256=None, cache_dir=None):
        calls.append((path, sha256, cache_dir))
        return tmp_path / "converted.npz"

    monkeypatch.setattr(conversion, "convert_inception_weights", fake)
    assert main(["convert-inception", str(pth), "--sha256", "abcdef12"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(tmp_path / "converted.npz")
    assert calls == [(pth, "abcdef12", None)]


@pytest.mark.slow
def test_real_inception_v3_with_random_weights(tmp_path, capsys):
    """The default extractor path: --weights names a converted .npz (random values here)."""
    from artifex.generative_models.core.evaluation.metrics._params_io import module_shapes
    from artifex.generative_models.core.evaluation.metrics.inception import abstract_inception_v3

    rng = np.random.default_rng(0)
    # Random arrays of the right shapes: building InceptionV3 with its initialisers is ~1 min.
    weights = {
        name: (
            np.abs(rng.normal(size=shape)) + 0.5
            if name.endswith("/var")
            else rng.normal(size=shape) * 0.05
        ).astype(np.float32)
        for name, shape in module_shapes(abstract_inception_v3()).items()
    }
    np.savez(tmp_path / "w.npz", **weights)
    np.save(tmp_path / "a.npy", images(3, 0))
    argv = ["--weights", str(tmp_path / "w.npz"), "--batch-size", "3"]
    assert main(["stats", str(tmp_path / "a.npy"), "--out", str(tmp_path / "s.npz"), *argv]) == 0
    stats = load_statistics(tmp_path / "s.npz")
    assert stats.extractor == "inception-v3-fid" and stats.mu.shape == (2048,)
    assert len(stats.extractor_sha256) == 64 and stats.count == 3
