"""Configs of the class-conditional BigGAN-style family (SAGAN / BigGAN ingredients).

::

    ConditionalGeneratorConfig
    └── BigGANGeneratorConfig       conditional batch norm, self-attention, hierarchical z
    ConditionalDiscriminatorConfig
    └── BigGANDiscriminatorConfig   projection head, self-attention, sum pooling
    ConditionalGANConfig
    └── BigGANConfig                hinge loss, orthogonal regularization of G

With ``blocks="plain"`` (the default) the networks keep the convolutional ladder of the
conditional family (``hidden_dims``, ``kernel_size``, ``stride``, ``padding``); with
``blocks="residual"`` every entry of ``hidden_dims`` is one of BigGAN's residual blocks
(3x3 convolutions, x2 nearest upsampling in G, 2x2 average pooling in D, a 1x1
convolution on the skip path). Either way the label enters as in BigGAN (see
``artifex.generative_models.nets.biggan``). Spectral normalization is on by default in
both networks.

References:
    Miyato, Koyama. "cGANs with Projection Discriminator", ICLR 2018.
    Zhang, Goodfellow, Metaxas, Odena. "Self-Attention GANs", ICML 2019.
    Brock, Donahue, Simonyan. "Large Scale GAN Training for High Fidelity Natural Image
    Synthesis", ICLR 2019.
"""

from typing import Literal

from artifex.generative_models.core.configuration._fields import LossType, check_non_negative
from artifex.generative_models.core.configuration.base import config_dataclass
from artifex.generative_models.core.configuration.gan_config import ConditionalGANConfig
from artifex.generative_models.core.configuration.network_configs import (
    ConditionalDiscriminatorConfig,
    ConditionalGeneratorConfig,
)

__all__ = ["BigGANConfig", "BigGANDiscriminatorConfig", "BigGANGeneratorConfig", "BlockKind"]

#: How a BigGAN network stacks its ``hidden_dims``: the conditional family's (transposed)
#: convolution ladder, or BigGAN's residual blocks.
BlockKind = Literal["plain", "residual"]


def _check_attention(config: "BigGANGeneratorConfig | BigGANDiscriminatorConfig") -> None:
    at = config.self_attention_at
    if at is not None and at < 1:
        config._fail(
            "self_attention_at",
            "must be None (no self-attention) or the height (an int >= 1) of the feature "
            "map the attention block follows",
        )


@config_dataclass
class BigGANGeneratorConfig(ConditionalGeneratorConfig):
    """A generator with class-conditional batch norm from one shared class embedding.

    The label is embedded once (``conditional.embedding_dim`` features, the *shared
    embedding*); every normalized layer (the projection and each hidden upsampling layer)
    takes its batch-norm gains and biases from a linear map of that embedding.

    Attributes:
        batch_norm: Must be True: every hidden layer uses conditional batch norm.
        use_spectral_norm: Spectral normalization of every kernel (default True).
        self_attention_at: Height of the hidden feature map a self-attention block
            follows (a size of the planned ladder, checked when the network is built);
            None: no self-attention.
        hierarchical_latent: Split ``z`` into ``len(hidden_dims) + 1`` equal chunks: the
            first feeds the projection, each other one joins the shared embedding of one
            conditional batch norm (of one residual block, both its norms, with
            ``blocks="residual"``). ``latent_dim`` must then be divisible by the number of
            chunks.
        blocks: ``"plain"``: the projection and each later ``hidden_dims`` entry (a
            transposed convolution) are followed by conditional batch norm and the
            activation. ``"residual"``: BigGAN's up-blocks, one per ``hidden_dims`` entry
            (CBN, activation, x2 nearest upsampling, 3x3 convolution, CBN, activation, 3x3
            convolution, plus upsampling and a 1x1 convolution on the skip path), then
            batch norm, the activation and a 3x3 convolution to the image;
            ``kernel_size``, ``stride`` and ``padding`` are then unused and the output
            height and width must be divisible by ``2 ** len(hidden_dims)``.
        conditional: See :class:`ConditionalGeneratorConfig`.
        name: See :class:`ConditionalGeneratorConfig`.
        latent_dim: See :class:`ConditionalGeneratorConfig`.
        output_shape: See :class:`ConditionalGeneratorConfig`.
        output_activation: See :class:`ConditionalGeneratorConfig`.
        kernel_size: See :class:`ConditionalGeneratorConfig`.
        stride: See :class:`ConditionalGeneratorConfig`.
        padding: See :class:`ConditionalGeneratorConfig`.
        hidden_dims: See :class:`ConditionalGeneratorConfig`.
        activation: See :class:`ConditionalGeneratorConfig`.
        leaky_relu_slope: See :class:`ConditionalGeneratorConfig`.
        use_instance_norm: Must be False.
        dropout_rate: Must be 0.
        data_format: See :class:`ConditionalGeneratorConfig`.
        dtype: See :class:`ConditionalGeneratorConfig`.
        param_dtype: See :class:`ConditionalGeneratorConfig`.
    """

    name: str = "biggan_generator"
    batch_norm: bool = True
    use_spectral_norm: bool = True
    self_attention_at: int | None = None
    hierarchical_latent: bool = False
    blocks: BlockKind = "plain"

    def _validate(self) -> None:
        super()._validate()
        if not self.batch_norm:
            self._fail(
                "batch_norm",
                "must be True: a BigGAN generator normalizes every hidden layer with "
                "class-conditional batch norm",
            )
        if self.dropout_rate:
            self._fail("dropout_rate", "must be 0: a BigGAN generator has no dropout")
        _check_attention(self)
        chunks = len(self.hidden_dims) + 1
        if self.hierarchical_latent and self.latent_dim % chunks:
            self._fail(
                "latent_dim",
                f"must be divisible by {chunks} with hierarchical_latent=True: z is split "
                f"into {chunks} equal chunks (one for the projection, one for each of the "
                f"{chunks - 1} conditional batch norms)",
            )


@config_dataclass
class BigGANDiscriminatorConfig(ConditionalDiscriminatorConfig):
    """A discriminator with a projection head: ``psi(h) + <embed(y), h>``.

    ``h`` is the last feature map summed over its positions (``hidden_dims[-1]``
    features), so the class embedding has that size: ``conditional.embedding_dim`` must
    equal ``hidden_dims[-1]``.

    Attributes:
        use_spectral_norm: Spectral normalization of every kernel (default True).
        embedding_spectral_norm: Spectral normalization of the projection head's class
            embedding table as well (cGANs-proj and BigGAN normalize it). Off by default:
            the ``biggan`` preset's measured numbers were made without it.
        self_attention_at: Height of the feature map (after a strided layer or a residual
            block) a self-attention block follows; None: no self-attention.
        blocks: ``"plain"``: each ``hidden_dims`` entry is a strided convolution and the
            activation. ``"residual"``: BigGAN's down-blocks, one per entry (activation,
            3x3 convolution, activation, 3x3 convolution, 2x2 average pooling, plus a 1x1
            convolution and pooling on the skip path; the first block without the leading
            activation, SNGAN's "optimized" block), then the activation before the sum
            pooling; ``kernel_size``, ``stride`` and ``padding`` are then unused, the input
            height and width must be divisible by ``2 ** len(hidden_dims)``, and
            ``batch_norm`` and ``dropout_rate`` must stay off.
        conditional: See :class:`ConditionalDiscriminatorConfig`.
        name: See :class:`ConditionalDiscriminatorConfig`.
        input_shape: See :class:`ConditionalDiscriminatorConfig`.
        score_type: See :class:`ConditionalDiscriminatorConfig`.
        kernel_size: See :class:`ConditionalDiscriminatorConfig`.
        stride: See :class:`ConditionalDiscriminatorConfig`.
        padding: See :class:`ConditionalDiscriminatorConfig`.
        hidden_dims: See :class:`ConditionalDiscriminatorConfig`.
        activation: See :class:`ConditionalDiscriminatorConfig`.
        leaky_relu_slope: See :class:`ConditionalDiscriminatorConfig`.
        batch_norm: See :class:`ConditionalDiscriminatorConfig`.
        use_instance_norm: See :class:`ConditionalDiscriminatorConfig`.
        dropout_rate: See :class:`ConditionalDiscriminatorConfig`.
        data_format: See :class:`ConditionalDiscriminatorConfig`.
        dtype: See :class:`ConditionalDiscriminatorConfig`.
        param_dtype: See :class:`ConditionalDiscriminatorConfig`.
    """

    name: str = "biggan_discriminator"
    use_spectral_norm: bool = True
    embedding_spectral_norm: bool = False
    self_attention_at: int | None = None
    blocks: BlockKind = "plain"

    def _validate(self) -> None:
        super()._validate()
        _check_attention(self)
        if self.blocks == "residual":
            # BigGAN's down-blocks have neither; silently dropping them would train
            # another network than the config says.
            if self.batch_norm:
                self._fail(
                    "batch_norm",
                    "must be False with blocks='residual' (BigGAN's down-blocks have no batch "
                    "norm); set batch_norm=False or blocks='plain'",
                )
            if self.dropout_rate:
                self._fail(
                    "dropout_rate",
                    "must be 0 with blocks='residual' (BigGAN's down-blocks have no "
                    "dropout); set dropout_rate=0 or blocks='plain'",
                )
        width = self.hidden_dims[-1]
        if self.conditional.embedding_dim != width:
            self._fail(
                "conditional",
                f"embedding_dim={self.conditional.embedding_dim} must equal "
                f"hidden_dims[-1]={width}: the projection head takes the inner product of "
                "the class embedding with the pooled last feature map",
            )


@config_dataclass
class BigGANConfig(ConditionalGANConfig):
    """A class-conditional BigGAN-style GAN: projection D, conditional-BN G, hinge loss.

    Example::

        BigGANConfig(generator=BigGANGeneratorConfig(...),
                     discriminator=BigGANDiscriminatorConfig(...),
                     orthogonal_weight=1e-4)

    Attributes:
        generator: A :class:`BigGANGeneratorConfig`.
        discriminator: A :class:`BigGANDiscriminatorConfig` with the same
            ``conditional.num_classes``.
        loss_type: Defaults to ``"hinge"``.
        orthogonal_weight: Weight of BigGAN's orthogonal regularization of the
            generator's kernels, ``sum ||W^T W * (1 - I)||_F^2``, added to the
            generator's loss; 0 disables it (BigGAN used 1e-4); >= 0.
        name: See :class:`ConditionalGANConfig`.
        generator_lr: See :class:`ConditionalGANConfig`.
        discriminator_lr: See :class:`ConditionalGANConfig`.
        beta1: See :class:`ConditionalGANConfig`.
        beta2: See :class:`ConditionalGANConfig`.
        gradient_penalty_weight: See :class:`ConditionalGANConfig`.
        label_smoothing: See :class:`ConditionalGANConfig`.
    """

    name: str = "biggan"
    loss_type: LossType = "hinge"
    generator: BigGANGeneratorConfig
    discriminator: BigGANDiscriminatorConfig
    orthogonal_weight: float = 0.0

    def _validate(self) -> None:
        super()._validate()
        check_non_negative(self, "orthogonal_weight")
