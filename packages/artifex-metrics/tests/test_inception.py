"""InceptionV3 (FID variant): input handling, loader round trip, pytorch-fid conversion."""

import runpy
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    ModuleFunction,
    load_inception_v3,
    save_inception_v3,
)
from artifex.generative_models.core.evaluation.metrics.inception import as_inception_input
from artifex.generative_models.core.evaluation.metrics.inception_conversion import (
    convert_pytorch_fid_state_dict,
    expected_inception_shapes,
    pytorch_fid_name,
)

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "convert_inception_weights.py"

# A few pytorch-fid state-dict entries with their PyTorch shapes, from torchvision's
# Inception3 and pytorch-fid's FIDInception blocks: the architecture must produce them.
KNOWN_TORCH_SHAPES = {
    "Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3),
    "Conv2d_4a_3x3.bn.running_var": (192,),
    "Mixed_5b.branch_pool.conv.weight": (32, 192, 1, 1),
    "Mixed_5d.branch5x5_2.conv.weight": (64, 48, 5, 5),
    "Mixed_6a.branch3x3.conv.weight": (384, 288, 3, 3),
    "Mixed_6e.branch7x7_2.conv.weight": (192, 192, 1, 7),
    "Mixed_6b.branch7x7dbl_2.conv.weight": (128, 128, 7, 1),
    "Mixed_7a.branch3x3_2.conv.weight": (320, 192, 3, 3),
    "Mixed_7b.branch3x3dbl_1.conv.weight": (448, 1280, 1, 1),
    "Mixed_7c.branch3x3dbl_3b.conv.weight": (384, 384, 3, 1),
    "Mixed_7c.branch_pool.bn.weight": (192,),
    "fc.weight": (1008, 2048),
    "fc.bias": (1008,),
}


@pytest.fixture(scope="module")
def shapes():
    return expected_inception_shapes()


def random_weights(shapes, seed=0):
    """He-scaled kernels and non-trivial batch-norm statistics, so every weight matters."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape in shapes.items():
        if name.endswith("kernel"):
            value = rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[:-1]))
        elif name.endswith(("scale", "var")):
            value = rng.uniform(0.5, 1.5, size=shape)
        else:
            value = rng.normal(size=shape) * 0.1
        arrays[name] = value.astype(np.float32)
    return arrays


def to_pytorch_fid(arrays):
    """The inverse renaming, written independently of the converter (see its table)."""
    bn = {"scale": "weight", "bias": "bias", "mean": "running_mean", "var": "running_var"}
    state = {}
    for name, value in arrays.items():
        *path, leaf = name.split("/")
        if path == ["fc"]:
            state[f"fc.{'weight' if leaf == 'kernel' else 'bias'}"] = (
                value.T if leaf == "kernel" else value
            )
        elif path[-1] == "conv":
            state[".".join(path) + ".weight"] = value.transpose(3, 2, 0, 1)
        else:
            state[".".join(path) + "." + bn[leaf]] = value
            state[".".join(path) + ".num_batches_tracked"] = np.array(0)
    state["AuxLogits.fc.weight"] = np.zeros((1000, 768), np.float32)  # unused by pool3
    return state


def test_architecture_has_pytorch_fids_weights(shapes):
    state = to_pytorch_fid({name: np.zeros(shape, np.float32) for name, shape in shapes.items()})
    for name, shape in KNOWN_TORCH_SHAPES.items():
        assert state[name].shape == shape, name
    assert sum(name.endswith(".conv.weight") for name in state) == 94  # InceptionV3's convolutions
    assert len(shapes) == 94 * 5 + 2


def test_conversion_inverts_the_documented_renaming(shapes):
    arrays = random_weights(shapes)
    converted = convert_pytorch_fid_state_dict(to_pytorch_fid(arrays))
    assert converted.keys() == arrays.keys()
    for name, value in arrays.items():
        np.testing.assert_array_equal(converted[name], value, err_msg=name)


def test_conversion_names():
    assert (
        pytorch_fid_name("Mixed_6b.branch7x7_2.conv.weight") == "Mixed_6b/branch7x7_2/conv/kernel"
    )
    assert pytorch_fid_name("Conv2d_1a_3x3.bn.running_mean") == "Conv2d_1a_3x3/bn/mean"
    assert pytorch_fid_name("Conv2d_1a_3x3.bn.weight") == "Conv2d_1a_3x3/bn/scale"
    assert pytorch_fid_name("fc.weight") == "fc/kernel"
    assert pytorch_fid_name("Mixed_5b.branch1x1.bn.num_batches_tracked") is None
    with pytest.raises(ValueError, match="not a pytorch-fid InceptionV3 weight name"):
        pytorch_fid_name("layer1.0.conv1.weight")


def test_conversion_reports_what_does_not_fit(shapes):
    state = to_pytorch_fid(random_weights(shapes))
    state["layer4.weight"] = np.zeros(3)
    del state["Mixed_7c.branch1x1.conv.weight"]
    state["fc.bias"] = np.zeros(1000)
    with pytest.raises(ValueError) as caught:
        convert_pytorch_fid_state_dict(state)
    message = str(caught.value)
    assert "'layer4.weight' is not a pytorch-fid" in message
    assert "missing 1 weights, e.g. ['Mixed_7c/branch1x1/conv/kernel']" in message
    assert "fc/bias: converted shape (1000,), expected (1008,)" in message


def test_the_script_needs_no_torch_and_checks_the_hash(monkeypatch, tmp_path):
    if not SCRIPT.is_file():
        pytest.skip("scripts/ ships in the sdist and the repository, not in the wheel")
    script = runpy.run_path(str(SCRIPT))  # defines main() without running it
    monkeypatch.setitem(sys.modules, "torch", None)  # makes any `import torch` fail
    copy = tmp_path / "in.pth"
    copy.write_bytes(b"not the published weights")
    with pytest.raises(ValueError, match="SHA-256 expected 6726825d0af5f729"):
        script["main"]([str(copy), "--cache-dir", str(tmp_path / "cache")])


def torch_bilinear(image, size):
    """F.interpolate(mode="bilinear", align_corners=False) for one HWC image, in NumPy."""

    def axis_weights(n_in):
        src = np.maximum((np.arange(size) + 0.5) * n_in / size - 0.5, 0.0)
        low = np.floor(src).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        frac = src - low
        matrix = np.zeros((size, n_in))
        np.add.at(matrix, (np.arange(size), low), 1 - frac)
        np.add.at(matrix, (np.arange(size), high), frac)
        return matrix

    rows, cols = axis_weights(image.shape[0]), axis_weights(image.shape[1])
    return np.einsum("ah,bw,hwc->abc", rows, cols, image)


def test_inputs_are_resized_like_pytorch_fid(rng):
    image = rng.uniform(-1, 1, size=(1, 5, 7, 3)).astype(np.float32)
    resized = np.asarray(as_inception_input(image))
    assert resized.shape == (1, 299, 299, 3)
    np.testing.assert_allclose(resized[0], torch_bilinear(image[0], 299), atol=1e-5)
    nchw = np.asarray(as_inception_input(image.transpose(0, 3, 1, 2)))
    np.testing.assert_array_equal(nchw, resized)
    full = rng.uniform(-1, 1, size=(1, 299, 299, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(as_inception_input(full)), full)


def test_wrong_inputs_are_refused():
    with pytest.raises(ValueError, match=r"RGB images .* got shape \(2, 32, 32, 1\).*grayscale"):
        as_inception_input(jnp.zeros((2, 32, 32, 1)))
    with pytest.raises(TypeError, match=r"x / 127\.5 - 1"):
        as_inception_input(np.zeros((2, 32, 32, 3), np.uint8))


def test_loading_a_file_of_another_network_fails_clearly(tmp_path):
    other = {"conv/kernel": np.zeros((3, 3, 3, 8)), "fc/kernel": np.zeros((2048, 1008))}
    np.savez(tmp_path / "other.npz", **other)
    with pytest.raises(ValueError, match="does not match InceptionV3: missing"):
        load_inception_v3(tmp_path / "other.npz")


@pytest.mark.slow
def test_features_and_loader_round_trip(tmp_path, shapes):
    arrays = random_weights(shapes, seed=1)
    np.savez(tmp_path / "given.npz", **arrays)
    model = load_inception_v3(tmp_path / "given.npz")
    save_inception_v3(model, tmp_path / "saved.npz")
    with np.load(tmp_path / "saved.npz", allow_pickle=False) as saved:
        assert sorted(saved.files) == sorted(arrays)
        for name in arrays:
            np.testing.assert_array_equal(saved[name], arrays[name])

    features = ModuleFunction(model, "features")
    full_size = jax.ShapeDtypeStruct((2, 299, 299, 3), jnp.float32)
    assert jax.eval_shape(features.apply, features.weights, full_size).shape == (2, 2048)
    logits = ModuleFunction(model, "probabilities")
    assert jax.eval_shape(logits.apply, logits.weights, full_size).shape == (2, 1008)

    image = np.random.default_rng(2).uniform(-1, 1, size=(1, 32, 32, 3)).astype(np.float32)
    compiled = jax.jit(features.apply)  # one compilation serves both weight sets
    out = np.asarray(compiled(features.weights, image))
    assert out.shape == (1, 2048) and np.isfinite(out).all() and out.std() > 0
    reloaded = ModuleFunction(load_inception_v3(tmp_path / "saved.npz"), "features")
    np.testing.assert_array_equal(np.asarray(compiled(reloaded.weights, image)), out)
