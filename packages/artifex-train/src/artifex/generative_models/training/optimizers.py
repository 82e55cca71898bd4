"""Optax optimizers and learning-rate schedules from :class:`OptimizerConfig`.

The schedule a config describes is written once, in
:meth:`ScheduleConfig.value <artifex.generative_models.core.configuration.ScheduleConfig.value>`
(plain Python, for people and plots); this module builds the same curve from optax
pieces so it runs inside the compiled step, and the tests hold the two to each other.
"""

from __future__ import annotations

import functools

import optax

from artifex.generative_models.core.configuration import OptimizerConfig, ScheduleConfig

__all__ = ["make_optimizer", "make_schedule"]


def make_schedule(schedule: ScheduleConfig, base_lr: float) -> optax.Schedule:
    """The learning rate as a function of the update count, as ``schedule`` describes."""
    if schedule.kind == "constant":
        decay: optax.Schedule = optax.constant_schedule(base_lr)
    elif schedule.kind == "exponential":
        decay = optax.exponential_decay(
            init_value=base_lr,
            transition_steps=schedule.transition_steps,
            decay_rate=schedule.decay_rate,
            staircase=schedule.staircase,
        )
    elif schedule.kind == "cosine":
        decay = optax.cosine_decay_schedule(
            init_value=base_lr, decay_steps=schedule.decay_steps, alpha=schedule.final_fraction
        )
    elif schedule.kind == "linear":
        decay = optax.linear_schedule(
            init_value=base_lr,
            end_value=base_lr * schedule.final_fraction,
            transition_steps=schedule.decay_steps,
        )
    else:  # the config refuses other kinds; this guards a config built around validation
        raise ValueError(f"unknown schedule kind {schedule.kind!r}")
    if schedule.warmup_steps == 0:
        return decay
    warmup = optax.linear_schedule(0.0, base_lr, schedule.warmup_steps)
    return optax.join_schedules([warmup, decay], boundaries=[schedule.warmup_steps])


@functools.lru_cache(maxsize=64)
def make_optimizer(
    config: OptimizerConfig, *, accumulation_steps: int = 1
) -> optax.GradientTransformation:
    """The optax transformation of one network: clipping, the optimizer, accumulation.

    Equal configs give the same transformation object: it is part of the optimizer's
    static graph, so two trainers with equal settings then share one compiled step.

    Args:
        config: The optimizer's settings.
        accumulation_steps: Micro-batches whose gradients are averaged before one update
            (``optax.MultiSteps``); 1 updates on every call.
    """
    learning_rate = make_schedule(config.schedule, config.learning_rate)
    parts: list[optax.GradientTransformation] = []
    if config.grad_clip_norm is not None:
        parts.append(optax.clip_by_global_norm(config.grad_clip_norm))
    if config.weight_decay and config.name != "adamw":
        parts.append(optax.add_decayed_weights(config.weight_decay))
    if config.name == "adam":
        parts.append(optax.adam(learning_rate, b1=config.beta1, b2=config.beta2, eps=config.eps))
    elif config.name == "adamw":
        parts.append(
            optax.adamw(
                learning_rate,
                b1=config.beta1,
                b2=config.beta2,
                eps=config.eps,
                weight_decay=config.weight_decay,
            )
        )
    elif config.name == "rmsprop":
        parts.append(
            optax.rmsprop(
                learning_rate,
                decay=config.rmsprop_decay,
                eps=config.eps,
                momentum=config.momentum or None,
            )
        )
    elif config.name == "sgd":
        parts.append(optax.sgd(learning_rate, momentum=config.momentum or None))
    else:
        raise ValueError(f"unknown optimizer {config.name!r}")
    transform = parts[0] if len(parts) == 1 else optax.chain(*parts)
    if accumulation_steps > 1:
        return optax.MultiSteps(
            transform, every_k_schedule=accumulation_steps
        ).gradient_transformation()
    return transform
