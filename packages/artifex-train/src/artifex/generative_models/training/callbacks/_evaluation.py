"""Periodic FID of the EMA generator, computed on the training devices.

Each evaluation generates ``samples`` images with fixed latents (so scores of a run
compare), extracts their features and reduces them to sufficient statistics — the
batch's mean and its scatter about that mean (no float32 cancellation) — inside one
jitted call per batch. The batch is split over the trainer's device mesh; the reductions
over it run across devices (XLA inserts them). The host merges the batches exactly in
float64 (``FeatureStatistics.merge``) and finishes the FID there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from artifex.generative_models.core.evaluation.metrics import FeatureStatistics
from artifex.generative_models.training.callbacks._base import Callback

if TYPE_CHECKING:
    from artifex.generative_models.training.checkpoints import CheckpointStore
    from artifex.generative_models.training.trainer import Trainer

__all__ = ["Evaluation", "feature_moments"]

View = Callable[[jax.Array], jax.Array]
"""Generated images (the model's layout) -> what the extractor takes."""


def feature_moments(features: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(mean, sum((f - mean)(f - mean)^T))`` of a batch of features, in float32."""
    features = features.astype(jnp.float32)
    mean = features.mean(axis=0)
    centred = features - mean
    return mean, centred.T @ centred


class Evaluation(Callback):
    """FID of the trainer's EMA generator against reference statistics, every N steps.

    The score joins the logged row of its step (so ``metrics.jsonl`` and every writer
    get it: this callback runs before the writers); with ``keep_best`` the checkpoint of
    the lowest FID is kept in ``best_store``.

    Args:
        reference: Statistics of the real data under the same features.
        extractor: ``weights`` and ``apply(weights, images) -> (B, D)`` (a
            ``ModuleFunction`` of the metrics package).
        view: Turns generated images into the extractor's input (layout, size, channels).
        every: Interval in iterations (a multiple of ``log_every``); 0: never.
        samples: Images per evaluation; rounded up to whole batches.
        batch_size: Images per compiled call (a multiple of the device count).
        seed: Seed of the latents, the same at every evaluation.
        best_store: Where the best checkpoint is kept; None keeps none.
        name: The score's name in the logged row.
    """

    def __init__(
        self,
        *,
        reference: FeatureStatistics,
        extractor: Any,
        view: View,
        every: int,
        samples: int,
        batch_size: int,
        seed: int = 12345,
        best_store: CheckpointStore | None = None,
        name: str = "fid",
    ):
        if every < 0 or samples < 2 or batch_size < 2:
            raise ValueError(
                f"Evaluation(every={every}, samples={samples}, batch_size={batch_size}): "
                "every must be >= 0, samples >= 2 and batch_size >= 2 (a batch's "
                "covariance needs two samples)"
            )
        self.reference = reference
        self.extractor = extractor
        self.view = view
        self.every = every
        self.batches = -(-samples // batch_size)
        self.batch_size = batch_size
        self.seed = seed
        self.best_store = best_store
        self.name = name
        self.best: float | None = None
        self._programs: dict[Any, Any] = {}

    # -- the computation ---------------------------------------------------------------

    def _program(self, trainer: Trainer, graphdef: Any) -> Any:
        """The jitted ``(generator state, weights, key, step) -> moments`` of one batch."""
        rules, devices = trainer.rules, trainer.devices
        key = (graphdef, rules, devices.mesh)
        if key in self._programs:
            return self._programs[key]
        if self.batch_size % devices.device_count:
            raise ValueError(
                f"evaluation batch_size={self.batch_size} does not split over "
                f"{devices.device_count} devices; use a multiple of {devices.device_count}"
            )
        # Optional in the rules protocol: translation rules (CycleGAN) make no samples.
        sample = getattr(rules, "sample", None)
        if not callable(sample):
            raise TypeError(
                f"{type(rules).__name__} has no sample(): periodic FID scores generators of "
                "latents, not translations"
            )
        split = NamedSharding(devices.mesh, PartitionSpec(devices.axis_name))
        size, view, extractor = self.batch_size, self.view, self.extractor

        def moments(
            state: Any, weights: Any, key: jax.Array, step: jax.Array
        ) -> tuple[jax.Array, jax.Array]:
            generator = nnx.merge(graphdef, state)
            images = sample(generator, key, size, step)
            # The batch lives split over the mesh; the sums below reduce across devices.
            images = jax.lax.with_sharding_constraint(images, split)
            features = extractor.apply(weights, view(images)).reshape(size, -1)
            return feature_moments(features)

        program = jax.jit(moments)
        self._programs[key] = program
        return program

    def evaluate(self, trainer: Trainer) -> float:
        """The FID of the trainer's EMA generator now."""
        graphdef, state = nnx.split(trainer.ema_generator())
        program = self._program(trainer, graphdef)
        state = trainer.devices.replicate(state)
        keys = jax.random.split(jax.random.key(self.seed), self.batches)
        step = jnp.asarray(trainer.step, jnp.int32)
        statistics = FeatureStatistics()
        for key in keys:
            mean, scatter = program(state, self.extractor.weights, key, step)
            # Each batch centred on its own mean on the device (no float32 cancellation);
            # batches merged exactly in float64 on the host (Chan et al.'s update).
            statistics.merge(
                FeatureStatistics.from_moments(
                    np.asarray(mean, np.float64),
                    np.asarray(scatter, np.float64) / (self.batch_size - 1),
                    self.batch_size,
                )
            )
        return float(statistics.frechet_distance(self.reference))

    # -- the hooks ---------------------------------------------------------------------

    def on_log(self, trainer: Trainer, *, step: int, row: Mapping[str, float]) -> None:
        """When due, add the score to the row and keep the best checkpoint."""
        if not self.every or step % self.every:
            return
        score = self.evaluate(trainer)
        if isinstance(row, dict):  # the trainer's own row: history and writers see it
            row[self.name] = score
        if self.best is None or score < self.best:
            self.best = score
            if self.best_store is not None:
                extra = {"step": step, self.name: score}
                self.best_store.save(step, trainer.state, extra)

    def state_dict(self) -> dict[str, Any]:
        """The best score so far (a resumed run keeps the better checkpoint)."""
        return {"best": self.best}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.best = state.get("best")
