"""Public API, the seed import path, the namespace rule and the layering rule.

flax itself imports optax, so optax is not on the forbidden list.
"""

import subprocess
import sys
from importlib import resources

import pytest

import artifex.generative_models.core.evaluation.metrics as metrics


def test_seed_import_path():
    from artifex.generative_models.core.evaluation.metrics.image import (
        FrechetInceptionDistance,
        InceptionScore,
    )

    assert FrechetInceptionDistance is metrics.FrechetInceptionDistance
    assert InceptionScore is metrics.InceptionScore


def test_every_public_name_exists_and_is_documented():
    for name in metrics.__all__:
        value = getattr(metrics, name)
        if callable(value):
            assert value.__doc__, f"{name} has no docstring"


def test_data_files_ship_inside_the_package():
    data = resources.files(metrics.__name__) / "data"
    names = {entry.name for entry in data.iterdir()}
    assert {"digits.npz", "digits_classifier.npz", "digits_classifier.json", "NOTICE"} <= names


def test_shared_levels_are_namespace_packages():
    import artifex
    import artifex.generative_models
    import artifex.generative_models.core
    import artifex.generative_models.core.evaluation

    for level in (
        artifex,
        artifex.generative_models,
        artifex.generative_models.core,
        artifex.generative_models.core.evaluation,
    ):
        assert getattr(level, "__file__", None) is None, f"{level.__name__} has an __init__.py"


@pytest.mark.slow
def test_importing_pulls_in_no_other_artifex_package_nor_optional_library():
    forbidden = (
        "artifex.generative_models.core.configuration",
        "artifex.generative_models.core.losses",
        "artifex.generative_models.nets",
        "artifex.generative_models.models",
        "artifex.generative_models.training",
        "scipy",
        "torch",
        "sklearn",
    )
    code = (
        "import sys, artifex.generative_models.core.evaluation.metrics as m\n"
        "import artifex.generative_models.core.evaluation.metrics.image\n"
        "import artifex.generative_models.core.evaluation.metrics.inception_conversion\n"
        f"print([n for n in sys.modules if n.startswith({forbidden!r})])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
