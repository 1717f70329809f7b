"""The metric functions (emosign._metric_functions, imported as users do, from
emosign.metrics) agree with scikit-learn and scipy, with and without weights, and refuse
arrays that do not fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from sklearn import metrics as skm

from emosign import metrics
from emosign.errors import InputError

# scikit-learn warns about the degenerate cases these tests generate on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:sklearn")


@st.composite
def labelled(draw, max_classes=10):
    k = draw(st.integers(2, max_classes))
    n = draw(st.integers(1, 60))
    y_true = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    y_pred = np.array(draw(st.lists(st.integers(-1, k - 1), min_size=n, max_size=n)))
    counts = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    return k, y_true, y_pred, counts


def _sklearn_classification(k, y_true, y_pred, weight=None):
    labels = list(range(k))
    present = np.unique(y_true)
    # balanced_accuracy_score averages recall over classes in y_true; a -1 prediction is
    # its own (never correct) label there, which is what "missing counts as wrong" means.
    return {
        "accuracy": skm.accuracy_score(y_true, y_pred, sample_weight=weight),
        "balanced_accuracy": np.mean(
            skm.recall_score(y_true, y_pred, labels=present, average=None, sample_weight=weight,
                             zero_division=0)
        ),
        "weighted_f1": skm.f1_score(
            y_true, y_pred, labels=labels, average="weighted", sample_weight=weight, zero_division=0
        ),
        "macro_f1": skm.f1_score(
            y_true, y_pred, labels=labels, average="macro", sample_weight=weight, zero_division=0
        ),
    }


@settings(max_examples=150, deadline=None)
@given(labelled())
def test_classification_equals_sklearn(case):
    k, y_true, y_pred, _ = case
    ours = metrics.classification_metrics(y_true, y_pred, n_classes=k)
    theirs = _sklearn_classification(k, y_true, y_pred)
    assert ours == pytest.approx(theirs, abs=1e-12)
    if (y_pred >= 0).all():
        assert ours["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
        cm = metrics.confusion_matrices(y_true, y_pred, n_classes=k)
        np.testing.assert_array_equal(cm[:, :k], skm.confusion_matrix(y_true, y_pred, labels=range(k)))


@settings(max_examples=100, deadline=None)
@given(labelled())
def test_weights_equal_resampling(case):
    """What the bootstrap relies on: counts as weights == the resampled clips."""
    k, y_true, y_pred, counts = case
    if counts.sum() == 0:
        return
    batched = metrics.classification_metrics(
        y_true, y_pred, n_classes=k, sample_weight=np.stack([counts, np.ones_like(counts)])
    )
    resampled = _sklearn_classification(k, np.repeat(y_true, counts), np.repeat(y_pred, counts))
    for name, value in resampled.items():
        assert batched[name][0] == pytest.approx(value, abs=1e-12)


@st.composite
def ratings(draw):
    n = draw(st.integers(3, 50))
    t = np.array(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)))
    values = [-4.2, -3, -2.5, -2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 3.7]
    v = np.array(draw(st.lists(st.sampled_from(values), min_size=n, max_size=n)))
    counts = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    return t, v, counts


def _reference_sentiment(t, v):
    r = np.round(np.clip(v, -3, 3)).astype(int)
    nz = t != 0
    out = {
        "mae": np.mean(np.abs(v - t)),
        "acc_7": skm.accuracy_score(t, r),
        "qwk": skm.cohen_kappa_score(t, r, labels=list(range(-3, 4)), weights="quadratic"),
        "acc_2_has0": skm.accuracy_score(t >= 0, v >= 0),
        "f1_2_has0": skm.f1_score(t >= 0, v >= 0, average="weighted", labels=[False, True], zero_division=0),
    }
    if nz.any():
        out["acc_2_non0"] = skm.accuracy_score(t[nz] > 0, v[nz] > 0)
        out["f1_2_non0"] = skm.f1_score(t[nz] > 0, v[nz] > 0, average="weighted", labels=[False, True],
                                        zero_division=0)
    if np.ptp(t) > 0 and np.ptp(v) > 0:
        out["pearson"] = sps.pearsonr(t, v)[0]
        out["spearman"] = sps.spearmanr(t, v)[0]
    return out


@settings(max_examples=150, deadline=None)
@given(ratings())
def test_sentiment_equals_sklearn_and_scipy(case):
    t, v, counts = case
    ours = metrics.sentiment_metrics(t, v)
    for name, value in _reference_sentiment(t, v).items():
        if np.isnan(value):
            assert np.isnan(ours[name]), name
        else:
            assert ours[name] == pytest.approx(value, abs=1e-9), name
    if counts.sum() > 0:
        batched = metrics.sentiment_metrics(t, v, sample_weight=counts[None, :])
        for name, value in _reference_sentiment(np.repeat(t, counts), np.repeat(v, counts)).items():
            if not np.isnan(value):
                assert batched[name][0] == pytest.approx(value, abs=1e-9), name


def test_rounding_is_half_to_even_and_clipped():
    rounded = metrics.round_sentiment([0.5, 1.5, -0.5, 4.2, -3.6, 2.49])
    np.testing.assert_array_equal(rounded, [0, 2, 0, 3, -3, 2])


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(2, 10), st.randoms(use_true_random=False))
def test_multilabel_equals_sklearn(n, k, rnd):
    rng = np.random.default_rng(rnd.randint(0, 2**32 - 1))
    t = rng.random((n, k)) < 0.3
    p = rng.random((n, k)) < 0.3
    ours = metrics.multilabel_metrics(t, p)
    assert ours["micro_f1"] == pytest.approx(skm.f1_score(t, p, average="micro", zero_division=0))
    assert ours["macro_f1"] == pytest.approx(skm.f1_score(t, p, average="macro", zero_division=0))
    assert ours["hamming_loss"] == pytest.approx(skm.hamming_loss(t, p))
    assert ours["subset_accuracy"] == pytest.approx(skm.accuracy_score(t, p))
    w = rng.integers(0, 3, n)
    if w.sum():
        batched = metrics.multilabel_metrics(t, p, sample_weight=w[None])
        assert batched["micro_f1"][0] == pytest.approx(
            skm.f1_score(np.repeat(t, w, 0), np.repeat(p, w, 0), average="micro", zero_division=0)
        )


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 40), st.randoms(use_true_random=False))
def test_average_precision_equals_sklearn(n, rnd):
    rng = np.random.default_rng(rnd.randint(0, 2**32 - 1))
    t = rng.random(n) < 0.4
    s = rng.integers(0, 5, n) / 4  # ties on purpose
    if not t.any():
        assert np.isnan(metrics.average_precision(t, s))
        return
    assert metrics.average_precision(t, s) == pytest.approx(skm.average_precision_score(t, s))
    w = rng.integers(0, 3, n)
    tr, sr = np.repeat(t, w), np.repeat(s, w)
    if tr.any():
        assert metrics.average_precision(t, s, sample_weight=w[None])[0] == pytest.approx(
            skm.average_precision_score(tr, sr)
        )


def test_intensity_metrics_per_emotion():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 4, (30, 10))
    p = np.clip(t + rng.integers(-1, 2, (30, 10)), 0, 3).astype(float)
    t[:, 9] = 0  # a constant reference: Spearman undefined, left out of the mean
    out = metrics.intensity_metrics(t, p)
    expected_mae = np.abs(p - t).mean(axis=0)
    np.testing.assert_allclose(out["mae_per_class"], expected_mae)
    assert out["mae"] == pytest.approx(expected_mae.mean())
    rho = [sps.spearmanr(t[:, j], p[:, j])[0] for j in range(9)]
    np.testing.assert_allclose(out["spearman_per_class"][:9], rho)
    assert np.isnan(out["spearman_per_class"][9])
    assert out["spearman"] == pytest.approx(np.mean(rho))


def test_analytic_cases():
    y = np.array([0, 0, 1, 1, 2, 2, 2])
    perfect = metrics.classification_metrics(y, y, n_classes=4)  # class 3 absent in truth and prediction
    assert perfect["accuracy"] == 1 and perfect["balanced_accuracy"] == 1 and perfect["weighted_f1"] == 1
    assert perfect["macro_f1"] == pytest.approx(3 / 4)  # the absent class counts, as F1 = 0
    constant = metrics.classification_metrics(y, np.full_like(y, 2), n_classes=3)
    assert constant["accuracy"] == pytest.approx(3 / 7)
    assert constant["balanced_accuracy"] == pytest.approx(1 / 3)  # one class of three fully recalled
    missing = metrics.classification_metrics(y, np.full_like(y, -1), n_classes=3)
    assert missing == {"accuracy": 0, "balanced_accuracy": 0, "weighted_f1": 0, "macro_f1": 0}


# --- inputs are checked where they enter ----------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.classification_metrics([0, 1], [0], n_classes=2), "same|shape"),
        (lambda: metrics.classification_metrics([0, 2], [0, 1], n_classes=2), r"y_true .* \[0, 2\)"),
        (lambda: metrics.classification_metrics([0, 1], [0, 5], n_classes=2), "y_pred .* below 2"),
        (lambda: metrics.confusion_matrices([[0, 1]], [[0, 1]], n_classes=2), r"shape \(n,\)"),
        (lambda: metrics.classification_metrics([0, 1], [0, 1], n_classes=2, sample_weight=[1, 1, 1]),
         "sample_weight"),
        (lambda: metrics.sentiment_metrics([0, 1, 2], [0.5, 1]), "y_true, y_value"),
        (lambda: metrics.sentiment_metrics([0, 4], [0.5, 1]), "-3...3"),
        (lambda: metrics.multilabel_metrics(np.zeros((3, 2)), np.zeros((3, 3))), r"\(n, K\)"),
        (lambda: metrics.intensity_metrics(np.zeros(3), np.zeros(3)), r"\(n, K\)"),
        (lambda: metrics.distribution_metrics(np.ones((2, 3)) / 3, np.ones((3, 3)) / 3), "target"),
        (lambda: metrics.average_precision([True, False], [0.1]), "y_true, scores"),
        (lambda: metrics.per_class_metrics(np.zeros((3, 3))), r"\(\.\.\., K, K \+ 1\)"),
    ],
)
def test_arrays_that_do_not_fit_are_refused(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_a_missing_prediction_may_be_any_negative_index():
    # -1 is the documented marker; any negative index has always meant "no prediction".
    y = np.array([0, 1, 1])
    assert metrics.classification_metrics(y, [-1, 1, -7], n_classes=2) == \
        metrics.classification_metrics(y, [-1, 1, -1], n_classes=2)


def test_classification_from_counts_equals_classification_metrics_for_any_batch():
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.integers(0, 4, 60), rng.integers(-1, 4, 60)
    w = rng.integers(0, 3, (7, 60)).astype(float)
    expected = metrics.classification_metrics(y_true, y_pred, n_classes=4, sample_weight=w)
    classes = np.arange(4)
    truth, guess = y_true[:, None] == classes, y_pred[:, None] == classes
    counts = [w @ (truth & guess), w @ truth, w @ guess]
    got = metrics.classification_from_counts(*counts)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value)
    # a (2, 7, K) batch of the same counts gives a (2, 7) batch
    stacked = metrics.classification_from_counts(*(np.stack([c, c]) for c in counts))
    assert stacked["macro_f1"].shape == (2, 7)
    with pytest.raises(InputError, match="same shape"):
        metrics.classification_from_counts(np.ones(3), np.ones(4), np.ones(3))
