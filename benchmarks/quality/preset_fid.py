"""FID-digits of every preset over seeds, beside the floor and the wall time (quality suite).

Each preset of ``artifex-train presets`` trains as ``artifex-train train --preset NAME
--set training.seed=S`` would (``run_experiment``, the preset's own iterations); its run
folder's ``scores.json`` gives the FID-digits of the EMA generator against the held-out
digits and the real-vs-real floor. For ``cyclegan`` (a translation, no sampler) the score
is the FID-digits of ``F(B)`` (the inverted held-out digits translated back) and the mean
absolute error of ``G`` against the true inversion.

The full table (10 presets x 3 seeds) takes hours on two shared CPU cores, so each run is
kept in ``quality/preset_fid_runs.json`` and the page is rebuilt from every run kept: a
later call measures the presets still pending and the table fills in.

    python benchmarks/quality/run.py preset-fid                          # every preset, 3 seeds
    python benchmarks/quality/run.py preset-fid --presets dcgan,stylegan --seeds 1
    python benchmarks/quality/run.py preset-fid --presets dcgan --steps 20 --out /tmp/x  # smoke
    python benchmarks/quality/run.py preset-fid --presets gan --seeds 1 --work runs/fid

``--work DIR`` keeps each run's folder (``DIR/NAME-seedS``, with its final checkpoint), so
``artifex-train generate DIR/NAME-seedS`` draws samples of it afterwards; without it the
folders are temporary.
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

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
sys.path.insert(0, str(HERE))

RUNS_FILE = Path("quality") / "preset_fid_runs.json"
"""Where, under the results folder, every measured run is kept (the page is built from it)."""

NOTES_FILE = Path("quality") / "preset_fid_notes.md"
"""The page's hand-written findings, under the results folder: kept beside the runs so that
a call rebuilding the page keeps them (``--notes`` replaces them for one call)."""

SEEDS = 3
"""Seeds per preset of the protocol: fewer runs are reported as partial."""


def experiment_for(name: str, seed: int, steps: int | None) -> Any:
    """Preset ``name`` with ``seed`` (model and data) and, for a smoke run, ``steps``."""
    from artifex.generative_models.training.presets import preset

    experiment = preset(name)
    training = experiment.training
    steps = training.steps if steps is None else steps
    dispatch = math.gcd(training.steps_per_dispatch, steps)
    training = training.replace(
        steps=steps,
        seed=seed,
        steps_per_dispatch=dispatch,
        data=training.data.replace(seed=seed),
        logging=training.logging.replace(log_every=dispatch * max(1, 100 // dispatch)),
        # One checkpoint at the end at most: the scores, not the checkpoints, are wanted.
        checkpoint=training.checkpoint.replace(every_n_steps=steps, resume=False),
    )
    return experiment.replace(training=training)


def measure(name: str, seed: int, steps: int | None, work: Path) -> dict[str, Any]:
    """Train preset ``name`` with ``seed`` in ``work``; its scores, wall time and load."""
    from artifex.generative_models.training.run import run_experiment

    folder = work / f"{name}-seed{seed}"
    if folder.exists():
        shutil.rmtree(folder)
    experiment = experiment_for(name, seed, steps)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    scores = run_experiment(experiment, folder)
    seconds = time.perf_counter() - start
    run: dict[str, Any] = {
        "preset": name,
        "seed": seed,
        "steps": int(scores["steps"]),
        "floor": float(scores["fid_digits_floor_real_vs_real"]),
        "train_s": seconds,
        "load": [load_before, os.getloadavg()[0]],
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if "fid_digits" in scores:
        run["fid"] = float(scores["fid_digits"])
    else:  # a translation: F(B) against the held-out digits, G against the known transform
        run["fid"] = float(scores["fid_digits_of_F(B)"])
        run["translation_mae"] = next(
            float(v) for k, v in scores.items() if k.startswith("mean_abs_error_of_G_vs_")
        )
    return run


def merge(kept: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``kept`` with ``new`` added; a new run replaces a kept one of the same preset, seed
    and steps."""
    fresh = {(r["preset"], r["seed"], r["steps"]) for r in new}
    return [r for r in kept if (r["preset"], r["seed"], r["steps"]) not in fresh] + new


def summarize(
    runs: list[dict[str, Any]], presets: list[str], steps_of: dict[str, int]
) -> list[dict[str, Any]]:
    """One row per preset: the runs at its own iterations, mean ± std, or pending."""
    from data_efficiency import mean_std

    rows = []
    for name in presets:
        mine = [r for r in runs if r["preset"] == name and r["steps"] == steps_of[name]]
        row: dict[str, Any] = {"preset": name, "steps": steps_of[name], "seeds": len(mine)}
        if mine:
            row["fid_mean"], row["fid_std"] = mean_std([r["fid"] for r in mine])
            row["train_s_mean"], row["train_s_std"] = mean_std([r["train_s"] for r in mine])
            row["floor"] = mine[0]["floor"]
            row["load"] = [min(min(r["load"]) for r in mine), max(max(r["load"]) for r in mine)]
            maes = [r["translation_mae"] for r in mine if "translation_mae" in r]
            if maes:
                row["mae_mean"], row["mae_std"] = mean_std(maes)
        row["status"] = (
            "pending"
            if not mine
            else "measured"
            if len(mine) >= SEEDS
            else f"partial ({len(mine)} of {SEEDS} seeds)"
        )
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table: every preset, measured or pending."""
    lines = [
        "| preset | iterations | seeds | FID-digits (mean ± std) | floor | FID / floor "
        "| train s / run | load (1-min) | status |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        if not r["seeds"]:
            lines.append(f"| {r['preset']} | {r['steps']} | 0 | - | - | - | - | - | pending |")
            continue
        fid = f"{r['fid_mean']:.2f} ± {r['fid_std']:.2f}"
        if "mae_mean" in r:
            fid += f" (F(B)); G vs inversion MAE {r['mae_mean']:.3f} ± {r['mae_std']:.3f}"
        lines.append(
            f"| {r['preset']} | {r['steps']} | {r['seeds']} | {fid} | {r['floor']:.2f} "
            f"| {r['fid_mean'] / r['floor']:.1f}x "
            f"| {r['train_s_mean']:.0f} ± {r['train_s_std']:.0f} "
            f"| {r['load'][0]:.1f}-{r['load'][1]:.1f} | {r['status']} |"
        )
    return "\n".join(lines)


def report(
    rows: list[dict[str, Any]], runs: list[dict[str, Any]], host: dict[str, Any], notes: str
) -> str:
    """The Markdown page of the results."""
    measured = [r["preset"] for r in rows if r["status"] == "measured"]
    partial = [r["preset"] for r in rows if r["status"].startswith("partial")]
    pending = [r["preset"] for r in rows if r["status"] == "pending"]
    per_run = "\n".join(
        f"| {r['preset']} | {r['seed']} | {r['steps']} | {r['fid']:.2f} "
        f"| {r.get('translation_mae', float('nan')):.3f} | {r['train_s']:.0f} "
        f"| {r['load'][0]:.1f} / {r['load'][1]:.1f} | {r['time']} |"
        for r in sorted(runs, key=lambda r: (r["preset"], r["seed"], r["steps"]))
    )
    return f"""# Quality suite: FID-digits of every preset

Written by `benchmarks/quality/run.py preset-fid`, from every run kept in
`{RUNS_FILE.as_posix()}` (a call adds its runs; the page lists every preset of
`artifex-train presets`).

Each preset trains as `artifex-train train --preset NAME --set training.seed=S` would
(`run_experiment`, the preset's own iterations). FID-digits: 1000 samples of the EMA
generator against the held-out split (359 digits) in the features of the bundled digits
classifier; the floor is the training split against the held-out one (real vs real).
For `cyclegan` the FID is of `F(B)`, the inverted held-out digits translated back, and
the MAE is of `G` against the true inversion (target <= 0.1). Mean ± sample standard
deviation over the seeds.

## Results

{table(rows)}

* Measured at all {SEEDS} seeds: {", ".join(measured) or "none"}.
* Measured at fewer seeds: {", ".join(partial) or "none"}.
* **Pending (not measured yet):** {", ".join(pending) or "none"}.

"train s / run": wall time of `run_experiment` (compile, training, sample grids and the
final scoring) on {host["cores"]} CPU cores shared with other jobs; the load column is the
1-minute load average at the start and end of the runs, so compare wall times only
between runs of similar load.

{notes}

## Machine

{host["cpu"]}, {host["cores"]} cores, backend {host["backend"]}; Python {host["python"]},
jax {host["jax"]}, flax {host["flax"]}, optax {host["optax"]}.

## Runs

| preset | seed | iterations | FID-digits | G vs inversion MAE | train s | load | finished |
| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |
{per_run}
"""


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Train the presets asked, keep the runs, rebuild ``quality_presets.md``."""
    from artifex.generative_models.training.presets import PRESETS, preset

    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--presets", default=",".join(PRESETS), help=f"comma-separated of {', '.join(PRESETS)}"
    )
    parser.add_argument(
        "--seeds", type=int, default=SEEDS, help="seeds per preset (0: rebuild the page only)"
    )
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--steps", type=int, default=None, help="iterations (default: the preset's; smoke runs)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="keep each run folder here (default: temporary, deleted)",
    )
    parser.add_argument(
        "--notes",
        type=Path,
        default=None,
        help=f"Markdown added to the page (default: {NOTES_FILE.as_posix()} of --out, if any)",
    )
    args = parser.parse_args(argv)
    names = args.presets.split(",")
    unknown = [n for n in names if n not in PRESETS]
    if unknown:
        parser.error(f"unknown presets {unknown}; presets: {', '.join(PRESETS)}")
    if args.notes is not None and not args.notes.is_file():
        # Checked before any training: the page is written only after the runs.
        parser.error(f"--notes {args.notes}: no such file; give a Markdown file or leave it out")
    from mode_coverage import machine

    kept_path = args.out / RUNS_FILE

    def kept() -> list[dict[str, Any]]:
        # Read afresh each time: another call may have added runs meanwhile.
        return json.loads(kept_path.read_text())["runs"] if kept_path.exists() else []

    with tempfile.TemporaryDirectory(prefix="preset-fid-") as scratch:
        work = args.work or Path(scratch)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for name in names:
                run = measure(name, seed, args.steps, work)
                print(
                    f"{name:12s} seed {seed}: FID {run['fid']:7.2f}, {run['train_s']:.0f} s",
                    flush=True,
                )
                # Keep each run as it finishes: an interrupted call loses only the run in
                # progress.
                runs = merge(kept(), [run])
                kept_path.parent.mkdir(parents=True, exist_ok=True)
                kept_path.write_text(json.dumps({"runs": runs}, indent=1) + "\n")
    steps_of = {n: preset(n).training.steps for n in PRESETS}
    if args.steps is not None:
        steps_of.update(dict.fromkeys(names, args.steps))
    rows = summarize(kept(), list(PRESETS), steps_of)
    print(table(rows))
    kept_notes = args.out / NOTES_FILE
    notes = (
        args.notes.read_text()
        if args.notes
        else kept_notes.read_text()
        if kept_notes.exists()
        else ""
    )
    (args.out / "quality_presets.md").write_text(report(rows, kept(), machine(), notes))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    with (args.out / "quality.jsonl").open("a") as sink:
        for row in rows:
            if row["preset"] in names and args.seeds:
                sink.write(
                    json.dumps({"suite": "quality", "part": "preset_fid", "time": stamp, **row})
                    + "\n"
                )
    print(f"wrote {args.out / 'quality_presets.md'} and {kept_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
