"""Run the speed benchmarks and record their figures with the machine they ran on.

Each benchmark is a script that prints one JSON line (``impl``, ``batch``, ``step_ms``,
``img_per_s``, ...). This runner calls them in subprocesses — one compilation cache and
one set of XLA flags each — appends every result with the machine's description to
``benchmarks/results/results.jsonl``, and prints a table.

    python benchmarks/run.py                  # CPU-sized defaults
    python benchmarks/run.py --batch 128 --steps 100 --bf16

The library's own Trainer joins the table with the training engine (issue 6); until then
the table holds the hand-written references the Trainer will be measured against.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "results.jsonl"
REFERENCE = HERE / "references" / "jax_dcgan_bench.py"


def machine() -> dict:
    """What the figures were measured on."""
    probe = (
        "import jax; d = jax.devices()[0]; "
        "print(d.platform, '|', d.device_kind, '|', len(jax.devices()))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    backend, kind, count = (part.strip() for part in out.stdout.strip().split("|"))
    return {
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "backend": backend,
        "device_kind": kind,
        "device_count": int(count),
        "python": platform.python_version(),
    }


def run_script(script: Path, *args: str) -> dict:
    """Run one benchmark script; return the JSON line it printed."""
    result = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{script.name} {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    """Run the benchmarks named by the options; append and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--bf16", action="store_true")
    args = parser.parse_args()
    about = machine()
    common = ["--batch", str(args.batch), "--steps", str(args.steps)]
    common += ["--bf16"] if args.bf16 else []
    rows = []
    for driver in ("split", "nnx"):
        row = run_script(REFERENCE, "--driver", driver, *common)
        row.update(machine=about, recorded=time.strftime("%Y-%m-%dT%H:%M:%S"))
        rows.append(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as results:
        for row in rows:
            results.write(json.dumps(row) + "\n")
    print(f"machine: {about}")
    print(f"{'implementation':<22}{'batch':>6}{'bf16':>6}{'step ms':>10}{'img/s':>10}")
    for row in rows:
        print(
            f"{row['impl']:<22}{row['batch']:>6}{row['bf16']!s:>6}"
            f"{row['step_ms']:>10.1f}{row['img_per_s']:>10.1f}"
        )
    print(f"appended {len(rows)} results to {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
