"""Progressive GAN networks: stages, fade-in, layouts, modes, one training step, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ProgressiveDiscriminatorConfig,
    ProgressiveGeneratorConfig,
)
from artifex.generative_models.nets import (
    ProgressiveConvBlock,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
)

RNG = np.random.default_rng(2)
LATENT = 4
# Stages at 4x4, 8x8 and 16x16 with 4, 2 and 1 channels.
LADDER = {"max_channels": 4, "num_stages": 3}


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


def upsample_reference(x):
    return np.repeat(np.repeat(np.asarray(x), 2, axis=1), 2, axis=2)


def pool_reference(x):
    x = np.asarray(x)
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def with_state_of(source, make):
    """The module ``make`` builds, holding ``source``'s weights (nothing is initialised)."""
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
    return ProgressiveGenerator(latent_dim=LATENT, **LADDER, rngs=nnx.Rngs(params=0))


@pytest.fixture(scope="module")
def discriminator(fast_random_compilation):
    return ProgressiveDiscriminator(**LADDER, rngs=nnx.Rngs(params=1))


@pytest.fixture(autouse=True)
def back_to_stage_zero(generator, discriminator):
    yield
    generator.set_stage(0)
    discriminator.set_stage(0)


def test_seed_001_keyword_construction_reads_the_config():
    g = nnx.eval_shape(
        lambda: ProgressiveGenerator(
            latent_dim=512, max_channels=512, num_stages=6, rngs=nnx.Rngs(0)
        )
    )
    d = nnx.eval_shape(
        lambda: ProgressiveDiscriminator(max_channels=512, num_stages=6, rngs=nnx.Rngs(0))
    )
    assert g.current_stage == d.current_stage == 0
    assert g.config.final_resolution == d.config.final_resolution == 128
    g.set_stage(5)
    assert g.output_shape == (128, 128, 3)
    assert [layer.out_features for layer in d.from_rgb_layers] == [512, 256, 128, 64, 32, 16]


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_shapes_at_each_stage(generator, discriminator, stage):
    generator.set_stage(stage)
    discriminator.set_stage(stage)
    size = 4 * 2**stage
    z = normal(3, LATENT)
    fake = nnx.jit(lambda m, v: m(v, alpha=0.5))(generator, z)
    assert fake.shape == (3, size, size, 3)
    assert np.all(np.abs(np.asarray(fake)) <= 1.0)
    scores = nnx.jit(lambda m, v: m(v, alpha=0.5))(discriminator, fake)
    assert scores.shape == (3, 1)


def test_generator_alpha_one_is_the_no_blend_path_and_alpha_zero_the_previous_stage(generator):
    z = normal(2, LATENT)
    generator.set_stage(1)
    previous = generator(z)
    generator.set_stage(2)
    no_blend = generator(z)  # alpha=1.0, a Python number: the fade-in is skipped
    blended_at_one = generator(z, alpha=jnp.asarray(1.0))  # the blending arithmetic
    np.testing.assert_allclose(np.asarray(blended_at_one), np.asarray(no_blend), atol=1e-6)
    at_zero = generator(z, alpha=0.0)
    np.testing.assert_allclose(np.asarray(at_zero), upsample_reference(previous), atol=1e-6)
    assert not np.allclose(np.asarray(at_zero), np.asarray(no_blend), atol=1e-3)
    # In between, the RGB values (before tanh) are blended linearly.
    mid = generator(z, alpha=0.3)
    np.testing.assert_allclose(
        np.arctanh(np.asarray(mid, np.float64)),
        0.3 * np.arctanh(np.asarray(no_blend, np.float64))
        + 0.7 * np.arctanh(np.asarray(at_zero, np.float64)),
        atol=1e-4,
    )


def test_discriminator_alpha_one_is_the_no_blend_path_and_alpha_zero_the_previous_stage(
    discriminator,
):
    x = normal(4, 16, 16, 3)
    discriminator.set_stage(1)
    previous = discriminator(jnp.asarray(pool_reference(x)))
    discriminator.set_stage(2)
    no_blend = discriminator(x)
    np.testing.assert_allclose(
        np.asarray(discriminator(x, alpha=jnp.asarray(1.0))), np.asarray(no_blend), atol=1e-5
    )
    np.testing.assert_allclose(
        np.asarray(discriminator(x, alpha=0.0)), np.asarray(previous), atol=1e-5
    )
    assert not np.allclose(np.asarray(no_blend), np.asarray(previous), atol=1e-4)


def test_discriminator_channels_follow_the_config_order(discriminator):
    cfg = discriminator.config
    assert cfg.stage_channels == (4, 2, 1)
    assert [c.out_features for c in discriminator.from_rgb_layers] == [4, 2, 1]
    # blocks[0] reads the highest resolution (the example's order).
    assert [(b.in_channels, b.out_channels) for b in discriminator.blocks] == [(1, 2), (2, 4)]


def test_nchw_layout_in_and_out(generator, discriminator):
    g = with_state_of(
        generator,
        lambda: ProgressiveGenerator(
            latent_dim=LATENT, **LADDER, data_format="NCHW", rngs=nnx.Rngs(3)
        ),
    )
    d = with_state_of(
        discriminator,
        lambda: ProgressiveDiscriminator(**LADDER, data_format="NCHW", rngs=nnx.Rngs(4)),
    )
    for model in (g, d, generator, discriminator):
        model.set_stage(1)
    z = normal(2, LATENT)
    run = nnx.jit(lambda m, v: m(v, alpha=0.5))
    images = run(g, z)
    assert images.shape == (2, 3, 8, 8)
    nhwc = np.asarray(run(generator, z))
    np.testing.assert_allclose(np.asarray(images), np.transpose(nhwc, (0, 3, 1, 2)), atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(run(d, images)), np.asarray(run(discriminator, jnp.asarray(nhwc))), atol=1e-5
    )


@pytest.mark.parametrize("batch", [1, 6])
def test_minibatch_std_works_for_any_batch_size(discriminator, batch):
    scores = nnx.jit(lambda m, v: m(v))(discriminator, normal(batch, 4, 4, 3))
    assert scores.shape == (batch, 1)
    assert np.all(np.isfinite(np.asarray(scores)))


@pytest.mark.parametrize("options", [{"use_equalized_lr": True}, {"use_spectral_norm": True}])
def test_equalized_lr_and_spectral_norm_variants_trace(options):
    # Traced only (no compilation): the wiring of the variant layers, at stage 1 with fade-in.
    d = nnx.eval_shape(lambda: ProgressiveDiscriminator(**LADDER, **options, rngs=nnx.Rngs(0)))
    d.set_stage(1)
    images = jax.ShapeDtypeStruct((2, 8, 8, 3), jnp.float32)
    assert nnx.eval_shape(lambda m, v: m(v, alpha=0.5), d, images).shape == (2, 1)
    if "use_equalized_lr" in options:
        assert type(d.from_rgb_layers[0]).__name__ == "EqualizedConv"
        g = nnx.eval_shape(
            lambda: ProgressiveGenerator(latent_dim=LATENT, **LADDER, **options, rngs=nnx.Rngs(0))
        )
        g.set_stage(1)
        z = jax.ShapeDtypeStruct((2, LATENT), jnp.float32)
        assert nnx.eval_shape(lambda m, v: m(v, alpha=0.5), g, z).shape == (2, 8, 8, 3)
    else:
        assert type(d.from_rgb_layers[0]).__name__ == "SpectralNorm"


def test_score_type_and_logits(discriminator):
    x = normal(2, 4, 4, 3)
    logits = discriminator.logits(x)
    np.testing.assert_array_equal(np.asarray(discriminator(x)), np.asarray(logits))
    probabilistic = with_state_of(
        discriminator,
        lambda: ProgressiveDiscriminator(**LADDER, score_type="probabilities", rngs=nnx.Rngs(7)),
    )
    np.testing.assert_allclose(np.asarray(probabilistic(x)), jax.nn.sigmoid(logits), atol=1e-6)


def test_progressive_conv_block_matches_the_example_semantics():
    block = ProgressiveConvBlock(3, 4, rngs=nnx.Rngs(0))
    x = normal(2, 5, 6, 3)
    y = np.asarray(block(x))
    assert y.shape == (2, 5, 6, 4)
    np.testing.assert_allclose(np.sqrt(np.mean(y**2, axis=-1)), 1.0, atol=1e-3)  # pixel norm

    def reference(v, conv):
        out = jax.lax.conv_general_dilated(
            v,
            conv.kernel[...],
            (1, 1),
            [(1, 1), (1, 1)],
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )
        out = jax.nn.leaky_relu(out + conv.bias[...], 0.2)
        return out / jnp.sqrt(jnp.mean(out**2, axis=-1, keepdims=True) + 1e-8)

    np.testing.assert_allclose(y, reference(reference(x, block.conv1), block.conv2), atol=1e-5)
    plain = ProgressiveConvBlock(3, 4, rngs=nnx.Rngs(0), use_pixelnorm=False)
    assert plain.pixel_norm is None
    with pytest.raises(
        ValueError,
        match=r"ProgressiveConvBlock expects NHWC maps \(batch, H, W, 3\), got \(2, 5, 6, 4\)",
    ):
        block(normal(2, 5, 6, 4))


def test_jit_with_a_traced_alpha_equals_eager(generator, discriminator):
    generator.set_stage(2)
    discriminator.set_stage(2)
    z = normal(2, LATENT)
    eager = discriminator(generator(z, alpha=0.25), alpha=0.25)

    @nnx.jit
    def score(g, d, v, alpha):
        return d(g(v, alpha=alpha), alpha=alpha)

    np.testing.assert_allclose(
        np.asarray(score(generator, discriminator, z, jnp.float32(0.25))),
        np.asarray(eager),
        atol=1e-5,
    )


@pytest.mark.parametrize("network", ["generator", "discriminator"])
def test_one_optimizer_step_changes_the_params_and_keeps_them_finite(
    network, generator, discriminator
):
    z, real, fake = (
        normal(4, LATENT),
        jnp.tanh(normal(4, 16, 16, 3)),
        jnp.tanh(normal(4, 16, 16, 3)),
    )
    alpha = 0.5
    if network == "generator":
        model = with_state_of(
            generator, lambda: ProgressiveGenerator(latent_dim=LATENT, **LADDER, rngs=nnx.Rngs(0))
        )
        model.set_stage(2)
        loss_fn = lambda m: jnp.mean((m(z, alpha=alpha) - real) ** 2)  # noqa: E731
        # Stage 0's "to RGB" makes 4x4 images, which stage 2 never shows.
        unused = "['to_rgb_layers'][0]"
    else:
        model = with_state_of(
            discriminator, lambda: ProgressiveDiscriminator(**LADDER, rngs=nnx.Rngs(0))
        )
        model.set_stage(2)
        # Non-saturating loss (a Wasserstein loss would give the score bias no gradient).
        loss_fn = lambda m: jnp.mean(  # noqa: E731
            jax.nn.softplus(m(fake, alpha=alpha)) + jax.nn.softplus(-m(real, alpha=alpha))
        )
        unused = "['from_rgb_layers'][0]"
    state = nnx.state(model, nnx.Param)
    names = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(state)[0]]
    loss, changed, has_gradient = optimizer_step(model, loss_fn)
    assert np.isfinite(loss)
    assert changed == has_gradient
    without = [name for name, grad in zip(names, has_gradient, strict=True) if not grad]
    assert without == [name for name in names if name.startswith(unused)]
    assert len(without) == 2  # kernel and bias


def test_errors_name_expected_and_got(generator, discriminator):
    with pytest.raises(
        ValueError, match=r"set_stage: stage must be in \[0, 2\] \(num_stages=3\), got 3"
    ):
        generator.set_stage(3)
    with pytest.raises(
        TypeError, match=r"ProgressiveDiscriminator.set_stage: stage must be an int"
    ):
        discriminator.set_stage(1.0)  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"ProgressiveGenerator: alpha must be in \[0, 1\].*got 1.5"
    ):
        generator(normal(2, LATENT), alpha=1.5)
    with pytest.raises(
        ValueError, match=r"ProgressiveGenerator expects z of shape \(batch, 4\), got \(2, 5\)"
    ):
        generator(normal(2, 5))
    discriminator.set_stage(1)
    with pytest.raises(
        ValueError,
        match=r"ProgressiveDiscriminator expects images of shape \(batch, 8, 8, 3\), "
        r"got \(2, 4, 4, 3\)",
    ):
        discriminator(normal(2, 4, 4, 3))
    with pytest.raises(
        ValueError, match=r"use_equalized_lr and use_spectral_norm cannot be combined"
    ):
        ProgressiveDiscriminator(
            **LADDER, use_equalized_lr=True, use_spectral_norm=True, rngs=nnx.Rngs(0)
        )
    with pytest.raises(ValueError, match=r"max_channels=2: halves to 0 channels after 2 doublings"):
        ProgressiveGenerator(latent_dim=LATENT, max_channels=2, num_stages=3, rngs=nnx.Rngs(0))


def test_config_and_keyword_styles_build_the_same_network():
    config = ProgressiveGeneratorConfig(latent_dim=LATENT, **LADDER)
    from_config = nnx.eval_shape(lambda: ProgressiveGenerator(config=config, rngs=nnx.Rngs(0)))
    from_keywords = nnx.eval_shape(
        lambda: ProgressiveGenerator(latent_dim=LATENT, **LADDER, rngs=nnx.Rngs(0))
    )
    assert from_config.config == from_keywords.config
    d_config = ProgressiveDiscriminatorConfig(**LADDER)
    changed = nnx.eval_shape(
        lambda: ProgressiveDiscriminator(config=d_config, use_minibatch_std=False, rngs=nnx.Rngs(0))
    )
    assert changed.config == d_config.replace(use_minibatch_std=False)
