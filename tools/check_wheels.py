"""Check built distributions: one wheel and one sdist per package, no namespace ``__init__``.

A wheel that ships ``artifex/__init__.py`` (or any other shared namespace level) turns
the PEP 420 namespace into a regular package when installed, and every *other* artifex
distribution in that environment stops importing. So the build refuses such a wheel.

Usage: ``python tools/check_wheels.py DIST_DIR`` — exit status 1 and one line per problem.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from repo_layout import COMPONENT_NAMES, NAMESPACE_LEVELS, UMBRELLA

FORBIDDEN_INIT_FILES = tuple(f"{level}/__init__.py" for level in NAMESPACE_LEVELS)


def namespace_init_files(wheel: Path) -> list[str]:
    """The namespace-level ``__init__.py`` files that ``wheel`` would install."""
    with zipfile.ZipFile(wheel) as archive:
        return sorted(n for n in archive.namelist() if n in FORBIDDEN_INIT_FILES)


def distribution_name(artifact: Path) -> str:
    """``artifex-losses`` from ``artifex_losses-0.1.0-py3-none-any.whl`` or its sdist."""
    stem = artifact.name.split("-")[0]
    return re.sub(r"[_.]+", "-", stem).lower()


def problems_in(dist_dir: Path) -> list[str]:
    """Everything wrong with the artifacts in ``dist_dir``."""
    wheels = sorted(dist_dir.glob("*.whl"))
    sdists = sorted(dist_dir.glob("*.tar.gz"))
    problems = []
    for wheel in wheels:
        for name in namespace_init_files(wheel):
            problems.append(
                f"{wheel.name}: ships {name}, a shared namespace level (PEP 420); "
                "installing it would hide every other artifex distribution"
            )
    for sdist in sdists:
        with tarfile.open(sdist) as archive:
            if not any(m.name.endswith("/pyproject.toml") for m in archive.getmembers()):
                problems.append(f"{sdist.name}: holds no pyproject.toml")
    expected = {*COMPONENT_NAMES, UMBRELLA}
    for kind, artifacts in (("wheel", wheels), ("sdist", sdists)):
        names = [distribution_name(a) for a in artifacts]
        for missing in sorted(expected - set(names)):
            problems.append(f"no {kind} for {missing} in {dist_dir}")
        for duplicate in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"more than one {kind} for {duplicate} in {dist_dir}")
    return problems


def main(argv: list[str]) -> int:
    """Check the directory named on the command line; return the exit status."""
    if len(argv) != 2:
        print(__doc__)
        return 2
    dist_dir = Path(argv[1])
    problems = problems_in(dist_dir)
    for problem in problems:
        print(f"error: {problem}")
    if not problems:
        count = len(list(dist_dir.glob("*.whl"))) + len(list(dist_dir.glob("*.tar.gz")))
        print(f"build: {count} artifacts, no namespace __init__.py in any wheel")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
