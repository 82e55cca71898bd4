"""PatchGAN, CycleGAN and multi-scale PatchGAN discriminators: both documented return forms."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    MultiScalePatchGANDiscriminatorConfig,
    PatchGANDiscriminatorConfig,
)
from artifex.generative_models.nets import (
    CycleGANDiscriminator,
    MultiScalePatchGANDiscriminator,
    PatchGANDiscriminator,
)

RNG = np.random.default_rng(1)
# One channel count everywhere: every parameter shape is compiled once for the whole file.
DIMS = (4, 4, 4)


@pytest.fixture(scope="module", autouse=True)
def fast_random_compilation():
    # Partitionable threefry makes XLA:CPU compile every new random-init shape ~6x slower;
    # these tests do not depend on the random bits. Restored for other modules.
    previous = jax.config.jax_threefry_partitionable
    jax.config.update("jax_threefry_partitionable", False)
    yield
    jax.config.update("jax_threefry_partitionable", previous)


def images(*shape):
    return jnp.asarray(RNG.normal(size=shape), jnp.float32)


def abstract_call(make, batch_shape, **kwargs):
    """The output of a call as shapes, without allocating or computing anything."""
    model = nnx.eval_shape(make)
    x = jax.ShapeDtypeStruct(batch_shape, jnp.float32)
    return nnx.eval_shape(lambda m, v: m(v, **kwargs), model, x)


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


def avg_pool_reference(x):
    """3x3 / stride 2 average pooling with 1 pixel of padding not counted (NumPy)."""
    x = np.asarray(x)
    n, h, w, c = x.shape
    out = np.zeros((n, -(-h // 2), -(-w // 2), c), np.float32)
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            rows = slice(max(2 * i - 1, 0), min(2 * i + 2, h))
            cols = slice(max(2 * j - 1, 0), min(2 * j + 2, w))
            out[:, i, j] = x[:, rows, cols].mean(axis=(1, 2))
    return out


@pytest.fixture(scope="module")
def keyword_patchgan(fast_random_compilation):
    # The API reference's example at a small size (NCHW images, one score array back).
    return PatchGANDiscriminator(
        input_shape=(3, 32, 32),
        hidden_dims=DIMS,
        kernel_size=4,
        stride=2,
        rngs=nnx.Rngs(params=0, dropout=1),
    )


@pytest.fixture(scope="module")
def config_patchgan(fast_random_compilation):
    config = PatchGANDiscriminatorConfig(
        name="patchgan_disc", hidden_dims=DIMS, input_shape=(32, 32, 3), activation="leaky_relu"
    )
    return PatchGANDiscriminator(config=config, rngs=nnx.Rngs(params=0))


def test_seed_003_patchgan_example_prints_the_documented_shape():
    scores = abstract_call(
        lambda: PatchGANDiscriminator(
            input_shape=(3, 256, 256),
            hidden_dims=(64, 128, 256, 512),
            kernel_size=4,
            stride=2,
            rngs=nnx.Rngs(params=0, dropout=1),
        ),
        (16, 3, 256, 256),
        training=True,
    )
    # (16, H', W', 1): three stride-2 layers of "SAME" padding take 256 to 32.
    assert scores.shape == (16, 32, 32, 1)


def test_patchgan_computes_at_256x256_in_eval_mode():
    discriminator = PatchGANDiscriminator(
        input_shape=(3, 256, 256), hidden_dims=(4, 4, 4, 4), rngs=nnx.Rngs(params=0)
    )
    discriminator.eval()
    scores = nnx.jit(lambda m, x: m(x))(discriminator, jnp.ones((2, 3, 256, 256)))
    assert scores.shape == (2, 32, 32, 1)
    assert np.all(np.isfinite(np.asarray(scores)))


def test_keyword_style_returns_one_score_map_and_config_style_returns_the_features(
    keyword_patchgan, config_patchgan
):
    assert keyword_patchgan.config.return_features is False
    scores = keyword_patchgan(images(2, 3, 32, 32), training=False)
    assert scores.shape == (2, 8, 8, 1)
    assert config_patchgan.config.return_features is True
    maps = config_patchgan(images(2, 32, 32, 3), training=False)
    assert isinstance(maps, list)
    assert [m.shape for m in maps] == [(2, 16, 16, 4), (2, 8, 8, 4), (2, 8, 8, 4), (2, 8, 8, 1)]


def test_score_map_is_nhwc_whatever_the_image_layout(keyword_patchgan, config_patchgan):
    nnx.update(config_patchgan, nnx.state(keyword_patchgan))
    x = images(2, 32, 32, 3)
    from_nhwc = config_patchgan(x, training=False)[-1]
    from_nchw = keyword_patchgan(jnp.transpose(x, (0, 3, 1, 2)), training=False)
    np.testing.assert_allclose(np.asarray(from_nchw), np.asarray(from_nhwc), atol=1e-5)


@pytest.mark.parametrize(
    ("size", "options", "expected"),
    [
        # "SAME": ceil(n / 2**(layers - 1)).
        ((28, 28), {}, (7, 7)),
        ((27, 40), {}, (7, 10)),
        # pix2pix's own padding of 1: (n + 2 - 4) // s + 1 per layer: 32, 16, 8, 7, 6.
        ((32, 32), {"padding": 1}, (6, 6)),
        # A 1x1 kernel with "VALID" padding: floor((n - 1) / 2) + 1 per strided layer.
        ((9, 9), {"padding": "VALID", "kernel_size": 1}, (3, 3)),
    ],
)
def test_score_map_size_for_any_image_size(size, options, expected):
    discriminator = PatchGANDiscriminator(
        input_shape=(*size, 3), hidden_dims=DIMS, **options, rngs=nnx.Rngs(params=0)
    )
    assert discriminator.score_shape == (*expected, 1)
    scores = nnx.jit(lambda m, x: m(x, training=False))(discriminator, images(1, *size, 3))
    assert scores.shape == (1, *expected, 1)


def test_logits_and_probabilities(keyword_patchgan):
    x = images(2, 3, 32, 32)
    logits = keyword_patchgan.logits(x, training=False)
    # Alone, "auto" means logits for a PatchGAN.
    np.testing.assert_array_equal(np.asarray(keyword_patchgan(x, training=False)), logits)
    probabilistic = PatchGANDiscriminator(
        input_shape=(3, 32, 32), hidden_dims=DIMS, score_type="probabilities", rngs=nnx.Rngs(5)
    )
    nnx.update(probabilistic, nnx.state(keyword_patchgan))
    np.testing.assert_allclose(
        np.asarray(probabilistic(x, training=False)), jax.nn.sigmoid(logits), atol=1e-6
    )


def test_first_layer_has_no_norm_and_the_others_have_instance_norm(config_patchgan):
    norms = [block.norm for block in config_patchgan.blocks]
    assert norms[0] is None
    assert all(isinstance(n, nnx.InstanceNorm) for n in norms[1:])


def test_cyclegan_discriminator_is_a_patchgan_with_the_reference_defaults():
    default = nnx.eval_shape(
        lambda: CycleGANDiscriminator(input_shape=(3, 64, 64), rngs=nnx.Rngs(params=0))
    )
    assert isinstance(default, PatchGANDiscriminator)
    assert default.config.hidden_dims == (64, 128, 256, 512)
    small = CycleGANDiscriminator(input_shape=(3, 32, 32), hidden_dims=DIMS, rngs=nnx.Rngs(0))
    assert small(images(2, 3, 32, 32), training=False).shape == (2, 8, 8, 1)


def test_seed_000_multiscale_from_a_single_scale_config_returns_outputs_and_features():
    patch_config = PatchGANDiscriminatorConfig(
        name="patchgan_disc", hidden_dims=DIMS, input_shape=(32, 32, 3), activation="leaky_relu"
    )
    multiscale = MultiScalePatchGANDiscriminator(
        config=patch_config, num_scales=3, rngs=nnx.Rngs(params=0)
    )
    assert isinstance(multiscale.config, MultiScalePatchGANDiscriminatorConfig)
    x = images(2, 32, 32, 3)
    outputs, features = multiscale(x, training=False)
    assert [o.shape for o in outputs] == [(2, 8, 8, 1), (2, 4, 4, 1), (2, 2, 2, 1)]
    assert len(features) == 3
    assert all(len(f) == len(DIMS) for f in features)
    # Scale i is its own PatchGAN applied to the image average-pooled i times.
    pooled = np.asarray(x)
    for scale, discriminator in enumerate(multiscale.discriminators):
        if scale > 0:
            pooled = avg_pool_reference(pooled)
        expected = discriminator(jnp.asarray(pooled), training=False)
        np.testing.assert_allclose(np.asarray(outputs[scale]), np.asarray(expected[-1]), atol=1e-5)
        np.testing.assert_allclose(
            np.asarray(features[scale][0]), np.asarray(expected[0]), atol=1e-5
        )


def test_seed_000_multiscale_at_the_documented_size():
    patch_config = PatchGANDiscriminatorConfig(
        name="patchgan_disc",
        hidden_dims=(64, 128, 256, 512),
        input_shape=(256, 256, 3),
        activation="leaky_relu",
    )
    outputs, features = abstract_call(
        lambda: MultiScalePatchGANDiscriminator(
            config=patch_config, num_scales=3, rngs=nnx.Rngs(params=0)
        ),
        (4, 256, 256, 3),
    )
    assert [o.shape for o in outputs] == [(4, 32, 32, 1), (4, 16, 16, 1), (4, 8, 8, 1)]
    assert [f[-1].shape for f in features] == [(4, 32, 32, 512), (4, 16, 16, 512), (4, 8, 8, 512)]


def test_seed_003_multiscale_example_returns_a_list_of_three_score_maps():
    predictions = abstract_call(
        lambda: MultiScalePatchGANDiscriminator(
            input_shape=(3, 256, 256),
            hidden_dims=(64, 128, 256),
            num_scales=3,
            rngs=nnx.Rngs(params=0, dropout=1),
        ),
        (16, 3, 256, 256),
        training=True,
    )
    assert isinstance(predictions, list)
    assert [p.shape for p in predictions] == [(16, 64, 64, 1), (16, 32, 32, 1), (16, 16, 16, 1)]


@pytest.fixture(scope="module")
def keyword_multiscale(fast_random_compilation):
    return MultiScalePatchGANDiscriminator(
        input_shape=(3, 32, 32), hidden_dims=DIMS, num_scales=2, rngs=nnx.Rngs(params=0)
    )


def test_keyword_multiscale_returns_score_maps_and_logits(keyword_multiscale):
    x = images(2, 3, 32, 32)
    predictions = keyword_multiscale(x, training=False)
    assert [p.shape for p in predictions] == [(2, 8, 8, 1), (2, 4, 4, 1)]
    logits = keyword_multiscale.logits(x, training=False)
    for p, q in zip(predictions, logits, strict=True):
        np.testing.assert_array_equal(np.asarray(p), np.asarray(q))


def test_batch_norm_and_spectral_norm_follow_the_mode():
    discriminator = PatchGANDiscriminator(
        input_shape=(16, 16, 3),
        hidden_dims=DIMS,
        batch_norm=True,
        use_instance_norm=False,
        use_spectral_norm=True,
        rngs=nnx.Rngs(params=0),
    )
    x = images(2, 16, 16, 3) + 1.0
    norm, conv = discriminator.blocks[1].norm, discriminator.blocks[0].conv
    snapshot = lambda: (np.asarray(norm.mean[...]), np.asarray(conv.u[...]))  # noqa: E731
    start = snapshot()
    discriminator.eval()
    discriminator(x)
    for a, b in zip(snapshot(), start, strict=True):
        np.testing.assert_array_equal(a, b)
    discriminator(x, training=True)
    for a, b in zip(snapshot(), start, strict=True):
        assert not np.allclose(a, b)


def test_configured_dropout_is_applied_in_training_only():
    discriminator = PatchGANDiscriminator(
        input_shape=(16, 16, 3), hidden_dims=DIMS, dropout_rate=0.5, rngs=nnx.Rngs(params=0)
    )
    x = images(2, 16, 16, 3)
    assert not np.allclose(np.asarray(discriminator(x)), np.asarray(discriminator(x)))
    discriminator.eval()
    np.testing.assert_array_equal(np.asarray(discriminator(x)), np.asarray(discriminator(x)))


def test_jit_equals_eager(keyword_patchgan, keyword_multiscale):
    x = images(2, 3, 32, 32)
    for model in (keyword_patchgan, keyword_multiscale):
        eager = model(x, training=False)
        compiled = nnx.jit(lambda m, v: m(v, training=False))(model, x)
        for e, c in zip(jax.tree.leaves(eager), jax.tree.leaves(compiled), strict=True):
            np.testing.assert_allclose(np.asarray(c), np.asarray(e), atol=1e-5)


def test_one_optimizer_step_changes_the_params_and_keeps_them_finite():
    # Two scales: two PatchGANs of the single-scale design, and the pooling between them.
    model = MultiScalePatchGANDiscriminator(
        input_shape=(3, 16, 16), hidden_dims=DIMS, num_scales=2, rngs=nnx.Rngs(params=0)
    )
    real, fake = images(2, 3, 16, 16), images(2, 3, 16, 16)

    def least_squares(m):
        real_scores = jax.tree.leaves(m.logits(real, training=True))
        fake_scores = jax.tree.leaves(m.logits(fake, training=True))
        return sum(
            jnp.mean((r - 1) ** 2) + jnp.mean(f**2)
            for r, f in zip(real_scores, fake_scores, strict=True)
        )

    loss, changed, has_gradient = optimizer_step(model, least_squares)
    assert np.isfinite(loss)
    assert changed == has_gradient
    assert all(has_gradient)


def test_size_errors_name_the_layer_and_the_scale():
    with pytest.raises(
        ValueError,
        match=r"PatchGANDiscriminator: input_shape=\(8, 8, 3\) is too small: hidden layer 1 "
        r"\(kernel 4x4, stride 1x1, padding 'VALID'\) gets 3x3 maps and would make 0x0",
    ):
        PatchGANDiscriminator(
            input_shape=(8, 8, 3), hidden_dims=(4, 4), padding="VALID", rngs=nnx.Rngs(0)
        )
    with pytest.raises(
        ValueError,
        match=r"MultiScalePatchGANDiscriminator: scale 2 sees 10x10 images \(40x40 pooled 2 "
        r"times\), too small for its PatchGAN: .*use fewer scales \(num_scales=3\)",
    ):
        MultiScalePatchGANDiscriminator(
            input_shape=(40, 40, 3), hidden_dims=(4, 4), padding="VALID", rngs=nnx.Rngs(0)
        )


def test_construction_errors():
    with pytest.raises(ValueError, match=r"PatchGANDiscriminator needs input_shape.*got None"):
        PatchGANDiscriminator(hidden_dims=DIMS, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"MultiScalePatchGANDiscriminator needs input_shape"):
        MultiScalePatchGANDiscriminator(hidden_dims=DIMS, rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match=r"needs a PatchGANDiscriminatorConfig, got dict"):
        PatchGANDiscriminator(config={"hidden_dims": DIMS}, rngs=nnx.Rngs(0))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) 'num_residual_blocks'"):
        CycleGANDiscriminator(input_shape=(3, 32, 32), num_residual_blocks=3, rngs=nnx.Rngs(0))


def test_wrong_input_shape_names_expected_and_got(keyword_patchgan, keyword_multiscale):
    wrong = jnp.zeros((2, 32, 32, 3))
    with pytest.raises(
        ValueError,
        match=r"PatchGANDiscriminator expects images of shape \(batch, 3, 32, 32\), "
        r"got \(2, 32, 32, 3\)",
    ):
        keyword_patchgan(wrong)
    with pytest.raises(
        ValueError,
        match=r"MultiScalePatchGANDiscriminator expects images of shape \(batch, 3, 32, 32\)",
    ):
        keyword_multiscale.logits(wrong)
