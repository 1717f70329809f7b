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

import numpy as np

from emosign import __version__, _defaults, vocab
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

__all__ = ["RANK_BOOTSTRAP", "SAME_SCORE", "bootstrap_rank_intervals", "build_report",
           "rank_bounds"]

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
        "among systems that see the same inputs, with its 95% interval (systems whose intervals "
        "overlap share a rank range), and floors (which never see the clip), references (which "
        "do not model the clip) and the paper's reported numbers (not rerun, no interval) are "
        "shown apart, unranked. A row identical to a floor on every score is flagged so."
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
        blocks += _leaderboard(task, [s for s in systems if s.task == task], figures, bar, labels)
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


#: Resamples of the joint bootstrap of ranks, and its seed.
RANK_BOOTSTRAP = 2_000
_RANK_SEED = 0
#: Two scores within this much are the same score (half a unit of the paper's last printed
#: digit, 0.01 points): a row identical to a floor on every score is flagged so.
SAME_SCORE = 5.1e-5


def rank_bounds(low: Sequence[float], high: Sequence[float], *,
                lower_is_better: bool = False) -> list[tuple[int, int]]:
    """Rank ranges from intervals, as Chatbot Arena's rank bounds.

    A system is ranked below another only when their intervals do not overlap: with
    ``[low_i, high_i]`` system i's 95% interval (higher is better),

        best_i  = 1 + #{j : low_j > high_i}       (systems surely better)
        worst_i = m - #{j : high_j < low_i}       (m systems, less those surely worse)

    so systems whose intervals overlap share a rank range.

    Parameters
    ----------
    low, high : sequences of float
        Each system's interval.
    lower_is_better : bool
        For a metric where lower is better (MAE): the order is reversed.

    Returns
    -------
    list of (best, worst)
        1 is the best rank.

    References
    ----------
    Chiang, W.-L. et al. (2024). Chatbot Arena: an open platform for evaluating LLMs by human
    preference. ICML (rank = 1 + the number of models statistically better).
    """
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if lower_is_better:
        lo, hi = -hi, -lo
    m = lo.size
    return [(1 + int((lo > hi[i]).sum()), m - int((hi < lo[i]).sum())) for i in range(m)]


def bootstrap_rank_intervals(samples: np.ndarray, *, lower_is_better: bool = False,
                             ci: float = _defaults.CI) -> list[tuple[int, int]]:
    """Rank ranges from a joint bootstrap: each system's rank in every resample (the same
    resampled clips for all), and the ``ci`` percentile interval of those ranks.

    ``samples`` has shape (B, m): the metric of m systems on B resamples of the clips.
    In a resample, system i's rank is ``1 + #{j : score_j > score_i}`` (ties share the
    better rank). Returns ``(best, worst)`` per system: the ``(1 - ci) / 2`` quantile of its
    ranks rounded down and the ``(1 + ci) / 2`` one rounded up.
    """
    scores = -samples if lower_is_better else samples
    ranks = 1 + (scores[:, None, :] > scores[:, :, None]).sum(axis=2)  # (B, m)
    tail = (1 - ci) / 2
    best = np.quantile(ranks, tail, axis=0, method="lower")
    worst = np.quantile(ranks, 1 - tail, axis=0, method="higher")
    return [(int(b), int(w)) for b, w in zip(best, worst)]


def _ranks(task: str, ordered: Sequence[SystemResult], metric: str,
           labels: Labels | None) -> tuple[dict[int, str], list[str]]:
    """Each ranked system's rank range among the systems of the same inputs, "k-l of m", by
    position in ``ordered``, and what each group's ranges were computed from: a joint
    bootstrap of the per-clip predictions when every system of the group has them (and the
    label file is given), else the recorded 95% intervals (:func:`rank_bounds`)."""
    ranks: dict[int, str] = {}
    said: list[str] = []
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(ordered):
        if s.ranked and s.metrics.get(metric) is not None:
            groups.setdefault(s.inputs, []).append(i)
    lower = metric in LOWER_IS_BETTER
    for inputs, members in groups.items():
        systems = [ordered[i] for i in members]
        samples = _bootstrap_scores(task, systems, metric, labels)
        if samples is not None:
            bounds = bootstrap_rank_intervals(samples, lower_is_better=lower)
            how = (f"{inputs}: 95% intervals of the ranks from a joint bootstrap of the "
                   f"{len(systems)} systems' per-clip predictions ({RANK_BOOTSTRAP:,} resamples "
                   "of the clips, stratified by reference class, the same for every system)")
        else:
            values = [float(s.metrics[metric] or 0.0) for s in systems]
            lows = [s.intervals.get(metric, (v, v))[0] for s, v in zip(systems, values)]
            highs = [s.intervals.get(metric, (v, v))[1] for s, v in zip(systems, values)]
            bounds = rank_bounds(lows, highs, lower_is_better=lower)
            how = (f"{inputs}: rank ranges from the recorded 95% intervals (ranked below "
                   "another only when the two intervals do not overlap, as Chatbot Arena's "
                   "rank bounds)")
        if len(systems) > 1:
            said.append(how)
        for i, (best, worst) in zip(members, bounds):
            span = str(best) if best == worst else f"{best}-{worst}"
            ranks[i] = f"{span} of {len(members)}"
    return ranks, said


def _bootstrap_scores(task: str, systems: Sequence[SystemResult], metric: str,
                      labels: Labels | None) -> np.ndarray | None:
    """(B, m) ``metric`` of the systems on the same class-stratified resamples of the clips,
    from their per-clip predictions; None unless the label file is given, the task is
    single-label, and every system's predictions are readable, scored against this label
    file and give the score its record holds."""
    if labels is None or task_kind(task) != "single_label" or len(systems) < 2:
        return None
    from emosign.metrics import classification_metrics
    from emosign.predictions import align, read_predictions
    from emosign.stats import bootstrap_weights
    from emosign.tasks import get_task

    data = get_task(task).bind(labels)
    predicted = []
    for s in systems:
        if not s.predictions_file or (s.labels_sha256 and s.labels_sha256 != labels.source.sha256):
            return None
        try:
            aligned = align(read_predictions(s.predictions_file), data)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        full = classification_metrics(data.y_true, aligned.y_pred, n_classes=len(data.classes))
        if metric not in full or abs(float(full[metric]) - float(s.metrics[metric] or 0.0)) > 1e-9:
            return None
        predicted.append(aligned.y_pred)
    weights = bootstrap_weights(data.n, n_boot=RANK_BOOTSTRAP, seed=_RANK_SEED, strata=data.y_true)
    return np.stack([classification_metrics(data.y_true, p, n_classes=len(data.classes),
                                            sample_weight=weights)[metric] for p in predicted],
                    axis=1)


def _same_as_a_floor(task: str, s: SystemResult,
                     floors: Mapping[str, Mapping[str, float | None]]) -> str | None:
    """The floor whose every score ``s`` shares (within :data:`SAME_SCORE`), on at least two
    scores, or None."""
    mine = {k: v for k, v in s.metrics.items() if v is not None}
    for name, theirs in floors.items():
        if name == s.system:
            continue
        shared = [k for k in mine if theirs.get(k) is not None]
        if len(shared) >= 2 and all(abs(mine[k] - float(theirs[k] or 0.0)) <= SAME_SCORE for k in shared):
            return name
    return None


def _floor_scores(task: str, systems: Sequence[SystemResult], labels: Labels | None) -> dict[str, dict]:
    """The floors' scores on ``task``: the floor rows read, and with the label file the
    constant answers (every clip one class; ``constant_neutral`` is one of them)."""
    floors = {s.system: dict(s.metrics) for s in systems if s.kind == "floor"}
    if labels is not None and task_kind(task) == "single_label":
        from emosign.metrics import classification_metrics
        from emosign.tasks import get_task

        data = get_task(task).bind(labels)
        for k, name in enumerate(data.classes):
            answers = np.full(data.n, k)
            scores = classification_metrics(data.y_true, answers, n_classes=len(data.classes))
            floors.setdefault(f"constant_{name}", {m: float(v) for m, v in scores.items()
                                                   if np.ndim(v) == 0})
    return floors


def _leaderboard(task: str, systems: Sequence[SystemResult], figures: bool, bar: Any,
                 labels: Labels | None = None) -> list[Block]:
    """A task's leaderboard (ranked systems, each rank with its 95% interval), its points of
    comparison (floors, references, the paper's rows) and its forest plot."""
    columns = LEADERBOARD_METRICS[task_kind(task)]
    first = columns[0]
    ranked = _ordered([s for s in systems if s.kind in RANKED_KINDS], first)
    apart = _ordered([s for s in systems if s.kind not in RANKED_KINDS], first)
    ranks, how = _ranks(task, ranked, first, labels)
    metrics = tuple(_column_name(c) for c in columns)
    floors = _floor_scores(task, systems, labels)
    small = _small_classes(systems)

    def cell(s: SystemResult, metric: str) -> str:
        text = format_metric(s.metrics.get(metric), metric, s.intervals.get(metric))
        return f"{text} {UNSTABLE_MARK}" if small and metric in CLASS_AVERAGED else text

    def row(s: SystemResult, *rank: str) -> tuple[str, ...]:
        note = s.note
        same = _same_as_a_floor(task, s, floors)
        if same is not None:
            note = "; ".join(filter(None, [f"identical to the floor {same} on every score", note]))
        return (s.system, s.kind, s.inputs, *rank, _n_cell(s),
                *(cell(s, c) for c in columns), note)

    better = "lower" if first in LOWER_IS_BETTER else "higher"
    blocks: list[Block] = [Heading(3, task)]
    if ranked:
        rows = tuple(row(s, ranks.get(i, "not ranked: inputs not recorded"))
                     for i, s in enumerate(ranked))
        blocks.append(Table(f"{task}: {_description(task)}. Systems, best {SHORT_NAMES.get(first, first)} "
                            f"first ({better} is better); a rank is among the systems of the same "
                            "inputs, with its 95% interval: systems whose intervals overlap share "
                            "a rank range",
                            ("system", "kind", "inputs", "rank [95% interval] (same inputs)", "n",
                             *metrics, "note"),
                            rows, "leaderboard"))
        if how:
            blocks.append(Items(tuple(how)))
    if apart:
        rows = tuple(row(s) for s in apart)
        blocks.append(Table(f"{task}: points of comparison, never ranked: floors (which never see "
                            "the clip), references (not models of the clip) and the paper's "
                            "reported numbers (not rerun, no interval)",
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
        caption += ("; floors, references and reported numbers below the line (the latter two "
                    "in grey), unranked")
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
    from emosign import clips

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
        "Which clips carry the results, across the systems below; floors (which never see the "
        "clip), references (which read the annotators' own descriptions) and the paper's rows "
        "(no per-clip answers) are left out. A clip's difficulty is adjusted for chance and for "
        "the systems' ability: a penalised Rasch (1PL) fit of who got which clip right, "
        "logit P(right) = logit(chance) + ability - difficulty, where chance is the clip's hit "
        "rate by a system guessing from the label prior; 0 means a system of ability 0 gets the "
        "clip right exactly as often as chance does, higher is harder, and its 95% interval "
        "(+/- 1.96 posterior sd) is wide when few systems were run. The raw count of systems "
        "right is beside it. "
        "The annotators' three descriptions of the cues they saw are shown beside each clip: "
        "what they saw, not an explanation of why systems fail on it. Intensity is the "
        f"annotators' highest emotion intensity on the clip (0-3). Groups of fewer than "
        f"{clips.MIN_GROUP} clips are not broken down."))
    for task in tasks:
        systems = [s for s in candidates if s.task == task]
        if len(systems) < 2:
            continue
        blocks += _clips_of_task(task, systems, figures, labels)
    return blocks


def _clips_of_task(task: str, systems: Sequence[SystemResult], figures: bool,
                   labels: Labels) -> list[Block]:
    """One task's clip-level analysis: its hardest clips, difficulty by group, the clips
    separating its two best ranked systems, and the difficulty figure."""
    from emosign import clips
    from emosign.predictions import read_predictions

    blocks: list[Block] = [Heading(3, f"{task} clips")]
    kept: dict[str, pd.DataFrame] = {}
    kinds: dict[str, str] = {}
    ranked: dict[str, bool] = {}
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
        ranked[name] = s.ranked
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
        f"{task}: the {len(hardest)} hardest clips (highest chance- and ability-adjusted "
        "difficulty), with the annotators' cue descriptions beside them",
        ("clip", "signer", "reference", "systems right", "chance hit rate",
         "difficulty [95% interval]", "sentiment", "intensity", "cue descriptions"),
        tuple((r.video_name, r.signer, r.reference, f"{r.n_right} of {k}", f"{100 * r.chance:.0f}%",
               f"{r.difficulty:+.2f} [{r.difficulty_low:+.2f}, {r.difficulty_high:+.2f}]",
               f"{r.sentiment:+d}", str(r.intensity),
               " / ".join(c for c in (r.cue_1, r.cue_2, r.cue_3) if c))
              for r in hardest.itertuples()),
        "clip-hardest"))
    rows = []
    small = []
    for by, title in (("signer", "signer"), ("sentiment_magnitude", "sentiment magnitude"),
                      ("expression_set", "expression set")):
        for r in clips.breakdown(outcomes, by).itertuples(index=False):
            if not r.broken_down:
                small.append(f"{title} {r[0]} ({r.clips} clip{'s' if r.clips != 1 else ''})")
                rows.append((title, str(r[0]), str(r.clips),
                             f"not broken down: fewer than {clips.MIN_GROUP} clips", "", ""))
                continue
            rows.append((title, str(r[0]), str(r.clips), f"{100 * r.mean_share_right:.1f}",
                         f"{r.mean_difficulty:+.2f}", str(int(r.unsolved))))
    caption = (f"{task}: difficulty by signer, sentiment magnitude (|sentiment|, 0-3) and "
               f"expression set; a group of fewer than {clips.MIN_GROUP} clips is not broken down")
    if small:
        caption += " (here: " + ", ".join(small) + ")"
    blocks.append(Table(caption,
                        ("by", "group", "clips", "systems right, mean %", "mean difficulty",
                         "clips no system gets right"),
                        tuple(rows), "clip-breakdown"))
    sign = 1 if first in LOWER_IS_BETTER else -1
    among = [name for name in kept if ranked[name]]
    if len(among) < 2:
        blocks.append(Paragraph(
            "No separating clips shown: they are shown only between ranked systems (systems "
            "whose inputs are recorded), and fewer than two are here."))
    else:
        best = sorted(among, key=lambda name: (scores[name] is None, sign * (scores[name] or 0.0)))[:2]
        apart = clips.separating(outcomes, best[0], best[1])
        counts = apart["right_only"].value_counts()
        blocks.append(Table(
            f"{task}: clips separating the two best ranked systems here, {best[0]} (right only "
            f"on {int(counts.get(best[0], 0))}) and {best[1]} (right only on "
            f"{int(counts.get(best[1], 0))}); the first {min(len(apart), _SEPARATING_SHOWN)} shown",
            ("clip", "reference", "right only", "signer", "cue descriptions"),
            tuple((r.video_name, r.reference, r.right_only, r.signer,
                   " / ".join(c for c in (r.cue_1, r.cue_2, r.cue_3) if c))
                  for r in apart.head(_SEPARATING_SHOWN).itertuples()),
            "clip-separating"))
    if figures:
        from emosign import figures as drawing

        blocks.append(_drawn(f"clips-{task}", f"{task}: each clip's chance- and ability-adjusted "
                             f"difficulty across the {k} systems, with its 95% interval, against the "
                             "annotators' intensity; black bars are an intensity's mean, drawn only "
                             f"for an intensity of {clips.MIN_GROUP} clips or more",
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
