"""Weights without PyTorch: the restricted .pth reader, SHA-256 checks, the cache, fetching.

The ``.pth`` files are built here byte for byte as ``torch.save`` writes them (checked
against PyTorch 2.14's output with ``pickletools``): a protocol-2 pickle of an
``OrderedDict`` whose tensors are ``GLOBAL torch._utils _rebuild_tensor_v2`` applied to
``(storage, offset, size, stride, requires_grad, OrderedDict())``, each storage a
``BINPERSID`` of ``('storage', GLOBAL torch FloatStorage, key, 'cpu', numel)``; zip records
``<name>/data.pkl``, ``<name>/data/<key>``, ``<name>/byteorder``, ``<name>/version``; or the
legacy stream of five pickles followed by ``int64 numel`` + bytes per storage.
"""

import collections
import hashlib
import http.server
import io
import os
import pickle
import socket
import struct
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from artifex.generative_models.core.evaluation.metrics import (
    PYTORCH_FID_WEIGHTS_SHA256,
    UnsafePickleError,
    convert_inception_weights,
    fetch_weights,
    file_sha256,
    inception_weights_path,
    load_inception_v3,
    read_torch_state_dict,
)
from artifex.generative_models.core.evaluation.metrics._weights import check_sha256
from artifex.generative_models.core.evaluation.metrics.inception_conversion import (
    expected_inception_shapes,
)

# --- writing .pth files the way torch.save does, without torch ------------------------------

_STORAGE_NAMES = {
    np.dtype(np.float32): "FloatStorage",
    np.dtype(np.float64): "DoubleStorage",
    np.dtype(np.float16): "HalfStorage",
    np.dtype(np.int64): "LongStorage",
    np.dtype(np.int32): "IntStorage",
    np.dtype(np.uint8): "ByteStorage",
    np.dtype(np.bool_): "BoolStorage",
}


class Global:
    """Pickles as ``GLOBAL module name``, whatever is importable here (torch need not be)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # the pickler insists that reduce functions are callable
        raise AssertionError("never called")


class Storage:
    """A storage: a flat array under a key; pickled by reference (persistent id)."""

    def __init__(self, key, elements):
        self.key, self.elements = key, np.ascontiguousarray(elements).reshape(-1)


class Tensor:
    """A view of a storage, pickled as torch pickles tensors."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        rebuild = Global("torch._utils", "_rebuild_tensor_v2")
        args = (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict())
        return rebuild, args


class Evil:
    """What an attacker would pickle: ``os.system(command)`` on load."""

    def __init__(self, module, name, *args):
        self.module, self.name, self.args = module, name, args

    def __reduce__(self):
        return Global(self.module, self.name), self.args


class TorchLikePickler(pickle._Pickler):  # the Python pickler: its dispatch is extensible
    dispatch = pickle._Pickler.dispatch.copy()

    def save_global_stand_in(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        self.memoize(obj)

    dispatch[Global] = save_global_stand_in

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            kind = Global("torch", _STORAGE_NAMES[obj.elements.dtype])
            return ("storage", kind, obj.key, "cpu", obj.elements.size)
        return None


def dumps(obj):
    stream = io.BytesIO()
    TorchLikePickler(stream, protocol=2).dump(obj)
    return stream.getvalue()


def storages_of(state):
    found = {}
    for value in state.values():
        if isinstance(value, Tensor):
            found[value.storage.key] = value.storage
    return found


def write_zip_pth(path, state, *, name="archive", byteorder="little"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{name}/data.pkl", dumps(state))
        archive.writestr(f"{name}/byteorder", byteorder)
        for key, storage in storages_of(state).items():
            order = "<" if byteorder == "little" else ">"
            raw = storage.elements.astype(storage.elements.dtype.newbyteorder(order)).tobytes()
            archive.writestr(f"{name}/data/{key}", raw)
        archive.writestr(f"{name}/version", "3\n")
    return path


def write_legacy_pth(path, state, *, truncate=0):
    storages = storages_of(state)
    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)
    out.write(dumps(state))
    pickle.dump(list(storages), out, protocol=2)
    for storage in storages.values():
        out.write(struct.pack("<q", storage.elements.size))
        out.write(storage.elements.astype(storage.elements.dtype.newbyteorder("<")).tobytes())
    data = out.getvalue()
    Path(path).write_bytes(data[: len(data) - truncate])
    return path


def tensor(array, key):
    """A contiguous tensor holding ``array``, in its own storage."""
    array = np.array(array, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
    strides = tuple(s // array.itemsize for s in array.strides)
    return Tensor(Storage(key, array), 0, array.shape, strides)


@pytest.fixture
def views():
    """Tensors that exercise dtypes, strides, offsets and shared storages, and their values."""
    base = np.arange(12, dtype=np.float32) * 1.5 - 4.0
    shared = Storage("0", base)
    state = collections.OrderedDict()
    expected = {}
    state["matrix"] = Tensor(shared, 0, (3, 4), (4, 1))
    expected["matrix"] = base.reshape(3, 4)
    state["transposed"] = Tensor(shared, 0, (4, 3), (1, 4))  # matrix.t(), same storage
    expected["transposed"] = base.reshape(3, 4).T
    state["row_slice"] = Tensor(shared, 5, (2, 3), (4, 1))  # matrix[1:, 1:], offset 5
    expected["row_slice"] = base.reshape(3, 4)[1:, 1:]
    state["count"] = tensor(np.array(7, np.int64), "1")  # a 0-d num_batches_tracked
    expected["count"] = np.array(7, np.int64)
    halves = np.array([0.5, -2.0, 65504.0], np.float16)
    state["half"] = tensor(halves, "2")
    expected["half"] = halves
    flags = np.array([[True, False], [False, True]])
    state["flags"] = tensor(flags, "3")
    expected["flags"] = flags
    doubles = np.random.default_rng(0).normal(size=(2, 2, 3))
    state["double"] = tensor(doubles, "4")
    expected["double"] = doubles
    state["empty"] = Tensor(Storage("5", np.zeros(0, np.int32)), 0, (0, 3), (3, 1))
    expected["empty"] = np.zeros((0, 3), np.int32)
    return state, expected


def assert_same_state(got, expected):
    assert list(got) == list(expected)
    for name, value in expected.items():
        assert got[name].dtype == value.dtype, name
        assert got[name].shape == value.shape, name
        np.testing.assert_array_equal(got[name], value, err_msg=name)
        assert got[name].flags.c_contiguous and got[name].flags.writeable


# --- the reader -----------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_reads_values_dtypes_strides_offsets(tmp_path, views, layout):
    state, expected = views
    path = tmp_path / "model.pth"
    (write_zip_pth if layout == "zip" else write_legacy_pth)(path, state)
    assert_same_state(read_torch_state_dict(path), expected)


def test_reads_a_big_endian_zip(tmp_path, views):
    state, expected = views
    path = write_zip_pth(tmp_path / "big.pth", state, byteorder="big", name="other_name")
    got = read_torch_state_dict(path)
    assert_same_state(got, expected)
    assert got["matrix"].dtype.byteorder in ("=", "|")  # native, ready for jax


def test_files_torch_itself_wrote_read_the_same(tmp_path):
    torch = pytest.importorskip("torch")
    matrix = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    state = collections.OrderedDict(
        t=matrix.t(),
        s=matrix[1:, 1:],
        n=torch.tensor(3),
        h=torch.randn(5).half(),
        b=torch.randn(2, 3).bfloat16(),
        p=torch.nn.Parameter(torch.randn(2, 2)),
    )
    for zipped in (True, False):
        path = tmp_path / f"torch_{zipped}.pth"
        torch.save(state, path, _use_new_zipfile_serialization=zipped)
        got = read_torch_state_dict(path)
        for name, value in state.items():
            reference = value.detach().float().numpy() if name == "b" else value.detach().numpy()
            np.testing.assert_array_equal(np.asarray(got[name], reference.dtype), reference)
        assert str(got["b"].dtype) == "bfloat16"


@pytest.mark.parametrize(
    ("module", "name"),
    [("os", "system"), ("posix", "system"), ("builtins", "eval"), ("subprocess", "Popen")],
)
@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path, module, name, layout):
    marker = tmp_path / "pwned"
    command = f"touch {marker}"
    payload = {
        "eval": f"open({str(marker)!r}, 'w').close()",
        "Popen": ["touch", str(marker)],
    }.get(name, command)
    state = collections.OrderedDict(weight=tensor(np.ones(2, np.float32), "0"))
    state["bias"] = Evil(module, name, payload)
    path = tmp_path / "evil.pth"
    (write_zip_pth if layout == "zip" else write_legacy_pth)(path, state)
    with pytest.raises(UnsafePickleError) as caught:
        read_torch_state_dict(path)
    message = str(caught.value)
    assert f"global {module}.{name}" in message
    assert "never runs code" in message
    assert isinstance(caught.value, ValueError)
    assert not marker.exists()


def test_a_tensor_reaching_past_its_storage_is_refused(tmp_path):
    storage = Storage("0", np.zeros(6, np.float32))
    state = collections.OrderedDict(w=Tensor(storage, 2, (2, 3), (3, 1)))  # needs 8 elements
    with pytest.raises(ValueError, match=r"reaches element 7, but the storage holds 6"):
        read_torch_state_dict(write_zip_pth(tmp_path / "bad.pth", state))
    negative = collections.OrderedDict(w=Tensor(storage, 5, (2,), (-1,)))
    with pytest.raises(ValueError, match="negative size, stride or offset"):
        read_torch_state_dict(write_zip_pth(tmp_path / "neg.pth", negative))


def test_damaged_and_foreign_files_are_refused(tmp_path, views):
    state, _ = views
    with pytest.raises(ValueError, match="is truncated"):
        read_torch_state_dict(write_legacy_pth(tmp_path / "cut.pth", state, truncate=3))
    text = tmp_path / "notes.pth"
    text.write_bytes(b"hello, these are not weights")
    with pytest.raises(ValueError, match="neither a PyTorch zip file nor a legacy"):
        read_torch_state_dict(text)
    plain = tmp_path / "plain.pth"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("readme.txt", "no pickle here")
    with pytest.raises(ValueError, match=r"one <name>/data\.pkl, found \[\]"):
        read_torch_state_dict(plain)
    checkpoint = collections.OrderedDict(epoch=tensor(np.array(3), "0"), note="text")
    with pytest.raises(ValueError, match=r"other entries \{'note': 'str'\}"):
        read_torch_state_dict(write_zip_pth(tmp_path / "ckpt.pth", checkpoint))


# --- hashes ---------------------------------------------------------------------------------


def test_sha256_checks():
    digest = hashlib.sha256(b"weights").hexdigest()
    check_sha256(digest, digest, "f")
    check_sha256(digest, digest[:8].upper(), "f")  # a prefix, as torch.hub checks names
    other = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(ValueError, match=f"SHA-256 expected {other}, got {digest}"):
        check_sha256(digest, other, "f")
    with pytest.raises(ValueError, match="8 to 64 hex digits"):
        check_sha256(digest, digest[:6], "f")
    with pytest.raises(ValueError, match="8 to 64 hex digits"):
        check_sha256(digest, "not-a-hash", "f")
    # The pinned hash is consistent with the 8 hex digits in pytorch-fid's file name.
    assert len(PYTORCH_FID_WEIGHTS_SHA256) == 64
    assert PYTORCH_FID_WEIGHTS_SHA256.startswith("6726825d")


# --- conversion into the cache --------------------------------------------------------------


def pytorch_fid_state(seed=0):
    """A random state dict with pytorch-fid's names and shapes, written as torch would.

    The names and PyTorch layouts come from our InceptionV3 through the inverse of the
    documented renaming (``<block>/conv/kernel`` HWIO → ``<block>.conv.weight`` OIHW, ...).
    """
    rng = np.random.default_rng(seed)
    bn = {"scale": "weight", "bias": "bias", "mean": "running_mean", "var": "running_var"}
    state = collections.OrderedDict()
    ours = {}
    for index, (name, shape) in enumerate(sorted(expected_inception_shapes().items())):
        value = rng.standard_normal(shape, dtype=np.float32)
        ours[name] = value
        *path, leaf = name.split("/")
        if path == ["fc"]:
            torch_name, torch_value = f"fc.{'weight' if leaf == 'kernel' else 'bias'}", value.T
        elif leaf == "kernel":
            torch_name, torch_value = ".".join(path) + ".weight", value.transpose(3, 2, 0, 1)
        else:
            torch_name, torch_value = ".".join(path) + "." + bn[leaf], value
        state[torch_name] = tensor(np.ascontiguousarray(torch_value), str(index))
        if leaf == "var":
            state[".".join(path) + ".num_batches_tracked"] = tensor(
                np.array(0, np.int64), f"n{index}"
            )
    return state, ours


@pytest.fixture(scope="module")
def inception_pth(tmp_path_factory):
    state, ours = pytorch_fid_state()
    path = write_legacy_pth(tmp_path_factory.mktemp("pth") / "my_inception.pth", state)
    return path, ours


@pytest.mark.slow
def test_convert_into_the_cache_and_load_from_it(tmp_path, monkeypatch, inception_pth):
    path, ours = inception_pth
    monkeypatch.setenv("ARTIFEX_CACHE", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError) as missing:
        load_inception_v3()
    message = str(missing.value)
    assert str(inception_weights_path()) in message
    assert "artifex-metrics convert-inception pt_inception-2015-12-05-6726825d.pth" in message
    assert "fetch_inception_weights()" in message

    # Not the published file: refused, naming both hashes, unless its hash is passed.
    actual = file_sha256(path)
    with pytest.raises(ValueError, match=f"expected {PYTORCH_FID_WEIGHTS_SHA256}, got {actual}"):
        convert_inception_weights(path)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    converted = convert_inception_weights(path, sha256=actual)
    assert converted.parent == tmp_path / "cache"
    assert converted.name == f"inception-{actual[:16]}.npz"  # never mistaken for the standard
    assert sorted(p.name for p in converted.parent.iterdir()) == [converted.name]  # no temp
    with np.load(converted, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(ours)
        for name, value in ours.items():
            np.testing.assert_array_equal(data[name], value, err_msg=name)
    model = load_inception_v3(converted)
    np.testing.assert_array_equal(
        np.asarray(model.Mixed_6b.branch7x7_2.conv.kernel[...]),
        ours["Mixed_6b/branch7x7_2/conv/kernel"],
    )

    # The standard file's conversion lands where load_inception_v3() looks by default.
    monkeypatch.setattr(
        "artifex.generative_models.core.evaluation.metrics.inception_conversion."
        "PYTORCH_FID_WEIGHTS_SHA256",
        actual,
    )
    monkeypatch.setattr(
        "artifex.generative_models.core.evaluation.metrics._weights.PYTORCH_FID_WEIGHTS_SHA256",
        actual,
    )
    standard = convert_inception_weights(path)
    assert (
        standard
        == inception_weights_path()
        == tmp_path / "cache" / ("pt_inception-2015-12-05-6726825d.npz")
    )
    np.testing.assert_array_equal(np.asarray(load_inception_v3().fc.kernel[...]), ours["fc/kernel"])


def test_a_state_dict_of_another_network_is_refused(tmp_path):
    state = collections.OrderedDict(
        {"layer1.0.conv1.weight": tensor(np.zeros((4, 3, 3, 3), np.float32), "0")}
    )
    path = write_zip_pth(tmp_path / "resnet.pth", state)
    with pytest.raises(ValueError, match=r"'layer1\.0\.conv1\.weight' is not a pytorch-fid"):
        convert_inception_weights(path, sha256=file_sha256(path), cache_dir=tmp_path / "c")
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())


# --- fetching -------------------------------------------------------------------------------

PAYLOAD = os.urandom(3000) + b"end"


class Handler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 - shared on purpose, reset by the fixture

    def do_GET(self):  # the name http.server calls
        Handler.requests.append(self.path)
        if self.path == "/weights.bin":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/truncated.bin":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD) + 5000))
            self.end_headers()
            self.wfile.write(PAYLOAD[:1000])
            self.wfile.flush()
            self.close_connection = True  # closes after 1000 of the 8003 announced bytes
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_fetch_with_the_right_hash(server, tmp_path):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    path = fetch_weights(f"{server}/weights.bin", sha256=digest, cache_dir=tmp_path)
    assert path == tmp_path / "weights.bin" and path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]
    again = fetch_weights(f"{server}/weights.bin", sha256=digest[:8], cache_dir=tmp_path)
    assert again == path and Handler.requests == ["/weights.bin"]  # cached: no second GET


def test_fetch_with_a_wrong_hash_keeps_nothing(server, tmp_path):
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(ValueError, match=f"expected {wrong}, got "):
        fetch_weights(f"{server}/weights.bin", sha256=wrong, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_download_keeps_nothing(server, tmp_path):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    with pytest.raises(ConnectionError, match=r"stopped early: got 1000 bytes of 8003"):
        fetch_weights(f"{server}/truncated.bin", sha256=digest, cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_and_a_server_down_name_the_url(server, tmp_path):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    with pytest.raises(ConnectionError, match=r"missing\.bin failed: the server answered 404"):
        fetch_weights(f"{server}/missing.bin", sha256=digest, cache_dir=tmp_path)
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/weights.bin"
    with pytest.raises(ConnectionError, match=rf"could not download {url}: .*refused"):
        fetch_weights(url, sha256=digest, cache_dir=tmp_path, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_the_refused_payload_is_live(tmp_path):
    """The os.system payload above does run under a plain unpickler: the refusal is real."""
    marker = tmp_path / "ran"
    pickle.loads(dumps(Evil("os", "system", f"touch {marker}")))  # on purpose
    assert marker.exists()
