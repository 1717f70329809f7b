"""The Hub export (emosign.export): load_dataset on the folder equals load_emosign."""

from __future__ import annotations

import datasets
import pytest

from emosign import load_emosign, vocab
from emosign.cli import main
from emosign.export import export_hub


@pytest.mark.parametrize("source", ["synthetic", "real"])
def test_exported_folder_loads_the_same_rows_and_features(source, labels_file, tmp_path, request):
    labels = labels_file if source == "synthetic" else request.getfixturevalue("real_labels")
    out = export_hub(tmp_path / "hub", labels_file=labels, cache_dir=tmp_path / "c1")
    assert sorted(p.name for p in (out / "data").iterdir()) == sorted(vocab.CONFIG_NAMES)
    card = (out / "README.md").read_text()
    assert "config_name: clips\n  default: true" in card and "ASLLRP" in card
    for name in vocab.CONFIG_NAMES:
        exported = datasets.load_dataset(str(out), name, cache_dir=str(tmp_path / "c2"))
        original = load_emosign(name, labels_file=labels, cache_dir=tmp_path / "c3")
        assert list(exported) == ["test"]
        assert exported["test"].features == original["test"].features, name
        assert exported["test"].to_list() == original["test"].to_list(), name
    default = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "c2"))
    assert default["test"].num_rows == load_emosign("clips", labels_file=labels, cache_dir=tmp_path / "c3")["test"].num_rows


def test_no_video_is_ever_written(labels_file, tmp_path):
    out = export_hub(tmp_path / "hub", labels_file=labels_file, cache_dir=tmp_path / "c")
    files = [p for p in out.rglob("*") if p.is_file() and p.name != ".emosign-export-hub"]
    assert {p.suffix for p in files} == {".md", ".parquet"}
    clips = datasets.load_dataset(str(out), "clips", cache_dir=str(tmp_path / "c2"))["test"]
    assert set(clips["video"]) == {None}


def test_a_non_empty_folder_is_replaced_only_when_an_earlier_export(labels_file, tmp_path, capsys):
    target = tmp_path / "hub"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    assert main(["export-hub", str(target), "--labels-file", str(labels_file)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (target / "mine.txt").read_text() == "keep me"
    # A folder emosign did not write is never replaced, even with --overwrite.
    assert main(["export-hub", str(target), "--labels-file", str(labels_file), "--overwrite"]) == 2
    assert "not written by emosign export-hub" in capsys.readouterr().err
    assert (target / "mine.txt").read_text() == "keep me"
    # An earlier export is replaced with --overwrite only.
    (target / "mine.txt").unlink()
    assert main(["export-hub", str(target), "--labels-file", str(labels_file)]) == 0
    assert main(["export-hub", str(target), "--labels-file", str(labels_file)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["export-hub", str(target), "--labels-file", str(labels_file), "--overwrite"]) == 0
    assert (target / "README.md").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".hub.")]  # no staging left


def test_the_folder_holding_the_label_file_is_never_replaced(labels_file, capsys):
    assert main(["export-hub", str(labels_file.parent), "--labels-file", str(labels_file),
                 "--overwrite"]) == 2
    assert "which this reads" in capsys.readouterr().err
    assert labels_file.is_file()


@pytest.mark.parametrize("verbose", [[], ["--verbose"], ["BEFORE"]])
def test_the_libraries_bars_show_only_with_verbose(verbose, labels_file, tmp_path):
    import os
    import subprocess
    import sys

    argv = ["export-hub", str(tmp_path / "hub"), "--labels-file", str(labels_file)]
    argv = ["--verbose", *argv] if verbose == ["BEFORE"] else [*argv, *verbose]
    # A fresh process, as the command runs: datasets reads its settings when imported. Its
    # own cache in tmp_path, so that every config is built (and its bar would show).
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "datasets-cache")}
    env.pop("HF_DATASETS_DISABLE_PROGRESS_BARS", None)
    done = subprocess.run([sys.executable, "-m", "emosign.cli", *argv], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and (tmp_path / "hub" / "data" / "clips" / "test.parquet").is_file()
    bars = ("Generating test split", "Creating parquet from Arrow format")
    if verbose:
        assert all(bar in done.stderr for bar in bars), done.stderr
    else:
        assert not any(bar in done.stderr for bar in bars) and "%|" not in done.stderr, done.stderr
