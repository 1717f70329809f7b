"""The emosign command (emosign.cli)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

from conftest import SYNTHETIC_ROWS, SYNTHETIC_SINGLE, label_row, write_label_file

from emosign import vocab
from emosign.cli import main


def test_info_prints_the_summary(labels_file, capsys):
    assert main(["info", "--labels-file", str(labels_file)]) == 0
    out = capsys.readouterr().out
    assert f"{len(SYNTHETIC_ROWS)} clips" in out
    assert "clips per signer" in out and "Ben" in out
    lines = {line.split()[0]: line.split()[-1] for line in out.splitlines() if line.startswith("  ")}
    assert lines["Cory"] == "4" and lines["Rachel"] == "3"
    assert "HP     happiness" in out and "worry+sadness" in out
    assert "emotion present" in out


def test_export_single_expression_csv(labels_file, tmp_path, capsys):
    code = main(["export-labels", "--config", "single_expression", "--labels-file", str(labels_file),
                 "--cache-dir", str(tmp_path)])
    assert code == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["video_name", "label"]
    assert dict(rows[1:]) == SYNTHETIC_SINGLE


def test_export_clips_jsonl(labels_file, tmp_path, capsys):
    main(["export-labels", "--config", "clips", "--format", "jsonl", "--labels-file", str(labels_file),
          "--cache-dir", str(tmp_path)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == len(SYNTHETIC_ROWS)
    assert list(records[0])[0] == "video_name"
    assert records[0]["sentiment_7"] == "moderately_positive"
    assert set(vocab.EMOTION_NAMES) <= set(records[0])
    assert "video" not in records[0] and "signer" not in records[0]


def test_bad_label_file_is_one_clear_error(tmp_path, capsys):
    path = write_label_file(tmp_path / "bad.csv", [label_row("Cory_1", 9)])
    assert main(["info", "--labels-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emosign: error:") and "row 1 (Cory_1)" in err and "Traceback" not in err


def test_console_script_runs(labels_file):
    result = subprocess.run(
        [sys.executable, "-m", "emosign.cli", "info", "--labels-file", str(labels_file)],
        capture_output=True, text=True, check=True,
    )
    assert "sentiment" in result.stdout


def test_repro_command_on_the_real_labels(real_labels, capsys):
    assert main(["repro", "--labels-file", str(real_labels)]) == 0
    out = capsys.readouterr().out
    assert "reproduce do" in out and "Krippendorff" in out


def test_repro_command_fails_on_a_wrong_file(labels_file, capsys):
    assert main(["repro", "--labels-file", str(labels_file)]) == 1  # 12 clips, not 200


def test_cues_command(labels_file, capsys):
    assert main(["cues", "--labels-file", str(labels_file), "--by", "sentiment_3", "--ceiling"]) == 0
    out = capsys.readouterr().out
    assert "negative" in out and "human ceiling" in out and "cue_f1" in out


def test_mllm_score_of_a_missing_directory_is_one_clear_error(tmp_path, labels_file, capsys):
    code = main(["mllm", "score", str(tmp_path / "nothing"), "--labels-file", str(labels_file)])
    assert code == 2 and "Traceback" not in capsys.readouterr().err
