"""How a GAN family trains: its objective, its players, its fakes and its losses.

Each model class of this package says how it is trained by returning *training rules*
from ``model.training_rules(...)``: static, hashable data whose methods the compiled
training step of ``artifex-train`` calls while tracing, and which the model's own seed
API (``loss_fn``, ``discriminator_loss``, ...) calls as well. So a family's rules are
written once, here and in the family's module, and the training loop knows nothing of
families (stylegan3's ``training/loss.py`` has one class per objective for the same
reason).

This module holds what every family shares:

* :class:`Objective` — the adversarial loss of a config and its regularizers;
* :func:`functional_critic` — the critic as a pure function of its input, for penalties;
* :class:`TrainingRules` — the protocol the training step relies on;
* :class:`LatentRules` — ``g(z)`` against ``d.logits(x)``: GAN, DCGAN, WGAN, LSGAN, and
  the base of the conditional, style-based and progressive rules.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from artifex.generative_models.core.configuration import (
    BaseGANConfig,
    LSGANConfig,
    WGANConfig,
)
from artifex.generative_models.core.losses import (
    ADVERSARIAL_LOSS_TYPES,
    adversarial_discriminator_loss,
    adversarial_generator_loss,
    gradient_penalty,
    r1_penalty,
)
from artifex.generative_models.models.gan.augment import Augment

__all__ = [
    "Batch",
    "Fakes",
    "LatentRules",
    "Losses",
    "Objective",
    "OnePhase",
    "TrainingRules",
    "check_batch_shapes",
    "critic_terms",
    "functional_critic",
    "warn_if_penalty_meets_batch_norm",
    "when_due",
]

Batch = Mapping[str, jax.Array]
"""One real batch: entry name -> ``(B, ...)`` array (see ``TrainingRules.batch_shapes``)."""
Fakes = dict[str, Any]
"""What the discriminator sees as fake for one update, and what it needs beside it."""
Losses = tuple[jax.Array, dict[str, jax.Array]]
"""``(loss, metrics)``: a float32 scalar to minimise and float32 scalars to report."""


def f32(x: jax.Array) -> jax.Array:
    """``x`` in float32: losses are reduced in float32 whatever the compute dtype.

    A bf16 mean over a batch of logits loses the digits the gradients are made of.
    """
    return x.astype(jnp.float32)


@dataclasses.dataclass(frozen=True)
class Objective:
    """An adversarial objective and its regularizers, computed from discriminator logits.

    Static, hashable data: the compiled step calls its methods while tracing, so a run
    compiles the one loss it uses and nothing else.

    Attributes:
        loss_type: ``"vanilla"`` (non-saturating), ``"least_squares"``, ``"wasserstein"``
            or ``"hinge"``.
        label_smoothing: One-sided smoothing of the real target of the vanilla loss.
        ls_targets: Least squares ``(a, b, c)``: fake and real targets of the
            discriminator, the generator's target.
        gradient_penalty_weight: WGAN-GP weight (0 disables the penalty).
        r1_weight: R1 weight on real data (0 disables it).
        r1_interval: Lazy R1: apply every this many iterations, scaled by the interval.
        reduction: How per-example losses are combined: ``"mean"`` or ``"sum"`` (an
            LSGAN config's ``reduction``).
        lazy_phase: None, or the iteration's index modulo the rules' lazy period when the
            step is compiled for it (``TrainingRules.at_lazy_phase``): lazy terms are then
            left in or out of the program instead of chosen at run time (see
            :func:`when_due`).
    """

    loss_type: str = "vanilla"
    label_smoothing: float = 0.0
    ls_targets: tuple[float, float, float] = (0.0, 1.0, 1.0)
    gradient_penalty_weight: float = 0.0
    r1_weight: float = 0.0
    r1_interval: int = 1
    reduction: str = "mean"
    lazy_phase: int | None = None

    def __post_init__(self) -> None:
        if self.loss_type not in ADVERSARIAL_LOSS_TYPES:
            raise ValueError(
                f"Objective.loss_type={self.loss_type!r}: must be one of "
                f"{', '.join(ADVERSARIAL_LOSS_TYPES)}"
            )
        if self.r1_interval < 1:
            raise ValueError(f"Objective.r1_interval={self.r1_interval}: must be >= 1")

    @classmethod
    def from_config(
        cls,
        config: BaseGANConfig,
        *,
        loss_type: str | None = None,
        label_smoothing: float | None = None,
        r1_weight: float = 0.0,
        r1_interval: int = 1,
    ) -> Objective:
        """The objective a model config asks for, with a training config's overrides.

        Args:
            config: The model config: its ``loss_type``, ``label_smoothing``, gradient
                penalty weight (0 for a WGAN that clips weights instead) and, for an
                LSGAN, its targets and reduction.
            loss_type: Overrides the config's loss (None keeps it).
            label_smoothing: Overrides the config's smoothing (None keeps it).
            r1_weight: Weight of the R1 penalty (a training setting).
            r1_interval: Lazy R1 interval (a training setting).
        """
        if isinstance(config, LSGANConfig):
            targets = (config.a, config.b, config.c)
            reduction = config.reduction
        else:
            targets, reduction = (0.0, 1.0, 1.0), "mean"
        if isinstance(config, WGANConfig):
            gp_weight = config.effective_gradient_penalty_weight
        else:
            gp_weight = getattr(config, "gradient_penalty_weight", 0.0)
        return cls(
            loss_type=loss_type or config.loss_type,
            label_smoothing=(
                config.label_smoothing if label_smoothing is None else label_smoothing
            ),
            ls_targets=targets,
            gradient_penalty_weight=float(gp_weight),
            r1_weight=float(r1_weight),
            r1_interval=int(r1_interval),
            reduction=reduction,
        )

    @property
    def lazy_intervals(self) -> tuple[int, ...]:
        """The intervals of its lazy terms: lazy R1's, or none."""
        return (self.r1_interval,) if self.r1_weight > 0 and self.r1_interval > 1 else ()

    @property
    def penalized(self) -> bool:
        """Whether any penalty differentiates the critic with respect to its input."""
        return self.gradient_penalty_weight > 0 or self.r1_weight > 0

    def discriminator_loss(self, real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
        """The adversarial part of the discriminator's loss."""
        a, b, _ = self.ls_targets
        return adversarial_discriminator_loss(
            self.loss_type,
            real_logits,
            fake_logits,
            real_label=1.0 - self.label_smoothing,
            least_squares_targets=(a, b),
            reduction=self.reduction,  # type: ignore[arg-type]
        )

    def generator_loss(self, fake_logits: jax.Array) -> jax.Array:
        """The generator's loss."""
        return adversarial_generator_loss(
            self.loss_type,
            fake_logits,
            least_squares_target=self.ls_targets[2],
            reduction=self.reduction,  # type: ignore[arg-type]
        )

    def penalties(
        self,
        critic: Callable[[jax.Array], jax.Array],
        real: jax.Array,
        fake: jax.Array,
        key: jax.Array,
        iteration: jax.Array | int,
    ) -> dict[str, jax.Array]:
        """The regularizers in use, each already weighted; empty when none is.

        ``critic`` must be free of side effects (see :func:`functional_critic`), because
        the penalties differentiate it with respect to its input. No gradient reaches
        the generator through ``fake``.
        """
        terms: dict[str, jax.Array] = {}
        if self.gradient_penalty_weight > 0:
            terms["gradient_penalty"] = gradient_penalty(
                critic, real, jax.lax.stop_gradient(fake), key, weight=self.gradient_penalty_weight
            )
        if self.r1_weight > 0:
            weight = self.r1_weight * self.r1_interval  # lazy regularization keeps the scale
            terms["r1"] = when_due(
                self.r1_interval,
                iteration,
                self.lazy_phase,
                lambda x: r1_penalty(critic, x, weight=weight).astype(jnp.float32),
                lambda x: jnp.zeros((), jnp.float32),
                real,
            )
        return terms

    def score(self, logits: jax.Array) -> jax.Array:
        """Mean score in the discriminator's usual space (probability for vanilla)."""
        return jnp.mean(jax.nn.sigmoid(logits) if self.loss_type == "vanilla" else logits)


def when_due(
    interval: int,
    iteration: jax.Array | int,
    phase: int | None,
    due: Callable[[Any], Any],
    skipped: Callable[[Any], Any],
    operand: Any,
) -> Any:
    """``due(operand)`` on every ``interval``-th iteration, ``skipped(operand)`` otherwise.

    Lazy regularization (R1, path length). With ``phase`` (the iteration's index modulo a
    multiple of ``interval``, known when the step is compiled: an unrolled dispatch) the
    choice is made while tracing and the program holds one branch; without it,
    ``lax.cond`` on ``iteration``. The static choice is what makes lazy terms cheap on
    CPU: XLA:CPU runs the convolutions inside a conditional's branch without its fast
    convolution path (R1 of the stylegan preset's critic: 9.6 ms as plain code, 104 ms
    inside ``lax.cond``, jaxlib 0.7.1 to 0.12.1), the same loss as in a ``scan`` body
    (``step.resolve_loop``). ``cond`` and not ``where``: between due iterations the extra
    backward pass must really be skipped. Interval 1 (every iteration) is no choice at all:
    ``due`` alone, without a ``cond`` for XLA:CPU to run slowly.
    """
    if interval == 1:
        return due(operand)
    if phase is not None:
        return (due if phase % interval == 0 else skipped)(operand)
    return jax.lax.cond((jnp.asarray(iteration) % interval) == 0, due, skipped, operand)


def functional_critic(
    discriminator: nnx.Module, call: Callable[[Any, jax.Array], jax.Array]
) -> Callable[[jax.Array], jax.Array]:
    """``x -> call(copy, x)`` on a functional copy of ``discriminator``.

    Penalties differentiate the critic with respect to its input inside ``jax.grad``; a
    network that updates state on the way (BatchNorm statistics, spectral-norm vectors,
    dropout counters) may not do so from inside that trace. Each call runs a copy merged
    from the network's current state (new Variables, made inside the caller's trace), so
    those updates are discarded while the parameters stay differentiable.
    """
    graphdef, state = nnx.split(discriminator)

    def critic(x: jax.Array) -> jax.Array:
        return call(nnx.merge(graphdef, state, copy=True), x)

    return critic


def warn_if_penalty_meets_batch_norm(objective: Objective, discriminator: nnx.Module) -> None:
    """Warn when a gradient penalty or R1 meets a critic with BatchNorm.

    The penalties assume a critic that scores each example on its own; BatchNorm mixes
    the examples of a batch in training mode.
    """
    names = [
        name
        for name, weight in (
            ("gradient penalty", objective.gradient_penalty_weight),
            ("R1", objective.r1_weight),
        )
        if weight > 0
    ]
    if names and any(isinstance(node, nnx.BatchNorm) for _, node in nnx.iter_graph(discriminator)):
        warnings.warn(
            f"the {' and '.join(names)} differentiate the critic example by example, "
            "but this discriminator has BatchNorm, which mixes the examples of a batch in "
            "training mode; the penalty is then not the one of the papers (use no "
            "normalization, layer or instance norm in a penalized critic)",
            stacklevel=3,
        )


def check_batch_shapes(shapes: Mapping[str, tuple[int, ...]], batch: Mapping[str, Any]) -> None:
    """Refuse stacked host batches ``(N, B, *example)`` that miss an entry or an example.

    The trainer checks the batches of a dispatch before sending them.

    Raises:
        ValueError: An entry of ``shapes`` is missing or its examples have another shape.
    """
    for name, shape in shapes.items():
        if name not in batch:
            raise ValueError(
                f"a batch has no {name!r} entry (it has {sorted(batch)}); this model "
                f"trains on {', '.join(shapes)}"
            )
        example = tuple(np.shape(batch[name]))[2:]
        if example != tuple(shape):
            raise ValueError(
                f"batch entry {name!r} holds examples of shape {example}; the model "
                f"expects {tuple(shape)} (check the image size, channels and layout of "
                "the data)"
            )


def critic_terms(
    objective: Objective,
    d: Any,
    call: Callable[[Any, jax.Array], jax.Array],
    real: jax.Array,
    fake: jax.Array,
    logits: tuple[jax.Array, jax.Array],
    key: jax.Array,
    step: jax.Array | int,
) -> Losses:
    """A discriminator's adversarial loss from ``(real, fake)`` logits plus penalties.

    Args:
        objective: The loss and its penalties.
        d: The discriminator.
        call: ``(copy_of_d, x) -> logits``: how the penalties score images.
        real: The real images judged.
        fake: The fake images judged.
        logits: Their float32 logits.
        key: Randomness of the penalties (interpolation coefficients).
        step: The iteration (lazy R1).

    Returns:
        The loss and ``real_score``, ``fake_score`` and each penalty.
    """
    real_logits, fake_logits = logits
    loss = objective.discriminator_loss(real_logits, fake_logits)
    terms = objective.penalties(functional_critic(d, call), real, fake, key, step)
    loss = loss + sum(terms.values(), jnp.zeros((), jnp.float32))
    return loss, {
        "real_score": objective.score(real_logits),
        "fake_score": objective.score(fake_logits),
        **terms,
    }


@runtime_checkable
class TrainingRules(Protocol):
    """What the compiled training step needs to know of a GAN family.

    Implementations are frozen dataclasses (hashable: the step is compiled and cached
    for them). All array methods run inside the step's trace.

    Attributes:
        objective: The adversarial loss and its penalties.
        n_critic: Discriminator updates per iteration.
    """

    objective: Objective
    n_critic: int

    def players(self, model: Any) -> tuple[nnx.Module, nnx.Module]:
        """``(generator side, discriminator side)``: the modules the two optimizers own."""
        ...

    def batch_shapes(self) -> Mapping[str, tuple[int, ...]]:
        """Per-example shape of each batch entry the family trains on."""
        ...

    def check_batch(self, batch: Mapping[str, np.ndarray]) -> None:
        """Refuse stacked host batches ``(N, B, *example)`` the family cannot train on."""
        ...

    def fakes(self, g: Any, real: Batch, key: jax.Array, step: jax.Array) -> Fakes:
        """What the discriminator judges as fake in one update (gradients stopped after)."""
        ...

    def discriminator_loss(
        self,
        d: Any,
        real: Batch,
        fakes: Fakes,
        key: jax.Array,
        step: jax.Array,
        *,
        augment_p: jax.Array | None = None,
    ) -> Losses:
        """The discriminator side's loss and metrics.

        ``augment_p`` is ADA's probability from the training state; the step passes it
        only to rules whose ``augment`` is active.
        """
        ...

    def generator_loss(
        self,
        g: Any,
        d: Any,
        real: Batch,
        key: jax.Array,
        step: jax.Array,
        *,
        augment_p: jax.Array | None = None,
    ) -> Losses:
        """The generator side's loss and metrics on fresh fakes."""
        ...

    def after_discriminator_update(self, d: Any) -> None:
        """Constraints applied after each discriminator update (weight clipping)."""
        ...

    def phase_starts(self) -> tuple[int, ...]:
        """Iterations at which the rules change (a new compiled program); empty if never."""
        ...

    def phase_at(self, step: int) -> TrainingRules:
        """The rules in force at iteration ``step``."""
        ...

    def enter(self, players: Sequence[Any]) -> None:
        """Bring the players' static structure to these rules (a progressive stage)."""
        ...

    def lazy_intervals(self) -> tuple[int, ...]:
        """The intervals of the lazy terms (lazy R1, path length); empty if none."""
        ...

    def at_lazy_phase(self, phase: int) -> TrainingRules:
        """These rules for an iteration whose index is ``phase`` modulo the intervals.

        The lazy terms are then decided while tracing (:func:`when_due`); rules of
        iterations with the same terms due compare equal, so they share a program.
        """
        ...


class OnePhase:
    """What rules that hold for a whole run share: one phase, one compiled program.

    Also the batch check of rules whose entries are all listed in ``batch_shapes``.
    """

    def batch_shapes(self) -> Mapping[str, tuple[int, ...]]:
        """Per-example shape of each batch entry (each rules class says its own)."""
        raise NotImplementedError

    def check_batch(self, batch: Mapping[str, Any]) -> None:
        """Refuse a missing entry or examples of another shape (before compiling).

        Raises:
            ValueError: An entry is missing or its examples have another shape.
        """
        check_batch_shapes(self.batch_shapes(), batch)

    def phase_starts(self) -> tuple[int, ...]:
        """None: the rules never change."""
        return ()

    def phase_at(self, step: int) -> Any:
        """These rules."""
        return self

    def enter(self, players: Sequence[Any]) -> None:
        """Nothing to change."""

    def lazy_intervals(self) -> tuple[int, ...]:
        """The objective's: lazy R1's interval, or none."""
        objective: Objective = self.objective  # type: ignore[attr-defined]
        return objective.lazy_intervals

    def at_lazy_phase(self, phase: int) -> Any:
        """A copy whose objective knows the phase (see :meth:`TrainingRules.at_lazy_phase`).

        The phase kept is the first one with the same terms due, so that equal programs
        get equal rules.
        """
        intervals = self.lazy_intervals()
        if not intervals:
            return self

        def due(p: int) -> tuple[bool, ...]:
            return tuple(p % interval == 0 for interval in intervals)

        first = next(p for p in range(math.lcm(*intervals)) if due(p) == due(phase))
        objective = dataclasses.replace(self.objective, lazy_phase=first)  # type: ignore[attr-defined]
        return dataclasses.replace(self, objective=objective)  # type: ignore[type-var]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LatentRules(OnePhase):
    """Generator ``g(z)`` against discriminator logits ``d.logits(x)``.

    GAN, DCGAN, WGAN and LSGAN train by these rules; conditional, style-based and
    progressive families extend them through the hooks ``real_context``,
    ``fake_context``, ``real_images``, ``generate`` and ``critic``.

    Attributes:
        latent_dim: Size of the latent vectors.
        image_shape: Shape of one real image (the data is checked against it).
        objective: The adversarial loss and its penalties.
        n_critic: Discriminator updates per iteration.
        critic_clip: The original WGAN's constraint: after each discriminator update its
            parameters are clipped to ``[-critic_clip, critic_clip]``; None: no clipping.
        training: The mode the networks run in: True in the training step, the caller's
            ``training`` (None: each network's own mode) in ``loss_fn``.
        augment: What every image the discriminator sees goes through (DiffAugment,
            ADA, the real images' x-flip); nothing by default.
    """

    latent_dim: int
    image_shape: tuple[int, ...]
    objective: Objective = dataclasses.field(default_factory=Objective)
    n_critic: int = 1
    critic_clip: float | None = None
    training: bool | None = True
    augment: Augment = dataclasses.field(default_factory=Augment)

    batch_keys: ClassVar[tuple[str, ...]] = ("image",)

    # -- what the trainer asks ------------------------------------------------------------

    def players(self, model: Any) -> tuple[nnx.Module, nnx.Module]:
        """``(model.generator, model.discriminator)``."""
        return model.generator, model.discriminator

    def batch_shapes(self) -> Mapping[str, tuple[int, ...]]:
        """Images of ``image_shape``."""
        return {"image": self.image_shape}

    def after_discriminator_update(self, d: Any) -> None:
        """Clip the critic's parameters when ``critic_clip`` is set."""
        if self.critic_clip is None:
            return
        bound = self.critic_clip
        params = nnx.state(d, nnx.Param)
        nnx.update(d, jax.tree.map(lambda p: jnp.clip(p, -bound, bound), params))

    # -- what subclasses change ---------------------------------------------------------

    def real_images(self, real: Batch, step: jax.Array) -> jax.Array:
        """The real images a discriminator update judges."""
        return real["image"]

    def real_context(self, real: Batch, step: jax.Array) -> tuple[Any, ...]:
        """Extra arguments of the networks for real data (labels, fade-in)."""
        return ()

    def fake_context(self, size: int, key: jax.Array, step: jax.Array) -> tuple[Any, ...]:
        """Extra arguments of the networks for generated data."""
        return ()

    def generate(self, g: Any, z: jax.Array, context: tuple[Any, ...], key: jax.Array) -> Any:
        """Images from latents ``z``."""
        return g(z, *context, training=self.training)

    def critic(self, d: Any, x: jax.Array, context: tuple[Any, ...]) -> jax.Array:
        """Discriminator logits of images ``x``."""
        return d.logits(x, *context, training=self.training)

    # -- the shared pieces: the step and the models' loss_fn both call these ----------

    def judge(
        self,
        d: Any,
        real: jax.Array,
        real_context: tuple[Any, ...],
        fake: jax.Array,
        fake_context: tuple[Any, ...],
    ) -> tuple[jax.Array, jax.Array]:
        """``(real_logits, fake_logits)`` in float32."""
        return f32(self.critic(d, real, real_context)), f32(self.critic(d, fake, fake_context))

    def critic_terms(
        self,
        d: Any,
        real: jax.Array,
        real_context: tuple[Any, ...],
        fake: jax.Array,
        logits: tuple[jax.Array, jax.Array],
        key: jax.Array,
        step: jax.Array | int,
        view: Callable[[jax.Array], jax.Array] | None = None,
    ) -> Losses:
        """The discriminator's adversarial loss from ``logits`` plus the penalties.

        The penalties score interpolates and real images with the real data's context,
        through ``view`` (the augmentation of the real images) when given: R1 is then the
        gradient with respect to the image before augmentation, as in stylegan2-ada.
        """
        see = view or (lambda x: x)
        return critic_terms(
            self.objective,
            d,
            lambda copy, x: self.critic(copy, see(x), real_context),
            real,
            fake,
            logits,
            key,
            step,
        )

    # -- the game of one iteration ---------------------------------------------------------

    def fakes(self, g: Any, real: Batch, key: jax.Array, step: jax.Array) -> Fakes:
        """Generated images (as many as real ones) and their context.

        The latents take the dtype of the real images, so a bf16 step generates in bf16.
        """
        images = real["image"]
        return self._draw(g, key, images.shape[0], step, images.dtype)

    def sample(
        self, g: Any, key: jax.Array, count: int, step: jax.Array | int, *, dtype: Any = None
    ) -> jax.Array:
        """``count`` images in eval mode, their context drawn as for training's fakes.

        What an evaluation scores (conditional models: uniformly drawn classes; a
        progressive model: its current stage at ``step``'s fade-in).
        """
        evaluating = dataclasses.replace(self, training=False)
        return evaluating._draw(g, key, count, jnp.asarray(step), dtype or jnp.float32)["image"]

    def _draw(self, g: Any, key: jax.Array, size: int, step: Any, dtype: Any) -> Fakes:
        context_key, z_key, generate_key = jax.random.split(key, 3)
        context = self.fake_context(size, context_key, step)
        z = jax.random.normal(z_key, (size, self.latent_dim), dtype)
        return {"image": self.generate(g, z, context, generate_key), "context": context}

    def discriminator_loss(
        self,
        d: Any,
        real: Batch,
        fakes: Fakes,
        key: jax.Array,
        step: jax.Array,
        *,
        augment_p: jax.Array | None = None,
    ) -> Losses:
        """The adversarial loss on real vs fake plus the objective's penalties.

        With an active ``augment``, the discriminator judges augmented images (the real
        ones x-flipped first when asked) and the metrics gain ``real_sign``,
        ``E[sign(D(real))]``: ADA's overfitting heuristic.
        """
        images = self.real_images(real, step)
        context = self.real_context(real, step)
        if not self.augment.active:
            logits = self.judge(d, images, context, fakes["image"], fakes["context"])
            return self.critic_terms(d, images, context, fakes["image"], logits, key, step)
        key, flip_key, real_key, fake_key = jax.random.split(key, 4)
        images = self.augment.real(images, flip_key)

        def see_real(x: jax.Array) -> jax.Array:
            return self.augment.view(x, real_key, augment_p)

        fake = self.augment.view(fakes["image"], fake_key, augment_p)
        logits = self.judge(d, see_real(images), context, fake, fakes["context"])
        loss, metrics = self.critic_terms(
            d, images, context, fakes["image"], logits, key, step, view=see_real
        )
        return loss, {**metrics, "real_sign": jnp.mean(jnp.sign(logits[0]))}

    def generator_loss(
        self,
        g: Any,
        d: Any,
        real: Batch,
        key: jax.Array,
        step: jax.Array,
        *,
        augment_p: jax.Array | None = None,
    ) -> Losses:
        """The generator's adversarial loss on fresh fakes (augmented as D sees them)."""
        fakes = self.fakes(g, real, key, step)
        images = fakes["image"]
        if self.augment.active:
            # The generator's gradient flows back through the (differentiable) augmentation.
            images = self.augment.view(images, jax.random.fold_in(key, 1), augment_p)
        logits = f32(self.critic(d, images, fakes["context"]))
        return self.objective.generator_loss(logits), {}
