"""The configs package imports no array library (DESIGN: configs import stdlib + YAML)."""

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

PROBE = """
import sys
import artifex.generative_models.core.configuration as c
from artifex.generative_models.core.configuration import gan, gan_config, network_configs
from artifex.generative_models.core.configuration import training_config, conversion
c.ExperimentConfig.from_yaml(c.ExperimentConfig(model=c.StyleGANConfig()).to_yaml())
forbidden = ("jax", "jaxlib", "flax", "numpy", "optax", "orbax", "grain")
print(sorted(m for m in sys.modules if m.split(".")[0] in forbidden))
"""


def test_importing_the_package_imports_no_array_library():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "[]"


def test_no_namespace_level_init_files():
    # Checked on what is imported, so it holds for a source checkout and an installed wheel.
    import artifex
    import artifex.generative_models
    import artifex.generative_models.core
    import artifex.generative_models.core.configuration as configuration

    for level in (artifex, artifex.generative_models, artifex.generative_models.core):
        assert getattr(level, "__file__", None) is None, level.__name__
    assert Path(configuration.__file__).name == "__init__.py"
