"""Config of a CycleGAN: two generators, two PatchGAN discriminators, cycle losses."""

from collections.abc import Mapping

from artifex.generative_models.core.configuration._fields import (
    LossType,
    check_non_negative,
    sample_shape,
)
from artifex.generative_models.core.configuration._gan_base import BaseGANConfig, describe_shape
from artifex.generative_models.core.configuration.base import (
    FrozenDict,
    config_dataclass,
    config_field,
)
from artifex.generative_models.core.configuration.layout import ImageLayout
from artifex.generative_models.core.configuration.network_configs import (
    CycleGANGeneratorConfig,
    PatchGANDiscriminatorConfig,
)

__all__ = ["CycleGANConfig"]

_CYCLE_GENERATORS = ("a_to_b", "b_to_a")
_CYCLE_DISCRIMINATORS = ("disc_a", "disc_b")


@config_dataclass
class CycleGANConfig(BaseGANConfig):
    """A CycleGAN: unpaired translation between image domains A and B.

    Example (seed 000)::

        CycleGANConfig(
            name="cyclegan_horse2zebra",
            generator={"a_to_b": CycleGANGeneratorConfig(...),
                       "b_to_a": CycleGANGeneratorConfig(...)},
            discriminator={"disc_a": PatchGANDiscriminatorConfig(...),
                           "disc_b": PatchGANDiscriminatorConfig(...)},
            input_shape_a=(256, 256, 3), input_shape_b=(256, 256, 3),
            lambda_cycle=10.0, lambda_identity=0.5)

    Domain A images must have one shape and layout everywhere (``a_to_b`` input,
    ``b_to_a`` output, ``disc_a`` input), likewise domain B. Discriminators without
    ``input_shape`` take their domain's; missing ``input_shape_a``/``input_shape_b`` come
    from ``a_to_b``.

    Attributes:
        generator: ``{"a_to_b": ..., "b_to_a": ...}`` generator configs.
        discriminator: ``{"disc_a": ..., "disc_b": ...}`` PatchGAN configs; ``disc_a``
            judges domain A.
        input_shape_a: Image shape of domain A.
        input_shape_b: Image shape of domain B.
        lambda_cycle: Weight of the cycle-consistency (L1) loss; >= 0.
        lambda_identity: Weight of the identity (L1) loss, used as given (seed 000
            multiplies the identity terms by it); >= 0; > 0 needs both domains to share
            one image shape.
        loss_type: Defaults to ``"least_squares"``.
        name: See :class:`BaseGANConfig`.
        generator_lr: See :class:`BaseGANConfig`.
        discriminator_lr: See :class:`BaseGANConfig`.
        beta1: See :class:`BaseGANConfig`.
        beta2: See :class:`BaseGANConfig`.
        gradient_penalty_weight: See :class:`BaseGANConfig`.
        label_smoothing: See :class:`BaseGANConfig`.
    """

    name: str = "cyclegan"
    loss_type: LossType = "least_squares"
    generator: Mapping[str, CycleGANGeneratorConfig]
    discriminator: Mapping[str, PatchGANDiscriminatorConfig]
    input_shape_a: tuple[int, ...] | None = config_field(default=None, convert=sample_shape)
    input_shape_b: tuple[int, ...] | None = config_field(default=None, convert=sample_shape)
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5

    def _validate(self) -> None:
        super()._validate()
        for name, keys in (
            ("generator", _CYCLE_GENERATORS),
            ("discriminator", _CYCLE_DISCRIMINATORS),
        ):
            if sorted(getattr(self, name)) != sorted(keys):
                self._fail(name, f"must have exactly the keys {', '.join(map(repr, keys))}")
        check_non_negative(self, "lambda_cycle")
        check_non_negative(self, "lambda_identity")
        forward = self.generator["a_to_b"]
        if self.input_shape_a is None:
            self._set("input_shape_a", forward.input_shape)
        if self.input_shape_b is None:
            self._set("input_shape_b", forward.output_shape)
        self._fill_discriminators()
        self._check_domains()
        if self.lambda_identity > 0 and self.data_layout != self.data_layout_b:
            self._fail(
                "lambda_identity",
                f"needs both domains to share one image shape (input_shape_a="
                f"{self.input_shape_a!r}, input_shape_b={self.input_shape_b!r}); "
                "set lambda_identity=0.0",
            )

    def _fill_discriminators(self) -> None:
        filled = dict(self.discriminator)
        for key, shape, generator in (
            ("disc_a", self.input_shape_a, self.generator["b_to_a"]),
            ("disc_b", self.input_shape_b, self.generator["a_to_b"]),
        ):
            if filled[key].input_shape is None:
                data_format = filled[key].data_format
                if data_format == "auto":
                    data_format = generator.data_format
                filled[key] = filled[key].replace(input_shape=shape, data_format=data_format)
        if filled != dict(self.discriminator):
            self._set("discriminator", FrozenDict(filled))

    def _check_domain(self, domain: str, uses: list[tuple[str, ImageLayout | None]]) -> None:
        name = f"input_shape_{domain}"
        shape = getattr(self, name)
        reference = uses[0][1]
        for where, layout in uses:
            if layout is None or layout.shape != shape or layout != reference:
                found = describe_shape(layout.shape if layout else None, layout)
                first = describe_shape(reference.shape if reference else None, reference)
                self._fail(
                    name,
                    f"{where}={found} does not match (every domain {domain.upper()} image must "
                    f"have one shape and layout; first use: {first})",
                )

    def _check_domains(self) -> None:
        forward, backward = self.generator["a_to_b"], self.generator["b_to_a"]
        disc_a, disc_b = self.discriminator["disc_a"], self.discriminator["disc_b"]
        self._check_domain(
            "a",
            [
                ("generator['a_to_b'].input_shape", forward.input_layout),
                ("generator['b_to_a'].output_shape", backward.output_layout),
                ("discriminator['disc_a'].input_shape", disc_a.input_layout),
            ],
        )
        self._check_domain(
            "b",
            [
                ("generator['a_to_b'].output_shape", forward.output_layout),
                ("generator['b_to_a'].input_shape", backward.input_layout),
                ("discriminator['disc_b'].input_shape", disc_b.input_layout),
            ],
        )

    @property
    def generator_a_to_b(self) -> CycleGANGeneratorConfig:
        """The generator translating domain A to B."""
        return self.generator["a_to_b"]

    @property
    def generator_b_to_a(self) -> CycleGANGeneratorConfig:
        """The generator translating domain B to A."""
        return self.generator["b_to_a"]

    @property
    def discriminator_a(self) -> PatchGANDiscriminatorConfig:
        """The discriminator of domain A."""
        return self.discriminator["disc_a"]

    @property
    def discriminator_b(self) -> PatchGANDiscriminatorConfig:
        """The discriminator of domain B."""
        return self.discriminator["disc_b"]

    @property
    def data_layout(self) -> ImageLayout:
        """The layout of domain A images."""
        return self.generator["a_to_b"].input_layout

    @property
    def data_layout_b(self) -> ImageLayout:
        """The layout of domain B images."""
        return self.generator["a_to_b"].output_layout
