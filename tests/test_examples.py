"""``emosign examples DIR``: example inputs that every documented command can read."""

from __future__ import annotations

import pytest
from conftest import REAL_LABELS

from emosign.cli import main
from emosign.metrics import evaluate

pytestmark = pytest.mark.skipif(not REAL_LABELS, reason="EMOSIGN_LABELS is not set")


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples") / "ex"
    assert main(["examples", str(out), "--labels-file", REAL_LABELS]) == 0
    return out


def test_every_task_has_a_predictions_file_that_scores(examples):
    tasks = {p.name.split(".")[0]: p for p in (examples / "predictions").iterdir()}
    assert set(tasks) == {"sentiment_3", "sentiment_7", "emotion_single", "emotion_multi",
                          "emotion_presence", "emotion_intensity"}
    for task, path in sorted(tasks.items()):
        result = evaluate(task, path, labels_file=REAL_LABELS, n_boot=50)
        assert result["metrics"], task
    grounding = evaluate("cue_grounding", examples / "explanations.csv", labels_file=REAL_LABELS,
                         n_boot=50)
    assert grounding["metrics"]["cue_f1"] > 0


def test_videos_run_and_readme(examples):
    assert len(list((examples / "videos").glob("*.mp4"))) == 200
    assert (examples / "runs" / "results.json").is_file()
    assert "captions.csv" in (examples / "README.md").read_text(encoding="utf-8")


def test_the_files_are_the_same_every_time(examples, tmp_path):
    again = tmp_path / "again"
    assert main(["examples", str(again), "--labels-file", REAL_LABELS, "--no-videos"]) == 0
    for path in (examples / "predictions").iterdir():
        assert (again / "predictions" / path.name).read_bytes() == path.read_bytes(), path.name


def test_a_foreign_folder_is_refused(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["examples", str(tmp_path), "--labels-file", REAL_LABELS]) == 2
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    assert "emosign: error:" in capsys.readouterr().err
