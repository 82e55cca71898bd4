"""``DCGAN``: construction styles, layouts, 28x28 and 64x64 training with BatchNorm."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    DCGANConfig,
    DCGANConfiguration,
    ModelConfig,
)
from artifex.generative_models.models.gan import (
    DCGAN,
    DCGANDiscriminator,
    DCGANGenerator,
)


def rngs():
    return nnx.Rngs(params=0, dropout=1, sample=2)


@pytest.fixture(scope="module")
def legacy(tiny):
    """Seed 003's ``DCGANConfiguration`` (channels-first), tiny."""
    config = DCGANConfiguration(
        image_size=16,
        channels=3,
        latent_dim=8,
        gen_hidden_dims=(8, 4),
        disc_hidden_dims=(4, 8),
        loss_type="vanilla",
    )
    with tiny.fast_prng_scope():
        return DCGAN(config, rngs=nnx.Rngs(params=0, dropout=1, sample=2))


def test_typed_config_style(tiny):
    dcgan = tiny.abstract(lambda: DCGAN(config=tiny.dcgan_config((28, 28, 1)), rngs=rngs()))
    assert isinstance(dcgan.config, DCGANConfig)
    assert isinstance(dcgan.generator, DCGANGenerator)
    assert isinstance(dcgan.discriminator, DCGANDiscriminator)
    assert dcgan.discriminator.score_type == "probabilities"
    assert dcgan.sample_shape == (28, 28, 1)
    assert tiny.shape_of(lambda m: m.generate(3), dcgan) == (3, 28, 28, 1)  # (H, W, C): NHWC


def test_legacy_styles_are_channels_first(legacy, tiny):
    assert isinstance(legacy.config, DCGANConfig)
    assert legacy.sample_shape == (3, 16, 16)
    assert legacy.config.discriminator.use_spectral_norm  # the DCGAN keyword default
    model_config = tiny.abstract(
        lambda: DCGAN(
            ModelConfig(input_dim=8, output_dim=(3, 16, 16), hidden_dims=[8, 4]), rngs=rngs()
        )
    )
    assert model_config.sample_shape == (3, 16, 16)
    assert tiny.shape_of(lambda m: m.generate(2), model_config) == (2, 3, 16, 16)


def test_generate_eager_equals_jit_in_the_declared_layout(legacy):
    eager = legacy.generate(n_samples=4, rngs=nnx.Rngs(sample=0))
    jitted = nnx.jit(lambda m: m.generate(n_samples=4, rngs=nnx.Rngs(sample=0)))(legacy)
    assert eager.shape == (4, 3, 16, 16)  # (C, H, W) declared: NCHW out
    np.testing.assert_allclose(eager, jitted, rtol=1e-5, atol=1e-6)
    dcgan = nnx.clone(legacy)
    dcgan.eval()
    again = dcgan.generate(n_samples=4, rngs=nnx.Rngs(sample=0))
    np.testing.assert_allclose(again, eager, rtol=1e-5, atol=1e-6)


def test_loss_fn_eager_equals_jit_with_spectral_norm(legacy, tiny):
    dcgan = nnx.clone(legacy)
    dcgan.eval()  # spectral-norm vectors and BatchNorm statistics stay put
    real = tiny.images((3, 16, 16))
    eager = dcgan.loss_fn(real, None, rngs=nnx.Rngs(sample=1))
    jitted = nnx.jit(lambda m, x: m.loss_fn(x, None, rngs=nnx.Rngs(sample=1)))(dcgan, real)
    for name in eager:
        np.testing.assert_allclose(eager[name], jitted[name], rtol=1e-5, atol=1e-6)


def test_one_step_at_28x28_nhwc_with_batchnorm_discriminator(tiny):
    dcgan = DCGAN(tiny.dcgan_config((28, 28, 1), disc_batch_norm=True), rngs=rngs())
    assert any("BatchNorm" in type(m).__name__ for _, m in nnx.iter_graph(dcgan.discriminator))
    tiny.assert_trained(tiny.optimizer_step(dcgan, tiny.images((28, 28, 1))))


def test_one_step_at_64x64_nchw_with_batchnorm_discriminator(tiny):
    dcgan = DCGAN(tiny.dcgan_config((3, 64, 64), disc_batch_norm=True), rngs=rngs())
    assert dcgan.sample_shape == (3, 64, 64)
    tiny.assert_trained(tiny.optimizer_step(dcgan, tiny.images((3, 64, 64), batch=2)))


def test_layout_mixups_and_wrong_configs_are_refused(legacy, tiny):
    with pytest.raises(ValueError, match=r"\(batch, 3, 16, 16\) \(NCHW\), got \(2, 16, 16, 3\)"):
        legacy.loss_fn(jnp.zeros((2, 16, 16, 3)), None)
    with pytest.raises(TypeError, match="DCGANConfig"):
        DCGAN(tiny.mlp_config(), rngs=rngs())
    with pytest.raises(TypeError, match="DCGANConfiguration configures a DCGAN"):
        from artifex.generative_models.models.gan import WGAN

        WGAN(DCGANConfiguration(image_size=16, channels=3), rngs=rngs())
