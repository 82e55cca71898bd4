"""Train the bundled digits classifier and record its accuracy and the reference scores.

Reproducible: fixed seeds for initialisation and batch order, no data augmentation, a
fixed number of epochs; the held-out split is never used for any choice, only measured.
Needs ``optax`` besides the package's own dependencies::

    JAX_PLATFORMS=cpu python packages/artifex-metrics/scripts/train_digits_classifier.py

Writes, next to the digits data in the package:

* ``digits_classifier.npz`` — the weights, named by module path (no pickle);
* ``digits_classifier.json`` — test accuracy, training settings, versions, and the
  "floor" scores of the held-out split against the training split: FID, KID and the
  Inception Score of real held-out digits, which every generative model is measured against.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from artifex.generative_models.core.evaluation.metrics import (
    FrechetInceptionDistance,
    InceptionScore,
    KernelInceptionDistance,
    PrecisionRecall,
)
from artifex.generative_models.core.evaluation.metrics._params_io import save_arrays
from artifex.generative_models.core.evaluation.metrics.digits import (
    DigitsClassifierNetwork,
    digits_classifier,
    digits_feature_extractor,
    load_digits,
)

SEED = 0
EPOCHS = 60
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 0.1
LABEL_SMOOTHING = 0.0
KID_SUBSET_SIZE = 300
DATA_DIR = (
    Path(__file__).resolve().parents[1]
    / "src/artifex/generative_models/core/evaluation/metrics/data"
)


def train() -> DigitsClassifierNetwork:
    """The network after ``EPOCHS`` epochs of AdamW on the training split."""
    images, labels = load_digits("train")
    model = DigitsClassifierNetwork(rngs=nnx.Rngs(SEED))
    optimizer = nnx.Optimizer(
        model, optax.adamw(LEARNING_RATE, weight_decay=WEIGHT_DECAY), wrt=nnx.Param
    )

    @nnx.jit
    def step(model: DigitsClassifierNetwork, optimizer: nnx.Optimizer, x, y):  # type: ignore[no-untyped-def]
        def loss_fn(model: DigitsClassifierNetwork) -> jax.Array:
            targets = optax.smooth_labels(jax.nn.one_hot(y, 10), LABEL_SMOOTHING)
            return optax.softmax_cross_entropy(model(x), targets).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    order_rng = np.random.default_rng(SEED)
    steps = len(labels) // BATCH_SIZE  # the remainder of each shuffled epoch is dropped
    for epoch in range(EPOCHS):
        order = order_rng.permutation(len(labels))
        losses = []
        for index in range(steps):
            batch = order[index * BATCH_SIZE : (index + 1) * BATCH_SIZE]
            losses.append(float(step(model, optimizer, jnp.asarray(images[batch]), labels[batch])))
        if epoch % 10 == 9:
            print(f"epoch {epoch + 1}: training loss {np.mean(losses):.4f}")
    return model


def accuracy(model: DigitsClassifierNetwork, split: str) -> float:
    """Share of correctly classified images of ``split``."""
    images, labels = load_digits(split)  # type: ignore[arg-type]
    predictions = np.asarray(jnp.argmax(model(jnp.asarray(images)), axis=-1))
    return float((predictions == labels).mean())


def reference_scores() -> dict[str, float]:
    """Scores of the real held-out digits against the training digits, via the shipped files."""
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    features = digits_feature_extractor()
    scores = {}
    scores.update(FrechetInceptionDistance(features).compute(train_images, test_images))
    kid = KernelInceptionDistance(features, subset_size=KID_SUBSET_SIZE)
    scores.update(kid.compute(train_images, test_images))
    scores.update(PrecisionRecall(features).compute(train_images, test_images))
    inception = InceptionScore(digits_classifier()).compute(test_images, splits=10)
    scores.update({f"test_{name}": value for name, value in inception.items()})
    return scores


def main() -> None:
    """Train, save the weights, then record accuracy and reference scores."""
    model = train()
    record = {
        "test_accuracy": accuracy(model, "test"),
        "train_accuracy": accuracy(model, "train"),
        "test_samples": len(load_digits("test").labels),
        "train_samples": len(load_digits("train").labels),
        "architecture": (
            "conv3x3(16)-gelu, conv3x3/2(32)-gelu, dense(64)-gelu [features], dense(10)"
        ),
        "training": {
            "seed": SEED,
            "epochs": EPOCHS,
            "batch_size": BATCH_SIZE,
            "optimizer": f"adamw(lr={LEARNING_RATE}, weight_decay={WEIGHT_DECAY})",
            "loss": f"softmax cross-entropy, label smoothing {LABEL_SMOOTHING}",
        },
        "versions": {
            "python": platform.python_version(),
            "jax": jax.__version__,
            "flax": flax.__version__,
            "optax": optax.__version__,
            "numpy": np.__version__,
        },
    }
    save_arrays(model, DATA_DIR / "digits_classifier.npz")
    # The reference scores are computed through the files just written, as users will.
    record["reference_scores"] = {
        "description": "real held-out split vs real training split (the floor of any model); "
        f"KID over 100 subsets of {KID_SUBSET_SIZE}; IS of the held-out split, 10 splits",
        **reference_scores(),
    }
    (DATA_DIR / "digits_classifier.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
