r"""Convert pytorch-fid's FID InceptionV3 weights (``.pth``) to the ``.npz`` artifex-metrics loads.

No PyTorch needed: the ``.pth`` is read by artifex-metrics' restricted unpickler, which
never runs code from the file, after its SHA-256 is checked against the published one::

    python packages/artifex-metrics/scripts/convert_inception_weights.py \
        pt_inception-2015-12-05-6726825d.pth [inception_fid.npz] [--sha256 HEX]

The converted file goes to the cache (``$ARTIFEX_CACHE`` or ``~/.cache/artifex``), where
``load_inception_v3()`` finds it; with a second argument it is also copied there. This is
``convert_inception_weights`` in ``artifex.generative_models.core.evaluation.metrics``, the
same function ``artifex-metrics convert-inception`` calls.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Sequence

from artifex.generative_models.core.evaluation.metrics import (
    convert_inception_weights,
    load_inception_v3,
)
from artifex.generative_models.core.evaluation.metrics.inception_conversion import (
    PYTORCH_FID_WEIGHTS,
)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``convert_inception_weights.py IN.pth [OUT.npz] [--sha256 HEX]``."""
    parser = argparse.ArgumentParser(
        description="Convert pytorch-fid's InceptionV3 weights to an artifex-metrics .npz."
    )
    parser.add_argument("pth", help=f"pytorch-fid weights, e.g. {PYTORCH_FID_WEIGHTS}")
    parser.add_argument("npz", nargs="?", help="also copy the converted file here")
    parser.add_argument("--sha256", help="accept this hash instead of the published one")
    parser.add_argument("--cache-dir", help="instead of $ARTIFEX_CACHE or ~/.cache/artifex")
    args = parser.parse_args(argv)
    converted = convert_inception_weights(args.pth, sha256=args.sha256, cache_dir=args.cache_dir)
    load_inception_v3(converted)  # names and shapes checked once more, as a user will load it
    if args.npz:
        shutil.copyfile(converted, args.npz)
    print(converted)


if __name__ == "__main__":
    main()
