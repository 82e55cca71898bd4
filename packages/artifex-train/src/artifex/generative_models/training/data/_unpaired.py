"""Two unpaired image domains for CycleGAN: ``{"image_a", "image_b"}`` examples."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from artifex.generative_models.training.data._sources import Example, ImageSource

__all__ = ["DOMAIN_TRANSFORMS", "TransformedSource", "UnpairedSource"]


class UnpairedSource(ImageSource):
    """Domains A and B of possibly different sizes, drawn independently of each other.

    As a plain sequence, example ``i`` pairs ``a[i % len(a)]`` with ``b[i % len(b)]``
    and the length is the larger domain's. :func:`make_pipeline` does better: it
    shuffles each domain with its own seed, each epoch anew, so no pairing ever repeats
    systematically; an epoch is ``len(self)`` examples, and the smaller domain simply
    starts its next shuffled pass when it runs out.

    Labels are not delivered: CycleGAN is not class-conditional.

    Args:
        domain_a: Source of domain A.
        domain_b: Source of domain B; same ``layout`` and ``value_range`` as A (its image
            shape may differ: see ``image_shape_b``).

    Attributes:
        image_shape: Per-image shape of domain A.
        image_shape_b: Per-image shape of domain B.
    """

    def __init__(self, domain_a: ImageSource, domain_b: ImageSource) -> None:
        for label, domain in (("domain_a", domain_a), ("domain_b", domain_b)):
            if not isinstance(domain, ImageSource) or isinstance(domain, UnpairedSource):
                raise TypeError(f"{label} must be a single-domain ImageSource, got {domain!r}")
        if domain_a.layout != domain_b.layout or domain_a.value_range != domain_b.value_range:
            raise ValueError(
                "the two domains must deliver the same layout and value range, got "
                f"{domain_a.layout} {domain_a.value_range} for A and "
                f"{domain_b.layout} {domain_b.value_range} for B"
            )
        self.domain_a, self.domain_b = domain_a, domain_b
        self.name = f"unpaired({domain_a.name} | {domain_b.name})"
        self.image_shape = domain_a.image_shape
        self.image_shape_b = domain_b.image_shape
        self.layout = domain_a.layout
        self.value_range = domain_a.value_range

    def __len__(self) -> int:
        return max(len(self.domain_a), len(self.domain_b))

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Example:
        """Examples at ``indices``: A and B each taken modulo their own length."""
        rows = self._indices(indices)
        return self.get_pairs(rows % len(self.domain_a), rows % len(self.domain_b))

    def get_pairs(self, indices_a: np.ndarray, indices_b: np.ndarray) -> Example:
        """``{"image_a": A[indices_a], "image_b": B[indices_b]}``, stacked."""
        return {
            "image_a": self.domain_a.get_batch(indices_a)["image"],
            "image_b": self.domain_b.get_batch(indices_b)["image"],
        }

    def check(self, *, sample: int | None = None) -> None:
        """Check both domains (see :meth:`ImageSource.check`)."""
        self.domain_a.check(sample=sample)
        self.domain_b.check(sample=sample)


DOMAIN_TRANSFORMS = ("invert", "flip", "transpose")
"""How :class:`TransformedSource` can derive a second domain from a source."""


class TransformedSource(ImageSource):
    """Another domain made from ``source`` by a fixed, exactly known image transform.

    * ``"invert"``: ``low + high - x``, negation within ``value_range`` (dark on light);
    * ``"flip"``: mirrored left-right;
    * ``"transpose"``: rows and columns swapped (square images only).

    Paired with its source in an :class:`UnpairedSource`, it gives CycleGAN two domains
    whose true translation is known, so a run can be scored against it.

    Args:
        source: A single-domain source.
        transform: One of ``DOMAIN_TRANSFORMS``.
    """

    def __init__(self, source: ImageSource, transform: str) -> None:
        if transform not in DOMAIN_TRANSFORMS:
            raise ValueError(
                f"transform={transform!r}: must be one of {', '.join(DOMAIN_TRANSFORMS)}"
            )
        height_axis = 0 if source.layout == "NHWC" else 1
        if transform == "transpose":
            height, width = source.image_shape[height_axis : height_axis + 2]
            if height != width:
                raise ValueError(
                    f"transform='transpose' needs square images, {source.name} has {height}x{width}"
                )
        self.source, self.transform = source, transform
        self.name = f"{transform}({source.name})"
        self.image_shape = source.image_shape
        self.layout = source.layout
        self.value_range = source.value_range
        self.labels, self.num_classes = source.labels, source.num_classes
        self.class_names = source.class_names
        # Batch axes: height and width of the stacked images.
        self._axes = (1, 2) if self.layout == "NHWC" else (2, 3)

    def __len__(self) -> int:
        return len(self.source)

    def get_batch(self, indices: Sequence[int] | np.ndarray) -> Example:
        """The source's examples at ``indices``, transformed."""
        example = dict(self.source.get_batch(indices))
        images = example["image"]
        if self.transform == "invert":
            low, high = self.value_range
            images = (low + high) - images
        elif self.transform == "flip":
            images = np.flip(images, axis=self._axes[1])
        else:
            images = np.swapaxes(images, *self._axes)
        example["image"] = np.ascontiguousarray(images, dtype=np.float32)
        return example

    def check(self, *, sample: int | None = None) -> None:
        """Check the underlying source."""
        self.source.check(sample=sample)
