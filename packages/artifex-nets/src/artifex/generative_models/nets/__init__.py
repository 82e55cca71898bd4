"""Flax NNX layers and every generator, discriminator and critic architecture."""

__version__ = "0.1.0"

__all__ = ["__version__"]
