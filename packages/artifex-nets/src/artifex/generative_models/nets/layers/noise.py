"""Per-channel scaled noise injection (StyleGAN).

References:
    Karras, Laine, Aila. "A Style-Based Generator Architecture for Generative Adversarial
    Networks", CVPR 2019, section 3.2. https://arxiv.org/abs/1812.04948
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from flax.nnx.nn.dtypes import promote_dtype

from artifex.generative_models.nets.layers._checks import (
    check_bool,
    check_nhwc,
    check_positive_int,
)

__all__ = ["NoiseInjection"]


class NoiseInjection(nnx.Module):
    """Adds Gaussian noise scaled by a learned per-channel weight: ``x + weight * noise``.

    ``weight`` starts at zero, so a new layer is the identity. The noise is
    ``jax.random.normal(key, x.shape, x.dtype)``, one independent value per element as in the
    StyleGAN example, with the key taken from, in order: the call's ``key=``, the call's
    ``rngs=`` (its ``noise`` stream), or the module's own stream (the ``noise`` stream of the
    ``rngs`` given at construction). An explicit ``noise=`` array (any shape broadcastable to
    ``x``, e.g. StyleGAN's one map per sample ``(N, H, W, 1)`` or a fixed map for
    reproducible renders) is used as given, in either mode.

    Mode: in eval mode (``deterministic=True``, set by ``module.eval()``) no random noise is
    drawn and the input is returned unchanged; ``training=`` overrides the mode for one call.

    Attributes:
        weight: Per-channel noise strength ``(num_channels,)``, initialised to zeros.
        dtype: Compute dtype (None: inferred from the input and ``weight``).
        param_dtype: Storage dtype of ``weight``.
        num_channels: Channels of the input.
        deterministic: ``True`` in eval mode.
        rngs: The module's own ``noise`` stream, or ``None``.
    """

    def __init__(
        self,
        num_channels: int,
        *,
        deterministic: bool = False,
        dtype: Any = None,
        param_dtype: Any = jnp.float32,
        rngs: nnx.Rngs | nnx.RngStream | None = None,
    ):
        """Creates the layer.

        Args:
            num_channels: Channels of the input, ≥ 1.
            deterministic: Start in eval mode (no noise) if ``True``.
            dtype: Compute dtype of the output and the noise; None infers it from the
                input and ``weight``.
            param_dtype: Storage dtype of ``weight``.
            rngs: Optional source of the module's own noise: an ``nnx.Rngs`` (its ``noise``
                stream, which falls back to ``default``) or an ``nnx.RngStream``. It is
                forked, so the layer's draws do not advance the caller's stream.

        Raises:
            ValueError: If ``num_channels`` is not positive.
            TypeError: If ``rngs`` is not an ``nnx.Rngs``, ``nnx.RngStream`` or ``None``.
        """
        self.num_channels = check_positive_int("NoiseInjection", "num_channels", num_channels)
        self.deterministic = check_bool("NoiseInjection", "deterministic", deterministic)
        self.dtype = dtype
        self.param_dtype = param_dtype
        self.weight = nnx.Param(jnp.zeros((num_channels,), param_dtype))
        self.rngs: nnx.RngStream | None
        if isinstance(rngs, nnx.Rngs):
            self.rngs = rngs["noise"].fork()
        elif isinstance(rngs, nnx.RngStream):
            self.rngs = rngs.fork()
        elif rngs is None:
            self.rngs = None
        else:
            raise TypeError(
                "NoiseInjection: rngs must be an nnx.Rngs, an nnx.RngStream or None, got "
                f"{type(rngs).__name__}"
            )

    def __call__(
        self,
        x: jax.Array,
        *,
        noise: jax.Array | None = None,
        key: jax.Array | None = None,
        rngs: nnx.Rngs | None = None,
        training: bool | None = None,
    ) -> jax.Array:
        """Adds the scaled noise.

        Args:
            x: NHWC ``(N, H, W, num_channels)``.
            noise: A noise array broadcastable to ``x``; applied in both modes.
            key: A PRNG key for this call's noise.
            rngs: An ``nnx.Rngs`` whose ``noise`` stream supplies this call's key.
            training: Overrides the module's mode for this call.

        Returns:
            An array shaped like ``x``.

        Raises:
            ValueError: If ``x`` or ``noise`` has the wrong shape, more than one of
                ``noise``, ``key`` and ``rngs`` is given, or noise must be drawn and there
                is no source of randomness.
        """
        check_nhwc("NoiseInjection", x, self.num_channels)
        sources = {"noise": noise, "key": key, "rngs": rngs}
        given = [name for name, source in sources.items() if source is not None]
        if len(given) > 1:
            raise ValueError(
                f"NoiseInjection takes at most one of noise=, key=, rngs=; got {', '.join(given)}"
            )
        if noise is not None:
            try:
                shape = jnp.broadcast_shapes(noise.shape, x.shape)
            except ValueError:
                shape = None
            if shape != x.shape:
                raise ValueError(
                    f"NoiseInjection: noise of shape {tuple(noise.shape)} does not broadcast "
                    f"to the input shape {tuple(x.shape)}"
                )
            x, weight, noise = promote_dtype((x, self.weight[...], noise), dtype=self.dtype)
            return x + weight * noise
        deterministic = self.deterministic if training is None else not training
        if deterministic:
            return x if self.dtype is None else x.astype(self.dtype)
        x, weight = promote_dtype((x, self.weight[...]), dtype=self.dtype)
        if key is None:
            if rngs is not None:
                key = rngs["noise"]()
            elif self.rngs is not None:
                key = self.rngs()
            else:
                raise ValueError(
                    "NoiseInjection needs a random key in training mode: pass key= or rngs= "
                    "to the call, construct it with rngs=, or call module.eval()"
                )
        return x + weight * jax.random.normal(key, x.shape, x.dtype)
