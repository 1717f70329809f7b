"""evaluate() and `emosign evaluate`: a predictions file scored on a task."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from conftest import SYNTHETIC_ROWS, SYNTHETIC_SINGLE
from sklearn import metrics as skm

from emosign import vocab
from emosign.cli import main
from emosign.labels import read_labels
from emosign.metrics import evaluate, format_table
from emosign.predictions import PredictionsError

FAST = {"n_boot": 500}


def test_perfect_predictions(labels_file):
    result = evaluate("emotion_single", dict(SYNTHETIC_SINGLE), labels_file=labels_file, **FAST)
    assert result["task"] == "emotion_single" and result["n"] == len(SYNTHETIC_SINGLE)
    assert result["target"] == "majority"
    assert result["metrics"]["accuracy"] == 1.0 and result["metrics"]["balanced_accuracy"] == 1.0
    assert result["metrics"]["weighted_f1"] == 1.0
    # Macro F1 runs over all ten classes: those with no clip count as F1 = 0.
    assert result["metrics"]["macro_f1"] == pytest.approx(len(set(SYNTHETIC_SINGLE.values())) / 10)
    for low, high in result["ci"]["intervals"].values():
        assert low <= high
    matrix = np.array(result["confusion_matrix"]["matrix"])
    assert matrix.shape == (10, 11) and np.trace(matrix) == len(SYNTHETIC_SINGLE)
    assert result["per_class"]["happiness"]["support"] == 3
    assert set(result["per_signer"]) == {"Ben", "Cory", "Jonathan", "Rachel"}
    assert sum(s["n"] for s in result["per_signer"].values()) == result["n"]
    assert "wAcc" in result["definitions"]["balanced_accuracy"]["aliases"]
    json.dumps(result, allow_nan=False)  # valid JSON: no NaN anywhere


def test_every_clip_given_sets_the_others_aside(labels_file):
    labels = read_labels(labels_file)
    predictions = {c.video_name: "happiness" for c in labels}
    result = evaluate("emotion_single", predictions, labels_file=labels_file, **FAST)
    assert result["predictions"]["given"] == len(SYNTHETIC_ROWS)
    assert result["predictions"]["outside_task"] == len(SYNTHETIC_ROWS) - len(SYNTHETIC_SINGLE)
    assert result["n"] == len(SYNTHETIC_SINGLE)


def test_scores_equal_sklearn_on_the_task_clips(labels_file):
    labels = read_labels(labels_file)
    rng = np.random.default_rng(1)
    predicted = {c.video_name: vocab.SENTIMENT_3_NAMES[rng.integers(3)] for c in labels}
    result = evaluate("sentiment_3", predicted, labels_file=labels_file, **FAST)
    y_true = [c.sentiment_3 for c in labels]
    y_pred = [predicted[c.video_name] for c in labels]
    assert result["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert result["metrics"]["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y_true, y_pred))
    assert result["metrics"]["weighted_f1"] == pytest.approx(
        skm.f1_score(y_true, y_pred, average="weighted", zero_division=0)
    )


def test_intervals_are_seeded(labels_file):
    predictions = {name: "happiness" for name in SYNTHETIC_SINGLE}
    a = evaluate("emotion_single", predictions, labels_file=labels_file, seed=3, **FAST)
    b = evaluate("emotion_single", predictions, labels_file=labels_file, seed=3, **FAST)
    c = evaluate("emotion_single", predictions, labels_file=labels_file, seed=4, **FAST)
    assert a["ci"] == b["ci"]
    assert a["ci"]["intervals"] != c["ci"]["intervals"]


def test_sentiment_7_regression_outputs_get_the_ordinal_metrics(labels_file):
    labels = read_labels(labels_file)
    predictions = {c.video_name: c.sentiment + 0.4 for c in labels}
    result = evaluate("sentiment_7", predictions, labels_file=labels_file, **FAST)
    assert result["metrics"]["mae"] == pytest.approx(0.4)
    assert result["metrics"]["acc_7"] == 1.0 and result["metrics"]["accuracy"] == 1.0
    assert result["metrics"]["pearson"] == pytest.approx(1.0)
    # Phrases are read too, and score the same as the numbers they stand for.
    phrases = {c.video_name: vocab.SENTIMENT_LEVELS[c.sentiment + 3].phrase for c in labels}
    assert evaluate("sentiment_7", phrases, labels_file=labels_file, **FAST)["metrics"]["qwk"] == 1.0


def test_missing_predictions_are_refused_or_scored_wrong(labels_file):
    partial = dict(list(SYNTHETIC_SINGLE.items())[:-2])
    with pytest.raises(PredictionsError) as err:
        evaluate("emotion_single", partial, labels_file=labels_file, **FAST)
    for name in list(SYNTHETIC_SINGLE)[-2:]:
        assert name in str(err.value)
    result = evaluate("emotion_single", partial, labels_file=labels_file, on_invalid="wrong", **FAST)
    assert len(result["predictions"]["missing"]) == 2
    assert result["metrics"]["accuracy"] == pytest.approx((len(SYNTHETIC_SINGLE) - 2) / len(SYNTHETIC_SINGLE))
    assert np.array(result["confusion_matrix"]["matrix"])[:, -1].sum() == 2


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"task": "emotions"}, "unknown task 'emotions'"),
        ({"target": "gold"}, "unknown target 'gold'"),
        ({"task": "emotion_presence", "target": "soft"}, "defined for sentiment_7, sentiment_3 and emotion_single"),
        ({"task": "sentiment_7", "target": "soft"}, "needs per-annotator ratings"),
        ({"on_invalid": "skip"}, "on_invalid must be"),
    ],
)
def test_bad_options(labels_file, kwargs, fragment):
    options = {"task": "emotion_single", **kwargs}
    with pytest.raises(ValueError, match=fragment):
        evaluate(options.pop("task"), dict(SYNTHETIC_SINGLE), labels_file=labels_file, **options, **FAST)


def test_presence_and_intensity(labels_file):
    labels = read_labels(labels_file)
    rows = [{"video_name": c.video_name, **dict(zip(vocab.EMOTION_NAMES, c.intensities))} for c in labels]
    intensity = evaluate("emotion_intensity", rows, labels_file=labels_file, **FAST)
    assert intensity["metrics"]["mae"] == 0
    presence = evaluate("emotion_presence", rows, labels_file=labels_file, **FAST)
    assert presence["metrics"] == {"micro_f1": 1, "macro_f1": pytest.approx(presence["metrics"]["macro_f1"]),
                                   "hamming_loss": 0, "subset_accuracy": 1}
    assert set(presence["per_class"]) == set(vocab.EMOTION_NAMES)


def test_table_prints_percentages(labels_file):
    result = evaluate("emotion_single", dict(SYNTHETIC_SINGLE), labels_file=labels_file, **FAST)
    table = format_table(result)
    assert "balanced_accuracy (wAcc)" in table and "100.00" in table and "happiness" in table


# --- the command ---------------------------------------------------------------------------


def _write_predictions(path, mapping):
    path.write_text("video_name,prediction\n" + "".join(f"{k},{v}\n" for k, v in mapping.items()))
    return path


def test_cli_evaluate_json_and_output_file(labels_file, tmp_path, capsys):
    predictions = _write_predictions(tmp_path / "p.csv", SYNTHETIC_SINGLE)
    out = tmp_path / "results" / "r.json"
    code = main(["evaluate", "--task", "emotion_single", "--predictions", str(predictions),
                 "--labels-file", str(labels_file), "--format", "json", "--n-boot", "200",
                 "--output", str(out)])
    assert code == 0
    written = json.loads(out.read_text())
    assert written["metrics"]["accuracy"] == 1.0 and written["ci"]["n_boot"] == 200
    # The JSON goes to the file; the terminal gets one line saying what was written.
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 and printed[0].startswith(f"wrote {out}: emotion_single, ")
    assert "wAcc 100.00 [" in printed[0]
    # A score averaged over a class with few clips is marked so in the line too.
    if written.get("unstable", {}).get("metrics"):
        assert "†" in printed[0] and "unstable" in printed[0]
    else:
        assert "†" not in printed[0]


def test_cli_bad_predictions_fail_cleanly_and_write_nothing(labels_file, tmp_path, capsys):
    predictions = _write_predictions(tmp_path / "p.csv", {**SYNTHETIC_SINGLE, "Nobody_1": "happiness"})
    out = tmp_path / "r.json"
    code = main(["evaluate", "--task", "emotion_single", "--predictions", str(predictions),
                 "--labels-file", str(labels_file), "--output", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "Nobody_1" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv", "p.csv"]  # no r.json, no temp file


# --- the released labels -------------------------------------------------------------------


def test_constant_predictors_on_the_real_labels(real_labels):
    """Closed forms: a constant class c has accuracy = support_c / n and wAcc = 1 / K."""
    labels = read_labels(real_labels)
    single = [c for c in labels if c.single_label]
    supports = Counter(c.single_label for c in single)
    result = evaluate("emotion_single", {c.video_name: "happiness" for c in single}, labels_file=real_labels)
    assert result["n"] == 140
    assert result["metrics"]["accuracy"] == pytest.approx(supports["happiness"] / 140)
    assert result["metrics"]["balanced_accuracy"] == pytest.approx(1 / 10)
    f1 = 2 * supports["happiness"] / (140 + supports["happiness"])
    assert result["metrics"]["weighted_f1"] == pytest.approx(supports["happiness"] / 140 * f1)

    negative = evaluate("sentiment_3", {c.video_name: "Negative" for c in labels}, labels_file=real_labels)
    assert negative["metrics"]["accuracy"] == pytest.approx(sum(c.sentiment < 0 for c in labels) / 200)
    assert negative["metrics"]["balanced_accuracy"] == pytest.approx(1 / 3)
    low, high = negative["ci"]["intervals"]["accuracy"]
    assert low < negative["metrics"]["accuracy"] < high


def test_compare_two_systems(labels_file, tmp_path, capsys):
    labels = read_labels(labels_file)
    truth = {c.video_name: c.sentiment_3 for c in labels}
    constant = {c.video_name: "negative" for c in labels}
    from emosign.metrics import compare

    same = compare(
        "sentiment_3", truth, truth, labels_file=labels_file, n_boot=300
    )
    assert same["comparison"]["accuracy"]["difference"] == 0 and same["comparison"]["accuracy"]["p_value"] == 1

    better = compare("sentiment_3", truth, constant, labels_file=labels_file, n_boot=300)
    worse = compare("sentiment_3", constant, truth, labels_file=labels_file, n_boot=300)
    gap = better["comparison"]["accuracy"]
    assert gap["difference"] == pytest.approx(1 - sum(c.sentiment < 0 for c in labels) / len(labels))
    assert worse["comparison"]["accuracy"]["difference"] == pytest.approx(-gap["difference"])
    # 12 clips: every swap pattern is enumerated; A is right on the 5 discordant clips, so the
    # swaps tie with the data in 2 of 2**5 cases and exceed it in none: the mid-p is
    # (0 + 2 / 2) / 2**5 and its interval excludes 0; the conservative p, 2 / 2**5 = 0.0625,
    # and its interval reaches 0. Each agrees with its own interval.
    assert better["test"]["method"] == "permutation" and better["test"]["exact"]
    assert better["test"]["p_value_type"] == "mid"
    assert gap["p_value"] == pytest.approx(1 / 2**5)
    assert gap["agrees"] and 0 < gap["low"] < gap["high"]
    conservative = compare("sentiment_3", truth, constant, labels_file=labels_file,
                           p_value="conservative")
    assert conservative["test"]["p_value_type"] == "conservative"
    old = conservative["comparison"]["accuracy"]
    assert old["p_value"] == pytest.approx(2 / 2**5)
    assert old["agrees"] and old["low"] <= 0 < old["high"]
    assert "ties counted whole" in conservative["test"]["p_value_method"]
    assert "mid-p" in better["test"]["p_value_method"]
    with pytest.raises(ValueError, match="p_value must be one of"):
        compare("sentiment_3", truth, constant, labels_file=labels_file, p_value="exact")
    with pytest.raises(ValueError, match="the bootstrap has only its own"):
        compare("sentiment_3", truth, constant, labels_file=labels_file, test="bootstrap",
                p_value="mid")
    # McNemar stays exact unless the mid-p is asked for; the record says which.
    exact = compare("sentiment_3", truth, constant, labels_file=labels_file, test="mcnemar")
    mid = compare("sentiment_3", truth, constant, labels_file=labels_file, test="mcnemar",
                  p_value="mid")
    assert exact["test"]["exact"] and exact["test"]["p_value_type"] == "conservative"
    assert not mid["test"]["exact"] and mid["test"]["p_value_type"] == "mid"
    assert mid["comparison"]["accuracy"]["p_value"] == pytest.approx(gap["p_value"])  # 1/2**5
    assert exact["comparison"]["accuracy"]["p_value"] == pytest.approx(old["p_value"])  # 2/2**5
    assert "mid-p" in mid["test"]["p_value_method"]
    assert all(row["agrees"] for row in better["comparison"].values())
    assert gap["p_holm"] >= gap["p_value"]

    a = _write_predictions(tmp_path / "a.csv", truth)
    b = _write_predictions(tmp_path / "b.csv", constant)
    assert main(["compare", "--task", "sentiment_3", "--a", str(a), "--b", str(b), "--n-boot", "300",
                 "--labels-file", str(labels_file)]) == 0
    out = capsys.readouterr().out
    assert "balanced_accuracy" in out and "(exact, mid-p, seed 0)" in out
    assert main(["compare", "--task", "sentiment_3", "--a", str(a), "--b", str(b), "--test", "mcnemar",
                 "--p-value", "mid", "--labels-file", str(labels_file)]) == 0
    assert "test: mcnemar (binomial, mid-p, seed 0)" in capsys.readouterr().out
    assert main(["compare", "--task", "sentiment_3", "--a", str(a), "--b", str(b), "--test", "bootstrap",
                 "--p-value", "conservative", "--labels-file", str(labels_file)]) == 2
    assert "emosign: error: --p-value conservative" in capsys.readouterr().err


def test_scoring_a_subset_of_the_clips(labels_file):
    keep = list(SYNTHETIC_SINGLE)[:5]
    result = evaluate("emotion_single", dict(SYNTHETIC_SINGLE), labels_file=labels_file, clips=keep, **FAST)
    assert result["n"] == 5 and result["restricted_to"] == f"5 of the task's {len(SYNTHETIC_SINGLE)} clips"
    assert result["predictions"]["outside_task"] == len(SYNTHETIC_SINGLE) - 5
    with pytest.raises(ValueError, match="not clips of emotion_single"):
        evaluate("emotion_single", dict(SYNTHETIC_SINGLE), labels_file=labels_file, clips=["Nobody_1"], **FAST)


def test_nothing_readable_is_scored_as_wrong_without_crashing(labels_file):
    refusals = {name: "I cannot tell." for name in SYNTHETIC_SINGLE}
    result = evaluate("emotion_single", refusals, labels_file=labels_file, on_invalid="wrong", **FAST)
    assert result["metrics"]["accuracy"] == 0
    assert len(result["predictions"]["unparseable"]) == len(SYNTHETIC_SINGLE)
    assert result["agreement"]["krippendorff_alpha"] is None


def test_cue_grounding(labels_file):
    labels = read_labels(labels_file)
    copied = {c.video_name: c.cues[0] for c in labels}
    result = evaluate("cue_grounding", copied, labels_file=labels_file, **FAST)
    assert result["task"] == "cue_grounding" and result["n"] == len(labels)
    assert {"cue_f1", "cue_precision", "cue_recall", "rouge_l"} <= set(result["metrics"])
    assert set(result["human_ceiling"]) >= {"cue_f1", "rouge_l"} and "chance" in result
    empty = evaluate("cue_grounding", {n: "" for n in copied}, labels_file=labels_file,
                     on_invalid="wrong", **FAST)
    assert empty["metrics"]["cue_f1"] == 0 and len(empty["predictions"]["missing"]) == len(labels)
    with pytest.raises(PredictionsError, match="no prediction row"):
        evaluate("cue_grounding", dict(list(copied.items())[:3]), labels_file=labels_file, **FAST)


def test_cue_grounding_on_real_labels_matches_the_ceiling(real_labels):
    """An explanation that is annotator 1's description scores what annotator 1 scores in the
    ceiling only against the other two; under the jackknife it also meets itself, so it is
    at least as good."""
    labels = read_labels(real_labels)
    copied = {c.video_name: c.cues[0] for c in labels}
    result = evaluate("cue_grounding", copied, labels_file=real_labels, n_boot=200)
    assert result["metrics"]["cue_f1"] >= result["human_ceiling"]["cue_f1"]
    low, high = result["ci"]["intervals"]["cue_f1"]
    assert low <= result["metrics"]["cue_f1"] <= high


# --- issue 21: class-averaged scores at tiny class sizes, tests of the right size ------------


def test_per_class_recall_has_its_exact_interval_and_small_classes_are_flagged(labels_file):
    from emosign.metrics import MIN_CLASS_CLIPS
    from emosign.stats import clopper_pearson

    labels = read_labels(labels_file)
    negative = {c.video_name: "negative" for c in labels}
    result = evaluate("sentiment_3", negative, labels_file=labels_file, **FAST)
    support = Counter(c.sentiment_3 for c in labels)
    for name, row in result["per_class"].items():
        hits = support[name] if name == "negative" else 0
        assert row["recall_ci"] == pytest.approx(list(clopper_pearson(hits, support[name])))
        assert row["unstable"] == (support[name] < MIN_CLASS_CLIPS)
    unstable = result["unstable"]
    assert unstable["min_class_clips"] == MIN_CLASS_CLIPS
    assert unstable["classes"] == {c: n for c, n in support.items() if n < MIN_CLASS_CLIPS}
    assert unstable["metrics"] == ["balanced_accuracy", "macro_f1"]
    table = format_table(result)
    assert "balanced_accuracy (wAcc) †" in table and "† unstable" in table
    assert "recall 95% CI" in table


def test_interval_methods_are_recorded_per_metric(labels_file):
    labels = read_labels(labels_file)
    ratings = {c.video_name: c.sentiment for c in labels}
    result = evaluate("sentiment_7", ratings, labels_file=labels_file, **FAST)
    methods = result["ci"]["methods"]
    assert "Dirichlet posterior" in methods["balanced_accuracy"]
    assert methods["balanced_accuracy"].startswith("class-stratified percentile bootstrap joined")
    assert methods["mae"] == "percentile bootstrap, stratified by reference class"
    assert "Dirichlet posterior" in result["ci"]["method"] and "stratified" in result["ci"]["method"]
    presence = evaluate("emotion_presence",
                        {c.video_name: ";".join(e for e, v in zip(vocab.EMOTION_NAMES, c.intensities) if v)
                         or "none" for c in labels}, labels_file=labels_file, **FAST)
    assert set(presence["ci"]["methods"].values()) == {"percentile bootstrap over clips"}
    assert presence["unstable"] == {}


def test_wacc_interval_never_averages_over_fewer_classes_on_real_labels(real_labels):
    """constant_neutral on sentiment_3 scores wAcc 1/3 whenever every class is present; the
    shipped iid bootstrap showed [0.0, 33.3] because 4.9% of resamples held no neutral clip
    (wAcc then averages the two recalls of 0). Every draw now keeps all three classes."""
    # (a wAcc of 0 needs a resample without a neutral clip)
    labels = read_labels(real_labels)
    neutral = {c.video_name: "neutral" for c in labels}
    result = evaluate("sentiment_3", neutral, labels_file=real_labels, n_boot=2000)
    low, high = result["ci"]["intervals"]["balanced_accuracy"]
    assert result["metrics"]["balanced_accuracy"] == pytest.approx(1 / 3)
    # The lower end is the 3 neutral clips' own uncertainty (Jeffreys: recall above ~.47),
    # never a resample averaging over two classes.
    assert 0.1 < low <= 1 / 3 <= high < 0.36
    assert result["unstable"]["classes"] == {"neutral": 3}
    assert result["per_class"]["neutral"]["recall_ci"][0] == pytest.approx(0.025 ** (1 / 3))


def test_class_stratified_resamples_keep_every_class_support(real_labels):
    from emosign.stats import bootstrap_weights
    from emosign.tasks import get_task

    data = get_task("sentiment_3").bind(read_labels(real_labels))
    w = bootstrap_weights(data.n, n_boot=2000, seed=0, strata=data.y_true)
    one_hot = data.y_true[:, None] == np.arange(3)
    assert ((w @ one_hot) == one_hot.sum(axis=0)).all()


def test_compare_tests_and_their_records(labels_file):
    from emosign.metrics import compare

    labels = read_labels(labels_file)
    truth = {c.video_name: c.sentiment_3 for c in labels}
    constant = {c.video_name: "negative" for c in labels}
    for test in ("permutation", "bootstrap"):
        for cluster in ("clip", "source", "signer"):
            result = compare("sentiment_3", truth, constant, labels_file=labels_file, test=test,
                             cluster=cluster, n_boot=300, n_perm=300)
            assert result["test"]["method"] == test and result["test"]["cluster"] == cluster
            rows = result["comparison"].values()
            assert all(row["agrees"] for row in rows)
            p = np.array([row["p_value"] for row in rows])
            from emosign.stats import holm
            assert [row["p_holm"] for row in rows] == pytest.approx(list(holm(p)))
    signer = compare("sentiment_3", truth, constant, labels_file=labels_file, cluster="signer")
    assert signer["test"]["clusters"] == 4 and signer["test"]["exact"]
    # 4 signers: 16 patterns, and the all-swap pattern always ties with the data: the
    # smallest mid-p is (0 + 2 / 2) / 16 > .05, so 0 is never excluded. The conservative
    # smallest p is 2/16 > .05 at every shift, so no difference is excluded at all.
    assert signer["comparison"]["accuracy"]["p_value"] >= 1 / 16
    assert all(row["agrees"] for row in signer["comparison"].values())
    signer = compare("sentiment_3", truth, constant, labels_file=labels_file, cluster="signer",
                     p_value="conservative")
    assert signer["comparison"]["accuracy"]["low"] is None
    mcnemar = compare("sentiment_3", truth, constant, labels_file=labels_file, test="mcnemar")
    assert list(mcnemar["comparison"]) == ["accuracy"]
    with pytest.raises(ValueError, match="accuracy only"):
        compare("sentiment_3", truth, constant, labels_file=labels_file, test="mcnemar",
                metrics=["balanced_accuracy"])
    with pytest.raises(ValueError, match="cluster='source'"):
        compare("sentiment_3", truth, constant, labels_file=labels_file, test="mcnemar", cluster="source")
    with pytest.raises(ValueError, match="test must be one of"):
        compare("sentiment_3", truth, constant, labels_file=labels_file, test="t")
    with pytest.raises(ValueError, match="n_perm"):
        compare("sentiment_3", truth, constant, labels_file=labels_file, n_perm=0)


def test_compare_permutation_matches_a_direct_swap(labels_file):
    """The stacked-weights swap statistic equals scoring the swapped predictions directly."""
    from emosign._evaluation import _swap_statistic
    from emosign.metrics import classification_metrics
    from emosign.predictions import align
    from emosign.tasks import get_task

    labels = read_labels(labels_file)
    spec = get_task("emotion_single")
    data = spec.bind(labels)
    classes = list(data.classes)
    rng = np.random.default_rng(0)
    a = {n: classes[rng.integers(len(classes))] for n in data.video_names}
    b = {n: classes[rng.integers(len(classes))] for n in data.video_names}
    aligned_a, aligned_b = align(a, data), align(b, data)
    names = ["accuracy", "balanced_accuracy", "weighted_f1", "macro_f1"]
    swap = _swap_statistic(spec, data, labels, aligned_a, aligned_b, names)
    s = rng.random((5, data.n)) < 0.5
    got = swap(s)
    for row, pattern in zip(got, s):
        pa = np.where(pattern, aligned_b.y_pred, aligned_a.y_pred)
        pb = np.where(pattern, aligned_a.y_pred, aligned_b.y_pred)
        ma = classification_metrics(data.y_true, pa, n_classes=len(classes))
        mb = classification_metrics(data.y_true, pb, n_classes=len(classes))
        assert row == pytest.approx([ma[n] - mb[n] for n in names])


def test_a_signer_of_few_clips_is_marked_in_the_table(real_labels, tmp_path):
    labels = read_labels(real_labels)
    table = tmp_path / "p.csv"
    table.write_text("video_name,prediction\n"
                     + "".join(f"{c.video_name},{c.sentiment_3}\n" for c in labels))
    result = evaluate("sentiment_3", table, labels_file=real_labels, n_boot=50)
    lines = format_table(result).splitlines()
    ben = next(line for line in lines if line.startswith("Ben"))
    cory = next(line for line in lines if line.startswith("Cory"))
    assert ben.startswith("Ben †") and ben.split()[2] == "7" and "†" not in cory
    assert any(line.startswith("† fewer than 10 clips: each clip weighs 1/n") for line in lines)
