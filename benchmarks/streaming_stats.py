"""Streaming statistics: ``artifex-metrics stats`` over 50,000 images in bounded memory.

    JAX_PLATFORMS=cpu python benchmarks/streaming_stats.py [--images 50000] [--size 32]
        [--batch-size 500] [--record]

The real InceptionV3 over 50k images takes hours on 2 CPU cores, so this measures the
pipeline around it with a cheap stand-in extractor of the same output width: a fixed random
projection ``tanh(flatten(x) @ W)`` to 2048-d, jitted, with its weights passed as arguments
(the ``weights`` / ``apply`` protocol of ``ModuleFunction``). Everything else is the
command's own path, ``artifex-metrics stats SOURCE.npy --out stats.npz``
(``_cli.main(..., load_extractor=...)``): the uint8 images are read memory-mapped from an
``.npy``, converted and resized one by one (``--mode legacy_pytorch``), fingerprinted,
batched, extracted, and folded into a float64 ``StatisticsAccumulator`` batch by batch.

Memory is read three ways: the peak resident set (``getrusage`` ``ru_maxrss`` = ``VmHWM``,
which includes the memory-mapped file's pages as they are read), the peak anonymous resident
memory (``RssAnon`` of ``/proc/self/status``, sampled every 20 ms by a thread: the process's
own allocations, without the file's pages, which the kernel may drop at any time), and
``tracemalloc``'s peak of Python/NumPy allocations. Each is given before the command (after
imports and compilation) and at its peak, beside what holding every feature at once would
take: ``N × 2048 × 8`` bytes (819 MB for 50k in float64).

Prints one JSON line; ``--record`` appends it to ``results/results.jsonl`` with the machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import RESULTS, machine  # noqa: E402

MB = 1e6
FEATURE_DIM = 2048


def status_kb(field: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (Linux), e.g. ``RssAnon``; 0 elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class PeakSampler(threading.Thread):
    """Samples ``RssAnon`` (kB) until stopped; ``peak`` is the largest value seen."""

    def __init__(self, period_s: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.period_s = period_s
        self.peak = status_kb("RssAnon")
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, status_kb("RssAnon"))
            self._done.wait(self.period_s)

    def stop(self) -> int:
        self._done.set()
        self.join()
        self.peak = max(self.peak, status_kb("RssAnon"))
        return self.peak


class RandomProjection:
    """Stand-in extractor: ``tanh(flatten(images) @ W)``, ``W`` fixed and passed as an argument."""

    def __init__(self, size: int, dim: int, seed: int) -> None:
        import jax.numpy as jnp

        rng = np.random.default_rng(seed)
        inputs = size * size * 3
        self.weights = jnp.asarray(rng.standard_normal((inputs, dim), np.float32) / inputs**0.5)
        self.input_range = (-1.0, 1.0)

    @staticmethod
    def apply(weights, images):
        """``(B, H, W, 3)`` in ``[-1, 1]`` → ``(B, dim)``."""
        import jax.numpy as jnp

        return jnp.tanh(images.reshape(images.shape[0], -1) @ weights)

    def __call__(self, images):
        """The features of a batch (uncompiled; the command compiles ``apply``)."""
        return self.apply(self.weights, images)


def write_images(path: Path, count: int, size: int, seed: int) -> None:
    """A memory-mapped ``.npy`` of ``count`` random uint8 RGB images, written in chunks."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(count, size, size, 3))
    rng = np.random.default_rng(seed)
    for start in range(0, count, 5000):
        stop = min(start + 5000, count)
        out[start:stop] = rng.integers(0, 256, (stop - start, size, size, 3), np.uint8)
    out.flush()
    del out


def main(argv: list[str] | None = None) -> int:
    """Write the images, run ``stats`` on them, print the memory figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=32, help="image height and width")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", action="store_true", help=f"append to {RESULTS.name}")
    args = parser.parse_args(argv)

    import jax

    from artifex.generative_models.core.evaluation.metrics import _cli
    from artifex.generative_models.core.evaluation.metrics._statistics import load_statistics

    projection = RandomProjection(args.size, FEATURE_DIM, args.seed)
    extractor = _cli.Extractor(
        name="random-projection-2048",
        sha256="0" * 64,
        features=projection,
        size=args.size,  # the stand-in takes the images at their own size
    )

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "images.npy"
        out = Path(folder) / "stats.npz"
        write_images(source, args.images, args.size, args.seed)
        command = [
            "stats",
            str(source),
            "--out",
            str(out),
            "--mode",
            "legacy_pytorch",
            "--batch-size",
            str(args.batch_size),
            "--quiet",
        ]
        # Warm-up on a small copy: imports and compilation are not the streaming's memory.
        small = Path(folder) / "small.npy"
        np.save(small, np.load(source, mmap_mode="r")[: 2 * args.batch_size])
        warm = [command[0], str(small), *command[2:]]
        if _cli.main(warm, load_extractor=lambda _: extractor) != 0:
            raise RuntimeError("the warm-up `stats` run failed")

        before_hwm_kb = status_kb("VmHWM")
        before_anon_kb = status_kb("RssAnon")
        tracemalloc.start()
        sampler = PeakSampler()
        sampler.start()
        start = time.perf_counter()
        status = _cli.main(command, load_extractor=lambda _: extractor)
        seconds = time.perf_counter() - start
        peak_anon_kb = sampler.stop()
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_hwm_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
        stats = load_statistics(out)
        source_bytes = source.stat().st_size

    all_features = args.images * FEATURE_DIM * 8
    row = {
        "impl": "artifex-metrics stats (streaming, random-projection stand-in)",
        "batch": args.batch_size,
        "images": args.images,
        "size": args.size,
        "feature_dim": FEATURE_DIM,
        "status": status,
        "count": stats.count,
        "seconds": round(seconds, 1),
        "img_per_s": args.images / seconds,
        "source_npy_mb": source_bytes / MB,
        "all_features_float64_mb": all_features / MB,
        "accumulator_mb": (FEATURE_DIM**2 + FEATURE_DIM) * 8 / MB,
        "rss_hwm_before_mb": before_hwm_kb * 1e3 / MB,
        "rss_hwm_peak_mb": peak_hwm_kb * 1e3 / MB,
        "rss_anon_before_mb": before_anon_kb * 1e3 / MB,
        "rss_anon_peak_mb": peak_anon_kb * 1e3 / MB,
        "rss_anon_growth_mb": (peak_anon_kb - before_anon_kb) * 1e3 / MB,
        "tracemalloc_peak_mb": traced_peak / MB,
        "device": str(jax.devices()[0]),
        "jax": jax.__version__,
    }
    row["peak_growth_vs_all_features"] = row["rss_anon_growth_mb"] / row["all_features_float64_mb"]
    print(json.dumps(row), flush=True)
    if args.record:
        row.update(
            run="streaming stats", machine=machine(), recorded=time.strftime("%Y-%m-%dT%H:%M:%S")
        )
        with RESULTS.open("a") as results:
            results.write(json.dumps(row) + "\n")
        print(f"appended 1 result to {RESULTS}", file=sys.stderr)
    return 0 if status == 0 and stats.count == args.images else 1


if __name__ == "__main__":
    sys.exit(main())
