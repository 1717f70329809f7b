"""emosign.repro: the paper's statements against the labels, and the package data behind it."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
from conftest import REAL_LABELS

from emosign import vocab
from emosign.metrics import classification_metrics
from emosign.paper import reported_results
from emosign.repro import (
    ReproReport,
    _weighted_f1_range,
    format_repro,
    run_repro,
)


def row(report: ReproReport, statement: str):
    (found,) = [r for r in report.rows if r.statement.strip() == statement]
    return found


# --- on the released labels -------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_report() -> ReproReport:
    """One run on the released labels for the module (the real_labels fixture is per test)."""
    if not REAL_LABELS:
        pytest.skip("EMOSIGN_LABELS is not set: the real label file is not available")
    return run_repro(REAL_LABELS)


@pytest.fixture
def real_labels_report(real_labels, real_report) -> ReproReport:
    return real_report


def test_every_statement_that_must_reproduce_does_on_the_released_labels(real_labels_report):
    report = real_labels_report
    must = [r for r in report.rows if r.must_reproduce]
    assert len(must) >= 30
    assert [r.statement for r in must if r.status != "yes"] == []
    assert report.ok
    text = format_repro(report)
    assert "OK: all" in text and "FAILED" not in text


def test_the_released_labels_reproduce_the_dataset_facts(real_labels_report):
    report = real_labels_report
    assert row(report, "clips").computed == "200"
    assert row(report, "signers").computed == "4"
    assert row(report, "clips per signer").computed == "Cory 87, Jonathan 54, Rachel 52, Ben 7"
    assert row(report, "single expression set: clips").computed == "140"
    assert row(report, "happiness (HP)").computed == "54"
    assert row(report, "multi expression set: clips").computed == "37"
    assert row(report, "joy and excited co-occur (Jaccard)").computed == "0.81"


def test_affectgpt_video_scores_as_a_constant_neutral_answer(real_labels_report):
    report = real_labels_report
    for task, k in (("3-class", 3), ("7-class", 7)):
        wacc = row(report, f"AffectGPT (video), {task}: wAcc = 1/{k}")
        wf1 = row(report, f"AffectGPT (video), {task}: wF1 of one constant answer")
        assert (wacc.paper, wacc.computed, wacc.status) == (f"{100 / k:.2f}", f"{100 / k:.2f}", "yes")
        assert (wf1.paper, wf1.computed, wf1.status) == ("0.04", "0.04 ('neutral')", "yes")
    # No other Table 3 row has a constant answer's wAcc.
    assert sum("wAcc = 1/" in r.statement for r in report.rows) == 2


def test_what_cannot_be_checked_says_why(real_labels_report):
    alpha = row(real_labels_report, "Krippendorff's alpha per label (Table 2)")
    assert alpha.status == "cannot check" and not alpha.must_reproduce
    assert "annotator" in alpha.reason


def test_a_wrong_published_number_is_not_reproduced(real_labels):
    paper = copy.deepcopy(reported_results())
    by_name = {(r["table"], r["model"], r["modality"], r["task"]): r for r in paper["rows"]}
    by_name["Table 3", "AffectGPT", "video", "sentiment_3"]["metrics"]["weighted_f1"] = 5.0
    gpt = by_name["Table 4", "GPT-4o", "video+caption", "emotion_single"]["metrics"]
    gpt["balanced_accuracy"] += 0.1
    by_name["Table 4", "MiniGPT4", "video", "emotion_single"]["metrics"]["per_class.surprise_pos.recall"] = 30

    report = run_repro(real_labels, reported=paper)
    assert not report.ok
    assert {r.statement for r in report.failures} == {
        "AffectGPT (video), 3-class: wF1 of one constant answer",
        "GPT-4o (video+caption): per-class counts average to wAcc",
        "MiniGPT4 (video): per-class counts average to wAcc",
        "MiniGPT4 (video): wF1 within the range they allow",
    }
    assert "no whole number of correct clips prints as SP(P) 30% of 5" in row(
        report, "MiniGPT4 (video): per-class counts average to wAcc").reason


# --- on a label file that is not the release --------------------------------------------------


def test_a_label_file_with_the_wrong_clip_count_is_not_ok(labels_file):
    report = run_repro(labels_file)
    assert not report.ok
    clips = row(report, "clips")
    assert (clips.paper, clips.computed, clips.status) == ("200", "12", "no")
    assert row(report, "single expression set: clips").status == "no"
    text = format_repro(report)
    assert "FAILED:" in text
    assert "* clips" in text and "NO" in text


def test_the_label_file_is_taken_from_the_environment_like_every_command(labels_file, monkeypatch):
    monkeypatch.setenv("EMOSIGN_LABELS", str(labels_file))
    assert run_repro().labels.path == str(labels_file)


# --- the wF1 range of Table 4 -----------------------------------------------------------------


def test_the_wf1_range_holds_every_confusion_matrix_and_is_tight():
    # Every prediction of 5 clips over 3 classes (and "no valid answer", -1).
    supports = [2, 1, 2]
    y_true = np.repeat(np.arange(3), supports)
    extremes: dict[tuple[int, ...], list[float]] = {}
    for y_pred in itertools.product([-1, 0, 1, 2], repeat=5):
        y_pred = np.array(y_pred)
        correct = tuple(int(((y_true == k) & (y_pred == k)).sum()) for k in range(3))
        wf1 = classification_metrics(y_true, y_pred, n_classes=3)["weighted_f1"]
        low, high = extremes.setdefault(correct, [wf1, wf1])
        extremes[correct] = [min(low, wf1), max(high, wf1)]
    for correct, (low, high) in extremes.items():
        bound_low, bound_high = _weighted_f1_range(correct, supports)
        assert bound_high == pytest.approx(high)
        assert bound_low == pytest.approx(low), correct


def test_the_wf1_range_holds_random_predictions_on_table4_sizes():
    rng = np.random.default_rng(0)
    supports = [54, 5, 7, 14, 10, 7, 10, 19, 3, 11]
    y_true = np.repeat(np.arange(10), supports)
    for _ in range(200):
        y_pred = np.where(rng.random(140) < 0.4, y_true, rng.integers(-1, 10, 140))
        correct = [int(((y_true == k) & (y_pred == k)).sum()) for k in range(10)]
        low, high = _weighted_f1_range(correct, supports)
        wf1 = classification_metrics(y_true, y_pred, n_classes=10)["weighted_f1"]
        assert low - 1e-12 <= wf1 <= high + 1e-12


# --- the package data -------------------------------------------------------------------------


def test_the_package_data_holds_every_published_row_in_the_projects_names():
    paper = reported_results()
    rows = paper["rows"]
    assert len([r for r in rows if r["table"] == "Table 3"]) == 18
    assert len([r for r in rows if r["table"] == "Table 4"]) == 8
    per_class = {f"per_class.{name}.recall" for name in vocab.SINGLE_EXPRESSION_NAMES}
    for r in rows:
        assert r["task"] in vocab.TASK_NAMES and r["kind"] in ("model", "human")
        assert set(r["metrics"]) - per_class == {"balanced_accuracy", "weighted_f1"}
        if r["table"] == "Table 4":
            assert set(r["metrics"]) >= per_class
    assert sum(paper["single_expression_supports"]["supports"].values()) == 140
    assert "arXiv:2505.17090" in paper["source"]["paper"]
