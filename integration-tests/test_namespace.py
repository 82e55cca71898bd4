"""The six distributions share ``artifex.generative_models`` as PEP 420 namespaces."""

import importlib

import pytest
from repo_layout import COMPONENTS, NAMESPACE_LEVELS


@pytest.mark.parametrize("level", [level.replace("/", ".") for level in NAMESPACE_LEVELS])
def test_shared_levels_are_namespace_packages(level):
    module = importlib.import_module(level)
    # A regular package has a file (its __init__.py); a namespace package has none and
    # may span several directories — one per installed distribution.
    assert getattr(module, "__file__", None) is None, f"{level} has an __init__.py"


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.name)
def test_every_component_imports_beside_the_others(component):
    module = importlib.import_module(component.owns[0])
    assert module.__version__ == component.pyproject["project"].get("version", module.__version__)
    assert module.__doc__, f"{component.owns[0]} has no docstring"
