"""Read a model's predictions and line them up with a task's clips.

Scoring takes two steps:

1. :func:`read_predictions` reads a table (CSV, TSV, JSON Lines, JSON, a DataFrame, a dict or
   a list of records) into :class:`Predictions`: a ``video_name`` column and the other
   columns exactly as given. Nothing task-specific happens yet.
2. :func:`align` meets that table with a :class:`emosign.tasks.TaskData`: it finds each task
   clip's prediction, reads it with the task's parser and returns :class:`Aligned` arrays in
   the order of ``data.video_names``, ready for the metrics.

Which columns a task reads:

=====================  ===========================================================
task kind              columns
=====================  ===========================================================
single-label           ``prediction`` (or, when it is absent, ``label`` or ``pred``)
``emotion_presence``   one column per emotion (``joy`` ... ``anger``), or ``prediction``
                       holding the list of emotions present
``emotion_intensity``  one column per emotion, each a number in 0...3
any task, optional     ``score_<class>`` for every class, e.g. ``score_happiness``
=====================  ===========================================================

Validation is strict by default: one :class:`PredictionsError` lists every offending row
(rows are numbered from 1, header not counted), grouped by kind of problem. Unknown clip names
and duplicated clips always raise, since they mean the file is broken or belongs to other
labels. Missing and unreadable answers can instead be scored as wrong with
``on_invalid="wrong"``, which is how a model that sometimes refuses to answer is compared
fairly. A row for a real EmoSign clip outside the task's subset (all 200 clips given to the
140-clip ``emotion_single`` task) is set aside and counted, never an error.

:func:`parse_label` reads one free-text answer ("Somewhat Positive", "-2", "SP(N)", "I'm
sad") into a class name, with the one parser of answers, :mod:`emosign._answer_text`, which
the MLLM harness shares. It is conservative: an answer that could mean two classes is
unreadable rather than guessed. In particular:

* ``sentiment_7``: the paper's seven phrases read as its prompt lists them, -3...3:
  Extremely Negative, Negative, Somewhat Negative, Neutral, Somewhat Positive, Positive,
  Extremely Positive; so a bare "Negative" is -2 ("Moderately Negative", the class name's
  wording, is -2 too). "very"/"highly"/"strongly" read as extremely (±3), "fairly" as ±2,
  "slightly"/"mildly"/"weakly"/"a little"/"a bit" as somewhat (±1); the short forms
  "neg"/"pos" name no point and are unreadable. A number is a rating
  on the -3...3 scale (continuous allowed): its class is the number clipped to [-3, 3] and
  rounded half to even, numpy's rule, as the MMSA toolkit does (0.5 -> 0, 1.5 -> 2).
* ``sentiment_3``: a number is read as on the 7-class task first, then by sign, so 0.4 is
  neutral (MMSA's 3-class accuracy does the same). Numbers are never class indices. Every
  7-point phrase reads by its sign, and a bare "Negative" is the negative class.
* ``emotion_single``: joy and excited (and their synonyms) are happiness, so the paper's
  answers "[joy]" and "[excited]" both are. A bare "surprise", and "shock"/"shocked", name
  surprise without its valence and are unreadable; "[surprise (negative)]" is read.
* Every task: an answer naming two different classes ("sadness and anger"), or holding a
  negation or refusal ("not sad", "I cannot determine the emotion", "N/A") is unreadable.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import numpy as np
import pandas as pd

from emosign import vocab
from emosign._answer_text import (
    EXPECTED,
    finite_number,
    is_blank,
    read_emotion_list,
    read_intensity,
    read_label,
    read_presence,
    sentiment_as_given,
)
from emosign._csv import read_csv_text
from emosign._io import decode_utf8, read_regular_file
from emosign.errors import InputError, inline_listing, listing
from emosign.tasks import TaskData, get_task

__all__ = [
    "FILE_SUFFIXES",
    "ON_INVALID",
    "ON_INVALID_HINT",
    "PREDICTION_COLUMNS",
    "PROBABILITY_TOLERANCE",
    "SCORE_PREFIX",
    "SENTIMENT_VALUE_LIMIT",
    "VIDEO_NAME",
    "Aligned",
    "Predictions",
    "PredictionsError",
    "PredictionsLike",
    "align",
    "parse_label",
    "read_predictions",
    "sentiment_as_given",
]

#: The column naming each predicted clip; no other spelling is accepted.
VIDEO_NAME = "video_name"
#: Where a single prediction is read from, in order of preference.
PREDICTION_COLUMNS: tuple[str, ...] = ("prediction", "label", "pred")
#: Prefix of a per-class score column, e.g. "score_happiness".
SCORE_PREFIX = "score_"
#: The largest sentiment rating, in absolute value, read as a rating (sentiment_7 scores the
#: number as given: MAE, Pearson). The scale is -3...3 and a model may overshoot it (4, -5,
#: clipped for the class), but 1e300 or a year is a broken output, not a rating: its row is
#: unreadable, like text that cannot be read.
SENTIMENT_VALUE_LIMIT = 100.0
#: How far a row of probabilities may sum from 1.
PROBABILITY_TOLERANCE = 1e-6
ON_INVALID: tuple[str, ...] = ("raise", "wrong")
#: How an error suggests scoring unreadable answers as wrong; the command line says it in
#: its own words (--on-invalid wrong).
ON_INVALID_HINT = "pass on_invalid='wrong'"
FILE_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".jsonl", ".json")


class PredictionsError(InputError):
    """A predictions table that cannot be read, or does not fit the task it is scored on."""


@dataclass(frozen=True, eq=False)  # eq=False: comparing DataFrames field by field is undefined
class Predictions:
    """A predictions table as read, before it meets a task.

    ``table`` has a ``video_name`` column of stripped, non-empty strings and the other
    columns as given; ``source`` is the file path, or ``"<dict>"``, ``"<DataFrame>"`` or
    ``"<records>"``.
    """

    table: pd.DataFrame
    source: str


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare to a single bool
class Aligned:
    """Predictions joined to a TaskData: arrays aligned with ``data.video_names``.

    Attributes
    ----------
    y_pred : ndarray
        single-label tasks: shape (n,), intp index into ``data.classes``, -1 where the clip is
        missing or its answer unreadable (always scored as wrong).
        ``emotion_presence``: shape (n, K), bool. ``emotion_intensity``: shape (n, K), float in
        0...3, never NaN. With ``on_invalid="wrong"`` a missing or unreadable cell holds the
        worst answer for that clip: the opposite of the reference flag, or the intensity
        farthest from the reference (3 for a reference of 0 or 1, 0 for 2 or 3).
    values : ndarray or None
        ``sentiment_7`` only: shape (n,), float, the predicted rating as given (continuous
        allowed, not clipped, but within ±``SENTIMENT_VALUE_LIMIT``: a number beyond it is an
        unreadable answer), NaN where missing or unreadable. None for the other tasks.
    scores : ndarray or None
        shape (n, K), float, from the ``score_<class>`` columns in ``data.classes`` order,
        NaN on the rows of task clips the table has no row for (there is no score to use);
        None when the table has no score column for this task.
    n_given : int
        Rows in the predictions table.
    n_outside_task : int
        Rows for clips of the label file outside the task's subset, set aside.
    missing : tuple of str
        Task clips with no row or an empty answer (only with ``on_invalid="wrong"``).
    unparseable : tuple of str
        Task clips with an answer that could not be read, or (per-emotion columns) with at
        least one such cell (only with ``on_invalid="wrong"``). Disjoint from ``missing``.
    """

    y_pred: np.ndarray
    values: np.ndarray | None
    scores: np.ndarray | None
    n_given: int
    n_outside_task: int
    missing: tuple[str, ...]
    unparseable: tuple[str, ...]


# --- reading a table -----------------------------------------------------------------------

#: Everything read_predictions reads.
PredictionsLike: TypeAlias = (
    str
    | os.PathLike
    | pd.DataFrame
    | Mapping[str, object]
    | Sequence[Mapping[str, object]]
    | Predictions
)


def read_predictions(source: PredictionsLike) -> Predictions:
    """Read a predictions table, keeping every cell as given.

    Parameters
    ----------
    source : one of
        - a path to a ``.csv``, ``.tsv``, ``.jsonl`` (one object per line) or ``.json`` file
          (a list of objects, or an object ``{video_name: prediction}``); CSV and TSV cells
          are read as text, so an empty cell stays detectable;
        - a DataFrame (copied);
        - a dict ``{video_name: prediction}``, giving the columns ``video_name`` and
          ``prediction``; a prediction that is itself a dict gives one column per key
          (``{"clip": {"joy": 1, ...}}``). A dict with a ``video_name`` key is read as columns
          instead (``{"video_name": [...], "prediction": [...]}``);
        - a list of records (dicts), one per row;
        - a :class:`Predictions`, returned as is.

    Returns
    -------
    Predictions whose ``video_name`` column holds stripped, non-empty strings.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    PredictionsError
        If the file is empty, not UTF-8, not parseable (the message gives the line), has no
        ``video_name`` column or no rows, or has empty ``video_name`` cells (all listed).
    """
    if isinstance(source, Predictions):
        return source
    if isinstance(source, pd.DataFrame):
        table, name = source.copy(), "<DataFrame>"
    elif isinstance(source, Mapping):
        table, name = _table_from_mapping(source), "<dict>"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        table, name = _read_file(path), str(path)
    elif isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        table, name = _table_from_records(list(source), "<records>"), "<records>"
    else:
        raise TypeError(
            "predictions must be a file path, a DataFrame, a dict or a list of records, "
            f"not {type(source).__name__}"
        )
    return Predictions(table=_checked_video_names(table, name), source=name)


def _read_file(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise PredictionsError(
            f"predictions file {path}: cannot tell its format from the suffix {suffix!r}; "
            f"use one of {list(FILE_SUFFIXES)}"
        )
    # A regular file of at most MAX_INPUT_BYTES: a FIFO or /dev/zero is refused, not read.
    data = read_regular_file(path, what="predictions file", error=PredictionsError)
    if not data.strip():
        raise PredictionsError(f"predictions file {path} is empty")
    text = decode_utf8(data, path=path, what="predictions file", error=PredictionsError)

    if suffix in (".csv", ".tsv"):
        # Every cell as text, nothing turned into NaN: the task's parser decides.
        return read_csv_text(text, path=path, what="predictions file", error=PredictionsError,
                             sep="\t" if suffix == ".tsv" else ",")
    if suffix == ".jsonl":
        records = []
        for line_number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue  # a trailing newline, or blank lines between records
            try:
                record = json.loads(line, object_pairs_hook=_unique_keys, parse_int=_json_int)
            except json.JSONDecodeError as err:
                raise PredictionsError(
                    f"predictions file {path}: line {line_number} is not valid JSON: "
                    f"{err.msg} (column {err.colno})"
                ) from None
            except RecursionError:
                raise PredictionsError(
                    f"predictions file {path}: line {line_number} nests JSON too deeply to read"
                ) from None
            except _RepeatedKey as err:
                raise PredictionsError(
                    f"predictions file {path}: line {line_number} gives the key {err.key!r} "
                    "more than once; each column may appear once (which one would count?)"
                ) from None
            if not isinstance(record, dict):
                raise PredictionsError(
                    f"predictions file {path}: line {line_number} holds a JSON "
                    f"{type(record).__name__}, not an object with a {VIDEO_NAME!r} key"
                )
            records.append(record)
        return _table_from_records(records, str(path))
    try:
        content = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_json_int)
    except json.JSONDecodeError as err:
        hint = (
            "; if it holds one object per line, name it .jsonl" if err.msg == "Extra data" else ""
        )
        raise PredictionsError(
            f"predictions file {path} is not valid JSON: {err.msg} at line {err.lineno}, "
            f"column {err.colno}{hint}"
        ) from None
    except RecursionError:
        raise PredictionsError(f"predictions file {path} nests JSON too deeply to read") from None
    except _RepeatedKey as err:
        raise PredictionsError(
            f"predictions file {path} gives the key {err.key!r} more than once in one JSON "
            "object (a clip, or a column of one row, given twice); each may appear once "
            "(which one would count?)"
        ) from None
    if isinstance(content, list):
        return _table_from_records(content, str(path))
    if isinstance(content, dict):
        return _table_from_mapping(content, str(path))
    raise PredictionsError(
        f"predictions file {path} holds a JSON {type(content).__name__}; expected a list of "
        f"objects or an object {{{VIDEO_NAME}: prediction}}"
    )


def _json_int(text: str) -> int | float:
    """A JSON integer; one too long for a float (300+ digits) is infinite, hence unreadable,
    rather than an OverflowError later (or Python's 4300-digit limit now)."""
    digits = text.lstrip("-")
    if len(digits) < 300:
        return int(text)
    return -math.inf if text.startswith("-") else math.inf


class _RepeatedKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object's pairs as a dict, refusing a key given twice (json keeps the last)."""
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise _RepeatedKey(key)
        seen[key] = value
    return seen


def _table_from_records(records: list, source: str) -> pd.DataFrame:
    not_objects = [i for i, r in enumerate(records, start=1) if not isinstance(r, Mapping)]
    if not_objects:
        raise PredictionsError(
            f"predictions {source}: record(s) {_numbers(not_objects)} are not objects "
            f"(each record must map column names, {VIDEO_NAME!r} among them, to values)"
        )
    return pd.DataFrame.from_records([dict(r) for r in records])


def _table_from_mapping(mapping: Mapping, source: str = "<dict>") -> pd.DataFrame:
    if VIDEO_NAME in mapping:
        # Columns, not clips: no EmoSign clip is called "video_name".
        try:
            return pd.DataFrame({str(k): list(v) for k, v in mapping.items()})
        except (TypeError, ValueError) as err:
            raise PredictionsError(
                f"predictions {source} has a {VIDEO_NAME!r} key, so it is read as columns "
                f"(name -> list of values), but: {err}"
            ) from None
    rows = []
    for name, prediction in mapping.items():
        if isinstance(prediction, Mapping):
            rows.append({**prediction, VIDEO_NAME: name})
        else:
            rows.append({VIDEO_NAME: name, PREDICTION_COLUMNS[0]: prediction})
    return pd.DataFrame.from_records(rows)


def _checked_video_names(table: pd.DataFrame, source: str) -> pd.DataFrame:
    if len(table) == 0:
        raise PredictionsError(f"predictions {source} hold no rows")
    repeated = sorted({str(c) for c in table.columns[table.columns.duplicated()]})
    if repeated:  # a DataFrame may repeat a column name; which one would count?
        raise PredictionsError(
            f"predictions {source} have the column(s) {repeated} more than once; each column "
            "must appear once"
        )
    if VIDEO_NAME not in table.columns:
        if table.index.name == VIDEO_NAME:
            hint = f"; {VIDEO_NAME!r} is the DataFrame's index: call .reset_index() first"
        else:
            hint = ""
        raise PredictionsError(
            f"predictions {source} have no {VIDEO_NAME!r} column (columns: "
            f"{[str(c) for c in table.columns]}){hint}. Only the exact name {VIDEO_NAME!r} is "
            "accepted, so that a column of other ids is never mistaken for clip names."
        )
    names = [
        "" if is_blank(v) else (v.strip() if isinstance(v, str) else str(v))
        for v in table[VIDEO_NAME]
    ]
    empty = [i for i, name in enumerate(names, start=1) if not name]
    if empty:
        raise PredictionsError(
            f"predictions {source}: {VIDEO_NAME} is empty in row(s) {_numbers(empty)} "
            "(rows numbered from 1, header not counted)"
        )
    table[VIDEO_NAME] = pd.Series(names, index=table.index, dtype=object)
    return table


# --- reading one answer ----------------------------------------------------------------------
# The parser is emosign._answer_text, shared with the MLLM harness; parse_label is its public
# entry point, which checks the task and its classes.


def parse_label(value: object, *, task: str, classes: Sequence[str] | None = None) -> str | None:
    """Read one raw single-label answer into a class name of ``task``.

    Case, whitespace and punctuation do not matter; see the module docstring for the words
    and numbers each task accepts and the answers it refuses to guess.

    Parameters
    ----------
    value : the answer as given: text ("Moderately Positive", "SP(N)", "worry+sadness"), a
        number (sentiment tasks), or a list of names.
    task : one of the single-label tasks "sentiment_7", "sentiment_3", "emotion_single",
        "emotion_multi".
    classes : the task's classes. Required for "emotion_multi", whose combinations come from
        the label file (``TaskData.classes``); for the other tasks, None or their classes.

    Returns
    -------
    str or None
        A class name of the task, or None if the answer is empty or cannot be read.
    """
    spec = get_task(task)
    if spec.kind != "single_label":
        raise InputError(
            f"parse_label reads single-label answers; task {task!r} reads one column per "
            "emotion (see align)"
        )
    if spec.classes is None:
        if classes is None:
            raise InputError(f"task {task!r} takes its classes from the label file: pass classes")
    elif classes is not None and tuple(classes) != spec.classes:
        raise InputError(f"task {task!r} has the classes {list(spec.classes)}, not {list(classes)}")
    label, _ = read_label(value, task=task, classes=tuple(classes or spec.classes or ()))
    return label


# --- meeting a task ----------------------------------------------------------------------


class _Problems:
    """Problems found while aligning, grouped by kind, reported in one error."""

    HEADINGS = {
        "column": "columns",
        "unknown": "video names that are not clips of the label file",
        "duplicate": "clips given more than once",
        "missing": "task clips with no prediction row",
        "empty": "empty predictions",
        "unparseable": "predictions that cannot be read",
        "scores": "invalid scores",
    }

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {kind: [] for kind in self.HEADINGS}

    def add(self, kind: str, line: str) -> None:
        self.lines[kind].append(line)

    def kinds(self) -> set[str]:
        return {kind for kind, lines in self.lines.items() if lines}

    def raise_if_any(self, predictions: Predictions, data: TaskData, expected: str) -> None:
        kinds = self.kinds()
        if not kinds:
            return
        count = sum(len(lines) for lines in self.lines.values())
        header = (
            f"predictions {predictions.source} do not fit task {data.task.name} on label file "
            f"{data.labels_source.path}: {count} problem(s), nothing was scored "
            "(rows numbered from 1, header not counted)"
        )
        sections = []
        for kind, lines in self.lines.items():
            heading = f"{self.HEADINGS[kind]} ({len(lines)})"
            if kind == "unparseable":
                heading += f"; expected {expected}"
            sections.append((heading, lines))
        footer = []
        if kinds <= {"missing", "empty", "unparseable"}:
            footer.append(f"to score these clips as wrong instead, {ON_INVALID_HINT}")
        # A long list goes to a file of its own, never beside the predictions (their folder
        # may be read-only, or another's).
        raise PredictionsError(listing(header, sections, footer))


def align(
    predictions: PredictionsLike,
    data: TaskData,
    *,
    on_invalid: str = "raise",
    scores_must_be_probabilities: bool = False,
) -> Aligned:
    """Find and read each task clip's prediction.

    Parameters
    ----------
    predictions : a :class:`Predictions`, or anything :func:`read_predictions` reads.
    data : the task applied to a label file (``get_task(name).bind(labels)``).
    on_invalid : "raise" (default) or "wrong".
        "raise": any task clip with no row, an empty answer or an unreadable one is an
        error. "wrong": such clips are scored as wrong (see :class:`Aligned`) and listed in
        ``Aligned.missing`` / ``Aligned.unparseable``. Either way, unknown clip names,
        duplicated clips, absent columns and invalid scores raise.
    scores_must_be_probabilities : if True, every score must lie in [0, 1] and, on
        single-label tasks, each row must sum to 1 within 1e-6.

    Returns
    -------
    Aligned, its rows in ``data.video_names`` order.

    Raises
    ------
    PredictionsError
        Listing every offending row, grouped by kind of problem.
    """
    if on_invalid not in ON_INVALID:
        raise InputError(f"on_invalid must be one of {list(ON_INVALID)}, not {on_invalid!r}")
    predictions = read_predictions(predictions)
    table = predictions.table
    task = data.task
    problems = _Problems()

    names = list(table[VIDEO_NAME])
    task_rows = _match_clips(names, data, problems)
    in_task = set(data.video_names)
    n_outside = sum(1 for name in names if name in data.label_video_names and name not in in_task)
    no_row = {name for name in data.video_names if name not in task_rows}
    if on_invalid == "raise":
        for name in data.video_names:
            if name in no_row:
                problems.add("missing", repr(name))

    records = table.to_dict("records")
    rows = [(task_rows.get(name), name) for name in data.video_names]
    expected = EXPECTED.get(task.name, "one combination of " + ", ".join(data.classes))
    scores_only = (
        task.kind == "single_label"
        and _find_prediction_column(table) is None
        and all(SCORE_PREFIX + c in table.columns for c in data.classes)
    )
    if scores_only:
        # Probabilities alone (the soft-label example): each clip's class is its top score.
        scores = _align_scores(records, rows, data, table, problems, scores_must_be_probabilities)
        y_pred, values = _classes_from_scores(scores, data)
        unreadable, empty = set(), set()
    elif task.kind == "single_label":
        y_pred, values, unreadable, empty = _align_single(records, rows, data, table, problems)
    elif task.kind == "explanation":
        y_pred, unreadable, empty = _align_text(records, rows, data, table, problems)
        values = None
    else:
        y_pred, unreadable, empty = _align_per_emotion(records, rows, data, table, problems)
        values = None
    if not scores_only:
        scores = (
            None
            if task.kind == "explanation"
            else _align_scores(records, rows, data, table, problems, scores_must_be_probabilities)
        )

    if on_invalid == "wrong":
        for kind in ("empty", "unparseable"):
            problems.lines[kind].clear()
    problems.raise_if_any(predictions, data, expected)

    missing = no_row | empty
    unparseable = unreadable - empty
    for array in (y_pred, values, scores):
        if array is not None:
            array.setflags(write=False)
    return Aligned(
        y_pred=y_pred,
        values=values,
        scores=scores,
        n_given=len(table),
        n_outside_task=n_outside,
        missing=tuple(name for name in data.video_names if name in missing),
        unparseable=tuple(name for name in data.video_names if name in unparseable),
    )


def _match_clips(names: list[str], data: TaskData, problems: _Problems) -> dict[str, int]:
    """Row position of each task clip given; unknown and duplicated names go to problems."""
    rows_of: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        rows_of.setdefault(name, []).append(i)
        if name not in data.label_video_names:
            problems.add("unknown", f"row {i + 1}: {name!r}{_name_hint(name, data)}")
    for name, rows in rows_of.items():
        if len(rows) > 1:
            problems.add("duplicate", f"{name!r} in rows {_numbers(p + 1 for p in rows)}")
    in_task = set(data.video_names)
    return {name: rows[0] for name, rows in rows_of.items() if name in in_task}


def _name_hint(name: str, data: TaskData) -> str:
    stem = Path(name).stem
    if stem != name and stem in data.label_video_names:
        return f" (the clip is {stem!r}, without the file extension)"
    return ""


def _find_prediction_column(table: pd.DataFrame) -> str | None:
    if PREDICTION_COLUMNS[0] in table.columns:
        return PREDICTION_COLUMNS[0]
    fallbacks = [c for c in PREDICTION_COLUMNS[1:] if c in table.columns]
    return fallbacks[0] if len(fallbacks) == 1 else None


def _column_problem(table: pd.DataFrame, problems: _Problems, wanted: str) -> None:
    problems.add("column", f"{wanted}; the table has {[str(c) for c in table.columns]}")


def _where(position: int, name: str) -> str:
    return f"row {position + 1} ({name!r})"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _align_single(records, rows, data: TaskData, table, problems):
    n = data.n
    y_pred = np.full(n, -1, dtype=np.intp)
    values = np.full(n, np.nan) if data.task.name == "sentiment_7" else None
    unreadable: set[str] = set()
    empty: set[str] = set()
    column = _find_prediction_column(table)
    if column is None:
        both = [c for c in PREDICTION_COLUMNS[1:] if c in table.columns]
        wanted = (
            f"both {both} are present; keep one, or name the prediction column 'prediction'"
            if len(both) > 1
            else f"a {PREDICTION_COLUMNS[0]!r} column is needed (or {PREDICTION_COLUMNS[1]!r} "
            f"or {PREDICTION_COLUMNS[2]!r})"
        )
        _column_problem(table, problems, wanted)
        return y_pred, values, unreadable, empty
    index = {name: i for i, name in enumerate(data.classes)}
    for i, position, name, raw in _answers(records, rows, column, problems, empty):
        label, value = read_label(raw, task=data.task.name, classes=data.classes)
        if label is None:
            unreadable.add(name)
            problems.add("unparseable", f"{_where(position, name)}: {column}={_shown(raw)}")
            continue
        if values is not None and not abs(value) <= SENTIMENT_VALUE_LIMIT:
            unreadable.add(name)
            problems.add("unparseable", f"{_where(position, name)}: {column}={_shown(raw)} is "
                         f"not a rating: it lies outside -{SENTIMENT_VALUE_LIMIT:g}..."
                         f"{SENTIMENT_VALUE_LIMIT:g}")
            continue
        y_pred[i] = index[label]
        if values is not None:
            values[i] = value
    return y_pred, values, unreadable, empty


def _align_text(records, rows, data: TaskData, table, problems):
    """Free text per clip (cue explanations): (n,) object array, "" where missing."""
    y_pred = np.full(data.n, "", dtype=object)
    empty: set[str] = set()
    column = next((c for c in ("prediction", "explanation") if c in table.columns), None)
    if column is None:
        _column_problem(table, problems, "a 'prediction' (or 'explanation') column is needed")
        return y_pred, set(), empty
    for i, _, _, raw in _answers(records, rows, column, problems, empty):
        y_pred[i] = str(raw)
    return y_pred, set(), empty


def _answers(records, rows, column: str, problems, empty: set[str]):
    """(i, file position, clip, raw answer) of each task clip with a non-blank answer; blank
    ones go to ``empty`` and to the problems."""
    for i, (position, name) in enumerate(rows):
        if position is None:
            continue
        raw = records[position][column]
        if is_blank(raw):
            empty.add(name)
            problems.add("empty", f"{_where(position, name)}: {column}={_shown(raw)}")
            continue
        yield i, position, name, raw


def _align_per_emotion(records, rows, data: TaskData, table, problems):
    presence = data.task.kind == "multi_label"
    n, k = data.n, len(data.classes)
    y_pred = np.zeros((n, k), dtype=bool if presence else float)
    unreadable: set[str] = set()
    empty: set[str] = set()

    # Cells with no usable answer get the worst answer (on_invalid="wrong"), so such a clip
    # can never score better than if the model had answered.
    def worst(i: int, cells: np.ndarray) -> None:
        truth = data.y_true[i]
        if presence:
            y_pred[i, cells] = ~truth[cells]
        else:
            y_pred[i, cells] = np.where(truth[cells] >= 2, vocab.INTENSITY_MIN, vocab.INTENSITY_MAX)

    for i, (position, _) in enumerate(rows):
        if position is None:
            worst(i, np.ones(k, dtype=bool))

    columns = [c for c in data.classes if c in table.columns]
    list_column = _find_prediction_column(table) if presence and not columns else None
    if len(columns) < k and list_column is None:
        if columns:
            absent = [c for c in data.classes if c not in columns]
            wanted = f"the per-emotion column(s) {absent} are missing (every emotion needs one)"
        elif presence:
            wanted = (
                f"one column per emotion {list(data.classes)} is needed, or a "
                f"{PREDICTION_COLUMNS[0]!r} column listing the emotions present"
            )
        else:
            wanted = f"one column per emotion {list(data.classes)} is needed, each 0...3"
        _column_problem(table, problems, wanted)
        return y_pred, unreadable, empty

    for i, (position, name) in enumerate(rows):
        if position is None:
            continue
        record = records[position]
        if list_column is not None:  # a list of the emotions present, in one column
            raw = record[list_column]
            present = None if is_blank(raw) else read_emotion_list(raw)
            if present is None:
                bad = empty if is_blank(raw) else unreadable
                bad.add(name)
                kind = "empty" if bad is empty else "unparseable"
                problems.add(kind, f"{_where(position, name)}: {list_column}={_shown(raw)}")
                worst(i, np.ones(k, dtype=bool))
            else:
                y_pred[i] = [c in present for c in data.classes]
            continue
        read = read_presence if presence else read_intensity
        failed = np.zeros(k, dtype=bool)
        blank = np.zeros(k, dtype=bool)
        for j, column in enumerate(data.classes):
            raw = record[column]
            value = None if is_blank(raw) else read(raw)
            if value is None:
                failed[j], blank[j] = True, is_blank(raw)
            else:
                y_pred[i, j] = value
        if failed.any():
            cells = ", ".join(f"{c}={_shown(record[c])}" for c, f in zip(data.classes, failed) if f)
            kind = "empty" if blank.all() else "unparseable"
            (empty if kind == "empty" else unreadable).add(name)
            problems.add(kind, f"{_where(position, name)}: {cells}")
            worst(i, failed)
    return y_pred, unreadable, empty


def _align_scores(records, rows, data: TaskData, table, problems, must_be_probabilities: bool):
    wanted = {SCORE_PREFIX + c: c for c in data.classes}
    given = [c for c in table.columns if str(c) in wanted]
    if not given:
        return None  # score columns of other tasks, if any, are not this task's business
    absent = [c for c in wanted if c not in table.columns]
    if absent:
        strays = [
            str(c)
            for c in table.columns
            if str(c).startswith(SCORE_PREFIX) and str(c) not in wanted
        ]
        hint = f"; score columns that name no class of this task: {strays}" if strays else ""
        problems.add("scores", f"score columns {absent} are missing (every class needs one){hint}")
        return None

    scores = np.full((data.n, len(data.classes)), np.nan)
    for i, (position, name) in enumerate(rows):
        if position is None:
            continue
        record = records[position]
        bad = []
        for j, column in enumerate(wanted):
            raw = record[column]
            number = finite_number(raw)
            if number is None:
                bad.append(f"{column}={_shown(raw)} is not a finite number")
            elif must_be_probabilities and not 0.0 <= number <= 1.0:
                bad.append(f"{column}={_shown(raw)} is not a probability in [0, 1]")
            else:
                scores[i, j] = number
        if not bad and must_be_probabilities and data.task.kind == "single_label":
            total = scores[i].sum()
            if abs(total - 1.0) > PROBABILITY_TOLERANCE:
                bad.append(f"the scores sum to {float(total)!r}, not 1")
        if bad:
            problems.add("scores", f"{_where(position, name)}: " + "; ".join(bad))
    return scores


def _classes_from_scores(scores: np.ndarray | None, data: TaskData):
    """Predicted classes from a score table with no prediction column: the highest score of each
    clip (the first class in the task's order on a tie); -1 for a clip without (finite) scores.

    Returns (y_pred, values): ``values`` holds the class's rating on ``sentiment_7``, else None.
    """
    y_pred = np.full(data.n, -1, dtype=np.intp)
    if scores is not None:
        scored = ~np.isnan(scores).any(axis=1)
        y_pred[scored] = np.argmax(scores[scored], axis=1)
    if data.task.name != "sentiment_7":
        return y_pred, None
    rating = {vocab.sentiment_7(r): float(r) for r in range(vocab.SENTIMENT_MIN, vocab.SENTIMENT_MAX + 1)}
    values = np.array([rating[data.classes[k]] if k >= 0 else np.nan for k in y_pred])
    return y_pred, values


def _numbers(numbers) -> str:
    return inline_listing([str(n) for n in numbers])
