"""Feature extraction over arrays and iterables: batching, padding, order, checks before use."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    FrechetInceptionDistance,
    ModuleFunction,
    extract_features,
)


class CountingSquare:
    """Squares pixels and records the batch shapes it is traced (compiled) with."""

    def __init__(self):
        self.traced = []

    def __call__(self, images):
        self.traced.append(images.shape)
        return (images**2).reshape(images.shape[0], -1)


def test_order_and_values_survive_chunking_and_padding(rng):
    images = rng.normal(size=(23, 2, 3)).astype(np.float32)
    fn = CountingSquare()
    out = extract_features(fn, images, batch_size=5)
    np.testing.assert_array_equal(out, (images**2).reshape(23, 6).astype(np.float64))
    assert out.dtype == np.float64
    # One compiled shape for every chunk, the last one padded (plus one abstract trace).
    assert set(fn.traced) == {(5, 2, 3)}


def test_iterables_of_batches_and_device_arrays(rng):
    images = rng.normal(size=(17, 4)).astype(np.float32)
    batches = [jnp.asarray(images[:8]), images[8:9], jnp.asarray(images[9:])]
    out = extract_features(lambda x: x * 2, iter(batches), batch_size=8)
    np.testing.assert_allclose(out, images * 2.0)
    out = extract_features(lambda x: x * 2, (b for b in batches), batch_size=3)
    np.testing.assert_allclose(out, images * 2.0)


def test_uncompiled_callables(rng):
    images = rng.normal(size=(6, 3))
    out = extract_features(lambda x: np.asarray(x) + 1, images, batch_size=4, jit=False)
    np.testing.assert_allclose(out, images + 1, rtol=1e-6)


def test_module_functions_pass_weights_as_arguments(rng):
    from flax import nnx

    layer = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
    fn = ModuleFunction(layer, "__call__", input_range=(-1.0, 1.0))
    images = rng.uniform(-1, 1, size=(5, 3)).astype(np.float32)
    expected = np.asarray(layer(jnp.asarray(images)))
    np.testing.assert_allclose(extract_features(fn, images), expected, rtol=1e-6)
    with pytest.raises(ValueError, match=r"expects pixel values in \[-1, 1\]; images images 0..4"):
        extract_features(fn, images * 3)
    with pytest.raises(ValueError, match="has no method 'nope'"):
        ModuleFunction(layer, "nope")


@pytest.mark.parametrize(
    ("images", "error", "message"),
    [
        ("pictures", TypeError, "must be an array of images"),
        (42, TypeError, "must be an array of images"),
        ([(np.ones((2, 3)), np.ones(2))], TypeError, r"batch 0 of images is a tuple.*x for x, _"),
        ([np.ones(3)], ValueError, "must have a batch axis and at least one more"),
        ([np.ones((2, 3)), np.ones((2, 4))], ValueError, r"batch 1 .* shape \(4,\), but .* \(3,\)"),
        ([], ValueError, "holds no images"),
        (np.zeros((0, 3)), ValueError, "holds no images"),
        (np.array([[1.0, np.nan]], dtype=np.float32), ValueError, "NaN or infinite pixel"),
    ],
)
def test_bad_images_are_refused(images, error, message):
    with pytest.raises(error, match=message):
        extract_features(lambda x: x, images)


def test_bad_extractors_are_refused_before_compiling():
    with pytest.raises(TypeError, match="must be callable"):
        FrechetInceptionDistance(feature_extractor="inception")
    fid = FrechetInceptionDistance(feature_extractor=lambda x: x[..., None])
    with pytest.raises(ValueError, match=r"to an array of shape \(4, D\); for real it returned"):
        fid.update(np.ones((4, 3), np.float32), real=True)
    with pytest.raises(ValueError, match="returned NaN or infinite values"):
        extract_features(lambda x: jnp.log(x - 1), np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        extract_features(lambda x: x, np.ones((2, 2)), batch_size=0)


def test_jit_is_the_default(rng):
    def fn(images):
        # Only a tracer has no concrete value here.
        assert isinstance(images, jax.core.Tracer)
        return images

    extract_features(fn, rng.normal(size=(3, 2)))
