"""The legacy ``ModelConfig`` of seed 003 and its translation into typed GAN configs.

Seed 003 builds WGAN, LSGAN and ConditionalGAN from::

    ModelConfig(input_dim=100, output_dim=(3, 64, 64), hidden_dims=None,
                metadata={"gan_params": {"gen_hidden_dims": (1024, 512, 256), ...}})

Translation rules (:meth:`ModelConfig.to_gan_config`):

* ``input_dim`` is the generator's ``latent_dim``.
* ``output_dim`` is the sample shape: an int ``n`` means ``(n,)``; a 3-tuple is
  channels-first ``(C, H, W)`` (``data_format="NCHW"``), as everywhere in seed 003; the
  discriminator takes the same shape.
* Generator widths: ``gan_params["gen_hidden_dims"]``, else ``hidden_dims``, else the
  family default. Discriminator widths: ``gan_params["disc_hidden_dims"]`` (or its alias
  ``"discriminator_features"``), else ``hidden_dims`` reversed, else the family default.
* Other network settings are the family's keyword defaults (``family_defaults``).
* ``loss_type``, ``generator_lr``, ``discriminator_lr``, ``beta1``, ``beta2``,
  ``gradient_penalty_weight`` go to the GAN config; ``critic_iterations`` and
  ``use_gradient_penalty`` (WGAN only); ``num_classes`` (required) and ``embedding_dim``
  become the ``ConditionalParams`` of both networks (conditional only).
"""

from collections.abc import Mapping
from typing import Any

from artifex.generative_models.core.configuration._families import family_defaults
from artifex.generative_models.core.configuration._fields import (
    check_positive,
    check_positive_entries,
    check_shape,
    sample_shape,
)
from artifex.generative_models.core.configuration.base import (
    ConfigBase,
    config_dataclass,
    config_field,
)
from artifex.generative_models.core.configuration.gan_config import GANConfig
from artifex.generative_models.core.configuration.network_configs import ConditionalParams

__all__ = ["GAN_PARAMS_KEYS", "ModelConfig"]

_COMMON_KEYS = (
    "gen_hidden_dims",
    "disc_hidden_dims",
    "discriminator_features",
    "loss_type",
    "generator_lr",
    "discriminator_lr",
    "beta1",
    "beta2",
    "gradient_penalty_weight",
)
_FAMILY_KEYS = {
    "critic_iterations": ("wgan",),
    "use_gradient_penalty": ("wgan",),
    "num_classes": ("conditional",),
    "embedding_dim": ("conditional",),
}
#: Every key ``metadata["gan_params"]`` may hold.
GAN_PARAMS_KEYS: tuple[str, ...] = (*_COMMON_KEYS, *_FAMILY_KEYS)


@config_dataclass(kw_only=False)
class ModelConfig(ConfigBase):
    """The legacy model config of seed 003 (positional or keyword arguments).

    Attributes:
        input_dim: Latent size of the generator; >= 1.
        output_dim: Sample shape: an int ``n`` (flat ``(n,)``) or a channels-first
            ``(C, H, W)`` image shape (``(1, C, H, W)`` is stored as ``(C, H, W)``).
        hidden_dims: Generator widths (the discriminator's reversed) when ``gan_params``
            does not give them.
        metadata: Free-form metadata; its ``"gan_params"`` mapping holds GAN settings,
            whose keys must be among ``GAN_PARAMS_KEYS``.
        name: Name of the translated GAN config; None for the family's default.
    """

    input_dim: int
    output_dim: int | tuple[int, ...] = config_field(convert=sample_shape)
    hidden_dims: tuple[int, ...] | None = None
    metadata: Mapping[str, Any] = config_field(default_factory=dict)
    name: str | None = None

    def _validate(self) -> None:
        super()._validate()
        check_positive(self, "input_dim")
        if isinstance(self.output_dim, int):
            check_positive(self, "output_dim")
        else:
            check_shape(self, "output_dim")
        if self.hidden_dims is not None:
            check_positive_entries(self, "hidden_dims")
        params = self.metadata.get("gan_params", {})
        if not isinstance(params, Mapping):
            self._fail("metadata", "metadata['gan_params'] must be a mapping", TypeError)
        for key in params:
            if key not in GAN_PARAMS_KEYS:
                raise ValueError(
                    f"ModelConfig.metadata['gan_params'] has unknown key {key!r}; "
                    f"known keys: {', '.join(GAN_PARAMS_KEYS)}"
                )
        if "disc_hidden_dims" in params and "discriminator_features" in params:
            raise ValueError(
                "ModelConfig.metadata['gan_params'] gives both 'disc_hidden_dims' and its "
                "alias 'discriminator_features'; keep one"
            )

    @property
    def gan_params(self) -> Mapping[str, Any]:
        """``metadata["gan_params"]``, or an empty mapping."""
        return self.metadata.get("gan_params", {})

    @property
    def output_shape(self) -> tuple[int, ...]:
        """``output_dim`` as a shape tuple."""
        return (self.output_dim,) if isinstance(self.output_dim, int) else self.output_dim

    def to_gan_config(self, family: str = "gan") -> GANConfig:
        """Translate into the typed config of ``family`` (see the module's rules).

        Args:
            family: ``"gan"``, ``"dcgan"``, ``"wgan"``, ``"lsgan"`` or ``"conditional"``.

        Returns:
            A ``GANConfig`` (or the family's subclass of it).

        Raises:
            ValueError: An unknown family, a ``gan_params`` key of another family, or a
                conditional family without ``num_classes``.
        """
        spec = family_defaults(family)
        params = dict(self.gan_params)
        for key in params:
            families = _FAMILY_KEYS.get(key)
            if families is not None and family not in families:
                raise ValueError(
                    f"ModelConfig.metadata['gan_params'][{key!r}] does not apply to family "
                    f"{family!r} (only to {', '.join(map(repr, families))})"
                )
        shape = self.output_shape
        data_format = "NCHW" if len(shape) == 3 else "auto"
        generator_dims = params.pop("gen_hidden_dims", None)
        if generator_dims is None:
            generator_dims = self.hidden_dims or spec.generator_defaults["hidden_dims"]
        discriminator_dims = params.pop("disc_hidden_dims", None)
        if discriminator_dims is None:
            discriminator_dims = params.pop("discriminator_features", None)
        if discriminator_dims is None:
            discriminator_dims = (
                tuple(reversed(self.hidden_dims))
                if self.hidden_dims
                else spec.discriminator_defaults["hidden_dims"]
            )
        conditional: dict[str, Any] = {}
        if family == "conditional":
            if "num_classes" not in params:
                raise ValueError(
                    "ModelConfig.metadata['gan_params'] needs 'num_classes' for family "
                    "'conditional'"
                )
            params_kwargs = {"num_classes": params.pop("num_classes")}
            if "embedding_dim" in params:
                params_kwargs["embedding_dim"] = params.pop("embedding_dim")
            conditional["conditional"] = ConditionalParams(**params_kwargs)
        generator = spec.generator(
            **{
                **spec.generator_defaults,
                "hidden_dims": generator_dims,
                "latent_dim": self.input_dim,
                "output_shape": shape,
                "data_format": data_format,
                **conditional,
            }
        )
        discriminator = spec.discriminator(
            **{
                **spec.discriminator_defaults,
                "hidden_dims": discriminator_dims,
                "input_shape": shape,
                "data_format": data_format,
                **conditional,
            }
        )
        if self.name is not None:
            params["name"] = self.name
        return spec.gan_config(generator=generator, discriminator=discriminator, **params)
