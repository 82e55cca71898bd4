"""Running a user's feature function over many images: jitted, batched, on device.

Images arrive as one array ``(N, ...)`` or as an iterable of such batches (a data
loader, a generator of samples), so 50k images never have to sit in memory at once.
Every batch is cut into chunks of one fixed size and the last chunk is padded to it by
repeating its final image: one compiled program serves the whole stream. Results are
copied to the host as float64 while the device already works on the next chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np

from artifex.generative_models.core.evaluation.metrics._checks import positive_int

Images: TypeAlias = Any
"""An array ``(N, ...)`` of images, or an iterable of such arrays (batches)."""

RANGE_TOLERANCE = 1e-3
"""Slack allowed beyond a callable's declared ``input_range`` (float rounding of tanh outputs)."""


def _is_array(value: object) -> bool:
    if isinstance(value, np.ndarray | jax.Array):
        return True
    # Other array types (e.g. a CPU torch tensor) convert through __array__.
    return hasattr(value, "__array__") and hasattr(value, "shape")


def iterate_batches(images: Images, what: str) -> Iterator[Any]:
    """The batches of ``images``: the array itself, or each element of an iterable.

    Args:
        images: One array with a leading batch axis, or an iterable of such arrays.
        what: How error messages name the argument (``"real"``, ``"samples"``).

    Yields:
        Arrays with a leading batch axis, in order; empty batches are skipped.

    Raises:
        TypeError: ``images`` is neither, or an element of the iterable is not an array
            (for example an ``(images, labels)`` pair from a data loader).
        ValueError: a batch has fewer than two axes.
    """
    if _is_array(images):
        batches: Iterable[Any] = (images,)
    elif isinstance(images, str | bytes | Mapping) or not isinstance(images, Iterable):
        raise TypeError(
            f"{what} must be an array of images (N, ...) or an iterable of such batches, "
            f"got {type(images).__name__}"
        )
    else:
        batches = images
    for index, batch in enumerate(batches):
        if not _is_array(batch):
            raise TypeError(
                f"batch {index} of {what} is a {type(batch).__name__}, not an array; pass "
                "images only, e.g. (x for x, _ in loader)"
            )
        if len(batch.shape) < 2:
            raise ValueError(
                f"batch {index} of {what} must have a batch axis and at least one more, "
                f"got shape {tuple(batch.shape)}"
            )
        if batch.shape[0] > 0:
            yield batch


class BatchedFunction:
    """A function from images to per-image vectors, run in fixed-size compiled chunks.

    Args:
        fn: Maps a batch ``(B, ...)`` to ``(B, D)`` (features or class probabilities).
            If it has an ``input_range`` attribute ``(low, high)``, as the built-in
            extractors do, every batch is checked to lie in it. If it has ``weights``
            and ``apply`` (see ``ModuleFunction``), ``apply(weights, images)`` is
            compiled with the weights as arguments rather than as baked-in constants.
        name: How error messages name ``fn``.
        batch_size: The most images per compiled call; the chunk size is the smaller of
            this and the first batch's size, so pass your loader's batch size.
        jit: Compile ``fn`` with ``jax.jit``. Use ``False`` for callables that cannot be
            traced (NumPy code, modules that update state while called).
    """

    def __init__(
        self, fn: Callable[[Any], Any], *, name: str, batch_size: int = 256, jit: bool = True
    ) -> None:
        if not callable(fn):
            raise TypeError(f"{name} must be callable (images -> (B, D)), got {fn!r}")
        self.fn = fn
        self.name = name
        self.batch_size = positive_int(batch_size, "batch_size")
        self.jit = bool(jit)
        input_range = getattr(fn, "input_range", None)
        self.input_range = None if input_range is None else tuple(map(float, input_range))

        module_function: Any = fn
        if hasattr(fn, "weights") and callable(getattr(fn, "apply", None)):
            self._weights: Any = module_function.weights
            self._pure: Callable[[Any, Any], Any] = module_function.apply
        else:
            self._weights = None
            self._pure = lambda _, x: fn(x)
        pure = self._pure

        def with_input_summary(
            weights: Any, x: jax.Array
        ) -> tuple[Any, jax.Array, jax.Array, jax.Array]:
            # The checks ride along in the same program: no extra sync per chunk.
            x_float = x.astype(jnp.float32)
            summary = jnp.all(jnp.isfinite(x_float)), jnp.min(x_float), jnp.max(x_float)
            return (pure(weights, x), *summary)

        self._run = jax.jit(with_input_summary) if self.jit else with_input_summary
        self._checked_shapes: set[tuple[tuple[int, ...], str]] = set()

    def __call__(self, images: Images, what: str) -> Iterator[np.ndarray]:
        """Yield ``fn``'s float64 outputs for consecutive pieces of ``images``.

        Args:
            images: An array ``(N, ...)`` or an iterable of such batches.
            what: How error messages name ``images``.

        Yields:
            Float64 host arrays ``(b, D)`` whose rows follow the order of the images.

        Raises:
            TypeError, ValueError: Bad input or output shapes, non-finite values, values
                outside ``fn.input_range``, or no images at all.
        """
        pending: tuple[Any, int, int, int] | None = None
        for chunk, valid, first_index in self._chunks(images, what):
            result = self._run(self._weights, chunk)  # dispatched asynchronously
            if pending is not None:
                yield self._collect(*pending, what)
            pending = (result, int(chunk.shape[0]), valid, first_index)
        if pending is None:
            raise ValueError(f"{what} holds no images")
        yield self._collect(*pending, what)

    def _chunks(self, images: Images, what: str) -> Iterator[tuple[Any, int, int]]:
        size: int | None = None
        image_shape: tuple[int, ...] | None = None
        start = 0
        for index, batch in enumerate(iterate_batches(images, what)):
            shape = tuple(int(d) for d in batch.shape)
            if image_shape is None:
                image_shape, size = shape[1:], min(self.batch_size, shape[0])
                self._check_output_shape((size, *image_shape), batch.dtype, what)
            elif shape[1:] != image_shape:
                raise ValueError(
                    f"batch {index} of {what} has images of shape {shape[1:]}, but earlier "
                    f"batches had {image_shape}"
                )
            assert size is not None  # set with image_shape above
            # Host batches are cut and padded in NumPy: no device op per distinct pad size.
            host = not isinstance(batch, jax.Array)
            if host:
                batch = np.asarray(batch)
            for offset in range(0, shape[0], size):
                chunk = batch[offset : offset + size]
                valid = int(chunk.shape[0])
                if valid < size:
                    repeat = (np if host else jnp).repeat(chunk[-1:], size - valid, axis=0)
                    chunk = (np if host else jnp).concatenate([chunk, repeat], axis=0)
                yield chunk, valid, start
                start += valid

    def _check_output_shape(self, shape: tuple[int, ...], dtype: Any, what: str) -> None:
        # Shape errors surface here, from an abstract evaluation, before anything compiles.
        key = (shape, str(dtype))
        if not self.jit or key in self._checked_shapes:
            return
        # float64 host arrays become float32 on the device, unless x64 is enabled.
        abstract = jax.ShapeDtypeStruct(shape, jax.dtypes.canonicalize_dtype(dtype))
        out = jax.eval_shape(self._pure, self._weights, abstract)
        self._check_output(getattr(out, "shape", None), shape[0], what)
        self._checked_shapes.add(key)

    def _check_output(self, out_shape: Any, batch: int, what: str) -> None:
        if out_shape is None or len(out_shape) != 2 or out_shape[0] != batch:
            raise ValueError(
                f"{self.name} must map a batch of {batch} images to an array of shape "
                f"({batch}, D); for {what} it returned shape {out_shape}"
            )

    def _collect(
        self, result: Any, size: int, valid: int, first_index: int, what: str
    ) -> np.ndarray:
        out, finite, low, high = result
        if not bool(finite):
            raise ValueError(
                f"{what} contains NaN or infinite pixel values (in images "
                f"{first_index}..{first_index + valid - 1})"
            )
        if self.input_range is not None:
            low_ok, high_ok = self.input_range
            if float(low) < low_ok - RANGE_TOLERANCE or float(high) > high_ok + RANGE_TOLERANCE:
                raise ValueError(
                    f"{self.name} expects pixel values in [{low_ok:g}, {high_ok:g}]; {what} "
                    f"images {first_index}..{first_index + valid - 1} span "
                    f"[{float(low):g}, {float(high):g}]"
                )
        features = np.asarray(out)
        self._check_output(features.shape, size, what)
        features = features[:valid].astype(np.float64)
        if not np.isfinite(features).all():
            raise ValueError(
                f"{self.name} returned NaN or infinite values for {what} images "
                f"{first_index}..{first_index + valid - 1}"
            )
        return features
