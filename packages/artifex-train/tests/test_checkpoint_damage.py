"""Damage anywhere in a checkpoint is detected on restore (issue 19, item 1).

Bits flipped at several places in the newest checkpoint's array data (its largest data
file, as in the issue, and every other file of the array database), in the JSON saved
beside the arrays (``extra``, a plain iterator's position) or in the layout that holds the
CRC-32s, are each a :class:`CheckpointError` naming that checkpoint (and, for an array, the
array), or, where the flipped bytes are not read at all (a node of the database that the
final manifest no longer uses), the state read back is bitwise the saved one. The previous
checkpoint still restores bitwise; the :class:`Trainer`'s fallback to it on resume is
tested in ``test_crash_resume.py``.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

OFFSETS = (0.05, 0.25, 0.5, 0.75, 0.95)

# In a subprocess: after a failed read, orbax's threads leave "Event loop is closed"
# exceptions behind, which pytest turns into errors of the next test.
DAMAGE_EVERYWHERE = textwrap.dedent(
    """
    import json, shutil, sys
    from pathlib import Path

    sys.path.insert(0, {tests!r})
    from test_checkpoints import Counter, CheckpointStore, assert_bitwise_equal, make_state

    root = Path({root!r})
    W = (64, 64)  # kernels of 16 KiB: array chunks in data files, not inlined in the tree
    pristine = CheckpointStore(root / "pristine")
    data = Counter()
    next(data)
    pristine.save(2, make_state(2, widths=W), {{"step": 2, "note": "two"}}, data_iterator=data)
    next(data)
    pristine.save(4, make_state(4, widths=W), {{"step": 4, "note": "four"}}, data_iterator=data)
    pristine.close()


    def flip(path, offset):
        raw = bytearray(path.read_bytes())
        raw[min(int(len(raw) * offset), len(raw) - 1)] ^= 0x01
        path.write_bytes(bytes(raw))


    def flip_json(path, old, new):
        text = path.read_text()
        assert old in text, (path, text[:200])
        path.write_text(text.replace(old, new, 1))


    # (what, the file under checkpoint 4, a byte offset or the text to change)
    step4 = root / "pristine" / "4"
    cases = []
    data_files = sorted(
        p for p in (step4 / "state").rglob("*") if p.is_file() and p.parent.name == "d"
    )
    largest = max(data_files, key=lambda p: p.stat().st_size)
    print("LARGEST " + str(largest.relative_to(step4)), largest.stat().st_size, flush=True)
    for i, path in enumerate(data_files):
        for offset in {offsets!r}:
            kind = "largest array file" if path == largest else f"array file {{i}}"
            cases.append((f"{{kind}} at {{offset:.0%}}", path, offset))
    cases += [
        ("extra: a digit", step4 / "extra" / "metadata", ('"step": 4', '"step": 5')),
        ("extra: a letter", step4 / "extra" / "metadata", ('"four"', '"fouR"')),
        ("data position", step4 / "data_state" / "metadata", ('"position": 2', '"position": 3')),
        ("layout: a shape", step4 / "layout" / "metadata", ('"shape": [3]', '"shape": [2]')),
        ("layout: a CRC", step4 / "layout" / "metadata", ('"crc32": ', '"crc32": 1')),
    ]

    report = {{}}
    for name, path, how in cases:
        shutil.rmtree(root / "case", ignore_errors=True)
        shutil.copytree(root / "pristine", root / "case")
        target = root / "case" / path.relative_to(root / "pristine")
        if isinstance(how, float):
            flip(target, how)
        else:
            flip_json(target, *how)
        store = CheckpointStore(root / "case")
        try:
            restored = store.restore(make_state(0, widths=W), 4, data_iterator=Counter())[1]
        except Exception as error:
            outcome = [type(error).__name__, str(error)]
        else:
            # Not refused: every array matched its CRC-32, so the flipped bytes were not
            # part of what was read (an OCDBT node the final manifest no longer uses).
            assert_bitwise_equal(make_state(4, widths=W), restored)
            outcome = "read intact"
        assert_bitwise_equal(
            make_state(2, widths=W), store.restore(make_state(0, widths=W), 2)[1]
        )
        store.close()
        report[name] = outcome
    print("REPORT " + json.dumps(report), flush=True)
    """
)


@pytest.mark.slow
def test_bit_flips_anywhere_in_the_newest_checkpoint_are_detected_every_time(tmp_path):
    script = DAMAGE_EVERYWHERE.format(
        tests=os.path.dirname(__file__), root=str(tmp_path), offsets=OFFSETS
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    report = json.loads(line.removeprefix("REPORT "))
    # The case: bits flipped in the largest data file.
    largest = [name for name in report if name.startswith("largest array file")]
    assert len(largest) == len(OFFSETS)
    json_cases = ["extra: a digit", "extra: a letter", "data position", "layout: a shape",
                  "layout: a CRC"]  # fmt: skip
    # In the largest file (the arrays' chunks), the flips in the data are refused; a flip
    # in bytes no read uses (its tail) may leave the state intact, as checked below.
    refused = [name for name in largest if report[name] != "read intact"]
    assert "largest array file at 50%" in refused and len(refused) >= len(OFFSETS) - 1, report
    for name in refused + json_cases:
        assert report[name] != "read intact", (name, report)
        kind, message = report[name]
        assert kind == "CheckpointError", (name, kind, message)
        assert "checkpoint step 4" in message and "other checkpoints kept: [2]" in message
    # Elsewhere a flip is refused, or the state read back is exactly the saved one (checked
    # bitwise in the script): never damaged arrays loaded silently.
    for name, outcome in report.items():
        assert outcome == "read intact" or outcome[0] == "CheckpointError", (name, outcome)
