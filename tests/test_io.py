"""Tests for the one folder writer every export and report goes through."""

from __future__ import annotations

from pathlib import Path

import pytest

from emosign._io import staged_directory


def make_output(folder: Path, text: str) -> None:
    with staged_directory(folder, writer="test", overwrite=True) as staging:
        (staging / "out.txt").write_text(text)


def test_new_content_replaces_the_old_whole(tmp_path):
    out = tmp_path / "out"
    make_output(out, "first")
    make_output(out, "second")
    assert (out / "out.txt").read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or backup left


def test_a_failure_while_writing_leaves_the_old_folder(tmp_path):
    out = tmp_path / "out"
    make_output(out, "first")
    with pytest.raises(RuntimeError):
        with staged_directory(out, writer="test", overwrite=True) as staging:
            (staging / "out.txt").write_text("half")
            raise RuntimeError("disk full")
    assert (out / "out.txt").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_failure_while_swapping_puts_the_old_folder_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    make_output(out, "first")
    real_rename = Path.rename

    def rename(self, target):
        if self.name.startswith(".out.") and not self.name.endswith(".old"):
            raise OSError("the staging folder cannot be moved")  # after the old one moved aside
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="cannot be moved"):
        make_output(out, "second")
    assert (out / "out.txt").read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_refusals_delete_nothing(tmp_path, monkeypatch):
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        make_output_without_overwrite(keep)
    monkeypatch.chdir(keep)
    with pytest.raises(ValueError, match="working directory"):
        make_output(Path("."), "x")
    with pytest.raises(ValueError, match="working directory"):
        make_output(tmp_path, "x")
    link = tmp_path / "link"
    link.symlink_to(keep)
    with pytest.raises(FileExistsError, match="symbolic link"):
        make_output(link, "x")
    with pytest.raises(ValueError, match="which this reads"):
        with staged_directory(tmp_path / "other", writer="test", inputs=[tmp_path / "other" / "results.json"]):
            pass
    assert (keep / "notes.txt").read_text() == "mine"


def make_output_without_overwrite(folder: Path) -> None:
    with staged_directory(folder, writer="test") as staging:
        (staging / "out.txt").write_text("x")


# --- one UTF-8 decoder for every text input ---------------------------------------------------


def test_every_text_input_says_the_same_about_another_encoding(tmp_path):
    from emosign._csv import read_text_table
    from emosign._io import decode_utf8
    from emosign.labels import LabelFileError, read_labels
    from emosign.predictions import PredictionsError, read_predictions

    assert decode_utf8("\ufeffvideo_name".encode(), path="p.csv", what="file") == "video_name"
    latin1 = "video_name,prediction\nclip,Fr\u00fchling\n".encode("latin-1")
    expected = r"is not UTF-8 text \(invalid byte at offset 29\); save it as UTF-8"
    for name, read, error in [
        ("labels.csv", read_labels, LabelFileError),
        ("predictions.csv", read_predictions, PredictionsError),
        ("captions.csv", lambda p: read_text_table(p, what="captions file", error=ValueError),
         ValueError),
    ]:
        path = tmp_path / name
        path.write_bytes(latin1)
        with pytest.raises(error, match=f"{path.name} {expected}"):
            read(path)
