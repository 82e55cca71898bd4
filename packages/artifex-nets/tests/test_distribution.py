"""The installed distribution is the one this source tree builds."""

import importlib.metadata
from pathlib import Path

import artifex.generative_models.nets as package


def test_installed_version_is_the_module_version():
    assert importlib.metadata.version("artifex-nets") == package.__version__


def test_package_is_typed():
    # PEP 561: the marker ships beside the code, in wheels and editable installs alike.
    assert (Path(package.__file__).parent / "py.typed").is_file()
