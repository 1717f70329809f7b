"""Intervals for an lmms-eval run of EmoSign: ``emosign lmms-eval-score OUTPUT_DIR``.

lmms-eval prints point estimates only. Run with ``--log_samples``, it also writes one JSON
line per clip (``<output_path>/<model>/<date>_samples_emosign_<prompt>.jsonl``) holding, under
each metric's name, what the task folder's ``process_results`` read from the answer:
``{"video_name", "cells", "problem"}`` (see :mod:`emosign.harness.lmms_eval_task`). :func:`score_samples`
scores those readings with :func:`emosign.metrics.evaluate` (intervals, per-class and
per-signer results, ``on_invalid="wrong"``) and writes ``<output_dir>/emosign_results.json`` in
the layout of ``emosign mllm score``, so ``emosign report OUTPUT_DIR`` shows the run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emosign import __version__
from emosign._defaults import N_BOOT
from emosign._io import parse_json, read_regular_file, write_atomically
from emosign.errors import InputError
from emosign.harness.answers import PROBLEM_KINDS, UNPARSEABLE, Reading, parse_counts
from emosign.harness.lmms_eval_task import TAG, task_metrics
from emosign.harness.prompts import INPUTS, PROTOCOL_NAMES, SCORED_TASKS
from emosign.labels import load_labels
from emosign.metrics import evaluate
from emosign.predictions import align
from emosign.records import stamp
from emosign.tasks import get_task

__all__ = ["RESULTS_FILE", "score_samples"]

#: The largest samples file read: lmms-eval logs each clip's prompt and reply, a few kB.
MAX_SAMPLES_BYTES = 512 * 2**20
#: The results file :func:`score_samples` writes into lmms-eval's output folder.
RESULTS_FILE = "emosign_results.json"
# lmms-eval names a samples file "<date>_samples_<task>.jsonl"; the task names are ours.
_SAMPLES_FILE = re.compile(rf"(?:.*_)?samples_{TAG}_(joint|sentiment|emotion)(_caption)?\.jsonl")


def score_samples(
    output_dir: str | os.PathLike,
    *,
    labels_file: str | os.PathLike | None = None,
    n_boot: int = N_BOOT,
) -> dict:
    """Score every EmoSign samples file under ``output_dir`` (lmms-eval's ``--output_path``).

    Parameters
    ----------
    output_dir : path
        lmms-eval's ``--output_path``, run with ``--log_samples``.
    labels_file : path, optional
        The label file (default ``$EMOSIGN_LABELS``, else the pinned Hub file).
    n_boot : int
        Bootstrap resamples for the intervals.

    Returns
    -------
    dict
        JSON-ready, also written atomically to ``<output_dir>/emosign_results.json``:
        ``runs`` (one per samples file: ``model`` = the folder lmms-eval named after the
        model, ``task`` = the harness prompt, ``input``, ``samples_file``, and per scored
        task ``parse`` counts and ``evaluation``) and ``rows`` (one flat row per run and
        scored task), as ``emosign mllm score`` returns them. A clip lmms-eval did not run
        (``--limit``) is left out of the scoring and counted as ``missing``.

    Raises
    ------
    FileNotFoundError
        If ``output_dir`` holds no EmoSign samples file.
    InputError
        If a samples line holds no EmoSign reading, names a clip that is not in the label
        file, or repeats a clip; the message gives the file and line.
    """
    output_dir = Path(output_dir)
    files = sorted(p for p in output_dir.rglob(f"*samples_{TAG}_*.jsonl")
                   if _SAMPLES_FILE.fullmatch(p.name))
    if not files:
        raise FileNotFoundError(
            f"no EmoSign samples in {output_dir}: run lmms-eval with --log_samples "
            f"--output_path {output_dir} (files *_samples_{TAG}_<prompt>.jsonl)"
        )
    labels = load_labels(labels_file)
    runs, rows = [], []
    for path in files:
        match = _SAMPLES_FILE.fullmatch(path.name)
        assert match is not None  # the files were chosen by this pattern
        prompt, caption = match.groups()
        readings, protocol = _read_samples(path, prompt, {c.video_name for c in labels})
        model = path.parent.name if path.parent != output_dir else "lmms-eval"
        scores: dict[str, Any] = {}
        run: dict[str, Any] = {"model": model, "task": prompt, "input": INPUTS[1] if caption else INPUTS[0],
               "protocol": protocol, "samples_file": str(path.relative_to(output_dir)),
               "scores": scores}
        for scored in SCORED_TASKS[prompt]:
            data = get_task(scored).bind(labels)
            ran = [name for name in data.video_names if name in readings[scored]]
            _agree_with_evaluate(scored, labels, readings[scored])
            parse = parse_counts(data.video_names, readings[scored])
            evaluation = None
            if parse["parsed"]:
                predictions = [{**readings[scored][name].cells, "video_name": name} for name in ran]
                evaluation = evaluate(scored, predictions, labels_file=labels, on_invalid="wrong",
                                      n_boot=n_boot, clips=ran)
            scores[scored] = {"parse": parse, "evaluation": evaluation}
            rows.append({"model": model, "input": run["input"], "prompt": prompt, "task": scored,
                         **{k: parse[k] for k in ("n", "answered", "parsed", "parse_rate")},
                         "metrics": evaluation["metrics"] if evaluation else None})
        runs.append(run)
    results = stamp("lmms-eval-score", {"emosign_version": __version__, "source": "lmms-eval --log_samples",
                                        "output_dir": str(output_dir), "n_boot": n_boot, "runs": runs,
                                        "rows": rows})
    write_atomically(output_dir / RESULTS_FILE, json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results


def _read_samples(
    path: Path, prompt: str, clip_names: set[str]
) -> tuple[dict[str, dict[str, Reading]], str | None]:
    """``{scored task: {video_name: Reading}}`` from one samples file, and the protocol its
    task folder asked in (None for a folder exported before protocols were recorded)."""
    metric_of = {m.name: m.scored_task for m in task_metrics(prompt)}
    readings: dict[str, dict[str, Reading]] = {scored: {} for scored in SCORED_TASKS[prompt]}
    protocols: set[str | None] = set()
    # The one non-blocking reader: a FIFO named like a samples file is refused, not waited on.
    data = read_regular_file(path, what="lmms-eval samples file", error=InputError,
                             max_bytes=MAX_SAMPLES_BYTES)
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            sample = parse_json(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"{where}: not UTF-8 text") from None
        except json.JSONDecodeError as err:
            raise InputError(f"{where}: not JSON ({err})") from None
        if not isinstance(sample, dict):
            raise InputError(f"{where}: a JSON {type(sample).__name__}, not a sample "
                             "(lmms-eval writes one JSON object per line)")
        found = {metric_of[key]: value for key, value in sample.items()
                 if key in metric_of and isinstance(value, dict)}
        if set(found) != set(readings):
            raise InputError(f"{where}: no EmoSign reading for {sorted(set(readings) - set(found))} "
                             "(a samples file of another task folder?)")
        for scored, value in found.items():
            name = value.get("video_name")
            if not isinstance(name, str) or name not in clip_names:
                raise InputError(f"{where}: clip {str(name)[:80]!r} is not in the label file")
            if name in readings[scored]:
                raise InputError(f"{where}: clip {name!r} appears twice")
            if not isinstance(value.get("cells"), dict):
                raise InputError(f"{where}: clip {name!r} has no prediction cells "
                                 "(its cells must be a JSON object)")
            problem = value.get("problem")
            if problem is not None and problem not in PROBLEM_KINDS:
                raise InputError(f"{where}: clip {name!r}: its problem "
                                 f"{json.dumps(problem)[:60]} is not null or one of "
                                 f"{list(PROBLEM_KINDS)}")
            protocol = value.get("protocol")
            if protocol is not None and protocol not in PROTOCOL_NAMES:
                raise InputError(f"{where}: clip {name!r}: unknown protocol {str(protocol)[:40]!r}")
            protocols.add(protocol)
            if len(protocols) > 1:
                raise InputError(f"{where}: clip {name!r} was asked in another protocol than "
                                 "the clips before it; one samples file is one run")
            readings[scored][name] = _reading(value["cells"], problem)
    return readings, next(iter(protocols), None)


def _reading(cells: Mapping[Any, Any], problem: str | None) -> Reading:
    """One sample's reading, every cell text: a cell that is no text or number (a list, an
    object such as ``{"$ne": 1}``, a bool) cannot be a label and is read as unparseable,
    and the reading counts as an invalid answer."""
    read: dict[str, str] = {}
    bad = []
    for column, cell in cells.items():
        if isinstance(cell, bool) or not isinstance(cell, (str, int, float, type(None))):
            bad.append(str(column)[:40])
            read[str(column)] = UNPARSEABLE
        else:
            read[str(column)] = "" if cell is None else str(cell)
    if bad and problem is None:
        return Reading(cells=read, problem="invalid", detail=f"cells {bad} are not labels")
    return Reading(cells=read, problem=problem)


def _agree_with_evaluate(scored: str, labels: Any, readings: dict[str, Reading]) -> None:
    """Count as unreadable every reading evaluate cannot read (a cell "banana"), so that the
    parse rate and the evaluation agree: one reader, one count."""
    ok = {name: r for name, r in readings.items() if r.ok}
    if not ok:
        return
    data = get_task(scored).bind(labels)
    aligned = align([{**r.cells, "video_name": name} for name, r in ok.items()], data,
                    on_invalid="wrong")
    for name in (*aligned.unparseable, *aligned.missing):
        if name in ok:
            readings[name] = Reading(cells=ok[name].cells, problem="invalid",
                                     detail="evaluate cannot read its cells")
