"""StyleGAN2: config checks, truncation, style mixing, the path-length penalty, the rules.

The path-length penalty is checked against central finite differences of the generator on
a tiny network (8x8, 4 channels, 4 style indices of 2 numbers each).
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ProgressiveDiscriminatorConfig,
    StyleGAN2Config,
    StyleGAN2GeneratorConfig,
)
from artifex.generative_models.models.gan import Objective, StyleGAN2, StyleGAN2Rules, build_model
from artifex.generative_models.models.gan.stylegan2 import path_length_penalty, path_lengths
from artifex.generative_models.nets import StyleGAN2Generator, StyleGANDiscriminator

GENERATOR = StyleGAN2GeneratorConfig(
    latent_dim=4,
    style_dim=2,
    mapping_layers=2,
    image_size=8,
    channels=1,
    max_channels=4,
    min_channels=4,
)
CONFIG = StyleGAN2Config(generator=GENERATOR, pl_interval=2, style_mixing_prob=1.0)


@pytest.fixture
def model():
    gan = StyleGAN2(CONFIG, rngs=nnx.Rngs(params=0, sample=1))
    gan.generator.w_avg[...] = jnp.asarray([0.7, -1.2], jnp.float32)
    return gan


def test_build_model_and_networks():
    assert StyleGAN2 is type(build_model(CONFIG))
    gan = build_model(CONFIG)
    assert isinstance(gan.generator, StyleGAN2Generator)
    assert isinstance(gan.discriminator, StyleGANDiscriminator)
    assert gan.discriminator.config.use_equalized_lr and gan.discriminator.config.use_minibatch_std
    rules = gan.training_rules()
    assert isinstance(rules, StyleGAN2Rules)
    assert (rules.num_ws, rules.pl_weight, rules.pl_interval, rules.style_mixing_prob) == (
        4,
        2.0,
        2,
        1.0,
    )
    hash(rules)  # static data of the compiled step


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (
            lambda: GENERATOR.replace(image_size=12),
            r"StyleGAN2GeneratorConfig.image_size=12: must be start_size \* 2\*\*k",
        ),
        (
            lambda: GENERATOR.replace(w_avg_beta=1.0),
            r"StyleGAN2GeneratorConfig.w_avg_beta=1.0: must be in \[0, 1\)",
        ),
        (
            lambda: GENERATOR.replace(mapping_lr_multiplier=0.0),
            r"mapping_lr_multiplier=0.0: must be in \(0, 1\]",
        ),
        (
            lambda: GENERATOR.replace(min_channels=8),
            r"min_channels=8: must be <= max_channels=4",
        ),
        (lambda: CONFIG.replace(pl_interval=0), r"StyleGAN2Config.pl_interval=0: must be > 0"),
        (lambda: CONFIG.replace(pl_weight=-1.0), r"StyleGAN2Config.pl_weight=-1.0: must be >= 0"),
        (lambda: CONFIG.replace(pl_decay=0.0), r"pl_decay=0.0: must be in \(0, 1\]"),
        (lambda: CONFIG.replace(pl_batch_shrink=0), r"pl_batch_shrink=0: must be > 0"),
        (
            lambda: CONFIG.replace(style_mixing_prob=1.5),
            r"style_mixing_prob=1.5: must be in \[0, 1\]",
        ),
        (
            lambda: StyleGAN2Config(
                generator=GENERATOR,
                discriminator=ProgressiveDiscriminatorConfig(
                    num_stages=3, start_size=4, channels=1, max_channels=4
                ),
            ),
            r"StyleGAN2Config.discriminator.num_stages=3 does not match the generator "
            r"\(needs 2\)",
        ),
    ],
)
def test_bad_values_are_refused_with_the_reason(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_config_builds_a_matching_discriminator_and_follows_the_generator():
    assert CONFIG.discriminator.num_stages == 2 and CONFIG.discriminator.channels == 1
    bigger = CONFIG.replace(generator=GENERATOR.replace(image_size=16))
    assert bigger.discriminator.num_stages == 3
    assert StyleGAN2Config.from_yaml(CONFIG.to_yaml()) == CONFIG


def test_truncation_psi_zero_is_the_average_image_and_psi_one_the_plain_one(model):
    zero = np.asarray(model.generate(3, rngs=nnx.Rngs(sample=5), truncation_psi=0.0))
    ws = jnp.broadcast_to(model.generator.w_avg[...], (3, 4, 2))
    average = np.asarray(model.generator.synthesize(ws, training=False))
    np.testing.assert_allclose(zero, average, rtol=1e-5, atol=1e-6)
    one = np.asarray(model.generate(3, rngs=nnx.Rngs(sample=5), truncation_psi=1.0))
    z = model.sample_latent(3, nnx.Rngs(sample=5))
    plain = model.generator.synthesize(model.generator.mapping(z), training=False)
    np.testing.assert_allclose(one, np.asarray(plain), rtol=1e-6)
    assert np.abs(one - zero).max() > 1e-3
    # A cut-off truncates the coarse styles only: psi=0 below 2 keeps the fine ones of z.
    half = np.asarray(
        model.generate(3, rngs=nnx.Rngs(sample=5), truncation_psi=0.0, truncation_cutoff=2)
    )
    mixed = jnp.concatenate([ws[:, :2], model.generator.map(z)[:, 2:]], axis=1)
    np.testing.assert_allclose(
        half, np.asarray(model.generator.synthesize(mixed, training=False)), rtol=1e-5, atol=1e-6
    )


def test_style_mix_takes_coarse_styles_from_the_first_latent(model):
    z1 = jax.random.normal(jax.random.key(1), (2, 4))
    z2 = jax.random.normal(jax.random.key(2), (2, 4))
    mixed = model.style_mix(z1, z2, 1)
    g = model.generator
    ws = jnp.concatenate([g.map(z1)[:, :1], g.map(z2)[:, 1:]], axis=1)
    np.testing.assert_allclose(
        np.asarray(mixed), np.asarray(g.synthesize(ws, training=False)), rtol=1e-6
    )


def float64_copy(g):
    """``g`` computing in float64 (every layer's compute dtype and every parameter)."""
    g64 = nnx.clone(g)
    for _, node in nnx.iter_graph(g64):
        if isinstance(node, nnx.Module) and hasattr(node, "dtype") and hasattr(node, "param_dtype"):
            node.dtype = jnp.float64
    nnx.update(g64, jax.tree.map(lambda p: p.astype(jnp.float64), nnx.state(g64, nnx.Param)))
    return g64


def test_path_lengths_match_finite_differences():
    # In float64 (central differences with h = 1e-6 cross no leaky-ReLU kink); no noise in
    # eval mode, so each image is a deterministic function of its own styles.
    g = StyleGAN2Generator(GENERATOR, rngs=nnx.Rngs(3))
    g.eval()
    direction_key = jax.random.key(5)
    z = np.asarray(jax.random.normal(jax.random.key(4), (2, 4)))
    lengths32 = np.asarray(path_lengths(g, jnp.asarray(z), jax.random.key(6), direction_key))
    # jax.enable_x64 is new; the oldest supported JAX (0.7.1) has only the experimental one.
    enable_x64 = getattr(jax, "enable_x64", None)
    if enable_x64 is None:  # pragma: no cover - depends on the JAX version
        from jax.experimental import enable_x64
    with enable_x64(True):
        g64 = float64_copy(g)
        z64 = jnp.asarray(z, jnp.float64)
        lengths = np.asarray(path_lengths(g64, z64, jax.random.key(6), direction_key))
        assert lengths.dtype == np.float64
        ws = np.asarray(g64.map(z64))  # (2, 4, 2)
        n, k, d = ws.shape
        # The direction: normal images / sqrt(H * W), drawn as path_lengths draws them.
        y = np.asarray(jax.random.normal(direction_key, (n, 8, 8, 1), jnp.float32)) / 8.0
        h = 1e-6
        rows, owners = [], []  # each sample's each style entry nudged up, then down
        for i in range(n):
            for j in range(k):
                for e in range(d):
                    for sign in (1.0, -1.0):
                        nudged = ws[i].copy()
                        nudged[j, e] += sign * h
                        rows.append(nudged)
                        owners.append(i)
        out = np.asarray(g64.synthesize(jnp.asarray(np.stack(rows)), training=False))
    values = np.sum(out * y[np.asarray(owners)], axis=(1, 2, 3))
    grads = ((values[0::2] - values[1::2]) / (2 * h)).reshape(n, k, d)  # J_k^T y, entry by entry
    expected = np.sqrt(np.mean(np.sum(grads**2, axis=2), axis=1))
    np.testing.assert_allclose(lengths, expected, rtol=1e-6)
    np.testing.assert_allclose(lengths32, expected, rtol=1e-4)
    assert lengths.min() > 1e-2

    penalty, new_mean = path_length_penalty(jnp.asarray(lengths), jnp.asarray(0.5), 0.1)
    mean = 0.5 + 0.1 * (lengths.mean() - 0.5)
    np.testing.assert_allclose(float(new_mean), mean, rtol=1e-6)
    np.testing.assert_allclose(float(penalty), np.mean((lengths - mean) ** 2), rtol=1e-5)


def test_lazy_path_length_term_is_weighted_due_every_interval_and_moves_the_mean():
    gan = StyleGAN2(CONFIG.replace(style_mixing_prob=0.0), rngs=nnx.Rngs(0))
    rules = gan.training_rules()
    g = gan.generator
    g.path_length_mean[...] = jnp.asarray(0.25, jnp.float32)
    key = jax.random.key(7)
    penalty, mean = rules._path_length(g, key, 1, 2, jnp.float32)  # 1 % 2: not due
    assert float(penalty) == 0.0 and float(mean) == 0.25
    penalty, mean = rules._path_length(g, key, 2, 2, jnp.float32)
    z_key, noise_key, direction_key = jax.random.split(key, 3)
    z = jax.random.normal(z_key, (2, 4))
    lengths = np.asarray(path_lengths(g, z, noise_key, direction_key, training=True))
    expected_mean = 0.25 + 0.01 * (lengths.mean() - 0.25)
    np.testing.assert_allclose(float(mean), expected_mean, rtol=1e-5)
    # weight 2 times interval 2
    np.testing.assert_allclose(
        float(penalty), 4.0 * np.mean((lengths - expected_mean) ** 2), rtol=1e-4
    )


def test_fakes_move_the_w_average_and_mix_styles():
    gan = StyleGAN2(CONFIG, rngs=nnx.Rngs(0))
    rules = gan.training_rules()
    g = gan.generator
    real = {"image": jnp.zeros((3, 8, 8, 1))}
    key = jax.random.key(8)
    fakes = rules.fakes(g, real, key, jnp.asarray(0))
    # Reproduce: z, then (noise, mix, layer, z2) keys; mixing probability 1.
    z_key, generate_key = jax.random.split(key)
    z = jax.random.normal(z_key, (3, 4))
    noise_key, _, layer_key, z2_key = jax.random.split(generate_key, 4)
    w = np.asarray(g.mapping(z))
    np.testing.assert_allclose(
        np.asarray(g.w_avg[...]), (1 - GENERATOR.w_avg_beta) * w.mean(axis=0), rtol=1e-5
    )
    cutoff = int(jax.random.randint(layer_key, (), 1, 4))
    assert 1 <= cutoff < 4
    ws = jnp.concatenate(
        [g.map(z)[:, :cutoff], g.map(jax.random.normal(z2_key, (3, 4)))[:, cutoff:]], axis=1
    )
    np.testing.assert_allclose(
        np.asarray(fakes["image"]),
        np.asarray(g.synthesize(ws, noise_key, training=True)),
        rtol=1e-5,
        atol=1e-6,
    )
    # Generation for the generator's loss (and evaluation) leaves the average alone.
    before = np.asarray(g.w_avg[...])
    rules.generate(g, z, (), key)
    np.testing.assert_array_equal(np.asarray(g.w_avg[...]), before)


@pytest.mark.slow  # a second-order gradient through the whole generator: main CI session only
def test_generator_loss_adds_the_penalty_and_updates_the_mean_under_grad():
    gan = StyleGAN2(CONFIG.replace(pl_interval=1), rngs=nnx.Rngs(0))
    rules = gan.training_rules()
    real = {"image": jnp.zeros((4, 8, 8, 1))}

    def loss(g, d):
        return rules.generator_loss(g, d, real, jax.random.key(9), jnp.asarray(0))

    (value, metrics), grads = nnx.value_and_grad(loss, has_aux=True)(
        gan.generator, gan.discriminator
    )
    assert np.isfinite(float(value)) and float(metrics["pl_penalty"]) > 0
    assert float(gan.generator.path_length_mean[...]) == float(metrics["pl_mean"]) > 0
    leaves = jax.tree.leaves(grads)
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in leaves)
    assert "w_avg" not in grads and "path_length_mean" not in grads


def test_lazy_intervals_join_r1_and_path_length_and_phases_group_by_what_is_due(model):
    lazy_r1 = Objective(r1_weight=1.0, r1_interval=2)
    rules = dataclasses.replace(
        model.training_rules(), pl_weight=2.0, pl_interval=3, objective=lazy_r1
    )
    assert rules.lazy_intervals() == (2, 3)
    # Over the period 6: both due at 0, neither at 1 and 5, R1 alone at 2 and 4, the path
    # length alone at 3: four programs, each phase mapped to the first with its terms.
    assert [rules.at_lazy_phase(i).objective.lazy_phase for i in range(7)] == [0, 1, 2, 3, 2, 1, 0]
    assert len({rules.at_lazy_phase(i) for i in range(12)}) == 4
    assert dataclasses.replace(rules, pl_weight=0.0).lazy_intervals() == (2,)


def test_bfloat16_model_generates_in_bfloat16():
    gan = StyleGAN2(CONFIG.with_compute_dtype("bfloat16"), rngs=nnx.Rngs(0))
    images = gan.generate(2, training=True)
    assert images.dtype == jnp.bfloat16
    assert bool(jnp.all(jnp.isfinite(images.astype(jnp.float32))))


def test_unknown_generate_option_is_refused(model):
    with pytest.raises(TypeError, match="truncation_psi"):
        model.generate(2, psi=0.5)
