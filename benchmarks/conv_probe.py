"""Per-layer times of the 64x64 anchor DCGAN's convolutions, plain vs sub-pixel (issue 17).

Times, at the training step's shapes, the forward pass, the input gradient and the kernel
gradient of each of the generator's transposed convolutions (``lax.conv_transpose``,
what ``nnx.ConvTranspose`` runs) and the discriminator's strided convolutions, each as its
own jitted function, once with the plain XLA op and once with the sub-pixel kernels of
``artifex.generative_models.nets._subpixel`` (as the library runs them: below 8 output
features the value of an lhs-dilated convolution is XLA's own); rounds alternate the two
to share the machine's load. Prints a Markdown table (median ms, GFLOP/s of the useful arithmetic)
and one JSON line.

    python benchmarks/conv_probe.py --batch 64 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax
import jax.numpy as jnp
from jax import lax

from artifex.generative_models.nets._subpixel import dilated_conv, strided_conv, transpose_padding

DN = ("NHWC", "HWIO", "NHWC")
# (name, transposed?, input size, in channels, out channels): the anchor's layers.
LAYERS = [
    ("G conv_t 512->256 4->8", True, 4, 512, 256),
    ("G conv_t 256->128 8->16", True, 8, 256, 128),
    ("G conv_t 128->64 16->32", True, 16, 128, 64),
    ("G conv_t 64->3 32->64", True, 32, 64, 3),
    ("D conv 3->64 64->32", False, 64, 3, 64),
    ("D conv 64->128 32->16", False, 32, 64, 128),
    ("D conv 128->256 16->8", False, 16, 128, 256),
    ("D conv 256->512 8->4", False, 8, 256, 512),
]


def functions(transposed: bool, size: int, subpixel: bool):
    """The layer's op as ``f(x, w)`` for the given path."""
    if transposed:
        pads = (transpose_padding(4, 2, "SAME"),) * 2
        if subpixel:
            return lambda x, w: dilated_conv(x, w, (2, 2), pads)
        return lambda x, w: lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=DN)
    pads = ((1, 1), (1, 1))
    if subpixel:
        return lambda x, w: strided_conv(x, w, (2, 2), pads)
    return lambda x, w: lax.conv_general_dilated(x, w, (2, 2), pads, dimension_numbers=DN)


def timed(fn, *args, reps: int) -> float:
    """Median seconds of ``reps`` blocking calls (compiled already)."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    key = jax.random.PRNGKey(0)
    rows = []
    for name, transposed, size, cin, cout in LAYERS:
        x = jax.random.normal(key, (args.batch, size, size, cin), jnp.float32)
        w = jax.random.normal(key, (4, 4, cin, cout), jnp.float32) * 0.02
        out = size * 2 if transposed else size // 2
        dy = jax.random.normal(key, (args.batch, out, out, cout), jnp.float32)
        macs = args.batch * (size * size if transposed else out * out) * 16 * cin * cout
        progs = {}
        for sub in (False, True):
            f = functions(transposed, size, sub)
            progs[sub] = {
                "fwd": jax.jit(f),
                "dx": jax.jit(lambda x, w, g, f=f: jax.vjp(lambda a: f(a, w), x)[1](g)[0]),
                "dw": jax.jit(lambda x, w, g, f=f: jax.vjp(lambda b: f(x, b), w)[1](g)[0]),
            }
            for part, fn in progs[sub].items():
                jax.block_until_ready(fn(x, w) if part == "fwd" else fn(x, w, dy))
        samples = {(sub, part): [] for sub in (False, True) for part in ("fwd", "dx", "dw")}
        for _ in range(args.rounds):
            for sub in (False, True):
                for part, fn in progs[sub].items():
                    call_args = (x, w) if part == "fwd" else (x, w, dy)
                    samples[(sub, part)].append(timed(fn, *call_args, reps=args.reps))
        row = {"layer": name, "gflop": 2 * macs / 1e9}
        for (sub, part), values in samples.items():
            row[f"{'sub' if sub else 'plain'}_{part}_ms"] = 1000 * statistics.median(values)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print(
        "| layer | GFLOP (each pass) | plain fwd / dx / dw ms | sub-pixel fwd / dx / dw ms "
        "| plain GFLOP/s | sub-pixel GFLOP/s |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        plain = [row[f"plain_{p}_ms"] for p in ("fwd", "dx", "dw")]
        sub = [row[f"sub_{p}_ms"] for p in ("fwd", "dx", "dw")]
        print(
            f"| {row['layer']} | {row['gflop']:.2f} | {' / '.join(f'{v:.1f}' for v in plain)} | "
            f"{' / '.join(f'{v:.1f}' for v in sub)} | "
            f"{3 * row['gflop'] / (sum(plain) / 1000):.0f} | "
            f"{3 * row['gflop'] / (sum(sub) / 1000):.0f} |"
        )
    print(json.dumps({"batch": args.batch, "rows": rows}))


if __name__ == "__main__":
    main()
