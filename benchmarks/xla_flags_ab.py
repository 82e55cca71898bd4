"""The Trainer's compiled CPU step under XLA:CPU flag sets, alternated (issue 17).

XLA reads ``XLA_FLAGS`` once per process, so each flag set runs in its own child process
(``step_ab.warm_trainer``: the benchmark's 64x64 anchor DCGAN and Trainer): it times
``--steps`` compiled steps and reports their median and the first step's losses (same
seed and batches in every child, so the losses say whether a flag changed the numbers).
The parent runs the flag sets in alternation for ``--rounds`` rounds (A, B, ..., A, B,
...) to share the machine's load, and prints each set's median of the children's medians,
its ratio to the first set's speed and its largest loss difference from the first set.

    python benchmarks/xla_flags_ab.py --batch 16 --rounds 2 \\
        --flags=";--xla_cpu_multi_thread_eigen=false"

(``--flags=`` with ``=``: the sets are separated by ``;``, the empty one is the default.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(batch: int, steps: int) -> None:
    """Time the compiled step in this process (its XLA_FLAGS) and print one JSON line."""
    import jax

    sys.path.insert(0, str(HERE))
    from step_ab import warm_trainer

    with tempfile.TemporaryDirectory(prefix="artifex-flags-") as workdir:
        trainer, batches = warm_trainer(batch, workdir)
        state, metrics = trainer._step(trainer.state, batches)
        losses = {k: float(v.reshape(-1)[0]) for k, v in metrics.items() if "loss" in k}
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            state, metrics = trainer._step(state, batches)
            jax.block_until_ready((state, metrics))
            times.append(1000 * (time.perf_counter() - t0))
        trainer.state = state
    print(json.dumps({"ms": statistics.median(times), "losses": losses}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--flags", default="", help="XLA_FLAGS values separated by ';'")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.batch, args.steps)
        return
    flag_sets = [flags.strip() for flags in args.flags.split(";")]
    results: dict[str, list[dict]] = {flags: [] for flags in flag_sets}
    base_flags = os.environ.get("XLA_FLAGS", "")
    for _ in range(args.rounds):
        for flags in flag_sets:
            env = {**os.environ, "XLA_FLAGS": f"{base_flags} {flags}".strip()}
            command = [sys.executable, __file__, "--child", "--batch", str(args.batch)]
            command += ["--steps", str(args.steps)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"XLA_FLAGS={flags!r} failed:\n{done.stderr[-2000:]}")
            results[flags].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"{flags or '(default)'}: {results[flags][-1]}", flush=True)
    first = flag_sets[0]
    base = statistics.median(r["ms"] for r in results[first])
    print(f"\nbatch {args.batch}, {args.rounds} rounds of {args.steps} steps")
    print("| XLA_FLAGS | median ms/step | speed vs first | max loss difference |")
    print("| --- | ---: | ---: | ---: |")
    for flags, runs in results.items():
        ms = statistics.median(r["ms"] for r in runs)
        diff = max(
            abs(value - results[first][0]["losses"][key])
            for run in runs
            for key, value in run["losses"].items()
        )
        print(f"| `{flags or '(default)'}` | {ms:.1f} | {base / ms:.3f}x | {diff:.2e} |")


if __name__ == "__main__":
    main()
