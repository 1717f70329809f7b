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


def test_clip_difficulty_plots_every_clip_and_each_intensity_mean():
    import pandas as pd

    table = pd.DataFrame({"intensity": [0, 0, 2, 3, 3, 3], "share_right": [0, 0.5, 1, 0, 0, 0.75],
                          "n_systems": 4})
    ax = figures.clip_difficulty(table, task="sentiment_3").axes[0]
    points = ax.collections[0].get_offsets()
    assert len(points) == 6
    assert sorted(points[:, 1]) == sorted([0, 50, 100, 0, 0, 75])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0\n(n=2)", "2\n(n=1)", "3\n(n=3)"]
    means = ax.collections[1].get_segments()
    assert [segment[0][1] for segment in means] == pytest.approx([25, 100, 25])
    assert "4 systems" in ax.get_title()
    with pytest.raises(ValueError, match="no clips"):
        figures.clip_difficulty(table.iloc[:0])


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
