"""Feature-matching loss: match the batch statistics of discriminator features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from artifex.generative_models.core.losses._common import as_batched, upcast

__all__ = ["feature_matching_loss"]


def _as_feature_list(name: str, features: ArrayLike | Sequence[ArrayLike]) -> list[jax.Array]:
    if isinstance(features, list | tuple):
        return [as_batched(f"{name}[{i}]", f, what="features") for i, f in enumerate(features)]
    return [as_batched(name, cast(ArrayLike, features), what="features")]


def feature_matching_loss(
    real_features: ArrayLike | Sequence[ArrayLike],
    fake_features: ArrayLike | Sequence[ArrayLike],
) -> jax.Array:
    r"""Feature-matching loss :math:`\|\mathbb{E}_x f(x) - \mathbb{E}_z f(G(z))\|^2`, averaged.

    For one feature array of shape ``(B, ...)``: the batch means of real and
    fake features are compared and the squared differences averaged over the
    feature axes, ``mean((real.mean(0) - fake.mean(0))**2)``. For a sequence of
    arrays (for example the intermediate features a PatchGAN discriminator
    returns) the per-array losses are averaged over the sequence.

    Because only batch means are compared, real and fake batches may differ in
    size; their feature shapes (all axes but the first) must agree. The loss
    is usually minimised by the generator only; stop gradients through the
    real features if they are computed inside the differentiated function.
    Inputs may be float32 or bfloat16; the loss is computed and returned in
    float32 (float64 stays float64).

    Args:
        real_features: Discriminator features of real samples: one array of
            shape ``(B_real, ...)`` or a list/tuple of such arrays.
        fake_features: Features of generated samples, ``(B_fake, ...)``: the
            same structure, with matching feature shapes.

    Returns:
        A float32 scalar.

    Raises:
        ValueError: For an empty sequence, sequences of different lengths, an
            array and a sequence mixed, arrays without a batch axis or
            mismatched feature shapes.
        TypeError: For non-floating features.

    References:
        Salimans et al., "Improved Techniques for Training GANs", NeurIPS 2016.
    """
    real_is_seq = isinstance(real_features, list | tuple)
    fake_is_seq = isinstance(fake_features, list | tuple)
    if real_is_seq != fake_is_seq:
        raise ValueError(
            "real_features and fake_features must both be arrays or both be sequences; "
            f"got {type(real_features).__name__} and {type(fake_features).__name__}"
        )
    real_list = _as_feature_list("real_features", real_features)
    fake_list = _as_feature_list("fake_features", fake_features)
    if len(real_list) != len(fake_list):
        raise ValueError(
            "real_features and fake_features must have the same number of arrays; "
            f"got {len(real_list)} and {len(fake_list)}"
        )
    if not real_list:
        raise ValueError("real_features and fake_features must hold at least one array; got none")
    terms = []
    for i, (real, fake) in enumerate(zip(real_list, fake_list, strict=True)):
        if real.shape[1:] != fake.shape[1:]:
            where = f"[{i}]" if real_is_seq else ""
            raise ValueError(
                f"real_features{where} and fake_features{where} must have the same feature "
                f"shape (all axes but the batch axis); got real_features{where}.shape="
                f"{real.shape} and fake_features{where}.shape={fake.shape}"
            )
        difference = jnp.mean(upcast(real), axis=0) - jnp.mean(upcast(fake), axis=0)
        terms.append(jnp.mean(jnp.square(difference)))
    return sum(terms[1:], terms[0]) / len(terms)
