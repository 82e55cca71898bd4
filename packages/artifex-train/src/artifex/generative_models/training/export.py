"""A run's EMA generator as a program anyone can run: StableHLO, safetensors and JSON.

``artifex-train export RUN --out generator/ [--step S]`` (:func:`export_generator`) writes::

    generator/
        generator.jaxexport   the generator as ``jax.export`` serialized it: StableHLO and
                              its calling convention, the batch dimension symbolic
        weights.safetensors   its arrays (the EMA parameters and batch statistics), by name
        manifest.json         latent size, classes, the images' shape, layout, range and
                              dtype, the jax version and platforms it was exported with
        load.py               :func:`load_generator`, to copy: the generator as a function

The program takes the weights as its first argument (a dict of arrays by name, as the
safetensors file holds them), then the latents and, for a class-conditional model, the
labels; it returns float32 images, NHWC, in ``[-1, 1]``. Loading needs jax, numpy and
safetensors only: no artifex, no flax, and nothing is pickled (neither file can run code
when read). A program exported by jax ``X`` loads in the jax versions that keep reading
``X``'s serialization (jax promises six months of backward compatibility; the manifest
names ``X``).
"""

from __future__ import annotations

import argparse
import inspect
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

__all__ = [
    "DEFAULT_PLATFORMS",
    "FORMAT_VERSION",
    "add_command",
    "export_generator",
    "load_generator",
    "run_command",
]

FORMAT_VERSION = 1
#: Where the exported program runs: it is lowered for each (no GPU is needed to export).
DEFAULT_PLATFORMS = ("cpu", "cuda", "tpu")
_PROGRAM, _WEIGHTS, _MANIFEST, _LOADER = (
    "generator.jaxexport",
    "weights.safetensors",
    "manifest.json",
    "load.py",
)


def load_generator(folder: str | Path) -> Callable[..., Any]:
    """An exported generator as a function; needs jax, numpy and safetensors only.

    ``images = generate(z)``, or ``generate(z, labels)`` for a class-conditional model.
    ``z``: latents ``(batch, latent_dim)``, any batch size; ``labels``: integer classes
    ``(batch,)``. Returns float32 images ``(batch, height, width, channels)`` in [-1, 1].
    """
    import json
    from pathlib import Path

    import jax
    import numpy as np
    from safetensors.numpy import load_file

    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    program = jax.export.deserialize(bytearray((folder / manifest["program"]).read_bytes()))
    weights = jax.device_put(load_file(folder / manifest["weights"]))

    def generate(z: Any, labels: Any = None) -> Any:
        inputs = [np.asarray(z, np.float32)]
        if manifest["num_classes"] is not None:
            inputs.append(np.asarray(labels, np.int32))
        return program.call(weights, *inputs)

    return generate


def export_generator(
    run: str | Path,
    out: str | Path,
    *,
    step: int | None = None,
    platforms: Sequence[str] = DEFAULT_PLATFORMS,
) -> Path:
    """Export the EMA generator of a run folder's latest (or ``step``) checkpoint.

    Args:
        run: The run folder (``config.yaml`` and ``checkpoints/``).
        out: The folder to write (see the module docstring); new or empty.
        step: Which checkpoint; the latest by default.
        platforms: jax platforms to lower the program for.

    Returns:
        ``out``.

    Raises:
        FileNotFoundError: ``run`` has no ``config.yaml`` or no checkpoint.
        ValueError: ``step`` is not a checkpoint of the run, ``out`` holds files, the
            model does not generate from latents (CycleGAN translates images), or a
            platform is unknown.
    """
    # jax.export serializes with flatbuffers (a dependency jax leaves optional).
    import flatbuffers  # type: ignore[import-untyped]  # noqa: F401
    from safetensors.numpy import save_file

    from artifex.generative_models.core.configuration import ExperimentConfig
    from artifex.generative_models.training._runfolder import checkpoint_steps
    from artifex.generative_models.training.generate import open_run

    folder, out = Path(run), Path(out)
    # Everything that can be checked without building the model is checked first.
    config_file = folder / "config.yaml"
    if not config_file.is_file():
        raise FileNotFoundError(f"{folder} is not a run folder: it has no config.yaml")
    model = ExperimentConfig.from_yaml(config_file.read_text()).model
    if getattr(model, "latent_dim", None) is None:
        raise ValueError(
            f"{type(model).__name__.removesuffix('Config')} cannot be exported: export "
            "covers generators of latents (GAN, DCGAN, WGAN, LSGAN, conditional, BigGAN, "
            "StyleGAN, StyleGAN2, progressive); this model translates images"
        )
    steps = checkpoint_steps(folder)
    if not steps:
        raise FileNotFoundError(
            f"{folder} has no checkpoint to export ({folder / 'checkpoints'} is missing or "
            "empty); train it first, or pass the run folder the checkpoints are in"
        )
    if step is not None and step not in steps:
        raise ValueError(f"--step {step}: {folder} has checkpoints at steps {steps}")
    unknown = sorted(set(platforms) - {"cpu", "cuda", "rocm", "tpu"})
    if unknown or not platforms:
        raise ValueError(
            f"platforms {list(platforms)}: expected some of 'cpu', 'cuda', 'rocm', 'tpu'"
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {out}: exists and is not an empty folder; name a new one")

    trainer = open_run(folder, step)
    generator = trainer.ema_generator()
    classes = getattr(trainer.model.config, "num_classes", None) or None
    layout = getattr(trainer.experiment.model, "data_layout", None)
    channels_first = layout is not None and layout.data_format == "NCHW"
    weights, program = _program(generator, channels_first=channels_first)

    latent_dim = int(trainer.model.latent_dim)
    batch = jax.export.symbolic_shape("batch")[0]
    inputs = [jax.ShapeDtypeStruct((batch, latent_dim), jnp.float32)]
    if classes is not None:
        inputs.append(jax.ShapeDtypeStruct((batch,), jnp.int32))
    specs = {name: jax.ShapeDtypeStruct(a.shape, a.dtype) for name, a in weights.items()}
    exported = jax.export.export(jax.jit(program), platforms=tuple(platforms))(specs, *inputs)
    image_shape = [int(d) for d in exported.out_avals[0].shape[1:]]

    out.mkdir(parents=True, exist_ok=True)
    (out / _PROGRAM).write_bytes(bytes(exported.serialize()))
    save_file({name: np.asarray(array) for name, array in weights.items()}, out / _WEIGHTS)
    manifest = {
        "format": "artifex-generator",
        "format_version": FORMAT_VERSION,
        "family": type(trainer.model).__name__,
        "step": trainer.step,
        "latent_dim": latent_dim,
        "num_classes": classes,
        "inputs": [
            {"name": "z", "shape": ["batch", latent_dim], "dtype": "float32"},
            *([{"name": "labels", "shape": ["batch"], "dtype": "int32"}] if classes else []),
        ],
        "output": {
            "shape": ["batch", *image_shape],
            "layout": "NHWC",
            "range": [-1.0, 1.0],
            "dtype": "float32",
        },
        "program": _PROGRAM,
        "weights": _WEIGHTS,
        "jax_version": jax.__version__,
        "platforms": list(platforms),
    }
    (out / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    (out / _LOADER).write_text(_loader_module())
    return out


def _is_weight(path: Any, value: Any) -> bool:
    """The arrays saved as weights: every variable but the random-number state."""
    return isinstance(value, nnx.Variable) and not isinstance(value, nnx.RngState)


def _program(
    generator: Any, *, channels_first: bool
) -> tuple[dict[str, Any], Callable[..., jax.Array]]:
    """The weights by name and ``program(weights, z[, labels]) -> NHWC float32 images``."""
    from artifex.generative_models.training.checkpoints import _named_leaves

    graphdef, state, rest = nnx.split(generator, _is_weight, ...)  # type: ignore[misc]
    weights = dict(_named_leaves(state))
    structure = jax.tree.structure(state)

    def program(named: dict[str, jax.Array], z: jax.Array, *labels: jax.Array) -> jax.Array:
        # The labels, when the model has classes, are the generator's second argument.
        leaves = [named[name] for name in weights]  # in the order of the tree's leaves
        module = nnx.merge(graphdef, jax.tree.unflatten(structure, leaves), rest)
        images = module(z, *labels, training=False).astype(jnp.float32)
        return jnp.transpose(images, (0, 2, 3, 1)) if channels_first else images

    return weights, program


def _loader_module() -> str:
    """``load.py``: :func:`load_generator`'s source, runnable on its own."""
    return (
        '"""Load a generator exported by `artifex-train export` (needs jax, numpy, '
        'safetensors)."""\n\n'
        "from __future__ import annotations\n\n"
        "from typing import Any, Callable\n\n\n"
        f"{inspect.getsource(load_generator)}"
    )


# -- the command line ---------------------------------------------------------------------


def add_command(commands: Any) -> None:
    """Add ``export`` to the ``artifex-train`` subcommands."""
    export = commands.add_parser(
        "export",
        help="write a run's EMA generator as a jax.export program, safetensors weights "
        "and a manifest, runnable with jax alone",
    )
    export.add_argument("run", type=Path, help="the run folder (with config.yaml)")
    export.add_argument("--out", type=Path, required=True, help="the folder to write (new)")
    export.add_argument("--step", type=int, default=None, help="checkpoint (default: latest)")
    export.add_argument(
        "--platform", dest="platforms", action="append", default=None,
        choices=("cpu", "cuda", "rocm", "tpu"),
        help="where the program will run; repeatable (default: cpu, cuda and tpu)",
    )  # fmt: skip
    export.add_argument(
        "--debug", action="store_true", help="on an error, show the Python traceback too"
    )


def run_command(args: argparse.Namespace) -> Path:
    """Carry out ``export``; return the folder written."""
    return export_generator(
        args.run, args.out, step=args.step, platforms=args.platforms or DEFAULT_PLATFORMS
    )
