"""grain pipelines: seeded determinism, epochs, exact resume, disjoint shards, two domains."""

import itertools
import json

import numpy as np
import pytest

from artifex.generative_models.training.data import (
    ArraySource,
    UnpairedSource,
    make_pipeline,
)


def indexed(count, channels=1):
    """Image i is filled with the value i and labelled i: a batch tells which examples it holds."""
    images = np.broadcast_to(
        np.arange(count, dtype=np.uint8)[:, None, None, None], (count, 2, 2, channels)
    )
    return ArraySource(np.ascontiguousarray(images), np.arange(count), source_layout="NHWC")


def ids(batch, key="image"):
    """Example indices from the pixel values (and, for "image", check them against the labels)."""
    values = np.rint((batch[key][:, 0, 0, 0] + 1) / 2 * 255).astype(int)
    if key == "image" and "label" in batch:
        assert values.tolist() == batch["label"].tolist()
    return values.tolist()


def flat(lists):
    return list(itertools.chain.from_iterable(lists))


def take(iterator, count, key="image"):
    return [ids(next(iterator), key) for _ in range(count)]


def test_same_seed_same_batches_other_seed_other_batches():
    source = indexed(40)
    first = take(make_pipeline(source, batch_size=8, seed=7), 12)
    again = take(make_pipeline(source, batch_size=8, seed=7, prefetch=0), 12)
    other = take(make_pipeline(source, batch_size=8, seed=8), 12)
    assert first == again
    assert first != other
    batch = next(make_pipeline(source, batch_size=8, seed=7))
    assert batch["image"].shape == (8, 2, 2, 1) and batch["image"].dtype == np.float32
    assert batch["label"].dtype == np.int32


def test_each_epoch_is_a_new_permutation():
    source = indexed(20)
    batches = take(make_pipeline(source, batch_size=5, seed=0), 12)
    epochs = [flat(batches[i : i + 4]) for i in (0, 4, 8)]
    for epoch in epochs:
        assert sorted(epoch) == list(range(20))
    assert epochs[0] != epochs[1] != epochs[2]
    ordered = take(make_pipeline(source, batch_size=5, seed=0, shuffle=False), 5)
    # in order, and the next epoch starts again at 0
    assert ordered == [list(range(i, i + 5)) for i in (0, 5, 10, 15, 0)]


def test_remainders_and_finite_epochs():
    source = indexed(11)
    dropped = list(make_pipeline(source, batch_size=4, seed=1, num_epochs=2))
    assert len(dropped) == 4 and all(len(ids(b)) == 4 for b in dropped)
    kept = list(make_pipeline(source, batch_size=4, seed=1, num_epochs=2, drop_remainder=False))
    assert [len(ids(b)) for b in kept] == [4, 4, 3, 4, 4, 3]
    first_epoch = flat(ids(b) for b in kept[:3])
    assert sorted(first_epoch) == list(range(11))


def test_restoring_the_state_gives_exactly_the_remaining_batches():
    source = indexed(30)
    straight = make_pipeline(source, batch_size=4, seed=3)
    before = take(straight, 9)  # crosses an epoch boundary (7 batches per epoch)
    state = straight.get_state()
    rest = take(straight, 10)
    stored = json.loads(json.dumps(state))  # the state is plain, checkpointable data
    resumed = make_pipeline(source, batch_size=4, seed=3)
    resumed.set_state(stored)
    assert take(resumed, 10) == rest
    rewound = make_pipeline(source, batch_size=4, seed=3)
    take(rewound, 3)
    rewound.set_state(stored)
    assert take(rewound, 10) == rest
    assert before + rest == take(make_pipeline(source, batch_size=4, seed=3), 19)


@pytest.mark.parametrize("count", [30, 31, 32])
def test_shards_are_disjoint_equal_and_cover_the_data(count):
    source = indexed(count)
    shard_count, batch_size = 3, 6  # each process gets 2 examples per batch
    per_shard = count // shard_count
    epochs = {e: [] for e in range(2)}
    for shard in range(shard_count):
        iterator = make_pipeline(
            source,
            batch_size=batch_size,
            seed=5,
            shard_index=shard,
            shard_count=shard_count,
            drop_remainder=False,
            num_epochs=2,
        )
        batches = [ids(b) for b in iterator]
        assert all(len(b) <= 2 for b in batches)
        stream = flat(batches)
        assert len(stream) == 2 * per_shard  # equal shards keep processes in step
        for epoch in range(2):
            epochs[epoch].append(stream[epoch * per_shard : (epoch + 1) * per_shard])
    for shards in epochs.values():
        union = flat(shards)
        assert len(set(union)) == len(union) == per_shard * shard_count  # disjoint
        assert set(union) <= set(range(count))
        if count % shard_count == 0:
            assert sorted(union) == list(range(count))  # covering
    left_out = [set(range(count)) - set(flat(shards)) for shards in epochs.values()]
    assert all(len(missing) == count % shard_count for missing in left_out)


def test_prefetch_threads_change_nothing():
    source = indexed(24)
    reference = take(make_pipeline(source, batch_size=4, seed=2, prefetch=0), 8)
    assert take(make_pipeline(source, batch_size=4, seed=2, prefetch=4), 8) == reference


@pytest.mark.slow
def test_worker_processes_change_nothing_and_resume():
    source = indexed(24)
    reference = take(make_pipeline(source, batch_size=4, seed=2, prefetch=0), 8)
    with_workers = make_pipeline(source, batch_size=4, seed=2, worker_count=2)
    try:
        got = take(with_workers, 5)
        state = with_workers.get_state()
        got += take(with_workers, 3)
        assert got == reference
        with_workers.set_state(json.loads(json.dumps(state)))
        assert take(with_workers, 3) == reference[5:]
    finally:
        if hasattr(with_workers, "close"):  # grain 0.2.12 has no close(): workers stop on GC
            with_workers.close()


def test_unpaired_domains_are_shuffled_independently():
    domain_a, domain_b = indexed(6), indexed(4, channels=3)
    source = UnpairedSource(domain_a, domain_b)
    assert (
        len(source) == 6 and source.image_shape == (2, 2, 1) and source.image_shape_b == (2, 2, 3)
    )
    iterator = make_pipeline(source, batch_size=3, seed=11)
    batches = [next(iterator) for _ in range(8)]  # 4 epochs of 6 pairs
    assert set(batches[0]) == {"image_a", "image_b"}
    a_stream = flat(ids(b, "image_a") for b in batches)
    b_stream = flat(ids(b, "image_b") for b in batches)
    for epoch in range(4):
        assert sorted(a_stream[epoch * 6 : (epoch + 1) * 6]) == list(range(6))
    for one_pass in range(6):  # B runs through its own shuffled passes of 4
        assert sorted(b_stream[one_pass * 4 : (one_pass + 1) * 4]) == list(range(4))
    pairs = [
        list(zip(a_stream[e * 6 : e * 6 + 6], b_stream[e * 6 : e * 6 + 6], strict=True))
        for e in range(4)
    ]
    assert len({tuple(sorted(p)) for p in pairs}) > 1  # the pairing changes between epochs
    ordered = make_pipeline(source, batch_size=3, seed=11, shuffle=False)
    first, second = next(ordered), next(ordered)
    assert ids(first, "image_a") + ids(second, "image_a") == [0, 1, 2, 3, 4, 5]
    assert ids(first, "image_b") + ids(second, "image_b") == [0, 1, 2, 3, 0, 1]
    # plain random access pairs modulo each length
    assert ids(source.get_batch(np.array([5])), "image_b") == [1]


def test_unpaired_resume_and_shards():
    source = UnpairedSource(indexed(9), indexed(5))
    iterator = make_pipeline(source, batch_size=2, seed=4)
    take(iterator, 5, "image_a")
    state = iterator.get_state()
    rest = [(ids(b, "image_a"), ids(b, "image_b")) for b in (next(iterator) for _ in range(6))]
    resumed = make_pipeline(source, batch_size=2, seed=4)
    resumed.set_state(state)
    assert [
        (ids(b, "image_a"), ids(b, "image_b")) for b in (next(resumed) for _ in range(6))
    ] == rest
    shards = [
        flat(
            take(
                make_pipeline(source, batch_size=2, seed=4, shard_index=i, shard_count=2),
                4,
                "image_a",
            )
        )
        for i in range(2)
    ]
    assert not set(shards[0]) & set(shards[1]) and len(set(shards[0] + shards[1])) == 8


def test_pipeline_arguments_are_checked():
    source = indexed(10)
    with pytest.raises(
        ValueError, match=r"10 examples, 5 per shard over 2 shard\(s\): too few for one batch of 6"
    ):
        make_pipeline(source, batch_size=12, seed=0, shard_count=2)
    with pytest.raises(
        ValueError,
        match="batch_size=5 is the global batch and must divide evenly over shard_count=2",
    ):
        make_pipeline(source, batch_size=5, seed=0, shard_count=2)
    with pytest.raises(ValueError, match=r"shard_index must be in \[0, 1\], got 2"):
        make_pipeline(source, batch_size=2, seed=0, shard_index=2, shard_count=2)
    with pytest.raises(ValueError, match=r"seed must be in \[0, 4294967295\], got -1"):
        make_pipeline(source, batch_size=2, seed=-1)
    with pytest.raises(TypeError, match=r"batch_size must be an int, got 2\.0"):
        make_pipeline(source, batch_size=2.0, seed=0)
    with pytest.raises(TypeError, match="source must be an ImageSource, got list"):
        make_pipeline([1, 2, 3], batch_size=2, seed=0)
