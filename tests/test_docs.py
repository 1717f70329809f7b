"""A walk through the manual: every ```bash, ```sh and ```python block of README.md and of every
page of the documentation site (docs/, in the order of mkdocs.yml's nav) runs, in order.

What a new user does, scripted: each block runs in a fresh subprocess (``bash -e -o pipefail``
or ``python``) against the real labels (``EMOSIGN_LABELS``) and offline (``HF_HUB_OFFLINE=1``).
README.md runs in a folder of its own; the site's pages run one after another in one shared
folder, as a reader who follows the manual from "Getting started" on. Both folders start empty
(with an empty home): every input a block reads is made by an earlier block (``emosign
examples examples/`` writes predictions for every task, explanations, captions, videos and a
run folder) or shipped with emosign. Nothing is written for a block behind its back.

Only marked blocks are skipped, with the reason given in the page: an HTML comment right
before the block, ``<!-- docs-test: skip (needs a server) -->`` (``readme-test:`` is read too).
Mark a block only for what this machine cannot do (a server, the network, a GPU, an external
tool).

Python blocks are cells of one notebook per page (a block with a ``__future__`` import is a
whole file and runs alone): a block runs with the imports of every earlier Python block of
its page, after the earlier Python blocks of its own section (``##`` heading), so that
``clips`` defined in one cell is there in the next. Bash blocks see ``emosign`` with fewer
bootstrap resamples (``--n-boot 200``; ``power`` also ``--sims 200``) and ``benchmark`` on
one task without the k-fold view (``--tasks sentiment_3 --kfold-repeats 0``: the same code on
every input, a third of the work), so that the walk stays fast; the options are appended, and
argparse lets the last value win.

Blocks in other languages (``text``, ``ini``, ``yaml``, ``toml``, ``bibtex``, none) are not
run; the ``ini`` and ``python`` files of the pytest example are run by tests/test_testing.py.
The command-line reference page is generated from the parser by docs/hooks/cli_reference.py,
checked here too.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import REAL_LABELS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
RUN_LANGUAGES = {"bash": "bash", "sh": "bash", "python": "python"}
SKIP_MARK = re.compile(r"<!--\s*(?:docs|readme)-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
BLOCK_TIMEOUT = 600

# Fewer resamples in shell blocks; appended, so a value the page gives is overridden.
EMOSIGN_FAST = """\
emosign() {
  case "$1" in
    benchmark) command emosign "$@" --n-boot 200 --kfold-repeats 0 --tasks sentiment_3 ;;
    evaluate|compare) command emosign "$@" --n-boot 200 ;;
    power) command emosign "$@" --sims 200 --n-boot 200 ;;
    *) command emosign "$@" ;;
  esac
}
"""


@dataclass(frozen=True)
class Block:
    document: str  # the page, relative to the repository
    line: int  # of the opening fence, 1-based
    language: str
    section: str
    code: str
    skip: str | None  # the marker's reason


def markdown_blocks(text: str, document: str = "") -> list[Block]:
    """Every fenced block of a markdown text, with its section and skip marker."""
    blocks, section, lines = [], "", text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section = line[3:].strip()
        fence = re.match(r"^(`{3,})(\w*)\s*$", line)
        if not fence:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith(fence.group(1)))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        mark = SKIP_MARK.search(before)
        blocks.append(Block(document, i + 1, fence.group(2), section,
                            "\n".join(lines[i + 1 : end]) + "\n",
                            mark.group("reason").strip() if mark else None))
        i = end + 1
    return blocks


def _nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


MKDOCS = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
SITE_PAGES = _nav_pages(MKDOCS["nav"])
DOCUMENTS = ["README.md", *(f"docs/{page}" for page in SITE_PAGES)]
BLOCKS = [b for doc in DOCUMENTS
          for b in markdown_blocks((ROOT / doc).read_text(encoding="utf-8"), doc)]
RUNNABLE = [b for b in BLOCKS if b.language in RUN_LANGUAGES]


def test_the_walk_finds_every_pages_blocks():
    assert len(RUNNABLE) >= 40
    assert {b.language for b in RUNNABLE} >= {"bash", "python"}
    # Every marker sits right before a block it skips: none is left dangling.
    for doc in DOCUMENTS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        markers = len(SKIP_MARK.findall(text))
        assert markers == sum(b.skip is not None for b in BLOCKS if b.document == doc), doc


def test_every_page_is_on_the_site():
    """Every markdown file of docs/ is in the nav (and so walked), but the package index page."""
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert on_disk - set(SITE_PAGES) == {"index-page.md"}
    assert set(SITE_PAGES) <= on_disk


def test_the_marker_grammar():
    text = ("## A\n\n<!-- docs-test: skip (needs a server) -->\n```bash\nx\n```\n\n```python\ny\n```\n"
            "<!-- readme-test: skip (old) -->\n```sh\nz\n```\n")
    first, second, third = markdown_blocks(text)
    assert (first.skip, first.code, first.section) == ("needs a server", "x\n", "A")
    assert second.skip is None and second.language == "python"
    assert third.skip == "old"


# --- the command-line reference ---------------------------------------------------------------


def _cli_reference_module():
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        import cli_reference
    finally:
        sys.path.remove(str(DOCS / "hooks"))
    return cli_reference


def test_the_cli_reference_has_every_command_and_option():
    import argparse

    from emosign.cli import build_parser

    hook = _cli_reference_module()
    assert "docs/hooks/cli_reference.py" in MKDOCS["hooks"]
    assert hook.MARKER in (DOCS / "cli.md").read_text(encoding="utf-8")
    page = hook.on_page_markdown((DOCS / "cli.md").read_text(encoding="utf-8"), page=None)
    assert hook.MARKER not in page
    names = [name for name, _ in hook.commands(build_parser())]
    assert {"emosign evaluate", "emosign mllm run", "emosign examples"} <= set(names)
    for name, parser in hook.commands(build_parser()):
        assert f"`{name}`" in page, name
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                continue
            for option in action.option_strings:
                assert option in page, (name, option)


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path):
    """``mkdocs build --strict``, as .ci/run runs it: every page, link and docstring, offline."""
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    pytest.importorskip("mkdocstrings", reason="the docs extra is not installed")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    reference = (tmp_path / "site" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "emosign mllm run" in reference and "--labels-file" in reference


def test_the_api_pages_read_rest_roles_as_markdown():
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        from griffe_rst import rst_to_markdown
    finally:
        sys.path.remove(str(DOCS / "hooks"))
    assert "docs/hooks/griffe_rst.py:RstRoles" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    text = "Calls :func:`~emosign.metrics.evaluate` (see :mod:`emosign.video`)::\n\n    x = 1\n"
    assert rst_to_markdown(text) == "Calls `emosign.metrics.evaluate` (see `emosign.video`):\n\n    x = 1\n"


# --- the reader's folders ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A reader's folder per walk (README.md; the site), each empty, with an empty home."""
    if not REAL_LABELS:
        pytest.skip("EMOSIGN_LABELS is not set: the walk runs against the real label file")
    made: dict[str, tuple[Path, dict[str, str]]] = {}

    def folder(document: str) -> tuple[Path, dict[str, str]]:
        walk = "readme" if document == "README.md" else "site"
        if walk not in made:
            root = tmp_path_factory.mktemp(f"walk-{walk}")
            home = root.parent / f"{root.name}-home"
            home.mkdir()
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("EMOSIGN_", "HF_", "PYTEST_"))
                   and k not in {"HOME", "XDG_CACHE_HOME"}}
            env.update({
                "EMOSIGN_LABELS": str(Path(REAL_LABELS).resolve()),
                "HOME": str(home),
                "HF_HUB_OFFLINE": "1",
                "HF_DATASETS_OFFLINE": "1",
                "MPLBACKEND": "Agg",
                # The interpreter running the tests, and its `emosign`, come first.
                "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
            })
            made[walk] = (root, env)
        return made[walk]

    return folder


def _python_source(block: Block) -> str:
    """The block as a notebook cell of its page: the imports of every earlier Python block of
    the page, then the earlier Python blocks of its section, then the block."""
    if "from __future__ import" in block.code:
        return block.code  # a whole file (the pytest example), not a cell
    earlier = [b for b in RUNNABLE if b.document == block.document and b.language == "python"
               and b.line < block.line and b.skip is None and "from __future__ import" not in b.code]
    imports = [
        ast.unparse(node) + "\n"
        for b in earlier if b.section != block.section
        for node in ast.parse(b.code).body
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    ]
    same_section = [b.code for b in earlier if b.section == block.section]
    return "".join(imports) + "".join(same_section) + block.code


@pytest.mark.slow
@pytest.mark.parametrize("block", RUNNABLE,
                         ids=[f"{b.document}:L{b.line}-{b.language}" for b in RUNNABLE])
def test_block_runs(block: Block, folders):
    if block.skip:
        pytest.skip(f"{block.document} line {block.line}: {block.skip}")
    root, env = folders(block.document)
    if RUN_LANGUAGES[block.language] == "bash":
        command = ["bash", "-e", "-o", "pipefail", "-c", EMOSIGN_FAST + block.code]
    else:
        script = root.parent / f"{root.name}-{Path(block.document).stem}-{block.line}.py"
        script.write_text(_python_source(block), encoding="utf-8")
        command = [sys.executable, str(script)]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True,
                          text=True, timeout=BLOCK_TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (
        f"{block.document} line {block.line} ({block.language}, section {block.section!r}) exited "
        f"{done.returncode}:\n{block.code}\n--- stdout ---\n{done.stdout[-3000:]}\n"
        f"--- stderr ---\n{done.stderr[-3000:]}"
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
