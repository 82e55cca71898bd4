"""Package-level promises: dependencies, namespace layout, public API and its documentation."""

from __future__ import annotations

import inspect
import math
import os
import subprocess
import sys
from pathlib import Path

import artifex.generative_models.core.losses as losses

SRC = Path(__file__).resolve().parents[1] / "src"


def test_importing_the_package_imports_neither_flax_nor_other_artifex_packages():
    code = (
        "import sys\n"
        "import artifex.generative_models.core.losses\n"
        "from artifex.generative_models.core.losses.adversarial import vanilla_generator_loss\n"
        "banned = ('flax', 'optax', 'orbax', 'artifex.generative_models.core.configuration',\n"
        "          'artifex.generative_models.nets', 'artifex.generative_models.models')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flax', 'optax', 'orbax')\n"
        "             or any(m == b or m.startswith(b + '.') for b in banned)))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    env["JAX_PLATFORMS"] = "cpu"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_init_file_at_the_shared_namespace_levels():
    # Checked on what is imported, so it holds for a source checkout and an installed wheel.
    import artifex
    import artifex.generative_models
    import artifex.generative_models.core

    for level in (artifex, artifex.generative_models, artifex.generative_models.core):
        assert getattr(level, "__file__", None) is None, level.__name__
    package_dir = Path(losses.__file__).parent
    assert package_dir.name == "losses" and (package_dir / "py.typed").is_file()


def test_version():
    assert losses.__version__ == "0.1.0"


def _public_functions():
    return [getattr(losses, n) for n in losses.__all__ if inspect.isfunction(getattr(losses, n))]


def test_public_api_is_exported_and_complete():
    names = set(losses.__all__)
    assert len(names) == len(losses.__all__)
    expected = {
        "vanilla_generator_loss",
        "vanilla_discriminator_loss",
        "vanilla_generator_loss_from_logits",
        "vanilla_discriminator_loss_from_logits",
        "least_squares_generator_loss",
        "least_squares_discriminator_loss",
        "wasserstein_generator_loss",
        "wasserstein_discriminator_loss",
        "hinge_generator_loss",
        "hinge_discriminator_loss",
        "gradient_penalty",
        "r1_penalty",
        "r2_penalty",
        "dragan_penalty",
        "cycle_consistency_loss",
        "identity_loss",
        "feature_matching_loss",
    }
    assert expected <= names
    for name in names:
        assert hasattr(losses, name), name
    for fn in _public_functions():  # documented where users import them from
        assert fn.__module__.startswith("artifex.generative_models.core.losses.")
        assert not fn.__module__.rsplit(".", 1)[-1].startswith("_"), fn.__module__


def test_options_are_keyword_only_and_documented():
    for fn in _public_functions():
        params = inspect.signature(fn).parameters.values()
        for p in params:
            if p.default is not inspect.Parameter.empty:
                assert p.kind is inspect.Parameter.KEYWORD_ONLY, (fn.__name__, p.name)
        doc = inspect.getdoc(fn) or ""
        for section in ("Args:", "Returns:", "Raises:", "References:"):
            assert section in doc, (fn.__name__, section)
        for p in params:
            assert f"{p.name}:" in doc, (fn.__name__, p.name)


def test_readme_usage_block_runs():
    readme = (SRC.parent / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in readme.split("```python\n")[1:]]
    assert blocks
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "README.md", "exec"), namespace)
        assert math.isfinite(float(namespace["critic_loss"]))
