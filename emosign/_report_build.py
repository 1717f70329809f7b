"""The report's blocks, built from what was collected: the build step of ``emosign report``.

:func:`build_report` turns a :class:`~emosign._report_collect.Collected` into the blocks of
:mod:`emosign._report_render`, in reading order: what is missing, per task the leaderboard
(systems ranked only among those of the same inputs; references and the paper's reported
rows apart, unranked) with its forest plot, the parse rates of MLLM runs, a per-signer
table, the clip-level analysis (with the label file) and each system's confusion matrix.
Figures are drawn here (matplotlib, through :mod:`emosign.figures`) as PNG bytes; a figure
that cannot be drawn becomes a paragraph saying why, so one odd result never costs the page.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from emosign import __version__, vocab
from emosign._report_collect import (
    RANKED_KINDS,
    ROW_KINDS,
    Collected,
    SystemResult,
    number,
    one_line,
    task_kind,
)
from emosign._report_render import Block, Contents, Figure, Heading, Items, Paragraph, Table
from emosign.metrics import (
    CLASS_AVERAGED,
    LEADERBOARD_METRICS,
    LOWER_IS_BETTER,
    MIN_CLASS_CLIPS,
    NOT_PERCENT,
    SHORT_NAMES,
    UNSTABLE_MARK,
    UNSTABLE_REASON,
    format_metric,
)
from emosign.stats import clopper_pearson

if TYPE_CHECKING:  # pandas and matplotlib are imported when a section needs them
    import pandas as pd
    from matplotlib.figure import Figure as PlotFigure

    from emosign.labels import Labels

__all__ = ["build_report"]

_FIGURE_DPI = 150


def build_report(
    collected: Collected,
    *,
    figures: bool = True,
    labels: Labels | None = None,
    progress: bool | None = False,
) -> list[Block]:
    """The report as blocks, in reading order.

    Parameters
    ----------
    collected : Collected
        What :func:`emosign._report_collect.collect_results` read.
    figures : bool
        Draw the figures; False leaves them out (and does not need matplotlib).
    labels : Labels or None
        The label file read: adds the clip-level analysis of the systems whose per-clip
        predictions are beside their results; None says how to get it.
    progress : bool or None
        A bar over the figures drawn (None: only on a terminal).

    Returns
    -------
    list of Block
        The title, the reading guide, the contents and the sections.
    """
    from emosign._progress import progress_bar

    systems = collected.systems
    tasks = [t for t in vocab.TASK_NAMES if any(s.task == t for s in systems)]
    n_figures = (len(tasks) + sum(bool(s.confusion_matrix) for s in systems)) if figures else 0
    with progress_bar(n_figures, "report: drawing figures", enabled=progress, unit="figure") as bar:
        body = _body(collected, tasks, figures, labels, bar)
    blocks: list[Block] = [Heading(1, "EmoSign report")]
    blocks.append(Paragraph(
        f"Written by emosign {__version__} on {datetime.date.today().isoformat()} from "
        f"{len(collected.sources)} results file(s). Intervals are 95% intervals as each "
        "results file records them (emosign evaluate: with the class supports fixed, so wAcc is "
        "always averaged over the data's classes; see docs/statistics.md). "
        f"A {UNSTABLE_MARK} marks a score that averages over a class of fewer than "
        f"{MIN_CLASS_CLIPS} clips. wAcc is balanced accuracy (mean per-class recall), wF1 is "
        "support-weighted F1. Every row says what kind of system it is; a rank is given only "
        "among systems that see the same inputs, and references (which do not model the clip) "
        "and the paper's reported numbers (not rerun, no interval) are shown apart, unranked."
    ))
    blocks.append(Items(tuple(f"{kind}: {meaning}" for kind, meaning in ROW_KINDS.items())))
    blocks.append(Contents(tuple((b.level, b.text) for b in body
                                 if isinstance(b, Heading) and b.level in (2, 3))))
    return blocks + body


def _body(collected: Collected, tasks: Sequence[str], figures: bool, labels: Labels | None,
          bar: Any) -> list[Block]:
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
    """``systems``, best on ``metric`` first; those without a value last."""
    sign = 1 if metric in LOWER_IS_BETTER else -1
    return sorted(systems, key=lambda s: (s.metrics.get(metric) is None,
                                          sign * (s.metrics.get(metric) or 0.0)))


def _ranks(ordered: Sequence[SystemResult], metric: str) -> dict[int, str]:
    """"k of m (inputs)" for each ranked system, by position in ``ordered``: systems are
    ranked only against systems that see the same inputs; ties share a rank."""
    ranks = {}
    groups: dict[str, list[tuple[int, float]]] = {}
    for i, s in enumerate(ordered):
        value = s.metrics.get(metric)
        if s.ranked and value is not None:
            groups.setdefault(s.inputs, []).append((i, value))
    for members in groups.values():
        values = [value for _, value in members]
        for i, value in members:
            better = sum(v < value for v in values) if metric in LOWER_IS_BETTER else \
                sum(v > value for v in values)
            ranks[i] = f"{better + 1} of {len(members)}"
    return ranks


def _leaderboard(task: str, systems: Sequence[SystemResult], figures: bool, bar: Any) -> list[Block]:
    """A task's leaderboard (ranked systems), its points of comparison and its forest plot."""
    columns = LEADERBOARD_METRICS[task_kind(task)]
    first = columns[0]
    ranked = _ordered([s for s in systems if s.kind in RANKED_KINDS], first)
    apart = _ordered([s for s in systems if s.kind not in RANKED_KINDS], first)
    ranks = _ranks(ranked, first)
    metrics = tuple(_column_name(c) for c in columns)
    small = _small_classes(systems)

    def cell(s: SystemResult, metric: str) -> str:
        text = format_metric(s.metrics.get(metric), metric, s.intervals.get(metric))
        return f"{text} {UNSTABLE_MARK}" if small and metric in CLASS_AVERAGED else text

    def row(s: SystemResult, *rank: str) -> tuple[str, ...]:
        return (s.system, s.kind, s.inputs, *rank, _n_cell(s),
                *(cell(s, c) for c in columns), s.note)

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
    if small and any(c in CLASS_AVERAGED for c in columns):
        shown = ", ".join(f"{c} {n}" for c, n in small.items())
        blocks.append(Paragraph(f"{UNSTABLE_REASON} (here: {shown} clips)."))
        recall = _small_class_recall(task, [*ranked, *apart], small)
        if recall is not None:
            blocks.append(recall)
    plotted = [s for s in [*ranked, *apart] if s.metrics.get(first) is not None]
    if figures and plotted:
        blocks.append(_forest_figure(task, first, plotted))
        bar.update(1)
    return blocks


def _small_classes(systems: Sequence[SystemResult]) -> dict[str, int]:
    """The task's classes with fewer than MIN_CLASS_CLIPS reference clips, and their clips,
    read from a recorded confusion matrix (rows are the reference classes)."""
    for s in systems:
        matrix = s.confusion_matrix or {}
        labels, rows = matrix.get("labels"), matrix.get("matrix")
        if labels and rows and len(labels) == len(rows):
            support = {str(c): int(sum(row)) for c, row in zip(labels, rows)}
            return {c: n for c, n in support.items() if 0 < n < MIN_CLASS_CLIPS}
    return {}


def _small_class_recall(task: str, systems: Sequence[SystemResult], small: Mapping[str, int]) -> Table | None:
    """Each system's recall on the small classes, with its exact (Clopper-Pearson) 95%
    interval: what the flagged class-averaged scores rest on."""
    rows = []
    for s in systems:
        matrix = s.confusion_matrix or {}
        labels, counts = list(matrix.get("labels") or ()), matrix.get("matrix") or ()
        if not labels or len(labels) != len(counts):
            continue
        cells = []
        for name in small:
            i = labels.index(name) if name in labels else None
            if i is None:
                cells.append("n/a")
                continue
            hits, support = int(counts[i][i]), int(sum(counts[i]))
            low, high = clopper_pearson(hits, support)
            cells.append(f"{hits}/{support} [{100 * low:.0f}, {100 * high:.0f}]")
        rows.append((s.system, s.kind, *cells))
    if not rows:
        return None
    return Table(f"{task}: recall on the classes under {MIN_CLASS_CLIPS} clips, right/clips with "
                 "the exact (Clopper-Pearson) 95% interval in percent",
                 ("system", "kind", *(f"{c} recall" for c in small)), tuple(rows), "small-classes")


def _description(task: str) -> str:
    """The task's one-line description."""
    from emosign.tasks import get_task

    return get_task(task).description


def _column_name(metric: str) -> str:
    """A metric's column header: short name, unit, interval and direction."""
    short = SHORT_NAMES.get(metric, metric)
    unit = "" if metric in NOT_PERCENT else " %"
    lower = ", lower is better" if metric in LOWER_IS_BETTER else ""
    return f"{short}{unit} [95% CI{lower}]"


def _parse_table(systems: Sequence[SystemResult]) -> Table:
    """The parse rates of MLLM runs (and after LLM extraction, when a run has one)."""
    extracted = any(s.extraction for s in systems)
    rows = []
    for s in systems:
        p = s.parse or {}
        problems = ", ".join(f"{kind}: {count}" for kind, count in (p.get("problems") or {}).items())
        row: tuple[str, ...] = (s.system, s.kind, s.task, f"{p.get('answered', '?')}/{p.get('n', '?')}",
               str(p.get("parsed", "?")), _percent(p.get("parse_rate")), problems or "-")
        if extracted:
            row += _extraction_cells(s)
        rows.append(row)
    header: tuple[str, ...] = ("system", "kind", "task", "answered", "parsed", "parse rate",
                               "problems")
    caption = ("Answers a model gave and the parser could read (parse rate = parsed / "
               "answered); unreadable and missing answers count as wrong in the leaderboard")
    if extracted:
        header += ("parse rate after LLM extraction", "score after extraction")
        caption += ("; after LLM extraction (emosign mllm extract), a text model named the "
                    "labels the rules could not read: the leaderboard shows the rules' scores")
    return Table(caption, header, tuple(rows), "parse-rates")


def _n_cell(s: SystemResult) -> str:
    """A leaderboard's n: the clips scored, and for a model's run the clips it answered."""
    if s.n is None:
        return ""
    p = s.parse or {}
    answered, total = p.get("answered"), p.get("n")
    if not isinstance(answered, int) or not isinstance(total, int):
        return str(s.n)
    return f"{s.n} ({answered}/{total} answered)"


def _percent(rate: object) -> str:
    rate = number(rate)
    return "n/a" if rate is None else f"{100 * rate:.1f}%"


def _extraction_cells(s: SystemResult) -> tuple[str, str]:
    """The parse rate (with the extraction model) and the task's ranking metric after
    extraction, or dashes for a run without one."""
    if not s.extraction:
        return ("-", "-")
    metric = LEADERBOARD_METRICS[task_kind(s.task)][0]
    value = s.extraction["metrics"].get(metric)
    count = s.extraction.get("extracted")
    extracted = "" if count is None else f" ({count} extracted)"
    return (f"{_percent(s.extraction['parse'].get('parse_rate'))} by {s.extraction['model']}"
            f"{extracted}",
            f"{SHORT_NAMES.get(metric, metric)} {format_metric(value, metric)}")


def _signer_table(task: str, systems: Sequence[SystemResult]) -> Table:
    """One row per system, one column per signer: the task's ranking metric. A signer's clip
    count goes in the header when every system was scored on the same clips, else in each
    cell (a system scored on a subset). References come last, marked."""
    metric = LEADERBOARD_METRICS[task_kind(task)][0]
    systems = sorted(systems, key=lambda s: s.kind not in RANKED_KINDS)
    tables = [s.per_signer or {} for s in systems]
    signers = list(dict.fromkeys(name for table in tables for name in table))
    counts = {name: {(table.get(name) or {}).get("n") for table in tables} for name in signers}
    shared = {name: next(iter(n)) for name, n in counts.items() if len(n) == 1}

    def cell(table: Mapping[str, Mapping], name: str) -> str:
        row = table.get(name) or {}
        text = format_metric(row.get(metric), metric)
        return text if name in shared else f"{text} (n={row.get('n', 0)})"

    header = ("system", "kind", *(f"{name} (n={shared[name]})" if name in shared else name
                                  for name in signers))
    rows = tuple((s.system, s.kind, *(cell(table, name) for name in signers))
                 for s, table in zip(systems, tables))
    muted = frozenset(i for i, s in enumerate(systems) if s.kind not in RANKED_KINDS)
    caption = (f"{task}: {_column_name(metric).split(' [')[0]} per signer (point estimates; "
               "a signer with few clips has a wide interval)")
    return Table(caption, header, rows, "per-signer", muted)


def _forest_figure(task: str, metric: str, systems: Sequence[SystemResult]) -> Block:
    """A task's forest plot: each system's ``metric`` with its interval."""
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
    """A system's confusion matrix on a task, the ``k``-th of the task."""
    from emosign import figures

    result = {"task": task, "confusion_matrix": system.confusion_matrix}
    return _drawn(f"confusion-{task}-{k:02d}", f"{task}: {system.system} [{system.kind}]",
                  lambda: figures.confusion_matrix(result, title=f"{system.system} [{system.kind}]\n{task}"))


# --- clips ----------------------------------------------------------------------------------

_HARDEST_SHOWN = 12
_SEPARATING_SHOWN = 10


def _clip_section(collected: Collected, tasks: Sequence[str], figures: bool,
                  labels: Labels | None) -> list[Block]:
    """Which clips carry the results: per task, across the systems whose per-clip
    predictions are beside their results (references and reported rows left out)."""
    candidates = [s for s in collected.systems
                  if s.predictions_file and s.kind in RANKED_KINDS and task_kind(s.task) == "single_label"]
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


def _clips_of_task(task: str, systems: Sequence[SystemResult], figures: bool,
                   labels: Labels) -> list[Block]:
    """One task's clip-level analysis: its hardest clips, difficulty by group, the clips
    separating its two best systems, and the difficulty figure."""
    from emosign import clips
    from emosign.predictions import read_predictions

    blocks: list[Block] = [Heading(3, f"{task} clips")]
    kept: dict[str, pd.DataFrame] = {}
    kinds: dict[str, str] = {}
    scores: dict[str, float | None] = {}
    notes: list[str] = []
    first = LEADERBOARD_METRICS[task_kind(task)][0]
    for s in systems:
        if s.labels_sha256 and s.labels_sha256 != labels.source.sha256:
            notes.append(f"{s.system}: scored against another label file; left out")
            continue
        try:
            table = read_predictions(s.predictions_file)
            outcome = clips.clip_outcomes(task, {s.system: table}, labels_file=labels)
        except (OSError, ValueError, KeyError, TypeError) as err:
            notes.append(f"{s.system}: its per-clip predictions cannot be read ({one_line(err)}); left out")
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


def _drawn(name: str, caption: str, draw: Callable[[], PlotFigure]) -> Block:
    """The figure, or a paragraph saying why it could not be drawn: one odd result must not
    cost the whole report."""
    try:
        return Figure(name, caption, _png(draw()))
    except (ValueError, TypeError, KeyError, IndexError) as err:
        return Paragraph(f"The figure '{caption}' could not be drawn: {one_line(err)}.")


def _png(fig: PlotFigure) -> bytes:
    """A matplotlib figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_FIGURE_DPI, bbox_inches="tight")
    return buffer.getvalue()
