"""DCGAN (64x64) training throughput through the library: ``DCGAN`` + ``Trainer``.

The same work as ``references/jax_dcgan_bench.py`` (the hand-written anchor): a 64x64
DCGAN with nz=100 and 64 base channels, BatchNorm in the generator and in the
discriminator, Adam (lr 2e-4, beta1 0.5, beta2 0.999) for each network, the vanilla
(non-saturating, from logits) loss, one discriminator and one generator update per
iteration, on random data. Here the model is ``artifex`` ``DCGAN`` built from a
``DCGANConfig`` and the loop is ``Trainer`` from ``artifex.generative_models.training``.

Two figures are timed, both after warm-up (compilation excluded) and both blocking on the
result (``jax.block_until_ready``):

* ``step_ms`` / ``img_per_s``: ``Trainer.fit`` end to end, with its host data feed from a
  numpy iterator of pre-generated random batches (the normal path: next() on the
  iterator, ``np.stack``, ``jax.device_put``, dispatch, the end-of-fit log and
  write-back);
* ``step_ms_compiled_only`` / ``img_per_s_compiled_only``: the compiled step alone,
  ``trainer._step(trainer.state, batches)`` with the batches already on the device
  (what the reference times: its "real" batch is one constant device array).

``host_feed_ms`` is the time of ``trainer._next_batches(K)`` per iteration (gather, stack
and place one dispatch's batches), measured apart.

Differences from the reference architecture (the configs cannot say otherwise; none
changes the amount of convolution work):

* generator input: the reference maps z (as a 1x1 map) to 4x4x512 with a 4x4 VALID
  transposed convolution; ``ConvGenerator`` uses a dense projection to 4*4*512 —
  the same linear map, with a bias;
* discriminator output: the reference's last 4x4 VALID convolution over the 4x4x512
  map is ``ConvDiscriminator``'s dense layer on the flattened map — the same linear map;
* every convolution and dense layer has a bias (the reference: ``use_bias=False``);
* BatchNorm momentum 0.9 (the reference: Flax's default 0.99), epsilon the same;
* padding ``"SAME"`` everywhere: for kernel 4, stride 2 on even sizes Flax pads (1, 1),
  the reference's ``padding=1`` of the discriminator. (``padding=1`` in the config builds
  the same network, but its ``nnx.Conv`` keeps the padding as a list, the graph
  definition is then unhashable and ``Trainer`` fails in ``build_step``'s cache.)

Layers: generator projection + 3 transposed convs (512->256->128->64, BN, ReLU) + output
transposed conv (64->3, tanh); discriminator 4 strided convs (3->64->128->256->512, BN on
the last three, LeakyReLU 0.2) + dense -> 1 logit: the reference's layer counts, kernel
4x4 and strides.

``--bf16`` builds the networks from ``dcgan_config().with_compute_dtype("bfloat16")``
(precision is chosen when the networks are built) and passes
``precision=PrecisionConfig(compute_dtype="bfloat16")`` to the ``TrainingConfig``, which
the trainer checks against the networks.

Usage: python trainer_bench.py --batch 128 --steps 100 [--bf16] [--steps-per-dispatch 4]
Prints one JSON line with the reference's keys (``impl``, ``batch``, ``bf16``,
``device``, ``jax``, ``step_ms``, ``img_per_s``, ``warmup_s``, ``lossD``, ``lossG``) and
more.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import tempfile
import time
from collections.abc import Iterator

import flax
import jax
import numpy as np
from flax import nnx

from artifex.generative_models.core.configuration import (
    CheckpointConfig,
    ConvDiscriminatorConfig,
    ConvGeneratorConfig,
    DCGANConfig,
    LoggingConfig,
    OptimizerConfig,
    PrecisionConfig,
    TrainingConfig,
)
from artifex.generative_models.models.gan import DCGAN
from artifex.generative_models.training.trainer import Trainer

LATENT = 100
BASE = 64
IMAGE = (64, 64, 3)
NEVER = 10**9  # a checkpoint / log interval no run reaches


def dcgan_config() -> DCGANConfig:
    """The reference DCGAN as an artifex config (NHWC, 64x64x3)."""
    generator = ConvGeneratorConfig(
        latent_dim=LATENT,
        hidden_dims=(BASE * 8, BASE * 4, BASE * 2, BASE),
        output_shape=IMAGE,
        activation="relu",
        batch_norm=True,
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",
        output_activation="tanh",
    )
    discriminator = ConvDiscriminatorConfig(
        hidden_dims=(BASE, BASE * 2, BASE * 4, BASE * 8),
        input_shape=IMAGE,
        activation="leaky_relu",
        leaky_relu_slope=0.2,
        batch_norm=True,
        dropout_rate=0.0,
        use_spectral_norm=False,
        kernel_size=(4, 4),
        stride=(2, 2),
        padding="SAME",  # = padding 1 here; an int padding cannot be trained (see above)
    )
    return DCGANConfig(
        generator=generator,
        discriminator=discriminator,
        loss_type="vanilla",
        generator_lr=2e-4,
        discriminator_lr=2e-4,
        beta1=0.5,
        beta2=0.999,
    )


def training_config(total_steps: int, k: int, bf16: bool) -> TrainingConfig:
    """Vanilla objective, Adam 2e-4 / 0.5, no EMA, checkpoints and logs effectively off."""
    adam = OptimizerConfig(name="adam", learning_rate=2e-4, beta1=0.5, beta2=0.999)
    never = NEVER - NEVER % k
    return TrainingConfig(
        steps=total_steps,
        seed=0,
        generator_optimizer=adam,
        discriminator_optimizer=adam,
        objective="vanilla",
        steps_per_dispatch=k,
        ema=None,
        precision=PrecisionConfig(compute_dtype="bfloat16" if bf16 else "float32"),
        checkpoint=CheckpointConfig(
            directory=None, every_n_steps=never, resume=False, save_final=False
        ),
        logging=LoggingConfig(log_every=never, sample_every=0),
    )


def random_batches(batch: int, distinct: int = 4) -> Iterator[dict[str, np.ndarray]]:
    """An endless numpy iterator over ``distinct`` pre-generated batches in [-1, 1]."""
    rng = np.random.default_rng(1)
    pool = [
        {"image": rng.uniform(-1.0, 1.0, (batch, *IMAGE)).astype(np.float32)}
        for _ in range(distinct)
    ]
    return itertools.cycle(pool)


def round_up(n: int, k: int) -> int:
    """The smallest multiple of ``k`` that is >= ``n`` (and >= ``k``)."""
    return max(k, -(-n // k) * k)


def main() -> None:
    """Build the model and the trainer, time both paths, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50, help="timed iterations")
    parser.add_argument("--warmup", type=int, default=5, help="untimed iterations first")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--steps-per-dispatch", type=int, default=1, dest="k")
    parser.add_argument(
        "--no-compiled-only", action="store_true", help="skip the compiled-step-only timing"
    )
    args = parser.parse_args()
    k = args.k
    steps, warmup = round_up(args.steps, k), round_up(args.warmup, k)

    model_config = dcgan_config()
    if args.bf16:
        model_config = model_config.with_compute_dtype("bfloat16")
    model = DCGAN(model_config, rngs=nnx.Rngs(params=0, dropout=1, sample=2))
    config = training_config(warmup + steps, k, args.bf16)
    with tempfile.TemporaryDirectory(prefix="artifex-bench-") as workdir:
        trainer = Trainer(model, random_batches(args.batch), config, workdir=workdir)
        quiet = contextlib.redirect_stderr(io.StringIO())  # fit prints one line per log

        # (a) Trainer.fit, host feed included. The first fit compiles and warms up.
        t0 = time.perf_counter()
        with quiet:
            trainer.fit(warmup)
        jax.block_until_ready(trainer.state)
        warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        with quiet:
            history = trainer.fit(warmup + steps)
        jax.block_until_ready(trainer.state)
        fit_s = time.perf_counter() - t0
        loss_d, loss_g = history[-1]["d_loss"], history[-1]["g_loss"]

        # The host feed alone: gather, stack and place one dispatch's batches.
        dispatches = steps // k
        t0 = time.perf_counter()
        for _ in range(dispatches):
            batches = jax.block_until_ready(trainer._next_batches(k))
        feed_s = time.perf_counter() - t0

        # (b) The compiled step alone, batches already on the device. It is the program
        # fit compiled and warmed up (same shapes and shardings), so no warm-up here.
        compiled_s = None
        if not args.no_compiled_only:
            t0 = time.perf_counter()
            for _ in range(dispatches):
                trainer.state, metrics = trainer._step(trainer.state, batches)
            jax.block_until_ready((trainer.state, metrics))
            compiled_s = time.perf_counter() - t0

    row = {
        "impl": f"artifex Trainer (K={k})",
        "batch": args.batch,
        "bf16": args.bf16,
        "device": str(jax.devices()[0]),
        "jax": jax.__version__,
        "step_ms": 1000 * fit_s / steps,
        "img_per_s": args.batch * steps / fit_s,
        "warmup_s": warm,
        "lossD": float(loss_d),
        "lossG": float(loss_g),
        "steps": steps,
        "warmup": warmup,
        "steps_per_dispatch": k,
        "step_ms_compiled_only": None if compiled_s is None else 1000 * compiled_s / steps,
        "img_per_s_compiled_only": (
            None if compiled_s is None else args.batch * steps / compiled_s
        ),
        "host_feed_ms": 1000 * feed_s / steps,
        "flax": flax.__version__,
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
