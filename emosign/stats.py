"""Bootstrap intervals, paired bootstrap tests and Krippendorff's alpha for EmoSign scores.

EmoSign scores rest on 140 or 200 clips, so every number the toolkit reports comes with a
bootstrap interval, and every claim that one system beats another with a paired test.

The bootstrap here works on **sample weights** rather than on resampled arrays. Drawing ``n``
clips with replacement is the same as giving each clip a weight equal to the number of times
it was drawn; those counts are one row of a multinomial draw ``Multinomial(n, (1/n, ..., 1/n))``.
For any metric with scikit-learn ``sample_weight`` semantics::

    metric(y[idx], p[idx]) == metric(y, p, sample_weight=np.bincount(idx, minlength=n))

so one array of counts of shape ``(B, n)`` stands for ``B`` resamples, and a metric that
accepts 2-D weights scores all of them at once.

A **weighted statistic** is any callable ``stat(weights) -> values`` mapping integer weights of
shape ``(B, n)`` to values of shape ``(B,)``, or ``(B, m)`` for ``m`` statistics at once. It
must not modify ``weights`` (the arrays passed in are read-only, because the paired test feeds
the same rows to two systems). Evaluated on ``np.ones((1, n))`` it gives the full-data value.

Public API
----------
* :func:`bootstrap_weights`: the ``(n_boot, n)`` multinomial counts, optionally per stratum.
* :func:`percentile_interval`: NaN-aware percentile interval of bootstrap samples.
* :func:`bootstrap_interval`: estimate plus percentile interval of a weighted statistic.
* :func:`paired_bootstrap`: difference of two systems on the same clips, its interval and a
  two-sided p-value (clips or whole clusters resampled).
* :func:`swap_patterns`, :func:`permutation_test`, :func:`sign_flip_test`: the paired
  permutation (swap) test, clip by clip or cluster by cluster, its mid-p (default) or
  conservative p-value and the interval that inverts it; vectorised over many statistics
  (simulated system pairs) at once.
* :func:`mcnemar_test`: McNemar's exact (or mid-p) test of two accuracies, with the interval
  that inverts it; vectorised over rows of correct-indicator matrices.
* :func:`clopper_pearson`: the exact interval of a binomial proportion (a class's recall).
* :func:`posterior_confusions`: draws of the expected confusion matrix, each reference
  class's answers from a Dirichlet posterior with a Jeffreys prior on right/wrong: the
  intervals of class-averaged scores that stay honest at 3 clips a class.
* :func:`holm`: Holm's step-down adjustment of several p-values.
* :func:`krippendorff_alpha`, :func:`model_reference_alpha`: inter-rater agreement.
Power and minimum detectable differences live in :mod:`emosign.power`, which builds on this
module: the tests take many simulated pairs at once (the columns of a statistic, or the rows
of (n_sims, n) arrays), all tested on the same resamples or swap patterns.

This module is a leaf: it imports nothing from the rest of ``emosign`` but the errors and the
private thread-budget helper ``emosign._threads``.

References
----------
Brown, L. D., Cai, T. T. and DasGupta, A. (2001). Interval estimation for a binomial
proportion. *Statistical Science* 16(2), 101-133 (the Jeffreys interval).

Clopper, C. J. and Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated
in the case of the binomial. *Biometrika* 26(4), 404-413.

Davison, A. C. and Hinkley, D. V. (1997). *Bootstrap Methods and their Application*.
Cambridge University Press; section 3.8 (the cluster bootstrap), ch. 4 (tests).

Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall;
ch. 13 (percentile intervals) and ch. 16 (hypothesis testing with the bootstrap).

Fagerland, M. W., Lydersen, S. and Laake, P. (2013). The McNemar test for binary
matched-pairs data: mid-p and asymptotic are better than exact conditional. *BMC Medical
Research Methodology* 13, 91.

Good, P. I. (2005). *Permutation, Parametric and Bootstrap Tests of Hypotheses*, 3rd ed.
Springer; ch. 3 (paired permutation tests, Monte Carlo p-values) and ch. 6 (intervals by
inverting a test).

Hall, P. (1988). On symmetric bootstrap confidence intervals. *Journal of the Royal
Statistical Society B* 50(1), 35-45.

Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
Journal of Statistics* 6(2), 65-70.

Koehn, P. (2004). Statistical significance tests for machine translation evaluation. EMNLP.

Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
Communication Departmental Papers 43.

Lancaster, H. O. (1961). Significance tests in discrete distributions. *Journal of the
American Statistical Association* 56(294), 223-234 (the mid-p).

McNemar, Q. (1947). Note on the sampling error of the difference between correlated
proportions or percentages. *Psychometrika* 12(2), 153-157.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import krippendorff
import numpy as np
from numpy.typing import ArrayLike

from emosign import _defaults
from emosign._threads import one_thread
from emosign.errors import InputError

__all__ = [
    "INTERVALS",
    "Interval",
    "LEVELS",
    "P_VALUES",
    "PairedTest",
    "SwapStatistic",
    "TESTS",
    "WeightedStatistic",
    "bootstrap_interval",
    "bootstrap_weights",
    "clopper_pearson",
    "holm",
    "krippendorff_alpha",
    "mcnemar_test",
    "model_reference_alpha",
    "paired_bootstrap",
    "percentile_interval",
    "permutation_test",
    "posterior_confusions",
    "sign_flip_test",
    "swap_patterns",
]

WeightedStatistic = Callable[[np.ndarray], np.ndarray]
"""``stat(weights)``: integer weights of shape (B, n) -> values of shape (B,) or (B, m)."""

SwapStatistic = Callable[[np.ndarray], np.ndarray]
"""``stat(swaps)``: bool swaps of shape (P, n) -> differences a - b of shape (P,) or (P, m).

Row ``p`` says, for each clip, whether systems a and b trade their answers on it; the value
is ``metric(a') - metric(b')`` of the systems after the trade. A row of False gives the
observed difference."""

TESTS = ("permutation", "bootstrap", "mcnemar")
"""The paired tests, as ``PairedTest.method`` names them."""

INTERVALS = ("inverted", "percentile")
"""How ``PairedTest.low`` and ``high`` were made: by inverting the test that gave the p-value
(they agree by construction), or as the bootstrap percentile interval (a different procedure)."""

P_VALUES = ("mid", "conservative")
"""The permutation test's p-values, as ``PairedTest.p_value_type`` names them: the mid-p (ties
with the observed difference count one half) or the conservative one (they count whole)."""

LEVELS = ("nominal", "ordinal", "interval", "ratio")
"""Levels of measurement accepted by :func:`krippendorff_alpha`."""

# Rows of weights drawn and handed to a statistic at a time. A metric over one-hot or
# confusion-matrix intermediates may hold several (chunk, n, n_classes) float arrays;
# 2,000 x 200 x 10 floats is 32 MB each, a comfortable bound where 10,000 rows at once would
# be 160 MB.
DEFAULT_CHUNK_SIZE = 2_000
# ... and at most this many weights (rows x clips) per chunk, so that memory stays bounded
# when n grows: 2,000 rows of EmoSign's 200 clips, 20 rows of 20,000 clips.
_CHUNK_CELLS = DEFAULT_CHUNK_SIZE * 200

# Relative slack in the p-value's "at least as extreme" comparison, so that resamples tying
# with the observed difference in exact arithmetic are not lost to rounding (e.g. accuracy
# differences are multiples of 1/n). It can only raise p, never lower it.
_TIE_RTOL = 1e-9
# A difference this close to 0 is 0 (metrics are fractions or scale steps; 1e-12 is far below
# any real step, 1/n, and far above the rounding of equal sums added in another order).
_ZERO_ATOL = 1e-12


# --------------------------------------------------------------------------------------------
# Resampling


def bootstrap_weights(
    n: int,
    *,
    n_boot: int = _defaults.N_BOOT,
    seed: int | np.random.Generator = 0,
    strata: ArrayLike | None = None,
    clusters: ArrayLike | None = None,
) -> np.ndarray:
    """Multinomial counts of ``n_boot`` bootstrap resamples of ``n`` items.

    Resample ``b`` draws ``n`` item indices uniformly with replacement, and row ``b`` counts how
    many times each item was drawn: a draw of ``Multinomial(n, (1/n, ..., 1/n))`` that sums
    to ``n``.

    Parameters
    ----------
    n : int
        Number of items (clips), at least 1.
    n_boot : int, default=10_000
        Number of resamples, at least 1.
    seed : int or numpy.random.Generator, default=0
        Seed for ``numpy.random.default_rng``; the same int gives the same counts on every run
        with the same numpy version (numpy does not promise identical streams across
        versions). A Generator is used, and advanced, as is.
    strata : array-like of shape (n,), optional
        A label per item, e.g. the signer of each clip. When given, each stratum is resampled
        on its own: within every row, the counts of a stratum's items sum to the stratum's
        size, so each resample keeps the design's stratum sizes. Strata are drawn in sorted
        order of their labels, which keeps the draw reproducible.
    clusters : array-like of shape (n,), optional
        A label per item naming its cluster, e.g. the source video of each clip. When given,
        whole clusters are resampled (the cluster bootstrap, Davison & Hinkley 1997,
        section 3.8): a row draws as many clusters as there are, with replacement, and every
        item of a cluster drawn ``k`` times gets weight ``k``. Rows then sum to different
        totals. Not together with ``strata``.

    Returns
    -------
    weights : ndarray of shape (n_boot, n), dtype int64
        Non-negative counts. Memory is ``8 * n_boot * n`` bytes, 16 MB for 10,000 x 200;
        :func:`bootstrap_interval` and :func:`paired_bootstrap` draw the same rows a chunk at
        a time instead and never hold them all.
    """
    n = _positive_int(n, "n")
    n_boot = _positive_int(n_boot, "n_boot")
    return np.concatenate(list(_weight_chunks(n, n_boot=n_boot, seed=seed, strata=strata,
                                              clusters=clusters)))


def _weight_chunks(
    n: int,
    *,
    n_boot: int,
    seed: int | np.random.Generator,
    strata: ArrayLike | None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    clusters: ArrayLike | None = None,
) -> Iterator[np.ndarray]:
    """The rows of :func:`bootstrap_weights`, drawn and yielded a chunk at a time.

    Concatenated, the chunks are exactly ``bootstrap_weights(n, ...)``: numpy draws the
    same stream whether ``rng.integers`` is asked for all rows at once or for a few rows at a
    time. Memory is one chunk, at most ``chunk_size`` rows and ``_CHUNK_CELLS`` counts.
    """
    rows = max(1, min(chunk_size, _CHUNK_CELLS // n))
    if clusters is not None:
        if strata is not None:
            raise InputError("strata and clusters cannot be combined: a cluster holds items of "
                             "several strata; give one of them")
        codes, n_clusters = _cluster_codes(clusters, n)
        rng = np.random.default_rng(seed)
        for start in range(0, n_boot, rows):
            yield _resample_counts(rng, n_clusters, min(rows, n_boot - start))[:, codes]
        return
    rng = np.random.default_rng(seed)
    if strata is None:
        for start in range(0, n_boot, rows):
            yield _resample_counts(rng, n, min(rows, n_boot - start))
        return

    # The stream holds stratum 1's n_boot rows, then stratum 2's, and so on. To hand out row
    # chunks, each stratum gets its own generator positioned where its rows begin, found by
    # one pass that draws and discards (it also leaves ``rng`` where the full draw would).
    members = _strata_members(strata, n)
    starts = []
    for m in members:
        starts.append(copy.deepcopy(rng))
        for start in range(0, n_boot, rows):
            rng.integers(0, m.size, size=(min(rows, n_boot - start), m.size))
    for start in range(0, n_boot, rows):
        block = np.zeros((min(rows, n_boot - start), n), dtype=np.int64)
        for m, generator in zip(members, starts):
            block[:, m] = _resample_counts(generator, m.size, block.shape[0])
        yield block


def percentile_interval(
    samples: ArrayLike, *, ci: float = _defaults.CI
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap samples, ignoring NaN samples.

    ``low`` and ``high`` are the ``(1 - ci) / 2`` and ``(1 + ci) / 2`` quantiles of the
    samples (linear interpolation between order statistics, numpy's default).

    A NaN sample is a resample on which the statistic is undefined, e.g. a per-class score for
    a class that no clip of the resample has. Those samples are dropped, so the interval is
    conditional on the statistic being defined; when many are NaN it describes a different
    population from the full-data estimate, so count them (:attr:`Interval.n_nan` does). If
    every sample is NaN, both ends are NaN.

    Parameters
    ----------
    samples : array-like of shape (B,) or (B, m)
        Bootstrap replicates, one row per resample; columns are separate statistics.
    ci : float, default=0.95
        Coverage, strictly between 0 and 1.

    Returns
    -------
    (low, high) : two floats for 1-D ``samples``, two arrays of shape (m,) for 2-D.
    """
    ci = _check_ci(ci)
    samples = np.asarray(samples, dtype=float)
    if samples.ndim not in (1, 2) or samples.shape[0] == 0:
        raise InputError(
            f"samples must have shape (B,) or (B, m) with B >= 1; got shape {samples.shape}"
        )
    tail = (1.0 - ci) / 2.0
    with warnings.catch_warnings():
        # An all-NaN column gives NaN ends, as documented; the warning would only repeat that.
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanquantile(samples, [tail, 1.0 - tail], axis=0)
    if samples.ndim == 1:
        return float(low), float(high)
    return low, high


# --------------------------------------------------------------------------------------------
# Intervals and paired tests


@dataclass(frozen=True)
class Interval:
    """A point estimate with a bootstrap interval.

    ``estimate`` is the statistic on the full data (every clip weighted 1); ``low`` and
    ``high`` bound the ``ci`` percentile interval over ``n_boot`` resamples, of which
    ``n_nan`` gave an undefined (NaN) statistic and were left out.
    """

    estimate: float
    low: float
    high: float
    ci: float
    n_boot: int
    method: str = "percentile"
    n_nan: int = 0

    def __str__(self) -> str:
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}]"


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of systems a and b scored on the same clips.

    Attributes
    ----------
    difference : float
        ``stat_a - stat_b`` on the full data.
    low, high : float
        The ``ci`` interval of the difference, made as ``interval`` says; ``-inf`` and
        ``inf`` when the test cannot reject any difference at ``1 - ci`` (too few
        resamples, permutations or discordant clips).
    p_value : float
        Two-sided p-value of H0 "the systems score the same", by the test ``method``.
    n_boot : int
        Resamples (bootstrap) or swap patterns (permutation; ``2**G - 1`` when enumerated
        exactly) behind the p-value; 0 for McNemar's exact test.
    ci : float
        Coverage of the interval.
    n_nan : int
        Resamples where the difference was undefined, left out.
    method : str
        One of :data:`TESTS`: ``"permutation"`` (:func:`permutation_test`), ``"bootstrap"``
        (:func:`paired_bootstrap`) or ``"mcnemar"`` (:func:`mcnemar_test`).
    interval : str
        One of :data:`INTERVALS`. ``"inverted"``: the differences the same test does not
        reject at level ``1 - ci``, so that ``p_value <= 1 - ci`` exactly when the interval
        excludes 0. ``"percentile"``: the bootstrap percentile interval, a different
        procedure from the p-value, which may disagree with it near the boundary.
    p_holm : float or None
        Holm's adjusted p-value (:func:`holm`) when this test is one of several reported
        together; None when it stands alone.
    clusters : int or None
        The number of clusters resampled or permuted whole; None when the units are clips.
    exact : bool
        Whether the p-value is exact (every swap pattern enumerated, or McNemar's binomial)
        rather than a Monte Carlo estimate.
    p_value_type : str
        One of :data:`P_VALUES`: ``"mid"`` when ties with the observed difference counted one
        half (:func:`permutation_test`'s default; :func:`mcnemar_test` on request),
        ``"conservative"`` when they counted whole (McNemar's exact test, the default; the
        bootstrap always; the permutation test on request).
    """

    difference: float
    low: float
    high: float
    p_value: float
    n_boot: int
    ci: float
    n_nan: int = 0
    method: str = "bootstrap"
    interval: str = "percentile"
    p_holm: float | None = None
    clusters: int | None = None
    exact: bool = False
    p_value_type: str = "conservative"

    @property
    def agrees(self) -> bool:
        """Whether the interval and the p-value tell the same story at level ``1 - ci``: the
        interval excludes 0 exactly when ``p_value <= 1 - ci``. Always True for an
        ``"inverted"`` interval (up to rounding); NaN results agree vacuously."""
        if any(np.isnan(v) for v in (self.low, self.high, self.p_value)):
            return True
        excludes = not (self.low <= 0.0 <= self.high)
        return excludes == (self.p_value <= 1.0 - self.ci + 1e-12)


def bootstrap_interval(
    stat: WeightedStatistic,
    n: int,
    *,
    n_boot: int = _defaults.N_BOOT,
    ci: float = _defaults.CI,
    seed: int | np.random.Generator = 0,
    strata: ArrayLike | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    clusters: ArrayLike | None = None,
) -> Interval | list[Interval]:
    """Estimate and percentile bootstrap interval of a weighted statistic.

    ``estimate = stat(ones((1, n)))[0]``; the interval is :func:`percentile_interval` of
    ``stat(bootstrap_weights(n, n_boot=n_boot, seed=seed, strata=strata))``, evaluated
    ``chunk_size`` rows at a time so the statistic's intermediates stay small.

    Parameters
    ----------
    stat : callable
        Weighted statistic: int weights of shape (B, n) -> shape (B,) or (B, m).
    n : int
        Number of clips the statistic is defined over.
    n_boot, seed, strata, clusters
        As in :func:`bootstrap_weights`.
    ci : float, default=0.95
        Coverage of the interval, strictly between 0 and 1.
    chunk_size : int, default=2_000
        Rows of weights drawn and passed to ``stat`` at a time (fewer when ``n`` is large, so
        that a chunk holds at most 400,000 counts); does not change the result. Memory is
        bounded by a chunk, not by ``n_boot``.

    Returns
    -------
    Interval if ``stat`` returns shape (B,); a list of ``m`` Intervals, one per column, if it
    returns shape (B, m).
    """
    ci = _check_ci(ci)
    chunk_size = _positive_int(chunk_size, "chunk_size")
    # The full-data call comes first: it checks the statistic's shape before any resampling.
    estimate = _full_data_value(stat, n, "stat")
    n_boot = _positive_int(n_boot, "n_boot")
    chunks = _weight_chunks(n, n_boot=n_boot, seed=seed, strata=strata, chunk_size=chunk_size,
                            clusters=clusters)
    (samples,) = _evaluate((stat,), chunks, estimate.shape, ("stat",))
    low, high = percentile_interval(samples, ci=ci)
    n_nan = np.isnan(samples).sum(axis=0)

    def interval(e, lo, hi, k) -> Interval:
        return Interval(float(e), float(lo), float(hi), ci, n_boot, n_nan=int(k))

    if estimate.ndim == 0:
        return interval(estimate, low, high, n_nan)
    return [interval(*column)
            for column in zip(estimate, np.atleast_1d(low), np.atleast_1d(high), n_nan)]


def paired_bootstrap(
    stat_a: WeightedStatistic,
    stat_b: WeightedStatistic,
    n: int,
    *,
    n_boot: int = _defaults.N_BOOT,
    ci: float = _defaults.CI,
    seed: int | np.random.Generator = 0,
    strata: ArrayLike | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    clusters: ArrayLike | None = None,
    interval: str = "percentile",
) -> PairedTest | list[PairedTest]:
    """Paired bootstrap comparison of two systems scored on the same ``n`` clips.

    Both statistics see the same weight rows, so each resample compares the systems on the
    same clips; the clip-to-clip variation they share cancels in the difference, which is what
    makes the test paired and much sharper than comparing two separate intervals.

    With ``d = stat_a - stat_b`` on the full data and ``d*_1 ... d*_B`` its bootstrap
    replicates, the two-sided p-value for H0: "the systems score the same" is::

        p = (1 + #{b : |d*_b - d| >= |d|}) / (1 + B)

    The replicates are shifted by ``d`` so that they mimic the distribution of the difference
    under H0 (Efron & Tibshirani 1993, ch. 16; Koehn 2004 for the paired bootstrap in NLP);
    the ``+1`` in numerator and denominator counts the observed data as one of the resamples,
    so that p is never 0 and the test stays valid with finite B (Davison & Hinkley 1997,
    ch. 4). The smallest attainable p is ``1 / (1 + B)``. NaN replicates are left out of both
    counts and reported as ``n_nan``. Swapping a and b flips the sign of ``difference``,
    ``low`` and ``high`` and leaves ``p_value`` unchanged.

    The interval is, by ``interval``:

    * ``"percentile"``: the ``ci`` percentile interval of ``d*`` (Efron & Tibshirani 1993,
      ch. 13). It is not the inversion of the p-value above, so near the boundary the two
      can disagree (an interval excluding 0 with ``p > 1 - ci``, or the reverse).
    * ``"inverted"``: the differences ``delta`` that the same shifted test does not reject,
      ``{delta : (1 + #{b : |d*_b - d| >= |d - delta|}) / (1 + B) > 1 - ci}``, which is
      ``d +/- c`` with ``c`` an order statistic of ``|d*_b - d|`` (the symmetric bootstrap
      interval, Hall 1988). It excludes 0 exactly when ``p <= 1 - ci``.

    Parameters
    ----------
    stat_a, stat_b : callable
        Weighted statistics of the two systems, returning the same shape, (B,) or (B, m).
    n : int
        Number of clips.
    n_boot, ci, seed, strata, chunk_size, clusters
        As in :func:`bootstrap_interval`.
    interval : {"percentile", "inverted"}, default="percentile"
        Which interval to report, as above.

    Returns
    -------
    PairedTest, or a list of ``m`` PairedTests if the statistics return shape (B, m).
    """
    ci = _check_ci(ci)
    if interval not in INTERVALS:
        raise InputError(f"interval must be one of {INTERVALS}; got {interval!r}")
    chunk_size = _positive_int(chunk_size, "chunk_size")
    estimate_a = _full_data_value(stat_a, n, "stat_a")
    estimate_b = _full_data_value(stat_b, n, "stat_b")
    if estimate_a.shape != estimate_b.shape:
        raise InputError(
            "stat_a and stat_b must return the same shape; on weights of shape "
            f"(1, {n}) they returned {(1, *estimate_a.shape)} and {(1, *estimate_b.shape)}"
        )
    n_boot = _positive_int(n_boot, "n_boot")
    chunks = _weight_chunks(n, n_boot=n_boot, seed=seed, strata=strata, chunk_size=chunk_size,
                            clusters=clusters)
    samples_a, samples_b = _evaluate(
        (stat_a, stat_b), chunks, estimate_a.shape, ("stat_a", "stat_b")
    )

    difference = estimate_a - estimate_b
    replicates = samples_a - samples_b
    p_value, inv_low, inv_high, n_defined = _invert(difference, replicates - difference, 1.0 - ci)
    if interval == "percentile":
        low, high = percentile_interval(replicates, ci=ci)
    else:
        low, high = inv_low, inv_high
    n_nan = n_boot - n_defined
    n_clusters = None if clusters is None else _cluster_codes(clusters, n)[1]

    def test(d, lo, hi, p, k) -> PairedTest:
        return PairedTest(float(d), float(lo), float(hi), float(p), n_boot, ci, n_nan=int(k),
                          method="bootstrap", interval=interval, clusters=n_clusters)

    if difference.ndim == 0:
        return test(difference, low, high, p_value, n_nan)
    return [test(*column) for column in zip(difference, np.atleast_1d(low),
                                            np.atleast_1d(high), p_value, n_nan)]


# --------------------------------------------------------------------------------------------
# Paired permutation (swap) test, McNemar's exact test, Clopper-Pearson, Holm

#: Exact enumeration of swap patterns is allowed up to this many clusters (2**20 patterns).
_MAX_EXACT_CLUSTERS = 20


def swap_patterns(
    n: int,
    *,
    n_perm: int = _defaults.N_PERM,
    seed: int | np.random.Generator = 0,
    clusters: ArrayLike | None = None,
) -> np.ndarray:
    """Random swap patterns of the paired permutation test: which clips trade answers.

    Each row swaps every cluster (every clip, without ``clusters``) independently with
    probability 1/2, and all clips of a cluster together.

    Parameters
    ----------
    n : int
        Number of clips, at least 1.
    n_perm : int, default=9_999
        Number of patterns (rows), at least 1.
    seed : int or numpy.random.Generator, default=0
        As in :func:`bootstrap_weights`.
    clusters : array-like of shape (n,), optional
        A label per clip naming its cluster (source video, signer): clips of a cluster swap
        together.

    Returns
    -------
    swaps : ndarray of shape (n_perm, n), dtype bool
        The same rows :func:`permutation_test` draws with the same arguments (unless it
        enumerates every pattern exactly).
    """
    n = _positive_int(n, "n")
    n_perm = _positive_int(n_perm, "n_perm")
    codes, n_clusters = _cluster_codes(clusters, n)
    return np.concatenate(list(_swap_chunks(codes, n_clusters, n_perm=n_perm, seed=seed,
                                            exact=False, chunk_size=DEFAULT_CHUNK_SIZE)))


def permutation_test(
    stat: SwapStatistic,
    n: int,
    *,
    n_perm: int = _defaults.N_PERM,
    ci: float = _defaults.CI,
    seed: int | np.random.Generator = 0,
    clusters: ArrayLike | None = None,
    exact: bool | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    p_value: str = _defaults.P_VALUE,
) -> PairedTest | list[PairedTest]:
    """Paired permutation (swap) test of two systems scored on the same ``n`` clips.

    Under H0 "the two systems are exchangeable on every clip" (which of the two answers on a
    clip came from a and which from b is arbitrary), trading their answers on any set of
    clips leaves the distribution of the data unchanged (Good 2005, ch. 3). With ``d`` the
    observed difference ``stat(no swap)`` and ``d*_1 ... d*_P`` the differences after ``P``
    random swap patterns (each clip, or each cluster with all its clips, swapped with
    probability 1/2), the two-sided p-value is, by ``p_value``::

        mid:           p = (#{j : |d*_j| > |d|} + (#{j : |d*_j| = |d|} + 1) / 2) / (1 + P)
                       (p = 1 when d = 0)
        conservative:  p = (1 + #{j : |d*_j| >= |d|}) / (1 + P)

    Both count the observed data as one of the ``1 + P`` patterns, so neither is ever 0.
    The conservative p is the Monte Carlo p-value, a valid test for any ``P`` (its smallest
    value is ``1 / (1 + P)``): its size is at most ``alpha``, and below it when the metric
    moves in steps (accuracy, in steps of ``1/n``), where many patterns tie with the data
    (on EmoSign .039-.041 at alpha = .05). The mid-p counts those ties, the data's own
    pattern among them, one half (Lancaster 1961). It is twice the one-sided mid-p of the
    swap distribution, which is symmetric, so on an accuracy difference enumerated exactly it
    is the two-sided mid-p McNemar test (Fagerland, Lydersen & Laake 2013); at ``d = 0``,
    the distribution's centre, that is 1. Its size is ``alpha`` within Monte Carlo error on
    every metric of the study in ``docs/statistics.md``, a test of the right size on average
    rather than never above it. "Equal" holds within a relative 1e-9, so that differences
    equal in exact arithmetic tie. When every pattern is enumerated (``exact``) the
    ``2**G - 1`` patterns other than the identity are the ``d*_j``, and the same formulas
    give the exact p-values over all ``2**G`` patterns. The swap distribution is exact under
    H0 for any metric, class-averaged ones included, since the classes of the clips never
    change: the conservative p is then an exact test, the mid-p one of size alpha on average.

    The interval inverts the same test, with the same p-value, under a location-shift model
    (Good 2005, ch. 6): the hypothesis "the difference is ``delta``" is tested by comparing
    ``|d - delta|`` with the same ``|d*_j|``, and the interval is every ``delta`` whose
    p-value exceeds ``1 - ci``, ``[d - c, d + c]``. Conservative: ``c`` is the ``k``-th
    largest ``|d*_j|`` for the smallest ``k`` with ``(1 + k) / (1 + P) > 1 - ci``. Mid:
    with ``g(t) = #{|d*_j| > t} + #{|d*_j| >= t}`` the mid-p is ``(g + 1) / (2 (1 + P))``;
    ``q`` the smallest ``g`` with that above ``1 - ci``, ``c`` is the ``ceil(q / 2)``-th
    largest ``|d*_j|`` (the critical value shifted by half a count), and the end ``c``
    itself is in the interval only if its own ties bring ``g(c)`` to ``q``. Either way the
    interval excludes 0 exactly when ``p <= 1 - ci``, ties included, by construction. It
    assumes the spread of the difference around its mean is the spread of the swap
    distribution (which it is under H0, and close to it when the systems disagree on many
    clips); when the smallest attainable p (``1 / (1 + P)``, conservative; ``1 / (2 (1 +
    P))``, mid) is above ``1 - ci`` nothing can be rejected and the interval is
    ``(-inf, inf)``.

    Parameters
    ----------
    stat : callable
        Swap statistic (:data:`SwapStatistic`): bool swaps of shape (P, n) -> differences
        a - b of shape (P,) or (P, m), ``m`` statistics (metrics, or simulated system pairs)
        tested at once on the same patterns. It must not modify the swaps.
    n : int
        Number of clips.
    n_perm : int, default=9_999
        Random swap patterns for the Monte Carlo p-value.
    ci : float, default=0.95
        Coverage of the interval; the test's level is ``1 - ci``.
    seed : int or numpy.random.Generator, default=0
        As in :func:`swap_patterns`.
    clusters : array-like of shape (n,), optional
        A cluster label per clip (source video, signer): whole clusters swap together, which
        keeps the test valid when clips of a cluster are dependent.
    exact : bool, optional
        Enumerate every one of the ``2**G`` patterns of the ``G`` clusters (or clips). By
        default exact when ``2**G - 1 <= n_perm``; True with ``G`` above 20 is refused.
    chunk_size : int, default=2_000
        Patterns passed to ``stat`` at a time; does not change the result.
    p_value : {"mid", "conservative"}, default="mid"
        Which p-value, as above; the interval inverts the same one.

    Returns
    -------
    PairedTest, or a list of ``m`` PairedTests if ``stat`` returns shape (P, m), with
    ``method="permutation"``, ``interval="inverted"`` and ``p_value_type=p_value``.

    Raises
    ------
    InputError
        For a bad option, a statistic of the wrong shape, or ``exact=True`` with more than
        20 clusters.
    """
    ci = _check_ci(ci)
    n = _positive_int(n, "n")
    n_perm = _positive_int(n_perm, "n_perm")
    chunk_size = _positive_int(chunk_size, "chunk_size")
    if exact is not None and not isinstance(exact, bool):
        raise InputError(f"exact must be True, False or None; got {exact!r}")
    if p_value not in P_VALUES:
        raise InputError(f"p_value must be one of {P_VALUES}; got {p_value!r}")
    codes, n_clusters = _cluster_codes(clusters, n)
    if exact is None:
        exact = n_clusters <= _MAX_EXACT_CLUSTERS and 2**n_clusters - 1 <= n_perm
    elif exact and n_clusters > _MAX_EXACT_CLUSTERS:
        raise InputError(f"exact=True enumerates 2**{n_clusters} swap patterns, too many; "
                         f"it is allowed up to {_MAX_EXACT_CLUSTERS} clusters")
    none = np.zeros((1, n), dtype=bool)
    none.flags.writeable = False
    observed = _call(stat, none, "stat", trailing=None)[0]
    chunks = _swap_chunks(codes, n_clusters, n_perm=n_perm, seed=seed, exact=exact,
                          chunk_size=chunk_size)
    (samples,) = _evaluate((stat,), chunks, observed.shape, ("stat",))
    p, low, high, n_defined = _invert(observed, samples, 1.0 - ci, mid=p_value == "mid")
    n_patterns = samples.shape[0]
    n_nan = n_patterns - n_defined
    n_units = None if clusters is None else n_clusters

    def test(d, lo, hi, pv, k) -> PairedTest:
        return PairedTest(float(d), float(lo), float(hi), float(pv), n_patterns, ci, n_nan=int(k),
                          method="permutation", interval="inverted", clusters=n_units,
                          exact=exact, p_value_type=p_value)

    if observed.ndim == 0:
        return test(observed, low, high, p, n_nan)
    return [test(*column) for column in zip(observed, low, high, p, n_nan)]


def sign_flip_test(
    differences: ArrayLike,
    *,
    n_perm: int = _defaults.N_PERM,
    ci: float = _defaults.CI,
    seed: int | np.random.Generator = 0,
    clusters: ArrayLike | None = None,
    exact: bool | None = None,
    p_value: str = _defaults.P_VALUE,
) -> PairedTest | list[PairedTest]:
    """:func:`permutation_test` of a difference that is a sum of per-clip terms.

    When the metric difference is ``d = sum_i u_i`` with ``u_i`` depending only on clip
    ``i``'s two answers and antisymmetric in them, swapping a and b on clip ``i`` flips the
    sign of ``u_i``, and the swap statistic is ``sum_i (1 - 2 s_i) u_i`` (Fisher's sign-flip
    test). Accuracy and balanced accuracy (wAcc) are such metrics, with ``c_a``, ``c_b`` the
    systems' correct indicators and the reference classes fixed::

        accuracy:           u_i = (c_a,i - c_b,i) / n
        balanced accuracy:  u_i = (c_a,i - c_b,i) / (K n_{y_i})

    (``K`` the classes present, ``n_{y_i}`` the clips of clip ``i``'s class). All rows of a
    (S, n) array, e.g. ``S`` simulated system pairs, are tested on the same patterns with
    one (P, n) @ (n, S) product per chunk.

    Parameters
    ----------
    differences : array-like of shape (n,) or (S, n)
        The per-clip terms ``u_i`` of one difference, or of ``S`` differences (rows).
    n_perm, ci, seed, clusters, exact, p_value
        As in :func:`permutation_test`.

    Returns
    -------
    PairedTest for shape (n,); a list of ``S`` PairedTests for shape (S, n).
    """
    u = _numeric_array(differences, "differences")
    if u.ndim not in (1, 2) or u.shape[-1] == 0 or not np.isfinite(u).all():
        raise InputError(f"differences must be finite, of shape (n,) or (S, n); got shape {u.shape}")
    terms = u if u.ndim == 2 else u[None, :]
    total = terms.sum(axis=1)

    def stat(swaps: np.ndarray) -> np.ndarray:
        return total - 2.0 * (swaps @ terms.T)

    tests = permutation_test(stat, terms.shape[1], n_perm=n_perm, ci=ci, seed=seed,
                             clusters=clusters, exact=exact, p_value=p_value)
    assert isinstance(tests, list)  # stat returns (P, S)
    return tests[0] if u.ndim == 1 else tests


def mcnemar_test(
    correct_a: ArrayLike,
    correct_b: ArrayLike,
    *,
    ci: float = _defaults.CI,
    p_value: str = _defaults.MCNEMAR_P_VALUE,
) -> PairedTest | list[PairedTest]:
    """McNemar's test of two accuracies on the same clips, and the interval inverting it.

    Of the ``n`` clips, ``b`` are right for a only and ``c`` for b only; the accuracy
    difference is ``(b - c) / n``. Given the ``m = b + c`` discordant clips, ``b`` is
    ``Binomial(m, pi)`` and H0 "equal accuracy" is ``pi = 1/2`` (McNemar 1947; the exact
    conditional form). The two-sided p-value is, by ``p_value``::

        conservative (exact):  p = min(1, 2 min(P(X <= b), P(X >= b)))
        mid:                   p = min(1, 2 min(P(X < b), P(X > b)) + P(X = b))

    with ``X ~ Binomial(m, 1/2)`` (1 when ``m = 0``). The exact test's size is at most
    alpha, and below it; the mid-p McNemar test, which counts the data's own probability
    one half in each tail, keeps close to alpha and is what Fagerland, Lydersen & Laake
    (2013) recommend; it is not exact (its size can exceed alpha slightly).

    The interval inverts the same test: the ``pi`` whose two one-sided tails at ``b`` (mid
    tails for the mid-p) both exceed ``(1 - ci) / 2``, mapped to the difference,
    ``(2 pi - 1) m / n``, conditional on the ``m`` discordant clips. For the exact test that
    is the Clopper-Pearson interval (Clopper & Pearson 1934); for the mid-p, the mid-p
    interval (its ends found by bisection to 1e-12). Either excludes 0 exactly when
    ``p <= 1 - ci``. The test assumes independent clips; it says nothing about metrics
    other than accuracy.

    Parameters
    ----------
    correct_a, correct_b : array-like of bool, shape (n,) or (S, n)
        Whether each system is right on each clip; rows of (S, n) arrays are ``S`` pairs
        (simulated, say), tested at once.
    ci : float, default=0.95
        Coverage of the interval.
    p_value : {"conservative", "mid"}, default="conservative"
        The exact conditional test, or the mid-p test, as above.

    Returns
    -------
    PairedTest (``method="mcnemar"``, ``interval="inverted"``, ``n_boot=0``,
    ``p_value_type=p_value``, ``exact`` True for the exact test), or a list of ``S`` for
    (S, n) inputs.
    """
    ci = _check_ci(ci)
    if p_value not in P_VALUES:
        raise InputError(f"p_value must be one of {P_VALUES}; got {p_value!r}")
    a = _indicator_array(correct_a, "correct_a")
    b_ = _indicator_array(correct_b, "correct_b")
    if a.shape != b_.shape or a.ndim not in (1, 2) or a.shape[-1] == 0:
        raise InputError("correct_a and correct_b must both have shape (n,) or (S, n), n >= 1; "
                         f"got {a.shape} and {b_.shape}")
    rows_a, rows_b = np.atleast_2d(a), np.atleast_2d(b_)
    n = rows_a.shape[1]
    only_a = (rows_a & ~rows_b).sum(axis=1)
    only_b = (~rows_a & rows_b).sum(axis=1)
    m = only_a + only_b
    from scipy.stats import binom  # here, not at import: scipy.stats takes 0.5 s to import

    smaller = np.minimum(only_a, only_b)
    if p_value == "mid":
        # 2 (P(X < s) + P(X = s) / 2); at b = c the two tails overlap in P(X = b), and p is 1.
        tail = binom.cdf(smaller, m, 0.5) - 0.5 * binom.pmf(smaller, m, 0.5)
        pi_low, pi_high = _mid_p_interval(only_a, m, ci=ci)
    else:
        tail = binom.cdf(smaller, m, 0.5)
        pi_low, pi_high = (np.asarray(end) for end in clopper_pearson(only_a, m, ci=ci))
    p = np.where(m > 0, np.minimum(1.0, 2.0 * tail), 1.0)
    with np.errstate(invalid="ignore"):
        low = np.where(m > 0, (2.0 * np.nan_to_num(pi_low) - 1.0) * m / n, 0.0)
        high = np.where(m > 0, (2.0 * np.nan_to_num(pi_high) - 1.0) * m / n, 0.0)
    difference = (only_a - only_b) / n
    tests = [PairedTest(float(d), float(lo), float(hi), float(pv), 0, ci, method="mcnemar",
                        interval="inverted", exact=p_value == "conservative",
                        p_value_type=p_value)
             for d, lo, hi, pv in zip(difference, low, high, p)]
    return tests[0] if a.ndim == 1 else tests


def _mid_p_interval(
    successes: np.ndarray, trials: np.ndarray, *, ci: float
) -> tuple[np.ndarray, np.ndarray]:
    """The mid-p interval of a binomial proportion: the ``pi`` whose mid tails at ``k`` both
    exceed ``(1 - ci) / 2``, i.e. ``P(X > k) + P(X = k) / 2 > tail`` (the lower end) and
    ``P(X < k) + P(X = k) / 2 > tail`` (the upper end), ``X ~ Binomial(t, pi)``. Each mid
    tail is monotone in ``pi``, so each end is found by bisection (60 halvings: to 1e-18,
    below a double's resolution). 0 (1) when the data's mid tail already exceeds ``tail``
    at ``pi = 0`` (1); NaN where ``t`` is 0."""
    from scipy.stats import binom

    k = np.asarray(successes, dtype=float)
    t = np.asarray(trials, dtype=float)
    tail = (1.0 - ci) / 2.0

    def upper_tail(pi):  # increasing in pi
        return binom.sf(k, t, pi) + 0.5 * binom.pmf(k, t, pi)

    def lower_tail(pi):  # decreasing in pi
        return binom.cdf(k - 1, t, pi) + 0.5 * binom.pmf(k, t, pi)

    def solve(function, increasing: bool) -> np.ndarray:
        lo, hi = np.zeros_like(k), np.ones_like(k)
        for _ in range(60):
            mid = (lo + hi) / 2
            above = function(mid) > tail
            # For an increasing tail the root is below mid where the tail is already above.
            move_hi = above if increasing else ~above
            hi = np.where(move_hi, mid, hi)
            lo = np.where(move_hi, lo, mid)
        return (lo + hi) / 2

    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(upper_tail(np.zeros_like(k)) > tail, 0.0, solve(upper_tail, True))
        high = np.where(lower_tail(np.ones_like(k)) > tail, 1.0, solve(lower_tail, False))
    return np.where(t > 0, low, np.nan), np.where(t > 0, high, np.nan)


def posterior_confusions(
    confusion: ArrayLike,
    *,
    n_draws: int = 10_000,
    seed: int | np.random.Generator = 0,
) -> np.ndarray:
    """Draws of the expected confusion matrix given the observed one, class by class.

    The clips of reference class ``k`` (``n_k`` of them, fixed by the labels) are answered
    independently, each as column ``j`` with chance ``pi_kj``; the quantity a score should
    estimate is the score of the expected confusion matrix ``n_k pi_kj``, what the system
    would score on unlimited clips in the benchmark's class proportions. Each row ``pi_k``
    gets a Dirichlet posterior::

        pi_k ~ Dirichlet(c_k + a),   a_kk = 1/2,   a_kj = 1/(2 (K - 1)) for the other classes

    (``a`` is 0 in a last "no prediction" column). Its recall ``pi_kk`` is then exactly
    ``Beta(TP_k + 1/2, n_k - TP_k + 1/2)``, the Jeffreys posterior whose equal-tailed
    interval keeps close to nominal coverage at small ``n`` (Brown, Cai & DasGupta 2001),
    where a bootstrap of 3 clips cannot: when all 3 are right or all wrong, every resample
    repeats them and the percentile interval of that class collapses to a point. Rows are
    independent, and the class supports never change, so a class-averaged score is always
    averaged over the data's classes. The percentile interval of a score over the draws is
    the interval ``evaluate`` reports for accuracy, wAcc, wF1 and macro-F1 (chosen by the
    coverage study in ``benchmarks/sim_intervals_tests.py``, ``docs/statistics.md``).

    Parameters
    ----------
    confusion : array-like of shape (..., K, K) or (..., K, K + 1)
        Observed counts, rows the reference classes, columns the answers (a last column for
        clips without a readable answer); leading axes are separate systems.
    n_draws : int, default=10_000
        Number of draws, at least 1.
    seed : int or numpy.random.Generator, default=0
        As in :func:`bootstrap_weights`.

    Returns
    -------
    ndarray of shape (n_draws, ..., K, K or K + 1)
        Expected counts ``n_k pi_kj``: each row sums to the class's support.
    """
    counts = _numeric_array(confusion, "confusion")
    if counts.ndim < 2 or counts.shape[-1] not in (counts.shape[-2], counts.shape[-2] + 1):
        raise InputError(f"confusion must have shape (..., K, K) or (..., K, K + 1); got {counts.shape}")
    if np.isnan(counts).any() or (counts < 0).any():
        raise InputError("confusion must hold non-negative counts")
    n_draws = _positive_int(n_draws, "n_draws")
    k = counts.shape[-2]
    prior = np.zeros(counts.shape[-2:])
    prior[:, :k] = 0.5 / (k - 1) if k > 1 else 0.0
    prior[np.arange(k), np.arange(k)] = 0.5
    rng = np.random.default_rng(seed)
    shape = (n_draws, *counts.shape)
    gammas = rng.standard_gamma(np.broadcast_to(counts + prior, shape))
    totals = gammas.sum(axis=-1, keepdims=True)
    support = counts.sum(axis=-1, keepdims=True)
    return support * gammas / np.where(totals > 0, totals, 1.0)


def clopper_pearson(
    successes: ArrayLike, trials: ArrayLike, *, ci: float = _defaults.CI
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """The exact (Clopper-Pearson) interval of a binomial proportion, e.g. a class's recall.

    For ``k`` successes in ``t`` trials (Clopper & Pearson 1934)::

        low  = Beta.ppf((1 - ci) / 2, k, t - k + 1)      (0 when k = 0)
        high = Beta.ppf((1 + ci) / 2, k + 1, t - k)      (1 when k = t)

    Each tail holds at most ``(1 - ci) / 2``, so the coverage is at least ``ci`` for every
    true proportion (conservative, never below). With 3 trials and 1 success the 95%
    interval is [0.008, 0.906]: three clips say almost nothing about a recall.

    Parameters
    ----------
    successes, trials : array-like of int, the same shape
        ``0 <= successes <= trials``; NaN ends where ``trials`` is 0.
    ci : float, default=0.95

    Returns
    -------
    (low, high) : floats for scalar inputs, arrays otherwise.
    """
    ci = _check_ci(ci)
    k = _numeric_array(successes, "successes")
    t = _numeric_array(trials, "trials")
    if k.shape != t.shape:
        raise InputError(f"successes and trials must have the same shape; got {k.shape} and {t.shape}")
    if np.isnan(k).any() or np.isnan(t).any() or (k < 0).any() or (k > t).any() \
            or (k != np.round(k)).any() or (t != np.round(t)).any():
        raise InputError("successes and trials must be integers with 0 <= successes <= trials")
    tail = (1.0 - ci) / 2.0
    from scipy.stats import beta as beta_distribution  # here: scipy.stats is slow to import

    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, beta_distribution.ppf(tail, np.maximum(k, 1), t - k + 1), 0.0)
        high = np.where(k < t, beta_distribution.ppf(1.0 - tail, k + 1, np.maximum(t - k, 1)), 1.0)
    low = np.where(t > 0, low, np.nan)
    high = np.where(t > 0, high, np.nan)
    if k.ndim == 0:
        return float(low), float(high)
    return low, high


def holm(p_values: ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values of several tests reported together.

    With the ``m`` p-values sorted, ``p_(1) <= ... <= p_(m)``, the adjusted values are
    (Holm 1979)::

        p_holm_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))

    Rejecting where ``p_holm <= alpha`` keeps the chance of any false rejection among the
    ``m`` at most ``alpha`` whatever their dependence (the family-wise error rate). NaN
    p-values (undefined tests) stay NaN and do not count in ``m``.

    Parameters
    ----------
    p_values : array-like of shape (m,)
        Raw p-values in [0, 1] (NaN allowed).

    Returns
    -------
    ndarray of shape (m,): the adjusted p-values, in the input order.
    """
    p = _numeric_array(p_values, "p_values")
    if p.ndim != 1:
        raise InputError(f"p_values must have shape (m,); got shape {p.shape}")
    if ((p < 0) | (p > 1)).any():
        raise InputError("p_values must lie in [0, 1] (or be NaN)")
    out = np.full(p.shape, np.nan)
    defined = np.flatnonzero(~np.isnan(p))
    if defined.size == 0:
        return out
    order = defined[np.argsort(p[defined], kind="stable")]
    m = order.size
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def _invert(
    observed: np.ndarray, null: np.ndarray, alpha: float, *, mid: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two-sided Monte Carlo p-value of ``observed`` against null replicates, and the interval
    of shifts ``delta`` it does not reject at ``alpha``.

    ``observed``: shape () or (m,); ``null``: (R, ...) replicates of the statistic under H0,
    NaN where undefined. ``p = (1 + #{|null| >= |observed|}) / (1 + R_defined)``, the
    comparison with a relative tolerance so that ties in exact arithmetic are not lost to
    rounding. The interval is ``observed +/- c``, ``c`` the ``k``-th largest ``|null|``
    (widened by the same tolerance), ``k`` the smallest count with ``(1 + k) / (1 + R) >
    alpha``: the ``delta`` with ``p(delta) > alpha``. Returns p, low, high, R_defined.

    With ``mid``, the mid-p: ties with ``|observed|`` (the observed pattern itself one of
    them) count one half, ``p = (#{|null| > |observed|} + (#{|null| = |observed|} + 1) / 2)
    / (1 + R_defined)``, and 1 when ``observed`` is 0; the interval inverts that; see
    :func:`_invert_mid`.
    """
    if mid:
        return _invert_mid(observed, null, alpha)
    size = np.abs(null)
    defined = ~np.isnan(size)
    n_defined = defined.sum(axis=0)
    with np.errstate(invalid="ignore"):
        extreme = size >= np.abs(observed) * (1.0 - _TIE_RTOL)
    p_value = (1.0 + (extreme & defined).sum(axis=0)) / (1.0 + n_defined)
    p_value = np.where(np.isnan(observed), np.nan, p_value)
    # k: the fewest replicates as extreme as a shift that keeps it unrejected.
    total = 1.0 + n_defined
    k = np.floor(alpha * total - 1.0).astype(np.int64) + 1
    k = np.where((1.0 + k - 1) / total > alpha, k - 1, k)  # the same float test as p > alpha
    k = np.where((1.0 + k) / total <= alpha, k + 1, k)
    k = np.maximum(k, 0)
    c = _kth_largest(np.where(defined, size, -np.inf), k - 1).reshape(np.shape(observed))
    c = np.where(k >= 1, c / (1.0 - _TIE_RTOL), np.inf)
    c = np.where(k > n_defined, np.nan, c)  # cannot happen for alpha < 1; kept honest
    low = np.where(np.isnan(observed), np.nan, observed - c)
    high = np.where(np.isnan(observed), np.nan, observed + c)
    return p_value, low, high, n_defined


def _kth_largest(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Per column of ``values`` (R, ...), its ``index``-th largest value (0: the largest;
    ``index`` clipped to 0...R-1), shape (m,) for the m columns. A partial sort (introselect,
    O(R) a column) instead of a full one: power's simulation asks this of 2,000 columns of
    1,000 swap patterns at every step of its search."""
    rows = values.shape[0]
    flat = values.reshape(rows, -1)
    index = np.broadcast_to(np.clip(np.asarray(index), 0, max(rows - 1, 0)), flat.shape[1:])
    # Ascending positions of the negated values are descending positions of the values.
    position = np.asarray(index, dtype=np.intp)
    if rows == 0:
        return np.full(flat.shape[1:], np.nan)
    parted = np.partition(-flat, np.unique(position), axis=0)
    return -np.take_along_axis(parted, position[None, :], axis=0)[0]


def _tie_counts(size: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``#{size > t} + #{size >= t}`` per column, "equal" within the relative tolerance:
    twice the mid-p's numerator less one (the observed pattern's own half). An undefined
    (NaN) size compares False, so it counts in neither."""
    with np.errstate(invalid="ignore"):
        return ((size > t * (1.0 + _TIE_RTOL)).sum(axis=0)
                + (size >= t * (1.0 - _TIE_RTOL)).sum(axis=0))


def _invert_mid(
    observed: np.ndarray, null: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_invert` with the mid-p, and the interval that inverts the same mid-p.

    With ``s_1 >= ... >= s_R`` the defined ``|null|`` and ``t = |observed - delta|``, the
    mid-p of the shift ``delta`` is ``(g(t) + 1) / (2 (1 + R))``, ``g(t) = #{s > t} + #{s >=
    t}``, non-increasing in ``t``; ``delta`` is kept when that exceeds ``alpha``, that is when
    ``g(t) >= q``, ``q`` the smallest such count. Between two distinct values ``g = 2 #{s >
    t}``, so the kept ``t`` end at ``c = s_h``, ``h = ceil(q / 2)``; ``c`` itself is kept
    (a closed interval) when ``g(c) >= q``, else the interval is open there and ``c`` is
    pulled in by the tie tolerance. So the interval excludes 0 exactly when the mid-p of
    the data is at most ``alpha``, ties included.
    """
    size = np.abs(null)
    defined = ~np.isnan(size)
    n_defined = defined.sum(axis=0)
    total = 2.0 * (1.0 + n_defined)
    p_value = (_tie_counts(size, np.abs(observed)) + 1.0) / total
    # A zero difference is the centre of the symmetric swap distribution, not one of its two
    # tails: its ties are no evidence either way, and p is 1 (twice the one-sided mid-p).
    p_value = np.where(np.abs(observed) <= _ZERO_ATOL, 1.0, p_value)
    p_value = np.where(np.isnan(observed), np.nan, p_value)
    # q: the smallest g whose mid-p exceeds alpha, by the same float test as the p-value's.
    q = np.floor(alpha * total - 1.0).astype(np.int64) + 1
    q = np.where((q - 1 + 1.0) / total > alpha, q - 1, q)
    q = np.where((q + 1.0) / total <= alpha, q + 1, q)
    q = np.maximum(q, 0)
    h = (q + 1) // 2
    c = _kth_largest(np.where(defined, size, -np.inf), h - 1).reshape(np.shape(observed))
    closed = _tie_counts(size, c) >= q
    # Closed: |d| up to c / (1 - tol) ties with c and is kept. Open: |d| from c / (1 + tol)
    # on ties with c (or exceeds it) and is rejected, so the end stops just short of that.
    c = np.where(closed, c / (1.0 - _TIE_RTOL), np.nextafter(c / (1.0 + _TIE_RTOL), 0.0))
    c = np.where(h >= 1, c, np.inf)
    c = np.where(h > n_defined, np.nan, c)  # cannot happen for alpha < 1/2; kept honest
    low = np.where(np.isnan(observed), np.nan, observed - c)
    high = np.where(np.isnan(observed), np.nan, observed + c)
    return p_value, low, high, n_defined


# --------------------------------------------------------------------------------------------
# Agreement


def krippendorff_alpha(ratings: ArrayLike, *, level: str = "nominal") -> float:
    """Krippendorff's alpha of a raters x units table, missing ratings as NaN.

    ``alpha = 1 - D_o / D_e``: observed disagreement between values rated on the same unit
    over the disagreement expected by chance from all pairable values (Krippendorff 2011).
    1 is perfect agreement, 0 chance-level, negative systematic disagreement. Units with fewer
    than two ratings carry no pairs and are ignored. Computed by the ``krippendorff`` package.

    Parameters
    ----------
    ratings : array-like of shape (n_raters, n_units)
        Numeric ratings, ``NaN`` (or ``None``) where a rater did not rate a unit. Raters are
        rows: EmoSign's three annotators over 200 clips is shape (3, 200), not (200, 3).
    level : {"nominal", "ordinal", "interval", "ratio"}, default="nominal"
        Level of measurement, which sets the distance between two values: nominal counts any
        mismatch; ordinal uses ranks; interval the squared difference; ratio
        ``((c - k) / (c + k))**2``, which needs non-negative values.

    Returns
    -------
    alpha : float in [-1, 1] (in practice), or NaN when every pairable value is the same, so
    that there is no expected disagreement and alpha is 0/0.

    Raises
    ------
    ValueError
        Ratings not 2-D, fewer than 2 raters, non-numeric or infinite values, negative values
        at the ratio level, no unit rated by at least two raters, or an unknown ``level``.
    """
    if level not in LEVELS:
        raise InputError(f"level must be one of {LEVELS}; got {level!r}")
    data = _numeric_array(ratings, "ratings")
    if data.ndim != 2:
        raise InputError(f"ratings must have shape (n_raters, n_units); got shape {data.shape}")
    if data.shape[0] < 2:
        raise InputError(f"alpha needs at least 2 raters (rows); got {data.shape[0]}")
    if np.isinf(data).any():
        raise InputError("ratings must be finite numbers or NaN for missing; found inf")
    if level == "ratio" and (data < 0).any():
        raise InputError("the ratio level needs non-negative ratings; use 'interval' instead")

    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    if not pairable.any():
        raise InputError("no unit was rated by at least two raters, so there is nothing to compare")
    values = data[:, pairable]
    if np.unique(values[~np.isnan(values)]).size < 2:
        return float("nan")
    if level == "interval":
        return _interval_alpha(data)
    # level is one of krippendorff's names, checked above.
    return float(krippendorff.alpha(reliability_data=data,
                                    level_of_measurement=level))  # type: ignore[arg-type]


def _interval_alpha(data: np.ndarray) -> float:
    """Interval alpha from sums of squares, in time and memory linear in the ratings.

    The ``krippendorff`` package builds a (units, V, V) coincidence array over the V distinct
    values: 64 MB for 200 real-valued predictions, 60 GB for 2,000. With the squared
    difference as the metric, the sum over the ordered pairs of a set of m values is
    ``2 (m sum v^2 - (sum v)^2)``, so both disagreements come from per-unit sums
    (Krippendorff 2011, section C):

        D_o = (1/N) sum_u S_u / (m_u - 1),   D_e = S / (N (N - 1)),   alpha = 1 - D_o / D_e

    over the N values of the units with at least two ratings, S_u and S being those pair
    sums within unit u and over all N values. Equal to the package's value up to rounding.
    """
    present = ~np.isnan(data)
    pairable = present.sum(axis=0) >= 2
    values = np.where(present, data, 0.0)[:, pairable]
    m = present[:, pairable].sum(axis=0).astype(float)
    total, squares = values.sum(axis=0), (values * values).sum(axis=0)
    n = m.sum()
    within = (2 * (m * squares - total * total) / (m - 1)).sum() / n
    overall = 2 * (n * squares.sum() - total.sum() ** 2) / (n * (n - 1))
    return float(1.0 - within / overall)


def model_reference_alpha(reference: ArrayLike, prediction: ArrayLike, *, level: str) -> float:
    """Krippendorff's alpha between a reference and a model's predictions as the two raters.

    Parameters
    ----------
    reference, prediction : array-like of shape (n_units,)
        Numeric labels of the same units in the same order; NaN where missing.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement (no default: 3-class sentiment is nominal or ordinal, the -3..3
        scale and the 0..3 intensities ordinal or interval, and the choice changes alpha).

    Returns
    -------
    alpha : float, as :func:`krippendorff_alpha` of ``[reference, prediction]``.
    """
    reference = _numeric_array(reference, "reference")
    prediction = _numeric_array(prediction, "prediction")
    if reference.ndim != 1 or prediction.ndim != 1 or reference.shape != prediction.shape:
        raise InputError(
            "reference and prediction must both have shape (n_units,); got "
            f"{reference.shape} and {prediction.shape}"
        )
    return krippendorff_alpha(np.stack([reference, prediction]), level=level)


# --------------------------------------------------------------------------------------------
# Helpers


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


def _check_ci(ci: object) -> float:
    if isinstance(ci, bool) or not isinstance(ci, numbers.Real) or not 0.0 < float(ci) < 1.0:
        raise InputError(f"ci must be a number strictly between 0 and 1; got {ci!r}")
    return float(ci)


def _resample_counts(rng: np.random.Generator, size: int, n_boot: int) -> np.ndarray:
    """(n_boot, size) counts of ``size`` indices drawn with replacement, per row."""
    draws = rng.integers(0, size, size=(n_boot, size))
    # Shifting row b's indices by b * size lets one bincount count every row at once; it is
    # about five times faster than rng.multinomial with the same distribution.
    draws += size * np.arange(n_boot)[:, None]
    counts = np.bincount(draws.ravel(), minlength=n_boot * size)
    return counts.reshape(n_boot, size).astype(np.int64, copy=False)


def _cluster_codes(clusters: ArrayLike | None, n: int) -> tuple[np.ndarray, int]:
    """Each item's cluster as a code 0...G-1 (sorted order of the labels), and G; without
    clusters, every item its own."""
    if clusters is None:
        return np.arange(n), n
    labels = np.asarray(clusters)
    if labels.shape != (n,):
        raise InputError(f"clusters must have shape (n,) = ({n},); got shape {labels.shape}")
    try:
        _, codes = np.unique(labels, return_inverse=True)
    except TypeError as err:
        raise InputError(f"cluster labels must be mutually comparable: {err}") from None
    codes = codes.reshape(n)
    return codes, int(codes.max()) + 1


def _swap_chunks(
    codes: np.ndarray,
    n_clusters: int,
    *,
    n_perm: int,
    seed: int | np.random.Generator,
    exact: bool,
    chunk_size: int,
) -> Iterator[np.ndarray]:
    """Swap patterns (rows, n) a chunk at a time: random, or every non-identity pattern of
    the clusters (pattern j swaps the clusters whose bit is set in j, j = 1 ... 2**G - 1)."""
    n = codes.size
    rows = max(1, min(chunk_size, _CHUNK_CELLS // n))
    if exact:
        bits = np.arange(n_clusters, dtype=np.int64)
        total = 2**n_clusters - 1
        for start in range(1, total + 1, rows):
            j = np.arange(start, min(start + rows, total + 1), dtype=np.int64)
            yield ((j[:, None] >> bits) & 1).astype(bool)[:, codes]
        return
    rng = np.random.default_rng(seed)
    for start in range(0, n_perm, rows):
        yield (rng.random((min(rows, n_perm - start), n_clusters)) < 0.5)[:, codes]


def _indicator_array(values: ArrayLike, name: str) -> np.ndarray:
    """0/1 or bool values as a bool array; anything else refused, naming the parameter."""
    array = np.asarray(values)
    if array.dtype == bool:
        return array
    if array.dtype.kind not in "biuf" or not np.isin(array, (0, 1)).all():
        raise InputError(f"{name} must hold booleans (or 0/1): whether each clip is right")
    return array.astype(bool)


def _strata_members(strata: ArrayLike, n: int) -> list[np.ndarray]:
    """Indices of each stratum's items, strata in sorted order of their labels."""
    labels = np.asarray(strata)
    if labels.shape != (n,):
        raise InputError(f"strata must have shape (n,) = ({n},); got shape {labels.shape}")
    try:
        _, codes = np.unique(labels, return_inverse=True)
    except TypeError as err:
        raise InputError(f"strata labels must be mutually comparable: {err}") from None
    return [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]


def _full_data_value(stat: WeightedStatistic, n: int, name: str) -> np.ndarray:
    """The statistic with every clip weighted 1: shape () or (m,)."""
    n = _positive_int(n, "n")
    ones = np.ones((1, n), dtype=np.int64)
    ones.flags.writeable = False
    return _call(stat, ones, name, trailing=None)[0]


def _evaluate(
    stats: tuple[WeightedStatistic, ...],
    weights: Iterator[np.ndarray],
    trailing: tuple[int, ...],
    names: tuple[str, ...],
) -> list[np.ndarray]:
    """Each statistic on every chunk of weight rows; every statistic sees the same rows.

    With one BLAS thread: the products of a chunk are small (see emosign._threads)."""

    chunks: list[list[np.ndarray]] = [[] for _ in stats]
    with one_thread():
        for block in weights:
            block.flags.writeable = False
            for stat, name, out in zip(stats, names, chunks):
                out.append(_call(stat, block, name, trailing))
    return [np.concatenate(out, axis=0) for out in chunks]


def _call(
    stat: WeightedStatistic, weights: np.ndarray, name: str, trailing: tuple[int, ...] | None
) -> np.ndarray:
    """``stat(weights)`` as floats, checked to have shape (B,) or (B, m) (m = ``trailing``)."""
    values = np.asarray(stat(weights), dtype=float)
    rows = weights.shape[0]
    ok = values.ndim in (1, 2) and values.shape[0] == rows
    if ok and trailing is not None:
        ok = values.shape[1:] == trailing
    if not ok:
        expected = f"({rows},) or ({rows}, m)" if trailing is None else str((rows, *trailing))
        raise InputError(
            f"{name} must map weights of shape (B, n) to shape (B,) or (B, m); given weights "
            f"of shape {weights.shape} it returned shape {values.shape}, expected {expected}"
        )
    return values


def _numeric_array(values: ArrayLike, name: str) -> np.ndarray:
    """``values`` as a float array; None becomes NaN; strings and other objects are refused."""
    try:
        array = np.asarray(values)
    except ValueError as err:  # ragged nested sequences
        raise InputError(f"{name} must be a rectangular numeric array: {err}") from None
    if array.dtype.kind == "O":
        if not all(v is None or isinstance(v, numbers.Real) for v in array.flat):
            raise InputError(f"{name} must be numeric, with NaN for missing; got {array.dtype}")
    elif array.dtype.kind not in "biuf":
        raise InputError(
            f"{name} must be numeric, with NaN for missing; got dtype {array.dtype} "
            "(map category names to numbers first)"
        )
    return array.astype(float)
