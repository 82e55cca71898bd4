"""Latent-space utilities: interpolation formulas, one-dimension sweeps, class-wise generation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.models.gan import (
    GAN,
    ConditionalGAN,
    explore_latent_dimension,
    generate_by_class,
    generate_class_grid,
    interpolate,
    interpolate_latents,
    linear_interpolation,
    spherical_interpolation,
)

RNG = np.random.default_rng(0)
Z1 = RNG.normal(size=6).astype(np.float32)
Z2 = RNG.normal(size=6).astype(np.float32)


def test_linear_interpolation_is_the_segment():
    path = linear_interpolation(Z1, Z2, num_steps=5)
    assert path.shape == (5, 6)
    for i, t in enumerate(np.linspace(0, 1, 5)):
        np.testing.assert_allclose(path[i], (1 - t) * Z1 + t * Z2, rtol=1e-6, atol=1e-6)


def test_spherical_interpolation_follows_the_great_circle():
    a = Z1 / np.linalg.norm(Z1)
    b = Z2 / np.linalg.norm(Z2)
    path = np.asarray(spherical_interpolation(a, b, num_steps=7), dtype=np.float64)
    np.testing.assert_allclose(path[0], a, atol=1e-6)
    np.testing.assert_allclose(path[-1], b, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-5)  # stays on the sphere
    omega = np.arccos(np.clip(a @ b, -1, 1))
    angles = np.arccos(np.clip(path @ a, -1, 1))
    np.testing.assert_allclose(angles, np.linspace(0, omega, 7), atol=1e-3)  # constant speed


def test_spherical_interpolation_of_parallel_vectors_is_linear():
    path = spherical_interpolation(Z1, 2 * Z1, num_steps=3)
    np.testing.assert_allclose(path[1], 1.5 * Z1, rtol=1e-5)
    assert bool(jnp.all(jnp.isfinite(path)))


def test_batched_paths_and_bad_arguments():
    batch1, batch2 = np.stack([Z1, Z2]), np.stack([Z2, Z1])
    assert interpolate_latents(batch1, batch2, 4, method="spherical").shape == (4, 2, 6)
    with pytest.raises(ValueError, match="num_steps must be an int >= 2"):
        linear_interpolation(Z1, Z2, num_steps=1)
    with pytest.raises(ValueError, match="one shape"):
        linear_interpolation(Z1, Z2[:3])
    with pytest.raises(ValueError, match="'linear' or 'spherical'"):
        interpolate_latents(Z1, Z2, method="cubic")


@pytest.fixture(scope="module")
def gan(tiny):
    with tiny.fast_prng_scope():
        return GAN(tiny.mlp_config(shape=(16,), latent_dim=6), rngs=nnx.Rngs(params=0, sample=1))


@pytest.fixture(scope="module")
def cgan(tiny):
    with tiny.fast_prng_scope():
        return ConditionalGAN(tiny.conditional_config((1, 8, 8), num_classes=3), rngs=nnx.Rngs(0))


def test_interpolate_generates_along_the_path(gan):
    @nnx.jit
    def run(model):
        return (
            interpolate(model, Z1, Z2, num_steps=4, method="spherical"),
            model.generator(spherical_interpolation(Z1, Z2, 4), training=False),
        )

    samples, expected = run(gan)
    assert samples.shape == (4, 16)
    np.testing.assert_allclose(samples, expected, rtol=1e-6)


def test_explore_latent_dimension_varies_one_entry(gan):
    @nnx.jit
    def run(model):
        samples = explore_latent_dimension(model, dim_idx=2, num_samples=5, z_base=Z1)
        latents = np.tile(Z1, (5, 1))
        latents[:, 2] = np.linspace(-3.0, 3.0, 5)
        return samples, model.generator(jnp.asarray(latents), training=False)

    samples, expected = run(gan)
    np.testing.assert_allclose(samples, expected, rtol=1e-6)
    drawn = nnx.jit(lambda m: explore_latent_dimension(m.generator, 0, 3, rngs=nnx.Rngs(sample=0)))(
        gan
    )
    assert drawn.shape == (3, 16)
    with pytest.raises(ValueError, match=r"dim_idx must be an int in \[0, 6\)"):
        explore_latent_dimension(gan, dim_idx=6)
    with pytest.raises(ValueError, match="pass rngs"):
        explore_latent_dimension(gan.generator, dim_idx=0)


def test_class_wise_generation(cgan, gan):
    @nnx.jit
    def run(model):
        one_class = generate_by_class(model, 2, num_samples=3, rngs=nnx.Rngs(sample=1))
        z = jax.random.normal(nnx.Rngs(sample=1).sample(), (3, 8))
        direct = model.generator(z, jnp.full((3,), 2), training=False)
        grid, labels = generate_class_grid(model, samples_per_class=2, rngs=nnx.Rngs(sample=3))
        path = interpolate(model, z[0], z[1], num_steps=3, labels=2)
        return one_class, direct, grid, labels, path

    one_class, direct, grid, labels, path = run(cgan)
    np.testing.assert_allclose(path[0], direct[0], rtol=1e-5, atol=1e-6)  # z[0] with class 2
    np.testing.assert_allclose(path[-1], direct[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(one_class, direct, rtol=1e-5, atol=1e-6)
    assert grid.shape == (6, 1, 8, 8)
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 2, 2])
    assert not np.allclose(grid[0], grid[2])  # same latent, another class
    with pytest.raises(ValueError, match=r"class_id must be an int in \[0, 3\)"):
        generate_by_class(cgan, 3)
    with pytest.raises(TypeError, match="conditional"):
        generate_by_class(gan, 0)
