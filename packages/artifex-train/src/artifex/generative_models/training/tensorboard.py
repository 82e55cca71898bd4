"""TensorBoard scalars without TensorFlow: event files written by hand.

An event file is a sequence of TFRecords (length, masked CRC-32C of the length, data,
masked CRC-32C of the data), each holding one serialized ``tensorflow.Event`` protocol
buffer. Scalars need three messages of that schema, so they are encoded here directly:

* ``Event``: ``wall_time`` (1, double), ``step`` (2, int64), ``file_version`` (3,
  string), ``summary`` (5, message);
* ``Summary``: repeated ``value`` (1, message);
* ``Summary.Value``: ``tag`` (1, string), ``simple_value`` (2, float).

TensorBoard (``tensorboard --logdir <log_dir>``) reads the files as it reads
TensorFlow's; nothing is imported to write them.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

__all__ = ["EventWriter", "crc32c", "encode_event"]


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            # 0x82F63B78: the Castagnoli polynomial, bit-reversed.
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, as TFRecords use it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, wire_type: int, payload: bytes) -> bytes:
    return _varint(number << 3 | wire_type) + payload


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _field(number, 2, _varint(len(payload)) + payload)


def encode_event(
    wall_time: float,
    step: int = 0,
    scalars: dict[str, float] | None = None,
    file_version: str | None = None,
) -> bytes:
    """One serialized ``Event``: scalars at ``step``, or the file-version header."""
    event = _field(1, 1, struct.pack("<d", wall_time)) + _field(2, 0, _varint(step))
    if file_version is not None:
        event += _length_delimited(3, file_version.encode())
    if scalars:
        summary = b"".join(
            _length_delimited(
                1,
                _length_delimited(1, tag.encode()) + _field(2, 5, struct.pack("<f", value)),
            )
            for tag, value in scalars.items()
        )
        event += _length_delimited(5, summary)
    return event


def _record(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", _masked_crc(length))
        + data
        + struct.pack("<I", _masked_crc(data))
    )


class EventWriter:
    """Appends scalar summaries to a new event file in ``log_dir``.

    Args:
        log_dir: The folder (created if needed); TensorBoard's ``--logdir``.
    """

    def __init__(self, log_dir: str | Path):
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        now = time.time()
        name = f"events.out.tfevents.{int(now)}.{socket.gethostname()}"
        self.path = self.log_dir / name
        self._file = self.path.open("ab")
        self._file.write(_record(encode_event(now, file_version="brain.Event:2")))
        self._file.flush()

    def scalars(self, step: int, values: dict[str, float]) -> None:
        """Record ``values`` (tag -> number) at ``step``."""
        self._file.write(_record(encode_event(time.time(), step, values)))
        self._file.flush()

    def close(self) -> None:
        """Close the file."""
        self._file.close()
