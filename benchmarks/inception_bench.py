"""Feature-extraction throughput: artifex-metrics' InceptionV3 (JAX) vs pytorch-fid's (PyTorch).

Dev-only (PyTorch is never a dependency of artifex)::

    JAX_PLATFORMS=cpu python benchmarks/inception_bench.py [--images 64] [--batch 32]
        [--sizes 299,32] [--rounds 5] [--record]

Both networks carry the same weights: pytorch-fid's ``fid_inception_v3()`` with random
weights (``inception_parity.build_torch_reference``, download patched out), saved with
``torch.save`` and converted by ``convert_inception_weights`` (no torch) for ours. Ours is
``ModuleFunction(model, "features")``, i.e. ``jax.jit(apply)(weights, images)``, the path the
metrics use; theirs is ``pytorch_fid.inception.InceptionV3([3])`` in ``torch.no_grad()``.

Both take the same NCHW images (theirs in ``[0, 1]``, ours the same array mapped to
``[-1, 1]`` once, outside the timing; pytorch-fid does that step inside); an input other than
299×299 is resized inside each network (bilinear, no antialiasing), so the 32×32 case times
the resize too. Inputs are on the device before timing. Each round runs every batch of both
implementations, alternating which goes first, so background load hits both alike;
``--warmup`` rounds (compilation included) are not timed; the figure is the median over
rounds. PyTorch gets as many threads as JAX's CPU client uses cores (``os.cpu_count()``,
XLA's intra-op pool): ``torch.set_num_threads``.

Prints one JSON line per implementation and input size (``impl``, ``batch``, ``size``,
``img_per_s``, ``step_ms``, ...) and one ``ratio`` line (ours/torch img/s; target ≥ 1.0);
``--record`` appends the rows to ``results/results.jsonl`` with the machine, as ``run.py`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from inception_parity import build_torch_reference  # noqa: E402
from run import RESULTS, machine  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Time both networks; print the JSON lines; 0 unless something failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--sizes", default="299,32", help="input sizes, comma-separated")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (median)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", action="store_true", help=f"append to {RESULTS.name}")
    args = parser.parse_args(argv)

    import jax
    import pytorch_fid
    import torch
    from pytorch_fid.inception import InceptionV3 as FidWrapper

    from artifex.generative_models.core.evaluation.metrics import (
        convert_inception_weights,
        file_sha256,
        load_inception_v3,
    )
    from artifex.generative_models.core.evaluation.metrics._module_function import (
        ModuleFunction,
    )

    cores = os.cpu_count() or 1  # XLA's CPU client sizes its intra-op pool to the cores
    threads = args.threads or cores
    torch.set_num_threads(threads)

    net = build_torch_reference(args.seed, calibration=8)
    with tempfile.TemporaryDirectory() as folder:
        pth = Path(folder) / "random_fid_inception.pth"
        torch.save(net.state_dict(), pth)
        npz = convert_inception_weights(pth, sha256=file_sha256(pth), cache_dir=folder)
        ours = ModuleFunction(load_inception_v3(npz), "features")
    with mock.patch("pytorch_fid.inception.fid_inception_v3", lambda: net):
        theirs = FidWrapper([FidWrapper.BLOCK_INDEX_BY_DIM[2048]], use_fid_inception=True).eval()

    def run_ours(batches: list) -> None:
        for batch in batches:
            ours(batch).block_until_ready()

    def run_theirs(batches: list) -> None:
        with torch.no_grad():
            for batch in batches:
                theirs(batch)

    rows: list[dict] = []
    common = {
        "batch": args.batch,
        "images": args.images,
        "rounds": args.rounds,
        "device": str(jax.devices()[0]),
        "jax": jax.__version__,
        "torch": torch.__version__,
        "pytorch_fid": pytorch_fid.__version__,
        "torch_threads": threads,
        "cores": cores,
        "load_1min_before": round(os.getloadavg()[0], 2),
    }
    rng = np.random.default_rng(args.seed + 2)
    for size in (int(s) for s in args.sizes.split(",")):
        images01 = rng.uniform(0, 1, (args.images, 3, size, size)).astype(np.float32)
        chunks = [images01[i : i + args.batch] for i in range(0, args.images, args.batch)]
        ours_in = [jax.device_put(c * 2 - 1) for c in chunks]
        theirs_in = [torch.from_numpy(c) for c in chunks]

        # Same features on the same images (a sanity check, not the parity test).
        with torch.no_grad():
            reference = theirs(theirs_in[0])[0].flatten(1).numpy()
        got = np.asarray(ours(ours_in[0]))
        rel = float(np.abs(got - reference).max() / np.abs(reference).max())

        timings: dict[str, list[float]] = {"ours": [], "torch": []}
        for round_ in range(args.warmup + args.rounds):
            order = [("ours", run_ours, ours_in), ("torch", run_theirs, theirs_in)]
            for name, fn, data in order if round_ % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                fn(data)
                if round_ >= args.warmup:
                    timings[name].append(time.perf_counter() - start)
        per_impl = {}
        for name, impl in (
            ("ours", "artifex InceptionV3 (jax.jit)"),
            ("torch", "pytorch-fid InceptionV3 (torch)"),
        ):
            seconds = statistics.median(timings[name])
            per_impl[name] = args.images / seconds
            row = {
                "impl": impl,
                "size": size,
                **common,
                "img_per_s": args.images / seconds,
                "step_ms": 1000 * seconds * args.batch / args.images,
                "round_s": [round(t, 3) for t in timings[name]],
                "max_rel_diff_vs_torch": rel,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
        print(
            json.dumps(
                {
                    "ratio": "ours/torch img/s",
                    "size": size,
                    "value": per_impl["ours"] / per_impl["torch"],
                    "target": 1.0,
                }
            ),
            flush=True,
        )

    if args.record:
        about = machine()
        recorded = time.strftime("%Y-%m-%dT%H:%M:%S")
        ratios = {}
        for row in rows:
            ratios.setdefault(row["size"], {})[row["impl"].split()[0]] = row["img_per_s"]
        with RESULTS.open("a") as results:
            for row in rows:
                pair = ratios[row["size"]]
                row.update(
                    run=f"inception {row['size']}x{row['size']}",
                    machine=about,
                    recorded=recorded,
                    ratio_ours_vs_torch=pair["artifex"] / pair["pytorch-fid"],
                )
                results.write(json.dumps(row) + "\n")
        print(f"appended {len(rows)} results to {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
