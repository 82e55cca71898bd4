"""The checkpoint store alone: nested states round-trip bitwise, named as the tree names them;
data iterators resume where they were; mismatches and damage are refused, naming what differs."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import grain
import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest
from flax import nnx, struct

from artifex.generative_models.training.checkpoints import (
    CheckpointError,
    CheckpointStore,
    _json_crc32,
)


class Tiny(nnx.Module):
    def __init__(self, rngs: nnx.Rngs, widths: tuple[int, ...] = (3, 5)):
        self.layers = nnx.List(
            [nnx.Linear(a, b, rngs=rngs) for a, b in zip((2, *widths), widths, strict=False)]
        )
        self.norm = nnx.BatchNorm(widths[-1], rngs=rngs)
        self.drop = nnx.Dropout(0.5, rngs=rngs)  # holds a typed PRNG key and a counter


@struct.dataclass
class State:
    nets: nnx.State
    ema: Any
    step: jax.Array
    key: jax.Array
    first_bad_step: jax.Array
    typed_key: jax.Array
    epoch: int


def make_state(seed: int, *, ema: bool = False, widths: tuple[int, ...] = (3, 5)) -> State:
    model = Tiny(nnx.Rngs(seed, dropout=seed + 1), widths=widths)
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    _, nets = nnx.split((model, optimizer))
    key = jax.random.key(seed)
    return State(
        nets=nets,
        ema=nnx.state(model, nnx.Param) if ema else None,
        step=jnp.int32(seed * 10 + 1),
        key=jax.random.key_data(key),
        first_bad_step=jnp.int32(-1 - seed),
        typed_key=jax.random.split(key, 3),
        epoch=seed,
    )


def raw(x: Any) -> np.ndarray:
    if jax.dtypes.issubdtype(getattr(x, "dtype", np.int8), jax.dtypes.prng_key):
        return np.asarray(jax.random.key_data(x))
    return np.asarray(x)


def assert_bitwise_equal(a: Any, b: Any) -> None:
    assert str(jax.tree.structure(a)) == str(jax.tree.structure(b))
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        assert type(x) is type(y)
        assert getattr(x, "dtype", None) == getattr(y, "dtype", None)
        np.testing.assert_array_equal(raw(x), raw(y))


@pytest.fixture
def store(tmp_path):
    store = CheckpointStore(tmp_path / "checkpoints", keep_last=3)
    yield store
    store.close()


@pytest.mark.parametrize("ema", [False, True], ids=["ema=None", "ema"])
def test_a_nested_state_round_trips_bitwise_into_the_live_classes(store, ema):
    saved = make_state(1, ema=ema)
    store.save(7, saved, {"note": "seven", "numbers": [1, 2]})
    like = make_state(2, ema=ema)  # other values, same structure: the values must come back
    assert not np.array_equal(
        raw(like.nets[0]["layers"][0]["kernel"]), raw(saved.nets[0]["layers"][0]["kernel"])
    )

    step, restored, extra = store.restore(like)

    assert step == 7 and extra == {"note": "seven", "numbers": [1, 2]}
    assert isinstance(restored, State) and isinstance(restored.nets, nnx.State)
    assert restored.ema is None if not ema else isinstance(restored.ema, nnx.State)
    assert restored.epoch == 1 and isinstance(restored.epoch, int)
    assert jax.random.key_impl(restored.typed_key) == jax.random.key_impl(saved.typed_key)
    assert_bitwise_equal(saved, restored)
    # The restored arrays live where the live state's arrays live.
    assert restored.step.sharding == like.step.sharding


def test_the_checkpoint_on_disk_holds_the_trees_nested_names(store):
    state = make_state(3)
    store.save(1, state, {})
    step_dir = store.directory / "1"
    metadata = json.loads((step_dir / "state" / "_METADATA").read_text())
    names = {
        tuple(entry["key"] for entry in v["key_metadata"])
        for v in metadata["tree_metadata"].values()
    }
    assert ("nets", "0", "layers", "1", "kernel") in names
    assert ("nets", "1", "opt_state", "0", "mu", "layers", "0", "bias") in names
    assert ("nets", "0", "drop", "rngs", "key") in names and ("first_bad_step",) in names
    # Read back by orbax alone, with no target and none of our code: the same numbers
    # under the same names.
    plain = ocp.StandardCheckpointer().restore(step_dir / "state")
    kernel = state.nets[0]["layers"][1]["kernel"]
    np.testing.assert_array_equal(
        np.asarray(plain["nets"]["0"]["layers"]["1"]["kernel"]), raw(kernel)
    )
    np.testing.assert_array_equal(np.asarray(plain["key"]), raw(state.key))
    np.testing.assert_array_equal(np.asarray(plain["typed_key"]), raw(state.typed_key))


def test_keep_last_and_saving_at_an_earlier_step_replaces_the_later_ones(store):
    for step in (2, 4, 6, 8):
        store.save(step, make_state(step), {"step": step})
    assert store.all_steps() == [4, 6, 8] and store.latest_step() == 8
    store.save(6, make_state(60), {"step": 60})  # a run continued from step 4
    assert store.all_steps() == [4, 6]
    step, restored, extra = store.restore(make_state(0))
    assert (step, extra) == (6, {"step": 60})
    assert_bitwise_equal(make_state(60), restored)
    _, older, _ = store.restore(make_state(0), 4)
    assert_bitwise_equal(make_state(4), older)


def test_no_checkpoint_is_a_file_not_found_error(store):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        store.restore(make_state(0))


# -- structure mismatches ------------------------------------------------------------------


def test_a_missing_or_extra_layer_is_refused_naming_the_paths(store):
    store.save(1, make_state(0, widths=(3, 5)), {})
    with pytest.raises(ValueError) as deeper:
        store.restore(make_state(0, widths=(3, 4, 5)))
    message = str(deeper.value)
    assert "checkpoint step 1" in message
    assert "nets/0/layers/2/kernel: in the state, not in the checkpoint" in message
    assert "nets/1/opt_state/0/mu/layers/2/bias: in the state, not in the checkpoint" in message
    # Layer 1 exists in both, with another shape: expected (the state's) and got.
    assert (
        "nets/0/layers/1/kernel: the state has shape (3, 4) float32, the checkpoint (3, 5) float32"
        in message
    )

    with pytest.raises(
        ValueError, match="nets/0/layers/1/kernel: in the checkpoint, not in the state"
    ):
        store.restore(make_state(0, widths=(5,)))


def test_a_changed_dtype_or_field_is_refused_naming_the_paths(store):
    state = make_state(0)
    store.save(1, state, {})
    with pytest.raises(
        ValueError, match=r"step: the state has shape \(\) int16, the checkpoint \(\) int32"
    ):
        store.restore(dataclasses.replace(state, step=jnp.int16(0)))
    with pytest.raises(
        ValueError, match="ema/layers/0/kernel: in the state, not in the checkpoint"
    ):
        store.restore(dataclasses.replace(state, ema=nnx.state(Tiny(nnx.Rngs(0)), nnx.Param)))


def test_a_refused_restore_leaves_the_data_iterator_where_it_was(store):
    data = Counter()
    store.save(1, make_state(0), {}, data_iterator=data)
    next(data)
    with pytest.raises(ValueError):
        store.restore(make_state(0, widths=(4,)), data_iterator=data)
    assert data.position == 1


# -- damage ---------------------------------------------------------------------------------


def test_an_array_that_does_not_match_its_checksum_is_refused_by_name(store):
    store.save(2, make_state(2), {})
    store.save(4, make_state(4), {})
    layout_file = store.directory / "4" / "layout" / "metadata"
    layout = json.loads(layout_file.read_text())
    layout["arrays"]["nets/0/layers/0/bias"]["crc32"] ^= 1
    # The layout's own CRC-32 made to agree: only the array's CRC disagrees now.
    layout["crc32"] = _json_crc32({k: v for k, v in layout.items() if k != "crc32"})
    layout_file.write_text(json.dumps(layout))
    with pytest.raises(CheckpointError) as refused:
        store.restore(make_state(0), 4)
    message = str(refused.value)
    assert "checkpoint step 4" in message and "nets/0/layers/0/bias" in message
    assert "other checkpoints kept: [2]" in message
    assert_bitwise_equal(make_state(2), store.restore(make_state(0), 2)[1])


# After a failed read, orbax's threads leave "Event loop is closed" exceptions behind,
# which this suite turns into errors of whichever test runs next: the damaged files are
# read in a subprocess.
DAMAGED_FILES = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    sys.path.insert(0, {tests!r})
    from test_checkpoints import CheckpointStore, assert_bitwise_equal, make_state

    report = {{}}
    for damage in ("flip", "truncate"):
        store = CheckpointStore(Path({root!r}) / damage)
        store.save(2, make_state(2), {{}})
        store.save(4, make_state(4), {{}})
        files = [
            p for p in (store.directory / "4" / "state").rglob("*")
            if p.is_file() and p.parent.name == "d"
        ]
        assert files
        for path in files:
            data = bytearray(path.read_bytes())
            if damage == "flip":
                data[len(data) // 2] ^= 0x01
            else:
                del data[len(data) // 2 :]
            path.write_bytes(bytes(data))
        try:
            store.restore(make_state(0), 4)
        except Exception as error:
            report[damage] = [type(error).__name__, str(error)]
        assert_bitwise_equal(make_state(2), store.restore(make_state(0), 2)[1])
    print("REPORT " + json.dumps(report), flush=True)
    """
)


@pytest.mark.slow
def test_damaged_array_files_are_a_checkpoint_error_and_the_previous_one_restores(tmp_path):
    script = DAMAGED_FILES.format(tests=os.path.dirname(__file__), root=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    report = json.loads(line.removeprefix("REPORT "))
    assert sorted(report) == ["flip", "truncate"]
    for kind, message in report.values():
        assert kind == "CheckpointError"
        assert "checkpoint step 4" in message and "other checkpoints kept: [2]" in message


# -- data iterators ------------------------------------------------------------------------


class Counter:
    """A plain iterator with a JSON position."""

    def __init__(self):
        self.position = 0

    def __next__(self):
        self.position += 1
        return self.position

    def get_state(self):
        return {"position": self.position}

    def set_state(self, state):
        self.position = state["position"]


def shuffled_batches() -> grain.DatasetIterator:
    dataset = grain.MapDataset.range(23).shuffle(seed=5).map(lambda x: x * x).batch(4)
    return iter(dataset.repeat(None).to_iter_dataset())


def data_loader() -> Any:
    loader = grain.DataLoader(
        data_source=grain.sources.RangeDataSource(0, 23, 1),
        sampler=grain.samplers.IndexSampler(
            num_records=23, shard_options=grain.sharding.NoSharding(), shuffle=True, seed=5
        ),
        operations=[grain.transforms.Batch(4)],
        worker_count=0,
    )
    return iter(loader)


@pytest.mark.parametrize(
    "make_iterator", [shuffled_batches, data_loader], ids=["dataset", "data_loader"]
)
def test_a_grain_iterator_resumes_at_the_same_batch(store, make_iterator):
    data = make_iterator()
    for _ in range(7):  # past the first epoch (23 // 4 batches ... and a partial one)
        next(data)
    store.save(7, make_state(0), {}, data_iterator=data)
    expected = [np.asarray(next(data)) for _ in range(9)]

    fresh = make_iterator()
    next(fresh)
    store.restore(make_state(0), data_iterator=fresh)
    resumed = [np.asarray(next(fresh)) for _ in range(9)]
    for a, b in zip(expected, resumed, strict=True):
        np.testing.assert_array_equal(a, b)
    # grain's handler wrote the position as JSON (nothing that runs code when loaded).
    (position_file,) = (store.directory / "7" / "data").glob("process_*.json")
    json.loads(position_file.read_text())


def test_a_plain_iterator_position_is_json_and_a_generator_is_not_saved(store):
    data = Counter()
    for _ in range(5):
        next(data)
    store.save(1, make_state(0), {}, data_iterator=data)
    saved = json.loads((store.directory / "1" / "data_state" / "metadata").read_text())
    assert saved == {"state": {"position": 5}}
    fresh = Counter()
    store.restore(make_state(0), data_iterator=fresh)
    assert next(fresh) == 6

    generator = iter(range(10))
    store.save(2, make_state(0), {}, data_iterator=generator)
    assert not (store.directory / "2" / "data").exists()
    assert not (store.directory / "2" / "data_state").exists()
    store.restore(make_state(0), data_iterator=generator)  # nothing to restore: no error
    assert next(generator) == 0
    # A checkpoint with a plain iterator's position, restored with a generator: the
    # generator cannot be repositioned and is left as it is.
    store.restore(make_state(0), 1, data_iterator=generator)
    assert next(generator) == 1


def test_a_position_of_the_other_kind_is_refused(store):
    store.save(1, make_state(0), {}, data_iterator=Counter())
    with pytest.raises(ValueError, match="non-grain iterator"):
        store.restore(make_state(0), data_iterator=shuffled_batches())
    store.save(2, make_state(0), {}, data_iterator=shuffled_batches())
    with pytest.raises(ValueError, match="grain iterator's position"):
        store.restore(make_state(0), data_iterator=Counter())


def test_state_that_is_not_json_is_refused_before_anything_is_written(store):
    class Opaque(Counter):
        def get_state(self):
            return b"\x00bytes"

    with pytest.raises(TypeError, match="get_state"):
        store.save(1, make_state(0), {}, data_iterator=Opaque())
    with pytest.raises(TypeError, match="extra must be JSON"):
        store.save(1, make_state(0), {"when": object()})
    assert store.all_steps() == []


def test_a_key_that_would_read_back_as_two_levels_is_refused(store):
    with pytest.raises(ValueError, match="'a/b': keys must be non-empty, without '/'"):
        store.save(1, {"a/b": jnp.zeros(2)}, {})
    store.save(1, {"a": {"b": jnp.arange(2.0)}}, {})
    np.testing.assert_array_equal(store.restore({"a": {"b": jnp.zeros(2)}})[1]["a"]["b"], [0, 1])
