"""One optimizer step of every GAN family at 28x28 NHWC and at 64x64 NCHW.

Both image sizes and both layouts, for every family, with BatchNorm in the
discriminators wherever the family allows it: the step must change the parameters of
both networks and keep them finite. Tiny channel counts keep it affordable on a CPU.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ConditionalDiscriminatorConfig,
    ConditionalGANConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    CycleGANConfig,
    CycleGANGeneratorConfig,
    DCGANConfig,
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    LSGANConfig,
    PatchGANDiscriminatorConfig,
    WGANConfig,
)
from artifex.generative_models.models.gan import (
    DCGAN,
    GAN,
    LSGAN,
    WGAN,
    ConditionalGAN,
    CycleGAN,
)

SHAPES = {"28x28-NHWC": (28, 28, 1), "64x64-NCHW": (3, 64, 64)}
LABELS = ConditionalParams(num_classes=3, embedding_dim=4)


def conv(shape, **disc):
    return {
        "generator": ConvGeneratorConfig(hidden_dims=(8, 4, 4), output_shape=shape, latent_dim=8),
        "discriminator": ConvDiscriminatorConfig(
            hidden_dims=(4, 8), input_shape=shape, **{"batch_norm": True, **disc}
        ),
    }


FAMILIES = {
    "gan": lambda s: GAN(
        GANConfig(
            generator=GeneratorConfig(hidden_dims=(16,), output_shape=s, latent_dim=8),
            discriminator=DiscriminatorConfig(hidden_dims=(16,), input_shape=s, batch_norm=True),
        ),
        rngs=nnx.Rngs(0),
    ),
    "dcgan": lambda s: DCGAN(DCGANConfig(**conv(s)), rngs=nnx.Rngs(0)),
    "wgan": lambda s: WGAN(WGANConfig(**conv(s)), rngs=nnx.Rngs(0)),
    "lsgan": lambda s: LSGAN(LSGANConfig(**conv(s)), rngs=nnx.Rngs(0)),
    "conditional": lambda s: ConditionalGAN(
        ConditionalGANConfig(
            generator=ConditionalGeneratorConfig(
                hidden_dims=(8, 4, 4), output_shape=s, latent_dim=8, conditional=LABELS
            ),
            discriminator=ConditionalDiscriminatorConfig(
                hidden_dims=(4, 8), input_shape=s, batch_norm=True, conditional=LABELS
            ),
        ),
        rngs=nnx.Rngs(0),
    ),
    "cyclegan": lambda s: CycleGAN(
        CycleGANConfig(
            generator={
                name: CycleGANGeneratorConfig(
                    hidden_dims=(4, 8), input_shape=s, output_shape=s, n_residual_blocks=1
                )
                for name in ("a_to_b", "b_to_a")
            },
            discriminator={
                name: PatchGANDiscriminatorConfig(
                    hidden_dims=(4, 8), input_shape=s, batch_norm=True, use_instance_norm=False
                )
                for name in ("disc_a", "disc_b")
            },
            input_shape_a=s,
            input_shape_b=s,
        ),
        rngs=nnx.Rngs(0),
    ),
}


def params_of(module):
    return [np.array(x) for x in jax.tree.leaves(nnx.state(module, nnx.Param))]


def step(network, loss, *others):
    """One Adam step of ``network`` on ``loss(network, *others)``; parameters before, after.

    Modules the loss uses but does not train are arguments, not closures: Flax NNX lets a
    transformed function update (batch statistics of) only the modules passed to it.
    """
    before = params_of(network)
    optimizer = nnx.Optimizer(network, optax.adam(1e-2), wrt=nnx.Param)
    value, grads = nnx.value_and_grad(loss)(network, *others)
    optimizer.update(network, grads)
    assert np.isfinite(float(value))
    return before, params_of(network)


def assert_trained(before, after):
    assert all(np.all(np.isfinite(a)) for a in after)
    assert any(not np.allclose(b, a) for b, a in zip(before, after, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("shape_id", list(SHAPES))
@pytest.mark.parametrize("family", list(FAMILIES))
def test_one_step_of_both_networks(family, shape_id):
    shape = SHAPES[shape_id]
    model = FAMILIES[family](shape)
    real = jnp.tanh(jax.random.normal(jax.random.key(0), (2, *shape)))
    if family == "cyclegan":
        generator, discriminator = model.generator_a_to_b, model.discriminator_b

        def generate(g):
            return g(real, training=True)

        def critic(d, x):
            return d.logits(x, training=True)
    else:
        generator, discriminator = model.generator, model.discriminator
        z = jax.random.normal(jax.random.key(1), (2, model.latent_dim))
        labels = jnp.array([0, 2]) if family == "conditional" else None

        def generate(g):
            return g(z, training=True) if labels is None else g(z, labels, training=True)

        def critic(d, x):
            return (
                d.logits(x, training=True) if labels is None else d.logits(x, labels, training=True)
            )

    fake = jax.lax.stop_gradient(generate(generator))
    assert fake.shape == real.shape  # the declared layout comes back
    assert_trained(*step(discriminator, lambda d: jnp.mean(critic(d, real) - critic(d, fake))))
    assert_trained(*step(generator, lambda g, d: -jnp.mean(critic(d, generate(g))), discriminator))
