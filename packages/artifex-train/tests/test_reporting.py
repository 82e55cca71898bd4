"""What the user watches: the progress bar and TensorBoard event files."""

import io
import struct

import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    DiscriminatorConfig,
    GANConfig,
    GeneratorConfig,
    LoggingConfig,
    TrainingConfig,
)
from artifex.generative_models.models.gan import GAN
from artifex.generative_models.training.progress import ProgressBar
from artifex.generative_models.training.tensorboard import EventWriter, crc32c, encode_event
from artifex.generative_models.training.trainer import Trainer


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_shows_position_speed_and_losses():
    bar = ProgressBar(100, stream=io.StringIO(), width=10)
    line = bar.render(30, 12.345, {"d_loss": 0.5, "g_loss": 1.25})
    assert line == "[###-------] 30/100  12.3 it/s  d_loss 0.5000  g_loss 1.2500"


def test_progress_bar_redraws_in_place_on_a_terminal_and_writes_lines_elsewhere():
    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        bar = ProgressBar(4, stream=stream, width=4)
        bar.update(2, 1.0, {"g_loss": 1.0})
        bar.update(4, 1.0, {"g_loss": 0.5})
        bar.close()
    assert terminal.getvalue().count("\r") == 2 and terminal.getvalue().endswith("\n")
    assert log.getvalue().splitlines() == [
        "[##--] 2/4  1.0 it/s  g_loss 1.0000",
        "[####] 4/4  1.0 it/s  g_loss 0.5000",
    ]


def test_crc32c_check_value():
    # The standard check value of CRC-32C (RFC 3720, appendix B.4).
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_scalar_event_bytes_follow_the_protobuf_wire_format():
    # Assembled by hand from the schema: tag byte = field << 3 | wire type.
    value = b"\x0a\x04loss" + b"\x15" + struct.pack("<f", 0.5)  # tag, simple_value
    summary = b"\x0a" + bytes([len(value)]) + value  # Summary.value
    expected = (
        b"\x09"
        + struct.pack("<d", 1.5)  # wall_time: field 1, 64-bit
        + b"\x10\x96\x01"  # step 150: field 2, varint (two bytes)
        + b"\x2a"
        + bytes([len(summary)])
        + summary  # summary: field 5, bytes
    )
    assert encode_event(1.5, 150, {"loss": 0.5}) == expected


def read_scalars(path):
    """Parse TFRecords and the scalar events in them (an independent minimal reader)."""

    def varint(data, i):
        shift = result = 0
        while True:
            byte = data[i]
            result |= (byte & 0x7F) << shift
            i, shift = i + 1, shift + 7
            if not byte & 0x80:
                return result, i

    def fields(data):
        i = 0
        while i < len(data):
            key, i = varint(data, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, i = varint(data, i)
            elif wire == 1:
                value, i = data[i : i + 8], i + 8
            elif wire == 5:
                value, i = data[i : i + 4], i + 4
            else:
                size, i = varint(data, i)
                value, i = data[i : i + size], i + size
            yield number, value

    raw, i, found = path.read_bytes(), 0, []
    while i < len(raw):
        (length,) = struct.unpack("<Q", raw[i : i + 8])
        data = raw[i + 12 : i + 12 + length]
        i += 16 + length
        event = dict(fields(data))
        if 5 in event:
            for _, value in fields(event[5]):
                tag_value = dict(fields(value))
                found.append(
                    (event[2], tag_value[1].decode(), struct.unpack("<f", tag_value[2])[0])
                )
    return found


def test_trainer_writes_tensorboard_scalars_that_match_its_history(tmp_path):
    model = GAN(
        GANConfig(
            generator=GeneratorConfig(hidden_dims=(8,), output_shape=(4,), latent_dim=2),
            discriminator=DiscriminatorConfig(hidden_dims=(8,)),
        ),
        rngs=nnx.Rngs(0),
    )
    rng = np.random.default_rng(0)
    data = iter(lambda: {"image": rng.uniform(-1, 1, (4, 4)).astype(np.float32)}, None)
    config = TrainingConfig(
        steps=4,
        steps_per_dispatch=2,
        logging=LoggingConfig(log_every=2, tensorboard=True, log_dir=str(tmp_path / "logs")),
        checkpoint=CheckpointConfig(every_n_steps=100, save_final=False),
    )
    trainer = Trainer(model, data, config, workdir=tmp_path)
    history = trainer.fit()
    (events,) = (tmp_path / "logs" / "tensorboard").glob("events.out.tfevents.*")
    scalars = read_scalars(events)
    for row in history:
        for tag in ("d_loss", "g_loss", "it_per_s"):
            assert (row["step"], tag, pytest.approx(row[tag], rel=1e-6)) in scalars
    # The header record says which format the file is.
    assert b"brain.Event:2" in events.read_bytes()


def test_event_writer_appends_records_with_valid_checksums(tmp_path):
    from artifex.generative_models.training.tensorboard import _masked_crc

    writer = EventWriter(tmp_path)
    writer.scalars(1, {"a": 1.0})
    writer.close()
    raw, i = writer.path.read_bytes(), 0
    records = 0
    while i < len(raw):
        header = raw[i : i + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", raw[i + 8 : i + 12])[0] == _masked_crc(header)
        data = raw[i + 12 : i + 12 + length]
        assert struct.unpack("<I", raw[i + 12 + length : i + 16 + length])[0] == _masked_crc(data)
        i, records = i + 16 + length, records + 1
    assert records == 2
