"""Baselines, the protocol, and `emosign benchmark` (emosign.baselines)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from emosign.baselines.benchmark import (
    TEXT_WIDTH,
    format_leaderboard,
    out_of_fold_predictions,
    repeated_kfold,
    run_benchmark,
)
from emosign.baselines.catalog import all_baselines, get_baseline
from emosign.baselines.registry import Baseline, Example, register
from emosign.cli import main
from emosign.labels import read_labels
from emosign.metrics import MIN_CLASS_CLIPS, UNSTABLE_MARK, UNSTABLE_REASON, evaluate
from emosign.splits import leave_one_signer_out
from emosign.tasks import get_task

FAST = {"n_boot": 200, "kfold_repeats": 1, "progress": False}


def _examples(labels, names):
    clips = {c.video_name: c for c in labels}
    return [Example(n, clips[n].signer, clips[n].cues) for n in names]


def test_registry_refuses_duplicates_and_unknown_inputs():
    assert {"majority", "prior_random", "uniform_random", "constant_neutral", "cue_text_tfidf"} <= {
        b.name for b in all_baselines()
    }
    with pytest.raises(ValueError, match="already registered"):
        register(get_baseline("majority"))
    with pytest.raises(ValueError, match="unknown input"):
        register(Baseline("x", "", "floor", frozenset({"telepathy"}), False, lambda s: None))
    with pytest.raises(ValueError, match="unknown baseline 'nope'"):
        get_baseline("nope")


def test_leave_one_signer_out_never_tests_a_seen_signer(real_labels):
    labels = read_labels(real_labels)
    data = get_task("emotion_single").bind(labels)
    folds = leave_one_signer_out(data)
    signer = dict(zip(data.video_names, data.signers))
    assert sorted(f.name for f in folds) == ["signer=Ben", "signer=Cory", "signer=Jonathan", "signer=Rachel"]
    for fold in folds:
        assert not {signer[n] for n in fold.train} & {signer[n] for n in fold.test}
    rachel = next(f for f in folds if f.name == "signer=Rachel")
    sessions = {n.split("_")[1][:4] for n in rachel.test}
    assert sessions == {"2011", "2012"}  # both Rachel sessions held out together
    assert sorted(n for f in folds for n in f.test) == sorted(data.video_names)


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
def test_repeated_kfold_partitions_each_repeat(labels_file):
    data = get_task("sentiment_3").bind(read_labels(labels_file))
    repeats = repeated_kfold(data, n_splits=3, n_repeats=2, seed=1)
    assert len(repeats) == 2
    for folds in repeats:
        assert sorted(n for f in folds for n in f.test) == sorted(data.video_names)
    assert repeats == repeated_kfold(data, n_splits=3, n_repeats=2, seed=1)


def test_floors_match_their_closed_forms(real_labels):
    labels = read_labels(real_labels)
    for task in ("sentiment_3", "sentiment_7", "emotion_single"):
        data = get_task(task).bind(labels)
        k = len(data.classes)
        examples = _examples(labels, data.video_names)
        folds = leave_one_signer_out(data)
        supports = np.bincount(data.y_true, minlength=k)

        constant = out_of_fold_predictions(get_baseline("constant_neutral"), examples, data.y_true,
                                           data.classes, folds)
        result = evaluate(task, _frame(data, constant), labels_file=real_labels, n_boot=100)
        neutral = data.classes.index("neutral")
        assert result["metrics"]["accuracy"] == pytest.approx(supports[neutral] / data.n)
        assert result["metrics"]["balanced_accuracy"] == pytest.approx(1 / k)

        majority = out_of_fold_predictions(get_baseline("majority"), examples, data.y_true, data.classes, folds)
        index = {n: i for i, n in enumerate(data.video_names)}
        for fold in folds:  # each held-out signer gets the majority class of the other signers
            train = data.y_true[[index[n] for n in fold.train]]
            expected = int(np.argmax(np.bincount(train, minlength=k)))
            assert {int(majority[index[n]]) for n in fold.test} == {expected}

        # Random floors: expected wAcc is 1/K; their mean over seeds lands near it.
        for name in ("uniform_random", "prior_random"):
            wacc = [
                evaluate(task, _frame(data, out_of_fold_predictions(
                    get_baseline(name), examples, data.y_true, data.classes, folds, seed=s)),
                    labels_file=real_labels, n_boot=10)["metrics"]["balanced_accuracy"]
                for s in range(30)
            ]
            assert np.mean(wacc) == pytest.approx(1 / k, abs=0.25 / k), (task, name)


def _frame(data, predicted):
    return pd.DataFrame({"video_name": data.video_names, "prediction": [data.classes[i] for i in predicted]})


def test_uniform_random_accuracy_is_one_over_k(labels_file):
    labels = read_labels(labels_file)
    data = get_task("sentiment_7").bind(labels)
    examples = _examples(labels, data.video_names)
    guesses = np.concatenate([
        out_of_fold_predictions(get_baseline("uniform_random"), examples, data.y_true, data.classes, [], seed=s)
        for s in range(400)
    ])
    assert Counter(guesses.tolist()).keys() == set(range(7))
    assert np.mean(guesses == np.tile(data.y_true, 400)) == pytest.approx(1 / 7, abs=0.02)


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
def test_benchmark_with_labels_only(labels_file, tmp_path):
    out = tmp_path / "run"
    results = run_benchmark(labels_file=labels_file, out_dir=out, **FAST)
    rows = {(r["task"], r["system"]): r for r in results["rows"]}
    assert "skipped" in rows[("sentiment_3", "caption_tfidf")]
    assert "--captions-file" in rows[("sentiment_3", "caption_tfidf")]["skipped"]
    assert "--video-dir" in rows[("emotion_single", "video_motion")]["skipped"]
    majority = rows[("sentiment_3", "majority")]
    assert majority["protocol"] == "leave-one-signer-out" and majority["n"] == 12
    assert set(majority["per_signer"]) == {"Ben", "Cory", "Jonathan", "Rachel"}
    assert any(r["reported"] for r in results["rows"])

    # Every written prediction file rescores to the same numbers with `emosign evaluate`.
    written = pd.read_csv(out / "predictions" / "sentiment_3" / "cue_text_tfidf.csv")
    rescored = evaluate("sentiment_3", written, labels_file=labels_file, n_boot=200)
    assert rescored["metrics"]["balanced_accuracy"] == rows[("sentiment_3", "cue_text_tfidf")]["metrics"]["balanced_accuracy"]
    assert json.loads((out / "results.json").read_text())["rows"] == json.loads(json.dumps(results["rows"]))
    assert "| system |" in (out / "leaderboard.md").read_text()
    # Each row carries evaluate's verdict on its clips; the paper's rows, scored on every
    # clip of the task, that of a row run here on every clip.
    assert rows[("sentiment_3", "cue_text_tfidf")]["unstable"] == rescored["unstable"]
    assert rescored["unstable"]["metrics"]  # the 12 synthetic clips make every class small
    reported = [r for r in results["rows"] if r["reported"] and r["task"] == "sentiment_3"]
    assert reported and all(r["unstable"] == majority["unstable"] for r in reported)
    assert UNSTABLE_REASON in (out / "leaderboard.md").read_text()


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
def test_benchmark_is_deterministic(labels_file):
    a = run_benchmark(labels_file=labels_file, tasks=["sentiment_7"], **FAST)
    b = run_benchmark(labels_file=labels_file, tasks=["sentiment_7"], **FAST)
    assert a == b


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
def test_caption_baselines(labels_file, tmp_path):
    labels = read_labels(labels_file)
    words = {-3: "terrible awful", -2: "bad sad", -1: "not good", 0: "the table", 1: "nice", 2: "good happy",
             3: "wonderful great love"}
    captions = tmp_path / "captions.csv"
    captions.write_text("video_name,caption\n" + "".join(f"{c.video_name},{words[c.sentiment]}\n" for c in labels))
    results = run_benchmark(labels_file=labels_file, captions_file=captions, tasks=["sentiment_3"],
                            baselines=["caption_vader", "caption_tfidf"], **FAST)
    rows = {r["system"]: r for r in results["rows"] if not r["reported"]}
    assert rows["caption_vader"]["metrics"]["accuracy"] > 0.8  # VADER reads these words right
    assert rows["caption_tfidf"]["protocol"] == "leave-one-signer-out"


def test_cue_text_reference_on_the_real_labels(real_labels):
    results = run_benchmark(labels_file=real_labels, tasks=["sentiment_3"],
                            baselines=["cue_text_tfidf", "majority"], **FAST)
    rows = {r["system"]: r for r in results["rows"] if not r["reported"]}
    assert rows["cue_text_tfidf"]["kind"] == "reference"
    # The annotators' own descriptions carry the polarity far better than the prior does.
    assert rows["cue_text_tfidf"]["metrics"]["balanced_accuracy"] > rows["majority"]["metrics"]["balanced_accuracy"] + 0.1


def test_cli_benchmark_prints_the_leaderboard(labels_file, tmp_path, capsys):
    code = main(["benchmark", "--labels-file", str(labels_file), "--tasks", "sentiment_3",
                 "--baselines", "majority", "uniform_random", "--n-boot", "100", "--kfold-repeats", "0",
                 "--out", str(tmp_path / "out")])
    assert code == 0
    out = capsys.readouterr().out
    assert "sentiment_3" in out and "majority" in out and "wAcc" in out
    assert (tmp_path / "out" / "leaderboard.md").exists()
    board, written = out.rstrip("\n").rsplit("\n", 1)
    assert written.startswith("results, leaderboard and per-clip predictions written to")
    assert max(len(line) for line in board.splitlines()) <= TEXT_WIDTH  # the path may be longer
    assert f"{UNSTABLE_MARK} unstable" in board


def _board_rows():
    """A constructed benchmark: on sentiment_3 a small class (3 neutral clips) makes the
    class-averaged scores unstable; emotion_multi's rows have no small class."""
    small = {"min_class_clips": MIN_CLASS_CLIPS, "classes": {"neutral": 3},
             "metrics": ["balanced_accuracy", "macro_f1"], "reason": "unstable"}
    scores = {"balanced_accuracy": 0.4567, "weighted_f1": 0.5, "accuracy": 0.6, "macro_f1": 0.41}
    ci = {k: [v - 0.1, v + 0.1] for k, v in scores.items()}
    run = {"task": "sentiment_3", "reported": False, "n": 200, "metrics": scores, "ci": ci,
           "protocol": "leave-one-signer-out", "unstable": small}
    long_name = "a visual system with a name far longer than thirty characters"
    return [
        {**run, "system": "majority", "kind": "floor"},
        {**run, "system": "cue_text_tfidf", "kind": "reference"},
        {**run, "system": "mine", "kind": "text"},
        {**run, "system": long_name, "kind": "visual", "n": 190, "missing_videos": 10,
         "unstable": {**small, "classes": {"neutral": 2}}},
        {"task": "sentiment_3", "system": "caption_vader", "kind": "text", "reported": False,
         "skipped": "needs captions (--captions-file)"},
        {"task": "sentiment_3", "system": "Hearing person (non-signer author) (video+caption)",
         "kind": "reported human", "reported": True, "unstable": small,
         "metrics": {"balanced_accuracy": 0.55, "weighted_f1": 0.57}},
        {**run, "task": "emotion_multi", "system": "majority", "kind": "floor", "unstable": {}},
    ], long_name


def test_leaderboard_marks_unstable_scores_and_keeps_points_of_comparison_apart():
    rows, long_name = _board_rows()
    text = format_leaderboard({"rows": rows})
    lines = text.splitlines()
    assert max(map(len, lines)) <= TEXT_WIDTH
    sentiment, multi = text.split("emotion_multi:")

    def line_of(start):
        return next(i for i, line in enumerate(lines) if line.startswith(start))

    # The systems first, under their title; floors, references and the paper's rows apart.
    assert line_of("-- systems") < line_of("mine ") < line_of(long_name[:20]) < line_of(
        "-- points of comparison, never ranked") < line_of("majority ") < line_of("Hearing person")
    assert "rank" not in sentiment.replace("never ranked", "")
    # wAcc (class-averaged) is marked, wF1 is not; the footnote gives the reason and the
    # smallest count of each small class.
    mine = lines[line_of("mine ")].split()
    assert mine[-7:] == ["45.67", "[35.7,", "55.7]", UNSTABLE_MARK, "50.00", "[40.0,", "60.0]"]
    assert f"{UNSTABLE_REASON} (here: neutral 2 clips)." in " ".join(sentiment.split("\n"))
    assert lines[line_of("Hearing person")].split()[-3:] == ["55.00", UNSTABLE_MARK, "57.00"]
    assert f"{long_name}: 10 clip(s) without a usable video left out" in " ".join(lines)
    # Cut in the middle, within the width: names that differ only at their end stay apart.
    assert lines[line_of(long_name[:20])].startswith("a visual system with…haracters ")
    assert "not run: caption_vader (needs captions (--captions-file))." in " ".join(lines)
    # No small class on emotion_multi: nothing marked, no footnote.
    assert UNSTABLE_MARK not in multi

    md = format_leaderboard({"rows": rows}, markdown=True)
    board = md.split("## emotion_multi")[0]
    assert board.index("Systems:") < board.index("| mine |") < board.index(
        "Points of comparison, never ranked") < board.index("| majority |")
    cells = next(line for line in board.splitlines() if line.startswith("| mine |")).split(" | ")
    # system, kind, n, wAcc, wF1, acc, macroF1, note: the two class-averaged ones marked.
    assert [c.endswith(UNSTABLE_MARK) for c in cells[3:7]] == [True, False, False, True]
    assert f"| {long_name} |" in board  # the file keeps the whole name
    hearing = next(line for line in board.splitlines() if line.startswith("| Hearing"))
    assert "- †" not in hearing  # a score the paper did not report is not marked
    assert UNSTABLE_MARK not in md.split("## emotion_multi")[1]


def test_leaderboard_says_when_no_system_ran():
    rows, _ = _board_rows()
    floors = [r for r in rows if r["kind"] not in ("text", "visual")]
    assert "-- systems: none asked for" in format_leaderboard({"rows": floors})
    assert "Systems: none asked for" in format_leaderboard({"rows": floors}, markdown=True)
    # A system asked for but not run is named under the table, and the heading points there.
    task = floors[0]["task"]
    skipped = {"task": task, "system": "video_motion", "kind": "visual", "skipped": "no videos"}
    board = format_leaderboard({"rows": [*floors, skipped]})
    assert "-- systems: none ran (see 'not run' below)" in board
    assert "not run: video_motion (no videos)." in board


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
def test_visual_baseline_runs_end_to_end_on_generated_clips(labels_file, tmp_path):
    from conftest import SYNTHETIC_ROWS, write_mp4

    videos = tmp_path / "videos"
    rows = SYNTHETIC_ROWS[:-1]  # one clip without a video
    for row in rows:
        write_mp4(videos / f"{row['video_name'].rsplit('_', 1)[1]}.mp4", seconds=0.6)
    results = run_benchmark(labels_file=labels_file, video_dir=videos, tasks=["sentiment_3"],
                            baselines=["video_motion"], cache_dir=tmp_path / "cache", **FAST)
    row = next(r for r in results["rows"] if r["system"] == "video_motion")
    assert row["n"] == len(rows) and row["missing_videos"] == 1
    # No row here scored every clip: the paper's rows get evaluate's verdict on all of them.
    data = get_task("sentiment_3").bind(read_labels(labels_file))
    every = evaluate("sentiment_3", _frame(data, data.y_true), labels_file=labels_file, n_boot=1)
    assert all(r["unstable"] == every["unstable"] for r in results["rows"] if r["reported"])
    with pytest.raises(FileNotFoundError, match="2-Ben-Voice-Identity_1012"):
        run_benchmark(labels_file=labels_file, video_dir=videos, tasks=["sentiment_3"],
                      baselines=["video_motion"], on_missing_video="error",
                      cache_dir=tmp_path / "cache", **FAST)


def _listing(folder):
    """Every entry under ``folder`` (hidden ones too), with each file's sha256."""
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(folder.rglob("*"))}


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")
def test_a_benchmark_with_videos_leaves_the_video_folder_unchanged(labels_file, tmp_path,
                                                                    monkeypatch, capsys):
    # Issue 23, item 7: the features went to <video-dir>/.emosign-features.
    from conftest import SYNTHETIC_ROWS, write_mp4

    videos = tmp_path / "videos"
    for row in SYNTHETIC_ROWS:
        write_mp4(videos / f"{row['video_name'].rsplit('_', 1)[1]}.mp4", seconds=0.6)
    before = _listing(videos)
    stats_before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in videos.rglob("*")}

    default = tmp_path / "user-cache"
    monkeypatch.setenv("EMOSIGN_CACHE", str(default))  # the default: $EMOSIGN_CACHE
    run_benchmark(labels_file=labels_file, video_dir=videos, tasks=["sentiment_3"],
                  baselines=["video_motion"], **FAST)
    assert list(default.rglob("*.json")), "the features were not cached in $EMOSIGN_CACHE"

    given = tmp_path / "given-cache"  # --cache-dir
    code = main(["benchmark", "--labels-file", str(labels_file), "--video-dir", str(videos),
                 "--tasks", "sentiment_3", "--baselines", "video_motion", "--n-boot", "200",
                 "--kfold-repeats", "0", "--quiet", "--cache-dir", str(given)])
    capsys.readouterr()
    assert code == 0
    assert {p.name for p in given.rglob("*.json")} == {p.name for p in default.rglob("*.json")}

    assert _listing(videos) == before  # nothing added, removed or changed, hidden files too
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in videos.rglob("*")} == stats_before


def test_a_feature_cache_inside_the_video_folder_is_refused(labels_file, tmp_path):
    from emosign.errors import InputError

    videos = tmp_path / "videos"
    videos.mkdir()
    with pytest.raises(InputError, match="is in the video folder"):
        run_benchmark(labels_file=labels_file, video_dir=videos, tasks=["sentiment_3"],
                      baselines=["video_motion"], cache_dir=videos / ".cache", **FAST)
    assert list(videos.iterdir()) == []


def test_the_cache_folder_is_the_users(monkeypatch, tmp_path):
    from pathlib import Path

    from emosign import _cache

    monkeypatch.setenv("EMOSIGN_CACHE", str(tmp_path / "mine"))
    assert _cache.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("EMOSIGN_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache.cache_dir() == tmp_path / "xdg" / "emosign" / "features"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored, as XDG says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _cache.cache_dir() == tmp_path / "home" / ".cache" / "emosign" / "features"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert _cache.cache_dir() == tmp_path / "home" / ".cache" / "emosign" / "features"
    monkeypatch.setattr(_cache, "_WINDOWS", True)
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert _cache.cache_dir() == Path(tmp_path / "local" / "emosign" / "features")


def test_a_learned_baseline_with_videos_of_one_signer_is_skipped_with_the_reason(labels_file, tmp_path):
    from conftest import SYNTHETIC_ROWS, write_mp4

    videos = tmp_path / "videos"
    one_signer = [r for r in SYNTHETIC_ROWS if r["video_name"].startswith("Cory")]
    assert one_signer and len(one_signer) < len(SYNTHETIC_ROWS)
    for row in one_signer:
        write_mp4(videos / f"{row['video_name'].rsplit('_', 1)[1]}.mp4", seconds=0.6)
    results = run_benchmark(labels_file=labels_file, video_dir=videos, tasks=["sentiment_3"],
                            baselines=["video_motion", "majority"],
                            cache_dir=tmp_path / "cache", **FAST)
    rows = {r["system"]: r for r in results["rows"]}
    assert "two signers" in rows["video_motion"]["skipped"]
    assert "Cory" in rows["video_motion"]["skipped"]
    assert "skipped" not in rows["majority"]
