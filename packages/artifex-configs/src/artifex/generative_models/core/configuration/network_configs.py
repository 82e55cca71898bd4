"""Configs of generator and discriminator networks.

The classes form one tree, so a field means the same thing everywhere::

    NetworkConfig (abstract)
    ├── GeneratorConfig                     MLP generator (latent -> sample)
    │   └── ConvGeneratorConfig             transposed-conv generator (DCGAN, WGAN, LSGAN)
    │       └── ConditionalGeneratorConfig  + class conditioning
    ├── DiscriminatorConfig                 MLP discriminator (sample -> score)
    │   └── ConvDiscriminatorConfig         strided-conv discriminator / critic
    │       ├── ConditionalDiscriminatorConfig
    │       └── PatchGANDiscriminatorConfig
    │           └── MultiScalePatchGANDiscriminatorConfig
    └── CycleGANGeneratorConfig             ResNet image-to-image generator

The StyleGAN and Progressive GAN network configs live in ``stylegan_configs`` and
``progressive_configs`` and are re-exported here.

Shapes follow the image-layout rule of :mod:`.layout`: ``(H, W, C)`` is NHWC,
``(C, H, W)`` is NCHW, ``data_format`` settles ambiguous shapes. A 4-entry shape with a
leading 1, ``(1, C, H, W)``, is read as a batch of one and stored without the 1. MLP
networks also take flat shapes such as ``(784,)``.
"""

from typing import ClassVar, Self

from artifex.generative_models.core.configuration._fields import (
    ACTIVATIONS,
    DTYPES,
    LOSS_TYPES,
    SCORE_TYPES,
    DtypeName,
    Padding,
    ScoreType,
    activation_name,
    check_non_negative,
    check_positive,
    check_positive_entries,
    check_range,
    check_shape,
    dtype_name,
    padding_mode,
    pair,
    resolve_score_type,
    sample_shape,
)
from artifex.generative_models.core.configuration.base import (
    ConfigBase,
    config_dataclass,
    config_field,
)
from artifex.generative_models.core.configuration.layout import (
    DataFormat,
    ImageLayout,
    resolve_image_layout,
)
from artifex.generative_models.core.configuration.progressive_configs import (
    ProgressiveDiscriminatorConfig,
    ProgressiveGeneratorConfig,
)
from artifex.generative_models.core.configuration.stylegan_configs import StyleGANGeneratorConfig

__all__ = [
    "ACTIVATIONS",
    "DTYPES",
    "LOSS_TYPES",
    "SCORE_TYPES",
    "ConditionalDiscriminatorConfig",
    "ConditionalGeneratorConfig",
    "ConditionalParams",
    "ConvDiscriminatorConfig",
    "ConvGeneratorConfig",
    "CycleGANGeneratorConfig",
    "DiscriminatorConfig",
    "GeneratorConfig",
    "MultiScalePatchGANDiscriminatorConfig",
    "NetworkConfig",
    "PatchGANDiscriminatorConfig",
    "ProgressiveDiscriminatorConfig",
    "ProgressiveGeneratorConfig",
    "StyleGANGeneratorConfig",
]


def _layout(config: "NetworkConfig", name: str) -> ImageLayout | None:
    """Resolve the layout of the shape field ``name``; None for flat or missing shapes."""
    shape = getattr(config, name)
    data_format = config.data_format
    if shape is None:
        return None
    if len(shape) != 3:
        if data_format != "auto":
            config._fail("data_format", f"applies to image shapes, but {name}={shape!r} is flat")
        return None
    return resolve_image_layout(shape, data_format, name=f"{type(config).__name__}.{name}")


def _require_image(config: ConfigBase, name: str) -> None:
    shape = getattr(config, name)
    if shape is not None and len(shape) != 3:
        config._fail(name, "a convolutional network needs an image shape (H, W, C) or (C, H, W)")


def _check_conv(config: "ConvGeneratorConfig | ConvDiscriminatorConfig") -> None:
    check_positive_entries(config, "kernel_size")
    check_positive_entries(config, "stride")
    padding = config.padding
    if isinstance(padding, int) and padding < 0:
        config._fail("padding", "must be 'SAME', 'VALID' or an int >= 0")


@config_dataclass(abstract=True)
class NetworkConfig(ConfigBase):
    """Fields every generator and discriminator shares (abstract).

    Attributes:
        name: A name for the network (used in logs and checkpoints).
        hidden_dims: Hidden widths (MLP) or channel counts (conv), first layer first.
        activation: Hidden activation, one of ``ACTIVATIONS``; a function such as
            ``jax.nn.relu`` is accepted and stored by name.
        leaky_relu_slope: Negative slope when ``activation="leaky_relu"``; in [0, 1).
        batch_norm: Batch normalization after hidden layers.
        use_instance_norm: Instance normalization after hidden layers (not with
            ``batch_norm``).
        use_spectral_norm: Spectral normalization of the weights.
        dropout_rate: Dropout probability after hidden layers; in [0, 1).
        data_format: ``"auto"``, ``"NHWC"`` or ``"NCHW"``: the layout of the image arrays
            the network takes or returns (see :mod:`.layout`).
        dtype: The compute dtype of activations, matmuls and convolutions, one of
            ``DTYPES`` (``"float32"``, ``"bfloat16"``, ``"float16"``); a dtype object such
            as ``jnp.bfloat16`` is stored by name. Normalization statistics stay float32.
        param_dtype: The storage dtype of the parameters, one of ``DTYPES``; parameters
            are cast to ``dtype`` where they are used. Keep ``"float32"`` for training
            (bf16 parameters lose Adam's small updates).
    """

    name: str = "network"
    hidden_dims: tuple[int, ...]
    activation: str = config_field(default="relu", convert=activation_name)
    leaky_relu_slope: float = 0.2
    batch_norm: bool = False
    use_instance_norm: bool = False
    use_spectral_norm: bool = False
    dropout_rate: float = 0.0
    data_format: DataFormat = "auto"
    dtype: DtypeName = config_field(default="float32", convert=dtype_name)
    param_dtype: DtypeName = config_field(default="float32", convert=dtype_name)

    def _validate(self) -> None:
        super()._validate()
        check_positive_entries(self, "hidden_dims")
        check_range(self, "leaky_relu_slope", 0, 1)
        check_range(self, "dropout_rate", 0, 1)
        if self.batch_norm and self.use_instance_norm:
            self._fail("use_instance_norm", "cannot be combined with batch_norm=True; pick one")


@config_dataclass
class GeneratorConfig(NetworkConfig):
    """An MLP generator: a latent vector in, one sample of ``output_shape`` out.

    Example (seed 000)::

        GeneratorConfig(name="simple_generator", hidden_dims=(256, 512),
                        output_shape=(28, 28, 1), latent_dim=100, activation="relu",
                        batch_norm=True, dropout_rate=0.0)

    Attributes:
        name: Defaults to ``"generator"``.
        latent_dim: Size of the latent vector; >= 1.
        output_shape: Shape of one sample: ``(N,)``, ``(H, W, C)`` or ``(C, H, W)``;
            ``(1, C, H, W)`` is stored as ``(C, H, W)``.
        output_activation: Activation of the output layer (``"tanh"`` for data in
            [-1, 1]).
        activation: Defaults to ``"relu"``.
        batch_norm: Defaults to True.
        hidden_dims: See :class:`NetworkConfig`.
        leaky_relu_slope: See :class:`NetworkConfig`.
        use_instance_norm: See :class:`NetworkConfig`.
        use_spectral_norm: See :class:`NetworkConfig`.
        dropout_rate: See :class:`NetworkConfig`.
        data_format: See :class:`NetworkConfig`.
        dtype: See :class:`NetworkConfig`.
        param_dtype: See :class:`NetworkConfig`.
    """

    name: str = "generator"
    latent_dim: int = 100
    output_shape: tuple[int, ...] = config_field(convert=sample_shape)
    output_activation: str = config_field(default="tanh", convert=activation_name)
    batch_norm: bool = True

    def _validate(self) -> None:
        super()._validate()
        check_positive(self, "latent_dim")
        check_shape(self, "output_shape")
        _layout(self, "output_shape")

    @property
    def output_layout(self) -> ImageLayout | None:
        """The layout of the generated images, or None for a flat ``output_shape``."""
        return _layout(self, "output_shape")


@config_dataclass
class DiscriminatorConfig(NetworkConfig):
    """An MLP discriminator: one sample of ``input_shape`` in, one score out.

    Example (seed 000)::

        DiscriminatorConfig(name="simple_discriminator", input_shape=(28, 28, 1),
                            hidden_dims=(512, 256), activation="leaky_relu",
                            batch_norm=False, dropout_rate=0.3)

    Attributes:
        name: Defaults to ``"discriminator"``.
        input_shape: Shape of one sample, or None: a GAN config then takes the
            generator's ``output_shape`` (and a lone network sizes itself lazily).
        score_type: ``"probabilities"``, ``"logits"`` or ``"auto"``: under a GAN, auto
            means probabilities for the vanilla loss and logits otherwise; alone it
            means ``STANDALONE_SCORE_TYPE``. Losses are always computed from logits.
        activation: Defaults to ``"leaky_relu"``.
        dropout_rate: Defaults to 0.3.
        hidden_dims: See :class:`NetworkConfig`.
        leaky_relu_slope: See :class:`NetworkConfig`.
        batch_norm: See :class:`NetworkConfig`.
        use_instance_norm: See :class:`NetworkConfig`.
        use_spectral_norm: See :class:`NetworkConfig`.
        data_format: See :class:`NetworkConfig`.
        dtype: See :class:`NetworkConfig`.
        param_dtype: See :class:`NetworkConfig`.
    """

    STANDALONE_SCORE_TYPE: ClassVar[str] = "probabilities"

    name: str = "discriminator"
    input_shape: tuple[int, ...] | None = config_field(default=None, convert=sample_shape)
    activation: str = config_field(default="leaky_relu", convert=activation_name)
    dropout_rate: float = 0.3
    score_type: ScoreType = "auto"

    def _validate(self) -> None:
        super()._validate()
        if self.input_shape is not None:
            check_shape(self, "input_shape")
        _layout(self, "input_shape")

    @property
    def input_layout(self) -> ImageLayout | None:
        """The layout of the images taken, or None for a flat or unknown ``input_shape``."""
        return _layout(self, "input_shape")

    def resolved_score_type(self, loss_type: str | None = None) -> str:
        """``"probabilities"`` or ``"logits"``: what a call returns under ``loss_type``."""
        return resolve_score_type(self.score_type, loss_type, self.STANDALONE_SCORE_TYPE)


@config_dataclass
class ConvGeneratorConfig(GeneratorConfig):
    """A transposed-convolution generator (DCGAN style) making images.

    ``hidden_dims`` are the channel counts of the feature maps, widest first; the latent
    vector is projected to the first one and each later one follows an upsampling
    transposed convolution.

    Example (seed 000)::

        ConvGeneratorConfig(name="dcgan_generator", latent_dim=100,
                            hidden_dims=(512, 256, 128, 64), output_shape=(64, 64, 3),
                            activation="relu", batch_norm=True, kernel_size=(4, 4),
                            stride=(2, 2), padding="SAME")

    Attributes:
        kernel_size: Convolution kernel ``(kh, kw)``; an int ``k`` means ``(k, k)``.
        stride: Upsampling stride ``(sh, sw)``; an int ``s`` means ``(s, s)``.
        padding: ``"SAME"``, ``"VALID"`` or an int >= 0.
        output_shape: Must be an image shape.
        name: See :class:`GeneratorConfig`.
        latent_dim: See :class:`GeneratorConfig`.
        output_activation: See :class:`GeneratorConfig`.
        hidden_dims: See :class:`GeneratorConfig`.
        activation: See :class:`GeneratorConfig`.
        leaky_relu_slope: See :class:`GeneratorConfig`.
        batch_norm: See :class:`GeneratorConfig`.
        use_instance_norm: See :class:`GeneratorConfig`.
        use_spectral_norm: See :class:`GeneratorConfig`.
        dropout_rate: See :class:`GeneratorConfig`.
        data_format: See :class:`GeneratorConfig`.
        dtype: See :class:`GeneratorConfig`.
        param_dtype: See :class:`GeneratorConfig`.
    """

    kernel_size: tuple[int, int] = config_field(default=(4, 4), convert=pair)
    stride: tuple[int, int] = config_field(default=(2, 2), convert=pair)
    padding: Padding = config_field(default="SAME", convert=padding_mode)

    def _validate(self) -> None:
        super()._validate()
        _require_image(self, "output_shape")
        _check_conv(self)


@config_dataclass
class ConvDiscriminatorConfig(DiscriminatorConfig):
    """A strided-convolution discriminator or critic (DCGAN, WGAN, LSGAN).

    ``hidden_dims`` are the channel counts after each strided convolution, narrowest
    first; a final dense layer gives one score per sample.

    Example (seed 000)::

        ConvDiscriminatorConfig(name="wgan_critic", hidden_dims=(64, 128, 256, 512),
                                input_shape=(3, 64, 64), activation="leaky_relu",
                                kernel_size=(4, 4), stride=(2, 2), padding="SAME",
                                use_instance_norm=True)

    Attributes:
        kernel_size: Convolution kernel ``(kh, kw)``; an int ``k`` means ``(k, k)``.
        stride: Downsampling stride ``(sh, sw)``; an int ``s`` means ``(s, s)``.
        padding: ``"SAME"``, ``"VALID"`` or an int >= 0.
        dropout_rate: Defaults to 0.0.
        input_shape: Must be an image shape (or None).
        name: See :class:`DiscriminatorConfig`.
        score_type: See :class:`DiscriminatorConfig`.
        hidden_dims: See :class:`DiscriminatorConfig`.
        activation: See :class:`DiscriminatorConfig`.
        leaky_relu_slope: See :class:`DiscriminatorConfig`.
        batch_norm: See :class:`DiscriminatorConfig`.
        use_instance_norm: See :class:`DiscriminatorConfig`.
        use_spectral_norm: See :class:`DiscriminatorConfig`.
        data_format: See :class:`DiscriminatorConfig`.
        dtype: See :class:`DiscriminatorConfig`.
        param_dtype: See :class:`DiscriminatorConfig`.
    """

    kernel_size: tuple[int, int] = config_field(default=(4, 4), convert=pair)
    stride: tuple[int, int] = config_field(default=(2, 2), convert=pair)
    padding: Padding = config_field(default="SAME", convert=padding_mode)
    dropout_rate: float = 0.0

    def _validate(self) -> None:
        super()._validate()
        _require_image(self, "input_shape")
        _check_conv(self)


@config_dataclass
class ConditionalParams(ConfigBase):
    """How a conditional network sees class labels.

    Labels may be given as integer class indices ``(B,)`` or one-hot rows
    ``(B, num_classes)``; both are embedded into ``embedding_dim`` features.

    Attributes:
        num_classes: Number of classes; >= 2.
        embedding_dim: Size of the label embedding; >= 1.
    """

    num_classes: int
    embedding_dim: int = 50

    def _validate(self) -> None:
        super()._validate()
        if self.num_classes < 2:
            self._fail("num_classes", "a conditional model needs at least 2 classes")
        check_positive(self, "embedding_dim")


@config_dataclass
class ConditionalGeneratorConfig(ConvGeneratorConfig):
    """A convolutional generator conditioned on class labels.

    Attributes:
        conditional: The label parameters, shared with the discriminator.
        name: See :class:`ConvGeneratorConfig`.
        latent_dim: See :class:`ConvGeneratorConfig`.
        output_shape: See :class:`ConvGeneratorConfig`.
        output_activation: See :class:`ConvGeneratorConfig`.
        kernel_size: See :class:`ConvGeneratorConfig`.
        stride: See :class:`ConvGeneratorConfig`.
        padding: See :class:`ConvGeneratorConfig`.
        hidden_dims: See :class:`ConvGeneratorConfig`.
        activation: See :class:`ConvGeneratorConfig`.
        leaky_relu_slope: See :class:`ConvGeneratorConfig`.
        batch_norm: See :class:`ConvGeneratorConfig`.
        use_instance_norm: See :class:`ConvGeneratorConfig`.
        use_spectral_norm: See :class:`ConvGeneratorConfig`.
        dropout_rate: See :class:`ConvGeneratorConfig`.
        data_format: See :class:`ConvGeneratorConfig`.
        dtype: See :class:`ConvGeneratorConfig`.
        param_dtype: See :class:`ConvGeneratorConfig`.
    """

    conditional: ConditionalParams


@config_dataclass
class ConditionalDiscriminatorConfig(ConvDiscriminatorConfig):
    """A convolutional discriminator conditioned on class labels.

    Attributes:
        conditional: The label parameters, shared with the generator.
        name: See :class:`ConvDiscriminatorConfig`.
        input_shape: See :class:`ConvDiscriminatorConfig`.
        score_type: See :class:`ConvDiscriminatorConfig`.
        kernel_size: See :class:`ConvDiscriminatorConfig`.
        stride: See :class:`ConvDiscriminatorConfig`.
        padding: See :class:`ConvDiscriminatorConfig`.
        hidden_dims: See :class:`ConvDiscriminatorConfig`.
        activation: See :class:`ConvDiscriminatorConfig`.
        leaky_relu_slope: See :class:`ConvDiscriminatorConfig`.
        batch_norm: See :class:`ConvDiscriminatorConfig`.
        use_instance_norm: See :class:`ConvDiscriminatorConfig`.
        use_spectral_norm: See :class:`ConvDiscriminatorConfig`.
        dropout_rate: See :class:`ConvDiscriminatorConfig`.
        data_format: See :class:`ConvDiscriminatorConfig`.
        dtype: See :class:`ConvDiscriminatorConfig`.
        param_dtype: See :class:`ConvDiscriminatorConfig`.
    """

    conditional: ConditionalParams


@config_dataclass
class PatchGANDiscriminatorConfig(ConvDiscriminatorConfig):
    """A PatchGAN discriminator: one score per overlapping image patch.

    The two documents disagree on what a call returns, so it is a field: seed 000
    (config style) gets the list of intermediate feature maps with the final patch
    scores last (``return_features=True``, the default here); seed 003's keyword
    constructor passes ``return_features=False`` and gets the patch-score array alone.

    Attributes:
        return_features: Return ``[features..., scores]`` instead of ``scores``.
        use_instance_norm: Defaults to True.
        score_type: ``"auto"`` alone means logits (``STANDALONE_SCORE_TYPE``).
        name: See :class:`ConvDiscriminatorConfig`.
        input_shape: See :class:`ConvDiscriminatorConfig`.
        kernel_size: See :class:`ConvDiscriminatorConfig`.
        stride: See :class:`ConvDiscriminatorConfig`.
        padding: See :class:`ConvDiscriminatorConfig`.
        hidden_dims: See :class:`ConvDiscriminatorConfig`.
        activation: See :class:`ConvDiscriminatorConfig`.
        leaky_relu_slope: See :class:`ConvDiscriminatorConfig`.
        batch_norm: See :class:`ConvDiscriminatorConfig`.
        use_spectral_norm: See :class:`ConvDiscriminatorConfig`.
        dropout_rate: See :class:`ConvDiscriminatorConfig`.
        data_format: See :class:`ConvDiscriminatorConfig`.
        dtype: See :class:`ConvDiscriminatorConfig`.
        param_dtype: See :class:`ConvDiscriminatorConfig`.
    """

    STANDALONE_SCORE_TYPE: ClassVar[str] = "logits"

    use_instance_norm: bool = True
    return_features: bool = True


@config_dataclass
class MultiScalePatchGANDiscriminatorConfig(PatchGANDiscriminatorConfig):
    """PatchGAN discriminators applied to the image at ``num_scales`` resolutions.

    Scale ``i`` sees the image average-pooled ``i`` times by 2. With
    ``return_features=True`` a call returns ``(outputs_per_scale, features_per_scale)``;
    with False, the list of patch-score arrays.

    Attributes:
        num_scales: Number of scales; >= 1.
        name: See :class:`PatchGANDiscriminatorConfig`.
        input_shape: See :class:`PatchGANDiscriminatorConfig`.
        return_features: See :class:`PatchGANDiscriminatorConfig`.
        score_type: See :class:`PatchGANDiscriminatorConfig`.
        kernel_size: See :class:`PatchGANDiscriminatorConfig`.
        stride: See :class:`PatchGANDiscriminatorConfig`.
        padding: See :class:`PatchGANDiscriminatorConfig`.
        hidden_dims: See :class:`PatchGANDiscriminatorConfig`.
        activation: See :class:`PatchGANDiscriminatorConfig`.
        leaky_relu_slope: See :class:`PatchGANDiscriminatorConfig`.
        batch_norm: See :class:`PatchGANDiscriminatorConfig`.
        use_instance_norm: See :class:`PatchGANDiscriminatorConfig`.
        use_spectral_norm: See :class:`PatchGANDiscriminatorConfig`.
        dropout_rate: See :class:`PatchGANDiscriminatorConfig`.
        data_format: See :class:`PatchGANDiscriminatorConfig`.
        dtype: See :class:`PatchGANDiscriminatorConfig`.
        param_dtype: See :class:`PatchGANDiscriminatorConfig`.
    """

    num_scales: int = 3

    def _validate(self) -> None:
        super()._validate()
        check_positive(self, "num_scales")

    @classmethod
    def from_patch_config(cls, config: PatchGANDiscriminatorConfig, num_scales: int = 3) -> Self:
        """The multi-scale version of a single-scale PatchGAN config."""
        fields = {name: getattr(config, name) for name in PatchGANDiscriminatorConfig.field_names()}
        return cls(**fields, num_scales=num_scales)


@config_dataclass
class CycleGANGeneratorConfig(NetworkConfig):
    """A ResNet image-to-image generator (CycleGAN): an image in, an image out.

    ``hidden_dims`` are the channels of the first convolution and of each stride-2
    downsampling after it (``len(hidden_dims) - 1`` downsamplings, mirrored by as many
    upsamplings); ``n_residual_blocks`` residual blocks run at the smallest size.

    Attributes:
        name: Defaults to ``"generator"``.
        latent_dim: Must be 0: the generator takes no latent vector (seed 000 writes it).
        input_shape: Image shape taken.
        output_shape: Image shape made; same height and width as ``input_shape``.
        n_residual_blocks: Residual blocks at the bottleneck; >= 0.
        edge_kernel_size: Kernel size of the first and last convolutions; odd, >= 1.
            The paper's 7 sees a 7x7 neighbourhood at both ends; on tiny images (8x8)
            that is the whole image, so a smaller kernel (with fewer downsamplings)
            keeps the translation local.
        use_reflection_padding: Reflection padding instead of zero padding.
        use_instance_norm: Defaults to True.
        output_activation: Defaults to ``"tanh"``.
        hidden_dims: See :class:`NetworkConfig` (``data_format`` applies to both shapes).
        activation: See :class:`NetworkConfig` (``data_format`` applies to both shapes).
        leaky_relu_slope: See :class:`NetworkConfig` (``data_format`` applies to both shapes).
        batch_norm: See :class:`NetworkConfig` (``data_format`` applies to both shapes).
        use_spectral_norm: See :class:`NetworkConfig` (``data_format`` applies to both shapes).
        dropout_rate: See :class:`NetworkConfig` (``data_format`` applies to both shapes).
        data_format: See :class:`NetworkConfig` (``data_format`` applies to both shapes).
        dtype: See :class:`NetworkConfig`.
        param_dtype: See :class:`NetworkConfig`.
    """

    name: str = "generator"
    latent_dim: int = 0
    input_shape: tuple[int, ...] = config_field(convert=sample_shape)
    output_shape: tuple[int, ...] = config_field(convert=sample_shape)
    n_residual_blocks: int = 9
    edge_kernel_size: int = 7
    use_reflection_padding: bool = True
    use_instance_norm: bool = True
    output_activation: str = config_field(default="tanh", convert=activation_name)

    def _validate(self) -> None:
        super()._validate()
        if self.latent_dim != 0:
            self._fail("latent_dim", "a CycleGAN generator takes no latent vector; must be 0")
        check_non_negative(self, "n_residual_blocks")
        if self.edge_kernel_size < 1 or self.edge_kernel_size % 2 == 0:
            # An even kernel has no centre pixel: the image would shift by half a pixel.
            self._fail("edge_kernel_size", "must be an odd integer >= 1 (e.g. 7, 3 or 1)")
        for name in ("input_shape", "output_shape"):
            check_shape(self, name)
            _require_image(self, name)
        source, target = self.input_layout, self.output_layout
        if (source.height, source.width) != (target.height, target.width):
            self._fail(
                "output_shape",
                f"must keep the input's height and width {(source.height, source.width)} "
                f"(input_shape={self.input_shape!r})",
            )

    @property
    def input_layout(self) -> ImageLayout:
        """The layout of the images taken."""
        name = "CycleGANGeneratorConfig.input_shape"
        return resolve_image_layout(self.input_shape, self.data_format, name=name)

    @property
    def output_layout(self) -> ImageLayout:
        """The layout of the images made."""
        name = "CycleGANGeneratorConfig.output_shape"
        return resolve_image_layout(self.output_shape, self.data_format, name=name)
