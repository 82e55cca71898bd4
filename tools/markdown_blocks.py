"""Find the fenced Python code blocks of Markdown documents.

The specification documents (:data:`SEEDS`) and the documentation site (``docs/``)
promise that their examples run; their tests execute these blocks. Each block gets a
stable id, ``<file stem>:<first code line>``, that test lists and skip reasons refer to.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# The three specification documents (user guide, advanced examples, API reference) are not
# the project's writing, so the repository holds no copy: their conformance tests read
# them where the workspace keeps them, ``../shared/seeds/`` beside the checkout (as in
# CI), or from ``$ARTIFEX_SEEDS_DIR``, and skip, saying so, where neither exists.
SEEDS = Path(
    os.environ.get("ARTIFEX_SEEDS_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
)
SEEDS_MISSING = (
    f"the specification documents are not at {SEEDS} (../shared/seeds beside the checkout, "
    "or set ARTIFEX_SEEDS_DIR): their conformance tests are skipped"
)

FENCE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced code block: where it is and what it says."""

    path: Path
    line: int  # 1-based line number of the block's first code line
    language: str
    code: str

    @property
    def block_id(self) -> str:
        """``000-gan-user-guide:10`` — the file stem and the first code line."""
        return f"{self.path.stem}:{self.line}"


def code_blocks(path: Path, language: str = "python") -> list[CodeBlock]:
    """Every fenced block of ``language`` in the Markdown file ``path``, in order.

    Raises:
        ValueError: if a fence is opened and never closed (the rest of the file would
            silently become code).
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent = len(opening.group("indent"))
        end = index + 1
        while end < len(lines) and not re.match(r"^\s*```\s*$", lines[end]):
            end += 1
        if end == len(lines):
            raise ValueError(f"{path}:{index + 1}: code fence opened here is never closed")
        if opening.group("lang") == language:
            body = "\n".join(line[indent:] for line in lines[index + 1 : end])
            blocks.append(CodeBlock(path, index + 2, language, body + "\n"))
        index = end + 1
    return blocks
