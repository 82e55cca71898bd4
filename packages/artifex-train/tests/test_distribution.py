"""The installed distribution is the one this source tree builds."""

import importlib.metadata
from pathlib import Path

import artifex.generative_models.training as package


def test_installed_version_is_the_module_version():
    assert importlib.metadata.version("artifex-train") == package.__version__


def test_package_is_typed():
    # PEP 561: the marker ships beside the code, in wheels and editable installs alike.
    assert (Path(package.__file__).parent / "py.typed").is_file()


def test_public_names_resolve_lazily_and_unknown_names_fail_clearly():
    import pytest

    for name in package.__all__:
        assert getattr(package, name) is not None, name
    from artifex.generative_models.training.trainer import Trainer

    assert package.Trainer is Trainer
    with pytest.raises(AttributeError, match="has no attribute 'Trainr'"):
        package.Trainr  # noqa: B018
