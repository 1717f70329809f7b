"""emosign.testing: the pytest plugin, run in a separate pytest through ``pytester``, and the
assertions, called directly.

Each plugin test writes a small test file, runs pytest on it in a subprocess (a clean
environment: the outer session's plugin state and its autouse fixtures cannot leak in) and
checks the outcome counts and the skip or failure messages.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import textwrap
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from conftest import (
    SYNTHETIC_MULTI,
    SYNTHETIC_ROWS,
    SYNTHETIC_SINGLE,
    write_label_file,
    write_mp4,
)

from emosign import hub
from emosign.cli import main as cli_main
from emosign.labels import read_labels
from emosign.metrics import evaluate
from emosign.testing import (
    LABELS_SKIP_REASON,
    VIDEOS_SKIP_REASON,
    MetricKeyError,
    assert_metrics_close,
    assert_predictions_match,
    assert_same_split,
)

pytest_plugins = ["pytester"]

# pytester puts sys.modules back as it was after every test that uses it, and a C extension
# first imported within such a test (numpy.fft, through scipy.stats) cannot be imported again:
# imported here, before any of them, as the rest of the suite happens to when it runs first.
importlib.import_module("scipy.stats")

# A user's test file on the 12-clip synthetic label file: two labels fixtures and a test
# that needs no data.
USES_LABELS = """
def test_path(emosign_labels_path):
    assert emosign_labels_path.name == "labels.csv"

def test_labels(emosign_labels):
    assert len(emosign_labels) == 12

def test_needs_no_data():
    pass
"""
# ... and the scorer and the dataset loader, kept apart because importing the scorer and
# `datasets` takes seconds.
USES_EVERY_FIXTURE = USES_LABELS + f"""
from emosign.testing import assert_metrics_close

def test_scorer(emosign_scorer):
    result = emosign_scorer("emotion_single", {SYNTHETIC_SINGLE!r}, n_boot=10)
    assert_metrics_close(result, {{"balanced_accuracy": 1.0, "n": 8}})

def test_dataset(emosign_dataset):
    single = emosign_dataset("single_expression")
    assert sorted(single["video_name"]) == {sorted(SYNTHETIC_SINGLE)!r}
    assert emosign_dataset("multi_expression").num_rows == {len(SYNTHETIC_MULTI)}
"""


@pytest.fixture
def isolated(pytester, monkeypatch, tmp_path):
    """A pytester whose runs cannot find labels or videos unless a test gives them: no
    EMOSIGN_* variables, and an empty, offline Hugging Face cache."""
    for name in ("EMOSIGN_LABELS", "EMOSIGN_VIDEO_DIR", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return pytester


def run(pytester, *args):
    # Without hypothesis's plugin, which takes a second and a half to import.
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-rs", *args
    )


@pytest.fixture
def synthetic_labels(pytester) -> Path:
    return write_label_file(pytester.path / "labels.csv", SYNTHETIC_ROWS)


# --- where the labels come from ---------------------------------------------------------------


def test_fixtures_resolve_with_the_option(isolated, synthetic_labels):
    isolated.makepyfile(test_user=USES_EVERY_FIXTURE)
    result = run(isolated, "--emosign-labels", "labels.csv")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines([f"emosign labels: {synthetic_labels} (from --emosign-labels)"])


def test_fixtures_resolve_with_the_environment_variable_even_if_a_fixture_removes_it(
    isolated, synthetic_labels, monkeypatch
):
    # Like this repository's own conftest: every test runs without EMOSIGN_LABELS set.
    isolated.makeconftest("""
        import pytest

        @pytest.fixture(autouse=True)
        def _hide(monkeypatch):
            monkeypatch.delenv("EMOSIGN_LABELS", raising=False)
    """)
    isolated.makepyfile(test_user=USES_LABELS)
    monkeypatch.setenv("EMOSIGN_LABELS", str(synthetic_labels))
    run(isolated).assert_outcomes(passed=3)


def test_the_option_wins_over_the_environment_and_the_ini_file(isolated, synthetic_labels, monkeypatch):
    isolated.makeini("[pytest]\nemosign_labels = missing-from-ini.csv\n")
    isolated.makepyfile(test_user=USES_LABELS)
    monkeypatch.setenv("EMOSIGN_LABELS", str(isolated.path / "missing-from-env.csv"))
    run(isolated, f"--emosign-labels={synthetic_labels}").assert_outcomes(passed=3)


def test_the_ini_value_is_relative_to_the_ini_file(isolated, monkeypatch):
    (isolated.path / "data").mkdir()
    write_label_file(isolated.path / "data" / "labels.csv", SYNTHETIC_ROWS)
    isolated.makeini("[pytest]\nemosign_labels = data/labels.csv\n")
    isolated.makepyfile(test_user=USES_LABELS)
    # Run from another directory: the path must still be read next to the ini file.
    monkeypatch.chdir(isolated.mkdir("elsewhere"))
    run(isolated, str(isolated.path)).assert_outcomes(passed=3)


def test_the_hub_cache_is_used_without_network(isolated, real_labels, tmp_path, monkeypatch):
    # The layout huggingface_hub gives a downloaded file: snapshots/<commit>/<name>.
    cache = tmp_path / "hub"
    snapshot = cache / "datasets--catfang--emosign" / "snapshots" / hub.HUB_REVISION
    snapshot.mkdir(parents=True)
    shutil.copy(real_labels, snapshot / hub.HUB_FILENAME)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    isolated.makepyfile(test_user="""
        def test_from_hub(emosign_labels):
            assert len(emosign_labels) == 200
            assert emosign_labels.source.origin == "hub"
    """)
    run(isolated).assert_outcomes(passed=1)


# --- without labels: skipped, never errored, never passed -------------------------------------


def test_without_labels_every_dependent_test_is_skipped_with_one_reason(isolated):
    isolated.makepyfile(test_user=USES_EVERY_FIXTURE)
    result = run(isolated)
    result.assert_outcomes(passed=1, skipped=4)
    skip_lines = [line for line in result.outlines if line.startswith("SKIPPED")]
    assert len(skip_lines) == 4
    assert all(line.endswith(LABELS_SKIP_REASON) for line in skip_lines), skip_lines
    assert all("test_user.py:" in line for line in skip_lines), skip_lines
    for way in ("--emosign-labels", "EMOSIGN_LABELS", "Hugging Face cache"):
        assert way in LABELS_SKIP_REASON


def test_an_empty_environment_variable_counts_as_unset(isolated, monkeypatch):
    isolated.makepyfile(test_user=USES_EVERY_FIXTURE)
    monkeypatch.setenv("EMOSIGN_LABELS", "  ")
    run(isolated).assert_outcomes(passed=1, skipped=4)


def test_a_named_file_that_does_not_exist_is_an_error_not_a_skip(isolated):
    isolated.makepyfile(test_user="""
        def test_labels(emosign_labels):
            pass
    """)
    result = run(isolated, "--emosign-labels", "no-such-file.csv")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*EmoSign labels from --emosign-labels: *no-such-file.csv*"])


# --- the option spellings, and pytest's rootdir ---------------------------------------------


def _repository_with_an_ini_file(pytester) -> Path:
    """A research repository: an ini file with pythonpath, its model at the top, tests/ below."""
    pytester.makeini("[pytest]\npythonpath = .\ntestpaths = tests\n")
    (pytester.path / "our_model.py").write_text("ANSWER = 12\n")
    tests = pytester.mkdir("tests")
    (tests / "test_user.py").write_text(
        "import our_model\n\n"
        "def test_labels(emosign_labels):\n"
        "    assert len(emosign_labels) == our_model.ANSWER\n"
    )
    return tests


def test_the_equals_spelling_keeps_the_repositorys_ini_file(isolated, tmp_path):
    _repository_with_an_ini_file(isolated)
    # Labels and videos outside the repository, as on a real machine.
    (tmp_path / "data").mkdir()
    labels = write_label_file(tmp_path / "data" / "labels.csv", SYNTHETIC_ROWS)
    videos = tmp_path / "videos"
    videos.mkdir()
    result = run(isolated, f"--emosign-labels={labels}", f"--emosign-video-dir={videos}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"rootdir: {isolated.path}*"])


def test_the_space_spelling_that_moves_the_rootdir_is_refused_with_the_fix(isolated, tmp_path):
    _repository_with_an_ini_file(isolated)
    (tmp_path / "data").mkdir()
    labels = write_label_file(tmp_path / "data" / "labels.csv", SYNTHETIC_ROWS)
    videos = tmp_path / "elsewhere" / "videos"
    videos.mkdir(parents=True)
    result = run(isolated, "--emosign-labels", str(labels), "--emosign-video-dir", str(videos))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    message = result.stderr.str()
    assert "took the value of --emosign-labels, --emosign-video-dir for a test path" in message
    assert f"instead of {isolated.path} (ini file: {isolated.path}" in message
    assert f"--emosign-labels={labels} --emosign-video-dir={videos}" in message


def test_the_space_spelling_inside_the_repository_still_works(isolated, synthetic_labels):
    _repository_with_an_ini_file(isolated)
    run(isolated, "--emosign-labels", "labels.csv").assert_outcomes(passed=1)


def test_a_cached_copy_with_the_wrong_hash_is_an_error_that_says_so(isolated, tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    snapshot = cache / "datasets--catfang--emosign" / "snapshots" / hub.HUB_REVISION
    snapshot.mkdir(parents=True)
    write_label_file(snapshot / hub.HUB_FILENAME, SYNTHETIC_ROWS)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    isolated.makepyfile(test_user=USES_LABELS)
    result = run(isolated)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines([
        f"*EmoSign labels in the Hugging Face cache do not have the pinned sha256: "
        f"*{hub.HUB_FILENAME} has *, expected {hub.HUB_SHA256}*"
    ])
    assert LABELS_SKIP_REASON not in result.stdout.str()


# --- the README's example repository, as written ----------------------------------------------


def _readme_block(language: str, starts_with: str) -> str:
    """A block of the pytest plugin's page of the manual (docs/pytest-plugin.md)."""
    page = Path(__file__).resolve().parent.parent / "docs" / "pytest-plugin.md"
    readme = page.read_text(encoding="utf-8")
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", readme, flags=re.S | re.M)
    (block,) = [b for b in blocks if b.startswith(starts_with)]
    return block


def _readme_repository_predictions(labels) -> tuple[dict, dict]:
    """Predictions that give the numbers the README's example pins (on the released labels).

    sentiment_3: the first 99 negative, 31 positive and 1 neutral clips right, the rest
    called the other polarity (wF1 0.639, wAcc 0.520); emotion_single: every clip right but
    8 of the 54 happiness clips (recall 0.852) and 7 of the 14 worry clips (0.500).
    """
    other = {"negative": "positive", "positive": "negative", "neutral": "negative"}
    right = {"negative": 99, "positive": 31, "neutral": 1}
    sentiment, seen = {}, Counter()
    for clip in labels:
        seen[clip.sentiment_3] += 1
        ok = seen[clip.sentiment_3] <= right[clip.sentiment_3]
        sentiment[clip.video_name] = clip.sentiment_3 if ok else other[clip.sentiment_3]
    wrong = {"happiness": ("neutral", 46), "worry": ("sadness", 7)}
    emotion, seen = {}, Counter()
    for clip in labels:
        if clip.expression_set != "single":
            continue
        seen[clip.single_label] += 1
        answer, keep = wrong.get(clip.single_label, (None, 10**6))
        emotion[clip.video_name] = clip.single_label if seen[clip.single_label] <= keep else answer
    return sentiment, emotion


def test_the_readmes_example_repository_passes_as_written(isolated, real_labels, tmp_path):
    labels = read_labels(real_labels)
    isolated.makeini(_readme_block("ini", "[pytest]"))
    tests = isolated.mkdir("tests")
    (tests / "test_emosign_results.py").write_text(_readme_block("python", '"""Our EmoSign results'))
    results = isolated.mkdir("results")
    sentiment, emotion = _readme_repository_predictions(labels)
    for name, predictions in (("sentiment_3", sentiment), ("emotion_single", emotion)):
        pd.DataFrame({"video_name": list(predictions), "prediction": list(predictions.values())}
                     ).to_csv(results / f"{name}.csv", index=False)
    # As the test file's comment says the stored result was written.
    assert cli_main(["evaluate", "--task", "emotion_single", "--predictions",
                     str(results / "emotion_single.csv"), "--output",
                     str(results / "emotion_single.json"), "--labels-file", str(real_labels)]) == 0
    # The repository's model, a stand-in that answers what results/sentiment_3.csv holds.
    (isolated.path / "our_model.py").write_text(textwrap.dedent("""
        import csv
        from pathlib import Path

        with open(Path(__file__).parent / "results" / "sentiment_3.csv", newline="") as file:
            _ANSWERS = {row["video_name"]: row["prediction"] for row in csv.DictReader(file)}

        def predict_sentiment(video):
            return _ANSWERS[Path(video).stem]
    """))
    videos = tmp_path / "asllrp"
    clip = write_mp4(videos / "clip.mp4", seconds=0.2)
    for row in labels:
        shutil.copy(clip, videos / f"{row.video_name}.mp4")
    clip.unlink()

    # The README's own command line, with the labels and videos outside the repository.
    result = run(isolated, f"--emosign-labels={real_labels}", f"--emosign-video-dir={videos}")
    result.assert_outcomes(passed=5)


# --- the videos marker ------------------------------------------------------------------------

NEEDS_VIDEOS = """
import pytest

@pytest.mark.emosign_videos
def test_marked():
    pass

def test_fixture(emosign_video_dir):
    assert (emosign_video_dir / "clip.mp4").is_file()
"""


def test_video_tests_are_skipped_without_a_video_directory(isolated):
    isolated.makepyfile(test_user=NEEDS_VIDEOS)
    # --strict-markers: the marker must be registered, or this run would fail.
    result = run(isolated, "--strict-markers")
    result.assert_outcomes(skipped=2)
    skip_lines = [line for line in result.outlines if line.startswith("SKIPPED")]
    assert len(skip_lines) == 2 and all(line.endswith(VIDEOS_SKIP_REASON) for line in skip_lines)
    # The report points at the user's tests, not at the plugin.
    assert all("test_user.py:" in line for line in skip_lines), skip_lines


def test_a_video_directory_that_does_not_exist_is_an_error(isolated):
    isolated.makepyfile(test_user=NEEDS_VIDEOS)
    result = run(isolated, "--emosign-video-dir", "nowhere")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*EmoSign video directory *nowhere (from --emosign-video-dir) is not a directory"])


@pytest.mark.parametrize("how", ["option", "environment"])
def test_video_tests_run_with_a_video_directory(isolated, monkeypatch, how):
    videos = isolated.mkdir("videos")
    (videos / "clip.mp4").write_bytes(b"")
    isolated.makepyfile(test_user=NEEDS_VIDEOS)
    args = ["--strict-markers"]
    if how == "option":
        args += ["--emosign-video-dir", str(videos)]
    else:
        monkeypatch.setenv("EMOSIGN_VIDEO_DIR", str(videos))
    run(isolated, *args).assert_outcomes(passed=2)


def test_markers_are_listed(isolated):
    result = run(isolated, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.emosign_videos: *"])


# --- the assertions inside a user's test run --------------------------------------------------


def test_a_failing_assertion_lists_every_differing_metric_in_the_test_report(isolated, synthetic_labels):
    isolated.makepyfile(test_user=f"""
        from emosign.testing import assert_metrics_close

        def test_pinned(emosign_scorer):
            result = emosign_scorer("emotion_single", {SYNTHETIC_SINGLE!r}, n_boot=10)
            assert_metrics_close(result, {{
                "accuracy": 0.5,
                "balanced_accuracy": 1.0,
                "weighted_f1": 0.25,
                "per_class.happiness.recall": 0.1,
            }}, abs=0.01)
    """)
    result = run(isolated, "--emosign-labels", str(synthetic_labels))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*AssertionError: 3 of 4 metric(s) differ from the expected values*",
        "*accuracy * expected 0.5, got 1, off by 0.5 (tolerance 0.01)",
        "*weighted_f1 * expected 0.25, got 1, off by 0.75 (tolerance 0.01)",
        "*per_class.happiness.recall * expected 0.1, got 1, off by 0.9 (tolerance 0.01)",
    ])
    assert "balanced_accuracy  expected" not in result.stdout.str()


# --- assert_metrics_close ---------------------------------------------------------------------


@pytest.fixture
def result(labels_file) -> dict:
    # Two of the eight single-expression clips wrong: accuracy 0.75.
    predictions = dict(SYNTHETIC_SINGLE)
    predictions["Cory_2013-6-27_sc107_1003"] = "fear"
    predictions["Rachel_2012-12-01_sc44_1007"] = "anger"
    return evaluate("emotion_single", predictions, labels_file=labels_file, n_boot=10)


def test_metrics_close_passes_within_the_tolerance(result):
    assert result["metrics"]["accuracy"] == 0.75
    assert_metrics_close(result, {"accuracy": 0.75, "n": 8, "per_class.worry.recall": 0.0})
    assert_metrics_close(result, {"accuracy": 0.74}, abs=0.011)
    assert_metrics_close(result, {"metrics.accuracy": 0.8}, rel=0.07)


def test_metrics_close_reports_every_differing_metric_at_once(result):
    with pytest.raises(AssertionError) as caught:
        assert_metrics_close(
            result,
            {"accuracy": 0.5, "balanced_accuracy": 0.1, "per_class.happiness.recall": 0.2, "n": 8},
            abs=0.01,
        )
    message = str(caught.value)
    assert message.startswith("3 of 4 metric(s) differ")
    for key, got in (("accuracy", "0.75"), ("balanced_accuracy", ""), ("per_class.happiness.recall", "got 1,")):
        line = next(line for line in message.splitlines() if line.strip().startswith(key + " "))
        assert got in line and "tolerance 0.01" in line
    assert "  n " not in message


def test_metrics_close_reads_the_file_emosign_evaluate_writes(result, tmp_path):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result), encoding="utf-8")
    assert_metrics_close(path, {"accuracy": 0.75})
    with pytest.raises(AssertionError, match=str(path)):
        assert_metrics_close(str(path), {"accuracy": 0.7})


def test_an_unknown_key_names_the_keys_there_are(result):
    with pytest.raises(MetricKeyError) as caught:
        assert_metrics_close(result, {"balanced_acuracy": 0.5, "per_class.happines.recall": 1.0})
    message = str(caught.value)
    assert "2 expected metric(s) not in the result" in message
    assert "'balanced_acuracy' (did you mean 'balanced_accuracy'" in message
    assert "'per_class.happines.recall' (did you mean 'per_class.happiness.recall'" in message
    available = message.split("available keys: ")[1].split(", ")
    assert {"accuracy", "weighted_f1", "per_signer.Cory.accuracy", "n"} <= set(available)
    # Non-numbers (the sha256, the interval lists) are not metrics.
    assert "labels.sha256" not in available and "ci.intervals.accuracy" not in available


def test_percentages_get_a_hint(result):
    with pytest.raises(AssertionError, match="look like percentages"):
        assert_metrics_close(result, {"accuracy": 75.0})


def test_undefined_metrics_match_only_nan():
    result = {"metrics": {"pearson": None, "mae": 1.0}}
    assert_metrics_close(result, {"pearson": float("nan")})
    with pytest.raises(AssertionError, match="expected 0.5, got undefined"):
        assert_metrics_close(result, {"pearson": 0.5})
    with pytest.raises(AssertionError, match="expected nan, got 1"):
        assert_metrics_close(result, {"mae": float("nan")})


# --- assert_same_split ------------------------------------------------------------------------


def test_same_split_accepts_every_form(labels_file, tmp_path):
    labels = read_labels(labels_file)
    names = [c.video_name for c in labels]
    text = tmp_path / "split.txt"
    text.write_text("\n".join(reversed(names)) + "\n", encoding="utf-8")
    table = tmp_path / "split.csv"
    pd.DataFrame({"video_name": names}).to_csv(table, index=False)
    for form in (labels, names, text, table, pd.DataFrame({"video_name": names}), dict.fromkeys(names)):
        assert_same_split(form, names)


def test_same_split_lists_every_differing_clip():
    reference = ["a_1", "b_2", "c_3", "d_4"]
    with pytest.raises(AssertionError) as caught:
        assert_same_split(["a_1", "c_3", "e_5", "e_5"], reference)
    message = str(caught.value)
    assert "1 clip(s) more than once in <list>: e_5" in message
    assert "2 clip(s) missing, only in the reference:\n    b_2\n    d_4" in message
    assert "1 clip(s) not in the reference:\n    e_5" in message


def test_a_long_list_of_differing_clips_is_cut_short_and_kept_whole_in_a_file():
    reference = [f"x_{k}" for k in range(300)]
    with pytest.raises(AssertionError) as caught:
        assert_same_split(reference[:50], reference)
    message = str(caught.value)
    assert "250 clip(s) missing, only in the reference:" in message and len(message.splitlines()) < 20
    listed = re.search(r"all 250 are listed in (\S+)", message).group(1)
    assert all(f"    x_{k}\n" in open(listed).read() for k in range(50, 300))
    with pytest.raises(AssertionError) as caught:
        assert_predictions_match(dict.fromkeys(reference, "joy"), dict.fromkeys(reference, "fear"),
                                 task="emotion_single")
    assert "predictions differ on 300 of 300" in str(caught.value)
    assert len(str(caught.value).splitlines()) < 20 and "all 300 are listed in" in str(caught.value)


def test_same_split_checks_order_only_when_asked():
    assert_same_split(["b", "a"], ["a", "b"])
    with pytest.raises(AssertionError, match="position 0 holds 'b', the reference 'a'"):
        assert_same_split(["b", "a"], ["a", "b"], ordered=True)


# --- assert_predictions_match -----------------------------------------------------------------


def test_predictions_match_as_the_scorer_reads_them(tmp_path):
    a = {"x_1": "Moderately Positive", "x_2": "-3", "x_3": 1.6}
    b = tmp_path / "b.csv"
    pd.DataFrame({"video_name": ["x_3", "x_2", "x_1"],
                  "prediction": ["2", "extremely negative", "moderately_positive"]}).to_csv(b, index=False)
    assert_predictions_match(a, b, task="sentiment_7")
    assert_predictions_match({"x_1": "joy"}, {"x_1": "Happiness"}, task="emotion_single")
    assert_predictions_match({"x_1": "sadness and worry"}, {"x_1": "worry+sadness"}, task="emotion_multi")


def test_predictions_mismatch_lists_every_clip():
    a = {"x_1": "worry", "x_2": "fear", "x_3": "anger", "x_4": "N/A"}
    b = {"x_1": "worry", "x_2": "sadness", "x_4": "n/a", "x_5": "joy"}
    with pytest.raises(AssertionError) as caught:
        assert_predictions_match(a, b, task="emotion_single")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("predictions differ on 4 of 5 clips (task emotion_single")
    assert lines[1:] == [
        "  x_2: a 'fear' = fear, b 'sadness' = sadness",
        "  x_3: only in a ('anger' = anger)",
        "  x_4: a 'N/A' (unreadable), b 'n/a' (unreadable)",
        "  x_5: only in b ('joy' = happiness)",
    ]


def test_predictions_match_per_emotion_columns():
    emotions = ["joy", "excited", "surprise_pos", "surprise_neg", "worry", "sadness", "fear",
                "disgust", "frustration", "anger"]
    row = {"video_name": "x_1", **dict.fromkeys(emotions, 0)}
    same = {**row, "joy": "yes"}
    assert_predictions_match([{**row, "joy": 1}], [same], task="emotion_presence")
    assert_predictions_match([{**row, "joy": 1}], [{"video_name": "x_1", "prediction": "joy"}],
                             task="emotion_presence")
    with pytest.raises(AssertionError, match="x_1"):
        assert_predictions_match([{**row, "anger": 2}], [{**row, "anger": 3}], task="emotion_intensity")


def test_predictions_given_twice_are_refused():
    twice = [{"video_name": "x_1", "prediction": "worry"}, {"video_name": "x_1", "prediction": "fear"}]
    with pytest.raises(ValueError, match="more than once"):
        assert_predictions_match(twice, {"x_1": "worry"}, task="emotion_single")


def test_the_plugin_module_imports_nothing_heavy():
    # pytest imports the plugin in every project with emosign installed.
    code = textwrap.dedent("""
        import sys
        import emosign.testing
        heavy = [m for m in ("datasets", "pandas", "sklearn", "huggingface_hub", "emosign.labels")
                 if m in sys.modules]
        print(heavy)
    """)
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
