"""A walk through README.md: every ```bash, ```sh and ```python block runs, in order.

What a new user does, scripted: each block runs in a fresh subprocess (``bash -e -o pipefail``
or ``python``), all in one shared working folder, in the order the README gives them, against
the real labels (``EMOSIGN_LABELS``) and offline (``HF_HUB_OFFLINE=1``). The folder holds what
the README assumes the reader has: ``videos/`` and ``~/data/asllrp/`` with a small synthetic
mp4 per clip, ``captions.csv``, and every predictions file a block scores (``my_model.csv``
for the task that block names; written before the block unless a block wrote it).

Only blocks marked in the README are skipped, with the reason given there: an HTML comment
right before the block, ``<!-- readme-test: skip (needs a server) -->``. Mark a block only
for what this machine cannot do (a server, the network, a GPU, an external tool).

Python blocks are cells of one notebook, as the README reads (a block with a ``__future__``
import is a whole file and runs alone): a block runs with the imports of
every earlier Python block, after the earlier Python blocks of its own section (``##``
heading), so that ``clips`` defined in one cell is there in the next. Bash blocks see
``emosign`` with fewer bootstrap resamples (``--n-boot 200``; ``power`` also ``--sims 200``) and ``benchmark`` on one task
without the k-fold view (``--tasks sentiment_3 --kfold-repeats 0``: the same code on every
input, a third of the work), so that the walk stays fast; the options are appended, and
argparse lets the last value win.

Blocks in other languages (``text``, ``ini``, ``yaml``, ``bibtex``, none) are not run; the
``ini`` block of the pytest example is run by tests/test_testing.py.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REAL_LABELS, write_mp4

from emosign import vocab

README = Path(__file__).resolve().parent.parent / "README.md"
RUN_LANGUAGES = {"bash": "bash", "sh": "bash", "python": "python"}
SKIP_MARK = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
BLOCK_TIMEOUT = 600

# Fewer resamples in shell blocks; appended, so a value the README gives is overridden.
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
    line: int  # of the opening fence, 1-based
    language: str
    section: str
    code: str
    skip: str | None  # the marker's reason


def readme_blocks(text: str) -> list[Block]:
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
        blocks.append(Block(i + 1, fence.group(2), section, "\n".join(lines[i + 1 : end]) + "\n",
                            mark.group("reason").strip() if mark else None))
        i = end + 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
RUNNABLE = [b for b in BLOCKS if b.language in RUN_LANGUAGES]


def test_the_walk_finds_the_readmes_blocks():
    assert len(RUNNABLE) >= 10
    assert {b.language for b in RUNNABLE} >= {"bash", "python"}
    # Every marker sits right before a block it skips: none is left dangling.
    markers = len(SKIP_MARK.findall(README.read_text(encoding="utf-8")))
    assert markers == sum(b.skip is not None for b in BLOCKS)


def test_the_marker_grammar():
    text = "## A\n\n<!-- readme-test: skip (needs a server) -->\n```bash\nx\n```\n\n```python\ny\n```\n"
    first, second = readme_blocks(text)
    assert (first.skip, first.code, first.section) == ("needs a server", "x\n", "A")
    assert second.skip is None and second.language == "python"


# --- the reader's folder --------------------------------------------------------------------


def _commands(code: str) -> list[list[str]]:
    """The shell command lines of a block, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", code)
    commands = []
    for line in joined.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        if words:
            commands.append(words)
    return commands


def scored_files(block: Block) -> list[tuple[str, str]]:
    """(task, file) for each predictions file the block scores."""
    found = []
    if block.language == "python":
        for match in re.finditer(r"\b(?:evaluate|emosign_scorer)\(\s*['\"](\w+)['\"]\s*,\s*['\"]([^'\"]+)['\"]",
                                 block.code):
            found.append((match.group(1), match.group(2)))
        return found
    for words in _commands(block.code):
        if "--task" not in words[:-1]:
            continue
        task = words[words.index("--task") + 1]
        for option in ("--predictions", "--a", "--b"):
            if option in words[:-1]:
                found.append((task, words[words.index(option) + 1]))
    return found


def _answer(task: str, clip, k: int):
    """A plausible model's answer: the reference, wrong on every fourth clip."""
    wrong = k % 4 == 3
    if task == "sentiment_7":
        return str(max(-3, min(3, clip.sentiment + (1 if clip.sentiment < 3 else -1) * wrong)))
    if task == "sentiment_3":
        return ("positive" if clip.sentiment_3 != "positive" else "negative") if wrong else clip.sentiment_3
    if task == "emotion_single":
        return ("neutral" if clip.single_label != "neutral" else "happiness") if wrong else clip.single_label
    if task == "emotion_multi":
        return clip.multi_label
    if task == "cue_grounding":
        return "Raised eyebrows and a frown; the signs are fast and repeated."
    raise AssertionError(task)


def predictions_rows(task: str, labels) -> list[dict]:
    clips = {
        "emotion_single": [c for c in labels if c.expression_set == "single"],
        "emotion_multi": [c for c in labels if c.expression_set == "multi"],
    }.get(task, list(labels))
    if task in ("emotion_presence", "emotion_intensity"):
        return [{"video_name": c.video_name, **dict(zip(vocab.EMOTION_NAMES, c.intensities))}
                for c in clips]
    return [{"video_name": c.video_name, "prediction": _answer(task, c, k)} for k, c in enumerate(clips)]


def write_predictions(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows), encoding="utf-8")
    else:
        with open(path, "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]),
                                    delimiter="\t" if path.suffix == ".tsv" else ",")
            writer.writeheader()
            writer.writerows(rows)


@dataclass
class Workspace:
    root: Path
    env: dict[str, str]
    labels: object
    generated: set[Path]

    def prepare(self, block: Block) -> None:
        """Write the predictions files the block scores, unless an earlier block wrote them."""
        for task, name in scored_files(block):
            path = (self.root / name).resolve()
            if path.exists() and path not in self.generated:
                continue
            write_predictions(path, predictions_rows(task, self.labels))
            self.generated.add(path)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    if not REAL_LABELS:
        pytest.skip("EMOSIGN_LABELS is not set: the README walk runs against the real label file")
    from emosign.labels import read_labels

    labels = read_labels(REAL_LABELS)
    root = tmp_path_factory.mktemp("readme-walk")
    home = root / "home"
    clip = write_mp4(root / "clip.mp4", seconds=1.0)
    for folder in (root / "videos", home / "data" / "asllrp"):
        folder.mkdir(parents=True)
        for c in labels:
            shutil.copy(clip, folder / f"{c.utterance_id}.mp4")
    clip.unlink()
    words = {"positive": "I am so happy and glad", "negative": "this is terrible and sad",
             "neutral": "the table is in the room"}
    with open(root / "captions.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["utterance_id", "caption"])
        writer.writerows((c.utterance_id, words[c.sentiment_3]) for c in labels)

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EMOSIGN_", "HF_", "PYTEST_")) and k not in {"HOME", "XDG_CACHE_HOME"}}
    env.update({
        "EMOSIGN_LABELS": str(Path(REAL_LABELS).resolve()),
        "HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        # The interpreter running the tests, and its `emosign`, come first.
        "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
    })
    return Workspace(root, env, labels, set())


def _python_source(block: Block) -> str:
    """The block as a notebook cell: the imports of every earlier Python block, then the
    earlier Python blocks of its section, then the block."""
    if "from __future__ import" in block.code:
        return block.code  # a whole file (the pytest example), not a cell
    earlier = [b for b in RUNNABLE if b.language == "python" and b.line < block.line and b.skip is None
               and "from __future__ import" not in b.code]
    imports = [
        ast.unparse(node) + "\n"
        for b in earlier if b.section != block.section
        for node in ast.parse(b.code).body
        if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    ]
    same_section = [b.code for b in earlier if b.section == block.section]
    return "".join(imports) + "".join(same_section) + block.code


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"L{b.line}-{b.language}" for b in RUNNABLE])
def test_readme_block_runs(block: Block, workspace: Workspace):
    if block.skip:
        pytest.skip(f"README line {block.line}: {block.skip}")
    workspace.prepare(block)
    if RUN_LANGUAGES[block.language] == "bash":
        command = ["bash", "-e", "-o", "pipefail", "-c", EMOSIGN_FAST + block.code]
    else:
        script = workspace.root / f"readme_block_{block.line}.py"
        script.write_text(_python_source(block), encoding="utf-8")
        command = [sys.executable, str(script)]
    done = subprocess.run(command, cwd=workspace.root, env=workspace.env, capture_output=True,
                          text=True, timeout=BLOCK_TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, (
        f"README.md line {block.line} ({block.language}, section {block.section!r}) exited "
        f"{done.returncode}:\n{block.code}\n--- stdout ---\n{done.stdout[-3000:]}\n"
        f"--- stderr ---\n{done.stderr[-3000:]}"
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
