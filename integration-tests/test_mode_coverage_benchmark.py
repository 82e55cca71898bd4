"""The mode-coverage benchmark's scoring and its PacGAN discriminator (benchmarks/quality).

``score`` is checked against an independent brute-force count (a Python loop over samples
and modes) on hand-made sample sets; the packed discriminator against the same MLP applied
to the packed rows by hand. No training; only the packed-discriminator test runs JAX (marked slow).
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

QUALITY = Path(__file__).resolve().parents[1] / "benchmarks" / "quality"
if not (QUALITY / "mode_coverage.py").is_file():
    pytest.skip("benchmarks/ is in the repository only", allow_module_level=True)
sys.path.insert(0, str(QUALITY))
import mode_coverage as mc  # noqa: E402

MIXTURES = mc.mixtures()


def brute_force(samples: np.ndarray, mixture: mc.Mixture) -> tuple[list[int], float]:
    """HQ counts per mode and the HQ share, one sample and one mode at a time."""
    counts = [0] * len(mixture.modes)
    high = 0
    for x, y in samples:
        dists = [math.hypot(x - mx, y - my) for mx, my in mixture.modes]
        nearest = min(range(len(dists)), key=dists.__getitem__)
        if dists[nearest] <= 3 * mixture.std:
            counts[nearest] += 1
            high += 1
    return counts, high / len(samples)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_on_the_modes_score_full_marks(name):
    mixture = MIXTURES[name]
    samples = np.resize(mixture.modes, (mc.NUM_SAMPLES, 2))  # every mode ~equally often
    result = mc.score(samples, mixture)
    assert (result["modes"], result["modes_20"]) == (len(mixture.modes), len(mixture.modes))
    assert result["high_quality"] == 1.0
    assert sum(result["mode_counts"]) == mc.NUM_SAMPLES


def test_points_between_modes_score_zero():
    mixture = MIXTURES["grid"]
    midpoints = (mixture.modes[:-1] + mixture.modes[1:]) / 2  # 1 from the nearest mode
    result = mc.score(midpoints, mixture)
    assert (result["modes"], result["high_quality"]) == (0, 0.0)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_score_matches_a_brute_force_count(name):
    mixture = MIXTURES[name]
    rng = np.random.default_rng(0)
    # Half the modes, each with a different number of samples spread over 0-5 std, so
    # some fall inside 3 std and some outside; plus uniform background points.
    parts = [
        mixture.modes[k] + mixture.std * rng.uniform(0, 5, (3 * k + 1, 1)) * np.array([[0.6, 0.8]])
        for k in range(0, len(mixture.modes), 2)
    ]
    extent = np.abs(mixture.modes).max() + 1
    parts.append(rng.uniform(-extent, extent, (200, 2)))
    samples = np.concatenate(parts)
    counts, share = brute_force(samples, mixture)
    result = mc.score(samples, mixture)
    assert result["mode_counts"] == counts
    assert result["high_quality"] == pytest.approx(share, abs=1e-12)
    assert result["modes"] == sum(c >= 1 for c in counts)
    assert result["modes_20"] == sum(c >= 20 for c in counts)


@pytest.mark.slow  # builds and runs two small MLPs: JAX start-up and compilation
def test_packed_discriminator_scores_packs_of_samples():
    import jax.numpy as jnp
    from flax import nnx

    from artifex.generative_models.core.configuration import DiscriminatorConfig
    from artifex.generative_models.nets.mlp import Discriminator

    config = DiscriminatorConfig(
        input_shape=(2,), hidden_dims=(8, 8), activation="relu", score_type="logits"
    )
    packed = mc._packed_discriminator(config, 3, rngs=nnx.Rngs(params=0))
    plain = Discriminator(config.replace(input_shape=(6,)), rngs=nnx.Rngs(params=0))
    x = jnp.asarray(np.random.default_rng(1).normal(size=(6, 2)), jnp.float32)
    expected = np.repeat(np.asarray(plain.logits(x.reshape(2, 6))), 3, axis=0)
    np.testing.assert_array_equal(np.asarray(packed.logits(x)), expected)
    with pytest.raises(ValueError, match="batch 4 is not a multiple of the pack size 3"):
        packed.logits(x[:4])


def test_report_keeps_the_notes():
    host = dict.fromkeys(("cpu", "cores", "backend", "python", "jax", "flax", "optax"), "x")
    text = mc.report([], [], [mc.SETUPS["best"]], host, "run.py mode-coverage", [], 60.0)
    assert mc.NOTES_HEADING in text
    assert mc.NOTES_FILE.read_text().strip() in text


def test_recorded_runs_read_back_and_refuse_other_recipes(tmp_path):
    import json

    setup, ring = mc.SETUPS["vanilla"], MIXTURES["ring"]
    per_seed = [
        {"seed": s, "modes": 8, "modes_20": 7, "high_quality": 0.5, "train_s": 1.0} for s in (0, 1)
    ]
    record = {
        "part": "mode_coverage",
        "setup": "vanilla",
        "mixture": "ring",
        "steps": 2000,
        "recipe": setup.description,
        "per_seed": per_seed,
        "time": "T",
        "command": "C",
    }
    path = tmp_path / "quality.jsonl"
    path.write_text(json.dumps(record) + "\n")
    runs, origin = mc.recorded_runs(path, setup, ring, 2000, range(2))
    assert origin == "T (`C`)"
    assert [r["seed"] for r in runs] == [0, 1]
    assert mc.summarize(runs)[0]["modes_20_mean"] == 7.0
    with pytest.raises(SystemExit, match=r"lack seeds \[2\]"):
        mc.recorded_runs(path, setup, ring, 2000, range(3))
    # A later record of seed 2 (another invocation) completes the set.
    later = {**record, "per_seed": [{**per_seed[0], "seed": 2, "modes": 6}], "time": "U"}
    with path.open("a") as sink:
        sink.write(json.dumps(later) + "\n")
    runs, origin = mc.recorded_runs(path, setup, ring, 2000, range(3))
    assert [r["modes"] for r in runs] == [8, 8, 6]
    assert origin == "T (`C`), U (`C`)"
    with pytest.raises(SystemExit, match="no record of best on ring at 2000 steps"):
        mc.recorded_runs(path, mc.SETUPS["best"], ring, 2000, range(2))
