"""Adversarial losses for generators and discriminators.

Conventions shared by every function in this module:

* **Scores** have a leading batch axis: shape ``(B,)``, ``(B, 1)`` or a patch
  map such as ``(B, H, W, 1)``. A sample's value is the mean of its loss over
  all non-batch axes, so a PatchGAN's per-patch losses are averaged per image.
* **Reduction.** ``reduction="mean"`` (default) averages the per-sample values,
  ``"sum"`` adds them and ``"none"`` returns them, shape ``(B,)``.
* **Discriminator losses** take a real and a fake batch of the *same shape*
  (the same discriminator scored both). With ``reduction="none"`` they return,
  for each index ``i``, the real term of sample ``i`` plus the fake term of
  sample ``i``; ``"mean"`` and ``"sum"`` reduce exactly that vector, so
  ``"mean"`` equals ``E[real term] + E[fake term]``.
* **Dtypes.** Inputs may be float32 or bfloat16 (or float16); they are upcast
  and the loss is computed and returned in float32. float64 inputs (with x64
  enabled) stay float64.
* **Probabilities or logits.** ``vanilla_*`` take probabilities in ``[0, 1]``
  and clip them to ``[eps, 1]`` before every ``log``; the clipped region has
  zero gradient. Training code that has logits should use the
  ``*_from_logits`` forms, which are exact and stable for any logit.
* Every option is keyword-only and checked before any computation; a bad value
  raises ``ValueError`` naming it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from artifex.generative_models.core.losses._common import (
    Reduction,
    as_batched,
    check_in_range,
    check_reduction,
    check_same_shape,
    per_sample_mean,
    reduce,
    upcast,
)

__all__ = [
    "ADVERSARIAL_LOSS_TYPES",
    "DEFAULT_PROBABILITY_EPS",
    "adversarial_discriminator_loss",
    "adversarial_generator_loss",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "vanilla_discriminator_loss",
    "vanilla_discriminator_loss_from_logits",
    "vanilla_generator_loss",
    "vanilla_generator_loss_from_logits",
    "wasserstein_discriminator_loss",
    "wasserstein_generator_loss",
]

DEFAULT_PROBABILITY_EPS: float = 1e-7
"""Probabilities are clipped to ``[eps, 1]`` before ``log``: ``-log(eps)`` ≈ 16.1 caps each term."""


def _generator_scores(
    fake_scores: ArrayLike, reduction: object, *, name: str = "fake_scores"
) -> jax.Array:
    check_reduction(reduction)
    return upcast(as_batched(name, fake_scores))


def _discriminator_scores(
    real_scores: ArrayLike,
    fake_scores: ArrayLike,
    reduction: object,
    *,
    names: tuple[str, str] = ("real_scores", "fake_scores"),
) -> tuple[jax.Array, jax.Array]:
    check_reduction(reduction)
    real = as_batched(names[0], real_scores)
    fake = as_batched(names[1], fake_scores)
    check_same_shape(names[0], real, names[1], fake)
    return upcast(real), upcast(fake)


def _check_eps(eps: float) -> None:
    check_in_range("eps", eps, 0.0, 0.5, low_inclusive=False, high_inclusive=False)


def _safe_log(p: jax.Array, eps: float) -> jax.Array:
    return jnp.log(jnp.clip(p, eps, 1.0))


def _bce_from_probabilities(p: jax.Array, target: float, eps: float) -> jax.Array:
    """Element-wise ``-(t log p + (1 - t) log(1 - p))`` with clipped probabilities."""
    return -(target * _safe_log(p, eps) + (1.0 - target) * _safe_log(1.0 - p, eps))


def _bce_from_logits(logits: jax.Array, target: float) -> jax.Array:
    """Element-wise ``-(t log σ(l) + (1 - t) log(1 - σ(l)))``, stable for any ``l``."""
    return -(target * jax.nn.log_sigmoid(logits) + (1.0 - target) * jax.nn.log_sigmoid(-logits))


def _check_labels(real_label: float, fake_label: float) -> None:
    check_in_range("real_label", real_label, 0.0, 1.0)
    check_in_range("fake_label", fake_label, 0.0, 1.0)


# --------------------------------------------------------------------------------------
# Vanilla (minimax / non-saturating) GAN
# --------------------------------------------------------------------------------------


def vanilla_generator_loss(
    fake_scores: ArrayLike,
    *,
    non_saturating: bool = True,
    eps: float = DEFAULT_PROBABILITY_EPS,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""Generator loss of the original GAN, from discriminator probabilities.

    Non-saturating form (default): :math:`-\mathbb{E}[\log D(G(z))]`.
    Saturating (minimax) form: :math:`\mathbb{E}[\log(1 - D(G(z)))]`, which the
    generator minimises; its gradient vanishes when the discriminator wins,
    which is why the non-saturating form is the default.

    Probabilities are clipped to ``[eps, 1]`` before the logarithm, so a
    score of exactly 0 or 1 gives a finite loss (the clipped region has zero
    gradient). Prefer :func:`vanilla_generator_loss_from_logits` in training.

    Args:
        fake_scores: Discriminator probabilities ``D(G(z))`` in ``[0, 1]``,
            shape ``(B,)``, ``(B, 1)`` or ``(B, H, W, 1)``; float32 or bfloat16.
        non_saturating: Use :math:`-\log D(G(z))` (``True``) or the minimax
            :math:`\log(1 - D(G(z)))` (``False``).
        eps: Clipping floor for probabilities, in ``(0, 0.5)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction``, an ``eps`` outside ``(0, 0.5)``
            or scores without a batch axis.
        TypeError: For non-floating scores.

    References:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """
    _check_eps(eps)
    fake = _generator_scores(fake_scores, reduction)
    per_element = -_safe_log(fake, eps) if non_saturating else _safe_log(1.0 - fake, eps)
    return reduce(per_sample_mean(per_element), reduction)


def vanilla_discriminator_loss(
    real_scores: ArrayLike,
    fake_scores: ArrayLike,
    *,
    real_label: float = 1.0,
    fake_label: float = 0.0,
    eps: float = DEFAULT_PROBABILITY_EPS,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""Discriminator loss of the original GAN, from probabilities.

    Binary cross-entropy of real scores against ``real_label`` plus binary
    cross-entropy of fake scores against ``fake_label``:

    .. math::
        -\mathbb{E}[b \log D(x) + (1-b)\log(1-D(x))]
        -\mathbb{E}[a \log D(G(z)) + (1-a)\log(1-D(G(z)))]

    with :math:`b` = ``real_label`` and :math:`a` = ``fake_label``. The
    defaults (1, 0) give :math:`-\mathbb{E}[\log D(x)] - \mathbb{E}[\log(1-D(G(z)))]`.
    One-sided label smoothing (Salimans et al. 2016) is ``real_label=0.9``;
    with smoothed labels the minimum of the loss is the targets' entropy, not 0.

    Probabilities are clipped to ``[eps, 1]`` inside each logarithm. Prefer
    :func:`vanilla_discriminator_loss_from_logits` in training.

    Args:
        real_scores: Probabilities ``D(x)`` in ``[0, 1]``, shape ``(B,)``,
            ``(B, 1)`` or ``(B, H, W, 1)``.
        fake_scores: Probabilities ``D(G(z))``, the same shape as ``real_scores``.
        real_label: Target for real samples, in ``[0, 1]``.
        fake_label: Target for fake samples, in ``[0, 1]``.
        eps: Clipping floor for probabilities, in ``(0, 0.5)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``; ``"none"`` returns the
            real term plus the fake term of each index, shape ``(B,)``.

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction``, labels outside ``[0, 1]``, a
            bad ``eps`` or real and fake scores of different shapes.
        TypeError: For non-floating scores.

    References:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
        Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
    """
    _check_labels(real_label, fake_label)
    _check_eps(eps)
    real, fake = _discriminator_scores(real_scores, fake_scores, reduction)
    per_sample = per_sample_mean(_bce_from_probabilities(real, real_label, eps)) + per_sample_mean(
        _bce_from_probabilities(fake, fake_label, eps)
    )
    return reduce(per_sample, reduction)


def vanilla_generator_loss_from_logits(
    fake_logits: ArrayLike,
    *,
    non_saturating: bool = True,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""Generator loss of the original GAN, from discriminator logits.

    With :math:`D = \sigma(l)`: non-saturating :math:`-\mathbb{E}[\log\sigma(l)]`
    (default) or minimax :math:`\mathbb{E}[\log(1-\sigma(l))] = \mathbb{E}[\log\sigma(-l)]`.
    Computed with ``jax.nn.log_sigmoid``, so values and gradients are finite
    for any finite logit (no clipping).

    Args:
        fake_logits: Discriminator logits for generated samples, shape
            ``(B,)``, ``(B, 1)`` or ``(B, H, W, 1)``.
        non_saturating: Use the non-saturating (``True``) or minimax form.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction`` or logits without a batch axis.
        TypeError: For non-floating logits.

    References:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """
    fake = _generator_scores(fake_logits, reduction, name="fake_logits")
    per_element = -jax.nn.log_sigmoid(fake) if non_saturating else jax.nn.log_sigmoid(-fake)
    return reduce(per_sample_mean(per_element), reduction)


def vanilla_discriminator_loss_from_logits(
    real_logits: ArrayLike,
    fake_logits: ArrayLike,
    *,
    real_label: float = 1.0,
    fake_label: float = 0.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""Discriminator loss of the original GAN, from logits (sigmoid cross-entropy).

    .. math::
        -\mathbb{E}[b\log\sigma(l_r) + (1-b)\log\sigma(-l_r)]
        -\mathbb{E}[a\log\sigma(l_f) + (1-a)\log\sigma(-l_f)]

    with :math:`b` = ``real_label``, :math:`a` = ``fake_label``. Exact binary
    cross-entropy against the (possibly smoothed) targets, computed with
    ``jax.nn.log_sigmoid``: finite values and gradients for any finite logit.

    Args:
        real_logits: Logits for real samples, shape ``(B,)``, ``(B, 1)`` or
            ``(B, H, W, 1)``.
        fake_logits: Logits for generated samples, the same shape.
        real_label: Target for real samples, in ``[0, 1]`` (``0.9`` for
            one-sided label smoothing).
        fake_label: Target for fake samples, in ``[0, 1]``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``; ``"none"`` returns the
            real term plus the fake term of each index, shape ``(B,)``.

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction``, labels outside ``[0, 1]`` or
            real and fake logits of different shapes.
        TypeError: For non-floating logits.

    References:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
        Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
    """
    _check_labels(real_label, fake_label)
    real, fake = _discriminator_scores(
        real_logits, fake_logits, reduction, names=("real_logits", "fake_logits")
    )
    per_sample = per_sample_mean(_bce_from_logits(real, real_label)) + per_sample_mean(
        _bce_from_logits(fake, fake_label)
    )
    return reduce(per_sample, reduction)


# --------------------------------------------------------------------------------------
# Least squares GAN
# --------------------------------------------------------------------------------------


def least_squares_generator_loss(
    fake_scores: ArrayLike,
    *,
    target_real: float = 1.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""LSGAN generator loss :math:`\tfrac12\mathbb{E}[(D(G(z)) - c)^2]`.

    Args:
        fake_scores: Raw discriminator outputs for generated samples, shape
            ``(B,)``, ``(B, 1)`` or ``(B, H, W, 1)``.
        target_real: :math:`c`, the value the generator wants the
            discriminator to assign to its samples (usually 1).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction`` or scores without a batch axis.
        TypeError: For non-floating scores.

    References:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017.
    """
    fake = _generator_scores(fake_scores, reduction)
    return reduce(per_sample_mean(0.5 * jnp.square(fake - target_real)), reduction)


def least_squares_discriminator_loss(
    real_scores: ArrayLike,
    fake_scores: ArrayLike,
    *,
    target_real: float = 1.0,
    target_fake: float = 0.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""LSGAN discriminator loss.

    .. math::
        \tfrac12\mathbb{E}[(D(x) - b)^2] + \tfrac12\mathbb{E}[(D(G(z)) - a)^2]

    with :math:`b` = ``target_real`` and :math:`a` = ``target_fake``.

    Args:
        real_scores: Raw discriminator outputs for real samples, shape
            ``(B,)``, ``(B, 1)`` or ``(B, H, W, 1)``.
        fake_scores: Raw outputs for generated samples, the same shape.
        target_real: :math:`b`, the target for real samples (usually 1).
        target_fake: :math:`a`, the target for fake samples (usually 0).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``; ``"none"`` returns the
            real term plus the fake term of each index, shape ``(B,)``.

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction`` or real and fake scores of
            different shapes.
        TypeError: For non-floating scores.

    References:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017.
    """
    real, fake = _discriminator_scores(real_scores, fake_scores, reduction)
    per_sample = per_sample_mean(0.5 * jnp.square(real - target_real)) + per_sample_mean(
        0.5 * jnp.square(fake - target_fake)
    )
    return reduce(per_sample, reduction)


# --------------------------------------------------------------------------------------
# Wasserstein GAN
# --------------------------------------------------------------------------------------


def wasserstein_generator_loss(
    fake_scores: ArrayLike,
    *,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""WGAN generator loss :math:`-\mathbb{E}[D(G(z))]`.

    Args:
        fake_scores: Critic outputs (unbounded) for generated samples, shape
            ``(B,)``, ``(B, 1)`` or ``(B, H, W, 1)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction`` or scores without a batch axis.
        TypeError: For non-floating scores.

    References:
        Arjovsky et al., "Wasserstein Generative Adversarial Networks", ICML 2017.
    """
    fake = _generator_scores(fake_scores, reduction)
    return reduce(-per_sample_mean(fake), reduction)


def wasserstein_discriminator_loss(
    real_scores: ArrayLike,
    fake_scores: ArrayLike,
    *,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""WGAN critic loss :math:`\mathbb{E}[D(G(z))] - \mathbb{E}[D(x)]`.

    The negative of the critic's estimate of the Wasserstein-1 distance. It
    needs a Lipschitz constraint on the critic: add :func:`gradient_penalty`
    (WGAN-GP) or use weight clipping / spectral normalisation.

    Args:
        real_scores: Critic outputs for real samples, shape ``(B,)``,
            ``(B, 1)`` or ``(B, H, W, 1)``.
        fake_scores: Critic outputs for generated samples, the same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``; ``"none"`` returns
            ``D(G(z_i)) - D(x_i)`` for each index, shape ``(B,)``.

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction`` or real and fake scores of
            different shapes.
        TypeError: For non-floating scores.

    References:
        Arjovsky et al., "Wasserstein Generative Adversarial Networks", ICML 2017.
        Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017.
    """
    real, fake = _discriminator_scores(real_scores, fake_scores, reduction)
    return reduce(per_sample_mean(fake) - per_sample_mean(real), reduction)


# --------------------------------------------------------------------------------------
# Hinge loss
# --------------------------------------------------------------------------------------


def hinge_generator_loss(
    fake_scores: ArrayLike,
    *,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""Hinge-GAN generator loss :math:`-\mathbb{E}[D(G(z))]`.

    Args:
        fake_scores: Raw discriminator outputs for generated samples, shape
            ``(B,)``, ``(B, 1)`` or ``(B, H, W, 1)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction`` or scores without a batch axis.
        TypeError: For non-floating scores.

    References:
        Lim & Ye, "Geometric GAN", arXiv:1705.02894, 2017.
    """
    fake = _generator_scores(fake_scores, reduction)
    return reduce(-per_sample_mean(fake), reduction)


def hinge_discriminator_loss(
    real_scores: ArrayLike,
    fake_scores: ArrayLike,
    *,
    reduction: Reduction = "mean",
) -> jax.Array:
    r"""Hinge-GAN discriminator loss.

    .. math::
        \mathbb{E}[\max(0, 1 - D(x))] + \mathbb{E}[\max(0, 1 + D(G(z)))]

    For patch maps the hinge is applied to each patch before averaging.

    Args:
        real_scores: Raw discriminator outputs for real samples, shape
            ``(B,)``, ``(B, 1)`` or ``(B, H, W, 1)``.
        fake_scores: Raw outputs for generated samples, the same shape.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``; ``"none"`` returns the
            real term plus the fake term of each index, shape ``(B,)``.

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: For an unknown ``reduction`` or real and fake scores of
            different shapes.
        TypeError: For non-floating scores.

    References:
        Lim & Ye, "Geometric GAN", arXiv:1705.02894, 2017.
    """
    real, fake = _discriminator_scores(real_scores, fake_scores, reduction)
    per_sample = per_sample_mean(jax.nn.relu(1.0 - real)) + per_sample_mean(jax.nn.relu(1.0 + fake))
    return reduce(per_sample, reduction)


ADVERSARIAL_LOSS_TYPES: tuple[str, ...] = ("vanilla", "least_squares", "wasserstein", "hinge")
"""The objectives :func:`adversarial_discriminator_loss` and its twin choose from."""


def _check_loss_type(loss_type: str) -> None:
    if loss_type not in ADVERSARIAL_LOSS_TYPES:
        raise ValueError(
            f"loss_type={loss_type!r}: must be one of {', '.join(ADVERSARIAL_LOSS_TYPES)}"
        )


def adversarial_discriminator_loss(
    loss_type: str,
    real_logits: ArrayLike,
    fake_logits: ArrayLike,
    *,
    real_label: float = 1.0,
    least_squares_targets: tuple[float, float] = (0.0, 1.0),
    reduction: Reduction = "mean",
) -> jax.Array:
    """The discriminator's loss of objective ``loss_type``, from raw scores (logits).

    Args:
        loss_type: One of ``ADVERSARIAL_LOSS_TYPES``: ``"vanilla"``
            (:func:`vanilla_discriminator_loss_from_logits`), ``"least_squares"``
            (:func:`least_squares_discriminator_loss`), ``"wasserstein"``
            (:func:`wasserstein_discriminator_loss`) or ``"hinge"``
            (:func:`hinge_discriminator_loss`).
        real_logits: Raw discriminator outputs for real samples, ``(B, ...)``.
        fake_logits: Raw discriminator outputs for generated samples, same shape.
        real_label: Vanilla only: the real target (``1 - label_smoothing``).
        least_squares_targets: Least squares only: ``(a, b)``, the fake and real targets.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: An unknown ``loss_type`` (before anything is computed), or a bad
            option of the chosen loss.

    References:
        See the chosen loss.
    """
    _check_loss_type(loss_type)
    if loss_type == "vanilla":
        return vanilla_discriminator_loss_from_logits(
            real_logits, fake_logits, real_label=real_label, reduction=reduction
        )
    if loss_type == "least_squares":
        fake_target, real_target = least_squares_targets
        return least_squares_discriminator_loss(
            real_logits,
            fake_logits,
            target_real=real_target,
            target_fake=fake_target,
            reduction=reduction,
        )
    if loss_type == "wasserstein":
        return wasserstein_discriminator_loss(real_logits, fake_logits, reduction=reduction)
    return hinge_discriminator_loss(real_logits, fake_logits, reduction=reduction)


def adversarial_generator_loss(
    loss_type: str,
    fake_logits: ArrayLike,
    *,
    least_squares_target: float = 1.0,
    reduction: Reduction = "mean",
) -> jax.Array:
    """The generator's loss of objective ``loss_type``, from raw scores of its samples.

    Args:
        loss_type: One of ``ADVERSARIAL_LOSS_TYPES``: ``"vanilla"`` (the non-saturating
            :func:`vanilla_generator_loss_from_logits`), ``"least_squares"``,
            ``"wasserstein"`` or ``"hinge"``.
        fake_logits: Raw discriminator outputs for generated samples, ``(B, ...)``.
        least_squares_target: Least squares only: ``c``, the target of the fakes.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (per-sample, ``(B,)``).

    Returns:
        The loss in float32: a scalar, or shape ``(B,)`` for ``reduction="none"``.

    Raises:
        ValueError: An unknown ``loss_type`` (before anything is computed), or a bad
            option of the chosen loss.

    References:
        See the chosen loss.
    """
    _check_loss_type(loss_type)
    if loss_type == "vanilla":
        return vanilla_generator_loss_from_logits(fake_logits, reduction=reduction)
    if loss_type == "least_squares":
        return least_squares_generator_loss(
            fake_logits, target_real=least_squares_target, reduction=reduction
        )
    if loss_type == "wasserstein":
        return wasserstein_generator_loss(fake_logits, reduction=reduction)
    return hinge_generator_loss(fake_logits, reduction=reduction)
