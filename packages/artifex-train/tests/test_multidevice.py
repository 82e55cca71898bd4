"""Data parallelism changes where the numbers are computed, not what they are.

On CPU with 8 virtual devices (``--xla_force_host_platform_device_count=8``) a tiny GAN
trained for N steps with its batch split over all 8 devices ends with the same logged
losses and the same parameters, optimizer states, batch statistics and EMA as the same run
on one device, within a stated tolerance. Both networks have BatchNorm, so the check also
covers the batch statistics: they must be those of the global batch of 16, not of each
device's 2 samples. The only leaves left out are the few whose value float rounding alone
decides in any run (see ``decided_by_rounding``).

The same holds for the modern families (one subprocess each): BigGAN (conditional BN,
spectral-norm power iteration, self-attention, orthogonal term) and StyleGAN2 (minibatch
standard deviation, noise, the w average and path-length mean, lazy R1 and path length).

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
        BigGANConfig,
        BigGANDiscriminatorConfig,
        BigGANGeneratorConfig,
        CheckpointConfig,
        ConditionalParams,
        DiscriminatorConfig,
        EMAConfig,
        GANConfig,
        GeneratorConfig,
        LoggingConfig,
        StyleGAN2Config,
        StyleGAN2GeneratorConfig,
        TrainingConfig,
    )
    from artifex.generative_models.models.gan import GAN, BigGAN, StyleGAN2
    from artifex.generative_models.training.devices import DeviceManager
    from artifex.generative_models.training.trainer import Trainer

    STEPS, BATCH, WORKDIR, FAMILY, K = {steps}, {batch}, {workdir!r}, {family!r}, {dispatch}
    LABELS = ConditionalParams(num_classes=10, embedding_dim=4)
    IMAGE = {{"data_format": "NHWC"}}
    # family: (model class, config, per-sample data shape, labelled data, training options)
    FAMILIES = {{
        "gan": (
            GAN,
            GANConfig(
                generator=GeneratorConfig(hidden_dims=(16,), output_shape=(4,), latent_dim=4),
                # BatchNorm (the generator's by default too): a per-device mean and variance
                # would change every number below. Dropout: its masks must not depend on the
                # layout either.
                discriminator=DiscriminatorConfig(
                    hidden_dims=(16,), batch_norm=True, dropout_rate=0.2
                ),
            ),
            (4,), False, {{}},
        ),
        # Conditional BN in G (statistics of the global batch), spectral norm everywhere
        # (power-iteration vectors), self-attention in both nets, the orthogonal term.
        "biggan": (
            BigGAN,
            BigGANConfig(
                generator=BigGANGeneratorConfig(
                    hidden_dims=(8, 4), latent_dim=6, output_shape=(8, 8, 1), conditional=LABELS,
                    hierarchical_latent=True, self_attention_at=4, **IMAGE,
                ),
                discriminator=BigGANDiscriminatorConfig(
                    hidden_dims=(4, 4), input_shape=(8, 8, 1), conditional=LABELS,
                    self_attention_at=4, **IMAGE,
                ),
                orthogonal_weight=1e-3,
            ),
            (8, 8, 1), True, {{}},
        ),
        # Minibatch standard deviation over the global batch, per-pixel noise, the w
        # average and the path-length mean, style mixing, lazy R1 and path length.
        "stylegan2": (
            StyleGAN2,
            StyleGAN2Config(
                generator=StyleGAN2GeneratorConfig(
                    latent_dim=4, style_dim=4, mapping_layers=2, image_size=8, channels=1,
                    max_channels=4, min_channels=4,
                ),
                pl_interval=2,
                style_mixing_prob=0.5,
            ),
            (8, 8, 1), False, {{"r1_weight": 1.0, "r1_interval": 2}},
        ),
    }}
    MODEL_CLASS, MODEL, SAMPLE_SHAPE, LABELLED, TRAINING = FAMILIES[FAMILY]


    class Points:
        def __init__(self):
            self.position = 0

        def __next__(self):
            rng = np.random.default_rng(self.position)
            self.position += 1
            image = np.tanh(rng.normal(size=(BATCH, *SAMPLE_SHAPE))).astype(np.float32)
            if not LABELLED:
                return {{"image": image}}
            return {{"image": image, "label": rng.integers(0, 10, BATCH).astype(np.int32)}}


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
        model = MODEL_CLASS(MODEL, rngs=nnx.Rngs(0))
        initial = named_leaves(nnx.state((model.generator, model.discriminator), nnx.Param))
        config = TrainingConfig(
            steps=STEPS,
            steps_per_dispatch=K,
            ema=EMAConfig(decay=0.5),
            **TRAINING,
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


def two_runs(workdir, family, dispatch=2):
    """The one-device and eight-device runs of ``family``, in a subprocess with 8 devices.

    ``dispatch``: iterations per compiled call (on CPU, K unrolled bodies: K times the
    compile).
    """
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=8",
        "JAX_PLATFORMS": "cpu",
    }
    script = TWO_RUNS.format(
        steps=STEPS, batch=BATCH, workdir=str(workdir), family=family, dispatch=dispatch
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-4000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    return json.loads(line.removeprefix("RESULT "))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return two_runs(tmp_path_factory.mktemp("multidevice"), "gan")


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
    # (One batch per dispatch, plus those the device prefetch placed ahead: data.device_prefetch
    # = 2 queued and 1 in preparation at most, which an iterator without a position keeps.)
    assert STEPS // 2 <= len(eight["batches"]) <= STEPS // 2 + 3
    for batch in eight["batches"]:
        assert batch["shape"] == [2, 1, BATCH, 4]
        assert batch["devices"] == 8
        assert batch["shard_shapes"] == [[2, 1, BATCH // 8, 4]]
    assert STEPS // 2 <= len(one["batches"]) <= STEPS // 2 + 3
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


# -- the modern families: BigGAN and StyleGAN2 -------------------------------------------

MODERN = ("biggan", "stylegan2")
SKIPPED_BIGGAN = 6  # the 2 biases in G and in its EMA, the 2 running means


@pytest.fixture(scope="module", params=MODERN)
def family_runs(request, tmp_path_factory):
    family = request.param
    # One iteration per call: the dispatch of 2 is covered by the plain GAN's runs above;
    # here the point is the families' state on 8 devices versus 1 (half the compile).
    return family, two_runs(tmp_path_factory.mktemp(f"multidevice-{family}"), family, 1)


def modern_decided_by_rounding(family, name):
    """BigGAN's leaves whose value rounding alone decides, as in :func:`decided_by_rounding`.

    In BigGAN's generator the projection and every transposed convolution feed a
    conditional batch norm, so their biases have a true gradient of exactly zero and so
    do not matter; they and the running means that average them drift apart by Adam's
    full steps on rounding noise. StyleGAN2 has no batch norm: nothing is left out.
    """
    if family != "biggan" or "['opt_state']" in name:
        return False
    return bool(
        re.search(r"\['(projection|convs'\]\[\d+\]\['conv)'\]\['layer'\]\['bias'\]", name)
        or re.search(r"\['norms'\]\[\d+\]\['norm'\]\['mean'\]", name)
    )


@pytest.mark.slow
def test_biggan_and_stylegan2_train_the_same_on_eight_devices_as_on_one(family_runs):
    family, runs = family_runs
    one, eight = runs["one"], runs["eight"]
    assert one["device_count"] == 1 and eight["device_count"] == 8
    assert eight["state_devices"] == [8] and eight["state_replicated"]
    for batch in eight["batches"]:
        assert batch["devices"] == 8 and batch["shard_shapes"][0][2] == BATCH // 8
    # The logged losses (the orthogonal term, R1, the path-length penalty and mean
    # included) agree at every log.
    assert [row["step"] for row in one["history"]] == [2, 4, 6]
    for a, b in zip(one["history"], eight["history"], strict=True):
        assert a.keys() == b.keys() and {"d_loss", "g_loss"} <= a.keys()
        for key in a:
            np.testing.assert_allclose(b[key], a[key], rtol=RTOL, atol=ATOL, err_msg=key)
    # The whole state: parameters, spectral-norm u and sigma, BN statistics, w average,
    # path-length mean, optimizer moments, EMA, keys; all but the rounding-decided leaves.
    state_one, state_eight = one["state"], eight["state"]
    assert state_one.keys() == state_eight.keys()
    skipped = [n for n in state_one if modern_decided_by_rounding(family, n)]
    assert len(skipped) == {"biggan": SKIPPED_BIGGAN, "stylegan2": 0}[family], skipped
    for name in state_one:
        if name not in skipped:
            np.testing.assert_allclose(
                np.asarray(state_eight[name], np.float64),
                np.asarray(state_one[name], np.float64),
                rtol=RTOL,
                atol=ATOL,
                err_msg=name,
            )
    # The statistics the family keeps outside its parameters are among the compared.
    kept = {"biggan": ("['u']", "['var']"), "stylegan2": ("['w_avg']", "['path_length_mean']")}
    for part in kept[family]:
        assert any(part in n and n not in skipped for n in state_one), part
    # Training moved the compared parameters far beyond the tolerance.
    moved = [
        np.max(np.abs(np.subtract(state_one[f".nets{n[:3]}{n[3:]}"], start)))
        for n, start in one["initial_params"].items()
        if not modern_decided_by_rounding(family, f".nets{n[:3]}{n[3:]}")
    ]
    assert np.median(moved) > 100 * ATOL, moved
