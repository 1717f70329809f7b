"""Which clips carry a result: clip-level analysis across the systems of a comparison.

Given several systems' predictions on one single-label task, :func:`clip_outcomes` lines up
who got which clip right; the functions below read that table:

* :func:`clip_table`: each clip's difficulty (how many systems got it right), with the clip's
  signer, reference, sentiment magnitude, expression set, the annotators' intensity and their
  three cue descriptions (``Reasoning_1`` ... ``_3``) beside it, so a reader sees why a clip is
  hard;
* :func:`unsolved`: the clips no system gets right;
* :func:`separating`: the clips on which exactly one of two systems is right, the clips a
  paired test between them learns from;
* :func:`breakdown`: difficulty by signer, by sentiment magnitude or by expression set.

Example::

    from emosign.clips import clip_outcomes, clip_table, unsolved
    outcomes = clip_outcomes("sentiment_3", {"mine": "mine.csv", "theirs": "theirs.csv"})
    print(unsolved(outcomes)[["video_name", "reference", "cue_1"]])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from emosign import vocab
from emosign.errors import InputError
from emosign.labels import load_labels
from emosign.predictions import align
from emosign.tasks import get_task

__all__ = ["ClipOutcomes", "BREAKDOWNS", "breakdown", "clip_outcomes", "clip_table",
           "separating", "unsolved"]

#: The groupings :func:`breakdown` knows: a column of :func:`clip_table`.
BREAKDOWNS: tuple[str, ...] = ("signer", "sentiment_magnitude", "expression_set")


@dataclass(frozen=True)
class ClipOutcomes:
    """Who got which clip right on one task.

    ``correct`` has shape (n_clips, n_systems), True where the system's prediction is the
    reference (a missing or unreadable prediction is wrong); rows follow ``video_names``,
    columns ``systems``. ``clips`` holds each row's :class:`emosign.labels.Clip`.
    """

    task: str
    classes: tuple[str, ...]
    video_names: tuple[str, ...]
    systems: tuple[str, ...]
    correct: np.ndarray
    reference: tuple[str, ...]
    clips: tuple

    def __post_init__(self) -> None:
        if self.correct.shape != (len(self.video_names), len(self.systems)):
            raise InputError(f"correct must have shape ({len(self.video_names)}, "
                             f"{len(self.systems)}); got {self.correct.shape}")


def clip_outcomes(
    task: str,
    predictions: Mapping[str, object],
    *,
    labels_file=None,
    on_invalid: str = "wrong",
) -> ClipOutcomes:
    """Line up several systems' predictions on a single-label task.

    Parameters
    ----------
    task : a single-label task (``sentiment_3``, ``sentiment_7``, ``emotion_single``,
        ``emotion_multi``).
    predictions : ``{system name: predictions}``, each anything
        :func:`emosign.predictions.read_predictions` reads (a file path, a dict, a frame).
        At least one system.
    labels_file : the label file, or :class:`emosign.labels.Labels` already read.
    on_invalid : ``"wrong"`` (default) counts a missing or unreadable prediction as wrong;
        ``"raise"`` refuses it.
    """

    spec = get_task(task)
    if spec.kind != "single_label":
        raise InputError(f"clip-level analysis needs a single-label task; {task} is "
                         f"{spec.kind.replace('_', '-')}")
    if not predictions:
        raise InputError("give at least one system's predictions")
    labels = load_labels(labels_file)
    data = spec.bind(labels)
    columns = []
    for name, given in predictions.items():
        try:
            aligned = align(given, data, on_invalid=on_invalid)
        except ValueError as err:
            raise InputError(f"system {name!r}: {err}") from None
        columns.append(aligned.y_pred == data.y_true)
    by_name = {c.video_name: c for c in labels}
    return ClipOutcomes(
        task=spec.name, classes=tuple(data.classes), video_names=tuple(data.video_names),
        systems=tuple(map(str, predictions)), correct=np.stack(columns, axis=1),
        reference=tuple(data.classes[i] for i in data.y_true),
        clips=tuple(by_name[n] for n in data.video_names),
    )


def clip_table(outcomes: ClipOutcomes) -> pd.DataFrame:
    """One row per clip, hardest first (fewest systems right, then file order).

    Columns: ``video_name``, ``signer``, ``reference``, ``n_right`` (systems right),
    ``n_systems``, ``share_right`` (0...1), ``right`` (the systems right, comma-separated),
    ``sentiment`` (-3...3), ``sentiment_magnitude`` (0...3), ``expression_set``,
    ``intensity`` (the annotators' highest emotion intensity on the clip, 0...3),
    ``cue_1`` ... ``cue_3`` (the annotators' cue descriptions).
    """
    n_right = outcomes.correct.sum(axis=1)
    rows = []
    for i, clip in enumerate(outcomes.clips):
        cues = tuple(clip.cues) + ("",) * (len(vocab.CUE_COLUMNS) - len(clip.cues))
        rows.append({
            "video_name": clip.video_name,
            "signer": clip.signer,
            "reference": outcomes.reference[i],
            "n_right": int(n_right[i]),
            "n_systems": len(outcomes.systems),
            "share_right": float(n_right[i] / len(outcomes.systems)),
            "right": ", ".join(s for s, ok in zip(outcomes.systems, outcomes.correct[i]) if ok),
            "sentiment": clip.sentiment,
            "sentiment_magnitude": abs(clip.sentiment),
            "expression_set": clip.expression_set,
            "intensity": max(clip.intensities),
            **{f"cue_{k + 1}": cue for k, cue in enumerate(cues[: len(vocab.CUE_COLUMNS)])},
        })
    table = pd.DataFrame(rows)
    return table.sort_values("n_right", kind="stable").reset_index(drop=True)


def unsolved(outcomes: ClipOutcomes) -> pd.DataFrame:
    """The rows of :func:`clip_table` for the clips no system gets right."""
    table = clip_table(outcomes)
    return table[table["n_right"] == 0].reset_index(drop=True)


def separating(outcomes: ClipOutcomes, a: str, b: str) -> pd.DataFrame:
    """The clips exactly one of systems ``a`` and ``b`` gets right: the rows of
    :func:`clip_table` with a column ``right_only`` naming which."""
    for name in (a, b):
        if name not in outcomes.systems:
            raise InputError(f"no system {name!r}; systems: {list(outcomes.systems)}")
    if a == b:
        raise InputError("give two different systems")
    ia, ib = outcomes.systems.index(a), outcomes.systems.index(b)
    only = outcomes.correct[:, ia] != outcomes.correct[:, ib]
    winner = np.where(outcomes.correct[:, ia], a, b)
    table = clip_table(outcomes)
    order = {name: i for i, name in enumerate(outcomes.video_names)}
    keep = table["video_name"].map(lambda n: bool(only[order[n]]))
    found = table[keep].copy()
    found.insert(3, "right_only", [winner[order[n]] for n in found["video_name"]])
    return found.reset_index(drop=True)


def breakdown(outcomes: ClipOutcomes, by: str) -> pd.DataFrame:
    """Difficulty by a group of clips: ``by`` one of :data:`BREAKDOWNS`.

    Columns: the group, ``clips``, ``mean_share_right`` (the mean over the group's clips of
    the share of systems right), ``unsolved`` (clips no system gets right), and per system
    ``acc:<name>``, its accuracy on the group's clips.
    """
    if by not in BREAKDOWNS:
        raise InputError(f"by must be one of {list(BREAKDOWNS)}; got {by!r}")
    table = clip_table(outcomes)
    order = [outcomes.video_names.index(n) for n in table["video_name"]]
    per_system = pd.DataFrame(outcomes.correct[order].astype(float), columns=list(outcomes.systems))
    joined = pd.concat([table[[by, "share_right", "n_right"]], per_system], axis=1)
    grouped = joined.groupby(by, sort=True)
    result = pd.DataFrame({
        "clips": grouped.size(),
        "mean_share_right": grouped["share_right"].mean(),
        "unsolved": grouped["n_right"].apply(lambda s: int((s == 0).sum())),
    })
    for name in outcomes.systems:
        result[f"acc:{name}"] = grouped[name].mean()
    return result.reset_index()
