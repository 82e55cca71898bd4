"""Shared helpers; the ``slow`` marker is registered here too for runs without the root config."""

import numpy as np
import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow: a test that compiles large programs or runs a subprocess; still part of CI",
    )


def _flatten(images):
    return images.reshape(images.shape[0], -1)


@pytest.fixture
def flatten():
    """A trivial feature extractor: the pixels themselves."""
    return _flatten


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
