"""Per-layer, per-pass A/B of the anchor DCGAN's convolutions: JAX (as the library) vs PyTorch.

Issue 17 asks where XLA:CPU is slower than PyTorch on the 64x64 anchor DCGAN. For each of
the anchor's layers (``conv_probe.LAYERS``: the generator's four stride-2 transposed
convolutions, the discriminator's four stride-2 convolutions; plus the generator's input
projection and the discriminator's output layer) and each pass (forward ``fwd``, input
gradient ``dx``, kernel gradient ``dw``), this times in ONE process, in interleaved rounds
(every program once per round, medians over rounds):

* JAX as the library runs it on CPU: ``conv_probe.functions(..., subpixel=True)``, i.e.
  ``_subpixel.dilated_conv`` / ``strided_conv`` with their custom VJPs (kernel gradients
  summed over batch slices), NHWC / HWIO, float32, each pass its own ``jax.jit`` function
  (the unused outputs of the VJP are dead code in the compiled program). The generator's
  projection is the library's ``nnx.Linear`` form (``z @ W + b``, 100 -> 4*4*512), the
  discriminator's output its dense layer on the flattened 4x4x512 map (8192 -> 1, + b).
* PyTorch as the reference (``references/torch_dcgan_bench.py``) runs it: NCHW,
  ``torch.nn.functional.conv_transpose2d`` / ``conv2d`` (kernel 4, stride 2, padding 1, no
  bias) forward; the gradients by ``torch.ops.aten.convolution_backward`` with an
  ``output_mask`` selecting the one gradient: the kernel autograd runs for these layers,
  without the forward. The projection is the reference's 4x4 VALID transposed convolution
  of the 1x1 latent, the output its 4x4 VALID convolution (both no bias).

Both frameworks get the same two cores: ``torch.set_num_threads(2)``, and XLA:CPU's own
thread pool (one thread per core, 2 here). Layer definitions are the same linear maps
(``--check`` verifies forward values and both gradients against each other at batch 2).

With ``--step`` (default on) the same rounds also time the whole training step of each
side: the library's compiled ``Trainer`` step (``step_ab.warm_trainer``, i.e.
``trainer_bench.py``'s model and config) and the reference's PyTorch step (built from its
``gen``/``disc``, Adam, BCE-with-logits). The per-pass medians are then weighted by how often
each pass runs in one step of each side (``COUNTS``) to say how much of the step the
convolutions are. With ``--extras`` also BatchNorm (training mode, forward and backward)
per feature size and one Adam update of the anchor's parameters, in both.

Prints a Markdown table per batch (layer, pass, JAX ms, torch ms, JAX/torch), the sums
per network and overall, the step comparison, and one JSON line per batch.

    python benchmarks/torch_layer_ab.py --batch 16,64,128 --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conv_probe import LAYERS, functions  # the anchor's layers, the library's ops

PASSES = ("fwd", "dx", "dw")
# Extra (cheap) layers: name, kind. Their shapes are fixed by the anchor (nz 100, 4x4x512).
DENSE = [("G proj 100->4x4x512", "proj"), ("D out 4x4x512->1", "out")]

# How often each pass runs in one training iteration (one D update + one G update) of
# each side, for layers of the generator (G), of the discriminator (D), and the
# discriminator's first layer (D0, whose input is an image) and the projection (Gp):
# * library (``training/step.py`` + ``_rules.py``): fakes for the D update (G forward),
#   D on the real and on the fake batch (2 forwards, 2 kernel gradients, input gradients
#   below the first layer), then the G update on *fresh* fakes (a second G forward), D
#   forward + input gradients, G gradients; D's kernel gradients of the G update are not
#   asked for (dead code).
# * reference: one G forward reused (``fake.detach()``), D on real and fake, then D(fake)
#   again; ``lossG.backward()`` also computes D's kernel gradients (3 per step).
COUNTS = {
    "jax": {
        "G": {"fwd": 2, "dx": 1, "dw": 1},
        "Gp": {"fwd": 2, "dx": 0, "dw": 1},
        "D": {"fwd": 3, "dx": 3, "dw": 2},
        "D0": {"fwd": 3, "dx": 1, "dw": 2},
    },
    "torch": {
        "G": {"fwd": 1, "dx": 1, "dw": 1},
        "Gp": {"fwd": 1, "dx": 0, "dw": 1},
        "D": {"fwd": 3, "dx": 3, "dw": 3},
        "D0": {"fwd": 3, "dx": 1, "dw": 3},
    },
}


def count_group(index: int | str) -> str:
    """The ``COUNTS`` group of a layer (an index into LAYERS, or a DENSE kind)."""
    if index == "proj":
        return "Gp"
    if index == "out":
        return "D"
    name = LAYERS[index][0]
    if name.startswith("G"):
        return "G"
    return "D0" if index == 4 else "D"


# ----------------------------------------------------------------------------- programs


def jax_programs(index: int | str, batch: int, key: jax.Array) -> dict[str, tuple]:
    """Pass -> (jitted function, its arguments) for one layer, as the library runs it."""
    if index == "proj":
        x = jax.random.normal(key, (batch, 100), jnp.float32)
        w = jax.random.normal(key, (100, 4 * 4 * 512), jnp.float32) * 0.02
        b = jnp.zeros((4 * 4 * 512,), jnp.float32)
        dy = jax.random.normal(key, (batch, 4 * 4 * 512), jnp.float32)

        def f(x: jax.Array, w: jax.Array) -> jax.Array:
            return x @ w + b

    elif index == "out":
        x = jax.random.normal(key, (batch, 4 * 4 * 512), jnp.float32)
        w = jax.random.normal(key, (4 * 4 * 512, 1), jnp.float32) * 0.02
        b = jnp.zeros((1,), jnp.float32)
        dy = jax.random.normal(key, (batch, 1), jnp.float32)

        def f(x: jax.Array, w: jax.Array) -> jax.Array:
            return x @ w + b

    else:
        _, transposed, size, cin, cout = LAYERS[index]
        x = jax.random.normal(key, (batch, size, size, cin), jnp.float32)
        w = jax.random.normal(key, (4, 4, cin, cout), jnp.float32) * 0.02
        out = size * 2 if transposed else size // 2
        dy = jax.random.normal(key, (batch, out, out, cout), jnp.float32)
        f = functions(transposed, size, True)
    return {
        "fwd": (jax.jit(f), (x, w)),
        "dx": (jax.jit(lambda x, w, g: jax.vjp(lambda a: f(a, w), x)[1](g)[0]), (x, w, dy)),
        "dw": (jax.jit(lambda x, w, g: jax.vjp(lambda k: f(x, k), w)[1](g)[0]), (x, w, dy)),
    }


def torch_geometry(index: int | str) -> tuple[bool, int, int, int, int, int, int]:
    """(transposed, in size, out size, in ch, out ch, stride, padding) of a layer in torch."""
    if index == "proj":
        return True, 1, 4, 100, 512, 1, 0
    if index == "out":
        return False, 4, 1, 512, 1, 1, 0
    _, transposed, size, cin, cout = LAYERS[index]
    return transposed, size, size * 2 if transposed else size // 2, cin, cout, 2, 1


def torch_programs(index: int | str, batch: int) -> dict[str, tuple]:
    """Pass -> (function, its arguments) for one layer as the PyTorch reference runs it."""
    transposed, size, out, cin, cout, stride, pad = torch_geometry(index)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, cin, size, size, generator=gen)
    # conv_transpose2d's weight is (in, out, kh, kw), conv2d's (out, in, kh, kw).
    shape = (cin, cout, 4, 4) if transposed else (cout, cin, 4, 4)
    w = torch.randn(*shape, generator=gen) * 0.02
    dy = torch.randn(batch, cout, out, out, generator=gen)
    conv = F.conv_transpose2d if transposed else F.conv2d

    def fwd(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return conv(x, w, None, stride, pad)

    def backward(mask: list[bool]) -> Callable:
        def grad(x: torch.Tensor, w: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
            dx, dw, _ = torch.ops.aten.convolution_backward(
                dy, x, w, None, [stride] * 2, [pad] * 2, [1, 1], transposed, [0, 0], 1, mask
            )
            return dx if mask[0] else dw

        return grad

    return {
        "fwd": (fwd, (x, w)),
        "dx": (backward([True, False, False]), (x, w, dy)),
        "dw": (backward([False, True, False]), (x, w, dy)),
    }


def check(index: int | str) -> dict[str, float]:
    """Max |JAX - torch| / max |torch| of the forward and both gradients at batch 2."""
    jp = jax_programs(index, 2, jax.random.PRNGKey(1))
    tp = torch_programs(index, 2)
    x, w, dy = (np.asarray(a) for a in jp["dx"][1])
    transposed, _, _, _, _, _, _ = torch_geometry(index)

    if index in ("proj", "out"):
        # Dense (B, in) @ (in, out) vs a 4x4 VALID conv(-transpose) in NCHW.
        if index == "proj":  # z @ W -> (B, 4, 4, 512) NHWC; torch weight (100, 512, 4, 4)
            tx = torch.from_numpy(x).reshape(2, 100, 1, 1)
            tw = torch.from_numpy(w.reshape(100, 4, 4, 512).transpose(0, 3, 1, 2).copy())
            tdy = torch.from_numpy(dy.reshape(2, 4, 4, 512).transpose(0, 3, 1, 2).copy())

            def y_back(t: torch.Tensor) -> np.ndarray:
                return t.numpy().transpose(0, 2, 3, 1).reshape(2, -1)

            def x_back(t: torch.Tensor) -> np.ndarray:
                return t.numpy().reshape(2, 100)

            def w_back(t: torch.Tensor) -> np.ndarray:
                return t.numpy().transpose(0, 2, 3, 1).reshape(100, -1)

        else:  # flatten(NHWC) @ W -> (B, 1); torch weight (1, 512, 4, 4)
            tx = torch.from_numpy(x.reshape(2, 4, 4, 512).transpose(0, 3, 1, 2).copy())
            tw = torch.from_numpy(w.reshape(4, 4, 512, 1).transpose(3, 2, 0, 1).copy())
            tdy = torch.from_numpy(dy.reshape(2, 1, 1, 1))

            def y_back(t: torch.Tensor) -> np.ndarray:
                return t.numpy().reshape(2, 1)

            def x_back(t: torch.Tensor) -> np.ndarray:
                return t.numpy().transpose(0, 2, 3, 1).reshape(2, -1)

            def w_back(t: torch.Tensor) -> np.ndarray:
                return t.numpy().transpose(2, 3, 1, 0).reshape(-1, 1)

    else:
        tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
        tdy = torch.from_numpy(dy.transpose(0, 3, 1, 2).copy())
        if transposed:  # lax.conv_transpose does not flip the kernel; torch's adjoint does
            tw = torch.from_numpy(w[::-1, ::-1].transpose(2, 3, 0, 1).copy())

            def w_back(t: torch.Tensor) -> np.ndarray:
                return t.numpy().transpose(2, 3, 0, 1)[::-1, ::-1]

        else:
            tw = torch.from_numpy(w.transpose(3, 2, 0, 1).copy())

            def w_back(t: torch.Tensor) -> np.ndarray:
                return t.numpy().transpose(2, 3, 1, 0)

        def y_back(t: torch.Tensor) -> np.ndarray:
            return t.numpy().transpose(0, 2, 3, 1)

        x_back = y_back
    errors = {}
    for part, back in (("fwd", y_back), ("dx", x_back), ("dw", w_back)):
        fn, _ = tp[part]
        ref = back(fn(tx, tw) if part == "fwd" else fn(tx, tw, tdy))
        got = np.asarray(jp[part][0](*jp[part][1]))
        errors[part] = float(np.abs(got - ref).max() / np.abs(ref).max())
    return errors


# ---------------------------------------------------------------------- the whole steps


def jax_step(batch: int, workdir: str) -> Callable[[], Any]:
    """One call of the library's compiled Trainer step (batches on the device)."""
    from step_ab import warm_trainer

    trainer, batches = warm_trainer(batch, workdir)
    holder = {"state": trainer.state}

    def run() -> Any:
        holder["state"], metrics = trainer._step(holder["state"], batches)
        return jax.block_until_ready((holder["state"], metrics))

    run()
    return run


def torch_step(batch: int) -> Callable[[], Any]:
    """One iteration of the PyTorch reference's step (its gen/disc, Adam, BCE)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "references"))
    from torch_dcgan_bench import disc, gen

    torch.manual_seed(0)
    g_net, d_net = gen(), disc()
    opt_g = torch.optim.Adam(g_net.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d_net.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    real = torch.rand(batch, 3, 64, 64) * 2 - 1
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def run() -> Any:
        z = torch.randn(batch, 100, 1, 1)
        fake = g_net(z)
        loss_d = bce(d_net(real), ones) + bce(d_net(fake.detach()), zeros)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = bce(d_net(fake), ones)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        return loss_d, loss_g

    run()
    return run


# -------------------------------------------------------------------- optional extras


def extra_programs(batch: int) -> dict[str, dict[str, tuple]]:
    """BatchNorm (train mode, fwd + bwd) per feature size and one Adam update, both sides."""
    import optax

    out: dict[str, dict[str, tuple]] = {}
    key = jax.random.PRNGKey(0)
    for name, size, ch in (
        ("BN 4x4x512", 4, 512),
        ("BN 8x8x256", 8, 256),
        ("BN 16x16x128", 16, 128),
        ("BN 32x32x64", 32, 64),
    ):
        x = jax.random.normal(key, (batch, size, size, ch), jnp.float32)
        scale, bias = jnp.ones((ch,)), jnp.zeros((ch,))

        def bn(x: jax.Array, s: jax.Array, b: jax.Array) -> jax.Array:
            mean = x.mean((0, 1, 2))
            var = x.var((0, 1, 2))
            return (x - mean) * jax.lax.rsqrt(var + 1e-5) * s + b

        def bn_fb(x: jax.Array, s: jax.Array, b: jax.Array, dy: jax.Array) -> Any:
            y, vjp = jax.vjp(bn, x, s, b)
            return y, vjp(dy)

        tx = torch.randn(batch, ch, size, size, requires_grad=True)
        ts = torch.ones(ch, requires_grad=True)
        tb = torch.zeros(ch, requires_grad=True)
        tdy = torch.randn(batch, ch, size, size)

        def torch_bn(tx=tx, ts=ts, tb=tb, tdy=tdy) -> Any:
            y = F.batch_norm(tx, None, None, ts, tb, training=True, eps=1e-5)
            return torch.autograd.grad(y, (tx, ts, tb), tdy)

        out[name] = {
            "jax": (jax.jit(bn_fb), (x, scale, bias, x)),
            "torch": (torch_bn, ()),
        }
    # Adam over the anchor's parameters: the reference's shapes (G and D, no biases) for
    # both; the library's also have biases (a few thousand more), a negligible difference.
    sys.path.insert(0, str(Path(__file__).resolve().parent / "references"))
    from torch_dcgan_bench import disc, gen

    params = [p for net in (gen(), disc()) for p in net.parameters()]
    jparams = [jnp.zeros(tuple(p.shape), jnp.float32) for p in params]
    jgrads = [jnp.full(tuple(p.shape), 1e-3, jnp.float32) for p in params]
    opt = optax.adam(2e-4, b1=0.5, b2=0.999)
    state = opt.init(jparams)

    def adam(p: Any, g: Any, s: Any) -> Any:
        updates, s = opt.update(g, s, p)
        return optax.apply_updates(p, updates), s

    topt = torch.optim.Adam(params, 2e-4, betas=(0.5, 0.999))
    for p in params:
        p.grad = torch.full_like(p, 1e-3)

    def torch_adam() -> None:
        with torch.no_grad():
            topt.step()

    out[f"Adam ({sum(p.numel() for p in params) / 1e6:.2f} M params)"] = {
        "jax": (jax.jit(adam), (jparams, jgrads, state)),
        "torch": (torch_adam, ()),
    }
    return out


# ------------------------------------------------------------------------------ timing


def once(fn: Callable, args: tuple) -> float:
    """Seconds of one blocking call."""
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))  # torch's CPU ops are synchronous; no-op for them
    return time.perf_counter() - t0


def load() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def run_batch(args: argparse.Namespace, batch: int, indices: list) -> dict:
    key = jax.random.PRNGKey(0)
    programs: dict[tuple, tuple] = {}  # (index, pass, side) -> (fn, args)
    for index in indices:
        for side, made in (("jax", jax_programs(index, batch, key)), ("torch", None)):
            made = made if made is not None else torch_programs(index, batch)
            for part, (fn, call_args) in made.items():
                once(fn, call_args)  # compile / warm
                programs[(index, part, side)] = (fn, call_args)
    extras = extra_programs(batch) if args.extras else {}
    for name, sides in extras.items():
        for side, (fn, call_args) in sides.items():
            once(fn, call_args)
            programs[(name, "f+b", side)] = (fn, call_args)
    steps: dict[str, Callable] = {}
    workdir_cm = tempfile.TemporaryDirectory(prefix="artifex-layer-ab-")
    if args.step:
        workdir = workdir_cm.__enter__()
        steps["jax"] = jax_step(batch, workdir)
        steps["torch"] = torch_step(batch)
    samples: dict[tuple, list[float]] = {k: [] for k in programs}
    step_samples: dict[str, list[float]] = {k: [] for k in steps}
    load_start = load()
    for _ in range(args.rounds):
        for (index, part, side), (fn, call_args) in programs.items():
            # One layer's JAX passes, then its torch passes: neighbours share the load.
            samples[(index, part, side)].append(min(once(fn, call_args) for _ in range(args.reps)))
        for side, run in steps.items():
            t0 = time.perf_counter()
            run()
            step_samples[side].append(time.perf_counter() - t0)
    load_end = load()
    with contextlib.suppress(Exception):
        workdir_cm.cleanup()
    med = {k: 1000 * statistics.median(v) for k, v in samples.items()}
    step_ms = {k: 1000 * statistics.median(v) for k, v in step_samples.items()}
    return {"batch": batch, "med": med, "step_ms": step_ms, "load": (load_start, load_end)}


def layer_name(index: int | str) -> str:
    if index == "proj":
        return DENSE[0][0]
    if index == "out":
        return DENSE[1][0]
    return LAYERS[index][0]


def report(args: argparse.Namespace, result: dict, indices: list) -> None:
    batch, med, step_ms = result["batch"], result["med"], result["step_ms"]
    print(
        f"\n### batch {batch}: {args.rounds} rounds x best of {args.reps}, medians; "
        f"load {result['load'][0]:.2f} -> {result['load'][1]:.2f}\n"
    )
    print("| layer | pass | JAX ms | torch ms | JAX/torch |")
    print("| --- | --- | ---: | ---: | ---: |")
    sums: dict[tuple, float] = {}
    weighted: dict[tuple, float] = {}
    rows = []
    for index in indices:
        net = "G" if layer_name(index).startswith("G") else "D"
        group = count_group(index)
        for part in PASSES:
            j, t = med[(index, part, "jax")], med[(index, part, "torch")]
            print(f"| {layer_name(index)} | {part} | {j:.2f} | {t:.2f} | {j / t:.2f} |")
            rows.append({"layer": layer_name(index), "pass": part, "jax_ms": j, "torch_ms": t})
            for key in ((net, part), (net, "all"), ("all", part), ("all", "all")):
                sums[(*key, "jax")] = sums.get((*key, "jax"), 0.0) + j
                sums[(*key, "torch")] = sums.get((*key, "torch"), 0.0) + t
            for side, value in (("jax", j), ("torch", t)):
                for counts_of in ("jax", "torch"):  # own counts, and the other side's
                    n = COUNTS[counts_of][group][part]
                    k = (net, side, counts_of)
                    weighted[k] = weighted.get(k, 0.0) + n * value
    print("\nSums of one call of each pass (ms):\n")
    print("| network | pass | JAX ms | torch ms | JAX/torch |")
    print("| --- | --- | ---: | ---: | ---: |")
    for net in ("G", "D", "all"):
        for part in (*PASSES, "all"):
            j, t = sums.get((net, part, "jax")), sums.get((net, part, "torch"))
            if j is None:
                continue
            print(f"| {net} | {part} | {j:.1f} | {t:.1f} | {j / t:.2f} |")
    extra_rows = []
    extra_names = sorted({k[0] for k in med if k[1] == "f+b"}, key=str)
    if extra_names:
        print("\nNon-convolution pieces (BatchNorm: train-mode forward + backward; Adam: one")
        print("update of the anchor's parameters):\n")
        print("| piece | JAX ms | torch ms | JAX/torch |")
        print("| --- | ---: | ---: | ---: |")
        for name in extra_names:
            j, t = med[(name, "f+b", "jax")], med[(name, "f+b", "torch")]
            print(f"| {name} | {j:.2f} | {t:.2f} | {j / t:.2f} |")
            extra_rows.append({"piece": name, "jax_ms": j, "torch_ms": t})
    summary: dict[str, Any] = {"batch": batch, "load": result["load"], "rows": rows}
    if step_ms:
        print("\nPer training step: the passes weighted by how often each runs in a step")
        print("(COUNTS: own = that side's step, jax-counts = the library's step's work),")
        print("against the whole step timed in the same rounds:\n")
        print("| | JAX | torch | JAX/torch |")
        print("| --- | ---: | ---: | ---: |")
        conv = {}
        for side in ("jax", "torch"):
            conv[side] = sum(weighted[(n, side, side)] for n in ("G", "D"))
        same = {side: sum(weighted[(n, side, "jax")] for n in ("G", "D")) for side in conv}
        for net in ("G", "D"):
            j, t = weighted[(net, "jax", "jax")], weighted[(net, "torch", "torch")]
            print(f"| {net} layers, own counts, ms | {j:.1f} | {t:.1f} | {j / t:.2f} |")
        print(
            f"| all layers, own counts, ms | {conv['jax']:.1f} | {conv['torch']:.1f} | "
            f"{conv['jax'] / conv['torch']:.2f} |"
        )
        print(
            f"| all layers, the library's counts for both, ms | {same['jax']:.1f} | "
            f"{same['torch']:.1f} | {same['jax'] / same['torch']:.2f} |"
        )
        js, ts = step_ms["jax"], step_ms["torch"]
        print(f"| whole step (timed), ms | {js:.1f} | {ts:.1f} | {js / ts:.2f} |")
        print(
            f"| step - layers (the rest), ms | {js - conv['jax']:.1f} | {ts - conv['torch']:.1f} "
            f"| {(js - conv['jax']) / (ts - conv['torch']):.2f} |"
        )
        print(
            f"| layers' share of the step | {100 * conv['jax'] / js:.0f} % | "
            f"{100 * conv['torch'] / ts:.0f} % | |"
        )
        summary.update(
            step_ms=step_ms,
            layers_per_step_own=conv,
            layers_per_step_jax_counts=same,
            weighted={f"{n}_{s}_{c}": v for (n, s, c), v in weighted.items()},
        )
    summary.update(sums={"_".join(k): v for k, v in sums.items()}, extras=extra_rows)
    summary.update(
        torch_threads=torch.get_num_threads(),
        jax=jax.__version__,
        torch=torch.__version__,
        omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"),
        rounds=args.rounds,
        reps=args.reps,
    )
    print()
    print(json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", default="16,64,128", help="comma-separated batch sizes")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reps", type=int, default=1, help="calls per round (best taken)")
    parser.add_argument(
        "--layers",
        default="proj,0,1,2,3,4,5,6,7,out",
        help="comma-separated indices into conv_probe.LAYERS, and/or proj, out",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--no-step", dest="step", action="store_false")
    parser.add_argument("--extras", action="store_true", help="also BatchNorm and Adam")
    parser.add_argument("--check", action="store_true", help="compare values, then exit")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    indices = [int(i) if i.isdigit() else i for i in args.layers.split(",")]
    if args.check:
        for index in indices:
            print(json.dumps({"layer": layer_name(index), **check(index)}), flush=True)
        return
    if args.step and indices != [
        int(i) if i.isdigit() else i for i in parser.get_default("layers").split(",")
    ]:
        print("(--layers is a subset: the per-step weighted sums cover only those layers)")
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; jax "
        f"{jax.__version__}, XLA:CPU on {os.cpu_count()} cores; OMP_WAIT_POLICY="
        f"{os.environ.get('OMP_WAIT_POLICY', '(unset)')}"
    )
    for batch in (int(b) for b in args.batch.split(",")):
        result = run_batch(args, batch, indices)
        report(args, result, indices)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
