"""Every task of the repository, each creating what it needs from nothing.

    nox -s tests         all packages and integration-tests in one environment
    nox -s isolated      per package: its wheel alone, its own tests, from outside the tree
    nox -s coexist       two packages share the namespace; removing one keeps the other
    nox -s jax_matrix    lowest supported jax/flax on Python 3.11, newest on Python 3.13
    nox -s lint types layers build docs
    nox -s demo          the main job: train the default model on the bundled digits
    nox -s bench         benchmarks, written to benchmarks/results/
    nox -t ci            everything CI runs (the README's test command)

Environments are made with uv when it is available and virtualenv otherwise. A missing
interpreter is an error, never a silent skip: the JAX matrix must really run.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))

from repo_layout import COMPONENT_NAMES, UMBRELLA, component  # noqa: E402

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests"]

PYTHON = "3.11"
NEWEST_PYTHON = "3.13"
PYPROJECT = nox.project.load_toml("pyproject.toml")

# The oldest releases the packages support (their pyproject lower bounds), pinned
# exactly in the matrix so that a lower bound is a tested claim, not a guess.
LOWEST_SUPPORTED = ("jax==0.7.1", "jaxlib==0.7.1", "flax==0.12.0")

# Components whose isolated install must not bring these distributions along.
MUST_NOT_INSTALL = {
    "artifex-configs": ("jax", "jaxlib", "numpy", "flax"),
    "artifex-losses": ("flax", "optax", "orbax-checkpoint", "grain"),
}

# Tests run on the CPU wherever they run, so their numbers do not depend on the machine.
# The classic (non-partitionable) threefry compiles random initialisers several times
# faster on CPU, and the persistent cache lets later sessions of one CI run reuse the
# programs earlier ones compiled (same jax version, same program).
TEST_ENV = {
    "JAX_PLATFORMS": "cpu",
    "JAX_THREEFRY_PARTITIONABLE": "0",
    "JAX_COMPILATION_CACHE_DIR": str(ROOT / ".nox" / "jax-compilation-cache"),
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.5",
    # The suite is mostly compilation of tiny programs: LLVM's cheap pipeline compiles them
    # about a quarter faster (37 tests of stylegan2/wgan/families: 79 s -> 59 s), and what
    # they run is too small for the lost optimizations to show. Subprocess tests that set
    # XLA_FLAGS themselves (device counts) run at the default level.
    "XLA_FLAGS": "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true",
}


def group(name: str) -> list[str]:
    """The requirements of one ``[dependency-groups]`` entry of the root pyproject."""
    return nox.project.dependency_groups(PYPROJECT, name)


def package_dir(name: str) -> str:
    """``packages/<name>`` as a path relative to the repository root."""
    return str(Path("packages") / name)


def internal_closure(name: str) -> list[str]:
    """``name`` and every component it depends on, lowest layer first."""
    wanted = {name}
    for candidate in reversed(COMPONENT_NAMES):
        if candidate in wanted:
            for requirement in component(candidate).declared_dependencies:
                dependency = requirement.split("~=")[0].split(">=")[0].strip()
                if dependency in COMPONENT_NAMES:
                    wanted.add(dependency)
    return [c for c in COMPONENT_NAMES if c in wanted]


# Optional extras the full test sessions install, so that the tests of the optional
# integrations (W&B, MLflow, TensorBoard's own reader) run instead of skipping.
TEST_EXTRAS = {"artifex-train": "[wandb,mlflow,tensorboard]"}


def install_editable(session: nox.Session, *extra: str, extras: bool = False) -> None:
    """Install all six components in development mode, plus ``extra`` requirements.

    With ``extras``, each component comes with its :data:`TEST_EXTRAS`.
    """
    editables = [
        arg
        for name in COMPONENT_NAMES
        for arg in ("-e", package_dir(name) + (TEST_EXTRAS.get(name, "") if extras else ""))
    ]
    session.install(*editables, *extra)


def build_wheels(session: nox.Session, names: list[str], out: Path) -> list[str]:
    """Build one wheel per named package into ``out``; return their paths."""
    session.install("build[uv]>=1.2")
    for name in names:
        session.run(
            "python", "-m", "build", "--installer", "uv", "--wheel", "-q",
            "--outdir", str(out), package_dir(name),
        )  # fmt: skip
    wheels = []
    for name in names:
        stem = name.replace("-", "_")
        wheels += [str(p) for p in out.glob(f"{stem}-*.whl")]
    return wheels


def uninstall(session: nox.Session, distribution: str) -> None:
    """Remove one distribution from the session's environment, whichever backend made it."""
    if session.venv_backend == "uv":
        session.run("uv", "pip", "uninstall", distribution, silent=True)
    else:
        session.run("python", "-m", "pip", "uninstall", "-y", "-q", distribution)


def run_pytest(session: nox.Session, *args: str) -> None:
    """pytest on both cores, with the suite's own options from the root pyproject."""
    workers = "auto" if os.cpu_count() and os.cpu_count() > 1 else "0"
    session.run(
        # The slowest tests are listed so that each CI log says where its time went.
        "pytest", "-n", workers, "--dist", "loadgroup", "--durations=25", *args,
        *session.posargs, env=TEST_ENV,
    )  # fmt: skip


@nox.session(python=PYTHON, tags=["ci"])
def tests(session: nox.Session) -> None:
    """All packages and integration-tests in one environment (newest JAX for 3.11)."""
    install_editable(session, *group("test"), *group("repo"), extras=True)
    session.run(
        "python", "-c", "import jax, flax; print('jax', jax.__version__, 'flax', flax.__version__)"
    )
    run_pytest(session)


@nox.session(tags=["ci"])
@nox.parametrize(
    ("python", "jax_set"),
    [(PYTHON, "lowest"), (NEWEST_PYTHON, "newest")],
    ids=["lowest-py3.11", "newest-py3.13"],
)
def jax_matrix(session: nox.Session, jax_set: str) -> None:
    """The test suite against the lowest supported and the newest jax / flax."""
    pins = LOWEST_SUPPORTED if jax_set == "lowest" else ()
    install_editable(session, *group("test"), *group("repo"), *pins, extras=True)
    session.run(
        "python", "-c",
        "import sys, jax, flax; print(sys.version.split()[0], 'jax', jax.__version__, "
        "'flax', flax.__version__)",
    )  # fmt: skip
    # Every test but the slow end-to-end ones (seed documents, subprocess runs), which
    # the `tests` session runs; pass `-m ""` to include them.
    run_pytest(session, "-m", "not slow")


@nox.session(python=PYTHON, tags=["ci"])
@nox.parametrize("package", COMPONENT_NAMES)
def isolated(session: nox.Session, package: str) -> None:
    """Install one package's wheel with only its declared dependencies; run its tests."""
    tmp = Path(session.create_tmp()).resolve()
    wheel_dir = tmp / "wheels"
    shutil.rmtree(wheel_dir, ignore_errors=True)
    # The wheels of the package and of the components below it, named by path so that
    # nothing with the same name on an index can stand in for them.
    wheels = build_wheels(session, internal_closure(package), wheel_dir)
    session.install(*wheels)
    # What the package alone brings, checked before the test tools add their own.
    for forbidden in MUST_NOT_INSTALL.get(package, ()):
        session.run(
            "python", "-c",
            "import importlib.metadata as m, sys\n"
            f"try:\n    m.distribution({forbidden!r})\nexcept m.PackageNotFoundError:\n"
            f"    sys.exit(0)\nsys.exit('{package} installed {forbidden}, which it must not need')",
        )  # fmt: skip
    session.install(*group("test"))
    tests_copy = tmp / "tests"
    shutil.rmtree(tests_copy, ignore_errors=True)
    shutil.copytree(ROOT / package_dir(package) / "tests", tests_copy)
    # The README travels too: its examples are tests (as in the sdist, beside tests/).
    shutil.copy(ROOT / package_dir(package) / "README.md", tmp / "README.md")
    # From outside the source tree, with no root config: only the installed wheel counts.
    session.chdir(tmp)
    workers = "auto" if os.cpu_count() and os.cpu_count() > 1 else "0"
    session.run(
        "pytest", "-n", workers, "-p", "no:cacheprovider", "--import-mode=importlib",
        "-c", os.devnull, "--rootdir", str(tmp), "-m", "not slow", str(tests_copy),
        *session.posargs, env=TEST_ENV,
    )  # fmt: skip


@nox.session(python=PYTHON, tags=["ci"])
def coexist(session: nox.Session) -> None:
    """Two distributions share the namespace: install both, remove either, the other works."""
    tmp = Path(session.create_tmp()).resolve() / "wheels"
    shutil.rmtree(tmp, ignore_errors=True)
    configs, losses = build_wheels(session, ["artifex-configs", "artifex-losses"], tmp)
    configs_import = "import artifex.generative_models.core.configuration as m; print(m.__name__)"
    losses_import = "import artifex.generative_models.core.losses as m; print(m.__name__)"
    session.install(losses)
    session.run("python", "-c", losses_import)
    session.install(configs)
    session.run("python", "-c", configs_import + "\n" + losses_import)
    uninstall(session, "artifex-configs")
    session.run("python", "-c", losses_import)
    session.install(configs)
    uninstall(session, "artifex-losses")
    session.run("python", "-c", configs_import)


@nox.session(python=PYTHON, tags=["ci"])
def lint(session: nox.Session) -> None:
    """ruff: the lint rules and the formatting of every Python file."""
    session.install(*group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON, tags=["ci"])
def types(session: nox.Session) -> None:
    """mypy over the sources of all six packages."""
    install_editable(session, *group("types"))
    sources = [str(Path(package_dir(name)) / "src") for name in COMPONENT_NAMES]
    session.run("mypy", *sources)


@nox.session(python=PYTHON, tags=["ci"])
def layers(session: nox.Session) -> None:
    """Layering contracts (import-linter) and imports versus declared dependencies."""
    install_editable(session, *group("repo"))
    session.run("lint-imports")
    session.run("python", "tools/check_deps.py", "--strict", *session.posargs)


@nox.session(python=PYTHON, tags=["ci"])
def build(session: nox.Session) -> None:
    """A wheel and an sdist per distribution (fourteen); no namespace ``__init__.py``."""
    out = ROOT / "dist"
    shutil.rmtree(out, ignore_errors=True)
    session.install("build[uv]>=1.2")
    for name in (*COMPONENT_NAMES, UMBRELLA):
        session.run(
            "python", "-m", "build", "--installer", "uv", "-q", "--outdir", str(out),
            package_dir(name),
        )  # fmt: skip
    session.run("python", "tools/check_wheels.py", str(out))


@nox.session(python=PYTHON, tags=["ci"])
def docs(session: nox.Session) -> None:
    """The documentation site, with warnings as errors."""
    install_editable(session, *group("docs"))
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"))


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: train the default model on the bundled digits; samples, plots, scores."""
    install_editable(session)
    out = session.posargs[0] if session.posargs else str(ROOT / "runs" / "demo")
    session.run("artifex-train", "demo", "--out", out, env={"JAX_PLATFORMS": "cpu"})


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Speed benchmarks beside the hand-written references; results to benchmarks/results/."""
    install_editable(session)
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session(python=PYTHON)
def quality(session: nox.Session) -> None:
    """The quality suite (mode coverage, ...); results to benchmarks/results/. Not in CI."""
    install_editable(session)  # artifex-train brings matplotlib for the plots
    session.run(
        "python", "benchmarks/quality/run.py", *session.posargs, env={"JAX_PLATFORMS": "cpu"}
    )


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """Fault injection: SIGKILL a run 50 times (mid-save too), resume, compare bitwise with
    an uninterrupted run (benchmarks/results/soak.md). Not in CI."""
    install_editable(session)
    session.run("python", "benchmarks/soak.py", *session.posargs, env={"JAX_PLATFORMS": "cpu"})
