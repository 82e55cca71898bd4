"""MLflow runs (optional: ``pip install "artifex-train[mlflow]"``)."""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from artifex.generative_models.training.writers._base import as_uint8_hwc, flatten_hparams

__all__ = ["MlflowWriter"]

# MLflow refuses longer parameter values (its limit since 2.x).
_MAX_PARAM_LENGTH = 6000
# MLflow accepts at most this many parameters in one log_batch call.
_PARAMS_PER_BATCH = 100


def _import_mlflow() -> Any:
    try:
        # Imported by name: the library is optional, and untyped where it is missing.
        module = importlib.import_module("mlflow")
    except ImportError as error:
        raise ImportError(
            "MlflowWriter needs the mlflow library, which is not installed; install it with "
            'pip install "artifex-train[mlflow]"'
        ) from error
    return module


class MlflowWriter:
    """Logs to one MLflow run, created on construction and ended by :meth:`close`.

    The writer talks to the tracking store through its own ``MlflowClient`` and does
    not touch ``mlflow``'s global active run, so it can live beside a user's own runs.

    Args:
        tracking_uri: The tracking server or store (``http://...``, ``sqlite:///...``,
            ``file:///...``); None uses MLflow's default (``MLFLOW_TRACKING_URI``).
            MLflow 3 accepts a ``file://`` store only with ``MLFLOW_ALLOW_FILE_STORE=true``.
        experiment_name: The experiment, created if it does not exist; None uses MLflow's
            default experiment.
        run_name: The run's name; None lets MLflow pick one.

    Raises:
        ImportError: mlflow is not installed (the message says how to install it).
    """

    def __init__(
        self,
        *,
        tracking_uri: str | None = None,
        experiment_name: str | None = None,
        run_name: str | None = None,
    ):
        self._mlflow = _import_mlflow()
        self.client = self._mlflow.tracking.MlflowClient(tracking_uri=tracking_uri)
        experiment_id = "0"
        if experiment_name is not None:
            experiment = self.client.get_experiment_by_name(experiment_name)
            experiment_id = (
                experiment.experiment_id
                if experiment is not None
                else self.client.create_experiment(experiment_name)
            )
        self.run_id: str = self.client.create_run(experiment_id, run_name=run_name).info.run_id

    def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
        """Log ``scalars`` at ``step`` in one batch."""
        Metric = self._mlflow.entities.Metric
        now = int(time.time() * 1000)
        metrics = [Metric(name, float(value), now, int(step)) for name, value in scalars.items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
        """Log each image at ``step`` (MLflow's image series, shown per step in its UI)."""
        for name, image in images.items():
            pixels = as_uint8_hwc(name, image)
            self.client.log_image(self.run_id, pixels, key=name, step=int(step))

    def write_hparams(self, hparams: Mapping[str, Any]) -> None:
        """Log the flattened ``hparams`` as the run's parameters (values as strings)."""
        Param = self._mlflow.entities.Param
        params = [
            Param(name, str(value)[:_MAX_PARAM_LENGTH])
            for name, value in flatten_hparams(hparams).items()
        ]
        for start in range(0, len(params), _PARAMS_PER_BATCH):
            self.client.log_batch(self.run_id, params=params[start : start + _PARAMS_PER_BATCH])

    def flush(self) -> None:
        """Nothing to do: every call above is written through at once."""

    def close(self) -> None:
        """End the run as finished."""
        self.client.set_terminated(self.run_id)
