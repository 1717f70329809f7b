"""Simulation study of emosign's intervals and paired tests on EmoSign's real class sizes.

    python benchmarks/sim_intervals_tests.py --labels-file "$EMOSIGN_LABELS"

One seeded run prints, with Monte Carlo standard errors (MCSE):

1. **Coverage** of the 95% interval of every headline metric (accuracy, wAcc, wF1, macro-F1)
   on sentiment_3, sentiment_7 and emotion_single, for five designs: the percentile bootstrap
   resampling clips (``iid``, what emosign shipped), the same keeping only resamples where
   every class of the data is present (``iid|all``), resampling within each reference class
   (``stratified``), the percentile interval of the Dirichlet-Jeffreys posterior of each
   class's answers (``posterior``, :func:`emosign.stats.posterior_confusions`), and what
   ``evaluate`` now reports (``evaluate``: the smallest interval holding the stratified and
   the posterior intervals and the estimate). Below 93% is flagged ``!``, above 97% ``+``.
2. **Size** of the default paired test (the permutation swap test with the mid-p,
   :func:`emosign.stats.permutation_test`) at alpha = .05, for the same metrics and tasks,
   with the same test's conservative p (``p_value="conservative"``, on the same swap
   patterns), McNemar's exact and mid-p tests (accuracy) and the shipped paired bootstrap
   beside it;
   ``!`` when more than two MCSE above .05, ``c`` when more than two below (conservative).
3. **Agreement** of the printed interval with the p-value (the interval excludes 0 exactly
   when p <= .05), under H0 and under a true gap, for the permutation test (both p-values),
   McNemar's and the shipped bootstrap (percentile interval, shifted-bootstrap p), with the
   power at the gap.
4. **The other tasks** (``other``): coverage of the 95% percentile bootstrap over clips that
   ``evaluate`` prints for emotion_presence (micro-F1, macro-F1, Hamming loss, subset
   accuracy), emotion_intensity (MAE, Spearman) and emotion_single's soft target
   (cross-entropy, Jensen-Shannon, Manhattan), with the clips held fixed and with the clips
   drawn from the file's; see :func:`other_tasks` for the model and the target.

``--sections`` runs some of them (default all).

The model: the clips and their reference classes are the label file's (the real class
supports, e.g. 121 / 3 / 76 on sentiment_3); a system is right on a clip of class k with
chance ``recall_k``, else answers another class drawn in proportion to the supports; clips
are independent. The quantity an interval should cover is the metric of the expected
confusion matrix (for accuracy and wAcc, the expected value itself): what the system would
score on unlimited clips in the same class proportions. Recall profiles:

* ``flat``: recall .6 in every class;
* ``rare-missed``: recall .7 on classes of at least 10 clips, 0 on the smaller ones (what most
  systems do on the 3 neutral clips);
* ``rare-coin``: recall .7 on the large classes, .5 on those under 10 clips: the case where a
  3-clip class cannot be estimated.

For the tests, systems a and b follow the same profile independently (H0 holds: they are
exchangeable on every clip); for agreement, a has every recall .1 higher than b.

The whole run takes about five minutes of CPU at the defaults (printed at the end); use
``--sims``, ``--size-sims`` and ``--other-sims`` to trade time for Monte Carlo error (MCSE of a 95% coverage
is sqrt(.95 * .05 / sims), .005 at 2,000; of a .05 size, .003 at 5,000). Within a batch of
100 simulated systems the bootstrap resamples, posterior draws and swap patterns are shared
(as ``emosign.power`` shares them), fresh for every batch.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import numpy as np

from emosign._metric_functions import classification_from_counts
from emosign.labels import load_labels
from emosign.stats import bootstrap_weights, mcnemar_test, permutation_test, posterior_confusions
from emosign.tasks import get_task

TASKS = ("sentiment_3", "sentiment_7", "emotion_single")
METRICS = ("accuracy", "balanced_accuracy", "weighted_f1", "macro_f1")
SHORT = {"accuracy": "acc", "balanced_accuracy": "wAcc", "weighted_f1": "wF1", "macro_f1": "mF1"}
DESIGNS = ("iid", "iid|all", "stratified", "posterior", "evaluate")
PROFILES = ("flat", "rare-missed", "rare-coin")
SECTIONS = ("coverage", "size", "agreement", "other")
#: Classes under this many clips count as rare in the profiles (emosign's MIN_CLASS_CLIPS).
RARE = 10
ALPHA = 0.05


def recalls(profile: str, support: np.ndarray) -> np.ndarray:
    rare = support < RARE
    if profile == "flat":
        return np.full(support.size, 0.6)
    if profile == "rare-missed":
        return np.where(rare, 0.0, 0.7)
    return np.where(rare, 0.5, 0.7)


def error_matrix(support: np.ndarray, recall: np.ndarray) -> np.ndarray:
    """Row k: the chance that a clip of class k is answered as each class."""
    k = support.size
    rows = np.empty((k, k))
    for i in range(k):
        other = support.astype(float).copy()
        other[i] = 0
        rows[i] = (1 - recall[i]) * other / other.sum()
        rows[i, i] = recall[i]
    return rows


def truth(support: np.ndarray, recall: np.ndarray) -> dict[str, float]:
    """The estimand: each metric of the expected confusion matrix."""
    expected = support[:, None] * error_matrix(support, recall)
    m = classification_from_counts(np.diag(expected), expected.sum(1), expected.sum(0))
    return {name: float(m[name]) for name in METRICS}


def simulate(rng, y_true: np.ndarray, rows: np.ndarray, sims: int) -> np.ndarray:
    """(sims, n) predicted classes: clip i answered by its class's row of chances."""
    cumulative = np.cumsum(rows, axis=1)[y_true]  # (n, K)
    u = rng.random((sims, y_true.size, 1))
    return np.minimum((u > cumulative[None]).sum(axis=2), rows.shape[0] - 1)


def indicator_features(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """(n, S, 3K) per-clip hit / reference / guess indicators of S systems."""
    classes = np.arange(k)
    truth_ = np.broadcast_to((y_true[:, None] == classes)[:, None, :], (y_true.size, y_pred.shape[0], k))
    guess = y_pred.T[:, :, None] == classes
    return np.concatenate([truth_ & guess, truth_, guess], axis=2).astype(float)


def dirichlet_draws(y_true, y_pred, k, draws, seed):
    """(draws, S, 3K) class counts of S systems' expected confusion matrices, drawn by
    emosign.stats.posterior_confusions (what evaluate does), all systems at once."""
    sims = y_pred.shape[0]
    confusion = np.zeros((sims, k, k + 1))
    np.add.at(confusion, (np.arange(sims)[:, None], y_true[None, :], y_pred), 1.0)
    expected = posterior_confusions(confusion, n_draws=draws, seed=seed)[..., :k]
    tp = np.diagonal(expected, axis1=-2, axis2=-1)
    return np.concatenate([tp, expected.sum(-1), expected.sum(-2)], axis=-1)


def metrics_of_counts(counts: np.ndarray, k: int) -> dict[str, np.ndarray]:
    return classification_from_counts(counts[..., :k], counts[..., k:2 * k], counts[..., 2 * k:])


def coverage_study(y_true, k, *, sims, n_boot, seed):
    """Coverage of each design's interval, per profile and metric."""
    support = np.bincount(y_true, minlength=k)
    present = support > 0
    out = {}
    batch = 100
    for p_index, profile in enumerate(PROFILES):
        recall = recalls(profile, support)
        target = truth(support, recall)
        rows = error_matrix(support, recall)
        hits = {d: {m: 0 for m in METRICS} for d in DESIGNS}
        for b, start in enumerate(range(0, sims, batch)):
            size = min(batch, sims - start)
            rng = np.random.default_rng([seed, p_index, b])
            y_pred = simulate(rng, y_true, rows, size)
            features = indicator_features(y_true, y_pred, k).reshape(y_true.size, -1)
            observed = metrics_of_counts(features.reshape(y_true.size, size, 3 * k).sum(0), k)
            intervals = {}
            post = metrics_of_counts(dirichlet_draws(y_true, y_pred, k, n_boot, [seed, p_index, b, 9]), k)
            for metric in METRICS:
                intervals["posterior", metric] = np.nanquantile(post[metric], [ALPHA / 2, 1 - ALPHA / 2], axis=0)
            for design in ("iid", "stratified"):
                w = bootstrap_weights(y_true.size, n_boot=n_boot, seed=[seed, p_index, b, len(design)],
                                      strata=y_true if design == "stratified" else None)
                counts = (w @ features).reshape(n_boot, size, 3 * k)
                values = metrics_of_counts(counts, k)
                lacks = (counts[..., k:2 * k][..., present] == 0).any(axis=-1)  # (B, S)
                for metric in METRICS:
                    v = values[metric]
                    intervals[design, metric] = np.nanquantile(v, [ALPHA / 2, 1 - ALPHA / 2], axis=0)
                    if design == "iid":
                        intervals["iid|all", metric] = np.nanquantile(
                            np.where(lacks, np.nan, v), [ALPHA / 2, 1 - ALPHA / 2], axis=0)
            for metric in METRICS:
                # evaluate's interval: the posterior's and the class-stratified bootstrap's
                # together, widened to hold the observed score.
                (pl, ph), (sl, sh) = intervals["posterior", metric], intervals["stratified", metric]
                intervals["evaluate", metric] = (np.minimum.reduce([pl, sl, observed[metric]]),
                                                 np.maximum.reduce([ph, sh, observed[metric]]))
                for design in DESIGNS:
                    low, high = intervals[design, metric]
                    covered = (low <= target[metric] + 1e-12) & (target[metric] - 1e-12 <= high)
                    hits[design][metric] += int(covered.sum())
        out[profile] = {"target": target, "coverage": {d: {m: hits[d][m] / sims for m in METRICS}
                                                       for d in DESIGNS}}
    return out


def swapped_counts(y_true, pred_a, pred_b, swaps, k):
    """Counts (P, S, 3K) of systems a' and b' after each swap pattern."""
    fa = indicator_features(y_true, pred_a, k)
    fb = indicator_features(y_true, pred_b, k)
    base_a, base_b = fa.sum(0), fb.sum(0)  # (S, 3K)
    delta = (fb - fa).reshape(y_true.size, -1)  # (n, S*3K)
    moved = (swaps.astype(float) @ delta).reshape(swaps.shape[0], *base_a.shape)
    return base_a + moved, base_b - moved


class _Replay:
    """A swap statistic that computes on its first pass over the patterns and replays the
    same values, in the same order, on the next (permutation_test draws the same patterns
    for the same seed)."""

    def __init__(self, stat):
        self.stat, self.values, self.at = stat, [], None

    def rewind(self):
        self.at = 0

    def __call__(self, swaps):
        if swaps.shape[0] == 1 and not swaps.any():  # the observed difference: cheap
            return self.stat(swaps)
        if self.at is None:
            self.values.append(self.stat(swaps))
            return self.values[-1]
        self.at += 1
        return self.values[self.at - 1]


def test_study(y_true, k, *, sims, n_perm, n_boot, seed, gap: float):
    """Rejection rates at ALPHA and interval/p agreement of emosign's permutation test
    (emosign.stats.permutation_test, the default of compare), of McNemar's exact test
    (accuracy) and of the shipped paired bootstrap (iid resamples, shifted p, percentile
    interval)."""
    support = np.bincount(y_true, minlength=k)
    recall_b = recalls("flat", support)
    recall_a = np.clip(recall_b + gap, 0, 1)
    rows_a, rows_b = error_matrix(support, recall_a), error_matrix(support, recall_b)
    batch = 100
    tests = ("permutation", "conservative", "mcnemar", "mcnemar_mid", "bootstrap")
    rejected = {t: {m: 0 for m in METRICS} for t in tests}
    agree = {t: {m: 0 for m in METRICS} for t in tests}
    for b, start in enumerate(range(0, sims, batch)):
        size = min(batch, sims - start)
        rng = np.random.default_rng([seed, 99, b, int(gap * 1000)])
        pred_a, pred_b = simulate(rng, y_true, rows_a, size), simulate(rng, y_true, rows_b, size)
        fa = indicator_features(y_true, pred_a, k)
        fb = indicator_features(y_true, pred_b, k)

        def swapped(swaps, pred_a=pred_a, pred_b=pred_b):
            ca, cb = swapped_counts(y_true, pred_a, pred_b, swaps, k)
            ma, mb = metrics_of_counts(ca, k), metrics_of_counts(cb, k)
            return np.concatenate([ma[m] - mb[m] for m in METRICS], axis=1)  # (P, 4 S)

        # The default (mid-p) test and the conservative one on the same swap patterns: the
        # second call replays the swapped differences the first computed.
        replay = _Replay(swapped)
        for test, p_value in (("permutation", "mid"), ("conservative", "conservative")):
            results = permutation_test(replay, y_true.size, n_perm=n_perm, ci=1 - ALPHA,
                                       seed=[seed, 7, b], p_value=p_value)
            replay.rewind()
            for j, metric in enumerate(METRICS):
                chunk = results[j * size:(j + 1) * size]
                rejected[test][metric] += sum(t.p_value <= ALPHA for t in chunk)
                agree[test][metric] += sum(t.agrees for t in chunk)
        for test, p_value in (("mcnemar", "conservative"), ("mcnemar_mid", "mid")):
            mcnemar = mcnemar_test(pred_a == y_true, pred_b == y_true, ci=1 - ALPHA, p_value=p_value)
            rejected[test]["accuracy"] += sum(t.p_value <= ALPHA for t in mcnemar)
            agree[test]["accuracy"] += sum(t.agrees for t in mcnemar)
        # the shipped paired bootstrap: iid resamples, shifted p, percentile interval
        w = bootstrap_weights(y_true.size, n_boot=n_boot, seed=[seed, 8, b])
        ba = metrics_of_counts((w @ fa.reshape(y_true.size, -1)).reshape(n_boot, size, 3 * k), k)
        bb = metrics_of_counts((w @ fb.reshape(y_true.size, -1)).reshape(n_boot, size, 3 * k), k)
        observed_a, observed_b = metrics_of_counts(fa.sum(0), k), metrics_of_counts(fb.sum(0), k)
        for metric in METRICS:
            d = observed_a[metric] - observed_b[metric]
            rep = ba[metric] - bb[metric]
            p_b = (1 + (np.abs(rep - d) >= np.abs(d) * (1 - 1e-9)).sum(0)) / (1 + n_boot)
            low, high = np.quantile(rep, [ALPHA / 2, 1 - ALPHA / 2], axis=0)
            excludes_b = (low > 0) | (high < 0)
            rejected["bootstrap"][metric] += int((p_b <= ALPHA).sum())
            agree["bootstrap"][metric] += int((excludes_b == (p_b <= ALPHA)).sum())
    return ({t: {m: v / sims for m, v in r.items()} for t, r in rejected.items()},
            {t: {m: v / sims for m, v in r.items()} for t, r in agree.items()})


def mcse(p: float, sims: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-12) / sims)


# --- the other tasks: multi-label presence, intensities, soft targets --------------------------

#: The profiles of the other tasks' simulated systems (see other_tasks).
PRESENCE_PROFILES = ("flat", "sparse", "skewed")
INTENSITY_PROFILES = ("integer", "shrunk")
SOFT_PROFILES = ("scores", "one-hot")
OTHER_METRICS = {
    "emotion_presence": ("micro_f1", "macro_f1", "hamming_loss", "subset_accuracy"),
    "emotion_intensity": ("mae", "spearman"),
    "emotion_single (soft)": ("cross_entropy", "jensen_shannon", "manhattan"),
}
OTHER_SHORT = {"micro_f1": "miF1", "macro_f1": "maF1", "hamming_loss": "Ham", "subset_accuracy": "Sub",
               "mae": "MAE", "spearman": "rho", "cross_entropy": "CE", "jensen_shannon": "JS",
               "manhattan": "L1"}
#: Copies of every clip in the population whose metric is the target of a non-linear metric.
POPULATION_COPIES = 500


def presence_chances(profile: str, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(sensitivity, false-positive rate) per emotion: the chance of answering "present"
    when the emotion is present, and when it is absent."""
    if profile == "flat":
        return np.full(k, 0.7), np.full(k, 0.15)
    if profile == "sparse":
        return np.full(k, 0.4), np.full(k, 0.03)
    return np.linspace(0.3, 0.9, k), np.linspace(0.25, 0.05, k)


def presence_answers(rng, truth: np.ndarray, profile: str, sims: int) -> np.ndarray:
    """(sims, n, K) presence answers, each (clip, emotion) independently; ``truth`` (n, K)
    or (sims, n, K)."""
    sensitivity, false_positive = presence_chances(profile, truth.shape[-1])
    chance = np.where(truth, sensitivity, false_positive)
    return rng.random((sims, *truth.shape[-2:])) < chance


def presence_terms(truth: np.ndarray, answers: np.ndarray) -> np.ndarray:
    """(n, S, 3K + 2) per-clip TP, FP, FN per emotion, the clip's Hamming loss and whether
    all K answers are right: every multi-label metric is a function of their sums. ``truth``
    (n, K), or (S, n, K), one reference per simulated system."""
    t = truth if truth.ndim == 3 else truth[None]
    terms = np.concatenate([t & answers, ~t & answers, t & ~answers,
                            (t != answers).mean(-1, keepdims=True),
                            (t == answers).all(-1, keepdims=True)], axis=-1).astype(float)
    return terms.transpose(1, 0, 2)


def presence_metrics(sums: np.ndarray, n: np.ndarray | float, k: int) -> dict[str, np.ndarray]:
    """The four multi-label metrics from summed terms (..., 3K + 2) over ``n`` clips, as
    emosign.metrics.multilabel_metrics defines them (an F1 of 0/0 is 0)."""
    tp, fp, fn = sums[..., :k], sums[..., k:2 * k], sums[..., 2 * k:3 * k]
    with np.errstate(divide="ignore", invalid="ignore"):
        micro = 2 * tp.sum(-1) / (2 * tp.sum(-1) + fp.sum(-1) + fn.sum(-1))
        per = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return {"micro_f1": micro, "macro_f1": per.mean(-1), "hamming_loss": sums[..., 3 * k] / n,
            "subset_accuracy": sums[..., 3 * k + 1] / n}


def presence_target(truth: np.ndarray, profile: str) -> dict[str, float]:
    """The metrics of the expected answers: F1 of the expected counts; the expected Hamming
    loss and subset accuracy (means of per-clip terms, so their expectations)."""
    sensitivity, false_positive = presence_chances(profile, truth.shape[1])
    chance = np.where(truth, sensitivity, false_positive)
    right = np.where(truth, chance, 1 - chance)
    k = truth.shape[1]
    sums = np.concatenate([(truth * chance).sum(0), (~truth * chance).sum(0),
                           (truth * (1 - chance)).sum(0), [(1 - right).mean(1).sum()],
                           [right.prod(1).sum()]])
    return {m: float(v) for m, v in presence_metrics(sums, truth.shape[0], k).items()}


def intensity_answers(rng, truth: np.ndarray, profile: str, sims: int) -> np.ndarray:
    """(sims, n, K) intensity answers: ``integer``, the reference plus normal noise (sd .8)
    rounded to 0...3 (what a model asked for a number answers); ``shrunk``, pulled towards the
    middle (.6 + .5 x reference, noise sd .5) in half steps."""
    noise = rng.standard_normal((sims, *truth.shape[-2:]))
    if profile == "integer":
        return np.clip(np.round(truth + 0.8 * noise), 0, 3)
    return np.clip(np.round(2 * (0.6 + 0.5 * truth + 0.5 * noise)) / 2, 0, 3)


def soft_answers(rng, target: np.ndarray, profile: str, sims: int) -> np.ndarray:
    """(sims, n, K) predicted distributions around the soft target: ``scores``, a Dirichlet
    draw of concentration 10 around .6 target + .4 uniform; ``one-hot``, one class drawn from
    that mixture (what evaluate scores for a file without score columns)."""
    k = target.shape[-1]
    centre = 0.6 * target + 0.4 / k
    shape = (sims, *target.shape[-2:])
    if profile == "scores":
        draws = rng.standard_gamma(np.broadcast_to(10 * centre, shape))
        return draws / draws.sum(-1, keepdims=True)
    cumulative = np.cumsum(centre, axis=-1)
    u = rng.random((*shape[:2], 1))
    picked = np.minimum((u > np.broadcast_to(cumulative, shape)).sum(-1), k - 1)
    return np.eye(k)[picked]


OTHER_DESIGNS = ("fixed", "drawn")


def other_tasks(labels, *, sims: int, n_boot: int, seed: int) -> bool:
    """Coverage of the 95% intervals evaluate prints on emotion_presence, emotion_intensity
    and emotion_single's soft target: the percentile bootstrap over clips (its design there).

    The references are the label file's; a system's answers are drawn per clip (and
    emotion) as each profile says, independently. The target, what a system would score on
    unlimited answers to clips like the file's: for metrics that are means over clips
    (Hamming loss, subset accuracy, MAE, the soft distances), the expected value over the
    answers; for the F1 scores, the F1 of the expected counts; for Spearman's rho, its value
    on POPULATION_COPIES answers to every clip. Two designs: ``fixed``, the clips are the
    file's, only the answers vary (the single-label study's design, its class supports
    fixed); ``drawn``, each simulated system answers n clips drawn with replacement from the
    file, so which clips were labelled varies too: the design the iid bootstrap mimics.
    Returns whether every cell is at least 93%.
    """
    from emosign._metric_functions import distribution_metrics, intensity_metrics
    from emosign.annotators import intensity_target

    ok = True
    batch = 100
    print(f"\n== the other tasks: coverage of the 95% percentile bootstrap over clips (what "
          f"evaluate prints; MCSE {mcse(0.95, sims):.3f}; ! = below 93%, + = above 97%)")
    presence = np.asarray(get_task("emotion_presence").bind(labels).y_true, dtype=bool)
    intensity = np.asarray(get_task("emotion_intensity").bind(labels).y_true, dtype=float)
    single = get_task("emotion_single").bind(labels)
    by_name = {c.video_name: c for c in labels}
    soft = intensity_target([by_name[name] for name in single.video_names])
    print(f"emotion_presence: {presence.shape[0]} clips, emotions present on "
          f"{presence.sum(0).min()}-{presence.sum(0).max()} clips; emotion_intensity: "
          f"non-zero on {(intensity > 0).sum(0).min()}-{(intensity > 0).sum(0).max()}; "
          f"emotion_single soft target: {soft.shape[0]} clips, "
          f"{(soft.max(1) < 1).sum()} of them with mass on more than one class")
    for task, metrics in OTHER_METRICS.items():
        profiles = (PRESENCE_PROFILES if task == "emotion_presence" else INTENSITY_PROFILES
                    if task == "emotion_intensity" else SOFT_PROFILES)
        reference = {"emotion_presence": presence, "emotion_intensity": intensity}.get(task, soft)
        n = reference.shape[0]
        print(f"\n{task}")
        print(f"{'profile':<12}{'clips':<12}" + "".join(f"{OTHER_SHORT[m]:>9}" for m in metrics))
        for p_index, profile in enumerate(profiles):
            population_rng = np.random.default_rng([seed, 50, p_index, len(task)])
            if task == "emotion_presence":
                target = presence_target(presence, profile)
            elif task == "emotion_intensity":
                answers = intensity_answers(population_rng, intensity, profile, POPULATION_COPIES)
                m = intensity_metrics(np.tile(intensity, (POPULATION_COPIES, 1)),
                                      answers.reshape(-1, intensity.shape[1]))
                target = {name: float(m[name]) for name in metrics}
            else:
                answers = soft_answers(population_rng, soft, profile, POPULATION_COPIES)
                m = distribution_metrics(np.tile(soft, (POPULATION_COPIES, 1)),
                                         answers.reshape(-1, soft.shape[1]))
                target = {name: float(m[name]) for name in metrics}
            print(f"{profile:<12}{'(target)':<12}" + "".join(f"{target[m]:>9.3f}" for m in metrics))
            for d_index, design in enumerate(OTHER_DESIGNS):
                hits = dict.fromkeys(metrics, 0)
                for b, start in enumerate(range(0, sims, batch)):
                    size = min(batch, sims - start)
                    rng = np.random.default_rng([seed, 60, p_index, d_index, b, len(task)])
                    # (size, n, K): each system's references, the file's or drawn from them
                    clips = (np.broadcast_to(np.arange(n), (size, n)) if design == "fixed"
                             else rng.integers(0, n, size=(size, n)))
                    truth = reference[clips]
                    w = bootstrap_weights(n, n_boot=n_boot, seed=[seed, 61, p_index, d_index, b])
                    if task == "emotion_presence":
                        terms = presence_terms(truth, presence_answers(rng, truth, profile, size))
                        sums = (w @ terms.reshape(n, -1)).reshape(n_boot, size, -1)
                        values = presence_metrics(sums, w.sum(1)[:, None], truth.shape[-1])
                    else:
                        score = intensity_metrics if task == "emotion_intensity" else distribution_metrics
                        make = intensity_answers if task == "emotion_intensity" else soft_answers
                        answers = make(rng, truth, profile, size)
                        per_system = [score(t, a, sample_weight=w) for t, a in zip(truth, answers)]
                        values = {name: np.stack([v[name] for v in per_system], axis=1)
                                  for name in metrics}
                    for name in metrics:
                        low, high = np.nanquantile(values[name], [ALPHA / 2, 1 - ALPHA / 2], axis=0)
                        hits[name] += int(((low <= target[name] + 1e-12)
                                           & (target[name] - 1e-12 <= high)).sum())
                cells = []
                for name in metrics:
                    c = hits[name] / sims
                    flag = "!" if c < 0.93 else "+" if c > 0.97 else " "
                    ok &= flag != "!"
                    cells.append(f"{c:>8.3f}{flag}")
                print(f"{'':<12}{design:<12}" + "".join(cells))
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels-file", default=os.environ.get("EMOSIGN_LABELS"))
    parser.add_argument("--sims", type=int, default=2000, help="simulated systems (pairs) per cell")
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap resamples per interval")
    parser.add_argument("--perm", type=int, default=999, help="swap patterns per permutation test")
    parser.add_argument("--size-sims", type=int, default=5000,
                        help="simulated pairs per cell of the size study (MCSE .003 at 5,000)")
    parser.add_argument("--other-sims", type=int, default=1000,
                        help="simulated systems per cell of the other tasks' coverage (MCSE "
                        ".007 at 1,000, .005 at 2,000; about 0.1 CPU second each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="which parts to run (default: all): coverage, size, agreement of "
                        "the three single-label tasks; other, the coverage on emotion_presence, "
                        "emotion_intensity and the soft targets")
    args = parser.parse_args(argv)
    if not args.labels_file:
        parser.error("give --labels-file or set EMOSIGN_LABELS")
    started = time.process_time()
    labels = load_labels(args.labels_file)
    print("command: python benchmarks/sim_intervals_tests.py " + " ".join(argv or sys.argv[1:]))
    print(f"emosign simulation study: {args.sims} simulations per cell, {args.boot} bootstrap "
          f"resamples, {args.perm} swap patterns, seed {args.seed}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cores; labels {args.labels_file}")
    coverage_ok = size_ok = True
    outside = 0
    sections = set(args.sections)
    for task in TASKS if sections & {"coverage", "size", "agreement"} else ():
        data = get_task(task).bind(labels)
        y_true = np.asarray(data.y_true)
        k = len(data.classes)
        support = np.bincount(y_true, minlength=k)
        print(f"\n== {task}: {y_true.size} clips, supports "
              + ", ".join(f"{c} {s}" for c, s in zip(data.classes, support)))
        if "coverage" in sections:
            print("\n1. coverage of the 95% interval (MCSE "
                  f"{mcse(0.95, args.sims):.3f}; ! = below 93%, + = above 97%)")
            print(f"{'profile':<12}{'design':<12}" + "".join(f"{SHORT[m]:>9}" for m in METRICS))
            results = coverage_study(y_true, k, sims=args.sims, n_boot=args.boot, seed=args.seed)
            for profile, r in results.items():
                print(f"{profile:<12}{'(target)':<12}"
                      + "".join(f"{100 * r['target'][m]:>9.1f}" for m in METRICS))
                for design in DESIGNS:
                    cells = []
                    for m in METRICS:
                        c = r["coverage"][design][m]
                        flag = "!" if c < 0.93 else "+" if c > 0.97 else " "
                        if design == "evaluate" and flag == "!":
                            coverage_ok = False
                        cells.append(f"{c:>8.3f}{flag}")
                    print(f"{'':<12}{design:<12}" + "".join(cells))
        labels_ = (("permutation", "permutation mid-p (default)"),
                   ("conservative", "permutation conservative"), ("mcnemar", "McNemar exact"),
                   ("mcnemar_mid", "McNemar mid-p"), ("bootstrap", "bootstrap (shipped)"))
        if "size" in sections or "agreement" in sections:
            rates, null_agreement = test_study(y_true, k, sims=args.size_sims, n_perm=args.perm,
                                               n_boot=args.boot, seed=args.seed, gap=0.0)
        if "size" in sections:
            se = mcse(ALPHA, args.size_sims)
            print(f"\n2. size at alpha = .05 under H0 (a, b exchangeable; {args.size_sims} pairs, "
                  f"MCSE {se:.3f}; ! = more than 2 MCSE above .05, c = more than 2 MCSE below)")
            print(f"{'test':<30}" + "".join(f"{SHORT[m]:>9}" for m in METRICS))
            for test, label in labels_:
                cells = []
                for m in METRICS:
                    if test.startswith("mcnemar") and m != "accuracy":
                        cells.append(f"{'-':>9}")
                        continue
                    rate = rates[test][m]
                    flag = "!" if rate > ALPHA + 2 * se else "c" if rate < ALPHA - 2 * se else " "
                    if test == "permutation" and flag != " ":
                        size_ok = False
                        outside += 1
                    cells.append(f"{rates[test][m]:>8.3f}{flag}")
                print(f"{label:<30}" + "".join(cells))
        if "agreement" in sections:
            power, agreement = test_study(y_true, k, sims=args.sims, n_perm=args.perm,
                                          n_boot=args.boot, seed=args.seed, gap=0.1)
            print("\n3. interval/p agreement (the interval excludes 0 exactly when p <= .05), "
                  "under H0 and with a's recalls .1 above b's; and the power there")
            print(f"{'test':<38}" + "".join(f"{SHORT[m]:>9}" for m in METRICS))
            for test, label in labels_:
                for what, table in (("agreement H0", null_agreement), ("agreement +.1", agreement),
                                    ("power +.1", power)):
                    cells = "".join(f"{table[test][m]:>9.3f}" if not test.startswith("mcnemar") or m == "accuracy"
                                    else f"{'-':>9}" for m in METRICS)
                    print(f"{label.replace(' (default)', '') + ' ' + what:<38}" + cells)
    if "other" in sections:
        coverage_ok &= other_tasks(labels, sims=args.other_sims, n_boot=args.boot, seed=args.seed)
    cpu = time.process_time() - started
    verdicts = []
    if sections & {"coverage", "other"}:
        verdicts.append(f"evaluate's coverage at least 93% everywhere: {coverage_ok}")
    if "size" in sections:
        verdicts.append("the default (mid-p) permutation test's size within 2 MCSE of .05 in "
                        f"every cell: {size_ok} ({outside} of 12 outside)")
    print("\n" + "; ".join(verdicts))
    print(f"CPU seconds: {cpu:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
