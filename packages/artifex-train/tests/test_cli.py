import pytest

from artifex.generative_models.training import cli


def test_demo_command_runs_and_says_what_it_did(capsys, tmp_path):
    assert cli.main(["demo", "--out", str(tmp_path / "run")]) == 0
    assert str(tmp_path / "run") in capsys.readouterr().out


def test_unknown_command_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["fly"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fly'" in capsys.readouterr().err
