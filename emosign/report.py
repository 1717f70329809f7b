"""One page from a run's results: ``emosign report``.

:func:`write_report` reads what the other commands write:

- ``emosign benchmark --out DIR``: ``DIR/results.json`` (baselines and the paper's rows);
- ``emosign mllm score RUN_DIR``: ``RUN_DIR/results.json`` (one entry per model run);
- ``emosign evaluate --output FILE.json``: one system's result; the file name names the system;
- ``emosign lmms-eval-score OUTPUT_DIR``: ``OUTPUT_DIR/emosign_results.json`` (as mllm score's).

and renders one self-contained HTML page (figures embedded as PNG data, no script, no link
outside the page) and a markdown twin (figures as PNG files beside it). Both show, per task:
the leaderboard with 95% intervals, the paper's published rows marked as reported, a forest
plot, the parse rates of MLLM runs, a per-signer table and each system's confusion matrix.

A missing file, an unreadable one, or a results file from an older version that lacks a part
is listed at the top of the report under "What is missing", and the rest is rendered.

The page and its twin are rendered from one list of blocks (heading, paragraph, list, table,
figure), so they cannot disagree. Every string read from a results file is escaped where it
is rendered, and no name read from a file ever becomes part of a path.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import html
import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence, Union

from emosign import __version__, vocab
from emosign._io import marker_name, staged_directory, write_atomically
from emosign.harness.lmms_eval_scores import RESULTS_FILE as LMMS_RESULTS_FILE
from emosign.harness.prompts import DEFAULT_PROTOCOL
from emosign.metrics import (
    LEADERBOARD_METRICS,
    LOWER_IS_BETTER,
    NOT_PERCENT,
    SHORT_NAMES,
    format_metric,
)
from emosign.errors import InputError

REPORT_FILES = ("report.html", "report.md", "figures")
_RESULTS_FILE = "results.json"
_FIGURE_DPI = 150
# The largest results file read: a full `mllm score` of many runs is a few MB.
_MAX_RESULTS_BYTES = 100 * 2**20
#: The writer's name: every report folder holds ``.emosign-report``, listing the files the
#: report wrote, so that a later report knows it may replace it (see emosign._io).
WRITER = "report"
MARKER = marker_name(WRITER)


# --- what was read -------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemResult:
    """One system scored on one task, whichever command wrote it.

    ``origin`` is ``"benchmark"``, ``"evaluate"``, ``"mllm"`` or ``"paper"`` (a published row,
    not rerun: no interval, no per-clip results). ``metrics`` are fractions (or the scale's
    units, see ``emosign.metrics.NOT_PERCENT``); ``intervals`` maps a metric to (low, high).
    ``parse`` holds an MLLM run's parse counts (answered, parsed, parse_rate, problems), and
    ``extraction`` its LLM answer extraction, if it has one (``model``, ``parse`` counts and
    ``metrics`` after extraction; see ``emosign mllm extract``).
    """

    task: str
    system: str
    origin: str
    source: str
    n: int | None = None
    metrics: Mapping[str, float | None] = field(default_factory=dict)
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    per_signer: Mapping[str, Mapping] | None = None
    confusion_matrix: Mapping | None = None
    parse: Mapping | None = None
    extraction: Mapping | None = None
    note: str = ""
    labels_sha256: str | None = None
    kind: str = "evaluated"
    inputs: str = "not recorded"
    predictions_file: str | None = None

    @property
    def reported(self) -> bool:
        return self.origin == "paper"

    @property
    def ranked(self) -> bool:
        """Whether the system is ranked: real systems whose inputs are known; never a
        reference or a reported row."""
        return self.kind in RANKED_KINDS and self.inputs != "not recorded"


#: What each kind of row is, as the report's tables say it. Baselines declare theirs in
#: ``emosign.baselines.registry.KINDS``; the others are set by what wrote the row.
ROW_KINDS: dict[str, str] = {
    "floor": "sees only the training labels (chance, label prior)",
    "text": "a model of the English caption",
    "visual": "a model of the video",
    "MLLM run": "a multimodal LLM asked about each clip (emosign mllm)",
    "evaluated": "a predictions file scored with emosign evaluate (inputs not recorded)",
    "reference": "not a model of the clip: e.g. cue_text_tfidf reads the annotators' own "
                 "descriptions of the cues; never ranked",
    "reported": "the EmoSign paper's published number, not rerun (no interval); never ranked",
}
RANKED_KINDS = frozenset({"floor", "text", "visual", "MLLM run", "evaluated"})


@dataclass(frozen=True)
class Collected:
    """Everything read for a report: the systems, the files read, what was missing, and
    the baselines a benchmark skipped, as (task, system, reason)."""

    systems: tuple[SystemResult, ...]
    sources: tuple[str, ...]
    missing: tuple[str, ...]
    not_run: tuple[tuple[str, str, str], ...] = ()


def collect_results(paths: Sequence[str | os.PathLike]) -> Collected:
    """Read every results file in ``paths`` (folders or JSON files).

    A folder is searched for ``*.json`` files in it and, one level down, for ``results.json``
    and ``emosign_results.json`` (``runs/benchmark/results.json``, ``runs/mllm/results.json``,
    ``runs/lmms/emosign_results.json``). A file or
    part that cannot be read is described in ``missing``; the rest is kept. The paper's rows
    are added for every task a system was scored on.

    Raises
    ------
    FileNotFoundError
        If a path does not exist, or nothing readable was found in any of them.
    """
    systems: list[SystemResult] = []
    sources: list[str] = []
    missing: list[str] = []
    not_run: list[tuple[str, str, str]] = []
    seen: set[Path] = set()
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"results not found: {path}")
        for file in _result_files(path, missing):
            if file.resolve() in seen:  # named twice, or reached through a symlink
                continue
            seen.add(file.resolve())
            found = _read_file(file, missing, not_run)
            if found is not None:
                sources.append(str(file))
                systems += found
    if not any(not s.reported for s in systems):
        raise FileNotFoundError(
            "no results found in " + ", ".join(map(str, paths)) + ": expected the results.json "
            "of `emosign benchmark --out` or `emosign mllm score`, or the JSON of "
            "`emosign evaluate --output`" + ("; " + "; ".join(missing) if missing else "")
        )
    systems += _paper_rows(systems)
    missing += _label_file_mismatch(systems)
    return Collected(tuple(systems), tuple(sources), tuple(missing), tuple(not_run))


def _result_files(path: Path, missing: list[str]) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(p for p in path.glob("*.json") if p.is_file())
    unscored = set()
    for sub in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = [sub / name for name in (_RESULTS_FILE, LMMS_RESULTS_FILE) if (sub / name).is_file()]
        if found:
            files += found
        elif any(sub.glob("*/*.run.json")):  # sub is an MLLM run folder
            unscored.add(sub)
        elif any(sub.glob("*.run.json")) and not (path / _RESULTS_FILE).is_file():
            unscored.add(path)  # path is one
        elif sub.name == "predictions" and not (path / _RESULTS_FILE).is_file():
            missing.append(f"{path}: predictions/ without results.json (an interrupted "
                           "`emosign benchmark`?): rescore them with `emosign evaluate`")
    missing += [f"{run_dir}: MLLM runs not scored yet: run `emosign mllm score {run_dir}`"
                for run_dir in sorted(unscored)]
    if not files:
        missing.append(f"{path}: no JSON results in this folder")
    return files


def _read_file(file: Path, missing: list[str], not_run: list) -> list[SystemResult] | None:
    size = file.stat().st_size
    if size > _MAX_RESULTS_BYTES:
        missing.append(f"{file}: {size:,} bytes, too large for a results file; left out")
        return None
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        missing.append(f"{file}: not readable as JSON ({err}); left out")
        return None
    kind = _kind_of(doc)
    if kind is None and isinstance(doc, dict) and {"results", "configs"} <= set(doc):
        # lmms-eval's own summary: point estimates that `emosign lmms-eval-score` rescores
        # from the samples beside it, with intervals.
        if not (file.parent / LMMS_RESULTS_FILE).is_file() and not (
                file.parent.parent / LMMS_RESULTS_FILE).is_file():
            missing.append(f"{file}: lmms-eval's summary (no intervals); run `emosign "
                           f"lmms-eval-score` on its --output_path to score its samples")
        return None
    if kind is None:
        missing.append(f"{file}: not a results file of emosign benchmark, evaluate, mllm "
                       "score or lmms-eval-score; left out")
        return None
    try:
        return _READERS[kind](doc, str(file), missing, not_run)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        missing.append(f"{file}: looks like `emosign {kind}` results but cannot be read "
                       f"({type(err).__name__}: {err}); left out")
        return None


def _kind_of(doc) -> str | None:
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("runs"), list) and isinstance(doc.get("rows"), list):
        return "mllm score"
    if isinstance(doc.get("rows"), list):
        return "benchmark"
    if isinstance(doc.get("task"), str) and isinstance(doc.get("metrics"), dict):
        return "evaluate"
    return None


def _from_benchmark(doc: Mapping, source: str, missing: list[str], not_run: list) -> list[SystemResult]:
    sha = _labels_sha(doc)
    found, without_matrix = [], []
    predictions = _benchmark_predictions(Path(source).parent)
    for number, row in enumerate(doc["rows"], start=1):
        try:
            task = _task(row["task"], source, missing)
            if task is None:
                continue
            system = _text(row["system"])
            if "skipped" in row:
                not_run.append((task, system, _text(row["skipped"])))
                continue
            reported = bool(row.get("reported"))
            if not reported and "confusion_matrix" not in row:
                without_matrix.append(f"{system} ({task})")
            note = "" if reported else _text(row.get("protocol", ""))
            if _count(row.get("missing_videos")):
                note += f"; {row['missing_videos']} clip(s) without a usable video left out"
            where = f"{source}: {system} on {task}"
            kind, inputs = _baseline_kind(system, row.get("kind"), reported)
            found.append(SystemResult(
                task=task, system=system, origin="paper" if reported else "benchmark",
                source=source, n=_count(row.get("n")), metrics=_numbers(row["metrics"]),
                intervals=_intervals(row.get("ci")),
                per_signer=_per_signer(row.get("per_signer"), where, missing),
                confusion_matrix=_confusion(row.get("confusion_matrix"), where, missing),
                note=note.strip("; "), labels_sha256=None if reported else sha,
                kind=kind, inputs=inputs,
                predictions_file=None if reported else predictions.get((task, row["system"])),
            ))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            missing.append(f"{source}: row {number} cannot be read ({type(err).__name__}: "
                           f"{_text(err)}); left out")
    if without_matrix:
        missing.append(
            f"{source}: no confusion matrix for {len(without_matrix)} row(s) "
            f"({', '.join(without_matrix)}): written by an older emosign; rerun "
            "`emosign benchmark --out` to get them"
        )
    return found


def _from_evaluate(doc: Mapping, source: str, missing: list[str], not_run: list) -> list[SystemResult]:
    task = _task(doc["task"], source, missing)
    if task is None:
        return []
    if doc.get("target", "majority") != "majority":
        missing.append(f"{source}: scored against {_text(doc['target'])} targets (cross-entropy, "
                       "Jensen-Shannon); the leaderboards rank majority-label scores; left out")
        return []
    spec_kind = _task_kind(task)
    if spec_kind == "single_label" and doc.get("target", "majority") == "majority" \
            and "confusion_matrix" not in doc:
        missing.append(f"{source}: no confusion matrix (an older `emosign evaluate`?)")
    unparsed = len((doc.get("predictions") or {}).get("unparseable") or [])
    absent = len((doc.get("predictions") or {}).get("missing") or [])
    note = f"target {doc.get('target', 'majority')}"
    level = _number((doc.get("ci") or {}).get("level"))
    if level is not None and level != 0.95:
        note += f"; {100 * level:g}% intervals, not 95%"
    if unparsed or absent:
        note += f"; {unparsed} unreadable and {absent} missing prediction(s) scored as wrong"
    if doc.get("restricted_to"):
        note += f"; scored on {_text(doc['restricted_to'])}"
    system = _text(Path(source).stem)
    where = f"{source}: {system}"
    return [SystemResult(
        task=task, system=system, origin="evaluate", source=source,
        n=_count(doc.get("n")), metrics=_numbers(doc["metrics"]),
        intervals=_intervals((doc.get("ci") or {}).get("intervals")),
        per_signer=_per_signer(doc.get("per_signer"), where, missing),
        confusion_matrix=_confusion(doc.get("confusion_matrix"), where, missing),
        note=note, labels_sha256=_labels_sha(doc), kind="evaluated", inputs="not recorded",
        predictions_file=_inside(Path(source).parent, (doc.get("predictions") or {}).get("source")),
    )]


def _from_mllm(doc: Mapping, source: str, missing: list[str], not_run: list) -> list[SystemResult]:
    found = []
    for run in doc["runs"]:
        inputs = _text(str(run["input"]).replace("_", "+"), 40)
        # The paper's protocol asks other questions: its runs must not share a name with
        # the default protocol's runs of the same model.
        protocol = run.get("protocol")
        asked = "" if protocol in (None, DEFAULT_PROTOCOL) else f", {_text(protocol, 20)} protocol"
        name = _text(f"{run['model']} ({inputs}, {run['task']} prompt{asked})")
        for scored, score in run["scores"].items():
            task = _task(scored, source, missing)
            if task is None:
                continue
            evaluation = score.get("evaluation") or {}
            if not evaluation:
                missing.append(f"{source}: {name} has no readable answer for {task}; "
                               "it appears in the parse table only")
            parse = _parse_counts(score["parse"])
            where = f"{source}: {name} on {task}"
            found.append(SystemResult(
                task=task, system=name, origin="mllm", source=source,
                n=_count(evaluation.get("n")) or _count(parse.get("n")),
                metrics=_numbers(evaluation.get("metrics") or {}),
                intervals=_intervals((evaluation.get("ci") or {}).get("intervals")),
                per_signer=_per_signer(evaluation.get("per_signer"), where, missing),
                confusion_matrix=_confusion(evaluation.get("confusion_matrix"), where, missing),
                parse=parse, extraction=_extraction(score.get("extraction"), where, missing),
                note="unreadable answers scored as wrong" + (
                    f"; scored on {_text(evaluation['restricted_to'])}"
                    if evaluation.get("restricted_to") else "; missing answers scored as wrong"),
                labels_sha256=_labels_sha(evaluation), kind="MLLM run", inputs=inputs,
                predictions_file=_inside(Path(source).parent, score.get("predictions_file")),
            ))
    return found


def _extraction(value, where: str, missing: list[str]) -> dict | None:
    """An MLLM score's extraction block (``emosign mllm extract``), or None (and a note)."""
    if value is None:
        return None
    try:
        return {"model": _text(value["model"], 80), "parse": _parse_counts(value["parse"]),
                "metrics": _numbers((value.get("evaluation") or {}).get("metrics") or {})}
    except (KeyError, TypeError, AttributeError) as err:
        missing.append(f"{where}: the LLM extraction's results cannot be read ({_text(err)}); "
                       "left out")
        return None


_READERS = {"benchmark": _from_benchmark, "evaluate": _from_evaluate, "mllm score": _from_mllm}


def _paper_rows(systems: Sequence[SystemResult]) -> list[SystemResult]:
    """The paper's rows for every task scored here that the files do not already carry."""
    from emosign.paper import reported_rows

    have = {(s.task, s.system) for s in systems if s.reported}
    rows = []
    for task in dict.fromkeys(s.task for s in systems):
        for row in reported_rows(task):
            if (task, row["system"]) not in have:
                rows.append(SystemResult(
                    task=task, system=row["system"], origin="paper",
                    source="emosign/data/reported_results.json", metrics=_numbers(row["metrics"]),
                    kind="reported", inputs=_modality(row["system"]),
                ))
    return rows


def _baseline_kind(system: str, kind, reported: bool) -> tuple[str, str]:
    """A benchmark row's kind and inputs: the registry's for a registered baseline (so that
    an older results file cannot rank ``cue_text_tfidf`` as a model), else the row's own kind
    when it is a known one, with its inputs not recorded."""
    from emosign.baselines.catalog import all_baselines
    from emosign.baselines.registry import KINDS

    if reported:
        return "reported", _modality(system)
    registered = {b.name: b for b in all_baselines()}
    if system in registered:
        return registered[system].kind, registered[system].inputs
    if kind in KINDS:
        return str(kind), "not recorded"
    return "evaluated", "not recorded"


def _modality(system: str) -> str:
    """The inputs of a paper row named "<model> (<modality>)"."""
    found = re.search(r"\(([^()]*)\)$", system)
    return found.group(1) if found else "not recorded"


def _benchmark_predictions(folder: Path) -> dict[tuple[str, str], str]:
    """``predictions/<task>/<system>.csv`` beside a benchmark's results.json, found by listing
    the folder (a name read from the results file never becomes a path)."""
    found = {}
    for task in vocab.TASK_NAMES:
        directory = folder / "predictions" / task
        if directory.is_dir() and not directory.is_symlink():
            for file in directory.glob("*.csv"):
                checked = _inside(folder, file.relative_to(folder).as_posix())
                if checked:
                    found[(task, file.stem)] = checked
    return found


def _inside(folder: Path, relative) -> str | None:
    """``folder / relative`` if it is a regular file inside ``folder`` once links are
    resolved, else None: a path read from a results file may name only a file beside it."""
    if not isinstance(relative, str) or not relative or "\0" in relative:
        return None
    try:
        root = folder.resolve()
        target = (folder / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return str(target)


def _label_file_mismatch(systems: Sequence[SystemResult]) -> list[str]:
    shas = {s.labels_sha256 for s in systems if s.labels_sha256}
    if len(shas) <= 1:
        return []
    return ["the systems were scored against different label files (sha256 "
            + ", ".join(sorted(sha[:12] + "..." for sha in shas)) + "): their numbers are not comparable"]


def _task(value, source: str, missing: list[str]) -> str | None:
    if value in vocab.TASK_NAMES:
        return value
    missing.append(f"{source}: unknown task {_text(value, 60)!r}; left out")
    return None


def _task_kind(task: str) -> str:
    from emosign.tasks import get_task

    return get_task(task).kind


def _labels_sha(doc: Mapping) -> str | None:
    sha = (doc.get("labels") or {}).get("sha256")
    return sha if isinstance(sha, str) else None


def _text(value, limit: int = 200) -> str:
    """A string read from a file, made safe to render anywhere: valid UTF-8 (a lone surrogate
    becomes "?"), one line, at most ``limit`` characters."""
    text = " ".join(str(value).split())
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _per_signer(value, where: str, missing: list[str]) -> dict[str, dict] | None:
    """Per-signer results as ``{signer: {"n": int, metric: float | None}}``, or None (and a
    note) when the file holds something else."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        missing.append(f"{where}: per-signer results are not a table of signers; left out")
        return None
    # "n" last: _numbers would make the count a float, and headers would say "n=7.0".
    return {_text(signer, 60): {**_numbers(row), "n": _count(row.get("n"))}
            for signer, row in value.items()}


def _confusion(value, where: str, missing: list[str]) -> dict | None:
    """A confusion matrix ``{"labels": [k names], "matrix": k rows of >= k counts}``, or None
    (and a note) when the file holds something else."""
    if value is None:
        return None
    try:
        labels = [_text(name, 60) for name in value["labels"]]
        matrix = [[int(c) for c in row] for row in value["matrix"]]
        if not labels or len(matrix) != len(labels) or any(len(r) < len(labels) for r in matrix):
            raise InputError(f"{len(matrix)} rows for {len(labels)} classes")
        if any(isinstance(c, bool) or int(c) != c or c < 0 for row in value["matrix"] for c in row):
            raise InputError("counts must be whole numbers >= 0")
    except (KeyError, TypeError, ValueError) as err:
        missing.append(f"{where}: the confusion matrix cannot be read ({_text(err)}); left out")
        return None
    return {"labels": labels, "matrix": matrix}


def _parse_counts(value) -> dict:
    if not isinstance(value, Mapping):
        raise TypeError("parse counts are not a table")
    problems = value.get("problems") or {}
    if not isinstance(problems, Mapping):
        raise TypeError("parse problems are not a table")
    return {**{k: _count(value.get(k)) for k in ("n", "answered", "parsed")},
            "parse_rate": _number(value.get("parse_rate")),
            "problems": {_text(kind, 40): _count(n) for kind, n in problems.items()}}


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _numbers(metrics: Mapping) -> dict[str, float | None]:
    return {_text(name, 60): _number(value) for name, value in metrics.items()}


def _intervals(intervals: Mapping | None) -> dict[str, tuple[float, float]]:
    found = {}
    for name, pair in (intervals or {}).items():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            low, high = _number(pair[0]), _number(pair[1])
            if low is not None and high is not None:
                found[str(name)] = (low, high)
    return found


# --- what is shown -------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Items:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kind: str
    muted: frozenset[int] = frozenset()  # rows shown set apart: the paper's reported numbers


@dataclass(frozen=True)
class Figure:
    """A figure; ``name`` is made here (never read from a file) and names its PNG file."""

    name: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Contents:
    """A table of contents: (level, heading text) of the headings that follow."""

    entries: tuple[tuple[int, str], ...]


Block = Union[Heading, Paragraph, Items, Table, Figure, Contents]


def build_report(
    collected: Collected,
    *,
    figures: bool = True,
    labels=None,
    progress: bool | None = False,
) -> list[Block]:
    """The report as blocks, in reading order. ``figures=False`` leaves the figures out
    (and does not need matplotlib). ``labels`` (a :class:`emosign.labels.Labels`) adds the
    clip-level analysis of the systems whose per-clip predictions are beside their results.
    ``progress``: a bar over the figures drawn (None: only on a terminal)."""
    from emosign._progress import progress_bar

    systems = collected.systems
    tasks = [t for t in vocab.TASK_NAMES if any(s.task == t for s in systems)]
    n_figures = (len(tasks) + sum(bool(s.confusion_matrix) for s in systems)) if figures else 0
    with progress_bar(n_figures, "report: drawing figures", enabled=progress, unit="figure") as bar:
        body = _body(collected, tasks, figures, labels, bar)
    blocks: list[Block] = [Heading(1, "EmoSign report")]
    blocks.append(Paragraph(
        f"Written by emosign {__version__} on {datetime.date.today().isoformat()} from "
        f"{len(collected.sources)} results file(s). Intervals are 95% percentile bootstrap "
        "intervals over clips. wAcc is balanced accuracy (mean per-class recall), wF1 is "
        "support-weighted F1. Every row says what kind of system it is; a rank is given only "
        "among systems that see the same inputs, and references (which do not model the clip) "
        "and the paper's reported numbers (not rerun, no interval) are shown apart, unranked."
    ))
    blocks.append(Items(tuple(f"{kind}: {meaning}" for kind, meaning in ROW_KINDS.items())))
    blocks.append(Contents(tuple((b.level, b.text) for b in body
                                 if isinstance(b, Heading) and b.level in (2, 3))))
    return blocks + body


def _body(collected: Collected, tasks, figures: bool, labels, bar) -> list[Block]:
    systems = collected.systems
    blocks: list[Block] = []
    if collected.missing:
        blocks += [Heading(2, "What is missing"), Items(collected.missing)]

    blocks.append(Heading(2, "Leaderboard"))
    for task in tasks:
        blocks += _leaderboard(task, [s for s in systems if s.task == task], figures, bar)
        skipped = [f"{system} ({reason})" for t, system, reason in collected.not_run if t == task]
        if skipped:
            blocks.append(Paragraph("Not run on this task: " + "; ".join(skipped) + "."))

    parsed = [s for s in systems if s.parse is not None]
    if parsed:
        blocks += [Heading(2, "MLLM parse rates"), _parse_table(parsed)]

    with_signers = [s for s in systems if s.per_signer]
    if with_signers:
        blocks.append(Heading(2, "Per signer"))
        for task in tasks:
            rows = [s for s in with_signers if s.task == task]
            if rows:
                blocks.append(_signer_table(task, rows))

    blocks += _clip_section(collected, tasks, figures, labels)

    with_matrix = [s for s in systems if s.confusion_matrix]
    if with_matrix and figures:
        blocks.append(Heading(2, "Confusion matrices"))
        blocks.append(Paragraph("Rows are the reference classes, columns the predictions; each "
                                "row is divided by its class's clip count, so the diagonal is "
                                "per-class recall."))
        for task in tasks:
            for k, system in enumerate(s for s in with_matrix if s.task == task):
                blocks.append(_confusion_figure(task, k, system))
                bar.update(1)

    blocks += [Heading(2, "Sources"), Items(tuple(collected.sources))]
    return blocks


def _ordered(systems: Sequence[SystemResult], metric: str) -> list[SystemResult]:
    sign = 1 if metric in LOWER_IS_BETTER else -1
    return sorted(systems, key=lambda s: (s.metrics.get(metric) is None,
                                          sign * (s.metrics.get(metric) or 0.0)))


def _ranks(ordered: Sequence[SystemResult], metric: str) -> dict[int, str]:
    """"k of m (inputs)" for each ranked system, by position in ``ordered``: systems are
    ranked only against systems that see the same inputs; ties share a rank."""
    ranks = {}
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(ordered):
        if s.ranked and s.metrics.get(metric) is not None:
            groups.setdefault(s.inputs, []).append(i)
    for inputs, members in groups.items():
        values = [ordered[i].metrics[metric] for i in members]
        for i, value in zip(members, values):
            better = sum(v < value for v in values) if metric in LOWER_IS_BETTER else \
                sum(v > value for v in values)
            ranks[i] = f"{better + 1} of {len(members)}"
    return ranks


def _leaderboard(task: str, systems: Sequence[SystemResult], figures: bool, bar) -> list[Block]:
    columns = LEADERBOARD_METRICS[_task_kind(task)]
    first = columns[0]
    ranked = _ordered([s for s in systems if s.kind in RANKED_KINDS], first)
    apart = _ordered([s for s in systems if s.kind not in RANKED_KINDS], first)
    ranks = _ranks(ranked, first)
    metrics = tuple(_column_name(c) for c in columns)

    def row(s: SystemResult, *rank: str) -> tuple[str, ...]:
        return (s.system, s.kind, s.inputs, *rank, "" if s.n is None else str(s.n),
                *(format_metric(s.metrics.get(c), c, s.intervals.get(c)) for c in columns), s.note)

    better = "lower" if first in LOWER_IS_BETTER else "higher"
    blocks: list[Block] = [Heading(3, task)]
    if ranked:
        rows = tuple(row(s, ranks.get(i, "not ranked: inputs not recorded"))
                     for i, s in enumerate(ranked))
        blocks.append(Table(f"{task}: {_description(task)}. Systems, best {SHORT_NAMES.get(first, first)} "
                            f"first ({better} is better); a rank is among the systems of the same inputs",
                            ("system", "kind", "inputs", "rank (same inputs)", "n", *metrics, "note"),
                            rows, "leaderboard"))
    if apart:
        rows = tuple(row(s) for s in apart)
        blocks.append(Table(f"{task}: points of comparison, never ranked: references (not models "
                            "of the clip) and the paper's reported numbers (not rerun, no interval)",
                            ("system", "kind", "inputs", "n", *metrics, "note"),
                            rows, "comparison", frozenset(range(len(rows)))))
    plotted = [s for s in [*ranked, *apart] if s.metrics.get(first) is not None]
    if figures and plotted:
        blocks.append(_forest_figure(task, first, plotted))
        bar.update(1)
    return blocks


_ORIGIN = {"benchmark": "emosign benchmark", "evaluate": "emosign evaluate",
           "mllm": "emosign mllm", "paper": "the paper"}


def _description(task: str) -> str:
    from emosign.tasks import get_task

    return get_task(task).description


def _column_name(metric: str) -> str:
    short = SHORT_NAMES.get(metric, metric)
    unit = "" if metric in NOT_PERCENT else " %"
    lower = ", lower is better" if metric in LOWER_IS_BETTER else ""
    return f"{short}{unit} [95% CI{lower}]"


def _parse_table(systems: Sequence[SystemResult]) -> Table:
    extracted = any(s.extraction for s in systems)
    rows = []
    for s in systems:
        p = s.parse or {}
        problems = ", ".join(f"{kind}: {count}" for kind, count in (p.get("problems") or {}).items())
        row = (s.system, s.kind, s.task, f"{p.get('answered', '?')}/{p.get('n', '?')}",
               str(p.get("parsed", "?")), _percent(p.get("parse_rate")), problems or "-")
        if extracted:
            row += _extraction_cells(s)
        rows.append(row)
    header = ("system", "kind", "task", "answered", "parsed", "parse rate", "problems")
    caption = ("Answers a model gave and the parser could read (parse rate = parsed / "
               "answered); unreadable and missing answers count as wrong in the leaderboard")
    if extracted:
        header += ("parse rate after LLM extraction", "score after extraction")
        caption += ("; after LLM extraction (emosign mllm extract), a text model named the "
                    "labels the rules could not read: the leaderboard shows the rules' scores")
    return Table(caption, header, tuple(rows), "parse-rates")


def _percent(rate) -> str:
    rate = _number(rate)
    return "n/a" if rate is None else f"{100 * rate:.1f}%"


def _extraction_cells(s: SystemResult) -> tuple[str, str]:
    """The parse rate (with the extraction model) and the task's ranking metric after
    extraction, or dashes for a run without one."""
    if not s.extraction:
        return ("-", "-")
    metric = LEADERBOARD_METRICS[_task_kind(s.task)][0]
    value = s.extraction["metrics"].get(metric)
    return (f"{_percent(s.extraction['parse'].get('parse_rate'))} by {s.extraction['model']}",
            f"{SHORT_NAMES.get(metric, metric)} {format_metric(value, metric)}")


def _signer_table(task: str, systems: Sequence[SystemResult]) -> Table:
    """One row per system, one column per signer: the task's ranking metric. A signer's clip
    count goes in the header when every system was scored on the same clips, else in each
    cell (a system scored on a subset). References come last, marked."""
    metric = LEADERBOARD_METRICS[_task_kind(task)][0]
    systems = sorted(systems, key=lambda s: s.kind not in RANKED_KINDS)
    signers = list(dict.fromkeys(name for s in systems for name in s.per_signer))
    counts = {name: {(s.per_signer.get(name) or {}).get("n") for s in systems} for name in signers}
    shared = {name: next(iter(n)) for name, n in counts.items() if len(n) == 1}

    def cell(s: SystemResult, name: str) -> str:
        row = s.per_signer.get(name) or {}
        text = format_metric(row.get(metric), metric)
        return text if name in shared else f"{text} (n={row.get('n', 0)})"

    header = ("system", "kind", *(f"{name} (n={shared[name]})" if name in shared else name
                                  for name in signers))
    rows = tuple((s.system, s.kind, *(cell(s, name) for name in signers)) for s in systems)
    muted = frozenset(i for i, s in enumerate(systems) if s.kind not in RANKED_KINDS)
    caption = (f"{task}: {_column_name(metric).split(' [')[0]} per signer (point estimates; "
               "a signer with few clips has a wide interval)")
    return Table(caption, header, rows, "per-signer", muted)


def _forest_figure(task: str, metric: str, systems: Sequence[SystemResult]) -> Block:
    from emosign import figures

    rows = [{"task": task, "system": s.system, "reported": s.reported, "kind": s.kind,
             "metrics": dict(s.metrics), "ci": dict(s.intervals)} for s in systems]
    caption = (f"{task}: {SHORT_NAMES.get(metric, metric)} of each system with its 95% interval"
               + (" (lower is better)" if metric in LOWER_IS_BETTER else "")
               + "; each row's kind in brackets")
    if any(s.kind not in RANKED_KINDS for s in systems):
        caption += "; references and reported numbers below the line, in grey, unranked"
    if any(s.reported for s in systems):
        caption += "; hollow squares are the paper's reported numbers (no interval)"
    return _drawn(f"forest-{task}", caption, lambda: figures.forest_plot(rows, metric=metric, task=task))


def _confusion_figure(task: str, k: int, system: SystemResult) -> Block:
    from emosign import figures

    result = {"task": task, "confusion_matrix": system.confusion_matrix}
    return _drawn(f"confusion-{task}-{k:02d}", f"{task}: {system.system} [{system.kind}]",
                  lambda: figures.confusion_matrix(result, title=f"{system.system} [{system.kind}]\n{task}"))


# --- clips --------------------------------------------------------------------------------

_HARDEST_SHOWN = 12
_SEPARATING_SHOWN = 10


def _clip_section(collected: Collected, tasks, figures: bool, labels) -> list[Block]:
    """Which clips carry the results: per task, across the systems whose per-clip
    predictions are beside their results (references and reported rows left out)."""
    candidates = [s for s in collected.systems
                  if s.predictions_file and s.kind in RANKED_KINDS and _task_kind(s.task) == "single_label"]
    if not candidates:
        return []
    blocks: list[Block] = [Heading(2, "Clips")]
    if labels is None:
        return blocks + [Paragraph(
            "The clip-level analysis needs the label file: give --labels-file (or set "
            "EMOSIGN_LABELS) to see which clips no system gets right and why.")]
    blocks.append(Paragraph(
        "Which clips carry the results. A clip's difficulty is how many of the systems below got "
        "it right (references, which do not model the clip, and the paper's rows, which have no "
        "per-clip answers, are left out). The annotators' three descriptions of the cues they "
        "saw are beside each clip, so a reader sees why a clip is hard. Intensity is the "
        "annotators' highest emotion intensity on the clip (0-3)."))
    for task in tasks:
        systems = [s for s in candidates if s.task == task]
        if len(systems) < 2:
            continue
        blocks += _clips_of_task(task, systems, figures, labels)
    return blocks


def _clips_of_task(task: str, systems: Sequence[SystemResult], figures: bool, labels) -> list[Block]:
    from emosign import clips
    from emosign.predictions import read_predictions

    blocks: list[Block] = [Heading(3, f"{task} clips")]
    kept, kinds, scores, notes = {}, {}, {}, []
    first = LEADERBOARD_METRICS[_task_kind(task)][0]
    for s in systems:
        if s.labels_sha256 and s.labels_sha256 != labels.source.sha256:
            notes.append(f"{s.system}: scored against another label file; left out")
            continue
        try:
            table = read_predictions(s.predictions_file)
            outcome = clips.clip_outcomes(task, {s.system: table}, labels_file=labels)
        except (OSError, ValueError, KeyError, TypeError) as err:
            notes.append(f"{s.system}: its per-clip predictions cannot be read ({_text(err)}); left out")
            continue
        recorded = s.metrics.get("accuracy")
        if recorded is None or abs(outcome.correct.mean() - recorded) > 1e-9:
            notes.append(f"{s.system}: its per-clip predictions do not give the accuracy its "
                         "results record (scored on a subset of clips?); left out")
            continue
        # Two files may name two systems alike (two folders' mine.json): number the second.
        name = s.system if s.system not in kept else f"{s.system} ({len(kept) + 1})"
        kept[name], kinds[name], scores[name] = table, s.kind, s.metrics.get(first)
    if notes:
        blocks.append(Items(tuple(notes)))
    if len(kept) < 2:
        return blocks + [Paragraph("Fewer than two systems with per-clip predictions on this task.")]
    outcomes = clips.clip_outcomes(task, kept, labels_file=labels)
    table = clips.clip_table(outcomes)
    n, k = len(table), len(kept)
    unsolved = int((table["n_right"] == 0).sum())
    solved = int((table["n_right"] == k).sum())
    blocks.append(Paragraph(
        f"{k} systems: " + ", ".join(f"{name} [{kinds[name]}]" for name in kept)
        + f". {unsolved} of {n} clips no system gets right; {solved} every system gets right."))
    hardest = table.head(_HARDEST_SHOWN)
    blocks.append(Table(
        f"{task}: the {len(hardest)} hardest clips (fewest systems right), with the annotators' cues",
        ("clip", "signer", "reference", "systems right", "sentiment", "intensity", "cue descriptions"),
        tuple((r.video_name, r.signer, r.reference, f"{r.n_right} of {k}", f"{r.sentiment:+d}",
               str(r.intensity), " / ".join(c for c in (r.cue_1, r.cue_2, r.cue_3) if c))
              for r in hardest.itertuples()),
        "clip-hardest"))
    rows = []
    for by, title in (("signer", "signer"), ("sentiment_magnitude", "sentiment magnitude"),
                      ("expression_set", "expression set")):
        for r in clips.breakdown(outcomes, by).itertuples(index=False):
            rows.append((title, str(r[0]), str(r.clips), f"{100 * r.mean_share_right:.1f}",
                         str(r.unsolved)))
    blocks.append(Table(f"{task}: difficulty by signer, sentiment magnitude (|sentiment|, 0-3) "
                        "and expression set",
                        ("by", "group", "clips", "systems right, mean %", "clips no system gets right"),
                        tuple(rows), "clip-breakdown"))
    sign = 1 if first in LOWER_IS_BETTER else -1
    best = sorted(kept, key=lambda name: (scores[name] is None, sign * (scores[name] or 0.0)))[:2]
    apart = clips.separating(outcomes, best[0], best[1])
    counts = apart["right_only"].value_counts()
    blocks.append(Table(
        f"{task}: clips separating the two best systems here, {best[0]} (right only on "
        f"{int(counts.get(best[0], 0))}) and {best[1]} (right only on {int(counts.get(best[1], 0))}); "
        f"the first {min(len(apart), _SEPARATING_SHOWN)} shown",
        ("clip", "reference", "right only", "signer", "cue descriptions"),
        tuple((r.video_name, r.reference, r.right_only, r.signer,
               " / ".join(c for c in (r.cue_1, r.cue_2, r.cue_3) if c))
              for r in apart.head(_SEPARATING_SHOWN).itertuples()),
        "clip-separating"))
    if figures:
        from emosign import figures as drawing

        blocks.append(_drawn(f"clips-{task}", f"{task}: share of the {k} systems right on each clip "
                             "against the annotators' intensity; bars are means",
                             lambda: drawing.clip_difficulty(table, task=task)))
    return blocks


def _drawn(name: str, caption: str, draw) -> Block:
    """The figure, or a paragraph saying why it could not be drawn: one odd result must not
    cost the whole report."""
    try:
        return Figure(name, caption, _png(draw()))
    except (ValueError, TypeError, KeyError, IndexError) as err:
        return Paragraph(f"The figure '{caption}' could not be drawn: {_text(err)}.")


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_FIGURE_DPI, bbox_inches="tight")
    return buffer.getvalue()


# --- rendering -----------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em;
       color: #111; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
caption { text-align: left; font-style: italic; padding-bottom: 0.3em; }
th, td { border-bottom: 1px solid #ccc; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.reported td { color: #555; font-style: italic; }
table.comparison { background: #f7f7f7; }
table.comparison caption { color: #555; }
div.wide { overflow-x: auto; max-width: 100%; }
nav ul { list-style: none; padding-left: 0; columns: 2; }
nav li.toc3 { padding-left: 1.5em; }
figure { display: inline-block; margin: 0.5em 1em 1.5em 0; vertical-align: top; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #333; max-width: 40em; }
"""


def render_html(blocks: Iterable[Block]) -> str:
    """One self-contained page: inline CSS, figures as PNG data URIs, no script."""
    body = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f'<h{block.level} id="{_slug(block.text)}">{_e(block.text)}</h{block.level}>')
        elif isinstance(block, Contents):
            body.append('<nav aria-label="Contents"><p>Contents</p><ul>' + "".join(
                f'<li class="toc{level}"><a href="#{_slug(text)}">{_e(text)}</a></li>'
                for level, text in block.entries) + "</ul></nav>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_e(block.text)}</p>")
        elif isinstance(block, Items):
            body.append("<ul>" + "".join(f"<li>{_e(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Table):
            body.append(_html_table(block))
        else:
            data = base64.b64encode(block.png).decode("ascii")
            body.append(f'<figure id="{block.name}"><img src="data:image/png;base64,{data}" '
                        f'alt="{_e(block.caption)}"><figcaption>{_e(block.caption)}</figcaption></figure>')
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>EmoSign report</title>\n<style>" + _CSS + "</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def _html_table(table: Table) -> str:
    head = "".join(f"<th scope=\"col\">{_e(h)}</th>" for h in table.header)
    rows = []
    for i, row in enumerate(table.rows):
        cells = "".join(
            f"<td class=\"num\">{_e(c)}</td>" if _numeric(c) else f"<td>{_e(c)}</td>" for c in row
        )
        opening = '<tr class="reported">' if i in table.muted else "<tr>"
        rows.append(f"{opening}{cells}</tr>")
    # Wrapped so that a wide table scrolls on its own, not the whole page.
    return (f"<div class=\"wide\"><table class=\"{table.kind}\"><caption>{_e(table.caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _numeric(cell: str) -> bool:
    return bool(cell) and (cell[0].isdigit() or cell[0] in "-." and cell[1:2].isdigit())


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def render_markdown(blocks: Iterable[Block], *, figure_dir: str = "figures") -> str:
    """The markdown twin; a figure is a link to ``<figure_dir>/<name>.png``."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + _md(block.text), ""]
        elif isinstance(block, Contents):
            # Headings are made here, never read from a file; GitHub gives each the anchor
            # _slug computes.
            lines += ["**Contents**", ""] + [
                f"{'  ' * (level - 2)}- [{_md(text)}](#{_slug(text)})" for level, text in block.entries
            ] + [""]
        elif isinstance(block, Paragraph):
            lines += [_md(block.text), ""]
        elif isinstance(block, Items):
            lines += [f"- {_md(i)}" for i in block.items] + [""]
        elif isinstance(block, Table):
            lines += [f"*{_md(block.caption)}*", "",
                      "| " + " | ".join(_md(h) for h in block.header) + " |",
                      "|" + "---|" * len(block.header)]
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in block.rows] + [""]
        else:
            # The alt text is the figure's own name: captions hold names read from files.
            lines += [f"![{block.name}]({figure_dir}/{block.name}.png)", "",
                      f"*{_md(block.caption)}*", ""]
    return "\n".join(lines)


# Markdown escaping: only what could make markup of text read from a file. Backslash, code,
# emphasis, link and image brackets, raw HTML, table cells and strikethrough are escaped;
# "_" only where it could open or close emphasis (not inside a word, so `cue_text_tfidf`
# stays readable); "&" only where it could start an entity. "(" ")" "!" need nothing once
# "[" "]" are escaped; "#", "." "-" "+" ">" only matter at the start of a line, and every
# line here has a fixed prefix.
_MD_ALWAYS = re.compile(r"[\\`*\[\]<|~]")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# GitHub-flavoured autolinks: "www.", "http://", "https://", "ftp://", "mailto:", "xmpp:"
# become links in plain text, and "user@host.org" is linked after parsing, so an escape does
# not stop it; an empty HTML comment after the "@" does (it splits the text, and renders as
# nothing).
_MD_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp):")
_MD_WWW = re.compile(r"(?i)\b(www)\.")


def _md(text: str) -> str:
    text = " ".join(str(text).split())
    text = _MD_ALWAYS.sub(lambda m: "\\" + m.group(0), text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_ENTITY.sub(r"\\&", text)
    text = _MD_SCHEME.sub(r"\1\\:", text)
    text = _MD_WWW.sub(r"\1\\.", text)
    return text.replace("@", "@<!-- -->")


def _slug(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation but "-" and "_" dropped,
    spaces as "-"."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


# --- the command ---------------------------------------------------------------------------


def write_report(
    paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = True,
    labels_file=None,
    progress: bool | None = False,
) -> Collected:
    """Write ``report.html``, ``report.md`` and ``figures/*.png`` into ``out_dir``.

    ``out_dir`` may be empty, absent, or an earlier report (its ``.emosign-report`` marker
    lists every file it holds), which is replaced. Anything else is refused, with or
    without ``overwrite`` (kept for compatibility: a report only ever replaces an earlier
    report, and nothing else): a folder holding files a report did not write, and a folder
    that is, is inside, or holds a results file the report reads. The report is built beside
    ``out_dir`` and moved into place, so a failure leaves the earlier report as it was.
    Returns what was read (``missing`` included).

    ``labels_file`` (default ``$EMOSIGN_LABELS``; without either the clip-level analysis
    is left out and the report says how to get it) is the label file the clip-level analysis
    scores per-clip predictions against. ``progress``: a bar while figures are drawn (None:
    only on a terminal).
    """
    collected = collect_results(paths)
    collected, labels = _labels_for_clips(labels_file, collected)
    blocks = build_report(collected, labels=labels, progress=progress)
    # The files read, not the folders given: the default <RESULTS>/report lies inside one.
    read = [*collected.sources, *(p for p in paths if Path(p).is_file()),
            *(s.predictions_file for s in collected.systems if s.predictions_file)]
    with staged_directory(out_dir, writer=WRITER, overwrite=True, inputs=read) as staging:
        for block in blocks:
            if isinstance(block, Figure):
                target = staging / "figures" / f"{block.name}.png"
                target.parent.mkdir(exist_ok=True)
                target.write_bytes(block.png)
        write_atomically(staging / "report.md", render_markdown(blocks))
        write_atomically(staging / "report.html", render_html(blocks))
    return collected


def _labels_for_clips(labels_file, collected: Collected):
    """The labels for the clip-level analysis, or None (with a note in ``missing`` when a
    label file was given but cannot be read)."""
    from emosign.labels import load_labels

    if labels_file is None:
        labels_file = os.environ.get("EMOSIGN_LABELS") or None
    if labels_file is None:
        return collected, None
    try:
        return collected, load_labels(labels_file)
    except (OSError, ValueError) as err:
        note = f"the label file for the clip-level analysis cannot be read ({_text(err)})"
        return dataclasses.replace(collected, missing=(*collected.missing, note)), None
