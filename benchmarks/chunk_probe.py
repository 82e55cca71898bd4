"""Per-layer A/B of batch-chunked convolutions and of one core vs two (issue 17).

For each of the 64x64 anchor DCGAN's convolutions, as the library runs them on CPU
(``nets/_subpixel.py``: ``dilated_conv`` for the generator's transposed convolutions,
``strided_conv`` for the discriminator's), times the forward pass, the input gradient
and the kernel gradient, each its own jitted function, at batch ``--batch`` in one piece
and split into ``c`` chunks along the batch (``--chunks``): ``c`` convolutions on
``batch / c`` examples, concatenated; their autodiff gives the chunked input gradient
and the kernel gradient as the sum of the chunks' kernel gradients. Convolutions are
independent per example, so the chunked value is the same numbers (the kernel gradient's
summation order differs; the library's own slicing of kernel gradients,
``_KERNEL_GRAD_ROWS``, is switched off here). With ``--one-core``, every variant is also
timed with all of the process's threads pinned to CPU 0 (``sched_setaffinity`` on each
thread, in-process, so the runs interleave): the ratio says whether XLA:CPU keeps the
second core busy (on a loaded machine it says little; see cpu_speed_session7.md).

Rounds alternate all variants so they share the machine's load; prints median ms per
(layer, pass, variant) as a Markdown table and one JSON line.

    python benchmarks/chunk_probe.py --batch 64 --chunks 1,4,8 --rounds 5 --one-core
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp

from artifex.generative_models.nets import _subpixel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conv_probe import (  # the anchor's layers, and the ops as the library computes them
    LAYERS,
    functions,
    timed,
)


def chunked(f: Callable, chunks: int) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """``f`` on ``chunks`` equal slices of the batch, concatenated."""
    if chunks == 1:
        return f

    def g(x: jax.Array, w: jax.Array) -> jax.Array:
        n = x.shape[0] // chunks
        return jnp.concatenate([f(x[i * n : (i + 1) * n], w) for i in range(chunks)], axis=0)

    return g


def pin(cpus: set[int]) -> None:
    """Set the CPU affinity of every thread of this process (XLA's pool included)."""
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            os.sched_setaffinity(int(tid), cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--chunks", default="1,4")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--layers", default="", help="comma-separated layer indices")
    parser.add_argument("--parts", default="fwd,dx,dw")
    parser.add_argument("--one-core", action="store_true")
    args = parser.parse_args()
    # The library slices kernel gradients itself (_KERNEL_GRAD_ROWS); off, so that c1 is
    # one piece and the probe's chunks are the only ones.
    _subpixel._KERNEL_GRAD_ROWS = 10**12
    chunk_counts = [int(c) for c in args.chunks.split(",")]
    all_cpus = os.sched_getaffinity(0)
    cores = [("2c", all_cpus)] + ([("1c", {min(all_cpus)})] if args.one_core else [])
    picked = [int(i) for i in args.layers.split(",")] if args.layers else range(len(LAYERS))
    key = jax.random.PRNGKey(0)
    rows = []
    for index in picked:
        name, transposed, size, cin, cout = LAYERS[index]
        kx, kw, kg = jax.random.split(jax.random.fold_in(key, index), 3)
        x = jax.random.normal(kx, (args.batch, size, size, cin), jnp.float32)
        w = jax.random.normal(kw, (4, 4, cin, cout), jnp.float32) * 0.02
        out = size * 2 if transposed else size // 2
        dy = jax.random.normal(kg, (args.batch, out, out, cout), jnp.float32)
        progs = {}
        for c in chunk_counts:
            f = chunked(functions(transposed, size, subpixel=True), c)
            progs[(c, "fwd")] = (jax.jit(f), (x, w))
            progs[(c, "dx")] = (
                jax.jit(lambda x, w, g, f=f: jax.vjp(lambda a: f(a, w), x)[1](g)[0]),
                (x, w, dy),
            )
            progs[(c, "dw")] = (
                jax.jit(lambda x, w, g, f=f: jax.vjp(lambda b: f(x, b), w)[1](g)[0]),
                (x, w, dy),
            )
        parts = args.parts.split(",")
        progs = {key: value for key, value in progs.items() if key[1] in parts}
        for fn, call_args in progs.values():
            jax.block_until_ready(fn(*call_args))
        samples: dict[tuple, list[float]] = {
            (c, part, core): [] for (c, part) in progs for core, _ in cores
        }
        for _ in range(args.rounds):
            for core, cpus in cores:
                pin(cpus)
                for (c, part), (fn, call_args) in progs.items():
                    samples[(c, part, core)].append(1000 * timed(fn, *call_args, reps=args.reps))
        pin(all_cpus)
        row = {"layer": name, "batch": args.batch}
        for (c, part, core), values in samples.items():
            row[f"c{c}_{part}_{core}"] = round(statistics.median(values), 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    parts = args.parts.split(",")
    heads = [f"{part} c{c} {core}" for core, _ in cores for part in parts for c in chunk_counts]
    print("| layer | " + " | ".join(heads) + " |")
    print("| --- |" + " ---: |" * len(heads))
    for row in rows:
        cells = [
            f"{row[f'c{c}_{part}_{core}']:.1f}"
            for core, _ in cores
            for part in parts
            for c in chunk_counts
        ]
        print(f"| {row['layer']} | " + " | ".join(cells) + " |")
    print(json.dumps({"batch": args.batch, "rows": rows}))


if __name__ == "__main__":
    main()
