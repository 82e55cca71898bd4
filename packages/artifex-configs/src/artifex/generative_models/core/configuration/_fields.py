"""Vocabulary, converters and value checks shared by the config modules."""

from typing import Any, Literal

from artifex.generative_models.core.configuration.base import ConfigBase
from artifex.generative_models.core.configuration.layout import normalize_sample_shape

#: Activation names every network understands.
ACTIVATIONS: tuple[str, ...] = (
    "relu",
    "leaky_relu",
    "tanh",
    "gelu",
    "silu",
    "elu",
    "sigmoid",
    "linear",
)
#: Adversarial objectives.
LOSS_TYPES: tuple[str, ...] = ("vanilla", "wasserstein", "least_squares", "hinge")
#: What a discriminator's call returns; ``"auto"`` lets the GAN's loss decide.
SCORE_TYPES: tuple[str, ...] = ("auto", "probabilities", "logits")

#: Floating-point dtypes a network computes in or stores its parameters in.
DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16")

LossType = Literal["vanilla", "wasserstein", "least_squares", "hinge"]
DtypeName = Literal["float32", "bfloat16", "float16"]
ScoreType = Literal["auto", "probabilities", "logits"]
Padding = Literal["SAME", "VALID"] | int


def activation_name(value: Any, where: str) -> Any:
    """Normalize an activation: a known name, or a function whose ``__name__`` is one.

    ``jax.nn.relu`` and ``"ReLU"`` both become ``"relu"``, so the keyword constructors
    that take callables translate to the same config.
    """
    name = value
    if callable(value) and not isinstance(value, str):
        name = getattr(value, "__name__", None)
        if name not in ACTIVATIONS:
            raise ValueError(
                f"{where}={value!r}: cannot name this activation function; "
                f"use one of {', '.join(ACTIVATIONS)}"
            )
    if isinstance(name, str):
        lowered = name.lower()
        if lowered not in ACTIVATIONS:
            raise ValueError(f"{where}={value!r}: must be one of {', '.join(ACTIVATIONS)}")
        return lowered
    return value  # the type check reports it


def dtype_name(value: Any, where: str) -> Any:
    """Normalize a dtype to its name: ``jnp.bfloat16`` and ``np.dtype("float32")`` become strings.

    Configs stay free of array libraries, so a dtype object is read by duck typing (its
    ``name`` or ``__name__``); the type check then refuses names outside ``DTYPES``.
    """
    if isinstance(value, str):
        return value
    for attribute in ("name", "__name__"):
        name = getattr(value, attribute, None)
        if isinstance(name, str) and name in DTYPES:
            return name
    # ``jnp.float32`` and friends are scalar types whose ``dtype`` attribute names them.
    name = getattr(getattr(value, "dtype", None), "name", None)
    return name if isinstance(name, str) and name in DTYPES else value


def pair(value: Any, where: str) -> Any:
    """Normalize a size: ``4`` becomes ``(4, 4)``; sequences are left for the type check."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    return value


def padding_mode(value: Any, where: str) -> Any:
    """Normalize padding: ``"same"`` becomes ``"SAME"``; ints are left as they are."""
    return value.upper() if isinstance(value, str) else value


def sample_shape(value: Any, where: str) -> Any:
    """Normalize a shape: a 4-entry shape with a leading batch 1 loses it."""
    if isinstance(value, list | tuple) and len(value) == 4:
        return normalize_sample_shape(value, where)
    return value


def resolve_score_type(score_type: str, loss_type: str | None, standalone: str) -> str:
    """Decide what a discriminator's call returns.

    Args:
        score_type: The config's ``score_type`` (``"auto"``, ``"probabilities"``,
            ``"logits"``).
        loss_type: The GAN's loss, or None for a discriminator used on its own.
        standalone: What ``"auto"`` means without a GAN.

    Returns:
        ``"probabilities"`` or ``"logits"``: an explicit choice wins; under a GAN,
        ``"auto"`` gives probabilities for the vanilla loss and logits for the others.
    """
    if score_type != "auto":
        return score_type
    if loss_type is None:
        return standalone
    return "probabilities" if loss_type == "vanilla" else "logits"


# -- value checks: each raises ValueError naming class, field and value -------------------


def check_positive(config: ConfigBase, name: str) -> None:
    """``config.name`` must be > 0."""
    if getattr(config, name) <= 0:
        config._fail(name, "must be > 0")


def check_non_negative(config: ConfigBase, name: str) -> None:
    """``config.name`` must be >= 0."""
    if getattr(config, name) < 0:
        config._fail(name, "must be >= 0")


def check_range(
    config: ConfigBase,
    name: str,
    low: float,
    high: float,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = False,
) -> None:
    """``config.name`` must lie in the interval from ``low`` to ``high``."""
    value = getattr(config, name)
    above = value >= low if low_inclusive else value > low
    below = value <= high if high_inclusive else value < high
    if not (above and below):
        left = "[" if low_inclusive else "("
        right = "]" if high_inclusive else ")"
        config._fail(name, f"must be in {left}{low:g}, {high:g}{right}")


def check_positive_entries(config: ConfigBase, name: str) -> None:
    """``config.name`` must be a non-empty tuple of positive integers."""
    value = getattr(config, name)
    if not value:
        config._fail(name, "must not be empty")
    if any(entry <= 0 for entry in value):
        config._fail(name, "every entry must be > 0")


def check_shape(config: ConfigBase, name: str) -> None:
    """``config.name`` must be a flat ``(N,)`` or an image ``(H, W, C)``/``(C, H, W)`` shape."""
    value = getattr(config, name)
    if len(value) not in (1, 3):
        config._fail(
            name,
            "must be a flat shape (N,) or an image shape (H, W, C) / (C, H, W); "
            "a 4-entry shape must start with a batch dimension of 1",
        )
    if any(entry <= 0 for entry in value):
        config._fail(name, "every entry must be > 0")
