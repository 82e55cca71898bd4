"""Augmentation inside the compiled step: what D sees, ADA's p in the state, resume, devices.

Tiny convolutional GANs on the bundled 8x8 digits keep compiles short. The transforms
themselves are checked against NumPy in artifex-gan's ``test_augment.py``; here: the
training step uses them as the config says, ``p`` follows the heuristic, is logged, and
survives a resume bitwise; 1 and 4 devices agree; families that cannot augment say so.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    AugmentConfig,
    CheckpointConfig,
    ConditionalDiscriminatorConfig,
    ConditionalGANConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    CycleGANConfig,
    DCGANConfig,
    ExperimentConfig,
    LoggingConfig,
    PrecisionConfig,
    TrainingConfig,
)
from artifex.generative_models.core.evaluation.metrics import load_digits
from artifex.generative_models.models.gan import DCGAN, Augment, ConditionalGAN, CycleGAN
from artifex.generative_models.training.trainer import Trainer, rules_of

SHAPE = {"output_shape": (8, 8, 1), "data_format": "NHWC"}
MODEL = DCGANConfig(
    generator=ConvGeneratorConfig(hidden_dims=(8,), latent_dim=4, **SHAPE),
    discriminator=ConvDiscriminatorConfig(
        hidden_dims=(8,), input_shape=(8, 8, 1), data_format="NHWC", batch_norm=False
    ),
)


class Digits:
    """Batches of the bundled training digits in a fixed order, with a saved position."""

    def __init__(self, batch=8, labels=False):
        data = load_digits("train")
        self.images, self.labels = data[0], data[1]
        self.batch, self.position, self.with_labels = batch, 0, labels

    def __next__(self):
        start = self.position * self.batch % (len(self.images) - self.batch)
        self.position += 1
        batch = {"image": np.asarray(self.images[start : start + self.batch], np.float32)}
        if self.with_labels:
            batch["label"] = np.asarray(self.labels[start : start + self.batch], np.int32)
        return batch

    def get_state(self):
        return {"position": self.position}

    def set_state(self, state):
        self.position = state["position"]


def config(workdir, steps=8, **augment):
    return TrainingConfig(
        steps=steps,
        # One iteration per compiled call: on CPU a dispatch of K is K unrolled bodies,
        # K times the compile; p moves per iteration whatever K is.
        steps_per_dispatch=1,
        logging=LoggingConfig(log_every=2, sample_every=0),
        checkpoint=CheckpointConfig(directory=str(workdir), every_n_steps=4, keep_last=3),
        augment=AugmentConfig(**augment),
    )


def leaves(tree):
    return [np.asarray(x) for x in jax.tree.leaves(tree)]


def test_ada_p_follows_the_heuristic_is_logged_and_lives_in_the_state(tmp_path):
    # speed_images = 16 and interval 1: each iteration moves p by 8 * 1 / 16 = 0.5 toward
    # more augmentation when E[sign(D(real))] > target, less otherwise (clipped to [0, 1]).
    trainer = Trainer(
        DCGAN(MODEL, rngs=nnx.Rngs(0)),
        Digits(),
        config(tmp_path, kind="ada", p=0.5, target=0.6, speed_images=16, interval=1),
        progress=False,
    )
    history = trainer.fit()
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [row["augment_p"] for row in rows] == [row["augment_p"] for row in history]
    for row in history:
        # The row holds the last iteration's sign and the p after it; p lies on the grid.
        assert row["augment_p"] in (0.0, 0.5, 1.0) and -1 <= row["real_sign"] <= 1
    assert float(trainer.state.augment["p"]) == history[-1]["augment_p"]


def test_the_controller_moves_p_up_when_d_overfits_and_down_when_not():
    ada = Augment(kind="ada", p=0.25, target=0.6, speed_images=1000, interval=4)
    state = ada.init_state()
    step = 50 * 4 / 1000  # 50 real images per update, every 4 updates
    for sign, expected in ((0.9, 0.25 + step), (0.9, 0.25 + 2 * step), (0.1, 0.25 + step)):
        for update in range(4):
            before = float(state["p"])
            state = jax.jit(ada.adjust, static_argnums=2)(state, jnp.float32(sign), 50)
            if update < 3:
                assert float(state["p"]) == before  # only every `interval` updates
        assert float(state["p"]) == pytest.approx(expected, abs=1e-7)
        assert int(state["sign_count"]) == 0 and float(state["sign_sum"]) == 0
    # The mean over the interval decides, not the last value: 0.9, 0.9, 0.1, 0.1 -> 0.5.
    for sign in (0.9, 0.9, 0.1, 0.1):
        state = ada.adjust(state, jnp.float32(sign), 50)
    assert float(state["p"]) == pytest.approx(0.25, abs=1e-7)
    # Clipped to [0, 1]; a fixed p (target None) never moves.
    fast = Augment(kind="ada", p=0.9, speed_images=1, interval=1)
    assert float(fast.adjust(fast.init_state(), jnp.float32(1.0), 8)["p"]) == 1.0
    assert float(fast.adjust(fast.init_state(), jnp.float32(-1.0), 8)["p"]) == 0.0
    fixed = Augment(kind="ada", p=0.3, target=None)
    assert fixed.adjust(fixed.init_state(), jnp.float32(1.0), 8)["p"] == pytest.approx(0.3)


def test_p_survives_a_resume_bitwise(tmp_path):
    ada = {"kind": "ada", "p": 0.2, "target": 0.6, "speed_images": 64, "interval": 1}
    whole = Trainer(
        DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), config(tmp_path / "a", **ada), progress=False
    )
    whole.fit()
    first = Trainer(
        DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), config(tmp_path / "b", **ada), progress=False
    )
    first.fit(4)
    assert float(first.state.augment["p"]) != 0.2  # it moved before the checkpoint
    resumed = Trainer(
        DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), config(tmp_path / "b", **ada), progress=False
    )
    assert resumed.restore() == 4
    for x, y in zip(leaves(first.state.augment), leaves(resumed.state.augment), strict=True):
        np.testing.assert_array_equal(x, y)
    resumed.fit()
    for x, y in zip(leaves(whole.state), leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Two iterations without augmentation: the history the augmented runs differ from."""
    workdir = tmp_path_factory.mktemp("plain")
    return Trainer(DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), config(workdir, steps=2)).fit()


@pytest.mark.parametrize(
    "augment",
    [{"kind": "diffaugment"}, {"kind": "ada", "p": 0.5, "target": None}, {"xflip": True}],
    ids=["diffaugment", "ada-fixed-p", "xflip"],
)
@pytest.mark.slow  # trains end to end; run by CI's main session, not the JAX-matrix legs (CI time)
def test_each_mode_trains_and_changes_what_d_sees(tmp_path, plain, augment):
    run = Trainer(
        DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), config(tmp_path / "a", steps=2, **augment)
    )
    history = run.fit()
    assert np.isfinite(history[-1]["d_loss"]) and np.isfinite(history[-1]["g_loss"])
    assert history[-1]["d_loss"] != plain[-1]["d_loss"]
    assert ("augment_p" in history[-1]) == (augment.get("kind") == "ada")
    assert (run.state.augment is None) == (augment.get("kind") != "ada")


@pytest.mark.slow  # trains end to end; run by CI's main session, not the JAX-matrix legs (CI time)
def test_ada_at_p_zero_is_the_plain_loss_and_generator_gradients_pass():
    model = DCGAN(MODEL, rngs=nnx.Rngs(0))
    plain = model.training_rules()
    ada = rules_of(
        model,
        ExperimentConfig(model=MODEL, training=config("/tmp/x", kind="ada", target=None)),
    )
    real = {"image": jnp.asarray(load_digits("train")[0][:8])}
    key, step = jax.random.key(1), jnp.int32(0)
    fakes = plain.fakes(model.generator, real, key, step)
    zero = jnp.float32(0.0)
    expected = plain.discriminator_loss(model.discriminator, real, fakes, key, step)[0]
    got = ada.discriminator_loss(model.discriminator, real, fakes, key, step, augment_p=zero)[0]
    assert float(got) == pytest.approx(float(expected), rel=1e-6)
    expected = plain.generator_loss(model.generator, model.discriminator, real, key, step)[0]
    got = ada.generator_loss(model.generator, model.discriminator, real, key, step, augment_p=zero)[
        0
    ]
    assert float(got) == pytest.approx(float(expected), rel=1e-6)

    def loss(g, p):
        return ada.generator_loss(g, model.discriminator, real, key, step, augment_p=p)[0]

    grads = nnx.grad(loss)(model.generator, jnp.float32(1.0))
    norms = [float(jnp.abs(g).sum()) for g in jax.tree.leaves(grads)]
    assert all(np.isfinite(norms)) and sum(norms) > 0


@pytest.mark.slow  # trains end to end; run by CI's main session, not the JAX-matrix legs (CI time)
def test_conditional_labels_pass_untouched_and_bf16_trains(tmp_path):
    labels = ConditionalParams(num_classes=10)
    model = ConditionalGANConfig(
        generator=ConditionalGeneratorConfig(
            hidden_dims=(8,), latent_dim=4, conditional=labels, **SHAPE
        ),
        discriminator=ConditionalDiscriminatorConfig(
            hidden_dims=(8,), input_shape=(8, 8, 1), data_format="NHWC", conditional=labels
        ),
    )
    training = config(tmp_path / "c", steps=2, kind="diffaugment", xflip=True)
    run = Trainer(ConditionalGAN(model, rngs=nnx.Rngs(0)), Digits(labels=True), training)
    assert np.isfinite(run.fit()[-1]["d_loss"])
    bf16 = config(tmp_path / "b", steps=2, kind="ada", p=0.5).replace(
        precision=PrecisionConfig(compute_dtype="bfloat16")
    )
    run = Trainer(DCGAN(MODEL.with_compute_dtype("bfloat16"), rngs=nnx.Rngs(0)), Digits(), bf16)
    row = run.fit()[-1]
    assert np.isfinite(row["d_loss"]) and run.state.augment["p"].dtype == jnp.float32


def test_translation_families_refuse_augmentation_with_the_reason(tmp_path):
    from artifex.generative_models.training.presets import preset

    cyclegan = preset("cyclegan")
    training = cyclegan.training.replace(augment=AugmentConfig(kind="diffaugment"))
    experiment = cyclegan.replace(training=training)
    with pytest.raises(ValueError, match=r"CycleRules cannot augment.*kind='none'"):
        rules_of(CycleGAN(cyclegan.model, rngs=nnx.Rngs(0)), experiment)
    assert isinstance(cyclegan.model, CycleGANConfig)


def test_bad_augment_configs_are_refused_when_made():
    with pytest.raises(ValueError, match=r"AugmentConfig.policy=.*unknown \['colour'\]"):
        AugmentConfig(policy=("colour",))
    with pytest.raises(ValueError, match=r"AugmentConfig.target=1.0: must lie in \(0, 1\)"):
        AugmentConfig(target=1.0)
    with pytest.raises(ValueError, match=r"AugmentConfig.p=1.5"):
        AugmentConfig(p=1.5)
    with pytest.raises(ValueError, match=r"AugmentConfig.kind"):
        AugmentConfig(kind="flip")
    # The rules' own object checks the same, for users who build it directly.
    with pytest.raises(ValueError, match=r"Augment.kind='flip': expected one of none, diff"):
        Augment(kind="flip")
    with pytest.raises(ValueError, match=r"Augment: unknown transforms \['spin'\]"):
        Augment(kind="ada", transforms=("spin",))
    with pytest.raises(ValueError, match=r"Augment.data_format='HWC'"):
        Augment(data_format="HWC")
    with pytest.raises(ValueError, match=r"Augment.target=1.5: .*None keeps p fixed"):
        Augment(target=1.5)
    with pytest.raises(ValueError, match=r"ADA needs its probability p"):
        Augment(kind="ada").view(jnp.zeros((1, 8, 8, 1)), jax.random.key(0), None)


@pytest.mark.slow
def test_one_and_four_devices_agree_with_ada():
    # The augmentation draws one random transform per image from the step's key; with the
    # batch split over 4 devices the same images get the same transforms.
    script = textwrap.dedent(
        """
        import json, tempfile
        import jax, numpy as np
        from flax import nnx
        from artifex.generative_models.models.gan import DCGAN
        from artifex.generative_models.training.devices import DeviceManager
        from artifex.generative_models.training.trainer import Trainer
        from test_augment_training import MODEL, Digits, config
        out = []
        for devices in (jax.devices()[:1], jax.devices()):
            with tempfile.TemporaryDirectory() as workdir:
                training = config(workdir, kind="ada", p=0.5, speed_images=32, interval=1)
                trainer = Trainer(DCGAN(MODEL, rngs=nnx.Rngs(0)), Digits(), training,
                                  device_manager=DeviceManager(devices), progress=False)
                history = trainer.fit()
                out.append([len(devices), [[r["d_loss"], r["augment_p"]] for r in history]])
        print(json.dumps(out))
        """
    )
    env = {
        **os.environ,
        "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
        "PYTHONPATH": os.pathsep.join(
            [os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]
        ),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (one, four) = json.loads(result.stdout.strip().splitlines()[-1])
    assert one[0] == 1 and four[0] == 4
    np.testing.assert_allclose(np.asarray(four[1]), np.asarray(one[1]), rtol=1e-5, atol=1e-6)
