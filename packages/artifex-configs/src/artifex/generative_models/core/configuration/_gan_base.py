"""The abstract base of every GAN config: the objective and the optimizer settings."""

from collections.abc import Mapping
from typing import Any, Self

from artifex.generative_models.core.configuration._fields import (
    DTYPES,
    LossType,
    check_non_negative,
    check_positive,
    check_range,
    dtype_name,
)
from artifex.generative_models.core.configuration.base import ConfigBase, config_dataclass
from artifex.generative_models.core.configuration.layout import ImageLayout

__all__ = ["BaseGANConfig", "describe_shape"]


def describe_shape(shape: tuple[int, ...] | None, layout: ImageLayout | None) -> str:
    """A shape for error messages, with its data format when it is an image."""
    return f"{shape!r} ({layout.data_format})" if layout is not None else repr(shape)


def _is_network(value: Any) -> bool:
    """Whether ``value`` is a network config: a config with a compute ``dtype`` field."""
    return isinstance(value, ConfigBase) and "dtype" in value.field_names()


@config_dataclass(abstract=True)
class BaseGANConfig(ConfigBase):
    """What every GAN config shares: the objective and the optimizer settings (abstract).

    Attributes:
        name: A name for the model.
        loss_type: ``"vanilla"`` (non-saturating), ``"wasserstein"``,
            ``"least_squares"`` or ``"hinge"``.
        generator_lr: Generator learning rate; > 0.
        discriminator_lr: Discriminator learning rate; > 0 (TTUR: often 4x the
            generator's).
        beta1: Adam first-moment decay; in [0, 1).
        beta2: Adam second-moment decay; in [0, 1).
        gradient_penalty_weight: Weight of the gradient penalty on interpolates
            (WGAN-GP); >= 0, 0 disables it.
        label_smoothing: One-sided label smoothing: real targets are
            ``1 - label_smoothing``; in [0, 1), only with ``loss_type="vanilla"``.
    """

    name: str = "gan"
    loss_type: LossType = "vanilla"
    generator_lr: float = 2e-4
    discriminator_lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    gradient_penalty_weight: float = 0.0
    label_smoothing: float = 0.0

    def _validate(self) -> None:
        super()._validate()
        check_positive(self, "generator_lr")
        check_positive(self, "discriminator_lr")
        check_range(self, "beta1", 0, 1)
        check_range(self, "beta2", 0, 1)
        check_non_negative(self, "gradient_penalty_weight")
        check_range(self, "label_smoothing", 0, 1)
        if self.label_smoothing > 0 and self.loss_type != "vanilla":
            self._fail(
                "label_smoothing",
                f"applies to loss_type='vanilla' only, not {self.loss_type!r}",
            )

    # -- precision ---------------------------------------------------------------------

    @property
    def network_dtypes(self) -> dict[str, str]:
        """The compute ``dtype`` of every network config, by field path.

        Paths are field names (``"generator"``) or, for mappings of networks, the field and
        key (``"generator['a_to_b']"``).
        """
        found: dict[str, str] = {}
        for name in self.field_names():
            value = getattr(self, name)
            if _is_network(value):
                found[name] = value.dtype
            elif isinstance(value, Mapping):
                for key, item in value.items():
                    if _is_network(item):
                        found[f"{name}[{key!r}]"] = item.dtype
        return found

    @property
    def compute_dtype(self) -> str:
        """The compute dtype all networks share (``"float32"``, ``"bfloat16"``, ``"float16"``).

        Raises:
            ValueError: The networks were configured with different compute dtypes; the
                message lists each one. ``with_compute_dtype`` makes them agree.
        """
        dtypes = self.network_dtypes
        distinct = sorted(set(dtypes.values()))
        if len(distinct) != 1:
            listed = ", ".join(f"{path}.dtype={dtype!r}" for path, dtype in dtypes.items())
            raise ValueError(
                f"{type(self).__name__}.compute_dtype: the networks compute in different "
                f"dtypes ({listed}); make them agree with config.with_compute_dtype(dtype), "
                f"dtype one of {', '.join(map(repr, DTYPES))}"
            )
        return distinct[0]

    def with_compute_dtype(self, dtype: Any) -> Self:
        """A copy whose every network config has ``dtype=dtype`` (``param_dtype`` is kept).

        Reaches the generator and the discriminator, and each network of a mapping (the
        CycleGAN's two generators and two discriminators). Build the model from the copy
        to train it in that precision: ``GAN(config.with_compute_dtype("bfloat16"), ...)``.

        Args:
            dtype: ``"float32"``, ``"bfloat16"`` or ``"float16"`` (or a dtype object with
                that name, such as ``jnp.bfloat16``).

        Returns:
            The changed, validated copy.

        Raises:
            ValueError: ``dtype`` is not one of ``DTYPES``.
        """
        name = dtype_name(dtype, f"{type(self).__name__}.with_compute_dtype")
        if name not in DTYPES:
            raise ValueError(
                f"{type(self).__name__}.with_compute_dtype: dtype={dtype!r} is not a "
                f"supported compute dtype; use one of {', '.join(map(repr, DTYPES))}"
            )
        changes: dict[str, Any] = {}
        for field in self.field_names():
            value = getattr(self, field)
            if _is_network(value):
                changes[field] = value.replace(dtype=name)
            elif isinstance(value, Mapping) and any(_is_network(v) for v in value.values()):
                changes[field] = {
                    key: item.replace(dtype=name) if _is_network(item) else item
                    for key, item in value.items()
                }
        return self.replace(**changes)

    @property
    def data_layout(self) -> ImageLayout | None:
        """The layout of the real images the discriminator takes (None: flat data)."""
        raise NotImplementedError
