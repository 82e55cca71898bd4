"""What every GAN model shares: random keys, batches, input checks, precision, pure critics.

Every check here reads only static information (shapes, dtypes, Python options) or, for
the finiteness check, concrete arrays outside of a trace; under ``jax.jit`` it runs once
while tracing and raises before anything is compiled.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.nets._base import with_stream

__all__ = [
    "GENERATION_STREAMS",
    "IMAGE_KEYS",
    "LABEL_KEYS",
    "PENALTY_STREAMS",
    "PRECISIONS",
    "check_finite",
    "check_no_options",
    "check_samples",
    "draw_key",
    "extract",
    "normalize_precision",
    "own_sample_stream",
    "precision_scope",
    "reseed_dropout",
    "sample_count",
]

#: Keys under which a batch dict may hold the real data.
IMAGE_KEYS: tuple[str, ...] = ("images", "image", "x", "data")
#: Keys under which a batch dict may hold class labels.
LABEL_KEYS: tuple[str, ...] = ("labels", "label", "y")

#: Precision names accepted besides ``jax.lax.Precision`` members.
PRECISIONS: tuple[str, ...] = ("default", "high", "highest", "bfloat16", "tensorfloat32", "float32")

#: The stream order of generation: latent vectors come from ``sample`` first.
GENERATION_STREAMS: tuple[str, ...] = ("sample", "default", "params")
#: The stream order of the gradient penalty (seed 003 passes ``nnx.Rngs(params=2)``).
PENALTY_STREAMS: tuple[str, ...] = ("sample", "params", "default")


def own_sample_stream(rngs: nnx.Rngs) -> nnx.RngStream:
    """The model's own ``sample`` stream: forked from ``rngs`` (derived when it has none).

    Forking draws one key from the caller's ``sample`` stream, as ``nnx.Dropout`` does with
    ``dropout``: the model's stream is then independent of the caller's Rngs object.
    """
    if not isinstance(rngs, nnx.Rngs):
        raise TypeError(f"rngs must be an nnx.Rngs, got {type(rngs).__name__}")
    return with_stream(rngs, "sample")["sample"].fork()


def draw_key(
    rngs: nnx.Rngs | None,
    own: nnx.RngStream,
    *,
    owner: str,
    streams: Sequence[str] = GENERATION_STREAMS,
) -> jax.Array:
    """A fresh key: from the first of ``streams`` that ``rngs`` has, else from ``own``.

    Raises:
        TypeError: ``rngs`` is not an ``nnx.Rngs``.
        ValueError: ``rngs`` has none of ``streams``.
    """
    if rngs is None:
        return own()
    if not isinstance(rngs, nnx.Rngs):
        raise TypeError(f"{owner}: rngs must be an nnx.Rngs or None, got {type(rngs).__name__}")
    for name in streams:
        if name in rngs:
            return rngs[name]()
    present = ", ".join(name for name, _ in rngs.items()) or "none"
    raise ValueError(
        f"{owner}: rngs needs one of the streams {', '.join(map(repr, streams))} "
        f"(e.g. nnx.Rngs(sample=0)); it has: {present}"
    )


def reseed_dropout(network: nnx.Module, rngs: nnx.Rngs | None) -> None:
    """Reseed the dropout streams of ``network`` from ``rngs['dropout']`` when given.

    Networks own forked dropout streams; a call that passes ``rngs`` with a ``dropout``
    stream gets dropout masks determined by that stream.
    """
    if rngs is not None and "dropout" in rngs:
        nnx.reseed(network, dropout=rngs["dropout"]())


def sample_count(n_samples: Any, batch_size: Any, *, owner: str) -> int:
    """The number of samples to make: ``batch_size`` when given, else ``n_samples``."""
    count = n_samples if batch_size is None else batch_size
    name = "n_samples" if batch_size is None else "batch_size"
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {count!r}")
    return count


def check_no_options(options: Mapping[str, Any], *, owner: str, known: str) -> None:
    """Refuse keyword arguments a method does not use (nothing is silently ignored)."""
    if options:
        raise TypeError(
            f"{owner}() got unexpected keyword argument(s) "
            f"{', '.join(map(repr, sorted(options)))}; it takes {known}"
        )


def extract(batch: Any, keys: Sequence[str], *, owner: str, what: str) -> Any:
    """The entry of a batch dict under the first of ``keys``; an array passes through."""
    if isinstance(batch, Mapping):
        for key in keys:
            if key in batch:
                return batch[key]
        raise KeyError(
            f"{owner}: the batch dict needs the {what} under one of the keys "
            f"{', '.join(map(repr, keys))}; it has {', '.join(map(repr, batch)) or 'no keys'}"
        )
    return batch


def check_samples(
    name: str, x: Any, sample_shape: tuple[int, ...] | None, *, owner: str, layout: str = ""
) -> jax.Array:
    """``x`` as a floating batch of samples of ``sample_shape`` (None: any shape).

    Raises:
        TypeError: ``x`` is not a floating-point array.
        ValueError: ``x`` is not a batch of ``sample_shape``.
    """
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{owner}: {name} must be an array, got {type(x).__name__}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise TypeError(
            f"{owner}: {name} must be floating point (images scaled to [-1, 1]), "
            f"got dtype {x.dtype}"
        )
    shape = tuple(x.shape)
    if sample_shape is not None and (len(shape) < 1 or shape[1:] != tuple(sample_shape)):
        expected = ", ".join(map(str, ("batch", *sample_shape)))
        suffix = f" ({layout})" if layout else ""
        raise ValueError(f"{owner}: {name} must have shape ({expected}){suffix}, got {shape}")
    if len(shape) < 1 or shape[0] < 1:
        raise ValueError(f"{owner}: {name} needs a non-empty batch axis, got shape {shape}")
    return jnp.asarray(x)


def check_finite(name: str, x: jax.Array, *, owner: str) -> None:
    """Refuse NaN or infinite values in a concrete array (traced arrays pass)."""
    if isinstance(x, jax.core.Tracer):
        return
    # A concrete array may still meet a trace (a closure under jit or eval_shape).
    with jax.ensure_compile_time_eval():
        finite = bool(jnp.all(jnp.isfinite(x)))
    if not finite:
        raise ValueError(f"{owner}: {name} contains NaN or infinite values")


def normalize_precision(precision: Any) -> str | None:
    """A ``jax.lax.Precision`` or precision name as a ``jax.default_matmul_precision`` name."""
    if precision is None:
        return None
    if isinstance(precision, jax.lax.Precision):
        return precision.name.lower()
    if isinstance(precision, str) and precision.lower() in PRECISIONS:
        return precision.lower()
    raise ValueError(
        f"precision={precision!r}: must be None, a jax.lax.Precision or one of "
        f"{', '.join(map(repr, PRECISIONS))}"
    )


@contextlib.contextmanager
def precision_scope(precision: str | None) -> Iterator[None]:
    """Run matrix multiplications and convolutions at ``precision`` (None: JAX's default)."""
    if precision is None:
        yield
    else:
        with jax.default_matmul_precision(precision):
            yield
