"""The Markdown code-block finder that the example tests stand on."""

import pytest
from markdown_blocks import SEEDS, SEEDS_MISSING, code_blocks


def test_blocks_keep_their_code_line_numbers_and_drop_other_languages(tmp_path):
    doc = tmp_path / "guide.md"
    doc.write_text(
        "# Title\n\n```bash\npip install x\n```\n\n```python\nimport jax\nx = 1\n```\n"
        "!!! tip\n    ```python\n    y = 2\n    ```\n"
    )
    blocks = code_blocks(doc)
    assert [(b.block_id, b.code) for b in blocks] == [
        ("guide:8", "import jax\nx = 1\n"),
        ("guide:13", "y = 2\n"),
    ]
    assert doc.read_text().splitlines()[7] == "import jax"


def test_an_unclosed_fence_is_an_error_naming_its_line(tmp_path):
    doc = tmp_path / "broken.md"
    doc.write_text("text\n```python\nx = 1\n")
    with pytest.raises(ValueError, match=r"broken.md:2: code fence opened here is never closed"):
        code_blocks(doc)


@pytest.mark.skipif(not SEEDS.is_dir(), reason=SEEDS_MISSING)
def test_every_seed_block_is_found_and_parses_as_python():
    counts = {p.stem: len(code_blocks(p)) for p in sorted(SEEDS.glob("*.md"))}
    # Counted by hand from the three seed documents.
    assert counts == {
        "000-gan-user-guide": 49,
        "001-advanced-gan-examples": 11,
        "003-gan-api-reference": 24,
    }
    # The one block that is a bare signature (no body), shown as documentation.
    signature_only = {"003-gan-api-reference:725"}
    for path in SEEDS.glob("*.md"):
        for block in code_blocks(path):
            if block.block_id in signature_only:
                with pytest.raises(SyntaxError):
                    compile(block.code, block.block_id, "exec")
            else:
                compile(block.code, block.block_id, "exec")
