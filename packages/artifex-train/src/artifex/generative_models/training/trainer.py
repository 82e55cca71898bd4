"""The :class:`Trainer`: a GAN, its data and a training config, run to the end.

The trainer splits the model once, compiles one step (see :mod:`.step`), and then only
feeds it: it gathers ``K x n_critic`` batches, places them on the device mesh split
along the batch axis, dispatches, and touches the host copy of anything only when it logs,
samples or checkpoints. It never loses work: checkpoints are complete or absent, SIGINT and
SIGTERM save before exiting, and a NaN or Inf loss stops the run naming the iteration and
the last good checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from artifex.generative_models.core.configuration import (
    ExperimentConfig,
    LSGANConfig,
    TrainingConfig,
    WGANConfig,
)
from artifex.generative_models.training.checkpoints import CheckpointError, CheckpointStore
from artifex.generative_models.training.devices import DeviceManager
from artifex.generative_models.training.games import (
    Game,
    ProgressiveGame,
    game_for,
    progressive_game,
)
from artifex.generative_models.training.objective import Objective
from artifex.generative_models.training.optimizers import make_optimizer
from artifex.generative_models.training.progress import ProgressBar
from artifex.generative_models.training.step import build_step, initial_state
from artifex.generative_models.training.tensorboard import EventWriter

__all__ = ["NonFiniteLossError", "Trainer", "TrainingInterrupted"]


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or Inf; the message names the iteration and the last checkpoint."""


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; the state was checkpointed before this was raised."""


def objective_of(experiment: ExperimentConfig) -> Objective:
    """The losses and penalties an experiment config asks for."""
    model = experiment.model
    targets = (model.a, model.b, model.c) if isinstance(model, LSGANConfig) else (0.0, 1.0, 1.0)
    if isinstance(model, WGANConfig):
        gp_weight = model.effective_gradient_penalty_weight
    else:
        gp_weight = getattr(model, "gradient_penalty_weight", 0.0)
    return Objective(
        reduction=model.reduction if isinstance(model, LSGANConfig) else "mean",
        loss_type=experiment.resolved_objective,
        label_smoothing=experiment.resolved_label_smoothing,
        ls_targets=targets,
        gradient_penalty_weight=float(gp_weight),
        r1_weight=experiment.training.r1_weight,
        r1_interval=experiment.training.r1_interval,
    )


class Trainer:
    """Trains a GAN model on a stream of batches.

    Args:
        model: A GAN model with ``generator``, ``discriminator`` (with ``logits``),
            ``latent_dim`` and a typed ``config`` (any family of ``artifex-gan`` whose
            networks take ``(z[, labels])`` and ``(x[, labels])``).
        data: An iterator of batches: dicts with ``"image"`` (``(B, ...)`` in the model's
            layout, in [-1, 1]) and, for conditional models, ``"label"`` (``(B,)`` int).
            If it has ``get_state`` / ``set_state`` (grain iterators do), its position is
            checkpointed and restored.
        config: A :class:`TrainingConfig`, or an :class:`ExperimentConfig` holding it.
        device_manager: The devices to shard over; all devices by default.
        workdir: Where logs, samples and checkpoints go; the checkpoint config's
            ``directory`` (or ``runs/artifex``) when None.

    Attributes:
        state: The current :data:`~.step.TrainState` (on the device mesh).
        history: The metrics logged so far, one dict per logged iteration.
    """

    def __init__(
        self,
        model: Any,
        data: Iterator[dict[str, Any]],
        config: TrainingConfig | ExperimentConfig,
        *,
        device_manager: DeviceManager | None = None,
        workdir: str | Path | None = None,
    ):
        if not isinstance(config, ExperimentConfig | TrainingConfig):
            raise TypeError(
                "config must be a TrainingConfig or an ExperimentConfig, got "
                f"{type(config).__name__}"
            )
        if isinstance(config, TrainingConfig):
            if getattr(model.config, "num_classes", None) and not config.data.use_labels:
                # The batches come from ``data``, not from the data config; it only has to
                # agree that they carry labels.
                config = config.replace(data=config.data.replace(use_labels=True))
            config = ExperimentConfig(model=model.config, training=config)
        experiment = config
        self.experiment = experiment
        self.config = experiment.training
        self.model = model
        self.data = data
        self.devices = device_manager or DeviceManager()
        self.workdir = Path(workdir or self.config.checkpoint.directory or "runs/artifex").resolve()
        self.objective = objective_of(experiment)
        self.n_critic = experiment.resolved_n_critic
        self.history: list[dict[str, float]] = []

        self.game: Game = game_for(model)
        if isinstance(self.game, ProgressiveGame):
            _check_stage_boundaries(model, self.config.steps_per_dispatch)
        # The modules the optimizers own; write_back copies the trained state into them.
        self._players = self.game.players(model)
        g_config, d_config = experiment.resolved_optimizers
        accumulate = self.config.gradient_accumulation_steps
        g_tx = make_optimizer(g_config, accumulation_steps=accumulate)
        d_tx = make_optimizer(d_config, accumulation_steps=accumulate)
        generator, discriminator = self._players
        _warn_if_penalty_meets_batch_norm(self.objective, discriminator)
        nets = (
            generator,
            discriminator,
            nnx.Optimizer(generator, g_tx, wrt=nnx.Param),
            nnx.Optimizer(discriminator, d_tx, wrt=nnx.Param),
        )
        ema = self.config.ema
        self.graphdef, state = initial_state(nets, seed=self.config.seed, ema=ema is not None)
        self.state = self.devices.replicate(state)
        self._step = self._build_step()
        # Batches arrive as (K, n_critic, B, ...): split B over the mesh.
        self._batch_sharding = NamedSharding(
            self.devices.mesh, PartitionSpec(None, None, self.devices.axis_name)
        )
        #: Called as ``on_sample(step)`` every ``logging.sample_every`` iterations.
        self.on_sample: Callable[[int], None] | None = None
        self._store: CheckpointStore | None = None
        self._stop_signal: int | None = None
        self._last_checkpoint: int | None = None
        self._progress = ProgressBar(self.config.steps)
        self._events: EventWriter | None = None

    def _build_step(self) -> Any:
        ema = self.config.ema
        # A graph definition holding an unhashable attribute (a list a third-party module
        # keeps) cannot key the cache of compiled steps; such a model compiles its own.
        build: Any
        try:
            hash(self.graphdef)
            build = build_step
        except TypeError:
            build = build_step.__wrapped__
        return build(
            self.graphdef,
            self.objective,
            self.game,
            n_critic=self.n_critic,
            ema_decay=None if ema is None else ema.decay,
            ema_start=0 if ema is None else ema.start_step,
            compute_dtype=self.config.precision.compute_dtype,
            critic_clip=_critic_clip(self.experiment.model),
        )

    # -- public ------------------------------------------------------------------------

    @property
    def step(self) -> int:
        """Iterations done (reads the device: call it between dispatches, not in a loop)."""
        return int(self.state["step"])

    @property
    def checkpoints(self) -> CheckpointStore:
        """The run's checkpoint store, in ``workdir/checkpoints``."""
        if self._store is None:
            self._store = CheckpointStore(
                self.workdir / "checkpoints", keep_last=self.config.checkpoint.keep_last
            )
        return self._store

    def restore(self, step: int | None = None) -> int:
        """Continue from checkpoint ``step`` (the latest readable one by default).

        Without ``step``, a damaged newest checkpoint (a disk error, a copy cut short) is
        reported as a warning and the one before it is tried, and so on.

        Returns:
            The step restored.

        Raises:
            FileNotFoundError: There is no checkpoint.
            CheckpointError: Checkpoint ``step`` (or, without ``step``, every one) is
                unreadable.
        """
        if step is None:
            steps = self.checkpoints.all_steps()
            if not steps:
                raise FileNotFoundError(f"no checkpoint in {self.checkpoints.directory}")
            for candidate in reversed(steps[1:]):
                try:
                    return self.restore(candidate)
                except CheckpointError as error:
                    warnings.warn(f"{error}; trying the one before", stacklevel=2)
            step = steps[0]
        step, state, extra = self.checkpoints.restore(self.state, step)
        self.state = self.devices.replicate(state)
        self._forget_metrics_after(step)
        data_state = extra.get("data_state")
        if data_state is not None and hasattr(self.data, "set_state"):
            self.data.set_state(_decode_data_state(data_state))
        self._last_checkpoint = step
        return step

    def _forget_metrics_after(self, step: int) -> None:
        """Drop logged rows past ``step``: the run continues from there and logs them anew."""
        log = self.workdir / "metrics.jsonl"
        if not log.exists():
            return
        rows = [line for line in log.read_text().splitlines() if line.strip()]
        kept = [line for line in rows if json.loads(line).get("step", 0) <= step]
        if len(kept) != len(rows):
            log.write_text("".join(line + "\n" for line in kept))
        self.history = [row for row in self.history if row.get("step", 0) <= step]

    def save(self) -> int:
        """Checkpoint the current state now; return its step."""
        step = self.step
        extra: dict[str, Any] = {
            "step": step,
            "config": self.experiment.to_dict(include_type=True),
            "data_state": (
                _encode_data_state(self.data.get_state())
                if hasattr(self.data, "get_state")
                else None
            ),
        }
        self.checkpoints.save(step, self.state, extra)
        self._last_checkpoint = step
        return step

    def fit(self, steps: int | None = None) -> list[dict[str, float]]:
        """Train until ``steps`` iterations are done (the config's ``steps`` by default).

        Resumes from the latest checkpoint first when the checkpoint config says so.

        Returns:
            :attr:`history`.

        Raises:
            NonFiniteLossError: A loss became NaN or Inf.
            TrainingInterrupted: SIGINT / SIGTERM arrived (after a checkpoint was saved).
        """
        self._stop_signal = None  # a stop asked of an earlier fit is not this one's
        target = self.config.steps if steps is None else steps
        k = self.config.steps_per_dispatch
        if target % k:
            raise ValueError(f"steps={target} must be a multiple of steps_per_dispatch={k}")
        if self.config.checkpoint.resume and self.checkpoints.latest_step() is not None:
            self.restore()
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_every = self.config.logging.log_every
        every_checkpoint = self.config.checkpoint.every_n_steps
        sample_every = self.config.logging.sample_every
        pending: list[tuple[int, dict[str, jax.Array]]] = []
        done = self.step
        started, started_step = time.perf_counter(), done
        self._progress = ProgressBar(target)
        logging = self.config.logging
        if logging.tensorboard and self._events is None:
            self._events = EventWriter(Path(logging.log_dir or self.workdir) / "tensorboard")
        with _signals_caught(self), contextlib.closing(self._progress):
            while done < target:
                self._enter_stage_of(done)
                self.state, metrics = self._step(self.state, self._next_batches(k))
                done += k
                pending.append((done, metrics))
                if done % log_every == 0 or done == target:
                    self._log(pending, started, started_step, target)
                    pending.clear()
                if self.on_sample is not None and sample_every and done % sample_every == 0:
                    self.on_sample(done)
                if done % every_checkpoint == 0:
                    self.save()
                if self._stop_signal is not None:
                    self._log(pending, started, started_step, target)
                    saved = done if self._last_checkpoint == done else self.save()
                    raise TrainingInterrupted(
                        f"stopped by signal {self._stop_signal} at step {done}; "
                        f"checkpoint saved at step {saved} in {self.checkpoints.directory}"
                    )
            self._log(pending, started, started_step, target)
        if self._events is not None:
            self._events.close()
            self._events = None
        if self.config.checkpoint.save_final and self._last_checkpoint != done:
            self.save()
        self.write_back()
        return self.history

    def _modules(self) -> tuple[Any, Any, Any, Any]:
        """Fresh modules on the current state (rebuilt, so changing them leaves it intact)."""
        return nnx.merge(self.graphdef, jax.tree.map(lambda leaf: leaf, self.state["nets"]))

    def write_back(self) -> None:
        """Copy the trained state into the model the trainer was given."""
        for player, trained in zip(self._players, self._modules()[:2], strict=True):
            nnx.update(player, jax.tree.map(jnp.copy, nnx.state(trained)))

    def ema_generator(self) -> Any:
        """A copy of the generator with the EMA parameters (or the current ones)."""
        generator = self._modules()[0]
        if self.state["ema"] is not None:
            nnx.update(generator, self.state["ema"])
        return generator

    # -- internals ---------------------------------------------------------------------

    def _enter_stage_of(self, step: int) -> None:
        """Grow a progressive model to the stage of iteration ``step`` (a new program)."""
        if not isinstance(self.game, ProgressiveGame):
            return
        stage = self.model.config.stage_at(step)[0]
        if stage == self.game.stage:
            return
        modules = self._modules()
        for network in (*modules[:2], self.model):
            network.set_stage(stage)
        # The stage is static structure (which blocks run), so it lives in the graph
        # definition; the arrays, and so the state's shape, are the same at every stage.
        self.graphdef, nets = nnx.split(modules)
        self.state = {**self.state, "nets": self.devices.replicate(nets)}
        self.game = progressive_game(self.model, stage)
        self._step = self._build_step()

    def _next_batches(self, k: int) -> dict[str, jax.Array]:
        """``k x n_critic`` batches stacked as ``(k, n_critic, B, ...)`` on the mesh.

        Raises:
            ValueError: A batch lacks an entry the model needs, its examples have another
                shape than the model's, its size does not split over the devices, or
                labels are not integers in ``[0, num_classes)``.
        """
        batches = [next(self.data) for _ in range(k * self.n_critic)]
        stacked = {}
        for key, shape in self.game.expected_shapes().items():
            if key not in batches[0]:
                raise ValueError(
                    f"a batch has no {key!r} entry (it has {sorted(batches[0])}); "
                    f"{type(self.model).__name__} trains on {', '.join(self.game.batch_keys)}"
                )
            array = np.stack([np.asarray(b[key]) for b in batches])
            _check_batch_entry(key, array, shape, self.devices.local_device_count, self.game)
            stacked[key] = array.reshape(k, self.n_critic, *array.shape[1:])
        if self.devices.process_count > 1:
            # Each process holds its own part of the global batch (grain shards the data
            # by process); together they make one array over the whole mesh.
            return {
                key: jax.make_array_from_process_local_data(self._batch_sharding, array)
                for key, array in stacked.items()
            }
        return jax.device_put(stacked, self._batch_sharding)

    def _log(
        self,
        pending: list[tuple[int, dict[str, jax.Array]]],
        started: float,
        started_step: int,
        target: int,
    ) -> None:
        if not pending:
            return
        bad = int(self.state["first_bad_step"])
        if bad >= 0:
            where = (
                f"the last good checkpoint is step {self._last_checkpoint} in "
                f"{self.checkpoints.directory}"
                if self._last_checkpoint is not None
                else "no checkpoint was saved yet"
            )
            raise NonFiniteLossError(
                f"a loss became NaN or Inf at step {bad + 1}; training stopped and that "
                f"update was not applied; {where}"
            )
        done, metrics = pending[-1]
        row = {"step": done, **{k: float(np.asarray(v)[-1]) for k, v in metrics.items()}}
        elapsed = time.perf_counter() - started
        row["it_per_s"] = (done - started_step) / elapsed if elapsed > 0 else 0.0
        self.history.append(row)
        with (self.workdir / "metrics.jsonl").open("a") as log:
            log.write(json.dumps(row) + "\n")
        self._progress.update(
            done, row["it_per_s"], {k: v for k, v in row.items() if k.endswith("loss")}
        )
        if self._events is not None:
            self._events.scalars(done, {k: v for k, v in row.items() if k != "step"})


def _warn_if_penalty_meets_batch_norm(objective: Objective, discriminator: Any) -> None:
    """Gradient penalties assume a critic that scores each example on its own."""
    penalties = [
        name
        for name, weight in (
            ("gradient penalty", objective.gradient_penalty_weight),
            ("R1", objective.r1_weight),
        )
        if weight > 0
    ]
    if not penalties:
        return
    if any(isinstance(node, nnx.BatchNorm) for _, node in nnx.iter_graph(discriminator)):
        warnings.warn(
            f"the {' and '.join(penalties)} differentiate the critic example by example, "
            "but this discriminator has BatchNorm, which mixes the examples of a batch in "
            "training mode; the penalty is then not the one of the papers (use no "
            "normalization, layer or instance norm in a penalized critic)",
            stacklevel=3,
        )


def _critic_clip(model_config: Any) -> float | None:
    """The weight-clipping bound of an original (not gradient-penalty) WGAN, else None."""
    if isinstance(model_config, WGANConfig) and not model_config.use_gradient_penalty:
        return float(model_config.clip_value)
    return None


def _check_batch_entry(
    key: str, array: np.ndarray, shape: tuple[int, ...], devices: int, game: Game
) -> None:
    """Refuse a stacked batch entry ``(batches, B, *example)`` the model cannot take."""
    size, example = array.shape[1], tuple(array.shape[2:])
    if example != tuple(shape):
        raise ValueError(
            f"batch entry {key!r} holds examples of shape {example}; the model expects "
            f"{tuple(shape)} (check the image size, channels and layout of the data)"
        )
    if size % devices:
        raise ValueError(
            f"batch size {size} does not split over {devices} devices; use a multiple of {devices}"
        )
    if key == "label":
        if not np.issubdtype(array.dtype, np.integer):
            raise ValueError(f"labels must be integers, got dtype {array.dtype}")
        classes = getattr(game, "num_classes", 0)
        low, high = int(array.min()), int(array.max())
        if low < 0 or high >= classes:
            raise ValueError(
                f"labels must lie in [0, {classes}) for this model, got values from {low} to {high}"
            )


def _check_stage_boundaries(model: Any, steps_per_dispatch: int) -> None:
    """A dispatch runs one compiled stage: every stage must start on a dispatch boundary."""
    for stage in range(1, model.num_stages):
        start = progressive_game(model, stage).fade_start
        if start % steps_per_dispatch:
            raise ValueError(
                f"stage {stage} of the ProgressiveGAN starts at step {start}, which is not a "
                f"multiple of steps_per_dispatch={steps_per_dispatch}; make stable_steps and "
                "transition_steps multiples of it"
            )


def _encode_data_state(state: Any) -> Any:
    """A data iterator's state as JSON (grain states are bytes or dicts)."""
    if isinstance(state, bytes):
        return {"bytes": state.decode("latin-1")}
    return {"json": state}


def _decode_data_state(encoded: dict[str, Any]) -> Any:
    if "bytes" in encoded:
        return encoded["bytes"].encode("latin-1")
    return encoded["json"]


class _signals_caught:
    """Within the block, SIGINT and SIGTERM ask the trainer to checkpoint and stop."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        def ask_to_stop(signum: int, frame: Any) -> None:
            self.trainer._stop_signal = signum

        for signum in (signal.SIGINT, signal.SIGTERM):
            # Outside the main thread signals cannot be caught: they stay with the caller.
            with contextlib.suppress(ValueError):
                self.previous[signum] = signal.signal(signum, ask_to_stop)

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
