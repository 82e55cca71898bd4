"""After training: generate, class grids, latent walks and style mixes from a run folder."""

import inspect
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artifex.generative_models.core.evaluation.metrics import load_digits
from artifex.generative_models.models.gan import spherical_interpolation
from artifex.generative_models.training.cli import main
from artifex.generative_models.training.export import export_generator, load_generator
from artifex.generative_models.training.generate import (
    class_grid,
    generate,
    interpolate,
    open_run,
    style_mix,
    write_images,
)
from artifex.generative_models.training.presets import preset
from artifex.generative_models.training.run import build_model
from artifex.generative_models.training.trainer import Trainer

# One worker trains the three run folders once and runs every test on them.
pytestmark = pytest.mark.xdist_group("generate")


class Digits:
    def __init__(self, batch, labels):
        data = load_digits("train")
        self.images, self.labels, self.batch, self.with_labels = data[0], data[1], batch, labels

    def __next__(self):
        batch = {"image": np.asarray(self.images[: self.batch], np.float32)}
        if self.with_labels:
            batch["label"] = np.asarray(self.labels[: self.batch], np.int32)
        return batch


def make_run(folder, name):
    """Two iterations of a preset, checkpointed, with its config.yaml: a run folder."""
    experiment = preset(name)
    training = experiment.training.replace(
        steps=2,
        # One iteration per compiled call: on CPU a dispatch of K is K unrolled bodies,
        # K times the compile; generation only needs the checkpoint.
        steps_per_dispatch=1,
        logging=experiment.training.logging.replace(log_every=2, sample_every=0),
        checkpoint=experiment.training.checkpoint.replace(directory=str(folder), every_n_steps=2),
    )
    experiment = experiment.replace(training=training)
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(experiment.to_yaml(include_type=True))
    labels = bool(getattr(experiment.model, "num_classes", None))
    trainer = Trainer(
        build_model(experiment), Digits(training.data.batch_size, labels), experiment,
        workdir=folder, progress=False,
    )  # fmt: skip
    trainer.fit()
    return folder, trainer


# Every test here reads run folders the module fixture trains (~40 s of CPU): CI's main
# session runs them, the JAX-matrix legs and the isolated install leave them out (CI time).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return {name: make_run(root / name, name) for name in ("dcgan", "conditional", "stylegan")}


def test_generate_is_the_ema_generator_on_seeded_latents(runs):
    folder, trained = runs["dcgan"]
    trainer = open_run(folder)
    assert trainer.step == 2
    images = generate(trainer, 6, seed=3)
    assert images.shape == (6, 8, 8, 1) and np.abs(images).max() <= 1
    # The same as the trained generator's EMA on the same latents, in this process.
    import jax

    z = jax.random.normal(jax.random.key(3), (6, trained.model.latent_dim))
    expected = np.asarray(trained.ema_generator()(z, training=False))
    np.testing.assert_allclose(images, expected, atol=1e-6)
    np.testing.assert_array_equal(generate(trainer, 6, seed=3), images)  # seeded
    assert not np.array_equal(generate(trainer, 6, seed=4), images)


def test_conditional_classes_and_class_grid(runs):
    trainer = open_run(runs["conditional"][0])
    three = generate(trainer, 4, label=3)
    generator = trainer.ema_generator()
    import jax
    import jax.numpy as jnp

    z = jax.random.normal(jax.random.key(0), (4, trainer.model.latent_dim))
    expected = generator(z, jnp.full((4,), 3), training=False)
    np.testing.assert_allclose(three, np.asarray(expected), atol=1e-6)
    grid, columns = class_grid(trainer, per_class=3)
    assert columns == 3 and grid.shape == (30, 8, 8, 1)
    # The same latents in every row, only the class changes: row 3 is generate(label=3)'s.
    np.testing.assert_allclose(grid[9:12], generate(trainer, 3, label=3), atol=1e-6)
    with pytest.raises(ValueError, match=r"--class 10: unknown class; the model has classes 0..9"):
        generate(trainer, 2, label=10)
    with pytest.raises(ValueError, match=r"--class 1: DCGAN is not class-conditional"):
        generate(open_run(runs["dcgan"][0]), 2, label=1)
    with pytest.raises(ValueError, match=r"DCGAN is not class-conditional"):
        class_grid(open_run(runs["dcgan"][0]))


def test_interpolation_walks_between_two_latents(runs):
    trainer = open_run(runs["dcgan"][0])
    frames = interpolate(trainer, 5, seed=1)
    import jax

    ends = jax.random.normal(jax.random.key(1), (2, trainer.model.latent_dim))
    path = spherical_interpolation(ends[0], ends[1], 5)
    expected = trainer.ema_generator()(path, training=False)
    np.testing.assert_allclose(frames, np.asarray(expected), atol=1e-6)
    with pytest.raises(ValueError, match=r"steps must be >= 2, got 1"):
        interpolate(trainer, 1)


def test_style_mixing_grid_and_refusals(runs):
    trainer = open_run(runs["stylegan"][0])
    images, columns = style_mix(trainer, rows=2, columns=3, layer=1)
    assert columns == 4 and images.shape[0] == 4 * 3  # a header row and column
    assert (images[0] == -1).all()  # the blank corner
    generator = trainer.ema_generator()
    import jax

    keys = jax.random.split(jax.random.key(0))
    row_z = jax.random.normal(keys[0], (2, trainer.model.latent_dim))
    column_z = jax.random.normal(keys[1], (3, trainer.model.latent_dim))
    cell = generator.style_mixing(row_z[1:2], column_z[2:3], 1, training=False)
    np.testing.assert_allclose(images[2 * 4 + 3], np.asarray(cell)[0], atol=1e-5)
    with pytest.raises(ValueError, match=r"--layer 9: must lie in 0..2"):
        style_mix(trainer, layer=9)
    with pytest.raises(ValueError, match=r"style-mix needs a style-based generator"):
        style_mix(open_run(runs["dcgan"][0]))
    # StyleGAN (v1) tracks no w average: truncation is refused with the reason.
    with pytest.raises(ValueError, match=r"--truncation 0.7: .*tracks its w average"):
        generate(trainer, 2, truncation=0.7)
    frames = interpolate(trainer, 3)  # linear in w
    assert frames.shape == (3, 8, 8, 1)


def test_writers_and_the_command_line(runs, tmp_path, capsys):
    folder, _ = runs["dcgan"]
    images = generate(open_run(folder), 4)
    grid = write_images(images, tmp_path / "g.png", columns=2, scale=1)
    assert np.asarray(Image.open(grid)).shape == (2 * 9 + 1, 2 * 9 + 1)
    saved = np.load(write_images(images, tmp_path / "g.npz"))["images"]
    expected = np.clip((images + 1) * 127.5, 0, 255).round().astype(np.uint8)
    np.testing.assert_array_equal(saved, expected)
    pngs = sorted(write_images(images, tmp_path / "each").iterdir())
    assert [p.name for p in pngs] == [f"{i:06d}.png" for i in range(4)]
    gif = Image.open(write_images(images, tmp_path / "w.gif"))
    assert gif.n_frames == 4
    with pytest.raises(ValueError, match=r"expected .png \(grid\), .npz, .gif or a folder"):
        write_images(images, tmp_path / "x.jpg")

    out = tmp_path / "cli.png"
    assert main(["generate", str(folder), "--n", "9", "--out", str(out)]) == 0
    assert out.is_file() and str(out) in capsys.readouterr().out
    assert main(["interpolate", str(folder), "--steps", "3", "--out", str(tmp_path / "w.gif")]) == 0
    conditional = runs["conditional"][0]
    assert main(["generate", str(conditional), "--by-class", "--out", str(tmp_path / "c.png")]) == 0
    # Bad requests: one line and exit 2.
    assert main(["generate", str(conditional), "--class", "12"]) == 2
    assert "unknown class" in capsys.readouterr().err
    assert main(["style-mix", str(folder)]) == 2
    assert "style-mix needs a style-based generator" in capsys.readouterr().err
    assert main(["generate", str(tmp_path / "nothing")]) == 2
    assert "has no config.yaml" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.yaml").write_text((folder / "config.yaml").read_text())
    assert main(["generate", str(empty)]) == 2
    assert "checkpoint" in capsys.readouterr().err


# -- export: the EMA generator as a jax.export program and safetensors weights ------------

# Runs in `python -I -S` on a view of site-packages without artifex and flax: the
# exported folder must be usable with jax, numpy and safetensors alone.
RUN_EXPORTED = """
import sys
sys.path[:0] = [{view!r}]
for name in ("artifex", "flax"):
    try:
        __import__(name)
    except ImportError:
        continue
    sys.exit(name + " is importable: the check would prove nothing")
import numpy as np
namespace = {{}}
exec(open({loader!r}).read(), namespace)
inputs, images = np.load({inputs!r}), {{}}
for name, folder in {folders!r}.items():
    generate = namespace["load_generator"](folder)
    for n in (3, 5):
        labels = inputs[name + "_labels_%d" % n] if name + "_labels_%d" % n in inputs else None
        images[name + "_%d" % n] = np.asarray(generate(inputs[name + "_z_%d" % n], labels))
np.savez({out!r}, **images)
"""


def site_packages_view(view):
    """A folder of links to the site-packages entries but artifex's, flax's and the .pth."""
    import flatbuffers
    import jax
    import safetensors

    view.mkdir()
    roots = {Path(m.__file__).resolve().parents[1] for m in (jax, np, safetensors, flatbuffers)}
    skipped = ("artifex", "_editable_impl_artifex", "__editable__", "flax")
    for root in sorted(roots):
        for entry in root.iterdir():
            name = entry.name.lower()
            if name.startswith(skipped) or name.endswith(".pth") or (view / entry.name).exists():
                continue
            (view / entry.name).symlink_to(entry)
    return view


def test_an_exported_generator_runs_without_artifex_and_matches_the_library(runs, tmp_path):
    import json
    import subprocess
    import sys

    import jax

    folders, inputs, expected = {}, {}, {}
    for name in ("dcgan", "conditional"):  # an unconditional model and a conditional one
        run = runs[name][0]
        folders[name] = str(tmp_path / name)
        if name == "dcgan":  # through the command line once
            assert main(["export", str(run), "--out", folders[name], "--platform", "cpu"]) == 0
        else:
            export_generator(run, folders[name])
        trainer = open_run(run)
        manifest = json.loads((Path(folders[name]) / "manifest.json").read_text())
        assert manifest["latent_dim"] == trainer.model.latent_dim == 32
        assert manifest["num_classes"] == (10 if name == "conditional" else None)
        assert manifest["output"]["shape"] == ["batch", 8, 8, 1]
        assert manifest["jax_version"] == jax.__version__ and manifest["step"] == 2
        for n in (3, 5):  # the batch dimension is symbolic: any size runs
            inputs[f"{name}_z_{n}"] = np.asarray(jax.random.normal(jax.random.key(n), (n, 32)))
            if name == "conditional":
                inputs[f"{name}_labels_{n}"] = np.arange(n, dtype=np.int32) % 10
            expected[f"{name}_{n}"] = generate(trainer, n, seed=n)  # the same latents, classes
    np.savez(tmp_path / "inputs.npz", **inputs)
    script = RUN_EXPORTED.format(
        view=str(site_packages_view(tmp_path / "site")),
        loader=str(Path(folders["dcgan"]) / "load.py"),
        inputs=str(tmp_path / "inputs.npz"),
        folders=folders,
        out=str(tmp_path / "images.npz"),
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    images = np.load(tmp_path / "images.npz")
    assert sorted(images) == sorted(expected)
    for key, want in expected.items():
        # One compiled program against the library's op-by-op calls: float32 rounding.
        np.testing.assert_allclose(images[key], want, atol=1e-5, err_msg=key)


def test_export_refusals_and_the_loader_documented(runs, tmp_path, capsys):
    folder = runs["dcgan"][0]
    empty = tmp_path / "no-checkpoints"
    empty.mkdir()
    (empty / "config.yaml").write_text((folder / "config.yaml").read_text())
    with pytest.raises(FileNotFoundError, match=r"no-checkpoints has no checkpoint to export"):
        export_generator(empty, tmp_path / "out")
    assert main(["export", str(empty), "--out", str(tmp_path / "out")]) == 2
    assert "has no checkpoint to export" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match=r"is not a run folder: it has no config.yaml"):
        export_generator(tmp_path, tmp_path / "out")
    cyclegan = tmp_path / "cyclegan"
    cyclegan.mkdir()
    (cyclegan / "config.yaml").write_text(preset("cyclegan").to_yaml(include_type=True))
    with pytest.raises(ValueError, match=r"CycleGAN cannot be exported: .* translates images"):
        export_generator(cyclegan, tmp_path / "out")
    with pytest.raises(ValueError, match=r"--step 7: .* has checkpoints at steps \[2\]"):
        export_generator(folder, tmp_path / "out", step=7)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("")
    with pytest.raises(ValueError, match=r"--out .*taken: exists and is not an empty folder"):
        export_generator(folder, tmp_path / "taken")
    with pytest.raises(ValueError, match=r"platforms \['gpu'\]: expected some of 'cpu', 'cuda'"):
        export_generator(folder, tmp_path / "out", platforms=["gpu"])
    assert not (tmp_path / "out").exists()  # nothing is written before the checks pass
    # The loader users copy is the one the docs show and the one written beside the model.
    docs = Path(__file__).resolve().parents[3] / "docs" / "after-training.md"
    if docs.is_file():  # a source checkout (the isolated wheel tests have no docs)
        assert inspect.getsource(load_generator) in docs.read_text()
