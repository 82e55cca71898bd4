"""CycleGANGenerator: seed shapes, any image size, layouts, reflection padding, modes, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import CycleGANGeneratorConfig
from artifex.generative_models.nets import CycleGANGenerator

RNG = np.random.default_rng(0)
# One channel count everywhere: every parameter shape is compiled once for the whole file.
SMALL = {"hidden_dims": (4, 4, 4), "num_residual_blocks": 1}


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
    """The output shape without allocating or computing anything."""
    model = nnx.eval_shape(make)
    x = jax.ShapeDtypeStruct(batch_shape, jnp.float32)
    return nnx.eval_shape(lambda m, v: m(v, **kwargs), model, x).shape


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
def nchw_generator(fast_random_compilation):
    return CycleGANGenerator(output_shape=(3, 28, 28), **SMALL, rngs=nnx.Rngs(params=0))


def test_seed_003_keyword_example_prints_the_documented_shape():
    shape = abstract_call(
        lambda: CycleGANGenerator(
            output_shape=(3, 256, 256),
            hidden_dims=(64, 128, 256),
            num_residual_blocks=9,
            rngs=nnx.Rngs(params=0, dropout=1),
        ),
        (4, 3, 256, 256),
        training=False,
    )
    assert shape == (4, 3, 256, 256)


def test_seed_000_config_generator_maps_nhwc_images_to_nhwc_images():
    config = CycleGANGeneratorConfig(
        name="horse_to_zebra",
        latent_dim=0,
        hidden_dims=(64, 128, 256),
        output_shape=(256, 256, 3),
        input_shape=(256, 256, 3),
        n_residual_blocks=6,
        activation="relu",
    )
    shape = abstract_call(
        lambda: CycleGANGenerator(config=config, rngs=nnx.Rngs(params=0)), (2, 256, 256, 3)
    )
    assert shape == (2, 256, 256, 3)


def test_keyword_style_translates_into_the_config(nchw_generator):
    cfg = nchw_generator.config
    assert cfg.n_residual_blocks == 1
    assert cfg.input_shape == cfg.output_shape == (3, 28, 28)
    assert len(nchw_generator.residual_blocks) == 1
    default = nnx.eval_shape(
        lambda: CycleGANGenerator(output_shape=(3, 32, 32), rngs=nnx.Rngs(params=0))
    )
    assert default.config.hidden_dims == (64, 128, 256)
    assert default.config.n_residual_blocks == 9
    assert default.config.use_reflection_padding and default.config.use_instance_norm


@pytest.mark.parametrize("shape", [(28, 28, 1), (27, 27, 3), (32, 48, 3), (3, 28, 28), (1, 32, 48)])
def test_any_image_size_keeps_its_shape_in_its_layout(shape):
    generator = CycleGANGenerator(output_shape=shape, **SMALL, rngs=nnx.Rngs(params=0))
    out = nnx.jit(lambda m, x: m(x, training=False))(generator, images(2, *shape))
    assert out.shape == (2, *shape)
    assert np.all(np.abs(np.asarray(out)) <= 1.0)  # tanh


def test_nchw_output_is_the_nhwc_output_transposed_with_the_same_params(nchw_generator):
    nhwc = CycleGANGenerator(output_shape=(28, 28, 3), **SMALL, rngs=nnx.Rngs(params=1))
    nnx.update(nhwc, nnx.state(nchw_generator))
    x = images(2, 28, 28, 3)
    expected = np.transpose(np.asarray(nhwc(x, training=False)), (0, 3, 1, 2))
    got = nchw_generator(jnp.transpose(x, (0, 3, 1, 2)), training=False)
    np.testing.assert_allclose(np.asarray(got), expected, atol=1e-5)


def _conv(x, kernel, bias):
    y = jax.lax.conv_general_dilated(
        x, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return y + bias


def test_reflection_padding_is_numpy_reflect_and_differs_from_zero_padding():
    # No norm, no residual blocks, linear activations: out = head(pad(stem(pad(x)))).
    options = {
        "output_shape": (9, 10, 2),
        "hidden_dims": (3,),
        "num_residual_blocks": 0,
        "use_instance_norm": False,
        "activation": "linear",
        "output_activation": "linear",
    }
    reflect = CycleGANGenerator(**options, rngs=nnx.Rngs(params=0))
    zero = CycleGANGenerator(**options, use_reflection_padding=False, rngs=nnx.Rngs(params=1))
    nnx.update(zero, nnx.state(reflect))
    x = images(2, 9, 10, 2)
    pad = ((0, 0), (3, 3), (3, 3), (0, 0))
    for mode, model in (("reflect", reflect), ("constant", zero)):
        h = _conv(
            np.pad(np.asarray(x), pad, mode=mode), reflect.stem.kernel[...], reflect.stem.bias[...]
        )
        expected = _conv(
            np.pad(np.asarray(h), pad, mode=mode), reflect.head.kernel[...], reflect.head.bias[...]
        )
        np.testing.assert_allclose(np.asarray(model(x)), np.asarray(expected), atol=1e-4)
    assert not np.allclose(np.asarray(reflect(x)), np.asarray(zero(x)), atol=1e-3)


@pytest.mark.parametrize(("kernel", "mode"), [(3, "reflect"), (3, "constant"), (1, "reflect")])
def test_edge_kernel_size_sets_both_end_convolutions_and_their_padding(kernel, mode):
    # out = head(pad(stem(pad(x)))) with (kernel - 1) / 2 pixels of padding per side.
    generator = CycleGANGenerator(
        output_shape=(8, 8, 1),
        hidden_dims=(3,),
        num_residual_blocks=0,
        edge_kernel_size=kernel,
        use_reflection_padding=mode == "reflect",
        use_instance_norm=False,
        activation="linear",
        output_activation="linear",
        rngs=nnx.Rngs(params=0),
    )
    assert generator.stem.kernel.shape == (kernel, kernel, 1, 3)
    assert generator.head.kernel.shape == (kernel, kernel, 3, 1)
    x = images(2, 8, 8, 1)
    edge = (kernel - 1) // 2
    pad = ((0, 0), (edge, edge), (edge, edge), (0, 0))
    h = _conv(
        np.pad(np.asarray(x), pad, mode=mode), generator.stem.kernel[...], generator.stem.bias[...]
    )
    expected = _conv(
        np.pad(np.asarray(h), pad, mode=mode), generator.head.kernel[...], generator.head.bias[...]
    )
    np.testing.assert_allclose(np.asarray(generator(x)), np.asarray(expected), atol=1e-4)


def test_batch_norm_follows_train_eval_and_the_training_override():
    generator = CycleGANGenerator(
        output_shape=(16, 16, 3),
        **SMALL,
        batch_norm=True,
        use_instance_norm=False,
        rngs=nnx.Rngs(params=0),
    )
    x = images(2, 16, 16, 3) + 2.0
    stem_mean = lambda: np.asarray(generator.stem_norm.mean[...])  # noqa: E731
    start = stem_mean()
    generator.eval()
    generator(x)
    np.testing.assert_array_equal(stem_mean(), start)
    generator(x, training=True)
    trained = stem_mean()
    assert not np.allclose(trained, start)
    generator.train()
    generator(x, training=False)
    np.testing.assert_array_equal(stem_mean(), trained)


def test_configured_dropout_is_applied_in_training_only():
    generator = CycleGANGenerator(
        output_shape=(16, 16, 3), **SMALL, dropout_rate=0.5, rngs=nnx.Rngs(params=0)
    )
    x = images(2, 16, 16, 3)
    assert not np.allclose(np.asarray(generator(x)), np.asarray(generator(x)))
    generator.eval()
    np.testing.assert_array_equal(np.asarray(generator(x)), np.asarray(generator(x)))


def test_jit_equals_eager(nchw_generator):
    x = images(2, 3, 28, 28)
    eager = nchw_generator(x, training=False)
    compiled = nnx.jit(lambda m, v: m(v, training=False))(nchw_generator, x)
    np.testing.assert_allclose(np.asarray(compiled), np.asarray(eager), atol=1e-5)


def test_one_optimizer_step_changes_the_params_and_keeps_them_finite():
    generator = CycleGANGenerator(output_shape=(3, 28, 28), **SMALL, rngs=nnx.Rngs(params=0))
    x, target = images(2, 3, 28, 28), jnp.tanh(images(2, 3, 28, 28))
    loss, changed, has_gradient = optimizer_step(
        generator, lambda m: jnp.mean(jnp.abs(m(x, training=True) - target))
    )
    assert np.isfinite(loss)
    assert changed == has_gradient
    assert all(has_gradient)


def test_size_errors_name_the_reason():
    with pytest.raises(ValueError, match=r"reflection padding of 3 pixels .* got 3x3"):
        CycleGANGenerator(
            output_shape=(3, 3, 1), data_format="NHWC", **SMALL, rngs=nnx.Rngs(params=0)
        )
    # A 3x3 end needs only 1 pixel of reflection: 3x3 images work, 1x1 do not.
    with pytest.raises(ValueError, match=r"padding of 1 pixels before the 3x3 .* got 1x1"):
        CycleGANGenerator(
            output_shape=(1, 1, 1),
            data_format="NHWC",
            edge_kernel_size=3,
            **SMALL,
            rngs=nnx.Rngs(0),
        )
    with pytest.raises(ValueError, match=r"3 downsamplings: they take 5x5 to 1x1"):
        CycleGANGenerator(
            output_shape=(5, 5, 1), data_format="NHWC", hidden_dims=(4, 4, 4, 4), rngs=nnx.Rngs(0)
        )
    # Zero padding has no such limit (and no normalization is an option).
    tiny = CycleGANGenerator(
        output_shape=(3, 3, 1),
        data_format="NHWC",
        **SMALL,
        use_reflection_padding=False,
        use_instance_norm=False,
        rngs=nnx.Rngs(params=0),
    )
    assert tiny(images(1, 3, 3, 1), training=False).shape == (1, 3, 3, 1)


def test_construction_errors():
    with pytest.raises(TypeError, match=r"num_residual_blocks=2 and n_residual_blocks=3"):
        CycleGANGenerator(
            output_shape=(8, 8, 3), num_residual_blocks=2, n_residual_blocks=3, rngs=nnx.Rngs(0)
        )
    with pytest.raises(ValueError, match=r"does not support use_spectral_norm=True"):
        CycleGANGenerator(output_shape=(8, 8, 3), use_spectral_norm=True, rngs=nnx.Rngs(0))
    with pytest.raises(TypeError, match=r"needs a CycleGANGeneratorConfig, got dict"):
        CycleGANGenerator(config={"hidden_dims": (4,)}, rngs=nnx.Rngs(0))  # type: ignore[arg-type]


def test_wrong_input_shape_names_expected_and_got(nchw_generator):
    with pytest.raises(
        ValueError,
        match=r"CycleGANGenerator expects images of shape \(batch, 3, 28, 28\), "
        r"got \(2, 28, 28, 3\)",
    ):
        nchw_generator(jnp.zeros((2, 28, 28, 3)))
