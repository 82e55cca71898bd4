"""Data efficiency with augmentation on 10 % of the digits (the quality suite, part 3).

The ``dcgan`` preset (``training/presets.py``) trained on the first 144 of the 1,438
training digits (10 %; the bundled file's order cycles through the classes, so the subset
holds 12 to 18 of each digit) in these settings, the same iterations for all:

* ``none``: no augmentation;
* ``diffaugment``: DiffAugment (colour, translation, cutout) on every image D sees;
* ``ada``: stylegan2-ada's ``bgc`` pipeline with p adapted toward ``E[sign(D(real))] = 0.6``
  at the speed of :data:`ADA_SPEED_IMAGES` images from 0 to 1 (stylegan2-ada's 500k would
  let p reach at most ~0.5 in 4,000 iterations of 64 images);

and, to find where augmentation pays on 8x8 digits, ``diffaugment-ct`` / ``diffaugment-color``
(DiffAugment without cutout) and ``ada-digits`` (the ``dcgan-ada`` preset's ADA: only the
transforms that keep a digit a digit), on ``--subset`` images (72 shows the gain);
and, for context, ``full-none``: all 1,438 training digits, no augmentation. Each run
scores FID-digits (1000 samples of the EMA generator, the digits classifier's features)
against the full held-out split (359 digits) every :data:`EVAL_EVERY` iterations and at the
end (``run_experiment``'s ``scores.json``), beside two floors: the full training split
against the held-out one (real vs real) and the 144-image subset against it (what a
generator that memorised its training set would score).
Beside FID, a memorisation measure: the final grid's samples' nearest-neighbour pixel
distance to the training subset vs to as many held-out digits (:func:`memorisation`).
Every invocation merges its runs into ``quality/data_efficiency_runs.json`` and rewrites
the page from all of them.

Training goes through the library's run driver, ``run_experiment`` of ``artifex-train``
(the same as ``artifex-train train --preset dcgan --set ...``), one run folder per setting
and seed.

    python benchmarks/quality/run.py data-efficiency                 # full protocol
    python benchmarks/quality/run.py data-efficiency --seeds 1 --steps 100 --out /tmp/x
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
sys.path.insert(0, str(HERE))

SUBSET = 144
"""Training images of the small-data settings: 10 % of the 1,438 training digits."""

ADA_SPEED_IMAGES = 50_000
"""Images for ADA's p to go from 0 to 1 (``AugmentConfig.speed_images``)."""

EVAL_EVERY = 500
"""Iterations between the periodic FID evaluations (the FID-over-time curves)."""

STEPS = 4_000
"""Training iterations of every setting (batch 64: 1,778 epochs of the 144 images)."""


def settings(subset: int = SUBSET) -> dict[str, dict[str, Any]]:
    """Setting name -> ``{"examples": N or None, "augment": AugmentConfig, "description"}``.

    ``subset``: training images of the small-data settings (the first ``subset`` digits).
    """
    from artifex.generative_models.core.configuration import AugmentConfig
    from artifex.generative_models.training.presets import preset

    # stylegan2-ada's 'bgc' pipeline at ADA_SPEED_IMAGES (the dcgan-ada preset's first recipe).
    ada = AugmentConfig(kind="ada", target=0.6, speed_images=ADA_SPEED_IMAGES)
    digits_ada = preset("dcgan-ada").training.augment
    return {
        "none": {
            "examples": subset,
            "augment": AugmentConfig(),
            "description": f"{subset} images, no augmentation",
        },
        "diffaugment": {
            "examples": subset,
            "augment": AugmentConfig(kind="diffaugment"),
            "description": f"{subset} images, DiffAugment (color, translation, cutout)",
        },
        # Without cutout, which at 8x8 blanks a 4x4 quarter of every image.
        "diffaugment-ct": {
            "examples": subset,
            "augment": AugmentConfig(kind="diffaugment", policy=("color", "translation")),
            "description": f"{subset} images, DiffAugment (color, translation)",
        },
        "diffaugment-color": {
            "examples": subset,
            "augment": AugmentConfig(kind="diffaugment", policy=("color",)),
            "description": f"{subset} images, DiffAugment (color)",
        },
        "ada": {
            "examples": subset,
            "augment": ada,
            "description": (
                f"{subset} images, ADA {_ada_name(ada.transforms)}, target {ada.target}, "
                f"speed {ada.speed_images:,} images, interval {ada.interval}, p from {ada.p}"
            ),
        },
        "ada-digits": {
            "examples": subset,
            # The dcgan-ada preset's augmentation: the transforms that keep digits digits.
            "augment": digits_ada,
            "description": (
                f"{subset} images, ADA {_ada_name(digits_ada.transforms)}, target "
                f"{digits_ada.target}, speed {digits_ada.speed_images:,} images, interval "
                f"{digits_ada.interval}, p from {digits_ada.p}"
            ),
        },
        "full-none": {
            "examples": None,
            "augment": AugmentConfig(),
            "description": "all 1,438 training images, no augmentation (reference)",
        },
    }


def _ada_name(transforms: tuple[str, ...]) -> str:
    from artifex.generative_models.core.configuration.training_config import ADA_TRANSFORMS

    return "bgc" if tuple(transforms) == ADA_TRANSFORMS else ", ".join(transforms)


def experiment_for(setting: dict[str, Any], steps: int, seed: int, eval_every: int) -> Any:
    """The ``dcgan`` preset with the setting's data subset, augmentation, steps and seed."""
    from artifex.generative_models.core.configuration import EvaluationConfig
    from artifex.generative_models.training.presets import preset

    experiment = preset("dcgan")
    training = experiment.training
    log_every = math.gcd(100, eval_every, steps)
    dispatch = math.gcd(training.steps_per_dispatch, log_every)
    training = training.replace(
        steps=steps,
        seed=seed,
        steps_per_dispatch=dispatch,
        data=training.data.replace(max_examples=setting["examples"], seed=seed),
        augment=setting["augment"],
        evaluation=EvaluationConfig(
            every=eval_every, samples=1000, batch_size=250, against="digits", keep_best=False
        ),
        logging=training.logging.replace(log_every=log_every, sample_every=0),
        checkpoint=training.checkpoint.replace(
            every_n_steps=dispatch * (steps // dispatch + 1), resume=False, save_final=False
        ),
    )
    return experiment.replace(training=training)


def floors(subsets: list[int]) -> dict[str, float]:
    """FID-digits of real images against the held-out split: full train and each subset.

    Keys: ``full_train_vs_test`` and ``subset_vs_test`` (the protocol's :data:`SUBSET`),
    ``subset_N_vs_test`` for each other subset size ``N``.
    """
    from artifex.generative_models.core.evaluation.metrics import (
        FrechetInceptionDistance,
        digits_feature_extractor,
        load_digits,
    )

    fid = FrechetInceptionDistance(feature_extractor=digits_feature_extractor())
    train, test = load_digits("train")[0], load_digits("test")[0]
    result = {"full_train_vs_test": float(fid.compute(train, test)["fid"])}
    for subset in dict.fromkeys([SUBSET, *subsets]):
        result[floor_key(subset)] = float(fid.compute(train[:subset], test)["fid"])
    return result


def floor_key(subset: int) -> str:
    """The :func:`floors` key of a subset's real-vs-held-out FID."""
    return "subset_vs_test" if subset == SUBSET else f"subset_{subset}_vs_test"


def subset_class_counts(subset: int = SUBSET) -> list[int]:
    """Images of each digit among the first ``subset`` training digits."""
    from artifex.generative_models.core.evaluation.metrics import load_digits

    labels = load_digits("train")[1][:subset]
    return [int(c) for c in np.bincount(labels, minlength=10)]


GRID_SCALE, GRID_PADDING = 4, 1
"""How ``run_experiment`` writes ``samples/final.png`` (``artifacts.save_image_grid``)."""


def grid_samples(path: Path, *, size: int = 8) -> np.ndarray:
    """The ``size`` x ``size`` images of a sample grid PNG, NHWC in ``[-1, 1]``.

    The grid is exact: each pixel is a ``GRID_SCALE`` square of one uint8 value, the tiles
    are ``GRID_PADDING`` apart, and black padding tiles past the last sample are dropped.
    """
    from PIL import Image

    grid = np.asarray(Image.open(path))[::GRID_SCALE, ::GRID_SCALE].astype(np.float32)
    step = size + GRID_PADDING
    tiles = [
        grid[top : top + size, left : left + size]
        for top in range(GRID_PADDING, grid.shape[0] - size + 1, step)
        for left in range(GRID_PADDING, grid.shape[1] - size + 1, step)
    ]
    return np.stack(tiles)[..., None] / 127.5 - 1.0


def memorisation(samples: np.ndarray, subset: int) -> dict[str, float]:
    """Nearest-neighbour distances of ``samples`` to the training subset and to held-out digits.

    FID against the held-out digits cannot tell a generator that copies its ``subset``
    training images from one that generalises. Here each sample's Euclidean pixel distance
    to its nearest training image (``d_train``) and to its nearest of as many held-out
    images (``d_test``, the first ``subset`` of the held-out split, so both sets are the
    same size) is measured: a copier has ``d_train`` near 0 and ``near_train`` (the
    fraction of samples nearer a training image than any held-out one) near 1, a
    generator of new digits ``d_train`` about ``d_test`` and ``near_train`` about 0.5.
    ``ref_*``: the same for held-out digits not in either set (a perfect generalisation).
    """
    from artifex.generative_models.core.evaluation.metrics import load_digits

    train, test = load_digits("train")[0], load_digits("test")[0]
    count = min(subset, len(test) // 2)
    pools = train[:subset].reshape(subset, -1), test[:count].reshape(count, -1)

    def nearest(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = x.reshape(len(x), -1)
        d_train, d_test = (
            np.sqrt(((x[:, None, :] - pool[None]) ** 2).sum(-1)).min(1) for pool in pools
        )
        return d_train, d_test

    d_train, d_test = nearest(np.asarray(samples, np.float64))
    r_train, r_test = nearest(test[count:].astype(np.float64))
    return {
        "d_train": float(d_train.mean()),
        "d_test": float(d_test.mean()),
        "near_train": float((d_train < d_test).mean()),
        "ref_d_train": float(r_train.mean()),
        "ref_d_test": float(r_test.mean()),
        "ref_near_train": float((r_train < r_test).mean()),
    }


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The logged rows of a run's ``metrics.jsonl``."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def folder_name(name: str, setting: dict[str, Any], steps: int, seed: int) -> str:
    """A run folder's name: the setting, its images and iterations, the seed."""
    examples = setting["examples"] or "all"
    return f"{name}-n{examples}-s{steps}-seed{seed}"


def train_one(
    name: str, setting: dict[str, Any], seed: int, steps: int, eval_every: int, work: Path
) -> dict[str, Any]:
    """One run through ``run_experiment``: final scores, curves, wall time, grid path."""
    from artifex.generative_models.training.run import run_experiment

    folder = work / folder_name(name, setting, steps, seed)
    if folder.exists():
        shutil.rmtree(folder)
    experiment = experiment_for(setting, steps, seed, eval_every)
    start = time.perf_counter()
    run_experiment(experiment, folder)
    return collect(folder, name, setting, seed, time.perf_counter() - start)


def collect(
    folder: Path, name: str, setting: dict[str, Any], seed: int, seconds: float | None = None
) -> dict[str, Any]:
    """A finished run folder's scores, curves and memorisation; the wall time.

    Without ``seconds``, the wall time is from ``config.yaml`` (written first) to
    ``scores.json`` (written last). The memorisation measure is of the 64 samples of the
    final grid (the EMA generator).
    """
    scores = json.loads((folder / "scores.json").read_text())
    if seconds is None:
        seconds = (folder / "scores.json").stat().st_mtime - (
            folder / "config.yaml"
        ).stat().st_mtime
    rows = read_metrics(folder / "metrics.jsonl")

    def series(key: str) -> list[tuple[int, float]]:
        return [(int(r["step"]), float(r[key])) for r in rows if key in r and "step" in r]

    curve, p_curve = series("fid"), series("augment_p")
    grid = folder / "samples" / "final.png"
    examples = setting["examples"]
    return {
        "setting": name,
        "description": setting["description"],
        "examples": examples,
        "seed": seed,
        "steps": int(scores["steps"]),
        "fid": float(scores["fid_digits"]),
        "kid": float(scores["kid_digits"]),
        "floor": float(scores["fid_digits_floor_real_vs_real"]),
        "best_fid": min((f for _, f in curve), default=float("nan")),
        "best_step": min(curve, key=lambda c: c[1])[0] if curve else None,
        "fid_curve": curve,
        "p_curve": p_curve,
        "sign_curve": series("real_sign"),
        "final_p": p_curve[-1][1] if p_curve else None,
        "train_s": seconds,
        "grid": str(grid),
        # A full-data run is measured against the protocol's subset (which it contains).
        "memorisation": memorisation(grid_samples(grid), examples or SUBSET),
    }


def run_key(run: dict[str, Any]) -> tuple[str, int | None, int, int]:
    """What makes a run unique in the merged results: setting, images, iterations, seed."""
    return run["setting"], run.get("examples", SUBSET), run["steps"], run["seed"]


def merge_runs(past: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``past`` with ``new`` added; a new run replaces a past one of the same :func:`run_key`.

    Runs recorded before the subset and the memorisation measure existed are of the
    protocol's :data:`SUBSET` images (the full-data reference of all of them).
    """
    merged: dict[tuple[str, int | None, int, int], dict[str, Any]] = {}
    protocol = settings(SUBSET)
    for run in [*past, *new]:
        run = dict(run)
        if "description" not in run:
            run["examples"] = protocol[run["setting"]]["examples"]
            run["description"] = protocol[run["setting"]]["description"]
        merged[run_key(run)] = run
    return list(merged.values())


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std(ddof=1)) if array.size > 1 else 0.0


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per setting, images and iterations: mean ± std over its seeds."""
    rows = []
    for group in dict.fromkeys(run_key(r)[:3] for r in runs):
        mine = [r for r in runs if run_key(r)[:3] == group]
        name, examples, steps = group
        fid, fid_std = mean_std([r["fid"] for r in mine])
        best, best_std = mean_std([r["best_fid"] for r in mine])
        kid, kid_std = mean_std([r["kid"] for r in mine])
        seconds, seconds_std = mean_std([r["train_s"] for r in mine])
        finals = [r["final_p"] for r in mine if r["final_p"] is not None]
        measured = [r["memorisation"] for r in mine if r.get("memorisation")]
        memo = {
            key: mean_std([m[key] for m in measured]) if measured else None
            for key in ("d_train", "d_test", "near_train")
        }
        rows.append(
            {
                "setting": name,
                "description": mine[0].get("description", name),
                "examples": examples,
                "seeds": len(mine),
                "steps": steps,
                "fid_mean": fid,
                "fid_std": fid_std,
                "best_fid_mean": best,
                "best_fid_std": best_std,
                "kid_mean": kid,
                "kid_std": kid_std,
                "final_p_mean": float(np.mean(finals)) if finals else None,
                "train_s_mean": seconds,
                "train_s_std": seconds_std,
                "memorisation": memo,
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of the summary rows."""
    lines = [
        "| setting | data | seeds | steps | FID-digits (end) | best periodic FID "
        "| KID-digits (end) | ADA p (end) | d_train / d_test | near train "
        "| train s / run |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        p = _p(r["final_p_mean"])
        memo = r["memorisation"]
        distances = near = ""
        if memo["d_train"] is not None:
            distances = f"{memo['d_train'][0]:.2f} / {memo['d_test'][0]:.2f}"
            near = f"{memo['near_train'][0]:.2f} ± {memo['near_train'][1]:.2f}"
        lines.append(
            f"| {r['setting']} | {r['description']} | {r['seeds']} | {r['steps']} "
            f"| {r['fid_mean']:.2f} ± {r['fid_std']:.2f} "
            f"| {r['best_fid_mean']:.2f} ± {r['best_fid_std']:.2f} "
            f"| {r['kid_mean']:.1f} ± {r['kid_std']:.1f} | {p} | {distances} | {near} "
            f"| {r['train_s_mean']:.0f} ± {r['train_s_std']:.0f} |"
        )
    return "\n".join(lines)


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


COLOURS = {
    "none": "tab:red",
    "diffaugment": "tab:blue",
    "diffaugment-ct": "tab:cyan",
    "diffaugment-color": "tab:purple",
    "ada": "tab:green",
    "ada-digits": "tab:olive",
    "full-none": "k",
}


def plot_curves(
    runs: list[dict[str, Any]], key: str, ylabel: str, title: str, path: Path, **hlines: float
) -> bool:
    """One line per run of ``key`` (a list of (step, value)) over the iterations."""
    plt = _pyplot()
    if plt is None or not any(r[key] for r in runs):
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    seen: set[str] = set()
    for r in runs:
        if not r[key]:
            continue
        steps, values = zip(*r[key], strict=True)
        label = None if r["setting"] in seen else r["setting"]
        seen.add(r["setting"])
        ax.plot(steps, values, color=COLOURS.get(r["setting"]), alpha=0.8, label=label)
    styles = iter(["--", ":", "-."])
    for name, value in hlines.items():
        ax.axhline(value, color="grey", linestyle=next(styles), linewidth=1, label=name)
    if key == "fid_curve":
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_grids(runs: list[dict[str, Any]], seed: int, path: Path) -> bool:
    """The final sample grid (EMA generator) of each setting's run of ``seed``, side by side."""
    plt = _pyplot()
    chosen = [r for r in runs if r["seed"] == seed and Path(r["grid"]).exists()]
    if plt is None or not chosen:
        return False
    fig, axes = plt.subplots(1, len(chosen), figsize=(3.2 * len(chosen), 3.6), dpi=100)
    for ax, r in zip(np.atleast_1d(axes), chosen, strict=True):
        ax.imshow(plt.imread(r["grid"]), cmap="gray")
        ax.set_title(f"{r['setting']}\nFID {r['fid']:.2f}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def _p(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _memo(run: dict[str, Any]) -> str:
    memo = run.get("memorisation")
    if not memo:
        return " | "
    return f"{memo['d_train']:.2f} / {memo['d_test']:.2f} | {memo['near_train']:.2f}"


def _data(run: dict[str, Any]) -> str:
    return "all" if run["examples"] is None else str(run["examples"])


PER_SEED_HEADER = (
    "| setting | images | steps | seed | FID (end) | best periodic FID | KID | ADA p (end) "
    "| d_train / d_test | near train | train s |"
)


def report(
    rows: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    reals: dict[str, float],
    host: dict[str, Any],
    command: str,
    plots: list[str],
    notes: str,
) -> str:
    """The Markdown page of the (merged) results."""
    per_seed = "\n".join(
        f"| {r['setting']} | {_data(r)} | {r['steps']} | {r['seed']} | {r['fid']:.2f} "
        f"| {r['best_fid']:.2f} (step {r['best_step']}) | {r['kid']:.1f} | "
        f"{_p(r['final_p'])} | {_memo(r)} | {r['train_s']:.0f} |"
        for r in runs
    )
    curves = "\n".join(
        f"| {r['setting']} | {_data(r)} | {r['seed']} | "
        + ", ".join(f"{s}: {f:.1f}" for s, f in r["fid_curve"])
        + " |"
        for r in runs
    )
    plot_lines = (
        "\n".join(f"* [{Path(p).name}]({p})" for p in plots) or "* none (matplotlib missing)"
    )
    counts = ", ".join(f"{d}: {c}" for d, c in enumerate(subset_class_counts()))
    subset_floors = "; ".join(
        f"the first {n} training digits {reals[floor_key(n)]:.2f}"
        for n in sorted({r["examples"] for r in runs if r["examples"]})
        if floor_key(n) in reals
    )
    reference = next(
        (r["memorisation"] for r in runs if r.get("memorisation") and r["examples"] == SUBSET),
        None,
    )
    reference_line = (
        ""
        if reference is None
        else (
            f"For held-out digits in neither set (a generator of new digits), at {SUBSET} "
            f"images: d_train / d_test {reference['ref_d_train']:.2f} / "
            f"{reference['ref_d_test']:.2f}, near train {reference['ref_near_train']:.2f}; "
            "for copies of the training images: d_train 0, near train 1."
        )
    )
    return f"""# Quality suite: data efficiency with augmentation (small subsets of the digits)

Written by `benchmarks/quality/run.py data-efficiency` (last: `{command}`); every
invocation merges its runs into `quality/data_efficiency_runs.json` (a run of the same
setting, images, iterations and seed replaces the earlier one) and rewrites this page from
all of them.

The `dcgan` preset (conv G 64-32 with batch norm, conv D 32-64 with batch norm, the
non-saturating loss, Adam 2e-4 / 0.5, batch 64, EMA 0.99) trained through
`run_experiment` of `artifex-train` on the first N of the 1,438 training digits (the
protocol: N = {SUBSET}, 10 %, per digit {counts}) with no augmentation, DiffAugment and
ADA, the same number of iterations within a comparison; the full training split without
augmentation for context. Each `--set` is what `artifex-train train --preset dcgan` would
take, e.g. for `ada`:

    artifex-train train --preset dcgan --out runs/ada --set training.steps=4000 \\
      --set training.data.max_examples={SUBSET} --set training.augment.kind=ada \\
      --set training.augment.speed_images={ADA_SPEED_IMAGES} \\
      --set training.evaluation.every=500

FID-digits: 1000 samples of the EMA generator against the full held-out split (359 digits)
in the features of the bundled digits classifier (lower is better). "end": after the last
iteration (`scores.json`); "best periodic": the lowest of the periodic evaluations (the
run's `metrics.jsonl`), which an early stop on FID would keep. Mean ± standard deviation
over the seeds.

Memorisation (FID against the held-out digits cannot tell copying from generalising): the
64 samples of each run's final grid (EMA generator), each one's Euclidean pixel distance
(64 pixels in [-1, 1]) to its nearest training image (d_train) and to its nearest of as many
held-out digits (d_test); "near train": the fraction of samples nearer a training image.
{reference_line}

## Results

{table(rows)}

Floors (real images against the held-out split): the full training split
{reals["full_train_vs_test"]:.2f}; {subset_floors} (a generator that memorised its N
images would score about this).

"train s / run": wall time of `run_experiment` (compile, training, the periodic FID
evaluations, the grids and the final scoring) on 2 CPU cores shared with other jobs.

{notes}

## Machine

{host["cpu"]}, {host["cores"]} cores (shared with other jobs while this ran), backend
{host["backend"]}; Python {host["python"]}, jax {host["jax"]}, flax {host["flax"]},
optax {host["optax"]}.

## Plots

{plot_lines}

## Per seed

{PER_SEED_HEADER}
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{per_seed}

## FID over time

| setting | images | seed | iteration: FID |
| --- | ---: | ---: | --- |
{curves}
"""


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Run the data-efficiency benchmark; print the table; write the results."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per setting")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=STEPS, help="iterations of every run")
    parser.add_argument(
        "--subset",
        type=int,
        default=SUBSET,
        help=f"training images of the small-data settings (default {SUBSET}: 10 %%)",
    )
    parser.add_argument(
        "--eval-every", type=int, default=None, help=f"periodic FID (default {EVAL_EVERY})"
    )
    parser.add_argument(
        "--settings",
        default="none,diffaugment,ada,full-none",
        help="comma-separated names of settings() (default: the four of the protocol)",
    )
    parser.add_argument(
        "--reference-seeds",
        type=int,
        default=1,
        help="seeds of the full-data reference (full-none)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help="results folder (quality_data_efficiency.md, quality.jsonl, quality/*.png)",
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="run folders (default: a temporary folder)"
    )
    parser.add_argument("--notes", type=Path, default=None, help="Markdown added to the page")
    parser.add_argument(
        "--collect",
        action="store_true",
        help="train nothing: report the finished run folders in --work (NAME-seedN)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    from mode_coverage import machine

    eval_every = args.eval_every or min(EVAL_EVERY, args.steps)
    if args.steps % eval_every:
        parser.error("--steps must be a multiple of --eval-every")
    batch = _preset_batch_size()
    if not batch <= args.subset <= 1438:
        parser.error(
            f"--subset must be from the batch size ({batch}: the pipeline drops an incomplete "
            f"batch) to the 1,438 training digits, got {args.subset}"
        )
    all_settings = settings(args.subset)
    names = args.settings.split(",")
    unknown = [n for n in names if n not in all_settings]
    if unknown:
        parser.error(f"unknown settings {unknown}; known: {', '.join(all_settings)}")
    host = machine()
    command = " ".join(["run.py data-efficiency", *(argv if argv is not None else sys.argv[1:])])
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    args.out.mkdir(parents=True, exist_ok=True)
    figures = args.out / "quality"
    store = figures / "data_efficiency_runs.json"
    past = json.loads(store.read_text())["runs"] if store.exists() else []
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="data-efficiency-") as scratch:
        work = args.work or Path(scratch)
        for seed_index in range(args.seeds):
            seed = args.first_seed + seed_index
            for name in names:
                if name == "full-none" and seed_index >= args.reference_seeds:
                    continue
                setting = all_settings[name]
                if args.collect:
                    folder = finished_folder(work, name, setting, args.steps, seed)
                    if folder is None:
                        continue
                    run = collect(folder, name, setting, seed)
                else:
                    run = train_one(name, setting, seed, args.steps, eval_every, work)
                runs.append(run)
                p = "" if run["final_p"] is None else f", p {run['final_p']:.2f}"
                memo = run["memorisation"]
                print(
                    f"{name:17s} seed {seed}: FID {run['fid']:7.2f} (best {run['best_fid']:.2f}"
                    f" at {run['best_step']}){p}, d_train/d_test {memo['d_train']:.2f}/"
                    f"{memo['d_test']:.2f}, near train {memo['near_train']:.2f}, "
                    f"{run['train_s']:.0f} s",
                    flush=True,
                )
        merged = merge_runs(past, runs)
        for run in merged:
            # Runs recorded before the measure existed, while their grid is still there.
            if not run.get("memorisation") and Path(run["grid"]).exists():
                run["memorisation"] = memorisation(
                    grid_samples(Path(run["grid"])), run["examples"] or SUBSET
                )
        merged.sort(key=lambda r: (r["examples"] or 10**9, r["steps"], r["seed"]))
        rows = summarize(runs)
        print(table(rows))
        plots = write_plots(merged, figures)
    reals = floors(sorted({r["examples"] for r in merged if r["examples"]}))
    store.write_text(json.dumps({"runs": merged, "floors": reals}, indent=1) + "\n")
    notes_file = figures / "data_efficiency_notes.md"
    if args.notes:
        notes_file.write_text(args.notes.read_text())
    notes = notes_file.read_text() if notes_file.exists() else ""
    (args.out / "quality_data_efficiency.md").write_text(
        report(summarize(merged), merged, reals, host, command, plots, notes)
    )
    with (args.out / "quality.jsonl").open("a") as sink:
        for row in rows:
            group = (row["setting"], row["examples"], row["steps"])
            record = {
                "suite": "quality",
                "part": "data_efficiency",
                "time": stamp,
                "command": command,
                **row,
                "recipe": row["description"],
                "floor_real_vs_real": reals["full_train_vs_test"],
                "floor_subset_vs_test": reals.get(floor_key(row["examples"] or SUBSET)),
                "per_seed": [
                    {
                        k: r[k]
                        for k in (
                            "seed",
                            "fid",
                            "best_fid",
                            "best_step",
                            "kid",
                            "final_p",
                            "train_s",
                            "fid_curve",
                            "p_curve",
                            "memorisation",
                        )
                    }
                    for r in runs
                    if run_key(r)[:3] == group
                ],
                "machine": host,
            }
            sink.write(json.dumps(record) + "\n")
    print(f"wrote {args.out / 'quality_data_efficiency.md'} and {args.out / 'quality.jsonl'}")
    return 0


def _preset_batch_size() -> int:
    from artifex.generative_models.training.presets import preset

    return int(preset("dcgan").training.data.batch_size)


def finished_folder(
    work: Path, name: str, setting: dict[str, Any], steps: int, seed: int
) -> Path | None:
    """The finished run folder of a setting and seed in ``work``, or None.

    Also under the names before ``--subset`` existed (``NAME-seedN``).
    """
    for folder in (work / folder_name(name, setting, steps, seed), work / f"{name}-seed{seed}"):
        if (folder / "scores.json").exists():
            return folder
    return None


def write_plots(runs: list[dict[str, Any]], figures: Path) -> list[str]:
    """The FID, p and r_t curves and the sample grids of each (images, iterations) group.

    The protocol's group (:data:`SUBSET` images, :data:`STEPS` iterations, with the
    full-data reference) keeps the plain file names; another group's names end in
    ``_N_STEPS``.
    """
    plots: list[str] = []
    for examples, steps in dict.fromkeys((r["examples"] or SUBSET, r["steps"]) for r in runs):
        group = [r for r in runs if (r["examples"] or SUBSET, r["steps"]) == (examples, steps)]
        suffix = "" if (examples, steps) == (SUBSET, STEPS) else f"_{examples}_{steps}"
        where = f"dcgan preset on {examples} digits, {steps} iterations"
        for key, ylabel, title, stem, lines in (
            ("fid_curve", "FID-digits vs held-out (log)", "FID over training", "fid", {}),
            ("p_curve", "ADA p", "ADA's p over training (target 0.6)", "ada_p", {}),
            (
                "sign_curve",
                "E[sign(D(augmented real))]",
                "ADA's overfitting heuristic r_t (logged rows)",
                "real_sign",
                {"target": 0.6},
            ),
        ):
            name = f"data_efficiency_{stem}{suffix}.png"
            if plot_curves(group, key, ylabel, f"{where}: {title}", figures / name, **lines):
                plots.append(f"quality/{name}")
        first = min(r["seed"] for r in group)
        if plot_grids(group, first, figures / f"data_efficiency_samples{suffix}.png"):
            plots.append(f"quality/data_efficiency_samples{suffix}.png")
    return plots


if __name__ == "__main__":
    raise SystemExit(main())
