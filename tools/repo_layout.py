"""What the repository holds: its distributions, the import paths they own, their order.

One table that the noxfile and the repository checks read, so that adding a package
means editing one place.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES_DIR = ROOT / "packages"

# The levels that several distributions share. PEP 420: none of them may hold an
# ``__init__.py``, or it would hide every other distribution's part of the namespace.
NAMESPACE_LEVELS = (
    "artifex",
    "artifex/generative_models",
    "artifex/generative_models/core",
    "artifex/generative_models/core/evaluation",
    "artifex/generative_models/models",
)


@dataclass(frozen=True)
class Component:
    """One component distribution and the import paths it owns."""

    name: str
    owns: tuple[str, ...]

    @property
    def directory(self) -> Path:
        """The package's folder under ``packages/``."""
        return PACKAGES_DIR / self.name

    @property
    def pyproject(self) -> dict:
        """The parsed ``pyproject.toml`` of the package."""
        return tomllib.loads((self.directory / "pyproject.toml").read_text())

    @property
    def declared_dependencies(self) -> tuple[str, ...]:
        """Requirement strings of ``[project].dependencies``."""
        return tuple(self.pyproject["project"].get("dependencies", ()))


# Lowest layer first: a component may depend only on components listed before it.
COMPONENTS = (
    Component("artifex-configs", ("artifex.generative_models.core.configuration",)),
    Component("artifex-losses", ("artifex.generative_models.core.losses",)),
    Component("artifex-nets", ("artifex.generative_models.nets",)),
    Component("artifex-gan", ("artifex.generative_models.models.gan",)),
    Component("artifex-metrics", ("artifex.generative_models.core.evaluation.metrics",)),
    Component(
        "artifex-train",
        (
            "artifex.generative_models.training",
            # `from artifex.generative_models.core import DeviceManager` (advanced guide).
            "artifex.generative_models.core.DeviceManager",
        ),
    ),
)
UMBRELLA = "artifex"
COMPONENT_NAMES = tuple(c.name for c in COMPONENTS)


def component(name: str) -> Component:
    """Look a component up by its distribution name."""
    for c in COMPONENTS:
        if c.name == name:
            return c
    raise KeyError(f"unknown component {name!r}; known: {', '.join(COMPONENT_NAMES)}")


def owner_of(module: str) -> str | None:
    """The component distribution that owns ``module``, or None if no component does."""
    for c in COMPONENTS:
        for prefix in c.owns:
            if module == prefix or module.startswith(prefix + "."):
                return c.name
    return None
