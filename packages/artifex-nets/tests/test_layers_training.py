"""One optimizer step through a tiny model built from the layers."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from artifex.generative_models.nets.layers import (
    AdaptiveInstanceNorm,
    EqualizedConv,
    EqualizedLinear,
    MinibatchStdDev,
    NoiseInjection,
    PixelNorm,
    SpectralNorm,
    SpectralNormStat,
)


class TinyModel(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.conv = SpectralNorm(nnx.Conv(4, 4, (3, 3), rngs=rngs), rngs=rngs)
        self.noise = NoiseInjection(4, rngs=rngs)
        self.pixel_norm = PixelNorm()
        self.style = EqualizedLinear(3, 3, lr_multiplier=0.1, rngs=rngs)
        self.adain = AdaptiveInstanceNorm(4, 3, rngs=rngs)
        self.minibatch_std = MinibatchStdDev(group_size=2)
        self.equalized = EqualizedConv(5, 4, 3, rngs=rngs)
        self.head = SpectralNorm(nnx.Linear(4, 3, rngs=rngs), rngs=rngs)

    def __call__(self, x, z):
        h = self.pixel_norm(self.noise(self.conv(x)))
        h = self.adain(h, self.style(z))
        h = self.equalized(self.minibatch_std(h))
        return self.head(jnp.mean(h, axis=(1, 2)))


def test_one_adam_step_updates_params_and_leaves_spectral_state_to_the_forward_pass():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, 4, 4, 4)), jnp.float32)
    z = jnp.asarray(rng.normal(size=(2, 3)), jnp.float32)
    model = TinyModel(nnx.Rngs(0, noise=1))
    model.noise.weight[...] = jnp.full((4,), 0.1)
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)

    params_before = jax.tree.map(np.asarray, nnx.state(model, nnx.Param))
    u_before = [np.asarray(model.conv.u[...]), np.asarray(model.head.u[...])]

    # Compiled whole: op-by-op dispatch of this many small ops compiles each one on CPU.
    @nnx.jit
    def loss_and_grads(model, x, z):
        return nnx.value_and_grad(lambda m: jnp.mean((m(x, z) - 1.0) ** 2))(model)

    @nnx.jit
    def apply_update(optimizer, model, grads):
        optimizer.update(model, grads)

    loss, grads = loss_and_grads(model, x, z)
    spectral_after_forward = jax.tree.map(np.asarray, nnx.state(model, SpectralNormStat))
    u_after_forward = [np.asarray(model.conv.u[...]), np.asarray(model.head.u[...])]
    apply_update(optimizer, model, grads)

    assert np.isfinite(float(loss))
    # The gradients are Params only; the spectral state was written by the forward pass ...
    assert not jax.tree.leaves(nnx.state(grads, SpectralNormStat))
    for before, after in zip(u_before, u_after_forward, strict=True):
        assert not np.allclose(before, after)
    # ... and not by the optimizer.
    for after_forward, after_step in zip(
        jax.tree.leaves(spectral_after_forward),
        jax.tree.leaves(nnx.state(model, SpectralNormStat)),
        strict=True,
    ):
        np.testing.assert_array_equal(after_forward, np.asarray(after_step))

    params_after = nnx.state(model, nnx.Param)
    for leaf in jax.tree.leaves(params_after):
        assert np.all(np.isfinite(np.asarray(leaf)))
    for before, after in zip(
        jax.tree.leaves(params_before), jax.tree.leaves(params_after), strict=True
    ):
        assert not np.array_equal(before, np.asarray(after))
    # Adam's first step moves the raw spectral-norm kernel by lr * sign(gradient).
    step = np.asarray(model.conv.layer.kernel[...]) - params_before["conv"]["layer"]["kernel"][...]
    gradient = np.asarray(grads["conv"]["layer"]["kernel"][...])
    significant = np.abs(gradient) > 1e-6
    np.testing.assert_allclose(step[significant], -1e-3 * np.sign(gradient[significant]), rtol=1e-2)
