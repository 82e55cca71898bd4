"""The ``artifex-metrics`` command: statistics, FID, KID, IS and precision/recall of image sets.

Sources (``SOURCE``, ``A``, ``B``):

* an image folder: PNG/JPEG/BMP/WebP/TIFF files, found recursively and read in sorted order;
  reading them needs Pillow (``pip install "artifex-metrics[images]"``);
* an ``.npy`` file, or an ``.npz`` with one array (or one named ``images``): uint8 images
  ``(N, H, W)`` or ``(N, H, W, C)``, read memory-mapped where numpy can;
* a statistics file (``.npz`` with ``mu`` and ``sigma``), where the metric allows: ``fid``,
  and ``kid`` when the file keeps a sample of features (``stats --kid-features``, on by
  default);
* a dataset an installed package provides (``artifex-train`` provides ``digits``,
  ``cifar10`` and ``mnist_idx``), named ``NAME[:SPLIT][=PATH]``, e.g. ``digits:test`` or
  ``cifar10:train=/data/cifar-10-batches-py``, when no file or folder has that name.

Every image is resized on its own to the extractor's 299×299 as ``--mode`` says (see
:mod:`._resize`): a folder may mix sizes; grey images are repeated to RGB and alpha is
dropped, as ``PIL.Image.convert("RGB")`` does in pytorch-fid and clean-fid.

User errors print one line ``artifex-metrics: error: ...`` and exit with status 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._extraction import BatchedFunction
from artifex.generative_models.core.evaluation.metrics._fid import FeatureStatistics
from artifex.generative_models.core.evaluation.metrics._inception_score import inception_score
from artifex.generative_models.core.evaluation.metrics._kid import kernel_inception_distance
from artifex.generative_models.core.evaluation.metrics._precision_recall import precision_recall
from artifex.generative_models.core.evaluation.metrics._resize import (
    RESIZE_MODES,
    as_rgb_uint8,
    resize_image,
    to_extractor_range,
)
from artifex.generative_models.core.evaluation.metrics._statistics import (
    FeatureReservoir,
    FeatureStatisticsFile,
    load_statistics,
    save_statistics,
)

__all__ = ["Extractor", "UserError", "main", "run"]

PROG = "artifex-metrics"
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm"})
DEFAULT_KID_FEATURES = 2000
"""Features ``stats`` keeps for KID: clean-fid's subsets hold 1000; 2000 Inception
features are 16 MB of float32."""
PROGRESS_EVERY = 10
"""Batches between two progress lines on stderr."""


class UserError(Exception):
    """A problem with the command's input: printed as one line, exit status 2."""


@dataclasses.dataclass(frozen=True)
class Extractor:
    """A feature network as the command uses it.

    Attributes:
        name: Written to statistics files (``extractor``).
        sha256: Hash of its weights, written as ``extractor_sha256``.
        features: Images ``(B, size, size, 3)`` in ``[-1, 1]`` → ``(B, D)``.
        probabilities: Images → class probabilities (for ``is``); ``None`` if it has none.
        size: Height and width images are resized to.
    """

    name: str
    sha256: str
    features: Callable[[Any], Any]
    probabilities: Callable[[Any], Any] | None = None
    size: int = 299


ExtractorLoader = Callable[[argparse.Namespace], Extractor]


def weights_sha256(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of weights' contents (names, dtypes, shapes, values), whatever file holds them."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _inception_extractor(args: argparse.Namespace) -> Extractor:
    # Imported here: `artifex-metrics --help` and the array-only paths stay fast.
    from artifex.generative_models.core.evaluation.metrics._module_function import (
        ModuleFunction,
    )
    from artifex.generative_models.core.evaluation.metrics._params_io import read_npz
    from artifex.generative_models.core.evaluation.metrics.inception import load_inception_v3

    weights = args.weights
    if weights is None:
        try:
            weights_module = importlib.import_module(
                "artifex.generative_models.core.evaluation.metrics._weights"
            )
        except ImportError:
            raise UserError(
                "no Inception weights: pass --weights FILE (pytorch-fid's .pth or a converted .npz)"
            ) from None
        weights = weights_module.inception_weights_path()
        if not Path(weights).exists():
            raise UserError(weights_module.missing_inception_weights_message())
    path = Path(weights)
    if not path.is_file():
        raise UserError(f"--weights {path}: no such file")
    if path.suffix in (".pth", ".pt"):
        path = _convert(path, args.sha256)
    elif path.suffix != ".npz":
        raise UserError(
            f"--weights {path}: expected pytorch-fid's .pth or a converted .npz, "
            f"got {path.suffix!r}"
        )
    try:
        model = load_inception_v3(path)
    except (OSError, ValueError) as error:
        raise UserError(f"--weights {path} is not InceptionV3 weights: {error}") from error
    return Extractor(
        name="inception-v3-fid",
        sha256=weights_sha256(read_npz(path)),
        features=ModuleFunction(model, "features"),
        probabilities=ModuleFunction(model, "probabilities") if model.fc is not None else None,
    )


def _convert(path: Path, sha256: str | None, cache_dir: str | None = None) -> Path:
    try:
        conversion = importlib.import_module(
            "artifex.generative_models.core.evaluation.metrics.inception_conversion"
        )
        convert = conversion.convert_inception_weights
    except (ImportError, AttributeError):
        raise UserError(
            "this installation cannot convert .pth weights (convert_inception_weights is "
            "missing); pass a converted .npz to --weights"
        ) from None
    try:
        return Path(convert(path, sha256=sha256, cache_dir=cache_dir))
    except ValueError as error:
        raise UserError(str(error)) from error


# ----------------------------------------------------------------------------- sources


def _read_image_file(path: Path) -> np.ndarray:
    try:
        pil_image = importlib.import_module("PIL.Image")
    except ImportError:
        # Pillow is the optional `images` extra: the arrays-only install must not need it.
        raise UserError(
            f"reading image files ({path.name}, ...) needs Pillow: "
            'pip install "artifex-metrics[images]" (or pass an .npy/.npz of uint8 images)'
        ) from None
    try:
        with pil_image.open(path) as image:
            if image.mode not in ("L", "LA", "RGB", "RGBA", "P", "1"):
                raise UserError(
                    f"{path}: PIL mode {image.mode!r} is not 8-bit grey or colour; "
                    "convert the file to 8-bit PNG or JPEG"
                )
            # Palette and 1-bit images become RGBA / L; as_rgb_uint8 then drops alpha.
            if image.mode == "P":
                image = image.convert("RGBA")
            elif image.mode == "1":
                image = image.convert("L")
            return np.asarray(image, dtype=np.uint8)
    except OSError as error:
        raise UserError(f"{path} is not a readable image: {error}") from error


class ImageSource:
    """uint8 images from a folder or an array file, one at a time.

    Args:
        spec: The path as given on the command line.
    """

    def __init__(self, spec: str) -> None:
        self.spec = spec
        path = Path(spec)
        self.files: list[Path] | None = None
        self.array: np.ndarray | None = None
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            )
            if not files:
                raise UserError(
                    f"{spec}: the folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})"
                )
            self.files = files
        elif path.suffix in (".npy", ".npz") and path.is_file():
            self.array = _read_array(path)
        elif not path.exists():
            self.array = _dataset_images(spec)
        else:
            raise UserError(
                f"{spec}: expected an image folder, an .npy/.npz of uint8 images or a "
                "statistics .npz"
            )

    def __len__(self) -> int:
        if self.files is not None:
            return len(self.files)
        assert self.array is not None
        return len(self.array)

    def __iter__(self) -> Iterator[tuple[str, np.ndarray]]:
        if self.files is not None:
            for file in self.files:
                yield str(file), _read_image_file(file)
        else:
            assert self.array is not None
            for index in range(len(self.array)):
                yield f"{self.spec}[{index}]", np.asarray(self.array[index])


DATASET_GROUP = "artifex.generative_models.image_datasets"
"""Entry-point group of datasets other packages provide to ``SOURCE``.

An entry point ``NAME = "module:function"`` names ``function(*, split, path)`` returning
uint8 images ``(N, H, W, C)``; ``artifex-train`` registers the datasets it trains on. So
this package reads them without importing (or depending on) the training package.
"""


def _dataset_images(spec: str) -> np.ndarray:
    """The images of ``NAME[:SPLIT][=PATH]`` from the dataset an installed package names."""
    from importlib.metadata import entry_points

    head, _, path = spec.partition("=")
    name, _, split = head.partition(":")
    known = {point.name: point for point in entry_points(group=DATASET_GROUP)}
    if name not in known:
        offered = (
            f"installed datasets: {', '.join(sorted(known))}"
            if known
            else "no installed package provides datasets (artifex-train provides digits, "
            "cifar10 and mnist_idx)"
        )
        raise UserError(
            f"{spec}: no such file or folder, and no dataset named {name!r} ({offered}); "
            "a dataset is named NAME[:SPLIT][=PATH], e.g. digits:test"
        )
    try:
        images = known[name].load()(split=split or None, path=path or None)
    except (OSError, ValueError, TypeError, ImportError) as error:
        raise UserError(f"{spec}: {error}") from error
    array = np.asarray(images)
    if array.dtype != np.uint8 or array.ndim != 4 or len(array) == 0:
        raise UserError(
            f"{spec}: dataset {name!r} gave {array.dtype} images of shape {array.shape}; "
            "expected uint8 (N, H, W, C) with N >= 1 (a bug in the package providing it)"
        )
    return array


def _read_array(path: Path) -> np.ndarray:
    try:
        if path.suffix == ".npy":
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as data:
                names = data.files
                if "mu" in names and "sigma" in names:
                    raise UserError(
                        f"{path} is a statistics file; this command needs images (KID, IS and "
                        "precision/recall use every image's features, not mu and sigma)"
                    )
                name = "images" if "images" in names else names[0] if len(names) == 1 else None
                if name is None:
                    raise UserError(
                        f"{path} holds {names}: expected one array, or one named 'images'"
                    )
                array = data[name]
    except (OSError, ValueError) as error:
        raise UserError(f"{path} is not a readable numpy file: {error}") from error
    if array.dtype != np.uint8:
        raise UserError(
            f"{path}: expected uint8 images 0..255, got dtype {array.dtype}; convert float "
            "images in [0, 1] with (x * 255).round().astype(np.uint8)"
        )
    if array.ndim not in (3, 4):
        raise UserError(f"{path}: expected images (N, H, W) or (N, H, W, C), got {array.shape}")
    if len(array) == 0:
        raise UserError(f"{path} holds no images (shape {array.shape})")
    return array


def _is_statistics(spec: str) -> bool:
    path = Path(spec)
    if path.suffix != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            return "mu" in data.files and "sigma" in data.files
    except (OSError, ValueError):
        return False


# ---------------------------------------------------------------------------- pipeline


class _Progress:
    def __init__(self, label: str, total: int, quiet: bool) -> None:
        self.label, self.total, self.quiet = label, total, quiet
        self.start = time.perf_counter()
        self.batches = 0
        self.images = 0

    def step(self, count: int) -> None:
        self.batches += 1
        self.images += count
        if not self.quiet and (self.batches % PROGRESS_EVERY == 0 or self.images == self.total):
            rate = self.images / max(time.perf_counter() - self.start, 1e-9)
            print(
                f"{self.label}: {self.images}/{self.total} images ({rate:.1f} images/s)",
                file=sys.stderr,
                flush=True,
            )


def _batches(
    source: ImageSource, extractor: Extractor, mode: str, batch_size: int, digest: Any
) -> Iterator[np.ndarray]:
    batch: list[np.ndarray] = []
    for name, image in source:
        try:
            rgb = as_rgb_uint8(image, name)
        except (TypeError, ValueError) as error:
            raise UserError(str(error)) from error
        digest.update(f"{rgb.shape};".encode())
        digest.update(np.ascontiguousarray(rgb).tobytes())
        batch.append(resize_image(rgb, mode, extractor.size))
        if len(batch) == batch_size:
            yield to_extractor_range(np.stack(batch))
            batch = []
    if batch:
        yield to_extractor_range(np.stack(batch))


def _outputs(
    spec: str,
    extractor: Extractor,
    args: argparse.Namespace,
    *,
    probabilities: bool = False,
) -> Iterator[np.ndarray]:
    """Features (or probabilities) of every image of ``spec``, batch by batch."""
    source = ImageSource(spec)
    fn = extractor.probabilities if probabilities else extractor.features
    if fn is None:
        raise UserError(
            f"extractor {extractor.name} has no classifier layer: the Inception Score needs "
            "weights with fc (pytorch-fid's .pth has it)"
        )
    batched = BatchedFunction(fn, name=extractor.name, batch_size=args.batch_size)
    progress = _Progress(spec, len(source), args.quiet)
    args.fingerprint = hashlib.sha256()
    batches = _batches(source, extractor, args.mode, args.batch_size, args.fingerprint)
    for output in batched(batches, spec):
        progress.step(len(output))
        yield output


def _statistics_of(
    spec: str, extractor: Extractor, args: argparse.Namespace, *, keep: int = 0
) -> FeatureStatisticsFile:
    """Statistics of a source (read, when it is a statistics file) with ``keep`` features."""
    if _is_statistics(spec):
        try:
            stats = load_statistics(spec)
        except ValueError as error:
            raise UserError(str(error)) from error
        for key, ours in (
            ("extractor", extractor.name),
            ("extractor_sha256", extractor.sha256),
            ("mode", args.mode),
        ):
            theirs = getattr(stats, key)
            if theirs is not None and theirs != ours:
                raise UserError(
                    f"{spec} was computed with {key.replace('_', ' ')} {theirs[:16]}, this "
                    f"run uses {ours[:16]} ({stats.describe()}); recompute it with "
                    "`artifex-metrics stats` and the same --weights and --mode"
                )
        return stats
    accumulator = FeatureStatistics()
    reservoir = FeatureReservoir(keep, seed=0)
    for features in _outputs(spec, extractor, args):
        accumulator.update(features)
        reservoir.update(features)
    count = accumulator.count or 0
    if count < 2:
        raise UserError(f"{spec}: statistics need at least 2 images, got {count}")
    mu, sigma = accumulator.mean, accumulator.covariance
    return FeatureStatisticsFile(
        mu=mu,
        sigma=sigma,
        extractor=extractor.name,
        extractor_sha256=extractor.sha256,
        mode=args.mode,
        count=count,
        fingerprint=args.fingerprint.hexdigest(),
        path=spec,
        features=reservoir.rows,
    )


def _features_of(
    spec: str, extractor: Extractor, args: argparse.Namespace, *, sample_ok: bool = False
) -> np.ndarray:
    """Every image's features; with ``sample_ok``, a statistics file's kept sample.

    KID is an average over random subsets, so a uniform sample of the features serves;
    precision/recall's k-NN radii depend on the sample size, so it needs all of them.
    """
    if _is_statistics(spec):
        stats = _statistics_of(spec, extractor, args)  # checks extractor, weights, mode
        if sample_ok and stats.features is not None:
            return stats.features
        kept = (
            "it keeps no sample of features (make it with `artifex-metrics stats --kid-features N`)"
            if sample_ok
            else "not only mu and sigma"
        )
        raise UserError(
            f"{spec} is a statistics file; `{args.command}` needs image features: {kept}"
        )
    return np.concatenate(list(_outputs(spec, extractor, args)), axis=0)


# ---------------------------------------------------------------------------- commands


def _cmd_stats(args: argparse.Namespace, extractor: Extractor) -> None:
    if _is_statistics(args.source):
        raise UserError(f"{args.source} is already a statistics file")
    stats = _statistics_of(args.source, extractor, args, keep=args.kid_features)
    assert stats.count is not None and stats.fingerprint is not None
    out = Path(args.out)
    if out.suffix != ".npz":
        raise UserError(f"--out {out}: the statistics file must end in .npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    save_statistics(
        out,
        stats.mu,
        stats.sigma,
        extractor=extractor.name,
        extractor_sha256=extractor.sha256,
        mode=args.mode,
        count=stats.count,
        fingerprint=stats.fingerprint,
        features=stats.features,
    )
    print(f"{stats.count} images, {stats.mu.size}-d {extractor.name} features, mode {args.mode}")
    print(out)


def _cmd_fid(args: argparse.Namespace, extractor: Extractor) -> None:
    first = _statistics_of(args.a, extractor, args)
    second = _statistics_of(args.b, extractor, args)
    try:
        value = first.frechet_distance(second)
    except ValueError as error:
        raise UserError(str(error)) from error
    print(f"fid: {value:.6f}")


def _cmd_kid(args: argparse.Namespace, extractor: Extractor) -> None:
    real = _features_of(args.a, extractor, args, sample_ok=True)
    fake = _features_of(args.b, extractor, args, sample_ok=True)
    size = args.subset_size or min(1000, len(real), len(fake))
    result = kernel_inception_distance(
        real, fake, subsets=args.subsets, subset_size=size, seed=args.seed
    )
    print(f"kid_mean: {result['kid_mean']:.8f}")
    print(f"kid_std: {result['kid_std']:.8f}")


def _cmd_is(args: argparse.Namespace, extractor: Extractor) -> None:
    probabilities = np.concatenate(
        list(_outputs(args.a, extractor, args, probabilities=True)), axis=0
    )
    result = inception_score(probabilities, splits=args.splits)
    print(f"is_mean: {result['is_mean']:.6f}")
    print(f"is_std: {result['is_std']:.6f}")


def _cmd_pr(args: argparse.Namespace, extractor: Extractor) -> None:
    real, fake = _features_of(args.a, extractor, args), _features_of(args.b, extractor, args)
    result = precision_recall(real, fake, k=args.k)
    print(f"precision: {result['precision']:.6f}")
    print(f"recall: {result['recall']:.6f}")


def _cmd_convert(args: argparse.Namespace) -> None:
    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    print(_convert(path, args.sha256, args.cache_dir))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="FID, KID, IS and precision/recall of image folders, arrays and statistics.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str, sources: Sequence[str]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        for source in sources:
            sub.add_argument(
                source,
                help="image folder, .npy/.npz of uint8 images, NAME[:SPLIT][=PATH] of a "
                "dataset" + (" or statistics .npz" if name in ("fid", "kid") else ""),
            )
        sub.add_argument(
            "--weights",
            help="pytorch-fid's .pth or a converted .npz "
            "(default: the converted file in the cache)",
        )
        sub.add_argument("--sha256", help="accept a .pth with this hash (your own copy)")
        sub.add_argument(
            "--mode",
            choices=RESIZE_MODES,
            default="clean",
            help="resize mode, as clean-fid defines it (default: clean)",
        )
        sub.add_argument("--batch-size", type=_positive, default=64, help="images per batch")
        sub.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
        # SUPPRESS: the subcommand must not reset a --debug given before it.
        sub.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        return sub

    stats = add("stats", "write the feature statistics (mu, sigma, metadata) of SOURCE", ["source"])
    stats.add_argument("--out", required=True, help="the .npz to write")
    stats.add_argument(
        "--kid-features",
        type=_kid_features,
        default=DEFAULT_KID_FEATURES,
        help="keep a uniform sample of this many features for KID "
        f"(default {DEFAULT_KID_FEATURES}; 0: none)",
    )
    add("fid", "Fréchet Inception Distance between A and B", ["a", "b"])
    kid = add("kid", "Kernel Inception Distance between A and B", ["a", "b"])
    kid.add_argument("--subsets", type=_positive, default=100)
    kid.add_argument(
        "--subset-size", type=_positive, default=None, help="default: min(1000, |A|, |B|)"
    )
    kid.add_argument("--seed", type=int, default=0)
    inception = add("is", "Inception Score of A", ["a"])
    inception.add_argument("--splits", type=_positive, default=10)
    pr = add("pr", "precision and recall of B against A (k-NN manifolds)", ["a", "b"])
    pr.add_argument("--k", type=_positive, default=3)
    convert = commands.add_parser(
        "convert-inception",
        help="convert pytorch-fid's .pth to .npz in the cache (no PyTorch); prints its path",
    )
    convert.add_argument("file")
    convert.add_argument("--sha256", help="accept this hash instead of the published one")
    convert.add_argument("--cache-dir", help="default: $ARTIFEX_CACHE or ~/.cache/artifex")
    convert.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    return parser


def _kid_features(text: str) -> int:
    value = int(text)
    if value < 0 or value == 1:
        raise argparse.ArgumentTypeError(f"expected 0 (none) or an integer >= 2, got {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


COMMANDS: dict[str, Callable[[argparse.Namespace, Extractor], None]] = {
    "stats": _cmd_stats,
    "fid": _cmd_fid,
    "kid": _cmd_kid,
    "is": _cmd_is,
    "pr": _cmd_pr,
}


def main(
    argv: Sequence[str] | None = None, *, load_extractor: ExtractorLoader | None = None
) -> int:
    """Run the command line; returns the exit status.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when ``None``.
        load_extractor: Builds the feature network from the parsed arguments; the
            InceptionV3 of ``--weights`` (or the cache) when ``None``. Tests pass a small one.

    Returns:
        0 on success, 2 for a user error (one line on stderr) or bad arguments.
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        if args.command == "convert-inception":
            _cmd_convert(args)
        else:
            extractor = (load_extractor or _inception_extractor)(args)
            COMMANDS[args.command](args, extractor)
    except (UserError, ValueError, TypeError, OSError) as error:
        if args.debug:
            raise
        message = str(error).strip() or type(error).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
