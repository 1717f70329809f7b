"""Reading result records into the systems a report shows: the collect step of ``emosign report``.

:func:`collect_results` finds the result files in the paths it is given and reads each
through :func:`emosign.records.read_record`, which refuses, in one line naming the file,
whatever is not an emosign record of a kind and version this emosign reads. Each record is
then read by its kind:

- ``benchmark`` (``emosign benchmark --out DIR``: ``DIR/results.json``): the baselines and the
  paper's rows;
- ``evaluate`` (``emosign evaluate --output FILE.json``): one system, named by its file;
- ``mllm-score`` (``emosign mllm score RUN_DIR``: ``RUN_DIR/results.json``) and
  ``lmms-eval-score`` (``OUTPUT_DIR/emosign_results.json``, in the same layout): one system
  per model run and scored task, with its parse counts.

Every value is checked where it is read; a file, a row or a part that cannot be read is
described in :attr:`Collected.missing` and left out, and the rest is kept. Every string read
is made one line of valid UTF-8 (:func:`one_line`), and no name read from a file ever becomes
part of a path: a per-clip predictions file is taken only from inside the results' folder.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emosign import vocab
from emosign.baselines.registry import KINDS as BASELINE_KINDS
from emosign.baselines.registry import SYSTEM_KINDS
from emosign.errors import InputError, MissingExtraError
from emosign.harness.inspect_logs import find_inspect_logs, score_inspect_logs
from emosign.harness.lmms_eval_scores import RESULTS_FILE as LMMS_RESULTS_FILE
from emosign.harness.prompts import DEFAULT_PROTOCOL
from emosign.paper import reported_rows
from emosign.records import KINDS as RECORD_KINDS
from emosign.records import NotARecordError, read_record
from emosign.tasks import get_task

__all__ = [
    "RANKED_KINDS",
    "ROW_KINDS",
    "Collected",
    "SystemResult",
    "collect_results",
    "number",
    "one_line",
    "task_kind",
]

_RESULTS_FILE = "results.json"


@dataclass(frozen=True)
class SystemResult:
    """One system scored on one task, whichever command wrote it.

    Attributes
    ----------
    task, system : str
        The task and the system's name (one line, as read).
    origin : str
        ``"benchmark"``, ``"evaluate"``, ``"mllm"`` (``mllm score`` and ``lmms-eval-score``)
        or ``"paper"`` (a published row, not rerun: no interval, no per-clip results).
    source : str
        The file it was read from.
    n : int or None
        The clips scored.
    metrics : Mapping
        Fractions (or the scale's units, see ``emosign.metrics.NOT_PERCENT``); None where
        undefined or unreadable.
    intervals : Mapping
        A metric's (low, high) interval.
    per_signer, confusion_matrix : Mapping or None
        Per-signer results (``{signer: {"n": int, metric: value}}``) and the confusion
        matrix (``{"labels": [...], "matrix": [[...]]}``), when recorded and readable.
    parse, extraction : Mapping or None
        An MLLM run's parse counts (answered, parsed, parse_rate, problems), and its LLM
        answer extraction, if it has one (``model``, ``parse`` counts and ``metrics`` after
        extraction; see ``emosign mllm extract``).
    note : str
        What the leaderboard says beside the row.
    labels_sha256 : str or None
        The label file it was scored against.
    kind, inputs : str
        The row's kind (one of :data:`ROW_KINDS`) and what the system sees; a system is
        ranked only among those of the same inputs.
    predictions_file : str or None
        Its per-clip predictions, a file inside the results' folder.
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
        """Whether it is one of the paper's published rows."""
        return self.origin == "paper"

    @property
    def ranked(self) -> bool:
        """Whether the system is ranked: real systems whose inputs are known; never a floor,
        a reference or a reported row."""
        return self.kind in RANKED_KINDS and self.inputs != "not recorded"


#: What each kind of row is, as the report's tables say it. Baselines declare theirs in
#: ``emosign.baselines.registry.KINDS``; the others are set by what wrote the row.
ROW_KINDS: dict[str, str] = {
    "floor": "sees only the training labels (chance, label prior): a point of comparison, "
             "never ranked",
    "text": "a model of the English caption",
    "visual": "a model of the video",
    "MLLM run": "a multimodal LLM asked about each clip (emosign mllm)",
    "evaluated": "a predictions file scored with emosign evaluate (inputs not recorded)",
    "reference": "not a model of the clip: e.g. cue_text_tfidf reads the annotators' own "
                 "descriptions of the cues; never ranked",
    "reported": "the EmoSign paper's published number, not rerun (no interval); never ranked",
}
#: The kinds of row that are systems, ranked among those of the same inputs. Floors, references
#: and reported rows are points of comparison: shown apart, never ranked.
RANKED_KINDS = SYSTEM_KINDS | {"MLLM run", "evaluated"}


@dataclass(frozen=True)
class Collected:
    """Everything read for a report.

    Attributes
    ----------
    systems : tuple of SystemResult
        The systems read, then the paper's rows for their tasks.
    sources : tuple of str
        The files read.
    missing : tuple of str
        What could not be read, one line each, for the report's "What is missing".
    not_run : tuple of (str, str, str)
        The baselines a benchmark skipped, as (task, system, reason).
    """

    systems: tuple[SystemResult, ...]
    sources: tuple[str, ...]
    missing: tuple[str, ...]
    not_run: tuple[tuple[str, str, str], ...] = ()


def collect_results(
    paths: Sequence[str | os.PathLike], *, labels_file: str | os.PathLike | None = None
) -> Collected:
    """Read every result record in ``paths`` (folders or JSON files).

    A folder is searched for ``*.json`` files in it and, one level down, for ``results.json``
    and ``emosign_results.json`` (``runs/benchmark/results.json``, ``runs/mllm/results.json``,
    ``runs/lmms/emosign_results.json``). Each file is read through
    :func:`emosign.records.read_record`: a file that is not a record the report shows (not
    emosign's, of an unknown kind or a newer schema version, a ``compare`` or ``power``
    record), and a part of one that cannot be read, is described in ``missing``; the rest is
    kept. The paper's rows are added for every task a system was scored on.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Result files, or folders holding them. Inspect logs of EmoSign tasks among them (a
        log file, or the ``*.eval`` and ``*.json`` logs of a folder, as ``inspect eval
        --log-dir`` writes them) are scored as ``emosign mllm score`` scores its runs.
    labels_file : str or os.PathLike, optional
        The label file Inspect logs are scored on (default: ``$EMOSIGN_LABELS``, then the
        pinned Hub file).

    Returns
    -------
    Collected
        The systems, the files read, what is missing and the baselines not run.

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
        logs = _inspect_logs(path, missing)
        if logs:
            scored = score_inspect_logs(logs, labels_file=labels_file)
            sources += [str(log) for log in logs]
            systems += _from_mllm(scored, str(path), missing, not_run)
            seen.update(log.resolve() for log in logs)
        for file in _result_files(path, missing):
            if file.resolve() in seen:  # named twice, reached through a symlink, or a log
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


def _inspect_logs(path: Path, missing: list[str]) -> list[Path]:
    """The Inspect logs of EmoSign tasks at ``path``; without the ``inspect`` extra, a log
    found is noted in ``missing`` with how to install it."""
    try:
        return find_inspect_logs([path])
    except MissingExtraError as err:
        missing.append(f"{path}: {err}")
        return []


def _result_files(path: Path, missing: list[str]) -> list[Path]:
    """The result files of a path given: the file itself, or those of a folder (see
    :func:`collect_results`); a folder's runs not scored yet are noted in ``missing``."""
    if not path.is_dir():
        return [path]  # read_record refuses what is not a regular file
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
    """The systems of one result file, or None (and a note in ``missing``) when it is not a
    record the report shows or cannot be read."""
    try:
        record = read_record(file)
    except NotARecordError as err:
        if _is_lmms_eval_summary(err.document):
            # lmms-eval's own summary: point estimates that `emosign lmms-eval-score` rescores
            # from the samples beside it, with intervals.
            if not (file.parent / LMMS_RESULTS_FILE).is_file() and not (
                    file.parent.parent / LMMS_RESULTS_FILE).is_file():
                missing.append(f"{file}: lmms-eval's summary (no intervals); run `emosign "
                               f"lmms-eval-score` on its --output_path to score its samples")
            return None
        missing.append(f"{one_line(err, 600)}; left out")
        return None
    except (OSError, InputError) as err:
        missing.append(f"{one_line(err, 600)}; left out")
        return None
    reader = _READERS.get(record.kind)
    if reader is None:
        missing.append(f"{file}: results of `{RECORD_KINDS[record.kind].command}`, which the report "
                       "does not show; left out")
        return None
    try:
        return reader(record.payload, str(file), missing, not_run)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        missing.append(f"{file}: results of {record.writer} that cannot be read "
                       f"({type(err).__name__}: {one_line(err)}); left out")
        return None


def _is_lmms_eval_summary(document: Any) -> bool:
    return isinstance(document, dict) and {"results", "configs"} <= set(document)


def _from_benchmark(doc: Mapping, source: str, missing: list[str], not_run: list) -> list[SystemResult]:
    """The systems of a ``benchmark`` record: one per row run, the paper's rows it carries,
    and the rows skipped in ``not_run``."""
    sha = _labels_sha(doc)
    found, without_matrix = [], []
    predictions = _benchmark_predictions(Path(source).parent)
    for number, row in enumerate(doc["rows"], start=1):
        try:
            task = _task(row["task"], source, missing)
            if task is None:
                continue
            system = one_line(row["system"])
            if "skipped" in row:
                not_run.append((task, system, one_line(row["skipped"])))
                continue
            reported = bool(row.get("reported"))
            if not reported and "confusion_matrix" not in row:
                without_matrix.append(f"{system} ({task})")
            note = "" if reported else one_line(row.get("protocol", ""))
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
                           f"{one_line(err)}); left out")
    if without_matrix:
        missing.append(
            f"{source}: no confusion matrix for {len(without_matrix)} row(s) "
            f"({', '.join(without_matrix)}): written by an older emosign; rerun "
            "`emosign benchmark --out` to get them"
        )
    return found


def _from_evaluate(doc: Mapping, source: str, missing: list[str], not_run: list) -> list[SystemResult]:
    """The one system of an ``evaluate`` record, named by its file; none for soft targets."""
    task = _task(doc["task"], source, missing)
    if task is None:
        return []
    if doc.get("target", "majority") != "majority":
        missing.append(f"{source}: scored against {one_line(doc['target'])} targets (cross-entropy, "
                       "Jensen-Shannon); the leaderboards rank majority-label scores; left out")
        return []
    spec_kind = task_kind(task)
    if spec_kind == "single_label" and doc.get("target", "majority") == "majority" \
            and "confusion_matrix" not in doc:
        missing.append(f"{source}: no confusion matrix (an older `emosign evaluate`?)")
    unparsed = len((doc.get("predictions") or {}).get("unparseable") or [])
    absent = len((doc.get("predictions") or {}).get("missing") or [])
    note = f"target {doc.get('target', 'majority')}"
    level = number((doc.get("ci") or {}).get("level"))
    if level is not None and level != 0.95:
        note += f"; {100 * level:g}% intervals, not 95%"
    if unparsed or absent:
        note += f"; {unparsed} unreadable and {absent} missing prediction(s) scored as wrong"
    if doc.get("restricted_to"):
        note += f"; scored on {one_line(doc['restricted_to'])}"
    system = one_line(Path(source).stem)
    where = f"{source}: {system}"
    return [SystemResult(
        task=task, system=system, origin="evaluate", source=source,
        n=_count(doc.get("n")), metrics=_numbers(doc["metrics"]),
        intervals=_intervals((doc.get("ci") or {}).get("intervals")),
        per_signer=_per_signer(doc.get("per_signer"), where, missing),
        confusion_matrix=_confusion(doc.get("confusion_matrix"), where, missing),
        note=note, labels_sha256=_labels_sha(doc), kind="evaluated", inputs="not recorded",
        predictions_file=_source_file(Path(source).parent, (doc.get("predictions") or {}).get("source"),
                                      where, missing),
    )]


def _from_mllm(doc: Mapping, source: str, missing: list[str], not_run: list) -> list[SystemResult]:
    """The systems of an ``mllm-score`` or ``lmms-eval-score`` record: one per run and scored
    task, with its parse counts."""
    found = []
    for run in doc["runs"]:
        inputs = one_line(str(run["input"]).replace("_", "+"), 40)
        # The paper's protocol asks other questions: its runs must not share a name with
        # the default protocol's runs of the same model.
        protocol = run.get("protocol")
        asked = "" if protocol in (None, DEFAULT_PROTOCOL) else f", {one_line(protocol, 20)} protocol"
        name = one_line(f"{run['model']} ({inputs}, {run['task']} prompt{asked})")
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
                note=_incomplete(parse) + "unreadable answers scored as wrong" + (
                    f"; scored on {one_line(evaluation['restricted_to'])}"
                    if evaluation.get("restricted_to") else "; missing answers scored as wrong"),
                labels_sha256=_labels_sha(evaluation), kind="MLLM run", inputs=inputs,
                predictions_file=_source_file(Path(source).parent, score.get("predictions_file"),
                                              where, missing),
            ))
    return found


def _incomplete(parse: Mapping) -> str:
    """The start of the note of a run that did not answer every clip: it is no score of a
    complete run."""
    answered, n = _count(parse.get("answered")), _count(parse.get("n"))
    if answered is None or n is None or answered >= n:
        return ""
    return f"incomplete run: {answered}/{n} answered; "


def _extraction(value: Any, where: str, missing: list[str]) -> dict | None:
    """An MLLM score's extraction block (``emosign mllm extract``), or None (and a note)."""
    if value is None:
        return None
    if isinstance(value, Mapping) and value.get("replied") == 0:
        return None  # an extraction that extracted nothing: no row (older files have one)
    try:
        return {"model": one_line(value["model"], 200), "parse": _parse_counts(value["parse"]),
                "extracted": _count(value.get("replied")),
                "metrics": _numbers((value.get("evaluation") or {}).get("metrics") or {})}
    except (KeyError, TypeError, AttributeError) as err:
        missing.append(f"{where}: the LLM extraction's results cannot be read ({one_line(err)}); "
                       "left out")
        return None


#: How each kind of record becomes systems; the other kinds (compare, power) are not shown.
_READERS: dict[str, Callable[[Mapping, str, list[str], list], list[SystemResult]]] = {
    "benchmark": _from_benchmark,
    "evaluate": _from_evaluate,
    "mllm-score": _from_mllm,
    "lmms-eval-score": _from_mllm,
    "inspect-score": _from_mllm,
}


def _paper_rows(systems: Sequence[SystemResult]) -> list[SystemResult]:
    """The paper's rows for every task scored here that the files do not already carry."""
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


def _baseline_kind(system: str, kind: Any, reported: bool) -> tuple[str, str]:
    """A benchmark row's kind and inputs: the registry's for a registered baseline (so that
    an older results file cannot rank ``cue_text_tfidf`` as a model), else the row's own kind
    when it is a known one, with its inputs not recorded."""
    # The catalog imports every built-in baseline (scikit-learn, SciPy: seconds to import):
    # only when a report shows a benchmark's rows.
    from emosign.baselines.catalog import all_baselines

    if reported:
        return "reported", _modality(system)
    registered = {b.name: b for b in all_baselines()}
    if system in registered:
        return registered[system].kind, registered[system].inputs
    if kind in BASELINE_KINDS:
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


def _inside(folder: Path, relative: Any) -> str | None:
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


def _source_file(folder: Path, recorded: Any, where: str, missing: list[str]) -> str | None:
    """The predictions file a record names, found beside the record: the recorded
    path (absolute, or relative to the record's folder), else a file of its name beside the
    record (a folder moved, or a path recorded relative to where evaluate ran). A file that
    cannot be found, or lies outside the record's folder, is said under "What is missing";
    a table given in memory ("<DataFrame>") names no file and is passed over."""
    if not isinstance(recorded, str) or not recorded or recorded.startswith("<") or "\0" in recorded:
        return None
    name = Path(recorded).name
    candidates = [recorded] if not Path(recorded).is_absolute() else []
    try:
        absolute = Path(recorded).resolve() if Path(recorded).is_absolute() else None
        root = folder.resolve()
    except (OSError, RuntimeError, ValueError):
        absolute = root = None
    if absolute is not None and root is not None and absolute.is_relative_to(root):
        candidates.append(absolute.relative_to(root).as_posix())
    candidates.append(name)
    for candidate in candidates:
        found = _inside(folder, candidate)
        if found:
            return found
    missing.append(f"{where}: its predictions file {one_line(recorded, 200)} cannot be found in "
                   f"{folder} (the record's folder), so its clips are not analysed")
    return None


def _label_file_mismatch(systems: Sequence[SystemResult]) -> list[str]:
    """A note when the systems were scored against different label files."""
    shas = {s.labels_sha256 for s in systems if s.labels_sha256}
    if len(shas) <= 1:
        return []
    return ["the systems were scored against different label files (sha256 "
            + ", ".join(sorted(sha[:12] + "..." for sha in shas)) + "): their numbers are not comparable"]


def _task(value: Any, source: str, missing: list[str]) -> str | None:
    """``value`` if it names a task, else None (and a note)."""
    if value in vocab.TASK_NAMES:
        return value
    missing.append(f"{source}: unknown task {one_line(value, 60)!r}; left out")
    return None


def task_kind(task: str) -> str:
    """The kind of a task (``single_label``, ``ordinal``...), which picks its metrics."""
    return get_task(task).kind


def _labels_sha(doc: Mapping) -> str | None:
    """The sha256 of the label file a result was scored against, if recorded."""
    sha = (doc.get("labels") or {}).get("sha256")
    return sha if isinstance(sha, str) else None


def one_line(value: object, limit: int = 200) -> str:
    """A string read from a file (or a message quoting one), made safe to render anywhere.

    Parameters
    ----------
    value : object
        Anything; its ``str`` is taken.
    limit : int
        The most characters kept; a longer text ends in "…".

    Returns
    -------
    str
        Valid UTF-8 (a lone surrogate becomes "?"), on one line.
    """
    text = " ".join(str(value).split())
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _per_signer(value: Any, where: str, missing: list[str]) -> dict[str, dict] | None:
    """Per-signer results as ``{signer: {"n": int, metric: float | None}}``, or None (and a
    note) when the file holds something else."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        missing.append(f"{where}: per-signer results are not a table of signers; left out")
        return None
    # "n" last: _numbers would make the count a float, and headers would say "n=7.0".
    return {one_line(signer, 60): {**_numbers(row), "n": _count(row.get("n"))}
            for signer, row in value.items()}


def _confusion(value: Any, where: str, missing: list[str]) -> dict | None:
    """A confusion matrix ``{"labels": [k names], "matrix": k rows of >= k counts}``, or None
    (and a note) when the file holds something else."""
    if value is None:
        return None
    try:
        labels = [one_line(name, 60) for name in value["labels"]]
        matrix = [[int(c) for c in row] for row in value["matrix"]]
        if not labels or len(matrix) != len(labels) or any(len(r) < len(labels) for r in matrix):
            raise InputError(f"{len(matrix)} rows for {len(labels)} classes")
        if any(isinstance(c, bool) or int(c) != c or c < 0 for row in value["matrix"] for c in row):
            raise InputError("counts must be whole numbers >= 0")
    except (KeyError, TypeError, ValueError) as err:
        missing.append(f"{where}: the confusion matrix cannot be read ({one_line(err)}); left out")
        return None
    return {"labels": labels, "matrix": matrix}


def _parse_counts(value: Any) -> dict:
    """An MLLM run's parse counts, checked; a TypeError when they are not a table."""
    if not isinstance(value, Mapping):
        raise TypeError("parse counts are not a table")
    problems = value.get("problems") or {}
    if not isinstance(problems, Mapping):
        raise TypeError("parse problems are not a table")
    return {**{k: _count(value.get(k)) for k in ("n", "answered", "parsed")},
            "parse_rate": number(value.get("parse_rate")),
            "problems": {one_line(kind, 40): _count(n) for kind, n in problems.items()}}


def number(value: object) -> float | None:
    """``value`` as a float if it is a finite number read from JSON (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _count(value: Any) -> int | None:
    """``value`` if it is a whole number read from JSON (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _numbers(metrics: Mapping) -> dict[str, float | None]:
    """Metric values by name: each a finite float or None."""
    return {one_line(name, 60): number(value) for name, value in metrics.items()}


def _intervals(intervals: Mapping | None) -> dict[str, tuple[float, float]]:
    """The (low, high) pairs of finite numbers among ``intervals``; the rest left out."""
    found = {}
    for name, pair in (intervals or {}).items():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            low, high = number(pair[0]), number(pair[1])
            if low is not None and high is not None:
                found[str(name)] = (low, high)
    return found
