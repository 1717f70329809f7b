"""Which clips carry a result: clip-level analysis across the systems of a comparison.

Given several systems' predictions on one single-label task, :func:`clip_outcomes` lines up
who got which clip right; the functions below read that table:

* :func:`clip_table`: each clip's difficulty, with the clip's signer, reference, sentiment
  magnitude, expression set, the annotators' intensity and their three cue descriptions
  (``Reasoning_1`` ... ``_3``) beside it. The cues are what the annotators saw, shown beside
  the clip; they are not an explanation of why systems fail on it. Difficulty is adjusted for
  chance and for the systems' ability: :func:`rasch_fit`, a penalised Rasch (1PL) model of
  who got which clip right, with each clip's chance hit rate (:func:`chance_hit_rate`) as an
  offset, and the raw count of systems right beside it;
* :func:`unsolved`: the clips no system gets right;
* :func:`separating`: the clips on which exactly one of two systems is right, the clips a
  paired test between them learns from;
* :func:`breakdown`: difficulty by signer, by sentiment magnitude or by expression set, a
  group under :data:`MIN_GROUP` clips not broken down (and said so).

Only systems belong here: floors (which never see the clip), references (which read the
annotators' own descriptions) and the paper's rows (no per-clip answers) are left out by the
caller (``emosign report`` does).

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

__all__ = ["BREAKDOWNS", "MIN_GROUP", "ClipOutcomes", "RaschFit", "breakdown", "chance_hit_rate",
           "clip_outcomes", "clip_table", "rasch_fit", "separating", "unsolved"]

#: The groupings :func:`breakdown` knows: a column of :func:`clip_table`.
BREAKDOWNS: tuple[str, ...] = ("signer", "sentiment_magnitude", "expression_set")

#: The fewest clips a group of :func:`breakdown` needs to be broken down: a share over fewer
#: clips says little (one clip moves it by 20 points or more).
MIN_GROUP = 5


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


def chance_hit_rate(outcomes: ClipOutcomes) -> np.ndarray:
    """Each clip's expected hit rate by a chance system: one that answers class k with the
    share of the task's clips in class k (the label prior, the ``prior_random`` floor), so it
    is right on a clip of class k with that share. Shape (n_clips,)."""
    names, counts = np.unique(np.asarray(outcomes.reference), return_counts=True)
    share = dict(zip(names, counts / len(outcomes.reference)))
    return np.array([share[r] for r in outcomes.reference], dtype=float)


@dataclass(frozen=True)
class RaschFit:
    """A penalised Rasch (1PL) fit of who got which clip right.

    With ``y_ij`` = 1 when system j is right on clip i and ``c_i`` the clip's chance hit rate
    (:func:`chance_hit_rate`),

        logit P(y_ij = 1) = logit(c_i) + ability_j - difficulty_i,

    so a clip's ``difficulty`` is how much harder it is than chance would make it for a
    system of ability 0, whatever mix of strong and weak systems was run. The fit maximises
    the log-likelihood minus ``penalty / 2 * sum(difficulty**2)`` and ``ability_penalty / 2
    * sum(ability**2)`` (normal priors of sd ``1/sqrt(penalty)``; they keep clips every
    system solves, or none, finite), by Newton's method. ``difficulty_se`` and
    ``ability_se`` are the square roots of the inverse penalised information's diagonal, the
    posterior standard deviations under the Laplace approximation: with few systems each
    clip's difficulty rests on a handful of 0/1 outcomes, and its se says so.

    References
    ----------
    Rasch, G. (1960). *Probabilistic Models for Some Intelligence and Attainment Tests*.
    Copenhagen: Danish Institute for Educational Research.
    De Boeck, P. and Wilson, M. (2004). *Explanatory Item Response Models*. Springer (the
    Rasch model as a logistic regression with clip and person effects).
    """

    systems: tuple[str, ...]
    video_names: tuple[str, ...]
    ability: np.ndarray
    ability_se: np.ndarray
    difficulty: np.ndarray
    difficulty_se: np.ndarray
    penalty: float
    ability_penalty: float
    iterations: int
    converged: bool


def rasch_fit(correct: np.ndarray, *, chance: np.ndarray | None = None, penalty: float = 1.0,
              ability_penalty: float = 0.1, systems: tuple[str, ...] = (),
              video_names: tuple[str, ...] = (), max_iter: int = 100,
              tol: float = 1e-10) -> RaschFit:
    """Fit :class:`RaschFit` to a (n_clips, n_systems) 0/1 table.

    Parameters
    ----------
    correct : array of shape (n_clips, n_systems)
        1 (True) where the system is right on the clip.
    chance : array of shape (n_clips,), optional
        Each clip's chance hit rate in (0, 1): an offset ``logit(chance_i)``; None fits
        the plain Rasch model (offset 0).
    penalty, ability_penalty : float > 0
        Ridge penalties on the difficulties and the abilities.
    systems, video_names : tuple of str
        Names carried along.
    max_iter, tol
        Newton steps at most, and the stop when the largest step is below ``tol``.
    """
    y = np.asarray(correct, dtype=float)
    if y.ndim != 2 or y.size == 0 or not np.isin(y, (0.0, 1.0)).all():
        raise InputError(f"correct must be an (n_clips, n_systems) table of 0/1; got shape {y.shape}")
    n, m = y.shape
    if chance is None:
        offset = np.zeros(n)
    else:
        c = np.asarray(chance, dtype=float)
        if c.shape != (n,) or not ((c > 0) & (c < 1)).all():
            raise InputError(f"chance must be ({n},) rates strictly between 0 and 1")
        offset = np.log(c / (1 - c))
    if not penalty > 0 or not ability_penalty > 0:
        raise InputError("penalty and ability_penalty must be > 0")
    ability, difficulty = np.zeros(m), np.zeros(n)
    converged, iterations = False, 0
    hessian = np.eye(m + n)
    while iterations < max_iter:
        iterations += 1
        p = _expit(offset[:, None] + ability[None, :] - difficulty[:, None])
        residual = y - p
        w = p * (1 - p)
        gradient = np.concatenate([residual.sum(axis=0) - ability_penalty * ability,
                                   -residual.sum(axis=1) - penalty * difficulty])
        hessian = np.zeros((m + n, m + n))
        hessian[:m, :m] = np.diag(w.sum(axis=0) + ability_penalty)
        hessian[m:, m:] = np.diag(w.sum(axis=1) + penalty)
        hessian[:m, m:] = -w.T
        hessian[m:, :m] = -w
        step = np.linalg.solve(hessian, gradient)
        ability += step[:m]
        difficulty += step[m:]
        if np.abs(step).max() < tol:
            converged = True
            break
    p = _expit(offset[:, None] + ability[None, :] - difficulty[:, None])
    w = p * (1 - p)
    hessian[:m, :m] = np.diag(w.sum(axis=0) + ability_penalty)
    hessian[m:, m:] = np.diag(w.sum(axis=1) + penalty)
    hessian[:m, m:] = -w.T
    hessian[m:, :m] = -w
    se = np.sqrt(np.diag(np.linalg.inv(hessian)))
    return RaschFit(tuple(systems), tuple(video_names), ability, se[:m], difficulty, se[m:],
                    float(penalty), float(ability_penalty), iterations, converged)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def clip_table(outcomes: ClipOutcomes) -> pd.DataFrame:
    """One row per clip, hardest first (highest Rasch difficulty, then fewest systems right,
    then file order).

    Columns: ``video_name``, ``signer``, ``reference``, ``n_right`` (systems right),
    ``n_systems``, ``share_right`` (0...1), ``right`` (the systems right, comma-separated),
    ``chance`` (the clip's expected hit rate by a chance system, :func:`chance_hit_rate`),
    ``difficulty`` and ``difficulty_se`` (:func:`rasch_fit` with the chance offset, in
    logits: 0 is a clip as hard as its chance hit rate and the systems' abilities predict,
    the centre of the fit's prior; higher is harder) with
    ``difficulty_low`` / ``difficulty_high`` (+/- 1.96 se), ``sentiment`` (-3...3),
    ``sentiment_magnitude`` (0...3), ``expression_set``, ``intensity`` (the annotators'
    highest emotion intensity on the clip, 0...3), ``cue_1`` ... ``cue_3`` (the annotators'
    cue descriptions, shown beside the clip: what they saw, not why systems fail).
    """
    n_right = outcomes.correct.sum(axis=1)
    chance = chance_hit_rate(outcomes)
    fit = rasch_fit(outcomes.correct, chance=np.clip(chance, 1e-6, 1 - 1e-6),
                    systems=outcomes.systems, video_names=outcomes.video_names)
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
            "chance": float(chance[i]),
            "difficulty": float(fit.difficulty[i]),
            "difficulty_se": float(fit.difficulty_se[i]),
            "difficulty_low": float(fit.difficulty[i] - 1.96 * fit.difficulty_se[i]),
            "difficulty_high": float(fit.difficulty[i] + 1.96 * fit.difficulty_se[i]),
            "sentiment": clip.sentiment,
            "sentiment_magnitude": abs(clip.sentiment),
            "expression_set": clip.expression_set,
            "intensity": max(clip.intensities),
            **{f"cue_{k + 1}": cue for k, cue in enumerate(cues[: len(vocab.CUE_COLUMNS)])},
        })
    table = pd.DataFrame(rows)
    table["_order"] = np.arange(len(table))
    table["_rounded"] = -table["difficulty"].round(9)
    table = table.sort_values(["_rounded", "n_right", "_order"], kind="stable")
    return table.drop(columns=["_order", "_rounded"]).reset_index(drop=True)


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


def breakdown(outcomes: ClipOutcomes, by: str, *, min_clips: int = MIN_GROUP) -> pd.DataFrame:
    """Difficulty by a group of clips: ``by`` one of :data:`BREAKDOWNS`.

    Columns: the group, ``clips``, ``broken_down`` (False for a group of fewer than
    ``min_clips`` clips, whose other columns are then NaN: too few clips to say anything),
    ``mean_share_right`` (the mean over the group's clips of the share of systems right),
    ``mean_difficulty`` (of the Rasch difficulties, :func:`clip_table`), ``unsolved`` (clips
    no system gets right), and per system ``acc:<name>``, its accuracy on the group's clips.
    """
    if by not in BREAKDOWNS:
        raise InputError(f"by must be one of {list(BREAKDOWNS)}; got {by!r}")
    if isinstance(min_clips, bool) or not isinstance(min_clips, int) or min_clips < 1:
        raise InputError(f"min_clips must be a whole number >= 1; got {min_clips!r}")
    table = clip_table(outcomes)
    order = [outcomes.video_names.index(n) for n in table["video_name"]]
    per_system = pd.DataFrame(outcomes.correct[order].astype(float), columns=list(outcomes.systems))
    joined = pd.concat([table[[by, "share_right", "n_right", "difficulty"]], per_system], axis=1)
    grouped = joined.groupby(by, sort=True)
    result = pd.DataFrame({
        "clips": grouped.size(),
        "mean_share_right": grouped["share_right"].mean(),
        "mean_difficulty": grouped["difficulty"].mean(),
        "unsolved": grouped["n_right"].apply(lambda s: float((s == 0).sum())),
    })
    for name in outcomes.systems:
        result[f"acc:{name}"] = grouped[name].mean()
    small = result["clips"] < min_clips
    result.insert(1, "broken_down", ~small)
    result.loc[small, [c for c in result.columns if c not in ("clips", "broken_down")]] = np.nan
    return result.reset_index()
