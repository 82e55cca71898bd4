"""FID-digits of the ``stylegan2`` and ``biggan`` presets, and BigGAN's class accuracy.

Each preset trains as ``artifex-train train --preset NAME`` would (``run_experiment``,
the preset's own iterations unless ``--steps`` says otherwise); its run folder's
``scores.json`` gives the FID-digits of the EMA generator against the held-out digits and
the real-vs-real floor. For ``biggan`` the bundled digits classifier also labels
``--per-class`` samples of every requested class (``class_accuracy.py``): the mean and
worst per-class accuracy (the issue's target is >= 95 % in every class).

    python benchmarks/quality/run.py modern-families                      # full presets
    python benchmarks/quality/run.py modern-families --steps 20 --out /tmp/x  # smoke run
    python benchmarks/quality/run.py modern-families --presets biggan --blocks residual

``--blocks residual`` trains ``biggan`` with BigGAN's residual blocks in both networks
(and ReLU in the discriminator, as BigGAN), the preset otherwise unchanged: the
measurement that decides which blocks the preset uses.

Last full measurement (issue 15, 8x8 digits, CPU): stylegan2 FID-digits 14.8 (1,200
iterations); biggan FID-digits 4.51, class accuracy 99.0 % mean / 97 % worst class
(5,000 iterations, 100 samples per class).
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
FAMILIES = ("stylegan2", "biggan")
"""The presets this part trains, in this order."""


def experiment_for(name: str, steps: int | None, blocks: str | None = None) -> Any:
    """The preset ``name``, with ``steps`` iterations (and dispatch and intervals fitted).

    ``blocks`` (biggan only): ``"plain"`` or ``"residual"`` networks; None: the preset's.
    """
    from artifex.generative_models.training.presets import preset

    experiment = preset(name)
    if blocks is not None and name == "biggan":
        model = experiment.model
        discriminator = model.discriminator.replace(blocks=blocks)
        if blocks == "residual":
            discriminator = discriminator.replace(activation="relu")
        generator = model.generator.replace(blocks=blocks)
        experiment = experiment.replace(
            model=model.replace(generator=generator, discriminator=discriminator)
        )
    if steps is None:
        return experiment
    training = experiment.training
    dispatch = math.gcd(training.steps_per_dispatch, steps)
    training = training.replace(
        steps=steps,
        steps_per_dispatch=dispatch,
        logging=training.logging.replace(log_every=dispatch, sample_every=0),
        checkpoint=training.checkpoint.replace(every_n_steps=steps),
    )
    return experiment.replace(training=training)


def measure(
    name: str, steps: int | None, work: Path, per_class: int, blocks: str | None = None
) -> dict[str, Any]:
    """Train one preset into ``work/name``; its FID-digits (and class accuracy for biggan)."""
    from artifex.generative_models.training.run import run_experiment

    folder = work / name
    if folder.exists():
        shutil.rmtree(folder)
    experiment = experiment_for(name, steps, blocks)
    load_before = os.getloadavg()[0]  # wall times mean something only beside the load
    start = time.perf_counter()
    run_experiment(experiment, folder)
    seconds = time.perf_counter() - start
    scores = json.loads((folder / "scores.json").read_text())
    row: dict[str, Any] = {
        "preset": name,
        "steps": int(scores["steps"]),
        "fid": float(scores["fid_digits"]),
        "floor": float(scores["fid_digits_floor_real_vs_real"]),
        "train_s": seconds,
        "load": [round(load_before, 1), round(os.getloadavg()[0], 1)],
    }
    if blocks is not None and name == "biggan":
        row["blocks"] = blocks
    model = experiment.model
    if getattr(model, "num_classes", None):
        from class_accuracy import class_accuracy, ema_generator_of

        generator, _ = ema_generator_of(folder)
        layout = model.data_layout
        accuracy = class_accuracy(
            generator,
            model.latent_dim,
            num_classes=model.num_classes,
            per_class=per_class,
            data_format=layout.data_format if layout is not None else "NHWC",
        )
        row.update(class_mean=accuracy["mean"], class_min=accuracy["min"])
    return row


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of the measured rows."""
    lines = [
        "| preset | iterations | FID-digits | floor | class accuracy (mean / worst) | train s |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        accuracy = (
            f"{100 * r['class_mean']:.1f} % / {100 * r['class_min']:.0f} %"
            if "class_mean" in r
            else "-"
        )
        label = f"{r['preset']} ({r['blocks']})" if "blocks" in r else r["preset"]
        lines.append(
            f"| {label} | {r['steps']} | {r['fid']:.2f} | {r['floor']:.2f} "
            f"| {accuracy} | {r['train_s']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Train the presets, print the table, write ``quality_modern_families.{md,json}``."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, default=None, help="iterations of every run (default: the preset's)"
    )
    parser.add_argument(
        "--presets", default=",".join(FAMILIES), help=f"comma-separated of {', '.join(FAMILIES)}"
    )
    parser.add_argument("--per-class", type=int, default=100, help="samples per class (biggan)")
    parser.add_argument(
        "--blocks",
        choices=("plain", "residual"),
        default=None,
        help="biggan's networks: plain ladders or residual blocks (default: the preset's)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--work", type=Path, default=None, help="run folders (default: temporary)")
    args = parser.parse_args(argv)
    names = args.presets.split(",")
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        parser.error(f"unknown presets {unknown}; known: {', '.join(FAMILIES)}")
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="modern-families-") as scratch:
        work = args.work or Path(scratch)
        for name in names:
            row = measure(name, args.steps, work, args.per_class, args.blocks)
            print(json.dumps(row), flush=True)
            rows.append(row)
    from mode_coverage import machine

    text = table(rows)
    print(text)
    host = machine()
    loads = ", ".join(f"{r['preset']} {r['load'][0]} / {r['load'][1]}" for r in rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality_modern_families.md").write_text(
        "# Quality suite: StyleGAN2 and BigGAN presets\n\n"
        f"`run.py modern-families {' '.join(argv if argv is not None else sys.argv[1:])}`\n\n"
        f"{text}\n\n"
        "FID-digits: 1000 samples of the EMA generator against the 359 held-out digits; the "
        "floor is the training digits against them. Class accuracy: the bundled digits "
        'classifier on samples of each requested class. "train s": the wall time of the '
        "whole run (compile, training, scoring), on CPU cores shared with other jobs; "
        f"1-minute load at the start / end: {loads}.\n\n"
        "## Machine\n\n"
        f"{host['cpu']}, {host['cores']} cores, backend {host['backend']}; Python "
        f"{host['python']}, jax {host['jax']}, flax {host['flax']}, optax {host['optax']}.\n"
    )
    (args.out / "quality_modern_families.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
