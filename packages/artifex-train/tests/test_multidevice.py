"""Data parallelism changes where the numbers are computed, not what they are.

On CPU with 8 virtual devices (``--xla_force_host_platform_device_count=8``) a tiny GAN
trained for N steps with its batch split over all 8 devices ends with the same logged
losses and the same parameters, optimizer states, batch statistics and EMA as the same run
on one device, within a stated tolerance. Both networks have BatchNorm, so the check also
covers the batch statistics: they must be those of the global batch of 16, not of each
device's 2 samples. The only leaves left out are the few whose value float rounding alone
decides in any run (see ``decided_by_rounding``).

The device count of a process is fixed when JAX starts, so both runs happen in one
subprocess that prints what the parent compares.
"""

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

STEPS = 6
BATCH = 16  # a multiple of 8: two samples per device

TWO_RUNS = textwrap.dedent(
    """
    import json

    import jax
    import numpy as np
    from flax import nnx

    from artifex.generative_models.core.configuration import (
        CheckpointConfig,
        DiscriminatorConfig,
        EMAConfig,
        GANConfig,
        GeneratorConfig,
        LoggingConfig,
        TrainingConfig,
    )
    from artifex.generative_models.models.gan import GAN
    from artifex.generative_models.training.devices import DeviceManager
    from artifex.generative_models.training.trainer import Trainer

    STEPS, BATCH, WORKDIR = {steps}, {batch}, {workdir!r}
    MODEL = GANConfig(
        generator=GeneratorConfig(hidden_dims=(16,), output_shape=(4,), latent_dim=4),
        # BatchNorm (the generator's by default too): a per-device mean and variance would
        # change every number below. Dropout: its masks must not depend on the layout either.
        discriminator=DiscriminatorConfig(hidden_dims=(16,), batch_norm=True, dropout_rate=0.2),
    )


    class Points:
        def __init__(self):
            self.position = 0

        def __next__(self):
            rng = np.random.default_rng(self.position)
            self.position += 1
            return {{"image": np.tanh(rng.normal(size=(BATCH, 4))).astype(np.float32)}}


    # Record how every batch the trainer places reaches the devices (host arrays are put
    # on the mesh with jax.device_put): which devices hold it and how big a piece each has.
    placed = []
    real_device_put = jax.device_put


    def recording_device_put(x, *args, **kwargs):
        out = real_device_put(x, *args, **kwargs)
        if isinstance(out, dict) and "image" in out:
            image = out["image"]
            placed.append({{
                "shape": list(image.shape),
                "devices": len(image.sharding.device_set),
                "shard_shapes": sorted({{tuple(s.data.shape) for s in image.addressable_shards}}),
            }})
        return out


    jax.device_put = recording_device_put


    def plain(x):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            x = jax.random.key_data(x)
        return np.asarray(x).tolist()


    def named_leaves(tree):
        flat = jax.tree_util.tree_flatten_with_path(tree)[0]
        return {{jax.tree_util.keystr(path): plain(x) for path, x in flat}}


    def train(manager, name):
        model = GAN(MODEL, rngs=nnx.Rngs(0))
        initial = named_leaves(nnx.state((model.generator, model.discriminator), nnx.Param))
        config = TrainingConfig(
            steps=STEPS,
            steps_per_dispatch=2,
            ema=EMAConfig(decay=0.5),
            logging=LoggingConfig(log_every=2, sample_every=0),
            checkpoint=CheckpointConfig(
                directory=f"{{WORKDIR}}/{{name}}", every_n_steps=10**6, save_final=False
            ),
        )
        trainer = Trainer(model, Points(), config, device_manager=manager)
        del placed[:]
        trainer.fit()
        state_leaves = jax.tree.leaves(trainer.state)
        return {{
            "device_count": trainer.devices.device_count,
            "state_devices": sorted({{len(x.sharding.device_set) for x in state_leaves}}),
            "state_replicated": all(x.sharding.is_fully_replicated for x in state_leaves),
            "batches": [dict(b, shard_shapes=[list(s) for s in b["shard_shapes"]])
                        for b in placed],
            "history": [
                {{k: v for k, v in row.items() if k != "it_per_s"}} for row in trainer.history
            ],
            "initial_params": initial,
            "state": named_leaves(trainer.state),
        }}


    assert len(jax.devices()) == 8, jax.devices()
    one = train(DeviceManager(devices=jax.devices()[:1]), "one")
    eight = train(DeviceManager(), "eight")
    print("RESULT " + json.dumps({{"one": one, "eight": eight}}))
    """
)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("multidevice")
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "JAX_PLATFORMS": "cpu",
    }
    script = TWO_RUNS.format(steps=STEPS, batch=BATCH, workdir=str(workdir))
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-4000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT "))


# Not bitwise: with the batch split over 8 devices every batch mean (the losses, the
# BatchNorm statistics, the gradients) is summed per device and then across devices, a
# different order of float32 additions than one device's. The differences seen are at
# most ~2.5e-7 (a few float32 ulps of values near 1); the tolerance leaves a margin of 40.
RTOL, ATOL = 1e-5, 1e-6


def decided_by_rounding(name):
    """Leaves whose value is float rounding noise amplified by Adam, in any run.

    The bias of a dense layer that feeds a BatchNorm has no effect on the normalised
    output, so its true gradient is exactly zero; what it gets is rounding noise (~1e-9),
    which Adam divides by its own square root and turns into steps of the full learning
    rate in a random direction. Two runs that add in different orders give it different
    noise, so it (and its EMA) drifts apart by ~lr per step, and so does the BatchNorm
    running mean, which averages it. Its optimizer moments stay noise-sized and are
    compared. The function the networks compute in training mode does not depend on
    these leaves, which is why the losses still agree.
    """
    if "['opt_state']" in name:
        return False
    return bool(
        re.search(r"\['blocks'\]\[\d+\]\['dense'\]\['bias'\]", name)
        or re.search(r"\['norm'\]\['mean'\]", name)
    )


@pytest.mark.slow
def test_the_eight_device_run_really_splits_the_batch_over_eight_devices(runs):
    one, eight = runs["one"], runs["eight"]
    assert one["device_count"] == 1 and eight["device_count"] == 8
    # The state is replicated on every device of the mesh ...
    assert eight["state_devices"] == [8] and eight["state_replicated"]
    assert one["state_devices"] == [1]
    # ... and every batch is split along its batch axis: (K, n_critic, 16, 4) in pieces of
    # (K, n_critic, 2, 4), one per device. A trainer that ignored its device manager would
    # leave the batch (and the state) on one device.
    assert len(eight["batches"]) == STEPS // 2
    for batch in eight["batches"]:
        assert batch["shape"] == [2, 1, BATCH, 4]
        assert batch["devices"] == 8
        assert batch["shard_shapes"] == [[2, 1, BATCH // 8, 4]]
    assert len(one["batches"]) == STEPS // 2
    assert all(b["devices"] == 1 and b["shard_shapes"] == [b["shape"]] for b in one["batches"])


@pytest.mark.slow
def test_eight_devices_log_the_same_losses_as_one(runs):
    one, eight = runs["one"]["history"], runs["eight"]["history"]
    assert [row["step"] for row in one] == [row["step"] for row in eight] == [2, 4, 6]
    for a, b in zip(one, eight, strict=True):
        assert a.keys() == b.keys() and {"d_loss", "g_loss"} <= a.keys()
        for key in a:
            np.testing.assert_allclose(b[key], a[key], rtol=RTOL, atol=ATOL, err_msg=key)
    # The losses change from one log to the next: the runs trained, they did not merely
    # both report the same untouched starting point.
    assert len({row["d_loss"] for row in one}) == 3 and len({row["g_loss"] for row in one}) == 3


@pytest.mark.slow
def test_eight_devices_end_with_the_same_parameters_ema_and_batch_statistics_as_one(runs):
    # The whole carried state: both networks' parameters and BatchNorm statistics, both
    # optimizers' moments and counters, the EMA, the step and the random keys.
    one, eight = runs["one"]["state"], runs["eight"]["state"]
    assert one.keys() == eight.keys()
    skipped = sorted(name for name in one if decided_by_rounding(name))
    # Exactly the pre-BatchNorm biases of the generator, its EMA and the discriminator,
    # and the two running means; everything else is compared.
    assert len(skipped) == 5, skipped
    compared = [name for name in one if name not in skipped]
    assert any(".ema" in name for name in compared)
    assert any("['norm']['var']" in name for name in compared)
    for name in compared:
        np.testing.assert_allclose(
            np.asarray(eight[name], np.float64),
            np.asarray(one[name], np.float64),
            rtol=RTOL,
            atol=ATOL,
            err_msg=name,
        )


@pytest.mark.slow
def test_the_compared_values_moved_far_more_than_the_tolerance(runs):
    # Equal because nothing trained would prove nothing: every compared parameter, its EMA
    # and the BatchNorm variances moved from their initial values by over 100 x ATOL.
    initial, state = runs["one"]["initial_params"], runs["one"]["state"]
    moved = 0
    for name, start in initial.items():
        net, path = name[:3], name[3:]  # "[0]" generator, "[1]" discriminator
        candidates = [f".nets{net}{path}"] + ([f".ema{path}"] if net == "[0]" else [])
        for trained in candidates:
            if decided_by_rounding(trained):
                continue
            change = np.max(np.abs(np.subtract(state[trained], start)))
            assert change > 100 * ATOL, (trained, change)
            moved += 1
    assert moved == 15  # 5 compared parameter arrays in each network and 5 in the EMA
    variances = [v for name, v in state.items() if "['norm']['var']" in name]
    assert len(variances) == 2
    assert all(np.max(np.abs(np.subtract(v, 1.0))) > 100 * ATOL for v in variances)
