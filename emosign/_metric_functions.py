"""The metric functions: numbers from aligned arrays, nothing else.

One job: each function takes the reference and the prediction of the same ``n`` clips, in the
same order (``y_true``, ``y_pred``, optional scores), and optional per-clip ``sample_weight``
with scikit-learn's semantics, and returns the metrics. No files, no task names, no
intervals: :mod:`emosign._evaluation` does that around them. Inputs are checked here, where
they enter (shapes, class indices in range); an array that does not fit raises
:class:`emosign.errors.InputError`.

``sample_weight`` is None, of shape (n,), or of shape (B, n): B weightings at once. A
bootstrap resample is a row of multinomial counts, and a metric with those counts as weights
equals the metric on the resampled clips, so 10,000 resamples are one batched call instead
of 10,000 loops. With None or (n,) weights each metric is a float; with (B, n) weights it is
a (B,) array.

Ratios whose denominator is 0 are 0 (scikit-learn's ``zero_division=0``); correlations of a
constant are NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike

from emosign.errors import InputError

__all__ = [
    "SOFT_EPSILON",
    "average_precision",
    "classification_from_counts",
    "classification_metrics",
    "confusion_matrices",
    "distribution_metrics",
    "intensity_metrics",
    "multilabel_metrics",
    "multilabel_per_class",
    "per_class_metrics",
    "round_sentiment",
    "sentiment_metrics",
]

#: Predicted probabilities are clipped to [SOFT_EPSILON, 1] before the logarithm of the
#: cross-entropy, so a confident wrong answer costs -ln(1e-12) = 27.6 nats, not infinity.
SOFT_EPSILON = 1e-12


# --- checks at the boundary, weights -------------------------------------------------------


def _pair(y_true: ArrayLike, y_pred: ArrayLike, *, ndim: int, names: str = "y_true, y_pred",
          dtype: type | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays, of ``ndim`` dimensions and the same shape, or an InputError saying why."""
    t = np.asarray(y_true, dtype=dtype)
    p = np.asarray(y_pred, dtype=dtype)
    if t.ndim != ndim or p.shape != t.shape:
        shape = "(n,)" if ndim == 1 else "(n, K)"
        raise InputError(f"{names} must both have shape {shape}, got {t.shape} and {p.shape}")
    return t, p


def _check_classes(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> None:
    """Class indices: y_true in [0, n_classes), y_pred below n_classes (negative: no prediction)."""
    if n_classes < 1:
        raise InputError(f"n_classes must be at least 1, got {n_classes}")
    if y_true.size and (y_true.min() < 0 or y_true.max() >= n_classes):
        raise InputError(f"y_true must hold class indices in [0, {n_classes}), "
                         f"got values in [{y_true.min()}, {y_true.max()}]")
    if y_pred.size and y_pred.max() >= n_classes:
        raise InputError(f"y_pred must hold class indices below {n_classes} (or -1 for no "
                         f"prediction), got {y_pred.max()}")


def _weights(sample_weight: ArrayLike | None, n: int) -> tuple[np.ndarray, bool]:
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


def _per_class(tp: np.ndarray, support: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """Precision tp / predicted, recall tp / support, F1 2 tp / (support + predicted) (0 where
    a denominator is 0), and the support, from the per-class counts."""
    return {
        "precision": _divide(tp, predicted),
        "recall": _divide(tp, support),
        "f1": _divide(2 * tp, support + predicted),
        "support": support,
    }


# --- single-label classification -----------------------------------------------------------


def confusion_matrices(
    y_true: ArrayLike, y_pred: ArrayLike, *, n_classes: int, sample_weight: ArrayLike | None = None
) -> np.ndarray:
    """Weighted confusion counts, with a column for clips without a prediction.

    Parameters
    ----------
    y_true : array of shape (n,)
        Reference class indices, integers in [0, n_classes).
    y_pred : array of shape (n,)
        Predicted class indices below n_classes, or -1 (any negative number) for a missing or
        unreadable prediction.
    n_classes : int
        K, the number of classes.
    sample_weight : None, or non-negative weights of shape (n,) or (B, n)

    Returns
    -------
    ndarray of shape (K, K + 1), or (B, K, K + 1) for (B, n) weights
        ``C[..., i, j]`` is the weight of clips of class i predicted as j; the last column
        holds clips with no valid prediction (always wrong).

    Raises
    ------
    InputError
        If the shapes differ or a class index is out of range.
    """
    y_true, y_pred = _pair(y_true, y_pred, ndim=1)
    _check_classes(y_true, y_pred, n_classes)
    k = n_classes
    w, single = _weights(sample_weight, len(y_true))
    cell = y_true * (k + 1) + np.where(y_pred < 0, k, y_pred)
    # A (B, n) @ (n, cells) product: all resamples in one BLAS call.
    one_hot = np.zeros((len(y_true), k * (k + 1)))
    one_hot[np.arange(len(y_true)), cell] = 1.0
    counts = (w @ one_hot).reshape(-1, k, k + 1)
    return counts[0] if single else counts


def per_class_metrics(confusion: ArrayLike) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support of each class, from :func:`confusion_matrices`.

    Parameters
    ----------
    confusion : array of shape (..., K, K + 1)
        Confusion counts; the last column (no prediction) counts towards support only.

    Returns
    -------
    dict of ndarray of shape (..., K)
        ``precision`` = TP_k / predicted_k, ``recall`` = TP_k / support_k,
        ``f1`` = 2 TP_k / (support_k + predicted_k), each 0 where its denominator is 0, and
        ``support`` (the weight of clips of class k).
    """
    confusion = np.asarray(confusion, dtype=float)
    if confusion.ndim < 2 or confusion.shape[-1] != confusion.shape[-2] + 1:
        raise InputError(f"confusion must have shape (..., K, K + 1), got {confusion.shape}")
    k = confusion.shape[-2]
    tp = np.diagonal(confusion[..., :k], axis1=-2, axis2=-1)
    support = confusion.sum(axis=-1)
    predicted = confusion[..., :k].sum(axis=-2)
    return _per_class(tp, support, predicted)


def classification_metrics(
    y_true: ArrayLike, y_pred: ArrayLike, *, n_classes: int, sample_weight: ArrayLike | None = None
) -> dict[str, np.ndarray | float]:
    """Accuracy, balanced accuracy (wAcc), weighted F1 (wF1) and macro F1 over all classes.

    Parameters
    ----------
    y_true : array of shape (n,)
        Reference class indices, integers in [0, n_classes).
    y_pred : array of shape (n,)
        Predicted class indices below n_classes, or -1 for no prediction (always wrong).
    n_classes : int
        K, the task's number of classes.
    sample_weight : None, or non-negative weights of shape (n,) or (B, n)

    Returns
    -------
    dict
        Each value in [0, 1], a float, or a (B,) array for (B, n) weights. With
        TP_k, support_k and predicted_k the (weighted) hits, reference clips and predictions
        of class k:

        - ``accuracy`` = sum_k TP_k / n;
        - ``balanced_accuracy`` = mean of recall_k = TP_k / support_k over the classes with
          support (the EmoSign paper's wAcc);
        - ``weighted_f1`` = sum_k support_k F1_k / n, F1_k = 2 TP_k / (support_k +
          predicted_k) (the paper's wF1);
        - ``macro_f1`` = mean of F1_k over all K classes (an absent class has F1 = 0).

    Raises
    ------
    InputError
        If the shapes differ or a class index is out of range.
    """
    y_true, y_pred = _pair(y_true, y_pred, ndim=1)
    _check_classes(y_true, y_pred, n_classes)
    w, single = _weights(sample_weight, len(y_true))
    return _out(_classification(y_true, y_pred, n_classes, w), single)


def _classification(y_true: np.ndarray, y_pred: np.ndarray, k: int, w: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`classification_metrics` on checked arrays and (B, n) weights: (B,) arrays."""
    # Per class: hits, support and predictions, the three numbers these metrics need from
    # the confusion matrix, as one (B, n) @ (n, 3K) product (integer weights: exact sums).
    classes = np.arange(k)
    truth, guess = y_true[:, None] == classes, y_pred[:, None] == classes
    counts = w @ np.concatenate([truth & guess, truth, guess], axis=1).astype(float)
    tp, support, predicted = counts[:, :k], counts[:, k:2 * k], counts[:, 2 * k:]
    return classification_from_counts(tp, support, predicted)


def classification_from_counts(
    tp: ArrayLike, support: ArrayLike, predicted: ArrayLike
) -> dict[str, np.ndarray]:
    """:func:`classification_metrics` from each class's (weighted) counts.

    For callers that hold the counts of many resamples, swap patterns or simulated systems at
    once (the simulation study, :mod:`emosign.power`): the metrics are functions of three
    numbers per class, so they come out of one matrix product whatever the batch.

    Parameters
    ----------
    tp, support, predicted : arrays of shape (..., K)
        Per class k: the weight of clips of class k predicted as k (TP_k), of clips of class
        k (support_k), and of clips predicted as k (predicted_k).

    Returns
    -------
    dict of ndarray of shape (...)
        ``accuracy``, ``balanced_accuracy``, ``weighted_f1``, ``macro_f1`` as defined in
        :func:`classification_metrics` (balanced accuracy over the classes with support in
        each row; a caller that must keep the data's classes checks the support itself).
    """
    tp, support, predicted = (np.asarray(x, dtype=float) for x in (tp, support, predicted))
    if not tp.shape == support.shape == predicted.shape or tp.ndim < 1:
        raise InputError("tp, support and predicted must have the same shape (..., K); got "
                         f"{tp.shape}, {support.shape} and {predicted.shape}")
    recall = _divide(tp, support)
    f1 = _divide(2 * tp, support + predicted)
    has_support = support > 0
    return {
        "accuracy": _divide(tp.sum(-1), support.sum(-1)),
        "balanced_accuracy": _divide((recall * has_support).sum(-1), has_support.sum(-1).astype(float)),
        "weighted_f1": _divide((f1 * support).sum(-1), support.sum(-1)),
        "macro_f1": f1.mean(-1),
    }


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


def round_sentiment(values: ArrayLike) -> np.ndarray:
    """Sentiment ratings as classes of the -3...3 scale, as the MMSA toolkit makes them.

    Parameters
    ----------
    values : array of real ratings, any shape

    Returns
    -------
    ndarray of int, the same shape
        Each value clipped to [-3, 3] and rounded half to even (numpy's rule: 0.5 -> 0,
        1.5 -> 2, -3.6 -> -3).
    """
    return np.round(np.clip(np.asarray(values, dtype=float), -3, 3)).astype(int)


def _binary_scores(truth: np.ndarray, pred: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy and support-weighted F1 of a two-class problem, per row of weights."""
    m = _classification(truth.astype(int), pred.astype(int), 2, w)
    return m["accuracy"], m["weighted_f1"]


def sentiment_metrics(
    y_true: ArrayLike, y_value: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> dict[str, np.ndarray | float]:
    """The multimodal-sentiment metrics (CMU-MOSI/MOSEI, MMSA) of a -3...3 rating.

    Parameters
    ----------
    y_true : array of shape (n,)
        Reference ratings, integers in -3...3.
    y_value : array of shape (n,)
        Predicted ratings, real numbers (regression outputs are fine; not clipped for MAE
        and the correlations).
    sample_weight : None, or non-negative weights of shape (n,) or (B, n)

    Returns
    -------
    dict
        Floats, or (B,) arrays for (B, n) weights; r = :func:`round_sentiment` (y_value):

        - ``mae`` = mean |y_value - y_true|, in scale steps;
        - ``pearson``, ``spearman``: correlations of y_value and y_true (Spearman: Pearson
          of mid-ranks), in [-1, 1], NaN when either is constant;
        - ``qwk``: Cohen's kappa of r with quadratic weights (i - j)^2 / 36 on the 7 classes;
        - ``acc_7`` = mean [r == y_true];
        - ``acc_2_has0``, ``f1_2_has0``: accuracy and support-weighted F1 of
          y_value >= 0 against y_true >= 0, all clips;
        - ``acc_2_non0``, ``f1_2_non0``: the same of y_value > 0 against y_true > 0 on the
          clips with y_true != 0 (a prediction of 0 counts as negative).

    Raises
    ------
    InputError
        If the shapes differ or a reference rating is not an integer in -3...3.
    """
    t, v = _pair(y_true, y_value, ndim=1, names="y_true, y_value", dtype=float)
    if t.size and not (np.isin(t, np.arange(-3, 4))).all():
        raise InputError("y_true must hold integer ratings in -3...3")
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
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> dict[str, np.ndarray | float]:
    """Micro and macro F1, Hamming loss and subset accuracy of presence decisions.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n, K)
        Whether each of K labels (emotions) is present, as bool or 0/1.
    sample_weight : None, or non-negative weights of shape (n,) or (B, n)

    Returns
    -------
    dict
        Each value in [0, 1], a float or a (B,) array. With TP, FP, FN counted per label:

        - ``micro_f1`` = 2 TP / (2 TP + FP + FN), all (clip, label) decisions pooled;
        - ``macro_f1``: mean over all K labels of their F1 (0 for a label neither present
          nor predicted, scikit-learn's zero_division=0);
        - ``hamming_loss``: mean over clips of the fraction of the K decisions that are wrong;
        - ``subset_accuracy``: fraction of clips with all K decisions right.

    Raises
    ------
    InputError
        If the two arrays do not have the same (n, K) shape.
    """
    t, p = _pair(y_true, y_pred, ndim=2, dtype=bool)
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


def multilabel_per_class(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support of each label of a multi-label task, unweighted.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n, K)
        Whether each of K labels is present, as bool or 0/1.

    Returns
    -------
    dict of ndarray of shape (K,)
        ``precision`` = TP_k / predicted_k, ``recall`` = TP_k / support_k, ``f1`` =
        2 TP_k / (support_k + predicted_k), each 0 where its denominator is 0, and
        ``support`` (int: clips where label k is present).
    """
    t, p = _pair(y_true, y_pred, ndim=2, dtype=bool)
    tp, support, predicted = (t & p).sum(axis=0), t.sum(axis=0), p.sum(axis=0)
    return _per_class(tp, support, predicted)


def average_precision(
    y_true: ArrayLike, scores: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> np.ndarray | float:
    """Average precision of one binary label ranked by ``scores``, as scikit-learn defines it.

    Parameters
    ----------
    y_true : array of shape (n,)
        Whether the label is present, bool or 0/1.
    scores : array of shape (n,)
        Real scores; higher means more likely present.
    sample_weight : None, or non-negative weights of shape (n,) or (B, n)

    Returns
    -------
    float, or ndarray of shape (B,)
        AP = sum over thresholds t of (R_t - R_{t-1}) P_t, in [0, 1], thresholds at the
        distinct scores from the highest down (tied scores form one step); NaN when there
        is no positive clip.
    """
    t, s = _pair(y_true, scores, ndim=1, names="y_true, scores")
    t, s = t.astype(bool), s.astype(float)
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
    y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> dict[str, np.ndarray | float]:
    """Per-emotion MAE and Spearman correlation of intensities, and their means.

    Parameters
    ----------
    y_true : array of shape (n, K)
        Reference intensities, integers 0...3.
    y_pred : array of shape (n, K)
        Predicted intensities, real numbers.
    sample_weight : None, or non-negative weights of shape (n,) or (B, n)

    Returns
    -------
    dict
        ``mae_per_class``: mean |y_pred - y_true| of each emotion, and
        ``spearman_per_class``: Spearman's correlation of each emotion (NaN where either side
        is constant), of shape (K,) or (B, K); ``mae`` and ``spearman``, their means over the
        emotions (Spearman's skips the NaN ones), floats or (B,) arrays.

    Raises
    ------
    InputError
        If the two arrays do not have the same (n, K) shape.
    """
    t, p = _pair(y_true, y_pred, ndim=2, dtype=float)
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


def distribution_metrics(
    target: ArrayLike,
    predicted: ArrayLike,
    *,
    ordinal: bool = False,
    sample_weight: ArrayLike | None = None,
) -> dict[str, np.ndarray | float]:
    """Distances between target and predicted distributions, averaged over clips.

    The measures of the learning-with-disagreement (Le-Wi-Di) shared tasks.

    Parameters
    ----------
    target, predicted : arrays of shape (n, K)
        One distribution over the K classes per clip, each row summing to 1.
    ordinal : bool
        Also report ``wasserstein``, for classes on an evenly spaced scale.
    sample_weight : None, or non-negative weights of shape (n,) or (B, n)

    Returns
    -------
    dict
        Weighted means over clips, floats or (B,) arrays:

        - ``cross_entropy``: -sum_k t_k ln(max(p_k, SOFT_EPSILON)), in nats;
        - ``jensen_shannon``: JS divergence with base-2 logarithms, in [0, 1];
        - ``manhattan``: sum_k |t_k - p_k|, in [0, 2];
        - ``wasserstein`` (ordinal only): 1-D earth mover's distance in scale steps,
          sum_k |T_k - P_k| over the cumulative distributions T and P.

    Raises
    ------
    InputError
        If the two arrays do not have the same (n, K) shape.
    """
    t, p = _pair(target, predicted, ndim=2, names="target, predicted", dtype=float)
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

    def kl(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(a > 0, a * np.log2(a / np.where(b > 0, b, 1)), 0.0).sum(axis=1)

    return (kl(t, m) + kl(p, m)) / 2
