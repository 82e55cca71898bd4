"""What every network of ``artifex-nets`` shares.

* **One source of truth.** A network is built from its typed config. The keyword style of
  the API reference (``DCGANGenerator(output_shape=..., latent_dim=..., rngs=...)``) is
  translated into that config by :func:`build_config`; the module only reads the config.
* **Mode.** ``module.train()`` / ``module.eval()`` set the ``deterministic`` flag that Flax
  NNX sets on every submodule; a call may override it with ``training=``.
* **Layout.** Compute is NHWC inside; arrays at the boundary keep the layout the config
  declared (see :mod:`artifex.generative_models.core.configuration.layout`).
* **Errors before compilation.** Inputs are checked against the config while tracing, so a
  wrong shape is a ``ValueError`` naming what was expected and what came.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
from flax import nnx

from artifex.generative_models.core.configuration.base import ConfigBase
from artifex.generative_models.core.configuration.layout import ImageLayout

C = TypeVar("C", bound=ConfigBase)

_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "elu": jax.nn.elu,
    "sigmoid": jax.nn.sigmoid,
    "linear": lambda x: x,
}


def activation_fn(name: str, leaky_relu_slope: float = 0.2) -> Callable[[jax.Array], jax.Array]:
    """The activation function a config names (``"leaky_relu"`` uses ``leaky_relu_slope``)."""
    if name == "leaky_relu":
        return lambda x: jax.nn.leaky_relu(x, negative_slope=leaky_relu_slope)
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(["leaky_relu", *_ACTIVATIONS])
        raise ValueError(f"unknown activation {name!r}; known: {known}") from None


def build_config(
    config_class: type[C],
    config: Any,
    options: Mapping[str, Any],
    *,
    owner: str,
    keyword_defaults: Mapping[str, Any] | None = None,
) -> C:
    """Translate either construction style into one validated ``config_class`` instance.

    Args:
        config_class: The typed config the network reads.
        config: A ``config_class`` instance, or None for the keyword style.
        options: Keyword arguments given to the network's constructor. With a config they
            are changes applied through ``config.replace``; without one they are the
            config's fields.
        owner: The network's class name, for error messages.
        keyword_defaults: Defaults of the keyword style where the API reference documents
            other defaults than the config class has.

    Returns:
        The config the network is built from.

    Raises:
        TypeError: ``config`` is of another type, or an option is not a field.
    """
    known = config_class.field_names()
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise TypeError(
            f"{owner}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
            f"it takes rngs, config and the fields of {config_class.__name__}: "
            f"{', '.join(known)}"
        )
    if config is None:
        fields = {**(keyword_defaults or {}), **options}
        return config_class(**fields)
    if not isinstance(config, config_class):
        raise TypeError(
            f"{owner}(config=...) needs a {config_class.__name__}, got {type(config).__name__}"
        )
    return config.replace(**options) if options else config


def with_stream(rngs: nnx.Rngs, name: str) -> nnx.Rngs:
    """``rngs`` if it has a stream ``name``; otherwise new Rngs with that stream.

    The user guide builds discriminators with ``nnx.Rngs(params=2)`` and then trains them
    with dropout. The missing stream is derived from the ``params`` key (folded with the
    stream's name, without drawing from it, so parameter initialisation is unchanged).
    """
    if name in rngs:
        return rngs
    if "params" in rngs:
        base = rngs["params"].key[...]
    elif "default" in rngs:
        base = rngs["default"].key[...]
    else:
        raise ValueError(f"cannot make an rng stream {name!r}: rngs has no params stream")
    salt = int.from_bytes(name.encode()[:4].ljust(4, b"\0"), "little")
    return nnx.Rngs(**{name: jax.random.fold_in(base, salt)})


class Network(nnx.Module):
    """Base of every generator and discriminator: the config, the mode, the checks.

    Attributes:
        config: The typed config the network was built from.
        deterministic: False in training mode (the default after construction), True
            after ``.eval()``. ``.train()`` / ``.eval()`` set it; ``training=`` in a call
            overrides it for that call.
    """

    config: Any

    def __init__(self, config: ConfigBase) -> None:
        self.config = config
        self.deterministic = False

    def is_training(self, training: bool | None) -> bool:
        """The mode of one call: ``training`` if given, else the module's mode."""
        if training is None:
            return not self.deterministic
        if not isinstance(training, bool):
            raise TypeError(f"training must be True, False or None, got {training!r}")
        return training


def check_batch(name: str, x: jax.Array, sample_shape: tuple[int, ...], owner: str) -> None:
    """Refuse ``x`` unless it is a batch of samples of ``sample_shape``."""
    shape = tuple(getattr(x, "shape", ()))
    if len(shape) != len(sample_shape) + 1 or shape[1:] != tuple(sample_shape):
        raise ValueError(
            f"{owner} expects {name} of shape (batch, {', '.join(map(str, sample_shape))}), "
            f"got {shape}"
        )


def to_nhwc(x: jax.Array, layout: ImageLayout) -> jax.Array:
    """A boundary batch in the declared layout, as NHWC for compute."""
    return x if layout.to_nhwc is None else jnp.transpose(x, layout.to_nhwc)


def from_nhwc(x: jax.Array, layout: ImageLayout) -> jax.Array:
    """An NHWC batch, in the layout declared at the boundary."""
    return x if layout.from_nhwc is None else jnp.transpose(x, layout.from_nhwc)
