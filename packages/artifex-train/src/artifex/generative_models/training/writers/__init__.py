"""Metric writers: where a run's scalars, sample grids and settings go.

Each writer follows :class:`MetricWriter` (the method names of ``clu.metric_writers``):
TensorBoard event files, a JSON-lines file, Weights & Biases, MLflow, or several at once.
Images are ``uint8`` ``(height, width, channels)`` arrays, as
:func:`~artifex.generative_models.training.artifacts.image_grid` makes them.

``WandbWriter`` and ``MlflowWriter`` import their library only when constructed; install
it with ``pip install "artifex-train[wandb]"`` or ``"artifex-train[mlflow]"``.
"""

from artifex.generative_models.training.writers._base import MetricWriter as MetricWriter
from artifex.generative_models.training.writers._base import MultiWriter as MultiWriter
from artifex.generative_models.training.writers._base import as_uint8_hwc as as_uint8_hwc
from artifex.generative_models.training.writers._base import (
    flatten_hparams as flatten_hparams,
)
from artifex.generative_models.training.writers._jsonl import JsonlWriter as JsonlWriter
from artifex.generative_models.training.writers._mlflow import MlflowWriter as MlflowWriter
from artifex.generative_models.training.writers._tensorboard import (
    TensorBoardWriter as TensorBoardWriter,
)
from artifex.generative_models.training.writers._wandb import WandbWriter as WandbWriter

__all__ = [
    "JsonlWriter",
    "MetricWriter",
    "MlflowWriter",
    "MultiWriter",
    "TensorBoardWriter",
    "WandbWriter",
    "as_uint8_hwc",
    "flatten_hparams",
]
