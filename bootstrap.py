"""Run the repository's nox tasks on a machine that has nothing but Python 3.11+.

    python3 bootstrap.py -s demo      # the main job
    python3 bootstrap.py -t ci        # every check CI runs

The first call makes a private tool environment (``.venv-tools/``) holding nox and uv,
then hands every argument to nox; later calls reuse it. With nox already installed,
``nox -s demo`` and ``nox -t ci`` do the same.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".venv-tools"
TOOL_REQUIREMENTS = ("nox>=2025.2.9", "uv>=0.4")


def tool_python() -> Path:
    """The interpreter of the tool environment, created on first use."""
    bin_dir = TOOLS / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    marker = TOOLS / ".ready"
    if not marker.exists():
        print(f"bootstrap: installing {', '.join(TOOL_REQUIREMENTS)} into {TOOLS}", flush=True)
        venv.create(TOOLS, with_pip=True, clear=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             *TOOL_REQUIREMENTS],
            check=True,
        )  # fmt: skip
        marker.write_text("ok\n")
    return python


def main() -> int:
    """Run nox from the tool environment with this script's arguments."""
    if sys.version_info < (3, 11):  # noqa: UP036 — this script may be run by an older Python
        sys.exit(f"bootstrap: Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    python = tool_python()
    env = dict(os.environ)
    # nox finds uv on PATH; the tool environment's bin folder holds it.
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    # Use the Pythons this machine has; a missing one is an error, not a download.
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    return subprocess.run([str(python), "-m", "nox", *sys.argv[1:]], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
