"""The compiled, multi-device GAN training engine: data, checkpoints, logging and the CLI.

The names below are imported on first use (PEP 562), so ``import
artifex.generative_models.training.data`` stays light: reading images needs neither the
trainer nor orbax.

Example:
    >>> from artifex.generative_models.training import Trainer, preset, run_experiment
    >>> scores = run_experiment(preset("dcgan"), "runs/dcgan")  # samples, plots, FID
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Callback": "callbacks",
    "CheckpointStore": "checkpoints",
    "Checkpointing": "callbacks",
    "DeviceManager": "devices",
    "Evaluation": "callbacks",
    "JsonlWriter": "writers",
    "MetricWriter": "writers",
    "MlflowWriter": "writers",
    "MultiWriter": "writers",
    "NonFiniteLossError": "trainer",
    "PRESETS": "presets",
    "Periodic": "callbacks",
    "PhaseSchedule": "callbacks",
    "ProgressCallback": "callbacks",
    "SampleGrids": "callbacks",
    "TensorBoardWriter": "writers",
    "TrainState": "state",
    "Trainer": "trainer",
    "TrainingInterrupted": "trainer",
    "WandbWriter": "writers",
    "WriterCallback": "callbacks",
    "build_model": "run",
    "make_optimizer": "optimizers",
    "make_schedule": "optimizers",
    "preset": "presets",
    "rules_of": "trainer",
    "run_experiment": "run",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    """Import an exported name's module when the name is first used."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
