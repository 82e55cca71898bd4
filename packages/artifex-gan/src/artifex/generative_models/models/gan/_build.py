"""The model class of each family config: one table, so nothing else asks which family."""

from __future__ import annotations

from typing import Any

from flax import nnx

from artifex.generative_models.core.configuration import (
    BaseGANConfig,
    BigGANConfig,
    ConditionalGANConfig,
    CycleGANConfig,
    DCGANConfig,
    LSGANConfig,
    ProgressiveGANConfig,
    StyleGAN2Config,
    StyleGANConfig,
    WGANConfig,
)
from artifex.generative_models.models.gan.base import GAN
from artifex.generative_models.models.gan.biggan import BigGAN
from artifex.generative_models.models.gan.conditional import ConditionalGAN
from artifex.generative_models.models.gan.cyclegan import CycleGAN
from artifex.generative_models.models.gan.dcgan import DCGAN
from artifex.generative_models.models.gan.lsgan import LSGAN
from artifex.generative_models.models.gan.progressive import ProgressiveGAN
from artifex.generative_models.models.gan.stylegan import StyleGAN
from artifex.generative_models.models.gan.stylegan2 import StyleGAN2
from artifex.generative_models.models.gan.wgan import WGAN

__all__ = ["build_model", "model_class_for"]

# Most specific config classes first: a subclass of a listed config gets its own model.
_MODELS: tuple[tuple[type, type], ...] = (
    (BigGANConfig, BigGAN),
    (ConditionalGANConfig, ConditionalGAN),
    (WGANConfig, WGAN),
    (LSGANConfig, LSGAN),
    (DCGANConfig, DCGAN),
    (StyleGANConfig, StyleGAN),
    (StyleGAN2Config, StyleGAN2),
    (ProgressiveGANConfig, ProgressiveGAN),
    (CycleGANConfig, CycleGAN),
    (BaseGANConfig, GAN),
)


def model_class_for(config: Any) -> type:
    """The model class that trains ``config`` (a typed GAN config of any family).

    Raises:
        TypeError: ``config`` is not a GAN config of ``artifex-configs``.
    """
    for config_class, model_class in _MODELS:
        if isinstance(config, config_class):
            return model_class
    raise TypeError(
        "build_model needs a GAN model config of artifex-configs (GANConfig, DCGANConfig, "
        f"WGANConfig, ..., CycleGANConfig), got {type(config).__name__}"
    )


def build_model(config: Any, *, seed: int = 0) -> Any:
    """The model of ``config``, its parameters drawn from ``seed`` (dropout: ``seed + 1``)."""
    return model_class_for(config)(config, rngs=nnx.Rngs(params=seed, dropout=seed + 1))
