"""Every Python example of the documentation site runs, and what it says it prints holds.

The pages under ``docs/`` are read with the block finder of ``tools/markdown_blocks.py``.
The ``python`` blocks of one page run in order, in one namespace, in a fresh working
directory, as a reader running the page top to bottom would run them. Conventions a page
may use (each marker is an HTML comment, invisible on the site, on the last non-blank line
before a block's opening fence):

* ``<!-- not-run: reason -->`` before a ``python`` block: the block is compiled but not
  run (a multi-host snippet, a long training run). The reason must be given.
* ``<!-- file: NAME -->`` before a block of any language: the block's text is written to
  ``NAME`` in the working directory before the blocks after it run (a YAML config that
  the next Python block reads).
* ``print(...)  # text`` in a block that runs: ``text`` must appear in what the block
  printed, in order; it is how a page states an output, so the output is checked.

``bash`` and other blocks are never run.
"""

from __future__ import annotations

import contextlib
import io
import re
import traceback
from pathlib import Path

import pytest
from markdown_blocks import FENCE, CodeBlock, code_blocks

DOCS = Path(__file__).resolve().parent.parent / "docs"
MARKER = re.compile(r"^\s*<!--\s*(?P<kind>[\w-]+)\s*(?::(?P<value>.*?))?\s*-->\s*$")
KINDS = ("not-run", "file")
PRINTED = re.compile(r"^\s*print\(.*\)\s*#\s*(?P<expected>\S.*?)\s*$")


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def page_id(path: Path) -> str:
    return path.relative_to(DOCS).as_posix()


def all_blocks(path: Path) -> list[CodeBlock]:
    """Every fenced block of ``path`` with a language, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    languages = {m.group("lang") for line in lines if (m := FENCE.match(line)) and m.group("lang")}
    blocks = [block for language in languages for block in code_blocks(path, language)]
    return sorted(blocks, key=lambda block: block.line)


def marker_before(block: CodeBlock) -> tuple[str, str] | None:
    """``(kind, value)`` of the marker on the last non-blank line before the block's fence."""
    lines = block.path.read_text(encoding="utf-8").splitlines()
    index = block.line - 3  # block.line is the 1-based first code line; the fence is above
    while index >= 0 and not lines[index].strip():
        index -= 1
    if index < 0:
        return None
    match = MARKER.match(lines[index])
    if match is None or match.group("kind") not in KINDS:
        return None
    return match.group("kind"), (match.group("value") or "").strip()


def pages_with_examples() -> list[Path]:
    return [path for path in pages() if code_blocks(path, "python")]


def marker_problems(path: Path) -> list[str]:
    """What is wrong with the markers of one page: empty reasons, stray or unknown markers."""
    problems = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        where = f"{path.name}:{number}"
        match = MARKER.match(line)
        if match is None or match.group("kind") not in KINDS:
            if re.search(r"<!--\s*not[\s_-]?run", line, re.IGNORECASE):
                problems.append(f"{where}: write a marker as `<!-- not-run: reason -->`")
            continue
        kind, value = match.group("kind"), (match.group("value") or "").strip()
        if not value:
            what = "a reason" if kind == "not-run" else "a file name"
            problems.append(f"{where}: `<!-- {kind}: ... -->` must give {what}")
        following = next((text for text in lines[number:] if text.strip()), "")
        fence = FENCE.match(following)
        if fence is None or not fence.group("lang"):
            problems.append(f"{where}: a {kind} marker must come right before a code block")
        elif kind == "not-run" and fence.group("lang") != "python":
            problems.append(f"{where}: not-run marks a python block, not {fence.group('lang')}")
        if kind == "file" and (Path(value).is_absolute() or ".." in Path(value).parts):
            problems.append(f"{where}: file {value!r} must stay in the working directory")
    return problems


def test_markers_of_every_page_are_well_formed_and_each_marks_a_block():
    assert pages_with_examples(), f"no page under {DOCS} has a python block"
    problems = [problem for path in pages() for problem in marker_problems(path)]
    assert not problems, "\n".join(problems)


def test_marker_rules(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- not-run: needs two hosts -->\n```python\nx = 1\n```\n"
        "<!-- not-run: -->\n\n```python\ny = 2\n```\n"
        "<!-- not run because -->\n```python\nz = 3\n```\n"
        "<!-- not-run: a shell block -->\n```bash\nls\n```\n"
        "<!-- file: conf.yaml -->\n```yaml\na: 1\n```\n"
        "<!-- file: ../outside.yaml -->\n```yaml\nb: 2\n```\n"
        "<!-- not-run: nothing follows -->\nprose\n"
        "<!-- an ordinary comment -->\n"
    )
    assert marker_problems(page) == [
        "page.md:5: `<!-- not-run: ... -->` must give a reason",
        "page.md:10: write a marker as `<!-- not-run: reason -->`",
        "page.md:14: not-run marks a python block, not bash",
        "page.md:22: file '../outside.yaml' must stay in the working directory",
        "page.md:26: a not-run marker must come right before a code block",
    ]
    blocks = {block.block_id: marker_before(block) for block in all_blocks(page)}
    assert blocks == {
        "page:3": ("not-run", "needs two hosts"),
        "page:8": ("not-run", ""),
        "page:12": None,
        "page:16": ("not-run", "a shell block"),
        "page:20": ("file", "conf.yaml"),
        "page:24": ("file", "../outside.yaml"),
    }


def test_a_stated_output_must_be_printed(tmp_path):
    block = CodeBlock(tmp_path / "page.md", 3, "python", "print(1)  # 1\nprint(2)  # 3\n")
    check_printed(block, "1\n3\n")
    with pytest.raises(AssertionError, match=r"should print '3'"):
        check_printed(block, "1\n2\n")
    with pytest.raises(AssertionError, match=r"should print '3'"):
        check_printed(block, "3\n1\n")  # in order


def check_printed(block: CodeBlock, output: str) -> None:
    """Every ``print(...)  # text`` printed ``text``, in order."""
    lines = output.splitlines()
    position = 0
    for source_line in block.code.splitlines():
        match = PRINTED.match(source_line)
        if match is None:
            continue
        expected = match.group("expected")
        while position < len(lines) and expected not in lines[position]:
            position += 1
        assert position < len(lines), (
            f"{block.block_id}: `{source_line.strip()}` should print {expected!r}; "
            f"the block printed:\n{output}"
        )
        position += 1


@pytest.mark.slow
@pytest.mark.parametrize("path", pages_with_examples(), ids=page_id)
def test_docs_page_examples_run(path: Path, tmp_path: Path, monkeypatch) -> None:
    """The python blocks of one page, in order, in one namespace (as a reader runs them).

    One test per page, so that a parallel runner cannot separate a block from the blocks
    before it. The first failing block ends the test: the ones after it build on it.
    """
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    ran = 0
    for block in all_blocks(path):
        marker = marker_before(block)
        if marker is not None and marker[0] == "file":
            target = tmp_path / marker[1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")
        if block.language != "python":
            continue
        compiled = compile(block.code, block.block_id, "exec")
        if marker is not None and marker[0] == "not-run":
            assert marker[1], f"{block.block_id}: a not-run block must say why"
            continue
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output):
                exec(compiled, namespace)
        except Exception:
            pytest.fail(
                f"{block.block_id} failed:\n{traceback.format_exc()[-4000:]}\n"
                f"it printed:\n{output.getvalue()}"
            )
        check_printed(block, output.getvalue())
        ran += 1
    assert ran > 0
