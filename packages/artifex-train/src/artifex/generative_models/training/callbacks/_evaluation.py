"""Periodic FID and KID of the EMA generator, computed on the training devices.

Each evaluation generates ``samples`` images with fixed latents (so scores of a run
compare), extracts their features and reduces them to sufficient statistics — the
batch's mean and its scatter about that mean (no float32 cancellation) — inside one
jitted call per batch. The batch is split over the trainer's device mesh; the reductions
over it run across devices (XLA inserts them). The host merges the batches exactly in
float64 (``FeatureStatistics.merge``) and finishes the FID there.

KID needs the features themselves, not moments: when the reference has a sample of its
features, the generated features come back to the host as well (``samples x D`` float32,
e.g. 8 MB for 1000 Inception features) and KID is the metrics package's unbiased
polynomial-kernel MMD over random subsets, as clean-fid computes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from artifex.generative_models.core.evaluation.metrics import (
    FeatureStatistics,
    kernel_inception_distance,
)
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
    """FID (and KID) of the trainer's EMA generator against the real data, every N steps.

    The scores join the logged row of their step (so ``metrics.jsonl`` and every writer
    get them: this callback runs before the writers); with ``keep_best`` the checkpoint
    of the lowest FID is kept in ``best_store``.

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
        name: The FID's name in the logged row (KID is ``kid`` beside it).
        reference_features: A sample of the real data's features ``(K, D)``; None: no KID.
        kid_subsets: Random subsets KID averages over.
        kid_subset_size: Rows per subset, capped at the smaller of the two sets.
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
        reference_features: np.ndarray | None = None,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
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
        self.reference_features = reference_features
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        self.best: float | None = None
        self._programs: dict[Any, Any] = {}

    # -- the computation ---------------------------------------------------------------

    @property
    def kid(self) -> bool:
        """Whether KID is measured (the reference has a sample of its features)."""
        return self.reference_features is not None

    def _program(self, trainer: Trainer, graphdef: Any) -> Any:
        """The jitted ``(generator state, weights, key, step) -> (moments, features)``."""
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
        whole = NamedSharding(devices.mesh, PartitionSpec())
        size, view, extractor, kid = self.batch_size, self.view, self.extractor, self.kid

        def moments(
            state: Any, weights: Any, key: jax.Array, step: jax.Array
        ) -> tuple[tuple[jax.Array, jax.Array], jax.Array | None]:
            generator = nnx.merge(graphdef, state)
            images = sample(generator, key, size, step)
            # The batch lives split over the mesh; the sums below reduce across devices.
            images = jax.lax.with_sharding_constraint(images, split)
            features = extractor.apply(weights, view(images)).reshape(size, -1)
            # Without KID the features never leave the devices. With it they are gathered
            # whole onto every device: in a multi-process run a host can read only an array
            # it holds whole, not one split over the other processes' devices.
            if not kid:
                return feature_moments(features), None
            gathered = jax.lax.with_sharding_constraint(features.astype(jnp.float32), whole)
            return feature_moments(features), gathered

        program = jax.jit(moments)
        self._programs[key] = program
        return program

    def evaluate(self, trainer: Trainer) -> dict[str, float]:
        """``{name: FID}`` of the trainer's EMA generator now, with ``kid`` when measured."""
        graphdef, state = nnx.split(trainer.ema_generator())
        program = self._program(trainer, graphdef)
        state = trainer.devices.replicate(state)
        keys = jax.random.split(jax.random.key(self.seed), self.batches)
        step = jnp.asarray(trainer.step, jnp.int32)
        statistics = FeatureStatistics()
        generated: list[np.ndarray] = []
        for key in keys:
            (mean, scatter), features = program(state, self.extractor.weights, key, step)
            if features is not None:
                generated.append(np.asarray(features))
            # Each batch centred on its own mean on the device (no float32 cancellation);
            # batches merged exactly in float64 on the host (Chan et al.'s update).
            statistics.merge(
                FeatureStatistics.from_moments(
                    np.asarray(mean, np.float64),
                    np.asarray(scatter, np.float64) / (self.batch_size - 1),
                    self.batch_size,
                )
            )
        scores = {self.name: float(statistics.frechet_distance(self.reference))}
        if self.reference_features is not None:
            fake = np.concatenate(generated)
            size = min(self.kid_subset_size, len(fake), len(self.reference_features))
            kid = kernel_inception_distance(
                self.reference_features,
                fake,
                subsets=self.kid_subsets,
                subset_size=size,
                seed=self.seed,
            )
            scores["kid"] = kid["kid_mean"]
        return scores

    # -- the hooks ---------------------------------------------------------------------

    def on_log(self, trainer: Trainer, *, step: int, row: Mapping[str, float]) -> None:
        """When due, add the score to the row and keep the best checkpoint."""
        if not self.every or step % self.every:
            return
        scores = self.evaluate(trainer)
        if isinstance(row, dict):  # the trainer's own row: history and writers see it
            row.update(scores)
        score = scores[self.name]
        if self.best is None or score < self.best:
            self.best = score
            if self.best_store is not None:
                extra = {"step": step, **scores}
                self.best_store.save(step, trainer.state, extra)

    def state_dict(self) -> dict[str, Any]:
        """The best score so far (a resumed run keeps the better checkpoint)."""
        return {"best": self.best}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.best = state.get("best")
