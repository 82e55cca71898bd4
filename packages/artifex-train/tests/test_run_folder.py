"""The run folder: resumed only with the config it was started with, one run at a time,
never wiped, and a log that agrees with its checkpoints (issue 19, items 2, 3, 4 and 7).

One tiny run (the ``gan`` preset shrunk to 16 units, 4 steps, checkpoints at 2 and 4) is
trained once through the CLI; each test works on a copy of its folder. Most refusals
happen before anything is compiled.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from artifex.generative_models.training import cli
from artifex.generative_models.training._runfolder import (
    RunFolder,
    RunFolderError,
    checkpoint_steps,
)
from artifex.generative_models.training.presets import preset

TINY = [
    "--set", "model.generator.hidden_dims=[16]",
    "--set", "model.discriminator.hidden_dims=[16]",
    "--set", "training.steps_per_dispatch=2",
    "--set", "training.logging.log_every=2",
    "--set", "training.logging.sample_every=0",
    "--set", "training.checkpoint.every_n_steps=2",
    "--set", "training.data.batch_size=16",
]  # fmt: skip


def train(out, *more):
    return cli.main(["train", "--preset", "gan", "--out", str(out), *TINY, *more])


def tiny_experiment(*more):
    overrides = [arg for arg in (*TINY, *more) if arg != "--set"]
    return cli.apply_overrides(preset("gan"), overrides)


def contents(folder):
    """Every file of the folder (but the lock) with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def steps_logged(folder):
    return [json.loads(line)["step"] for line in (Path(folder) / "metrics.jsonl").open()]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 4-step run: checkpoints 2 and 4, config.yaml, metrics, scores."""
    out = tmp_path_factory.mktemp("finished") / "run"
    assert train(out, "--set", "training.steps=4") == 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["2", "4"]
    return out


@pytest.fixture
def run(finished, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    return copy


# -- item 2: resume checks the config --------------------------------------------------------


def test_a_changed_seed_and_batch_size_are_refused_naming_each_and_writing_nothing(run, capsys):
    before = contents(run)
    code = train(run, "--set", "training.steps=6", "--set", "training.seed=1",
                 "--set", "training.data.batch_size=32")  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "training.seed: 0 -> 1" in err
    assert "training.data.batch_size: 16 -> 32" in err
    assert "training.steps" not in err  # a safe change is not refused
    assert "another folder" in err
    assert "--allow-config-change training.seed" in err
    assert "--allow-config-change training.data.batch_size" in err
    assert "Traceback" not in err
    # Not a byte of the folder changed: config.yaml, the history, the log, the checkpoints.
    assert contents(run) == before


def test_another_preset_in_the_folder_is_refused_before_any_compile(run, capsys):
    before = contents(run)
    code = cli.main(["train", "--preset", "lsgan", "--out", str(run)])
    err = capsys.readouterr().err
    assert code == 2
    assert 'model.config_type: "GANConfig" -> ' in err
    assert contents(run) == before


def test_safe_changes_resume_are_recorded_and_the_whole_log_is_reported(run, capsys):
    started_with = (run / "config.yaml").read_text()
    code = train(run, "--set", "training.steps=6", "--set", "training.logging.log_every=6")
    assert code == 0, capsys.readouterr().err
    # config.yaml still says how the run was started; the history says what changed.
    assert (run / "config.yaml").read_text() == started_with
    history = [json.loads(line) for line in (run / "config-history.jsonl").open()]
    assert [row["event"] for row in history] == ["start", "resume"]
    assert history[1]["changes"] == {
        "training.logging.log_every": {"old": 2, "new": 6},
        "training.steps": {"old": 4, "new": 6},
    }
    assert history[1]["steps"] == [2, 4] and "forced" not in history[1]
    # Item 7: the plot and the scores cover the whole run, not only the resumed part.
    assert steps_logged(run) == [2, 4, 6]
    assert (run / "loss_curves.png").is_file()
    scores = json.loads((run / "scores.json").read_text())
    assert scores["steps"] == 6 and scores["final"]["step"] == 6
    # The next resume compares with the config as it now stands (steps 6, not 4).
    next_resume = tiny_experiment(
        "--set", "training.steps=8", "--set", "training.logging.log_every=6"
    )  # fmt: skip
    folder = RunFolder.open(run, next_resume)
    folder.close()
    assert folder.changes == {"training.steps": (6, 8)}


def test_a_finished_run_resumed_again_keeps_its_plot_and_scores(run, capsys):
    (run / "loss_curves.png").unlink()
    assert train(run, "--set", "training.steps=4") == 0
    assert steps_logged(run) == [2, 4]
    assert (run / "loss_curves.png").is_file()
    assert json.loads((run / "scores.json").read_text())["final"]["step"] == 4


def test_allow_config_change_accepts_a_refused_field_and_records_it_as_forced(run):
    experiment = tiny_experiment("--set", "training.steps=4", "--set", "training.data.seed=7")
    with pytest.raises(RunFolderError, match=r"training.data.seed: 0 -> 7"):
        RunFolder.open(run, experiment)
    with RunFolder.open(run, experiment, allow_config_change=["training.data.seed"]) as folder:
        assert folder.resumed and folder.changes == {"training.data.seed": (0, 7)}
    last = json.loads((run / "config-history.jsonl").read_text().splitlines()[-1])
    assert last["event"] == "resume" and last["forced"] == ["training.data.seed"]
    # The forced value is now the run's: going back is a change, refused like any other.
    back = tiny_experiment("--set", "training.steps=4")
    with pytest.raises(RunFolderError, match=r"training.data.seed: 7 -> 0"):
        RunFolder.open(run, back)
    # A prefix covers the fields under it.
    other = tiny_experiment(
        "--set", "training.steps=4", "--set", "training.data.seed=7",
        "--set", "model.generator.hidden_dims=[8]",
    )  # fmt: skip
    with RunFolder.open(run, other, allow_config_change=["model"]) as folder:
        assert folder.changes == {"model.generator.hidden_dims": ([16], [8])}


def test_a_damaged_config_yaml_is_named(run, capsys):
    (run / "config.yaml").write_text("model: [unclosed\n")
    assert train(run, "--set", "training.steps=4") == 2
    err = capsys.readouterr().err
    assert f"{run / 'config.yaml'} (the config this run was started with) cannot be read" in err
    assert "Traceback" not in err


# -- item 3: one run per folder; nothing deleted ----------------------------------------------

HOLD = textwrap.dedent(
    """
    import sys, time
    from artifex.generative_models.training._runfolder import RunFolder
    from artifex.generative_models.training.presets import preset

    folder = RunFolder.open(sys.argv[1], preset("gan"))
    print("HOLDING", flush=True)
    time.sleep(600)
    """
)


def test_a_second_run_on_a_folder_is_refused_naming_the_first_and_a_killed_one_frees_it(
    tmp_path, capsys
):
    out = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert first.stdout.readline().strip() == "HOLDING"
        before = contents(out)
        started = time.monotonic()
        assert train(out, "--set", "training.steps=4") == 2
        assert time.monotonic() - started < 30  # at once, not after waiting
        err = capsys.readouterr().err
        assert f"{out} is in use by another run (pid {first.pid})" in err
        assert "Traceback" not in err
        assert contents(out) == before  # the first run's files are untouched
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # SIGKILL leaves no stale lock: the kernel released it with the process.
    with RunFolder.open(out, preset("gan")) as folder:
        assert (folder.path / ".lock").read_text().strip() == str(os.getpid())


def test_starting_over_in_a_folder_with_checkpoints_needs_overwrite_and_moves_them_aside(
    run, capsys
):
    before = contents(run)
    assert train(run, "--set", "training.steps=4", "--set", "training.checkpoint.resume=false") == 2
    err = capsys.readouterr().err
    assert "holds the checkpoints of a run (steps [2, 4])" in err and "--overwrite" in err
    assert contents(run) == before
    experiment = tiny_experiment("--set", "training.checkpoint.resume=false")
    with RunFolder.open(run, experiment, overwrite=True) as folder:
        aside = folder.moved_aside
    assert aside is not None and aside.parent == run and aside.name.startswith("previous-")
    # Nothing was deleted: the old run's files are all there, under previous-<time>/.
    assert contents(aside) == before
    assert not (run / "checkpoints").exists() and not (run / "metrics.jsonl").exists()
    assert (run / "config.yaml").is_file()


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("", "the run folder is empty (--out '')"),
        ("{file}", "{file} is a file, not a run folder"),
        ("{file}/run", "cannot use {file}/run as a run folder: Not a directory"),
    ],
    ids=["empty", "a-file", "under-a-file"],
)
def test_an_unusable_out_is_one_line_and_status_2(tmp_path, capsys, out, message):
    file = tmp_path / "plain.txt"
    file.write_text("x")
    code = train(out.format(file=file), "--set", "training.steps=4")
    err = capsys.readouterr().err
    assert code == 2
    assert message.format(file=file) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


# -- item 1: `artifex-train check`; damaged checkpoints from the CLI ------------------------


def flip_the_largest_array_file(step_dir, offset=0.5):
    """Flip one bit at ``offset`` of the largest array data file of a checkpoint."""
    files = [
        p for p in (Path(step_dir) / "state").rglob("*") if p.is_file() and p.parent.name == "d"
    ]
    largest = max(files, key=lambda p: p.stat().st_size)
    data = bytearray(largest.read_bytes())
    data[int(len(data) * offset)] ^= 0x01
    largest.write_bytes(bytes(data))


def test_check_finds_every_checkpoint_intact_and_writes_nothing(finished, capsys):
    before = contents(finished)
    assert cli.main(["check", str(finished)]) == 0
    assert capsys.readouterr().out.splitlines() == ["step 2: OK", "step 4: OK"]
    assert contents(finished) == before


def test_check_names_a_flipped_array_and_damaged_json(run, capsys):
    flip_the_largest_array_file(run / "checkpoints" / "4")
    extra = run / "checkpoints" / "2" / "extra" / "metadata"
    extra.write_text(extra.read_text().replace('"step": 2', '"step": 3', 1))
    assert cli.main(["check", str(run)]) == 2
    captured = capsys.readouterr()
    step2, step4 = captured.out.splitlines()
    assert step2 == "step 2: DAMAGED: its extra does not match its CRC-32"
    # (Which array the largest data file holds is orbax's choice and differs by version:
    # nets/... here, ema/... on jax 0.12's orbax; the line names it either way.)
    assert re.fullmatch(
        r"step 4: DAMAGED: the array (nets|ema|opt)\S*/\S+ does not match its CRC-32", step4
    ), step4
    assert "2 of 2 checkpoints damaged: [2, 4]" in captured.err
    assert "Traceback" not in captured.err


def test_check_of_a_folder_without_checkpoints_is_one_line_and_status_2(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} has no checkpoint to check" in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_newest_checkpoint_is_named_skipped_and_the_run_finishes(run, capfd, damage):
    step4 = run / "checkpoints" / "4"
    if damage == "flip":
        flip_the_largest_array_file(step4)
    else:  # orbax would fail mid-read: its event loop must not leave tracebacks behind
        for path in (step4 / "state").rglob("*"):
            if path.is_file() and path.parent.name == "d":
                path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    # (The CLI prints the warning on stderr; pytest collects it.)
    with pytest.warns(UserWarning) as warned:
        assert train(run, "--set", "training.steps=6") == 0
    (warning,) = [str(w.message) for w in warned if "could not be read" in str(w.message)]
    assert f"checkpoint step 4 in {run / 'checkpoints'} could not be read" in warning
    assert "other checkpoints kept: [2]; trying the one before" in warning
    if damage == "flip":
        assert re.search(r"the array \S+/\S+ does not match its CRC-32", warning), warning
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Event loop is closed" not in err, err
    # Resumed from step 2: steps 3..6 trained anew, the damaged step 4 replaced.
    assert steps_logged(run) == [2, 4, 6]
    assert checkpoint_steps(run) == [4, 6]  # keep_last=2
    assert cli.main(["check", str(run)]) == 0


# -- item 4: reading a folder while a run trains in it --------------------------------------


@pytest.mark.slow  # builds and restores the model, and compiles the generator
def test_generate_reads_the_latest_complete_checkpoint_of_a_live_run_and_leaves_its_save(
    run, tmp_path
):
    # A run holds the folder (its lock) and is in the middle of saving step 6 (orbax's
    # temporary folder). Reading commands take no lock: they read the newest complete
    # checkpoint and must not touch the unfinished save.
    live = RunFolder.open(run, tiny_experiment("--set", "training.steps=6"))
    unfinished = run / "checkpoints" / "6.orbax-checkpoint-tmp-1234567"
    (unfinished / "state").mkdir(parents=True)
    (unfinished / "state" / "part").write_bytes(b"half a checkpoint")
    try:
        out = tmp_path / "samples.npz"
        assert cli.main(["generate", str(run), "--n", "2", "--out", str(out)]) == 0
        assert out.is_file()
        assert (unfinished / "state" / "part").read_bytes() == b"half a checkpoint"
    finally:
        live.close()
