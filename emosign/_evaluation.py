"""Scoring a predictions file on an EmoSign task: :func:`evaluate` and :func:`compare`.

One job: join a predictions file to a task's clips (:mod:`emosign.predictions`), call the
metric functions (:mod:`emosign._metric_functions`) on the aligned arrays, and add what a
single number lacks: bootstrap intervals (:mod:`emosign.stats`), per-class, per-signer and
agreement breakdowns, and the cue-grounding chance level and human ceiling. Each function
builds its result, a JSON-ready dict, in one place.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np

from emosign import _defaults, cues
from emosign._metric_functions import (
    average_precision,
    classification_from_counts,
    classification_metrics,
    confusion_matrices,
    distribution_metrics,
    intensity_metrics,
    multilabel_metrics,
    multilabel_per_class,
    per_class_metrics,
    sentiment_metrics,
)
from emosign._metric_names import (
    CLASS_AVERAGED,
    HEADLINE,
    METRIC_DEFINITIONS,
    MIN_CLASS_CLIPS,
    NOT_PERCENT,
    UNSTABLE_MARK,
    UNSTABLE_REASON,
    format_value,
)
from emosign.annotators import intensity_target, read_annotator_ratings, sentiment_target
from emosign.errors import InputError
from emosign.labels import Labels, load_labels, source_video
from emosign.predictions import Aligned, PredictionsLike, align, read_predictions
from emosign.records import stamp
from emosign.stats import (
    P_VALUES,
    TESTS,
    Interval,
    PairedTest,
    bootstrap_interval,
    clopper_pearson,
    holm,
    mcnemar_test,
    model_reference_alpha,
    paired_bootstrap,
    permutation_test,
    posterior_confusions,
)
from emosign.tasks import Task, TaskData, get_task

__all__ = ["CLUSTERS", "TARGETS", "TESTS", "cluster_labels", "compare", "evaluate", "format_table",
           "holm_across"]

#: A weighted statistic: (B, n) weights -> (B, m) values, one column per metric.
Statistic = Callable[[np.ndarray], np.ndarray]
T = TypeVar("T")

#: What ``evaluate(target=...)`` scores against: the majority labels, or a distribution per clip.
TARGETS: tuple[str, ...] = ("majority", "soft")

#: The units ``compare(cluster=...)`` resamples or permutes whole: single clips, the source
#: videos the clips were cut from (the video name without its utterance id), or signers.
CLUSTERS: tuple[str, ...] = ("clip", "source", "signer")

#: How evaluate's intervals are made, as its ``ci.methods`` says per metric.
POSTERIOR_METHOD = ("class-stratified percentile bootstrap joined with the Dirichlet posterior of "
                    "each reference class's answers (Jeffreys prior on right/wrong), class "
                    "supports fixed: the interval holds both, and the estimate")
STRATIFIED_METHOD = "percentile bootstrap, stratified by reference class"
IID_METHOD = "percentile bootstrap over clips"


def evaluate(
    task: str,
    predictions: PredictionsLike,
    *,
    labels_file: str | os.PathLike | Labels | None = None,
    target: str = _defaults.TARGET,
    ci: float = _defaults.CI,
    n_boot: int = _defaults.N_BOOT,
    seed: int = _defaults.SEED,
    on_invalid: str = _defaults.ON_INVALID,
    annotator_ratings: str | os.PathLike | None = None,
    clips: Iterable[str] | None = None,
    metrics: Sequence[str] | None = None,
) -> dict[str, Any]:
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
    ci : coverage of the intervals, in (0, 1).
    n_boot : bootstrap resamples and posterior draws (seeded by ``seed``), drawn once and
        shared by all metrics.
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
    dict
        JSON-ready: ``task``, ``n``, ``target``, ``labels`` (file and sha256),
        ``predictions`` (counts), ``metrics`` (fractions in 0...1, or the scale's units for
        MAE), ``ci`` (level, draws, seed, ``intervals`` per metric, ``methods`` naming each
        metric's method and ``method`` saying it in one line), ``per_class`` (for a
        single-label task with each class's ``recall_ci``, its exact Clopper-Pearson
        interval, and ``unstable``, fewer than ``MIN_CLASS_CLIPS`` clips), ``unstable`` (the
        small classes and the class-averaged scores they make unstable; empty when none),
        ``per_signer``, ``definitions`` and, for single-label tasks, ``confusion_matrix`` and
        ``agreement`` (model-vs-reference Krippendorff's alpha). Undefined values (a
        correlation of a constant) are None.

    Notes
    -----
    Intervals of a single-label task hold the class supports fixed, so a class-averaged
    score is always averaged over the data's classes. Accuracy, wAcc, wF1 and macro-F1 get
    the smallest interval holding the class-stratified percentile bootstrap's, the
    percentile interval of the Jeffreys-Dirichlet posterior of each class's answers
    (:func:`emosign.stats.posterior_confusions`) and the estimate; the other metrics, the
    class-stratified bootstrap's; the other tasks, the percentile bootstrap over clips
    (Efron & Tibshirani 1993). Why, and their coverage on EmoSign's class sizes:
    ``docs/statistics.md``.

    Raises
    ------
    InputError
        For an unknown task, target or metric, a bad option value, or predictions that do
        not fit the task (:class:`emosign.predictions.PredictionsError`, listing every row).
    """
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

    extra: dict[str, Any] = {}
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
    single = spec.kind == "single_label" and soft is None
    intervals = _intervals(statistic, data.n, ci=ci, n_boot=n_boot, seed=seed,
                           strata=data.y_true if single else None)
    methods = dict.fromkeys(names, STRATIFIED_METHOD if single else IID_METHOD)
    if single:
        posterior = _posterior_intervals(data, aligned, names, ci=ci, n_draws=n_boot, seed=seed)
        intervals = [_union(posterior[name], iv) if name in posterior else iv
                     for name, iv in zip(names, intervals)]
        methods.update(dict.fromkeys(posterior, POSTERIOR_METHOD))
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
            # A file is recorded absolute, so that a record read from another folder (the
            # report's) still finds it; a table given in memory keeps its "<DataFrame>".
            "source": (os.path.abspath(table.source) if isinstance(predictions, (str, os.PathLike))
                       else table.source),
            "given": aligned.n_given,
            "scored": data.n,
            "outside_task": aligned.n_outside_task,
            "missing": list(aligned.missing),
            "unparseable": list(aligned.unparseable),
        },
        "metrics": point,
        "ci": {
            "level": ci,
            "method": "; ".join(f"{m} ({', '.join(n for n in names if methods[n] == m)})"
                                for m in dict.fromkeys(methods.values())),
            "methods": methods,
            "n_boot": n_boot,
            "seed": seed,
            "intervals": {name: [iv.low, iv.high] for name, iv in zip(names, intervals)},
        },
        "per_class": {} if soft or spec.kind == "explanation" else _per_class(spec, data, aligned, ci=ci),
        "unstable": _unstable(spec, data, names) if single else {},
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
    predictions_a: PredictionsLike,
    predictions_b: PredictionsLike,
    *,
    labels_file: str | os.PathLike | Labels | None = None,
    ci: float = _defaults.CI,
    n_boot: int = _defaults.N_BOOT,
    seed: int = _defaults.SEED,
    on_invalid: str = _defaults.ON_INVALID,
    test: str = _defaults.TEST,
    cluster: str = _defaults.CLUSTER,
    n_perm: int = _defaults.N_PERM,
    metrics: Sequence[str] | None = None,
    p_value: str | None = None,
) -> dict[str, Any]:
    """Paired comparison of two systems on the same clips of one task: a test per metric,
    the interval that inverts it, and Holm's adjustment over the metrics.

    Parameters
    ----------
    task : one of ``vocab.TASK_NAMES``.
    predictions_a, predictions_b : the two systems' predictions, anything
        :func:`emosign.predictions.read_predictions` reads.
    labels_file, ci, seed, on_invalid : as for :func:`evaluate`; ``1 - ci`` is the level
        at which the interval and the p-value agree.
    test : {"permutation", "bootstrap", "mcnemar"}, default "permutation"
        ``"permutation"``: the paired swap test (:func:`emosign.stats.permutation_test`):
        under H0 the two answers on a clip are exchangeable, so A's and B's answers are
        swapped on random sets of clips (``n_perm`` patterns, Monte Carlo, seeded; every
        pattern when there are few clusters). Exact under H0 for every metric.
        ``"bootstrap"``: the paired bootstrap (:func:`emosign.stats.paired_bootstrap`,
        ``n_boot`` resamples, within each reference class on a single-label task).
        ``"mcnemar"``: McNemar's exact test (:func:`emosign.stats.mcnemar_test`), for
        accuracy only. Each reports the interval that inverts its own test.
    cluster : {"clip", "source", "signer"}, default "clip"
        The unit swapped or resampled whole: a clip, the source video a clip was cut from
        (its video name without the utterance id: 22 on EmoSign), or the signer (4). Clips
        of one source video or signer are not independent; clustering keeps the test valid
        then, at the price of power (with 4 signers the smallest permutation p is 1/8).
    n_perm : int, default 9,999
        Swap patterns of the permutation test.
    n_boot : int, default 10,000
        Resamples of the bootstrap test.
    metrics : list of str, optional
        Compare only these headline metrics (default: every one both systems have;
        ``["accuracy"]`` for McNemar, which refuses any other).
    p_value : {"mid", "conservative"}, optional
        The p-value of the permutation or McNemar test, and the interval inverting it.
        ``"mid"`` counts the outcomes that tie with the data (its own included) one half:
        for the permutation test (its default, ``_defaults.P_VALUE``) the swap patterns as
        extreme as the observed difference, and its size is alpha within Monte Carlo error
        for every headline metric; for McNemar, the mid-p McNemar test (Fagerland, Lydersen
        & Laake 2013). ``"conservative"`` counts them whole: the permutation test's
        ``(1 + #{|d*| >= |d|}) / (1 + patterns)``, never above alpha but below it for
        accuracy (.039-.041 at .05 on EmoSign), whose differences move in steps of 1/n;
        McNemar's exact test (its default, ``_defaults.MCNEMAR_P_VALUE``). The bootstrap
        has only its own p-value and refuses this option. The record's
        ``test.p_value_type`` says which was used.

    Returns
    -------
    dict
        JSON-ready: ``task``, ``n``, ``test`` (method, cluster and the number of clusters,
        permutations or resamples, seed, whether the p-values are exact, ``p_value_type``,
        ``"mid"`` or ``"conservative"``, and how the p-value and the interval are made),
        ``ci`` (level, ``n_boot`` = permutations or resamples, seed, method),
        ``comparison``: per metric ``difference`` (a - b), ``low`` and
        ``high`` (the interval), the two-sided ``p_value``, ``p_holm`` (Holm's adjustment
        over the metrics compared) and ``agrees`` (whether the interval excludes 0 exactly
        when ``p_value <= 1 - ci``); and ``unstable`` (classes under
        ``MIN_CLASS_CLIPS`` clips and the scores they make unstable, as in evaluate).

    Raises
    ------
    InputError
        For an unknown test, cluster or metric, McNemar with a metric other than accuracy
        or with clusters, or a bad option value.
    """
    if test not in TESTS:
        raise InputError(f"test must be one of {list(TESTS)}, not {test!r}")
    if cluster not in CLUSTERS:
        raise InputError(f"cluster must be one of {list(CLUSTERS)}, not {cluster!r}")
    if isinstance(n_perm, bool) or not isinstance(n_perm, int) or n_perm < 1:
        raise InputError(f"n_perm must be an integer >= 1, not {n_perm!r}")
    if p_value is not None and p_value not in P_VALUES:
        raise InputError(f"p_value must be one of {list(P_VALUES)}, not {p_value!r}")
    if p_value is not None and test == "bootstrap":
        raise InputError(f"p_value={p_value!r} chooses the permutation or McNemar test's p-value; "
                         "the bootstrap has only its own: leave p_value unset")
    if metrics is not None and (isinstance(metrics, str) or not metrics):
        raise InputError(f"metrics must be a non-empty list of metric names, not {metrics!r}")
    spec = get_task(task)
    labels = load_labels(labels_file)
    data = spec.bind(labels)
    aligned_a = align(predictions_a, data, on_invalid=on_invalid)
    aligned_b = align(predictions_b, data, on_invalid=on_invalid)
    if spec.kind == "explanation":  # scored by the cue-grounding scores, not a metric table
        stat_a, names = _grounding_statistic(data, labels, aligned_a)
        stat_b, names_b = _grounding_statistic(data, labels, aligned_b)
    else:
        stat_a, names = _statistic(spec, data, aligned_a)
        stat_b, names_b = _statistic(spec, data, aligned_b)
    shared = [n for n in names if n in names_b]  # ordinal metrics need values from both
    if test == "mcnemar":
        if spec.kind != "single_label":
            raise InputError(f"test='mcnemar' compares accuracies of single-label tasks; "
                             f"{spec.name} has none: use test='permutation'")
        wanted = list(metrics) if metrics is not None else ["accuracy"]
        if wanted != ["accuracy"]:
            raise InputError(f"test='mcnemar' is exact for accuracy only, not for {wanted} "
                             "(metrics=...): use test='permutation' for the other metrics")
        if cluster != "clip":
            raise InputError(f"cluster={cluster!r}: McNemar's test assumes independent clips; "
                             "use test='permutation' to permute whole clusters")
    if metrics is not None:
        unknown = [m for m in metrics if m not in shared]
        if unknown:
            raise InputError(f"metrics {unknown} are not compared on {spec.name}; choose from {shared}")
        shared = [m for m in shared if m in metrics]
    elif test == "mcnemar":
        shared = ["accuracy"]
    groups = cluster_labels(data, cluster)
    single = spec.kind == "single_label"

    if test == "mcnemar":
        tests: list[PairedTest] = _as_list(mcnemar_test(
            aligned_a.y_pred == data.y_true, aligned_b.y_pred == data.y_true, ci=ci,
            p_value=p_value or _defaults.MCNEMAR_P_VALUE))
        draws = 0
    elif test == "permutation":
        swap = _swap_statistic(spec, data, labels, aligned_a, aligned_b, shared)
        tests = _as_list(permutation_test(swap, data.n, n_perm=n_perm, ci=ci, seed=seed,
                                          clusters=groups, p_value=p_value or _defaults.P_VALUE))
        draws = tests[0].n_boot
    else:
        sa, sb = _select(stat_a, names, shared), _select(stat_b, names_b, shared)
        if single and groups is not None:  # a resample may lose a class: leave it out
            sa, sb = (_all_classes_present(st, data, shared) for st in (sa, sb))
        tests = _as_list(paired_bootstrap(
            sa, sb, data.n, n_boot=n_boot, ci=ci, seed=seed, interval="inverted",
            strata=data.y_true if single and groups is None else None, clusters=groups,
        ))
        draws = n_boot
    adjusted = holm([t.p_value for t in tests])
    tests = [replace(t, p_holm=float(p)) for t, p in zip(tests, adjusted)]
    description = _test_description(test, cluster, single, tests[0], n_metrics=len(tests),
                                     n_clusters=None if groups is None else len(set(groups)))
    return stamp("compare", _json_ready({
        "task": spec.name,
        "n": data.n,
        "test": {
            "method": test,
            "cluster": cluster,
            "clusters": data.n if groups is None else len(set(groups)),
            **({"n_perm": draws} if test == "permutation" else {}),
            **({"n_boot": n_boot} if test == "bootstrap" else {}),
            "seed": seed,
            "exact": tests[0].exact,
            "p_value_type": tests[0].p_value_type,
            "interval": tests[0].interval,
            **description,
        },
        "ci": {"level": ci, "n_boot": draws, "seed": seed, "method": description["interval_method"]},
        "comparison": {
            name: {"difference": t.difference, "low": _finite(t.low), "high": _finite(t.high),
                   "p_value": t.p_value, "p_holm": t.p_holm, "agrees": t.agrees}
            for name, t in zip(shared, tests)
        },
        "unstable": _unstable(spec, data, shared) if single else {},
    }))


def holm_across(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Several :func:`compare` results as one family: ``p_holm`` over every (task, metric).

    When two systems are compared on several tasks at once, each task's ``p_holm`` only
    covers its own metrics; a claim about "some task" needs Holm's adjustment over all of
    them (Holm 1979). Returns new records, each row's ``p_holm`` replaced and the test's
    ``p_holm_method`` saying over what.

    Parameters
    ----------
    results : sequence of dict
        Records of :func:`compare`.

    Returns
    -------
    list of dict, in the same order.
    """
    rows = [(i, name) for i, r in enumerate(results) for name in r["comparison"]]
    p = np.array([results[i]["comparison"][name]["p_value"] for i, name in rows], dtype=float)
    adjusted = holm(np.where([v is None for v in p], np.nan, p).astype(float))
    tasks = ", ".join(r["task"] for r in results)
    out = [{**r, "test": {**r["test"], "p_holm_method":
                          f"Holm's step-down adjustment over the {len(rows)} (task, metric) pairs "
                          f"compared here ({tasks})"},
            "comparison": {k: dict(v) for k, v in r["comparison"].items()}} for r in results]
    for (i, name), value in zip(rows, adjusted):
        out[i]["comparison"][name]["p_holm"] = None if np.isnan(value) else float(value)
    return out


def _finite(value: float) -> float | None:
    """An interval end for JSON: None where it is unbounded (or undefined)."""
    return value if np.isfinite(value) else None


def cluster_labels(data: TaskData, cluster: str) -> np.ndarray | None:
    """Each clip's cluster, as ``compare`` and ``power`` swap them: None for ``"clip"`` (every
    clip its own), the source video (:func:`emosign.labels.source_video`) for ``"source"``,
    the signer for ``"signer"``; an array of shape (n_clips,) otherwise."""
    if cluster == "clip":
        return None
    if cluster == "signer":
        return np.array(data.signers)
    return np.array([source_video(name) for name in data.video_names])


def _all_classes_present(statistic: Statistic, data: TaskData, names: list[str]) -> Statistic:
    """The statistic with its class-averaged columns NaN on resamples that lack a class of
    the data (a cluster bootstrap may draw no clip of a 3-clip class): those resamples are
    left out, so the score is always averaged over the data's classes."""
    present = np.unique(data.y_true)
    members = (data.y_true[:, None] == present[None, :]).astype(float)
    columns = [i for i, n in enumerate(names) if n in CLASS_AVERAGED]

    def conditioned(w):
        values = np.array(statistic(w), dtype=float)
        lacking = ((w @ members) == 0).any(axis=1)
        if columns:
            values[np.ix_(lacking, columns)] = np.nan
        return values

    return conditioned


def _swap_statistic(
    spec: Task, data: TaskData, labels: Labels, aligned_a: Aligned, aligned_b: Aligned,
    names: list[str],
) -> Callable[[np.ndarray], np.ndarray]:
    """The differences a' - b' of ``names`` after swapping the systems' answers on clips.

    Both systems' answers are stacked as 2n pseudo-clips (a's, then b's); system a' after a
    swap pattern ``s`` is the weighting ``[1 - s, s]`` of them and b' is ``[s, 1 - s]``, so
    every metric with per-clip weights scores all swap patterns at once.
    """
    doubled = replace(data, video_names=data.video_names * 2, signers=data.signers * 2,
                      y_true=np.concatenate([data.y_true, data.y_true]))

    def stacked(x, y):
        return None if x is None or y is None else np.concatenate([x, y])

    both = replace(aligned_a, y_pred=np.concatenate([aligned_a.y_pred, aligned_b.y_pred]),
                   values=stacked(aligned_a.values, aligned_b.values),
                   scores=stacked(aligned_a.scores, aligned_b.scores))
    if spec.kind == "explanation":
        statistic, all_names = _grounding_statistic(doubled, labels, both)
    else:
        statistic, all_names = _statistic(spec, doubled, both)
    pair = _select(statistic, all_names, names)

    def swapped(s: np.ndarray) -> np.ndarray:
        kept = (~s).astype(float)
        moved = s.astype(float)
        return pair(np.concatenate([kept, moved], axis=1)) - pair(np.concatenate([moved, kept], axis=1))

    return swapped


#: Below this many clusters the cluster bootstrap is known to understate the spread
#: (Cameron, Gelbach & Miller 2008), and compare says so.
_FEW_CLUSTERS = 30


def _test_description(test: str, cluster: str, single: bool, first: PairedTest,
                      *, n_metrics: int, n_clusters: int | None) -> dict[str, str]:
    """How the p-value, the interval and p_holm were made, in words for the record."""
    units = {"clip": "clips", "source": "source videos", "signer": "signers"}[cluster]
    level = 1.0 - first.ci
    agree = (f"so it excludes 0 exactly when p <= {level:.2g}: the interval and the p-value "
             "agree by construction")
    if test == "permutation":
        how = ("every swap pattern" if first.exact else f"{first.n_boot:,} random swap patterns")
        formula = ("mid-p: p = (#{|d*| > |d|} + (#{|d*| = |d|} + 1) / 2) / (1 + patterns), "
                   "ties with the observed difference counted one half"
                   if first.p_value_type == "mid" else
                   "p = (1 + #{|d*| >= |d|}) / (1 + patterns), ties counted whole (conservative)")
        p_value = (f"paired permutation test: A's and B's answers swapped on random sets of {units} "
                   f"({how}); {formula}")
        interval = ("inversion of the same permutation test and p-value under a location shift: "
                    f"d +/- c, c the swap distribution's critical |d*| at {level:.2g}; " + agree)
    elif test == "bootstrap":
        design = "clips within each reference class" if single and cluster == "clip" else units
        p_value = (f"paired bootstrap resampling {design}; p = (1 + #{{|d* - d| >= |d|}}) / "
                   "(1 + resamples)")
        interval = ("inversion of the same bootstrap test: d +/- c, c the critical |d* - d| "
                    "(symmetric bootstrap interval); " + agree)
        if single and cluster != "clip":
            interval += "; resamples lacking a class of the data are left out of class-averaged scores"
        if n_clusters is not None and n_clusters < _FEW_CLUSTERS:
            p_value += (f"; with {n_clusters} clusters the cluster bootstrap understates the spread "
                        "(prefer the permutation test)")
    elif first.p_value_type == "mid":
        p_value = ("McNemar's mid-p test (Fagerland, Lydersen & Laake 2013): of the clips exactly "
                   "one system gets right, A's share against 1/2 (binomial), the data's own "
                   "probability counted one half in each tail")
        interval = ("mid-p interval of that share, mapped to the accuracy difference, "
                    "conditional on the number of such clips; " + agree)
    else:
        p_value = ("McNemar's exact test: of the clips exactly one system gets right, A's share "
                   "against 1/2 (binomial)")
        interval = ("Clopper-Pearson interval of that share, mapped to the accuracy difference, "
                    "conditional on the number of such clips; " + agree)
    holm_text = (f"Holm's step-down adjustment over the {n_metrics} metrics compared here"
                 if n_metrics > 1 else "one metric: p_holm = p_value")
    return {"p_value_method": p_value, "interval_method": interval, "p_holm_method": holm_text}


def _as_list(value: T | list[T]) -> list[T]:
    """The per-metric results of a statistic of one or more columns, as a list."""
    return value if isinstance(value, list) else [value]


def _select(statistic: Statistic, names: list[str], keep: list[str]) -> Statistic:
    """The columns ``keep`` of a statistic whose columns are ``names``."""
    columns = [names.index(n) for n in keep]
    return lambda w: statistic(w)[:, columns]


def _statistic(
    spec: Task, data: TaskData, aligned: Aligned, *, wanted: Sequence[str] | None = None
) -> tuple[Statistic, list[str]]:
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


def _grounding(
    data: TaskData, labels: Labels, aligned: Aligned
) -> tuple[Statistic, list[str], dict[str, Any]]:
    """Cue grounding: per-clip scores against each pair of annotators, pooled over clips,
    with the same explanations' chance level and the annotators' own ceiling beside them."""
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


def _grounding_statistic(
    data: TaskData, labels: Labels, aligned: Aligned
) -> tuple[Statistic, list[str]]:
    """The cue-grounding scores as one weighted statistic: (B, n) weights -> (B, m)."""
    by_name = {c.video_name: c for c in labels}
    per_clip = cues.grounding_scores(list(aligned.y_pred), [by_name[n] for n in data.video_names])
    names = ["cue_f1", "cue_precision", "cue_recall", "cue_f1_strict", "cues_named", "rouge_l"]

    def statistic(w):
        m = cues.aggregate_scores(per_clip, sample_weight=w)
        return np.stack([m[name] for name in names], axis=1)

    return statistic, names


def _soft_target(
    spec: Task, data: TaskData, labels: Labels, annotator_ratings: str | os.PathLike | None
) -> tuple[np.ndarray, str]:
    """The task's soft target, (n, K) aligned with data.video_names, and how it was made."""
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


def _soft_statistic(
    spec: Task, data: TaskData, aligned: Aligned, target: np.ndarray
) -> tuple[Statistic, list[str]]:
    """Distances from the soft target as one weighted statistic: (B, n) weights -> (B, m).

    The predicted distribution is the clip's scores, else one-hot of its predicted class;
    uniform where a clip has neither.
    """
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


def _agreement(spec: Task, data: TaskData, aligned: Aligned) -> dict[str, Any]:
    """Krippendorff's alpha between the predictions and the reference, as two raters."""
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
    """The first row of a statistic's (B, m) values, as floats."""
    return [float(v) for v in values[0]]


def _intervals(statistic: Statistic, n: int, *, ci: float, n_boot: int, seed: int,
               strata: np.ndarray | None = None) -> list[Interval]:
    """One percentile bootstrap interval per column of the statistic, on shared resamples
    (within each stratum, when given)."""
    return _as_list(bootstrap_interval(statistic, n, n_boot=n_boot, ci=ci, seed=seed, strata=strata))


def _posterior_intervals(
    data: TaskData, aligned: Aligned, names: Sequence[str], *, ci: float, n_draws: int, seed: int
) -> dict[str, Interval]:
    """Intervals of the classification metrics among ``names`` from the Dirichlet posterior
    of the expected confusion matrix (:func:`emosign.stats.posterior_confusions`)."""
    wanted = [n for n in names if n in HEADLINE["single_label"]]
    if not wanted:
        return {}
    k = len(data.classes)
    confusion = confusion_matrices(data.y_true, aligned.y_pred, n_classes=k)
    draws = posterior_confusions(confusion, n_draws=n_draws, seed=seed)
    expected = draws[..., :k]
    values = classification_from_counts(
        np.diagonal(expected, axis1=-2, axis2=-1), draws.sum(axis=-1), expected.sum(axis=-2)
    )
    point = classification_metrics(data.y_true, aligned.y_pred, n_classes=k)
    tail = (1.0 - ci) / 2.0
    out = {}
    for name in wanted:
        low, high = np.quantile(values[name], [tail, 1.0 - tail])
        out[name] = Interval(float(point[name]), float(low), float(high), ci, n_draws,
                             method="posterior")
    return out


def _union(posterior: Interval, bootstrap: Interval) -> Interval:
    """The smallest interval holding both intervals and the estimate.

    Each alone misses on EmoSign's 3-clip classes: the bootstrap of a class whose clips are
    all right or all wrong has no spread (coverage of wAcc down to 73% in the simulation
    study), the Jeffreys posterior pulls a recall that is truly 0 up (down to 87% for
    macro-F1 on emotion_single); together they keep 93% or more in every case studied
    (``benchmarks/sim_intervals_tests.py``, ``docs/statistics.md``), at the price of being
    conservative (up to 98%) when a small class is always missed.
    """
    return replace(posterior, low=min(posterior.low, bootstrap.low, posterior.estimate),
                   high=max(posterior.high, bootstrap.high, posterior.estimate),
                   n_nan=bootstrap.n_nan, method="posterior+stratified bootstrap")


def _unstable(spec: Task, data: TaskData, names: Sequence[str]) -> dict[str, Any]:
    """Which classes have fewer than MIN_CLASS_CLIPS clips, and the scores they make unstable."""
    support = np.bincount(data.y_true, minlength=len(data.classes))
    small = {c: int(n) for c, n in zip(data.classes, support) if 0 < n < MIN_CLASS_CLIPS}
    if not small:
        return {}
    return {
        "min_class_clips": MIN_CLASS_CLIPS,
        "classes": small,
        "metrics": [n for n in names if n in CLASS_AVERAGED],
        "reason": UNSTABLE_REASON.removeprefix(UNSTABLE_MARK + " "),
    }


def _per_class(spec: Task, data: TaskData, aligned: Aligned, *, ci: float) -> dict[str, dict[str, Any]]:
    """Each class's (or emotion's) own numbers: precision, recall, F1 and support (and, for
    a single-label task, the recall's exact interval and whether the class is too small to
    trust), or MAE and Spearman for intensities."""
    if spec.kind == "single_label":
        confusion = confusion_matrices(data.y_true, aligned.y_pred, n_classes=len(data.classes))
        pc = per_class_metrics(confusion)
        hits = np.diagonal(confusion[:, :-1]).round().astype(int)
        support = pc["support"].round().astype(int)
        low, high = (np.asarray(end) for end in clopper_pearson(hits, support, ci=ci))
        return {
            name: {
                **{key: (int(pc[key][i]) if key == "support" else float(pc[key][i])) for key in pc},
                "recall_ci": [float(low[i]), float(high[i])],
                "unstable": bool(0 < support[i] < MIN_CLASS_CLIPS),
            }
            for i, name in enumerate(data.classes)
        }
    if spec.kind == "multi_label":
        pc = multilabel_per_class(data.y_true, aligned.y_pred)
        out = {}
        for j, name in enumerate(data.classes):
            row: dict[str, float | int | None] = {
                key: (int(pc[key][j]) if key == "support" else float(pc[key][j]))
                for key in ("precision", "recall", "f1", "support")
            }
            if aligned.scores is not None:
                row["average_precision"] = float(average_precision(data.y_true[:, j], aligned.scores[:, j]))
            out[name] = row
        return out
    m = intensity_metrics(data.y_true, aligned.y_pred)
    mae, rho = np.asarray(m["mae_per_class"]), np.asarray(m["spearman_per_class"])
    return {
        name: {"mae": float(mae[j]), "spearman": float(rho[j])} for j, name in enumerate(data.classes)
    }


def _json_ready(value: Any) -> Any:
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


def format_table(result: dict[str, Any]) -> str:
    """A result of :func:`evaluate` as text, with percentages the way the paper prints them."""
    level = round(result["ci"]["level"] * 100)
    unstable = result.get("unstable") or {}
    flagged = set(unstable.get("metrics", ()))
    lines = [
        f"EmoSign {result['task']}: {result['n']} clips, target {result['target']}, "
        f"{level}% intervals from {result['ci']['n_boot']:,} draws",
        f"intervals: {result['ci']['method']}",
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
        alias += f" {UNSTABLE_MARK}" if name in flagged else ""
        interval = f"[{format_value(name, low)}, {format_value(name, high)}]"
        cells = "".join(f"{format_value(name, values[name]) if name in values else '':>10}"
                        for _, values in beside)
        lines.append(f"{name + alias:<26}{format_value(name, value):>8}   {interval:<18}{cells}".rstrip())
    units = [name for name in result["metrics"] if name in NOT_PERCENT]
    notes = [] if len(units) == len(result["metrics"]) else ["fractions in percent"]
    if units:
        notes.append(f"{', '.join(units)} as they are (not percentages)")
    note = "; ".join(notes)
    if beside:
        note += ("; chance: the same explanations against other clips' references; human: each "
                 "annotator against the other two")
    lines.append(note)
    if flagged:
        small = ", ".join(f"{c} {n}" for c, n in unstable["classes"].items())
        lines.append(f"{UNSTABLE_REASON} (here: {small})")
    if result["per_class"]:
        columns = [c for c in next(iter(result["per_class"].values())) if c != "unstable"]
        header = "".join(f"{f'recall {level}% CI':>18}" if c == "recall_ci" else f"{c:>12}" for c in columns)
        lines += ["", f"{'class':<24}" + header]

        def cell(column: str, value: Any) -> str:
            if column == "support":
                return f"{value:>12}"
            if column == "recall_ci":
                shown = f"[{format_value('recall', value[0])}, {format_value('recall', value[1])}]"
                return f"{shown:>18}"
            return f"{format_value(column, value):>12}"

        for name, row in result["per_class"].items():
            mark = f" {UNSTABLE_MARK}" if row.get("unstable") else ""
            lines.append(f"{name + mark:<24}" + "".join(cell(c, row[c]) for c in columns))
        if any(row.get("unstable") for row in result["per_class"].values()):
            lines.append(f"{UNSTABLE_MARK} fewer than {unstable.get('min_class_clips', MIN_CLASS_CLIPS)} "
                         "clips: the recall's exact (Clopper-Pearson) interval shows how little it says")
    names = list(result["metrics"])[:4]
    lines += ["", f"{'signer':<12}{'n':>5}" + "".join(f"{n:>20}" for n in names)]
    few = unstable.get("min_class_clips", MIN_CLASS_CLIPS)
    for signer, row in result["per_signer"].items():
        mark = f" {UNSTABLE_MARK}" if row["n"] < few else ""
        lines.append(f"{signer + mark:<12}{row['n']:>5}"
                     + "".join(f"{format_value(n, row[n]):>20}" for n in names))
    if any(row["n"] < few for row in result["per_signer"].values()):
        lines.append(f"{UNSTABLE_MARK} fewer than {few} clips: each clip weighs 1/n of the signer's "
                     "scores; read them as a handful of cases, not a rate")
    return "\n".join(lines)
