"""``Trainer.fit`` against its compiled step alone, with and without device prefetch.

The ratio ``fit / compiled`` is the throughput of ``Trainer.fit`` (host data feed, the
end-of-fit report and write-back included) over that of the compiled step alone on
batches already on the device: 1.0 means the feed costs nothing. ``data.device_prefetch``
prepares and places the batches ahead in a background thread (0 prepares them in the
loop). Two workloads, batch 64 by default:

* ``digits``: the default preset (DCGAN on the bundled 8x8 digits, K=10 iterations per
  dispatch) fed by its grain pipeline, as ``artifex-train demo`` runs it;
* ``anchor``: the 64x64 DCGAN of ``trainer_bench.py`` (the anchor's architecture, K=1)
  fed by a numpy iterator of pre-generated random batches.

One trainer per workload (one compilation); its config's ``device_prefetch`` is switched
between the timings. The machine may be loaded by other work: the three timings (fit
without prefetch, fit with prefetch, compiled step alone) are interleaved, repeated
``--reps`` times, and the medians reported (the minimum and maximum too).

Usage: python benchmarks/prefetch_bench.py [--batch 64] [--reps 5] [--only digits,anchor]
Prints one JSON line per workload.
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

import flax
import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from trainer_bench import NEVER, dcgan_config, random_batches, training_config

from artifex.generative_models.core.configuration import ExperimentConfig
from artifex.generative_models.training.data import (
    pipeline_from_config,
    source_from_config,
)
from artifex.generative_models.training.presets import DEFAULT_PRESET, preset
from artifex.generative_models.training.run import build_model
from artifex.generative_models.training.trainer import Trainer


def digits_trainer(batch: int, workdir: str) -> Trainer:
    """The default preset on its grain pipeline; checkpoints, logs and samples off."""
    experiment = preset(DEFAULT_PRESET)
    training = experiment.training
    k = training.steps_per_dispatch
    never = NEVER - NEVER % k
    training = training.replace(
        data=training.data.replace(batch_size=batch),
        checkpoint=training.checkpoint.replace(every_n_steps=never, resume=False, save_final=False),
        logging=training.logging.replace(log_every=never, sample_every=0),
    )
    experiment = experiment.replace(training=training)
    layout = experiment.model.data_layout
    source = source_from_config(
        training.data, model_layout=layout.data_format if layout is not None else "NHWC"
    )
    data = pipeline_from_config(training.data, source)
    return Trainer(build_model(experiment), data, experiment, workdir=workdir, progress=False)


def anchor_trainer(batch: int, workdir: str) -> Trainer:
    """The 64x64 anchor DCGAN of trainer_bench.py on random batches, K=1."""
    from flax import nnx

    from artifex.generative_models.models.gan import DCGAN

    model_config = dcgan_config()
    model = DCGAN(model_config, rngs=nnx.Rngs(params=0, dropout=1, sample=2))
    experiment = ExperimentConfig(model=model_config, training=training_config(NEVER, 1, False))
    return Trainer(model, random_batches(batch), experiment, workdir=workdir, progress=False)


def with_prefetch(trainer: Trainer, ahead: int) -> None:
    data = trainer.config.data.replace(device_prefetch=ahead)
    trainer.config = trainer.config.replace(data=data)


def time_fit(trainer: Trainer, ahead: int, steps: int) -> float:
    """Seconds per iteration of ``fit`` over ``steps`` more iterations."""
    with_prefetch(trainer, ahead)
    target = trainer.step + steps
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        trainer.fit(target)
    jax.block_until_ready(trainer.state)
    return (time.perf_counter() - t0) / steps


def time_compiled(trainer: Trainer, batches: Any, steps: int) -> float:
    """Seconds per iteration of the compiled step alone on batches already placed."""
    k = trainer.config.steps_per_dispatch
    t0 = time.perf_counter()
    metrics = None
    for _ in range(steps // k):
        trainer.state, metrics = trainer._step(trainer.state, batches)
    jax.block_until_ready((trainer.state, metrics))
    return (time.perf_counter() - t0) / steps


def bench(name: str, trainer: Trainer, steps: int, reps: int, ahead: int) -> dict[str, Any]:
    k = trainer.config.steps_per_dispatch
    steps = max(k, steps - steps % k)
    t0 = time.perf_counter()
    time_fit(trainer, 0, k)  # compiles
    time_fit(trainer, ahead, k)
    warmup_s = time.perf_counter() - t0
    batches = jax.block_until_ready(trainer._next_batches(k))
    times: dict[str, list[float]] = {"fit": [], "fit_prefetch": [], "compiled": []}
    for _ in range(reps):
        times["fit"].append(time_fit(trainer, 0, steps))
        times["fit_prefetch"].append(time_fit(trainer, ahead, steps))
        times["compiled"].append(time_compiled(trainer, batches, steps))
    median = {key: statistics.median(values) for key, values in times.items()}
    batch = int(np.shape(next(iter(batches.values())))[2])
    return {
        "workload": name,
        "batch": batch,
        "steps_per_dispatch": k,
        "steps_per_rep": steps,
        "reps": reps,
        "device_prefetch": ahead,
        "step_ms_fit": 1000 * median["fit"],
        "step_ms_fit_prefetch": 1000 * median["fit_prefetch"],
        "step_ms_compiled_only": 1000 * median["compiled"],
        # Throughput of fit over that of the compiled step: compiled time / fit time.
        "ratio_fit": median["compiled"] / median["fit"],
        "ratio_fit_prefetch": median["compiled"] / median["fit_prefetch"],
        "range_ms": {
            key: [round(1000 * min(v), 3), round(1000 * max(v), 3)] for key, v in times.items()
        },
        "warmup_s": warmup_s,
        "device": str(jax.devices()[0]),
        "jax": jax.__version__,
        "flax": flax.__version__,
    }


WORKLOADS = {"digits": (digits_trainer, 400), "anchor": (anchor_trainer, 12)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions")
    parser.add_argument("--ahead", type=int, default=2, help="device_prefetch when on")
    parser.add_argument("--only", default="digits,anchor", help="comma-separated workloads")
    parser.add_argument("--steps", type=int, default=None, help="iterations per timing")
    args = parser.parse_args()
    for name in args.only.split(","):
        make, steps = WORKLOADS[name]
        with tempfile.TemporaryDirectory(prefix="artifex-prefetch-") as workdir:
            trainer = make(args.batch, workdir)
            row = bench(name, trainer, args.steps or steps, args.reps, args.ahead)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
