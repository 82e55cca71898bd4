import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import pytest

from artifex.generative_models.training.devices import DeviceManager


def test_the_seed_import_gives_the_class_itself():
    from artifex.generative_models.core import DeviceManager as from_core

    assert from_core is DeviceManager
    assert isinstance(from_core(), DeviceManager)


def test_one_device_mesh_and_description():
    manager = DeviceManager(jax.devices()[:1])
    assert manager.device_count == manager.local_device_count == 1
    assert manager.mesh.shape == {"data": 1}
    assert manager.describe().startswith("1 cpu device(s)")
    assert "mesh axis 'data'" in repr(manager)


def test_empty_device_list_is_refused():
    with pytest.raises(ValueError, match="at least one device, got an empty list"):
        DeviceManager([])


EIGHT_DEVICES = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from artifex.generative_models.core import DeviceManager
    manager = DeviceManager()
    assert manager.device_count == 8, manager.device_count
    batch = manager.shard_batch({"x": jnp.arange(16.0).reshape(16, 1)})
    shards = batch["x"].addressable_shards
    assert len(shards) == 8 and all(s.data.shape == (2, 1) for s in shards)
    # shard i holds rows 2i and 2i+1: the batch is split in order along its first axis
    assert [float(s.data[0, 0]) for s in sorted(shards, key=lambda s: s.index[0].start)] == [
        float(2 * i) for i in range(8)
    ]
    params = manager.replicate(jnp.ones(3))
    assert all(s.data.shape == (3,) for s in params.addressable_shards)
    try:
        manager.shard_batch(jnp.zeros((12, 1)))
    except ValueError as error:
        assert "batch size 12 cannot be split evenly over 8 devices" in str(error)
    else:
        raise AssertionError("a batch of 12 over 8 devices was accepted")
    print("ok", manager.describe())
    """
)


@pytest.mark.slow
def test_eight_virtual_devices_split_the_batch_and_replicate_parameters():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    env["JAX_PLATFORMS"] = "cpu"
    result = subprocess.run(
        [sys.executable, "-c", EIGHT_DEVICES], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok 8 cpu device(s)")


def test_shard_and_replicate_keep_values():
    manager = DeviceManager(jax.devices()[:1])
    x = jnp.arange(6.0).reshape(3, 2)
    assert jnp.array_equal(manager.shard_batch(x), x)
    assert jnp.array_equal(manager.replicate(x), x)
