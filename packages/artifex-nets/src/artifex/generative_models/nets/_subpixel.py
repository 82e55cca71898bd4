"""Strided transposed convolutions without multiplying by inserted zeros (sub-pixel form).

A stride-``s`` transposed convolution is, as ``lax.conv_transpose`` writes it, a stride-1
correlation over the input *dilated* by ``s`` (``s - 1`` zeros between pixels): for a 4x4
kernel and stride 2, three multiplications in four are by an inserted zero. XLA:CPU runs
it that way (and so the weight gradient of the transposed convolution and the input
gradient of a strided convolution, which are the same kind of lhs-dilated convolution),
so on CPU the generator's layers cost about four times their arithmetic.

The sub-pixel form computes the same numbers without the zeros: output pixel ``s*m + r``
(phase ``r`` along an axis) only ever meets the kernel taps ``t = t0(r), t0 + s, ...``, so
each of the ``s*s`` phases is a small stride-1 correlation of the *undilated* input with
the kernel's taps ``w[t0h::sh, t0w::sw]`` (2x2 for a 4x4 kernel, stride 2); the phases are
then interleaved (depth-to-space). It is exact: the same products are summed, only the
zero ones are skipped (the summation order differs, so results agree to float rounding).

:func:`dilated_conv` is that operation with a ``jax.custom_vjp`` whose backward pass is
also free of dilation: the input gradient is one stride-``s`` convolution of the output
gradient, the kernel gradient the stride-1 weight gradients of the phases. Kernel
gradients (of both functions) are summed over slices of the batch, which XLA:CPU runs
faster than one convolution contracting the whole batch (``_KERNEL_GRAD_ROWS``).
:func:`strided_conv` is a plain strided convolution whose input gradient (an lhs-dilated
convolution of the output gradient) goes through :func:`dilated_conv`.

:class:`SubpixelConvTranspose` and :class:`SubpixelConv` are ``nnx.ConvTranspose`` /
``nnx.Conv`` with these kernels: same parameters (names, shapes, initialisation), so a
checkpoint of one loads into the other. :func:`use_subpixel` says whether the automatic
choice takes them (on CPU backends, where they are faster; see
``benchmarks/results/RESULTS.md``); ``ARTIFEX_SUBPIXEL=1`` / ``0`` forces either.

Only reverse-mode differentiation is available through the custom VJPs (``jax.grad`` and
gradients of gradients, e.g. gradient penalties); forward mode (``jax.jvp``) is not.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from typing import Any, Literal

import jax
import jax.numpy as jnp
from flax import nnx
from jax import lax

__all__ = [
    "SubpixelChoice",
    "SubpixelConv",
    "SubpixelConvTranspose",
    "dilated_conv",
    "strided_conv",
    "transpose_padding",
    "use_subpixel",
]

Pads = tuple[tuple[int, int], ...]
SubpixelChoice = bool | Literal["auto"]
_DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def use_subpixel(choice: SubpixelChoice = "auto") -> bool:
    """Whether the sub-pixel kernels are used for ``choice`` (``"auto"``, True or False).

    ``"auto"`` is ``ARTIFEX_SUBPIXEL`` when set (``1``/``0``), else True on a CPU default
    backend (where XLA runs lhs-dilated convolutions on the zeros) and False elsewhere.
    """
    if choice is True or choice is False:
        return choice
    if choice != "auto":
        raise ValueError(f"subpixel must be 'auto', True or False, got {choice!r}")
    forced = os.environ.get("ARTIFEX_SUBPIXEL")
    if forced is not None:
        if forced not in ("0", "1"):
            raise ValueError(
                f"ARTIFEX_SUBPIXEL must be '1' (force the sub-pixel kernels) or '0' (force "
                f"the plain ones), got {forced!r}; unset it for the automatic choice"
            )
        return forced == "1"
    return jax.default_backend() == "cpu"


def transpose_padding(kernel: int, stride: int, padding: str | tuple[int, int]) -> tuple[int, int]:
    """The ``(low, high)`` padding of the dilated input that ``lax.conv_transpose`` uses."""
    if padding == "SAME":
        total = kernel + stride - 2
        low = kernel - 1 if stride > kernel - 1 else -(-total // 2)
        return low, total - low
    if padding == "VALID":
        return kernel - 1, kernel + stride - 2 + max(kernel - stride, 0) - (kernel - 1)
    assert not isinstance(padding, str)
    return int(padding[0]), int(padding[1])


def _conv(x: jax.Array, w: jax.Array, strides: Sequence[int], pads: Sequence[Any]) -> jax.Array:
    """``conv_general_dilated`` (NHWC/HWIO) with negative pads applied as crops first.

    XLA's convolution takes negative padding in principle, but slicing is never wrong and
    leaves the convolution in the plain, well-trodden form.
    """
    starts = [0] + [max(0, -lo) for lo, _ in pads] + [0]
    stops = [x.shape[0]] + [x.shape[1 + a] - max(0, -hi) for a, (_, hi) in enumerate(pads)]
    x = lax.slice(x, starts, [*stops, x.shape[3]])
    kept = [(max(0, lo), max(0, hi)) for lo, hi in pads]
    return lax.conv_general_dilated(x, w, tuple(strides), kept, dimension_numbers=_DIMENSIONS)


def _phase(size: int, kernel: int, stride: int, pads: tuple[int, int], r: int) -> Any:
    """Phase ``r`` of one axis: ``(first tap, output count, (pad low, pad high))`` or None.

    Output ``stride*m + r`` is the sum over ``j`` of ``x[m + d + j] * w[t0 + stride*j]``
    with ``t0 = (low - r) mod stride`` and ``d = (r + t0 - low) / stride``; the input is
    padded (or cropped, when negative) so that a VALID stride-1 correlation gives it.
    """
    low, high = pads
    length = (size - 1) * stride + 1 + low + high - kernel + 1
    count = max(0, -(-(length - r) // stride))
    t0 = (low - r) % stride
    taps = len(range(t0, kernel, stride))
    if count == 0 or taps == 0:
        return None if count == 0 else (t0, count, None)
    d = (r + t0 - low) // stride
    return t0, count, (-d, (count - 1 + d + taps - 1) - (size - 1))


def _phases_conv(x: jax.Array, w: jax.Array, strides: Sequence[int], pads: Pads) -> jax.Array:
    """``conv_general_dilated(x, w, 1, pads, lhs_dilation=strides)`` by phases (NHWC/HWIO)."""
    (sh, sw), (kh, kw) = strides, w.shape[:2]
    batch, height, width = x.shape[:3]
    out_h = (height - 1) * sh + 1 + sum(pads[0]) - kh + 1
    out_w = (width - 1) * sw + 1 + sum(pads[1]) - kw + 1
    rows_h, rows_w = -(-out_h // sh), -(-out_w // sw)
    dtype = jnp.result_type(x, w)
    rows = []
    for rh in range(sh):
        cols = []
        for rw in range(sw):
            ph = _phase(height, kh, sh, pads[0], rh)
            pw = _phase(width, kw, sw, pads[1], rw)
            shape = (batch, rows_h, rows_w, w.shape[3])
            if ph is None or pw is None or ph[2] is None or pw[2] is None:
                cols.append(jnp.zeros(shape, dtype))  # no tap or no output in this phase
                continue
            part = _conv(x, w[ph[0] :: sh, pw[0] :: sw], (1, 1), (ph[2], pw[2]))
            # A last phase can be one row short of the first: pad it to the common size.
            extra = ((0, 0), (0, rows_h - ph[1]), (0, rows_w - pw[1]), (0, 0))
            cols.append(jnp.pad(part, extra) if ph[1] < rows_h or pw[1] < rows_w else part)
        rows.append(jnp.stack(cols, axis=3))  # (B, Mh, Mw, sw, C)
    y = jnp.stack(rows, axis=2)  # (B, Mh, sh, Mw, sw, C): depth-to-space by reshape
    y = y.reshape(batch, rows_h * sh, rows_w * sw, w.shape[3])
    return y[:, :out_h, :out_w]


# Below this many output features XLA's own lhs-dilated convolution computes the primal
# faster than the phases: their GEMMs are too thin and the interleave of a thin array costs
# more than the skipped zeros save. At batch 64, 32->64 pixels, 64 input features, XLA's /
# the phases' forward ms: 31 / 74 (3 outputs), 123 / 124 (8), 244 / 181 (16), 371 / 211 (32)
# (benchmarks/results/cpu_speed_session6.md). The gradients keep the phase form: XLA's
# kernel gradient on the dilated input is the slow part at every width.
_MIN_PHASE_FEATURES = 8


def _dilated_primal(x: jax.Array, w: jax.Array, strides: Sequence[int], pads: Pads) -> jax.Array:
    """The lhs-dilated convolution's value: by phases, or XLA's own for thin outputs."""
    if w.shape[3] < _MIN_PHASE_FEATURES:
        return lax.conv_general_dilated(
            x, w, (1, 1), pads, lhs_dilation=tuple(strides), dimension_numbers=_DIMENSIONS
        )
    return _phases_conv(x, w, strides, pads)


# XLA:CPU computes a kernel gradient as one convolution whose contraction runs over the
# batch and the output pixels; past ~2k rows (examples x output pixels) it gets slower per
# row, so the sum of the same gradient over slices of the batch is faster. Per layer, b64,
# one piece / slices of 2,048 rows, ms (benchmarks/results/cpu_speed_session7.md): G
# 128->64 16->32 1,585 / 250, D 64->128 32->16 315 / 127, D 3->64 47 / 29; below 2k rows
# slicing only adds ops (G 512->256 4->8, 1,024 rows: 366 / 760 in 4 slices). Thin
# outputs are left whole (G 64->3: 229 in one piece, 376-570 in 16-32 slices).
_KERNEL_GRAD_ROWS = 2048

# The sliced sum is verified on jax 0.10.2 and 0.12.1; jaxlib 0.7.1's XLA:CPU miscompiles it
# under jit (a strided convolution's kernel gradient off by up to 15 on a 7-example batch in
# 5 + 2 slices, while the same code run op by op is right), and the versions between are
# untested, so they keep the whole-batch gradient: slower, never wrong.
_SLICED_KERNEL_GRADS = tuple(int(part) for part in jax.__version__.split(".")[:2]) >= (0, 10)


def _kernel_grad(conv: Any, x: jax.Array, w: jax.Array, dy: jax.Array, *, pixels: int) -> jax.Array:
    """The kernel gradient of ``conv(x, w)`` for ``dy``, summed over slices of the batch.

    Each slice holds at most ``_KERNEL_GRAD_ROWS`` rows (examples x ``pixels``, the output
    pixels of one example in the convolution that contracts them) and at least one
    example; the sum is the same gradient (examples are independent), only the summation
    order differs. Thin outputs (fewer than ``_MIN_PHASE_FEATURES``) stay in one piece.
    """
    if not _SLICED_KERNEL_GRADS or w.shape[3] < _MIN_PHASE_FEATURES:
        # Thin outputs: slicing measured no gain, or a loss. Old jax: see above.
        per_slice = x.shape[0]
    else:
        per_slice = max(1, _KERNEL_GRAD_ROWS // pixels)
    total = None
    for start in range(0, x.shape[0], per_slice):
        xs, dys = x[start : start + per_slice], dy[start : start + per_slice]
        (part,) = jax.vjp(lambda kernel, xs=xs: conv(xs, kernel), w)[1](dys)
        total = part if total is None else total + part
    assert total is not None
    return total


def _flip_swap(w: jax.Array) -> jax.Array:
    """The kernel of the adjoint: spatially flipped, input and output features swapped."""
    return jnp.swapaxes(w[::-1, ::-1], 2, 3)


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def dilated_conv(x: jax.Array, w: jax.Array, strides: tuple[int, int], pads: Pads) -> jax.Array:
    """``lax.conv_general_dilated(x, w, (1, 1), pads, lhs_dilation=strides)``, NHWC/HWIO.

    Computed by phases (no multiplication by an inserted zero), forward and backward,
    except the value for fewer than 8 output features, which is XLA's own (faster there).
    ``pads`` are the ``(low, high)`` pads of the dilated input per spatial axis (may be
    negative). ``lax.conv_transpose(x, w, strides, padding)`` is this with
    ``pads = transpose_padding(...)`` per axis.
    """
    return _dilated_primal(x, w, strides, pads)


def _dilated_fwd(x: jax.Array, w: jax.Array, strides: tuple[int, int], pads: Pads) -> Any:
    return _dilated_primal(x, w, strides, pads), (x, w)


def _dilated_bwd(strides: tuple[int, int], pads: Pads, saved: Any, dy: jax.Array) -> Any:
    x, w = saved
    # d/dx: output pixel i of the dilated-padded input sits at low + s*i; the gradient there
    # is the full correlation of dy with the flipped kernel, i.e. one stride-s convolution.
    dx_pads: list[tuple[int, int]] = []
    for axis in range(2):
        k, s, low = w.shape[axis], strides[axis], pads[axis][0]
        n, out = x.shape[1 + axis], dy.shape[1 + axis]
        dx_pads.append((k - 1 - low, s * (n - 1) + 1 + low - out))
    adjoint = _flip_swap(w)
    dx = _conv(dy, adjoint, strides, dx_pads).astype(x.dtype)
    if w.shape[3] < _MIN_PHASE_FEATURES:
        return dx, _thin_kernel_grad(x, adjoint, dy, strides, dx_pads).astype(w.dtype)
    # d/dw: the stride-1 weight gradients of the phases (autodiff of the phase form),
    # batch-chunked; each phase's output has about 1/(sh*sw) of dy's pixels.
    pixels = -(-dy.shape[1] // strides[0]) * -(-dy.shape[2] // strides[1])
    dw = _kernel_grad(lambda a, b: _phases_conv(a, b, strides, pads), x, w, dy, pixels=pixels)
    return dx, dw.astype(w.dtype)


def _thin_kernel_grad(
    x: jax.Array,
    adjoint: jax.Array,
    dy: jax.Array,
    strides: tuple[int, int],
    adjoint_pads: Sequence[tuple[int, int]],
) -> jax.Array:
    """The kernel gradient of a thin ``dilated_conv`` through its adjoint strided convolution.

    ``<dilated_conv(x, w), dy> = <x, conv(dy, adjoint, strides, adjoint_pads)>`` with
    ``adjoint = flip_swap(w)`` and the input gradient's pads (``_dilated_bwd``'s
    ``dx_pads``: ``(k - 1 - low, s*(m - 1) + low - (n - 1))`` per axis, ``m`` input pixels,
    ``n`` output pixels; a negative pad is a crop), so ``dw`` is the flip-swap of that
    strided convolution's kernel gradient at ``dy`` for cotangent ``x``. Its output
    features are the layer's inputs, so the contraction is not thin:
    XLA:CPU runs it on its fast convolution path, where the phases' kernel gradients with
    3 output features run on the generic one (G 64->3 at 32->64 pixels, ms: 10.4 / 2.3 at
    batch 16, 42.6 / 6.0 at 64, 233 / 40 at 128; benchmarks/results/cpu_speed_session8.md).
    """

    def conv(a: jax.Array, b: jax.Array) -> jax.Array:
        return _conv(a, b, strides, adjoint_pads)

    return _flip_swap(_kernel_grad(conv, dy, adjoint, x, pixels=x.shape[1] * x.shape[2]))


dilated_conv.defvjp(_dilated_fwd, _dilated_bwd)


@partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def strided_conv(x: jax.Array, w: jax.Array, strides: tuple[int, int], pads: Pads) -> jax.Array:
    """``lax.conv_general_dilated(x, w, strides, pads)`` (NHWC/HWIO), input gradient by phases.

    The forward pass and the kernel gradient are XLA's own; the input gradient, an
    lhs-dilated convolution of the output gradient, is :func:`dilated_conv`.
    """
    return lax.conv_general_dilated(x, w, strides, pads, dimension_numbers=_DIMENSIONS)


def _strided_fwd(x: jax.Array, w: jax.Array, strides: tuple[int, int], pads: Pads) -> Any:
    return strided_conv(x, w, strides, pads), (x, w)


def _strided_bwd(strides: tuple[int, int], pads: Pads, saved: Any, dy: jax.Array) -> Any:
    x, w = saved
    dx_pads = []
    for axis in range(2):
        k, s, low = w.shape[axis], strides[axis], pads[axis][0]
        n, out = x.shape[1 + axis], dy.shape[1 + axis]
        high = n + k - 2 - (out - 1) * s - (k - 1 - low)  # so that dx has n pixels
        dx_pads.append((k - 1 - low, high))
    dx = dilated_conv(dy, _flip_swap(w), strides, tuple(dx_pads)).astype(x.dtype)
    dw = _kernel_grad(
        lambda a, b: lax.conv_general_dilated(a, b, strides, pads, dimension_numbers=_DIMENSIONS),
        x,
        w,
        dy,
        pixels=dy.shape[1] * dy.shape[2],
    )
    return dx, dw.astype(w.dtype)


strided_conv.defvjp(_strided_fwd, _strided_bwd)


def _explicit_pads(padding: Any, kernel: Sequence[int], strides: Sequence[int], shape: Any) -> Pads:
    """A strided convolution's ``(low, high)`` pads per axis, as ``lax`` resolves them."""
    if isinstance(padding, str):
        return tuple(
            (int(lo), int(hi))
            for lo, hi in lax.padtype_to_pads(shape[1:3], kernel, strides, padding)
        )
    return tuple((int(lo), int(hi)) for lo, hi in padding)


def _pairs(value: Any) -> tuple[int, int]:
    if value is None:
        return (1, 1)
    return (value, value) if isinstance(value, int) else tuple(value)


def _plain_case(layer: Any, inputs: jax.Array) -> bool:
    """Whether the sub-pixel path applies: 2-D, one batch axis, no mask/kernel dilation."""
    return (
        len(layer.kernel_size) == 2
        and inputs.ndim == 4
        and layer.mask is None
        and _pairs(layer.kernel_dilation) == (1, 1)
        and _pairs(layer.strides) != (1, 1)
        and layer.preferred_element_type is None
        and layer.precision is None
        and not (isinstance(layer.padding, str) and layer.padding not in ("SAME", "VALID"))
        and not isinstance(layer.padding, int)
    )


class SubpixelConvTranspose(nnx.ConvTranspose):
    """``nnx.ConvTranspose`` computed in sub-pixel form (:func:`dilated_conv`).

    The same parameters as ``nnx.ConvTranspose`` (``kernel`` ``(kh, kw, in, out)``,
    ``bias``) and the same numbers; cases the sub-pixel form does not cover (masks, kernel
    dilation, circular padding, not 2-D, ``transpose_kernel``, a set precision) fall back
    to the plain layer.
    """

    def __call__(self, inputs: jax.Array) -> jax.Array:
        """Apply the transposed convolution to an NHWC batch."""
        if not _plain_case(self, inputs) or self.transpose_kernel:
            return super().__call__(inputs)
        strides = _pairs(self.strides)
        padding: Any = self.padding
        pads = tuple(
            transpose_padding(k, s, padding if isinstance(padding, str) else tuple(padding[axis]))
            for axis, (k, s) in enumerate(zip(self.kernel_size, strides, strict=True))
        )
        bias = self.bias[...] if self.bias is not None else None
        x, kernel, bias = self.promote_dtype((inputs, self.kernel[...], bias), dtype=self.dtype)
        y = dilated_conv(x, kernel, strides, pads)
        return y if bias is None else y + bias


class SubpixelConv(nnx.Conv):
    """``nnx.Conv`` whose input gradient is computed in sub-pixel form (:func:`strided_conv`).

    Same parameters and forward numbers as ``nnx.Conv``; the cases :func:`strided_conv`
    does not cover (stride 1, masks, dilation, feature groups, not 2-D, circular or causal
    padding, a set precision) fall back to the plain layer.
    """

    def __call__(self, inputs: jax.Array, out_sharding: Any = None) -> jax.Array:
        """Apply the convolution to an NHWC batch."""
        if not _plain_case(self, inputs) or self.feature_group_count != 1 or out_sharding:
            return super().__call__(inputs, out_sharding=out_sharding)
        strides = _pairs(self.strides)
        padding: Any = self.padding
        if not isinstance(padding, str):
            padding = tuple(tuple(pair) for pair in padding)
        pads = _explicit_pads(padding, self.kernel_size, strides, inputs.shape)
        bias = self.bias[...] if self.bias is not None else None
        x, kernel, bias = self.promote_dtype((inputs, self.kernel[...], bias), dtype=self.dtype)
        y = strided_conv(x, kernel, strides, pads)
        return y if bias is None else y + bias
