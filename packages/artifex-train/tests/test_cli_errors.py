"""One error path for the CLI (issue 19, item 6).

Every error a user can cause ends in one or two lines on stderr, without a traceback, and
status 2; a NaN / Inf loss in status 3; ``--debug`` adds the traceback. All of these are
refused before anything is compiled.
"""

import pickle

import pytest

from artifex.generative_models.training import cli
from artifex.generative_models.training.trainer import NonFiniteLossError


def train_config(tmp_path, text, *more):
    config = tmp_path / "experiment.yaml"
    config.write_text(text)
    return cli.main(["train", "--config", str(config), "--out", str(tmp_path / "run"), *more])


def refused(capsys, code, *expected, status=2):
    err = capsys.readouterr().err
    assert code == status, err
    for text in expected:
        assert text in err, err
    assert "Traceback" not in err
    assert 1 <= len(err.strip().splitlines()) <= 2, err
    return err


def test_malformed_yaml_names_the_file_and_the_line(tmp_path, capsys):
    code = train_config(tmp_path, "model:\n  generator: [1, 2\ntraining: {}\n")
    refused(capsys, code, f"--config {tmp_path / 'experiment.yaml'}: not valid YAML", "line ")


def test_a_duplicate_yaml_key_is_refused(tmp_path, capsys):
    text = "training:\n  steps: 4\n  seed: 1\n  steps: 5\n"
    code = train_config(tmp_path, text)
    refused(capsys, code, "duplicate key 'steps' (first at line 2)", "line 4")


def test_a_python_tag_is_refused_without_running_it(tmp_path, capsys):
    marker = tmp_path / "ran"
    code = train_config(tmp_path, f"model: !!python/object/apply:os.system ['touch {marker}']\n")
    refused(capsys, code, "not valid YAML", "python/object/apply:os.system")
    assert not marker.exists()
    # ... and in a --set value.
    code = cli.main(["train", "--preset", "gan", "--out", str(tmp_path / "run"),
                     "--set", "training.steps=!!python/object/apply:os.getpid []"])  # fmt: skip
    refused(capsys, code, "python/object/apply:os.getpid")


def test_config_naming_a_folder_is_refused(tmp_path, capsys):
    code = cli.main(["train", "--config", str(tmp_path), "--out", str(tmp_path / "run")])
    refused(capsys, code, f"--config {tmp_path} is a folder")


def test_a_refused_pickle_is_one_line(tmp_path, capsys):
    data = tmp_path / "cifar"
    data.mkdir()
    with open(data / "data_batch_1", "wb") as handle:
        pickle.dump({"data": eval}, handle)  # builtins.eval: refused, never called
    code = cli.main(["train", "--preset", "gan", "--out", str(tmp_path / "run"),
                     "--set", "training.data.source=cifar10",
                     "--set", f"training.data.path={data}"])  # fmt: skip
    refused(capsys, code, "global builtins.eval")


def test_the_nan_stop_has_its_own_status_and_names_step_and_checkpoint(
    tmp_path, capsys, monkeypatch
):
    def diverges(*args, **kwargs):
        raise NonFiniteLossError(
            "a loss became NaN or Inf at step 7; training stopped and that update was not "
            "applied; the last good checkpoint is step 6 in /runs/x/checkpoints"
        )

    monkeypatch.setattr("artifex.generative_models.training.run.run_experiment", diverges)
    code = cli.main(["train", "--preset", "gan", "--out", str(tmp_path / "run")])
    refused(capsys, code, "artifex-train: stopped: a loss became NaN or Inf at step 7",
            "checkpoint is step 6", status=cli.EXIT_NON_FINITE)  # fmt: skip
    assert cli.EXIT_NON_FINITE == 3


def test_debug_shows_the_traceback(tmp_path, capsys):
    code = train_config(tmp_path, "training: [unclosed\n", "--debug")
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1].startswith("artifex-train: error: --config ")


@pytest.mark.parametrize("command", ["train", "demo", "evaluate"])
def test_every_command_that_can_fail_takes_debug(command):
    args = {"train": ["--preset", "gan", "--out", "x"], "demo": [], "evaluate": ["x"]}[command]
    assert cli.build_parser().parse_args([command, *args, "--debug"]).debug is True
