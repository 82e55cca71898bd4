"""The compiled, multi-device GAN training engine: data, checkpoints, logging and the CLI."""

__version__ = "0.1.0"

__all__ = ["__version__"]
