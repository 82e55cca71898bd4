"""Any image size, either layout: the size ladders, cropping, refusals, NCHW == NHWC."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    WGANDiscriminator,
)
from artifex.generative_models.nets.conv import (
    ConvBlock,
    downsampling_ladder,
    upsampling_ladder,
)

# Every network here uses 4 channels per layer and 1 image channel, so the layers of
# different tests share their shapes (and so their compiled initialisers and ops).
LATENT = 8


def generator(shape, n_layers, seed=0, **options):
    return DCGANGenerator(
        output_shape=shape,
        latent_dim=LATENT,
        hidden_dims=(4,) * n_layers,
        rngs=nnx.Rngs(params=seed),
        **options,
    )


def discriminator(shape, n_layers, seed=0, **options):
    options.setdefault("dropout_rate", 0.0)
    return DCGANDiscriminator(
        input_shape=shape, hidden_dims=(4,) * n_layers, rngs=nnx.Rngs(params=seed), **options
    )


Z = jax.random.normal(jax.random.key(0), (2, LATENT))

# -- the ladders ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_layers", "heights"),
    [
        (1, (14, 28)),
        (2, (7, 14, 28)),
        (3, (4, 7, 14, 28)),
        (4, (2, 4, 7, 14, 28)),
        (5, (1, 2, 4, 7, 14, 28)),
    ],
)
def test_upsampling_ladder_goes_back_from_the_output_by_ceil(n_layers, heights):
    ladder = upsampling_ladder(
        "G", (28, 28), n_layers, kernel_size=(4, 4), stride=(2, 2), padding="SAME"
    )
    assert ladder == [(h, h) for h in heights]


def test_upsampling_ladder_per_axis_and_other_strides():
    ladder = upsampling_ladder("G", (32, 48), 3, kernel_size=(4, 4), stride=(2, 3), padding="SAME")
    assert ladder == [(4, 2), (8, 6), (16, 16), (32, 48)]


def test_upsampling_ladder_with_valid_and_int_padding():
    # VALID, kernel 4, stride 2: out = 2 * in + 2.
    assert upsampling_ladder(
        "G", (28, 28), 3, kernel_size=(4, 4), stride=(2, 2), padding="VALID"
    ) == [(h, h) for h in (2, 6, 13, 28)]
    # PyTorch semantics, kernel 4, stride 2, padding 1: out = 2 * in.
    assert upsampling_ladder("G", (28, 28), 2, kernel_size=(4, 4), stride=(2, 2), padding=1) == [
        (7, 7),
        (14, 14),
        (28, 28),
    ]


@pytest.mark.parametrize(
    ("n_layers", "heights"),
    [(2, (28, 14, 7)), (3, (28, 14, 7, 4)), (4, (28, 14, 7, 4, 2)), (5, (28, 14, 7, 4, 2, 1))],
)
def test_downsampling_ladder_divides_by_the_stride_rounding_up(n_layers, heights):
    ladder = downsampling_ladder(
        "D", (28, 28), n_layers, kernel_size=(4, 4), stride=(2, 2), padding="SAME"
    )
    assert ladder == [(h, h) for h in heights]


def test_downsampling_ladder_with_valid_and_int_padding():
    assert downsampling_ladder(
        "D", (28, 28), 2, kernel_size=(4, 4), stride=(2, 2), padding="VALID"
    ) == [(28, 28), (13, 13), (5, 5)]
    assert downsampling_ladder("D", (28, 28), 2, kernel_size=(4, 4), stride=(2, 2), padding=1) == [
        (28, 28),
        (14, 14),
        (7, 7),
    ]


@pytest.mark.parametrize(
    ("transpose", "padding"),
    [
        (True, "SAME"),
        (True, "VALID"),
        (True, 1),
        (True, 0),
        (False, "SAME"),
        (False, "VALID"),
        (False, 1),
    ],
)
def test_ladder_formulas_match_the_real_layers(transpose, padding):
    # The planned size of one layer is what nnx.Conv / nnx.ConvTranspose really produce.
    block = ConvBlock(
        1,
        1,
        transpose=transpose,
        kernel_size=(4, 3),
        stride=(2, 3),
        padding=padding,
        rngs=nnx.Rngs(0),
    )
    for size in (5, 7):
        out = block(jnp.zeros((1, size, size, 1)), training=False).shape[1:3]
        if transpose:
            # The smallest input that reaches `out` is `size` itself when no crop is needed.
            ladder = upsampling_ladder(
                "G", out, 1, kernel_size=(4, 3), stride=(2, 3), padding=padding
            )
            assert ladder[0] == (size, size)
        else:
            ladder = downsampling_ladder(
                "D", (size, size), 1, kernel_size=(4, 3), stride=(2, 3), padding=padding
            )
            assert ladder[1] == out


# -- any size, either layout ----------------------------------------------------------


@pytest.mark.parametrize("n_layers", [2, 3, 4])
@pytest.mark.parametrize("shape", [(28, 28, 1), (1, 28, 28)])
def test_28x28_with_2_3_4_layers(shape, n_layers):
    gen = generator(shape, n_layers)
    images = gen(Z, training=False)
    assert images.shape == (2, *shape)
    assert np.all(np.isfinite(np.asarray(images)))
    disc = discriminator(shape, n_layers)
    scores = disc(images, training=False)
    assert scores.shape == (2, 1)
    assert disc.feature_sizes[-1] == {2: (7, 7), 3: (4, 4), 4: (2, 2)}[n_layers]


@pytest.mark.parametrize(
    ("shape", "data_format"), [((7, 7, 1), "auto"), ((32, 48, 1), "NHWC"), ((1, 32, 48), "NCHW")]
)
def test_odd_and_non_square_sizes(shape, data_format):
    # Real compute for 7×7 and 32×48 NHWC; the NCHW variant differs only by the boundary
    # transposes (tested for equality at 28×28), so it is evaluated abstractly.
    concrete = data_format != "NCHW"
    build = (lambda f: f()) if concrete else nnx.eval_shape
    gen = build(lambda: generator(shape, 2, data_format=data_format))
    disc = build(lambda: discriminator(shape, 2, data_format=data_format))
    run = (lambda f, *args: f(*args)) if concrete else nnx.eval_shape
    images = run(lambda g, z: g(z, training=False), gen, Z)
    assert images.shape == (2, *shape)
    assert run(lambda d, x: d(x, training=False), disc, images).shape == (2, 1)


def test_nchw_output_is_the_nhwc_output_transposed():
    nhwc, nchw = generator((28, 28, 1), 3), generator((1, 28, 28), 3)
    expected = jnp.transpose(nhwc(Z, training=False), (0, 3, 1, 2))
    np.testing.assert_allclose(nchw(Z, training=False), expected, rtol=1e-6, atol=1e-6)
    # Training mode (batch statistics) too.
    expected = jnp.transpose(nhwc(Z, training=True), (0, 3, 1, 2))
    np.testing.assert_allclose(nchw(Z, training=True), expected, rtol=1e-6, atol=1e-6)


def test_nchw_discriminator_scores_the_transposed_images_identically():
    images = jax.random.normal(jax.random.key(1), (2, 28, 28, 1))
    nhwc, nchw = discriminator((28, 28, 1), 3), discriminator((1, 28, 28), 3)
    np.testing.assert_allclose(
        nchw.logits(jnp.transpose(images, (0, 3, 1, 2)), training=False),
        nhwc.logits(images, training=False),
        rtol=1e-5,
        atol=1e-6,
    )


def test_overshoot_is_centre_cropped():
    # Stride 3 to 28: the last layer makes 30 rows from 10 and keeps rows 1..28.
    block = ConvBlock(
        1,
        1,
        transpose=True,
        kernel_size=(3, 3),
        stride=(3, 3),
        padding="SAME",
        rngs=nnx.Rngs(0),
    )
    x = jax.random.normal(jax.random.key(0), (1, 10, 10, 1))
    full = block(x, training=False)
    assert full.shape[1:3] == (30, 30)
    block.output_size = (28, 28)
    np.testing.assert_array_equal(block(x, training=False), full[:, 1:29, 1:29, :])
    gen = nnx.eval_shape(lambda: generator((28, 28, 1), 2, stride=3, kernel_size=3))
    assert gen.feature_sizes == ((4, 4), (10, 10), (28, 28))
    assert nnx.eval_shape(lambda g, z: g(z, training=False), gen, Z).shape == (2, 28, 28, 1)


def test_valid_and_pytorch_padding_generators_reach_the_exact_size():
    for padding in ("VALID", 1):
        gen = generator((28, 28, 1), 3, padding=padding)
        assert gen(Z, training=False).shape == (2, 28, 28, 1)
        disc = discriminator((28, 28, 1), 2, padding=padding)
        assert disc(jnp.zeros((2, 28, 28, 1)), training=False).shape == (2, 1)


# -- refused at construction ----------------------------------------------------------


def test_generator_with_more_doublings_than_the_image_allows_is_refused():
    with pytest.raises(
        ValueError,
        match=r"DCGANGenerator: cannot generate an output height of 7 with 4 upsampling layers"
        r".*1 → 1 → 2 → 4 → 7.*at most 3 upsampling layers",
    ):
        generator((7, 7, 1), 4)
    with pytest.raises(ValueError, match=r"output width of 3 .* at most 2 upsampling layers"):
        generator((16, 3, 1), 3, data_format="NHWC")


def test_discriminator_with_more_layers_than_the_image_allows_is_refused():
    with pytest.raises(
        ValueError,
        match=r"WGANDiscriminator: an input height of 7 is too small for 4 strided "
        r"convolutions.*7 → 4 → 2 → 1.*at most 3 layers",
    ):
        WGANDiscriminator(input_shape=(1, 7, 7), hidden_dims=(4,) * 4, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match=r"height 2 is smaller than the kernel.*at most 1 layer: "):
        discriminator((6, 6, 1), 2, padding="VALID")


def test_transposed_padding_larger_than_the_kernel_allows_is_refused():
    with pytest.raises(ValueError, match=r"padding=4 is too large for kernel_size=\(4, 4\)"):
        generator((28, 28, 1), 2, padding=4)


def test_integer_padding_keeps_the_graph_hashable():
    # A compiled training step is cached on the static graph; lists in it would break that.
    for network in (
        generator((8, 8, 1), 1, padding=1, kernel_size=4),
        discriminator((8, 8, 1), 1, padding=1, kernel_size=4),
    ):
        graphdef, _ = nnx.split(network)
        assert isinstance(hash(graphdef), int)
