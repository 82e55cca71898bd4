"""Latent-space utilities: interpolation, exploring one dimension, class-wise generation.

The functions take a GAN model (anything with ``generator`` and ``latent_dim``) or a
generator network (anything with ``latent_dim`` that maps ``z`` to samples) and run the
generator in eval mode unless told otherwise.

Example (seed 000's "Latent Space Interpolation" and "Exploration")::

    z1, z2 = gan.sample_latent(2, rngs)
    path = interpolate(gan, z1, z2, num_steps=20, method="spherical")  # (20, *shape)
    row = explore_latent_dimension(gan, dim_idx=0, num_samples=10, rngs=rngs)
"""

from __future__ import annotations

from typing import Any, Literal

import jax
import jax.numpy as jnp
from flax import nnx
from jax.typing import ArrayLike

__all__ = [
    "explore_latent_dimension",
    "generate_by_class",
    "generate_class_grid",
    "interpolate",
    "interpolate_latents",
    "linear_interpolation",
    "spherical_interpolation",
]

Method = Literal["linear", "spherical"]

#: Below this angle (radians) spherical interpolation falls back to linear.
_SLERP_MIN_ANGLE = 1e-6


def _steps(num_steps: Any, owner: str) -> jax.Array:
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 2:
        raise ValueError(f"{owner}: num_steps must be an int >= 2, got {num_steps!r}")
    return jnp.linspace(0.0, 1.0, num_steps)


def _pair(z1: ArrayLike, z2: ArrayLike, owner: str) -> tuple[jax.Array, jax.Array]:
    a, b = jnp.asarray(z1), jnp.asarray(z2)
    if a.shape != b.shape or a.ndim < 1:
        raise ValueError(
            f"{owner}: z1 and z2 must be latent vectors of one shape (latent_dim,) or "
            f"(batch, latent_dim), got {a.shape} and {b.shape}"
        )
    if not (jnp.issubdtype(a.dtype, jnp.floating) and jnp.issubdtype(b.dtype, jnp.floating)):
        raise TypeError(f"{owner}: z1 and z2 must be floating point, got {a.dtype}, {b.dtype}")
    return a, b


def linear_interpolation(z1: ArrayLike, z2: ArrayLike, num_steps: int = 10) -> jax.Array:
    """Evenly spaced points on the segment from ``z1`` to ``z2`` (both included).

    Args:
        z1: Start, ``(latent_dim,)`` or ``(batch, latent_dim)``.
        z2: End, the same shape.
        num_steps: Number of points, >= 2.

    Returns:
        ``(num_steps, *z1.shape)``: ``(1 - t) z1 + t z2`` for ``t`` in ``linspace(0, 1)``.
    """
    a, b = _pair(z1, z2, "linear_interpolation")
    t = _steps(num_steps, "linear_interpolation").reshape(-1, *([1] * a.ndim))
    return (1.0 - t) * a + t * b


def spherical_interpolation(z1: ArrayLike, z2: ArrayLike, num_steps: int = 10) -> jax.Array:
    r"""Spherical linear interpolation (slerp) from ``z1`` to ``z2`` (both included).

    With :math:`\Omega` the angle between the vectors,
    :math:`\mathrm{slerp}(t) = \frac{\sin((1-t)\Omega)}{\sin\Omega} z_1 +
    \frac{\sin(t\Omega)}{\sin\Omega} z_2`; it follows the great circle, so points keep
    the norm typical of Gaussian latents (for vectors of equal norm it stays on their
    sphere). Nearly parallel vectors fall back to linear interpolation.

    Args:
        z1: Start, ``(latent_dim,)`` or ``(batch, latent_dim)`` (one path per row).
        z2: End, the same shape.
        num_steps: Number of points, >= 2.

    Returns:
        ``(num_steps, *z1.shape)``.

    References:
        Shoemake, "Animating rotation with quaternion curves", SIGGRAPH 1985; White,
        "Sampling Generative Networks", arXiv:1609.04468, 2016.
    """
    a, b = _pair(z1, z2, "spherical_interpolation")
    t = _steps(num_steps, "spherical_interpolation").reshape(-1, *([1] * a.ndim))
    norms = jnp.linalg.norm(a, axis=-1, keepdims=True) * jnp.linalg.norm(b, axis=-1, keepdims=True)
    cosine = jnp.sum(a * b, axis=-1, keepdims=True) / jnp.maximum(norms, 1e-12)
    omega = jnp.arccos(jnp.clip(cosine, -1.0, 1.0))
    sin_omega = jnp.sin(omega)
    parallel = omega < _SLERP_MIN_ANGLE
    safe_sin = jnp.where(parallel, 1.0, sin_omega)
    slerp = (jnp.sin((1.0 - t) * omega) * a + jnp.sin(t * omega) * b) / safe_sin
    lerp = (1.0 - t) * a + t * b
    return jnp.where(parallel, lerp, slerp)


def interpolate_latents(
    z1: ArrayLike, z2: ArrayLike, num_steps: int = 10, method: Method = "linear"
) -> jax.Array:
    """Points from ``z1`` to ``z2``: ``method`` is ``"linear"`` or ``"spherical"``."""
    if method == "linear":
        return linear_interpolation(z1, z2, num_steps)
    if method == "spherical":
        return spherical_interpolation(z1, z2, num_steps)
    raise ValueError(f"interpolate_latents: method must be 'linear' or 'spherical', got {method!r}")


def _generator(model: Any) -> Any:
    generator = getattr(model, "generator", model)
    if not hasattr(generator, "latent_dim") or not callable(generator):
        raise TypeError(
            "expected a GAN model (with .generator) or a generator network (with "
            f".latent_dim), got {type(model).__name__}"
        )
    return generator


def _check_latents(z: jax.Array, latent_dim: int, owner: str) -> None:
    if z.shape[-1] != latent_dim:
        raise ValueError(
            f"{owner}: latent vectors must have latent_dim={latent_dim} entries, got shape "
            f"{z.shape}"
        )


def interpolate(
    model: Any,
    z1: ArrayLike,
    z2: ArrayLike,
    num_steps: int = 10,
    method: Method = "linear",
    *,
    labels: ArrayLike | None = None,
    training: bool = False,
) -> jax.Array:
    """Samples along a path in latent space, in one generator call.

    Args:
        model: A GAN model or a generator network.
        z1: Start latent, ``(latent_dim,)``.
        z2: End latent, ``(latent_dim,)``.
        num_steps: Number of samples, >= 2.
        method: ``"linear"`` or ``"spherical"`` (see :func:`spherical_interpolation`).
        labels: For a conditional generator: one label (an int, a class index or a
            one-hot row) used for every step.
        training: Generator mode (default eval).

    Returns:
        ``(num_steps, *sample_shape)``.
    """
    owner = "interpolate"
    generator = _generator(model)
    path = interpolate_latents(z1, z2, num_steps, method)
    if path.ndim != 2:
        raise ValueError(f"{owner}: z1 and z2 must be single latent vectors (latent_dim,)")
    _check_latents(path, generator.latent_dim, owner)
    if labels is None:
        return generator(path, training=training)
    return generator(path, _repeat_label(labels, num_steps), training=training)


def _repeat_label(label: ArrayLike, n: int) -> jax.Array:
    label = jnp.asarray(label)
    if label.ndim == 0:
        return jnp.full((n,), label, dtype=label.dtype)
    if label.ndim == 1 and jnp.issubdtype(label.dtype, jnp.floating):
        return jnp.broadcast_to(label, (n, label.shape[0]))
    raise ValueError(
        "labels must be one label for the whole path: a class index or a one-hot row, "
        f"got shape {label.shape}"
    )


def explore_latent_dimension(
    model: Any,
    dim_idx: int,
    num_samples: int = 10,
    range_scale: float = 3.0,
    *,
    z_base: ArrayLike | None = None,
    rngs: nnx.Rngs | None = None,
    labels: ArrayLike | None = None,
    training: bool = False,
) -> jax.Array:
    """Samples from one latent vector with dimension ``dim_idx`` swept over a range.

    Args:
        model: A GAN model or a generator network.
        dim_idx: The latent dimension to vary, in ``[0, latent_dim)``.
        num_samples: Number of values, >= 2.
        range_scale: The values are ``linspace(-range_scale, range_scale, num_samples)``.
        z_base: The fixed latent vector ``(latent_dim,)``; None draws a standard normal
            one from ``rngs`` (its ``sample`` stream, else ``default``/``params``) or,
            without ``rngs``, from the model's own ``sample`` stream.
        rngs: See ``z_base``.
        labels: One label for every sample (conditional generators).
        training: Generator mode (default eval).

    Returns:
        ``(num_samples, *sample_shape)``.
    """
    owner = "explore_latent_dimension"
    generator = _generator(model)
    latent_dim = generator.latent_dim
    if isinstance(dim_idx, bool) or not isinstance(dim_idx, int) or not 0 <= dim_idx < latent_dim:
        raise ValueError(f"{owner}: dim_idx must be an int in [0, {latent_dim}), got {dim_idx!r}")
    values = _steps(num_samples, owner) * 2.0 * range_scale - range_scale
    if z_base is None:
        z = _draw_latents(model, 1, rngs, owner)[0]
    else:
        z = jnp.asarray(z_base)
        if z.shape != (latent_dim,):
            raise ValueError(f"{owner}: z_base must have shape ({latent_dim},), got {z.shape}")
    latents = jnp.tile(z, (num_samples, 1)).at[:, dim_idx].set(values)
    if labels is None:
        return generator(latents, training=training)
    return generator(latents, _repeat_label(labels, num_samples), training=training)


def _draw_latents(model: Any, n: int, rngs: nnx.Rngs | None, owner: str) -> jax.Array:
    if hasattr(model, "sample_latent"):
        return model.sample_latent(n, rngs)
    if rngs is None:
        raise ValueError(f"{owner}: a generator network has no sample stream of its own; pass rngs")
    for name in ("sample", "default", "params"):
        if name in rngs:
            return jax.random.normal(rngs[name](), (n, _generator(model).latent_dim))
    raise ValueError(f"{owner}: rngs needs a 'sample', 'default' or 'params' stream")


def _num_classes(generator: Any, owner: str) -> int:
    num_classes = getattr(generator, "num_classes", None)
    if not isinstance(num_classes, int):
        raise TypeError(f"{owner}: needs a conditional GAN or generator (with num_classes)")
    return num_classes


def generate_by_class(
    model: Any,
    class_id: int,
    num_samples: int = 16,
    *,
    rngs: nnx.Rngs | None = None,
    training: bool = False,
) -> jax.Array:
    """Samples of one class from a conditional GAN or conditional generator.

    Args:
        model: A :class:`ConditionalGAN` or a conditional generator network.
        class_id: The class, in ``[0, num_classes)``.
        num_samples: Number of samples, >= 1.
        rngs: Latent source (see :func:`explore_latent_dimension`).
        training: Generator mode (default eval).

    Returns:
        ``(num_samples, *sample_shape)``.
    """
    owner = "generate_by_class"
    generator = _generator(model)
    num_classes = _num_classes(generator, owner)
    if (
        isinstance(class_id, bool)
        or not isinstance(class_id, int)
        or not 0 <= class_id < num_classes
    ):
        raise ValueError(
            f"{owner}: class_id must be an int in [0, {num_classes}), got {class_id!r}"
        )
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"{owner}: num_samples must be a positive int, got {num_samples!r}")
    z = _draw_latents(model, num_samples, rngs, owner)
    labels = jnp.full((num_samples,), class_id, dtype=jnp.int32)
    return generator(z, labels, training=training)


def generate_class_grid(
    model: Any,
    samples_per_class: int = 1,
    *,
    rngs: nnx.Rngs | None = None,
    shared_latents: bool = True,
    training: bool = False,
) -> tuple[jax.Array, jax.Array]:
    """Samples of every class, class-major: ``samples_per_class`` per class.

    Args:
        model: A :class:`ConditionalGAN` or a conditional generator network.
        samples_per_class: Samples per class, >= 1.
        rngs: Latent source (see :func:`explore_latent_dimension`).
        shared_latents: Use the same ``samples_per_class`` latents for every class, so a
            column of the grid differs only in its label.
        training: Generator mode (default eval).

    Returns:
        ``(samples, labels)``: samples ``(num_classes * samples_per_class,
        *sample_shape)`` and their class indices, ``[0, 0, ..., 1, 1, ...]``.
    """
    owner = "generate_class_grid"
    generator = _generator(model)
    num_classes = _num_classes(generator, owner)
    k = samples_per_class
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"{owner}: samples_per_class must be a positive int, got {k!r}")
    if shared_latents:
        z = jnp.tile(_draw_latents(model, k, rngs, owner), (num_classes, 1))
    else:
        z = _draw_latents(model, k * num_classes, rngs, owner)
    labels = jnp.repeat(jnp.arange(num_classes, dtype=jnp.int32), k)
    return generator(z, labels, training=training), labels
