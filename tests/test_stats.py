"""Tests of emosign.stats: bootstrap weights, intervals, paired tests and Krippendorff's alpha.

Every random draw is seeded, so each test is deterministic; the simulation bands are chosen
from the binomial standard deviation of the simulated rate, so they are not tuned to a seed.
"""

from __future__ import annotations

import math
import warnings
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom, binomtest
from sklearn.metrics import balanced_accuracy_score, f1_score

from emosign.errors import InputError
from emosign.stats import (
    Interval,
    PairedTest,
    bootstrap_interval,
    bootstrap_weights,
    clopper_pearson,
    holm,
    krippendorff_alpha,
    mcnemar_test,
    model_reference_alpha,
    paired_bootstrap,
    percentile_interval,
    permutation_test,
    sign_flip_test,
    swap_patterns,
)


def weighted_mean(x: np.ndarray):
    """The weighted statistic ``weights (B, n) -> (B,)`` of the mean of ``x``."""
    x = np.asarray(x, dtype=float)
    return lambda w: (w @ x) / w.sum(axis=1)


def assert_same(a, b):
    """Two result dataclasses equal up to floating-point rounding (matrix products of a
    column and of a whole table may round differently)."""
    assert type(a) is type(b)
    for field, value in vars(a).items():
        exact = value is None or isinstance(value, (str, bool))
        expected = value if exact else pytest.approx(value, rel=1e-12, abs=1e-15)
        assert getattr(b, field) == expected, field


# --------------------------------------------------------------------------------------------
# bootstrap_weights


def test_weights_shape_dtype_and_row_sums():
    w = bootstrap_weights(200, n_boot=500, seed=3)
    assert w.shape == (500, 200)
    assert np.issubdtype(w.dtype, np.integer)
    assert (w >= 0).all()
    assert (w.sum(axis=1) == 200).all()


def test_weights_are_uniform_multinomial_counts():
    # Under Multinomial(n, 1/n) each count has mean 1 and variance 1 - 1/n.
    n, n_boot = 50, 20_000
    w = bootstrap_weights(n, n_boot=n_boot, seed=0)
    se_mean = math.sqrt((1 - 1 / n) / n_boot)
    assert np.abs(w.mean(axis=0) - 1).max() < 5 * se_mean
    assert w.var() == pytest.approx(1 - 1 / n, rel=0.03)
    # About (1 - 1/n)^n ~ 36% of clips are left out of a resample.
    assert (w == 0).mean() == pytest.approx((1 - 1 / n) ** n, abs=0.01)


def test_weights_reproducible_with_a_seed_and_different_with_another():
    a = bootstrap_weights(30, n_boot=100, seed=7)
    assert np.array_equal(a, bootstrap_weights(30, n_boot=100, seed=7))
    assert not np.array_equal(a, bootstrap_weights(30, n_boot=100, seed=8))


def test_weights_accept_a_generator():
    a = bootstrap_weights(30, n_boot=10, seed=np.random.default_rng(5))
    assert np.array_equal(a, bootstrap_weights(30, n_boot=10, seed=np.random.default_rng(5)))
    rng = np.random.default_rng(5)
    first = bootstrap_weights(30, n_boot=10, seed=rng)
    second = bootstrap_weights(30, n_boot=10, seed=rng)
    assert np.array_equal(first, a)
    assert not np.array_equal(first, second)  # the generator was advanced


SIGNERS = ("Ben", "Cory", "Jonathan", "Rachel")


@settings(max_examples=50, deadline=None)
@given(
    strata=st.lists(st.sampled_from(SIGNERS), min_size=1, max_size=40),
    n_boot=st.integers(1, 50),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_weights_keep_every_stratum_size(strata, n_boot, seed):
    labels = np.array(strata)
    w = bootstrap_weights(len(strata), n_boot=n_boot, seed=seed, strata=labels)
    assert w.shape == (n_boot, len(strata))
    for signer in set(strata):
        members = labels == signer
        assert (w[:, members].sum(axis=1) == members.sum()).all()


def test_stratified_weights_resample_within_strata():
    # A stratum of one clip always weighs exactly 1; the other stratum still varies.
    strata = [0] + [1] * 20
    w = bootstrap_weights(21, n_boot=200, seed=1, strata=strata)
    assert (w[:, 0] == 1).all()
    assert w[:, 1:].std() > 0
    assert np.array_equal(w, bootstrap_weights(21, n_boot=200, seed=1, strata=strata))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "n must be an integer >= 1"),
        ({"n": 2.5}, "n must be an integer >= 1"),
        ({"n": 5, "n_boot": 0}, "n_boot must be an integer >= 1"),
        ({"n": 5, "strata": [0, 1, 0]}, r"shape \(n,\) = \(5,\); got shape \(3,\)"),
        ({"n": 2, "strata": [[0, 1]]}, r"strata must have shape \(n,\)"),
    ],
)
def test_weights_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_weights(**kwargs)


# --------------------------------------------------------------------------------------------
# The identity the scorer relies on: weights == resampled data


def test_weighted_statistic_equals_statistic_on_resampled_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    w = bootstrap_weights(40, n_boot=200, seed=1)
    weighted = weighted_mean(x)(w)
    resampled = np.array([np.repeat(x, counts).mean() for counts in w])
    np.testing.assert_allclose(weighted, resampled, rtol=1e-12)


def test_sklearn_metrics_with_sample_weight_equal_metrics_on_resampled_clips():
    # Balanced accuracy and weighted F1, the paper's metrics, with classes that vanish from
    # some resamples (zero weight): sample_weight must still give the resampled score.
    rng = np.random.default_rng(0)
    y = rng.choice(3, size=30, p=[0.6, 0.35, 0.05])
    p = np.where(rng.random(30) < 0.7, y, rng.choice(3, size=30))
    for counts in bootstrap_weights(30, n_boot=25, seed=2):
        y_r, p_r = np.repeat(y, counts), np.repeat(p, counts)
        with warnings.catch_warnings():
            # Both sides warn alike when a resample lacks a class.
            warnings.simplefilter("ignore")
            assert balanced_accuracy_score(y, p, sample_weight=counts) == pytest.approx(
                balanced_accuracy_score(y_r, p_r)
            )
            assert f1_score(y, p, average="weighted", sample_weight=counts) == pytest.approx(
                f1_score(y_r, p_r, average="weighted")
            )


# --------------------------------------------------------------------------------------------
# percentile_interval


def test_percentile_interval_known_values():
    low, high = percentile_interval(np.arange(101.0), ci=0.95)
    assert (low, high) == pytest.approx((2.5, 97.5))
    low, high = percentile_interval(np.arange(101.0), ci=0.5)
    assert (low, high) == pytest.approx((25.0, 75.0))
    assert isinstance(low, float) and isinstance(high, float)


def test_percentile_interval_ignores_nan_samples():
    samples = np.concatenate([np.arange(101.0), np.full(50, np.nan)])
    assert percentile_interval(samples) == pytest.approx((2.5, 97.5))


def test_percentile_interval_all_nan_is_nan_without_warning(recwarn):
    low, high = percentile_interval(np.full(10, np.nan))
    assert math.isnan(low) and math.isnan(high)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_percentile_interval_columns():
    samples = np.column_stack([np.arange(101.0), 10 * np.arange(101.0), np.full(101, np.nan)])
    low, high = percentile_interval(samples)
    assert low.shape == high.shape == (3,)
    np.testing.assert_allclose(low[:2], [2.5, 25.0])
    np.testing.assert_allclose(high[:2], [97.5, 975.0])
    assert np.isnan(low[2]) and np.isnan(high[2])


@pytest.mark.parametrize("ci", [0, 1, 1.5, -0.1, float("nan"), True, "0.95"])
def test_percentile_interval_rejects_bad_ci(ci):
    with pytest.raises(ValueError, match="ci must be a number strictly between 0 and 1"):
        percentile_interval(np.arange(10.0), ci=ci)


@pytest.mark.parametrize("samples", [np.array([]), np.zeros((2, 2, 2)), np.float64(1.0)])
def test_percentile_interval_rejects_bad_shapes(samples):
    with pytest.raises(ValueError, match=r"samples must have shape \(B,\) or \(B, m\)"):
        percentile_interval(samples)


# --------------------------------------------------------------------------------------------
# bootstrap_interval


def test_bootstrap_interval_matches_its_definition():
    x = np.random.default_rng(0).normal(size=60)
    stat = weighted_mean(x)
    result = bootstrap_interval(stat, 60, n_boot=1_000, ci=0.9, seed=4)
    samples = stat(bootstrap_weights(60, n_boot=1_000, seed=4))
    assert isinstance(result, Interval)
    assert result.estimate == pytest.approx(x.mean())
    assert (result.low, result.high) == pytest.approx(percentile_interval(samples, ci=0.9))
    assert (result.ci, result.n_boot, result.method, result.n_nan) == (0.9, 1_000, "percentile", 0)
    assert result.low < result.estimate < result.high


def test_bootstrap_interval_is_unchanged_by_chunking_and_sees_read_only_chunks():
    x = np.random.default_rng(1).normal(size=25)
    seen = []

    def stat(w):
        seen.append(w.shape[0])
        with pytest.raises(ValueError):
            w[0, 0] = 99  # a statistic must not be able to corrupt the shared weights
        return weighted_mean(x)(w)

    small = bootstrap_interval(stat, 25, n_boot=1_000, seed=0, chunk_size=300)
    assert seen == [1, 300, 300, 300, 100]  # the full-data call, then the chunks
    assert_same(small, bootstrap_interval(weighted_mean(x), 25, n_boot=1_000, seed=0))


def test_bootstrap_interval_of_several_statistics_at_once():
    x = np.random.default_rng(2).normal(size=(30, 2)) + [0.0, 5.0]

    def both_means(w):
        return (w @ x) / w.sum(axis=1, keepdims=True)

    results = bootstrap_interval(both_means, 30, n_boot=500, seed=1)
    assert isinstance(results, list) and len(results) == 2
    for column, result in enumerate(results):
        alone = bootstrap_interval(weighted_mean(x[:, column]), 30, n_boot=500, seed=1)
        assert_same(result, alone)


def test_bootstrap_interval_counts_and_skips_undefined_resamples():
    # The mean of the clips flagged 1: undefined (0/0) in resamples that draw none of them.
    flagged = np.zeros(20)
    flagged[0] = 1.0
    values = np.arange(20.0)

    def mean_of_flagged(w):
        with np.errstate(invalid="ignore"):
            return (w * flagged * values).sum(axis=1) / (w * flagged).sum(axis=1)

    result = bootstrap_interval(mean_of_flagged, 20, n_boot=2_000, seed=0)
    weights = bootstrap_weights(20, n_boot=2_000, seed=0)
    assert result.n_nan == int((weights[:, 0] == 0).sum())
    assert 500 < result.n_nan < 1_000  # about (19/20)^20 = 36% of resamples
    assert (result.estimate, result.low, result.high) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    "stat, got",
    [
        (lambda w: w.sum(), r"\(\)"),  # a scalar, not one value per row
        (lambda w: w.sum(axis=0), r"\(7,\)"),  # reduced over the wrong axis
        (lambda w: w[..., None, None], r"\(1, 7, 1, 1\)"),
    ],
)
def test_bootstrap_interval_rejects_a_statistic_of_the_wrong_shape(stat, got):
    expected = rf"stat must map weights of shape \(B, n\).*returned shape {got}"
    with pytest.raises(ValueError, match=expected):
        bootstrap_interval(stat, 7, n_boot=10)


def test_bootstrap_interval_rejects_a_statistic_whose_width_changes():
    def unstable(w):
        return np.ones((w.shape[0], 1 if w.shape[0] == 1 else 2))

    with pytest.raises(ValueError, match=r"expected \(10, 1\)"):
        bootstrap_interval(unstable, 7, n_boot=10)


def test_bootstrap_interval_validation():
    stat = weighted_mean(np.arange(5.0))
    with pytest.raises(ValueError, match="ci must be"):
        bootstrap_interval(stat, 5, ci=95)
    with pytest.raises(ValueError, match="n must be"):
        bootstrap_interval(stat, 0)
    with pytest.raises(ValueError, match="n_boot must be"):
        bootstrap_interval(stat, 5, n_boot=0)
    with pytest.raises(ValueError, match="chunk_size must be"):
        bootstrap_interval(stat, 5, chunk_size=0)
    with pytest.raises(ValueError, match="strata must have shape"):
        bootstrap_interval(stat, 5, strata=[1, 2])


def test_percentile_interval_coverage_is_near_nominal():
    # 400 simulated test sets of n=200 clips, each correct with probability 0.3; the 95%
    # interval of accuracy (1,000 resamples each) should contain 0.3 about 95% of the time.
    # With 400 sets the coverage estimate has binomial sd sqrt(.95 * .05 / 400) = 0.011; the
    # band is 3.5 sd either side of nominal. It catches gross errors (wrong tails, a width off
    # by a factor, an interval not centred on the data), not 95% versus 90%: on this lattice
    # of accuracies a 90% interval covers about 92%.
    n_sets, n, p_true, ci = 400, 200, 0.3, 0.95
    rng = np.random.default_rng(20250517)
    correct = (rng.random((n_sets, n)) < p_true).astype(float)
    covered = 0
    for outcomes in correct:
        accuracy = bootstrap_weights(n, n_boot=1_000, seed=rng) @ outcomes / n
        low, high = percentile_interval(accuracy, ci=ci)
        covered += low <= p_true <= high
    coverage = covered / n_sets
    sd = math.sqrt(ci * (1 - ci) / n_sets)
    assert ci - 3.5 * sd <= coverage <= ci + 3.5 * sd, coverage


# --------------------------------------------------------------------------------------------
# paired_bootstrap


def accuracy_of(correct: np.ndarray):
    return weighted_mean(np.asarray(correct, dtype=float))


def test_identical_systems_differ_by_zero_with_p_one():
    correct = np.random.default_rng(0).random(100) < 0.6
    result = paired_bootstrap(accuracy_of(correct), accuracy_of(correct), 100, n_boot=500)
    assert isinstance(result, PairedTest)
    assert (result.difference, result.low, result.high, result.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert (result.n_boot, result.ci, result.n_nan) == (500, 0.95, 0)


def test_clearly_better_system_is_significant():
    rng = np.random.default_rng(1)
    a = rng.random(1_000) < 0.75
    b = rng.random(1_000) < 0.60
    result = paired_bootstrap(accuracy_of(a), accuracy_of(b), 1_000, n_boot=2_000, seed=3)
    assert result.difference == pytest.approx(a.mean() - b.mean())
    assert result.p_value < 0.01
    assert result.p_value >= 1 / (1 + 2_000)  # never 0
    assert 0 < result.low < result.difference < result.high


def test_swapping_systems_flips_the_sign_and_keeps_p():
    rng = np.random.default_rng(2)
    a, b = rng.random(80) < 0.7, rng.random(80) < 0.6
    ab = paired_bootstrap(accuracy_of(a), accuracy_of(b), 80, n_boot=1_000, seed=5)
    ba = paired_bootstrap(accuracy_of(b), accuracy_of(a), 80, n_boot=1_000, seed=5)
    assert ba.difference == -ab.difference != 0
    assert (ba.low, ba.high) == pytest.approx((-ab.high, -ab.low))
    assert ba.p_value == ab.p_value


def test_paired_bootstrap_uses_the_same_resamples_for_both_systems():
    # b is a minus a constant on every resample only if both see the same weights; the
    # difference then never varies, and no resample is as extreme as |d| from d.
    x = np.random.default_rng(3).normal(size=50)
    mean = weighted_mean(x)
    result = paired_bootstrap(mean, lambda w: mean(w) - 0.25, 50, n_boot=999, seed=0)
    assert result.difference == pytest.approx(0.25)
    assert (result.low, result.high) == pytest.approx((0.25, 0.25))
    assert result.p_value == pytest.approx(1 / 1_000)


def test_paired_bootstrap_p_value_formula():
    rng = np.random.default_rng(4)
    a, b = rng.random(60) < 0.65, rng.random(60) < 0.55
    result = paired_bootstrap(accuracy_of(a), accuracy_of(b), 60, n_boot=1_000, seed=9)
    w = bootstrap_weights(60, n_boot=1_000, seed=9)
    d = a.mean() - b.mean()
    replicates = accuracy_of(a)(w) - accuracy_of(b)(w)
    expected = (1 + np.sum(np.abs(replicates - d) >= abs(d) - 1e-12)) / (1 + 1_000)
    assert result.p_value == pytest.approx(expected)
    assert (result.low, result.high) == pytest.approx(percentile_interval(replicates))


def test_paired_bootstrap_rejects_at_about_the_nominal_rate_under_the_null():
    # Two systems with the same 60% accuracy, errors independent: p < 0.05 should happen in
    # about 5% of 300 simulated test sets. The band is 3.5 binomial sd either side.
    rng = np.random.default_rng(11)
    n_sets, n, level = 300, 200, 0.05
    rejections = 0
    for _ in range(n_sets):
        a, b = rng.random(n) < 0.6, rng.random(n) < 0.6
        result = paired_bootstrap(accuracy_of(a), accuracy_of(b), n, n_boot=999, seed=rng)
        rejections += result.p_value < level
    sd = math.sqrt(level * (1 - level) / n_sets)
    assert level - 3.5 * sd <= rejections / n_sets <= level + 3.5 * sd, rejections / n_sets


def test_paired_bootstrap_of_several_statistics():
    rng = np.random.default_rng(5)
    xa, xb = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))

    def means(x):
        return lambda w: (w @ x) / w.sum(axis=1, keepdims=True)

    results = paired_bootstrap(means(xa), means(xb), 40, n_boot=300, seed=2)
    assert len(results) == 3
    for k, result in enumerate(results):
        a, b = weighted_mean(xa[:, k]), weighted_mean(xb[:, k])
        single = paired_bootstrap(a, b, 40, n_boot=300, seed=2)
        assert_same(result, single)


def test_paired_bootstrap_validation():
    def one(w):
        return np.ones(w.shape[0])

    def two(w):
        return np.ones((w.shape[0], 2))

    with pytest.raises(ValueError, match="stat_a and stat_b must return the same shape"):
        paired_bootstrap(one, two, 5, n_boot=10)
    with pytest.raises(ValueError, match=r"stat_b must map weights"):
        paired_bootstrap(one, lambda w: 1.0, 5, n_boot=10)
    with pytest.raises(ValueError, match="ci must be"):
        paired_bootstrap(one, one, 5, ci=1.0)


# --------------------------------------------------------------------------------------------
# Krippendorff's alpha

nan = np.nan
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: four observers,
# twelve units, missing data. The paper reports alpha = .743 nominal, .815 ordinal, .849
# interval and .797 ratio.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]


@pytest.mark.parametrize(
    "level, expected",
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_alpha_reproduces_krippendorff_2011(level, expected):
    assert krippendorff_alpha(KRIPPENDORFF_2011, level=level) == pytest.approx(expected, abs=5e-4)


def test_alpha_by_hand():
    # Nominal, two raters, units (1,1) (1,2) (2,2) (2,2): coincidences o11=2, o12=o21=1,
    # o22=4; n1=3, n2=5, n=8. alpha = 1 - (n-1)(o12+o21) / (2 n1 n2) = 1 - 7*2/30 = 8/15.
    assert krippendorff_alpha([[1, 1, 2, 2], [1, 2, 2, 2]]) == pytest.approx(8 / 15)
    # Interval, units (1,1) (2,2) (3,4): values 1,1,2,2,3,4 (n=6); observed sum of o*delta
    # = 2 * (3-4)^2 = 2; expected sum over ordered value pairs of n_c n_k (c-k)^2 = 82.
    # alpha = 1 - (n-1) * 2 / 82 = 36/41.
    assert krippendorff_alpha([[1, 2, 3], [1, 2, 4]], level="interval") == pytest.approx(36 / 41)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_perfect_agreement_is_one(level):
    ratings = [[0, 1, 2, 3, nan], [0, 1, 2, 3, 2], [nan, 1, 2, 3, 2]]
    assert krippendorff_alpha(ratings, level=level) == 1.0


def test_alpha_with_none_as_missing_equals_nan_as_missing():
    with_none = [[r if r == r else None for r in row] for row in KRIPPENDORFF_2011]
    assert krippendorff_alpha(with_none) == krippendorff_alpha(KRIPPENDORFF_2011)


def test_alpha_is_nan_without_variation():
    assert math.isnan(krippendorff_alpha([[2, 2, 2], [2, 2, nan]]))
    # Only pairable units count: the lone 5 on the last unit cannot be compared.
    assert math.isnan(krippendorff_alpha([[2, 2, 5], [2, 2, nan]]))


def test_model_reference_alpha_is_alpha_of_the_two_as_raters():
    rng = np.random.default_rng(0)
    reference = rng.integers(-3, 4, size=50)
    prediction = np.clip(reference + rng.integers(-1, 2, size=50), -3, 3)
    for level in ("nominal", "ordinal", "interval"):
        assert model_reference_alpha(reference, prediction, level=level) == krippendorff_alpha(
            np.stack([reference, prediction]), level=level
        )
    assert model_reference_alpha(reference, reference, level="ordinal") == 1.0
    # Ordinal credit for near misses: off-by-one predictions agree more than nominal says.
    assert model_reference_alpha(reference, prediction, level="ordinal") > model_reference_alpha(
        reference, prediction, level="nominal"
    )


@pytest.mark.parametrize(
    "ratings, kwargs, message",
    [
        ([1, 2, 3], {}, r"shape \(n_raters, n_units\); got shape \(3,\)"),
        ([[1, 2, 3]], {}, "at least 2 raters"),
        ([["a", "b"], ["a", "a"]], {}, "must be numeric"),
        ([[1, None], ["b", 2]], {}, "must be numeric"),  # an object array
        ([[1, 2], [1]], {}, "rectangular"),
        ([[1, 2], [1, np.inf]], {}, "found inf"),
        ([[1, nan], [nan, 2]], {}, "no unit was rated by at least two raters"),
        ([[1, 2], [1, 2]], {"level": "Nominal"}, "level must be one of"),
        ([[-1, 2], [-1, 2]], {"level": "ratio"}, "non-negative"),
    ],
)
def test_alpha_validation(ratings, kwargs, message):
    with pytest.raises(ValueError, match=message):
        krippendorff_alpha(ratings, **kwargs)


def test_model_reference_alpha_validation():
    with pytest.raises(ValueError, match=r"both have shape \(n_units,\); got \(3,\) and \(2,\)"):
        model_reference_alpha([1, 2, 3], [1, 2], level="nominal")
    with pytest.raises(ValueError, match="level must be one of"):
        model_reference_alpha([1, 2, 3], [1, 2, 3], level="cardinal")
    with pytest.raises(ValueError, match="reference must be numeric"):
        model_reference_alpha(["pos", "neg"], [1, 0], level="nominal")


# --------------------------------------------------------------------------------------------
# Cluster bootstrap, the paired permutation test, McNemar, Clopper-Pearson, Holm

def test_cluster_bootstrap_weights_are_constant_within_a_cluster():
    clusters = np.repeat(["v1", "v2", "v3", "v4"], [1, 2, 3, 4])
    w = bootstrap_weights(10, n_boot=300, seed=0, clusters=clusters)
    for label in np.unique(clusters):
        block = w[:, clusters == label]
        assert (block == block[:, :1]).all()
    # Four clusters drawn per row: the cluster counts sum to 4.
    firsts = w[:, [0, 1, 3, 6]]
    assert (firsts.sum(axis=1) == 4).all()


def test_cluster_bootstrap_refuses_strata_as_well():
    with pytest.raises(InputError, match="strata and clusters"):
        bootstrap_weights(4, n_boot=2, strata=[0, 0, 1, 1], clusters=[0, 1, 0, 1])


def test_swap_patterns_swap_whole_clusters_with_probability_one_half():
    clusters = np.repeat([3, 1, 2], [2, 3, 5])
    s = swap_patterns(10, n_perm=4000, seed=1, clusters=clusters)
    assert s.shape == (4000, 10) and s.dtype == bool
    for label in (1, 2, 3):
        block = s[:, clusters == label]
        assert (block == block[:, :1]).all()
    assert s[:, 0].mean() == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / 4000))


def brute_force_p(u, *, mid=False):
    """The exact two-sided sign-flip p-value, by enumerating all 2**n swaps: the share at
    least as extreme as the data, or (mid) the share more extreme plus half the share tying."""
    d = abs(u.sum())
    sizes = np.array([abs(((1 - 2 * np.array(s)) * u).sum()) for s in product([0, 1], repeat=len(u))])
    above, ties = sizes > d + 1e-12, np.abs(sizes - d) <= 1e-12
    return float(above.mean() + (0.5 if mid else 1.0) * ties.mean())


def test_permutation_p_value_equals_the_exact_enumeration_on_a_tiny_case():
    rng = np.random.default_rng(3)
    ca, cb = rng.random(12) < 0.85, rng.random(12) < 0.4
    u = (ca.astype(float) - cb) / 12
    for p_value, mid in (("conservative", False), ("mid", True)):
        exact = sign_flip_test(u, exact=True, p_value=p_value)
        assert exact.exact and exact.n_boot == 2**12 - 1 and exact.p_value_type == p_value
        assert exact.p_value == pytest.approx(brute_force_p(u, mid=mid), rel=1e-12)
        # The Monte Carlo p-value converges to it.
        mc = sign_flip_test(u, exact=False, n_perm=100_000, seed=0, p_value=p_value)
        assert not mc.exact
        assert mc.p_value == pytest.approx(exact.p_value, abs=4 * math.sqrt(exact.p_value / 100_000))


def test_permutation_monte_carlo_p_value_formula():
    u = np.array([0.3, -0.1, 0.2, 0.25, 0.05, 0.1, -0.05, 0.15])
    swaps = swap_patterns(8, n_perm=500, seed=4)
    null = ((1 - 2 * swaps) * u).sum(axis=1)
    expected = (1 + (np.abs(null) >= abs(u.sum()) * (1 - 1e-9)).sum()) / 501
    t = sign_flip_test(u, n_perm=500, seed=4, exact=False, p_value="conservative")
    assert t.p_value == pytest.approx(expected, rel=1e-12)
    assert t.p_value_type == "conservative"
    # the generic test on the same swap statistic gives the same result
    g = permutation_test(lambda s: ((1 - 2 * s) * u).sum(axis=1), 8, n_perm=500, seed=4,
                         exact=False, p_value="conservative")
    assert_same(g, t)


def test_permutation_interval_inverts_the_test():
    rng = np.random.default_rng(0)
    for seed in range(30):
        ca, cb = rng.random(40) < 0.7, rng.random(40) < 0.55
        t = sign_flip_test((ca.astype(float) - cb) / 40, n_perm=999, seed=seed)
        assert t.interval == "inverted" and t.method == "permutation"
        assert t.agrees
        assert t.low <= t.difference <= t.high


def test_clustered_permutation_permutes_whole_clusters():
    # Two clusters of 5 clips: only 4 patterns exist, so p is 2/4 or 4/4 and the test
    # sees the clusters' sums, not the clips.
    u = np.array([0.1] * 5 + [0.02] * 5)
    t = sign_flip_test(u, clusters=[0] * 5 + [1] * 5, p_value="conservative")
    assert t.exact and t.n_boot == 3 and t.clusters == 2
    assert t.p_value == pytest.approx(0.5)  # the identity and the all-swap are as extreme
    # mid-p: none of the 4 patterns is more extreme, 2 tie (the identity among them): 1/4
    assert sign_flip_test(u, clusters=[0] * 5 + [1] * 5).p_value == pytest.approx(0.25)
    assert (t.low, t.high) == (-np.inf, np.inf)  # 1/4 > 0.05: nothing can be rejected
    seen = []
    permutation_test(lambda s: seen.append(s.copy()) or s.sum(axis=1).astype(float), 10,
                     clusters=[0] * 5 + [1] * 5)
    patterns = np.concatenate(seen[1:])
    assert {tuple(row) for row in patterns} == {
        (True,) * 5 + (False,) * 5, (False,) * 5 + (True,) * 5, (True,) * 10}


def test_permutation_test_of_several_statistics_matches_one_at_a_time():
    rng = np.random.default_rng(5)
    u = rng.normal(size=(3, 30)) * 0.01 + 0.004
    together = sign_flip_test(u, n_perm=999, seed=2)
    assert len(together) == 3
    for row, test in zip(u, together):
        assert_same(test, sign_flip_test(row, n_perm=999, seed=2))


def test_permutation_test_has_size_alpha_under_exchangeability():
    # Two exchangeable systems: rejections at .05 within 3 binomial SDs of .05.
    rng = np.random.default_rng(11)
    sims, n = 400, 60
    ca, cb = rng.random((sims, n)) < 0.6, rng.random((sims, n)) < 0.6
    tests = sign_flip_test((ca.astype(float) - cb) / n, n_perm=199, seed=1)
    rate = np.mean([t.p_value <= 0.05 for t in tests])
    assert abs(rate - 0.05) < 3 * math.sqrt(0.05 * 0.95 / sims)


def test_mid_p_of_an_accuracy_difference_is_the_binomial_mid_p_by_hand():
    # 6 clips right for a only, 1 for b only, 3 concordant: every swap pattern flips some
    # of the 7 discordant terms +-1/10, so the swapped count of a-only clips is X ~
    # Binomial(7, 1/2) and |d*| = |2X - 7| / 10. The data's |d| = 5/10 is reached at X in
    # {1, 6} (2 * 7 / 128) and exceeded at X in {0, 7} (2 / 128):
    #   conservative p = (2 + 14) / 128 = 16 / 128, McNemar's exact p;
    #   mid-p          = (2 + 14 / 2) / 128 = 9 / 128.
    a = np.array([1] * 6 + [0] + [1, 0, 1], dtype=bool)
    b = np.array([0] * 6 + [1] + [1, 0, 1], dtype=bool)
    u = (a.astype(float) - b) / 10
    mid = sign_flip_test(u, exact=True)
    conservative = sign_flip_test(u, exact=True, p_value="conservative")
    assert mid.exact and mid.p_value_type == "mid"
    assert mid.p_value == pytest.approx(9 / 128, rel=1e-12)
    assert conservative.p_value == pytest.approx(16 / 128, rel=1e-12)
    assert conservative.p_value == pytest.approx(mcnemar_test(a, b).p_value, rel=1e-12)
    # The mid-p crosses .1 where the conservative p does not: the interval follows each.
    mid_10 = sign_flip_test(u, exact=True, ci=0.9)
    conservative_10 = sign_flip_test(u, exact=True, ci=0.9, p_value="conservative")
    assert mid_10.p_value <= 0.1 and not mid_10.low <= 0 <= mid_10.high
    assert conservative_10.p_value > 0.1 and conservative_10.low <= 0 <= conservative_10.high


def _shifted_p(null, d, delta, *, mid):
    """The p-value of "the difference is delta" against the null sizes, by its definition."""
    size, t = np.abs(null), abs(d - delta)
    if mid and t <= 1e-12:
        return 1.0
    above = (size > t + 1e-12).sum()
    ties = (np.abs(size - t) <= 1e-12).sum()
    return (above + (0.5 if mid else 1.0) * (ties + 1)) / (1 + null.size)


@pytest.mark.parametrize("p_value", ["mid", "conservative"])
def test_permutation_interval_is_every_shift_its_own_p_value_keeps_ties_included(p_value):
    # Accuracy-like terms (multiples of 1/n) make many swap patterns tie with each other and
    # with the shifted data. Every delta on a grid that holds each |d*| and the midpoints
    # between them is in the interval exactly when its p-value is above 1 - ci.
    rng = np.random.default_rng(8)
    n, n_perm = 16, 199
    for trial in range(40):
        ca, cb = rng.random(n) < 0.7, rng.random(n) < 0.5
        u = (ca.astype(float) - cb) / n
        ci = (0.95, 0.9, 0.8)[trial % 3]
        t = sign_flip_test(u, n_perm=n_perm, seed=trial, ci=ci, exact=False, p_value=p_value)
        null = ((1 - 2 * swap_patterns(n, n_perm=n_perm, seed=trial)) * u).sum(axis=1)
        d = u.sum()
        assert t.p_value == pytest.approx(_shifted_p(null, d, 0.0, mid=p_value == "mid"))
        assert t.agrees
        steps = np.unique(np.round(np.abs(null), 12))
        grid = np.concatenate([steps, (steps[1:] + steps[:-1]) / 2, [steps[-1] + 1 / n]])
        for size in grid:
            for delta in (d - size, d + size):
                kept = _shifted_p(null, d, delta, mid=p_value == "mid") > 1 - ci
                assert kept == (t.low <= delta <= t.high), (trial, size, kept, t)


def test_mid_p_is_never_above_the_conservative_p_and_rejects_at_least_as_often():
    rng = np.random.default_rng(12)
    ca, cb = rng.random((300, 50)) < 0.6, rng.random((300, 50)) < 0.6
    u = (ca.astype(float) - cb) / 50
    mid = sign_flip_test(u, n_perm=499, seed=3)
    conservative = sign_flip_test(u, n_perm=499, seed=3, p_value="conservative")
    for m, c in zip(mid, conservative):
        # (at d = 0 the mid-p is 1, the conservative one 1 up to rounding of the sums)
        assert m.difference == c.difference
        assert m.p_value <= c.p_value or (abs(m.difference) < 1e-12 and m.p_value == 1)
        assert c.low <= m.low and m.high <= c.high  # the mid-p's interval is inside
        assert m.agrees and c.agrees
    assert sum(m.p_value <= 0.05 for m in mid) >= sum(c.p_value <= 0.05 for c in conservative)


def test_mid_p_permutation_test_has_size_alpha_on_a_lattice_statistic():
    # An accuracy difference moves in steps of 1/n: the conservative test's size is below
    # .05 and the mid-p's is not, each measured over the same 4,000 exchangeable pairs.
    rng = np.random.default_rng(21)
    sims, n = 4_000, 40
    ca, cb = rng.random((sims, n)) < 0.6, rng.random((sims, n)) < 0.6
    u = (ca.astype(float) - cb) / n
    se = math.sqrt(0.05 * 0.95 / sims)
    mid = np.mean([t.p_value <= 0.05 for t in sign_flip_test(u, n_perm=999, seed=2)])
    conservative = np.mean([t.p_value <= 0.05 for t in
                            sign_flip_test(u, n_perm=999, seed=2, p_value="conservative")])
    assert abs(mid - 0.05) < 3 * se
    assert conservative < mid


def test_permutation_validation():
    with pytest.raises(InputError, match="n_perm"):
        sign_flip_test([0.1, 0.2], n_perm=0)
    with pytest.raises(InputError, match="exact"):
        sign_flip_test(np.ones(25), exact=True)
    with pytest.raises(InputError, match="clusters"):
        sign_flip_test([0.1, 0.2], clusters=[0, 1, 2])
    with pytest.raises(InputError, match="differences"):
        sign_flip_test([[[0.1]]])
    with pytest.raises(InputError, match="stat must map"):
        permutation_test(lambda s: np.ones(3), 4)
    with pytest.raises(InputError, match="p_value must be one of"):
        sign_flip_test([0.1, 0.2], p_value="exact")


def test_mcnemar_exact_p_on_a_hand_computed_table():
    # b = 6 clips right for a only, c = 1 for b only, 13 concordant: m = 7.
    # P(X <= 1 | 7, 1/2) = (1 + 7) / 128, so p = 16 / 128 = 0.125.
    a = np.array([1] * 6 + [0] + [1] * 10 + [0] * 3, dtype=bool)
    b = np.array([0] * 6 + [1] + [1] * 10 + [0] * 3, dtype=bool)
    t = mcnemar_test(a, b)
    assert t.p_value == pytest.approx(16 / 128)
    assert t.p_value == pytest.approx(binomtest(6, 7, 0.5).pvalue)
    assert t.difference == pytest.approx(5 / 20)
    assert t.method == "mcnemar" and t.exact and t.agrees
    # The interval is Clopper-Pearson's for pi = 6/7, mapped to (2 pi - 1) * 7 / 20.
    lo, hi = clopper_pearson(6, 7)
    assert (t.low, t.high) == pytest.approx(((2 * lo - 1) * 7 / 20, (2 * hi - 1) * 7 / 20))
    assert t.low < 0 < t.high  # p = .125 > .05


def test_mcnemar_interval_and_p_agree_on_many_tables():
    rng = np.random.default_rng(2)
    a, b = rng.random((500, 50)) < 0.7, rng.random((500, 50)) < 0.6
    tests = mcnemar_test(a, b)
    assert len(tests) == 500 and all(t.agrees for t in tests)
    assert any(t.p_value <= 0.05 for t in tests) and any(t.p_value > 0.05 for t in tests)


def test_mcnemar_without_discordant_clips():
    t = mcnemar_test([True, False, True], [True, False, True])
    assert (t.difference, t.low, t.high, t.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_mcnemar_validation():
    with pytest.raises(InputError, match="correct_a"):
        mcnemar_test([0, 2], [0, 1])
    with pytest.raises(InputError, match="shape"):
        mcnemar_test([True, False], [True])


def test_clopper_pearson_known_values_and_edges():
    assert clopper_pearson(1, 3) == pytest.approx((0.0084038, 0.9057007), abs=1e-6)
    assert clopper_pearson(0, 3) == pytest.approx((0.0, 1 - 0.025 ** (1 / 3)))
    assert clopper_pearson(3, 3) == pytest.approx((0.025 ** (1 / 3), 1.0))
    low, high = clopper_pearson([0, 5], [0, 10])
    assert np.isnan(low[0]) and np.isnan(high[0])
    with pytest.raises(InputError, match="successes"):
        clopper_pearson(4, 3)


def test_clopper_pearson_coverage_is_at_least_nominal():
    from scipy.stats import binom as binomial
    k = np.arange(11)
    low, high = clopper_pearson(k, np.full(11, 10))
    for p in np.linspace(0.01, 0.99, 50):
        covered = (low <= p) & (p <= high)
        assert binomial.pmf(k, 10, p)[covered].sum() >= 0.95 - 1e-9


def test_holm_on_a_known_vector():
    # Sorted .005, .01, .03, .04 times 4, 3, 2, 1 -> .02, .03, .06, .04 -> running max.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5]) == pytest.approx([0.5])
    out = holm([0.02, np.nan, 0.9])
    assert np.isnan(out[1]) and out[[0, 2]] == pytest.approx([0.04, 0.9])
    with pytest.raises(InputError, match="p_values"):
        holm([1.2])


def test_paired_bootstrap_inverted_interval_agrees_with_its_p_value():
    rng = np.random.default_rng(8)
    for seed in range(20):
        ca, cb = rng.random(40) < 0.7, rng.random(40) < 0.55
        t = paired_bootstrap(weighted_mean(ca), weighted_mean(cb), 40, n_boot=499, seed=seed,
                             interval="inverted")
        assert t.interval == "inverted" and t.agrees
    with pytest.raises(InputError, match="interval"):
        paired_bootstrap(weighted_mean(ca), weighted_mean(cb), 40, interval="basic")


def test_posterior_confusions_keep_supports_and_give_jeffreys_recalls():
    from emosign.stats import posterior_confusions

    confusion = np.array([[5, 3, 2, 0], [0, 0, 3, 0], [1, 1, 8, 1]], dtype=float)
    draws = posterior_confusions(confusion, n_draws=20_000, seed=1)
    assert draws.shape == (20_000, 3, 4)
    assert np.allclose(draws.sum(axis=-1), confusion.sum(axis=-1))  # supports never change
    assert (draws[..., 3][:, :2] == 0).all()  # no prior mass on "no prediction"
    # The recall of a class is Beta(TP + 1/2, n - TP + 1/2): the 3-clip class, all wrong.
    recall = draws[:, 1, 1] / 3
    assert recall.mean() == pytest.approx(0.5 / 4, abs=0.005)
    assert (draws[:, 0, 0] / 10).mean() == pytest.approx(5.5 / 11, abs=0.005)
    batched = posterior_confusions(np.stack([confusion, confusion]), n_draws=5)
    assert batched.shape == (5, 2, 3, 4)
    with pytest.raises(InputError, match="confusion"):
        posterior_confusions(np.ones((3, 5)))


def test_mid_p_of_two_identical_systems_is_one():
    # Every swap pattern gives 0, the centre of the swap distribution: no evidence either way.
    same = sign_flip_test(np.zeros(30), n_perm=99)
    assert same.difference == 0 and same.p_value == 1 and same.agrees
    # Equal accuracies with discordant clips: d = 0 too, and p = 1 as McNemar's.
    u = np.array([1, -1, 1, -1, 0, 0], dtype=float) / 6
    assert sign_flip_test(u, exact=True).p_value == 1


def test_mcnemar_mid_p_on_the_hand_computed_table():
    # b = 6, c = 1, m = 7: P(X < 1) = 1/128, P(X = 1) = 7/128, so the mid-p is
    # 2 (1 + 7/2) / 128 = 9/128 (Fagerland, Lydersen & Laake 2013), the exact p 16/128; the
    # permutation test enumerating the same table's swaps gives the same mid-p.
    a = np.array([1] * 6 + [0] + [1] * 10 + [0] * 3, dtype=bool)
    b = np.array([0] * 6 + [1] + [1] * 10 + [0] * 3, dtype=bool)
    mid = mcnemar_test(a, b, p_value="mid")
    assert mid.p_value == pytest.approx(9 / 128)
    assert mid.p_value_type == "mid" and not mid.exact and mid.agrees
    assert mcnemar_test(a, b).p_value_type == "conservative" and mcnemar_test(a, b).exact
    u = (a.astype(float) - b)[:10] / 20  # the 7 discordant clips and 3 concordant ones
    assert sign_flip_test(u, exact=True).p_value == pytest.approx(mid.p_value)
    # The interval's ends are where a mid tail at b = 6 of 7 equals .025; it is inside
    # Clopper-Pearson's, whose tails count P(X = 6) whole.
    pi_low, pi_high = (end * 20 / 7 / 2 + 0.5 for end in (mid.low, mid.high))
    assert binom.sf(6, 7, pi_low) + 0.5 * binom.pmf(6, 7, pi_low) == pytest.approx(0.025, abs=1e-9)
    assert binom.cdf(5, 7, pi_high) + 0.5 * binom.pmf(6, 7, pi_high) == pytest.approx(0.025, abs=1e-9)
    exact = mcnemar_test(a, b)
    assert exact.low < mid.low < mid.high < exact.high


def test_mcnemar_mid_p_interval_agrees_with_its_p_value_and_is_one_at_a_tie():
    rng = np.random.default_rng(6)
    for ci in (0.95, 0.9, 0.5):
        a, b = rng.random((500, 25)) < 0.7, rng.random((500, 25)) < 0.5
        tests = mcnemar_test(a, b, p_value="mid", ci=ci)
        assert all(t.agrees for t in tests)
        assert any(t.p_value <= 1 - ci for t in tests) and any(t.p_value > 1 - ci for t in tests)
    tie = mcnemar_test([1, 0, 1, 0], [0, 1, 0, 1], p_value="mid")
    assert tie.p_value == 1 and tie.low < 0 < tie.high
    none = mcnemar_test([1, 1, 0], [1, 1, 0], p_value="mid")  # no discordant clip
    assert none.p_value == 1 and none.low == none.high == 0
    with pytest.raises(InputError, match="p_value must be one of"):
        mcnemar_test([1, 0], [0, 1], p_value="exact")


def test_mid_p_leaves_undefined_swaps_out_of_both_counts():
    # A statistic undefined (NaN) on some patterns: the mid-p is over the defined ones only.
    u = np.array([0.3, -0.1, 0.2, 0.25, 0.05, 0.1, -0.05, 0.15])

    def stat(s):
        values = ((1 - 2 * s) * u).sum(axis=1)
        return np.where(s[:, 0] & s[:, 1], np.nan, values)  # clips 0 and 1 both swapped

    t = permutation_test(stat, 8, n_perm=400, seed=7, exact=False)
    swaps = swap_patterns(8, n_perm=400, seed=7)
    null = stat(swaps)
    defined = null[~np.isnan(null)]
    assert t.n_nan == int(np.isnan(null).sum()) > 0
    assert t.p_value == pytest.approx(_shifted_p(defined, u.sum(), 0.0, mid=True))
    assert t.agrees
