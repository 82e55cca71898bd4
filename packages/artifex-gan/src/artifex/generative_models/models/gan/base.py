"""``GAN``: a generator and a discriminator trained against each other.

The model reads one typed config (:class:`GANConfig` or a family's subclass); seed 003's
attribute-style ``class GANConfig:`` objects and the legacy ``ModelConfig`` are translated
into it by ``to_typed_config``. The networks are built from the config's network configs,
so ``GAN`` with a ``DCGANConfig`` has convolutional networks.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration import (
    GANConfig,
    to_typed_config,
)
from artifex.generative_models.models.gan._common import (
    IMAGE_KEYS,
    PENALTY_STREAMS,
    check_finite,
    check_no_options,
    check_samples,
    draw_key,
    extract,
    normalize_precision,
    own_sample_stream,
    precision_scope,
    reseed_dropout,
    sample_count,
)
from artifex.generative_models.models.gan._networks import network_classes
from artifex.generative_models.models.gan._rules import LatentRules, Objective
from artifex.generative_models.models.gan._scores import scores_from_logits

__all__ = ["GAN"]


class GAN(nnx.Module):
    """A generative adversarial network: generator, discriminator and their objective.

    Args:
        config: A :class:`GANConfig` (or a subclass), seed 003's attribute-style config
            object, or a legacy ``ModelConfig``.
        rngs: ``params`` initialises both networks; ``dropout`` drives dropout; the model
            forks its own ``sample`` stream for latent vectors (derived from ``params``
            when ``rngs`` has none).
        precision: Matrix-multiplication precision of every forward pass: a
            ``jax.lax.Precision`` or a ``jax.default_matmul_precision`` name; None keeps
            JAX's default.

    Attributes:
        config: The typed config.
        generator: The generator network.
        discriminator: The discriminator network; its call returns scores in the space
            the config declares (probabilities for the vanilla loss unless
            ``score_type`` says otherwise, logits for the others); ``logits`` gives the
            logits the losses use.
        latent_dim: Size of the latent vectors.
        loss_type: The adversarial loss: ``"vanilla"``, ``"least_squares"``,
            ``"wasserstein"`` or ``"hinge"``.
        precision: The ``precision`` given.
        sample_stream: The model's own ``sample`` stream, used when a method gets no rngs.

    Example:
        >>> gan = GAN(config, rngs=nnx.Rngs(params=0, sample=1, dropout=2))
        >>> samples = gan.generate(n_samples=16)
        >>> losses = gan.loss_fn(batch, None, rngs=nnx.Rngs(sample=0))
    """

    #: The family whose typed config this model reads (see ``to_typed_config``).
    family: ClassVar[str] = "gan"

    config: GANConfig

    def __init__(self, config: Any, *, rngs: nnx.Rngs, precision: Any = None):
        typed: Any = to_typed_config(config, self.family)
        self.config = typed
        self.precision = precision
        self._matmul_precision = normalize_precision(precision)
        self.latent_dim = typed.latent_dim
        self.loss_type = typed.loss_type
        self.sample_stream = own_sample_stream(rngs)
        generator_class, discriminator_class = self._network_classes(typed)
        score_type = typed.discriminator.resolved_score_type(typed.loss_type)
        self.generator = generator_class(config=typed.generator, rngs=rngs)
        self.discriminator = discriminator_class(
            config=_with_score_type(typed.discriminator, score_type), rngs=rngs
        )

    def _network_classes(self, config: Any) -> tuple[type, type]:
        """The generator and discriminator classes that ``config`` builds."""
        return network_classes(config, owner=type(self).__name__)

    # -- shapes ------------------------------------------------------------------------

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one generated (and real) sample, in the declared layout."""
        return tuple(self.config.generator.output_shape)

    def _layout_name(self) -> str:
        layout = self.config.data_layout
        return layout.data_format if layout is not None else ""

    def _real(self, x: Any, owner: str) -> jax.Array:
        real = check_samples(
            "real data", x, self.sample_shape, owner=owner, layout=self._layout_name()
        )
        check_finite("real data", real, owner=owner)
        return real

    # -- forward -----------------------------------------------------------------------

    def __call__(
        self,
        x: Any,
        rngs: nnx.Rngs | None = None,
        training: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Score real data with the discriminator.

        Args:
            x: Real samples ``(B, *sample_shape)``, or a batch dict holding them under
                ``"images"``, ``"image"``, ``"x"`` or ``"data"``.
            rngs: Optional; its ``dropout`` stream reseeds the discriminator's dropout.
            training: Run the discriminator in training mode.
            **kwargs: None are taken; an unknown keyword raises ``TypeError``.

        Returns:
            ``{"real_scores": D(x), "fake_scores": None, "fake_samples": None}``; the
            fake entries are computed by :meth:`loss_fn`.
        """
        owner = f"{type(self).__name__}.__call__"
        check_no_options(kwargs, owner=owner, known="x, rngs, training")
        real = self._real(extract(x, IMAGE_KEYS, owner=owner, what="real data"), owner)
        with precision_scope(self._matmul_precision):
            reseed_dropout(self.discriminator, rngs)
            real_scores = self.discriminator(real, training=training)
        return {"real_scores": real_scores, "fake_scores": None, "fake_samples": None}

    def sample_latent(self, n_samples: int, rngs: nnx.Rngs | None = None) -> jax.Array:
        """Standard normal latent vectors ``(n_samples, latent_dim)``.

        The key comes from ``rngs`` (its ``sample`` stream, else ``default``, else
        ``params``) or, without ``rngs``, from the model's own ``sample`` stream.
        """
        n = sample_count(n_samples, None, owner=f"{type(self).__name__}.sample_latent")
        key = draw_key(rngs, self.sample_stream, owner=f"{type(self).__name__}.sample_latent")
        return jax.random.normal(key, (n, self.latent_dim))

    def generate(
        self,
        n_samples: int = 1,
        rngs: nnx.Rngs | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> jax.Array:
        """Generate samples from standard normal latent vectors.

        Args:
            n_samples: Number of samples.
            rngs: Source of the latent vectors (``sample`` stream, else ``default``, else
                ``params``); None uses the model's own ``sample`` stream, so two calls
                give different samples.
            batch_size: Alternative to ``n_samples`` (wins when given).
            **kwargs: ``training`` (default False: generation runs in eval mode).

        Returns:
            Samples ``(n, *sample_shape)`` in the declared layout.
        """
        owner = f"{type(self).__name__}.generate"
        training = kwargs.pop("training", False)
        check_no_options(kwargs, owner=owner, known="n_samples, rngs, batch_size, training")
        n = sample_count(n_samples, batch_size, owner=owner)
        with precision_scope(self._matmul_precision):
            z = self.sample_latent(n, rngs)
            return self.generator(z, training=training)

    # -- objective ---------------------------------------------------------------------

    def loss_fn(
        self,
        batch: Any,
        model_outputs: Any = None,
        rngs: nnx.Rngs | None = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The adversarial losses on a batch of real data and as many generated samples.

        The losses are computed from the discriminator's logits with the config's
        ``loss_type`` (see :meth:`training_rules`: the training step uses the same
        rules); a gradient penalty on
        interpolates is added to the discriminator's loss when the config's weight is
        > 0. Differentiate ``generator_loss`` with respect to the generator and
        ``discriminator_loss`` with respect to the discriminator; ``loss`` is their sum.

        Args:
            batch: Real samples ``(B, *sample_shape)`` or a batch dict holding them
                under ``"images"``, ``"image"``, ``"x"`` or ``"data"``.
            model_outputs: Unused (the fake samples are made here).
            rngs: Source of latent vectors and penalty interpolation (``sample`` stream,
                else ``default``/``params``); its ``dropout`` stream reseeds dropout.
                None uses the model's own ``sample`` stream.
            **kwargs: ``training``: mode of both networks (None: each network's mode).

        Returns:
            ``loss``, ``generator_loss``, ``discriminator_loss``, ``real_scores_mean``
            and ``fake_scores_mean`` (means in the discriminator's score space).
        """
        owner = f"{type(self).__name__}.loss_fn"
        training = kwargs.pop("training", None)
        check_no_options(kwargs, owner=owner, known="batch, model_outputs, rngs, training")
        real = self._real(extract(batch, IMAGE_KEYS, owner=owner, what="real data"), owner)
        with precision_scope(self._matmul_precision):
            reseed_dropout(self, rngs)
            z = self.sample_latent(real.shape[0], rngs)
            fake = self.generator(z, training=training)
            return self._objective(real, fake, (), (), training=training, rngs=rngs)

    # -- training rules -----------------------------------------------------------------

    #: The rules class of the family (see :meth:`training_rules`).
    rules_class: ClassVar[type[LatentRules]] = LatentRules

    def _rule_fields(self) -> dict[str, Any]:
        """The family's own fields of its rules (beyond latents, images and objective)."""
        return {}

    def training_rules(
        self,
        *,
        objective: Objective | None = None,
        n_critic: int | None = None,
        training: bool | None = True,
    ) -> LatentRules:
        """How this model trains: the rules both the training step and :meth:`loss_fn` use.

        Args:
            objective: The adversarial loss and penalties; None: the config's
                (:meth:`Objective.from_config`).
            n_critic: Discriminator updates per iteration; None: the family's default
                (a WGAN's ``critic_iterations``, else 1).
            training: The networks' mode inside the rules (None: each network's own).

        Returns:
            Frozen, hashable rules (see ``TrainingRules``).
        """
        fields: dict[str, Any] = {
            "latent_dim": int(self.latent_dim),
            "image_shape": tuple(self.sample_shape),
            "objective": objective or Objective.from_config(self.config),
            "training": training,
            **self._rule_fields(),
        }
        if n_critic is not None:
            fields["n_critic"] = int(n_critic)
        return self.rules_class(**fields)

    def _objective(
        self,
        real: jax.Array,
        fake: jax.Array,
        real_args: tuple[Any, ...],
        fake_args: tuple[Any, ...],
        *,
        training: bool | None,
        rngs: nnx.Rngs | None,
    ) -> dict[str, jax.Array]:
        """Losses and score means of real and fake samples (extra discriminator args).

        The same rules as the training step: :meth:`LatentRules.judge` scores both, and
        :meth:`LatentRules.critic_terms` adds the penalties to the discriminator's loss.
        """
        rules = self.training_rules(training=training)
        logits = rules.judge(self.discriminator, real, real_args, fake, fake_args)
        key = (
            draw_key(
                rngs,
                self.sample_stream,
                owner=f"{type(self).__name__}.loss_fn",
                streams=PENALTY_STREAMS,
            )
            if rules.objective.penalized
            else jax.random.key(0)  # unused: no penalty draws from it
        )
        discriminator_loss, _ = rules.critic_terms(
            self.discriminator, real, real_args, fake, logits, key, 0
        )
        generator_loss = rules.objective.generator_loss(logits[1])
        score_type = self.discriminator.score_type
        return {
            "loss": generator_loss + discriminator_loss,
            "generator_loss": generator_loss,
            "discriminator_loss": discriminator_loss,
            "real_scores_mean": jnp.mean(scores_from_logits(logits[0], score_type)),
            "fake_scores_mean": jnp.mean(scores_from_logits(logits[1], score_type)),
        }


def _with_score_type(config: Any, score_type: str) -> Any:
    """``config`` with an explicit ``score_type`` (what the GAN's loss makes of "auto")."""
    if getattr(config, "score_type", score_type) == score_type:
        return config
    return config.replace(score_type=score_type)
