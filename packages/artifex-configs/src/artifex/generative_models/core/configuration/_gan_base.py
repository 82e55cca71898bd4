"""The abstract base of every GAN config: the objective and the optimizer settings."""

from artifex.generative_models.core.configuration._fields import (
    LossType,
    check_non_negative,
    check_positive,
    check_range,
)
from artifex.generative_models.core.configuration.base import ConfigBase, config_dataclass
from artifex.generative_models.core.configuration.layout import ImageLayout

__all__ = ["BaseGANConfig", "describe_shape"]


def describe_shape(shape: tuple[int, ...] | None, layout: ImageLayout | None) -> str:
    """A shape for error messages, with its data format when it is an image."""
    return f"{shape!r} ({layout.data_format})" if layout is not None else repr(shape)


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

    @property
    def data_layout(self) -> ImageLayout | None:
        """The layout of the real images the discriminator takes (None: flat data)."""
        raise NotImplementedError
