"""The documentation site covers every name the specification documents use.

The three specification documents (read from ``../shared/seeds/``, see
``tools/markdown_blocks.py``; skipped, saying so, where absent) show import paths, classes,
functions and arguments in their Python blocks and parameter tables. The project's own
pages under ``docs/`` must mention each of them, so that a reader of the site finds every
piece of the API the specifications describe:

* every ``from artifex... import Name`` module path, and every imported name;
* every keyword argument passed to an imported name in a block
  (``GeneratorConfig(hidden_dims=...)``);
* every parameter listed in a seed's ``| Parameter | ... |`` tables.

Only the text is compared (words, not behaviour: the seed conformance test runs the blocks).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from markdown_blocks import SEEDS, SEEDS_MISSING, code_blocks

DOCS = Path(__file__).resolve().parent.parent / "docs"
TABLE_ROW = re.compile(r"^\|\s*`(?P<name>[A-Za-z_][A-Za-z0-9_]*)`\s*\|")


def seed_documents() -> list[Path]:
    return sorted(SEEDS.glob("*.md"))


def names_in_code(code: str) -> tuple[set[str], set[str], set[str]]:
    """``(module paths, imported names, keyword arguments)`` of one block's artifex use."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # prose fragments in a seed; their names appear in other blocks
        return set(), set(), set()
    modules, imported, keywords = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("artifex"):
            modules.add(node.module or "")
            imported.update(alias.name for alias in node.names)
    for node in ast.walk(tree):
        called = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        if called and node.func.id in imported:
            keywords.update(kw.arg for kw in node.keywords if kw.arg is not None)
    return modules, imported, keywords


def parameter_table_names(text: str) -> set[str]:
    """The first-column names of every table whose header starts with ``Parameter``."""
    names: set[str] = set()
    in_table = False
    for line in text.splitlines():
        if re.match(r"^\|\s*Parameter\s*\|", line):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            in_table = False
        if in_table and (match := TABLE_ROW.match(line)):
            names.add(match.group("name"))
    return names


def docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(DOCS.rglob("*.md")))


def missing(names: set[str], text: str) -> list[str]:
    return sorted(name for name in names if not re.search(rf"(?<![\w.]){re.escape(name)}\b", text))


def test_the_word_search_finds_whole_names_only():
    assert missing({"GAN", "DCGAN", "wgan.x", "hidden_dims"}, "a DCGAN with hidden_dims") == [
        "GAN",
        "wgan.x",
    ]
    table = "| Parameter | Type |\n|---|---|\n| `latent_dim` | int |\n\n| `other` | x |\n"
    assert parameter_table_names(table) == {"latent_dim"}
    code = "from artifex.a import B\nB(x=1, y=2)\nC(z=3)\n"
    assert names_in_code(code) == ({"artifex.a"}, {"B"}, {"x", "y"})


@pytest.mark.skipif(not SEEDS.is_dir(), reason=SEEDS_MISSING)
def test_docs_mention_every_import_path_name_and_argument_of_the_seeds():
    modules, imported, keywords, parameters = set(), set(), set(), set()
    for path in seed_documents():
        for block in code_blocks(path):
            found = names_in_code(block.code)
            modules |= found[0]
            imported |= found[1]
            keywords |= found[2]
        parameters |= parameter_table_names(path.read_text(encoding="utf-8"))
    assert modules and imported and keywords and parameters, f"nothing found in {SEEDS}"
    text = docs_text()
    gaps = {
        "import paths": missing(modules, text),
        "imported names": missing(imported, text),
        "keyword arguments": missing(keywords, text),
        "table parameters": missing(parameters, text),
    }
    gaps = {kind: names for kind, names in gaps.items() if names}
    assert not gaps, f"names the seeds use that no page under {DOCS} mentions: {gaps}"
