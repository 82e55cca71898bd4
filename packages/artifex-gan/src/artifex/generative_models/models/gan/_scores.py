"""Discriminator outputs in the space a network declares (probabilities or logits)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["scores_from_logits"]


def scores_from_logits(logits: Any, score_type: str) -> jax.Array:
    """Logits in the discriminator's declared score space (probabilities or logits)."""
    logits = jnp.asarray(logits)
    return jax.nn.sigmoid(logits) if score_type == "probabilities" else logits
