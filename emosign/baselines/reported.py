"""The paper's published rows (Tables 3 and 4), as leaderboard rows marked as reported.

The numbers come from the package data file read by :func:`emosign.repro.reported_results`
(percent as printed); here they become fractions like every computed row. They were not
rerun: the paper's models ran once, without intervals.
"""

from __future__ import annotations

from emosign.repro import reported_results


def reported_rows(task: str) -> list[dict]:
    """The paper's rows for ``task``: system, kind, the headline metrics as fractions."""
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
