"""The speed-ups of issue 16 change how numbers are computed, never the numbers.

Each test runs a plain reference implementation (the code before the change, written out
the obvious way) beside the fast one and asserts they agree: exactly where the arithmetic is
the same, to rounding where only the order of a sum changed.
"""

from __future__ import annotations

import numpy as np
import pytest

from emosign import stats

# --- bootstrap weights drawn in chunks ----------------------------------------------------


def _reference_weights(n, n_boot, seed, strata=None):
    """The draw before chunking: every resample's indices at once, per stratum in sorted order."""
    rng = np.random.default_rng(seed)

    def counts(size):
        draws = rng.integers(0, size, size=(n_boot, size))
        return np.stack([np.bincount(row, minlength=size) for row in draws])

    if strata is None:
        return counts(n)
    strata = np.asarray(strata)
    weights = np.zeros((n_boot, n), dtype=np.int64)
    for label in np.unique(strata):
        members = np.flatnonzero(strata == label)
        weights[:, members] = counts(members.size)
    return weights


@pytest.mark.parametrize("n, n_boot, chunk_size", [(200, 10_000, 2_000), (7, 1_001, 3), (13, 5, 1),
                                                   (3_001, 257, 2_000)])
def test_chunked_weights_are_the_full_draw(n, n_boot, chunk_size):
    chunks = list(stats._weight_chunks(n, n_boot=n_boot, seed=3, strata=None, chunk_size=chunk_size))
    assert max(c.shape[0] for c in chunks) <= chunk_size
    assert max(c.size for c in chunks) <= max(n, stats._CHUNK_CELLS)
    np.testing.assert_array_equal(np.concatenate(chunks), _reference_weights(n, n_boot, 3))
    np.testing.assert_array_equal(stats.bootstrap_weights(n, n_boot=n_boot, seed=3),
                                  _reference_weights(n, n_boot, 3))


def test_chunked_stratified_weights_are_the_full_draw_and_advance_a_generator_alike():
    strata = np.array(list("bcaabcbbaacb") * 5)
    got_rng, want_rng = np.random.default_rng(11), np.random.default_rng(11)
    chunks = list(stats._weight_chunks(60, n_boot=503, seed=got_rng, strata=strata, chunk_size=50))
    assert len(chunks) == 11
    np.testing.assert_array_equal(np.concatenate(chunks), _reference_weights(60, 503, want_rng, strata))
    # A Generator passed in is left where the full draw leaves it.
    assert got_rng.integers(0, 2**62) == want_rng.integers(0, 2**62)


def _statistic(x, y):
    def stat(w):
        w = np.asarray(w, dtype=float)
        return np.stack([(w * x).sum(1) / w.sum(1), (w * (x > y)).sum(1) / w.sum(1)], axis=1)
    return stat


def _reference_interval(stat, n, n_boot, seed, strata=None, ci=0.95):
    samples = stat(_reference_weights(n, n_boot, seed, strata))
    low, high = np.nanquantile(samples, [(1 - ci) / 2, (1 + ci) / 2], axis=0)
    return low, high


@pytest.mark.parametrize("strata", [None, "signers"])
def test_bootstrap_interval_and_paired_test_match_the_unchunked_code(strata):
    rng = np.random.default_rng(0)
    n = 150
    x, y = rng.normal(size=n), rng.normal(size=n)
    groups = rng.choice(["Ben", "Cory", "Rachel"], size=n) if strata else None
    stat = _statistic(x, y)
    intervals = stats.bootstrap_interval(stat, n, n_boot=4_321, seed=5, strata=groups, chunk_size=700)
    low, high = _reference_interval(stat, n, 4_321, 5, groups)
    assert [iv.low for iv in intervals] == list(low)
    assert [iv.high for iv in intervals] == list(high)

    other = _statistic(y, x)
    tests = stats.paired_bootstrap(stat, other, n, n_boot=999, seed=2, strata=groups, chunk_size=64)
    weights = _reference_weights(n, 999, 2, groups)
    replicates = stat(weights) - other(weights)
    difference = stat(np.ones((1, n)))[0] - other(np.ones((1, n)))[0]
    extreme = (np.abs(replicates - difference) >= np.abs(difference) * (1 - 1e-9)).sum(0)
    assert [t.p_value for t in tests] == list((1 + extreme) / (1 + 999))
    assert [t.low for t in tests] == list(np.nanquantile(replicates, (1 - 0.95) / 2, axis=0))
