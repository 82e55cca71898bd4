"""Mode coverage on 2-D Gaussian mixtures, PacGAN's protocol (the quality suite, part 1).

Two targets (Lin et al., PacGAN, 2018, after Srivastava et al., VEEGAN, 2017):

* ``ring``: 8 modes on a circle of radius 1, each a Gaussian of standard deviation 0.01;
* ``grid``: 25 modes on a 5 x 5 grid 2 apart (centres -4 ... 4), standard deviation 0.05.

Each trained generator draws 2,500 samples. A sample is *high quality* when it lies within
3 standard deviations of its nearest mode; a mode is *covered* when it holds at least one
high-quality sample (the issue's rule; the stricter count with at least 20 is recorded
too). Every figure is the mean ± standard error over the seeds (10 by default).

Training goes through the library itself: an MLP ``GAN`` of ``artifex-gan`` and the
``Trainer`` of ``artifex-train`` (its compiled step, ``build_step``), fed by an in-memory
iterator of ``{"image": (B, 2)}`` batches; the trainer takes 2-D points as samples of
shape ``(2,)``. Two setups:

* ``vanilla``: PacGAN's baseline GAN as far as the library's networks express it;
* ``best``: the library's best recipe found for this benchmark (see :data:`SETUPS`).

    python benchmarks/quality/run.py mode-coverage                 # full protocol
    python benchmarks/quality/run.py mode-coverage --seeds 1 --steps 200 --out /tmp/x
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "results"
NOTES_FILE = RESULTS / "quality_mode_coverage_notes.md"
"""Hand-written notes (what was tried, how close to the goal and why), appended verbatim to
the page on every rebuild, so a new run keeps them; edit this file, not the page."""
NOTES_HEADING = "## Notes (from quality_mode_coverage_notes.md, written by hand)"

NUM_SAMPLES = 2500
"""Generated samples scored per trained generator (PacGAN)."""

STRICT_MIN_SAMPLES = 20
"""The stricter coverage rule also recorded: a mode needs this many high-quality samples."""

PUBLISHED = {
    # PacGAN (Lin et al., 2018), table 2, modes covered (of 8 and of 25).
    "GAN": {"ring": 6.3, "grid": 17.3},
    "PacGAN": {"ring": 7.9, "grid": 24.8},
    "VEEGAN": {"ring": 8.0, "grid": 24.6},
}


@dataclasses.dataclass(frozen=True)
class Mixture:
    """A 2-D Gaussian mixture target."""

    name: str
    modes: np.ndarray
    std: float


def mixtures() -> dict[str, Mixture]:
    """PacGAN's ring (radius 1, std 0.01) and grid (5 x 5, spacing 2, std 0.05)."""
    from artifex.generative_models.core.evaluation.metrics._mode_coverage import (
        grid_modes,
        ring_modes,
    )

    return {
        "ring": Mixture("ring", ring_modes(8, radius=1.0), 0.01),
        "grid": Mixture("grid", grid_modes(5, spacing=2.0), 0.05),
    }


@dataclasses.dataclass(frozen=True)
class Setup:
    """One way to train: the networks, the objective and the optimizer settings."""

    name: str
    description: str
    latent_dim: int = 2
    g_hidden: tuple[int, ...] = (400, 400, 400, 400)
    g_batch_norm: bool = True
    d_hidden: tuple[int, ...] = (200, 200, 200)
    d_activation: str = "relu"
    d_spectral_norm: bool = False
    objective: str = "vanilla"
    r1_weight: float = 0.0
    g_lr: float = 1e-4
    d_lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    cosine_decay: bool = False
    ema_decay: float | None = None
    n_critic: int = 1
    batch_size: int = 100
    steps: int = 2_000
    pack: int = 1
    """PacGAN's packing: D judges ``pack`` samples at once (1: no packing)."""


SETUPS: dict[str, Setup] = {
    "vanilla": Setup(
        "vanilla",
        "PacGAN's baseline: G 2-d Gaussian latent, 4x400 ReLU + batch norm, linear output; "
        "D 3x200 ReLU (PacGAN: 5-piece linear maxout, which the library has not), no "
        "normalization; non-saturating loss; Adam lr 1e-4 (beta1 0.5); batch 100",
    ),
    "best": Setup(
        "best",
        "G 2-d Gaussian latent, 3x256 ReLU, no batch norm, linear output; D 3x256 ReLU, no "
        "normalization; non-saturating loss with the trainer's R1 penalty on real data, "
        "weight 1e-3; Adam lr 1e-3 for both (beta1 0.5) with a cosine decay to 0 over the "
        "run; batch 200; 4,000 iterations; the last G sampled (no EMA)",
        g_hidden=(256, 256, 256),
        g_batch_norm=False,
        d_hidden=(256, 256, 256),
        r1_weight=1e-3,
        g_lr=1e-3,
        d_lr=1e-3,
        cosine_decay=True,
        batch_size=200,
        steps=4_000,
    ),
}


def _packed_discriminator(config: Any, pack: int, *, rngs: Any) -> Any:
    """An MLP discriminator that judges ``pack`` samples at once (PacGAN, Lin et al. 2018).

    A batch ``(B, 2)`` is read as ``B / pack`` packed samples ``(B / pack, 2 * pack)``;
    each packed score is repeated ``pack`` times, so the losses, which average over the
    batch, see ``(B, 1)`` scores and average exactly the packed ones. Consecutive samples
    of a batch are independent draws, so each pack is ``pack`` independent samples.
    """
    import jax.numpy as jnp

    from artifex.generative_models.nets.mlp import Discriminator

    class PackedDiscriminator(Discriminator):
        def logits(self, x: Any, training: bool | None = None) -> Any:
            if x.shape[0] % pack:
                raise ValueError(
                    f"PackedDiscriminator: batch {x.shape[0]} is not a multiple of the "
                    f"pack size {pack}; choose a batch size divisible by {pack}"
                )
            packed = x.reshape(x.shape[0] // pack, -1)
            return jnp.repeat(super().logits(packed, training), pack, axis=0)

    return PackedDiscriminator(config.replace(input_shape=(2 * pack,)), rngs=rngs)


def _batches(mixture: Mixture, batch_size: int, seed: int) -> Iterator[dict[str, np.ndarray]]:
    """An endless stream of ``{"image": (B, 2)}`` float32 batches from the mixture."""
    from artifex.generative_models.core.evaluation.metrics._mode_coverage import sample_mixture

    chunk = 100  # batches drawn per call of sample_mixture
    for i in range(sys.maxsize):
        points, _ = sample_mixture(
            mixture.modes, chunk * batch_size, std=mixture.std, seed=seed * 1_000_003 + i
        )
        points = points.astype(np.float32).reshape(chunk, batch_size, 2)
        for batch in points:
            yield {"image": batch}
    raise AssertionError("unreachable")


def _configs(setup: Setup, steps: int, seed: int, dispatch: int) -> tuple[Any, Any]:
    from artifex.generative_models.core.configuration import (
        CheckpointConfig,
        DiscriminatorConfig,
        EMAConfig,
        GANConfig,
        GeneratorConfig,
        LoggingConfig,
        OptimizerConfig,
        ScheduleConfig,
        TrainingConfig,
    )

    model = GANConfig(
        name=f"mode-coverage-{setup.name}",
        generator=GeneratorConfig(
            latent_dim=setup.latent_dim,
            hidden_dims=setup.g_hidden,
            output_shape=(2,),
            activation="relu",
            batch_norm=setup.g_batch_norm,
            output_activation="linear",
        ),
        discriminator=DiscriminatorConfig(
            hidden_dims=setup.d_hidden,
            activation=setup.d_activation,
            dropout_rate=0.0,
            batch_norm=False,
            use_spectral_norm=setup.d_spectral_norm,
            score_type="logits",
        ),
        loss_type=setup.objective,
    )
    schedule = (
        ScheduleConfig(kind="cosine", decay_steps=steps, final_fraction=0.0)
        if setup.cosine_decay
        else ScheduleConfig()
    )

    def optimizer(lr: float) -> OptimizerConfig:
        return OptimizerConfig(
            learning_rate=lr, beta1=setup.beta1, beta2=setup.beta2, schedule=schedule
        )

    training = TrainingConfig(
        steps=steps,
        seed=seed,
        generator_optimizer=optimizer(setup.g_lr),
        discriminator_optimizer=optimizer(setup.d_lr),
        objective=setup.objective,
        n_critic=setup.n_critic,
        r1_weight=setup.r1_weight,
        steps_per_dispatch=dispatch,
        loop="scan",
        ema=None if setup.ema_decay is None else EMAConfig(decay=setup.ema_decay),
        checkpoint=CheckpointConfig(
            every_n_steps=dispatch * (steps // dispatch + 1), resume=False, save_final=False
        ),
        logging=LoggingConfig(log_every=steps, sample_every=0),
    )
    return model, training


def train_and_sample(
    setup: Setup, mixture: Mixture, seed: int, steps: int, *, dispatch: int = 100
) -> tuple[np.ndarray, float]:
    """Train ``setup`` on ``mixture`` with the library's Trainer; 2,500 samples and seconds.

    The generator sampled is the EMA copy when the setup averages, in eval mode (batch
    norm on its running statistics).
    """
    import jax
    from flax import nnx

    from artifex.generative_models.models.gan import GAN
    from artifex.generative_models.training import Trainer

    dispatch = math.gcd(steps, dispatch)
    model_config, training = _configs(setup, steps, seed, dispatch)
    model = GAN(model_config, rngs=nnx.Rngs(params=seed, sample=seed + 1, dropout=seed + 2))
    if setup.pack > 1:
        model.discriminator = _packed_discriminator(
            model.discriminator.config, setup.pack, rngs=nnx.Rngs(params=seed + 3)
        )
    with tempfile.TemporaryDirectory(prefix="mode-coverage-") as workdir:
        trainer = Trainer(
            model,
            _batches(mixture, setup.batch_size, seed),
            training,
            workdir=workdir,
            progress=False,
        )
        start = time.perf_counter()
        trainer.fit()
        jax.block_until_ready(trainer.state)
        seconds = time.perf_counter() - start
        generator = trainer.ema_generator()
    z = jax.random.normal(jax.random.key(10_000 + seed), (NUM_SAMPLES, setup.latent_dim))
    samples = np.asarray(generator(z, training=False), dtype=np.float64)
    return samples, seconds


def score(samples: np.ndarray, mixture: Mixture) -> dict[str, Any]:
    """Modes covered (>= 1 and >= 20 high-quality samples) and the high-quality share."""
    from artifex.generative_models.core.evaluation.metrics._mode_coverage import mode_coverage

    result = mode_coverage(samples, mixture.modes, std=mixture.std, min_samples=1)
    counts = result["mode_counts"]
    return {
        "modes": result["modes_captured"],
        "modes_20": int((counts >= STRICT_MIN_SAMPLES).sum()),
        "num_modes": result["num_modes"],
        "high_quality": result["high_quality_fraction"],
        "mode_counts": [int(c) for c in counts],
    }


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error (sample std / sqrt(n); 0 for one value)."""
    array = np.asarray(values, dtype=np.float64)
    se = float(array.std(ddof=1) / math.sqrt(array.size)) if array.size > 1 else 0.0
    return float(array.mean()), se


def machine() -> dict[str, Any]:
    """The CPU, its cores and the versions the figures were measured with."""
    import flax
    import jax
    import optax

    model = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "backend": jax.default_backend(),
        "device": str(jax.devices()[0].device_kind),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "flax": flax.__version__,
        "optax": optax.__version__,
    }


def plot(samples: np.ndarray, mixture: Mixture, title: str, path: Path) -> bool:
    """Scatter of the samples over the modes and their 3-std circles; False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:blue", label="samples")
    ax.scatter(
        mixture.modes[:, 0], mixture.modes[:, 1], s=30, marker="x", color="tab:red", label="modes"
    )
    for centre in mixture.modes:
        ax.add_patch(
            plt.Circle(centre, 3 * mixture.std, fill=False, color="tab:red", linewidth=0.6)
        )
    extent = float(np.abs(mixture.modes).max()) * 1.5
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def recorded_runs(
    path: Path, setup: Setup, mixture: Mixture, steps: int, seeds: range
) -> tuple[list[dict[str, Any]], str]:
    """The runs of ``setup`` on ``mixture`` read back from a ``quality.jsonl``, and their origin.

    Each seed comes from the latest record with this recipe (its description), mixture and
    step count, so seeds trained by separate invocations combine; every seed asked for must
    be there, and a rebuilt page never mixes recipes or lengths.
    """
    matches = []
    if path.is_file():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if (
                record.get("part") == "mode_coverage"
                and record.get("setup") == setup.name
                and record.get("mixture") == mixture.name
                and record.get("steps") == steps
                and record.get("recipe") == setup.description
            ):
                matches.append(record)
    if not matches:
        raise SystemExit(
            f"--reuse {setup.name}: no record of {setup.name} on {mixture.name} at {steps} "
            f"steps with the current recipe in {path}; train it (drop it from --reuse)"
        )
    by_seed: dict[int, dict[str, Any]] = {}
    origin: dict[int, str] = {}
    for record in matches:  # later records replace earlier ones seed by seed
        for run in record["per_seed"]:
            by_seed[run["seed"]] = run
            origin[run["seed"]] = f"{record['time']} (`{record['command']}`)"
    missing = [seed for seed in seeds if seed not in by_seed]
    if missing:
        raise SystemExit(
            f"--reuse {setup.name}: the records on {mixture.name} lack seeds {missing}; "
            f"ask for the recorded seeds ({sorted(by_seed)}) or train them"
        )
    runs = [
        {
            "setup": setup.name,
            "mixture": mixture.name,
            "steps": steps,
            "num_modes": len(mixture.modes),
            **by_seed[seed],
        }
        for seed in seeds
    ]
    return runs, ", ".join(dict.fromkeys(origin[seed] for seed in seeds))


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (setup, mixture): mean ± s.e. over its seeds."""
    rows = []
    keys = list(dict.fromkeys((r["setup"], r["mixture"]) for r in runs))
    for setup, mixture in keys:
        mine = [r for r in runs if r["setup"] == setup and r["mixture"] == mixture]
        modes = mean_se([r["modes"] for r in mine])
        modes_20 = mean_se([r["modes_20"] for r in mine])
        hq = mean_se([100.0 * r["high_quality"] for r in mine])
        seconds = mean_se([r["train_s"] for r in mine])
        rows.append(
            {
                "setup": setup,
                "mixture": mixture,
                "num_modes": mine[0]["num_modes"],
                "seeds": len(mine),
                "steps": mine[0]["steps"],
                "modes_mean": modes[0],
                "modes_se": modes[1],
                "modes_20_mean": modes_20[0],
                "modes_20_se": modes_20[1],
                "high_quality_pct_mean": hq[0],
                "high_quality_pct_se": hq[1],
                "all_modes_seeds": sum(r["modes"] == r["num_modes"] for r in mine),
                "train_s_mean": seconds[0],
                "train_s_median": float(np.median([r["train_s"] for r in mine])),
                "train_s_total": sum(r["train_s"] for r in mine),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of the summary rows."""
    lines = [
        "| setup | mixture | seeds | steps | modes covered (>= 1 HQ) | modes (>= 20 HQ) "
        "| high-quality % | all modes in | train s (median) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['setup']} | {r['mixture']} | {r['seeds']} | {r['steps']} "
            f"| {r['modes_mean']:.2f} ± {r['modes_se']:.2f} / {r['num_modes']} "
            f"| {r['modes_20_mean']:.2f} ± {r['modes_20_se']:.2f} "
            f"| {r['high_quality_pct_mean']:.1f} ± {r['high_quality_pct_se']:.1f} "
            f"| {r['all_modes_seeds']}/{r['seeds']} | {r['train_s_median']:.1f} |"
        )
    return "\n".join(lines)


def report(
    rows: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    setups: list[Setup],
    host: dict[str, Any],
    command: str,
    plots: list[str],
    wall: float,
    *,
    dispatch: int = 100,
    reused: dict[str, str] | None = None,
) -> str:
    """The Markdown page of the results."""
    published = "\n".join(
        f"| {name} | {v['ring']} / 8 | {v['grid']} / 25 |" for name, v in PUBLISHED.items()
    )
    setup_lines = "\n".join(f"* `{s.name}`: {s.description}." for s in setups)
    per_seed = "\n".join(
        f"| {r['setup']} | {r['mixture']} | {r['seed']} | {r['modes']} | {r['modes_20']} "
        f"| {100 * r['high_quality']:.1f} | {r['train_s']:.1f} |"
        for r in runs
    )
    notes = NOTES_FILE.read_text().strip() if NOTES_FILE.is_file() else "none"
    origins = "".join(
        f"\n\nThe runs of `{name}` were not retrained here: read back from `quality.jsonl`, "
        f"as recorded {origin}."
        for name, origin in (reused or {}).items()
    )
    plot_lines = (
        "\n".join(f"* [{Path(p).name}]({p})" for p in plots) or "* none (matplotlib missing)"
    )
    return f"""# Quality suite: mode coverage (PacGAN's protocol)

Written by `benchmarks/quality/run.py mode-coverage` (`{command}`).

Ring: 8 modes on a circle of radius 1, std 0.01. Grid: 5 x 5 modes 2 apart, std 0.05.
2,500 samples per trained generator; a sample is high quality (HQ) within 3 std of its
nearest mode; a mode is covered when it holds a high-quality sample (the stricter count
with >= 20 HQ samples, PacGAN's rule for its tables, beside it). Mean ± standard error
over the seeds. Goal (issue 14): the best recipe at 8/8 and 25/25 with >= 95 % HQ.

Trained with the library: `GAN` (MLP networks of `artifex-nets`) and `Trainer.fit` of
`artifex-train` (the compiled `build_step`, {dispatch} iterations per dispatch, `lax.scan`), fed
by an in-memory iterator of `{{"image": (B, 2)}}` batches.

## Results

{table(rows)}

"train s": wall time of `Trainer.fit` per run, compilation included (the first run of a
setup compiles the step; the next reuse it), median over the seeds. The whole benchmark
took {wall / 60:.1f} minutes.{origins}

Published (PacGAN, table 2, modes covered):

| method | ring | grid |
| --- | ---: | ---: |
{published}

## Setups

{setup_lines}

## Machine

{host["cpu"]}, {host["cores"]} cores (shared with other jobs while this ran), backend
{host["backend"]}; Python {host["python"]}, jax {host["jax"]}, flax {host["flax"]},
optax {host["optax"]}.

## Plots (first seed of each setup)

{plot_lines}

## Per seed

| setup | mixture | seed | modes | modes (>= 20) | HQ % | train s |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
{per_seed}

{NOTES_HEADING}

{notes}
"""


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Run the mode-coverage benchmark; print the table; write the results."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per setup and mixture")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--steps", type=int, default=None, help="training iterations (default: each setup's)"
    )
    parser.add_argument(
        "--setups", default=",".join(SETUPS), help=f"comma-separated of {', '.join(SETUPS)}"
    )
    parser.add_argument("--mixtures", default="ring,grid", help="comma-separated of ring, grid")
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help="results folder (quality_mode_coverage.md, quality.jsonl, quality/*.png)",
    )
    parser.add_argument(
        "--dispatch",
        type=int,
        default=1000,
        help="training iterations per compiled dispatch (lax.scan; gcd with the steps)",
    )
    parser.add_argument(
        "--reuse",
        default="",
        help="comma-separated setups read back from OUT/quality.jsonl instead of trained "
        "(the latest record with the same recipe and steps): rebuilds the page, e.g. after "
        "editing the notes",
    )
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")

    targets = mixtures()
    setups = [SETUPS[name] for name in args.setups.split(",")]
    chosen = [targets[name] for name in args.mixtures.split(",")]
    host = machine()
    command = " ".join(["run.py mode-coverage", *(argv if argv is not None else sys.argv[1:])])
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    runs: list[dict[str, Any]] = []
    plots: list[str] = []
    reuse = [name for name in args.reuse.split(",") if name]
    reused: dict[str, str] = {}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    began = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    for setup in setups:
        steps = args.steps or setup.steps
        for mixture in chosen:
            if setup.name in reuse:
                recorded, reused[setup.name] = recorded_runs(
                    args.out / "quality.jsonl", setup, mixture, steps, seeds
                )
                runs.extend(recorded)
                path = args.out / "quality" / f"mode_coverage_{setup.name}_{mixture.name}.png"
                if path.is_file() and not args.no_plots:
                    plots.append(str(path.relative_to(args.out)))
                continue
            for seed in seeds:
                samples, seconds = train_and_sample(
                    setup, mixture, seed, steps, dispatch=args.dispatch
                )
                result = score(samples, mixture)
                run = {
                    "setup": setup.name,
                    "mixture": mixture.name,
                    "seed": seed,
                    "steps": steps,
                    "train_s": seconds,
                    **result,
                }
                runs.append(run)
                print(
                    f"{setup.name:8s} {mixture.name:5s} seed {seed:2d}: {result['modes']:2d}/"
                    f"{result['num_modes']} modes, {100 * result['high_quality']:5.1f} % HQ, "
                    f"{seconds:6.1f} s",
                    flush=True,
                )
                if seed == args.first_seed and not args.no_plots:
                    path = args.out / "quality" / f"mode_coverage_{setup.name}_{mixture.name}.png"
                    title = (
                        f"{setup.name}, {mixture.name}, seed {seed}, {steps} steps: "
                        f"{result['modes']}/{result['num_modes']} modes, "
                        f"{100 * result['high_quality']:.1f} % HQ"
                    )
                    if plot(samples, mixture, title, path):
                        plots.append(str(path.relative_to(args.out)))
    wall = time.perf_counter() - began
    rows = summarize(runs)
    text = table(rows)
    print(text)
    (args.out / "quality_mode_coverage.md").write_text(
        report(
            rows, runs, setups, host, command, plots, wall, dispatch=args.dispatch, reused=reused
        )
    )
    with (args.out / "quality.jsonl").open("a") as sink:
        for row in rows:
            if row["setup"] in reused:
                continue  # already recorded
            record = {
                "suite": "quality",
                "part": "mode_coverage",
                "time": stamp,
                "command": command,
                **row,
                "recipe": SETUPS[row["setup"]].description,
                "per_seed": [
                    {k: r[k] for k in ("seed", "modes", "modes_20", "high_quality", "train_s")}
                    for r in runs
                    if r["setup"] == row["setup"] and r["mixture"] == row["mixture"]
                ],
                "machine": host,
            }
            sink.write(json.dumps(record) + "\n")
    print(f"wrote {args.out / 'quality_mode_coverage.md'} and {args.out / 'quality.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
