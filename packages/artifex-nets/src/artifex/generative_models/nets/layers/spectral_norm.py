"""Spectral normalization of a linear or convolutional layer (Miyato et al., 2018).

The wrapped layer keeps its raw kernel ``W`` as its ``nnx.Param``; every call divides it by
an estimate of its largest singular value σ(W) and runs the layer with ``W / σ(W)``. The
estimate comes from power iteration on the kernel reshaped to a matrix, warm-started from
the left singular vector ``u`` kept between calls as :class:`SpectralNormStat` (a
``nnx.BatchStat``), so an optimizer built with ``wrt=nnx.Param`` never touches it.

References:
    Miyato, Kataoka, Koyama, Yoshida. "Spectral Normalization for Generative Adversarial
    Networks", ICLR 2018. https://arxiv.org/abs/1802.05957
"""

from __future__ import annotations

import functools
import typing

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.nets.layers._checks import (
    check_bool,
    check_features,
    check_positive_float,
    check_positive_int,
)

__all__ = ["SpectralNorm", "SpectralNormStat", "spectral_normalize"]

SpectralNormTarget = nnx.Linear | nnx.Conv | nnx.ConvTranspose
"""The layers :class:`SpectralNorm` wraps: their kernels keep output features last."""


class SpectralNormStat(nnx.BatchStat):
    """Power-iteration state of :class:`SpectralNorm` (``u`` and ``sigma``).

    A subclass of ``nnx.BatchStat``: a running statistic, not a trainable parameter. It is
    written by the forward pass in training mode and never by an optimizer built with
    ``wrt=nnx.Param``; select it alone with ``nnx.state(model, SpectralNormStat)``.
    """


def _l2_normalize(x: jax.Array, eps: float) -> jax.Array:
    # max(‖x‖, eps) rather than ‖x‖ + eps: exact for ordinary vectors, finite for zero ones.
    return x / jnp.maximum(jnp.linalg.norm(x), eps)


def spectral_normalize(
    kernel: jax.Array,
    u: jax.Array,
    *,
    n_power_iterations: int = 1,
    eps: float = 1e-12,
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Divides a kernel by its largest singular value, estimated by power iteration.

    The kernel is viewed as the matrix ``M = kernel.reshape(-1, out).T`` of shape
    ``(out, fan_in)`` (Flax kernels keep output features on the last axis), whose left
    singular vector estimate is ``u``. Each iteration computes ``v = M^T u / ‖M^T u‖`` then
    ``u = M v / ‖M v‖``; the estimate is ``σ = u^T M v``. ``u`` and ``v`` are held constant
    for differentiation (``stop_gradient``), the standard formulation: the gradient with
    respect to ``kernel`` is then that of ``kernel / σ`` with ``σ`` the bilinear form,
    which equals the gradient of ``kernel / σ_max(kernel)`` once the iteration has
    converged.

    Args:
        kernel: A kernel of rank ≥ 2 with output features on the last axis.
        u: The current left singular vector estimate, shape ``(out,)``.
        n_power_iterations: Power-iteration steps, ≥ 1.
        eps: Lower bound on vector norms and on σ, so a zero kernel stays finite.

    Returns:
        ``(kernel / σ, u, σ)``: the normalized kernel (same shape and dtype), the updated
        left singular vector estimate and the scalar estimate σ.

    Raises:
        ValueError: If the kernel has rank < 2, ``u`` does not match its last axis, or
            ``n_power_iterations`` / ``eps`` are not positive.
    """
    n_power_iterations = check_positive_int(
        "spectral_normalize", "n_power_iterations", n_power_iterations
    )
    eps = check_positive_float("spectral_normalize", "eps", eps)
    if kernel.ndim < 2:
        raise ValueError(
            f"spectral_normalize expects a kernel of rank >= 2, got shape {tuple(kernel.shape)}"
        )
    if u.shape != (kernel.shape[-1],):
        raise ValueError(
            f"spectral_normalize expects u of shape ({kernel.shape[-1]},) for a kernel of "
            f"shape {tuple(kernel.shape)}, got shape {tuple(u.shape)}"
        )
    return _spectral_normalize(kernel, u, n_power_iterations, eps)


# Compiled once per kernel shape and settings, so that eager calls (a layer used outside
# jit, a test) do not dispatch every step of the iteration; inlined under an outer jit.
@functools.partial(jax.jit, static_argnums=(2, 3))
def _spectral_normalize(
    kernel: jax.Array, u: jax.Array, n_power_iterations: int, eps: float
) -> tuple[jax.Array, jax.Array, jax.Array]:
    matrix_t = kernel.reshape(-1, kernel.shape[-1])  # M^T, (fan_in, out)
    # The iteration only picks the direction; nothing is differentiated through it.
    fixed_matrix_t = jax.lax.stop_gradient(matrix_t)

    def step(_: int, u_v: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        v = _l2_normalize(fixed_matrix_t @ u_v[0], eps)
        return _l2_normalize(v @ fixed_matrix_t, eps), v

    # fori_loop: one traced body however many iterations, not an unrolled chain.
    # The loop carry keeps one dtype: that of kernel @ u (a bfloat16 kernel with a float32
    # u iterates in float32).
    dtype = jnp.result_type(kernel, u)
    u, v = jax.lax.fori_loop(
        0,
        n_power_iterations,
        step,
        (jax.lax.stop_gradient(u).astype(dtype), jnp.zeros((matrix_t.shape[0],), dtype)),
    )
    sigma = v @ matrix_t @ u  # differentiable in the kernel only
    return (kernel / jnp.maximum(sigma, eps)).astype(kernel.dtype), u, sigma


class SpectralNorm(nnx.Module):
    """Runs a linear or convolutional layer with its kernel divided by its spectral norm.

    Wraps an ``nnx.Linear``, ``nnx.Conv`` or ``nnx.ConvTranspose`` without changing it: the
    layer's raw kernel stays its ``nnx.Param`` (so the optimizer updates the raw kernel with
    the true gradient through the normalized forward pass) and the layer's bias, strides,
    padding and dtype apply unchanged. See :func:`spectral_normalize` for the estimate.

    Mode: in training mode (``use_running_average=False``, set by ``module.train()``) each
    call advances the power iteration and stores ``u`` and ``sigma``; in eval mode
    (``module.eval()``) the call starts from the stored ``u`` the same way but stores
    nothing, so evaluation never changes the model. ``training=`` overrides the mode for one
    call.

    Example:
        >>> from flax import nnx
        >>> conv = nnx.Conv(3, 8, (3, 3), rngs=nnx.Rngs(0))
        >>> layer = SpectralNorm(conv, rngs=nnx.Rngs(1))

    Attributes:
        layer: The wrapped layer, holding the raw kernel.
        u: Left singular vector estimate, shape ``(out_features,)``.
        sigma: The latest estimate of the raw kernel's largest singular value.
        n_power_iterations: Power-iteration steps per call.
        eps: Lower bound on vector norms and on σ.
        use_running_average: ``True`` in eval mode: the state is read, not written.
    """

    def __init__(
        self,
        layer: SpectralNormTarget,
        *,
        n_power_iterations: int = 1,
        eps: float = 1e-12,
        use_running_average: bool = False,
        rngs: nnx.Rngs,
    ):
        """Wraps ``layer``.

        Args:
            layer: An ``nnx.Linear``, ``nnx.Conv`` or ``nnx.ConvTranspose``.
            n_power_iterations: Power-iteration steps per call, ≥ 1.
            eps: Lower bound on vector norms and on σ, > 0.
            use_running_average: Start in eval mode (no state updates) if ``True``.
            rngs: Supplies the random start of ``u`` (its ``params`` stream).

        Raises:
            TypeError: If ``layer`` is not one of the supported layers.
            ValueError: If ``n_power_iterations`` or ``eps`` is not positive.
        """
        if not isinstance(layer, nnx.Linear | nnx.Conv | nnx.ConvTranspose):
            raise TypeError(
                "SpectralNorm wraps an nnx.Linear, nnx.Conv or nnx.ConvTranspose, got "
                f"{type(layer).__name__}"
            )
        self.n_power_iterations = check_positive_int(
            "SpectralNorm", "n_power_iterations", n_power_iterations
        )
        self.eps = check_positive_float("SpectralNorm", "eps", eps)
        self.use_running_average = check_bool(
            "SpectralNorm", "use_running_average", use_running_average
        )
        self.layer = layer
        kernel = layer.kernel[...]
        # The power-iteration state is float32 whatever the kernel's storage dtype: a
        # bf16 ``u`` would make every sigma estimate coarse.
        u = jax.random.normal(rngs.params(), (kernel.shape[-1],), jnp.float32)
        u = _l2_normalize(u, self.eps)
        _, _, sigma = spectral_normalize(
            kernel, u, n_power_iterations=self.n_power_iterations, eps=self.eps
        )
        self.u = SpectralNormStat(u)
        self.sigma = SpectralNormStat(sigma)

    def __call__(self, x: jax.Array, *, training: bool | None = None) -> jax.Array:
        """Applies the wrapped layer with its spectrally normalized kernel.

        Args:
            x: The wrapped layer's input; its last axis must hold the layer's input features.
            training: Overrides the module's mode for this call: ``True`` updates ``u`` and
                ``sigma``, ``False`` leaves them unchanged.

        Returns:
            The wrapped layer's output.

        Raises:
            ValueError: If ``x`` does not fit the wrapped layer.
        """
        # A convolution needs its spatial axes and a channel axis; a dense layer only the latter.
        min_rank = self.layer.kernel[...].ndim - 1
        check_features(
            f"SpectralNorm({type(self.layer).__name__})", x, self.layer.in_features, min_rank
        )
        update = not self.use_running_average if training is None else training
        normalized, u, sigma = spectral_normalize(
            self.layer.kernel[...],
            self.u[...],
            n_power_iterations=self.n_power_iterations,
            eps=self.eps,
        )
        if update:
            self.u[...] = u
            self.sigma[...] = sigma
        # Run a copy of the layer whose kernel is the normalized one: the layer's own
        # computation (padding, strides, dtype promotion) is reused and its raw kernel
        # Param is never overwritten.
        graphdef, state = nnx.split(self.layer)
        raw_kernel = typing.cast(nnx.Param, state["kernel"])
        state["kernel"] = raw_kernel.replace(normalized)
        normalized_layer: SpectralNormTarget = nnx.merge(graphdef, state)
        return normalized_layer(x)
