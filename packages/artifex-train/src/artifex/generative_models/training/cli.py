"""The ``artifex-train`` command line.

    artifex-train demo [--out runs/demo] [--steps N]
    artifex-train train --preset dcgan --out runs/dcgan --set training.steps=500
    artifex-train train --config experiment.yaml --out runs/mine
    artifex-train presets
    artifex-train evaluate runs/dcgan [--against digits|stats.npz] [--samples N] [--step S]
    artifex-train generate runs/dcgan [--n 64] [--seed 0] [--class C | --by-class]
                          [--truncation PSI] [--out samples.png|.npz|.gif|FOLDER]
    artifex-train interpolate runs/dcgan [--steps 60] [--out walk.gif]
    artifex-train style-mix runs/stylegan [--rows 4] [--columns 4] [--layer L] [--out mix.png]

``train`` resumes from the run folder's latest checkpoint when there is one, so the same
command continues a run after a crash. ``--set key=value`` changes any field of the
experiment by its dotted path (``training.data.batch_size=32``,
``model.generator.hidden_dims=[128,64]``); values are read as YAML.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["apply_overrides", "build_parser", "evaluate_run", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``artifex-train``."""
    parser = argparse.ArgumentParser(
        prog="artifex-train", description="Train GANs with Artifex from the command line."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="train the default preset on the bundled digits; write samples, plots, scores"
    )
    demo.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    demo.add_argument("--steps", type=int, default=None, help="iterations (default: the preset's)")
    train = commands.add_parser("train", help="train an experiment from a preset or a YAML file")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help="a preset name (see `artifex-train presets`)")
    source.add_argument("--config", type=Path, help="an experiment config YAML file")
    train.add_argument("--out", required=True, help="run folder")
    train.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="change a field by its dotted path; may be repeated",
    )  # fmt: skip
    commands.add_parser("presets", help="list the presets")
    evaluate = commands.add_parser(
        "evaluate",
        help="FID and KID of a run's EMA generator from its latest (or --step) checkpoint",
    )
    evaluate.add_argument("run", type=Path, help="the run folder (with config.yaml)")
    evaluate.add_argument(
        "--against", default=None,
        help="'digits' or a statistics file (`artifex-metrics stats ... --mode legacy_pytorch`); "
        "default: the run config's evaluation.against",
    )  # fmt: skip
    evaluate.add_argument("--samples", type=int, default=None, help="generated images")
    evaluate.add_argument("--step", type=int, default=None, help="checkpoint (default: latest)")
    from artifex.generative_models.training.generate import add_commands

    add_commands(commands)  # generate, interpolate, style-mix
    return parser


def apply_overrides(config: Any, overrides: Sequence[str]) -> Any:
    """``config`` with each ``dotted.key=value`` applied (values parsed as YAML).

    Raises:
        ValueError: A malformed override or a key the config does not have (the message
            lists the keys at that level).
    """
    import yaml

    data = config.to_dict(include_type=True)
    for override in overrides:
        key, separator, raw = override.partition("=")
        if not separator or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {override!r}")
        node = data
        parts = key.split(".")
        for depth, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                where = ".".join(parts[:depth]) or "the experiment"
                known = (
                    ", ".join(sorted(k for k in node if k != "config_type"))
                    if isinstance(node, dict)
                    else "nothing (not a mapping)"
                )
                raise ValueError(f"--set {key}: {where} has no field {part!r}; it has {known}")
            if depth == len(parts) - 1:
                node[part] = yaml.safe_load(raw)
            else:
                node = node[part]
    return type(config).from_dict(data)


def evaluate_run(
    run: Path, *, against: str | None = None, samples: int | None = None, step: int | None = None
) -> dict[str, Any]:
    """Score a run folder's EMA generator; write ``evaluation_step_NNNNNN.json`` beside it.

    Raises:
        FileNotFoundError: No ``config.yaml`` or no checkpoint in ``run``.
        ValueError: The reference cannot be used (see ``evaluation.reference_for``).
    """
    import json

    from artifex.generative_models.core.configuration import ExperimentConfig
    from artifex.generative_models.training.evaluation import data_format_of, evaluation_for
    from artifex.generative_models.training.run import build_model
    from artifex.generative_models.training.trainer import Trainer

    config_file = run / "config.yaml"
    if not config_file.is_file():
        raise FileNotFoundError(f"{run} is not a run folder: it has no config.yaml")
    experiment = ExperimentConfig.from_yaml(config_file.read_text())
    wanted = experiment.training.evaluation
    changes: dict[str, Any] = {"every": 1}
    if against is not None:
        changes["against"] = against
        changes["extractor"] = "digits" if against == "digits" else "inception"
    if samples is not None:
        changes["samples"] = samples
    wanted = wanted.replace(**changes)
    # No data is read: the trainer only holds the restored state.
    trainer = Trainer(build_model(experiment), None, experiment, workdir=run, progress=False)
    restored = trainer.restore(step)
    evaluation = evaluation_for(wanted, data_format_of(trainer))
    scores = {
        "step": restored,
        **evaluation.evaluate(trainer),
        "against": wanted.against,
        "samples": evaluation.batches * evaluation.batch_size,
    }
    (run / f"evaluation_step_{restored:06d}.json").write_text(json.dumps(scores, indent=2) + "\n")
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = build_parser().parse_args(argv)
    from artifex.generative_models.training.presets import DEFAULT_PRESET, PRESETS, preset

    if args.command == "presets":
        for name, build in PRESETS.items():
            experiment = build()
            marker = " (default)" if name == DEFAULT_PRESET else ""
            print(
                f"{name}{marker}: {type(experiment.model).__name__}, "
                f"{experiment.training.steps} iterations on {experiment.training.data.source}"
            )
        return 0

    from artifex.generative_models.core.configuration import ExperimentConfig
    from artifex.generative_models.training.generate import COMMANDS, run_command
    from artifex.generative_models.training.run import run_experiment
    from artifex.generative_models.training.trainer import TrainingInterrupted

    if args.command in COMMANDS:
        try:
            print(run_command(args))
        except (ValueError, TypeError, FileNotFoundError) as error:
            print(f"artifex-train: error: {error}", file=sys.stderr)
            return 2
        return 0

    if args.command == "evaluate":
        try:
            scores = evaluate_run(
                args.run, against=args.against, samples=args.samples, step=args.step
            )
        except (ValueError, TypeError, FileNotFoundError) as error:
            print(f"artifex-train: error: {error}", file=sys.stderr)
            return 2
        for name, value in scores.items():
            print(f"  {name}: {value}")
        return 0

    try:
        if args.command == "demo":
            experiment = preset(DEFAULT_PRESET)
            if args.steps is not None:
                experiment = apply_overrides(experiment, [f"training.steps={args.steps}"])
            out = args.out
        else:
            experiment = (
                preset(args.preset)
                if args.preset
                else ExperimentConfig.from_yaml(args.config.read_text())
            )
            experiment = apply_overrides(experiment, args.overrides)
            out = args.out
        scores = run_experiment(experiment, out)
    except TrainingInterrupted as stop:
        print(f"artifex-train: {stop}", file=sys.stderr)
        return 130
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"artifex-train: error: {error}", file=sys.stderr)
        return 2
    print(f"artifex-train: done; run folder {Path(out).resolve()}")
    for name, value in scores.items():
        if name != "final":
            print(f"  {name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
