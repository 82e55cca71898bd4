"""Parity of artifex-metrics' InceptionV3 with pytorch-fid's, through the torch-free reader.

Dev-only (PyTorch is never a dependency of artifex)::

    pip install torch torchvision pytorch-fid
    JAX_PLATFORMS=cpu python benchmarks/inception_parity.py [--images 4] [--size 64]

1. Builds pytorch-fid's FID InceptionV3 (``pytorch_fid.inception.fid_inception_v3``) with
   its weight download switched off, gives it random weights (batch-norm statistics set from
   a forward pass, so activations keep a sane scale through the 94 layers, then scale and
   shift randomised), and ``torch.save``s its state dict in the layout chosen (pytorch-fid's
   published file is the legacy layout; ``--zip`` for the current one).
2. Converts that file with ``convert_inception_weights`` (restricted unpickler, no torch).
3. Runs both networks on the same random images: pytorch-fid's ``InceptionV3`` wrapper
   (pool3, block 3; input in [0, 1], resized bilinearly, scaled to [-1, 1]) and its ``fc``
   for the logits the Inception Score uses, against ours (input in [-1, 1]).

Prints the max abs differences relative to the features' scale (max abs of the reference)
and exits non-zero if one exceeds ``--tolerance`` (1e-4).

What "parity" is measured against: the exact answer, i.e. pytorch-fid's network run in
float64 on the same images (``net.double()``). Ours runs in float32, as does pytorch-fid in
practice; two float32 implementations of 94 layers each carry their own rounding, and at
299x299 with random weights each is ~1e-4 of the scale from the exact answer, so their
difference from each other can exceed the tolerance while both are within it. The report
gives all three distances: ours vs float64 (the criterion), ours vs pytorch-fid float32,
and pytorch-fid float32 vs float64 (its own rounding, for comparison).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np


def build_torch_reference(seed: int, calibration: int):
    """pytorch-fid's FID Inception with random weights, without downloading anything."""
    import torch
    from pytorch_fid import inception as fid

    torch.manual_seed(seed)
    # fid_inception_v3() downloads the published weights; skip only that step.
    with (
        mock.patch.object(fid, "load_state_dict_from_url", lambda *a, **k: {}),
        mock.patch.object(torch.nn.Module, "load_state_dict", lambda self, *a, **k: None),
    ):
        net = fid.fid_inception_v3()
    generator = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5, generator=generator)
                module.bias.normal_(0.0, 0.2, generator=generator)
                module.reset_running_stats()
                module.momentum = None  # cumulative average: exactly this batch's statistics
        net.train()
        net(torch.rand(calibration, 3, 299, 299, generator=generator) * 2 - 1)
        net.eval()
        for module in net.modules():  # running_var of 0-variance channels would divide by eps
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_var.clamp_(min=1e-2)
    return net


def main(argv: list[str] | None = None) -> int:
    """Run the comparison; 0 when every difference is within the tolerance."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--size", type=int, default=64, help="input size (resized to 299)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--zip", action="store_true", help="torch.save's zip layout")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)

    import jax
    import pytorch_fid
    import torch
    import torchvision
    from pytorch_fid.inception import InceptionV3 as FidWrapper

    from artifex.generative_models.core.evaluation.metrics import (
        convert_inception_weights,
        file_sha256,
        load_inception_v3,
    )

    net = build_torch_reference(args.seed, calibration=8)
    with tempfile.TemporaryDirectory() as folder:
        pth = Path(folder) / "random_fid_inception.pth"
        torch.save(net.state_dict(), pth, _use_new_zipfile_serialization=args.zip)
        start = time.perf_counter()
        npz = convert_inception_weights(pth, sha256=file_sha256(pth), cache_dir=folder)
        convert_s = time.perf_counter() - start
        ours = load_inception_v3(npz)

    with mock.patch("pytorch_fid.inception.fid_inception_v3", lambda: net):
        wrapper = FidWrapper([FidWrapper.BLOCK_INDEX_BY_DIM[2048]], use_fid_inception=True).eval()

    net64 = copy.deepcopy(net).double()
    with mock.patch("pytorch_fid.inception.fid_inception_v3", lambda: net64):
        wrapper64 = FidWrapper([FidWrapper.BLOCK_INDEX_BY_DIM[2048]], use_fid_inception=True)
    wrapper64 = wrapper64.double().eval()

    rng = np.random.default_rng(args.seed + 2)
    images01 = rng.uniform(0, 1, size=(args.images, 3, args.size, args.size)).astype(np.float32)
    with torch.no_grad():
        pool3 = wrapper(torch.from_numpy(images01))[0].flatten(1)
        logits = net.fc(pool3)
        pool3_64 = wrapper64(torch.from_numpy(images01.astype(np.float64)))[0].flatten(1)
        logits_64 = net64.fc(pool3_64)
    torch32 = {"pool3": pool3.numpy(), "logits": logits.numpy()}
    reference = {"pool3": pool3_64.numpy(), "logits": logits_64.numpy()}
    images = images01 * 2 - 1  # ours takes [-1, 1]; pytorch-fid maps [0, 1] there itself
    got = {
        "pool3": np.asarray(jax.jit(lambda x: ours.features(x))(images)),
        "logits": np.asarray(jax.jit(lambda x: ours.logits(x))(images)),
    }

    report: dict[str, object] = {
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
        "python": platform.python_version(),
        "jax": jax.__version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "pytorch_fid": pytorch_fid.__version__,
        "layout": "zip" if args.zip else "legacy",
        "images": args.images,
        "size": args.size,
        "convert_s": round(convert_s, 2),
    }
    ok = True
    for name, ref in reference.items():
        scale = float(np.abs(ref).max())
        diff = float(np.abs(got[name] - ref).max())
        vs_torch32 = float(np.abs(got[name] - torch32[name]).max())
        torch_rounding = float(np.abs(torch32[name] - ref).max())
        report[name] = {
            "scale": scale,
            "mean_abs": float(np.abs(ref).mean()),
            "max_abs_diff": diff,
            "relative": diff / scale,
            "ours_vs_torch_float32": vs_torch32 / scale,
            "torch_float32_vs_float64": torch_rounding / scale,
        }
        ok &= diff <= args.tolerance * scale
        print(
            f"{name}: max |ours - pytorch-fid float64| = {diff:.3g}, scale {scale:.3g}, "
            f"relative {diff / scale:.3g} (tolerance {args.tolerance:g}); relative to "
            f"pytorch-fid float32 {vs_torch32 / scale:.3g}; pytorch-fid's own float32 "
            f"rounding {torch_rounding / scale:.3g}"
        )
    print(json.dumps(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
