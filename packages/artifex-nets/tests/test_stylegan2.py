"""StyleGAN2 generator: demodulation, the w average, truncation, style mixing, skips, errors.

Numbers are checked against NumPy formulas of the paper; shapes are tiny (8x8, 4 channels).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import StyleGAN2GeneratorConfig
from artifex.generative_models.nets import StyleGAN2Generator, compute_dtypes
from artifex.generative_models.nets.layers import ModulatedConv
from artifex.generative_models.nets.stylegan2 import PathLengthMean, WAverage, upsample_image

SMALL = StyleGAN2GeneratorConfig(
    latent_dim=4,
    style_dim=4,
    mapping_layers=2,
    image_size=8,
    channels=1,
    max_channels=4,
    min_channels=4,
)


@pytest.fixture(scope="module", autouse=True)
def fast_random_compilation():
    # Partitionable threefry compiles every new random-init shape much slower on XLA:CPU;
    # nothing here depends on the random bits.
    previous = jax.config.jax_threefry_partitionable
    jax.config.update("jax_threefry_partitionable", False)
    yield
    jax.config.update("jax_threefry_partitionable", previous)


@pytest.fixture(scope="module")
def generator():
    g = StyleGAN2Generator(SMALL, rngs=nnx.Rngs(0))
    # A w average away from zero, so truncation has something to move towards.
    g.w_avg[...] = jnp.asarray([0.5, -1.0, 0.25, 2.0], jnp.float32)
    return g


def z_of(seed, n=3):
    return jnp.asarray(np.random.default_rng(seed).normal(size=(n, 4)), jnp.float32)


def test_demodulated_output_channels_have_unit_norm_whatever_the_style():
    # Impulses: sample i has a single 1 at the centre of input channel c; the output around
    # the centre is then the (per-sample, modulated, demodulated) kernel slice w''[:, :, c, o].
    # Summing the squared responses over all c and positions gives ||w''[..., o]||^2 = 1.
    in_ch, out_ch, style_dim = 3, 5, 2
    conv = ModulatedConv(in_ch, out_ch, 3, style_dim, use_bias=False, rngs=nnx.Rngs(1))
    styles = np.random.default_rng(0).normal(size=(4, style_dim)) * 3.0  # far from s = 1
    for style in styles:
        x = np.zeros((in_ch, 5, 5, in_ch), np.float32)
        x[np.arange(in_ch), 2, 2, np.arange(in_ch)] = 1.0
        y = np.asarray(conv(jnp.asarray(x), jnp.tile(jnp.asarray(style, jnp.float32), (in_ch, 1))))
        np.testing.assert_allclose(np.sum(y**2, axis=(0, 1, 2)), np.ones(out_ch), rtol=1e-5)
    # Without demodulation the norms follow the style:
    # ||w'[..., o]||^2 = sum_i s_i^2 ||w[..., i, o]||^2.
    plain = ModulatedConv(
        in_ch, out_ch, 3, style_dim, use_bias=False, demodulate=False, rngs=nnx.Rngs(1)
    )
    style = jnp.asarray(styles[0], jnp.float32)
    x = np.zeros((in_ch, 5, 5, in_ch), np.float32)
    x[np.arange(in_ch), 2, 2, np.arange(in_ch)] = 1.0
    y = np.asarray(plain(jnp.asarray(x), jnp.tile(style, (in_ch, 1))))
    s = np.asarray(plain.affine(style[None]))[0]
    w = np.asarray(plain.kernel[...]) * plain.weight_scale
    expected = np.einsum("i,hwio->o", s**2, w**2)
    np.testing.assert_allclose(np.sum(y**2, axis=(0, 1, 2)), expected, rtol=1e-5)


def test_map_moves_the_w_average_by_its_formula_and_truncates_around_it():
    g = StyleGAN2Generator(SMALL, rngs=nnx.Rngs(2))
    old = np.asarray([0.1, 0.2, -0.3, 0.4], np.float32)
    g.w_avg[...] = jnp.asarray(old)
    z = z_of(0)
    w = np.asarray(g.mapping(z))
    ws = np.asarray(g.map(z, update_w_avg=True))
    beta = SMALL.w_avg_beta
    new = w.mean(axis=0) + beta * (old - w.mean(axis=0))
    np.testing.assert_allclose(np.asarray(g.w_avg[...]), new, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ws, np.broadcast_to(w[:, None], (3, g.num_ws, 4)), rtol=1e-6)
    # Truncation: avg + psi (w - avg) below the cut-off, w from there on.
    truncated = np.asarray(g.map(z, truncation_psi=0.3, truncation_cutoff=1))
    np.testing.assert_allclose(truncated[:, 0], new + 0.3 * (w - new), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(truncated[:, 1:], ws[:, 1:], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g.w_avg[...]), new, rtol=1e-6)  # no update asked


def test_psi_zero_gives_the_w_average_image_and_psi_one_the_plain_one(generator):
    g = generator
    z = z_of(1)
    at_average = np.asarray(g(z, training=False, truncation_psi=0.0))
    average_image = np.asarray(g.synthesize(g.w_avg[...][None].repeat(3, 0), training=False))
    np.testing.assert_allclose(at_average, average_image, rtol=1e-5, atol=1e-6)
    assert np.ptp(at_average, axis=0).max() < 1e-5  # every latent gives the same image
    plain = np.asarray(g.synthesize(g.mapping(z), training=False))
    np.testing.assert_array_equal(np.asarray(g(z, training=False, truncation_psi=1.0)), plain)
    assert np.abs(plain - at_average).max() > 1e-3


def test_style_mixing_switches_latents_at_the_style_index(generator):
    g = generator
    z1, z2 = z_of(2), z_of(3)
    mixed = np.asarray(g.style_mixing(z1, z2, 2, training=False))
    ws = np.concatenate([np.asarray(g.map(z1))[:, :2], np.asarray(g.map(z2))[:, 2:]], axis=1)
    np.testing.assert_allclose(
        mixed, np.asarray(g.synthesize(jnp.asarray(ws), training=False)), rtol=1e-6
    )
    np.testing.assert_allclose(
        np.asarray(g.style_mixing(z1, z2, 0, training=False)),
        np.asarray(g(z2, training=False)),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        np.asarray(g.style_mixing(z1, z2, g.num_ws, training=False)),
        np.asarray(g(z1, training=False)),
        rtol=1e-6,
    )
    assert np.abs(mixed - np.asarray(g(z1, training=False))).max() > 1e-4


def test_the_image_is_the_sum_of_every_resolutions_upsampled_rgb(generator):
    # Skip architecture (linear output): image = upsample(rgb_4x4) + rgb_8x8, so the image
    # with only the coarse toRGB plus the one with only the fine toRGB is the full image.
    assert SMALL.output_activation == "linear"
    ws = generator.map(z_of(4))
    full = np.asarray(generator.synthesize(ws, training=False))
    parts = []
    for silenced in (1, 0):
        g = nnx.clone(generator)
        g.to_rgbs[silenced].kernel[...] = jnp.zeros_like(g.to_rgbs[silenced].kernel[...])
        g.to_rgbs[silenced].bias[...] = jnp.zeros_like(g.to_rgbs[silenced].bias[...])
        parts.append(np.asarray(g.synthesize(ws, training=False)))
    np.testing.assert_allclose(parts[0] + parts[1], full, rtol=1e-5, atol=1e-6)
    assert min(np.abs(part).max() for part in parts) > 1e-3
    # The coarse image is upsampled bilinearly (half-pixel centres): exact on a linear ramp
    # 4 * row + col inside the image, e.g. output (2, 2) sits at input (0.75, 0.75).
    ramp = jnp.asarray(np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1))
    up = np.asarray(upsample_image(ramp))[0, :, :, 0]
    np.testing.assert_allclose([up[2, 2], up[2, 3], up[3, 2]], [3.75, 4.25, 5.75], rtol=1e-6)


def test_noise_only_in_training_mode_and_set_by_the_key(generator):
    g = nnx.clone(generator)
    for layer in g.convs:
        layer.noise.weight[...] = jnp.ones_like(layer.noise.weight[...])
    z = z_of(5)
    a = np.asarray(g(z, jax.random.key(0), training=True))
    b = np.asarray(g(z, jax.random.key(0), training=True))
    c = np.asarray(g(z, jax.random.key(1), training=True))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-4
    np.testing.assert_array_equal(
        np.asarray(g(z, training=False)), np.asarray(g(z, jax.random.key(0), training=False))
    )


def test_training_statistics_are_variables_but_not_parameters(generator):
    params = nnx.state(generator, nnx.Param)
    assert "w_avg" not in params and "path_length_mean" not in params
    assert set(nnx.state(generator, WAverage)) == {"w_avg"}
    assert set(nnx.state(generator, PathLengthMean)) == {"path_length_mean"}
    assert generator.num_ws == 2 * SMALL.num_blocks == 4


def test_bfloat16_generator_computes_in_bfloat16():
    g = StyleGAN2Generator(SMALL.replace(dtype="bfloat16"), rngs=nnx.Rngs(0))
    images = g(z_of(6), jax.random.key(0), training=True)
    assert images.dtype == jnp.bfloat16 and images.shape == (3, 8, 8, 1)
    assert bool(jnp.all(jnp.isfinite(images.astype(jnp.float32))))
    assert compute_dtypes(g) == {"bfloat16"}
    assert g.w_avg[...].dtype == jnp.float32


def test_nchw_layout_and_bad_inputs_are_refused(generator):
    nchw = StyleGAN2Generator(SMALL.replace(data_format="NCHW"), rngs=nnx.Rngs(0))
    assert nchw(z_of(7), training=False).shape == (3, 1, 8, 8)
    with pytest.raises(ValueError, match=r"truncation_cutoff must be None or an int in \[0, 4\]"):
        generator.map(z_of(7), truncation_psi=0.5, truncation_cutoff=5)
    with pytest.raises(ValueError, match=r"mix_layer must be an int in \[0, 4\]"):
        generator.style_mixing(z_of(7), z_of(8), 9)
    with pytest.raises(ValueError, match=r"expects ws of shape \(batch, 4, 4\)"):
        generator.synthesize(jnp.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"expects z of shape \(batch, 4\)"):
        generator(jnp.zeros((2, 5)))
