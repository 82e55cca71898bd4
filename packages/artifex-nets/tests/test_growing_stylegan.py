"""StyleGAN networks: seed shapes, style mixing, noise and mode, discriminator, training, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ProgressiveDiscriminatorConfig,
    StyleGANGeneratorConfig,
)
from artifex.generative_models.nets import (
    MappingNetwork,
    StyleConvBlock,
    StyleGANDiscriminator,
    StyleGANGenerator,
)

RNG = np.random.default_rng(3)
LATENT = 4
# 4x4 -> 16x16: three style blocks of 4 channels (one channel count keeps compiles few).
SMALL = {
    "latent_dim": LATENT,
    "style_dim": 4,
    "image_size": 16,
    "max_channels": 4,
    "min_channels": 4,
    "mapping_layers": 2,
}
DISCRIMINATOR = {"image_size": 16, "max_channels": 4}


@pytest.fixture(scope="module", autouse=True)
def fast_random_compilation():
    # Partitionable threefry makes XLA:CPU compile every new random-init shape ~6x slower;
    # these tests do not depend on the random bits. Restored for other modules.
    previous = jax.config.jax_threefry_partitionable
    jax.config.update("jax_threefry_partitionable", False)
    yield
    jax.config.update("jax_threefry_partitionable", previous)


def normal(*shape):
    return jnp.asarray(RNG.normal(size=shape), jnp.float32)


def with_state_of(source, make):
    """The module ``make`` builds, holding ``source``'s state (nothing is initialised)."""
    model = nnx.eval_shape(make)
    nnx.update(model, nnx.state(source))
    return model


def optimizer_step(model, loss_fn):
    """One compiled Adam step; returns (loss, changed, has_gradient) per parameter leaf."""
    before = [np.asarray(v) for v in jax.tree.leaves(nnx.state(model, nnx.Param))]
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)

    @nnx.jit
    def step(model, optimizer):
        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss, grads

    loss, grads = step(model, optimizer)
    after = [np.asarray(v) for v in jax.tree.leaves(nnx.state(model, nnx.Param))]
    has_gradient = [bool(np.any(np.asarray(g) != 0)) for g in jax.tree.leaves(grads)]
    assert all(np.all(np.isfinite(a)) for a in after)
    changed = [not np.array_equal(a, b) for a, b in zip(after, before, strict=True)]
    return float(loss), changed, has_gradient


@pytest.fixture(scope="module")
def generator(fast_random_compilation):
    return StyleGANGenerator(**SMALL, rngs=nnx.Rngs(params=0))


@pytest.fixture(scope="module")
def discriminator(fast_random_compilation):
    return StyleGANDiscriminator(**DISCRIMINATOR, rngs=nnx.Rngs(params=1))


def test_seed_001_generator_makes_256x256_rgb_images():
    generator = nnx.eval_shape(
        lambda: StyleGANGenerator(latent_dim=512, style_dim=512, image_size=256, rngs=nnx.Rngs(42))
    )
    assert generator.num_blocks == len(generator.style_blocks) == 7
    # The example's channels: 512 // 2**min(i, 3).
    assert generator.config.block_channels == (512, 256, 128, 64, 64, 64, 64)
    z = jax.ShapeDtypeStruct((2, 512), jnp.float32)
    images = nnx.eval_shape(lambda m, v: m(v), generator, z)
    assert images.shape == (2, 256, 256, 3)
    mixed = nnx.eval_shape(lambda m, a, b: m.style_mixing(a, b, 3), generator, z, z)
    assert mixed.shape == (2, 256, 256, 3)


def test_generator_shape_range_and_nchw(generator):
    z = normal(2, LATENT)
    images = generator(z, training=False)
    assert images.shape == (2, 16, 16, 3)
    assert np.all(np.abs(np.asarray(images)) <= 1.0)
    nchw = with_state_of(
        generator, lambda: StyleGANGenerator(**SMALL, data_format="NCHW", rngs=nnx.Rngs(5))
    )
    np.testing.assert_allclose(
        np.asarray(nnx.jit(lambda m, v: m(v, training=False))(nchw, z)),
        np.transpose(np.asarray(images), (0, 3, 1, 2)),
        atol=1e-5,
    )


def test_style_mixing_ends_are_the_single_codes_without_noise(generator):
    z1, z2 = normal(2, LATENT), normal(2, LATENT)
    generator.eval()  # no noise
    try:
        from_z1, from_z2 = np.asarray(generator(z1)), np.asarray(generator(z2))
        np.testing.assert_array_equal(np.asarray(generator.style_mixing(z1, z2, 0)), from_z2)
        np.testing.assert_array_equal(
            np.asarray(generator.style_mixing(z1, z2, generator.num_blocks)), from_z1
        )
        middle = np.asarray(generator.style_mixing(z1, z2, 1))
        assert not np.allclose(middle, from_z1, atol=1e-4)
        assert not np.allclose(middle, from_z2, atol=1e-4)
    finally:
        generator.train()


def test_style_mixing_with_noise_injection_off_in_training_mode():
    generator = StyleGANGenerator(**SMALL, use_noise_injection=False, rngs=nnx.Rngs(params=0))
    assert all(block.noise is None for block in generator.style_blocks)
    z1, z2 = normal(2, LATENT), normal(2, LATENT)
    np.testing.assert_array_equal(
        np.asarray(generator.style_mixing(z1, z2, 0, training=True)),
        np.asarray(generator(z2, training=True)),
    )


def test_style_mixing_under_jit_with_a_traced_layer_equals_eager(generator):
    z1, z2 = normal(2, LATENT), normal(2, LATENT)
    eager = generator.style_mixing(z1, z2, 2, training=False)
    compiled = nnx.jit(lambda m, a, b, k: m.style_mixing(a, b, k, training=False))(
        generator, z1, z2, jnp.int32(2)
    )
    np.testing.assert_allclose(np.asarray(compiled), np.asarray(eager), atol=1e-5)


def test_noise_is_added_in_training_only_and_follows_the_rngs(generator):
    generator = with_state_of(generator, lambda: StyleGANGenerator(**SMALL, rngs=nnx.Rngs(0)))
    for block in generator.style_blocks:  # the learned strengths start at zero
        block.noise.weight[...] = jnp.ones_like(block.noise.weight[...])
    z = normal(2, LATENT)
    a = np.asarray(generator(z, rngs=nnx.Rngs(noise=1), training=True))
    b = np.asarray(generator(z, rngs=nnx.Rngs(noise=1), training=True))
    c = np.asarray(generator(z, rngs=nnx.Rngs(noise=2), training=True))
    own = np.asarray(generator(z, training=True))  # the blocks' own streams
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c, atol=1e-4)
    assert not np.allclose(own, a, atol=1e-4)
    generator.eval()
    quiet = np.asarray(generator(z, rngs=nnx.Rngs(noise=1)))
    np.testing.assert_array_equal(quiet, np.asarray(generator(z, rngs=nnx.Rngs(noise=2))))
    assert not np.allclose(quiet, a, atol=1e-4)


def test_style_conv_block_upsamples_and_takes_explicit_noise():
    block = StyleConvBlock(4, 4, 4, rngs=nnx.Rngs(0), upsample=True)
    x, style = normal(2, 4, 4, 4), normal(2, 4)
    assert block(x, style, training=False).shape == (2, 8, 8, 4)
    block.noise.weight[...] = jnp.ones((4,))
    noise = normal(2, 8, 8, 1)
    with_noise = block(x, style, noise=noise)
    np.testing.assert_array_equal(np.asarray(with_noise), np.asarray(block(x, style, noise=noise)))
    assert not np.allclose(np.asarray(with_noise), np.asarray(block(x, style, training=False)))
    with pytest.raises(
        ValueError, match=r"StyleConvBlock expects NHWC maps \(batch, H, W, 4\), got \(2, 4, 4, 8\)"
    ):
        block(normal(2, 4, 4, 8), style)


def test_mapping_network_is_a_leaky_relu_mlp():
    mapping = MappingNetwork(
        LATENT, 4, 1, rngs=nnx.Rngs(0), use_equalized_lr=False, normalize_latent=False
    )
    z = normal(3, LATENT)
    layer = mapping.layers[0]
    expected = jax.nn.leaky_relu(z @ layer.kernel[...] + layer.bias[...], 0.2)
    np.testing.assert_allclose(np.asarray(mapping(z)), np.asarray(expected), atol=1e-6)
    equalized = MappingNetwork(LATENT, 4, 2, rngs=nnx.Rngs(0))
    assert equalized.layers[0].lr_multiplier == 0.01
    assert equalized(z).shape == (3, 4)
    with pytest.raises(
        ValueError, match=r"MappingNetwork expects z of shape \(batch, 4\), got \(3, 5\)"
    ):
        mapping(normal(3, 5))


def test_synthesize_takes_one_style_or_one_per_block(generator):
    w = generator.mapping(normal(2, LATENT))
    one = generator.synthesize(w, training=False)
    per_block = generator.synthesize(jnp.stack([w] * generator.num_blocks, axis=1), training=False)
    np.testing.assert_array_equal(np.asarray(one), np.asarray(per_block))
    with pytest.raises(
        ValueError,
        match=r"StyleGANGenerator.synthesize expects styles of shape \(batch, 3, 4\), "
        r"got \(2, 2, 4\)",
    ):
        generator.synthesize(jnp.zeros((2, 2, 4)))


def test_discriminator_scores_and_layouts(discriminator):
    assert discriminator.config.num_stages == 3
    assert discriminator.input_shape == (16, 16, 3)
    x = normal(2, 16, 16, 3)
    logits = discriminator.logits(x, training=False)
    assert logits.shape == (2, 1)
    np.testing.assert_array_equal(np.asarray(discriminator(x, training=False)), np.asarray(logits))
    nchw = with_state_of(
        discriminator,
        lambda: StyleGANDiscriminator(
            **DISCRIMINATOR, data_format="NCHW", score_type="probabilities", rngs=nnx.Rngs(3)
        ),
    )
    np.testing.assert_allclose(
        np.asarray(nchw(jnp.transpose(x, (0, 3, 1, 2)), training=False)),
        np.asarray(jax.nn.sigmoid(logits)),
        atol=1e-5,
    )


def test_discriminator_from_the_progressive_config_and_the_keyword_default():
    config = ProgressiveDiscriminatorConfig(max_channels=4, num_stages=3)
    from_config = nnx.eval_shape(lambda: StyleGANDiscriminator(config=config, rngs=nnx.Rngs(0)))
    assert from_config.input_shape == (16, 16, 3)
    assert len(from_config.blocks) == 2
    default = nnx.eval_shape(lambda: StyleGANDiscriminator(rngs=nnx.Rngs(0)))
    assert default.input_shape == StyleGANGeneratorConfig().output_shape == (256, 256, 3)


def test_jit_equals_eager(generator, discriminator):
    z = normal(2, LATENT)
    eager = discriminator(generator(z, training=False), training=False)
    compiled = nnx.jit(lambda g, d, v: d(g(v, training=False), training=False))(
        generator, discriminator, z
    )
    np.testing.assert_allclose(np.asarray(compiled), np.asarray(eager), atol=1e-5)


@pytest.mark.parametrize("network", ["generator", "discriminator"])
def test_one_optimizer_step_changes_the_params_and_keeps_them_finite(
    network, generator, discriminator
):
    z = normal(4, LATENT)
    target = jnp.tanh(normal(4, 16, 16, 3))
    if network == "generator":
        model = with_state_of(generator, lambda: StyleGANGenerator(**SMALL, rngs=nnx.Rngs(0)))
        # Training mode: the noise strengths get gradients too.
        loss_fn = lambda m: jnp.mean((m(z, training=True) - target) ** 2)  # noqa: E731
    else:
        model = with_state_of(
            discriminator, lambda: StyleGANDiscriminator(**DISCRIMINATOR, rngs=nnx.Rngs(0))
        )
        fake = jnp.tanh(normal(4, 16, 16, 3))
        loss_fn = lambda m: jnp.mean(  # noqa: E731
            jax.nn.softplus(m(fake)) + jax.nn.softplus(-m(target))
        )
    loss, changed, has_gradient = optimizer_step(model, loss_fn)
    assert np.isfinite(loss)
    assert changed == has_gradient
    assert all(has_gradient)


def test_errors_name_expected_and_got(generator, discriminator):
    z = normal(2, LATENT)
    with pytest.raises(
        ValueError, match=r"mix_layer must be an int in \[0, 3\] \(num_blocks\), got 4"
    ):
        generator.style_mixing(z, z, 4)
    with pytest.raises(
        ValueError, match=r"style_mixing expects z2 of the shape of z1 \(2, 4\), got \(3, 4\)"
    ):
        generator.style_mixing(z, normal(3, LATENT), 1)
    with pytest.raises(
        ValueError, match=r"StyleGANGenerator expects z of shape \(batch, 4\), got \(4,\)"
    ):
        generator(jnp.zeros((4,)))
    with pytest.raises(ValueError, match=r"rngs given to a call must have a 'noise' or 'default'"):
        generator(z, rngs=nnx.Rngs(params=0))
    with pytest.raises(ValueError, match=r"image_size=24: must be start_size \* 2\*\*k"):
        StyleGANGenerator(**{**SMALL, "image_size": 24}, rngs=nnx.Rngs(0))
    with pytest.raises(
        ValueError, match=r"StyleGANDiscriminator: image_size=24 must be start_size"
    ):
        StyleGANDiscriminator(image_size=24, rngs=nnx.Rngs(0))
    with pytest.raises(
        ValueError, match=r"image_size=16 means num_stages=3 .* num_stages=4 was given"
    ):
        StyleGANDiscriminator(image_size=16, num_stages=4, rngs=nnx.Rngs(0))
    with pytest.raises(
        ValueError,
        match=r"StyleGANDiscriminator expects images of shape \(batch, 16, 16, 3\), "
        r"got \(2, 3, 16, 16\)",
    ):
        discriminator.logits(jnp.zeros((2, 3, 16, 16)))
