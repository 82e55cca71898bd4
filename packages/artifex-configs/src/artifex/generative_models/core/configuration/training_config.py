"""Configs the training engine reads, and the :class:`TrainingConfig` that ties them together.

Optimizers, schedules, EMA, precision, checkpoints, logging and data each have a config.

Settings that the GAN config already holds (loss, learning rates, critic iterations,
label smoothing) are optional overrides here: ``None`` means "take the model config's"
(resolved by :class:`~.experiment_config.ExperimentConfig`), so each setting has one
source of truth.
"""

import math
from typing import Any, Literal

from artifex.generative_models.core.configuration._fields import (
    LossType,
    check_non_negative,
    check_positive,
    check_range,
)
from artifex.generative_models.core.configuration.base import (
    ConfigBase,
    config_dataclass,
    config_field,
)
from artifex.generative_models.core.configuration.data_config import DataConfig

__all__ = [
    "AugmentConfig",
    "CheckpointConfig",
    "DataConfig",
    "EMAConfig",
    "LoggingConfig",
    "OptimizerConfig",
    "PrecisionConfig",
    "ScheduleConfig",
    "TrainingConfig",
    "ttur",
]

# Fields each schedule kind reads; any other decay field must keep its default.
_SCHEDULE_FIELDS = {
    "constant": (),
    "exponential": ("transition_steps", "decay_rate", "staircase"),
    "cosine": ("decay_steps", "final_fraction"),
    "linear": ("decay_steps", "final_fraction"),
}
_DECAY_FIELDS = ("transition_steps", "decay_rate", "staircase", "decay_steps", "final_fraction")


@config_dataclass
class ScheduleConfig(ConfigBase):
    """A learning-rate schedule: optional linear warmup, then a decay of the base rate.

    After ``warmup_steps`` (rate rising linearly from 0), with ``t`` steps since:
    ``"constant"`` keeps the base rate; ``"exponential"`` multiplies it by
    ``decay_rate ** (t / transition_steps)`` (``t // transition_steps`` if
    ``staircase``); ``"cosine"`` and ``"linear"`` go from the base rate to
    ``final_fraction`` of it over ``decay_steps`` and stay there. :meth:`value` computes
    it (the trainer's optax schedule matches it).

    Attributes:
        kind: ``"constant"``, ``"exponential"``, ``"cosine"`` or ``"linear"``.
        warmup_steps: Linear warmup steps from 0; >= 0.
        transition_steps: Exponential: steps per factor of ``decay_rate``; >= 1.
        decay_rate: Exponential: decay factor; in (0, 1].
        staircase: Exponential: decay in whole steps of ``transition_steps``.
        decay_steps: Cosine/linear: steps of the decay; >= 1 for those kinds.
        final_fraction: Cosine/linear: final rate as a fraction of the base; in [0, 1].
    """

    kind: Literal["constant", "exponential", "cosine", "linear"] = "constant"
    warmup_steps: int = 0
    transition_steps: int = 1000
    decay_rate: float = 0.99
    staircase: bool = False
    decay_steps: int = 0
    final_fraction: float = 0.0

    def _validate(self) -> None:
        super()._validate()
        check_non_negative(self, "warmup_steps")
        check_positive(self, "transition_steps")
        check_range(self, "decay_rate", 0, 1, low_inclusive=False, high_inclusive=True)
        check_non_negative(self, "decay_steps")
        check_range(self, "final_fraction", 0, 1, high_inclusive=True)
        used = _SCHEDULE_FIELDS[self.kind]
        defaults = ScheduleConfig.__dataclass_fields__
        for name in _DECAY_FIELDS:
            if name not in used and getattr(self, name) != defaults[name].default:
                self._fail(name, f"does not apply to kind={self.kind!r}")
        if self.kind in ("cosine", "linear") and self.decay_steps < 1:
            self._fail("decay_steps", f"must be >= 1 for kind={self.kind!r}")

    def value(self, step: int, base_lr: float) -> float:
        """The learning rate at ``step`` for a base rate ``base_lr``."""
        if step < self.warmup_steps:
            return base_lr * step / self.warmup_steps
        t = step - self.warmup_steps
        if self.kind == "exponential":
            exponent = t / self.transition_steps
            if self.staircase:
                exponent = math.floor(exponent)
            return base_lr * self.decay_rate**exponent
        if self.kind in ("cosine", "linear"):
            progress = min(t, self.decay_steps) / self.decay_steps
            if self.kind == "cosine":
                shape = 0.5 * (1.0 + math.cos(math.pi * progress))
            else:
                shape = 1.0 - progress
            return base_lr * (self.final_fraction + (1.0 - self.final_fraction) * shape)
        return base_lr


@config_dataclass
class OptimizerConfig(ConfigBase):
    """One optimizer (the generator and the discriminator each get one).

    Attributes:
        name: ``"adam"``, ``"adamw"``, ``"rmsprop"`` or ``"sgd"``.
        learning_rate: Base learning rate; > 0.
        beta1: Adam(W) first-moment decay; in [0, 1).
        beta2: Adam(W) second-moment decay; in [0, 1).
        eps: Numerical stabilizer; > 0.
        weight_decay: AdamW's decoupled weight decay; for the others an L2 term added to
            the gradient; >= 0.
        momentum: SGD / RMSProp momentum; in [0, 1).
        rmsprop_decay: RMSProp squared-gradient decay; in [0, 1).
        grad_clip_norm: Clip gradients to this global norm; None disables it.
        schedule: The learning-rate schedule.
    """

    name: Literal["adam", "adamw", "rmsprop", "sgd"] = "adam"
    learning_rate: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    momentum: float = 0.0
    rmsprop_decay: float = 0.9
    grad_clip_norm: float | None = None
    schedule: ScheduleConfig = config_field(default_factory=ScheduleConfig)

    def _validate(self) -> None:
        super()._validate()
        check_positive(self, "learning_rate")
        check_range(self, "beta1", 0, 1)
        check_range(self, "beta2", 0, 1)
        check_positive(self, "eps")
        check_non_negative(self, "weight_decay")
        check_range(self, "momentum", 0, 1)
        check_range(self, "rmsprop_decay", 0, 1)
        if self.grad_clip_norm is not None:
            check_positive(self, "grad_clip_norm")

    def learning_rate_at(self, step: int) -> float:
        """The scheduled learning rate at ``step``."""
        return self.schedule.value(step, self.learning_rate)


def ttur(
    generator_lr: float = 1e-4, discriminator_lr: float = 4e-4, **common: Any
) -> tuple[OptimizerConfig, OptimizerConfig]:
    """Two-timescale update rule: the same optimizer at two learning rates.

    Args:
        generator_lr: The generator's (slower) learning rate.
        discriminator_lr: The discriminator's (faster) learning rate.
        **common: Other :class:`OptimizerConfig` fields, shared by both.

    Returns:
        ``(generator_optimizer, discriminator_optimizer)``.
    """
    return (
        OptimizerConfig(learning_rate=generator_lr, **common),
        OptimizerConfig(learning_rate=discriminator_lr, **common),
    )


@config_dataclass
class EMAConfig(ConfigBase):
    """An exponential moving average of the generator's weights, used for sampling.

    Attributes:
        decay: Weight of the old average per step; in (0, 1).
        start_step: Steps before averaging starts (the average copies the weights until
            then); >= 0.
    """

    decay: float = 0.999
    start_step: int = 0

    def _validate(self) -> None:
        super()._validate()
        check_range(self, "decay", 0, 1, low_inclusive=False)
        check_non_negative(self, "start_step")


@config_dataclass
class EvaluationConfig(ConfigBase):
    """Periodic FID (and KID) of the EMA generator during training.

    Attributes:
        every: Evaluate every this many steps; 0 never. A multiple of ``log_every`` (the
            scores join that step's logged row).
        samples: Generated images per evaluation; >= 2.
        batch_size: Images generated and scored per compiled call; >= 2 (each batch's
            covariance is merged into the whole's).
        against: ``"digits"`` (the bundled held-out digits, scored with the bundled
            digits classifier's features) or the path of a statistics file
            (``FeatureStatistics.save``) of the real data under ``extractor``.
        extractor: Features the FID compares: ``"digits"`` or ``"inception"`` (the FID
            InceptionV3, from converted weights in the cache).
        keep_best: Keep the checkpoint with the lowest FID in ``best/`` of the run folder.
        seed: Seed of the latents (the same every evaluation, so scores compare) and of
            KID's subsets.
        kid: Also measure KID, where the reference has a sample of its features (the
            digits do; a statistics file does when ``artifex-metrics stats`` kept one,
            its default). A file without one gives FID alone, with a warning.
        kid_subsets: Random subsets KID averages over (100 as in clean-fid).
        kid_subset_size: Rows per subset (1000 as in clean-fid), capped at the smaller
            of the generated and reference sets.
    """

    every: int = 0
    samples: int = 1000
    batch_size: int = 250
    against: str = "digits"
    extractor: Literal["digits", "inception"] = "digits"
    keep_best: bool = True
    seed: int = 12345
    kid: bool = True
    kid_subsets: int = 100
    kid_subset_size: int = 1000

    def _validate(self) -> None:
        super()._validate()
        check_non_negative(self, "every")
        if self.batch_size < 2:
            self._fail("batch_size", "must be >= 2 (each batch's covariance needs two samples)")
        check_non_negative(self, "seed")
        if self.samples < 2:
            self._fail("samples", "must be >= 2 (a covariance needs two samples)")
        check_positive(self, "kid_subsets")
        if self.kid_subset_size < 2:
            self._fail("kid_subset_size", "must be >= 2 (KID's unbiased estimate needs two)")
        if self.against == "digits" and self.extractor != "digits":
            self._fail("against", "'digits' is scored with extractor='digits'")


# The names artifex-gan's augment module knows (checked here too, so a bad config fails
# when it is made, without the model package).
AUGMENT_POLICIES = ("color", "translation", "cutout")
ADA_TRANSFORMS = (
    "xflip",
    "rotate90",
    "xint",
    "scale",
    "rotate",
    "aniso",
    "xfrac",
    "brightness",
    "contrast",
    "lumaflip",
    "hue",
    "saturation",
)


@config_dataclass
class AugmentConfig(ConfigBase):
    """Augmentation of every image the discriminator sees, inside the compiled step.

    Attributes:
        kind: ``"none"``; ``"diffaugment"`` (Zhao et al. 2020: colour, translation,
            cutout, always applied to real and generated images, differentiably); or
            ``"ada"`` (Karras et al. 2020: stylegan2-ada's pipeline, each transform with
            probability ``p``).
        policy: DiffAugment's policies (``color``, ``translation``, ``cutout``).
        transforms: ADA's transforms (stylegan2-ada's 'bgc' by default: x-flip, 90°
            rotations, integer translation, scaling, rotation, anisotropic scaling,
            fractional translation, brightness, contrast, luma flip, hue, saturation).
        xflip: Mirror each real image with probability 0.5 (the dataset x-flip; alone
            with ``kind="none"``). Only for data that is symmetric under it.
        p: ADA's initial probability, or its fixed one when ``target`` is None.
        target: ADA's target of ``E[sign(D(real))]`` (0.6 in stylegan2-ada); None keeps
            ``p`` fixed.
        speed_images: Images for ``p`` to go from 0 to 1 (stylegan2-ada: 500k).
        interval: Iterations between adjustments of ``p`` (stylegan2-ada: 4).
    """

    kind: Literal["none", "diffaugment", "ada"] = "none"
    policy: tuple[str, ...] = AUGMENT_POLICIES
    transforms: tuple[str, ...] = ADA_TRANSFORMS
    xflip: bool = False
    p: float = 0.0
    target: float | None = 0.6
    speed_images: int = 500_000
    interval: int = 4

    def _validate(self) -> None:
        super()._validate()
        for name, known in (("policy", AUGMENT_POLICIES), ("transforms", ADA_TRANSFORMS)):
            unknown = [item for item in getattr(self, name) if item not in known]
            if unknown:
                self._fail(name, f"unknown {unknown}; the known ones are {list(known)}")
        check_range(self, "p", 0, 1, high_inclusive=True)
        if self.target is not None and not 0 < self.target < 1:
            self._fail("target", "must lie in (0, 1) (or be None for a fixed p)")
        check_positive(self, "speed_images")
        check_positive(self, "interval")

    @property
    def active(self) -> bool:
        """Whether anything is applied."""
        return self.kind != "none" or self.xflip


@config_dataclass
class PrecisionConfig(ConfigBase):
    """Numeric precision of the training step.

    Attributes:
        compute_dtype: ``"float32"`` or ``"bfloat16"``: dtype of activations and matmuls.
        param_dtype: ``"float32"``: parameters and optimizer state stay in float32 (bf16
            parameters lose Adam's small updates).
    """

    compute_dtype: Literal["float32", "bfloat16"] = "float32"
    param_dtype: Literal["float32"] = "float32"

    @property
    def mixed(self) -> bool:
        """Whether compute runs in a lower precision than the parameters."""
        return self.compute_dtype != self.param_dtype


@config_dataclass
class CheckpointConfig(ConfigBase):
    """Checkpointing of the training state (orbax; loading never runs code).

    Attributes:
        directory: The run folder when the trainer is given none: checkpoints go to its
            ``checkpoints/`` sub-folder; None: the trainer's ``workdir`` (default
            ``runs/artifex``).
        every_n_steps: Save every this many steps; >= 1.
        keep_last: Keep this many most recent checkpoints; >= 1.
        resume: Continue from the latest checkpoint in ``directory`` if there is one.
        save_final: Save when training ends.
    """

    directory: str | None = None
    every_n_steps: int = 1000
    keep_last: int = 3
    resume: bool = True
    save_final: bool = True

    def _validate(self) -> None:
        super()._validate()
        check_positive(self, "every_n_steps")
        check_positive(self, "keep_last")


@config_dataclass
class LoggingConfig(ConfigBase):
    """What training reports and how often.

    Attributes:
        log_every: Fetch and report metrics every this many steps; >= 1.
        sample_every: Save a grid of samples every this many steps; 0 never.
        num_samples: Samples per grid; >= 1.
        tensorboard: Write TensorBoard event files (needs ``log_dir``).
        log_dir: Folder for the TensorBoard event files (``log_dir/tensorboard/``);
            required when ``tensorboard`` is on. Metrics (``metrics.jsonl``) and samples
            go to the run folder.
    """

    log_every: int = 100
    sample_every: int = 1000
    num_samples: int = 64
    tensorboard: bool = False
    log_dir: str | None = None

    def _validate(self) -> None:
        super()._validate()
        check_positive(self, "log_every")
        check_non_negative(self, "sample_every")
        check_positive(self, "num_samples")
        if self.tensorboard and self.log_dir is None:
            self._fail("tensorboard", "needs log_dir")


@config_dataclass
class TrainingConfig(ConfigBase):
    """How to train: steps, optimizers, regularizers, precision, data, checkpoints, logs.

    One step is one iteration: ``n_critic`` discriminator updates and one generator
    update. ``steps_per_dispatch`` (K) iterations run in one compiled call (see
    ``loop``), so the host sees the state only every K steps: ``steps``, logging,
    sampling and checkpoint intervals must be multiples of K.

    Attributes:
        steps: Training iterations; >= 1.
        seed: Random seed of parameters, noise and dropout; >= 0.
        generator_optimizer: The generator's optimizer; None builds Adam from the model
            config's ``generator_lr``, ``beta1``, ``beta2``.
        discriminator_optimizer: Likewise for the discriminator.
        objective: Adversarial loss override; None uses the model config's
            ``loss_type``.
        n_critic: Discriminator updates per iteration; None uses the model config's
            (``critic_iterations`` of a WGAN, else 1).
        label_smoothing: One-sided label smoothing override; None uses the model's.
        r1_weight: Weight of the R1 penalty on real data; >= 0, 0 disables it.
        r1_interval: Lazy regularization: apply R1 every this many steps (weight scaled
            by the interval); >= 1.
        gradient_accumulation_steps: Micro-batches accumulated per update; >= 1.
        steps_per_dispatch: Iterations per compiled call (K); >= 1.
        loop: How a compiled call runs its K iterations: ``"scan"`` (one rolled loop
            body: a short program, what GPUs and TPUs run), ``"unrolled"`` (K bodies
            written out: on XLA:CPU a scan body loses the fast convolution layouts) or
            ``"auto"`` (unrolled on CPU, scan elsewhere). Both give the same state.
        ema: Generator weight averaging; None disables it.
        evaluation: Periodic FID during training (off unless ``evaluation.every``).
        augment: Augmentation of the discriminator's images (DiffAugment, ADA, x-flip).
        precision: Numeric precision.
        data: The training data.
        checkpoint: Checkpointing.
        logging: Logging and sampling.
    """

    steps: int = 10_000
    seed: int = 0
    generator_optimizer: OptimizerConfig | None = None
    discriminator_optimizer: OptimizerConfig | None = None
    objective: LossType | None = None
    n_critic: int | None = None
    label_smoothing: float | None = None
    r1_weight: float = 0.0
    r1_interval: int = 1
    gradient_accumulation_steps: int = 1
    steps_per_dispatch: int = 1
    loop: Literal["auto", "scan", "unrolled"] = "auto"
    ema: EMAConfig | None = None
    evaluation: EvaluationConfig = config_field(default_factory=EvaluationConfig)
    augment: AugmentConfig = config_field(default_factory=AugmentConfig)
    precision: PrecisionConfig = config_field(default_factory=PrecisionConfig)
    data: DataConfig = config_field(default_factory=DataConfig)
    checkpoint: CheckpointConfig = config_field(default_factory=CheckpointConfig)
    logging: LoggingConfig = config_field(default_factory=LoggingConfig)

    def _validate(self) -> None:
        super()._validate()
        check_positive(self, "steps")
        check_non_negative(self, "seed")
        if self.n_critic is not None:
            check_positive(self, "n_critic")
        if self.label_smoothing is not None:
            check_range(self, "label_smoothing", 0, 1)
        check_non_negative(self, "r1_weight")
        check_positive(self, "r1_interval")
        check_positive(self, "gradient_accumulation_steps")
        check_positive(self, "steps_per_dispatch")
        per_call = self.steps_per_dispatch
        intervals = {
            "steps": self.steps,
            "logging.log_every": self.logging.log_every,
            "logging.sample_every": self.logging.sample_every,
            "checkpoint.every_n_steps": self.checkpoint.every_n_steps,
            "evaluation.every": self.evaluation.every,
        }
        for name, value in intervals.items():
            if value % per_call:
                raise ValueError(
                    f"TrainingConfig.{name}={value} is not a multiple of "
                    f"steps_per_dispatch={per_call}: the host sees the state only every "
                    f"{per_call} steps"
                )
        if self.evaluation.every % self.logging.log_every:
            raise ValueError(
                f"TrainingConfig.evaluation.every={self.evaluation.every} is not a multiple "
                f"of logging.log_every={self.logging.log_every}: the scores join a logged row"
            )
