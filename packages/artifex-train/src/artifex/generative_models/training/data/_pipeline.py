"""grain pipelines over image sources: shuffle, shard, batch, repeat, read, prefetch.

grain's dataset is one element per *batch*:

    MapDataset.range(batches_per_epoch) -> repeat(num_epochs) -> map_with_index(read batch k)
        -> to_iter_dataset(prefetch threads) [-> mp_prefetch(worker processes)]

and reading batch ``k`` picks its examples with NumPy (the epoch's permutation, this
shard's share) and reads them with one ``source.get_batch(indices)`` call. Why not
``MapDataset.shuffle().batch()``: grain 0.2.x shuffles index by index, about 40 µs per
example on a CPU core (20 ms for a batch of 512 8×8 digits, longer than a training
step); a vectorised read costs microseconds. grain still does what it is good at: the
iterator state is a position (``{"next_index": k}`` without workers), so restoring it
resumes the exact same batch sequence, and it runs the prefetch threads and worker
processes.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import grain
import numpy as np

from artifex.generative_models.training.data._sources import Example, ImageSource
from artifex.generative_models.training.data._unpaired import UnpairedSource

__all__ = ["make_dataset", "make_pipeline", "pipeline_from_config"]

_MAX_SEED = 2**32 - 1


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return int(value)


@functools.lru_cache(maxsize=8)
def _permutation(seed: int, domain: int, epoch: int, length: int) -> np.ndarray:
    return np.random.default_rng((seed, domain, epoch)).permutation(length)


@dataclasses.dataclass(frozen=True)
class _BatchReader:
    """Batch number -> the batch: which examples, then one ``get_batch`` read.

    Batch ``k`` is batch ``j`` of epoch ``e`` (``divmod(k, batches_per_epoch)``): the global
    batch of positions ``j * shard_count * local_batch + [0, shard_count * local_batch)``
    (fewer in a last, incomplete batch), cut into ``shard_count`` consecutive equal
    pieces, piece ``shard_index`` for this shard. The pieces, in process order, are what
    ``jax.make_array_from_process_local_data`` joins into the global batch, so it holds the
    same examples in the same order whatever the number of processes: a run may resume
    with another number of processes and continue with the same batches. Positions map to
    examples through the epoch's permutation (NumPy PCG64 seeded with
    ``(seed, domain, epoch)``). An :class:`UnpairedSource` reads each domain as an endless
    stream of its own shuffled passes: position ``p`` of epoch ``e`` is element
    ``e * len(source) + p`` of both streams, mapped through each domain's permutation of
    its pass, so the two domains are shuffled independently and neither repeats before
    it has been seen whole.

    A picklable class: worker processes get a copy.
    """

    source: ImageSource
    seed: int
    shuffle: bool
    shard_index: int
    shard_count: int
    per_shard: int
    local_batch: int
    batches_per_epoch: int

    def _examples(self, stream: np.ndarray, domain: int, length: int) -> np.ndarray:
        passes, offsets = np.divmod(stream, length)
        if not self.shuffle:
            return offsets
        out = np.empty_like(offsets)
        for number in np.unique(passes):
            chosen = passes == number
            out[chosen] = _permutation(self.seed, domain, int(number), length)[offsets[chosen]]
        return out

    def __call__(self, batch_number: int, _: Any) -> Example:
        epoch, in_epoch = divmod(int(batch_number), self.batches_per_epoch)
        start = in_epoch * self.local_batch * self.shard_count
        # Both multiples of shard_count: every shard gets the same number of examples.
        usable = self.per_shard * self.shard_count
        size = min(self.local_batch * self.shard_count, usable - start) // self.shard_count
        positions = start + self.shard_index * size + np.arange(size)
        stream = epoch * len(self.source) + positions
        if isinstance(self.source, UnpairedSource):
            return self.source.get_pairs(
                self._examples(stream, 0, len(self.source.domain_a)),
                self._examples(stream, 1, len(self.source.domain_b)),
            )
        return self.source.get_batch(self._examples(stream, 0, len(self.source)))


def _allow_grain_flag_reads() -> None:
    """Let grain read its absl flags' defaults in a program that never parsed flags.

    grain 0.2.x reads ``--grain_enable_multiprocess_worker_profiling`` when starting
    worker processes and raises ``UnparsedFlagAccessError`` unless absl flags were parsed
    (google/grain#1355, fixed upstream by #1362). Marking them parsed keeps every
    default; a later ``absl.app.run`` still parses the command line as usual.
    """
    from absl import flags

    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()


def make_dataset(
    source: ImageSource,
    *,
    batch_size: int,
    seed: int,
    shuffle: bool = True,
    drop_remainder: bool = True,
    num_epochs: int | None = None,
    worker_count: int = 0,
    shard_index: int = 0,
    shard_count: int = 1,
    prefetch: int = 2,
) -> grain.IterDataset:
    """The grain dataset behind :func:`make_pipeline` (same arguments); iterate it yourself.

    Returns:
        A ``grain.IterDataset`` of batch dicts.
    """
    if not isinstance(source, ImageSource):
        raise TypeError(f"source must be an ImageSource, got {type(source).__name__}")
    batch_size = _check_int("batch_size", batch_size, 1)
    seed = _check_int("seed", seed, 0, _MAX_SEED)
    shard_count = _check_int("shard_count", shard_count, 1)
    shard_index = _check_int("shard_index", shard_index, 0, shard_count - 1)
    worker_count = _check_int("worker_count", worker_count, 0)
    prefetch = _check_int("prefetch", prefetch, 0)
    if num_epochs is not None:
        num_epochs = _check_int("num_epochs", num_epochs, 1)
    if batch_size % shard_count:
        raise ValueError(
            f"batch_size={batch_size} is the global batch and must divide evenly over "
            f"shard_count={shard_count} processes"
        )
    length = len(source)
    if length == 0:
        raise ValueError(f"{source.name} is empty: expected at least one example")
    local_batch = batch_size // shard_count
    # Every shard gets the same number of examples per epoch (so that processes stay in
    # step); up to shard_count - 1 examples are left out of an epoch, a different few
    # each epoch when shuffling.
    per_shard = length // shard_count
    if per_shard == 0 or (drop_remainder and per_shard < local_batch):
        raise ValueError(
            f"{source.name} has {length} examples, {per_shard} per shard over {shard_count} "
            f"shard(s): too few for one batch of {local_batch} per shard"
            + (" with drop_remainder=True" if drop_remainder else "")
            + "; lower batch_size or use more data"
        )

    batches_per_epoch = per_shard // local_batch if drop_remainder else -(-per_shard // local_batch)
    reader = _BatchReader(
        source, seed, shuffle, shard_index, shard_count, per_shard, local_batch, batches_per_epoch
    )
    dataset = grain.MapDataset.range(batches_per_epoch).repeat(num_epochs).map_with_index(reader)
    iterable = dataset.to_iter_dataset(
        grain.ReadOptions(num_threads=prefetch, prefetch_buffer_size=prefetch)
    )
    if worker_count:
        _allow_grain_flag_reads()
        iterable = iterable.mp_prefetch(
            grain.MultiprocessingOptions(
                num_workers=worker_count, per_worker_buffer_size=max(prefetch, 1)
            )
        )
    return iterable


def make_pipeline(
    source: ImageSource,
    *,
    batch_size: int,
    seed: int,
    shuffle: bool = True,
    drop_remainder: bool = True,
    num_epochs: int | None = None,
    worker_count: int = 0,
    shard_index: int = 0,
    shard_count: int = 1,
    prefetch: int = 2,
) -> grain.DatasetIterator:
    """A checkpointable iterator of batches from ``source``.

    Each batch is a dict of NumPy arrays with a leading batch axis: ``"image"`` (and
    ``"label"`` when the source has labels), or ``"image_a"`` / ``"image_b"`` for an
    :class:`UnpairedSource`. ``it.get_state()`` is a small dict (JSON-serialisable);
    ``it.set_state(state)`` on an iterator made with the same arguments resumes the
    exact same batch sequence.

    Args:
        source: The examples.
        batch_size: The global batch size, split evenly over the ``shard_count``
            processes: each process's batches hold ``batch_size // shard_count`` examples.
        seed: Shuffle seed, in ``[0, 2**32)``; epoch ``e`` is shuffled with ``seed + e``.
        shuffle: Shuffle the examples each epoch.
        drop_remainder: Drop each epoch's last incomplete batch (keeps shapes static).
        num_epochs: Stop after this many epochs; None repeats forever.
        worker_count: Worker processes reading batches (grain ``mp_prefetch``); 0 reads
            in this process. The batch sequence is the same either way. Close an
            iterator with workers (``it.close()``, where grain has it; grain 0.2.12 stops
            them when the iterator is garbage-collected). Each worker is a spawned
            Python process that imports JAX: seconds to start, worth it for decoding
            image folders, not for in-memory arrays.
        shard_index: This process's index (``jax.process_index()``).
        shard_count: The number of processes (``jax.process_count()``). Shards are
            disjoint and equal in size: each global batch of the (shuffled) epoch is cut
            into ``shard_count`` consecutive pieces, one per process, so the global batches
            are the same for any number of processes; the epoch's last
            ``len(source) % shard_count`` examples are left out.
        prefetch: Batches read ahead by background threads (per process); 0 reads
            synchronously.

    Returns:
        A ``grain.DatasetIterator`` of batch dicts.

    Raises:
        TypeError: A source that is not an :class:`ImageSource`, non-integer arguments.
        ValueError: An empty source, too few examples for one batch per shard, a batch
            size that does not divide over the shards, out-of-range arguments.
    """
    dataset = make_dataset(
        source,
        batch_size=batch_size,
        seed=seed,
        shuffle=shuffle,
        drop_remainder=drop_remainder,
        num_epochs=num_epochs,
        worker_count=worker_count,
        shard_index=shard_index,
        shard_count=shard_count,
        prefetch=prefetch,
    )
    return iter(dataset)


def pipeline_from_config(
    data_config: Any,
    source: ImageSource,
    *,
    num_epochs: int | None = None,
    shard_index: int = 0,
    shard_count: int = 1,
    prefetch: int = 2,
) -> grain.DatasetIterator:
    """:func:`make_pipeline` with batch size, seed, shuffling and workers of a ``DataConfig``.

    Args:
        data_config: A ``DataConfig`` (``batch_size``, ``seed``, ``shuffle``,
            ``drop_remainder``, ``worker_count``).
        source: The examples, e.g. from :func:`source_from_config`.
        num_epochs: As :func:`make_pipeline`.
        shard_index: This process's index.
        shard_count: The number of processes.
        prefetch: As :func:`make_pipeline`.
    """
    return make_pipeline(
        source,
        batch_size=data_config.batch_size,
        seed=data_config.seed,
        shuffle=data_config.shuffle,
        drop_remainder=data_config.drop_remainder,
        num_epochs=num_epochs,
        worker_count=data_config.worker_count,
        shard_index=shard_index,
        shard_count=shard_count,
        prefetch=prefetch,
    )
