"""EmoSign as Inspect tasks (emosign.harness.inspect_tasks) and Inspect logs read back into
emosign (emosign.harness.inspect_logs), tested without a model.

Inspect runs in-process against a stand-in OpenAI-compatible server on 127.0.0.1
(tests/fakes.py) reached through Inspect's ``openai-api/<name>/<model>`` provider. The server
tells the clips apart by the number of frames a request holds: the clip with utterance id
1000 + k is written (5 + k) / 10 s long, so it has 5 + k frames at 10 fps. It answers from a
fixed table: right, wrong, unreadable, empty.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import SYNTHETIC_ROWS, SYNTHETIC_SINGLE, write_mp4
from fakes import Reply, image_count, last_text

from emosign import vocab
from emosign.errors import EmosignError, InputError, MissingExtraError

pytest.importorskip("inspect_ai")
pytest.importorskip("openai")

from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai import eval_retry  # noqa: E402

from emosign.harness.config import FrameConfig  # noqa: E402
from emosign.harness.inspect_logs import (  # noqa: E402
    evaluate_log,
    evaluate_readings,
    find_inspect_logs,
    is_inspect_log,
    read_inspect_log,
    score_inspect_logs,
)
from emosign.harness.inspect_tasks import (  # noqa: E402
    MISSING,
    NOT_IN_TASK,
    emotion,
    joint,
    make_task,
    sentiment,
)
from emosign.harness.prompts import SCORED_TASKS, get_protocol  # noqa: E402
from emosign.metrics import evaluate  # noqa: E402

N_BOOT = 200
MODEL = "openai-api/local/stand-in"
KEY = "sk-test-secret-0123456789"
CLIPS = [row["video_name"] for row in SYNTHETIC_ROWS]


def utterance(name: str) -> int:
    return int(re.search(r"(\d+)$", name).group(1))


def frames_of(name: str) -> int:
    return 5 + utterance(name) - 1000


CLIP_OF_FRAMES = {frames_of(name): name for name in CLIPS}


def sentiment_of(name: str) -> int:
    return int(next(r for r in SYNTHETIC_ROWS if r["video_name"] == name)["Sentiment"])


def intensities_of(name: str) -> dict[str, int]:
    row = next(r for r in SYNTHETIC_ROWS if r["video_name"] == name)
    return {e: int(row[e]) - vocab.FILE_INTENSITY_OFFSET for e in vocab.EMOTION_NAMES}


# The fixed table: which clips get a wrong, an unreadable or an empty answer; the rest are
# answered right. Clip 1003 has no video (it is never asked).
WRONG, UNREADABLE, EMPTY, NO_VIDEO = 1001, 1002, 1004, 1003


def table_answer(task: str, name: str) -> str:
    k = utterance(name)
    if k == UNREADABLE:
        return "I'm not sure what the signer feels here."
    if k == EMPTY:
        return ""
    if task == "sentiment":
        value = sentiment_of(name) if k != WRONG else -sentiment_of(name) or 3
        return vocab.SENTIMENT_LEVELS[value + 3].phrase
    if task == "emotion":
        label = SYNTHETIC_SINGLE[name] if k != WRONG else "fear"
        spelled = next(c for c in vocab.EXPRESSION_CLASSES if c.name == label)
        return f"[{spelled.paper_name.lower()}]"
    # the paper's joint answer: its keys, every value a string
    values = intensities_of(name)
    answer = {"filename": name, "Sentiment": str(sentiment_of(name) if k != WRONG else 3)}
    for emotion_ in vocab.EMOTIONS:
        answer[emotion_.prompt_name] = str(values[emotion_.name])
    answer["QA"] = "The brows rise at t=0.3s. The signs are large and fast."
    return json.dumps(answer)


def task_of(text: str) -> str:
    if "JSON" in text:
        return "joint"
    return "sentiment" if "Extremely Negative" in text else "emotion"


def answer_from_table(body: dict) -> Reply:
    name = CLIP_OF_FRAMES[image_count(body)]
    return Reply(text=table_answer(task_of(last_text(body)), name))


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory) -> Path:
    """One mp4 per synthetic clip but one (NO_VIDEO), named by utterance id."""
    directory = tmp_path_factory.mktemp("videos")
    for name in CLIPS:
        if utterance(name) != NO_VIDEO:
            write_mp4(directory / f"{utterance(name)}.mp4", seconds=frames_of(name) / 10, fps=20)
    return directory


@pytest.fixture
def server(chat_server, monkeypatch):
    """The stand-in, answering from the table, as Inspect's ``openai-api/local`` provider."""
    chat_server.answer = answer_from_table
    # Inspect keeps the models it made by name, with the base URL read from the environment
    # when made: an earlier test's model would call an earlier test's (stopped) server.
    monkeypatch.setattr("inspect_ai.model._model._models", {})
    monkeypatch.setenv("LOCAL_BASE_URL", chat_server.url)
    monkeypatch.setenv("LOCAL_API_KEY", KEY)
    return chat_server


def run(task, tmp_path, **options):
    options = {"model": MODEL, "log_dir": str(tmp_path / "logs"), "display": "none",
               "max_retries": 0, **options}
    (log,) = inspect_eval(task, **options)
    return log


def metrics_of(log) -> dict[str, dict[str, float]]:
    return {s.name: {m.name: m.value for m in s.metrics.values()} for s in log.results.scores}


def log_file(log) -> Path:
    return Path(log.location)


# --- a run, its scores, and the log read back -------------------------------------------------


def test_sentiment_run_reads_each_answer_and_scores_as_evaluate_does(
        server, video_dir, labels_file, tmp_path):
    log = run(sentiment(video_dir=str(video_dir), labels_file=str(labels_file), n_boot=N_BOOT),
              tmp_path)
    assert log.status == "success"
    # Every clip with a video is asked once, with its frames and the protocol's prompt.
    assert len(server.bodies) == len(CLIPS) - 1
    assert sorted(image_count(b) for b in server.bodies) == sorted(
        frames_of(n) for n in CLIPS if utterance(n) != NO_VIDEO)
    body = server.bodies[0]
    content = body["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "t=0.00s"}
    assert content[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    prompt = get_protocol("emosign").prompts["sentiment"]
    assert last_text(body) == prompt.render(fps=10)
    assert body["temperature"] == 0
    assert server.auth == [f"Bearer {KEY}"] * len(server.bodies)

    by_clip = {s.id: s.scores["answer"] for s in log.samples}
    verdicts = {name: score.metadata["verdicts"]["sentiment_7"] for name, score in by_clip.items()}
    for name in CLIPS:
        k = utterance(name)
        expected = {NO_VIDEO: "missing", UNREADABLE: "unreadable", EMPTY: "unreadable"}
        assert verdicts[name] == expected.get(k, "parsed"), name
    missing = by_clip[next(n for n in CLIPS if utterance(n) == NO_VIDEO)]
    assert missing.value == dict.fromkeys(SCORED_TASKS["sentiment"], MISSING)
    assert "no video file" in missing.explanation
    empty = by_clip[next(n for n in CLIPS if utterance(n) == EMPTY)]
    assert empty.metadata["problems"]["sentiment_7"] == "empty"

    # Inspect's metrics are evaluate()'s on the same answers, intervals included.
    run_ = read_inspect_log(log_file(log))
    assert run_.model == MODEL and run_.task == "sentiment" and run_.protocol == "emosign"
    assert run_.input == "video" and run_.clips == len(CLIPS) and run_.answered == len(CLIPS) - 1
    assert set(run_.skipped) == {n for n in CLIPS if utterance(n) == NO_VIDEO}
    assert run_.answers[next(n for n in CLIPS if utterance(n) == EMPTY)] == ""
    shown = metrics_of(log)
    first = log.results.scores[0]
    assert first.name == "sentiment_7" and first.metrics["emosign/headline_wAcc"].name == "wAcc"
    for scored in SCORED_TASKS["sentiment"]:
        result = evaluate(scored, run_.predictions(scored), labels_file=labels_file,
                          on_invalid="wrong", n_boot=N_BOOT)
        from_log = evaluate_log(run_, scored, labels_file=labels_file, n_boot=N_BOOT)
        for scores in (result, from_log):
            scores["predictions"].pop("source")  # a DataFrame here, records there
        assert result == from_log
        assert shown[scored]["wAcc"] == pytest.approx(result["metrics"]["balanced_accuracy"])
        assert shown[scored]["wF1"] == pytest.approx(result["metrics"]["weighted_f1"])
        assert shown[scored]["acc"] == pytest.approx(result["metrics"]["accuracy"])
        low, high = result["ci"]["intervals"]["balanced_accuracy"]
        assert (shown[scored]["wAcc_low"], shown[scored]["wAcc_high"]) == pytest.approx((low, high))
    # sentiment_7 is right on all clips but the wrong, unreadable, empty and missing ones
    assert shown["sentiment_7"]["acc"] == pytest.approx((len(CLIPS) - 4) / len(CLIPS))

    # The key is read from the environment and written nowhere (an .eval log is a zip).
    with zipfile.ZipFile(log_file(log)) as archive:
        assert not [m for m in archive.namelist() if KEY.encode() in archive.read(m)]
        assert any(b"stand-in" in archive.read(m) for m in archive.namelist())


def test_joint_run_in_the_paper_protocol_scores_every_task_of_its_answers(
        server, video_dir, labels_file, tmp_path):
    log = run(joint(video_dir=str(video_dir), labels_file=str(labels_file), protocol="paper",
                    n_boot=N_BOOT), tmp_path, log_format="json")
    assert log.status == "success"
    # the paper's protocol: no frame cap, its own wording, the clip's name in the prompt
    some = next(b for b in server.bodies if image_count(b) == frames_of(CLIPS[-1]))
    assert last_text(some) == get_protocol("paper").prompts["joint"].render(
        fps=10, video_name=CLIPS[-1])
    shown = metrics_of(log)
    assert set(shown) == set(SCORED_TASKS["joint"])
    assert {"microF1", "macroF1"} <= set(shown["emotion_presence"])
    assert {"MAE", "rho"} <= set(shown["emotion_intensity"])
    run_ = read_inspect_log(log_file(log))
    assert log_file(log).suffix == ".json" and run_.protocol == "paper"
    assert KEY.encode() not in log_file(log).read_bytes()
    for scored in SCORED_TASKS["joint"]:
        result = evaluate_log(run_, scored, labels_file=labels_file, n_boot=N_BOOT)
        for name, value in result["metrics"].items():
            short = {"balanced_accuracy": "wAcc", "weighted_f1": "wF1", "accuracy": "acc",
                     "micro_f1": "microF1", "macro_f1": "macroF1", "mae": "MAE",
                     "spearman": "rho"}.get(name)
            if short in shown[scored]:
                assert shown[scored][short] == pytest.approx(value, nan_ok=True), (scored, name)
    # emotion_single is scored on the single expression set only
    multi = next(s for s in log.samples if s.id not in SYNTHETIC_SINGLE)
    assert multi.scores["answer"].value["emotion_single"] == NOT_IN_TASK
    single = evaluate_log(run_, "emotion_single", labels_file=labels_file, n_boot=N_BOOT)
    assert single["n"] == len(SYNTHETIC_SINGLE)


def test_emotion_run_with_captions_skips_a_clip_without_one(server, video_dir, labels_file,
                                                             tmp_path):
    captions = tmp_path / "captions.csv"
    named = [n for n in SYNTHETIC_SINGLE if utterance(n) != 1007]
    captions.write_text("video_name,caption\n" + "".join(f"{n},I am signing {n}\n" for n in named),
                        encoding="utf-8")
    log = run(emotion(video_dir=str(video_dir), labels_file=str(labels_file),
                      captions_file=str(captions), n_boot=N_BOOT), tmp_path)
    assert log.status == "success"
    assert {s.id for s in log.samples} == set(SYNTHETIC_SINGLE)
    assert all("I am signing" in last_text(b) for b in server.bodies)
    run_ = read_inspect_log(log_file(log))
    assert run_.input == "video_caption"
    without = next(n for n in SYNTHETIC_SINGLE if utterance(n) == 1007)
    assert "no caption" in run_.skipped[without]
    result = evaluate_log(run_, "emotion_single", labels_file=labels_file, n_boot=N_BOOT)
    assert metrics_of(log)["emotion_single"]["wAcc"] == pytest.approx(
        result["metrics"]["balanced_accuracy"])
    assert without in result["predictions"]["missing"]


def test_an_unreadable_video_is_skipped_with_its_reason(server, video_dir, labels_file, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for path in video_dir.iterdir():
        (videos / path.name).write_bytes(path.read_bytes())
    broken = next(n for n in CLIPS if utterance(n) == 1005)
    (videos / "1005.mp4").write_bytes(b"not a video")
    log = run(sentiment(video_dir=str(videos), labels_file=str(labels_file), n_boot=N_BOOT),
              tmp_path, limit=6)
    assert log.status == "success" and len(server.bodies) == 4  # 1003: no file; 1005: unreadable
    sample = next(s for s in log.samples if s.id == broken)
    assert sample.scores["answer"].metadata["verdicts"]["sentiment_7"] == "missing"
    run_ = read_inspect_log(log_file(log))
    assert broken in run_.skipped and broken not in run_.answers
    assert "1005.mp4" in run_.skipped[broken]


def test_a_run_without_a_single_answer_scores_every_clip_wrong(server, video_dir, labels_file,
                                                                tmp_path):
    absent = next(n for n in CLIPS if utterance(n) == NO_VIDEO)
    log = run(joint(video_dir=str(video_dir), labels_file=str(labels_file), n_boot=N_BOOT),
              tmp_path, sample_id=[absent])
    assert log.status == "success" and server.bodies == []
    run_ = read_inspect_log(log_file(log))
    assert run_.answered == 0 and list(run_.skipped) == [absent]
    result = evaluate_log(run_, "sentiment_7", labels_file=labels_file, n_boot=N_BOOT)
    assert result["n"] == 1 and result["metrics"]["accuracy"] == 0
    assert metrics_of(log)["sentiment_7"]["acc"] == 0
    single = evaluate_log(run_, "emotion_single", labels_file=labels_file, n_boot=N_BOOT)
    assert single["n"] == 1 and single["metrics"]["balanced_accuracy"] == 0
    # a run without a clip of the scored task has no score for it
    multi = next(n for n in CLIPS if n not in SYNTHETIC_SINGLE)
    assert evaluate_readings("emotion_single", [multi], {}, labels_file=labels_file) is None


def test_a_limit_scores_the_clips_asked(server, video_dir, labels_file, tmp_path):
    log = run(sentiment(video_dir=str(video_dir), labels_file=str(labels_file), n_boot=N_BOOT),
              tmp_path, limit=5)
    assert len(log.samples) == 5 and len(server.bodies) == 4  # the 3rd clip has no video
    (path,) = find_inspect_logs([tmp_path / "logs"])
    results = score_inspect_logs([tmp_path / "logs", path], labels_file=labels_file)
    assert len(results["runs"]) == 1  # named twice, scored once
    (row, _) = results["rows"]
    assert row["model"] == MODEL and row["n"] == len(CLIPS) and row["answered"] == 4
    evaluation = results["runs"][0]["scores"]["sentiment_7"]["evaluation"]
    assert evaluation["n"] == 5 and evaluation["restricted_to"] == f"5 of the task's {len(CLIPS)} clips"
    assert metrics_of(log)["sentiment_7"]["wAcc"] == pytest.approx(
        evaluation["metrics"]["balanced_accuracy"])
    assert evaluation["ci"]["n_boot"] == N_BOOT  # the run's own


def test_a_failed_run_resumes_with_inspects_retry(server, video_dir, labels_file, tmp_path):
    broken = next(n for n in CLIPS if utterance(n) == 1008)

    def flaky(body):
        if CLIP_OF_FRAMES[image_count(body)] == broken:
            return Reply(status=400, text="scripted failure")
        return answer_from_table(body)

    server.answer = flaky
    log = run(sentiment(video_dir=str(video_dir), labels_file=str(labels_file), n_boot=N_BOOT),
              tmp_path, max_connections=1)
    assert log.status == "error"
    first = len(server.bodies)
    done = {s.id for s in log.samples or [] if s.error is None}
    server.answer = answer_from_table
    (retried,) = eval_retry(log, log_dir=str(tmp_path / "logs"), display="none", max_retries=0)
    assert retried.status == "success" and len(retried.samples) == len(CLIPS)
    asked_again = {CLIP_OF_FRAMES[image_count(b)] for b in server.bodies[first:]}
    assert not asked_again & done, "a clip answered before was asked again"
    assert broken in asked_again
    run_ = read_inspect_log(log_file(retried))
    assert run_.answered == len(CLIPS) - 1 and not run_.errors
    assert metrics_of(retried)["sentiment_7"]["acc"] == pytest.approx(
        evaluate_log(run_, "sentiment_7", labels_file=labels_file, n_boot=N_BOOT)["metrics"]["accuracy"])


def test_with_epochs_each_clip_is_scored_on_its_first_answer(server, video_dir, labels_file,
                                                             tmp_path):
    asked: dict[str, int] = {}

    def right_then_wrong(body):
        name = CLIP_OF_FRAMES[image_count(body)]
        asked[name] = asked.get(name, 0) + 1
        return Reply(text=table_answer("sentiment", name) if asked[name] == 1 else "Extremely Positive")

    server.answer = right_then_wrong
    log = run(sentiment(video_dir=str(video_dir), labels_file=str(labels_file), n_boot=N_BOOT),
              tmp_path, epochs=2, limit=6, max_connections=1)
    assert log.status == "success" and {s.epoch for s in log.samples} == {1, 2}
    run_ = read_inspect_log(log_file(log))
    first = {s.id: s.output.completion for s in log.samples if s.epoch == 1 and s.id in run_.answers}
    assert run_.answers == first
    for scored in SCORED_TASKS["sentiment"]:
        result = evaluate_log(run_, scored, labels_file=labels_file, n_boot=N_BOOT)
        assert metrics_of(log)[scored]["wAcc"] == pytest.approx(result["metrics"]["balanced_accuracy"])
        assert metrics_of(log)[scored]["acc"] == pytest.approx(result["metrics"]["accuracy"])


def test_a_sample_that_failed_counts_as_missing_for_emosign(server, video_dir, labels_file,
                                                            tmp_path):
    """As docs/inspect.md says: Inspect's metrics leave a failed sample out, emosign counts
    its clip as missing (wrong)."""
    broken = next(n for n in CLIPS if utterance(n) == 1008)
    server.answer = lambda body: (Reply(status=400, text="refused")
                                  if CLIP_OF_FRAMES[image_count(body)] == broken
                                  else answer_from_table(body))
    log = run(sentiment(video_dir=str(video_dir), labels_file=str(labels_file), n_boot=N_BOOT),
              tmp_path, fail_on_error=False)
    assert log.status == "success"
    run_ = read_inspect_log(log_file(log))
    assert list(run_.errors) == [broken] and broken not in run_.answers
    result = evaluate_log(run_, "sentiment_7", labels_file=labels_file, n_boot=N_BOOT)
    assert broken in result["predictions"]["missing"]
    right = result["metrics"]["accuracy"] * len(CLIPS)
    assert metrics_of(log)["sentiment_7"]["acc"] == pytest.approx(right / (len(CLIPS) - 1))


# --- refusing ------------------------------------------------------------------------------


def test_a_folder_without_any_clip_refuses_to_start(labels_file, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no clip of the sentiment task has a video"):
        make_task("sentiment", video_dir=str(tmp_path / "empty"), labels_file=str(labels_file))


@pytest.mark.parametrize("options, message", [
    ({"video_dir": None}, "video_dir is required"),
    ({"video_dir": "/nonexistent/videos"}, "is not a folder"),
    ({"protocol": "mine"}, "unknown protocol"),
    ({"input": "audio"}, "unknown input"),
    ({"input": "video_caption"}, "needs captions_file"),
    ({"max_frames": 0}, "max_frames must be"),
    ({"max_frames": "many"}, "max_frames must be"),
    ({"fps": -1}, "fps must be"),
    ({"max_side": 0}, "max_side must be"),
])
def test_wrong_options_are_refused_by_name(options, message, video_dir, labels_file):
    options = {"video_dir": str(video_dir), "labels_file": str(labels_file), **options}
    with pytest.raises(InputError, match=message):
        make_task("sentiment", **options)


def test_defaults_are_the_harness_and_protocols(video_dir, labels_file):
    task = make_task("emotion", video_dir=str(video_dir), labels_file=str(labels_file),
                     protocol="paper")
    settings = task.metadata["emosign"]["settings"]
    paper = get_protocol("paper")
    assert (settings["fps"], settings["max_frames"], settings["max_side"]) == (
        paper.fps, paper.max_frames, FrameConfig.max_side)
    task = make_task("emotion", video_dir=str(video_dir), labels_file=str(labels_file),
                     max_frames="none", max_side="none", fps=2.5)
    assert task.metadata["emosign"]["settings"] == {
        "fps": 2.5, "max_frames": None, "max_side": None, "jpeg_quality": 85}


def test_the_log_reader_refuses_what_is_not_an_emosign_log(server, tmp_path):
    from inspect_ai import Task
    from inspect_ai.dataset import Sample

    text = tmp_path / "notes.eval"
    text.write_text("not a log", encoding="utf-8")
    with pytest.raises(InputError, match="cannot read it as a log"):
        read_inspect_log(text)
    assert not is_inspect_log(text)
    predictions = tmp_path / "predictions.json"
    predictions.write_text('[{"video_name": "a", "prediction": "neutral"}]', encoding="utf-8")
    assert not is_inspect_log(predictions)
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not an Inspect log"):
        read_inspect_log(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError):
        read_inspect_log(tmp_path / "absent.eval")
    server.answer = lambda body: Reply(text="hello")
    other = run(Task(dataset=[Sample(input="hi", target="hello")], name="other"), tmp_path)
    assert is_inspect_log(log_file(other))
    with pytest.raises(InputError, match="not of an EmoSign task"):
        read_inspect_log(log_file(other))
    assert find_inspect_logs([tmp_path / "logs"]) == []
    with pytest.raises(FileNotFoundError, match="no Inspect log of an EmoSign task"):
        score_inspect_logs([tmp_path / "logs"])


def test_errors_are_emosigns():
    assert issubclass(MissingExtraError, EmosignError) and issubclass(InputError, ValueError)


def test_without_inspect_the_message_says_how_to_install_it():
    code = ("import sys; sys.modules['inspect_ai'] = None\n"
            "try:\n    import emosign.harness.inspect_tasks\n"
            "except Exception as err:\n    print(type(err).__name__, err)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": _pythonpath()})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("MissingExtraError") and 'pip install ".[inspect]"' in done.stdout


def test_without_inspect_the_log_reader_still_tells_predictions_from_logs(tmp_path):
    """emosign evaluate may ask is_inspect_log() of any .json: without inspect-ai a
    predictions file is simply not a log, and a log says how to install the extra."""
    predictions = tmp_path / "predictions.json"
    predictions.write_text('[{"video_name": "a", "prediction": "neutral"}]', encoding="utf-8")
    log = tmp_path / "run.json"
    log.write_text('{\n  "version": 2,\n  "status": "success",\n  "eval": {}}', encoding="utf-8")
    (tmp_path / "run.eval").write_bytes(b"PK")
    code = ("import sys; sys.modules['inspect_ai'] = None\n"
            "from emosign.harness.inspect_logs import is_inspect_log\n"
            f"print(is_inspect_log({str(predictions)!r}))\n"
            f"for name in ({str(log)!r}, {str(tmp_path / 'run.eval')!r}):\n"
            "    try:\n        is_inspect_log(name)\n"
            "    except Exception as err:\n        print(type(err).__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": _pythonpath()})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "MissingExtraError", "MissingExtraError"]


# --- the command line -----------------------------------------------------------------------


def _pythonpath(*extra: Path) -> str:
    """A subprocess's PYTHONPATH: emosign from where this process imports it (the installed
    package in CI; a source folder given on PYTHONPATH here), so that Inspect names the tasks
    as it does for an installed package (``emosign/...``)."""
    import emosign

    home = Path(emosign.__file__).resolve().parents[1]
    return os.pathsep.join([str(home), *map(str, extra), os.environ.get("PYTHONPATH", "")])


def _entry_point_folder(tmp_path: Path) -> list[Path]:
    """A folder whose dist-info declares the entry point, for an emosign installed without it
    (an editable install of an older checkout); none needed once it is installed."""
    from importlib.metadata import entry_points

    if any(ep.name == "emosign" for ep in entry_points(group="inspect_ai")):
        return []
    folder = tmp_path / "entry-point"
    info = folder / "emosign_inspect_entry_point-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: emosign-inspect-entry-point\n"
                                   "Version: 0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[inspect_ai]\nemosign = emosign.harness.inspect_tasks\n", encoding="utf-8")
    return [folder]


def test_pyproject_registers_the_tasks_with_inspect():
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["inspect_ai"] == {"emosign": "emosign.harness.inspect_tasks"}
    assert any(r.startswith("inspect-ai") for r in project["optional-dependencies"]["inspect"])


@pytest.mark.slow
def test_inspect_eval_on_the_command_line(server, video_dir, labels_file, tmp_path):
    inspect_command = Path(sys.executable).with_name("inspect")
    if not inspect_command.exists():
        pytest.skip("the inspect command is not installed beside this Python")
    env = {**os.environ, "PYTHONPATH": _pythonpath(*_entry_point_folder(tmp_path))}
    command = [str(inspect_command), "eval", "emosign/sentiment", "--model", MODEL,
               "-T", f"video_dir={video_dir}", "-T", f"labels_file={labels_file}",
               "-T", f"n_boot={N_BOOT}", "--limit", "5", "--log-dir", str(tmp_path / "cli"),
               "--display", "none", "--max-retries", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = find_inspect_logs([tmp_path / "cli"])
    run_ = read_inspect_log(path)
    assert len(run_.samples) == 5 and run_.answered == 4 and run_.model == MODEL
    assert len(server.bodies) == 4


def test_real_labels_build_every_task(real_labels, tmp_path):
    """With the released labels: 200 clips to ask for sentiment and joint, 140 for emotion."""
    videos = tmp_path / "videos"
    from emosign.labels import load_labels

    first = load_labels(real_labels).clips[0]
    write_mp4(videos / f"{first.utterance_id}.mp4", seconds=0.5)
    sizes = {name: len(make_task(name, video_dir=str(videos), labels_file=str(real_labels)).dataset)
             for name in ("sentiment", "emotion", "joint")}
    assert sizes == {"sentiment": 200, "emotion": 140, "joint": 200}



# --- docs/inspect.md, walked through --------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "inspect.md"
_BLOCK = re.compile(
    r"(?:<!--\s*readme-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*\n)?"
    r"```(?P<language>\w*)\n(?P<code>.*?)```", re.DOTALL)
#: The page's local server; the walk sends its requests to the stand-in instead.
DOC_SERVER = "http://localhost:8000/v1"


@pytest.mark.slow
def test_the_how_to_page_runs_as_written(server, video_dir, labels_file, tmp_path):
    """Every bash and python block of docs/inspect.md runs, in order, in one folder holding
    ``videos/``, against the stand-in (for the page's local server) and the synthetic labels
    (``EMOSIGN_LABELS``); blocks marked ``readme-test: skip`` are what this machine cannot do
    (install, a GPU, the network, a web server)."""
    folder = tmp_path / "walk"
    folder.mkdir()
    (folder / "videos").symlink_to(video_dir, target_is_directory=True)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PYTHONPATH": _pythonpath(*_entry_point_folder(tmp_path)),
           "EMOSIGN_LABELS": str(labels_file), "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    ran, skipped = 0, []
    for block in _BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        language, code = block["language"], block["code"]
        if language not in ("bash", "python"):
            continue
        if block["reason"]:
            skipped.append(block["reason"])
            continue
        if language == "bash":
            command = ["bash", "-e", "-o", "pipefail", "-c", code.replace(DOC_SERVER, server.url)]
        else:
            command = [sys.executable, "-c", code]
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{code}\n{done.stdout}\n{done.stderr}"
        ran += 1
    assert ran == 7 and len(skipped) == 4, (ran, skipped)
    logs = find_inspect_logs([folder / "logs"])
    assert sorted(read_inspect_log(p).task for p in logs) == ["joint", "sentiment"]
    scored = json.loads((folder / "scored" / "results.json").read_text(encoding="utf-8"))
    assert {row["prompt"] for row in scored["rows"]} == {"joint", "sentiment"}
    report = (folder / "report" / "report.md").read_text(encoding="utf-8")
    assert "openai-api/local/Qwen/Qwen2.5-VL-7B-Instruct (video, sentiment prompt)" in report
