"""One entry point from any construction style to the typed GAN config.

Models call ``to_typed_config(config, family)`` on whatever they were given: a typed
config (returned as it is), seed 003's legacy ``ModelConfig`` or ``DCGANConfiguration``,
self-describing plain data (a mapping with ``config_type``), or an attribute-style object
such as seed 003's ``class GANConfig: latent_dim = 100; class generator: ...``.
"""

from collections.abc import Mapping
from typing import Any

from artifex.generative_models.core.configuration._families import (
    FAMILIES,
    FamilyDefaults,
    family_defaults,
)
from artifex.generative_models.core.configuration.base import TYPE_KEY, ConfigBase, FrozenDict
from artifex.generative_models.core.configuration.gan import DCGANConfiguration
from artifex.generative_models.core.configuration.gan_config import (
    BaseGANConfig,
    ConditionalGANConfig,
    CycleGANConfig,
    DCGANConfig,
    GANConfig,
    LSGANConfig,
    ProgressiveGANConfig,
    StyleGANConfig,
    WGANConfig,
)
from artifex.generative_models.core.configuration.model_config import ModelConfig
from artifex.generative_models.core.configuration.stylegan2_config import StyleGAN2Config

__all__ = ["FAMILIES", "GAN_FAMILIES", "FamilyDefaults", "family_defaults", "to_typed_config"]

#: The typed config class each model family needs.
GAN_FAMILIES: Mapping[str, type[BaseGANConfig]] = FrozenDict(
    {
        "gan": GANConfig,
        "dcgan": DCGANConfig,
        "wgan": WGANConfig,
        "lsgan": LSGANConfig,
        "conditional": ConditionalGANConfig,
        "cyclegan": CycleGANConfig,
        "stylegan": StyleGANConfig,
        "stylegan2": StyleGAN2Config,
        "progressive": ProgressiveGANConfig,
    }
)


def to_typed_config(config: Any, family: str) -> BaseGANConfig:
    """Translate any supported config form into the typed config of ``family``.

    Rules, in order:

    * an instance of the family's class is returned unchanged;
    * a plain :class:`GANConfig` is rebuilt as the family's ``GANConfig`` subclass (its
      fields copied; the subclass validates them);
    * a ``ModelConfig`` goes through ``ModelConfig.to_gan_config(family)``;
    * a ``DCGANConfiguration`` goes through ``to_dcgan_config()`` (family ``"dcgan"``);
    * a mapping with a ``config_type`` key is read with ``ConfigBase.from_dict``;
    * any other object or mapping is read with ``from_object`` of the family's class.

    Args:
        config: The config in any supported form.
        family: One of ``GAN_FAMILIES``.

    Returns:
        An instance of ``GAN_FAMILIES[family]``.

    Raises:
        ValueError: An unknown family.
        TypeError: A config of another family or kind.
    """
    if family not in GAN_FAMILIES:
        raise ValueError(f"family={family!r}: must be one of {', '.join(map(repr, GAN_FAMILIES))}")
    target = GAN_FAMILIES[family]
    if isinstance(config, target):
        return config
    if type(config) is GANConfig and issubclass(target, GANConfig):
        return target(**{name: getattr(config, name) for name in GANConfig.field_names()})
    if isinstance(config, ModelConfig):
        return config.to_gan_config(family)
    if isinstance(config, DCGANConfiguration):
        if family != "dcgan":
            raise TypeError(f"DCGANConfiguration configures a DCGAN, not a {family!r} model")
        return config.to_dcgan_config()
    if isinstance(config, ConfigBase):
        raise TypeError(
            f"a {family!r} model needs a {target.__name__} (or a legacy config), "
            f"got {type(config).__name__}"
        )
    if isinstance(config, Mapping) and TYPE_KEY in config:
        return to_typed_config(ConfigBase.from_dict(config), family)
    if issubclass(target, GANConfig):
        return target.from_object(config)
    raise TypeError(f"a {family!r} model needs a {target.__name__}, got {type(config).__name__}")
