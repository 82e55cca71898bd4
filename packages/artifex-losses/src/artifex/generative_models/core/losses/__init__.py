"""Adversarial losses and regularizers for GANs as small, pure JAX functions.

Depends on ``jax`` alone, so it can be installed in any JAX project."""

__version__ = "0.1.0"

__all__ = ["__version__"]
