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
  two-sided p-value.
* :func:`krippendorff_alpha`, :func:`model_reference_alpha`: inter-rater agreement.
Power and minimum detectable differences, simulated with :func:`paired_bootstrap`, live in
:mod:`emosign.power`, which builds on this module.

This module is a leaf: it imports nothing from the rest of ``emosign`` but the errors and the
private thread-budget helper ``emosign._threads``.

References
----------
Efron, B. and Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*. Chapman & Hall;
ch. 13 (percentile intervals) and ch. 16 (hypothesis testing with the bootstrap).

Koehn, P. (2004). Statistical significance tests for machine translation evaluation. EMNLP.

Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Annenberg School for
Communication Departmental Papers 43.
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

from emosign._threads import one_thread
from emosign.errors import InputError

__all__ = [
    "Interval",
    "LEVELS",
    "PairedTest",
    "WeightedStatistic",
    "bootstrap_interval",
    "bootstrap_weights",
    "krippendorff_alpha",
    "model_reference_alpha",
    "paired_bootstrap",
    "percentile_interval",
]

WeightedStatistic = Callable[[np.ndarray], np.ndarray]
"""``stat(weights)``: integer weights of shape (B, n) -> values of shape (B,) or (B, m)."""

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


# --------------------------------------------------------------------------------------------
# Resampling


def bootstrap_weights(
    n: int,
    *,
    n_boot: int = 10_000,
    seed: int | np.random.Generator = 0,
    strata: ArrayLike | None = None,
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

    Returns
    -------
    weights : ndarray of shape (n_boot, n), dtype int64
        Non-negative counts. Memory is ``8 * n_boot * n`` bytes, 16 MB for 10,000 x 200;
        :func:`bootstrap_interval` and :func:`paired_bootstrap` draw the same rows a chunk at
        a time instead and never hold them all.
    """
    n = _positive_int(n, "n")
    n_boot = _positive_int(n_boot, "n_boot")
    return np.concatenate(list(_weight_chunks(n, n_boot=n_boot, seed=seed, strata=strata)))


def _weight_chunks(
    n: int,
    *,
    n_boot: int,
    seed: int | np.random.Generator,
    strata: ArrayLike | None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[np.ndarray]:
    """The rows of :func:`bootstrap_weights`, drawn and yielded a chunk at a time.

    Concatenated, the chunks are exactly ``bootstrap_weights(n, ...)``: numpy draws the
    same stream whether ``rng.integers`` is asked for all rows at once or for a few rows at a
    time. Memory is one chunk, at most ``chunk_size`` rows and ``_CHUNK_CELLS`` counts.
    """
    rows = max(1, min(chunk_size, _CHUNK_CELLS // n))
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
    samples: ArrayLike, *, ci: float = 0.95
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
    """Paired bootstrap comparison of systems a and b scored on the same clips.

    ``difference`` is ``stat_a - stat_b`` on the full data; ``low`` and ``high`` bound its
    ``ci`` percentile interval; ``p_value`` is the two-sided shifted-bootstrap p-value of
    :func:`paired_bootstrap`; ``n_nan`` counts resamples where the difference was undefined.
    """

    difference: float
    low: float
    high: float
    p_value: float
    n_boot: int
    ci: float
    n_nan: int = 0


def bootstrap_interval(
    stat: WeightedStatistic,
    n: int,
    *,
    n_boot: int = 10_000,
    ci: float = 0.95,
    seed: int | np.random.Generator = 0,
    strata: ArrayLike | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
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
    n_boot, seed, strata
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
    chunks = _weight_chunks(n, n_boot=n_boot, seed=seed, strata=strata, chunk_size=chunk_size)
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
    n_boot: int = 10_000,
    ci: float = 0.95,
    seed: int | np.random.Generator = 0,
    strata: ArrayLike | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> PairedTest | list[PairedTest]:
    """Paired bootstrap comparison of two systems scored on the same ``n`` clips.

    Both statistics see the same weight rows, so each resample compares the systems on the
    same clips; the clip-to-clip variation they share cancels in the difference, which is what
    makes the test paired and much sharper than comparing two separate intervals.

    With ``d = stat_a - stat_b`` on the full data and ``d*_1 ... d*_B`` its bootstrap
    replicates, the interval is the ``ci`` percentile interval of ``d*`` and the two-sided
    p-value for H0: "the systems score the same" is::

        p = (1 + #{b : |d*_b - d| >= |d|}) / (1 + B)

    The replicates are shifted by ``d`` so that they mimic the distribution of the difference
    under H0 (Efron & Tibshirani 1993, ch. 16; Koehn 2004 for the paired bootstrap in NLP);
    the ``+1`` in numerator and denominator counts the observed data as one of the resamples,
    so that p is never 0 and the test stays valid with finite B (Davison & Hinkley 1997,
    ch. 4). The smallest attainable p is ``1 / (1 + B)``. NaN replicates are left out of both
    counts and reported as ``n_nan``. Swapping a and b flips the sign of ``difference``,
    ``low`` and ``high`` and leaves ``p_value`` unchanged.

    Parameters
    ----------
    stat_a, stat_b : callable
        Weighted statistics of the two systems, returning the same shape, (B,) or (B, m).
    n : int
        Number of clips.
    n_boot, ci, seed, strata, chunk_size
        As in :func:`bootstrap_interval`.

    Returns
    -------
    PairedTest, or a list of ``m`` PairedTests if the statistics return shape (B, m).
    """
    ci = _check_ci(ci)
    chunk_size = _positive_int(chunk_size, "chunk_size")
    estimate_a = _full_data_value(stat_a, n, "stat_a")
    estimate_b = _full_data_value(stat_b, n, "stat_b")
    if estimate_a.shape != estimate_b.shape:
        raise InputError(
            "stat_a and stat_b must return the same shape; on weights of shape "
            f"(1, {n}) they returned {(1, *estimate_a.shape)} and {(1, *estimate_b.shape)}"
        )
    n_boot = _positive_int(n_boot, "n_boot")
    chunks = _weight_chunks(n, n_boot=n_boot, seed=seed, strata=strata, chunk_size=chunk_size)
    samples_a, samples_b = _evaluate(
        (stat_a, stat_b), chunks, estimate_a.shape, ("stat_a", "stat_b")
    )

    difference = estimate_a - estimate_b
    replicates = samples_a - samples_b
    low, high = percentile_interval(replicates, ci=ci)
    defined = ~np.isnan(replicates)
    with np.errstate(invalid="ignore"):  # NaN replicates compare False and are masked anyway
        extreme = np.abs(replicates - difference) >= np.abs(difference) * (1.0 - _TIE_RTOL)
    n_extreme = (extreme & defined).sum(axis=0)
    n_defined = defined.sum(axis=0)
    p_value = np.where(np.isnan(difference), np.nan, (1.0 + n_extreme) / (1.0 + n_defined))
    n_nan = n_boot - n_defined

    def test(d, lo, hi, p, k) -> PairedTest:
        return PairedTest(float(d), float(lo), float(hi), float(p), n_boot, ci, n_nan=int(k))

    if difference.ndim == 0:
        return test(difference, low, high, p_value, n_nan)
    return [test(*column) for column in zip(difference, np.atleast_1d(low),
                                            np.atleast_1d(high), p_value, n_nan)]


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
