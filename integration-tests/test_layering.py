"""The layering contracts hold now, and fail when a lower package imports a higher one."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from check_deps import problems_of
from repo_layout import COMPONENT_NAMES, component

LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))


def lint_imports(repo: Path) -> subprocess.CompletedProcess:
    """Run import-linter on ``repo`` with only its sources importable."""
    src_dirs = [str(repo / "packages" / name / "src") for name in COMPONENT_NAMES]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(src_dirs)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=repo, env=env, capture_output=True, text=True
    )


def plant(repo: Path, package: str, line: str) -> None:
    """Add an import line to the ``__init__.py`` of ``package`` in the copy."""
    module = component(package).owns[0].replace(".", "/")
    init = repo / "packages" / package / "src" / module / "__init__.py"
    init.write_text(init.read_text() + f"\n{line}\n")


pytestmark = pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter is not installed")


@pytest.mark.slow
def test_contracts_hold_and_an_upward_import_breaks_them(repo_copy):
    result = lint_imports(repo_copy)
    assert result.returncode == 0, result.stdout + result.stderr

    plant(repo_copy, "artifex-losses", "import artifex.generative_models.models.gan  # noqa")
    result = lint_imports(repo_copy)
    assert result.returncode == 1
    assert "BROKEN" in result.stdout
    assert "artifex.generative_models.core.losses -> artifex.generative_models.models.gan" in (
        result.stdout
    )


@pytest.mark.slow
def test_configs_importing_jax_breaks_the_contract(repo_copy):
    plant(repo_copy, "artifex-configs", "import jax  # noqa")
    result = lint_imports(repo_copy)
    assert result.returncode == 1
    assert "Configs import no array library" in result.stdout


def test_undeclared_import_is_reported(repo_copy):
    assert problems_of(component("artifex-losses"), repo_copy)[0] == []
    plant(repo_copy, "artifex-losses", "import optax  # noqa")
    undeclared, _ = problems_of(component("artifex-losses"), repo_copy)
    assert len(undeclared) == 1
    assert "artifex-losses: imports optax" in undeclared[0]
    assert "does not declare it" in undeclared[0]


def test_declared_but_unused_dependency_is_reported(repo_copy):
    pyproject = repo_copy / "packages" / "artifex-losses" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"jax>=0.7.1",', '"jax>=0.7.1", "rich",'))
    _, unused = problems_of(component("artifex-losses"), repo_copy)
    assert "artifex-losses: declares rich in its pyproject.toml but never imports it" in unused
