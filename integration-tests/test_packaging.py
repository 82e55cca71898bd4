"""Version pins between the packages, and the build's namespace check."""

import importlib
import subprocess
import sys
import zipfile

import pytest
from check_wheels import namespace_init_files, problems_in
from packaging.requirements import Requirement
from repo_layout import COMPONENT_NAMES, COMPONENTS, PACKAGES_DIR, UMBRELLA, component


def sibling_version(name: str) -> str:
    return importlib.import_module(component(name).owns[0]).__version__


def requirements_of(pyproject: dict) -> list[Requirement]:
    return [Requirement(r) for r in pyproject["project"].get("dependencies", [])]


@pytest.mark.parametrize("package", COMPONENTS, ids=lambda c: c.name)
def test_internal_dependencies_are_compatible_release_pins_that_the_tree_satisfies(package):
    position = COMPONENT_NAMES.index(package.name)
    for requirement in requirements_of(package.pyproject):
        if requirement.name not in COMPONENT_NAMES:
            assert ">=" in str(requirement.specifier), f"{requirement} has no lower bound"
            continue
        # Strict layering: only components below this one.
        assert COMPONENT_NAMES.index(requirement.name) < position, (
            f"{package.name} depends on {requirement.name}, which is not below it"
        )
        assert str(requirement.specifier).startswith("~="), f"{requirement} is not ~="
        assert sibling_version(requirement.name) in requirement.specifier


def test_umbrella_pins_all_six_at_the_versions_of_the_tree():
    import tomllib

    pyproject = tomllib.loads((PACKAGES_DIR / UMBRELLA / "pyproject.toml").read_text())
    requirements = {r.name: r for r in requirements_of(pyproject)}
    assert sorted(requirements) == sorted(COMPONENT_NAMES)
    for name, requirement in requirements.items():
        assert str(requirement.specifier).startswith("~=")
        assert sibling_version(name) in requirement.specifier
    assert "cuda" in pyproject["project"]["optional-dependencies"]


def build_wheel(package_dir, out):
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "-q", "--outdir", str(out),
         str(package_dir)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.mark.slow
def test_build_check_rejects_a_planted_namespace_init(repo_copy, tmp_path):
    losses = repo_copy / "packages" / "artifex-losses"
    clean = build_wheel(losses, tmp_path / "clean")
    assert namespace_init_files(clean) == []

    (losses / "src" / "artifex" / "generative_models" / "__init__.py").write_text("")
    planted = build_wheel(losses, tmp_path / "planted")
    assert namespace_init_files(planted) == ["artifex/generative_models/__init__.py"]
    problems = problems_in(tmp_path / "planted")
    assert any("ships artifex/generative_models/__init__.py" in p for p in problems)


def test_build_check_wants_a_wheel_and_an_sdist_of_every_distribution(tmp_path):
    with zipfile.ZipFile(tmp_path / "artifex_losses-0.1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("artifex/generative_models/core/losses/__init__.py", "")
    problems = problems_in(tmp_path)
    assert "no wheel for artifex-configs in " + str(tmp_path) in problems
    assert "no sdist for artifex-losses in " + str(tmp_path) in problems
    assert not any("wheel for artifex-losses" in p for p in problems)
