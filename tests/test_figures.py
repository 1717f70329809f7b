"""Figures (emosign.figures): what is drawn matches the data, and files are written."""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import SYNTHETIC_SINGLE

from emosign import figures, vocab
from emosign.labels import read_labels
from emosign.metrics import evaluate


def _bar_heights(ax):
    return [round(p.get_height()) for p in ax.patches]


def test_dataset_figures(labels_file, tmp_path):
    labels = read_labels(labels_file)
    fig = figures.sentiment_distribution(labels)
    counts = Counter(c.sentiment for c in labels)
    assert _bar_heights(fig.axes[0]) == [counts[v] for v in range(-3, 4)]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["-3", "-2", "-1", "+0", "+1", "+2", "+3"]
    assert fig.get_size_inches()[0] == pytest.approx(figures.COLUMN_WIDTH_IN)

    presence = figures.emotion_presence(labels)
    widths = [round(p.get_width()) for p in presence.axes[0].patches]
    present = [sum(c.present[i] for c in labels) for i in range(10)]
    totals = [sum(widths[i::10]) for i in range(10)]  # three stacked intensities per emotion
    assert totals == present

    sets = figures.expression_sets(labels)
    single = Counter(c.single_label for c in labels if c.single_label)
    assert _bar_heights(sets.axes[0]) == [single[c.name] for c in vocab.EXPRESSION_CLASSES]
    written = figures.save(sets, tmp_path / "figs" / "sets")
    assert [p.suffix for p in written] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in written)
    assert written[0].read_bytes()[:4] == b"\x89PNG" and written[1].read_bytes()[:4] == b"%PDF"


def test_result_figures(labels_file, tmp_path):
    predictions = {n: ("happiness" if i % 2 else label) for i, (n, label) in enumerate(SYNTHETIC_SINGLE.items())}
    result = evaluate("emotion_single", predictions, labels_file=labels_file, n_boot=200)
    cm = figures.confusion_matrix(result)
    image = cm.axes[0].get_images()[0].get_array()
    assert image.shape == (10, 10)
    recall = [result["per_class"][c]["recall"] for c in vocab.SINGLE_EXPRESSION_NAMES]
    assert [round(float(image[i, i]), 6) for i in range(10)] == [round(r, 6) for r in recall]
    assert [t.get_text() for t in cm.axes[0].get_yticklabels()] == list(vocab.SINGLE_EXPRESSION_NAMES)

    bars = figures.per_class_recall(result)
    assert [round(p.get_height(), 6) for p in bars.axes[0].patches] == [round(r, 6) for r in recall]
    signers = figures.per_signer(result)
    assert len(signers.axes[0].patches) == len(result["per_signer"])
    for fig, name in ((cm, "cm"), (bars, "recall"), (signers, "signers")):
        assert all(p.exists() for p in figures.save(fig, tmp_path / name))


def test_forest_plot_of_benchmark_rows():
    rows = [
        {"task": "sentiment_3", "system": "cue_text_tfidf", "kind": "reference",
         "metrics": {"balanced_accuracy": 0.53}, "ci": {"balanced_accuracy": [0.49, 0.79]},
         "reported": False},
        {"task": "sentiment_3", "system": "majority", "kind": "floor", "metrics": {"balanced_accuracy": 0.33},
         "ci": {"balanced_accuracy": [0.30, 0.40]}, "reported": False},
        {"task": "sentiment_3", "system": "GPT-4o (video)", "metrics": {"balanced_accuracy": 0.41},
         "reported": True},
        {"task": "sentiment_3", "system": "caption_tfidf", "skipped": "needs captions", "reported": False},
    ]
    system = {"task": "sentiment_3", "system": "mine", "kind": "visual",
              "metrics": {"balanced_accuracy": 0.38}, "ci": {"balanced_accuracy": [0.33, 0.44]},
              "reported": False}
    fig = figures.forest_plot([*rows, system], task="sentiment_3")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # Systems first; the floor, the reference and the reported row, never ranked, below a
    # line, each kind named.
    assert labels == ["mine [visual]", "cue_text_tfidf [reference]", "majority [floor]",
                      "GPT-4o (video) [reported]"]
    assert [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"] == [0.5]
    assert "unranked" in ax.get_title()
    with pytest.raises(ValueError, match="no row has"):
        figures.forest_plot(rows, task="emotion_single")


def test_forest_plot_keeps_scale_units_for_mae():
    rows = [{"task": "emotion_intensity", "system": "mine", "metrics": {"mae": 0.42},
             "ci": {"mae": [0.35, 0.50]}, "reported": False}]
    ax = figures.forest_plot(rows, metric="mae").axes[0]
    point_line = ax.containers[0][0]  # errorbar: (data line, caps, bars)
    assert point_line.get_xdata()[0] == pytest.approx(0.42)
    assert ax.get_xlabel() == "MAE, 95% interval (lower is better)"
    wacc = figures.forest_plot([{**rows[0], "metrics": {"balanced_accuracy": 0.42}, "ci": {}}])
    assert wacc.axes[0].get_xlabel() == "wAcc (%), 95% interval (higher is better)"


def test_clip_difficulty_plots_each_clips_adjusted_difficulty_and_interval():
    import pandas as pd

    from emosign.clips import MIN_GROUP

    # Intensity 0 has MIN_GROUP clips (a mean is drawn), 2 has one and 3 has MIN_GROUP - 1
    # (no mean: too few clips); the values differ so each point can be found again.
    intensity = [0] * MIN_GROUP + [2] + [3] * (MIN_GROUP - 1)
    difficulty = [0.5 * i - 1.0 for i in range(len(intensity))]
    se = [0.1 + 0.05 * i for i in range(len(intensity))]
    table = pd.DataFrame({"intensity": intensity, "difficulty": difficulty,
                          "difficulty_low": [d - 1.96 * e for d, e in zip(difficulty, se)],
                          "difficulty_high": [d + 1.96 * e for d, e in zip(difficulty, se)],
                          "share_right": 0.5, "n_systems": 4})
    fig = figures.clip_difficulty(table, task="sentiment_3")
    ax = fig.axes[0]
    points = ax.collections[1].get_offsets()
    # The y of each point is its clip's difficulty, in the table's order; x stays within
    # 0.3 of its intensity, the hardest clip of an intensity leftmost.
    assert list(points[:, 1]) == pytest.approx(difficulty)
    assert (abs(points[:, 0] - intensity) <= 0.3 + 1e-9).all()
    for level in set(intensity):
        xs = [x for x, i in zip(points[:, 0], intensity) if i == level]
        assert xs == sorted(xs, reverse=True)  # the table lists them easiest first here
    # Each interval runs over the table's difficulty_low...difficulty_high, at its point's x.
    intervals = ax.collections[0].get_segments()
    assert [x for s in intervals for x in (s[0][0], s[0][1], s[1][1])] == pytest.approx(
        [v for x, lo, hi in zip(points[:, 0], table["difficulty_low"], table["difficulty_high"])
         for v in (x, lo, hi)])
    # A mean only for the intensity with MIN_GROUP clips; the others say they have none.
    means = ax.collections[2].get_segments()
    assert [segment[0][1] for segment in means] == pytest.approx([sum(difficulty[:MIN_GROUP]) / MIN_GROUP])
    assert [segment[0][0] for segment in means] == pytest.approx([-0.35])
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        f"0\n(n={MIN_GROUP})", "2\n(n=1)\nno mean", f"3\n(n={MIN_GROUP - 1})\nno mean"]
    assert f"no mean for intensity 2, 3: fewer than {MIN_GROUP} clips" in ax.get_xlabel()
    assert "0 = as chance" in ax.get_ylabel() and "higher = harder" in ax.get_ylabel()
    assert [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"] == [0]
    assert ax.get_title() == "sentiment_3: adjusted clip difficulty across 4 systems"

    # With every group large enough, every intensity has its mean and the note is gone.
    big = figures.clip_difficulty(table, min_group=1).axes[0]
    assert len(big.collections[2].get_segments()) == 3
    assert "no mean" not in big.get_xlabel()
    with pytest.raises(ValueError, match="no clips"):
        figures.clip_difficulty(table.iloc[:0])
    with pytest.raises(ValueError, match="difficulty_high"):
        figures.clip_difficulty(table.drop(columns="difficulty_high"))
    with pytest.raises(ValueError, match="difficulty_low <= difficulty"):
        figures.clip_difficulty(table.assign(difficulty_low=table["difficulty_high"] + 1))
    with pytest.raises(ValueError, match="min_group"):
        figures.clip_difficulty(table, min_group=0)
    # A clip without an intensity is refused, not a ValueError from int(nan); an intensity
    # between steps (a mean of annotators, say) is labelled as it is, not cut to a whole one.
    from emosign.errors import InputError

    with pytest.raises(InputError, match="intensity"):
        figures.clip_difficulty(table.assign(intensity=[float("nan")] + intensity[1:]))
    halves = figures.clip_difficulty(table.assign(intensity=[0.5] + intensity[1:]), min_group=1)
    assert [t.get_text().split("\n")[0] for t in halves.axes[0].get_xticklabels()] == [
        "0", "0.5", "2", "3"]


def test_clip_difficulty_draws_clip_tables_difficulty(labels_file):
    from emosign.clips import clip_outcomes, clip_table

    outcomes = clip_outcomes("sentiment_3", {
        "a": {n: "positive" for n in SYNTHETIC_SINGLE},
        "b": {n: ("negative" if i % 3 else "neutral") for i, n in enumerate(SYNTHETIC_SINGLE)},
        "c": {n: ("neutral" if i % 2 else "positive") for i, n in enumerate(SYNTHETIC_SINGLE)},
    }, labels_file=labels_file)
    table = clip_table(outcomes)
    ax = figures.clip_difficulty(table).axes[0]
    assert list(ax.collections[1].get_offsets()[:, 1]) == pytest.approx(list(table["difficulty"]))
    intervals = ax.collections[0].get_segments()
    assert [s[0][1] for s in intervals] == pytest.approx(list(table["difficulty_low"]))
    assert [s[1][1] for s in intervals] == pytest.approx(list(table["difficulty_high"]))


def test_confusion_matrix_needs_a_single_label_result():
    with pytest.raises(ValueError, match="no confusion matrix"):
        figures.confusion_matrix({"task": "emotion_presence"})


def test_drawing_leaves_the_callers_matplotlib_settings_alone(labels_file):
    import matplotlib

    before = (matplotlib.get_backend(), dict(matplotlib.rcParams))
    figures.sentiment_distribution(read_labels(labels_file))
    assert (matplotlib.get_backend(), dict(matplotlib.rcParams)) == before


def test_save_is_atomic_and_refuses_what_is_not_a_file(labels_file, tmp_path, monkeypatch):
    import os

    fig = figures.expression_sets(read_labels(labels_file))
    tmp_path = tmp_path / "figs"
    tmp_path.mkdir()
    earlier = tmp_path / "sets.png"
    earlier.write_bytes(b"an earlier figure")

    def fail(self, target, **kwargs):
        target.write(b"half a figure")
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(type(fig), "savefig", fail)
        with pytest.raises(OSError):
            figures.save(fig, tmp_path / "sets")
    assert earlier.read_bytes() == b"an earlier figure"  # not half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sets.png"]  # no temporary left

    (tmp_path / "dir.pdf").mkdir()
    with pytest.raises(IsADirectoryError):
        figures.save(fig, tmp_path / "dir")
    assert not (tmp_path / "dir.png").exists()  # refused before anything was written
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(FileExistsError, match="FIFO"):
        figures.save(fig, tmp_path / "pipe", formats=("png",))
    with pytest.raises(ValueError, match="cannot save a figure as \\['nope'\\]"):
        figures.save(fig, tmp_path / "formats", formats=("png", "nope"))
    assert not (tmp_path / "formats.png").exists()
