"""Read an Inspect log of an EmoSign task into what emosign scores.

An ``inspect eval emosign/<task>`` run (:mod:`emosign.harness.inspect_tasks`) leaves a log
(``.eval``, or ``.json`` with ``--log-format json``). :func:`read_inspect_log` reads one
through :func:`inspect_ai.log.read_eval_log` into an :class:`InspectRun`: the model, the
harness task, protocol and input, and per clip the answer text, the reason a clip was not
asked, or the error Inspect recorded. Its answers are read again by
:func:`emosign.harness.answers.read_answer` (so a log is scored by the current reader, like
``emosign mllm score``), and::

    run = read_inspect_log("logs/2026-12-04T18-00-00_emosign-sentiment_abc.eval")
    run.answers                       # {video_name: answer text}
    run.predictions("sentiment_7")    # the predictions table emosign.metrics.evaluate takes
    evaluate_log(run, "sentiment_7")  # evaluate() on the run's clips, unreadable = wrong
    score_inspect_logs(["logs/"])     # every log, in the layout of `emosign mllm score`

:func:`score_inspect_logs` returns ``runs`` and ``rows`` as ``emosign mllm score`` writes
them, so the report reads an Inspect run as it reads an ``mllm run``. A log is read only
from the path given (a folder: its own ``*.eval`` and ``*.json`` files); nothing in a log
names a file that is then opened.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from emosign import __version__, vocab
from emosign._extras import install_hint
from emosign._io import check_output_file, write_atomically
from emosign.errors import EmosignError, InputError, MissingExtraError
from emosign.harness.answers import UNPARSEABLE, Reading, parse_counts, read_answer
from emosign.harness.prompts import HARNESS_TASKS, INPUTS, PROTOCOL_NAMES, SCORED_TASKS
from emosign.labels import load_labels
from emosign.metrics import evaluate
from emosign.records import stamp
from emosign.tasks import get_task

__all__ = [
    "LOG_SUFFIXES",
    "METADATA_KEY",
    "InspectRun",
    "evaluate_log",
    "evaluate_readings",
    "find_inspect_logs",
    "is_inspect_log",
    "main",
    "read_inspect_log",
    "score_inspect_logs",
]

#: The key of an EmoSign task's metadata in its Inspect log (``eval.metadata``) under which
#: :mod:`emosign.harness.inspect_tasks` records the run's emosign settings.
METADATA_KEY = "emosign"
#: The suffixes of Inspect's log files.
LOG_SUFFIXES: tuple[str, ...] = (".eval", ".json")


@dataclass(frozen=True)
class InspectRun:
    """One Inspect run of an EmoSign task, as emosign scores it.

    Attributes
    ----------
    path : the log file.
    model : the model as Inspect names it (``openai-api/local/my-vlm``).
    task : the harness task ("joint", "sentiment" or "emotion").
    protocol : "emosign" or "paper".
    input : "video" or "video_caption".
    status : Inspect's status of the run ("success", "error", "cancelled", "started").
    clips : the clips the run's dataset holds (all of the harness task's clips).
    samples : the clips of the log (fewer than ``clips`` after ``--limit``), in log order.
    answers : ``{video_name: answer text}`` of the clips the model answered.
    skipped : ``{video_name: reason}`` of the clips that were not asked (no video, ...).
    errors : ``{video_name: message}`` of the clips whose sample failed in Inspect.
    settings : the sampling settings recorded by the task (fps, max_frames, max_side).
    labels_sha256 : the sha256 of the label file the run was made with.
    n_boot : the bootstrap resamples of the run's metrics.
    """

    path: str
    model: str
    task: str
    protocol: str
    input: str
    status: str
    clips: int
    samples: tuple[str, ...]
    answers: Mapping[str, str]
    skipped: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    labels_sha256: str | None = None
    n_boot: int | None = None

    @property
    def answered(self) -> int:
        """How many clips the model answered."""
        return len(self.answers)

    @property
    def name(self) -> str:
        """The run's name for tables: model, input, prompt and (if not the default) protocol."""
        protocol = "" if self.protocol == "emosign" else f", {self.protocol} protocol"
        return f"{self.model} ({self.input.replace('_', '+')}, {self.task} prompt{protocol}, Inspect)"

    def readings(self) -> dict[str, dict[str, Reading]]:
        """``{scored task: {video_name: Reading}}`` of every answered clip."""
        read = {name: read_answer(self.task, text) for name, text in self.answers.items()}
        return {scored: {name: r[scored] for name, r in read.items()}
                for scored in SCORED_TASKS[self.task]}

    def predictions(self, scored: str) -> pd.DataFrame:
        """The answers read for one scored task as a predictions table.

        One row per answered clip: ``video_name`` and the task's cells (``prediction``, or
        one column per emotion), ``<unparseable>`` where the answer could not be read;
        :func:`emosign.metrics.evaluate` takes it as it is.

        Parameters
        ----------
        scored : str
            One of the scored tasks of the run's harness task (``sentiment_3``, ...).

        Returns
        -------
        pandas.DataFrame
        """
        readings = self._scored(scored)
        rows = [{"video_name": name, **reading.cells} for name, reading in readings.items()]
        single = get_task(scored).kind == "single_label"
        columns = ["video_name", *(["prediction"] if single else vocab.EMOTION_NAMES)]
        return pd.DataFrame(rows, columns=columns)

    def _scored(self, scored: str) -> dict[str, Reading]:
        if scored not in SCORED_TASKS[self.task]:
            raise InputError(f"{self.path}: a {self.task} run is scored on "
                             f"{list(SCORED_TASKS[self.task])}, not {scored!r}")
        return self.readings()[scored]


def _inspect_log_api() -> Any:
    try:
        from inspect_ai import log  # the inspect extra: only when a log is read
    except ImportError as err:
        raise MissingExtraError(
            f"reading an Inspect log needs the inspect-ai package ({err.name or err}): "
            f"{install_hint('inspect')}"
        ) from None
    return log


# How an Inspect JSON log begins; read without Inspect, to tell one from a predictions file.
_JSON_LOG_START = re.compile(rb'\A\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')


def _header(path: Path) -> Any:
    """The log's header (no samples), or None when ``path`` is not a log Inspect can read.

    Without inspect-ai, an ``.eval`` file, or a ``.json`` file that begins as Inspect's JSON
    logs do, raises MissingExtraError; any other ``.json`` file (a predictions file) is not a
    log.
    """
    if path.suffix not in LOG_SUFFIXES or not path.is_file():
        return None
    if path.suffix == ".json":
        # Only what begins as Inspect's JSON logs do is handed to Inspect: its parser takes
        # any JSON, and a hostile one (100,000 nested brackets) costs it gigabytes.
        with path.open("rb") as file:
            if not _JSON_LOG_START.match(file.read(256)):
                return None
    api = _inspect_log_api()
    try:
        header = api.read_eval_log(str(path.resolve()), header_only=True)
    except Exception:  # noqa: BLE001 - any file Inspect cannot read is not a log
        return None
    return header if getattr(getattr(header, "eval", None), "task", None) is not None else None


def is_inspect_log(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a regular file holding an Inspect log (of any task).

    Raises MissingExtraError, saying how to install inspect-ai, for what looks like a log when
    inspect-ai is not installed; a JSON file that does not is not a log either way.

    Parameters
    ----------
    path : str or os.PathLike
        Any file; only ``.eval`` files and ``.json`` files that begin as Inspect's JSON logs
        do are handed to Inspect.

    Returns
    -------
    bool
    """
    return _header(Path(path)) is not None


def _is_emosign_log(path: Path) -> bool:
    header = _header(path)
    return header is not None and isinstance((header.eval.metadata or {}).get(METADATA_KEY), Mapping)


def read_inspect_log(path: str | os.PathLike) -> InspectRun:
    """Read the Inspect log of an EmoSign task.

    Parameters
    ----------
    path : a ``.eval`` or ``.json`` log file written by ``inspect eval emosign/<task>``.

    Returns
    -------
    InspectRun

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    InputError
        If it is not a regular file with a log's suffix, Inspect cannot read it, it is the
        log of another task, or its samples are not EmoSign clips (the message names the
        file).
    MissingExtraError
        If inspect-ai is not installed.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no Inspect log at {path}")
    if not path.is_file() or path.suffix not in LOG_SUFFIXES:
        raise InputError(f"{path}: not an Inspect log (a regular file ending in "
                         f"{' or '.join(LOG_SUFFIXES)})")
    api = _inspect_log_api()
    try:
        log = api.read_eval_log(str(path.resolve()))
    except Exception as err:  # noqa: BLE001 - Inspect's own errors, of many kinds
        raise InputError(f"{path}: Inspect cannot read it as a log ({type(err).__name__}: "
                         f"{str(err)[:200]})") from None
    meta = (log.eval.metadata or {}).get(METADATA_KEY)
    if not isinstance(meta, Mapping):
        raise InputError(f"{path}: the log of task {str(log.eval.task)[:80]!r}, not of an EmoSign "
                         "task (inspect eval emosign/...)")
    task, protocol, input_name = meta.get("task"), meta.get("protocol"), meta.get("input")
    if task not in HARNESS_TASKS or protocol not in PROTOCOL_NAMES or input_name not in INPUTS:
        raise InputError(f"{path}: the EmoSign settings of the log are not readable "
                         f"(task {task!r}, protocol {protocol!r}, input {input_name!r})")
    samples: list[str] = []
    answers: dict[str, str] = {}
    skipped: dict[str, str] = {}
    errors: dict[str, str] = {}
    for sample in log.samples or []:
        if sample.epoch != 1:
            continue  # one answer per clip: the first epoch's
        name = (sample.metadata or {}).get("video_name")
        if not isinstance(name, str) or name != sample.id:
            raise InputError(f"{path}: sample {str(sample.id)[:80]!r} is not an EmoSign clip")
        if name in answers or name in skipped or name in errors:
            raise InputError(f"{path}: clip {name!r} appears twice")
        samples.append(name)
        reason = (sample.metadata or {}).get("skipped")
        if sample.error is not None:
            errors[name] = str(sample.error.message)
        elif reason:
            skipped[name] = str(reason)
        elif sample.output is not None:
            answers[name] = sample.output.completion
    clips, n_boot = meta.get("clips"), meta.get("n_boot")
    return InspectRun(
        path=str(path),
        model=str(log.eval.model),
        task=task,
        protocol=protocol,
        input=input_name,
        status=str(log.status),
        clips=clips if isinstance(clips, int) else len(samples),
        samples=tuple(samples),
        answers=answers,
        skipped=skipped,
        errors=errors,
        settings=dict(meta.get("settings") or {}),
        labels_sha256=(meta.get("labels") or {}).get("sha256"),
        n_boot=n_boot if isinstance(n_boot, int) and not isinstance(n_boot, bool) and n_boot > 0
        else None,
    )


def evaluate_log(
    run: InspectRun | str | os.PathLike,
    scored: str,
    *,
    labels_file: Any = None,
    **options: Any,
) -> dict | None:
    """:func:`emosign.metrics.evaluate` of one scored task of an Inspect run.

    Scored as the task's Inspect metrics are (:func:`evaluate_readings`): on the run's clips
    of the task (a ``--limit`` run on its clips; ``restricted_to`` says how many),
    unreadable answers and clips without an answer counted as wrong. ``options`` go to
    evaluate (``n_boot``, ``ci``, ``seed``, ...). None when no clip of the run belongs to
    the scored task.

    Parameters
    ----------
    run : InspectRun or str or os.PathLike
        The run, or its log file.
    scored : str
        One of the scored tasks of the run's harness task.
    labels_file : str, os.PathLike or emosign.labels.Labels, optional
        The label file (default ``$EMOSIGN_LABELS``, then the pinned Hub file).
    **options
        For evaluate: ``n_boot``, ``ci``, ``seed``.

    Returns
    -------
    dict or None
    """
    if not isinstance(run, InspectRun):
        run = read_inspect_log(run)
    labels = load_labels(labels_file)
    known = {c.video_name for c in labels}
    unknown = [name for name in run.samples if name not in known]
    if unknown:
        raise InputError(f"{run.path}: {len(unknown)} clip(s) are not in the label file "
                         f"{labels.source.path}: {[n[:80] for n in unknown[:5]]}")
    cells = {name: reading.cells for name, reading in run._scored(scored).items()}
    return evaluate_readings(scored, run.samples, cells, labels_file=labels, **options)


def evaluate_readings(
    scored: str,
    clips: Iterable[str],
    cells: Mapping[str, Mapping[str, str]],
    *,
    labels_file: Any = None,
    **options: Any,
) -> dict | None:
    """:func:`emosign.metrics.evaluate` of the answers of one run, as an Inspect run is scored.

    Parameters
    ----------
    scored : the scored task.
    clips : the clips the run holds (its samples); those outside the scored task are left out.
    cells : ``{video_name: predictions cells}`` of the clips answered
        (:attr:`emosign.harness.answers.Reading.cells`); a clip of ``clips`` without cells
        is missing.
    labels_file : a path, :class:`emosign.labels.Labels`, or None for the default.
    **options
        For evaluate (``n_boot``, ``ci``, ``seed``, ...).

    Returns
    -------
    evaluate's result with ``on_invalid="wrong"`` (unreadable and missing answers are
    wrong), on the run's clips of the task (``clips=`` only when they are not all of the
    task's), or None when no clip of the run belongs to the scored task.
    """
    labels = load_labels(labels_file)
    data = get_task(scored).bind(labels)
    ran = set(clips)
    kept = [name for name in data.video_names if name in ran]
    if not kept:
        return None
    rows = [{"video_name": name, **cells[name]} for name in kept if name in cells]
    if not rows:
        # evaluate() refuses an empty table; without a single answer every clip is wrong,
        # which unreadable cells say as well (on_invalid="wrong" scores both alike).
        columns = ["prediction"] if data.task.kind == "single_label" else vocab.EMOTION_NAMES
        rows = [{"video_name": name, **dict.fromkeys(columns, UNPARSEABLE)} for name in kept]
    every = len(kept) == data.n
    return evaluate(scored, rows, labels_file=labels, on_invalid="wrong",
                    clips=None if every else kept, **options)


def find_inspect_logs(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The EmoSign Inspect logs among ``paths``: files, or folders (their own ``*.eval`` and
    ``*.json`` files, as Inspect's ``--log-dir`` holds them); other files are passed over.

    Parameters
    ----------
    paths : iterable of str or os.PathLike
        Log files, or folders holding them.

    Returns
    -------
    list of Path
        The logs of EmoSign tasks, each once, in the order found.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        if path.is_dir():
            candidates = sorted(p for suffix in LOG_SUFFIXES for p in path.glob(f"*{suffix}"))
        else:
            candidates = [path]
        for candidate in candidates:
            # a log named twice (a folder and a file in it, a symlink) is one run
            if candidate.resolve() not in seen and _is_emosign_log(candidate):
                seen.add(candidate.resolve())
                found.append(candidate)
    return found


def score_inspect_logs(
    paths: Sequence[str | os.PathLike],
    *,
    labels_file: Any = None,
    n_boot: int | None = None,
    out: str | os.PathLike | None = None,
) -> dict:
    """Score every EmoSign Inspect log in ``paths``, in the layout of ``emosign mllm score``.

    Parameters
    ----------
    paths : log files, or folders holding them (Inspect's ``--log-dir``).
    labels_file : the label file (default ``$EMOSIGN_LABELS``, then the pinned Hub file).
    n_boot : bootstrap resamples; default: what each run's task used.
    out : also write the result there as JSON (atomically), a file ``emosign report`` reads
        as it reads ``emosign mllm score``'s ``results.json``.

    Returns
    -------
    A JSON-ready dict: ``runs`` (one per log: ``model``, ``task``, ``input``, ``protocol``,
    ``log_file``, ``status``, ``clips``, ``samples``, ``answers``, ``skipped``, ``errors``
    and per scored task ``parse`` counts over the task's clips and ``evaluation``, as
    :func:`evaluate_log`) and ``rows`` (one flat row per run and scored task), as
    ``emosign mllm score`` returns them.

    Raises
    ------
    FileNotFoundError
        If a path does not exist or no EmoSign Inspect log is found.
    """
    if out is not None:
        check_output_file(out)
    logs = find_inspect_logs(paths)
    if not logs:
        raise FileNotFoundError("no Inspect log of an EmoSign task in " + ", ".join(map(str, paths))
                                + " (inspect eval emosign/<task> --log-dir DIR writes them)")
    labels = load_labels(labels_file)
    runs, rows = [], []
    for path in logs:
        run = read_inspect_log(path)
        boot = n_boot if n_boot is not None else run.n_boot
        readings = run.readings()
        entry: dict[str, Any] = {
            "model": run.model, "task": run.task, "input": run.input, "protocol": run.protocol,
            "source": "inspect", "log_file": run.path, "status": run.status,
            "clips": run.clips, "samples": len(run.samples), "answers": run.answered,
            "skipped": dict(run.skipped), "errors": dict(run.errors),
            "settings": dict(run.settings), "labels_sha256_of_run": run.labels_sha256,
            "scores": {},
        }
        for scored in SCORED_TASKS[run.task]:
            data = get_task(scored).bind(labels)
            parse = parse_counts(data.video_names, readings[scored])
            evaluation = evaluate_log(run, scored, labels_file=labels,
                                      **({} if boot is None else {"n_boot": boot}))
            entry["scores"][scored] = {"parse": parse, "evaluation": evaluation}
            rows.append({"model": run.model, "input": run.input, "prompt": run.task,
                         "task": scored, "protocol": run.protocol,
                         **{k: parse[k] for k in ("n", "answered", "parsed", "parse_rate")},
                         "metrics": evaluation["metrics"] if evaluation else None,
                         "extraction": None})
        runs.append(entry)
    results = stamp("inspect-score", {"emosign_version": __version__, "source": "inspect logs",
                                      "paths": [str(p) for p in paths], "runs": runs, "rows": rows})
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(out, json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emosign.harness.inspect_logs LOG_OR_DIR... --out FILE``: score Inspect logs.

    Writes :func:`score_inspect_logs`'s result to ``--out`` (a file ``emosign report`` reads)
    and prints one line per run and scored task. Returns the exit status; an error on bad
    input is printed as one line (status 1).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    parser = argparse.ArgumentParser(
        prog="python -m emosign.harness.inspect_logs",
        description="Score the Inspect logs of EmoSign tasks (inspect eval emosign/...) as "
                    "`emosign mllm score` scores its runs.")
    parser.add_argument("paths", nargs="+", help="log files, or folders holding them (--log-dir)")
    parser.add_argument("--out", required=True, help="the results JSON to write")
    parser.add_argument("--labels-file", default=None,
                        help="the label file (default $EMOSIGN_LABELS, then the pinned Hub file)")
    parser.add_argument("--n-boot", type=int, default=None,
                        help="bootstrap resamples (default: what each run's task used)")
    args = parser.parse_args(argv)
    try:
        results = score_inspect_logs(args.paths, labels_file=args.labels_file,
                                     n_boot=args.n_boot, out=args.out)
    except (EmosignError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for row in results["rows"]:
        metrics = row["metrics"] or {}
        shown = "  ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
        print(f"{row['model']}  {row['prompt']}/{row['protocol']}/{row['input']}  {row['task']}  "
              f"answered {row['answered']}/{row['n']}  {shown or 'no answers'}"
              + ("  (incomplete run)" if row["answered"] < row["n"] else ""))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a command
    sys.exit(main())
