"""Shared fixtures for the artifex-losses tests."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import jax
import pytest


@pytest.fixture
def x64() -> Callable[[], AbstractContextManager]:
    """A factory of scoped float64 contexts: ``with x64(): ...``.

    ``jax.enable_x64`` is new; older JAX releases (the package supports jax>=0.7.1) only have
    ``jax.experimental.enable_x64``.
    """
    enable = getattr(jax, "enable_x64", None)
    if enable is None:  # pragma: no cover - depends on the JAX version
        from jax.experimental import enable_x64 as enable
    return lambda: enable(True)
