"""``metrics.jsonl`` agrees with the checkpoints (issue 19, item 4).

On resume, rows past the restored step are taken out of the log (into
``metrics.dropped.jsonl``) before new ones are written, so every step is logged once; a
row cut short by a crash is repaired with a warning naming the file; each row is written
with one ``write``.
"""

import json
import sys
from pathlib import Path

import pytest

from artifex.generative_models.training.writers import JsonlWriter
from artifex.generative_models.training.writers._jsonl import drop_rows_after, read_rows

sys.path.insert(0, str(Path(__file__).parent))
from test_crash_resume import make_trainer


def write_log(path, steps, torn=None):
    text = "".join(json.dumps({"step": s, "g_loss": s / 10}) + "\n" for s in steps)
    path.write_text(text + (torn or ""))


def lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_rows_past_the_restored_step_go_to_a_side_file(tmp_path):
    log = tmp_path / "metrics.jsonl"
    write_log(log, [2, 4, 6, 8])
    kept = drop_rows_after(log, 4)
    assert [row["step"] for row in kept] == [2, 4]
    assert [row["step"] for row in lines(log)] == [2, 4]
    assert [row["step"] for row in lines(tmp_path / "metrics.dropped.jsonl")] == [6, 8]


def test_a_torn_last_line_is_repaired_with_a_warning_naming_the_file(tmp_path):
    log = tmp_path / "metrics.jsonl"
    write_log(log, [2, 4], torn='{"step": 6, "g_lo')
    with pytest.warns(UserWarning, match=rf"{log}: 1 damaged line\(s\)") as caught:
        rows = read_rows(log)
    assert len(caught) == 1
    assert [row["step"] for row in rows] == [2, 4]
    assert log.read_text().endswith("\n") and len(lines(log)) == 2
    assert lines(tmp_path / "metrics.dropped.jsonl") == [{"torn": '{"step": 6, "g_lo'}]
    # A writer opened on a torn log repairs it first: its first row is a line of its own.
    write_log(log, [2], torn='{"step": 4')
    with pytest.warns(UserWarning, match="damaged line"):
        writer = JsonlWriter(log)
    writer.write_scalars(4, {"g_loss": 0.5})
    writer.close()
    assert [row["step"] for row in lines(log)] == [2, 4]


class Recorded:
    """A file that records each write it is asked for."""

    def __init__(self, file):
        self.file, self.writes = file, []

    def write(self, data):
        self.writes.append(data)
        return self.file.write(data)

    def close(self):
        self.file.close()


def test_each_row_is_one_unbuffered_write(tmp_path):
    writer = JsonlWriter(tmp_path / "metrics.jsonl")
    writer._file = recorded = Recorded(writer._file)
    writer.write_scalars(2, {"g_loss": 1.0, "d_loss": 2.0})
    # Unbuffered: the row is in the file before the writer is flushed or closed.
    assert lines(tmp_path / "metrics.jsonl") == [{"step": 2, "g_loss": 1.0, "d_loss": 2.0}]
    writer.close()
    assert recorded.writes == [b'{"step": 2, "g_loss": 1.0, "d_loss": 2.0}\n']


def test_rows_of_a_run_stopped_before_its_first_checkpoint_are_not_logged_twice(tmp_path):
    # The first run logs steps 2 and 4 and dies before any checkpoint (none is saved).
    make_trainer(tmp_path, steps=4, every_n_steps=100, save_final=False).fit()
    assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").iterdir())
    assert [row["step"] for row in lines(tmp_path / "metrics.jsonl")] == [2, 4]
    # The rerun starts from step 0: its rows replace those, which are kept aside.
    make_trainer(tmp_path, steps=6).fit()
    assert [row["step"] for row in lines(tmp_path / "metrics.jsonl")] == [2, 4, 6]
    assert [row["step"] for row in lines(tmp_path / "metrics.dropped.jsonl")] == [2, 4]


def test_a_resume_after_a_torn_row_warns_and_logs_every_step_once(tmp_path):
    make_trainer(tmp_path, steps=4).fit()  # checkpoints 2 and 4
    log = tmp_path / "metrics.jsonl"
    with log.open("a") as file:  # rows of steps 6 (whole) and 8 (cut) of a killed run
        file.write(json.dumps({"step": 6, "g_loss": 0.1}) + '\n{"step": 8, "g_l')
    with pytest.warns(UserWarning, match=rf"{log}: 1 damaged line"):
        make_trainer(tmp_path, steps=8).fit()
    assert [row["step"] for row in lines(log)] == [2, 4, 6, 8]
    side = lines(tmp_path / "metrics.dropped.jsonl")
    assert {"torn": '{"step": 8, "g_l'} in side and {"step": 6, "g_loss": 0.1} in side
