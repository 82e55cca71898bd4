"""Every Python block of the three seed documents runs, and what it prints holds.

The seeds (the specification documents, read from ``../shared/seeds/`` beside the
checkout or ``$ARTIFEX_SEEDS_DIR``; skipped, saying so, where absent) are read block by
block. The blocks of one document run in order in one namespace, as a reader
would run them; before a block, a short prelude may define what the block uses but never
defines (``batch_size``, ``real_data``, a dataloader, ...). After a block:

* every ``print(...)  # (16, 28, 28, 1)`` line must have printed that shape (``H'`` and
  other symbols match any size), in order;
* the block's extra checks (``CHECKS``) hold — ranges and facts the prose states.

Blocks that are not run as written are listed with the reason: deliberately wrong ("BAD")
examples, prose fragments, assignments to configs that are immutable here (those run and
must raise the error that points to ``config.replace``), and calls of Flax functions that
do not exist (those run and must still fail, so the list notices if Flax adds them).
"""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from markdown_blocks import SEEDS, SEEDS_MISSING, CodeBlock, code_blocks

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason=SEEDS_MISSING)
GUIDE, ADVANCED, REFERENCE = (
    "000-gan-user-guide",
    "001-advanced-gan-examples",
    "003-gan-api-reference",
)

# What every document's namespace starts with: the imports its prose takes for granted.
COMMON_PRELUDE = """
import jax
import jax.numpy as jnp
import optax
from flax import nnx
import matplotlib
matplotlib.use("Agg")
batch_size = 4
latent_dim = 100
key = jax.random.key(42)
"""

# visualize_samples (user guide) transposes (C, H, W) samples: give it a GAN that makes them.
NCHW_GAN = (
    "gan = GAN(config=gan_config.replace(\n"
    "    generator=gan_config.generator.replace(output_shape=(1, 28, 28)),\n"
    "    discriminator=gan_config.discriminator.replace(input_shape=(1, 28, 28))),\n"
    "    rngs=nnx.Rngs(params=0, sample=1, dropout=2))\n"
)

# Names a block uses without defining them. Keyed by block id ("<document>:<line>").
PRELUDES = {
    f"{GUIDE}:429": (
        "real_data = jax.random.normal(key, (batch_size, 1, 28, 28))\n"
        "real_labels = jax.nn.one_hot(jnp.arange(batch_size) % 10, 10)\n"
    ),
    f"{GUIDE}:619": "images = jax.random.normal(key, (2, 256, 256, 3))\n",
    f"{GUIDE}:676": (
        "config = gan_config  # the vanilla GAN config of the Vanilla GAN section\n"
        "num_epochs, step, log_interval, sample_interval = 1, 0, 1, 1\n"
        "dataloader = [jax.random.randint(key, (batch_size, 28, 28, 1), 0, 256)"
        ".astype(jnp.float32)]\n"
        "def save_images(samples, path):\n"
        "    assert samples.shape[0] == 16\n"
    ),
    f"{GUIDE}:934": "cond_generator = cgan.generator\n",
    f"{GUIDE}:949": NCHW_GAN,
    f"{GUIDE}:988": "gen_opt, disc_opt = gen_optimizer, disc_optimizer\n",
    f"{GUIDE}:1034": (
        "from artifex.generative_models.core.evaluation.metrics import digits_classifier\n"
        "inception_classifier_fn = digits_classifier()\n"
        "generated_samples = jnp.tanh(jax.random.normal(key, (20, 8, 8, 1)))\n"
    ),
    f"{GUIDE}:1051": (
        "from artifex.generative_models.core.evaluation.metrics import "
        "digits_feature_extractor\n"
        "feature_extractor_fn = digits_feature_extractor()\n"
        "real_images = jnp.tanh(jax.random.normal(jax.random.key(1), (100, 8, 8, 1)))\n"
        "generated_samples = jnp.tanh(jax.random.normal(key, (100, 8, 8, 1)))\n"
    ),
    f"{GUIDE}:1072": "threshold = 0.1\n",
    f"{GUIDE}:1105": (
        "epoch, num_epochs = 1, 10\nfake_data = jax.random.normal(key, real_data.shape)\n"
    ),
    f"{GUIDE}:1198": "config = dcgan_config  # DCGAN needs a convolutional config\n",
    f"{GUIDE}:1218": "data = jax.random.randint(key, (2, 8, 8, 3), 0, 256).astype(jnp.float32)\n",
    f"{GUIDE}:1252": "step = 100\n" + NCHW_GAN,
    f"{GUIDE}:1272": "epoch = 0  # so that the block's `if epoch % 10 == 0` body runs\n",
}

# Replacements applied to a block's text before it runs, each with its reason.
PATCHES = {
    f"{GUIDE}:676": [
        # Written for the Flax < 0.11 optimizer; Flax 0.11+ takes the model first, as the
        # guide's own TTUR section and the advanced guide write it.
        ("disc_opt.update(disc_grads)", "disc_opt.update(gan.discriminator, disc_grads)"),
        ("gen_opt.update(gen_grads)", "gen_opt.update(gan.generator, gen_grads)"),
    ],
}

# The user guide's basic training loop draws `rngs.sample()` and runs `gan.generator`
# (whose batch norm updates its statistics) inside `nnx.value_and_grad` of a function
# that only closes over them. Flax NNX refuses to mutate state captured from an outer
# trace, whatever library builds the modules; `artifex-train` is the supported loop.
_CLOSURE_MUTATION = (Exception, "Cannot mutate .* from a different trace level")

# Blocks that must fail, and the error they must fail with.
MUST_RAISE = {
    f"{GUIDE}:676": _CLOSURE_MUTATION,
    f"{GUIDE}:988": _CLOSURE_MUTATION,
    # Configs are immutable: the assignment raises and names the way to change a field.
    f"{GUIDE}:1089": (AttributeError, r"config\.replace\(loss_type="),
    f"{GUIDE}:1147": (AttributeError, r"\.replace\(gradient_penalty_weight="),
    f"{GUIDE}:1176": (AttributeError, r"\.replace\(hidden_dims="),
    f"{GUIDE}:1206": (AttributeError, r"\.replace\(hidden_dims="),
    f"{GUIDE}:1266": (AttributeError, r"config\.replace\(loss_type="),
    # Flax has no nnx.adam (optax.adam is meant) and no nnx.save_checkpoint (Artifex
    # saves checkpoints through artifex-train).
    f"{GUIDE}:1246": (AttributeError, "adam"),
    f"{GUIDE}:1272": (AttributeError, "save_checkpoint"),
}

# Blocks that are not run at all.
NOT_RUN = {
    f"{GUIDE}:1183": "fragment: calls train_discriminator(...) / train_generator(...) placeholders",
    f"{GUIDE}:1232": "fragment: DCGANGenerator(...) with the arguments elided",
    f"{GUIDE}:1281": "deliberately BAD example: BatchNorm(...) placeholder on layers[0]",
    f"{REFERENCE}:725": "signature only: compute_gradient_penalty's documented signature",
}

# Facts the prose states about a block's results, checked after it runs.
CHECKS = {
    f"{GUIDE}:10": "assert samples.shape == (16, 28, 28, 1)",
    f"{GUIDE}:106": "assert real_scores.shape == fake_scores.shape == (batch_size, 1)",
    f"{GUIDE}:146": "assert samples.shape == (16, 28, 28, 1)",
    f"{GUIDE}:204": "assert samples.shape == (64, 64, 64, 3)",
    f"{GUIDE}:429": (
        "assert samples.shape == (10, 1, 28, 28)\n"
        "assert real_scores.shape == (batch_size,) and fake_scores.shape == (10,)"
    ),
    f"{GUIDE}:619": (
        "assert isinstance(patch_features, list) and patch_features[-1].shape[-1] == 1\n"
        "assert len(outputs) == len(features) == 3"
    ),
    f"{GUIDE}:868": "assert samples.dtype == jnp.uint8 and samples.shape[0] == 64",
    f"{GUIDE}:882": "assert interpolated.shape == (20, 28, 28, 1)",
    f"{GUIDE}:909": "assert samples_dim0.shape[0] == 10",
    f"{GUIDE}:934": "assert samples.shape == (10, 1, 28, 28)",
    f"{REFERENCE}:126": "assert 0.0 <= float(scores.min()) and float(scores.max()) <= 1.0",
    f"{REFERENCE}:246": "assert samples.shape == (16, 1, 28, 28)",
    f"{REFERENCE}:679": "assert disc_loss.shape == () and gen_loss.shape == ()",
    f"{REFERENCE}:885": "assert gen_loss.shape == () and disc_loss.shape == ()",
}

SHAPE_COMMENT = re.compile(r"^\s*print\(.*\)\s*#\s*(\([^)]*\))")


def shape_pattern(comment: str) -> re.Pattern[str]:
    """``(16, H', W', 1)`` -> a regex where numbers match themselves and symbols any size."""
    parts = [p.strip() for p in comment.strip("()").split(",") if p.strip()]
    items = [re.escape(p) if p.isdigit() else r"\d+" for p in parts]
    tail = "," if len(items) == 1 else ""
    return re.compile(r"\(" + r",\s*".join(items) + tail + r"\)")


def check_printed_shapes(block: CodeBlock, output: str) -> None:
    """Every annotated print printed its annotated shape, in order."""
    lines = output.splitlines()
    position = 0
    for source_line in block.code.splitlines():
        match = SHAPE_COMMENT.match(source_line)
        if match is None:
            continue
        pattern = shape_pattern(match.group(1))
        while position < len(lines) and not pattern.search(lines[position]):
            position += 1
        assert position < len(lines), (
            f"{block.block_id}: `{source_line.strip()}` should print {match.group(1)}; "
            f"the block printed:\n{output}"
        )
        position += 1


def new_namespace(document: str) -> dict:
    """A fresh namespace for one document, holding the common prelude."""
    namespace: dict = {"__name__": f"seed_{document.replace('-', '_')}"}
    exec(COMMON_PRELUDE, namespace)
    return namespace


def run_block(block: CodeBlock, namespace: dict) -> None:
    """Run one block in ``namespace`` with its prelude, patches and checks."""
    code = block.code
    for old, new in PATCHES.get(block.block_id, []):
        assert old in code, f"{block.block_id}: patch target {old!r} not found"
        code = code.replace(old, new)
    exec(PRELUDES.get(block.block_id, ""), namespace)
    compiled = compile(code, block.block_id, "exec")
    output = io.StringIO()
    if block.block_id in MUST_RAISE:
        error, message = MUST_RAISE[block.block_id]
        with pytest.raises(error, match=message), contextlib.redirect_stdout(output):
            exec(compiled, namespace)
        return
    with contextlib.redirect_stdout(output):
        exec(compiled, namespace)
    check_printed_shapes(block, output.getvalue())
    exec(CHECKS.get(block.block_id, ""), namespace)


def all_blocks() -> list[CodeBlock]:
    return [block for path in sorted(SEEDS.glob("*.md")) for block in code_blocks(path)]


def test_every_listed_block_exists():
    ids = {block.block_id for block in all_blocks()}
    for table in (PRELUDES, PATCHES, MUST_RAISE, NOT_RUN, CHECKS):
        assert set(table) <= ids, sorted(set(table) - ids)


@pytest.mark.slow
@pytest.mark.parametrize("document", [GUIDE, ADVANCED, REFERENCE])
def test_seed_document(document: str) -> None:
    """All blocks of one document, in order, in one namespace (as a reader runs them).

    One test per document, so that a parallel runner cannot separate a block from the
    blocks before it; every failing block is reported, not only the first.
    """
    namespace = new_namespace(document)
    failures = []
    ran = 0
    for block in code_blocks(SEEDS / f"{document}.md"):
        if block.block_id in NOT_RUN:
            continue
        try:
            run_block(block, namespace)
            ran += 1
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                raise
            failures.append(f"{block.block_id}: {type(error).__name__}: {error}"[:1500])
    assert not failures, f"{len(failures)} block(s) failed:\n" + "\n\n".join(failures)
    assert ran > 0
