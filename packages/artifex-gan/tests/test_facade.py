"""The facade re-exports everything the seed documents import from it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import artifex.generative_models.models.gan as facade
from artifex.generative_models import nets
from artifex.generative_models.core.configuration import ModelConfig

SEED_IMPORTS = (
    # seed 000 (user guide)
    "Generator",
    "Discriminator",
    "GAN",
    "DCGAN",
    "WGAN",
    "compute_gradient_penalty",
    "LSGAN",
    "ConditionalGAN",
    "ConditionalGenerator",
    "ConditionalDiscriminator",
    "CycleGAN",
    "PatchGANDiscriminator",
    "MultiScalePatchGANDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    # seed 003 (API reference)
    "WGANGenerator",
    "WGANDiscriminator",
    "LSGANGenerator",
    "LSGANDiscriminator",
    "CycleGANGenerator",
    "CycleGANDiscriminator",
)
MODELS = ("GAN", "DCGAN", "WGAN", "LSGAN", "ConditionalGAN", "StyleGAN", "ProgressiveGAN")


@pytest.mark.parametrize("name", SEED_IMPORTS)
def test_seed_imports_resolve(name):
    assert name in facade.__all__
    assert getattr(facade, name) is not None


def test_all_is_exact_and_models_share_the_base():
    for name in facade.__all__:
        assert hasattr(facade, name), name
    for name in MODELS:
        assert issubclass(getattr(facade, name), facade.GAN)
    assert not issubclass(facade.CycleGAN, facade.GAN)  # four networks, its own objective


def test_networks_are_the_nets_package_classes():
    from artifex.generative_models.nets.dcgan import DCGANGenerator
    from artifex.generative_models.nets.mlp import Generator

    assert facade.Generator is Generator is nets.Generator
    assert facade.DCGANGenerator is DCGANGenerator


def test_every_model_has_a_hashable_static_graph(tiny):
    def rngs():
        return nnx.Rngs(params=0, sample=1, dropout=2)

    builds = {
        "GAN": lambda: facade.GAN(tiny.mlp_config(), rngs=rngs()),
        "DCGAN": lambda: facade.DCGAN(tiny.dcgan_config(), rngs=rngs()),
        "WGAN": lambda: facade.WGAN(tiny.wgan_config(), rngs=rngs()),
        "LSGAN": lambda: facade.LSGAN(tiny.lsgan_config(), rngs=rngs()),
        "ConditionalGAN": lambda: facade.ConditionalGAN(tiny.conditional_config(), rngs=rngs()),
        "CycleGAN": lambda: facade.CycleGAN(tiny.cyclegan_config(), rngs=rngs()),
        "StyleGAN": lambda: facade.StyleGAN(tiny.stylegan_config(), rngs=rngs()),
        "ProgressiveGAN": lambda: facade.ProgressiveGAN(tiny.progressive_config(), rngs=rngs()),
    }
    for name, build in builds.items():
        model = tiny.abstract(build)
        assert type(model).__name__ == name
        graphdef, _ = nnx.split(model)
        hash(graphdef)  # nnx.jit's cache key: configs are frozen and hashable
        hash(model.config)


@pytest.mark.default_prng
def test_models_work_with_the_default_prng():
    # The rest of the suite runs with the rbg PRNG; keys of the default one work too.
    config = ModelConfig(
        input_dim=4,
        output_dim=4,
        hidden_dims=[4],
        metadata={"gan_params": {"loss_type": "wasserstein", "gradient_penalty_weight": 1.0}},
    )
    gan = facade.GAN(config, rngs=nnx.Rngs(params=0, sample=1))
    real = jnp.ones((2, 4))

    @nnx.jit
    def run(model, real):
        losses = model.loss_fn(real, None, rngs=nnx.Rngs(sample=0))
        penalty = facade.compute_gradient_penalty(
            model.discriminator, real, -real, rngs=jax.random.key(0), lambda_gp=1.0
        )
        return losses["discriminator_loss"], penalty, model.generate(2), model.generate(2)

    loss, penalty, first, second = run(gan, real)
    assert np.isfinite(float(loss)) and float(penalty) > 0
    assert first.shape == (2, 4) and not np.allclose(first, second)
