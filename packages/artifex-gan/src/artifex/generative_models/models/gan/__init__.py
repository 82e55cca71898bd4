"""The GAN model families and the public facade ``artifex.generative_models.models.gan``.

Models (this package):

- :class:`GAN` (any generator/discriminator pair of a ``GANConfig``), :class:`DCGAN`,
  :class:`WGAN`, :class:`LSGAN`, :class:`ConditionalGAN`, :class:`CycleGAN`,
  :class:`StyleGAN`, :class:`ProgressiveGAN`;
- :func:`compute_gradient_penalty` (WGAN-GP);
- each family's training rules (``model.training_rules()``: :class:`LatentRules`,
  :class:`ConditionalRules`, :class:`StyleRules`, :class:`ProgressiveRules`,
  :class:`CycleRules`, all :class:`TrainingRules`), the :class:`Objective` they share,
  :func:`functional_critic`, and :func:`build_model` (the model of any family config);
- augmentation of the discriminator's images (``augment``): :class:`Augment`,
  :func:`diff_augment`, :func:`ada_augment`, :func:`mirror`;
- latent-space utilities: :func:`linear_interpolation`, :func:`spherical_interpolation`,
  :func:`interpolate_latents`, :func:`interpolate`, :func:`explore_latent_dimension`,
  :func:`generate_by_class`, :func:`generate_class_grid`.

Networks (re-exported from ``artifex.generative_models.nets``): :class:`Generator`,
:class:`Discriminator`, :class:`DCGANGenerator`, :class:`DCGANDiscriminator`,
:class:`WGANGenerator`, :class:`WGANDiscriminator`, :class:`LSGANGenerator`,
:class:`LSGANDiscriminator`, :class:`ConditionalGenerator`,
:class:`ConditionalDiscriminator`, :class:`CycleGANGenerator`,
:class:`CycleGANDiscriminator`, :class:`PatchGANDiscriminator`,
:class:`MultiScalePatchGANDiscriminator`, :class:`StyleGANGenerator`,
:class:`StyleGANDiscriminator`, :class:`MappingNetwork`, :class:`StyleConvBlock`,
:class:`ProgressiveGenerator`, :class:`ProgressiveDiscriminator`,
:class:`ProgressiveConvBlock`.
"""

from artifex.generative_models.models.gan._build import build_model, model_class_for
from artifex.generative_models.models.gan._rules import (
    LatentRules,
    Objective,
    TrainingRules,
    functional_critic,
    warn_if_penalty_meets_batch_norm,
)
from artifex.generative_models.models.gan.augment import (
    Augment,
    ada_augment,
    diff_augment,
    mirror,
)
from artifex.generative_models.models.gan.base import GAN
from artifex.generative_models.models.gan.biggan import BigGAN, BigGANRules
from artifex.generative_models.models.gan.conditional import ConditionalGAN, ConditionalRules
from artifex.generative_models.models.gan.cyclegan import CycleGAN, CycleRules, Pair
from artifex.generative_models.models.gan.dcgan import DCGAN
from artifex.generative_models.models.gan.latent import (
    explore_latent_dimension,
    generate_by_class,
    generate_class_grid,
    interpolate,
    interpolate_latents,
    linear_interpolation,
    spherical_interpolation,
)
from artifex.generative_models.models.gan.lsgan import LSGAN
from artifex.generative_models.models.gan.progressive import ProgressiveGAN, ProgressiveRules
from artifex.generative_models.models.gan.stylegan import StyleGAN, StyleRules
from artifex.generative_models.models.gan.stylegan2 import StyleGAN2, StyleGAN2Rules
from artifex.generative_models.models.gan.wgan import WGAN, compute_gradient_penalty
from artifex.generative_models.nets.biggan import BigGANDiscriminator, BigGANGenerator
from artifex.generative_models.nets.conditional import (
    ConditionalDiscriminator,
    ConditionalGenerator,
)
from artifex.generative_models.nets.cyclegan import CycleGANGenerator
from artifex.generative_models.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from artifex.generative_models.nets.lsgan import LSGANDiscriminator, LSGANGenerator
from artifex.generative_models.nets.mlp import Discriminator, Generator
from artifex.generative_models.nets.patchgan import (
    CycleGANDiscriminator,
    MultiScalePatchGANDiscriminator,
    PatchGANDiscriminator,
)
from artifex.generative_models.nets.progressive import (
    ProgressiveConvBlock,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
)
from artifex.generative_models.nets.stylegan import (
    MappingNetwork,
    StyleConvBlock,
    StyleGANDiscriminator,
    StyleGANGenerator,
)
from artifex.generative_models.nets.wgan import WGANDiscriminator, WGANGenerator

__version__ = "0.1.0"

__all__ = [
    "DCGAN",
    "GAN",
    "LSGAN",
    "WGAN",
    "Augment",
    "BigGAN",
    "BigGANDiscriminator",
    "BigGANGenerator",
    "BigGANRules",
    "ConditionalDiscriminator",
    "ConditionalGAN",
    "ConditionalGenerator",
    "ConditionalRules",
    "CycleGAN",
    "CycleGANDiscriminator",
    "CycleGANGenerator",
    "CycleRules",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "Discriminator",
    "Generator",
    "LSGANDiscriminator",
    "LSGANGenerator",
    "LatentRules",
    "MappingNetwork",
    "MultiScalePatchGANDiscriminator",
    "Objective",
    "Pair",
    "PatchGANDiscriminator",
    "ProgressiveConvBlock",
    "ProgressiveDiscriminator",
    "ProgressiveGAN",
    "ProgressiveGenerator",
    "ProgressiveRules",
    "StyleConvBlock",
    "StyleGAN",
    "StyleGAN2",
    "StyleGAN2Rules",
    "StyleGANDiscriminator",
    "StyleGANGenerator",
    "StyleRules",
    "TrainingRules",
    "WGANDiscriminator",
    "WGANGenerator",
    "__version__",
    "ada_augment",
    "build_model",
    "compute_gradient_penalty",
    "diff_augment",
    "explore_latent_dimension",
    "functional_critic",
    "generate_by_class",
    "generate_class_grid",
    "interpolate",
    "interpolate_latents",
    "linear_interpolation",
    "mirror",
    "model_class_for",
    "spherical_interpolation",
    "warn_if_penalty_meets_batch_norm",
]
