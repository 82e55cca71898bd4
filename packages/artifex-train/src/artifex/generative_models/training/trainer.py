"""The :class:`Trainer`: a loop that feeds one compiled step and calls its callbacks.

The trainer splits the model once, compiles one step for the family's training rules
(``model.training_rules()``, see :mod:`.step`), and then only feeds it: it gathers
``K x n_critic`` batches, places them on the device mesh split along the batch axis,
dispatches, and reads metrics back only every ``log_every`` iterations. Everything
periodic — writers, the progress bar, sample grids, checkpoints, progressive growth —
is a :class:`~.callbacks.Callback` beside the loop. Two guarantees stay in the loop
itself, because no callback may switch them off: a NaN or Inf loss stops the run naming
the iteration and the last good checkpoint, and SIGINT / SIGTERM checkpoint before the
run stops.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import nnx
from jax.sharding import NamedSharding, PartitionSpec

from artifex.generative_models.core.configuration import ExperimentConfig, TrainingConfig
from artifex.generative_models.models.gan import (
    Augment,
    Objective,
    TrainingRules,
    warn_if_penalty_meets_batch_norm,
)
from artifex.generative_models.nets import compute_dtypes
from artifex.generative_models.training.callbacks import (
    Callback,
    Checkpointing,
    Periodic,
    PhaseSchedule,
    ProgressCallback,
    WriterCallback,
)
from artifex.generative_models.training.checkpoints import CheckpointError, CheckpointStore
from artifex.generative_models.training.data._prefetch import DevicePrefetcher
from artifex.generative_models.training.devices import DeviceManager
from artifex.generative_models.training.evaluation import evaluation_from_config
from artifex.generative_models.training.optimizers import make_optimizer
from artifex.generative_models.training.state import TrainState, initial_state
from artifex.generative_models.training.step import build_step, resolve_loop
from artifex.generative_models.training.writers import (
    JsonlWriter,
    MetricWriter,
    TensorBoardWriter,
)
from artifex.generative_models.training.writers._jsonl import drop_rows_after

__all__ = ["NonFiniteLossError", "Trainer", "TrainingInterrupted", "rules_of"]


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or Inf; the message names the iteration and the last checkpoint."""


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; the state was checkpointed before this was raised."""


def rules_of(model: Any, experiment: ExperimentConfig) -> TrainingRules:
    """The model's training rules with the experiment's training settings.

    Raises:
        TypeError: ``model`` has no ``training_rules`` (it is not a model of
            ``artifex-gan`` or alike).
    """
    if not callable(getattr(model, "training_rules", None)):
        raise TypeError(
            "Trainer needs a GAN model of artifex-gan, which says how it trains through "
            f"training_rules(); {type(model).__name__} has no training_rules method"
        )
    objective = Objective.from_config(
        experiment.model,
        loss_type=experiment.resolved_objective,
        label_smoothing=experiment.resolved_label_smoothing,
        r1_weight=experiment.training.r1_weight,
        r1_interval=experiment.training.r1_interval,
    )
    n_critic = experiment.training.n_critic  # None: the family's own default
    rules = model.training_rules(objective=objective, n_critic=n_critic)
    wanted = experiment.training.augment
    if not wanted.active:
        return rules
    if not isinstance(getattr(rules, "augment", None), Augment):
        raise ValueError(
            f"training.augment (kind={wanted.kind!r}, xflip={wanted.xflip}): "
            f"{type(rules).__name__} cannot augment; augmentation applies to the families "
            "that generate from latents (GAN, DCGAN, WGAN, LSGAN, conditional, StyleGAN, "
            "progressive). Set training.augment.kind='none' and xflip=false"
        )
    layout = getattr(experiment.model, "data_layout", None)
    augment = Augment(
        kind=wanted.kind,
        policy=tuple(wanted.policy),
        transforms=tuple(wanted.transforms),
        xflip=wanted.xflip,
        p=wanted.p,
        target=wanted.target,
        speed_images=wanted.speed_images,
        interval=wanted.interval,
        data_format=layout.data_format if layout is not None else "NHWC",
    )
    return dataclasses.replace(rules, augment=augment)


class Trainer:
    """Trains a GAN model on a stream of batches.

    Args:
        model: A GAN model of ``artifex-gan`` (any family: it says how it trains through
            ``model.training_rules()``).
        data: An iterator of batches: dicts with the entries the family trains on
            (``"image"`` in the model's layout and in [-1, 1]; ``"label"`` for
            conditional models; ``"image_a"`` / ``"image_b"`` for CycleGAN). If it can
            save its position (grain iterators, or ``get_state`` / ``set_state``), the
            position is checkpointed and restored. None: a trainer that only restores
            and samples (``artifex-train evaluate``); ``fit`` then refuses to run.
        config: A :class:`TrainingConfig`, or an :class:`ExperimentConfig` holding it.
        device_manager: The devices to shard over; all devices by default.
        workdir: Where logs, samples and checkpoints go; the checkpoint config's
            ``directory`` (or ``runs/artifex``) when None.
        callbacks: More periodic work (see :class:`~.callbacks.Callback`), run after the
            built-in ones: progress, writers, checkpoints, growth.
        writers: More metric writers (TensorBoard, W&B, MLflow, ...; see
            :mod:`.writers`) beside ``metrics.jsonl`` and the config's TensorBoard.
        progress: Show the progress bar.

    Attributes:
        state: The current :class:`~.state.TrainState` (on the device mesh).
        rules: The family's training rules in force.
        history: The metrics logged so far, one dict per logged iteration.
        callbacks: The callbacks, built-in ones first; append to add more.
        on_sample: Called as ``on_sample(step)`` every ``logging.sample_every``
            iterations when set (a shortcut for a :class:`~.callbacks.Periodic`).
    """

    def __init__(
        self,
        model: Any,
        data: Iterator[dict[str, Any]] | None,
        config: TrainingConfig | ExperimentConfig,
        *,
        device_manager: DeviceManager | None = None,
        workdir: str | Path | None = None,
        callbacks: Sequence[Callback] = (),
        writers: Sequence[MetricWriter] = (),
        progress: bool = True,
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
        self.experiment = config
        self.config = config.training
        self.model = model
        self.data = data
        self.devices = device_manager or DeviceManager()
        self.workdir = Path(workdir or self.config.checkpoint.directory or "runs/artifex").resolve()
        self.history: list[dict[str, float]] = []
        self.rules = rules_of(model, config)
        self._check_phase_boundaries()
        # The modules the optimizers own; write_back copies the trained state into them.
        self._players = self.rules.players(model)
        generator, discriminator = self._players
        _check_precision(self.config.precision.compute_dtype, generator, discriminator)
        warn_if_penalty_meets_batch_norm(self.rules.objective, discriminator)
        g_config, d_config = config.resolved_optimizers
        accumulate = self.config.gradient_accumulation_steps
        g_tx = make_optimizer(g_config, accumulation_steps=accumulate)
        d_tx = make_optimizer(d_config, accumulation_steps=accumulate)
        nets = (
            generator,
            discriminator,
            nnx.Optimizer(generator, g_tx, wrt=nnx.Param),
            nnx.Optimizer(discriminator, d_tx, wrt=nnx.Param),
        )
        ema = self.config.ema
        augment = getattr(self.rules, "augment", None)
        self.graphdef, state = initial_state(
            nets,
            seed=self.config.seed,
            ema=ema is not None,
            augment=augment.init_state() if augment is not None and augment.stateful else None,
        )
        self.state: TrainState = self.devices.replicate(state)
        self._step = self._build_step()
        self._phased_steps: dict[tuple[Any, ...], Any] = {}  # see _step_at
        # Batches arrive as (K, n_critic, B, ...): split B over the mesh.
        self._batch_sharding = NamedSharding(
            self.devices.mesh, PartitionSpec(None, None, self.devices.axis_name)
        )
        self.on_sample: Callable[[int], None] | None = None
        self._store: CheckpointStore | None = None
        self._stop_signal: int | None = None  # the signal all processes stop for
        self._signal_received: int | None = None  # the one this process caught
        self._stop_requested = False
        self._last_checkpoint: int | None = None
        self._feed: DevicePrefetcher[dict[str, jax.Array]] | None = None  # see _open_feed
        self.writers: list[MetricWriter] = list(writers)
        self.callbacks: list[Callback] = [
            *self._default_callbacks(progress),
            *callbacks,
        ]

    # -- construction --------------------------------------------------------------------

    def _default_callbacks(self, progress: bool) -> list[Callback]:
        logging, checkpoint = self.config.logging, self.config.checkpoint
        defaults: list[Callback] = []
        if self.rules.phase_starts():
            defaults.append(PhaseSchedule())
        # Before the writers: the scores join the row they write.
        evaluation = evaluation_from_config(self)
        if evaluation is not None:
            defaults.append(evaluation)
        if progress:
            defaults.append(ProgressCallback())
        defaults.append(WriterCallback(self._open_writers))
        defaults.append(
            Periodic(
                lambda trainer, step: trainer.on_sample(step) if trainer.on_sample else None,
                every=logging.sample_every,
            )
        )
        defaults.append(
            Checkpointing(every=checkpoint.every_n_steps, save_final=checkpoint.save_final)
        )
        return defaults

    def _open_writers(self) -> list[MetricWriter]:
        """``metrics.jsonl``, the config's TensorBoard and the user's writers (per fit)."""
        if self.devices.process_index != 0:
            return []  # a multi-process run logs once, from process 0
        opened: list[MetricWriter] = [JsonlWriter(self.workdir / "metrics.jsonl")]
        logging = self.config.logging
        if logging.tensorboard and logging.log_dir is not None:  # the config requires one
            opened.append(TensorBoardWriter(Path(logging.log_dir) / "tensorboard"))
        return [*opened, *self.writers]

    def _check_phase_boundaries(self) -> None:
        """A dispatch runs one compiled program: every phase must start on a boundary."""
        k = self.config.steps_per_dispatch
        for start in self.rules.phase_starts():
            if start % k:
                raise ValueError(
                    f"the training rules change at step {start} (a ProgressiveGAN stage "
                    f"starts there), which is not a multiple of steps_per_dispatch={k}; "
                    "make stable_steps and transition_steps multiples of it"
                )

    def _build_step(self, rules: Any = None) -> Any:
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
            self.rules if rules is None else rules,
            ema_decay=None if ema is None else ema.decay,
            ema_start=0 if ema is None else ema.start_step,
            compute_dtype=self.config.precision.compute_dtype,
            loop=resolve_loop(self.config.loop),
        )

    def set_rules(self, rules: TrainingRules) -> None:
        """Train by ``rules`` from now on (a new compiled program; a progressive stage).

        The players are brought to the rules' static structure (``rules.enter``); the
        arrays, and so the state's shape, stay as they are.
        """
        if rules == self.rules:
            return
        self._rewind_feed()  # batches prepared ahead were checked against the old rules
        modules = self._modules()
        rules.enter(modules[:2])
        rules.enter(self._players)
        self.graphdef, nets = nnx.split(modules)
        self.state = dataclasses.replace(self.state, nets=self.devices.replicate(nets))
        self.rules = rules
        self._step = self._build_step()
        self._phased_steps = {}

    def _step_at(self, start: int, k: int) -> Any:
        """The program of the dispatch of iterations ``start .. start + k - 1``.

        Rules with lazy terms (lazy R1, path length) on an unrolled loop get one program
        per pattern of due iterations in the dispatch (at most the lazy period's count):
        each iteration's terms are left in or out while tracing, because XLA:CPU runs a
        ``lax.cond`` branch's convolutions ~10x slower than the same code written out
        (``_rules.when_due``). Otherwise the one program, ``_step``.
        """
        period = math.lcm(*self.rules.lazy_intervals())
        if period == 1 or resolve_loop(self.config.loop) != "unrolled":
            return self._step
        each = tuple(self.rules.at_lazy_phase((start + i) % period) for i in range(k))
        if each not in self._phased_steps:
            self._phased_steps[each] = self._build_step(each)
        return self._phased_steps[each]

    # -- public ------------------------------------------------------------------------

    @property
    def step(self) -> int:
        """Iterations done (reads the device: call it between dispatches, not in a loop)."""
        return int(self.state.step)

    @property
    def n_critic(self) -> int:
        """Discriminator updates per iteration."""
        return self.rules.n_critic

    @property
    def checkpoints(self) -> CheckpointStore:
        """The run's checkpoint store, in ``workdir/checkpoints``."""
        if self._store is None:
            # A trainer without data only restores (evaluate, generate): read-only, so that
            # it leaves alone the unfinished save of a run that may train in the folder.
            self._store = CheckpointStore(
                self.workdir / "checkpoints",
                keep_last=self.config.checkpoint.keep_last,
                read_only=self.data is None,
            )
        return self._store

    def request_stop(self) -> None:
        """End ``fit`` after the current dispatch, as if its target were reached.

        For callbacks (early stopping): the run completes normally, so the final
        checkpoint is saved and the trained state is written back into the model.
        """
        self._stop_requested = True

    @property
    def last_checkpoint(self) -> int | None:
        """The step of the checkpoint saved or restored last by this trainer."""
        return self._last_checkpoint

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
        # The saved state has the shape of the rules in force at its step.
        self.set_rules(self.rules.phase_at(step))
        step, state, extra = self.checkpoints.restore(self.state, step, data_iterator=self.data)
        self.state = self.devices.replicate(state)
        saved = extra.get("callbacks", {})
        for i, callback in enumerate(self.callbacks):
            if _callback_key(i, callback) in saved:
                callback.load_state_dict(saved[_callback_key(i, callback)])
        self._forget_metrics_after(step)
        self._last_checkpoint = step
        return step

    def _forget_metrics_after(self, step: int) -> None:
        """Drop logged rows past ``step``: the run continues from there and logs them anew."""
        # Kept in metrics.dropped.jsonl; a torn last line is repaired with a warning.
        if self.devices.process_index == 0:  # the one process that writes the log
            drop_rows_after(self.workdir / "metrics.jsonl", step)
        self.history = [row for row in self.history if row.get("step", 0) <= step]

    def save(self) -> int:
        """Checkpoint the current state now; return its step."""
        self._rewind_feed()  # the data position saved is the last batch trained on
        step = self.step
        extra: dict[str, Any] = {
            "step": step,
            "config": self.experiment.to_dict(include_type=True),
            "callbacks": {
                _callback_key(i, callback): callback.state_dict()
                for i, callback in enumerate(self.callbacks)
            },
        }
        self.checkpoints.save(step, self.state, extra, data_iterator=self.data)
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
        # A stop asked of an earlier fit is not this one's.
        self._stop_signal, self._stop_requested = None, False
        self._signal_received = None
        if self.data is None:
            raise ValueError(
                "this Trainer was built without data (data=None, for restoring and "
                "sampling); pass an iterator of batches to train"
            )
        target = self.config.steps if steps is None else steps
        k = self.config.steps_per_dispatch
        if target % k:
            raise ValueError(f"steps={target} must be a multiple of steps_per_dispatch={k}")
        if self.config.checkpoint.resume and self.checkpoints.latest_step() is not None:
            self.restore()
        # Rows logged past where this fit starts (by a run stopped before its next
        # checkpoint) are logged anew: the log must hold each step once.
        self._forget_metrics_after(self.step)
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_every = self.config.logging.log_every
        done = self.step
        pending: list[tuple[int, dict[str, jax.Array]]] = []
        rate = _RecentRate(done)
        error: BaseException | None = None
        for callback in self.callbacks:
            callback.on_fit_start(self, start=done, target=target)
        self._open_feed(k)
        try:
            with _signals_caught(self):
                while done < target and not self._stop_requested:
                    for callback in self.callbacks:
                        callback.on_dispatch_start(self, step=done)
                    step = self._step_at(done, k)
                    self.state, metrics = step(self.state, self._batches(k))
                    done += k
                    pending.append((done, metrics))
                    self._agree_on_stop()
                    stopping = self._stop_signal is not None or self._stop_requested
                    if done % log_every == 0 or done == target or stopping:
                        self._report(pending, rate)
                    for callback in self.callbacks:
                        callback.on_dispatch_end(self, step=done)
                    if self._stop_signal is not None:
                        saved = done if self._last_checkpoint == done else self.save()
                        raise TrainingInterrupted(
                            f"stopped by signal {self._stop_signal} at step {done}; "
                            f"checkpoint saved at step {saved} in {self.checkpoints.directory}"
                        )
                self._report(pending, rate)
        except BaseException as raised:
            error = raised
            raise
        finally:
            self._close_feed()  # first: from here on the data position is the trained one
            for callback in self.callbacks:
                callback.on_fit_end(self, step=done, error=error)
        self.write_back()
        return self.history

    def _modules(self) -> tuple[Any, Any, Any, Any]:
        """Fresh modules on the current state (rebuilt, so changing them leaves it intact)."""
        return nnx.merge(self.graphdef, jax.tree.map(lambda leaf: leaf, self.state.nets))

    def write_back(self) -> None:
        """Copy the trained state into the model the trainer was given."""
        for player, trained in zip(self._players, self._modules()[:2], strict=True):
            nnx.update(player, jax.tree.map(jax.numpy.copy, nnx.state(trained)))

    def ema_generator(self) -> Any:
        """A copy of the generator side with the EMA parameters (or the current ones)."""
        generator = self._modules()[0]
        if self.state.ema is not None:
            nnx.update(generator, self.state.ema)
        return generator

    # -- the feed: batches prepared ahead (data.device_prefetch) ---------------------------

    def _open_feed(self, k: int) -> None:
        """Prepare ``data.device_prefetch`` dispatches of batches ahead, in a thread."""
        ahead = self.config.data.device_prefetch
        if ahead:
            self._feed = DevicePrefetcher(
                lambda: self._next_batches(k), size=ahead, position=self.data
            )

    def _batches(self, k: int) -> dict[str, jax.Array]:
        return self._next_batches(k) if self._feed is None else next(self._feed)

    def _rewind_feed(self) -> None:
        """Stop the thread; set the data iterator back to the last batch trained on."""
        if self._feed is not None:
            self._feed.rewind()

    def _close_feed(self) -> None:
        if self._feed is not None:
            self._feed.close()
            self._feed = None

    # -- internals ---------------------------------------------------------------------

    def _next_batches(self, k: int) -> dict[str, jax.Array]:
        """``k x n_critic`` batches stacked as ``(k, n_critic, B, ...)`` on the mesh.

        Raises:
            ValueError: A batch lacks an entry the model needs, its examples have another
                shape than the model's, its size does not split over the devices, or
                labels are not integers in ``[0, num_classes)``.
        """
        n_critic = self.rules.n_critic
        data = self.data
        assert data is not None  # fit refuses a trainer without data
        batches = [next(data) for _ in range(k * n_critic)]
        names = self.rules.batch_shapes()
        missing = [name for name in names if name not in batches[0]]
        if missing:
            raise ValueError(
                f"a batch has no {missing[0]!r} entry (it has {sorted(batches[0])}); "
                f"{type(self.model).__name__} trains on {', '.join(names)}"
            )
        stacked = {name: np.stack([np.asarray(b[name]) for b in batches]) for name in names}
        self.rules.check_batch(stacked)
        size = next(iter(stacked.values())).shape[1]
        devices = self.devices.local_device_count
        if size % devices:
            raise ValueError(
                f"batch size {size} does not split over {devices} devices; use a multiple "
                f"of {devices}"
            )
        stacked = {
            name: array.reshape(k, n_critic, *array.shape[1:]) for name, array in stacked.items()
        }
        if self.devices.process_count > 1:
            # Each process holds its own part of the global batch (grain shards the data
            # by process); together they make one array over the whole mesh.
            return {
                name: jax.make_array_from_process_local_data(self._batch_sharding, array)
                for name, array in stacked.items()
            }
        return jax.device_put(stacked, self._batch_sharding)

    def _agree_on_stop(self) -> None:
        """Stop after this dispatch, in every process, when any one caught a signal.

        A process that stopped alone would leave the others waiting in the next step's
        collectives; all must save the same checkpoint and stop at the same dispatch. One
        small all-gather per dispatch (multi-process runs only) shares the signals caught,
        and the decision is what it returned, the same in every process: a signal that
        lands while it runs is shared at the next dispatch.
        """
        if self.devices.process_count == 1:
            return  # the signal handler sets _stop_signal itself
        caught = self._signal_received  # read once
        from jax.experimental import multihost_utils

        seen = multihost_utils.process_allgather(np.int32(caught or 0))
        signals = [int(signum) for signum in np.ravel(seen) if signum]
        self._stop_signal = signals[0] if signals else None

    def _report(self, pending: list[tuple[int, dict[str, jax.Array]]], rate: _RecentRate) -> None:
        """Read the newest metrics back, stop on a non-finite loss, tell the callbacks."""
        if not pending:
            return
        bad = int(self.state.first_bad_step)
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
        pending.clear()
        row = {"step": done, **{k: float(np.asarray(v)[-1]) for k, v in metrics.items()}}
        row["it_per_s"] = rate.update(done)
        self.history.append(row)
        for callback in self.callbacks:
            callback.on_log(self, step=done, row=row)


def _callback_key(index: int, callback: Callback) -> str:
    """Where a callback's state is kept in a checkpoint: its place and its class."""
    return f"{index}:{type(callback).__name__}"


def _check_precision(wanted: str, generator: Any, discriminator: Any) -> None:
    """Refuse networks built for another precision than the training config asks.

    Precision is chosen when the networks are built (the network configs' ``dtype``);
    the trainer does not recast a model, so a mismatch is a mistake to point out.
    """
    found = {
        name: compute_dtypes(network)
        for name, network in (("generator", generator), ("discriminator", discriminator))
    }
    if any(dtypes != {wanted} for dtypes in found.values()):
        built = ", ".join(f"{name} {sorted(dtypes)}" for name, dtypes in found.items())
        raise ValueError(
            f"the training config asks for compute_dtype={wanted!r}, but the model's "
            f"networks compute in: {built}; build the model from "
            f"config.with_compute_dtype({wanted!r}) (run_experiment and the CLI do this)"
        )


class _RecentRate:
    """Iterations per second since the previous report (compilation drops out of it)."""

    def __init__(self, step: int):
        self.step, self.time = step, time.perf_counter()

    def update(self, step: int) -> float:
        now = time.perf_counter()
        elapsed = now - self.time
        rate = (step - self.step) / elapsed if elapsed > 0 else 0.0
        self.step, self.time = step, now
        return rate


class _signals_caught:
    """Within the block, SIGINT and SIGTERM ask the trainer to checkpoint and stop."""

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> None:
        def ask_to_stop(signum: int, frame: Any) -> None:
            self.trainer._signal_received = signum
            if self.trainer.devices.process_count == 1:  # else decided by _agree_on_stop
                self.trainer._stop_signal = signum

        for signum in (signal.SIGINT, signal.SIGTERM):
            # Outside the main thread signals cannot be caught: they stay with the caller.
            with contextlib.suppress(ValueError):
                self.previous[signum] = signal.signal(signum, ask_to_stop)

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
