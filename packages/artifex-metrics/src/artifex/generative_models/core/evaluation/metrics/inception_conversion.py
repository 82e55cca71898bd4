r"""Converting pytorch-fid's InceptionV3 weights to the ``.npz`` that :class:`InceptionV3` loads.

pytorch-fid (https://github.com/mseitzer/pytorch-fid) publishes the TensorFlow 2015
FID Inception weights as a PyTorch state dict, ``pt_inception-2015-12-05-6726825d.pth``.
Conversion, done once, needs no PyTorch (the ``.pth`` is read by a restricted unpickler that
never runs code, :func:`~._torch_pickle.read_torch_state_dict`)::

    artifex-metrics convert-inception pt_inception-2015-12-05-6726825d.pth

or :func:`convert_inception_weights` from Python; :func:`fetch_inception_weights` downloads
and converts on a machine with internet. The file's SHA-256 is checked against the
published one; the ``.npz`` goes to the cache (``$ARTIFEX_CACHE`` or ``~/.cache/artifex``),
where ``load_inception_v3()`` finds it.

The mapping is a renaming plus layout changes (:func:`convert_pytorch_fid_state_dict`):

==================================  =================================  ==================
PyTorch name                        ``.npz`` name                      array
==================================  =================================  ==================
``<block>.conv.weight``             ``<block>/conv/kernel``            OIHW → HWIO
``<block>.bn.weight``               ``<block>/bn/scale``               as is
``<block>.bn.bias``                 ``<block>/bn/bias``                as is
``<block>.bn.running_mean``         ``<block>/bn/mean``                as is
``<block>.bn.running_var``          ``<block>/bn/var``                 as is
``fc.weight``                       ``fc/kernel``                      (out, in) → (in, out)
``fc.bias``                         ``fc/bias``                        as is
``*.num_batches_tracked``           —                                  dropped
``AuxLogits.*``                     —                                  dropped (unused)
==================================  =================================  ==================

where ``<block>`` keeps its dots as slashes, e.g. ``Mixed_6b.branch7x7_2`` →
``Mixed_6b/branch7x7_2``. Every converted name and shape is checked against the
architecture, so a file from another network fails with the names that differ.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._params_io import module_shapes
from artifex.generative_models.core.evaluation.metrics._torch_pickle import read_torch_state_dict
from artifex.generative_models.core.evaluation.metrics._weights import (
    PYTORCH_FID_WEIGHTS,
    PYTORCH_FID_WEIGHTS_SHA256,
    PYTORCH_FID_WEIGHTS_URL,
    check_sha256,
    converted_inception_name,
    fetch_weights,
    file_sha256,
    write_atomically,
)
from artifex.generative_models.core.evaluation.metrics._weights import (
    cache_dir as resolve_cache_dir,
)
from artifex.generative_models.core.evaluation.metrics.inception import abstract_inception_v3

__all__ = [
    "PYTORCH_FID_WEIGHTS",
    "convert_inception_weights",
    "convert_pytorch_fid_state_dict",
    "expected_inception_shapes",
    "fetch_inception_weights",
    "pytorch_fid_name",
]

_BATCH_NORM_NAMES = {
    "weight": "scale",
    "bias": "bias",
    "running_mean": "mean",
    "running_var": "var",
}


def pytorch_fid_name(torch_name: str) -> str | None:
    """The ``.npz`` name of one pytorch-fid state-dict entry; ``None`` for dropped entries.

    Raises:
        ValueError: The name fits none of the patterns in the module docstring.
    """
    parts = torch_name.split(".")
    if parts[-1] == "num_batches_tracked" or parts[0] == "AuxLogits":
        return None
    if parts[0] == "fc" and len(parts) == 2 and parts[1] in ("weight", "bias"):
        return f"fc/{'kernel' if parts[1] == 'weight' else 'bias'}"
    if len(parts) >= 3 and parts[-2] == "conv" and parts[-1] == "weight":
        return "/".join(parts[:-1]) + "/kernel"
    if len(parts) >= 3 and parts[-2] == "bn" and parts[-1] in _BATCH_NORM_NAMES:
        return "/".join(parts[:-1]) + "/" + _BATCH_NORM_NAMES[parts[-1]]
    raise ValueError(f"{torch_name!r} is not a pytorch-fid InceptionV3 weight name")


def expected_inception_shapes(include_logits: bool = True) -> dict[str, tuple[int, ...]]:
    """``{npz name: shape}`` of every weight of :class:`InceptionV3` (computed abstractly)."""
    return module_shapes(abstract_inception_v3(include_logits=include_logits))


def convert_pytorch_fid_state_dict(state_dict: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """pytorch-fid InceptionV3 weights (NumPy arrays by name) as :class:`InceptionV3` weights.

    A pure function: pass ``{name: tensor.numpy()}``; PyTorch is not needed here.

    Args:
        state_dict: The state dict's entries as arrays, PyTorch layouts.

    Returns:
        ``{npz name: float32 array}`` in Flax layouts, ready for ``numpy.savez``.

    Raises:
        ValueError: Unknown names, missing weights or shapes that do not fit, all listed.
    """
    converted: dict[str, np.ndarray] = {}
    problems = []
    for torch_name, value in state_dict.items():
        try:
            name = pytorch_fid_name(torch_name)
        except ValueError as error:
            problems.append(str(error))
            continue
        if name is None:
            continue
        array = np.asarray(value, dtype=np.float32)
        if name.endswith("conv/kernel"):
            if array.ndim != 4:
                problems.append(f"{torch_name}: a conv weight must be 4-D, got {array.shape}")
                continue
            array = array.transpose(2, 3, 1, 0)
        elif name == "fc/kernel":
            array = array.T
        converted[name] = np.ascontiguousarray(array)
    expected = expected_inception_shapes(include_logits="fc/kernel" in converted)
    missing = sorted(set(expected) - set(converted))
    if missing:
        problems.append(f"missing {len(missing)} weights, e.g. {missing[:5]}")
    for name in sorted(set(converted) & set(expected)):
        if converted[name].shape != expected[name]:
            problems.append(
                f"{name}: converted shape {converted[name].shape}, expected {expected[name]}"
            )
    if problems:
        raise ValueError("not a pytorch-fid InceptionV3 state dict:\n  " + "\n  ".join(problems))
    return converted


def convert_inception_weights(
    path: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Convert pytorch-fid's ``.pth`` to an ``.npz`` in the cache, without PyTorch; its path.

    The file's SHA-256 must be pytorch-fid's published one unless ``sha256`` names another
    (your own copy, e.g. re-saved by a newer PyTorch). The ``.pth`` is read by a restricted
    unpickler that never runs code; the ``.npz`` is written atomically (a reader never sees
    half a file) and holds plain arrays (``np.load(..., allow_pickle=False)`` reads it). The
    standard weights land where :func:`load_inception_v3` looks by default; a file with
    another hash gets a name of its own (pass that path to ``load_inception_v3``).

    Args:
        path: The ``.pth`` file (zip or legacy PyTorch layout).
        sha256: The hash to accept instead of the published one: 64 hex digits or a
            prefix of at least 8.
        cache_dir: The folder; else ``$ARTIFEX_CACHE``, else ``~/.cache/artifex``.

    Returns:
        The converted file's path.

    Raises:
        ValueError: Another hash than expected, an unsafe or damaged pickle, or not the
            FID InceptionV3's weights (the names and shapes that differ are listed).
    """
    actual = file_sha256(path)
    check_sha256(actual, sha256 or PYTORCH_FID_WEIGHTS_SHA256, os.fspath(path))
    arrays = convert_pytorch_fid_state_dict(read_torch_state_dict(path))
    target = resolve_cache_dir(cache_dir) / converted_inception_name(actual)

    def write(stream: IO[bytes]) -> None:
        # numpy's stubs read **arrays as its keyword options; the names here are weight paths.
        savez: Any = np.savez
        savez(stream, **arrays)

    write_atomically(target, write)
    return target


def fetch_inception_weights(
    cache_dir: str | os.PathLike[str] | None = None, *, timeout: float = 60.0
) -> Path:
    """Download pytorch-fid's FID Inception weights (SHA-256 checked) and convert them.

    Needs internet once; the ``.pth`` and the converted ``.npz`` stay in the cache, and a
    second call downloads nothing.

    Returns:
        The converted file's path (where ``load_inception_v3()`` looks).
    """
    pth = fetch_weights(
        PYTORCH_FID_WEIGHTS_URL,
        sha256=PYTORCH_FID_WEIGHTS_SHA256,
        cache_dir=cache_dir,
        timeout=timeout,
    )
    return convert_inception_weights(pth, cache_dir=cache_dir)
