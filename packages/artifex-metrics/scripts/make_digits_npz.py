"""Build ``metrics/data/digits.npz`` from scikit-learn's bundled copy of the UCI digits.

The 1797 8×8 images are the test set of the UCI ML hand-written digits dataset
(E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), as scikit-learn ships it in
``sklearn/datasets/data/digits.csv.gz``. scikit-learn is *not* a dependency: this
script reads that file straight out of a downloaded wheel::

    pip download --no-deps -d /tmp/skl scikit-learn
    python packages/artifex-metrics/scripts/make_digits_npz.py /tmp/skl/scikit_learn-*.whl

The output holds ``images`` (uint8, 1797×8×8, values 0..16, row-major as in the CSV),
``labels`` (uint8, 0..9) and ``is_test`` (bool): the fixed held-out split. For each digit
class, in file order, a ``numpy.random.default_rng(SPLIT_SEED)`` permutation of that
class's indices is drawn (classes in increasing order, one generator), and its first
``round(TEST_FRACTION * class_count)`` indices are test samples — 359 of 1797. The split
is stored as data, so it never depends on a numpy version.
"""

from __future__ import annotations

import argparse
import gzip
import io
import zipfile
from pathlib import Path

import numpy as np

CSV_IN_WHEEL = "sklearn/datasets/data/digits.csv.gz"
SPLIT_SEED = 0
TEST_FRACTION = 0.2
OUTPUT = (
    Path(__file__).resolve().parents[1]
    / "src/artifex/generative_models/core/evaluation/metrics/data/digits.npz"
)


def read_digits_csv(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 8, 8) uint8 and labels (N,) uint8 from the CSV inside ``wheel``."""
    with zipfile.ZipFile(wheel) as archive:
        text = gzip.decompress(archive.read(CSV_IN_WHEEL)).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",")
    if table.shape != (1797, 65):
        raise SystemExit(f"{CSV_IN_WHEEL}: expected 1797 rows of 65 values, got {table.shape}")
    images, labels = table[:, :64], table[:, 64]
    if not (np.all(images == np.round(images)) and images.min() >= 0 and images.max() <= 16):
        raise SystemExit(f"{CSV_IN_WHEEL}: pixels are not integers in 0..16")
    return images.reshape(-1, 8, 8).astype(np.uint8), labels.astype(np.uint8)


def held_out_mask(labels: np.ndarray) -> np.ndarray:
    """The stratified test split documented in the module docstring."""
    rng = np.random.default_rng(SPLIT_SEED)
    is_test = np.zeros(labels.shape, dtype=bool)
    for digit in range(10):
        indices = np.flatnonzero(labels == digit)
        chosen = rng.permutation(indices)[: round(TEST_FRACTION * indices.size)]
        is_test[chosen] = True
    return is_test


def main() -> None:
    """Command line: read the wheel, write the ``.npz``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="a scikit-learn wheel (pip download)")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args()
    images, labels = read_digits_csv(args.wheel)
    is_test = held_out_mask(labels)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, images=images, labels=labels, is_test=is_test)
    print(f"{args.out}: {len(labels)} images, {int(is_test.sum())} held out for testing")


if __name__ == "__main__":
    main()
