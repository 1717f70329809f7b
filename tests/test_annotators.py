"""Soft targets and agreement from per-annotator ratings (emosign.annotators)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SYNTHETIC_SINGLE
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from emosign import vocab
from emosign.annotators import (
    AnnotatorFileError,
    intensity_target,
    majority,
    read_annotator_ratings,
    sentiment_target,
)
from emosign.labels import read_labels
from emosign.metrics import distribution_metrics, evaluate
from emosign.stats import krippendorff_alpha


def _ratings_file(tmp_path, labels, spread=(0, 0, 1), confidence=True):
    """Three annotators: the majority rating shifted by each of ``spread`` (clipped)."""
    lines = ["video_name,annotator,sentiment" + (",confidence" if confidence else "")]
    for c in labels:
        for a, shift in enumerate(spread):
            value = int(np.clip(c.sentiment + shift, -3, 3))
            lines.append(f"{c.video_name},A{a},{value}" + (f",{a + 1}" if confidence else ""))
    path = tmp_path / "annotators.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_sentiment_distribution_and_majority(labels_file, tmp_path):
    labels = read_labels(labels_file)
    ratings = read_annotator_ratings(_ratings_file(tmp_path, labels), clips=labels.clips)
    assert ratings.sentiment.shape == (3, len(labels)) and ratings.annotators == ("A0", "A1", "A2")
    target = sentiment_target(ratings)
    np.testing.assert_allclose(target.sum(axis=1), 1)
    first = labels.clips[0]  # sentiment 2: ratings 2, 2, 3
    assert target[0, first.sentiment + 3] == pytest.approx(2 / 3) and target[0, 6] == pytest.approx(1 / 3)
    np.testing.assert_array_equal(majority(ratings.sentiment), [c.sentiment for c in labels])
    polarity = sentiment_target(ratings, classes="sentiment_3")
    assert polarity.shape == (len(labels), 3)


def test_ties_go_to_the_most_confident_annotator():
    ratings = np.array([[1.0, -2], [2, -1], [3, np.nan]])
    confidence = np.array([[1.0, 5], [3, 1], [2, 1]])
    np.testing.assert_array_equal(majority(ratings, confidence), [2, -2])
    np.testing.assert_array_equal(majority(ratings), [1, -2])  # without confidences: lowest


def test_bad_annotator_files_name_every_row(labels_file, tmp_path):
    labels = read_labels(labels_file)
    names = [c.video_name for c in labels]
    path = tmp_path / "bad.csv"
    path.write_text(
        "video_name,annotator,sentiment\n"
        f"{names[0]},A,7\nNobody_1,A,1\n{names[1]},A,1\n{names[1]},A,2\n"
    )
    with pytest.raises(AnnotatorFileError) as err:
        read_annotator_ratings(path, clips=labels.clips)
    message = str(err.value)
    assert "row 1" in message and "sentiment='7'" in message
    assert "row 2 (Nobody_1" in message and "row 4" in message and "twice" in message
    assert f"{len(names) - 1} clip(s) have no rating" in message


def test_intensity_target(labels_file):
    labels = read_labels(labels_file)
    target = intensity_target(labels.clips)
    by_name = dict(zip([c.video_name for c in labels], target))
    np.testing.assert_allclose(target.sum(axis=1), 1)
    # joy 2, excited 3 -> happiness 3, nothing else: all happiness.
    assert by_name["10-Ben-Conclusion_1001"][0] == 1
    # anger 3, frustration 2 -> 3/5 anger, 2/5 frustration.
    rachel = by_name["Rachel_2011-12-01_sc43_1006"]
    assert rachel[vocab.SINGLE_EXPRESSION_NAMES.index("anger")] == pytest.approx(0.6)
    assert by_name["Jonathan_2012-11-27_sc93_1004"][-1] == 1  # nothing present: neutral


def test_distribution_metrics_equal_scipy():
    rng = np.random.default_rng(0)
    t = rng.dirichlet(np.ones(7), 30)
    p = rng.dirichlet(np.ones(7), 30)
    m = distribution_metrics(t, p, ordinal=True)
    assert m["jensen_shannon"] == pytest.approx(np.mean(jensenshannon(t, p, base=2, axis=1) ** 2))
    assert m["manhattan"] == pytest.approx(np.abs(t - p).sum(axis=1).mean())
    assert m["cross_entropy"] == pytest.approx(-(t * np.log(p)).sum(axis=1).mean())
    steps = np.arange(7)
    expected = np.mean([wasserstein_distance(steps, steps, a, b) for a, b in zip(t, p)])
    assert m["wasserstein"] == pytest.approx(expected)
    same = distribution_metrics(t, t, ordinal=True)
    assert same["jensen_shannon"] == pytest.approx(0, abs=1e-12) and same["wasserstein"] == pytest.approx(0)


def test_soft_evaluation(labels_file, tmp_path):
    labels = read_labels(labels_file)
    ratings = _ratings_file(tmp_path, labels)
    hard = {c.video_name: c.sentiment for c in labels}
    result = evaluate("sentiment_7", hard, labels_file=labels_file, target="soft",
                      annotator_ratings=ratings, n_boot=200)
    assert result["target"] == "soft" and "annotators' ratings" in result["soft_target"]
    assert set(result["metrics"]) == {"cross_entropy", "jensen_shannon", "manhattan", "wasserstein"}
    # One-hot on the majority vs a 2/3-1/3 target: JSD and W1 are known in closed form
    # for the clips whose shifted rating was not clipped away.
    assert 0 < result["metrics"]["wasserstein"] <= 1 / 3 + 1e-12

    probabilities = tmp_path / "p.csv"
    header = "video_name,prediction," + ",".join(f"score_{n}" for n in vocab.SINGLE_EXPRESSION_NAMES)
    target = dict(zip([c.video_name for c in labels], intensity_target(labels.clips)))
    rows = [f"{name},{label}," + ",".join(repr(float(v)) for v in target[name])
            for name, label in SYNTHETIC_SINGLE.items()]
    probabilities.write_text(header + "\n" + "\n".join(rows) + "\n")
    exact = evaluate("emotion_single", probabilities, labels_file=labels_file, target="soft", n_boot=200)
    assert exact["metrics"]["manhattan"] == pytest.approx(0, abs=1e-9)
    assert "intensities" in exact["soft_target"]


def test_alpha_of_annotators(labels_file, tmp_path):
    labels = read_labels(labels_file)
    agree = read_annotator_ratings(_ratings_file(tmp_path, labels, spread=(0, 0, 0)), clips=labels.clips)
    assert krippendorff_alpha(agree.sentiment, level="interval") == pytest.approx(1.0)
    noisy = read_annotator_ratings(_ratings_file(tmp_path, labels, spread=(0, 1, -1)), clips=labels.clips)
    assert krippendorff_alpha(noisy.sentiment, level="interval") < 1.0
