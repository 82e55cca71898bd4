"""Precision chosen when a network is built: compute ``dtype`` and ``param_dtype``.

Every network config carries ``dtype`` (activations, matmuls, convolutions) and
``param_dtype`` (parameter storage) as names; :func:`layer_dtypes` turns them into the
keyword arguments each layer takes, Flax's own and ours alike. A layer stores its
parameters in ``param_dtype`` and casts them, with its inputs, to ``dtype`` where they are
used (``flax.nnx.nn.dtypes.promote_dtype``), so gradients reach the stored parameters in
their own dtype. Normalization statistics (BatchNorm's running mean and variance, spectral
norm's power-iteration state) stay float32 whatever the two dtypes.

:func:`compute_dtypes` reads the precision back from a built module, so a trainer can
refuse a model built in another precision than it was asked to train in.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from flax import nnx

__all__ = ["compute_dtypes", "layer_dtypes"]


def layer_dtypes(config: Any) -> dict[str, Any]:
    """The ``dtype`` / ``param_dtype`` keyword arguments of the layers ``config`` builds.

    Args:
        config: A network config with ``dtype`` and ``param_dtype`` fields (names such as
            ``"bfloat16"``); a config without them gives float32 for both.

    Returns:
        ``{"dtype": jnp.dtype, "param_dtype": jnp.dtype}``, to be spread into layer
        constructors.
    """
    return {
        "dtype": jnp.dtype(getattr(config, "dtype", "float32")),
        "param_dtype": jnp.dtype(getattr(config, "param_dtype", "float32")),
    }


def compute_dtypes(module: nnx.Module) -> set[str]:
    """The compute dtypes of the layers of a built module, by name (``{"bfloat16"}``).

    A layer is any submodule (the module included) with ``dtype`` and ``param_dtype``
    attributes: Flax's ``Linear``, ``Conv``, ``ConvTranspose``, ``Embed``, ``BatchNorm``,
    ``LayerNorm``, ``InstanceNorm``, ... and this package's own layers. A layer built with
    ``dtype=None`` infers its dtype from its inputs and parameters; given inputs no wider
    than its parameters that is ``param_dtype``, which is what is reported for it.

    A network built from a config with ``dtype="bfloat16"`` gives ``{"bfloat16"}``; a set
    with more than one entry means layers of one model compute in different precisions.

    Args:
        module: A built module (a network, a GAN model holding several, a layer).

    Returns:
        The dtype names; empty when the module has no such layer.
    """
    found: set[str] = set()
    for _, node in nnx.iter_graph(module):
        if not isinstance(node, nnx.Module):
            continue
        if not (hasattr(node, "dtype") and hasattr(node, "param_dtype")):
            continue
        dtype = node.dtype if node.dtype is not None else node.param_dtype
        found.add(jnp.dtype(dtype).name)
    return found
