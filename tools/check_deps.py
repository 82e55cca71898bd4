"""Check that every package imports exactly what its ``pyproject.toml`` declares.

Reads each component's source with ``ast`` (nothing is imported or run), maps every
imported module to the distribution that provides it, and compares that set with the
``[project].dependencies`` of the package: an import of an undeclared distribution is
an error (users who install the package alone would get ImportError), and so is a
declared dependency that nothing imports (users would install it for nothing).

Usage: ``python tools/check_deps.py [--strict] [ROOT]`` — exit status 1 and one line per
problem. An unused declaration is a note unless ``--strict`` is given (packages whose
code is still being written declare the layer they will sit on before they import it).
A package may list, under ``[tool.artifex.check-deps] layer-only = [...]``, internal
packages it declares only to pin the layers below it (DESIGN.md: ``artifex-train``
depends on everything below it, ``artifex-nets`` included, though it reaches the
networks through ``artifex-gan``); those are never reported as unused.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from repo_layout import COMPONENTS, ROOT, Component, owner_of

# Top-level import name -> distribution name, for the third-party packages we use.
DISTRIBUTION_OF = {
    "jax": "jax",
    "flax": "flax",
    "optax": "optax",
    "orbax": "orbax-checkpoint",
    "tensorstore": "tensorstore",
    "grain": "grain",
    "numpy": "numpy",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "matplotlib": "matplotlib",
    "scipy": "scipy",
    "absl": "absl-py",
    "tensorboardX": "tensorboardx",
}


def requirement_name(requirement: str) -> str:
    """The normalized distribution name of a PEP 508 requirement string."""
    name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    if name is None:
        raise ValueError(f"cannot read a distribution name from requirement {requirement!r}")
    return re.sub(r"[-_.]+", "-", name.group(0)).lower()


def imported_modules(source_dir: Path) -> dict[str, list[str]]:
    """Absolute module names imported anywhere under ``source_dir``, with where."""
    found: dict[str, list[str]] = {}
    for path in sorted(source_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name, []).append(f"{path.relative_to(source_dir)}:{node.lineno}")
    return found


def distribution_of(module: str) -> str | None:
    """The distribution that provides ``module``; None for the standard library."""
    owner = owner_of(module)
    if owner is not None:
        return owner
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return None
    return DISTRIBUTION_OF.get(top, top)


def problems_of(component: Component, root: Path = ROOT) -> tuple[list[str], list[str]]:
    """Mismatches between what ``component`` imports and what it declares.

    Returns:
        ``(undeclared, unused)``: imports of undeclared distributions, and declared
        distributions that nothing imports.
    """
    package_dir = root / "packages" / component.name
    pyproject = tomllib.loads((package_dir / "pyproject.toml").read_text())
    declared = {requirement_name(r) for r in pyproject["project"].get("dependencies", ())}
    source_dir = package_dir / "src"
    used: dict[str, list[str]] = {}
    for module, places in imported_modules(source_dir).items():
        dist = distribution_of(module)
        if dist is not None and dist != component.name:
            used.setdefault(dist, []).extend(places)
    undeclared = [
        f"{component.name}: imports {dist} ({', '.join(places[:3])}) "
        f"but its pyproject.toml does not declare it"
        for dist, places in sorted(used.items())
        if dist not in declared
    ]
    settings = pyproject.get("tool", {}).get("artifex", {}).get("check-deps", {})
    layer_only = set(settings.get("layer-only", ()))
    unused = [
        f"{component.name}: declares {dist} in its pyproject.toml but never imports it"
        for dist in sorted(declared - set(used) - layer_only)
    ]
    return undeclared, unused


def main(argv: list[str]) -> int:
    """Check every component; print problems; return the exit status."""
    strict = "--strict" in argv[1:]
    paths = [a for a in argv[1:] if a != "--strict"]
    root = Path(paths[0]).resolve() if paths else ROOT
    errors: list[str] = []
    for c in COMPONENTS:
        undeclared, unused = problems_of(c, root)
        errors += undeclared + (unused if strict else [])
        if not strict:
            for line in unused:
                print(f"note: {line}")
    for error in errors:
        print(f"error: {error}")
    if not errors:
        print(f"dependencies: {len(COMPONENTS)} packages import only what they declare")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
