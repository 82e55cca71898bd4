"""Cycle-consistency, identity and feature-matching losses against NumPy formulas."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from artifex.generative_models.core.losses import (
    cycle_consistency_loss,
    feature_matching_loss,
    identity_loss,
)

REDUCTIONS = ("mean", "sum", "none")
RECONSTRUCTION_LOSSES = [cycle_consistency_loss, identity_loss]


def batch(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def reduce_np(per_sample: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": per_sample.mean(), "sum": per_sample.sum(), "none": per_sample}[reduction]


# --------------------------------------------------------------------------------------
# Cycle consistency and identity
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 3, 2)], ids=str)
@pytest.mark.parametrize("norm", ["l1", "l2"])
@pytest.mark.parametrize("loss", RECONSTRUCTION_LOSSES, ids=lambda f: f.__name__)
def test_reconstruction_losses_match_numpy(loss, norm, shape):
    real, out = batch(shape, 1), batch(shape, 2)
    diff = out.astype(np.float64) - real.astype(np.float64)
    element = np.abs(diff) if norm == "l1" else diff**2
    per_sample = element.reshape(shape[0], -1).mean(axis=1)
    for reduction in REDUCTIONS:
        for weight in (1.0, 10.0):
            got = loss(real, out, norm=norm, weight=weight, reduction=reduction)
            assert got.dtype == jnp.float32
            np.testing.assert_allclose(
                got, reduce_np(weight * per_sample, reduction), rtol=2e-6, atol=1e-7
            )


def test_default_reconstruction_is_the_seed_l1_mean():
    # The user guide's CycleGAN step: jnp.mean(jnp.abs(reconstructed_a - batch_x)).
    real, rec = batch((2, 4, 4, 3), 3), batch((2, 4, 4, 3), 4)
    np.testing.assert_allclose(
        cycle_consistency_loss(real, rec), np.mean(np.abs(rec - real)), rtol=1e-6
    )


@pytest.mark.parametrize("norm", ["l1", "l2"])
@pytest.mark.parametrize("loss", RECONSTRUCTION_LOSSES, ids=lambda f: f.__name__)
def test_reconstruction_gradients_match_finite_differences(loss, norm, x64):
    with x64():
        real = jnp.asarray(batch((2, 3), 5), jnp.float64)
        out = jnp.asarray(batch((2, 3), 6), jnp.float64)
        fn = functools.partial(loss, norm=norm, weight=2.0, reduction="none")
        check_grads(fn, (real, out), order=1, modes=("rev",), eps=1e-6)


@pytest.mark.parametrize("loss", RECONSTRUCTION_LOSSES, ids=lambda f: f.__name__)
def test_reconstruction_under_jit_vmap_and_bfloat16(loss):
    real, out = batch((2, 3, 4), 7), batch((2, 3, 4), 8)
    fn = jax.jit(lambda a, b: loss(a, b, norm="l2", reduction="none"))
    vmapped = jax.vmap(fn)(real, out)
    assert vmapped.shape == (2, 3)
    for k in range(2):
        np.testing.assert_allclose(
            vmapped[k], loss(real[k], out[k], norm="l2", reduction="none"), rtol=1e-6
        )
    low_r, low_o = jnp.asarray(real, jnp.bfloat16), jnp.asarray(out, jnp.bfloat16)
    got = loss(low_r, low_o)
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(
        got, loss(low_r.astype(jnp.float32), low_o.astype(jnp.float32)), rtol=1e-6
    )


@pytest.mark.parametrize("loss", RECONSTRUCTION_LOSSES, ids=lambda f: f.__name__)
def test_reconstruction_errors(loss):
    a = batch((2, 3), 9)
    other = "reconstructed" if loss is cycle_consistency_loss else "translated"
    with pytest.raises(ValueError, match=r"norm must be one of \('l1', 'l2'\); got 'l3'"):
        loss(a, a, norm="l3")
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\)"):
        loss(a, a, reduction="batchmean")
    with pytest.raises(ValueError, match=r"weight must be non-negative; got -2.0"):
        loss(a, a, weight=-2.0)
    with pytest.raises(ValueError, match=rf"real\.shape=\(2, 3\) and {other}\.shape=\(3, 3\)"):
        loss(a, batch((3, 3), 10))
    with pytest.raises(ValueError, match=rf"real\.shape=\(2, 3\) and {other}\.shape=\(2, 1, 3\)"):
        loss(a, a[:, None, :])
    with pytest.raises(ValueError, match=r"needs a leading batch axis"):
        loss(np.float32(1.0), np.float32(1.0))
    with pytest.raises(TypeError, match=r"floating-point array; got dtype int32"):
        loss(np.ones((2, 3), np.int32), a)


# --------------------------------------------------------------------------------------
# Feature matching
# --------------------------------------------------------------------------------------


def np_feature_matching(real: np.ndarray, fake: np.ndarray) -> float:
    r, f = real.astype(np.float64), fake.astype(np.float64)
    return float(np.mean((r.mean(axis=0) - f.mean(axis=0)) ** 2))


def test_feature_matching_single_array_matches_numpy_and_the_seed():
    real, fake = batch((5, 6), 11), batch((5, 6), 12)
    got = feature_matching_loss(real, fake)
    assert got.dtype == jnp.float32 and got.shape == ()
    np.testing.assert_allclose(got, np_feature_matching(real, fake), rtol=1e-6)
    # The user guide's formula.
    seed = jnp.mean((jnp.mean(real, axis=0) - jnp.mean(fake, axis=0)) ** 2)
    np.testing.assert_allclose(got, seed, rtol=1e-6)


def test_feature_matching_sequence_averages_over_the_list():
    shapes = [(4, 4, 4, 3), (4, 2, 2, 5), (4, 1)]
    real = [batch(s, 13 + i) for i, s in enumerate(shapes)]
    fake = [batch((3, *s[1:]), 20 + i) for i, s in enumerate(shapes)]  # smaller fake batch
    expected = np.mean([np_feature_matching(r, f) for r, f in zip(real, fake, strict=True)])
    np.testing.assert_allclose(feature_matching_loss(real, fake), expected, rtol=1e-6)
    np.testing.assert_allclose(feature_matching_loss(tuple(real), fake), expected, rtol=1e-6)


def test_feature_matching_is_zero_for_equal_batch_means():
    real = batch((4, 3), 30)
    fake = real[::-1] + 0.0  # a permutation has the same batch mean
    np.testing.assert_allclose(feature_matching_loss(real, fake), 0.0, atol=1e-12)


def test_feature_matching_gradients_jit_vmap_and_bfloat16(x64):
    with x64():
        real = [
            jnp.asarray(batch((3, 2), 31), jnp.float64),
            jnp.asarray(batch((3, 2, 2), 32), jnp.float64),
        ]
        fake = [
            jnp.asarray(batch((2, 2), 33), jnp.float64),
            jnp.asarray(batch((2, 2, 2), 34), jnp.float64),
        ]
        check_grads(feature_matching_loss, (real, fake), order=1, modes=("rev",), eps=1e-6)
    real, fake = batch((2, 4, 3), 35), batch((2, 5, 3), 36)
    out = jax.vmap(jax.jit(feature_matching_loss))(real, fake)
    np.testing.assert_allclose(
        out, [np_feature_matching(real[k], fake[k]) for k in range(2)], rtol=1e-6
    )
    got = feature_matching_loss(
        jnp.asarray(real[0], jnp.bfloat16), jnp.asarray(fake[0], jnp.bfloat16)
    )
    assert got.dtype == jnp.float32
    np.testing.assert_allclose(
        got,
        np_feature_matching(
            np.asarray(jnp.asarray(real[0], jnp.bfloat16), np.float32),
            np.asarray(jnp.asarray(fake[0], jnp.bfloat16), np.float32),
        ),
        rtol=1e-6,
    )


def test_feature_matching_errors():
    a, b = batch((2, 3), 37), batch((2, 4), 38)
    with pytest.raises(
        ValueError, match=r"real_features\.shape=\(2, 3\) and fake_features\.shape=\(2, 4\)"
    ):
        feature_matching_loss(a, b)
    with pytest.raises(
        ValueError,
        match=r"real_features\[1\]\.shape=\(2, 3\) and fake_features\[1\]\.shape=\(2, 4\)",
    ):
        feature_matching_loss([a, a], [a, b])
    with pytest.raises(ValueError, match=r"same number of arrays; got 2 and 1"):
        feature_matching_loss([a, a], [a])
    with pytest.raises(
        ValueError, match=r"both be arrays or both be sequences; got list and ndarray"
    ):
        feature_matching_loss([a], a)
    with pytest.raises(ValueError, match=r"at least one array; got none"):
        feature_matching_loss([], [])
    with pytest.raises(ValueError, match=r"real_features\[0\] needs a leading batch axis"):
        feature_matching_loss([np.float32(1.0)], [a])
    with pytest.raises(TypeError, match=r"fake_features must be a floating-point array"):
        feature_matching_loss(a, np.ones((2, 3), np.int32))
