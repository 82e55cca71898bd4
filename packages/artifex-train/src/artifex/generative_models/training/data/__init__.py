"""Training data: image sources, grain pipelines, and checks that refuse bad data early.

A *source* is a random-access sequence of examples ``{"image": float32, "label": int32}``
with images in the model's layout (NHWC or NCHW) scaled to ``value_range`` (``[-1, 1]``
by default). :func:`make_pipeline` turns one into a checkpointable grain iterator of
batches; :func:`validate_source` refuses data that does not fit the model before any
compilation; :func:`source_from_config` builds the source a ``DataConfig`` describes.

Example:
    >>> from artifex.generative_models.training.data import (
    ...     DigitsSource, make_pipeline, validate_source)
    >>> source = DigitsSource(image_size=16, layout="NCHW")
    >>> validate_source(source, expected_shape=(1, 16, 16), num_classes=10)
    >>> batches = make_pipeline(source, batch_size=32, seed=0)
    >>> batch = next(batches)  # {"image": (32, 1, 16, 16) float32, "label": (32,) int32}
    >>> state = batches.get_state()  # store it; batches.set_state(state) resumes exactly
"""

from artifex.generative_models.training.data._cifar import (
    Cifar10Source,
    RestrictedUnpickler,
    UnsafePickleError,
    load_cifar_batch,
)
from artifex.generative_models.training.data._config import source_from_config
from artifex.generative_models.training.data._convert import RESIZE_MODES, ImageTransform
from artifex.generative_models.training.data._folder import IMAGE_EXTENSIONS, FolderSource
from artifex.generative_models.training.data._idx import MnistIdxSource, read_idx
from artifex.generative_models.training.data._pipeline import (
    make_dataset,
    make_pipeline,
    pipeline_from_config,
)
from artifex.generative_models.training.data._sources import (
    ArraySource,
    DigitsSource,
    ImageSource,
    NpySource,
    NpzSource,
)
from artifex.generative_models.training.data._unpaired import (
    DOMAIN_TRANSFORMS,
    TransformedSource,
    UnpairedSource,
)
from artifex.generative_models.training.data._validate import validate_source

__all__ = [
    "DOMAIN_TRANSFORMS",
    "IMAGE_EXTENSIONS",
    "RESIZE_MODES",
    "ArraySource",
    "Cifar10Source",
    "DigitsSource",
    "FolderSource",
    "ImageSource",
    "ImageTransform",
    "MnistIdxSource",
    "NpySource",
    "NpzSource",
    "RestrictedUnpickler",
    "TransformedSource",
    "UnpairedSource",
    "UnsafePickleError",
    "load_cifar_batch",
    "make_dataset",
    "make_pipeline",
    "pipeline_from_config",
    "read_idx",
    "source_from_config",
    "validate_source",
]
