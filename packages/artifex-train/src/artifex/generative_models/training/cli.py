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
    artifex-train check runs/dcgan

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

__all__ = ["apply_overrides", "build_parser", "evaluate_run", "main", "read_config"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``artifex-train``."""
    parser = argparse.ArgumentParser(
        prog="artifex-train",
        description="Train GANs with Artifex from the command line.",
        epilog="Exit codes: 0 done; 2 a usage, config, data or run-folder error (one line "
        "on stderr; --debug shows the traceback); 3 a loss became NaN or Inf; 130 stopped "
        "by SIGINT / SIGTERM after a checkpoint.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug", action="store_true", help="on an error, show the Python traceback too"
    )
    folder = argparse.ArgumentParser(add_help=False, parents=[debug])
    folder.add_argument(
        "--overwrite", action="store_true",
        help="with training.checkpoint.resume=false, start over in a folder that has "
        "checkpoints (its files are moved into previous-<time>/, not deleted)",
    )  # fmt: skip
    folder.add_argument(
        "--allow-config-change", dest="allow_config_change", action="append", default=[],
        metavar="FIELD",
        help="on resume, accept a change of FIELD (dotted; a prefix covers the fields "
        "under it) although it changes what the checkpoints hold or the data; repeatable",
    )  # fmt: skip
    demo = commands.add_parser(
        "demo", parents=[folder],
        help="train the default preset on the bundled digits; write samples, plots, scores",
    )  # fmt: skip
    demo.add_argument("--out", default="runs/demo", help="run folder (default: runs/demo)")
    demo.add_argument("--steps", type=int, default=None, help="iterations (default: the preset's)")
    train = commands.add_parser(
        "train", parents=[folder], help="train an experiment from a preset or a YAML file"
    )
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help="a preset name (see `artifex-train presets`)")
    source.add_argument("--config", type=Path, help="an experiment config YAML file")
    train.add_argument("--out", required=True, help="run folder")
    train.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="change a field by its dotted path; may be repeated",
    )  # fmt: skip
    from artifex.generative_models.training import _distributed

    _distributed.add_arguments(train)  # --distributed, --coordinator, ...
    commands.add_parser("presets", help="list the presets")
    evaluate = commands.add_parser(
        "evaluate", parents=[debug],
        help="FID and KID of a run's EMA generator from its latest (or --step) checkpoint",
    )  # fmt: skip
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
    from artifex.generative_models.training._check import add_command as add_check

    add_check(commands)  # check
    from artifex.generative_models.training.export import add_command as add_export

    add_export(commands)  # export
    return parser


def read_config(path: Path) -> Any:
    """The ``ExperimentConfig`` of the YAML file ``path``.

    The YAML is read safely (no ``!!python`` tags) and a key given twice in one mapping is
    refused, not silently replaced by the last one.

    Raises:
        ValueError: ``path`` is not a readable file, not YAML, or has a duplicate key (the
            message names the file and the line).
    """
    import yaml

    from artifex.generative_models.core.configuration import ExperimentConfig

    if path.is_dir():
        raise ValueError(f"--config {path} is a folder: name an experiment YAML file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise ValueError(f"--config {path}: cannot be read ({reason})") from error
    try:
        data = yaml.load(text, Loader=_unique_key_loader())
    except yaml.YAMLError as error:
        raise ValueError(f"--config {path}: {_yaml_problem(error)}") from error
    if not isinstance(data, dict):
        raise ValueError(
            f"--config {path}: expected a mapping (model: ..., training: ...), "
            f"got {type(data).__name__}"
        )
    return ExperimentConfig.from_dict(data)


def _yaml_problem(error: Any) -> str:
    """A YAML error in one line: what is wrong and where."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"not valid YAML: {problem}{where}"


def _unique_key_loader() -> Any:
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""

    def mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        loader.flatten_mapping(node)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node.start_mark.line)
            except TypeError:  # an unhashable key: the constructor refuses it below
                continue
            if first != key_node.start_mark.line:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {first + 1})",
                    key_node.start_mark,
                )  # fmt: skip
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return UniqueKeyLoader


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


# The exit status of each way a command ends (docs/training.md lists them).
EXIT_DONE, EXIT_USER_ERROR, EXIT_NON_FINITE, EXIT_INTERRUPTED = 0, 2, 3, 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status.

    Every error a user can cause (a config, data, run folder or checkpoint that cannot be
    used) ends in one message on stderr and status 2, without a traceback (``--debug``
    prints it); a NaN / Inf loss ends in status 3, SIGINT / SIGTERM in 130.
    """
    args = build_parser().parse_args(argv)
    import pickle

    import yaml

    from artifex.generative_models.training.trainer import (
        NonFiniteLossError,
        TrainingInterrupted,
    )

    debug = getattr(args, "debug", False)
    try:
        return _command(args)
    except TrainingInterrupted as stop:
        print(f"artifex-train: {stop}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except NonFiniteLossError as error:
        _report(f"stopped: {error}", debug)
        return EXIT_NON_FINITE
    except (ValueError, TypeError, OSError, yaml.YAMLError, pickle.UnpicklingError) as error:
        _report(f"error: {_message(error)}", debug)
        return EXIT_USER_ERROR


def _message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    if not isinstance(error, ValueError | TypeError | FloatingPointError):
        import yaml

        if isinstance(error, yaml.YAMLError):
            return _yaml_problem(error)
        return f"{type(error).__name__}: {error}"
    return str(error)


def _report(message: str, debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exc()
    print(f"artifex-train: {message}", file=sys.stderr)


def _command(args: argparse.Namespace) -> int:
    from artifex.generative_models.training.generate import COMMANDS, run_command
    from artifex.generative_models.training.presets import DEFAULT_PRESET, PRESETS, preset

    if args.command in COMMANDS:
        print(run_command(args))
        return 0

    if args.command == "export":
        from artifex.generative_models.training.export import run_command as export

        print(f"artifex-train: exported to {export(args)}")
        return EXIT_DONE

    if args.command == "check":
        from artifex.generative_models.training._check import run_check

        return run_check(args)

    if args.command == "presets":
        for name, build in PRESETS.items():
            experiment = build()
            marker = " (default)" if name == DEFAULT_PRESET else ""
            print(
                f"{name}{marker}: {type(experiment.model).__name__}, "
                f"{experiment.training.steps} iterations on {experiment.training.data.source}"
            )
        return EXIT_DONE

    if args.command == "evaluate":
        scores = evaluate_run(args.run, against=args.against, samples=args.samples, step=args.step)
        for name, value in scores.items():
            print(f"  {name}: {value}")
        return EXIT_DONE

    from artifex.generative_models.training import _distributed
    from artifex.generative_models.training.run import run_experiment

    # Before anything else uses JAX: it fixes its devices (and processes) on first use.
    _distributed.initialize_from(args)
    if args.command == "demo":
        experiment = preset(DEFAULT_PRESET)
        if args.steps is not None:
            experiment = apply_overrides(experiment, [f"training.steps={args.steps}"])
    else:
        experiment = preset(args.preset) if args.preset else read_config(args.config)
        experiment = apply_overrides(experiment, args.overrides)
    out = args.out
    scores = run_experiment(
        experiment, out, overwrite=args.overwrite, allow_config_change=args.allow_config_change
    )
    print(f"artifex-train: done; run folder {Path(out).resolve()}")
    for name, value in scores.items():
        if name != "final":
            print(f"  {name}: {value}")
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(main())
