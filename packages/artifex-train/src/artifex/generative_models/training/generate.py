"""After training: images, class grids, latent walks and style mixes from a run folder.

Everything here reads a run folder (``config.yaml`` and its checkpoints), restores the
EMA generator of the latest (or a chosen) checkpoint — no training data is read — and
makes pictures:

* :func:`generate`: ``n`` images from seeded latents; a class of a conditional model; the
  truncation trick for a style-based model that tracks its ``w`` average;
* :func:`class_grid`: one row per class of a conditional model;
* :func:`interpolate`: a spherical walk between two latents (in ``z``; in ``w`` for
  style-based models, where the walk is linear, as stylegan's own tools do);
* :func:`style_mix`: stylegan's grid, the coarse styles of each row's source with the fine
  styles of each column's source;
* :func:`write_images`: a PNG grid, a folder of PNGs, an ``.npz`` of uint8 images or an
  animated GIF (Pillow).

``artifex-train generate|interpolate|style-mix RUN ...`` call these (see
:func:`add_commands`).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from artifex.generative_models.training.artifacts import image_grid, save_grid

__all__ = [
    "add_commands",
    "class_grid",
    "generate",
    "interpolate",
    "open_run",
    "run_command",
    "style_mix",
    "write_images",
]


def open_run(run: str | Path, step: int | None = None) -> Any:
    """A :class:`~.trainer.Trainer` holding a run folder's checkpoint (no data).

    Raises:
        FileNotFoundError: ``run`` has no ``config.yaml`` or no checkpoint.
    """
    from artifex.generative_models.core.configuration import ExperimentConfig
    from artifex.generative_models.training.run import build_model
    from artifex.generative_models.training.trainer import Trainer

    folder = Path(run)
    config_file = folder / "config.yaml"
    if not config_file.is_file():
        raise FileNotFoundError(f"{folder} is not a run folder: it has no config.yaml")
    experiment = ExperimentConfig.from_yaml(config_file.read_text())
    trainer = Trainer(build_model(experiment), None, experiment, workdir=folder, progress=False)
    trainer.restore(step)
    # A progressive model samples at the stage it had reached.
    trainer.set_rules(trainer.rules.phase_at(trainer.step))
    return trainer


def _data_format(trainer: Any) -> str:
    layout = getattr(trainer.experiment.model, "data_layout", None)
    return layout.data_format if layout is not None else "NHWC"


def _nhwc(images: Any, data_format: str) -> np.ndarray:
    array = np.asarray(images, np.float32)
    return np.transpose(array, (0, 2, 3, 1)) if data_format == "NCHW" else array


def _latent_generator(trainer: Any, what: str) -> Any:
    generator = trainer.ema_generator()
    if not hasattr(trainer.model, "latent_dim") or not callable(
        getattr(trainer.rules, "sample", None)
    ):
        raise ValueError(
            f"{what} needs a model that generates from latents; "
            f"{type(trainer.model).__name__} translates images"
        )
    return generator


def _num_classes(trainer: Any) -> int | None:
    return getattr(trainer.model.config, "num_classes", None) or None


def _check_class(trainer: Any, label: int | None) -> None:
    classes = _num_classes(trainer)
    if label is None:
        return
    if classes is None:
        raise ValueError(
            f"--class {label}: {type(trainer.model).__name__} is not class-conditional"
        )
    if not 0 <= label < classes:
        raise ValueError(f"--class {label}: unknown class; the model has classes 0..{classes - 1}")


def _w_average(generator: Any, truncation: float) -> jax.Array:
    average = getattr(generator, "w_avg", None)
    if average is None or not callable(getattr(generator, "synthesize", None)):
        raise ValueError(
            f"--truncation {truncation}: the truncation trick needs a style-based generator "
            f"that tracks its w average; {type(generator).__name__} does not"
        )
    return jnp.asarray(average[...])  # an nnx.Variable or an array alike


def _images(
    trainer: Any, z: jax.Array, labels: jax.Array | None, truncation: float | None
) -> np.ndarray:
    generator = trainer.ema_generator()
    if truncation is not None:
        average = _w_average(generator, truncation)
        w = generator.mapping(z)
        images = generator.synthesize(average + truncation * (w - average), training=False)
    elif labels is not None:
        images = generator(z, labels, training=False)
    else:
        images = generator(z, training=False)
    return _nhwc(images, _data_format(trainer))


def generate(
    trainer: Any,
    n: int,
    *,
    seed: int = 0,
    truncation: float | None = None,
    label: int | None = None,
) -> np.ndarray:
    """``n`` images (NHWC, ``[-1, 1]``) of the trainer's EMA generator from seeded latents.

    Args:
        trainer: From :func:`open_run` (or any trainer).
        n: How many.
        seed: Seed of the latents (and of the classes of a conditional model when
            ``label`` is None: then classes cycle 0, 1, ...).
        truncation: psi of the truncation trick (style-based models tracking ``w_avg``).
        label: The class of every image (conditional models).

    Raises:
        ValueError: ``n < 1``, a class the model does not have, a class for an
            unconditional model, truncation for a model without a ``w`` average, or a
            model that does not generate from latents.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    _latent_generator(trainer, "generate")
    _check_class(trainer, label)
    z = jax.random.normal(jax.random.key(seed), (n, trainer.model.latent_dim))
    classes = _num_classes(trainer)
    labels = None
    if classes is not None:
        labels = jnp.full((n,), label) if label is not None else jnp.arange(n) % classes
    return _images(trainer, z, labels, truncation)


def class_grid(trainer: Any, per_class: int = 8, *, seed: int = 0) -> tuple[np.ndarray, int]:
    """``(images, columns)``: one row of ``per_class`` images per class.

    Raises:
        ValueError: The model is not class-conditional.
    """
    classes = _num_classes(trainer)
    if classes is None:
        raise ValueError(f"{type(trainer.model).__name__} is not class-conditional")
    _latent_generator(trainer, "a class grid")
    z = jax.random.normal(jax.random.key(seed), (per_class, trainer.model.latent_dim))
    z = jnp.tile(z, (classes, 1))  # the same latents in every row: only the class changes
    labels = jnp.repeat(jnp.arange(classes), per_class)
    return _images(trainer, z, labels, None), per_class


def interpolate(trainer: Any, steps: int = 60, *, seed: int = 0) -> np.ndarray:
    """``steps`` frames walking from one latent to another (NHWC, ``[-1, 1]``).

    Spherical in ``z``; for style-based generators linear in ``w`` (the mapped space is
    not Gaussian, so its shortest path is the straight one). A conditional model keeps
    one class along the walk: ``seed % num_classes``.

    Raises:
        ValueError: ``steps < 2``, or a model that does not generate from latents.
    """
    from artifex.generative_models.models.gan import spherical_interpolation

    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    generator = _latent_generator(trainer, "interpolate")
    ends = jax.random.normal(jax.random.key(seed), (2, trainer.model.latent_dim))
    if callable(getattr(generator, "mapping", None)) and callable(
        getattr(generator, "synthesize", None)
    ):
        w = generator.mapping(ends)
        t = jnp.linspace(0.0, 1.0, steps)[:, None]
        images = generator.synthesize((1 - t) * w[0] + t * w[1], training=False)
        return _nhwc(images, _data_format(trainer))
    z = spherical_interpolation(ends[0], ends[1], steps)
    classes = _num_classes(trainer)
    labels = None if classes is None else jnp.full((steps,), seed % classes)
    return _images(trainer, z, labels, None)


def style_mix(
    trainer: Any, rows: int = 4, columns: int = 4, *, seed: int = 0, layer: int | None = None
) -> tuple[np.ndarray, int]:
    """The style-mixing figure of the StyleGAN paper: ``(images, columns + 1)``.

    The first row holds the column sources, the first column the row sources (the top
    left corner is blank); cell ``(r, c)`` takes its styles before block ``layer`` from
    row source ``r`` (coarse: pose, shape) and the rest from column source ``c`` (fine).

    Raises:
        ValueError: The generator has no ``style_mixing``, or ``layer`` is out of range.
    """
    generator = _latent_generator(trainer, "style-mix")
    if not callable(getattr(generator, "style_mixing", None)):
        raise ValueError(
            f"style-mix needs a style-based generator; {type(generator).__name__} has no "
            "style_mixing"
        )
    blocks = int(generator.num_blocks)
    layer = blocks // 2 if layer is None else layer
    if not 0 <= layer <= blocks:
        raise ValueError(f"--layer {layer}: must lie in 0..{blocks} (the generator's blocks)")
    keys = jax.random.split(jax.random.key(seed))
    row_z = jax.random.normal(keys[0], (rows, trainer.model.latent_dim))
    column_z = jax.random.normal(keys[1], (columns, trainer.model.latent_dim))
    data_format = _data_format(trainer)
    row_images = _nhwc(generator(row_z, training=False), data_format)
    column_images = _nhwc(generator(column_z, training=False), data_format)
    mixed = _nhwc(
        generator.style_mixing(
            jnp.repeat(row_z, columns, axis=0), jnp.tile(column_z, (rows, 1)), layer,
            training=False,
        ),
        data_format,
    )  # fmt: skip
    blank = np.full_like(row_images[:1], -1.0)
    cells = [blank, column_images]
    for r in range(rows):
        cells += [row_images[r : r + 1], mixed[r * columns : (r + 1) * columns]]
    return np.concatenate(cells), columns + 1


def write_images(
    images: np.ndarray, out: str | Path, *, columns: int | None = None, scale: int = 4
) -> Path:
    """Write NHWC images in ``[-1, 1]`` as the suffix of ``out`` says.

    ``.png``: one grid (``columns`` wide, default square); ``.npz``: uint8 ``images``
    (N, H, W, C); ``.gif``: an animation, one frame per image; no suffix: a folder of
    ``000000.png``, ... .

    Raises:
        ValueError: Another suffix.
    """
    path = Path(out)
    pixels = np.clip((np.asarray(images) + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    if path.suffix == ".png":
        return save_grid(image_grid(images, columns=columns), path, scale=scale)
    if path.suffix == ".npz":
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, images=pixels)
        return path
    from PIL import Image

    frames = [
        Image.fromarray(p[..., 0] if p.shape[-1] == 1 else p).resize(
            (p.shape[1] * scale, p.shape[0] * scale), Image.Resampling.NEAREST
        )
        for p in pixels
    ]
    if path.suffix == ".gif":
        path.parent.mkdir(parents=True, exist_ok=True)
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
        return path
    if path.suffix:
        raise ValueError(f"--out {path}: expected .png (grid), .npz, .gif or a folder name")
    path.mkdir(parents=True, exist_ok=True)
    width = max(6, math.ceil(math.log10(len(frames) + 1)))
    for index, frame in enumerate(frames):
        frame.save(path / f"{index:0{width}d}.png")
    return path


def add_commands(commands: Any) -> None:
    """Add ``generate``, ``interpolate`` and ``style-mix`` to a subparsers object."""

    def common(name: str, help_text: str, default_out: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
        sub.add_argument("run", type=Path, help="the run folder (with config.yaml)")
        sub.add_argument("--step", type=int, default=None, help="checkpoint (default: latest)")
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--out", type=Path, default=Path(default_out))
        return sub

    sub = common("generate", "images from the EMA generator of a run", "samples.png")
    sub.add_argument("--n", type=int, default=64)
    sub.add_argument("--truncation", type=float, default=None, help="psi (style-based)")
    sub.add_argument("--class", dest="label", type=int, default=None)
    sub.add_argument("--by-class", action="store_true", help="one row per class")
    sub = common("interpolate", "a latent walk of a run's generator", "walk.gif")
    sub.add_argument("--steps", type=int, default=60)
    sub = common("style-mix", "stylegan's style-mixing grid", "mix.png")
    sub.add_argument("--rows", type=int, default=4)
    sub.add_argument("--columns", type=int, default=4)
    sub.add_argument("--layer", type=int, default=None, help="first block of the fine styles")


COMMANDS = ("generate", "interpolate", "style-mix")
"""The subcommands :func:`add_commands` adds."""


def run_command(args: argparse.Namespace) -> Path:
    """Carry out one of :data:`COMMANDS`; return what was written."""
    trainer = open_run(args.run, args.step)
    columns = None
    if args.command == "generate":
        if args.by_class:
            images, columns = class_grid(trainer, seed=args.seed)
        else:
            images = generate(
                trainer, args.n, seed=args.seed, truncation=args.truncation, label=args.label
            )
    elif args.command == "interpolate":
        images = interpolate(trainer, args.steps, seed=args.seed)
    else:
        images, columns = style_mix(
            trainer, args.rows, args.columns, seed=args.seed, layer=args.layer
        )
    return write_images(images, args.out, columns=columns)
