"""The quality suite: how well the library's GANs train, not how fast (issue 14).

Each part is a subcommand; each writes its table under ``benchmarks/results/`` (or
``--out``), with the machine and the versions, and appends JSON lines to ``quality.jsonl``.

    python benchmarks/quality/run.py                       # every part, full protocol
    python benchmarks/quality/run.py mode-coverage --seeds 1 --steps 50 --out /tmp/x
    nox -s quality -- mode-coverage --seeds 3

Parts:

* ``mode-coverage``: PacGAN's 2-D mixtures (ring of 8, grid of 25), the vanilla GAN and
  the library's best recipe (``mode_coverage.py``).
* ``data-efficiency``: the ``dcgan`` preset on 10 % of the digits with no augmentation,
  DiffAugment and ADA, FID-digits over time and at the end (``data_efficiency.py``).

* ``modern-families``: the ``stylegan2`` and ``biggan`` presets' FID-digits and BigGAN's
  per-class accuracy by the bundled digits classifier (``modern_families.py``).

* ``preset-fid``: the FID-digits of every preset over seeds, beside the real-vs-real floor
  and the wall time; runs are kept, so the table fills in over calls (``preset_fid.py``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import data_efficiency  # noqa: E402
import mode_coverage  # noqa: E402
import modern_families  # noqa: E402
import preset_fid  # noqa: E402

PARTS: dict[str, Callable[..., int]] = {
    "mode-coverage": mode_coverage.main,
    "data-efficiency": data_efficiency.main,
    "preset-fid": preset_fid.main,
    "modern-families": modern_families.main,
}
"""Subcommand name -> ``main(argv, prog=...)`` of that part."""


def main(argv: list[str] | None = None) -> int:
    """Run one part (``run.py PART [options]``) or, with no part named, all of them."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        print("parts:", ", ".join(PARTS))
        return 0
    if not args or args[0].startswith("-"):
        # No part named: every part with the same options (none for a full run).
        status = 0
        for name, part in PARTS.items():
            print(f"== {name}", flush=True)
            status |= part(args, prog=f"run.py {name}")
        return status
    name, rest = args[0], args[1:]
    if name not in PARTS:
        print(f"unknown part {name!r}; parts: {', '.join(PARTS)}", file=sys.stderr)
        return 2
    return PARTS[name](rest, prog=f"run.py {name}")


if __name__ == "__main__":
    raise SystemExit(main())
