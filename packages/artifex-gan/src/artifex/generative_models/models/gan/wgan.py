"""``WGAN`` (Wasserstein GAN with gradient penalty) and ``compute_gradient_penalty``.

References:
    Arjovsky, Chintala, Bottou. "Wasserstein GAN", ICML 2017.
    https://arxiv.org/abs/1701.07875
    Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville. "Improved Training of Wasserstein
    GANs", NeurIPS 2017. https://arxiv.org/abs/1704.00028
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration import WGANConfig
from artifex.generative_models.core.losses import gradient_penalty
from artifex.generative_models.models.gan._common import (
    PENALTY_STREAMS,
    check_samples,
    draw_key,
    precision_scope,
)
from artifex.generative_models.models.gan._rules import f32, functional_critic
from artifex.generative_models.models.gan.base import GAN

__all__ = ["WGAN", "compute_gradient_penalty"]


def _penalty_key(rngs: Any, owner: str) -> jax.Array:
    """A key from ``rngs`` (``sample``, else ``params``, else ``default``) or a key itself."""
    if isinstance(rngs, jax.Array) and jnp.issubdtype(rngs.dtype, jax.dtypes.prng_key):
        return rngs
    if not isinstance(rngs, nnx.Rngs):
        raise TypeError(
            f"{owner}: rngs must be an nnx.Rngs (or a jax.random.key), got {type(rngs).__name__}"
        )
    for name in PENALTY_STREAMS:
        if name in rngs:
            return rngs[name]()
    raise ValueError(
        f"{owner}: rngs needs a 'sample', 'params' or 'default' stream for the "
        "interpolation coefficients"
    )


def compute_gradient_penalty(
    discriminator: Any,
    real_samples: jax.Array,
    fake_samples: jax.Array,
    rngs: nnx.Rngs,
    lambda_gp: float = 10.0,
    *,
    labels: jax.Array | None = None,
    training: bool | None = None,
) -> jax.Array:
    r"""WGAN-GP gradient penalty :math:`\lambda\,\mathbb{E}[(\|\nabla D(\hat x)\|_2 - 1)^2]`.

    :math:`\hat x = \epsilon x + (1 - \epsilon)\tilde x` with one :math:`\epsilon \sim U[0, 1)`
    per sample; the critic is differentiated through its logits (raw scores), by the
    losses package's ``gradient_penalty``. State the critic would update on the way
    (BatchNorm statistics, spectral-norm vectors) is left as it was.

    Args:
        discriminator: The critic: a network with ``logits(x)`` (every discriminator of
            this library), or any callable ``x -> scores``.
        real_samples: Real images ``(B, ...)``.
        fake_samples: Generated images, the same shape (their gradient is stopped).
        rngs: Source of the interpolation coefficients: its ``sample`` stream, else
            ``params``, else ``default`` (seed 003 passes ``nnx.Rngs(params=2)``); a
            ``jax.random.key`` is used as it is.
        lambda_gp: The penalty weight :math:`\lambda`, >= 0.
        labels: For a conditional critic, the labels every interpolate is scored with.
        training: Mode of the critic (None: its own mode).

    Returns:
        The penalty, a float32 scalar.

    Raises:
        ValueError: Real and fake samples of different shapes, a negative ``lambda_gp``,
            or ``rngs`` without a usable stream.
    """
    owner = "compute_gradient_penalty"
    real = check_samples("real_samples", real_samples, None, owner=owner)
    fake = check_samples("fake_samples", fake_samples, None, owner=owner)
    if real.shape != fake.shape:
        raise ValueError(
            f"{owner}: real_samples and fake_samples must have the same shape, got "
            f"{real.shape} and {fake.shape}"
        )
    extra = () if labels is None else (labels,)
    if hasattr(discriminator, "logits") and isinstance(discriminator, nnx.Module):
        critic = functional_critic(
            discriminator, lambda copy, x: copy.logits(x, *extra, training=training)
        )
    elif callable(discriminator):
        critic = discriminator if labels is None else (lambda x: discriminator(x, labels))
    else:
        raise TypeError(f"{owner}: discriminator must be callable, got {type(discriminator)}")
    key = _penalty_key(rngs, owner)
    return gradient_penalty(critic, real, jax.lax.stop_gradient(fake), key, weight=lambda_gp)


class WGAN(GAN):
    """A Wasserstein GAN: critic scores, gradient penalty, several critic updates per step.

    The critic returns raw scores. :meth:`loss_fn` gives the critic's loss
    ``E[D(G(z))] - E[D(x)] + GP`` and the generator's ``-E[D(G(z))]``; the gradient
    penalty's weight is the config's ``gradient_penalty_weight`` (none with
    ``use_gradient_penalty=False``: clip the critic's weights with
    :meth:`clip_critic_weights` after each critic update instead).

    Args:
        config: A :class:`WGANConfig`, or a legacy ``ModelConfig`` (seed 003:
            ``gan_params`` with ``gradient_penalty_weight`` and ``critic_iterations``).
        rngs: See :class:`GAN`.
        precision: See :class:`GAN`.
    """

    family = "wgan"
    config: WGANConfig

    @property
    def critic_iterations(self) -> int:
        """Critic updates per generator update."""
        return self.config.critic_iterations

    @property
    def gradient_penalty_weight(self) -> float:
        """The gradient-penalty weight in use (0 with weight clipping)."""
        return self.config.effective_gradient_penalty_weight

    def _rule_fields(self) -> dict[str, Any]:
        """``critic_iterations`` critic updates; weight clipping without the penalty."""
        clip = None if self.config.use_gradient_penalty else float(self.config.clip_value)
        return {"n_critic": int(self.critic_iterations), "critic_clip": clip}

    def discriminator_loss(
        self,
        real_samples: jax.Array,
        fake_samples: jax.Array,
        rngs: nnx.Rngs | None = None,
        *,
        training: bool | None = None,
    ) -> jax.Array:
        r"""The critic's loss :math:`E[D(G(z))] - E[D(x)] + \lambda\,GP`.

        The training step computes the same loss (the model's :meth:`training_rules`).

        Args:
            real_samples: Real images ``(B, *sample_shape)``.
            fake_samples: Generated images, the same shape.
            rngs: Source of the penalty's interpolation coefficients (``sample``, else
                ``params``, else ``default``); None uses the model's own stream.
            training: Mode of the critic (None: its own mode).

        Returns:
            The loss, a float32 scalar.
        """
        owner = "WGAN.discriminator_loss"
        layout = self._layout_name()
        real = check_samples(
            "real_samples", real_samples, self.sample_shape, owner=owner, layout=layout
        )
        fake = check_samples(
            "fake_samples", fake_samples, self.sample_shape, owner=owner, layout=layout
        )
        if real.shape != fake.shape:
            raise ValueError(
                f"{owner}: real_samples and fake_samples must have the same shape, got "
                f"{real.shape} and {fake.shape}"
            )
        rules = self.training_rules(training=training)
        key = (
            draw_key(rngs, self.sample_stream, owner=owner, streams=PENALTY_STREAMS)
            if rules.objective.penalized
            else jax.random.key(0)  # unused: no penalty draws from it
        )
        with precision_scope(self._matmul_precision):
            logits = rules.judge(self.discriminator, real, (), fake, ())
            loss, _ = rules.critic_terms(self.discriminator, real, (), fake, logits, key, 0)
        return loss

    def generator_loss(self, fake_samples: jax.Array, *, training: bool | None = None) -> jax.Array:
        """The generator's loss ``-E[D(G(z))]`` of generated samples.

        Args:
            fake_samples: Generated images ``(B, *sample_shape)``.
            training: Mode of the critic (None: its own mode).

        Returns:
            The loss, a float32 scalar.
        """
        owner = "WGAN.generator_loss"
        fake = check_samples(
            "fake_samples", fake_samples, self.sample_shape, owner=owner, layout=self._layout_name()
        )
        rules = self.training_rules(training=training)
        with precision_scope(self._matmul_precision):
            return rules.objective.generator_loss(f32(rules.critic(self.discriminator, fake, ())))

    def clip_critic_weights(self, clip_value: float | None = None) -> None:
        """Clip every parameter of the critic to ``[-c, c]`` (the original WGAN).

        The training step applies the same clipping after each critic update when the
        config has ``use_gradient_penalty=False``.

        Args:
            clip_value: ``c``; None uses the config's ``clip_value``.
        """
        c = self.config.clip_value if clip_value is None else clip_value
        if not c > 0:
            raise ValueError(f"WGAN.clip_critic_weights: clip_value must be > 0, got {c!r}")
        rules = dataclasses.replace(self.training_rules(), critic_clip=float(c))
        rules.after_discriminator_update(self.discriminator)
