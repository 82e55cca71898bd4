"""Whole-step A/B of the Trainer's compiled CPU step under sub-pixel settings (issue 17).

Compiles the benchmark's Trainer step (``trainer_bench.py``: 64x64 anchor DCGAN, vanilla
loss, Adam, no EMA) once per variant in one process, then calls the compiled programs in
alternation (A, B, A, B, ...) on the same state so that both share the machine's load,
and prints each variant's median ms per step and its ratio to the first variant.
Variants are trace-time settings of ``nets/_subpixel.py``:

* ``rule``: the library as it is (XLA's own value for thin lhs-dilated convolutions);
* ``phases``: every lhs-dilated value by phases (``_MIN_PHASE_FEATURES = 0``);
* ``xla-value``: every lhs-dilated value XLA's own, gradients by phases;
* ``no-chunks``: every kernel gradient in one piece (``_KERNEL_GRAD_ROWS`` unbounded);
* ``chunks-2k`` / ``chunks-8k``: kernel gradients batch-chunked to 2,048 / 8,192 rows;
* ``scheduler``: ``rule`` compiled with XLA:CPU's concurrency-optimized scheduler
  (``compiler_options``, the flag ``--xla_cpu_enable_concurrency_optimized_scheduler``).

    python benchmarks/step_ab.py --batch 64 --rounds 5 --variants rule,phases
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import jax
from flax import nnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trainer_bench as tb

from artifex.generative_models.models.gan import DCGAN
from artifex.generative_models.nets import _subpixel
from artifex.generative_models.training.trainer import Trainer

RULE = {
    "_MIN_PHASE_FEATURES": _subpixel._MIN_PHASE_FEATURES,
    "_KERNEL_GRAD_ROWS": _subpixel._KERNEL_GRAD_ROWS,
}
VARIANTS = {
    "rule": RULE,
    "phases": {**RULE, "_MIN_PHASE_FEATURES": 0},
    "xla-value": {**RULE, "_MIN_PHASE_FEATURES": 10**9},
    "scheduler": RULE,
    "no-chunks": {**RULE, "_KERNEL_GRAD_ROWS": 10**12},
    "chunks-2k": {**RULE, "_KERNEL_GRAD_ROWS": 2048},
    "chunks-8k": {**RULE, "_KERNEL_GRAD_ROWS": 8192},
}
OPTIONS = {"scheduler": {"xla_cpu_enable_concurrency_optimized_scheduler": True}}


def warm_trainer(batch: int, workdir: str) -> tuple[Trainer, Any]:
    """The benchmark's Trainer after one ``fit`` iteration, and one dispatch's batches."""
    model = DCGAN(tb.dcgan_config(), rngs=nnx.Rngs(params=0, dropout=1, sample=2))
    config = tb.training_config(10**6, 1, False)
    trainer = Trainer(model, tb.random_batches(batch), config, workdir=workdir)
    with contextlib.redirect_stderr(io.StringIO()):
        trainer.fit(1)
    return trainer, jax.block_until_ready(trainer._next_batches(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--variants", default="rule,phases")
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; expected some of {sorted(VARIANTS)}")
    with tempfile.TemporaryDirectory(prefix="artifex-ab-") as workdir:
        trainer, batches = warm_trainer(args.batch, workdir)
        programs = {}
        for name in names:
            for setting, value in VARIANTS[name].items():
                setattr(_subpixel, setting, value)
            jax.clear_caches()  # retrace: the setting is read while tracing
            lowered = trainer._step.lower(trainer.state, batches)
            programs[name] = lowered.compile(compiler_options=OPTIONS.get(name))
            text = programs[name].as_text()
            dilated, convs = text.count("lhs_dilate="), text.count(" convolution(")
            print(f"{name}: {convs} convolutions, {dilated} lhs-dilated, in the compiled step")
        state = trainer.state
        for program in programs.values():  # warm each once
            state, _ = program(state, batches)
        jax.block_until_ready(state)
        times: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(args.rounds):
            for name, program in programs.items():
                t0 = time.perf_counter()
                state, metrics = program(state, batches)
                jax.block_until_ready((state, metrics))
                times[name].append(1000 * (time.perf_counter() - t0))
        trainer.state = state
    base = statistics.median(times[names[0]])
    row = {"batch": args.batch, "rounds": args.rounds}
    for name in names:
        ms = statistics.median(times[name])
        row[f"{name}_ms"] = round(ms, 1)
        print(f"{name}: median {ms:.1f} ms/step, {base / ms:.3f}x {names[0]}'s speed")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
