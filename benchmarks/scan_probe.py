"""Does ``lax.scan`` slow the hand-written DCGAN step down on this backend?

The Trainer's step runs its K iterations in a ``jax.lax.scan`` (a while loop in XLA). This
probe times the hand-written reference step of ``references/jax_dcgan_bench.py`` (split
once, ``jax.jit``, donated) four ways, alternating in one process so that machine noise
hits all of them alike:

* ``plain``: the reference step as the anchor runs it, one iteration per call;
* ``scan``: the same step as the body of ``jax.lax.scan`` over K iterations;
* ``unrolled``: the same scan with ``unroll=True``;
* ``loop``: a Python ``for`` over the K iterations inside one ``jax.jit`` (straight-line
  code: K copies of the step in one program, no scan).

On XLA:CPU (jax 0.10.2, 2 cores, batch 16; see results/RESULTS.md) ``scan`` was 4-5x slower
per iteration than ``plain`` at K=1 and at K=2; ``unrolled`` and ``loop`` were as fast as
``plain`` at K=2 (at K=1 ``unroll=True`` is ``unroll=1``, the same program as ``scan``).
It is not the loop itself: at K=1 XLA removes the one-trip while loop, yet only 24 of the
56 convolutions of the scanned program reach the canonical NHWC/HWIO form
(``b01f_01io->b01f``) that XLA:CPU runs with its fast convolution kernels, against 50 of
54 in the plain one.

Usage: python scan_probe.py --batch 16 --rounds 3 [--k 2] [--bf16]
Prints one JSON line: wall and process-CPU milliseconds per iteration of each variant.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import optax
from flax import nnx

REFERENCE = Path(__file__).resolve().parent / "references" / "jax_dcgan_bench.py"


def load_reference():
    """The anchor script as a module (its ``G``, ``D`` and ``bce``)."""
    spec = importlib.util.spec_from_file_location("jax_dcgan_bench", REFERENCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Build the reference step, time it plain, scanned and unrolled; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="timed calls of each variant")
    parser.add_argument("--k", type=int, default=1, help="iterations per scanned call")
    parser.add_argument("--bf16", action="store_true")
    args = parser.parse_args()
    ref = load_reference()
    dtype = jnp.bfloat16 if args.bf16 else jnp.float32
    rngs = nnx.Rngs(0)
    g, d = ref.G(rngs, dtype=dtype), ref.D(rngs, dtype=dtype)
    tx = optax.adam(2e-4, b1=0.5, b2=0.999)
    nets = (g, d, nnx.Optimizer(g, tx, wrt=nnx.Param), nnx.Optimizer(d, tx, wrt=nnx.Param))
    graphdef, state = nnx.split(nets)
    real = jax.random.uniform(jax.random.key(1), (args.batch, 64, 64, 3), minval=-1, maxval=1)

    def one(state, key):
        g, d, og, od = nnx.merge(graphdef, state)
        z = jax.random.normal(key, (real.shape[0], 100))
        fake = g(z)

        def d_loss(d):
            return ref.bce(d(real), 1.0) + ref.bce(d(jax.lax.stop_gradient(fake)), 0.0)

        loss_d, grads_d = nnx.value_and_grad(d_loss)(d)
        od.update(d, grads_d)

        def g_loss(g, d):
            return ref.bce(d(g(z)), 1.0)

        loss_g, grads_g = nnx.value_and_grad(g_loss)(g, d)
        og.update(g, grads_g)
        return nnx.state((g, d, og, od)), (loss_d, loss_g)

    plain = jax.jit(one, donate_argnums=0)
    scanned = jax.jit(lambda s, keys: jax.lax.scan(one, s, keys), donate_argnums=0)
    unrolled = jax.jit(lambda s, keys: jax.lax.scan(one, s, keys, unroll=True), donate_argnums=0)

    @functools.partial(jax.jit, donate_argnums=0)
    def loop(s, keys):
        outs = []
        for i in range(keys.shape[0]):
            s, out = one(s, keys[i])
            outs.append(out)
        return s, jax.tree.map(lambda *v: jnp.stack(v), *outs)

    variants = ("plain", "scan", "unrolled", "loop")
    states = {name: jax.tree.map(jnp.copy, state) for name in variants}
    keys = jax.random.split(jax.random.key(2), args.k)

    def call(name):
        if name == "plain":
            for key in keys:
                states[name], out = plain(states[name], key)
        else:
            fn = {"scan": scanned, "unrolled": unrolled, "loop": loop}[name]
            states[name], out = fn(states[name], keys)
        return jax.block_until_ready((states[name], out))

    compile_s = {}
    for name in states:
        t0 = time.perf_counter()
        call(name)
        call(name)
        compile_s[name] = time.perf_counter() - t0
    wall = dict.fromkeys(states, 0.0)
    cpu = dict.fromkeys(states, 0.0)
    for _ in range(args.rounds):
        for name in states:
            t0, c0 = time.perf_counter(), time.process_time()
            call(name)
            wall[name] += time.perf_counter() - t0
            cpu[name] += time.process_time() - c0
    iterations = args.rounds * args.k
    print(
        json.dumps(
            {
                "probe": "reference split step: plain, scan, scan(unroll=True), Python loop",
                "batch": args.batch,
                "k": args.k,
                "bf16": args.bf16,
                "device": str(jax.devices()[0]),
                "jax": jax.__version__,
                "wall_ms": {n: 1000 * wall[n] / iterations for n in states},
                "cpu_ms": {n: 1000 * cpu[n] / iterations for n in states},
                "ratio_vs_plain": {n: wall["plain"] / wall[n] for n in states},
                "compile_and_2_calls_s": compile_s,
            }
        )
    )


if __name__ == "__main__":
    main()
