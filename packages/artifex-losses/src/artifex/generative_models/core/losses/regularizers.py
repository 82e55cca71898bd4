"""Gradient regularizers for discriminators and critics: WGAN-GP, R1, R2, DRAGAN.

Each penalty takes the critic as a plain callable ``critic_fn(x) -> scores``
(a pure function, a bound ``nnx.Module``, a closure over parameters), so it
composes with any network library and with ``jax.grad`` over the critic's
parameters (the penalties are differentiable twice).

Per-sample input gradients are computed as ``jax.grad(lambda x:
critic_fn(x).sum())(x)``. That equals each sample's own gradient only if the
critic treats the samples of a batch independently: no batch normalisation in
training mode, no minibatch-standard-deviation layer, no other cross-sample
statistic. Use a critic in that state (layer or instance norm, BatchNorm in
eval mode) when computing these penalties.

Inputs may have any rank ``(B, ...)``: vectors ``(B, D)``, images
``(B, H, W, C)``. Gradient norms are taken over all non-batch axes. The
critic sees its inputs in the caller's dtype; norms and penalties are
computed and returned in float32 (float64 stays float64).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from artifex.generative_models.core.losses._common import (
    CriticFn,
    Reduction,
    as_batched,
    check_non_negative,
    check_reduction,
    check_same_shape,
    compute_dtype,
    per_sample_sum,
    reduce,
    upcast,
)

__all__ = [
    "GRADIENT_NORM_EPS",
    "dragan_penalty",
    "gradient_penalty",
    "r1_penalty",
    "r2_penalty",
]

GRADIENT_NORM_EPS: float = 1e-12
"""Added under the square root of a gradient norm so that the penalty's own
gradient is finite where the critic's input gradient is zero."""


def _input_gradients(critic_fn: CriticFn, inputs: jax.Array) -> jax.Array:
    """Gradient of each sample's summed score with respect to that sample."""
    batch = inputs.shape[0]

    def total_score(x: jax.Array) -> jax.Array:
        scores = jnp.asarray(critic_fn(x))
        if scores.ndim < 1 or scores.shape[0] != batch:
            raise ValueError(
                "critic_fn must return per-sample scores with a leading batch axis of size "
                f"{batch} for inputs of shape {x.shape}; got scores of shape {scores.shape}"
            )
        if not jnp.issubdtype(scores.dtype, jnp.floating):
            raise TypeError(f"critic_fn must return floating scores; got dtype {scores.dtype}")
        return jnp.sum(upcast(scores))

    return jax.grad(total_score)(inputs)


def _squared_gradient_norms(critic_fn: CriticFn, inputs: jax.Array) -> jax.Array:
    """``||∇_x D(x_i)||²`` for each sample, shape ``(B,)``, in the computation dtype."""
    return per_sample_sum(jnp.square(upcast(_input_gradients(critic_fn, inputs))))


def _norm_penalty(
    critic_fn: CriticFn,
    inputs: jax.Array,
    weight: float,
    target_norm: float,
    reduction: Reduction,
) -> jax.Array:
    squared = _squared_gradient_norms(critic_fn, inputs)
    norms = jnp.sqrt(squared + GRADIENT_NORM_EPS)
    return reduce(weight * jnp.square(norms - target_norm), reduction)


def _uniform_per_sample(key: jax.Array, like: jax.Array, dtype: jnp.dtype) -> jax.Array:
    """One ``U[0, 1)`` draw per sample, shape ``(B, 1, ..., 1)`` to broadcast over ``like``."""
    shape = (like.shape[0],) + (1,) * (like.ndim - 1)
    return jax.random.uniform(key, shape, dtype=dtype)


def _check_common(reduction: object, weight: float) -> None:
    check_reduction(reduction)
    check_non_negative("weight", weight)


def gradient_penalty(
    critic_fn: CriticFn,
    real: ArrayLike,
    fake: ArrayLike,
    key: jax.Array,
    *,
    weight: float = 10.0,
    target_norm: float = 1.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""WGAN-GP gradient penalty on random interpolates of real and fake samples.

    .. math::
        \lambda\,\mathbb{E}_{\hat x}\big[(\|\nabla_{\hat x} D(\hat x)\|_2 - k)^2\big],
        \qquad \hat x = \alpha x + (1 - \alpha)\tilde x,\ \alpha \sim U[0, 1)

    with one :math:`\alpha` per sample, drawn as ``jax.random.uniform(key,
    (B, 1, ..., 1))`` in the computation dtype. The norm is
    :math:`\sqrt{\sum g^2 + \epsilon}` with ``epsilon =`` :data:`GRADIENT_NORM_EPS`,
    so the penalty's gradient stays finite where the critic's gradient is zero.

    Per-sample gradients come from the gradient of the summed scores: the
    critic must treat samples independently (no batch norm in train mode).

    Args:
        critic_fn: The critic, ``x -> scores`` with scores of shape ``(B, ...)``.
        real: Real samples, shape ``(B, ...)`` of any rank.
        fake: Generated samples, the same shape as ``real`` (usually passed
            through ``jax.lax.stop_gradient``).
        key: A PRNG key for the interpolation coefficients.
        weight: :math:`\lambda`, non-negative (10 in the paper).
        target_norm: :math:`k`, the gradient norm the critic is pushed toward.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The penalty in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction``, a negative ``weight``, real
            and fake of different shapes, or a critic whose output has no
            batch axis of size ``B``.
        TypeError: For non-floating inputs or scores.

    References:
        Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017.
    """
    _check_common(reduction, weight)
    real_arr = as_batched("real", real, what="samples")
    fake_arr = as_batched("fake", fake, what="samples")
    check_same_shape("real", real_arr, "fake", fake_arr)
    input_dtype = jnp.result_type(real_arr, fake_arr)
    dtype = compute_dtype(real_arr, fake_arr)
    alpha = _uniform_per_sample(key, real_arr, dtype)
    interpolates = alpha * real_arr.astype(dtype) + (1.0 - alpha) * fake_arr.astype(dtype)
    return _norm_penalty(
        critic_fn, interpolates.astype(input_dtype), weight, target_norm, reduction
    )


def r1_penalty(
    critic_fn: CriticFn,
    real: ArrayLike,
    *,
    weight: float = 10.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""R1 penalty on real data: :math:`\tfrac{\gamma}{2}\mathbb{E}_x[\|\nabla_x D(x)\|_2^2]`.

    Pushes the discriminator's gradient toward zero on the data manifold. For
    a linear critic :math:`D(x) = \langle w, x\rangle` it equals
    :math:`\tfrac{\gamma}{2}\|w\|^2`. The critic must treat samples
    independently (see the module docstring).

    Args:
        critic_fn: The discriminator, ``x -> scores`` (logits) of shape ``(B, ...)``.
        real: Real samples, shape ``(B, ...)`` of any rank.
        weight: :math:`\gamma`, non-negative.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The penalty in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction``, a negative ``weight``, inputs
            without a batch axis or a critic output without a batch axis of size ``B``.
        TypeError: For non-floating inputs or scores.

    References:
        Mescheder et al., "Which Training Methods for GANs do actually
        Converge?", ICML 2018.
    """
    _check_common(reduction, weight)
    real_arr = as_batched("real", real, what="samples")
    return reduce(0.5 * weight * _squared_gradient_norms(critic_fn, real_arr), reduction)


def r2_penalty(
    critic_fn: CriticFn,
    fake: ArrayLike,
    *,
    weight: float = 10.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""R2 penalty on generated data: :math:`\tfrac{\gamma}{2}\mathbb{E}[\|\nabla D(\tilde x)\|^2]`.

    The same as :func:`r1_penalty`, evaluated at generated samples (pass them
    through ``jax.lax.stop_gradient`` when updating the discriminator).

    Args:
        critic_fn: The discriminator, ``x -> scores`` of shape ``(B, ...)``.
        fake: Generated samples, shape ``(B, ...)`` of any rank.
        weight: :math:`\gamma`, non-negative.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The penalty in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction``, a negative ``weight``, inputs
            without a batch axis or a critic output without a batch axis of size ``B``.
        TypeError: For non-floating inputs or scores.

    References:
        Mescheder et al., "Which Training Methods for GANs do actually
        Converge?", ICML 2018.
    """
    _check_common(reduction, weight)
    fake_arr = as_batched("fake", fake, what="samples")
    return reduce(0.5 * weight * _squared_gradient_norms(critic_fn, fake_arr), reduction)


def dragan_penalty(
    critic_fn: CriticFn,
    real: ArrayLike,
    key: jax.Array,
    *,
    weight: float = 10.0,
    perturbation_scale: float = 0.5,
    target_norm: float = 1.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""DRAGAN penalty: the gradient-norm penalty in a neighbourhood of real data.

    Follows the authors' reference implementation:

    .. math::
        x_p = x + c\,\sigma_x\,u,\quad u \sim U[0,1)^{\text{shape}(x)},\qquad
        \hat x = x + \alpha (x_p - x),\quad \alpha \sim U[0,1)

    with :math:`\sigma_x` the standard deviation of the whole real batch,
    :math:`c` = ``perturbation_scale`` and one :math:`\alpha` per sample; the
    penalty is :math:`\lambda\,\mathbb{E}[(\|\nabla D(\hat x)\|_2 - k)^2]`.
    The key is split as ``noise_key, alpha_key = jax.random.split(key)``;
    ``u`` and ``alpha`` are drawn in the computation dtype.

    Args:
        critic_fn: The discriminator, ``x -> scores`` of shape ``(B, ...)``.
        real: Real samples, shape ``(B, ...)`` of any rank.
        key: A PRNG key for the perturbations and interpolation coefficients.
        weight: :math:`\lambda`, non-negative (10 in the paper).
        perturbation_scale: :math:`c`, the perturbation size in units of the
            batch's standard deviation; non-negative.
        target_norm: :math:`k`, the gradient norm the critic is pushed toward.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The penalty in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction``, a negative ``weight`` or
            ``perturbation_scale``, inputs without a batch axis or a critic
            output without a batch axis of size ``B``.
        TypeError: For non-floating inputs or scores.

    References:
        Kodali et al., "On Convergence and Stability of GANs", arXiv:1705.07215, 2017.
    """
    _check_common(reduction, weight)
    check_non_negative("perturbation_scale", perturbation_scale)
    real_arr = as_batched("real", real, what="samples")
    dtype = compute_dtype(real_arr)
    x = real_arr.astype(dtype)
    noise_key, alpha_key = jax.random.split(key)
    noise = jax.random.uniform(noise_key, x.shape, dtype=dtype)
    perturbed = x + perturbation_scale * jnp.std(x) * noise
    alpha = _uniform_per_sample(alpha_key, x, dtype)
    neighbours = x + alpha * (perturbed - x)
    return _norm_penalty(
        critic_fn, neighbours.astype(real_arr.dtype), weight, target_norm, reduction
    )
