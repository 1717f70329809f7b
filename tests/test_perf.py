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


# --- rank metrics from a table of counts ----------------------------------------------------


def _reference_spearman(x, y, w):
    """Before the change: per-clip mid-ranks in every resample, then a weighted Pearson."""
    from emosign._metric_functions import _weighted_midranks, _weighted_pearson

    return _weighted_pearson(_weighted_midranks(x, w), _weighted_midranks(y, w), w)


@pytest.mark.parametrize("levels", [(4, 4), (7, 3), (2, 2), (7, 1)])
def test_spearman_from_counts_matches_per_clip_ranks(levels):
    from emosign._metric_functions import _weighted_spearman

    rng = np.random.default_rng(sum(levels))
    n = 140
    x = rng.integers(0, levels[0], n).astype(float)
    y = np.clip(x + rng.integers(-1, 2, n), 0, levels[1] - 1).astype(float)
    w = stats.bootstrap_weights(n, n_boot=3_000, seed=1).astype(float)
    w[0] = 0.0
    w[0, :5] = 1.0  # a resample of five clips: often constant on one side, so NaN
    got, want = _weighted_spearman(x, y, w), _reference_spearman(x, y, w)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # and each row is scipy's Spearman of the resampled clips
    from scipy.stats import spearmanr

    if levels[1] > 1:
        for b in (1, 2, 3):
            idx = np.repeat(np.arange(n), w[b].astype(int))
            assert got[b] == pytest.approx(spearmanr(x[idx], y[idx]).statistic, rel=1e-12)
    else:
        assert np.isnan(got).all()  # a constant side: no correlation in any resample


def test_spearman_of_regression_outputs_takes_the_per_clip_route():
    from emosign._metric_functions import _weighted_spearman

    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, 200).astype(float)
    y = x + rng.normal(0, 1, 200)  # 200 distinct values: a 7 x 200 table would be no saving
    w = stats.bootstrap_weights(200, n_boot=50, seed=0)
    np.testing.assert_array_equal(_weighted_spearman(x, y, w), _reference_spearman(x, y, w))


# --- cue grounding: a cached ceiling and a linear chance level -----------------------------


def test_pooled_chance_equals_the_pairwise_chance_bit_for_bit(labels_file):
    from emosign import cues
    from emosign.labels import read_labels

    clips = read_labels(labels_file).clips
    rng = np.random.default_rng(0)
    explanations = [c.cues[int(rng.integers(3))] if rng.random() < 0.8 else "" for c in clips]
    explanations[1] = None
    for protocol in ("jackknife", "all"):
        pairwise = cues.aggregate_scores(cues.chance_scores(explanations, clips, protocol=protocol))
        pooled = cues.pooled_chance_scores(explanations, clips, protocol=protocol)
        assert pooled == {k: pairwise[k] for k in pooled}
    with pytest.raises(ValueError, match="at least two clips"):
        cues.pooled_chance_scores(explanations[:1], clips[:1])


def test_human_ceiling_is_cached_and_handed_out_as_a_copy(labels_file):
    from emosign import cues
    from emosign.labels import read_labels

    clips = read_labels(labels_file).clips
    cues._human_ceiling.cache_clear()
    first = cues.human_ceiling(clips)
    first["mean"]["cue_f1"] = -1.0  # a caller scribbling on its result does not reach the cache
    second = cues.human_ceiling(list(clips))
    assert cues._human_ceiling.cache_info().hits == 1
    assert second["mean"]["cue_f1"] != -1.0
    assert second == cues._human_ceiling.__wrapped__(tuple(clips), False)
    assert cues.human_ceiling(clips[:-1])["n_clips"] == len(clips) - 1  # other clips, other entry


# --- evaluate computes only what it is asked for -------------------------------------------


def test_evaluate_metrics_subset_gives_the_full_runs_numbers(labels_file):
    from emosign.labels import read_labels
    from emosign.metrics import evaluate

    labels = read_labels(labels_file)
    rng = np.random.default_rng(0)
    predictions = {c.video_name: int(np.clip(c.sentiment + rng.integers(-1, 2), -3, 3)) for c in labels}
    full = evaluate("sentiment_7", predictions, labels_file=labels_file, n_boot=300)
    wanted = ["balanced_accuracy", "accuracy"]
    some = evaluate("sentiment_7", predictions, labels_file=labels_file, n_boot=300, metrics=wanted)
    assert list(some["metrics"]) == ["accuracy", "balanced_accuracy"]  # the task's order
    for name in wanted:
        assert some["metrics"][name] == full["metrics"][name]
        assert some["ci"]["intervals"][name] == full["ci"]["intervals"][name]
        for signer, row in some["per_signer"].items():
            assert row[name] == full["per_signer"][signer][name]
    assert "spearman" in full["metrics"] and "spearman" not in some["per_signer"]["Ben"]
    with pytest.raises(ValueError, match="not reported on sentiment_7"):
        evaluate("sentiment_7", predictions, labels_file=labels_file, n_boot=10, metrics=["rouge_l"])
    for bad in ("accuracy", []):
        with pytest.raises(ValueError, match="non-empty list of metric names"):
            evaluate("sentiment_7", predictions, labels_file=labels_file, n_boot=10, metrics=bad)


# --- the benchmark in parallel --------------------------------------------------------------


class _Parity:
    """A learned model registered at run time: predicts the training majority, or its
    neighbour class for clips whose name has an odd length."""

    def fit(self, examples, y, classes):
        self.label, self.k = int(np.argmax(np.bincount(y, minlength=len(classes)))), len(classes)
        return self

    def predict(self, examples):
        return np.array([(self.label + len(e.video_name) % 2) % self.k for e in examples])


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
def test_parallel_benchmark_is_the_serial_one_bit_for_bit(labels_file, tmp_path):
    from emosign.baselines.benchmark import run_benchmark
    from emosign.baselines.registry import REGISTRY, Baseline, register

    # A baseline registered at run time, with a lambda factory: workers must see it too.
    register(Baseline("test_parity", "parity", "floor", frozenset({"labels"}), learned=True,
                      make=lambda seed: _Parity()), replace=True)
    try:
        runs = {
            workers: run_benchmark(labels_file=labels_file, n_boot=300, kfold_repeats=2, seed=4,
                                   workers=workers, progress=False, out_dir=tmp_path / str(workers))
            for workers in (1, 3)
        }
    finally:
        REGISTRY.pop("test_parity")
    assert runs[1] == runs[3]
    rows = [r for r in runs[3]["rows"] if not r["reported"] and "skipped" not in r]
    assert {r["system"] for r in rows} >= {"test_parity", "cue_text_tfidf", "majority"}
    assert all("sd" in r["kfold"]["accuracy"] for r in rows if r["protocol"] == "leave-one-signer-out")
    for name in ("results.json", "leaderboard.md", "predictions/sentiment_7/test_parity.csv"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "3" / name).read_bytes()


def test_benchmark_refuses_a_nonsensical_worker_count(labels_file):
    from emosign.baselines.benchmark import run_benchmark

    for bad in (0, -2, 1.5, True, 10_000):
        with pytest.raises(ValueError, match="workers must be an integer from 1 to"):
            run_benchmark(labels_file=labels_file, workers=bad, progress=False)


def test_cli_benchmark_workers_option(labels_file, capsys):
    from emosign.cli import main

    with pytest.raises(SystemExit):
        main(["benchmark", "--labels-file", str(labels_file), "--workers", "0"])
    assert "--workers" in capsys.readouterr().err
    code = main(["benchmark", "--labels-file", str(labels_file), "--baselines", "majority",
                 "--tasks", "sentiment_3", "--n-boot", "50", "--workers", "2", "--quiet"])
    captured = capsys.readouterr()
    assert code == 0 and "majority" in captured.out and captured.err == ""


def test_tfidf_ngrams_are_scikit_learns_own():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from emosign.baselines.text import _ngrams

    texts = ["Brows raised, a big smile; I nod", "", "eyes   wide. MOUTH open: O", "über-café naïve"]
    ours = TfidfVectorizer(analyzer=_ngrams, sublinear_tf=True).fit(texts)
    theirs = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b").fit(texts)
    assert ours.vocabulary_ == theirs.vocabulary_
    assert (ours.transform(texts) != theirs.transform(texts)).nnz == 0


# --- startup: a local label file needs neither huggingface_hub nor datasets ---------------


def _modules_after(code: str, tmp_path) -> set[str]:
    import json
    import subprocess
    import sys

    script = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


HEAVY = {"huggingface_hub", "datasets"}


def test_info_and_evaluate_on_a_local_file_import_neither_hub_nor_datasets(labels_file, tmp_path):
    from conftest import SYNTHETIC_SINGLE

    predictions = tmp_path / "p.csv"
    predictions.write_text("video_name,prediction\n" + "".join(f"{k},{v}\n" for k, v in SYNTHETIC_SINGLE.items()))
    info = _modules_after(f"from emosign.cli import main; main(['info', '--labels-file', {str(labels_file)!r}])",
                          tmp_path)
    assert "emosign.labels" in info and not HEAVY & info
    scored = _modules_after(
        "from emosign.cli import main; main(['evaluate', '--task', 'emotion_single', '--n-boot', '20', "
        f"'--predictions', {str(predictions)!r}, '--labels-file', {str(labels_file)!r}])", tmp_path)
    assert "emosign.metrics" in scored and not HEAVY & scored


def test_import_emosign_is_light_and_its_version_is_read_on_demand(tmp_path):
    bare = _modules_after("import emosign", tmp_path)
    assert not {"importlib.metadata", "numpy", "pandas"} & bare and not HEAVY & bare
    from importlib import metadata

    import emosign

    assert emosign.__version__ == metadata.version("emosign")


def test_a_warm_load_does_not_read_the_labels_again(labels_file, tmp_path, monkeypatch):
    from emosign import labels, load_emosign

    reads = []
    read_labels = labels.read_labels
    monkeypatch.setattr(labels, "read_labels", lambda source: reads.append(source) or read_labels(source))
    first = load_emosign("clips", labels_file=labels_file, cache_dir=tmp_path / "cache")
    assert len(reads) == 1  # the cold build reads and validates the file once
    again = load_emosign("clips", labels_file=labels_file, cache_dir=tmp_path / "cache")
    assert len(reads) == 1 and again["test"].to_list() == first["test"].to_list()
    # a changed file is a new cache key, read and validated anew
    labels_file.write_text(labels_file.read_text().replace("Cory", "Cory", 1) + "\n")
    load_emosign("clips", labels_file=labels_file, cache_dir=tmp_path / "cache")
    assert len(reads) == 2


def _reference_chance(explanations, clips, exclude):
    """Before the change: clip i against clip (i + shift) mod n for every shift, n^2 pairs."""
    from emosign import cues

    n = len(clips)
    named = [cues._tags("" if e is None else str(e)) for e in explanations]
    references = cues.clip_references(clips, exclude=exclude)
    totals = {}
    for shift in range(1, n):
        lenient = np.roll(np.array(references.at_least_one, dtype=object), -shift)
        strict = np.roll(np.array(references.at_least_two, dtype=object), -shift)
        run = {f"cue_{k}": v for k, v in cues.cue_scores(named, lenient).items()}
        run |= {f"cue_{k}_strict": v for k, v in cues.cue_scores(named, strict).items()}
        for key, values in run.items():
            totals[key] = totals.get(key, 0.0) + values
    return {key: values / (n - 1) for key, values in totals.items() if key != "cue_named_strict"}


def test_chance_in_linear_time_matches_the_pairwise_scores(labels_file, real_labels):
    from emosign import cues
    from emosign.labels import read_labels

    for path in (labels_file, real_labels):
        clips = read_labels(path).clips
        rng = np.random.default_rng(1)
        explanations = [c.cues[int(rng.integers(3))] if rng.random() < 0.7 else "" for c in clips]
        explanations[0] = None
        for exclude in (None, 0, 2):
            got = cues._chance_against(explanations, clips, exclude=exclude)
            want = _reference_chance(explanations, clips, exclude)
            assert list(got) == list(want)
            for key in want:
                np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-15, err_msg=key)


def test_interval_alpha_in_linear_memory_is_the_packages_value():
    import krippendorff

    rng = np.random.default_rng(0)
    for raters, units, missing in ((2, 150, 0.0), (3, 60, 0.2), (5, 40, 0.5)):
        data = rng.normal(size=(raters, units)).round(2) + np.arange(units) / 10
        data[rng.random(data.shape) < missing] = np.nan
        want = krippendorff.alpha(reliability_data=data, level_of_measurement="interval")
        assert stats.krippendorff_alpha(data, level="interval") == pytest.approx(want, rel=1e-10, abs=1e-12)
    # 2,000 real-valued predictions: the package would build a 60 GB array; this is instant.
    truth = rng.integers(-3, 4, 2_000).astype(float)
    alpha = stats.model_reference_alpha(truth, truth + rng.normal(0, 0.5, 2_000), level="interval")
    assert 0.8 < alpha < 1
