"""The family rules (conditional, style-based, progressive, CycleGAN) against NumPy.

Stand-in networks whose outputs are known in closed form (see ``test_rules.py`` for the
shared rules): every expected number is computed in NumPy (and SciPy for the chi-square
test of the fake labels), not by the code under test.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from scipy import stats

from artifex.generative_models.core.configuration import (
    ProgressiveGANConfig,
    ProgressiveGeneratorConfig,
)
from artifex.generative_models.models.gan._rules import Objective
from artifex.generative_models.models.gan.conditional import ConditionalRules
from artifex.generative_models.models.gan.cyclegan import CycleRules, Pair
from artifex.generative_models.models.gan.progressive import ProgressiveRules, pool_images
from artifex.generative_models.models.gan.stylegan import StyleRules

RNG = np.random.default_rng(99)
SHAPE = (2, 2, 3)
DIM = int(np.prod(SHAPE))


def rand(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * RNG.standard_normal(shape)).astype(np.float32)


def key(seed: int = 0) -> jax.Array:
    return jax.random.key(seed)


def np_log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def np_d_loss(loss_type: str, real: np.ndarray, fake: np.ndarray) -> float:
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if loss_type == "least_squares":  # targets (a, b) = (0, 1), factor 1/2
        return float(np.mean(0.5 * (real - 1) ** 2) + np.mean(0.5 * fake**2))
    if loss_type == "vanilla":
        return float(np.mean(-np_log_sigmoid(real)) + np.mean(-np_log_sigmoid(-fake)))
    if loss_type == "wasserstein":
        return float(np.mean(fake) - np.mean(real))
    raise AssertionError(loss_type)


def np_g_loss(loss_type: str, fake: np.ndarray) -> float:
    fake = np.asarray(fake, np.float64)
    if loss_type == "least_squares":
        return float(np.mean(0.5 * (fake - 1) ** 2))
    if loss_type == "vanilla":
        return float(np.mean(-np_log_sigmoid(fake)))
    return float(-np.mean(fake))


class LinearCritic(nnx.Module):
    """``logits(x[, labels]) = flatten(x) @ w + bias + label_gain * labels``."""

    def __init__(self, w: np.ndarray, bias: float = 0.0, label_gain: float = 0.0):
        self.w = nnx.Param(jnp.asarray(w, jnp.float32))
        self.bias = nnx.Param(jnp.asarray(bias, jnp.float32))
        self.label_gain = label_gain

    def logits(self, x: jax.Array, *context: Any, training: bool | None = None) -> jax.Array:
        out = x.reshape(x.shape[0], -1).astype(jnp.float32) @ self.w[...] + self.bias[...]
        if context:
            out = out + self.label_gain * jnp.asarray(context[0], jnp.float32)
        return out[:, None]

    def numpy(self, x: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        flat = np.asarray(x, np.float64).reshape(len(x), -1)
        out = flat @ np.asarray(self.w[...], np.float64) + float(self.bias[...])
        if labels is not None:
            out = out + self.label_gain * np.asarray(labels, np.float64)
        return out[:, None]


# -- ConditionalRules -------------------------------------------------------------------


def conditional_rules(**options: Any) -> ConditionalRules:
    return ConditionalRules(latent_dim=3, image_shape=SHAPE, num_classes=5, **options)


def test_conditional_real_context_is_the_labels_and_reaches_the_critic() -> None:
    rules = conditional_rules()
    labels = jnp.asarray([0, 4, 2, 1])
    assert rules.real_context({"image": jnp.zeros((4, *SHAPE)), "label": labels}, 0)[0] is labels
    d = LinearCritic(rand(DIM, scale=0.3), label_gain=0.7)
    real, fake = rand(4, *SHAPE), rand(4, *SHAPE)
    fake_labels = jnp.asarray([3, 3, 0, 1])
    loss, _ = rules.discriminator_loss(
        d,
        {"image": jnp.asarray(real), "label": labels},
        {"image": jnp.asarray(fake), "context": (fake_labels,)},
        key(),
        jnp.asarray(0),
    )
    expected = np_d_loss("vanilla", d.numpy(real, np.asarray(labels)), d.numpy(fake, [3, 3, 0, 1]))
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)


def test_conditional_fake_labels_are_uniform() -> None:
    rules = conditional_rules()
    (labels,) = rules.fake_context(20000, key(5), jnp.asarray(0))
    labels = np.asarray(labels)
    assert labels.shape == (20000,) and np.issubdtype(labels.dtype, np.integer)
    assert labels.min() >= 0 and labels.max() < 5
    counts = np.bincount(labels, minlength=5)
    assert len(counts) == 5
    assert stats.chisquare(counts).pvalue > 1e-3
    # fakes() passes them to the generator, and they are part of the fakes' context.
    seen: list[tuple[Any, ...]] = []

    def g(z: jax.Array, *context: Any, training: bool | None = None) -> jax.Array:
        seen.append(context)
        return jnp.zeros((z.shape[0], *SHAPE))

    fakes = rules.fakes(g, {"image": jnp.zeros((6, *SHAPE))}, key(1), jnp.asarray(0))
    (context,) = seen
    assert context[0].shape == (6,)
    assert fakes["context"][0] is context[0]


def test_conditional_check_batch_refuses_bad_labels() -> None:
    rules = conditional_rules()
    images = np.zeros((2, 3, *SHAPE), np.float32)
    rules.check_batch({"image": images, "label": np.array([[0, 1, 4], [2, 3, 0]])})
    with pytest.raises(ValueError, match=r"labels must be integers, got dtype float32"):
        rules.check_batch({"image": images, "label": np.zeros((2, 3), np.float32)})
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\) .* from 0 to 5"):
        rules.check_batch({"image": images, "label": np.array([[0, 1, 5], [2, 3, 0]])})
    with pytest.raises(ValueError, match=r"from -1 to 3"):
        rules.check_batch({"image": images, "label": np.array([[0, 1, -1], [2, 3, 0]])})
    with pytest.raises(ValueError, match=r"no 'label' entry"):
        rules.check_batch({"image": images})
    with pytest.raises(ValueError, match=r"'label' holds examples of shape \(5,\)"):
        rules.check_batch({"image": images, "label": np.zeros((2, 3, 5), np.int32)})


# -- StyleRules ---------------------------------------------------------------------------


class RecordingStyleGenerator:
    """Stands in for ``StyleGANGenerator``: records calls; output = 2 z + noise."""

    def __init__(self, deterministic: bool = False):
        self.deterministic = deterministic
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def is_training(self, training: bool | None) -> bool:
        return not self.deterministic if training is None else training

    def __call__(self, z: jax.Array, rngs: nnx.Rngs | None = None, *, training: Any = None) -> Any:
        self.calls.append(("call", {"z": z, "training": training}))
        return 2 * z + jax.random.normal(rngs.noise(), z.shape)

    def style_mixing(
        self,
        z1: jax.Array,
        z2: jax.Array,
        mix_layer: Any,
        rngs: Any = None,
        *,
        training: Any = None,
    ) -> Any:
        self.calls.append(("mix", {"z1": z1, "z2": z2, "mix_layer": mix_layer}))
        return z1


def style_rules(**options: Any) -> StyleRules:
    return StyleRules(latent_dim=4, image_shape=SHAPE, **options)


def test_style_without_mixing_is_the_plain_generator() -> None:
    z = jnp.asarray(rand(3, 4))
    g = RecordingStyleGenerator()
    out = style_rules(style_mixing_prob=0.0, num_blocks=4).generate(g, z, (), key(2))
    assert [kind for kind, _ in g.calls] == ["call"]
    # g(z, noise) with the noise stream of the key's first split.
    reference = RecordingStyleGenerator()
    noise_key = jax.random.split(key(2), 4)[0]
    expected = reference(z, nnx.Rngs(noise=noise_key), training=True)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(expected))
    assert not np.allclose(np.asarray(out), 2 * np.asarray(z))  # noise really was added


def test_style_mixing_with_probability_one() -> None:
    rules = style_rules(style_mixing_prob=1.0, num_blocks=4)
    z = jnp.asarray(rand(3, 4))
    layers = []
    for seed in range(40):
        g = RecordingStyleGenerator()
        rules.generate(g, z, (), key(seed))
        ((kind, call),) = g.calls
        assert kind == "mix"
        assert call["z1"] is z
        assert call["z2"].shape == z.shape and not np.allclose(call["z2"], z)
        layers.append(int(call["mix_layer"]))
    assert set(layers) == {1, 2, 3}  # crossover in [1, num_blocks), each reached


@pytest.mark.parametrize(
    ("options", "deterministic"),
    [
        ({"training": False}, False),
        ({"training": None}, True),  # the network's own mode: eval
    ],
)
def test_style_no_mixing_in_eval_mode(options: dict[str, Any], deterministic: bool) -> None:
    g = RecordingStyleGenerator(deterministic=deterministic)
    style_rules(style_mixing_prob=1.0, num_blocks=4, **options).generate(
        g, jnp.ones((2, 4)), (), key()
    )
    assert [kind for kind, _ in g.calls] == ["call"]


def test_style_no_mixing_with_one_block() -> None:
    g = RecordingStyleGenerator()
    style_rules(style_mixing_prob=1.0, num_blocks=1).generate(g, jnp.ones((2, 4)), (), key())
    assert [kind for kind, _ in g.calls] == ["call"]


def test_style_mixing_probability_is_respected() -> None:
    rules = style_rules(style_mixing_prob=0.3, num_blocks=3)
    mixed = 0
    for seed in range(200):
        g = RecordingStyleGenerator()
        rules.generate(g, jnp.ones((1, 4)), (), key(seed))
        mixed += int(g.calls[0][1]["mix_layer"]) < 3  # num_blocks means "no mixing"
    assert stats.binomtest(mixed, 200, 0.3).pvalue > 1e-3


# -- ProgressiveRules ----------------------------------------------------------------------


def progressive(
    *, stable: int = 3, transition: int = 2, data_format: str = "NHWC"
) -> ProgressiveGANConfig:
    return ProgressiveGANConfig(
        generator=ProgressiveGeneratorConfig(
            latent_dim=4, max_channels=8, num_stages=3, start_size=2, data_format=data_format
        ),
        stable_steps=stable,
        transition_steps=transition,
    )


def progressive_rules(config: ProgressiveGANConfig, stage: int = 0) -> ProgressiveRules:
    return ProgressiveRules(
        latent_dim=4,
        image_shape=tuple(config.generator.output_shape),
        schedule=config,
        stage=stage,
    )


@pytest.mark.parametrize(("stable", "transition"), [(3, 2), (2, 0), (1, 3)])
def test_progressive_alpha_follows_the_schedule(stable: int, transition: int) -> None:
    config = progressive(stable=stable, transition=transition)
    rules = progressive_rules(config)
    assert rules.phase_starts() == (stable, 2 * stable + transition)
    traced_alpha = {}
    for step in range(config.total_steps + 3):
        stage, alpha = config.stage_at(step)
        phase = rules.phase_at(step)
        assert phase.stage == stage, step
        assert (phase is rules) == (stage == 0)
        value = phase.alpha(jnp.asarray(step))
        assert value.dtype == jnp.float32
        np.testing.assert_allclose(float(value), alpha, rtol=0, atol=1e-6, err_msg=f"{step=}")
        # The compiled step evaluates it on a traced step count.
        if stage not in traced_alpha:
            traced_alpha[stage] = jax.jit(phase.alpha)
        np.testing.assert_allclose(float(traced_alpha[stage](jnp.asarray(step))), alpha, atol=1e-6)
    # Expected alphas written out for the (3, 2) schedule: stage 1 fades in at steps 3, 4.
    if (stable, transition) == (3, 2):
        alphas = [float(rules.phase_at(s).alpha(jnp.asarray(s))) for s in range(11)]
        np.testing.assert_allclose(alphas, [1, 1, 1, 0, 0.5, 1, 1, 1, 0, 0.5, 1], atol=1e-6)


def np_block_mean(x: np.ndarray, factor: int) -> np.ndarray:
    """NHWC average pooling, pixel by pixel."""
    b, h, w, c = x.shape
    out = np.zeros((b, h // factor, w // factor, c))
    for i in range(h // factor):
        for j in range(w // factor):
            block = x[:, i * factor : (i + 1) * factor, j * factor : (j + 1) * factor, :]
            out[:, i, j, :] = block.mean(axis=(1, 2))
    return out


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_progressive_real_images_are_pooled_to_the_stage(data_format: str) -> None:
    config = progressive(data_format=data_format)
    final = tuple(config.generator.output_shape)
    assert final == ((8, 8, 3) if data_format == "NHWC" else (3, 8, 8))
    images = rand(2, *final)
    nhwc = images if data_format == "NHWC" else images.transpose(0, 2, 3, 1)
    for stage, factor in ((0, 4), (1, 2), (2, 1)):
        pooled = np.asarray(
            progressive_rules(config, stage).real_images({"image": jnp.asarray(images)}, 0)
        )
        expected = np_block_mean(nhwc.astype(np.float64), factor)
        if data_format == "NCHW":
            expected = expected.transpose(0, 3, 1, 2)
        assert pooled.shape == expected.shape
        np.testing.assert_allclose(pooled, expected, rtol=1e-6, atol=1e-6)


def test_pool_images_factor_one_is_identity() -> None:
    x = jnp.asarray(rand(2, 4, 4, 3))
    assert pool_images(x, 1, channels_last=True) is x
    assert pool_images(x, 1, channels_last=False) is x


def test_progressive_context_is_the_fade_in() -> None:
    config = progressive(stable=3, transition=2)
    rules = progressive_rules(config, stage=1)
    real = {"image": jnp.zeros((2, 8, 8, 3), jnp.bfloat16)}
    (alpha,) = rules.real_context(real, jnp.asarray(4))
    assert alpha.dtype == jnp.bfloat16 and float(alpha) == 0.5
    (alpha,) = rules.fake_context(2, key(), jnp.asarray(4))
    assert float(alpha) == 0.5


def test_progressive_enter_moves_the_players() -> None:
    class Player:
        stage = -1

        def set_stage(self, stage: int) -> None:
            self.stage = stage

    players = [Player(), Player()]
    progressive_rules(progressive(), stage=2).enter(players)
    assert [p.stage for p in players] == [2, 2]


# -- CycleRules ---------------------------------------------------------------------------


class Affine(nnx.Module):
    """A stand-in generator ``x -> scale * x + shift``."""

    def __init__(self, scale: float, shift: float):
        self.scale = nnx.Param(jnp.asarray(scale, jnp.float32))
        self.shift = nnx.Param(jnp.asarray(shift, jnp.float32))

    def __call__(self, x: jax.Array, training: bool | None = None) -> jax.Array:
        return self.scale[...] * x + self.shift[...]


def cycle_setup() -> tuple[Affine, Affine, np.ndarray, np.ndarray]:
    return Affine(2.0, 0.0), Affine(0.5, 0.1), rand(3, *SHAPE), rand(3, *SHAPE)


@pytest.mark.parametrize("lambda_identity", [0.5, 0.0])
def test_cycle_reconstruction_terms(lambda_identity: float) -> None:
    g, f, a, b = cycle_setup()  # g(x) = 2x, f(x) = x/2 + 0.1
    rules = CycleRules(
        shape_a=SHAPE, shape_b=SHAPE, lambda_cycle=10.0, lambda_identity=lambda_identity
    )
    fake_b, fake_a = 2 * a, b / 2 + 0.1
    terms = rules.reconstruction_terms(
        g, f, jnp.asarray(a), jnp.asarray(b), jnp.asarray(fake_a), jnp.asarray(fake_b)
    )
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    # f(g(a)) = a + 0.1 and g(f(b)) = b + 0.2.
    cycle = 10.0 * (np.mean(np.abs(a64 + 0.1 - a64)) + np.mean(np.abs(b64 + 0.2 - b64)))
    np.testing.assert_allclose(float(terms["cycle_loss"]), cycle, rtol=1e-5)
    np.testing.assert_allclose(cycle, 3.0, rtol=1e-9)
    if lambda_identity == 0:
        assert set(terms) == {"cycle_loss"}
    else:
        identity = lambda_identity * (
            np.mean(np.abs(a64 / 2 + 0.1 - a64)) + np.mean(np.abs(2 * b64 - b64))
        )
        np.testing.assert_allclose(float(terms["identity_loss"]), identity, rtol=1e-5)


@pytest.mark.parametrize("loss_type", ["least_squares", "vanilla"])
def test_cycle_discriminator_loss_is_both_domains(loss_type: str) -> None:
    d_a, d_b = LinearCritic(rand(DIM, scale=0.4), 0.1), LinearCritic(rand(DIM, scale=0.4), -0.2)
    rules = CycleRules(shape_a=SHAPE, shape_b=SHAPE, objective=Objective(loss_type=loss_type))
    a, b, fa, fb = (rand(3, *SHAPE) for _ in range(4))
    loss, metrics = rules.discriminator_loss(
        Pair(d_a, d_b),
        {"image_a": jnp.asarray(a), "image_b": jnp.asarray(b)},
        {"a": jnp.asarray(fa), "b": jnp.asarray(fb)},
        key(),
        jnp.asarray(0),
    )
    expected = np_d_loss(loss_type, d_a.numpy(a), d_a.numpy(fa)) + np_d_loss(
        loss_type, d_b.numpy(b), d_b.numpy(fb)
    )
    np.testing.assert_allclose(float(loss), expected, rtol=1e-5)

    def score(x: np.ndarray) -> float:
        return float(np.mean(1 / (1 + np.exp(-x)) if loss_type == "vanilla" else x))

    real_score = (score(d_a.numpy(a)) + score(d_b.numpy(b))) / 2
    fake_score = (score(d_a.numpy(fa)) + score(d_b.numpy(fb))) / 2
    np.testing.assert_allclose(float(metrics["real_score"]), real_score, rtol=1e-5)
    np.testing.assert_allclose(float(metrics["fake_score"]), fake_score, rtol=1e-5)


def test_cycle_discriminator_penalties_add_up() -> None:
    w_a, w_b = rand(DIM, scale=0.4), rand(DIM, scale=0.4)
    d_a, d_b = LinearCritic(w_a), LinearCritic(w_b)
    objective = Objective(loss_type="wasserstein", gradient_penalty_weight=10.0)
    rules = CycleRules(shape_a=SHAPE, shape_b=SHAPE, objective=objective)
    a, b, fa, fb = (rand(3, *SHAPE) for _ in range(4))
    loss, metrics = rules.discriminator_loss(
        Pair(d_a, d_b),
        {"image_a": jnp.asarray(a), "image_b": jnp.asarray(b)},
        {"a": jnp.asarray(fa), "b": jnp.asarray(fb)},
        key(),
        jnp.asarray(0),
    )
    gp = sum(10.0 * (np.linalg.norm(w.astype(np.float64)) - 1) ** 2 for w in (w_a, w_b))
    np.testing.assert_allclose(float(metrics["gradient_penalty"]), gp, rtol=1e-4)
    adversarial = np_d_loss("wasserstein", d_a.numpy(a), d_a.numpy(fa)) + np_d_loss(
        "wasserstein", d_b.numpy(b), d_b.numpy(fb)
    )
    np.testing.assert_allclose(float(loss), adversarial + gp, rtol=1e-4)


def test_cycle_fakes_and_generator_loss() -> None:
    g, f, a, b = cycle_setup()
    d_a, d_b = LinearCritic(rand(DIM, scale=0.4), 0.1), LinearCritic(rand(DIM, scale=0.4), -0.2)
    rules = CycleRules(shape_a=SHAPE, shape_b=SHAPE, lambda_cycle=10.0, lambda_identity=0.5)
    real = {"image_a": jnp.asarray(a), "image_b": jnp.asarray(b)}
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    fakes = rules.fakes(Pair(g, f), real, key(), jnp.asarray(0))
    np.testing.assert_allclose(np.asarray(fakes["b"]), 2 * a64, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(fakes["a"]), b64 / 2 + 0.1, rtol=1e-6, atol=1e-7)
    loss, metrics = rules.generator_loss(Pair(g, f), Pair(d_a, d_b), real, key(), jnp.asarray(0))
    adversarial = np_g_loss("least_squares", d_b.numpy(2 * a64)) + np_g_loss(
        "least_squares", d_a.numpy(b64 / 2 + 0.1)
    )
    cycle = 10.0 * (0.1 + 0.2)
    identity = 0.5 * (np.mean(np.abs(0.1 - a64 / 2)) + np.mean(np.abs(b64)))
    np.testing.assert_allclose(float(metrics["adversarial_loss"]), adversarial, rtol=1e-5)
    np.testing.assert_allclose(float(metrics["cycle_loss"]), cycle, rtol=1e-5)
    np.testing.assert_allclose(float(metrics["identity_loss"]), identity, rtol=1e-5)
    np.testing.assert_allclose(float(loss), adversarial + cycle + identity, rtol=1e-5)


def test_cycle_rules_protocol_bits() -> None:
    rules = CycleRules(shape_a=SHAPE, shape_b=(3, 2, 2))
    assert rules.batch_shapes() == {"image_a": SHAPE, "image_b": (3, 2, 2)}
    assert rules.phase_starts() == () and rules.phase_at(7) is rules
    with pytest.raises(ValueError, match=r"no 'image_b' entry"):
        rules.check_batch({"image_a": np.zeros((1, 2, *SHAPE))})
    with pytest.raises(ValueError, match=r"'image_b' holds examples of shape \(2, 2, 3\)"):
        rules.check_batch(
            {"image_a": np.zeros((1, 2, *SHAPE)), "image_b": np.zeros((1, 2, *SHAPE))}
        )
