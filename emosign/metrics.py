"""Scoring EmoSign predictions: the paper's numbers, the field's numbers, and their uncertainty.

This module is the public face of scoring; import from here. The work is done in three
private modules, one job each (as scikit-learn's ``sklearn.metrics`` names what its
``_classification`` and others implement):

- :mod:`emosign._metric_names`: what each metric key means, its short name in tables, how
  it is printed (``METRIC_DEFINITIONS``, ``SHORT_NAMES``, ``NOT_PERCENT``, ``format_metric``);
- :mod:`emosign._metric_functions`: the metrics as functions of aligned arrays and optional
  per-clip ``sample_weight`` (scikit-learn's semantics), of shape (n,) or (B, n). A
  bootstrap resample is a row of multinomial counts, and a metric with those counts as
  weights equals the metric on the resampled clips, so 10,000 resamples are one batched
  call instead of 10,000 loops;
- :mod:`emosign._evaluation`: :func:`evaluate` joins a predictions file to a task and adds
  intervals and breakdowns; :func:`compare` tests two systems against each other.

Names, once (the paper prints "wAcc" and "wF1" without defining them; Table 4 shows that
its "wAcc" is the plain mean of the per-class accuracy columns):

=====================  =============================================  ======================================
key                    definition                                     also called
=====================  =============================================  ======================================
``accuracy``           fraction of clips whose class is right         WAR (facial expressions); Acc-7, Acc-3
``balanced_accuracy``  mean over classes with support of recall_k     the EmoSign paper's **wAcc**; UAR
``weighted_f1``        sum_k support_k * F1_k / n                     the EmoSign paper's **wF1**
``macro_f1``           mean over *all* of the task's classes of F1_k  (a class never predicted: F1 = 0)
=====================  =============================================  ======================================

with recall_k = TP_k / support_k, precision_k = TP_k / predicted_k and
F1_k = 2 TP_k / (support_k + predicted_k), 0 where a denominator is 0 (scikit-learn's
``zero_division=0``). CMU-MOSEI's "weighted accuracy" is binary balanced accuracy, not wAcc.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emosign._metric_functions import (
    SOFT_EPSILON,
    average_precision,
    classification_from_counts,
    classification_metrics,
    confusion_matrices,
    distribution_metrics,
    intensity_metrics,
    multilabel_metrics,
    per_class_metrics,
    round_sentiment,
    sentiment_metrics,
)
from emosign._metric_names import (
    CLASS_AVERAGED,
    HEADLINE,
    LEADERBOARD_METRICS,
    LOWER_IS_BETTER,
    METRIC_DEFINITIONS,
    MIN_CLASS_CLIPS,
    NOT_PERCENT,
    SHORT_NAMES,
    UNSTABLE_MARK,
    UNSTABLE_REASON,
    format_metric,
)

if TYPE_CHECKING:
    from emosign._evaluation import (
        CLUSTERS,
        TARGETS,
        TESTS,
        compare,
        evaluate,
        format_table,
        holm_across,
    )

__all__ = [
    # names and formatting
    "CLASS_AVERAGED",
    "HEADLINE",
    "LEADERBOARD_METRICS",
    "LOWER_IS_BETTER",
    "METRIC_DEFINITIONS",
    "MIN_CLASS_CLIPS",
    "NOT_PERCENT",
    "SHORT_NAMES",
    "UNSTABLE_MARK",
    "UNSTABLE_REASON",
    "format_metric",
    # metric functions of aligned arrays
    "SOFT_EPSILON",
    "average_precision",
    "classification_from_counts",
    "classification_metrics",
    "confusion_matrices",
    "distribution_metrics",
    "intensity_metrics",
    "multilabel_metrics",
    "per_class_metrics",
    "round_sentiment",
    "sentiment_metrics",
    # scoring a predictions file
    "CLUSTERS",
    "TARGETS",
    "TESTS",
    "compare",
    "evaluate",
    "format_table",
    "holm_across",
]

# evaluate() and its kin load when first used. Figures, reports, the power analysis and the
# lmms-eval task import this module for the names alone, and the scorer would bring pandas,
# scipy and the label, task and predictions modules with it: `python -X importtime -c
# "import emosign.metrics"` measures about 0.05 s (numpy) this way; importing
# emosign._evaluation adds about 0.3 s more.
_EVALUATION = frozenset({"CLUSTERS", "TARGETS", "TESTS", "compare", "evaluate", "format_table",
                         "holm_across"})


def __getattr__(name: str) -> Any:
    if name in _EVALUATION:
        from emosign import _evaluation

        return getattr(_evaluation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _EVALUATION)
