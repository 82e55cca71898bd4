"""Make the pictures of the documentation site from short preset runs.

Each preset named on the command line is trained for ``--steps`` iterations (a few
hundred: the pictures show what the commands produce, not a finished model) in
``runs/doc-pictures/<preset>``, then these PNGs are written to ``docs/images/``:

* ``samples-<preset>.png``: a grid of the EMA generator's samples (one row per class
  for a class-conditional preset);
* ``curves-<preset>.png``: the loss curves and, beside them, FID-digits over the run;
* ``style-mix-<preset>.png`` for a style-based preset: rows x columns style mixes;
* ``walk-<preset>.png``: a latent interpolation strip.

An existing run folder is resumed (a finished one is not trained further), so the script
can be run again to redraw the pictures. It runs one preset at a time, on the CPU::

    JAX_PLATFORMS=cpu python tools/make_doc_pictures.py dcgan conditional stylegan --steps 400
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def short_experiment(name: str, steps: int) -> Any:
    """Preset ``name`` cut to ``steps`` iterations, logged and scored every tenth of it."""
    from artifex.generative_models.training.presets import preset

    experiment = preset(name)
    training = experiment.training
    every = max(training.steps_per_dispatch, steps // 10)
    every -= every % training.steps_per_dispatch  # logging happens between dispatches
    training = training.replace(
        steps=steps,
        logging=training.logging.replace(log_every=every, sample_every=0),
        checkpoint=training.checkpoint.replace(every_n_steps=steps),
        # FID-digits on 500 samples: enough to show the trend, cheap on a CPU.
        evaluation=training.evaluation.replace(
            every=2 * every, samples=500, batch_size=250, keep_best=False
        ),
    )
    return experiment.replace(training=training)


def draw_curves(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    """Losses (left) and FID-digits (right) against the iteration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (losses, fid) = plt.subplots(1, 2, figsize=(9, 3.2))
    steps = [row["step"] for row in rows]
    for key in sorted(k for k in rows[0] if k.endswith("loss")):
        losses.plot(steps, [row[key] for row in rows], label=key)
    losses.set_xlabel("iteration")
    losses.set_title(f"{title}: losses")
    losses.legend()
    scored = [row for row in rows if "fid" in row]
    fid.plot([row["step"] for row in scored], [row["fid"] for row in scored], marker="o")
    fid.set_xlabel("iteration")
    fid.set_title(f"{title}: FID-digits (lower is better)")
    for axes in (losses, fid):
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)


def pictures(name: str, steps: int) -> list[Path]:
    """Train (or resume) preset ``name`` for ``steps`` iterations; write its pictures."""
    from artifex.generative_models.training import generate as after
    from artifex.generative_models.training.run import run_experiment

    run = ROOT / "runs" / "doc-pictures" / name
    run_experiment(short_experiment(name, steps), run)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    trainer = after.open_run(run)
    written = []
    # A class-conditional model: one row per class, the same latents in every row.
    if getattr(trainer.rules, "num_classes", None) is not None:
        images, columns = after.class_grid(trainer, 8)
    else:
        images, columns = after.generate(trainer, 64, seed=0), 8
    written.append(after.write_images(images, IMAGES / f"samples-{name}.png", columns=columns))
    draw_curves(rows, IMAGES / f"curves-{name}.png", name)
    written.append(IMAGES / f"curves-{name}.png")
    strip = after.interpolate(trainer, 12, seed=1)
    written.append(after.write_images(strip, IMAGES / f"walk-{name}.png", columns=12))
    if callable(getattr(trainer.ema_generator(), "style_mixing", None)):
        mixed, columns = after.style_mix(trainer, 4, 4)
        written.append(after.write_images(mixed, IMAGES / f"style-mix-{name}.png", columns=columns))
    return written


def main() -> None:
    """The command line: presets to draw, iterations each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="+", help="preset names (artifex-train presets)")
    parser.add_argument("--steps", type=int, default=400, help="iterations per preset")
    args = parser.parse_args()
    for name in args.presets:
        for path in pictures(name, args.steps):
            print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
