"""Metric writers: what each one writes is read back with the tracker's own formats."""

from __future__ import annotations

import glob
import io
import json
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artifex.generative_models.training.artifacts import image_grid
from artifex.generative_models.training.writers import (
    JsonlWriter,
    MetricWriter,
    MlflowWriter,
    MultiWriter,
    TensorBoardWriter,
    WandbWriter,
    flatten_hparams,
)

SCALARS = {2: {"d_loss": 0.5, "g_loss": 1.25}, 4: {"d_loss": 0.375, "g_loss": 1.5}}
HPARAMS = {
    "model": {"latent_dim": 64, "hidden_dims": (8, 16), "activation": None},
    "training": {"learning_rate": 2e-4, "bf16": True, "optimizer": "adam"},
}
FLAT = {
    "model.latent_dim": 64,
    "model.hidden_dims": "(8, 16)",
    "model.activation": "None",
    "training.learning_rate": 2e-4,
    "training.bf16": True,
    "training.optimizer": "adam",
}


def sample_grid() -> np.ndarray:
    """A uint8 RGB grid as the trainer makes it, with distinct pixels."""
    rng = np.random.default_rng(0)
    return image_grid(rng.uniform(-1, 1, (4, 5, 6, 3)).astype(np.float32))


def write_a_run(writer: MetricWriter, grid: np.ndarray) -> None:
    writer.write_hparams(HPARAMS)
    for step, scalars in SCALARS.items():
        writer.write_scalars(step, scalars)
    writer.write_images(4, {"samples": grid})
    writer.flush()
    writer.close()


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


# --- shared helpers ---------------------------------------------------------------------


def test_flatten_hparams_dots_nested_keys_and_strings_what_trackers_cannot_compare():
    assert flatten_hparams(HPARAMS) == FLAT
    assert flatten_hparams({"a": {"b": {"c": [1, 2]}}, "n": np.float32(0.5)}) == {
        "a.b.c": "[1, 2]",
        "n": 0.5,
    }


@pytest.mark.parametrize(
    ("image", "error", "message"),
    [
        (
            np.zeros((4, 4), np.uint8),
            ValueError,
            r"expected shape \(height, width, 1\|3\|4\), got \(4, 4\)",
        ),
        (np.zeros((2, 4, 4, 3), np.uint8), ValueError, r"got \(2, 4, 4, 3\)"),
        (np.zeros((4, 4, 2), np.uint8), ValueError, r"got \(4, 4, 2\)"),
        (np.zeros((4, 4, 3), np.float32), TypeError, "expected dtype uint8, got float32"),
    ],
)
def test_every_writer_refuses_a_bad_image_naming_what_it_expected_and_got(
    tmp_path, image, error, message
):
    writers = [TensorBoardWriter(tmp_path / "tb"), JsonlWriter(tmp_path / "m.jsonl")]
    for writer in writers:
        with pytest.raises(error, match=message) as raised:
            writer.write_images(1, {"samples": image})
        assert "'samples'" in str(raised.value) and "image_grid" in str(raised.value)
        writer.close()


def test_the_writers_follow_the_protocol():
    for cls in (TensorBoardWriter, JsonlWriter, WandbWriter, MlflowWriter, MultiWriter):
        for method in ("write_scalars", "write_images", "write_hparams", "flush", "close"):
            assert callable(getattr(cls, method)), (cls, method)


# --- JSON lines -------------------------------------------------------------------------


def test_jsonl_writer_appends_one_flushed_line_per_report(tmp_path):
    path = tmp_path / "run" / "metrics.jsonl"
    writer = JsonlWriter(path)
    assert isinstance(writer, MetricWriter)
    writer.write_scalars(2, {"d_loss": np.float32(0.5), "g_loss": 1.25})
    # Flushed at once: another reader sees the line before the writer is closed.
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        {"step": 2, "d_loss": 0.5, "g_loss": 1.25}
    ]
    writer.write_images(2, {"samples": sample_grid()})
    writer.write_hparams(HPARAMS)
    writer.close()
    # A second writer (a resumed run) appends.
    again = JsonlWriter(path)
    again.write_scalars(4, {"d_loss": 0.375})
    again.close()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == [{"step": 2, "d_loss": 0.5, "g_loss": 1.25}, {"step": 4, "d_loss": 0.375}]


# --- TensorBoard ------------------------------------------------------------------------


def read_events(logdir: Path) -> list:
    """Every Event of the run's event files, checksums verified (TFRecord framing)."""
    from tensorboardX.crc32c import crc32c
    from tensorboardX.proto.event_pb2 import Event

    def masked(data: bytes) -> int:
        crc = crc32c(data)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    events = []
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        raw, i = path.read_bytes(), 0
        while i < len(raw):
            header = raw[i : i + 8]
            (length,) = struct.unpack("<Q", header)
            assert struct.unpack("<I", raw[i + 8 : i + 12])[0] == masked(header)
            data = raw[i + 12 : i + 12 + length]
            assert struct.unpack("<I", raw[i + 12 + length : i + 16 + length])[0] == masked(data)
            events.append(Event.FromString(data))
            i += 16 + length
    return events


def test_tensorboard_writer_scalars_image_and_hparams_read_back(tmp_path):
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    grid = sample_grid()
    writer = TensorBoardWriter(tmp_path)
    assert isinstance(writer, MetricWriter)
    write_a_run(writer, grid)
    events = read_events(tmp_path)
    # Every value is in this run's own folder (no sub-run as add_hparams would make).
    assert [p.parent for p in tmp_path.rglob("events.out.tfevents.*")] == [tmp_path]

    scalars = {
        (e.step, v.tag): v.simple_value
        for e in events
        for v in e.summary.value
        if v.HasField("simple_value")
    }
    assert scalars == {
        (step, tag): pytest.approx(value)
        for step, row in SCALARS.items()
        for tag, value in row.items()
    }

    (image,) = [(e.step, v) for e in events for v in e.summary.value if v.HasField("image")]
    assert image[0] == 4 and image[1].tag == "samples"
    assert (image[1].image.height, image[1].image.width) == grid.shape[:2]
    np.testing.assert_array_equal(decode_png(image[1].image.encoded_image_string), grid)

    hparams = [
        v
        for e in events
        for v in e.summary.value
        if v.metadata.plugin_data.plugin_name == "hparams"
    ]
    (start,) = hparams
    assert start.tag == "_hparams_/session_start_info"
    content = HParamsPluginData.FromString(start.metadata.plugin_data.content)
    values = {
        name: getattr(value, value.WhichOneof("kind"))
        for name, value in content.session_start_info.hparams.items()
    }
    # TensorBoard keeps numbers as doubles.
    assert values == {k: float(v) if type(v) is int else v for k, v in FLAT.items()}


def test_tensorboard_reads_the_run_with_its_own_event_accumulator(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata as hparams_metadata

    grid = sample_grid()
    write_a_run(TensorBoardWriter(tmp_path), grid)
    accumulator = EventAccumulator(str(tmp_path), size_guidance={"images": 0, "scalars": 0})
    accumulator.Reload()
    for tag in ("d_loss", "g_loss"):
        points = [(s.step, s.value) for s in accumulator.Scalars(tag)]
        assert points == [(step, pytest.approx(row[tag])) for step, row in SCALARS.items()]
    (image,) = accumulator.Images("samples")
    assert image.step == 4
    np.testing.assert_array_equal(decode_png(image.encoded_image_string), grid)
    # What the HPARAMS tab reads: the session-start record of this run, no experiment
    # record (so the metric columns come from the run's scalars).
    content = accumulator.PluginTagToContent(hparams_metadata.PLUGIN_NAME)
    assert set(content) == {hparams_metadata.SESSION_START_INFO_TAG}
    start = hparams_metadata.parse_session_start_info_plugin_data(
        content[hparams_metadata.SESSION_START_INFO_TAG]
    )
    assert start.hparams["training.optimizer"].string_value == "adam"
    assert start.hparams["training.learning_rate"].number_value == pytest.approx(2e-4)
    assert start.hparams["training.bf16"].bool_value is True
    assert start.hparams["model.hidden_dims"].string_value == "(8, 16)"


# --- Weights & Biases -------------------------------------------------------------------


def read_wandb_records(run_dir: Path) -> list:
    """The protobuf records of an offline run's ``.wandb`` file.

    The file is a LevelDB-style log (the format wandb documents for its transaction log):
    a 7-byte header, then 32 KiB blocks of chunks, each ``crc32 (4) length (2) type (1)
    data``; a record is one FULL chunk or FIRST, MIDDLE..., LAST.
    """
    from wandb.proto.wandb_internal_pb2 import Record

    (path,) = run_dir.glob("run-*.wandb")
    raw = path.read_bytes()
    assert raw[:4] == b":W&B"
    block, i, pending, records = 32768, 7, b"", []
    while i + 7 <= len(raw):
        left = block - i % block
        if left < 7:  # a block's tail too short for a header is padding
            i += left
            continue
        _crc, length, kind = struct.unpack("<IHB", raw[i : i + 7])
        if kind == 0:
            i += left
            continue
        pending += raw[i + 7 : i + 7 + length]
        i += 7 + length
        if kind in (1, 4):  # FULL or LAST
            records.append(Record.FromString(pending))
            pending = b""
    return records


def read_complete_wandb_records(run_dir: Path, timeout: float = 60.0) -> list:
    """The records once wandb's service has written the run's exit record.

    ``run.finish()`` hands the end of the run to wandb's separate service process, which
    may still be writing the file when it returns (seen on a loaded 2-core machine).
    """
    deadline = time.monotonic() + timeout
    while True:
        records = read_wandb_records(run_dir)
        if any(r.WhichOneof("record_type") == "exit" for r in records):
            return records
        if time.monotonic() > deadline:
            return records  # the assertions below say what is missing
        time.sleep(0.2)


def test_wandb_writer_offline_run_holds_what_was_written(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    grid = sample_grid()
    writer = WandbWriter(project="artifex-test", dir=str(tmp_path), config={"seed": 3})
    assert isinstance(writer, MetricWriter)
    write_a_run(writer, grid)

    (run_dir,) = [Path(p) for p in glob.glob(str(tmp_path / "wandb" / "offline-run-*"))]
    records = read_complete_wandb_records(run_dir)
    history = {}
    config = {}
    for record in records:
        kind = record.WhichOneof("record_type")
        if kind == "history":
            items = {
                item.key or "/".join(item.nested_key): json.loads(item.value_json)
                for item in record.history.item
            }
            history.setdefault(record.history.step.num, {}).update(items)
        elif kind in ("config", "run"):
            updates = record.config.update if kind == "config" else record.run.config.update
            config.update({u.key: json.loads(u.value_json) for u in updates})
    for step, row in SCALARS.items():
        assert {k: history[step][k] for k in row} == row
    assert history[4]["samples/_type"] == "image-file"
    assert (history[4]["samples/height"], history[4]["samples/width"]) == grid.shape[:2]
    png = (run_dir / "files" / history[4]["samples/path"]).read_bytes()
    np.testing.assert_array_equal(decode_png(png), grid)
    assert {k: config[k] for k in FLAT} == FLAT and config["seed"] == 3


# --- MLflow -----------------------------------------------------------------------------


def test_mlflow_writer_file_store_holds_what_was_written(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    # MLflow 3 refuses a file store unless asked: this one is a test's scratch folder.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    grid = sample_grid()
    writer = MlflowWriter(tracking_uri=uri, experiment_name="artifex-test", run_name="digits")
    assert isinstance(writer, MetricWriter)
    write_a_run(writer, grid)

    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("artifex-test")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "digits" and run.info.status == "FINISHED"
    for tag in ("d_loss", "g_loss"):
        history = client.get_metric_history(run.info.run_id, tag)
        assert sorted((m.step, m.value) for m in history) == [
            (step, row[tag]) for step, row in SCALARS.items()
        ]
    assert run.data.params == {k: str(v) for k, v in FLAT.items()}
    (folder,) = client.list_artifacts(run.info.run_id)
    (png,) = [
        a.path
        for a in client.list_artifacts(run.info.run_id, folder.path)
        if a.path.endswith(".png")
    ]
    assert "samples+step+4+" in png
    local = client.download_artifacts(run.info.run_id, png, str(tmp_path / "download"))
    np.testing.assert_array_equal(decode_png(Path(local).read_bytes()), grid)


# --- optional libraries and fan-out -----------------------------------------------------


@pytest.mark.parametrize(
    ("module", "cls", "extra"),
    [("wandb", "WandbWriter", "wandb"), ("mlflow", "MlflowWriter", "mlflow")],
)
def test_optional_trackers_are_imported_only_on_construction_and_name_the_extra(module, cls, extra):
    # A fresh interpreter in which the library cannot be imported (None in sys.modules).
    script = f"""
import sys
sys.modules[{module!r}] = None
import artifex.generative_models.training.writers as writers
assert {module!r} not in [m.split(".")[0] for m in sys.modules if sys.modules[m] is not None]
try:
    writers.{cls}()
except ImportError as error:
    print(error)
else:
    raise SystemExit("no ImportError")
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert f'pip install "artifex-train[{extra}]"' in result.stdout
    assert f"{cls} needs the {module} library" in result.stdout


class Recorder:
    def __init__(self, log, name, fail_on_close=False):
        self.log, self.name, self.fail_on_close = log, name, fail_on_close

    def write_scalars(self, step, scalars):
        self.log.append((self.name, "scalars", step, dict(scalars)))

    def write_images(self, step, images):
        self.log.append((self.name, "images", step, sorted(images)))

    def write_hparams(self, hparams):
        self.log.append((self.name, "hparams", dict(hparams)))

    def flush(self):
        self.log.append((self.name, "flush"))

    def close(self):
        self.log.append((self.name, "close"))
        if self.fail_on_close:
            raise OSError(f"{self.name} could not close")


def test_multi_writer_fans_out_in_order_and_closes_every_writer():
    log: list = []
    first, second = Recorder(log, "a", fail_on_close=True), Recorder(log, "b")
    multi = MultiWriter([first, second])
    assert isinstance(first, MetricWriter) and isinstance(multi, MetricWriter)
    multi.write_hparams({"lr": 0.1})
    multi.write_scalars(3, {"loss": 1.0})
    multi.write_images(3, {"samples": None})
    multi.flush()
    with pytest.raises(OSError, match="a could not close"):
        multi.close()
    assert log == [
        ("a", "hparams", {"lr": 0.1}),
        ("b", "hparams", {"lr": 0.1}),
        ("a", "scalars", 3, {"loss": 1.0}),
        ("b", "scalars", 3, {"loss": 1.0}),
        ("a", "images", 3, ["samples"]),
        ("b", "images", 3, ["samples"]),
        ("a", "flush"),
        ("b", "flush"),
        ("a", "close"),
        ("b", "close"),
    ]
