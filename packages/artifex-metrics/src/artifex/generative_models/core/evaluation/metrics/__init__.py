"""Sample-quality metrics for generative models: FID, IS, KID, precision/recall, mode coverage."""

__version__ = "0.1.0"

__all__ = ["__version__"]
