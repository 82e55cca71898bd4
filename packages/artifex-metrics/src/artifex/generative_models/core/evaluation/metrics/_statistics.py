"""Feature statistics users can exchange: streaming accumulation and self-describing files.

A statistics file is an ``.npz`` holding ``mu`` and ``sigma`` exactly as pytorch-fid
(``np.load(path)["mu"]``) and clean-fid read them, plus metadata as 0-d arrays (strings
and integers only, so ``np.load(path, allow_pickle=False)`` reads every entry):

* ``extractor``: the feature network's name, e.g. ``inception-v3-fid``;
* ``extractor_sha256``: the hash of its weights, so two copies of "Inception" that differ
  are not compared by accident;
* ``mode``: how images were resized and quantized (``clean``, ``legacy_pytorch``; see
  :mod:`._resize`) — FIDs of different modes differ by more than many papers' gains;
* ``count``: how many images the statistics rest on;
* ``fingerprint``: a hash of the images, to tell datasets apart;
* ``kid_features`` (optional): a uniform random sample of the features themselves
  (float32, drawn by :class:`FeatureReservoir` while streaming), so that KID — which
  needs features, not moments — can be measured against the file.

Statistics of different extractors, weights or modes are refused by
:func:`check_compatible` with a message naming both sides.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._fid import frechet_distance

__all__ = [
    "FeatureReservoir",
    "FeatureStatisticsFile",
    "check_compatible",
    "load_statistics",
    "save_statistics",
]

FORMAT_VERSION = 1
"""Written as ``format_version``; bumped when the meaning of an entry changes."""

_STRING_KEYS = ("extractor", "extractor_sha256", "mode", "fingerprint")


@dataclasses.dataclass(frozen=True)
class FeatureStatisticsFile:
    """Statistics read by :func:`load_statistics`; metadata is ``None`` where the file has none.

    Files written by pytorch-fid or clean-fid hold only ``mu`` and ``sigma``.
    """

    mu: np.ndarray
    sigma: np.ndarray
    extractor: str | None = None
    extractor_sha256: str | None = None
    mode: str | None = None
    count: int | None = None
    fingerprint: str | None = None
    path: str | None = None
    features: np.ndarray | None = None
    """A uniform sample of the features (``kid_features``), or None when the file has none."""

    def describe(self) -> str:
        """``extractor (sha256 prefix), mode`` for messages."""
        digest = (self.extractor_sha256 or "?")[:12]
        where = f" from {self.path}" if self.path else ""
        return (
            f"extractor {self.extractor or 'unknown'} (weights sha256 {digest}), "
            f"mode {self.mode or 'unknown'}{where}"
        )

    def frechet_distance(self, other: FeatureStatisticsFile) -> float:
        """FID against ``other`` after :func:`check_compatible`."""
        check_compatible(self, other)
        return frechet_distance(self.mu, self.sigma, other.mu, other.sigma)


def save_statistics(
    path: str | os.PathLike[str],
    mu: Any,
    sigma: Any,
    *,
    extractor: str,
    extractor_sha256: str,
    mode: str,
    count: int,
    fingerprint: str,
    features: Any = None,
) -> None:
    """Write ``mu``, ``sigma`` and their metadata to an ``.npz`` that pytorch-fid can read.

    Args:
        path: Destination; numpy appends ``.npz`` when it has no suffix.
        mu: ``(D,)`` feature mean.
        sigma: ``(D, D)`` unbiased covariance.
        extractor: Feature network name.
        extractor_sha256: Hex SHA-256 of its weights.
        mode: Resize mode the images went through (``clean``, ``legacy_pytorch``).
        count: Number of images.
        fingerprint: Hash of the images (see ``_cli``'s dataset fingerprint).
        features: Optional ``(K, D)`` sample of the features (for KID), stored as float32.

    Raises:
        ValueError: Shapes disagree, values are not finite, or ``count`` is not positive.
    """
    mean = np.asarray(mu, dtype=np.float64)
    cov = np.asarray(sigma, dtype=np.float64)
    if mean.ndim != 1 or cov.shape != (mean.size, mean.size):
        raise ValueError(f"mu must be (D,) and sigma (D, D); got {mean.shape} and {cov.shape}")
    if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
        raise ValueError("mu or sigma contains NaN or infinite values")
    if isinstance(count, bool) or int(count) != count or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    entries: dict[str, np.ndarray] = {
        "mu": mean,
        "sigma": cov,
        "count": np.asarray(int(count), np.int64),
        "format_version": np.asarray(FORMAT_VERSION, np.int64),
    }
    for key, value in zip(
        _STRING_KEYS, (extractor, extractor_sha256, mode, fingerprint), strict=True
    ):
        if not isinstance(value, str):
            raise TypeError(f"{key} must be a string, got {type(value).__name__}")
        entries[key] = np.asarray(value, dtype=np.str_)  # a unicode array: no pickle needed
    if features is not None:
        sample = np.asarray(features, np.float32)
        if sample.ndim != 2 or sample.shape[1] != mean.size or len(sample) < 2:
            raise ValueError(
                f"features must be (K, {mean.size}) with K >= 2 (a sample of the same "
                f"features as mu), got {sample.shape}"
            )
        entries["kid_features"] = sample
    savez: Any = np.savez  # numpy's stubs read **entries as its keyword options
    savez(path, **entries)


def load_statistics(path: str | os.PathLike[str]) -> FeatureStatisticsFile:
    """Read a statistics file of :func:`save_statistics`, pytorch-fid or clean-fid.

    Nothing is unpickled (``allow_pickle=False``).

    Raises:
        ValueError: The file is not an ``.npz`` with ``mu`` and ``sigma`` of matching shapes.
    """
    name = os.fspath(path)
    try:
        data = np.load(name, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{name} is not a readable statistics file (an .npz with mu and sigma): {error}"
        ) from error
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{name} holds a single array, not statistics (an .npz with mu, sigma)")
    with data:
        missing = [key for key in ("mu", "sigma") if key not in data.files]
        if missing:
            raise ValueError(
                f"{name} is not a statistics file: it lacks {missing} (it holds {data.files}); "
                "make one with `artifex-metrics stats`"
            )
        mu = np.asarray(data["mu"], np.float64)
        sigma = np.asarray(data["sigma"], np.float64)
        if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
            raise ValueError(
                f"{name}: mu must be (D,) and sigma (D, D), got {mu.shape} and {sigma.shape}"
            )
        meta: dict[str, Any] = {
            key: str(data[key][()]) if key in data.files else None for key in _STRING_KEYS
        }
        count = int(data["count"]) if "count" in data.files else -1
        features = None
        if "kid_features" in data.files:
            features = np.asarray(data["kid_features"], np.float32)
            if features.ndim != 2 or features.shape[1] != mu.size:
                raise ValueError(
                    f"{name}: kid_features must be (K, {mu.size}) like mu, got {features.shape}"
                )
    return FeatureStatisticsFile(
        mu=mu,
        sigma=sigma,
        count=None if count < 0 else count,
        path=name,
        features=features,
        **meta,
    )


def check_compatible(first: FeatureStatisticsFile, second: FeatureStatisticsFile) -> None:
    """Refuse to compare statistics of different extractors, weights or modes.

    An entry missing on either side (pytorch-fid's plain files) is not checked: only
    the user can know how such a file was made.

    Raises:
        ValueError: Names both sides' extractor, weights hash and mode.
    """
    for key in ("extractor", "extractor_sha256", "mode"):
        a, b = getattr(first, key), getattr(second, key)
        if a is not None and b is not None and a != b:
            raise ValueError(
                f"cannot compare statistics with different {key.replace('_', ' ')}: "
                f"{first.describe()} vs {second.describe()}; compute both with the same "
                "extractor, weights and --mode"
            )
    if first.mu.shape != second.mu.shape:
        raise ValueError(
            f"cannot compare statistics of {first.mu.size}-d and {second.mu.size}-d features: "
            f"{first.describe()} vs {second.describe()}"
        )


class FeatureReservoir:
    """A uniform random sample of at most ``capacity`` rows of a stream of feature batches.

    Reservoir sampling (Vitter's algorithm R): after ``t`` rows each has been kept with
    probability ``capacity / t``, in ``capacity`` rows of memory however long the stream.
    KID needs features, not moments; this is how a statistics file of 50,000 images keeps
    a sample of them without holding them all.

    Args:
        capacity: Rows kept at most (0 keeps none).
        seed: Seed of the draws (the same stream and seed keep the same rows).
    """

    def __init__(self, capacity: int, *, seed: int = 0) -> None:
        if isinstance(capacity, bool) or int(capacity) != capacity or capacity < 0:
            raise ValueError(f"capacity must be an integer >= 0, got {capacity!r}")
        self.capacity = int(capacity)
        self.seen = 0
        self._rng = np.random.default_rng(seed)
        self._rows: np.ndarray | None = None

    def update(self, features: Any) -> None:
        """Offer a ``(B, D)`` batch of rows."""
        batch = np.asarray(features, np.float32)
        if batch.ndim != 2:
            raise ValueError(f"features must be (B, D), got {batch.shape}")
        if self.capacity == 0 or len(batch) == 0:
            self.seen += len(batch)
            return
        if self._rows is None:
            self._rows = np.empty((self.capacity, batch.shape[1]), np.float32)
        elif batch.shape[1] != self._rows.shape[1]:
            raise ValueError(
                f"features of width {batch.shape[1]} after rows of width {self._rows.shape[1]}"
            )
        index = self.seen + np.arange(len(batch))  # each row's 0-based position in the stream
        free = index < self.capacity
        self._rows[index[free]] = batch[free]
        # Row t (t >= capacity) replaces a uniform slot with probability capacity / (t + 1):
        # draw j uniform in [0, t] and replace slot j when j < capacity. In stream order, so
        # a later row of the batch overrides an earlier one drawn to the same slot.
        later = np.flatnonzero(~free)
        slots = (self._rng.random(len(later)) * (index[later] + 1)).astype(np.int64)
        for row, slot in zip(later, slots, strict=True):
            if slot < self.capacity:
                self._rows[slot] = batch[row]
        self.seen += len(batch)

    @property
    def rows(self) -> np.ndarray | None:
        """The sample, ``(min(capacity, seen), D)``; None when nothing is kept."""
        if self._rows is None:
            return None
        return self._rows[: min(self.capacity, self.seen)]
