"""The ``artifex-train`` command line.

Until the training engine lands (issue 6) the command knows one job, ``demo``, and says
plainly that it trains nothing yet, so that the README's main-job command already runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``artifex-train``."""
    parser = argparse.ArgumentParser(
        prog="artifex-train", description="Train GANs with Artifex from the command line."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="train the default model on the bundled digits; write samples, plots, scores"
    )
    demo.add_argument("--out", default="runs/demo", help="folder for samples, plots and scores")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        print(
            "artifex-train demo: placeholder — the training engine (issue 6) is not built yet, "
            f"so nothing was trained and nothing was written to {args.out}."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
