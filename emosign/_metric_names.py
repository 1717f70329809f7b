"""The metrics' names: what each key means, how tables name and print it, which are shown.

One job: everything about a metric except computing it (:mod:`emosign._metric_functions`)
and scoring a file with it (:mod:`emosign._evaluation`). Imported by figures, reports and
the power analysis for names alone, so it imports nothing but the standard library.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "CLASS_AVERAGED",
    "HEADLINE",
    "LEADERBOARD_METRICS",
    "LOWER_IS_BETTER",
    "METRIC_DEFINITIONS",
    "MIN_CLASS_CLIPS",
    "UNSTABLE_MARK",
    "UNSTABLE_REASON",
    "NOT_PERCENT",
    "SHORT_NAMES",
    "fixed",
    "format_metric",
    "format_value",
]

#: A class with fewer reference clips than this makes the scores that average over classes
#: (:data:`CLASS_AVERAGED`) and its own per-class scores unstable, and they are flagged so.
#: Why 10: below it one clip moves the class's recall by more than 10 points (and a
#: class-averaged score by more than 10/K), the class's exact 95% interval is wider than
#: 0.6 at a recall of one half (10 clips: Clopper-Pearson [0.19, 0.81]), and in the coverage
#: study (``benchmarks/sim_intervals_tests.py``, ``docs/statistics.md``) the intervals that
#: miss their 95% by most are those of class-averaged scores, on tasks with a class under 10.
#: EmoSign has three: sentiment_3's and sentiment_7's 3 neutral clips, and in emotion_single
#: anger (3), surprise_pos (5), surprise_neg (7) and fear (7).
MIN_CLASS_CLIPS = 10

#: The scores that average over the classes with equal weight, so that a class of 3 clips
#: counts as much as one of 121: flagged when a class has fewer than MIN_CLASS_CLIPS clips.
CLASS_AVERAGED: frozenset[str] = frozenset({"balanced_accuracy", "macro_f1"})

#: The marker of an unstable score in tables, with its footnote.
UNSTABLE_MARK = "†"
UNSTABLE_REASON = (f"{UNSTABLE_MARK} unstable: averages over a class with fewer than "
                   f"{MIN_CLASS_CLIPS} clips, whose recall alone moves it; read the per-class "
                   "recall and its exact interval beside it")

#: Each headline metric's definition and its other names, written into evaluate()'s output.
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
    "cue_precision": {
        "definition": "pooled share of named cue categories the annotators named",
        "aliases": "",
    },
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
NOT_PERCENT: frozenset[str] = frozenset({"mae", "pearson", "spearman", "qwk", "cross_entropy",
                         "jensen_shannon", "manhattan", "wasserstein", "cues_named"})
#: The few metrics a leaderboard shows for each kind of task; the first one ranks systems.
LEADERBOARD_METRICS: dict[str, tuple[str, ...]] = {
    "single_label": ("balanced_accuracy", "weighted_f1", "accuracy"),
    "multi_label": ("micro_f1", "macro_f1"),
    "intensity": ("mae", "spearman"),
    "explanation": ("cue_f1", "rouge_l"),
}
#: Errors and distances: smaller is better; for every other metric larger is better.
LOWER_IS_BETTER: frozenset[str] = frozenset({"mae", "hamming_loss", "cross_entropy", "jensen_shannon",
                             "manhattan", "wasserstein"})

#: The headline metrics of each kind of task, in the order they are reported.
HEADLINE: dict[str, tuple[str, ...]] = {
    "single_label": ("accuracy", "balanced_accuracy", "weighted_f1", "macro_f1"),
    "ordinal": ("mae", "pearson", "spearman", "qwk", "acc_7", "acc_2_has0", "f1_2_has0",
                "acc_2_non0", "f1_2_non0"),
    "multi_label": ("micro_f1", "macro_f1", "hamming_loss", "subset_accuracy"),
    "intensity": ("mae", "spearman"),
    "soft": ("cross_entropy", "jensen_shannon", "manhattan"),
}


def fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, never "-0.00": a difference or an interval's end
    a hair below zero (a tie tolerance, rounding) reads as crossing zero when it does not."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def format_metric(value: float | None, metric: str, interval: Sequence[float] | None = None) -> str:
    """A metric as the paper prints it, for tables.

    Parameters
    ----------
    value : the metric's value, or None when it is undefined.
    metric : its key ("balanced_accuracy", "mae", ...).
    interval : (low, high), or None.

    Returns
    -------
    str
        A fraction in percent with 2 decimals ("34.68"), its interval with 1
        ("34.68 [30.1, 39.0]"); a metric in ``NOT_PERCENT`` with 3 decimals, its interval
        too; "-" for None.
    """
    if value is None:
        return "-"
    if metric in NOT_PERCENT:
        text = fixed(value, 3)
        return text + (f" [{fixed(interval[0], 3)}, {fixed(interval[1], 3)}]" if interval else "")
    text = fixed(100 * value, 2)
    return text + (f" [{fixed(100 * interval[0], 1)}, {fixed(100 * interval[1], 1)}]" if interval else "")


def format_value(metric: str, value: float | None) -> str:
    """A metric's value in a text table: a fraction in percent with 2 decimals, a metric in
    ``NOT_PERCENT`` as it is with 3; "n/a" for None (an undefined value)."""
    if value is None:
        return "n/a"
    return fixed(value, 3) if metric in NOT_PERCENT else fixed(100 * value, 2)
