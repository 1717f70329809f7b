"""One page from a run's results: ``emosign report``.

:func:`write_report` reads the result records the other commands write
(:mod:`emosign.records`), by their kind:

- ``benchmark`` (``emosign benchmark --out DIR``: ``DIR/results.json``): baselines and the
  paper's rows;
- ``mllm-score`` (``emosign mllm score RUN_DIR``: ``RUN_DIR/results.json``): one entry per
  model run;
- ``evaluate`` (``emosign evaluate --output FILE.json``): one system; the file name names it;
- ``lmms-eval-score`` (``emosign lmms-eval-score OUTPUT_DIR``:
  ``OUTPUT_DIR/emosign_results.json``, as mllm score's);

and renders one self-contained HTML page (figures embedded as PNG data, no script, no link
outside the page) and a markdown twin (figures as PNG files beside it). Both show, per task:
the leaderboard with 95% intervals, where only systems are ranked, each rank a 95% range
(systems whose intervals overlap share it); floors, references and the paper's published rows
apart as points of comparison, a row identical to a floor flagged; a forest plot, the parse
rates of MLLM runs, a per-signer table, the clip-level analysis (chance- and ability-adjusted
difficulty, with the label file) and each system's confusion matrix.

A missing file, an unreadable one, a file that is not a record the report shows (not
emosign's, or of a schema version newer than this emosign reads), or a record that lacks a
part is listed at the top of the report under "What is missing", and the rest is rendered.

The work is done in three steps, one module each: collect (:mod:`emosign._report_collect`:
records into :class:`SystemResult` objects), build (:mod:`emosign._report_build`: those into
blocks) and render (:mod:`emosign._report_render`: the blocks as HTML and markdown). This
module is their public face and writes the report's folder. Every string read from a results
file is escaped where it is rendered, and no name read from a file ever becomes part of a
path.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from emosign._io import marker_name, staged_directory, write_atomically
from emosign._report_build import build_report
from emosign._report_collect import (
    RANKED_KINDS,
    ROW_KINDS,
    Collected,
    SystemResult,
    collect_results,
    one_line,
)
from emosign._report_render import (
    Block,
    Contents,
    Figure,
    Heading,
    Items,
    Paragraph,
    Table,
    render_html,
    render_markdown,
)
from emosign.labels import Labels, load_labels

__all__ = [
    "MARKER",
    "RANKED_KINDS",
    "REPORT_FILES",
    "ROW_KINDS",
    "WRITER",
    "Block",
    "Collected",
    "Contents",
    "Figure",
    "Heading",
    "Items",
    "Paragraph",
    "SystemResult",
    "Table",
    "build_report",
    "collect_results",
    "render_html",
    "render_markdown",
    "write_report",
]

#: What a report folder holds.
REPORT_FILES = ("report.html", "report.md", "figures")
#: The writer's name: every report folder holds ``.emosign-report``, listing the files the
#: report wrote, so that a later report knows it may replace it (see emosign._io).
WRITER = "report"
MARKER = marker_name(WRITER)


def write_report(
    paths: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = True,
    labels_file: str | os.PathLike | None = None,
    progress: bool | None = False,
) -> Collected:
    """Write ``report.html``, ``report.md`` and ``figures/*.png`` into ``out_dir``.

    ``out_dir`` may be empty, absent, or an earlier report (its ``.emosign-report`` marker
    lists every file it holds), which is replaced. Anything else is refused: a folder
    holding files a report did not write, and a folder that is, is inside, or holds a
    results file the report reads. The report is built beside ``out_dir`` and moved into
    place, so a failure leaves the earlier report as it was.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        Result records, or folders holding them (see :func:`collect_results`).
    out_dir : str or os.PathLike
        The report's folder.
    overwrite : bool
        Kept for compatibility: a report only ever replaces an earlier report, and nothing
        else, with or without it.
    labels_file : str, os.PathLike or None
        The label file the clip-level analysis scores per-clip predictions against (default
        ``$EMOSIGN_LABELS``; without either the analysis is left out and the report says how
        to get it).
    progress : bool or None
        A bar while figures are drawn (None: only on a terminal).

    Returns
    -------
    Collected
        What was read, ``missing`` included.

    Raises
    ------
    FileNotFoundError
        If a path does not exist, or nothing readable was found.
    emosign.errors.InputError, OSError
        If ``out_dir`` may not be written (see :func:`emosign._io.staged_directory`).
    """
    collected = collect_results(paths, labels_file=labels_file)
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


def _labels_for_clips(
    labels_file: str | os.PathLike | None, collected: Collected
) -> tuple[Collected, Labels | None]:
    """The labels for the clip-level analysis, or None (with a note in ``missing`` when a
    label file was given but cannot be read)."""
    if labels_file is None:
        labels_file = os.environ.get("EMOSIGN_LABELS") or None
    if labels_file is None:
        return collected, None
    try:
        return collected, load_labels(labels_file)
    except (OSError, ValueError) as err:
        note = f"the label file for the clip-level analysis cannot be read ({one_line(err)})"
        return dataclasses.replace(collected, missing=(*collected.missing, note)), None
