"""Data efficiency with augmentation on 10 % of the digits (the quality suite, part 3).

The ``dcgan`` preset (``training/presets.py``) trained on the first 144 of the 1,438
training digits (10 %; the bundled file's order cycles through the classes, so the subset
holds 12 to 18 of each digit) in these settings, the same iterations for all:

* ``none``: no augmentation;
* ``diffaugment``: DiffAugment (colour, translation, cutout) on every image D sees;
* ``ada``: stylegan2-ada's ``bgc`` pipeline with p adapted toward ``E[sign(D(real))] = 0.6``
  at the speed of :data:`ADA_SPEED_IMAGES` images from 0 to 1 (stylegan2-ada's 500k would
  let p reach at most ~0.5 in 4,000 iterations of 64 images);

and, for context, ``full-none``: all 1,438 training digits, no augmentation. Each run
scores FID-digits (1000 samples of the EMA generator, the digits classifier's features)
against the full held-out split (359 digits) every :data:`EVAL_EVERY` iterations and at the
end (``run_experiment``'s ``scores.json``), beside two floors: the full training split
against the held-out one (real vs real) and the 144-image subset against it (what a
generator that memorised its training set would score).

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


def settings() -> dict[str, dict[str, Any]]:
    """Setting name -> ``{"examples": N or None, "augment": AugmentConfig, "description"}``."""
    from artifex.generative_models.core.configuration import AugmentConfig
    from artifex.generative_models.training.presets import preset

    return {
        "none": {
            "examples": SUBSET,
            "augment": AugmentConfig(),
            "description": "144 images, no augmentation",
        },
        "diffaugment": {
            "examples": SUBSET,
            "augment": AugmentConfig(kind="diffaugment"),
            "description": "144 images, DiffAugment (color, translation, cutout)",
        },
        "ada": {
            "examples": SUBSET,
            # The dcgan-ada preset's augmentation (ADA_SPEED_IMAGES is its speed).
            "augment": preset("dcgan-ada").training.augment,
            "description": (
                f"144 images, ADA bgc, target 0.6, speed {ADA_SPEED_IMAGES:,} images, "
                "interval 4, p from 0"
            ),
        },
        "full-none": {
            "examples": None,
            "augment": AugmentConfig(),
            "description": "all 1,438 training images, no augmentation (reference)",
        },
    }


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


def floors() -> dict[str, float]:
    """FID-digits of real images against the held-out split: full train and the subset."""
    from artifex.generative_models.core.evaluation.metrics import (
        FrechetInceptionDistance,
        digits_feature_extractor,
        load_digits,
    )

    fid = FrechetInceptionDistance(feature_extractor=digits_feature_extractor())
    train, test = load_digits("train")[0], load_digits("test")[0]
    return {
        "full_train_vs_test": float(fid.compute(train, test)["fid"]),
        "subset_vs_test": float(fid.compute(train[:SUBSET], test)["fid"]),
    }


def subset_class_counts() -> list[int]:
    """Images of each digit among the first :data:`SUBSET` training digits."""
    from artifex.generative_models.core.evaluation.metrics import load_digits

    labels = load_digits("train")[1][:SUBSET]
    return [int(c) for c in np.bincount(labels, minlength=10)]


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The logged rows of a run's ``metrics.jsonl``."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def train_one(
    name: str, setting: dict[str, Any], seed: int, steps: int, eval_every: int, work: Path
) -> dict[str, Any]:
    """One run through ``run_experiment``: final scores, curves, wall time, grid path."""
    from artifex.generative_models.training.run import run_experiment

    folder = work / f"{name}-seed{seed}"
    if folder.exists():
        shutil.rmtree(folder)
    experiment = experiment_for(setting, steps, seed, eval_every)
    start = time.perf_counter()
    run_experiment(experiment, folder)
    return collect(folder, name, seed, time.perf_counter() - start)


def collect(folder: Path, name: str, seed: int, seconds: float | None = None) -> dict[str, Any]:
    """A finished run folder's scores and curves; the wall time from its files' times.

    Without ``seconds``, the wall time is from ``config.yaml`` (written first) to
    ``scores.json`` (written last).
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
    return {
        "setting": name,
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
        "grid": str(folder / "samples" / "final.png"),
    }


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std(ddof=1)) if array.size > 1 else 0.0


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per setting: mean ± std over its seeds."""
    rows = []
    for name in dict.fromkeys(r["setting"] for r in runs):
        mine = [r for r in runs if r["setting"] == name]
        fid, fid_std = mean_std([r["fid"] for r in mine])
        best, best_std = mean_std([r["best_fid"] for r in mine])
        kid, kid_std = mean_std([r["kid"] for r in mine])
        seconds, seconds_std = mean_std([r["train_s"] for r in mine])
        finals = [r["final_p"] for r in mine if r["final_p"] is not None]
        rows.append(
            {
                "setting": name,
                "seeds": len(mine),
                "steps": mine[0]["steps"],
                "fid_mean": fid,
                "fid_std": fid_std,
                "best_fid_mean": best,
                "best_fid_std": best_std,
                "kid_mean": kid,
                "kid_std": kid_std,
                "final_p_mean": float(np.mean(finals)) if finals else None,
                "train_s_mean": seconds,
                "train_s_std": seconds_std,
            }
        )
    return rows


def table(rows: list[dict[str, Any]], descriptions: dict[str, str]) -> str:
    """The Markdown table of the summary rows."""
    lines = [
        "| setting | data | seeds | steps | FID-digits (end) | best periodic FID "
        "| KID-digits (end) | ADA p (end) | train s / run |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        p = _p(r["final_p_mean"])
        lines.append(
            f"| {r['setting']} | {descriptions[r['setting']]} | {r['seeds']} | {r['steps']} "
            f"| {r['fid_mean']:.2f} ± {r['fid_std']:.2f} "
            f"| {r['best_fid_mean']:.2f} ± {r['best_fid_std']:.2f} "
            f"| {r['kid_mean']:.1f} ± {r['kid_std']:.1f} | {p} "
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


COLOURS = {"none": "tab:red", "diffaugment": "tab:blue", "ada": "tab:green", "full-none": "k"}


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


def report(
    rows: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    descriptions: dict[str, str],
    reals: dict[str, float],
    host: dict[str, Any],
    command: str,
    plots: list[str],
    wall: float,
    notes: str,
    eval_every: int,
) -> str:
    """The Markdown page of the results."""
    per_seed = "\n".join(
        f"| {r['setting']} | {r['seed']} | {r['fid']:.2f} | {r['best_fid']:.2f} "
        f"(step {r['best_step']}) | {r['kid']:.1f} | "
        f"{_p(r['final_p'])} "
        f"| {r['train_s']:.0f} |"
        for r in runs
    )
    curves = "\n".join(
        f"| {r['setting']} | {r['seed']} | "
        + ", ".join(f"{s}: {f:.1f}" for s, f in r["fid_curve"])
        + " |"
        for r in runs
    )
    plot_lines = (
        "\n".join(f"* [{Path(p).name}]({p})" for p in plots) or "* none (matplotlib missing)"
    )
    counts = ", ".join(f"{d}: {c}" for d, c in enumerate(subset_class_counts()))
    return f"""# Quality suite: data efficiency with augmentation (10 % of the digits)

Written by `benchmarks/quality/run.py data-efficiency` (`{command}`).

The `dcgan` preset (conv G 64-32 with batch norm, conv D 32-64 with batch norm, the
non-saturating loss, Adam 2e-4 / 0.5, batch 64, EMA 0.99) trained through
`run_experiment` of `artifex-train` on the first {SUBSET} of the 1,438 training digits
(10 %; per digit {counts}) with no augmentation, DiffAugment and ADA, the same number of
iterations for all; the full training split without augmentation for context. Each
`--set` is what `artifex-train train --preset dcgan` would take, e.g. for `ada`:

    artifex-train train --preset dcgan --out runs/ada --set training.steps={rows[0]["steps"]} \\
      --set training.data.max_examples={SUBSET} --set training.augment.kind=ada \\
      --set training.augment.speed_images={ADA_SPEED_IMAGES} \\
      --set training.evaluation.every={eval_every}

FID-digits: 1000 samples of the EMA generator against the full held-out split (359 digits)
in the features of the bundled digits classifier (lower is better). "end": after the last
iteration (`scores.json`); "best periodic": the lowest of the evaluations every
{eval_every} iterations (the run's `metrics.jsonl`), which an early stop on FID would keep.
Mean ± standard deviation over the seeds.

## Results

{table(rows, descriptions)}

Floors (real images against the held-out split): the full training split
{reals["full_train_vs_test"]:.2f}; the {SUBSET}-image subset {reals["subset_vs_test"]:.2f}
(a generator that memorised its {SUBSET} images would score about this).

"train s / run": wall time of `run_experiment` (compile, training, the periodic FID
evaluations, the grids and the final scoring) on 2 CPU cores shared with other jobs; the
runs took {wall / 60:.1f} minutes in all.

{notes}

## Machine

{host["cpu"]}, {host["cores"]} cores (shared with other jobs while this ran), backend
{host["backend"]}; Python {host["python"]}, jax {host["jax"]}, flax {host["flax"]},
optax {host["optax"]}.

## Plots

{plot_lines}

## Per seed

| setting | seed | FID (end) | best periodic FID | KID | ADA p (end) | train s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
{per_seed}

## FID over time (every {eval_every} iterations)

| setting | seed | iteration: FID |
| --- | ---: | --- |
{curves}
"""


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Run the data-efficiency benchmark; print the table; write the results."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per setting")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=STEPS, help="iterations of every run")
    parser.add_argument(
        "--eval-every", type=int, default=None, help=f"periodic FID (default {EVAL_EVERY})"
    )
    parser.add_argument(
        "--settings",
        default="none,diffaugment,ada,full-none",
        help="comma-separated of none, diffaugment, ada, full-none",
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
    all_settings = settings()
    names = args.settings.split(",")
    unknown = [n for n in names if n not in all_settings]
    if unknown:
        parser.error(f"unknown settings {unknown}; known: {', '.join(all_settings)}")
    descriptions = {n: s["description"] for n, s in all_settings.items()}
    host = machine()
    command = " ".join(["run.py data-efficiency", *(argv if argv is not None else sys.argv[1:])])
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    began = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    reals = floors()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="data-efficiency-") as scratch:
        work = args.work or Path(scratch)
        for seed_index in range(args.seeds):
            seed = args.first_seed + seed_index
            for name in names:
                if name == "full-none" and seed_index >= args.reference_seeds:
                    continue
                if args.collect:
                    folder = work / f"{name}-seed{seed}"
                    if not (folder / "scores.json").exists():
                        continue
                    run = collect(folder, name, seed)
                else:
                    run = train_one(name, all_settings[name], seed, args.steps, eval_every, work)
                runs.append(run)
                p = "" if run["final_p"] is None else f", p {run['final_p']:.2f}"
                print(
                    f"{name:11s} seed {seed}: FID {run['fid']:7.2f} (best {run['best_fid']:.2f}"
                    f" at {run['best_step']}){p}, {run['train_s']:.0f} s",
                    flush=True,
                )
        wall = time.perf_counter() - began
        if args.collect:
            wall = sum(r["train_s"] for r in runs)
        rows = summarize(runs)
        print(table(rows, descriptions))
        figures = args.out / "quality"
        plots: list[str] = []
        floor_lines = {
            "real vs real (full train)": reals["full_train_vs_test"],
            f"{SUBSET}-image subset vs test": reals["subset_vs_test"],
        }
        if plot_curves(
            runs,
            "fid_curve",
            "FID-digits vs held-out (log)",
            f"dcgan preset on {SUBSET} digits: FID over training (one line per seed)",
            figures / "data_efficiency_fid.png",
            **floor_lines,
        ):
            plots.append("quality/data_efficiency_fid.png")
        if plot_curves(
            runs,
            "p_curve",
            "ADA p",
            f"ADA's p over training (target 0.6, speed {ADA_SPEED_IMAGES:,} images)",
            figures / "data_efficiency_ada_p.png",
        ):
            plots.append("quality/data_efficiency_ada_p.png")
        if plot_curves(
            runs,
            "sign_curve",
            "E[sign(D(augmented real))]",
            "ADA's overfitting heuristic r_t (logged rows)",
            figures / "data_efficiency_real_sign.png",
            target=0.6,
        ):
            plots.append("quality/data_efficiency_real_sign.png")
        if plot_grids(runs, args.first_seed, figures / "data_efficiency_samples.png"):
            plots.append("quality/data_efficiency_samples.png")
    (args.out / "quality" / "data_efficiency_runs.json").write_text(
        json.dumps({"runs": runs, "floors": reals, "wall_s": wall}, indent=1) + "\n"
    )
    notes = args.notes.read_text() if args.notes else ""
    (args.out / "quality_data_efficiency.md").write_text(
        report(rows, runs, descriptions, reals, host, command, plots, wall, notes, eval_every)
    )
    with (args.out / "quality.jsonl").open("a") as sink:
        for row in rows:
            record = {
                "suite": "quality",
                "part": "data_efficiency",
                "time": stamp,
                "command": command,
                **row,
                "recipe": descriptions[row["setting"]],
                "floor_real_vs_real": reals["full_train_vs_test"],
                "floor_subset_vs_test": reals["subset_vs_test"],
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
                        )
                    }
                    for r in runs
                    if r["setting"] == row["setting"]
                ],
                "machine": host,
            }
            sink.write(json.dumps(record) + "\n")
    print(f"wrote {args.out / 'quality_data_efficiency.md'} and {args.out / 'quality.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
