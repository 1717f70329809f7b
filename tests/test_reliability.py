"""Issue 13, writers and readers: nothing an output touches is lost, nothing read hangs or is
silently misread, and every input or disk error is one line naming the file (exit 2).

Each test here failed on the code before the fix: a writer deleted an input or a folder it
did not write, a reader blocked or kept the last of two values, or the command printed a
traceback.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import SYNTHETIC_ROWS, SYNTHETIC_SINGLE, write_label_file, write_mp4

from emosign import cues
from emosign.cli import main
from emosign.labels import LabelFileError, load_labels
from emosign.metrics import evaluate
from emosign.predictions import PredictionsError, read_predictions

SENTIMENT_3 = {r["video_name"]: "positive" for r in SYNTHETIC_ROWS}
FAST = ["--n-boot", "50"]


def entries(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes: what must survive a refused write."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def write_predictions(path: Path, predictions: dict[str, str]) -> Path:
    path.write_text("video_name,prediction\n" + "".join(f"{k},{v}\n" for k, v in predictions.items()))
    return path


def no_staging_left(parent: Path) -> bool:
    return not [p.name for p in parent.iterdir() if p.name.startswith(".")]


@pytest.fixture
def videos(labels_file, tmp_path) -> Path:
    """One folder per clip, <utterance_id>/crop_original_video.mp4, as ASLLRP ships them."""
    directory = tmp_path / "videos"
    for clip in load_labels(labels_file):
        write_mp4(directory / clip.utterance_id / "crop_original_video.mp4", seconds=0.2, fps=10)
    return directory


@pytest.fixture
def bench(labels_file, tmp_path) -> Path:
    out = tmp_path / "bench"
    assert main(["benchmark", "--labels-file", str(labels_file), "--out", str(out),
                 "--tasks", "sentiment_3", "--baselines", "majority", "--kfold-repeats", "0",
                 *FAST]) == 0
    return out


# --- data lost ---------------------------------------------------------------------------------


def test_report_never_replaces_a_run_folder_it_read(bench, tmp_path, capsys):
    # R/sub is a run folder (results.json and an answer cache) that `report R` reads.
    runs = tmp_path / "runs"
    run = runs / "sub"
    shutil.copytree(bench, run)
    (run / "gpt-4o").mkdir()
    (run / "gpt-4o" / "answers.jsonl").write_text('{"video_name": "x", "answer": "happy"}\n')
    before = entries(runs)
    for extra in ([], ["--overwrite"]):
        assert main(["report", str(runs), "--out", str(run), *extra]) == 2
        assert "which this reads" in capsys.readouterr().err
    assert entries(runs) == before
    # The default, <RESULTS>/report, is inside the folder given but holds nothing read.
    assert main(["report", str(runs)]) == 0
    assert (runs / "report" / "report.html").is_file() and entries(run) == {
        k.removeprefix("sub/"): v for k, v in before.items()}


def test_export_lmms_eval_never_writes_inside_the_videos(labels_file, videos, capsys):
    clip_folder = next(p for p in videos.iterdir() if p.is_dir())
    before = entries(videos)
    for out in (clip_folder, videos / "export"):
        for extra in ([], ["--overwrite"]):
            assert main(["export-lmms-eval", str(out), "--video-dir", str(videos),
                         "--labels-file", str(labels_file), *extra]) == 2
            assert "is inside" in capsys.readouterr().err
    assert entries(videos) == before


@pytest.mark.parametrize("writer", ["export-hub", "export-lmms-eval", "report", "benchmark"])
def test_overwrite_never_replaces_a_folder_emosign_did_not_write(writer, labels_file, videos,
                                                                  bench, tmp_path, capsys):
    target = tmp_path / "mine"
    (target / "thesis").mkdir(parents=True)
    (target / "thesis" / "draft.tex").write_text("three years of work")
    command = {
        "export-hub": ["export-hub", str(target), "--labels-file", str(labels_file)],
        "export-lmms-eval": ["export-lmms-eval", str(target), "--video-dir", str(videos),
                             "--labels-file", str(labels_file)],
        "report": ["report", str(bench), "--out", str(target)],
        "benchmark": ["benchmark", "--labels-file", str(labels_file), "--out", str(target),
                      "--tasks", "sentiment_3", "--baselines", "majority", "--kfold-repeats", "0",
                      *FAST],
    }[writer]
    assert main([*command, "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert f"was not written by emosign {writer}" in err and "even with --overwrite" in err
    assert entries(target) == {"thesis/draft.tex": b"three years of work"}


@pytest.mark.parametrize("writer", ["export-hub", "report", "benchmark"])
def test_an_earlier_output_is_replaced_but_never_files_added_to_it(writer, labels_file, bench,
                                                                     tmp_path, capsys):
    target = tmp_path / "out"
    command = {
        "export-hub": ["export-hub", str(target), "--labels-file", str(labels_file)],
        "report": ["report", str(bench), "--out", str(target)],
        "benchmark": ["benchmark", "--labels-file", str(labels_file), "--out", str(target),
                      "--tasks", "sentiment_3", "--baselines", "majority", "--kfold-repeats", "0",
                      *FAST],
    }[writer]
    assert main(command) == 0
    marker = target / f".emosign-{writer}"
    assert marker.is_file()
    assert main([*command, "--overwrite"]) == 0  # an earlier output of the same writer
    (target / "notes.md").write_text("my notes")
    before = entries(target)
    assert main([*command, "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "files it did not write (notes.md)" in err
    assert entries(target) == before


def test_benchmark_out_replaces_an_earlier_run_only_when_asked(labels_file, bench, capsys):
    before = entries(bench)
    again = ["benchmark", "--labels-file", str(labels_file), "--out", str(bench),
             "--tasks", "sentiment_3", "--baselines", "uniform_random", "--kfold-repeats", "0",
             *FAST]
    assert main(again) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert entries(bench) == before
    assert main([*again, "--overwrite"]) == 0
    results = json.loads((bench / "results.json").read_text())
    assert {r["system"] for r in results["rows"] if not r["reported"]} == {"uniform_random"}
    # The earlier run's predictions went with it: the folder is one run, not a mixture.
    assert not (bench / "predictions" / "sentiment_3" / "majority.csv").exists()


def test_benchmark_out_holding_the_label_file_is_refused(labels_file, capsys):
    before = entries(labels_file.parent)
    assert main(["benchmark", "--labels-file", str(labels_file), "--out", str(labels_file.parent),
                 "--tasks", "sentiment_3", "--baselines", "majority", "--overwrite", *FAST]) == 2
    assert "which this reads" in capsys.readouterr().err
    assert entries(labels_file.parent) == before


def test_evaluate_output_never_replaces_an_input(labels_file, tmp_path, capsys):
    predictions = write_predictions(tmp_path / "p.csv", SENTIMENT_3)
    before = predictions.read_bytes(), labels_file.read_bytes()
    for output in (predictions, labels_file, tmp_path / "." / "p.csv"):
        assert main(["evaluate", "--task", "sentiment_3", "--predictions", str(predictions),
                     "--labels-file", str(labels_file), "--output", str(output), *FAST]) == 2
        assert "which this reads" in capsys.readouterr().err
    assert (predictions.read_bytes(), labels_file.read_bytes()) == before


# --- a full disk -------------------------------------------------------------------------------


def full_disk(monkeypatch) -> None:
    """Every file written through emosign._io fails as on a full disk, when it is flushed."""
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("emosign._io.os.fsync", fsync)


@pytest.mark.parametrize("writer", ["export-hub", "export-lmms-eval", "report", "evaluate"])
def test_a_full_disk_is_one_line_and_loses_nothing(writer, labels_file, tmp_path, monkeypatch,
                                                   capsys, request):
    out = tmp_path / "out" / ("result.json" if writer == "evaluate" else "folder")
    if writer == "export-lmms-eval":
        videos = request.getfixturevalue("videos")
        command = ["export-lmms-eval", str(out), "--video-dir", str(videos),
                   "--labels-file", str(labels_file), "--overwrite"]
    elif writer == "export-hub":
        command = ["export-hub", str(out), "--labels-file", str(labels_file), "--overwrite"]
    elif writer == "report":
        command = ["report", str(request.getfixturevalue("bench")), "--out", str(out)]
    else:
        predictions = write_predictions(tmp_path / "p.csv", SENTIMENT_3)
        command = ["evaluate", "--task", "sentiment_3", "--predictions", str(predictions),
                   "--labels-file", str(labels_file), "--output", str(out), *FAST]
    assert main(command) == 0  # an earlier output, which the failing run must not lose
    before = out.read_bytes() if out.is_file() else entries(out)
    capsys.readouterr()
    full_disk(monkeypatch)
    assert main(command) == 2
    err = capsys.readouterr().err
    last = err.splitlines()[-1]  # above it, at most a progress bar (datasets' parquet writer)
    assert last.startswith("emosign: error: ") and "Traceback" not in err
    assert str(out) in last and "No space left on device" in err and "nothing was written" in err
    assert (out.read_bytes() if out.is_file() else entries(out)) == before
    assert no_staging_left(out.parent)


# --- readers: hangs and unbounded reads ----------------------------------------------------------


def unblock_later(fifo: Path) -> threading.Thread:
    """Open the FIFO's writing end once a reader waits on it (for up to 5 s), then close it:
    a reader that blocked on it then sees an empty file instead of hanging the test."""
    def writer():
        for _ in range(50):
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                return
            except OSError:
                time.sleep(0.1)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    return thread


def test_a_predictions_fifo_is_refused_not_read(labels_file, tmp_path, capsys):
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    thread = unblock_later(fifo)
    assert main(["evaluate", "--task", "sentiment_3", "--predictions", str(fifo),
                 "--labels-file", str(labels_file), *FAST]) == 2
    assert "is a named pipe (FIFO), not a regular file" in capsys.readouterr().err
    thread.join()


def test_a_label_fifo_is_named_for_what_it_is(tmp_path, capsys):
    fifo = tmp_path / "labels.csv"
    os.mkfifo(fifo)
    assert main(["info", "--labels-file", str(fifo)]) == 2
    assert "named pipe (FIFO)" in capsys.readouterr().err


def test_a_device_is_refused_as_predictions(labels_file, tmp_path):
    device = tmp_path / "p.csv"
    device.symlink_to(os.devnull)
    with pytest.raises(PredictionsError, match="is a character device, not a regular file"):
        read_predictions(device)


def test_an_oversized_input_is_refused_with_the_cap(labels_file, tmp_path, monkeypatch):
    monkeypatch.setattr("emosign._io.MAX_INPUT_BYTES", 2000)
    big = tmp_path / "p.csv"
    big.write_text("video_name,prediction\n" + "x,positive\n" * 300)
    with pytest.raises(PredictionsError, match="holds more than 2000 bytes"):
        read_predictions(big)
    with pytest.raises(LabelFileError, match="holds more than 2000 bytes"):
        load_labels(write_label_file(tmp_path / "big_labels.csv", SYNTHETIC_ROWS * 10))


def test_grounding_scores_the_first_words_of_a_runaway_explanation(labels_file, tmp_path):
    clips = load_labels(labels_file).clips[:2]
    words = ["raised", "brows", "and", "a", "smile"] * 1000  # 5000 words
    head = " ".join(words[: cues.MAX_EXPLANATION_TOKENS])
    runaway = cues.grounding_scores([" ".join(words), "a"], clips)
    bounded = cues.grounding_scores([head, "a"], clips)
    assert all((runaway[k] == bounded[k]).all() for k in runaway)
    assert cues.rouge_l(" ".join(words), ["raised brows"]) == cues.rouge_l(head, ["raised brows"])
    predictions = {c.video_name: " ".join(words) for c in load_labels(labels_file)}
    result = evaluate("cue_grounding", predictions, labels_file=labels_file, n_boot=20)
    assert result["explanation_max_tokens"] == cues.MAX_EXPLANATION_TOKENS
    assert result["explanations_truncated"] == len(predictions)


# --- readers: silently wrong --------------------------------------------------------------------


def test_a_clip_given_twice_in_a_json_object_is_refused(tmp_path):
    name = next(iter(SYNTHETIC_SINGLE))
    path = tmp_path / "p.json"
    path.write_text(f'{{"{name}": "happiness", "{name}": "anger"}}')
    with pytest.raises(PredictionsError, match=f"gives the key '{name}' more than once"):
        read_predictions(path)
    lines = tmp_path / "p.jsonl"
    lines.write_text(f'{{"video_name": "{name}", "prediction": "anger", "prediction": "joy"}}\n')
    with pytest.raises(PredictionsError, match="line 1 gives the key 'prediction' more than once"):
        read_predictions(lines)


def test_a_repeated_column_is_refused(labels_file, tmp_path):
    name = next(iter(SYNTHETIC_SINGLE))
    path = tmp_path / "p.csv"
    path.write_text(f"video_name,prediction,prediction\n{name},happiness,anger\n")
    with pytest.raises(PredictionsError, match=r"names the column\(s\) \['prediction'\] more than once"):
        read_predictions(path)
    frame = pd.DataFrame([[name, "happiness", "anger"]], columns=["video_name", "prediction", "prediction"])
    with pytest.raises(PredictionsError, match=r"\['prediction'\] more than once"):
        read_predictions(frame)
    header, *rows = labels_file.read_text().splitlines()
    doubled = tmp_path / "doubled.csv"  # a second Sentiment column, at the end of each row
    doubled.write_text("\n".join([header + ",Sentiment", *(row + ",-3" for row in rows)]) + "\n")
    with pytest.raises(LabelFileError, match=r"\['Sentiment'\] more than once"):
        load_labels(doubled)


def test_an_absurd_sentiment_rating_is_refused_with_its_row(labels_file, tmp_path):
    predictions = {r["video_name"]: "1" for r in SYNTHETIC_ROWS}
    absurd = next(iter(predictions))
    predictions[absurd] = "1e300"
    path = tmp_path / "p.json"
    path.write_text(json.dumps({k: float(v) for k, v in predictions.items()}))
    with pytest.raises(PredictionsError, match=rf"row 1 \('{absurd}'\).*outside -100...100"):
        evaluate("sentiment_7", path, labels_file=labels_file, n_boot=20)
    result = evaluate("sentiment_7", path, labels_file=labels_file, n_boot=20, on_invalid="wrong")
    assert result["predictions"]["unparseable"] == [absurd]
    # An integer too long for a float, in a file or a dict: unreadable, not an OverflowError.
    others = json.dumps({k: 1 for k in predictions if k != absurd})
    path.write_text(others[:-1] + f', "{absurd}": 1{"0" * 5000}}}')
    for given in (path, {**{k: 1 for k in predictions}, absurd: 10**400}):
        with pytest.raises(PredictionsError, match=rf"'{absurd}'\): prediction="):
            evaluate("sentiment_7", given, labels_file=labels_file, n_boot=20)
    # Scored as wrong, not as a rating of 1e300 (MAE 5e297, Pearson 0).
    assert all(v is None or abs(v) <= 1 for v in result["metrics"].values())


# --- tracebacks and unnamed culprits -------------------------------------------------------------


def test_a_directory_where_a_file_belongs_is_one_line(labels_file, tmp_path, monkeypatch, capsys):
    predictions = write_predictions(tmp_path / "p.csv", SENTIMENT_3)
    folder = tmp_path / "folder"
    folder.mkdir()
    base = ["evaluate", "--task", "sentiment_3", "--predictions", str(predictions), *FAST]
    cases = [
        ["info", "--labels-file", str(folder)],
        [*base, "--labels-file", str(labels_file), "--output", str(folder)],
        [*base, "--labels-file", str(labels_file), "--target", "soft",
         "--annotator-ratings", str(folder)],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("emosign: error: ") and str(folder) in err and "directory" in err
    monkeypatch.setenv("EMOSIGN_LABELS", str(folder))
    assert main(["info"]) == 2
    err = capsys.readouterr().err
    assert "EMOSIGN_LABELS" in err and "directory" in err


def test_compare_scores_cue_grounding(labels_file, tmp_path, capsys):
    clips = load_labels(labels_file)
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_text(json.dumps({c.video_name: "raised brows and a smile" for c in clips}))
    b.write_text(json.dumps({c.video_name: "fast signing" for c in clips}))
    assert main(["compare", "--task", "cue_grounding", "--a", str(a), "--b", str(b),
                 "--labels-file", str(labels_file), *FAST]) == 0
    out = capsys.readouterr().out
    assert "cue_f1" in out and "rouge_l" in out


def test_the_on_invalid_hint_speaks_the_command_line(labels_file, tmp_path, capsys):
    partial = dict(list(SENTIMENT_3.items())[:3])
    for command in ("evaluate", "compare"):
        path = write_predictions(tmp_path / "p.csv", partial)
        systems = (["--predictions", str(path)] if command == "evaluate"
                   else ["--a", str(path), "--b", str(path)])
        assert main([command, "--task", "sentiment_3", *systems, "--labels-file", str(labels_file),
                     *FAST]) == 2
        err = capsys.readouterr().err
        assert "pass --on-invalid wrong" in err and "on_invalid=" not in err
        assert main([command, "--task", "sentiment_3", *systems, "--labels-file", str(labels_file),
                     "--on-invalid", "wrong", *FAST]) == 0
        capsys.readouterr()



def test_a_marker_vouches_only_for_the_files_it_lists(tmp_path):
    from emosign._io import staged_directory

    out = tmp_path / "out"

    def write():
        with staged_directory(out, writer="test", overwrite=True) as staging:
            (staging / "data").mkdir()
            (staging / "data" / "a.txt").write_text("a")
            (staging / "b.txt").write_text("b")

    write()
    write()  # its own earlier output: replaced
    assert (out / ".emosign-test").read_text().splitlines()[1:] == ["b.txt", "data/", "data/a.txt"]
    attacks = [
        lambda: ((out / "b.txt").unlink(), (out / "b.txt").mkdir(), (out / "b.txt" / "mine").write_text("m")),
        lambda: (out / "data" / "mine.txt").write_text("m"),
        lambda: (out / "link").symlink_to(tmp_path),
    ]
    for attack in attacks:
        shutil.rmtree(out)
        write()
        attack()
        before = entries(out)
        with pytest.raises(FileExistsError, match="files it did not write"):
            write()
        assert entries(out) == before
    # A marker that is a link, or an older marker listing nothing, vouches for nothing.
    shutil.rmtree(out)
    write()
    (out / ".emosign-test").unlink()
    (out / ".emosign-test").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError, match="not written by emosign test"):
        write()
    (out / ".emosign-test").unlink()
    (out / ".emosign-test").write_text("written by emosign 0.0.1 test\n")
    with pytest.raises(FileExistsError, match="older emosign test"):
        write()
    assert (out / "b.txt").read_text() == "b"


# --- JSON nested too deeply for Python's parser: refused like broken JSON, never a crash -------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("task", ["joint", "sentiment", "emotion"])
def test_a_model_answer_nested_too_deeply_is_unreadable_not_a_crash(task):
    from emosign.harness.answers import read_answer

    readings = read_answer(task, '{"Sentiment": ' + DEEP + '}')
    assert readings  # read (as unreadable where it must be), not a RecursionError


def test_run_files_nested_too_deeply_are_named_not_a_crash(tmp_path):
    import warnings

    from emosign.harness.runfiles import read_cache, read_manifest

    manifest = tmp_path / "sentiment.video.run.json"
    manifest.write_text(DEEP)
    with pytest.raises(ValueError, match="sentiment.video.run.json.*nested too deeply"):
        read_manifest(manifest)
    cache = tmp_path / "sentiment.video.jsonl"
    cache.write_text('{"video_name": ' + DEEP + "}\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert read_cache(cache) == []
    assert any("line 1" in str(w.message) for w in caught)


@pytest.mark.parametrize(("suffix", "text"), [
    (".yaml", "task: " + "[" * 50_000 + "]" * 50_000),
    (".toml", "task = " + "[" * 50_000 + "]" * 50_000),
])
def test_a_prompt_file_nested_too_deeply_is_one_clear_error(tmp_path, suffix, text):
    from emosign.harness.prompts import PromptError, read_prompt_file

    path = tmp_path / f"prompt{suffix}"
    path.write_text(text)
    with pytest.raises(PromptError, match="nests too deeply"):
        read_prompt_file(path)


def test_a_pinned_result_file_nested_too_deeply_is_one_clear_error(tmp_path):
    from emosign.testing import assert_metrics_close

    path = tmp_path / "result.json"
    path.write_text(DEEP)
    with pytest.raises(ValueError, match="nested too deeply"):
        assert_metrics_close(path, {"accuracy": 0.5})


# --- issue 22: sources that resolve -----------------------------------------------------------


def test_a_predictions_source_given_relative_to_the_working_folder_still_resolves(
    labels_file, tmp_path, monkeypatch
):
    # Issue 22, item 6: `emosign evaluate --predictions results/A.csv --output results/A.json`
    # run from the parent folder recorded "results/A.csv", which the report resolved against
    # results/ and lost: no Clips section, and nothing said. Sources are recorded absolute
    # and read beside the record; a source that cannot be found is said.
    from emosign.report import build_report, collect_results, render_markdown

    names = [r["video_name"] for r in SYNTHETIC_ROWS]
    results = tmp_path / "results"
    results.mkdir()
    monkeypatch.chdir(tmp_path)
    for system, wrong in (("A", 0), ("B", 3)):
        write_predictions(results / f"{system}.csv",
                          {n: ("negative" if k < wrong else "positive") for k, n in enumerate(names)})
        assert main(["evaluate", "--task", "sentiment_3", "--predictions", f"results/{system}.csv",
                     "--labels-file", str(labels_file), "--output", f"results/{system}.json",
                     "--format", "json", *FAST]) == 0
    labels = load_labels(labels_file)
    page = render_markdown(build_report(collect_results(["results"]), labels=labels,
                                        figures=False))
    assert "## Clips" in page
    # Moved with its predictions, a record still finds them beside it.
    moved = tmp_path / "elsewhere" / "moved"
    shutil.copytree(results, moved)
    shutil.rmtree(results)
    page = render_markdown(build_report(collect_results([moved]), labels=labels, figures=False))
    assert "## Clips" in page
    # A record whose predictions are gone says so under "What is missing".
    (moved / "B.csv").unlink()
    page = render_markdown(build_report(collect_results([moved]), labels=labels, figures=False))
    missing = page.split("## What is missing")[1].split("\n## ")[0]
    assert "B.csv" in missing and "cannot be found" in missing
