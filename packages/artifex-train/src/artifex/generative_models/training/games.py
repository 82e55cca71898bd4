"""How each GAN family plays a training iteration: its players, its fakes, its losses.

The compiled step (:mod:`.step`) is the same for every family: ``n_critic`` updates of
the discriminator side, one of the generator side, EMA, the NaN guard. What differs is
delegated to a *game*, static hashable data with four methods:

* ``players(model)``: the two modules the optimizers own (a pair of networks for CycleGAN);
* ``fakes(g, real, key, step)``: what the discriminator sees as fake for one update;
* ``discriminator_loss(d, real, fakes, key, step, objective)`` and
  ``generator_loss(g, d, real, key, step, objective)``: ``(loss, metrics)``.

:func:`game_for` picks the game of a model: :class:`LatentGame` (GAN, DCGAN, WGAN,
LSGAN), :class:`ConditionalGame`, :class:`StyleGame`, :class:`ProgressiveGame` (one per
growth stage: the stage is part of the compiled program) and :class:`CycleGame`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.losses import cycle_consistency_loss, identity_loss
from artifex.generative_models.models.gan import (
    ConditionalGAN,
    CycleGAN,
    ProgressiveGAN,
    StyleGAN,
)
from artifex.generative_models.training.objective import Objective

__all__ = [
    "ConditionalGame",
    "CycleGame",
    "LatentGame",
    "Pair",
    "ProgressiveGame",
    "StyleGame",
    "game_for",
]

Batch = dict[str, jax.Array]
Fakes = dict[str, Any]
"""Generated images and whatever the critic needs beside them (labels, fade-in)."""
Losses = tuple[jax.Array, dict[str, jax.Array]]


def _f32(x: jax.Array) -> jax.Array:
    # Losses are computed in float32 whatever the compute dtype: a bf16 mean over a batch
    # of logits loses the digits the gradients are made of.
    return x.astype(jnp.float32)


def pure_critic(
    discriminator: Any, call: Callable[[Any, jax.Array], jax.Array]
) -> Callable[[jax.Array], jax.Array]:
    """``x -> call(copy, x)`` on a functional copy of ``discriminator``.

    Penalties differentiate the critic with respect to its input; a module that updates
    its batch statistics inside that inner transformation would leak state across traces,
    so each call works on a copy whose updates are discarded.
    """
    graphdef, state = nnx.split(discriminator)

    def critic(x: jax.Array) -> jax.Array:
        # Rebuilt inside the caller's transformation, so the copy's variables belong to
        # its trace and may be updated there.
        return call(nnx.merge(graphdef, jax.tree.map(lambda leaf: leaf, state)), x)

    return critic


@dataclasses.dataclass(frozen=True)
class LatentGame:
    """Generator ``g(z)``, discriminator logits ``d.logits(x)``: GAN, DCGAN, WGAN, LSGAN.

    Attributes:
        latent_dim: Size of the latent vectors.
        image_shape: Shape of one real image (the data is checked against it).
    """

    latent_dim: int
    image_shape: tuple[int, ...]

    batch_keys: ClassVar[tuple[str, ...]] = ("image",)

    def players(self, model: Any) -> tuple[Any, Any]:
        """``(generator, discriminator)``."""
        return model.generator, model.discriminator

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-example shape of each batch entry."""
        return {"image": self.image_shape}

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
        return g(z, *context, training=True)

    def critic(self, d: Any, x: jax.Array, context: tuple[Any, ...]) -> jax.Array:
        """Discriminator logits of images ``x``."""
        return d.logits(x, *context, training=True)

    # -- the game -------------------------------------------------------------------------

    def fakes(self, g: Any, real: Batch, key: jax.Array, step: jax.Array) -> Fakes:
        """Generated images (as many as real ones) and their context.

        The latents take the dtype of the real images, so a bf16 step generates in bf16.
        """
        size = real["image"].shape[0]
        context_key, z_key, generate_key = jax.random.split(key, 3)
        context = self.fake_context(size, context_key, step)
        z = jax.random.normal(z_key, (size, self.latent_dim), real["image"].dtype)
        return {"image": self.generate(g, z, context, generate_key), "context": context}

    def discriminator_loss(
        self, d: Any, real: Batch, fakes: Fakes, key: jax.Array, step: Any, objective: Objective
    ) -> Losses:
        """The adversarial loss on real vs fake plus the objective's penalties."""
        images = self.real_images(real, step)
        context = self.real_context(real, step)
        real_logits = _f32(self.critic(d, images, context))
        fake_logits = _f32(self.critic(d, fakes["image"], fakes["context"]))
        adversarial = objective.discriminator_loss(real_logits, fake_logits)
        critic = pure_critic(d, lambda copy, x: self.critic(copy, x, context))
        terms = objective.penalties(critic, images, fakes["image"], key, step)
        loss = adversarial + sum(terms.values(), jnp.zeros((), jnp.float32))
        return loss, {
            "real_score": objective.score(real_logits),
            "fake_score": objective.score(fake_logits),
            **terms,
        }

    def generator_loss(
        self, g: Any, d: Any, real: Batch, key: jax.Array, step: Any, objective: Objective
    ) -> Losses:
        """The generator's adversarial loss on fresh fakes."""
        fakes = self.fakes(g, real, key, step)
        logits = _f32(self.critic(d, fakes["image"], fakes["context"]))
        return objective.generator_loss(logits), {}


@dataclasses.dataclass(frozen=True)
class ConditionalGame(LatentGame):
    """Class-conditional: real labels from the data, fake labels drawn uniformly.

    Attributes:
        num_classes: Labels lie in ``[0, num_classes)``.
    """

    num_classes: int = 0

    batch_keys: ClassVar[tuple[str, ...]] = ("image", "label")

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Images and one integer label per example."""
        return {"image": self.image_shape, "label": ()}

    def real_context(self, real: Batch, step: jax.Array) -> tuple[Any, ...]:
        """The data's labels."""
        return (real["label"],)

    def fake_context(self, size: int, key: jax.Array, step: jax.Array) -> tuple[Any, ...]:
        """Uniformly drawn labels."""
        return (jax.random.randint(key, (size,), 0, self.num_classes),)


@dataclasses.dataclass(frozen=True)
class StyleGame(LatentGame):
    """StyleGAN: noise injection from the step's key, and style mixing regularization.

    Attributes:
        style_mixing_prob: Probability that a fake mixes the styles of two latents.
        num_blocks: Synthesis blocks (mixing needs at least two).
    """

    style_mixing_prob: float = 0.0
    num_blocks: int = 1

    def generate(self, g: Any, z: jax.Array, context: tuple[Any, ...], key: jax.Array) -> Any:
        """Images with fresh noise; with probability ``style_mixing_prob`` two styles."""
        noise_key, mix_key, layer_key, z2_key = jax.random.split(key, 4)
        noise = nnx.Rngs(noise=noise_key)
        if self.style_mixing_prob <= 0 or self.num_blocks < 2:
            return g(z, noise, training=True)
        # A crossover block in [1, num_blocks); num_blocks means "no mixing".
        crossover = jax.random.randint(layer_key, (), 1, self.num_blocks)
        mixing = jax.random.uniform(mix_key) < self.style_mixing_prob
        mix_layer = jnp.where(mixing, crossover, self.num_blocks)
        z2 = jax.random.normal(z2_key, z.shape, z.dtype)
        return g.style_mixing(z, z2, mix_layer, noise, training=True)


@dataclasses.dataclass(frozen=True)
class ProgressiveGame(LatentGame):
    """ProgressiveGAN at one growth stage; real images are average-pooled to its size.

    The fade-in ``alpha`` follows the step count inside the compiled step:
    ``clip((step - fade_start) / transition_steps, 0, 1)`` (1 at stage 0), the schedule
    of :meth:`ProgressiveGANConfig.stage_at`.

    Attributes:
        stage: The growth stage this game (and its compiled step) is for.
        pool: Final resolution / this stage's resolution.
        channels_last: Whether images are NHWC.
        fade_start: The step at which this stage's fade-in begins.
        transition_steps: Length of the fade-in.
    """

    stage: int = 0
    pool: int = 1
    channels_last: bool = True
    fade_start: int = 0
    transition_steps: int = 0

    def alpha(self, step: jax.Array) -> jax.Array:
        """The fade-in of this stage at iteration ``step``."""
        if self.stage == 0 or self.transition_steps <= 0:
            return jnp.ones((), jnp.float32)
        progress = (step - self.fade_start).astype(jnp.float32) / self.transition_steps
        return jnp.clip(progress, 0.0, 1.0)

    def real_images(self, real: Batch, step: jax.Array) -> jax.Array:
        """The data (final resolution), each pixel the mean of its ``pool x pool`` block."""
        x = real["image"]
        if self.pool == 1:
            return x
        if not self.channels_last:
            x = x.transpose(0, 2, 3, 1)
        b, h, w, c = x.shape
        x = x.reshape(b, h // self.pool, self.pool, w // self.pool, self.pool, c).mean((2, 4))
        return x if self.channels_last else x.transpose(0, 3, 1, 2)

    def real_context(self, real: Batch, step: jax.Array) -> tuple[Any, ...]:
        """The fade-in."""
        return (self.alpha(step).astype(real["image"].dtype),)

    def fake_context(self, size: int, key: jax.Array, step: jax.Array) -> tuple[Any, ...]:
        """The fade-in (the generator blends its two last outputs with it)."""
        return (self.alpha(step),)


class Pair(nnx.Module):
    """Two networks trained by one optimizer (CycleGAN's generators, its discriminators).

    Args:
        first: The first network (``G: A -> B``, or ``D_A``).
        second: The second network (``F: B -> A``, or ``D_B``).
    """

    def __init__(self, first: Any, second: Any):
        self.first = first
        self.second = second


@dataclasses.dataclass(frozen=True)
class CycleGame:
    """CycleGAN: adversarial losses both ways, cycle consistency and identity.

    Attributes:
        shape_a: Shape of one image of domain A.
        shape_b: Shape of one image of domain B.
        lambda_cycle: Weight of ``|F(G(a)) - a| + |G(F(b)) - b|``.
        lambda_identity: Weight of ``|F(a) - a| + |G(b) - b|`` (0 skips those passes).
    """

    shape_a: tuple[int, ...]
    shape_b: tuple[int, ...]
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5

    batch_keys: ClassVar[tuple[str, ...]] = ("image_a", "image_b")

    def players(self, model: Any) -> tuple[Pair, Pair]:
        """``(Pair(G, F), Pair(D_A, D_B))`` around the model's own networks."""
        return (
            Pair(model.generator_a_to_b, model.generator_b_to_a),
            Pair(model.discriminator_a, model.discriminator_b),
        )

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        """Per-example shapes of both domains."""
        return {"image_a": self.shape_a, "image_b": self.shape_b}

    def fakes(self, g: Pair, real: Batch, key: jax.Array, step: jax.Array) -> Fakes:
        """``{"a": F(b), "b": G(a)}``."""
        return {
            "a": g.second(real["image_b"], training=True),
            "b": g.first(real["image_a"], training=True),
        }

    def discriminator_loss(
        self, d: Pair, real: Batch, fakes: Fakes, key: jax.Array, step: Any, objective: Objective
    ) -> Losses:
        """``D_A``'s loss on A vs ``F(b)`` plus ``D_B``'s on B vs ``G(a)``, with penalties."""
        loss = jnp.zeros((), jnp.float32)
        scores: dict[str, list[jax.Array]] = {"real_score": [], "fake_score": []}
        terms: dict[str, jax.Array] = {}
        for critic, images, fake, penalty_key in (
            (d.first, real["image_a"], fakes["a"], jax.random.fold_in(key, 0)),
            (d.second, real["image_b"], fakes["b"], jax.random.fold_in(key, 1)),
        ):
            real_logits = _f32(critic.logits(images, training=True))
            fake_logits = _f32(critic.logits(fake, training=True))
            loss = loss + objective.discriminator_loss(real_logits, fake_logits)
            scores["real_score"].append(objective.score(real_logits))
            scores["fake_score"].append(objective.score(fake_logits))
            pure = pure_critic(critic, lambda copy, x: copy.logits(x, training=True))
            for name, term in objective.penalties(pure, images, fake, penalty_key, step).items():
                terms[name] = terms.get(name, jnp.zeros((), jnp.float32)) + term
                loss = loss + term
        means = {name: (values[0] + values[1]) / 2 for name, values in scores.items()}
        return loss, means | terms

    def generator_loss(
        self, g: Pair, d: Pair, real: Batch, key: jax.Array, step: Any, objective: Objective
    ) -> Losses:
        """Adversarial losses of ``G`` and ``F``, plus cycle and identity terms."""
        a, b = real["image_a"], real["image_b"]
        fake_b = g.first(a, training=True)
        fake_a = g.second(b, training=True)
        adversarial = objective.generator_loss(
            _f32(d.second.logits(fake_b, training=True))
        ) + objective.generator_loss(_f32(d.first.logits(fake_a, training=True)))
        cycle = cycle_consistency_loss(
            _f32(a), _f32(g.second(fake_b, training=True)), weight=self.lambda_cycle
        ) + cycle_consistency_loss(
            _f32(b), _f32(g.first(fake_a, training=True)), weight=self.lambda_cycle
        )
        loss = adversarial + cycle
        metrics = {"adversarial_loss": adversarial, "cycle_loss": cycle}
        if self.lambda_identity > 0:
            identity = identity_loss(
                _f32(a), _f32(g.second(a, training=True)), weight=self.lambda_identity
            ) + identity_loss(_f32(b), _f32(g.first(b, training=True)), weight=self.lambda_identity)
            loss = loss + identity
            metrics["identity_loss"] = identity
        return loss, metrics


Game = LatentGame | CycleGame
"""Any game :func:`game_for` returns."""


def _final_image_shape(model: Any) -> tuple[int, ...]:
    if isinstance(model, ProgressiveGAN):
        return tuple(model.config.generator.output_layout.shape)
    return tuple(model.sample_shape)


def progressive_game(model: ProgressiveGAN, stage: int) -> ProgressiveGame:
    """The game of ``model`` at growth ``stage``."""
    config = model.config
    layout = config.generator.output_layout
    stable, transition = config.stable_steps, config.transition_steps
    resolutions = config.generator.resolutions
    return ProgressiveGame(
        latent_dim=model.latent_dim,
        image_shape=tuple(layout.shape),
        stage=stage,
        pool=resolutions[-1] // resolutions[stage],
        channels_last=layout.data_format == "NHWC",
        # Stage s >= 1 fades in after stage 0's stable phase and s - 1 full stages.
        fade_start=stable + (stage - 1) * (transition + stable) if stage > 0 else 0,
        transition_steps=transition,
    )


def game_for(model: Any) -> Game:
    """The game that trains ``model`` (a progressive model at its current stage).

    Raises:
        TypeError: ``model`` is not a GAN of ``artifex-gan`` (or alike: ``generator``,
            ``discriminator`` with ``logits``, ``latent_dim``).
    """
    if isinstance(model, CycleGAN):
        return CycleGame(
            shape_a=tuple(model.input_shape_a),
            shape_b=tuple(model.input_shape_b),
            lambda_cycle=float(model.lambda_cycle),
            lambda_identity=float(model.lambda_identity),
        )
    missing = [
        name for name in ("generator", "discriminator", "latent_dim") if not hasattr(model, name)
    ]
    if missing or not hasattr(model.discriminator, "logits"):
        raise TypeError(
            "Trainer needs a GAN model of artifex-gan (generator, discriminator with "
            f"logits, latent_dim); {type(model).__name__} lacks "
            f"{', '.join(missing) or 'discriminator.logits'}"
        )
    if isinstance(model, ProgressiveGAN):
        return progressive_game(model, model.stage)
    common: dict[str, Any] = {
        "latent_dim": int(model.latent_dim),
        "image_shape": _final_image_shape(model),
    }
    if isinstance(model, StyleGAN):
        return StyleGame(
            **common,
            style_mixing_prob=float(model.config.generator.style_mixing_prob),
            num_blocks=int(model.num_blocks),
        )
    if isinstance(model, ConditionalGAN) or getattr(model.config, "num_classes", None):
        return ConditionalGame(**common, num_classes=int(model.config.num_classes))
    return LatentGame(**common)
