"""The cost of checkpoint digests (issue 19): the 64x64 anchor DCGAN's checkpoint.

Times, each the median of ``--reps`` rounds, on the anchor DCGAN of ``trainer_bench.py``
(its full training state: both networks, their Adam moments, BatchNorm statistics, the
EMA generator):

* ``save_s``: ``CheckpointStore.save`` (the CRC-32 of every array included);
* ``hash_s``: that CRC-32 of every array alone, on the arrays in memory;
* ``verify_s``: ``verify_checkpoint`` (what ``artifex-train check`` and every restore do:
  read every stored array back and compare it with its CRC-32);
* ``restore_s``: ``CheckpointStore.restore`` (the verification, then orbax's read).

Usage: python benchmarks/checkpoint_cost.py [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prefetch_bench import anchor_trainer

from artifex.generative_models.training.checkpoints import (
    CheckpointStore,
    _layout,
    _named_leaves,
    verify_checkpoint,
)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        trainer = anchor_trainer(4, workdir)
        state = jax.block_until_ready(trainer.state)
        store = CheckpointStore(Path(workdir) / "checkpoints", keep_last=2)
        named = _named_leaves(state)
        times: dict[str, list[float]] = {k: [] for k in ("save", "hash", "verify", "restore")}
        for rep in range(args.reps + 1):  # the first round warms the caches up, not timed
            save = timed(lambda r=rep: store.save(r, state, {"step": r}))
            hashing = timed(lambda: _layout(named, checksums=True))
            step_dir = store.directory / str(rep)
            t0 = time.perf_counter()
            problems = verify_checkpoint(step_dir)
            verify = time.perf_counter() - t0
            assert not problems, problems
            restore = timed(lambda r=rep: jax.block_until_ready(store.restore(state, r)[1]))
            if rep:
                for key, value in zip(times, (save, hashing, verify, restore), strict=True):
                    times[key].append(value)
        size = sum(p.stat().st_size for p in step_dir.rglob("*") if p.is_file())
        store.close()
    result = {
        "arrays": len(named),
        "checkpoint_mb": round(size / 2**20, 1),
        **{f"{k}_s": round(statistics.median(v), 3) for k, v in times.items()},
        "reps": args.reps,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {jax.default_backend()}",
        "load": round(os.getloadavg()[0], 1),
        "versions": f"python {platform.python_version()}, jax {jax.__version__}",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
