"""Run the speed benchmarks and record their figures with the machine they ran on.

Each benchmark is a script that prints one JSON line (``impl``, ``batch``, ``step_ms``,
``img_per_s``, ...). This runner calls them in subprocesses — one compilation cache and
one set of XLA flags each — one after the other on the same machine, appends every result
with the machine's description to ``benchmarks/results/results.jsonl``, and prints a
table with each figure's ratio to the hand-written split + jit reference.

    python benchmarks/run.py                          # CPU-sized defaults
    python benchmarks/run.py --batch 128 --steps 100 --bf16
    python benchmarks/run.py --only split,trainer --k 1

What runs (``--only`` picks a subset):

* ``split``: ``references/jax_dcgan_bench.py --driver split`` (state split once,
  ``jax.jit``, donated) — the baseline of the ratio column;
* ``nnx``: the same reference with per-call ``nnx.jit``;
* ``trainer``: ``trainer_bench.py``, the library's ``DCGAN`` and ``Trainer``, once per
  ``--k`` value (steps per dispatch); its ``step_ms`` is ``Trainer.fit`` with the host
  data feed, ``step_ms_compiled_only`` the compiled step alone;
* ``torch``: ``references/torch_dcgan_bench.py`` (``--amp --channels-last`` with
  ``--bf16``), when torch is importable; skipped with a note otherwise.

The references warm up 5 iterations (fixed in the anchors); the trainer ``--warmup``.
Targets (the speed issue): on CPU the Trainer within 10 % of the split reference; on a
GPU at least the hand-written bf16 figures of an H100 (31.9k img/s at batch 128, 55.6k
at batch 512).
"""

from __future__ import annotations

import argparse
import importlib.util
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
TORCH_REFERENCE = HERE / "references" / "torch_dcgan_bench.py"
TRAINER = HERE / "trainer_bench.py"
NAMES = ("split", "nnx", "trainer", "torch")
# Hand-written JAX, split + jit, bf16 on one H100 (shared/anchors/README.md): img/s.
GPU_TARGETS = {128: 31_900.0, 512: 55_600.0}
CPU_TOLERANCE = 0.10


def machine() -> dict:
    """What the figures were measured on."""
    probe = (
        "import jax, flax; d = jax.devices()[0]; "
        "print(d.platform, '|', d.device_kind, '|', len(jax.devices()), '|', "
        "jax.__version__, '|', flax.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    backend, kind, count, jax_version, flax_version = (
        part.strip() for part in out.stdout.strip().splitlines()[-1].split("|")
    )
    return {
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "processor": cpu_model() or platform.processor() or platform.machine(),
        "backend": backend,
        "device_kind": kind,
        "device_count": int(count),
        "python": platform.python_version(),
        "jax": jax_version,
        "flax": flax_version,
    }


def cpu_model() -> str | None:
    """The CPU's model name (Linux), or None."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def run_script(script: Path, *args: str) -> dict:
    """Run one benchmark script; return the JSON line it printed."""
    result = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{script.name} {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def plan(args: argparse.Namespace) -> list[tuple[str, Path, list[str]]]:
    """The runs to make: ``(name, script, arguments)``, the split reference first."""
    common = ["--batch", str(args.batch), "--steps", str(args.steps)]
    bf16 = ["--bf16"] if args.bf16 else []
    runs: list[tuple[str, Path, list[str]]] = []
    for driver in ("split", "nnx"):
        if driver in args.only:
            runs.append((driver, REFERENCE, ["--driver", driver, *common, *bf16]))
    if "trainer" in args.only:
        for k in args.k:
            extra = ["--warmup", str(args.warmup), "--steps-per-dispatch", str(k)]
            runs.append((f"trainer K={k}", TRAINER, [*common, *extra, *bf16]))
    if "torch" in args.only:
        amp = ["--amp", "--channels-last"] if args.bf16 else []
        runs.append(("torch", TORCH_REFERENCE, [*common, *amp]))
    return runs


def ratio(value: float | None, base: float | None) -> float | None:
    """``value / base``, or None when either is missing."""
    if value is None or not base:
        return None
    return value / base


def fmt(value: float | None, spec: str) -> str:
    """``value`` formatted, or a dash."""
    return "-" if value is None else format(value, spec)


def table(rows: list[dict]) -> str:
    """The results as a text table; ratios are img/s over the split reference's."""
    header = (
        f"{'implementation':<24}{'batch':>6}{'bf16':>6}{'steps':>6}{'step ms':>11}"
        f"{'img/s':>10}{'ratio':>7}{'compiled ms':>13}{'img/s':>10}{'ratio':>7}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        bf16 = row.get("bf16", row.get("amp", False))
        lines.append(
            f"{row['impl']:<24}{row['batch']:>6}{bf16!s:>6}{row.get('steps', '-')!s:>6}"
            f"{row['step_ms']:>11.1f}{row['img_per_s']:>10.1f}"
            f"{fmt(row.get('ratio_vs_split'), '.2f'):>7}"
            f"{fmt(row.get('step_ms_compiled_only'), '.1f'):>13}"
            f"{fmt(row.get('img_per_s_compiled_only'), '.1f'):>10}"
            f"{fmt(row.get('ratio_compiled_only_vs_split'), '.2f'):>7}"
        )
    return "\n".join(lines)


def verdict(rows: list[dict], about: dict, args: argparse.Namespace) -> list[str]:
    """Whether the Trainer rows meet the speed targets of this backend."""
    lines = []
    for row in rows:
        if not row["impl"].startswith("artifex Trainer"):
            continue
        if about["backend"] == "cpu":
            got = row.get("ratio_vs_split")
            if got is None:
                continue
            met = got >= 1.0 - CPU_TOLERANCE
            lines.append(
                f"{row['impl']}: {got:.2f}x the split reference's img/s "
                f"(target >= {1.0 - CPU_TOLERANCE:.2f}x): {'met' if met else 'NOT met'}"
            )
        else:
            target = GPU_TARGETS.get(args.batch)
            if target is None or not args.bf16:
                lines.append(
                    f"{row['impl']}: the GPU targets are bf16 at batch 128 or 512 "
                    "(run with --bf16 --batch 128 / 512)"
                )
                continue
            got = row["img_per_s"]
            met = got >= target
            lines.append(
                f"{row['impl']}: {got:,.0f} img/s vs the H100 hand-written bf16 "
                f"{target:,.0f} (on {about['device_kind']}): {'met' if met else 'NOT met'}"
            )
    return lines


def main() -> int:
    """Run the benchmarks named by the options; append and print the results."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3, help="timed iterations")
    parser.add_argument("--warmup", type=int, default=2, help="trainer warm-up iterations")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument(
        "--k",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1, 4],
        help="trainer steps per dispatch, comma-separated (default 1,4)",
    )
    parser.add_argument(
        "--only",
        type=lambda text: [part.strip() for part in text.split(",")],
        default=list(NAMES),
        help=f"comma-separated subset of {','.join(NAMES)} (default all)",
    )
    parser.add_argument("--no-record", action="store_true", help=f"do not append to {RESULTS.name}")
    args = parser.parse_args()
    unknown = sorted(set(args.only) - set(NAMES))
    if unknown:
        parser.error(f"--only: unknown {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    if "torch" in args.only and importlib.util.find_spec("torch") is None:
        print("torch is not importable here: the PyTorch reference is skipped")
        args.only = [name for name in args.only if name != "torch"]

    about = machine()
    print(f"machine: {about}", flush=True)
    rows, failures = [], []
    for name, script, script_args in plan(args):
        started = time.perf_counter()
        print(f"running {name}: {script.name} {' '.join(script_args)}", flush=True)
        try:
            row = run_script(script, *script_args)
        except RuntimeError as error:
            failures.append(name)
            print(f"  FAILED: {error}", flush=True)
            continue
        row.setdefault("steps", args.steps)
        row.update(
            run=name,
            machine=about,
            recorded=time.strftime("%Y-%m-%dT%H:%M:%S"),
            wall_s=round(time.perf_counter() - started, 1),
        )
        rows.append(row)
        print(f"  {row['step_ms']:.1f} ms/step, {row['img_per_s']:.1f} img/s", flush=True)

    base = next((row["img_per_s"] for row in rows if row["run"] == "split"), None)
    for row in rows:
        row["ratio_vs_split"] = ratio(row["img_per_s"], base)
        if row.get("img_per_s_compiled_only") is not None:
            row["ratio_compiled_only_vs_split"] = ratio(row["img_per_s_compiled_only"], base)

    if rows and not args.no_record:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as results:
            for row in rows:
                results.write(json.dumps(row) + "\n")
    print()
    print(table(rows))
    print("ratio: img/s over the split reference's; compiled: the Trainer's step alone")
    for line in verdict(rows, about, args):
        print(line)
    if rows and not args.no_record:
        print(f"appended {len(rows)} results to {RESULTS.relative_to(HERE.parent)}")
    if failures:
        print(f"failed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
