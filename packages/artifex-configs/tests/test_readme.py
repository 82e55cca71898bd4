"""The package README's Python blocks run."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
    printed = capsys.readouterr().out
    assert "config = config.replace(loss_type='wasserstein')" in printed
    assert "DiscriminatorConfig.dropout_rate=1.5: must be in [0, 1)" in printed
