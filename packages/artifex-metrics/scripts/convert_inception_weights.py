r"""Convert pytorch-fid's FID InceptionV3 weights (``.pth``) to the ``.npz`` artifex-metrics loads.

Usage (PyTorch is needed for this step only, to read the ``.pth``)::

    pip install torch   # the CPU wheel is enough
    python packages/artifex-metrics/scripts/convert_inception_weights.py \
        ~/.cache/torch/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth inception_fid.npz

pytorch-fid downloads that file on first use; it is also attached to pytorch-fid's GitHub
releases. Then, anywhere (no PyTorch)::

    from artifex.generative_models.core.evaluation.metrics import inception_feature_extractor

    extractor = inception_feature_extractor("inception_fid.npz")
    fid = FrechetInceptionDistance(feature_extractor=extractor)

The renaming rules are ``convert_pytorch_fid_state_dict`` in
``artifex.generative_models.core.evaluation.metrics.inception_conversion``, a pure
function of NumPy arrays, tested without PyTorch.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics import load_inception_v3
from artifex.generative_models.core.evaluation.metrics.inception_conversion import (
    PYTORCH_FID_WEIGHTS,
    convert_pytorch_fid_state_dict,
)

NO_TORCH = (
    "converting a PyTorch .pth file needs PyTorch to read it, and `import torch` failed.\n"
    "Install it where you convert (the CPU wheel is enough: pip install torch), run this "
    "once, and use the .npz anywhere; artifex-metrics itself never needs PyTorch."
)


def read_torch_state_dict(path: str) -> dict[str, np.ndarray]:
    """The ``.pth`` state dict as NumPy arrays; a clear exit when PyTorch is missing."""
    try:
        import torch  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise SystemExit(NO_TORCH) from None
    # weights_only: unpickle tensors and containers only, never arbitrary objects.
    state: Any = torch.load(path, map_location="cpu", weights_only=True)
    return {name: tensor.detach().cpu().numpy() for name, tensor in state.items()}


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``convert_inception_weights.py IN.pth OUT.npz``; checks the result loads."""
    parser = argparse.ArgumentParser(
        description="Convert pytorch-fid's InceptionV3 weights to an artifex-metrics .npz."
    )
    parser.add_argument("pth", help=f"pytorch-fid weights, e.g. {PYTORCH_FID_WEIGHTS}")
    parser.add_argument("npz", help="output file for load_inception_v3")
    args = parser.parse_args(argv)
    arrays = convert_pytorch_fid_state_dict(read_torch_state_dict(args.pth))
    np.savez(args.npz, **arrays)  # type: ignore[arg-type]
    load_inception_v3(args.npz)
    print(f"wrote {len(arrays)} arrays to {args.npz}; they load into InceptionV3")


if __name__ == "__main__":
    main()
