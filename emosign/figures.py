"""Figures for papers: the dataset's label distributions and a run's results.

Every function returns a ``matplotlib.figure.Figure`` drawn without a display (the Agg
backend), sized for one paper column (3.35 in wide), in the Okabe-Ito colour-blind-safe
palette; :func:`save` writes it as PNG and PDF. Needs the ``figures`` extra (matplotlib).

Dataset figures take a :class:`emosign.labels.Labels`; result figures take what
:func:`emosign.metrics.evaluate` returns, or the rows of ``emosign benchmark``'s
``results.json``.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from emosign import vocab
from emosign._extras import install_hint
from emosign._io import check_output_file, write_atomically
from emosign.clips import MIN_GROUP
from emosign.errors import InputError, MissingExtraError
from emosign.labels import Labels
from emosign.metrics import LOWER_IS_BETTER, NOT_PERCENT, SHORT_NAMES

__all__ = [
    "COLUMN_WIDTH_IN",
    "OKABE_ITO",
    "clip_difficulty",
    "confusion_matrix",
    "emotion_presence",
    "expression_sets",
    "forest_plot",
    "per_class_recall",
    "per_signer",
    "save",
    "sentiment_distribution",
]

#: Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000",
)
COLUMN_WIDTH_IN = 3.35


_STYLE = {"font.size": 7, "axes.titlesize": 8, "axes.spines.top": False,
          "axes.spines.right": False}


def _styled(draw):
    """Draw inside the project's style, without changing the caller's matplotlib settings."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with _matplotlib().rc_context(_STYLE):
            return draw(*args, **kwargs)

    return wrapper


def _matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise MissingExtraError(f"figures need matplotlib: {install_hint('figures')}") from None
    return matplotlib


def _new_figure(width: float, height: float):
    """A Figure not attached to pyplot: nothing global changes (a notebook keeps its backend),
    nothing needs closing, and no display is needed to draw or save it."""
    _matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _label(text: str, limit: int = 60) -> str:
    """A name from a results file as a figure label: at most ``limit`` characters per line,
    and "$" shown as itself, not read as the start of a formula."""
    lines = [line if len(line) <= limit else line[: limit - 1] + "…" for line in str(text).split("\n")]
    return "\n".join(lines).replace("$", r"\$")


def _figure(height: float = 2.2, ncols: int = 1):
    fig = _new_figure(COLUMN_WIDTH_IN * (1 if ncols == 1 else 2), height)
    return fig, fig.subplots(1, ncols)


# --- the dataset ---------------------------------------------------------------------------


@_styled
def sentiment_distribution(labels: Labels):
    """Clips per sentiment rating -3...+3 (the paper's Figure 2)."""
    counts = Counter(c.sentiment for c in labels)
    values = [lv.value for lv in vocab.SENTIMENT_LEVELS]
    fig, ax = _figure()
    colours = [OKABE_ITO[3] if v < 0 else OKABE_ITO[7] if v == 0 else OKABE_ITO[0] for v in values]
    ax.bar([f"{v:+d}" for v in values], [counts[v] for v in values], color=colours)
    ax.set_xlabel("sentiment (majority rating)")
    ax.set_ylabel("clips")
    ax.set_title(f"Sentiment of the {len(labels)} EmoSign clips")
    return fig


@_styled
def emotion_presence(labels: Labels):
    """Clips per emotion and intensity 1...3 (the paper's Figure 3), stacked."""
    fig, ax = _figure(height=2.4)
    names = [e.paper_name for e in vocab.EMOTIONS]
    bottom = np.zeros(len(names))
    for level, colour in zip(range(1, vocab.INTENSITY_MAX + 1), OKABE_ITO[:3]):
        heights = np.array([sum(c.intensities[i] == level for c in labels) for i in range(len(names))])
        ax.barh(names, heights, left=bottom, color=colour, label=f"intensity {level}")
        bottom += heights
    ax.invert_yaxis()
    ax.set_xlabel("clips where the emotion is present")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    return fig


@_styled
def expression_sets(labels: Labels):
    """Class sizes of the single- and multi-expression sets, side by side."""
    fig, (left, right) = _figure(height=2.2, ncols=2)
    single = Counter(c.single_label for c in labels if c.single_label)
    codes = [c.code for c in vocab.EXPRESSION_CLASSES]
    left.bar(codes, [single[c.name] for c in vocab.EXPRESSION_CLASSES], color=OKABE_ITO[0])
    left.set_title(f"single expression set ({sum(single.values())} clips)")
    left.set_ylabel("clips")
    left.tick_params(axis="x", rotation=90)
    multi = Counter(c.multi_label for c in labels if c.multi_label)
    classes = labels.multi_expression_classes
    right.barh(classes, [multi[c] for c in classes], color=OKABE_ITO[1])
    right.invert_yaxis()
    right.set_title(f"multi expression set ({sum(multi.values())} clips)")
    right.set_xlabel("clips")
    return fig


# --- a run's results -----------------------------------------------------------------------


@_styled
def confusion_matrix(result: Mapping, *, normalize: bool = True, title: str | None = None):
    """The confusion matrix of a single-label result, rows = reference, with class names.

    ``normalize`` divides each row by its support (so the diagonal is per-class recall);
    ``title`` replaces the default "<task>: recall per reference class".
    """
    if "confusion_matrix" not in result:
        raise InputError(f"the result of {result.get('task')!r} has no confusion matrix")
    labels = result["confusion_matrix"]["labels"]
    matrix = np.array(result["confusion_matrix"]["matrix"], dtype=float)[:, : len(labels)]
    if normalize:
        support = matrix.sum(axis=1, keepdims=True)
        matrix = np.divide(matrix, support, out=np.zeros_like(matrix), where=support > 0)
    # Class names and cell values stay legible at the size the report shows the figure: the
    # figure grows with the class count instead of the text shrinking.
    side = max(COLUMN_WIDTH_IN, 0.45 * len(labels) + 1.6)
    fig = _new_figure(side, side)
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="cividis", vmin=0, vmax=1 if normalize else None)
    ax.set_xticks(range(len(labels)), [_label(name, 24) for name in labels], rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), [_label(name, 24) for name in labels], fontsize=8)
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("reference", fontsize=8)
    for i, j in np.ndindex(matrix.shape):
        if matrix[i, j]:
            text = f"{matrix[i, j]:.2f}" if normalize else f"{int(matrix[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] < 0.6 * matrix.max() else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    default = f"{result['task']}: {'recall' if normalize else 'counts'} per reference class"
    ax.set_title(default if title is None else _label(title))
    return fig


@_styled
def per_class_recall(result: Mapping):
    """Per-class recall bars, with each class's support under its name."""
    per_class = result["per_class"]
    names = list(per_class)
    fig, ax = _figure()
    ax.bar(range(len(names)), [per_class[n]["recall"] for n in names], color=OKABE_ITO[0])
    ax.set_xticks(range(len(names)), [f"{n}\n(n={per_class[n]['support']})" for n in names],
                  rotation=90)
    ax.set_ylim(0, 1)
    ax.set_ylabel("recall")
    wacc = result["metrics"].get("balanced_accuracy")
    if wacc is not None:
        ax.axhline(wacc, color=OKABE_ITO[3], linestyle="--", linewidth=0.8, label=f"wAcc {wacc:.2f}")
        ax.legend(frameon=False)
    ax.set_title(f"{result['task']}: recall per class")
    return fig


@_styled
def per_signer(result: Mapping, *, metric: str = "balanced_accuracy"):
    """One bar per signer for ``metric``, with each signer's clip count."""
    rows = result["per_signer"]
    signers = list(rows)
    fig, ax = _figure()
    values = [np.nan if rows[s][metric] is None else rows[s][metric] for s in signers]
    ax.bar([f"{s}\n(n={rows[s]['n']})" for s in signers], values, color=OKABE_ITO[2])
    ax.axhline(result["metrics"][metric], color="black", linewidth=0.8, label="all clips")
    ax.set_ylabel(metric)
    ax.set_ylim(0, 1)
    ax.legend(frameon=False)
    ax.set_title(f"{result['task']}: {metric} per signer")
    return fig


#: How a forest plot draws each kind of row: (colour, marker, filled).
_KIND_STYLE = {
    "floor": (OKABE_ITO[7], "s", True),
    "text": (OKABE_ITO[2], "o", True),
    "visual": (OKABE_ITO[0], "o", True),
    "MLLM run": (OKABE_ITO[5], "D", True),
    "evaluated": (OKABE_ITO[3], "o", True),
    "reference": ("#888888", "^", True),
    "reported": ("#888888", "s", False),
}
# Points of comparison, never ranked: below the line (floors keep their colour).
_APART = ("floor", "reference", "reported")


@_styled
def forest_plot(rows: Sequence[Mapping], *, metric: str = "balanced_accuracy", task: str | None = None):
    """Systems with their 95% intervals on one metric: rows of ``results.json`` (benchmark).

    Each row's ``kind`` (floor, text, visual, MLLM run, evaluated, reference, reported; a
    row with ``reported`` true is "reported") sets its colour and marker and is printed after
    its name. Floors, references and reported rows, points of comparison that are never
    ranked, go below a line (the latter two in grey), apart from the systems; reported rows
    (no interval) are hollow squares. Rows without the metric are left out.
    """
    chosen = [r for r in rows if (task is None or r.get("task") == task)
              and r.get("metrics", {}).get(metric) is not None]
    if not chosen:
        raise InputError(f"no row has {metric!r}" + (f" for task {task!r}" if task else ""))

    def kind(row) -> str:
        return "reported" if row.get("reported") else str(row.get("kind") or "evaluated")

    chosen = ([r for r in chosen if kind(r) not in _APART] + [r for r in chosen if kind(r) in _APART])
    names = [f"{_label(row['system'])} [{kind(row)}]" for row in chosen]
    # Long system names (the paper's rows) need room beside the axis: about 0.055 in a
    # character at 7 pt, plus 1.8 in for the axis itself.
    width = max(COLUMN_WIDTH_IN, 1.8 + 0.055 * max(map(len, names)))
    fig = _new_figure(width, 0.18 * len(chosen) + 0.9)
    ax = fig.subplots()
    scale = 1 if metric in NOT_PERCENT else 100
    for y, row in enumerate(chosen):
        colour, marker, filled = _KIND_STYLE.get(kind(row), _KIND_STYLE["evaluated"])
        value = scale * row["metrics"][metric]
        interval = row.get("ci", {}).get(metric)
        face = colour if filled else "none"
        if interval:
            low, high = (scale * v for v in interval)
            ax.errorbar(value, y, xerr=[[value - low], [high - value]], fmt=marker, color=colour,
                        markerfacecolor=face, markersize=3, capsize=2, linewidth=0.8)
        else:
            ax.plot(value, y, marker, markerfacecolor=face, color=colour, markersize=3.5)
    first_apart = next((y for y, row in enumerate(chosen) if kind(row) in _APART), None)
    if first_apart:  # not when every row is a point of comparison
        ax.axhline(first_apart - 0.5, color="#888888", linewidth=0.6, linestyle="--")
    ax.set_yticks(range(len(chosen)), names)
    for label, row in zip(ax.get_yticklabels(), chosen):
        if kind(row) in _APART:
            label.set_color("#666666")
    ax.invert_yaxis()
    unit = "" if scale == 1 else " (%)"
    better = "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
    ax.set_xlabel(f"{SHORT_NAMES.get(metric, metric)}{unit}, 95% interval ({better})")
    if task:
        ax.set_title(task + ("" if first_apart is None else ": systems above the line, "
                                                             "unranked points of comparison below"))
    return fig


@_styled
def clip_difficulty(table, *, task: str | None = None, min_group: int = MIN_GROUP):
    """Each clip's adjusted difficulty, with its 95% interval, against the annotators' intensity.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`emosign.clips.clip_table`, one row per clip; the columns read are
        ``intensity`` (the annotators' highest emotion intensity on the clip, 0...3),
        ``difficulty`` (the chance- and ability-adjusted Rasch difficulty, in logits),
        ``difficulty_low`` <= ``difficulty`` <= ``difficulty_high`` (its 95% interval,
        +/- 1.96 posterior sd) and, if there, ``n_systems`` (named in the title).
    task : str, optional
        Put before the title.
    min_group : int >= 1
        The fewest clips an intensity needs for its mean to be drawn; default
        :data:`emosign.clips.MIN_GROUP`, the rule of :func:`emosign.clips.breakdown`.

    Returns
    -------
    matplotlib.figure.Figure
        Each clip is a point at its difficulty with a bar over its interval, in a column per
        intensity, placed left to right from hardest to easiest (a fixed order, so the figure
        is reproducible and equal values stay visible). 0 (dashed) is a clip as hard as its
        chance hit rate and the systems' abilities predict (the centre of the fit's prior);
        higher is harder. A black bar marks
        the mean difficulty of an intensity of at least ``min_group`` clips; an intensity
        with fewer gets none, its tick says "no mean", and the axis label says why.
    """
    if isinstance(min_group, bool) or not isinstance(min_group, int) or min_group < 1:
        raise InputError(f"min_group must be a whole number >= 1; got {min_group!r}")
    if len(table) == 0:
        raise InputError("no clips to draw")
    missing = [c for c in ("intensity", "difficulty", "difficulty_low", "difficulty_high")
               if c not in table]
    if missing:
        raise InputError(f"table lacks the column(s) {missing}: give emosign.clips.clip_table's")
    intensity = np.asarray(table["intensity"], dtype=float)
    difficulty = np.asarray(table["difficulty"], dtype=float)
    low = np.asarray(table["difficulty_low"], dtype=float)
    high = np.asarray(table["difficulty_high"], dtype=float)
    if not (np.isfinite(np.stack([difficulty, low, high])).all()
            and (low <= difficulty).all() and (difficulty <= high).all()):
        raise InputError("difficulty_low <= difficulty <= difficulty_high must hold, all finite")
    if not np.isfinite(intensity).all():
        raise InputError("intensity must be given, a finite number, for every clip")
    offsets = np.zeros_like(intensity)
    for level in np.unique(intensity):
        members = np.flatnonzero(intensity == level)
        # Hardest on the left whatever the table's order; a stable sort keeps ties in it.
        members = members[np.argsort(-difficulty[members], kind="stable")]
        offsets[members] = np.linspace(-0.3, 0.3, members.size) if members.size > 1 else 0.0
    fig, ax = _figure(height=2.6)
    ax.axhline(0, color="#888888", linewidth=0.6, linestyle="--", zorder=0)
    # Intervals first and faint, so that 200 of them do not hide the points.
    ax.vlines(intensity + offsets, low, high, color=OKABE_ITO[4], linewidth=0.4, alpha=0.5,
              label="95% interval")
    ax.scatter(intensity + offsets, difficulty, s=4, color=OKABE_ITO[0], linewidths=0, zorder=3,
               label="clip")
    levels = np.unique(intensity)
    sizes = np.array([int((intensity == level).sum()) for level in levels])
    shown = sizes >= min_group
    means = [difficulty[intensity == level].mean() for level in levels[shown]]
    ax.hlines(means, levels[shown] - 0.35, levels[shown] + 0.35, color="black", linewidth=1.2,
              zorder=4, label=f"mean (intensities of {min_group}+ clips)")
    ax.set_xticks(levels, [f"{level:g}\n(n={n})" + ("" if keep else "\nno mean")
                           for level, n, keep in zip(levels, sizes, shown)])
    xlabel = "annotators' intensity (highest emotion on the clip, 0-3)"
    if not shown.all():
        small = ", ".join(f"{level:g}" for level in levels[~shown])
        xlabel += f"\nno mean for intensity {small}: fewer than {min_group} clips"
    ax.set_xlabel(xlabel)
    ax.set_ylabel("difficulty, logit (0 = as chance and the\nsystems' abilities predict; higher = harder)")
    # Above the axes, not over 200 points.
    fig.legend(frameon=False, loc="outside upper center", ncols=3, fontsize=6)
    n_systems = int(table["n_systems"].iloc[0]) if "n_systems" in table else None
    title = "adjusted clip difficulty" + (f" across {n_systems} systems" if n_systems else "")
    ax.set_title(f"{task}: {title}" if task else title)
    return fig


def save(fig, path: str | os.PathLike, *, formats: Iterable[str] = ("png", "pdf")) -> list[Path]:
    """Write ``fig`` as ``path`` with each suffix in ``formats``; return the files.

    Each file is rendered in memory first and then written atomically, so an
    interrupted or failed save leaves the earlier file, if any, as it was.  An
    unknown format (``ValueError``) and a target that is a folder, a FIFO or a
    device (``IsADirectoryError``, ``FileExistsError``) are refused before
    anything is written.
    """
    import io

    base = Path(path)
    targets = [(fmt, base.with_suffix(f".{fmt}")) for fmt in formats]
    known = fig.canvas.get_supported_filetypes()
    unknown = [fmt for fmt, _ in targets if fmt not in known]
    if unknown:
        raise InputError(f"cannot save a figure as {unknown}: the formats are {sorted(known)}")
    for _, target in targets:
        check_output_file(target)
    written = []
    for fmt, target in targets:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, bbox_inches="tight", dpi=300)
        write_atomically(target, buffer.getvalue())
        written.append(target)
    return written
