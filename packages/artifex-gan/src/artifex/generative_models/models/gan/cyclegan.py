"""``CycleGAN``: unpaired image-to-image translation between domains A and B.

Two ResNet generators (``A -> B`` and ``B -> A``) and two PatchGAN discriminators, trained
with an adversarial loss per direction, a cycle-consistency loss (``A -> B -> A`` and
``B -> A -> B``) and an identity loss.

Built from a :class:`CycleGANConfig` (seed 000) or from seed 003's keywords::

    CycleGAN(input_shape_x=(3, 256, 256), input_shape_y=(3, 256, 256),
             gen_hidden_dims=(64, 128, 256), disc_hidden_dims=(64, 128, 256),
             cycle_weight=10.0, identity_weight=0.5, rngs=nnx.Rngs(params=0, dropout=1))

Both attribute names of the documents work: ``generator_a_to_b`` / ``generator_g``,
``generator_b_to_a`` / ``generator_f``, ``discriminator_a`` / ``discriminator_x``,
``discriminator_b`` / ``discriminator_y``.

References:
    Zhu, Park, Isola, Efros. "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks", ICCV 2017. https://arxiv.org/abs/1703.10593
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration import (
    CycleGANConfig,
    CycleGANGeneratorConfig,
    FrozenDict,
    PatchGANDiscriminatorConfig,
    to_typed_config,
)
from artifex.generative_models.core.losses import cycle_consistency_loss, identity_loss
from artifex.generative_models.models.gan._common import (
    check_finite,
    check_no_options,
    check_samples,
    normalize_precision,
    precision_scope,
    reseed_dropout,
)
from artifex.generative_models.models.gan._rules import (
    Batch,
    Fakes,
    Losses,
    Objective,
    OnePhase,
    critic_terms,
    f32,
)
from artifex.generative_models.models.gan._scores import scores_from_logits
from artifex.generative_models.nets.cyclegan import CycleGANGenerator
from artifex.generative_models.nets.patchgan import (
    CycleGANDiscriminator,
    PatchGANDiscriminator,
)

__all__ = ["CycleGAN", "CycleRules", "Pair"]

#: Keys under which a batch dict may hold the images of each domain.
DOMAIN_KEYS: Mapping[str, tuple[str, ...]] = FrozenDict(
    {"a": ("a", "x", "images_a", "domain_a"), "b": ("b", "y", "images_b", "domain_b")}
)

_DIRECTIONS = ("a_to_b", "b_to_a")


def keyword_config(
    *,
    input_shape_x: Sequence[int],
    input_shape_y: Sequence[int] | None,
    gen_hidden_dims: Sequence[int],
    disc_hidden_dims: Sequence[int],
    cycle_weight: float,
    identity_weight: float,
    n_residual_blocks: int,
    loss_type: str,
) -> CycleGANConfig:
    """The :class:`CycleGANConfig` of seed 003's keyword constructor.

    Generators are ResNet generators with ``gen_hidden_dims`` and ``n_residual_blocks``;
    discriminators are PatchGANs with ``disc_hidden_dims`` returning the patch scores alone
    (``return_features=False``). Shapes follow the layout rule (``(C, H, W)``: NCHW).
    """
    shape_a = tuple(input_shape_x)
    shape_b = tuple(input_shape_y) if input_shape_y is not None else shape_a

    def generator(name: str, source: tuple[int, ...], target: tuple[int, ...]) -> Any:
        return CycleGANGeneratorConfig(
            name=name,
            hidden_dims=tuple(gen_hidden_dims),
            input_shape=source,
            output_shape=target,
            n_residual_blocks=n_residual_blocks,
        )

    def discriminator(name: str, shape: tuple[int, ...]) -> Any:
        return PatchGANDiscriminatorConfig(
            name=name,
            hidden_dims=tuple(disc_hidden_dims),
            input_shape=shape,
            activation="leaky_relu",
            return_features=False,
        )

    return CycleGANConfig(
        generator={
            "a_to_b": generator("generator_g", shape_a, shape_b),
            "b_to_a": generator("generator_f", shape_b, shape_a),
        },
        discriminator={
            "disc_a": discriminator("discriminator_x", shape_a),
            "disc_b": discriminator("discriminator_y", shape_b),
        },
        input_shape_a=shape_a,
        input_shape_b=shape_b,
        lambda_cycle=cycle_weight,
        lambda_identity=identity_weight,
        loss_type=loss_type,  # type: ignore[arg-type]
    )


class Pair(nnx.Module):
    """Two networks one optimizer trains: CycleGAN's generators, or its discriminators.

    Args:
        first: The first network (``G: A -> B``, or ``D_A``).
        second: The second network (``F: B -> A``, or ``D_B``).
    """

    def __init__(self, first: Any, second: Any):
        self.first = first
        self.second = second


@dataclasses.dataclass(frozen=True, kw_only=True)
class CycleRules(OnePhase):
    """CycleGAN rules: adversarial losses both ways, cycle consistency and identity.

    The players are ``Pair(G, F)`` and ``Pair(D_A, D_B)``; a batch holds unpaired
    ``image_a`` and ``image_b``.

    Attributes:
        shape_a: Shape of one image of domain A.
        shape_b: Shape of one image of domain B.
        objective: The adversarial loss of both directions and its penalties.
        lambda_cycle: Weight of ``|F(G(a)) - a| + |G(F(b)) - b|``.
        lambda_identity: Weight of ``|F(a) - a| + |G(b) - b|`` (0 skips those passes).
        n_critic: Discriminator updates per iteration.
        training: The networks' mode (True in the step; None: each network's own).
    """

    shape_a: tuple[int, ...]
    shape_b: tuple[int, ...]
    objective: Objective = dataclasses.field(
        default_factory=lambda: Objective(loss_type="least_squares")
    )
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    n_critic: int = 1
    training: bool | None = True

    batch_keys: ClassVar[tuple[str, ...]] = ("image_a", "image_b")

    def players(self, model: Any) -> tuple[Pair, Pair]:
        """``(Pair(G, F), Pair(D_A, D_B))`` around the model's own networks."""
        return (
            Pair(model.generator_a_to_b, model.generator_b_to_a),
            Pair(model.discriminator_a, model.discriminator_b),
        )

    def batch_shapes(self) -> Mapping[str, tuple[int, ...]]:
        """Per-example shapes of both domains."""
        return {"image_a": self.shape_a, "image_b": self.shape_b}

    def after_discriminator_update(self, d: Any) -> None:
        """No constraint."""

    # -- the shared pieces: the step and CycleGAN.loss_fn both call these -----------------

    def logits(self, d: Any, x: jax.Array) -> jax.Array:
        """A discriminator's float32 logits of ``x``."""
        return f32(d.logits(x, training=self.training))

    def reconstruction_terms(
        self,
        g: Any,
        f: Any,
        a: jax.Array,
        b: jax.Array,
        fake_a: jax.Array,
        fake_b: jax.Array,
    ) -> dict[str, jax.Array]:
        """Weighted cycle (and, when ``lambda_identity > 0``, identity) losses.

        Args:
            g: ``G: A -> B``.
            f: ``F: B -> A``.
            a: Images of domain A.
            b: Images of domain B.
            fake_a: ``F(b)``.
            fake_b: ``G(a)``.
        """
        mode = self.training
        terms = {
            "cycle_loss": cycle_consistency_loss(
                f32(a), f32(f(fake_b, training=mode)), weight=self.lambda_cycle
            )
            + cycle_consistency_loss(
                f32(b), f32(g(fake_a, training=mode)), weight=self.lambda_cycle
            )
        }
        if self.lambda_identity > 0:
            terms["identity_loss"] = identity_loss(
                f32(a), f32(f(a, training=mode)), weight=self.lambda_identity
            ) + identity_loss(f32(b), f32(g(b, training=mode)), weight=self.lambda_identity)
        return terms

    def domain_terms(
        self,
        d: Any,
        real: jax.Array,
        fake: jax.Array,
        logits: tuple[jax.Array, jax.Array],
        key: jax.Array,
        step: jax.Array | int,
    ) -> Losses:
        """One discriminator's adversarial loss plus penalties (see ``critic_terms``)."""
        return critic_terms(
            self.objective,
            d,
            lambda copy, x: copy.logits(x, training=self.training),
            real,
            fake,
            logits,
            key,
            step,
        )

    # -- the game of one iteration ---------------------------------------------------------

    def fakes(self, g: Pair, real: Batch, key: jax.Array, step: jax.Array) -> Fakes:
        """``{"a": F(b), "b": G(a)}``."""
        return {
            "a": g.second(real["image_b"], training=self.training),
            "b": g.first(real["image_a"], training=self.training),
        }

    def discriminator_loss(
        self,
        d: Pair,
        real: Batch,
        fakes: Fakes,
        key: jax.Array,
        step: jax.Array,
        *,
        augment_p: jax.Array | None = None,
    ) -> Losses:
        """``D_A``'s loss on A vs ``F(b)`` plus ``D_B``'s on B vs ``G(a)``, with penalties.

        Scores are the mean of both discriminators'; penalties their sum. Translation
        rules have no ``augment`` (the trainer refuses augmentation for them), so
        ``augment_p`` is never given.
        """
        del augment_p
        loss = jnp.zeros((), jnp.float32)
        metrics: dict[str, jax.Array] = {}
        for index, (critic, images, fake) in enumerate(
            ((d.first, real["image_a"], fakes["a"]), (d.second, real["image_b"], fakes["b"]))
        ):
            logits = (self.logits(critic, images), self.logits(critic, fake))
            part, terms = self.domain_terms(
                critic, images, fake, logits, jax.random.fold_in(key, index), step
            )
            loss = loss + part
            for name, value in terms.items():
                share = value / 2 if name.endswith("_score") else value
                metrics[name] = metrics.get(name, jnp.zeros((), jnp.float32)) + share
        return loss, metrics

    def generator_loss(
        self,
        g: Pair,
        d: Pair,
        real: Batch,
        key: jax.Array,
        step: jax.Array,
        *,
        augment_p: jax.Array | None = None,
    ) -> Losses:
        """Adversarial losses of ``G`` and ``F``, plus cycle and identity terms."""
        del augment_p
        a, b = real["image_a"], real["image_b"]
        fake_b = g.first(a, training=self.training)
        fake_a = g.second(b, training=self.training)
        adversarial = self.objective.generator_loss(
            self.logits(d.second, fake_b)
        ) + self.objective.generator_loss(self.logits(d.first, fake_a))
        terms = self.reconstruction_terms(g.first, g.second, a, b, fake_a, fake_b)
        loss = adversarial + sum(terms.values(), jnp.zeros((), jnp.float32))
        return loss, {"adversarial_loss": adversarial, **terms}


class CycleGAN(nnx.Module):
    """CycleGAN: generators ``G: A -> B``, ``F: B -> A`` and discriminators ``D_A``, ``D_B``.

    Args:
        config: A :class:`CycleGANConfig`; or None and the keywords below.
        rngs: ``params`` initialises the networks; ``dropout`` drives dropout.
        precision: Matrix-multiplication precision (see :class:`GAN`).
        input_shape_x: Keyword style: domain A's image shape, ``(C, H, W)`` (NCHW) or
            ``(H, W, C)`` (NHWC).
        input_shape_y: Keyword style: domain B's image shape (default: domain A's).
        gen_hidden_dims: Keyword style: generator channels (default ``(64, 128, 256)``).
        disc_hidden_dims: Keyword style: discriminator channels (default
            ``(64, 128, 256)``).
        cycle_weight: Keyword style: weight of the cycle loss (default 10.0).
        identity_weight: Keyword style: weight of the identity loss (default 0.5).
        n_residual_blocks: Keyword style: residual blocks per generator (default 9).
        loss_type: Keyword style: adversarial loss (default ``"least_squares"``).

    Attributes:
        config: The typed config.
        generator_a_to_b: ``G: A -> B`` (also ``generator_g``).
        generator_b_to_a: ``F: B -> A`` (also ``generator_f``).
        discriminator_a: ``D_A``, judging domain A (also ``discriminator_x``).
        discriminator_b: ``D_B``, judging domain B (also ``discriminator_y``).
        lambda_cycle: Weight of the cycle-consistency loss.
        lambda_identity: Weight of the identity loss.
        loss_type: The adversarial loss.
        input_shape_a: Domain A's image shape (declared layout).
        input_shape_b: Domain B's image shape (declared layout).
    """

    config: CycleGANConfig

    def __init__(
        self,
        config: Any = None,
        *,
        rngs: nnx.Rngs,
        precision: Any = None,
        input_shape_x: Sequence[int] | None = None,
        input_shape_y: Sequence[int] | None = None,
        gen_hidden_dims: Sequence[int] | None = None,
        disc_hidden_dims: Sequence[int] | None = None,
        cycle_weight: float | None = None,
        identity_weight: float | None = None,
        n_residual_blocks: int | None = None,
        loss_type: str | None = None,
    ):
        keywords = {
            "input_shape_x": input_shape_x,
            "input_shape_y": input_shape_y,
            "gen_hidden_dims": gen_hidden_dims,
            "disc_hidden_dims": disc_hidden_dims,
            "cycle_weight": cycle_weight,
            "identity_weight": identity_weight,
            "n_residual_blocks": n_residual_blocks,
            "loss_type": loss_type,
        }
        given = sorted(name for name, value in keywords.items() if value is not None)
        if config is not None and given:
            raise TypeError(
                f"CycleGAN got config= and {', '.join(given)}; give either a CycleGANConfig "
                "or the keywords, not both"
            )
        if config is None:
            if input_shape_x is None:
                raise TypeError(
                    "CycleGAN needs config=CycleGANConfig(...) or input_shape_x=... (the "
                    "image shape of domain A)"
                )
            config = keyword_config(
                input_shape_x=input_shape_x,
                input_shape_y=input_shape_y,
                gen_hidden_dims=gen_hidden_dims or (64, 128, 256),
                disc_hidden_dims=disc_hidden_dims or (64, 128, 256),
                cycle_weight=10.0 if cycle_weight is None else cycle_weight,
                identity_weight=0.5 if identity_weight is None else identity_weight,
                n_residual_blocks=9 if n_residual_blocks is None else n_residual_blocks,
                loss_type=loss_type or "least_squares",
            )
        typed: Any = to_typed_config(config, "cyclegan")
        self.config = typed
        self.precision = precision
        self._matmul_precision = normalize_precision(precision)
        self.loss_type = typed.loss_type
        self.lambda_cycle = typed.lambda_cycle
        self.lambda_identity = typed.lambda_identity
        self.input_shape_a = tuple(typed.input_shape_a)
        self.input_shape_b = tuple(typed.input_shape_b)
        self.generator_a_to_b = CycleGANGenerator(config=typed.generator_a_to_b, rngs=rngs)
        self.generator_b_to_a = CycleGANGenerator(config=typed.generator_b_to_a, rngs=rngs)
        self.discriminator_a = self._discriminator(typed.discriminator_a, rngs)
        self.discriminator_b = self._discriminator(typed.discriminator_b, rngs)

    def _discriminator(self, config: PatchGANDiscriminatorConfig, rngs: nnx.Rngs) -> Any:
        score_type = config.resolved_score_type(self.loss_type)
        if config.score_type != score_type:
            config = config.replace(score_type=score_type)
        network = PatchGANDiscriminator if config.return_features else CycleGANDiscriminator
        return network(config=config, rngs=rngs)

    # -- the second set of names (seed 003) --------------------------------------------

    @property
    def generator_g(self) -> CycleGANGenerator:
        """``G: X -> Y``, the same network as ``generator_a_to_b``."""
        return self.generator_a_to_b

    @property
    def generator_f(self) -> CycleGANGenerator:
        """``F: Y -> X``, the same network as ``generator_b_to_a``."""
        return self.generator_b_to_a

    @property
    def discriminator_x(self) -> PatchGANDiscriminator:
        """``D_X``, the same network as ``discriminator_a``."""
        return self.discriminator_a

    @property
    def discriminator_y(self) -> PatchGANDiscriminator:
        """``D_Y``, the same network as ``discriminator_b``."""
        return self.discriminator_b

    # -- translation -------------------------------------------------------------------

    def _images(self, name: str, x: Any, domain: str, owner: str) -> jax.Array:
        shape = self.input_shape_a if domain == "a" else self.input_shape_b
        layout = self.config.data_layout if domain == "a" else self.config.data_layout_b
        images = check_samples(name, x, shape, owner=owner, layout=layout.data_format)
        check_finite(name, images, owner=owner)
        return images

    def translate(
        self, x: jax.Array, direction: str = "a_to_b", *, training: bool = False
    ) -> jax.Array:
        """Translate images: ``"a_to_b"`` with ``G``, ``"b_to_a"`` with ``F``.

        Args:
            x: Images of the source domain, ``(B, *input_shape_a)`` or
                ``(B, *input_shape_b)``.
            direction: ``"a_to_b"`` or ``"b_to_a"``.
            training: Run the generator in training mode (default: eval).

        Returns:
            Images of the target domain, in its declared layout.
        """
        owner = "CycleGAN.translate"
        if direction not in _DIRECTIONS:
            raise ValueError(f"{owner}: direction must be 'a_to_b' or 'b_to_a', got {direction!r}")
        source = "a" if direction == "a_to_b" else "b"
        images = self._images("x", x, source, owner)
        generator = self.generator_a_to_b if direction == "a_to_b" else self.generator_b_to_a
        with precision_scope(self._matmul_precision):
            return generator(images, training=training)

    def __call__(
        self, x: jax.Array, direction: str = "a_to_b", *, training: bool = False
    ) -> jax.Array:
        """The same as :meth:`translate`."""
        return self.translate(x, direction, training=training)

    # -- objective ---------------------------------------------------------------------

    def _domains(self, batch: Any, owner: str) -> tuple[jax.Array, jax.Array]:
        if isinstance(batch, tuple | list) and len(batch) == 2:
            images_a, images_b = batch
        elif isinstance(batch, Mapping):
            found = []
            for domain, keys in DOMAIN_KEYS.items():
                key = next((k for k in keys if k in batch), None)
                if key is None:
                    raise KeyError(
                        f"{owner}: the batch dict needs domain {domain.upper()}'s images under "
                        f"one of the keys {', '.join(map(repr, keys))}; it has "
                        f"{', '.join(map(repr, batch)) or 'no keys'}"
                    )
                found.append(batch[key])
            images_a, images_b = found
        else:
            raise TypeError(
                f"{owner}: batch must be an (images_a, images_b) pair or a dict with keys "
                f"'a' and 'b' (or 'x' and 'y'), got {type(batch).__name__}"
            )
        real_a = self._images("domain A images", images_a, "a", owner)
        real_b = self._images("domain B images", images_b, "b", owner)
        if real_a.shape[0] != real_b.shape[0]:
            raise ValueError(
                f"{owner}: both domains need batches of one size, got {real_a.shape[0]} "
                f"(A) and {real_b.shape[0]} (B)"
            )
        return real_a, real_b

    def loss_fn(
        self,
        batch: Any,
        model_outputs: Any = None,
        rngs: nnx.Rngs | None = None,
        **kwargs: Any,
    ) -> dict[str, jax.Array]:
        """The CycleGAN objective on a batch of unpaired images of both domains.

        With ``fake_b = G(a)``, ``fake_a = F(b)``: the generators' loss is the adversarial
        loss of both directions (``loss_type``, from the discriminators' logits) plus
        ``lambda_cycle * (|F(G(a)) - a| + |G(F(b)) - b|)`` plus
        ``lambda_identity * (|F(a) - a| + |G(b) - b|)`` (mean absolute errors; the
        identity terms only when ``lambda_identity > 0``); the discriminators' loss is the
        adversarial loss of ``D_A`` on ``a`` vs ``fake_a`` plus ``D_B``'s on ``b`` vs
        ``fake_b``.

        Args:
            batch: An ``(images_a, images_b)`` pair or a dict with keys ``"a"`` and
                ``"b"`` (or ``"x"`` / ``"y"``, ``"images_a"`` / ``"images_b"``,
                ``"domain_a"`` / ``"domain_b"``).
            model_outputs: Unused.
            rngs: Optional; its ``dropout`` stream reseeds dropout.
            **kwargs: ``training``: mode of the networks (None: each network's mode).

        Returns:
            ``loss``, ``generator_loss``, ``discriminator_loss``, ``adversarial_loss``
            (the generators' adversarial part), ``cycle_loss``, ``identity_loss``
            (weighted), ``discriminator_a_loss``, ``discriminator_b_loss``,
            ``real_scores_mean`` and ``fake_scores_mean`` (both discriminators, in their
            score space).
        """
        owner = "CycleGAN.loss_fn"
        training = kwargs.pop("training", None)
        check_no_options(kwargs, owner=owner, known="batch, model_outputs, rngs, training")
        real_a, real_b = self._domains(batch, owner)
        rules = self.training_rules(training=training)
        g, f = self.generator_a_to_b, self.generator_b_to_a
        d_a, d_b = self.discriminator_a, self.discriminator_b
        with precision_scope(self._matmul_precision):
            reseed_dropout(self, rngs)
            fake_b = g(real_a, training=training)
            fake_a = f(real_b, training=training)
            terms = rules.reconstruction_terms(g, f, real_a, real_b, fake_a, fake_b)
            logits_a = (rules.logits(d_a, real_a), rules.logits(d_a, fake_a))
            logits_b = (rules.logits(d_b, real_b), rules.logits(d_b, fake_b))
            # No penalty draws from the key: the config has none (the trainer's R1 is a
            # training setting).
            key = jax.random.key(0)
            disc_a_loss, _ = rules.domain_terms(d_a, real_a, fake_a, logits_a, key, 0)
            disc_b_loss, _ = rules.domain_terms(d_b, real_b, fake_b, logits_b, key, 0)
        adversarial = rules.objective.generator_loss(logits_b[1]) + rules.objective.generator_loss(
            logits_a[1]
        )
        cycle = terms["cycle_loss"]
        identity = terms.get("identity_loss", jnp.zeros((), jnp.float32))
        generator_loss = adversarial + cycle + identity
        discriminator_loss = disc_a_loss + disc_b_loss

        def mean_score(first: jax.Array, second: jax.Array) -> jax.Array:
            return 0.5 * (
                jnp.mean(scores_from_logits(first, d_a.score_type))
                + jnp.mean(scores_from_logits(second, d_b.score_type))
            )

        return {
            "loss": generator_loss + discriminator_loss,
            "generator_loss": generator_loss,
            "discriminator_loss": discriminator_loss,
            "adversarial_loss": adversarial,
            "cycle_loss": cycle,
            "identity_loss": identity,
            "discriminator_a_loss": disc_a_loss,
            "discriminator_b_loss": disc_b_loss,
            "real_scores_mean": mean_score(logits_a[0], logits_b[0]),
            "fake_scores_mean": mean_score(logits_a[1], logits_b[1]),
        }

    # -- training rules -----------------------------------------------------------------

    def training_rules(
        self,
        *,
        objective: Objective | None = None,
        n_critic: int | None = None,
        training: bool | None = True,
    ) -> CycleRules:
        """How this model trains: the rules the training step and :meth:`loss_fn` follow.

        Args:
            objective: The adversarial loss and penalties; None: the config's.
            n_critic: Discriminator updates per iteration (default 1).
            training: The networks' mode inside the rules (None: each network's own).
        """
        return CycleRules(
            shape_a=self.input_shape_a,
            shape_b=self.input_shape_b,
            objective=objective or Objective.from_config(self.config),
            lambda_cycle=float(self.lambda_cycle),
            lambda_identity=float(self.lambda_identity),
            n_critic=1 if n_critic is None else int(n_critic),
            training=training,
        )
