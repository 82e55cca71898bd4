"""``artifex-train check RUN``: verify every checkpoint of a run folder.

Each checkpoint in ``RUN/checkpoints`` is read array by array and compared with the
digests saved with it (:func:`~.checkpoints.verify_checkpoint`); no model is built and
nothing in the folder is written, locked or deleted, so a run may be training there
meanwhile. One line per checkpoint::

    step 4: OK
    step 6: DAMAGED: the array nets/0/layers/0/kernel does not match its CRC-32

Exit status 0 when every checkpoint is intact, 2 when one is damaged or there is none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_command", "check_run", "run_check"]

COMMAND = "check"


def add_command(commands: Any) -> None:
    """Add ``check`` to a subparsers object."""
    sub = commands.add_parser(
        COMMAND,
        help="verify every checkpoint of a run folder against its digests (exit 2 if damaged)",
    )
    sub.add_argument("run", type=Path, help="the run folder (with checkpoints/)")
    sub.add_argument("--debug", action="store_true", help="on an error, show the traceback")


def check_run(run: str | Path) -> dict[int, list[str]]:
    """``{step: problems}`` for every checkpoint of the run folder ``run`` (oldest first).

    Raises:
        FileNotFoundError: ``run`` has no checkpoint.
    """
    from artifex.generative_models.training._runfolder import checkpoint_steps
    from artifex.generative_models.training.checkpoints import verify_checkpoint

    folder = Path(run)
    steps = checkpoint_steps(folder)
    if not steps:
        raise FileNotFoundError(
            f"{folder} has no checkpoint to check (no {folder / 'checkpoints'}/<step>/): "
            "name a run folder"
        )
    report = {}
    for step in steps:
        step_dir = folder / "checkpoints" / str(step)
        problems = verify_checkpoint(step_dir)
        if problems and not step_dir.exists():
            # A run training in the folder deleted it (keep_last) while it was read.
            problems = ["deleted while being checked (the run in the folder keeps the last few)"]
        report[step] = problems
    return report


def run_check(args: argparse.Namespace) -> int:
    """Print one line per checkpoint; return 0 if all are intact, else 2."""
    report = check_run(args.run)
    for step, problems in report.items():
        print(f"step {step}: " + (f"DAMAGED: {'; '.join(problems)}" if problems else "OK"))
    damaged = [step for step, problems in report.items() if problems]
    if damaged:
        intact = [step for step in report if step not in damaged]
        then = (
            f"a resume continues from step {intact[-1]}, the newest intact one"
            if intact
            else "none is intact: the run cannot be resumed"
        )
        print(
            f"artifex-train: {len(damaged)} of {len(report)} checkpoints damaged: {damaged}; "
            + then,
            file=sys.stderr,
        )
        return 2
    return 0
