"""The EmoSign paper's published numbers (Tables 3 and 4), read from the package data once.

The numbers live in ``emosign/data/reported_results.json``, in percent with the paper's printed
precision. :func:`reported_results` returns the file as it is; :func:`reported_rows` turns one
task's rows into leaderboard rows (fractions, marked as reported). They were not rerun: the
paper's models ran once, without intervals. :mod:`emosign.repro` checks them against the labels.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["reported_results", "reported_rows"]


@functools.cache
def _reported_text() -> str:
    return resources.files("emosign").joinpath("data/reported_results.json").read_text("utf-8")


def reported_results() -> dict[str, Any]:
    """The paper's printed numbers, from the package data file ``data/reported_results.json``.

    Returns
    -------
    dict
        A fresh copy each call (callers may alter it). Metric values are in percent with the
        paper's printed precision; ``rows`` holds one entry per published row (``table``,
        ``kind``, ``model``, ``modality``, ``task``, ``metrics`` with keys
        ``balanced_accuracy`` (wAcc), ``weighted_f1`` (wF1) and, for Table 4,
        ``per_class.<class>.recall``).
    """
    return json.loads(_reported_text())


def reported_rows(task: str) -> list[dict[str, Any]]:
    """The paper's rows for ``task``, as leaderboard rows.

    Parameters
    ----------
    task : str
        A task name (``vocab.TASK_NAMES``); a task the paper did not report gives ``[]``.

    Returns
    -------
    list of dict
        One per published row: ``task``, ``system`` ("<model> (<modality>)"), ``kind``
        ("reported MLLM" or "reported human"), ``description`` (the table) and ``metrics``,
        the headline metrics as fractions (per-class recalls left out).
    """
    rows = []
    for row in reported_results()["rows"]:
        if row["task"] != task:
            continue
        rows.append({
            "task": task,
            "system": f"{row['model']} ({row['modality']})",
            "kind": "reported " + ("MLLM" if row["kind"] == "model" else row["kind"]),
            "description": f"{row['table']} of the EmoSign paper",
            "metrics": {k: v / 100 for k, v in row["metrics"].items() if "." not in k},
        })
    return rows
