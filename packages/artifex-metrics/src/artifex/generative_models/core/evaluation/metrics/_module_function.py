"""An NNX module's method as a plain function of images whose weights travel as arguments.

Arrays closed over by a ``jax.jit`` function are baked into the compiled program as
constants, which makes compiling a 24M-parameter InceptionV3 several times slower; a
``ModuleFunction`` hands its weights to compiled code as ordinary arguments instead.
"""

from __future__ import annotations

from typing import Any

import jax
from flax import nnx


class ModuleFunction:
    """A method of an NNX module, callable on images, with a pure ``apply(weights, images)``.

    The metrics recognise the pair ``weights`` / ``apply`` and compile
    ``apply(weights, images)`` with the weights as arguments; any object with both
    attributes (and optionally ``input_range``) is treated the same way.

    Args:
        module: The network (used in inference mode: it must not update its state).
        method: Name of the method to call, e.g. ``"features"`` or ``"probabilities"``.
        input_range: Pixel range the network expects, checked on every batch by the metrics.
    """

    def __init__(
        self, module: nnx.Module, method: str, *, input_range: tuple[float, float] = (-1.0, 1.0)
    ) -> None:
        if not callable(getattr(module, method, None)):
            raise ValueError(f"{type(module).__name__} has no method {method!r}")
        self.graphdef, self.weights = nnx.split(module)
        self.method = method
        self._name = f"{type(module).__name__}.{method}"
        self.input_range = input_range
        self._compiled = jax.jit(self.apply)

    def apply(self, weights: Any, images: Any) -> jax.Array:
        """The method's output for ``images``, with the module's weights set to ``weights``."""
        module = nnx.merge(self.graphdef, weights)
        return getattr(module, self.method)(images)

    def __call__(self, images: Any) -> jax.Array:
        """The method's output for a batch of images (compiled)."""
        return self._compiled(self.weights, images)

    def __repr__(self) -> str:
        return f"ModuleFunction({self._name})"
