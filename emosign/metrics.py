"""Scoring EmoSign predictions: the paper's numbers, the field's numbers, and their uncertainty.

Every metric here is a function of aligned arrays and optional per-clip ``sample_weight``
(scikit-learn's semantics), of shape (n,) or (B, n). A bootstrap resample is a row of
multinomial counts, and a metric with those counts as weights equals the metric on the
resampled clips, so 10,000 resamples are one batched call instead of 10,000 loops.
:func:`evaluate` joins a predictions file to a task and adds intervals and breakdowns.

Names, once (the paper prints "wAcc" and "wF1" without defining them; Table 4 shows that
its "wAcc" is the plain mean of the per-class accuracy columns):

=====================  ======================================================  =============================================
key                    definition                                              also called
=====================  ======================================================  =============================================
``accuracy``           fraction of clips whose class is right                  WAR (facial-expression work); Acc-7 / Acc-3
``balanced_accuracy``  mean over classes with support of recall_k              the EmoSign paper's **wAcc**; UAR
``weighted_f1``        sum_k support_k * F1_k / n                              the EmoSign paper's **wF1**
``macro_f1``           mean over *all* of the task's classes of F1_k           (a class nobody predicted counts as F1 = 0)
=====================  ======================================================  =============================================

with recall_k = TP_k / support_k, precision_k = TP_k / predicted_k and
F1_k = 2 TP_k / (support_k + predicted_k), 0 where a denominator is 0 (scikit-learn's
``zero_division=0``). CMU-MOSEI's "weighted accuracy" is binary balanced accuracy, not wAcc.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from emosign.errors import InputError
from emosign.records import stamp

# Each headline metric's definition and its other names, written into evaluate()'s output.
METRIC_DEFINITIONS: dict[str, dict[str, str]] = {
    "accuracy": {
        "definition": "fraction of clips whose predicted class is the reference class",
        "aliases": "Acc; WAR (weighted average recall) in facial-expression work; Acc-7 on sentiment_7",
    },
    "balanced_accuracy": {
        "definition": "unweighted mean of per-class recall over the classes present in the reference",
        "aliases": "the EmoSign paper's wAcc; UAR (unweighted average recall); "
        "sklearn.metrics.balanced_accuracy_score",
    },
    "weighted_f1": {
        "definition": "per-class F1 averaged with the classes' supports as weights",
        "aliases": "the EmoSign paper's wF1; f1_score(average='weighted')",
    },
    "macro_f1": {
        "definition": "unweighted mean of per-class F1 over all of the task's classes",
        "aliases": "f1_score(average='macro', labels=<all classes>, zero_division=0)",
    },
    "mae": {
        "definition": "mean absolute difference between predicted and reference sentiment, in scale steps",
        "aliases": "MAE (CMU-MOSI/MOSEI, MMSA)",
    },
    "pearson": {"definition": "Pearson correlation of predicted and reference sentiment", "aliases": "Corr"},
    "spearman": {
        "definition": "Spearman rank correlation (Pearson of mid-ranks) of predicted and reference",
        "aliases": "rho",
    },
    "qwk": {
        "definition": "Cohen's kappa with quadratic weights on the 7 classes of the clipped, "
        "rounded prediction",
        "aliases": "quadratic-weighted kappa; cohen_kappa_score(weights='quadratic')",
    },
    "acc_7": {
        "definition": "accuracy after clipping the prediction to [-3, 3] and rounding half to even",
        "aliases": "Acc-7 (MMSA)",
    },
    "acc_2_has0": {
        "definition": "accuracy of negative (< 0) vs non-negative (>= 0), all clips",
        "aliases": "Acc-2 'has0' / 'negative vs non-negative' (MMSA)",
    },
    "f1_2_has0": {
        "definition": "support-weighted F1 of negative vs non-negative, all clips",
        "aliases": "F1 'has0' (MMSA: f1_score(y_true, y_pred, average='weighted'))",
    },
    "acc_2_non0": {
        "definition": "accuracy of positive (> 0) vs negative, clips with reference 0 dropped; "
        "a prediction of 0 counts as negative",
        "aliases": "Acc-2 'non0' / 'negative vs positive' (MMSA)",
    },
    "f1_2_non0": {
        "definition": "support-weighted F1 of positive vs negative, reference-0 clips dropped",
        "aliases": "F1 'non0' (MMSA)",
    },
    "micro_f1": {
        "definition": "F1 of all (clip, emotion) presence decisions pooled",
        "aliases": "f1_score(average='micro') on the 200 x 10 indicator matrix",
    },
    "cross_entropy": {
        "definition": "mean over clips of -sum_k t_k ln(max(p_k, 1e-12)), in nats",
        "aliases": "CE (Le-Wi-Di); soft cross-entropy",
    },
    "jensen_shannon": {
        "definition": "mean over clips of the Jensen-Shannon divergence, base-2 logs, in [0, 1]",
        "aliases": "JSD",
    },
    "manhattan": {
        "definition": "mean over clips of sum_k |t_k - p_k|, in [0, 2]",
        "aliases": "L1 / Manhattan distance (Le-Wi-Di 2025)",
    },
    "wasserstein": {
        "definition": "mean over clips of the 1-D earth mover's distance, in scale steps",
        "aliases": "EMD; Wasserstein-1 (Le-Wi-Di 2025, ordinal tasks)",
    },
    "cue_f1": {
        "definition": "F1 of the cue categories an explanation names against those at least one "
        "of the other annotators named, counts pooled over clips",
        "aliases": "cue grounding F1 (this project; see docs/cues.md)",
    },
    "cue_precision": {"definition": "pooled share of named cue categories the annotators named", "aliases": ""},
    "cue_recall": {"definition": "pooled share of the annotators' cue categories named", "aliases": ""},
    "cue_f1_strict": {
        "definition": "cue F1 against the categories both of the other two annotators named",
        "aliases": "",
    },
    "cues_named": {"definition": "mean number of cue categories an explanation names", "aliases": ""},
    "rouge_l": {
        "definition": "ROUGE-L F-measure against the closer of the other annotators' descriptions",
        "aliases": "ROUGE-L (Lin 2004)",
    },
    "hamming_loss": {
        "definition": "fraction of (clip, emotion) presence decisions that are wrong",
        "aliases": "sklearn.metrics.hamming_loss",
    },
    "subset_accuracy": {
        "definition": "fraction of clips whose whole set of present emotions is right",
        "aliases": "exact match ratio",
    },
}

#: How tables name a metric: the paper's short names where it has them.
SHORT_NAMES: dict[str, str] = {
    "balanced_accuracy": "wAcc",
    "weighted_f1": "wF1",
    "accuracy": "acc",
    "micro_f1": "microF1",
    "macro_f1": "macroF1",
    "mae": "MAE",
    "pearson": "r",
    "spearman": "rho",
    "qwk": "QWK",
    "cue_f1": "cueF1",
    "rouge_l": "ROUGE-L",
}
#: Metrics in the scale's units or correlations; every other metric is a fraction, printed
#: as a percentage.
NOT_PERCENT = frozenset({"mae", "pearson", "spearman", "qwk", "cross_entropy",
                         "jensen_shannon", "manhattan", "wasserstein", "cues_named"})
#: The few metrics a leaderboard shows for each kind of task; the first one ranks systems.
LEADERBOARD_METRICS: dict[str, tuple[str, ...]] = {
    "single_label": ("balanced_accuracy", "weighted_f1", "accuracy"),
    "multi_label": ("micro_f1", "macro_f1"),
    "intensity": ("mae", "spearman"),
    "explanation": ("cue_f1", "rouge_l"),
}
#: Errors and distances: smaller is better; for every other metric larger is better.
LOWER_IS_BETTER = frozenset({"mae", "hamming_loss", "cross_entropy", "jensen_shannon",
                             "manhattan", "wasserstein"})


def format_metric(value: float | None, metric: str, interval: Sequence[float] | None = None) -> str:
    """A metric as the paper prints it, for tables: a fraction in percent with 2 decimals
    ("34.68", its interval with 1: "[30.1, 39.0]"), a metric in ``NOT_PERCENT`` with 3
    decimals; "-" for None."""
    if value is None:
        return "-"
    if metric in NOT_PERCENT:
        text = f"{value:.3f}"
        return text + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")
    text = f"{100 * value:.2f}"
    return text + (f" [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]" if interval else "")


# --- weights -------------------------------------------------------------------------------


def _weights(sample_weight: np.ndarray | None, n: int) -> tuple[np.ndarray, bool]:
    """Weights as a float (B, n) array, and whether the caller gave one row (or none)."""
    if sample_weight is None:
        return np.ones((1, n)), True
    w = np.asarray(sample_weight, dtype=float)
    if w.ndim == 1:
        w, single = w[None, :], True
    else:
        single = False
    if w.ndim != 2 or w.shape[1] != n:
        raise InputError(f"sample_weight must have shape (n,) or (B, n) with n={n}, got {w.shape}")
    return w, single


def _out(values: dict[str, np.ndarray], single: bool) -> dict[str, np.ndarray | float]:
    return {k: (float(v[0]) if single else v) for k, v in values.items()}


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)


# --- single-label classification -----------------------------------------------------------


def confusion_matrices(
    y_true: np.ndarray, y_pred: np.ndarray, *, n_classes: int, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """Weighted confusion counts.

    Parameters
    ----------
    y_true : (n,) int class indices in [0, n_classes).
    y_pred : (n,) int class indices, or -1 for a missing or unreadable prediction.
    sample_weight : None, (n,) or (B, n) non-negative weights.

    Returns
    -------
    (K, K + 1) or (B, K, K + 1) array; ``C[..., i, j]`` is the weight of clips of class i
    predicted as j, and the last column holds clips with no valid prediction (always wrong).
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    k = n_classes
    w, single = _weights(sample_weight, len(y_true))
    cell = y_true * (k + 1) + np.where(y_pred < 0, k, y_pred)
    # A (B, n) @ (n, cells) product: all resamples in one BLAS call.
    one_hot = np.zeros((len(y_true), k * (k + 1)))
    one_hot[np.arange(len(y_true)), cell] = 1.0
    counts = (w @ one_hot).reshape(-1, k, k + 1)
    return counts[0] if single else counts


def per_class_metrics(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support of each class from :func:`confusion_matrices`.

    Returns arrays of shape (..., K).
    """
    k = confusion.shape[-2]
    tp = np.diagonal(confusion[..., :k], axis1=-2, axis2=-1)
    support = confusion.sum(axis=-1)
    predicted = confusion[..., :k].sum(axis=-2)
    return {
        "precision": _divide(tp, predicted),
        "recall": _divide(tp, support),
        "f1": _divide(2 * tp, support + predicted),
        "support": support,
    }


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, *, n_classes: int, sample_weight: np.ndarray | None = None
) -> dict[str, np.ndarray | float]:
    """Accuracy, balanced accuracy (wAcc), weighted F1 (wF1) and macro F1 over all classes.

    See the module docstring for the formulas. Shapes as in :func:`confusion_matrices`;
    each value is a float for unbatched weights, else a (B,) array.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    k = n_classes
    w, single = _weights(sample_weight, len(y_true))
    # Per class: hits, support and predictions, the three numbers these metrics need from
    # the confusion matrix, as one (B, n) @ (n, 3K) product (integer weights: exact sums).
    classes = np.arange(k)
    truth, guess = y_true[:, None] == classes, y_pred[:, None] == classes
    counts = w @ np.concatenate([truth & guess, truth, guess], axis=1).astype(float)
    tp, support, predicted = counts[:, :k], counts[:, k:2 * k], counts[:, 2 * k:]
    recall = _divide(tp, support)
    f1 = _divide(2 * tp, support + predicted)
    has_support = support > 0
    return _out(
        {
            "accuracy": _divide(tp.sum(-1), w.sum(axis=1)),
            "balanced_accuracy": _divide((recall * has_support).sum(-1), has_support.sum(-1).astype(float)),
            "weighted_f1": _divide((f1 * support).sum(-1), support.sum(-1)),
            "macro_f1": f1.mean(-1),
        },
        single,
    )


# --- sentiment as an ordinal scale ---------------------------------------------------------


def _sum_by_group(w: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """(B, n) weights summed over the clips of each group: (B, n_groups), 0 for an empty group.

    ``w @ one_hot(group)``; with many groups, without the (n, n_groups) one-hot matrix, which
    is quadratic in the clips when most values are distinct (20,000 regression outputs:
    3.2 GB). Integer weights sum exactly either way.
    """
    if n_groups <= 64:
        # Few groups (ratings on a scale): one BLAS product is fastest, and small.
        one_hot = np.zeros((len(group), n_groups))
        one_hot[np.arange(len(group)), group] = 1.0
        return w @ one_hot
    order = np.argsort(group, kind="stable")
    sorted_groups = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    out = np.zeros((w.shape[0], n_groups))
    out[:, sorted_groups[starts]] = np.add.reduceat(w[:, order], starts, axis=1)
    return out


def _weighted_midranks(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Mid-ranks of x within each weighted resample: the ranks scipy gives the resampled data.

    x: (n,); w: (B, n). Returns (B, n): for clip i, the weight of clips below x_i plus half
    (the weight of clips tied with x_i, plus one).
    """
    values, group = np.unique(x, return_inverse=True)
    per_value = _sum_by_group(w, group, len(values))  # (B, U)
    below = np.cumsum(per_value, axis=1) - per_value
    return (below + (per_value + 1) / 2)[:, group]


def _weighted_spearman(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Spearman correlation per row of weights: Pearson of the mid-ranks of the resampled data.

    x, y: (n,); w: (B, n). When x and y take few distinct values (ratings on a scale), a
    resample is summed up by its (B, U_x, U_y) table of weighted counts of each pair of
    values, and the ranks, means and sums of squares come from the table, not from (B, n)
    rank arrays; the same numbers up to the order of a sum. Otherwise (regression outputs)
    ranks are computed per clip. NaN where either side is constant in a resample.
    """
    x_values, x_group = np.unique(x, return_inverse=True)
    y_values, y_group = np.unique(y, return_inverse=True)
    nx, ny = len(x_values), len(y_values)
    if nx * ny > len(x):
        return _weighted_pearson(_weighted_midranks(x, w), _weighted_midranks(y, w), w)
    table = _sum_by_group(w, x_group * ny + y_group, nx * ny).reshape(-1, nx, ny)
    count_x, count_y = table.sum(axis=2), table.sum(axis=1)
    total = count_x.sum(axis=1)
    # Mid-rank of a value: the weight below it plus half (its own weight plus one).
    rank_x = np.cumsum(count_x, axis=1) - count_x + (count_x + 1) / 2
    rank_y = np.cumsum(count_y, axis=1) - count_y + (count_y + 1) / 2
    dx = rank_x - ((count_x * rank_x).sum(axis=1) / total)[:, None]
    dy = rank_y - ((count_y * rank_y).sum(axis=1) / total)[:, None]
    cov = np.einsum("bi,bij,bj->b", dx, table, dy)
    var = np.sqrt((count_x * dx * dx).sum(axis=1) * (count_y * dy * dy).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        # The tolerance of _weighted_pearson, so both paths call the same resamples constant.
        return np.where(var > 1e-12 * (1 + np.abs(cov)), cov / var, np.nan)


def _weighted_pearson(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pearson correlation per row of weights; x, y are (n,) or (B, n). NaN if either is constant."""
    total = w.sum(axis=1)
    mx = (w * x).sum(axis=1) / total
    my = (w * y).sum(axis=1) / total
    dx = x - mx[:, None]
    dy = y - my[:, None]
    cov = (w * dx * dy).sum(axis=1)
    var = np.sqrt((w * dx * dx).sum(axis=1) * (w * dy * dy).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Relative tolerance: a constant input has a variance of rounding noise, not 0.
        return np.where(var > 1e-12 * (1 + np.abs(cov)), cov / var, np.nan)


def round_sentiment(values: np.ndarray) -> np.ndarray:
    """Clip to [-3, 3] and round half to even (numpy's rule, as the MMSA toolkit does)."""
    return np.round(np.clip(np.asarray(values, dtype=float), -3, 3)).astype(int)


def _binary_scores(truth: np.ndarray, pred: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and support-weighted F1 of a two-class problem, per row of weights."""
    m = classification_metrics(truth.astype(int), pred.astype(int), n_classes=2, sample_weight=w)
    return m["accuracy"], m["weighted_f1"]


def sentiment_metrics(
    y_true: np.ndarray, y_value: np.ndarray, *, sample_weight: np.ndarray | None = None
) -> dict[str, np.ndarray | float]:
    """The multimodal-sentiment metrics (CMU-MOSI/MOSEI, MMSA) of a -3...3 rating.

    Parameters
    ----------
    y_true : (n,) reference ratings, integers in -3...3.
    y_value : (n,) predicted ratings, real numbers (regression outputs are fine).
    sample_weight : None, (n,) or (B, n).

    Returns
    -------
    ``mae``, ``pearson``, ``spearman``, ``qwk``, ``acc_7``, ``acc_2_has0``, ``f1_2_has0``,
    ``acc_2_non0``, ``f1_2_non0``; see ``METRIC_DEFINITIONS`` for each.
    """
    t = np.asarray(y_true, dtype=float)
    v = np.asarray(y_value, dtype=float)
    w, single = _weights(sample_weight, len(t))
    total = w.sum(axis=1)
    rounded = round_sentiment(v)
    c = confusion_matrices(t.astype(int) + 3, rounded + 3, n_classes=7, sample_weight=w)[..., :7]
    nonzero = t != 0
    acc_has0, f1_has0 = _binary_scores(t >= 0, v >= 0, w)
    acc_non0, f1_non0 = _binary_scores(t > 0, v > 0, w * nonzero)
    return _out(
        {
            "mae": (w * np.abs(v - t)).sum(axis=1) / total,
            "pearson": _weighted_pearson(t, v, w),
            "spearman": _weighted_spearman(t, v, w),
            "qwk": _quadratic_kappa(c),
            "acc_7": (w * (rounded == t)).sum(axis=1) / total,
            "acc_2_has0": acc_has0,
            "f1_2_has0": f1_has0,
            "acc_2_non0": acc_non0,
            "f1_2_non0": f1_non0,
        },
        single,
    )


def _quadratic_kappa(confusion: np.ndarray) -> np.ndarray:
    """Cohen's kappa with quadratic weights from (B, K, K) confusion counts."""
    k = confusion.shape[-1]
    i, j = np.indices((k, k))
    penalty = (i - j) ** 2 / (k - 1) ** 2
    total = confusion.sum(axis=(-2, -1))
    expected = confusion.sum(-1)[..., :, None] * confusion.sum(-2)[..., None, :] / total[:, None, None]
    observed_cost = (penalty * confusion).sum(axis=(-2, -1))
    expected_cost = (penalty * expected).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected_cost > 0, 1 - observed_cost / expected_cost, np.nan)


# --- multi-label presence and intensities --------------------------------------------------


def multilabel_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, *, sample_weight: np.ndarray | None = None
) -> dict[str, np.ndarray | float]:
    """Micro and macro F1, Hamming loss and subset accuracy of presence decisions.

    y_true, y_pred: (n, K) bool. Macro F1 averages all K emotions (F1 = 0 for an emotion
    neither present nor predicted, scikit-learn's zero_division=0).
    """
    t = np.asarray(y_true, dtype=bool)
    p = np.asarray(y_pred, dtype=bool)
    w, single = _weights(sample_weight, len(t))
    tp = w @ (t & p)
    fp = w @ (~t & p)
    fn = w @ (t & ~p)
    total = w.sum(axis=1)
    return _out(
        {
            "micro_f1": _divide(2 * tp.sum(1), 2 * tp.sum(1) + fp.sum(1) + fn.sum(1)),
            "macro_f1": _divide(2 * tp, 2 * tp + fp + fn).mean(1),
            "hamming_loss": (w @ (t != p).mean(axis=1)) / total,
            "subset_accuracy": (w @ (t == p).all(axis=1)) / total,
        },
        single,
    )


def average_precision(
    y_true: np.ndarray, scores: np.ndarray, *, sample_weight: np.ndarray | None = None
) -> np.ndarray | float:
    """Average precision of one binary label ranked by ``scores``, as scikit-learn defines it.

    AP = sum over thresholds of (R_t - R_{t-1}) * P_t, thresholds at the distinct scores
    (ties form one step). y_true: (n,) bool; scores: (n,) real. NaN with no positives.
    """
    t = np.asarray(y_true, dtype=bool)
    s = np.asarray(scores, dtype=float)
    w, single = _weights(sample_weight, len(t))
    # Groups of equal scores, highest first.
    values, group = np.unique(-s, return_inverse=True)
    tps = np.cumsum(_sum_by_group(w * t, group, len(values)), axis=1)
    fps = np.cumsum(_sum_by_group(w * ~t, group, len(values)), axis=1)
    positives = tps[:, -1:]
    precision = _divide(tps, tps + fps)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = tps / positives
    steps = np.diff(np.concatenate([np.zeros((len(w), 1)), recall], axis=1), axis=1)
    ap = np.where(positives[:, 0] > 0, (steps * precision).sum(axis=1), np.nan)
    return float(ap[0]) if single else ap


def intensity_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, *, sample_weight: np.ndarray | None = None
) -> dict[str, np.ndarray | float]:
    """Per-emotion MAE and Spearman correlation of intensities, and their means.

    y_true: (n, K) ints 0...3; y_pred: (n, K) reals. Returns ``mae`` and ``spearman``
    (means over emotions; Spearman's mean skips emotions where it is undefined) and
    ``mae_per_class`` / ``spearman_per_class`` of shape (K,) or (B, K).
    """
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    w, single = _weights(sample_weight, len(t))
    mae = (w @ np.abs(p - t)) / w.sum(axis=1, keepdims=True)
    rho = np.stack([_weighted_spearman(t[:, j], p[:, j], w) for j in range(t.shape[1])], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an emotion constant in a resample
        mean_rho = np.nanmean(rho, axis=1)
    out = {"mae": mae.mean(axis=1), "spearman": mean_rho}
    if single:
        return {**_out(out, True), "mae_per_class": mae[0], "spearman_per_class": rho[0]}
    return {**out, "mae_per_class": mae, "spearman_per_class": rho}


# --- soft targets --------------------------------------------------------------------------

#: Predicted probabilities are clipped to [SOFT_EPSILON, 1] before the logarithm of the
#: cross-entropy, so a confident wrong answer costs -ln(1e-12) = 27.6 nats, not infinity.
SOFT_EPSILON = 1e-12


def distribution_metrics(
    target: np.ndarray,
    predicted: np.ndarray,
    *,
    ordinal: bool = False,
    sample_weight: np.ndarray | None = None,
) -> dict[str, np.ndarray | float]:
    """Distances between target and predicted distributions, averaged over clips.

    The measures of the learning-with-disagreement (Le-Wi-Di) shared tasks.

    Parameters
    ----------
    target, predicted : (n, K) rows summing to 1.
    ordinal : also report ``wasserstein``, for classes on an evenly spaced scale.

    Returns
    -------
    ``cross_entropy``: -sum_k t_k ln(max(p_k, 1e-12)), in nats;
    ``jensen_shannon``: JS divergence with base-2 logarithms, in [0, 1];
    ``manhattan``: sum_k |t_k - p_k|, in [0, 2];
    ``wasserstein`` (ordinal only): 1-D earth mover's distance in scale steps,
    sum_k |T_k - P_k| over the cumulative distributions T and P.
    """
    t = np.asarray(target, dtype=float)
    p = np.asarray(predicted, dtype=float)
    w, single = _weights(sample_weight, len(t))
    per_clip = {
        "cross_entropy": -(t * np.log(np.clip(p, SOFT_EPSILON, 1))).sum(axis=1),
        "jensen_shannon": _jensen_shannon(t, p),
        "manhattan": np.abs(t - p).sum(axis=1),
    }
    if ordinal:
        per_clip["wasserstein"] = np.abs(np.cumsum(t, axis=1) - np.cumsum(p, axis=1)).sum(axis=1)
    total = w.sum(axis=1)
    return _out({k: (w @ v) / total for k, v in per_clip.items()}, single)


def _jensen_shannon(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    m = (t + p) / 2

    def kl(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log2(a / np.where(b > 0, b, 1)), 0.0).sum(axis=1)

    return (kl(t, m) + kl(p, m)) / 2


# --- evaluate: a predictions file against a task -------------------------------------------

#: The headline metrics of each kind of task, in the order they are reported.
HEADLINE = {
    "single_label": ("accuracy", "balanced_accuracy", "weighted_f1", "macro_f1"),
    "ordinal": ("mae", "pearson", "spearman", "qwk", "acc_7", "acc_2_has0", "f1_2_has0",
                "acc_2_non0", "f1_2_non0"),
    "multi_label": ("micro_f1", "macro_f1", "hamming_loss", "subset_accuracy"),
    "intensity": ("mae", "spearman"),
    "soft": ("cross_entropy", "jensen_shannon", "manhattan"),
}
TARGETS = ("majority", "soft")


def evaluate(
    task: str,
    predictions,
    *,
    labels_file=None,
    target: str = "majority",
    ci: float = 0.95,
    n_boot: int = 10_000,
    seed: int = 0,
    on_invalid: str = "raise",
    annotator_ratings=None,
    clips=None,
    metrics: Sequence[str] | None = None,
) -> dict:
    """Score predictions on one EmoSign task.

    Parameters
    ----------
    task : one of ``vocab.TASK_NAMES``.
    predictions : a CSV/TSV/JSONL/JSON path, a dict ``{video_name: prediction}``, a pandas
        DataFrame or a list of records with ``video_name`` and ``prediction`` (or one column
        per emotion for ``emotion_presence`` / ``emotion_intensity``); see
        :func:`emosign.predictions.read_predictions`.
    labels_file : the label file (default ``$EMOSIGN_LABELS``, else the pinned Hub file), or
        :class:`emosign.labels.Labels` already read.
    target : ``"majority"``, the released majority labels, or ``"soft"``, a distribution per
        clip (see :mod:`emosign.annotators`): for ``sentiment_7`` and ``sentiment_3`` the
        annotators' ratings (``annotator_ratings`` is then required), for ``emotion_single``
        the released intensities normalised. The predicted distribution is the
        ``score_<class>`` columns (probabilities), or one-hot of the predicted class without
        them (uniform for a missing prediction).
    ci : coverage of the percentile bootstrap intervals, in (0, 1).
    n_boot : bootstrap resamples (seeded by ``seed``), drawn once and shared by all metrics.
    on_invalid : ``"raise"`` refuses missing or unreadable predictions, listing every row;
        ``"wrong"`` scores them as wrong and reports how many.
    annotator_ratings : a per-annotator ratings CSV, for ``target="soft"`` on sentiment.
    clips : score only these clips of the task (e.g. those with a video); predictions for
        the task's other clips are then set aside like those outside the task, and the
        result's ``restricted_to`` says how many of the task's clips were kept.
    metrics : compute and report only these of the task's headline metrics (their values,
        intervals and per-signer values), in the task's order; default all. The numbers are
        those of the full run: each metric is computed on its own.

    Returns
    -------
    A JSON-ready dict: ``task``, ``n``, ``target``, ``labels`` (file and sha256),
    ``predictions`` (counts), ``metrics`` (fractions in 0...1, or the scale's units for MAE),
    ``ci``, ``per_class``, ``per_signer``, ``definitions`` and, for single-label tasks,
    ``confusion_matrix`` and ``agreement`` (model-vs-reference Krippendorff's alpha).
    Undefined values (a correlation of a constant) are None.
    """
    from emosign.labels import load_labels
    from emosign.predictions import align, read_predictions
    from emosign.tasks import get_task

    spec = get_task(task)
    if target not in TARGETS:
        raise InputError(f"unknown target {target!r}; choose one of {list(TARGETS)}")
    if on_invalid not in ("raise", "wrong"):
        raise InputError(f"on_invalid must be 'raise' or 'wrong', not {on_invalid!r}")
    labels = load_labels(labels_file)
    data = spec.bind(labels)
    task_size = data.n
    if clips is not None:
        data = data.restrict(clips)
    soft = None
    if target == "soft":
        soft = _soft_target(spec, data, labels, annotator_ratings)
    table = read_predictions(predictions)
    aligned = align(table, data, on_invalid=on_invalid, scores_must_be_probabilities=soft is not None)

    extra = {}
    if spec.kind == "explanation":
        statistic, names, extra = _grounding(data, labels, aligned)
    elif soft is None:
        statistic, names = _statistic(spec, data, aligned, wanted=metrics)
    else:
        statistic, names = _soft_statistic(spec, data, aligned, soft[0])
    if metrics is not None:
        if isinstance(metrics, str) or not metrics:
            raise InputError(f"metrics must be a non-empty list of metric names, not {metrics!r}")
        unknown = [m for m in metrics if m not in names]
        if unknown:
            raise InputError(f"metrics {unknown} are not reported on {spec.name}; choose from {names}")
        kept = [m for m in names if m in metrics]
        statistic, names = _select(statistic, names, kept), kept
    point = dict(zip(names, _row(statistic(np.ones((1, data.n))))))
    intervals = _intervals(statistic, data.n, ci=ci, n_boot=n_boot, seed=seed)
    signers = np.array(data.signers)
    per_signer = {
        s: {"n": int((signers == s).sum()),
            **dict(zip(names, _row(statistic((signers == s)[None, :].astype(float)))))}
        for s in dict.fromkeys(data.signers)
    }
    result = {
        "task": spec.name,
        "description": spec.description,
        "n": data.n,
        **({"restricted_to": f"{data.n} of the task's {task_size} clips"} if clips is not None else {}),
        "target": target,
        **({"soft_target": soft[1]} if soft else {}),
        "labels": {
            "origin": data.labels_source.origin,
            "path": data.labels_source.path,
            "sha256": data.labels_source.sha256,
        },
        "predictions": {
            "source": table.source,
            "given": aligned.n_given,
            "scored": data.n,
            "outside_task": aligned.n_outside_task,
            "missing": list(aligned.missing),
            "unparseable": list(aligned.unparseable),
        },
        "metrics": point,
        "ci": {
            "level": ci,
            "method": "percentile bootstrap over clips",
            "n_boot": n_boot,
            "seed": seed,
            "intervals": {name: [iv.low, iv.high] for name, iv in zip(names, intervals)},
        },
        "per_class": {} if soft or spec.kind == "explanation" else _per_class(spec, data, aligned),
        **extra,
        "per_signer": per_signer,
        "definitions": {name: METRIC_DEFINITIONS[name] for name in names if name in METRIC_DEFINITIONS},
    }
    if spec.kind == "single_label" and not soft:
        result["agreement"] = _agreement(spec, data, aligned)
        confusion = confusion_matrices(data.y_true, aligned.y_pred, n_classes=len(data.classes))
        result["confusion_matrix"] = {
            "rows": "reference",
            "columns": list(data.classes) + ["(no prediction)"],
            "labels": list(data.classes),
            "matrix": confusion.astype(int).tolist(),
        }
    return stamp("evaluate", _json_ready(result))


def compare(
    task: str,
    predictions_a,
    predictions_b,
    *,
    labels_file=None,
    ci: float = 0.95,
    n_boot: int = 10_000,
    seed: int = 0,
    on_invalid: str = "raise",
) -> dict:
    """Paired bootstrap comparison of two systems on the same clips of one task.

    Both systems are scored on the same resamples, so clip difficulty cancels out of the
    difference. For each headline metric: ``difference`` (a - b), its percentile interval
    and the two-sided p-value of :func:`emosign.stats.paired_bootstrap`.
    """
    from emosign.labels import load_labels
    from emosign.predictions import align
    from emosign.stats import paired_bootstrap
    from emosign.tasks import get_task

    spec = get_task(task)
    labels = load_labels(labels_file)
    data = spec.bind(labels)
    if spec.kind == "explanation":  # scored by the cue-grounding scores, not a metric table
        stat_a, names = _grounding_statistic(data, labels, align(predictions_a, data, on_invalid=on_invalid))
        stat_b, names_b = _grounding_statistic(data, labels, align(predictions_b, data, on_invalid=on_invalid))
    else:
        stat_a, names = _statistic(spec, data, align(predictions_a, data, on_invalid=on_invalid))
        stat_b, names_b = _statistic(spec, data, align(predictions_b, data, on_invalid=on_invalid))
    shared = [n for n in names if n in names_b]  # ordinal metrics need values from both
    tests = paired_bootstrap(
        _select(stat_a, names, shared), _select(stat_b, names_b, shared), data.n,
        n_boot=n_boot, ci=ci, seed=seed,
    )
    return stamp("compare", _json_ready({
        "task": spec.name,
        "n": data.n,
        "ci": {"level": ci, "n_boot": n_boot, "seed": seed, "method": "paired percentile bootstrap"},
        "comparison": {
            name: {"difference": t.difference, "low": t.low, "high": t.high, "p_value": t.p_value}
            for name, t in zip(shared, tests)
        },
    }))


def _select(statistic, names: list[str], keep: list[str]):
    """The columns ``keep`` of a statistic whose columns are ``names``."""
    columns = [names.index(n) for n in keep]
    return lambda w: statistic(w)[:, columns]


def _statistic(spec, data, aligned, *, wanted: Sequence[str] | None = None):
    """The task's metrics as one weighted statistic: (B, n) weights -> (B, m) values.

    ``wanted``: the caller keeps only these; the ordinal metrics of a single-label task are
    then computed only if one of them is wanted.
    """
    if spec.kind == "single_label":
        names = list(HEADLINE["single_label"])
        has_values = spec.ordinal and aligned.values is not None and not np.isnan(aligned.values).any()
        if wanted is not None and not set(wanted) & set(HEADLINE["ordinal"]):
            has_values = False
        if has_values:
            names += list(HEADLINE["ordinal"])
        k = len(data.classes)

        def statistic(w):
            m = classification_metrics(data.y_true, aligned.y_pred, n_classes=k, sample_weight=w)
            columns = [m[name] for name in HEADLINE["single_label"]]
            if has_values:
                s = sentiment_metrics(data.y_true - 3, aligned.values, sample_weight=w)
                columns += [s[name] for name in HEADLINE["ordinal"]]
            return np.stack(columns, axis=1)

    elif spec.kind == "multi_label":
        names = list(HEADLINE["multi_label"])

        def statistic(w):
            m = multilabel_metrics(data.y_true, aligned.y_pred, sample_weight=w)
            return np.stack([m[name] for name in names], axis=1)

    else:
        names = list(HEADLINE["intensity"])

        def statistic(w):
            m = intensity_metrics(data.y_true, aligned.y_pred, sample_weight=w)
            return np.stack([m[name] for name in names], axis=1)

    return statistic, names


def _grounding(data, labels, aligned):
    """Cue grounding: per-clip scores against each pair of annotators, pooled over clips,
    with the same explanations' chance level and the annotators' own ceiling beside them."""
    from emosign import cues

    by_name = {c.video_name: c for c in labels}
    clips = [by_name[n] for n in data.video_names]
    explanations = list(aligned.y_pred)
    statistic, names = _grounding_statistic(data, labels, aligned)
    # Both are linear in the clips: the ceiling depends on the label file alone and is cached;
    # the chance level is pooled over all pairs of clips from per-category counts.
    ceiling = cues.human_ceiling(clips)
    chance = cues.pooled_chance_scores(explanations, clips)
    extra = {
        "chance": {k: chance[k] for k in ("cue_f1", "cue_precision", "cue_recall", "cue_f1_strict")},
        "human_ceiling": {k: ceiling["mean"][k] for k in names},
        "grounding_protocol": "each explanation is scored against each pair of annotators "
        "(one left out in turn) and averaged, as each annotator is in the human ceiling; "
        "chance = the same explanations against other clips' references",
        # A runaway explanation is scored on its beginning only: the cap and how many.
        "explanation_max_tokens": cues.MAX_EXPLANATION_TOKENS,
        "explanations_truncated": sum(cues.bounded_explanation(e) != e for e in explanations),
    }
    return statistic, names, extra


def _grounding_statistic(data, labels, aligned):
    """The cue-grounding scores as one weighted statistic: (B, n) weights -> (B, m)."""
    from emosign import cues

    by_name = {c.video_name: c for c in labels}
    per_clip = cues.grounding_scores(list(aligned.y_pred), [by_name[n] for n in data.video_names])
    names = ["cue_f1", "cue_precision", "cue_recall", "cue_f1_strict", "cues_named", "rouge_l"]

    def statistic(w):
        m = cues.aggregate_scores(per_clip, sample_weight=w)
        return np.stack([m[name] for name in names], axis=1)

    return statistic, names


def _soft_target(spec, data, labels, annotator_ratings) -> tuple[np.ndarray, str]:
    """The task's soft target, (n, K) aligned with data.video_names, and how it was made."""
    from emosign.annotators import (
        intensity_target,
        read_annotator_ratings,
        sentiment_target,
    )

    if spec.name in ("sentiment_7", "sentiment_3"):
        if annotator_ratings is None:
            raise InputError(
                f"target='soft' on {spec.name} needs per-annotator ratings "
                "(annotator_ratings=... / --annotator-ratings): the released file holds "
                "majority labels only"
            )
        clips = {c.video_name: c for c in labels}
        ratings = read_annotator_ratings(annotator_ratings, clips=[clips[n] for n in data.video_names])
        return (
            sentiment_target(ratings, classes=spec.name),
            f"distribution of {len(ratings.annotators)} annotators' ratings in {ratings.path}",
        )
    if spec.name == "emotion_single":
        clips = {c.video_name: c for c in labels}
        return (
            intensity_target([clips[n] for n in data.video_names]),
            "released majority intensities, normalised over the merged classes "
            "(happiness = max(joy, excited); neutral when none is present)",
        )
    raise InputError(
        f"target='soft' is defined for sentiment_7, sentiment_3 and emotion_single, not {spec.name}"
    )


def _soft_statistic(spec, data, aligned, target: np.ndarray):
    k = len(data.classes)
    if aligned.scores is not None:
        predicted = np.where(np.isnan(aligned.scores), 1 / k, aligned.scores)
    else:
        predicted = np.where(
            (aligned.y_pred >= 0)[:, None], np.eye(k)[np.maximum(aligned.y_pred, 0)], 1 / k
        )
    ordinal = spec.name in ("sentiment_7", "sentiment_3")
    names = list(HEADLINE["soft"]) + (["wasserstein"] if ordinal else [])

    def statistic(w):
        m = distribution_metrics(target, predicted, ordinal=ordinal, sample_weight=w)
        return np.stack([m[name] for name in names], axis=1)

    return statistic, names


def _agreement(spec, data, aligned) -> dict:
    """Krippendorff's alpha between the predictions and the reference, as two raters."""
    from emosign.stats import model_reference_alpha

    if spec.ordinal and aligned.values is not None:
        prediction, level = aligned.values, "interval"
        reference = data.y_true - 3.0
    else:
        prediction = np.where(aligned.y_pred >= 0, aligned.y_pred, np.nan).astype(float)
        reference, level = data.y_true.astype(float), "ordinal" if spec.ordinal else "nominal"
    if np.isnan(prediction).all():  # nothing readable: no unit has two ratings
        alpha = None
    else:
        alpha = model_reference_alpha(reference, prediction, level=level)
    return {
        "krippendorff_alpha": alpha,
        "level": level,
        "note": "the model and the majority label as two raters; missing predictions are missing data",
    }


def _row(values: np.ndarray) -> list[float]:
    return [float(v) for v in values[0]]


def _intervals(statistic, n, *, ci, n_boot, seed):
    from emosign.stats import bootstrap_interval

    return bootstrap_interval(statistic, n, n_boot=n_boot, ci=ci, seed=seed)


def _per_class(spec, data, aligned) -> dict:
    if spec.kind == "single_label":
        confusion = confusion_matrices(data.y_true, aligned.y_pred, n_classes=len(data.classes))
        pc = per_class_metrics(confusion)
        return {
            name: {key: (int(pc[key][i]) if key == "support" else float(pc[key][i])) for key in pc}
            for i, name in enumerate(data.classes)
        }
    if spec.kind == "multi_label":
        t, p = data.y_true, aligned.y_pred
        out = {}
        for j, name in enumerate(data.classes):
            row = {
                "precision": float(_divide((t[:, j] & p[:, j]).sum(), p[:, j].sum())),
                "recall": float(_divide((t[:, j] & p[:, j]).sum(), t[:, j].sum())),
                "f1": float(_divide(2 * (t[:, j] & p[:, j]).sum(), t[:, j].sum() + p[:, j].sum())),
                "support": int(t[:, j].sum()),
            }
            if aligned.scores is not None:
                row["average_precision"] = average_precision(t[:, j], aligned.scores[:, j])
            out[name] = row
        return out
    m = intensity_metrics(data.y_true, aligned.y_pred)
    return {
        name: {"mae": float(m["mae_per_class"][j]), "spearman": float(m["spearman_per_class"][j])}
        for j, name in enumerate(data.classes)
    }


def _json_ready(value):
    """Floats that are NaN become None (JSON has no NaN); numpy scalars become Python ones."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def format_table(result: dict) -> str:
    """A result of :func:`evaluate` as text, with percentages the way the paper prints them."""
    level = round(result["ci"]["level"] * 100)
    lines = [
        f"EmoSign {result['task']}: {result['n']} clips, target {result['target']}, "
        f"{level}% CI from {result['ci']['n_boot']:,} bootstrap resamples",
        f"labels {result['labels']['path']} (sha256 {result['labels']['sha256'][:12]}...)",
    ]
    skipped = result["predictions"]
    if skipped["outside_task"]:
        lines.append(f"{skipped['outside_task']} prediction(s) for clips outside this task set aside")
    for kind in ("missing", "unparseable"):
        if skipped[kind]:
            lines.append(f"{len(skipped[kind])} {kind} prediction(s) scored as wrong")
    # Cue grounding is read against its chance level and the human ceiling: shown beside it.
    beside = [(title, result[key]) for key, title in (("chance", "chance"), ("human_ceiling", "human"))
              if isinstance(result.get(key), dict)]
    header = f"{'metric':<26}{'value':>8}   {f'{level}% CI':<18}" + "".join(f"{t:>10}" for t, _ in beside)
    lines += ["", header.rstrip(), "-" * len(header.rstrip())]
    for name, value in result["metrics"].items():
        low, high = result["ci"]["intervals"][name]
        alias = " (wAcc)" if name == "balanced_accuracy" else " (wF1)" if name == "weighted_f1" else ""
        interval = f"[{_pct(name, low)}, {_pct(name, high)}]"
        cells = "".join(f"{_pct(name, values[name]) if name in values else '':>10}" for _, values in beside)
        lines.append(f"{name + alias:<26}{_pct(name, value):>8}   {interval:<18}{cells}".rstrip())
    units = [name for name in result["metrics"] if name in NOT_PERCENT]
    notes = [] if len(units) == len(result["metrics"]) else ["fractions in percent"]
    if units:
        notes.append(f"{', '.join(units)} as they are (not percentages)")
    note = "; ".join(notes)
    if beside:
        note += ("; chance: the same explanations against other clips' references; human: each "
                 "annotator against the other two")
    lines.append(note)
    if result["per_class"]:
        columns = list(next(iter(result["per_class"].values())))
        lines += ["", f"{'class':<24}" + "".join(f"{c:>12}" for c in columns)]
        for name, row in result["per_class"].items():
            cells = "".join(
                f"{row[c]:>12}" if c == "support" else f"{_pct(c, row[c]):>12}" for c in columns
            )
            lines.append(f"{name:<24}{cells}")
    names = list(result["metrics"])[:4]
    lines += ["", f"{'signer':<12}{'n':>5}" + "".join(f"{n:>20}" for n in names)]
    for signer, row in result["per_signer"].items():
        lines.append(f"{signer:<12}{row['n']:>5}" + "".join(f"{_pct(n, row[n]):>20}" for n in names))
    return "\n".join(lines)


def _pct(name: str, value) -> str:
    """A fraction in percent with 2 decimals; a metric in ``NOT_PERCENT`` as it is, 3 decimals."""
    if value is None:
        return "n/a"
    return f"{value:.3f}" if name in NOT_PERCENT else f"{100 * value:.2f}"
