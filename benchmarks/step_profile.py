"""Where the Trainer's compiled CPU step spends its time, per XLA op (issue 17).

Builds the benchmark's 64x64 anchor DCGAN and ``Trainer`` (``trainer_bench.py``: vanilla
loss, Adam, no EMA), warms the compiled step up, then traces ``--steps`` calls of it with
``jax.profiler`` and sums the XLA:CPU runtime's per-thunk events (``hlo_op``) by kind:
convolutions (and fusions holding one), transposes and copies, slices and pads,
reductions and elementwise fusions, as told by each instruction's opcode, its fused
computation and its ``op_name`` metadata in the compiled HLO (which names primitives,
not modules). Thunks run concurrently on the CPU's threads, so their sum exceeds the
wall time; the shares are of the sum.
Also prints XLA's cost analysis (FLOPs, bytes) of one step. Prints a Markdown table
and one JSON line.

    python benchmarks/step_profile.py --batch 64 --steps 3
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parent))
from step_ab import warm_trainer

INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = \S+ ([\w\-]+)\(")
OP_NAME = re.compile(r'op_name="([^"]*)"')
CALLS = re.compile(r"calls=%?([\w.\-]+)")


def parse_hlo(text: str) -> dict[str, dict]:
    """Instruction name -> opcode, metadata op_name, the opcodes of its fused computation."""
    computations: dict[str, list[str]] = {}
    current = None
    info: dict[str, dict] = {}
    for line in text.splitlines():
        if not line.startswith(" ") and "{" in line and "(" in line:
            current = line.split()[0 if not line.startswith("ENTRY") else 1].lstrip("%")
            computations[current] = []
            continue
        match = INSTRUCTION.match(line)
        if not match:
            continue
        name, opcode = match.groups()
        if current is not None:
            computations[current].append(opcode)
        op_name = OP_NAME.search(line)
        calls = CALLS.search(line)
        info[name] = {
            "opcode": opcode,
            "op_name": op_name.group(1) if op_name else "",
            "calls": calls.group(1) if calls else None,
        }
    for entry in info.values():
        entry["inner"] = set(computations.get(entry["calls"] or "", []))
    return info


def category(name: str, entry: dict | None) -> str:
    """The kind of work an executed HLO op does."""
    if entry is None:
        return "other"
    ops = entry["inner"] | {entry["opcode"]}
    path = entry["op_name"].lower()
    if "convolution" in ops or "conv_general_dilated" in path:
        return "convolution"
    if "dot" in ops:
        return "dense (dot)"
    # The compiled HLO's metadata names the primitive (op_name), not the module, so the
    # non-convolution work is told apart by what the fused computation does.
    if ops & {"transpose", "copy"} or path.endswith("/transpose"):
        return "transposes / copies (layouts, weight-gradient operands)"
    if ops & {"slice", "pad", "concatenate", "dynamic-slice", "dynamic-update-slice"}:
        return "slices / pads / concatenations (sub-pixel phases, crops)"
    if "reduce" in ops:
        return "reductions (BatchNorm statistics, bias gradients, losses)"
    return "elementwise (BatchNorm, activations, Adam, NaN guard, casts)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--top", type=int, default=15, help="also list the N slowest ops")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="artifex-profile-") as workdir:
        trainer, batches = warm_trainer(args.batch, workdir)
        compiled = trainer._step.lower(trainer.state, batches).compile()
        cost = compiled.cost_analysis()
        cost = cost[0] if isinstance(cost, list) else cost
        hlo = parse_hlo(compiled.as_text())
        trainer.state, _ = trainer._step(trainer.state, batches)  # warm
        jax.block_until_ready(trainer.state)
        trace_dir = Path(workdir) / "trace"
        jax.profiler.start_trace(str(trace_dir))
        t0 = time.perf_counter()
        for _ in range(args.steps):
            trainer.state, _ = trainer._step(trainer.state, batches)
        jax.block_until_ready(trainer.state)
        wall = (time.perf_counter() - t0) / args.steps
        jax.profiler.stop_trace()
        (path,) = glob.glob(str(trace_dir / "**" / "*.xplane.pb"), recursive=True)
        profile = jax.profiler.ProfileData.from_file(path)
    per_op: dict[str, float] = collections.defaultdict(float)
    for plane in profile.planes:
        for line in plane.lines:
            for event in line.events:
                stats = dict(event.stats)
                if "hlo_op" in stats:
                    per_op[stats["hlo_op"]] += event.duration_ns / 1e6 / args.steps
    per_kind: dict[str, list] = collections.defaultdict(lambda: [0.0, 0])
    for name, ms in per_op.items():
        kind = category(name, hlo.get(name))
        per_kind[kind][0] += ms
        per_kind[kind][1] += 1
    total = sum(ms for ms, _ in per_kind.values())
    flops = float(cost.get("flops", 0.0))
    print(
        f"batch {args.batch}: wall {1000 * wall:.1f} ms/step, thunk events sum "
        f"{total:.1f} ms/step, XLA cost analysis {flops / 1e9:.1f} GFLOP, "
        f"{float(cost.get('bytes accessed', 0.0)) / 1e9:.2f} GB accessed"
    )
    print()
    print("| kind | ms / step | share | ops |")
    print("| --- | ---: | ---: | ---: |")
    for kind, (ms, count) in sorted(per_kind.items(), key=lambda kv: -kv[1][0]):
        print(f"| {kind} | {ms:.1f} | {100 * ms / total:.1f} % | {count} |")
    print()
    print("| op | kind | ms / step | op_name |")
    print("| --- | --- | ---: | --- |")
    for name, ms in sorted(per_op.items(), key=lambda kv: -kv[1])[: args.top]:
        entry = hlo.get(name)
        where = (entry or {}).get("op_name", "")[-60:]
        print(f"| {name} | {category(name, entry)} | {ms:.1f} | {where} |")
    print(
        json.dumps(
            {
                "batch": args.batch,
                "wall_ms": 1000 * wall,
                "events_ms": total,
                "gflop": flops / 1e9,
                "kinds": {k: v[0] for k, v in per_kind.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
