"""Reconstruction losses for image-to-image translation: cycle consistency and identity.

Both compare two arrays of identical shape ``(B, ...)`` (images in any layout)
element-wise and average over every non-batch axis, giving one value per
sample; ``reduction`` then combines the samples. ``norm="l1"`` is the mean
absolute error, ``norm="l2"`` the mean *squared* error (no square root), as in
CycleGAN. Inputs may be float32 or bfloat16; the loss is computed and
returned in float32 (float64 stays float64).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from artifex.generative_models.core.losses._common import (
    Norm,
    Reduction,
    as_batched,
    check_non_negative,
    check_norm,
    check_reduction,
    check_same_shape,
    compute_dtype,
    per_sample_mean,
    reduce,
)

__all__ = ["cycle_consistency_loss", "identity_loss"]


def _reconstruction_loss(
    target_name: str,
    target: ArrayLike,
    output_name: str,
    output: ArrayLike,
    norm: object,
    weight: float,
    reduction: object,
) -> jax.Array:
    check_reduction(reduction)
    check_norm(norm)
    check_non_negative("weight", weight)
    target_arr = as_batched(target_name, target, what="samples")
    output_arr = as_batched(output_name, output, what="samples")
    check_same_shape(target_name, target_arr, output_name, output_arr)
    dtype = compute_dtype(target_arr, output_arr)
    difference = output_arr.astype(dtype) - target_arr.astype(dtype)
    per_element = jnp.abs(difference) if norm == "l1" else jnp.square(difference)
    return reduce(weight * per_sample_mean(per_element), reduction)  # type: ignore[arg-type]


def cycle_consistency_loss(
    real: ArrayLike,
    reconstructed: ArrayLike,
    *,
    norm: Norm = "l1",
    weight: float = 1.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""Cycle-consistency loss :math:`\lambda\,\mathbb{E}[\|F(G(x)) - x\|]`.

    Per sample: ``weight * mean(|reconstructed - real|)`` for ``norm="l1"``,
    or ``weight * mean((reconstructed - real)**2)`` for ``norm="l2"``, the mean
    taken over all non-batch axes. For the full CycleGAN objective add the
    forward (``A -> B -> A``) and backward (``B -> A -> B``) terms.

    Args:
        real: Original samples ``x``, shape ``(B, ...)``.
        reconstructed: Round-trip translations ``F(G(x))``, the same shape.
        norm: ``"l1"`` (mean absolute error, CycleGAN's choice) or ``"l2"``
            (mean squared error).
        weight: :math:`\lambda`, non-negative (CycleGAN uses 10).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction`` or ``norm``, a negative
            ``weight`` or inputs of different shapes.
        TypeError: For non-floating inputs.

    References:
        Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
        Adversarial Networks", ICCV 2017.
    """
    return _reconstruction_loss(
        "real", real, "reconstructed", reconstructed, norm, weight, reduction
    )


def identity_loss(
    real: ArrayLike,
    translated: ArrayLike,
    *,
    norm: Norm = "l1",
    weight: float = 1.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""Identity-mapping loss :math:`\lambda\,\mathbb{E}_y[\|G(y) - y\|]`.

    A generator that maps into domain ``B`` should leave samples already in
    ``B`` unchanged; CycleGAN uses this to preserve colour composition. Per
    sample: ``weight * mean(|translated - real|)`` (``"l1"``) or the mean
    squared error (``"l2"``) over all non-batch axes.

    Args:
        real: Samples ``y`` of the generator's target domain, shape ``(B, ...)``.
        translated: The generator's outputs ``G(y)``, the same shape.
        norm: ``"l1"`` (mean absolute error) or ``"l2"`` (mean squared error).
        weight: :math:`\lambda`, non-negative (CycleGAN uses half the cycle weight).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction`` or ``norm``, a negative
            ``weight`` or inputs of different shapes.
        TypeError: For non-floating inputs.

    References:
        Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
        Adversarial Networks", ICCV 2017.
    """
    return _reconstruction_loss("real", real, "translated", translated, norm, weight, reduction)
