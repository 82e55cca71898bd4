"""The run folder: one run at a time, started with one config, resumed only with that one.

:meth:`RunFolder.open` is what :func:`~.run.run_experiment` (and so the CLI) does before
anything else touches the folder:

1. the folder is checked (not empty, not a file, creatable) and locked: an OS file lock
   (``fcntl.flock`` on ``.lock``) that the kernel releases when the process ends, however
   it ends, so a second run on the same folder is refused at once, naming the first's pid;
2. when the folder has checkpoints and the run resumes, the config is compared with the
   one the folder was started with (``config.yaml``, plus the changes recorded since in
   ``config-history.jsonl``): a change to a field that shapes the state or the data stream
   is refused, naming each field with its old and new value; the fields in
   :data:`SAFE_ON_RESUME` may change, and each change is recorded;
3. when the folder has checkpoints and the run starts over
   (``training.checkpoint.resume=false``), ``overwrite`` must be given, and the old run's
   files are moved aside into ``previous-<time>/``, never deleted.

Only when these checks pass is anything written: ``config.yaml`` once, at the start of the
run (never rewritten by a resume), and one row of ``config-history.jsonl`` per start and
resume.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["SAFE_ON_RESUME", "RunFolder", "RunFolderError", "checkpoint_steps", "config_changes"]

# Fields that may change when a run resumes: they decide how long it runs and what it
# reports, not what its checkpoints hold or which batches come next. A name ending in "."
# covers every field under it.
SAFE_ON_RESUME = (
    "training.steps",
    "training.logging.",
    "training.checkpoint.every_n_steps",
    "training.checkpoint.keep_last",
    "training.checkpoint.save_final",
    "training.checkpoint.resume",
    "training.checkpoint.directory",
    "training.evaluation.",
    # Every process count reads the same global batches (the data is cut by process
    # within each batch): a run may resume with more or fewer processes.
    "runtime.process_count",
    "training.data.device_prefetch",  # how far ahead batches are prepared, not which
)
# Not a config field, recorded as one: how many processes ran each start and resume.
PROCESS_COUNT = "runtime.process_count"
CONFIG, HISTORY, LOCK = "config.yaml", "config-history.jsonl", ".lock"
# What belongs to a run and is moved aside when the folder starts over.
_RUN_FILES = (
    "checkpoints",
    CONFIG,
    HISTORY,
    "metrics.jsonl",
    "metrics.dropped.jsonl",
    "scores.json",
    "loss_curves.png",
    "samples",
)


class RunFolderError(ValueError):
    """The run folder cannot be used as asked; the message says why and how to go on."""


def _flat(nested: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat(value, prefix=f"{name}."))
        else:
            # Tuples and lists alike, as the YAML file holds them.
            flat[name] = json.loads(json.dumps(value))
    return flat


def _covers(name: str, field: str) -> bool:
    return (
        field == name
        or (name.endswith(".") and field.startswith(name))
        or (field.startswith(name + "."))
    )


def _show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else json.dumps(value)


_ABSENT = object()


def config_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{dotted field: (old, new)}`` for every field whose value differs (flat dicts)."""
    return {
        field: (old.get(field, _ABSENT), new.get(field, _ABSENT))
        for field in sorted(set(old) | set(new))
        if old.get(field, _ABSENT) != new.get(field, _ABSENT)
    }


def _as_record(old: Any, new: Any) -> dict[str, Any]:
    """A change as JSON: ``{"old": ..., "new": ...}``, a side left out where absent."""
    return {k: v for k, v in (("old", old), ("new", new)) if v is not _ABSENT}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def checkpoint_steps(folder: Path) -> list[int]:
    """The steps of the complete checkpoints in ``folder/checkpoints`` (no orbax needed)."""
    directory = folder / "checkpoints"
    if not directory.is_dir():
        return []
    return sorted(int(p.name) for p in directory.iterdir() if p.is_dir() and p.name.isdigit())


class RunFolder:
    """A locked run folder; see the module docstring. Use :meth:`open`, then :meth:`close`.

    Attributes:
        path: The folder.
        resumed: Whether the run continues checkpoints already there.
        changes: The config changes accepted for this resume, ``{field: (old, new)}``.
        moved_aside: Where an overwritten run's files went, or None.
    """

    def __init__(self, path: Path, lock: Any):
        self.path = path
        self._lock = lock
        self.resumed = False
        self.changes: dict[str, tuple[Any, Any]] = {}
        self.moved_aside: Path | None = None

    @classmethod
    def open(
        cls,
        out: str | Path,
        experiment: Any,
        *,
        overwrite: bool = False,
        allow_config_change: Sequence[str] = (),
        process_index: int = 0,
        process_count: int = 1,
    ) -> RunFolder:
        """Check and lock ``out`` for a run of ``experiment``; record the start or resume.

        Args:
            out: The run folder (created if needed).
            experiment: The ``ExperimentConfig`` to run.
            overwrite: Start over in a folder that has checkpoints (its files are moved
                into ``previous-<time>/``). Needed when ``training.checkpoint.resume`` is
                false and there are checkpoints.
            allow_config_change: Fields (dotted; a prefix covers the fields under it) that
                may change on resume although they shape the state or the data.
            process_index: This process (only process 0 checks, locks and writes).
            process_count: The processes of the run (part of the global batch).

        Raises:
            RunFolderError: ``out`` is empty, a file, or cannot be created; another run
                holds it; its config cannot be read; the config changed in a refused field;
                it has checkpoints and the run would start over without ``overwrite``.
        """
        if not str(out).strip():
            raise RunFolderError("the run folder is empty (--out ''): name a folder")
        path = Path(out).expanduser().resolve()
        if process_index != 0:
            # One run, one lock: process 0 holds it for all the run's processes. The
            # others wait for its verdict, so that none trains in a folder it refused.
            if not _process_zero_accepts(True, process_count):
                raise RunFolderError(
                    f"process 0 of this run refused the run folder {path} (its error "
                    "message says why); this process stops too"
                )
            return cls(path, None)
        try:
            folder = cls._open_here(path, experiment, overwrite, allow_config_change, process_count)
        except BaseException:
            _process_zero_accepts(False, process_count)
            raise
        _process_zero_accepts(True, process_count)
        return folder

    @classmethod
    def _open_here(
        cls,
        path: Path,
        experiment: Any,
        overwrite: bool,
        allow_config_change: Sequence[str],
        process_count: int,
    ) -> RunFolder:
        if path.exists() and not path.is_dir():
            raise RunFolderError(f"{path} is a file, not a run folder: name a folder (--out)")
        try:
            path.mkdir(parents=True, exist_ok=True)
            lock = _lock(path)
        except OSError as error:
            raise RunFolderError(
                f"cannot use {path} as a run folder: {error.strerror or error}"
            ) from error
        folder = cls(path, lock)
        try:
            folder._check_and_record(experiment, overwrite, allow_config_change, process_count)
        except BaseException:
            folder.close()
            raise
        return folder

    def close(self) -> None:
        """Release the lock (the kernel does it too when the process ends)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------

    def _check_and_record(
        self,
        experiment: Any,
        overwrite: bool,
        allowed: Sequence[str],
        process_count: int,
    ) -> None:
        current = {
            **_flat(experiment.to_dict(include_type=True)),
            PROCESS_COUNT: process_count,
        }
        steps = checkpoint_steps(self.path)
        if steps and experiment.training.checkpoint.resume:
            self._check_resume(experiment, current, allowed, steps)
            return
        if steps and not overwrite:
            raise RunFolderError(
                f"{self.path} holds the checkpoints of a run (steps {steps}) and "
                "training.checkpoint.resume is false: pass --overwrite to start over (its "
                "files are moved into previous-<time>/ in the folder), or use another folder"
            )
        if any((self.path / name).exists() for name in _RUN_FILES):
            # An earlier run here: replaced (--overwrite), or stopped before its first
            # checkpoint. Its files are kept, out of the way.
            self.moved_aside = self._move_aside()
        (self.path / CONFIG).write_text(experiment.to_yaml(include_type=True))
        self._record("start", {PROCESS_COUNT: process_count}, moved_aside=self.moved_aside)

    def _check_resume(
        self,
        experiment: Any,
        current: dict[str, Any],
        allowed: Sequence[str],
        steps: list[int],
    ) -> None:
        started = self._started_with()
        if started is None:
            # A folder written by an older version (or by the Trainer alone): the config it
            # was started with is not known; this one becomes the record.
            (self.path / CONFIG).write_text(experiment.to_yaml(include_type=True))
            self._record("adopted", {PROCESS_COUNT: current[PROCESS_COUNT]}, steps=steps)
            return
        changes = config_changes(started, current)
        refused = {
            field: change
            for field, change in changes.items()
            if not any(_covers(name, field) for name in (*SAFE_ON_RESUME, *allowed))
        }
        if refused:
            allow = " ".join(f"--allow-config-change {field}" for field in refused)
            raise RunFolderError(
                f"{self.path} holds checkpoints (steps {steps}) of a run started with "
                "another config; resuming it with this one would change what the "
                "checkpoints hold or the data they continue with:\n"
                + "".join(
                    f"  {field}: {_show(old)} -> {_show(new)}\n"
                    for field, (old, new) in refused.items()
                )
                + "Start a new run in another folder (--out), or, if the change is safe, "
                f"resume with {allow}"
            )
        self.resumed = True
        self.changes = changes
        forced = sorted(f for f in changes if not any(_covers(n, f) for n in SAFE_ON_RESUME))
        self._record(
            "resume",
            {f: _as_record(*change) for f, change in changes.items()},
            steps=steps,
            forced=forced,
        )

    def _started_with(self) -> dict[str, Any] | None:
        """The effective config so far: ``config.yaml`` with the recorded changes applied."""
        from artifex.generative_models.core.configuration import ExperimentConfig

        config_file = self.path / CONFIG
        if not config_file.is_file():
            return None
        try:
            started = ExperimentConfig.from_yaml(config_file.read_text())
        except Exception as error:  # YAML, unknown classes, values: all mean unreadable
            raise RunFolderError(
                f"{config_file} (the config this run was started with) cannot be read: "
                f"{type(error).__name__}: {str(error)[:200]}; restore it, or use another folder"
            ) from error
        flat = _flat(started.to_dict(include_type=True))
        for row in self._history():
            for field, value in (row.get("values") or {}).items():
                flat[field] = value
            for field, change in (row.get("changes") or {}).items():
                if "new" in change:
                    flat[field] = change["new"]
                else:
                    flat.pop(field, None)
        return flat

    def _history(self) -> list[dict[str, Any]]:
        history = self.path / HISTORY
        if not history.is_file():
            return []
        rows = []
        for number, line in enumerate(history.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise RunFolderError(
                    f"{history} line {number} is not JSON ({error.msg}); the folder's "
                    "config history is damaged: repair or remove that line"
                ) from error
        return rows

    def _record(self, event: str, values: Mapping[str, Any], **more: Any) -> None:
        key = "changes" if event == "resume" else "values"
        row = {"time": _now(), "event": event, "pid": os.getpid(), key: dict(values)}
        row.update({k: str(v) if isinstance(v, Path) else v for k, v in more.items() if v})
        _append_line(self.path / HISTORY, json.dumps(row))

    def _move_aside(self) -> Path:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.path / f"previous-{stamp}"
        n = 1
        while target.exists():
            n += 1
            target = self.path / f"previous-{stamp}-{n}"
        target.mkdir()
        for name in _RUN_FILES:
            if (self.path / name).exists():
                os.replace(self.path / name, target / name)
        return target


def _process_zero_accepts(accepted: bool, process_count: int) -> bool:
    """Process 0's ``accepted``, for every process of a multi-process run (a collective)."""
    if process_count == 1:
        return accepted
    import numpy as np
    from jax.experimental import multihost_utils

    return bool(multihost_utils.broadcast_one_to_all(np.int32(accepted)))


def _append_line(path: Path, line: str) -> None:
    """Append ``line`` and a newline in one ``write``, then flush it to the disk."""
    with open(path, "ab", buffering=0) as file:
        file.write((line + "\n").encode())
        os.fsync(file.fileno())


def _lock(folder: Path) -> Any:
    """Lock ``folder/.lock`` for this process, writing its pid there.

    Raises:
        RunFolderError: Another process holds the lock (the message names its pid).
    """
    file = open(folder / LOCK, "a+")  # noqa: SIM115 - held until the run ends
    if fcntl is None:  # pragma: no cover
        return file
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.seek(0)
        pid = file.read().strip() or "unknown"
        file.close()
        raise RunFolderError(
            f"{folder} is in use by another run (pid {pid}): one run per folder; wait for "
            "it to end or stop it, or use another folder"
        ) from None
    file.seek(0)
    file.truncate()
    file.write(f"{os.getpid()}\n")
    file.flush()
    return file
