r"""Converting pytorch-fid's InceptionV3 weights to the ``.npz`` that :class:`InceptionV3` loads.

pytorch-fid (https://github.com/mseitzer/pytorch-fid) publishes the TensorFlow 2015
FID Inception weights as a PyTorch state dict, ``pt_inception-2015-12-05-6726825d.pth``.
Conversion, done once where PyTorch is installed::

    python packages/artifex-metrics/scripts/convert_inception_weights.py \
        pt_inception-2015-12-05-6726825d.pth inception_fid.npz

The script only reads the ``.pth`` with PyTorch; everything else is here, in pure
functions of NumPy arrays that the package tests without PyTorch.

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

from collections.abc import Mapping
from typing import Any

import numpy as np

from artifex.generative_models.core.evaluation.metrics._params_io import module_shapes
from artifex.generative_models.core.evaluation.metrics.inception import abstract_inception_v3

__all__ = ["convert_pytorch_fid_state_dict", "expected_inception_shapes", "pytorch_fid_name"]

PYTORCH_FID_WEIGHTS = "pt_inception-2015-12-05-6726825d.pth"
"""The file name pytorch-fid downloads its FID Inception weights to."""

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
