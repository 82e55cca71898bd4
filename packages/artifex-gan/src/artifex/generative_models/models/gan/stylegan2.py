"""``StyleGAN2``: the skip generator against a residual critic, with its regularizers.

Training (:class:`StyleGAN2Rules`, a :class:`LatentRules`, so augmentation works as for
every latent family):

* the non-saturating logistic loss (the config's ``loss_type``), lazy R1 on real data from
  the training config (``Objective.r1_weight`` / ``r1_interval``);
* style mixing regularization: with probability ``style_mixing_prob`` a batch of fakes
  takes a second latent's ``w`` from a random style index on;
* lazy path-length regularization every ``pl_interval`` iterations, on ``batch //
  pl_batch_shrink`` fresh latents: :func:`path_lengths` ``a_i = sqrt(mean_k |J_k^T y_i|^2)``
  (``J_k`` the Jacobian of the image with respect to style index ``k``, ``y_i`` a normal
  image divided by ``sqrt(H * W)``), the penalty ``pl_weight * pl_interval *
  mean((a_i - m)^2)`` with the mean ``m`` moved first, ``m <- m + pl_decay * (mean(a) -
  m)``; ``m`` is the generator's :class:`PathLengthMean`, so it lives in the training
  state and is checkpointed;
* the ``w`` average (the generator's :class:`WAverage`) moves once per discriminator
  update, from the ``w`` of that update's fakes (stylegan2-ada's ``Dgen`` phase).

Generation: :meth:`StyleGAN2.generate` with the truncation trick (``truncation_psi``,
``truncation_cutoff``) around the tracked ``w`` average; :meth:`StyleGAN2.style_mix` mixes
two latents at a chosen style index.

References:
    Karras et al. "Analyzing and Improving the Image Quality of StyleGAN", CVPR 2020.
    https://arxiv.org/abs/1912.04958
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration.stylegan2_config import StyleGAN2Config
from artifex.generative_models.models.gan._common import (
    IMAGE_KEYS,
    check_no_options,
    draw_key,
    extract,
    precision_scope,
    reseed_dropout,
    sample_count,
)
from artifex.generative_models.models.gan._rules import (
    Batch,
    Fakes,
    LatentRules,
    Losses,
    f32,
    when_due,
)
from artifex.generative_models.models.gan.base import GAN
from artifex.generative_models.nets.stylegan import StyleGANDiscriminator
from artifex.generative_models.nets.stylegan2 import StyleGAN2Generator, mix_styles

__all__ = ["StyleGAN2", "StyleGAN2Rules", "path_length_penalty", "path_lengths"]


def path_lengths(
    g: Any,
    z: jax.Array,
    noise_key: jax.Array,
    direction_key: jax.Array,
    *,
    training: bool | None = True,
) -> jax.Array:
    """Per-sample path lengths ``a_i = sqrt(mean_k sum_d (J_k^T y_i)_d^2)``, ``(B,)``.

    ``J_k`` is the Jacobian of sample ``i``'s image with respect to its style index ``k``
    and ``y_i`` a standard normal image divided by ``sqrt(H * W)`` (drawn from
    ``direction_key``); the noise maps come from ``noise_key``. One vector-Jacobian
    product; the lengths are computed in at least float32.
    """
    ws = g.map(z)
    images, pullback = jax.vjp(lambda s: g.synthesize(s, noise_key, training=training), ws)
    pixels = g.config.image_size**2
    y = jax.random.normal(direction_key, images.shape, jnp.float32) / math.sqrt(pixels)
    (grads,) = pullback(y.astype(images.dtype))
    grads = grads.astype(jnp.promote_types(grads.dtype, jnp.float32))  # bf16 -> float32
    return jnp.sqrt(jnp.mean(jnp.sum(jnp.square(grads), axis=2), axis=1))


def path_length_penalty(
    lengths: jax.Array, mean: jax.Array, decay: float
) -> tuple[jax.Array, jax.Array]:
    """``(mean((a - m')^2), m')`` with ``m' = m + decay * (mean(a) - m)`` (no gradient)."""
    new_mean = jax.lax.stop_gradient(mean + decay * (jnp.mean(lengths) - mean))
    return jnp.mean(jnp.square(lengths - new_mean)), new_mean


@dataclasses.dataclass(frozen=True, kw_only=True)
class StyleGAN2Rules(LatentRules):
    """StyleGAN2's rules: style mixing, the tracked ``w`` average, lazy path-length penalty.

    Attributes:
        num_ws: Style inputs of the generator (style mixing switches at one of them).
        style_mixing_prob: Probability that a batch of fakes mixes two latents.
        pl_weight: Path-length penalty weight (0: none).
        pl_interval: Lazy regularization interval of the penalty (scaled by it).
        pl_decay: Decay of the path-length mean.
        pl_batch_shrink: The penalty's batch is the real batch divided by this.
    """

    num_ws: int = 2
    style_mixing_prob: float = 0.0
    pl_weight: float = 0.0
    pl_interval: int = 4
    pl_decay: float = 0.01
    pl_batch_shrink: int = 2

    def generate(self, g: Any, z: jax.Array, context: tuple[Any, ...], key: jax.Array) -> Any:
        """Images of ``z``, in training mode with style mixing; ``w_avg`` is not moved."""
        return self._synthesize(g, z, key, track=False)

    def _synthesize(self, g: Any, z: jax.Array, key: jax.Array, *, track: bool) -> jax.Array:
        noise_key, mix_key, layer_key, z2_key = jax.random.split(key, 4)
        training = g.is_training(self.training)
        ws = g.map(z, update_w_avg=track and training)
        if training and self.style_mixing_prob > 0 and self.num_ws >= 2:
            # One crossover index in [1, num_ws) per batch; num_ws means no mixing.
            crossover = jax.random.randint(layer_key, (), 1, self.num_ws)
            mixing = jax.random.uniform(mix_key) < self.style_mixing_prob
            cutoff = jnp.where(mixing, crossover, self.num_ws)
            ws = mix_styles(ws, g.map(jax.random.normal(z2_key, z.shape, z.dtype)), cutoff)
        return g.synthesize(ws, noise_key, training=self.training)

    def fakes(self, g: Any, real: Batch, key: jax.Array, step: jax.Array) -> Fakes:
        """Fakes for a discriminator update; their ``w`` moves the generator's ``w_avg``."""
        images = real["image"]
        z_key, generate_key = jax.random.split(key)
        z = jax.random.normal(z_key, (images.shape[0], self.latent_dim), images.dtype)
        return {"image": self._synthesize(g, z, generate_key, track=True), "context": ()}

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
        """The adversarial loss on fresh fakes plus, when due, the path-length penalty.

        Metrics: ``pl_mean`` (the path-length mean after this iteration) and ``pl_penalty``
        (weighted and scaled by the interval; 0 on the iterations in between).
        """
        adversarial_key, pl_key = jax.random.split(key)
        images = real["image"]
        fakes = self._draw(g, adversarial_key, images.shape[0], step, images.dtype)
        fake = fakes["image"]
        if self.augment.active:
            fake = self.augment.view(fake, jax.random.fold_in(adversarial_key, 1), augment_p)
        loss = self.objective.generator_loss(f32(self.critic(d, fake, ())))
        if self.pl_weight <= 0:
            return loss, {}
        size = max(1, images.shape[0] // self.pl_batch_shrink)
        penalty, new_mean = self._path_length(g, pl_key, step, size, images.dtype)
        g.path_length_mean[...] = new_mean
        return loss + penalty, {"pl_penalty": penalty, "pl_mean": new_mean}

    def _path_length(
        self, g: Any, key: jax.Array, step: jax.Array | int, size: int, dtype: Any
    ) -> tuple[jax.Array, jax.Array]:
        """``(weighted penalty, new mean)``; ``(0, mean)`` when the lazy penalty is not due."""
        z_key, noise_key, direction_key = jax.random.split(key, 3)
        z = jax.random.normal(z_key, (size, self.latent_dim), dtype)
        mean = g.path_length_mean[...]
        graphdef, state = nnx.split(g)
        weight = self.pl_weight * self.pl_interval  # lazy regularization keeps the scale

        def due(state: Any) -> tuple[jax.Array, jax.Array]:
            # A functional copy: nothing the generator updates on the way leaks out of cond.
            copy = nnx.merge(graphdef, state, copy=True)
            lengths = path_lengths(copy, z, noise_key, direction_key, training=self.training)
            penalty, new_mean = path_length_penalty(lengths, mean, self.pl_decay)
            return weight * penalty, new_mean

        def skipped(state: Any) -> tuple[jax.Array, jax.Array]:
            return jnp.zeros((), jnp.float32), mean

        return when_due(self.pl_interval, step, self.objective.lazy_phase, due, skipped, state)

    def lazy_intervals(self) -> tuple[int, ...]:
        """Lazy R1's interval and the path-length penalty's."""
        lazy_pl = self.pl_weight > 0 and self.pl_interval > 1
        return super().lazy_intervals() + ((self.pl_interval,) if lazy_pl else ())


class StyleGAN2(GAN):
    """StyleGAN2: :class:`StyleGAN2Generator` against a residual :class:`StyleGANDiscriminator`.

    Both networks come from a :class:`StyleGAN2Config`; the regularizers (style mixing,
    path length) are its fields, lazy R1 is the training config's. See the module's
    docstring for how it trains.

    Args:
        config: A :class:`StyleGAN2Config`.
        rngs: ``params`` initialises the networks; the model forks its own ``sample``
            stream; ``noise`` seeds the generator's own noise stream.
        precision: See :class:`GAN`.

    Attributes:
        num_ws: Style inputs of the generator.
        config: See :class:`GAN`.
        generator: See :class:`GAN`.
        discriminator: See :class:`GAN`.
        latent_dim: See :class:`GAN`.
        loss_type: See :class:`GAN`.
        precision: See :class:`GAN`.
        sample_stream: See :class:`GAN`.
    """

    family = "stylegan2"
    config: StyleGAN2Config  # type: ignore[assignment]
    rules_class = StyleGAN2Rules

    def __init__(self, config: Any, *, rngs: nnx.Rngs, precision: Any = None):
        super().__init__(config, rngs=rngs, precision=precision)
        self.num_ws = self.config.generator.num_ws

    def _network_classes(self, config: Any) -> tuple[type, type]:
        return StyleGAN2Generator, StyleGANDiscriminator

    def _rule_fields(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "num_ws": int(self.num_ws),
            "style_mixing_prob": float(cfg.style_mixing_prob),
            "pl_weight": float(cfg.pl_weight),
            "pl_interval": int(cfg.pl_interval),
            "pl_decay": float(cfg.pl_decay),
            "pl_batch_shrink": int(cfg.pl_batch_shrink),
        }

    def generate(
        self,
        n_samples: int = 1,
        rngs: nnx.Rngs | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> jax.Array:
        """Generate images, optionally truncated towards the tracked ``w`` average.

        Args:
            n_samples: Number of samples.
            rngs: Latents from its ``sample`` stream (else ``default``, ``params``); None
                uses the model's own stream.
            batch_size: Alternative to ``n_samples``.
            **kwargs: ``truncation_psi`` (default 1: no truncation; 0: the average's
                image), ``truncation_cutoff`` (truncate the style indices below it; None:
                all) and ``training`` (default False: no noise).

        Returns:
            Images ``(n, *sample_shape)``.
        """
        owner = f"{type(self).__name__}.generate"
        training = kwargs.pop("training", False)
        psi = kwargs.pop("truncation_psi", 1.0)
        cutoff = kwargs.pop("truncation_cutoff", None)
        check_no_options(
            kwargs,
            owner=owner,
            known="n_samples, rngs, batch_size, truncation_psi, truncation_cutoff, training",
        )
        n = sample_count(n_samples, batch_size, owner=owner)
        with precision_scope(self._matmul_precision):
            z = self.sample_latent(n, rngs)
            noise_key = draw_key(rngs, self.sample_stream, owner=owner) if training else None
            return self.generator(
                z,
                noise_key,
                training=training,
                truncation_psi=psi,
                truncation_cutoff=cutoff,
            )

    def style_mix(
        self,
        z1: jax.Array,
        z2: jax.Array,
        mix_layer: int,
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
    ) -> jax.Array:
        """Eval-mode images from ``z1``'s styles below ``mix_layer`` and ``z2``'s from there.

        ``mix_layer`` counts style indices (``0..num_ws``): small values take only the
        coarse styles (pose, shape) from ``z1``'s, large values all but the finest.
        """
        with precision_scope(self._matmul_precision):
            return self.generator.style_mixing(
                z1,
                z2,
                mix_layer,
                training=False,
                truncation_psi=truncation_psi,
                truncation_cutoff=truncation_cutoff,
            )

    def loss_fn(
        self,
        batch: Any,
        model_outputs: Any = None,
        rngs: nnx.Rngs | None = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The adversarial losses (see :meth:`GAN.loss_fn`), with style mixing in training.

        The regularizers of the training step (R1, path length) are not part of it.
        """
        owner = f"{type(self).__name__}.loss_fn"
        training = kwargs.pop("training", None)
        check_no_options(kwargs, owner=owner, known="batch, model_outputs, rngs, training")
        real = self._real(extract(batch, IMAGE_KEYS, owner=owner, what="real data"), owner)
        with precision_scope(self._matmul_precision):
            reseed_dropout(self, rngs)
            rules = self.training_rules(training=training)
            z = self.sample_latent(real.shape[0], rngs)
            key = draw_key(rngs, self.sample_stream, owner=owner)
            fake = rules.generate(self.generator, z, (), key)
            return self._objective(real, fake, (), (), training=training, rngs=rngs)
