"""Every configuration class of Artifex GAN: networks, GAN families, training and data.

The package needs no array library: configs are plain frozen dataclasses that
validate on construction and round-trip through dicts, JSON and YAML."""

__version__ = "0.1.0"

__all__ = ["__version__"]
