"""The GAN model families and the public facade ``artifex.generative_models.models.gan``."""

__version__ = "0.1.0"

__all__ = ["__version__"]
