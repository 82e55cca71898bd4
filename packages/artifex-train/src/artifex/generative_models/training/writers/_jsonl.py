"""Scalars as JSON lines: the run folder's ``metrics.jsonl``.

Each row is written with one ``write`` and flushed, so a crash leaves whole rows and at
most one torn last line. :func:`read_rows` and :func:`drop_rows_after` (what a resume
does) repair a torn line, with a warning naming the file, and keep whatever they take out
of the log in a side file, ``<name>.dropped.jsonl``: nothing logged is lost.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from artifex.generative_models.training.writers._base import as_uint8_hwc

__all__ = ["JsonlWriter", "drop_rows_after", "read_rows"]


def side_file(path: Path) -> Path:
    """Where rows taken out of the log ``path`` are kept: ``<stem>.dropped.jsonl``."""
    return path.with_name(f"{path.stem}.dropped.jsonl")


def _split(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """The log's rows (text, parsed) and the lines that are not JSON objects (torn)."""
    rows: list[tuple[str, dict[str, Any]]] = []
    torn: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if isinstance(row, dict):
            rows.append((line, row))
        else:
            torn.append(line)
    return rows, torn


def drop_rows_after(path: str | Path, step: float) -> list[dict[str, Any]]:
    """Take the rows past ``step`` (and torn lines) out of the log ``path``; return the rest.

    What is taken out is appended to :func:`side_file` first, then the log is replaced
    atomically by its kept rows. A torn line is reported with a warning naming the file.
    """
    path = Path(path)
    if not path.is_file():
        return []
    text = path.read_bytes()
    rows, torn = _split(path)
    kept = [(line, row) for line, row in rows if row.get("step", 0) <= step]
    dropped = [line for line, row in rows if row.get("step", 0) > step]
    if torn:
        warnings.warn(
            f"{path}: {len(torn)} damaged line(s) (a row cut short by a crash) repaired; "
            f"kept in {side_file(path)}",
            stacklevel=2,
        )
    if dropped or torn or (text and not text.endswith(b"\n")):
        moved = [json.dumps({"torn": line}) for line in torn] + dropped
        if moved:
            with open(side_file(path), "ab", buffering=0) as side:
                side.write("".join(line + "\n" for line in moved).encode())
                os.fsync(side.fileno())
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text("".join(line + "\n" for line, _ in kept), encoding="utf-8")
        os.replace(temporary, path)
    return [row for _, row in kept]


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Every row of the log ``path`` (a torn line is repaired, see :func:`drop_rows_after`)."""
    return drop_rows_after(path, float("inf"))


class JsonlWriter:
    """Appends one JSON object ``{"step": step, **scalars}`` per :meth:`write_scalars`.

    Each line is written with one ``write`` and flushed, so a run that crashes loses no
    report and leaves no half row before the next one; a torn last line left by an earlier
    crash is repaired when the writer opens the file (see :func:`drop_rows_after`).
    Images and hyper-parameters are not kept here (the run folder keeps its config);
    images are still checked, so a bad one fails the same way with every writer.

    Args:
        path: The file (its folder is created); lines are appended to what is there.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        read_rows(self.path)  # a torn last line must not glue to the first new row
        self._file = self.path.open("ab", buffering=0)

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """Append ``{"step": step, **scalars}`` as one line."""
        row = {"step": int(step), **{name: float(value) for name, value in scalars.items()}}
        self._file.write((json.dumps(row) + "\n").encode())

    def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Check ``images``; nothing is written."""
        for name, image in images.items():
            as_uint8_hwc(name, image)

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        """Nothing is written: the run folder keeps its config."""

    def flush(self) -> None:
        """Nothing to do: every row went to the file as it was written (unbuffered)."""

    def close(self) -> None:
        """Close the file."""
        self._file.close()
