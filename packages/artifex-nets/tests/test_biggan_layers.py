"""BigGAN-style layers and networks against formulas computed by hand in NumPy.

Projection head: ``psi(h) + <embed(y), h>``; conditional batch norm: batch norm with the
per-class gain ``1 + W_g e_y + b_g`` and bias ``W_b e_y + b_b`` of the shared embedding;
self-attention: the identity while ``gamma = 0``, SAGAN's softmax attention otherwise;
orthogonal regularization: ``||W^T W * (1 - I)||_F^2``. Tiny shapes, no spectral norm in
the formula checks (spectral norm has its own tests).
"""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from artifex.generative_models.core.configuration import ConditionalParams
from artifex.generative_models.core.configuration.biggan_configs import (
    BigGANDiscriminatorConfig,
    BigGANGeneratorConfig,
)
from artifex.generative_models.nets.biggan import (
    BigGANDiscriminator,
    BigGANGenerator,
    ConditionalBatchNorm,
    ProjectionHead,
    SelfAttention,
    orthogonal_penalty,
    orthogonal_regularization,
)

RNG = np.random.default_rng(0)


def _np(x):
    return np.asarray(x, np.float64)


def test_projection_head_is_psi_plus_inner_product_with_the_class_embedding():
    head = ProjectionHead(5, 3, rngs=nnx.Rngs(0))
    h = RNG.normal(size=(4, 5)).astype(np.float32)
    labels = np.array([0, 2, 1, 2], np.int32)
    table = _np(head.embedding.embed.embedding[...])
    w, b = _np(head.psi.kernel[...]), _np(head.psi.bias[...])
    expected = (_np(h) @ w)[:, 0] + b[0] + np.sum(table[labels] * _np(h), axis=1)
    np.testing.assert_allclose(head(jnp.asarray(h), jnp.asarray(labels)), expected, rtol=1e-5)
    # One-hot rows give the same logits as indices.
    one_hot = np.eye(3, dtype=np.float32)[labels]
    np.testing.assert_allclose(
        head(jnp.asarray(h), jnp.asarray(one_hot)), expected, rtol=1e-5, atol=1e-6
    )


def test_projection_head_with_a_spectrally_normalized_embedding_divides_it_by_its_top_svd():
    head = ProjectionHead(5, 3, spectral_norm=True, embedding_spectral_norm=True, rngs=nnx.Rngs(0))
    h = jnp.asarray(RNG.normal(size=(4, 5)), jnp.float32)
    labels = jnp.array([0, 2, 1, 2])
    raw = _np(head.embedding.embed.embedding[...])
    top = np.linalg.svd(raw, compute_uv=False)[0]
    u_start = _np(head.embedding_u[...])
    # Eval calls read the power iteration's vector and leave it; training calls advance it.
    head(h, labels, training=False)
    np.testing.assert_array_equal(_np(head.embedding_u[...]), u_start)
    for _ in range(60):
        head(h, labels, training=True)
    np.testing.assert_allclose(float(head.embedding_sigma[...]), top, rtol=1e-5)
    # Converged: the logits use V / sigma_max(V) (NumPy SVD); the raw table is untouched.
    psi = _np(head.psi(h, training=False))[:, 0]
    expected = psi + np.sum(raw[np.asarray(labels)] / top * _np(h), axis=1)
    np.testing.assert_allclose(head(h, labels, training=False), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(_np(head.embedding.embed.embedding[...]), raw)
    # Off by default (the preset's setting): no state, the raw table.
    assert ProjectionHead(5, 3, rngs=nnx.Rngs(0)).embedding_u is None


def test_conditional_batch_norm_is_batch_norm_with_per_class_gain_and_bias():
    embed = RNG.normal(size=(3, 4)).astype(np.float32)  # a shared class embedding
    labels = np.array([0, 1, 2, 1, 0, 2])
    condition = embed[labels]
    norm = ConditionalBatchNorm(2, 4, rngs=nnx.Rngs(1))
    x = RNG.normal(loc=1.5, scale=2.0, size=(6, 3, 3, 2)).astype(np.float32)
    out = norm(jnp.asarray(x), jnp.asarray(condition), training=True)

    mean = _np(x).mean(axis=(0, 1, 2))
    var = _np(x).var(axis=(0, 1, 2))
    normalized = (_np(x) - mean) / np.sqrt(var + 1e-5)
    gain = 1 + _np(embed) @ _np(norm.gain.kernel[...]) + _np(norm.gain.bias[...])
    bias = _np(embed) @ _np(norm.bias.kernel[...]) + _np(norm.bias.bias[...])
    expected = normalized * gain[labels][:, None, None, :] + bias[labels][:, None, None, :]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    # The batch statistics were folded into the running ones (momentum 0.9).
    np.testing.assert_allclose(norm.norm.mean[...], 0.1 * mean, rtol=1e-5)
    # Eval mode normalizes with the running statistics.
    running_mean, running_var = _np(norm.norm.mean[...]), _np(norm.norm.var[...])
    out_eval = norm(jnp.asarray(x), jnp.asarray(condition), training=False)
    expected_eval = (_np(x) - running_mean) / np.sqrt(running_var + 1e-5)
    expected_eval = expected_eval * gain[labels][:, None, None, :] + bias[labels][:, None, None, :]
    np.testing.assert_allclose(out_eval, expected_eval, rtol=1e-4, atol=1e-4)


def _attention_reference(attention, x):
    def conv(layer, inputs):
        return inputs @ _np(layer.kernel[...])[0, 0]

    batch, height, width, channels = x.shape
    flat = _np(x).reshape(batch, height * width, channels)
    q, k, v = (conv(layer, flat) for layer in (attention.query, attention.key, attention.value))
    scores = q @ np.swapaxes(k, 1, 2)
    scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = scores / scores.sum(axis=-1, keepdims=True)
    out = conv(attention.output, weights @ v)
    return (flat + float(attention.gamma[...]) * out).reshape(x.shape)


def test_self_attention_starts_as_the_identity_and_matches_softmax_attention():
    attention = SelfAttention(16, rngs=nnx.Rngs(2))
    x = RNG.normal(size=(2, 3, 4, 16)).astype(np.float32)
    assert float(attention.gamma[...]) == 0.0
    np.testing.assert_array_equal(attention(jnp.asarray(x)), x)
    assert attention.query.kernel.shape == (1, 1, 16, 2)
    assert attention.value.kernel.shape == (1, 1, 16, 8)
    attention.gamma[...] = jnp.asarray(0.7)
    np.testing.assert_allclose(
        attention(jnp.asarray(x)), _attention_reference(attention, x), rtol=1e-4, atol=1e-5
    )


def test_orthogonal_regularization_matches_numpy():
    kernel = RNG.normal(size=(3, 3, 4, 5)).astype(np.float32)
    w = _np(kernel).reshape(-1, 5)
    gram = w.T @ w
    expected = np.sum((gram * (1 - np.eye(5))) ** 2)
    np.testing.assert_allclose(orthogonal_regularization(jnp.asarray(kernel)), expected, rtol=1e-5)
    # Orthogonal filters of any norms cost nothing.
    q, _ = np.linalg.qr(RNG.normal(size=(6, 6)))
    scaled = (q[:, :4] * np.array([1.0, 2.0, 0.5, 3.0])).astype(np.float32)
    assert float(orthogonal_regularization(jnp.asarray(scaled))) < 1e-9
    with pytest.raises(ValueError, match="rank >= 2, got shape \\(5,\\)"):
        orthogonal_regularization(jnp.ones(5))


def test_orthogonal_penalty_sums_the_kernels_of_a_module():
    attention = SelfAttention(8, rngs=nnx.Rngs(3))
    expected = sum(
        float(orthogonal_regularization(layer.kernel[...]))
        for layer in (attention.query, attention.key, attention.value, attention.output)
    )
    np.testing.assert_allclose(orthogonal_penalty(attention), expected, rtol=1e-5)


LABELS = ConditionalParams(num_classes=4, embedding_dim=6)
SHAPE = {"data_format": "NHWC"}


def _generator(**changes):
    fields = {
        "hidden_dims": (8, 4),
        "latent_dim": 6,
        "output_shape": (8, 8, 1),
        "conditional": LABELS,
        **SHAPE,
        **changes,
    }
    return BigGANGenerator(BigGANGeneratorConfig(**fields), rngs=nnx.Rngs(0))


def test_generator_conditions_every_norm_and_splits_a_hierarchical_latent():
    g = _generator(hierarchical_latent=True, self_attention_at=4, use_spectral_norm=False)
    assert g.feature_sizes == ((2, 2), (4, 4), (8, 8)) and g.attention_index == 1
    assert [norm.gain.in_features for norm in g.norms] == [6 + 2, 6 + 2]
    assert g.projection.in_features == 2
    z = jnp.asarray(RNG.normal(size=(3, 6)), jnp.float32)
    images = g(z, jnp.array([0, 1, 3]), training=False)
    assert images.shape == (3, 8, 8, 1) and bool(jnp.all(jnp.abs(images) <= 1))
    # The label changes its own image only (eval mode: running statistics).
    other = g(z, jnp.array([1, 1, 3]), training=False)
    assert not np.allclose(images[0], other[0]) and np.allclose(images[1:], other[1:])


def test_discriminator_logit_is_the_projection_of_the_pooled_features():
    config = BigGANDiscriminatorConfig(
        hidden_dims=(4, 6),
        input_shape=(8, 8, 1),
        conditional=LABELS,
        self_attention_at=4,
        score_type="logits",
        **SHAPE,
    )
    d = BigGANDiscriminator(config, rngs=nnx.Rngs(1))
    x = jnp.asarray(RNG.normal(size=(3, 8, 8, 1)), jnp.float32)
    labels = jnp.array([2, 0, 3])
    h = d.features(x, False)
    table = _np(d.head.embedding.embed.embedding[...])
    expected = _np(d.head.psi(h, training=False))[:, 0] + np.sum(
        table[np.asarray(labels)] * _np(h), axis=1
    )
    np.testing.assert_allclose(d(x, labels, training=False), expected, rtol=1e-5, atol=1e-5)


def test_networks_refuse_bad_inputs_with_the_reason():
    with pytest.raises(ValueError, match=r"self_attention_at=3 is not the height.*2, 4"):
        _generator(self_attention_at=3)
    with pytest.raises(ValueError, match=r"self_attention_at=8 is not the height.*4, 2"):
        BigGANDiscriminator(
            input_shape=(8, 8, 1),
            hidden_dims=(4, 6),
            num_classes=4,
            embedding_dim=6,
            self_attention_at=8,
            rngs=nnx.Rngs(0),
        )
    g = _generator()
    with pytest.raises(ValueError, match="class indices in \\[0, 3\\]"):
        g(jnp.zeros((2, 6)), np.array([0, 4]))
    with pytest.raises(ValueError, match="z of shape \\(batch, 6\\)"):
        g(jnp.zeros((2, 5)), np.array([0, 1]))
