"""Precision chosen at build time: every family computes in its config's ``dtype``.

For each network family built with ``dtype="bfloat16"``: the parameters stay float32
(``param_dtype``), the output is bf16, every convolution and matrix product of the lowered
forward pass takes bf16 operands, and the output is close to the float32 network's with
the same parameters.
"""

import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import (
    ConditionalDiscriminatorConfig,
    ConditionalGeneratorConfig,
    ConditionalParams,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    CycleGANGeneratorConfig,
    DiscriminatorConfig,
    GeneratorConfig,
    PatchGANDiscriminatorConfig,
    ProgressiveDiscriminatorConfig,
    ProgressiveGeneratorConfig,
    StyleGANGeneratorConfig,
)
from artifex.generative_models.nets import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    ConvDiscriminator,
    ConvGenerator,
    CycleGANGenerator,
    Discriminator,
    Generator,
    PatchGANDiscriminator,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    StyleGANDiscriminator,
    StyleGANGenerator,
    compute_dtypes,
    layer_dtypes,
)
from artifex.generative_models.nets.layers import SpectralNormStat

B = 4


@pytest.fixture(scope="module", autouse=True)
def fast_random_compilation():
    # As in the other modules: partitionable threefry makes XLA:CPU compile every new
    # random-init shape slowly; these tests do not depend on the random bits.
    previous = jax.config.jax_threefry_partitionable
    jax.config.update("jax_threefry_partitionable", False)
    yield
    jax.config.update("jax_threefry_partitionable", previous)


def _normal(*shape: int) -> jax.Array:
    # A generator of its own per call: a shared one would make the inputs (and so the
    # bf16 errors) depend on which tests ran before on the same xdist worker.
    return jnp.asarray(np.random.default_rng(0).standard_normal(shape), jnp.float32)


def _images(*shape: int) -> jax.Array:
    return jnp.tanh(_normal(B, *shape))


# -- the families ---------------------------------------------------------------------
# Each case: a builder (dtype name -> module, built from one seed) and the call's inputs.
# ``stage`` (progressive) and ``alpha``, a float32 array as the training step passes it.

Builder = Callable[[str], nnx.Module]
Case = tuple[Builder, Callable[[], tuple[Any, ...]], dict[str, Any]]

LABELS = jnp.array([0, 1, 2, 1])
PARAMS = ConditionalParams(num_classes=3, embedding_dim=4)


def _progressive(cls: type, config: Any, stage: int) -> Builder:
    def build(dtype: str) -> nnx.Module:
        module = cls(config.replace(dtype=dtype), rngs=nnx.Rngs(0))
        module.set_stage(stage)
        return module

    return build


def _built(cls: type, config: Any) -> Builder:
    return lambda dtype: cls(config.replace(dtype=dtype), rngs=nnx.Rngs(0))


PROGRESSIVE_G = ProgressiveGeneratorConfig(latent_dim=4, max_channels=8, num_stages=2)
PROGRESSIVE_D = ProgressiveDiscriminatorConfig(max_channels=8, num_stages=2)
STYLEGAN_G = StyleGANGeneratorConfig(
    latent_dim=4, style_dim=4, image_size=8, max_channels=8, min_channels=4, mapping_layers=2
)

CASES: dict[str, Case] = {
    "mlp_generator": (
        _built(Generator, GeneratorConfig(hidden_dims=(16, 8), output_shape=(6,), latent_dim=4)),
        lambda: (_normal(B, 4),),
        {},
    ),
    "mlp_discriminator": (
        _built(
            Discriminator,
            DiscriminatorConfig(
                hidden_dims=(16,), input_shape=(6,), batch_norm=True, dropout_rate=0.0
            ),
        ),
        lambda: (_normal(B, 6),),
        {},
    ),
    "dcgan_generator": (
        _built(
            ConvGenerator,
            ConvGeneratorConfig(hidden_dims=(16, 8), output_shape=(8, 8, 3), latent_dim=4),
        ),
        lambda: (_normal(B, 4),),
        {},
    ),
    "dcgan_discriminator": (
        _built(
            ConvDiscriminator,
            ConvDiscriminatorConfig(hidden_dims=(8, 16), input_shape=(8, 8, 3), batch_norm=True),
        ),
        lambda: (_images(8, 8, 3),),
        {},
    ),
    "conditional_generator": (
        _built(
            ConditionalGenerator,
            ConditionalGeneratorConfig(
                hidden_dims=(16, 8), output_shape=(8, 8, 1), latent_dim=4, conditional=PARAMS
            ),
        ),
        lambda: (_normal(B, 4), LABELS),
        {},
    ),
    "conditional_discriminator_one_hot": (
        _built(
            ConditionalDiscriminator,
            ConditionalDiscriminatorConfig(
                hidden_dims=(8,), input_shape=(8, 8, 1), conditional=PARAMS
            ),
        ),
        lambda: (_images(8, 8, 1), jax.nn.one_hot(LABELS, 3)),
        {},
    ),
    # AdaIN divides 4x4 maps by their own small spread, which magnifies bf16 rounding of
    # single pixels (RMS error stays < 1%).
    "stylegan_generator": (
        _built(StyleGANGenerator, STYLEGAN_G),
        lambda: (_normal(B, 4),),
        {"max_error": 0.1},
    ),
    "stylegan_discriminator": (
        _built(StyleGANDiscriminator, ProgressiveDiscriminatorConfig(max_channels=8, num_stages=2)),
        lambda: (_images(8, 8, 3),),
        {},
    ),
    "progressive_generator_stage0": (
        _progressive(ProgressiveGenerator, PROGRESSIVE_G, 0),
        lambda: (_normal(B, 4),),
        {},
    ),
    "progressive_generator_stage1": (
        _progressive(ProgressiveGenerator, PROGRESSIVE_G, 1),
        lambda: (_normal(B, 4), jnp.float32(0.25)),
        {},
    ),
    "progressive_discriminator_stage0": (
        _progressive(ProgressiveDiscriminator, PROGRESSIVE_D, 0),
        lambda: (_images(4, 4, 3),),
        {},
    ),
    "progressive_discriminator_stage1": (
        _progressive(ProgressiveDiscriminator, PROGRESSIVE_D, 1),
        lambda: (_images(8, 8, 3), jnp.float32(0.25)),
        {},
    ),
    "progressive_equalized_stage1": (
        _progressive(ProgressiveGenerator, PROGRESSIVE_G.replace(use_equalized_lr=True), stage=1),
        lambda: (_normal(B, 4), jnp.float32(0.5)),
        {},
    ),
    "cyclegan_generator": (
        _built(
            CycleGANGenerator,
            CycleGANGeneratorConfig(
                hidden_dims=(8, 16),
                input_shape=(8, 8, 3),
                output_shape=(8, 8, 3),
                n_residual_blocks=1,
            ),
        ),
        lambda: (_images(8, 8, 3),),
        {},
    ),
    "patchgan_discriminator": (
        _built(
            PatchGANDiscriminator,
            PatchGANDiscriminatorConfig(
                hidden_dims=(8, 16), input_shape=(16, 16, 3), return_features=False
            ),
        ),
        lambda: (_images(16, 16, 3),),
        {},
    ),
    "spectral_norm_discriminator": (
        _built(
            ConvDiscriminator,
            ConvDiscriminatorConfig(
                hidden_dims=(8, 16), input_shape=(8, 8, 3), use_spectral_norm=True
            ),
        ),
        lambda: (_images(8, 8, 3),),
        {"power_iteration": True},
    ),
}


# -- reading a lowered forward pass ----------------------------------------------------

_OP = re.compile(
    r"stablehlo\.(convolution|dot_general)\b[^\n]*:\s*\((tensor<[^>]*>),\s*(tensor<[^>]*>)\)"
)
_TENSOR = re.compile(r"tensor<((?:[\d?]+x)*)(\w+)>")


def _operand(tensor: str) -> tuple[int, str]:
    """(rank, element type) of a ``tensor<2x3xbf16>`` type."""
    match = _TENSOR.fullmatch(tensor)
    assert match, tensor
    return match.group(1).count("x"), match.group(2)


def products(text: str) -> list[tuple[str, tuple[int, str], tuple[int, str]]]:
    """Every convolution and dot_general of a StableHLO text, with its operand types."""
    return [(op, _operand(a), _operand(b)) for op, a, b in _OP.findall(text)]


def _lowered(module: nnx.Module, args: tuple[Any, ...], training: bool) -> str:
    """StableHLO of the pure forward pass, the way a compiled step runs the network."""
    graphdef, state = nnx.split(module)

    def forward(state: Any, *args: Any) -> Any:
        return nnx.merge(graphdef, state)(*args, training=training)

    return jax.jit(forward).lower(state, *args).as_text()


def _power_iteration(operands: tuple[tuple[int, str], tuple[int, str]]) -> bool:
    # Spectral norm's power iteration multiplies the float32 kernel by float32 vectors
    # (u, v): matrix-vector products on parameters, never on activations (rank >= 2).
    return any(rank == 1 for rank, _ in operands)


def test_the_hlo_reader_sees_both_precisions():
    # The reader must be able to fail: it finds f32 operands where they are.
    dense = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
    text = jax.jit(lambda x: dense(x)).lower(jnp.ones((2, 3))).as_text()
    assert products(text) == [("dot_general", (2, "f32"), (2, "f32"))]
    conv = nnx.Conv(3, 2, (3, 3), dtype=jnp.bfloat16, rngs=nnx.Rngs(0))
    text = jax.jit(lambda x: conv(x)).lower(jnp.ones((1, 4, 4, 3))).as_text()
    assert products(text) == [("convolution", (4, "bf16"), (4, "bf16"))]


# -- the tests -------------------------------------------------------------------------


def _params(module: nnx.Module) -> list[jax.Array]:
    return jax.tree.leaves(nnx.state(module, nnx.Param))


# The largest networks (5-8 s each to compile) run in CI's main session only; a smaller
# network of each kind stays in every leg of the JAX matrix.
_HEAVY_CASES = {
    "cyclegan_generator",
    "stylegan_discriminator",
    "conditional_generator",
    "progressive_generator_stage0",
    "progressive_generator_stage1",
    "progressive_discriminator_stage1",
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in _HEAVY_CASES else n for n in CASES],
)
def test_bf16_network_computes_in_bf16_with_float32_parameters(name):
    build, inputs, options = CASES[name]
    args = inputs()
    bf16, fp32 = build("bfloat16"), build("float32")

    # (a) parameters and statistics stay float32; the seed gives both the same parameters.
    leaves = jax.tree.leaves(nnx.state(bf16))
    floats = [x for x in leaves if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and all(x.dtype == jnp.float32 for x in floats)
    for a, b in zip(_params(bf16), _params(fp32), strict=True):
        np.testing.assert_array_equal(a, b)
    assert compute_dtypes(bf16) == {"bfloat16"}
    assert compute_dtypes(fp32) == {"float32"}

    # (c) every convolution and matrix product takes bf16 operands, in both modes.
    for training in (True, False):
        found = products(_lowered(bf16, args, training))
        assert found, f"{name}: no convolution or dot_general in the lowered forward pass"
        skipped = [p for p in found if options.get("power_iteration") and _power_iteration(p[1:])]
        if options.get("power_iteration"):
            assert skipped, f"{name}: expected spectral norm's power iteration"
        wide = [p for p in found if p not in skipped and {p[1][1], p[2][1]} != {"bf16"}]
        assert not wide, f"{name} (training={training}): not in bf16: {wide}"
        assert "bf16" not in _lowered(fp32, args, training)

    # (b) the output is bf16; (d) close to the float32 network's output.
    low = bf16(*args, training=False)
    high = fp32(*args, training=False)
    assert low.dtype == jnp.bfloat16
    assert high.dtype == jnp.float32
    assert low.shape == high.shape
    # bf16 keeps 8 significant bits (relative rounding 2**-9 per operation); through a few
    # layers, normalizations and a saturating tanh, the RMS error stays within 2% of the
    # output's RMS and no element is off by more than 5% of the output's scale (unless
    # the case says otherwise).
    difference = low.astype(jnp.float32) - high
    rms = float(jnp.sqrt(jnp.mean(jnp.square(high))))
    relative_rms = float(jnp.sqrt(jnp.mean(jnp.square(difference)))) / rms
    relative_max = float(jnp.max(jnp.abs(difference))) / float(jnp.max(jnp.abs(high)))
    assert relative_rms <= 2e-2, f"{name}: relative RMS error {relative_rms:.3g}"
    limit = options.get("max_error", 5e-2)
    assert relative_max <= limit, f"{name}: max error {relative_max:.3g} of the output scale"
    # bf16 really rounded something: identical outputs would mean float32 compute.
    assert relative_max > 0


def test_bf16_batch_norm_statistics_stay_float32_after_a_training_call():
    build, inputs, _ = CASES["dcgan_discriminator"]
    module = build("bfloat16")
    module(*inputs(), training=True)
    stats = jax.tree.leaves(nnx.state(module, nnx.BatchStat))
    assert stats and all(x.dtype == jnp.float32 for x in stats)
    # The update happened (running means moved off their zero start).
    assert any(float(jnp.abs(x).max()) > 0 for x in stats)


def test_bf16_parameters_keep_float32_statistics():
    # param_dtype="bfloat16" stores the weights in bf16, but BatchNorm's running mean and
    # variance and spectral norm's u and sigma stay float32.
    for config in (
        ConvDiscriminatorConfig(hidden_dims=(8, 16), input_shape=(8, 8, 3), batch_norm=True),
        ConvDiscriminatorConfig(hidden_dims=(8, 16), input_shape=(8, 8, 3), use_spectral_norm=True),
    ):
        module = ConvDiscriminator(
            config.replace(dtype="bfloat16", param_dtype="bfloat16"), rngs=nnx.Rngs(0)
        )
        module(_images(8, 8, 3), training=True)
        params = _params(module)
        assert params and all(x.dtype == jnp.bfloat16 for x in params)
        stats = jax.tree.leaves(nnx.state(module, nnx.BatchStat))
        assert stats and all(x.dtype == jnp.float32 for x in stats)
    spectral = nnx.state(module, SpectralNormStat)
    assert all(x.dtype == jnp.float32 for x in jax.tree.leaves(spectral))


def test_float16_is_a_compute_dtype_too():
    config = ConvGeneratorConfig(
        hidden_dims=(8,), output_shape=(8, 8, 1), latent_dim=2, dtype="float16"
    )
    module = ConvGenerator(config, rngs=nnx.Rngs(0))
    assert compute_dtypes(module) == {"float16"}
    assert module(_normal(2, 2), training=False).dtype == jnp.float16


def test_layer_dtypes_reads_the_config():
    config = GeneratorConfig(hidden_dims=(4,), output_shape=(2,), param_dtype="bfloat16")
    assert layer_dtypes(config) == {"dtype": jnp.float32, "param_dtype": jnp.bfloat16}
    assert layer_dtypes(object()) == {"dtype": jnp.float32, "param_dtype": jnp.float32}


def test_compute_dtypes_of_a_model_holding_networks_of_two_precisions():
    generator = CASES["dcgan_generator"][0]("bfloat16")
    discriminator = CASES["dcgan_discriminator"][0]("float32")
    pair = nnx.List([generator, discriminator])
    assert compute_dtypes(pair) == {"bfloat16", "float32"}


def test_compute_dtypes_of_flax_layers_left_to_infer_their_dtype():
    # dtype=None follows the inputs and parameters: reported as the parameters' dtype.
    assert compute_dtypes(nnx.Linear(2, 2, rngs=nnx.Rngs(0))) == {"float32"}
    layer = nnx.Linear(2, 2, param_dtype=jnp.bfloat16, rngs=nnx.Rngs(0))
    assert compute_dtypes(layer) == {"bfloat16"}
    assert compute_dtypes(nnx.Dropout(0.5)) == set()
