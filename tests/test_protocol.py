"""The paper's protocol: its answer vocabulary, the prompt presets and prompt files, and the
LLM answer extraction (issue 12).

The paper's lists are written out here once, as the paper gives them (appendix A.2-A.4,
summarised in the project's paper_protocol.md), so that the package's vocabulary is checked
against an independent statement of them rather than against itself.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
from collections import Counter
from pathlib import Path

import pytest
from conftest import SYNTHETIC_ROWS, SYNTHETIC_SINGLE
from fakes import (
    CLIP_OF_FRAMES,
    NO_WAIT,
    FakeOpenAI,
    Reply,
    frames_of,
    row_of,
    true_sentiment,
    utterance,
    write_clips,
)

from emosign import vocab
from emosign.cli import main
from emosign.harness.answers import parse_joint, read_answer
from emosign.harness.client import OpenAIChat
from emosign.harness.extract import extract_answers
from emosign.harness.prompts import (
    DEFAULT_PROMPTS,
    EMOSIGN_MAX_FRAMES,
    MAX_PROMPT_FILE_BYTES,
    PAPER_PROMPTS,
    PROTOCOLS,
    VIDEO_FILE_PROMPTS,
    Prompt,
    PromptError,
    get_protocol,
    read_prompt_file,
    video_file_prompts,
)
from emosign.harness.runner import format_scores, message_prompt, run_mllm, score_run
from emosign.labels import read_labels
from emosign.metrics import evaluate
from emosign.predictions import parse_label

# The paper's sentiment prompt: its answer list, in order from -3 to +3.
PAPER_SENTIMENT = ("Extremely Negative", "Negative", "Somewhat Negative", "Neutral",
                   "Somewhat Positive", "Positive", "Extremely Positive")
# The ten emotion names as the paper's prompts spell them.
PAPER_EMOTIONS = ("joy", "excited", "surprise (positive)", "surprise (negative)", "worry",
                  "sadness", "fear", "disgust", "frustration", "anger")
# What each of them is on the single-expression set: joy and excited are happiness.
PAPER_EMOTION_SINGLE = ("happiness", "happiness", "surprise_pos", "surprise_neg", "worry",
                        "sadness", "fear", "disgust", "frustration", "anger")
FAST = {"n_boot": 200}
CLIPS = [row["video_name"] for row in SYNTHETIC_ROWS]


# --- the paper's answer vocabulary ---------------------------------------------------------


def test_the_vocabulary_holds_the_papers_lists():
    assert tuple(level.phrase for level in vocab.SENTIMENT_LEVELS) == PAPER_SENTIMENT
    assert [level.value for level in vocab.SENTIMENT_LEVELS] == list(range(-3, 4))
    assert tuple(e.prompt_name for e in vocab.EMOTIONS) == PAPER_EMOTIONS


@pytest.mark.parametrize("rating, phrase", list(zip(range(-3, 4), PAPER_SENTIMENT)))
def test_every_paper_sentiment_phrase_reads_on_both_sentiment_tasks(rating, phrase):
    for text in (phrase, phrase.lower(), phrase.upper(), f"**{phrase}**", f"[{phrase}]",
                 f"Sentiment: {phrase}", f"{phrase}."):
        assert parse_label(text, task="sentiment_7") == vocab.sentiment_7(rating), text
        assert parse_label(text, task="sentiment_3") == vocab.sentiment_3(rating), text
    readings = read_answer("sentiment", f"{phrase}\n\nThe signer frowns and signs slowly.")
    assert readings["sentiment_7"].cells == {"prediction": vocab.sentiment_7(rating)}
    assert readings["sentiment_3"].cells == {"prediction": vocab.sentiment_3(rating)}


@pytest.mark.parametrize("word, rating", [("Negative", -2), ("Positive", 2)])
def test_a_bare_polarity_is_a_point_on_seven_and_a_class_on_three(word, rating):
    assert parse_label(word, task="sentiment_7") == vocab.sentiment_7(rating)
    assert parse_label(word, task="sentiment_3") == word.lower()
    # A joint answer's sentiment in the paper's words is the same rating.
    joint = read_answer("joint", json.dumps({"Sentiment": word, "joy": "0"}))
    assert joint["sentiment_7"].cells == {"prediction": str(rating)}


@pytest.mark.parametrize("degree, rating", [("Somewhat", 1), ("Moderately", 2), ("Extremely", 3)])
def test_somewhat_and_moderately_both_read_each_on_its_own_point(degree, rating):
    for sign in (-1, 1):
        polarity = "Positive" if sign > 0 else "Negative"
        assert parse_label(f"{degree} {polarity}", task="sentiment_7") == vocab.sentiment_7(
            sign * rating
        )


def test_short_polarity_forms_stay_unreadable_on_seven_points():
    assert parse_label("neg", task="sentiment_7") is None
    assert parse_label("neg", task="sentiment_3") == "negative"
    # Two of the paper's phrases in one answer disagree: unreadable, not guessed.
    assert parse_label("Somewhat Negative or Negative", task="sentiment_7") is None


@pytest.mark.parametrize("name, single", list(zip(PAPER_EMOTIONS, PAPER_EMOTION_SINGLE)))
def test_every_paper_emotion_in_the_papers_format_reads(name, single):
    for text in (f"[{name}]", f"[{name.upper()}]", name, f"Answer: [{name}]"):
        assert parse_label(text, task="emotion_single") == single, text
        assert read_answer("emotion", text)["emotion_single"].cells == {"prediction": single}
    # The format's brackets find the label in prose that names other emotions too.
    prose = f"Sadness and worry both show, but the strongest is [{name}]."
    assert read_answer("emotion", prose)["emotion_single"].cells == {"prediction": single}


def test_a_surprise_without_its_valence_stays_unreadable_in_brackets():
    assert read_answer("emotion", "[surprise]")["emotion_single"].problem == "unreadable"


def paper_sample_answer(name: str, row: dict, explanation: str) -> str:
    """A joint answer in the paper's sample format: filename, Sentiment, the ten emotions as
    the paper spells them, QA; every value a string."""
    answer = {"filename": f"{name}.mp4", "Sentiment": str(row["Sentiment"])}
    for emotion in vocab.EMOTIONS:
        answer[emotion.prompt_name] = str(int(row[emotion.name]) - vocab.FILE_INTENSITY_OFFSET)
    answer["QA"] = explanation
    return json.dumps(answer)


def test_a_joint_answer_in_the_papers_sample_format_reads_every_field():
    row = next(r for r in SYNTHETIC_ROWS if r["video_name"].endswith("1003"))
    text = paper_sample_answer(row["video_name"], row, "Furrowed brows. Slow, heavy signs.")
    readings = read_answer("joint", text)
    assert all(reading.ok for reading in readings.values())
    assert readings["sentiment_7"].cells == {"prediction": "-2"}
    assert readings["emotion_single"].cells == {"prediction": "worry"}
    assert readings["emotion_intensity"].cells["worry"] == "3"
    assert readings["emotion_intensity"].cells["surprise_neg"] == "0"
    assert parse_joint(text).explanation == "Furrowed brows. Slow, heavy signs."


# --- the paper's words score as the numbers they stand for ---------------------------------


def write_predictions(path: Path, answers: dict[str, object]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["video_name", "prediction"])
        writer.writerows(answers.items())
    return path


def some_model_answers(labels) -> dict[str, int]:
    """A model's 7-point ratings: right on some clips, off by one to six on others, every
    point used, as a real model's answers are."""
    rng = random.Random(12)
    answers = {}
    for clip in labels:
        rating = clip.sentiment if rng.random() < 0.3 else rng.randint(-3, 3)
        answers[clip.video_name] = rating
    return answers


@pytest.mark.parametrize("which", ["synthetic", "released"])
def test_answers_in_the_papers_phrases_score_exactly_as_the_same_numbers(
    which, labels_file, request, tmp_path
):
    if which == "released":
        labels_file = request.getfixturevalue("real_labels")
    labels = read_labels(labels_file)
    ratings = some_model_answers(labels)
    phrases = write_predictions(
        tmp_path / "phrases.csv", {n: PAPER_SENTIMENT[r + 3] for n, r in ratings.items()}
    )
    numbers = write_predictions(tmp_path / "numbers.csv", ratings)
    for task in ("sentiment_7", "sentiment_3"):
        a = evaluate(task, phrases, labels_file=labels_file, on_invalid="wrong", **FAST)
        b = evaluate(task, numbers, labels_file=labels_file, on_invalid="wrong", **FAST)
        assert a["predictions"]["unparseable"] == [] == b["predictions"]["unparseable"]
        assert a["confusion_matrix"] == b["confusion_matrix"]
        for metric in ("balanced_accuracy", "weighted_f1", "accuracy"):
            assert a["metrics"][metric] == b["metrics"][metric], (task, metric)
    # The phrases the paper's list shares with no other reading were all used.
    used = {r for r in ratings.values()}
    assert {-2, 2} <= used


def test_paper_phrases_for_every_clip_score_perfectly(labels_file):
    labels = read_labels(labels_file)
    answers = {c.video_name: PAPER_SENTIMENT[c.sentiment + 3] for c in labels}
    result = evaluate("sentiment_7", answers, labels_file=labels_file, **FAST)
    assert result["metrics"]["accuracy"] == 1.0
    paper_name = {c.name: c.paper_name for c in vocab.EXPRESSION_CLASSES}
    emotions = {name: f"[{paper_name[label]}]" for name, label in SYNTHETIC_SINGLE.items()}
    result = evaluate("emotion_single", emotions, labels_file=labels_file, **FAST)
    assert result["metrics"]["accuracy"] == 1.0


# --- prompt presets ------------------------------------------------------------------------


def test_the_paper_preset_renders_the_facts_it_promises():
    paper = PROTOCOLS["paper"]
    assert paper.fps == 10.0 and paper.max_frames is None  # 10 fps, no frame cap
    sentiment = paper.prompts["sentiment"].render(fps=10)
    positions = [sentiment.index(phrase) for phrase in PAPER_SENTIMENT]
    # The seven options, in order; "Negative" is found past "Extremely Negative".
    assert positions == sorted(positions)
    assert sentiment.count("Negative") == 3 and "Moderately" not in sentiment
    assert "7-point" in sentiment and "10 frames per second" in sentiment

    emotion = paper.prompts["emotion"].render(fps=10)
    for name in PAPER_EMOTIONS:
        assert name in emotion
    assert "neutral" not in emotion.lower() and "[joy]" in emotion
    assert "happiness" not in emotion.lower()  # the ten unmerged emotions

    joint = paper.prompts["joint"].render(fps=10, video_name="clip_7")
    skeleton = json.loads(joint[joint.index("Format: ") + len("Format: "):])
    assert list(skeleton) == ["filename", "Sentiment", *PAPER_EMOTIONS, "QA"]
    assert all(isinstance(value, str) for value in skeleton.values())
    assert skeleton["filename"] == "clip_7"
    assert "neutral" not in joint.lower()

    # The caption goes inside the prompt, as given.
    with_caption = paper.prompts["sentiment"].render(fps=10, caption=" I lost my keys. ")
    assert '"I lost my keys."' in with_caption


def test_the_emosign_preset_keeps_its_choices_and_offers_the_papers_phrases():
    emosign = PROTOCOLS["emosign"]
    assert emosign.fps == 10.0 and emosign.max_frames == 48
    assert dict(emosign.prompts) == dict(DEFAULT_PROMPTS)
    sentiment = emosign.prompts["sentiment"].render(fps=10)
    positions = [sentiment.index(phrase) for phrase in PAPER_SENTIMENT]
    assert positions == sorted(positions)
    emotion = emosign.prompts["emotion"].render(fps=10)
    assert "Neutral" in emotion  # its own choice: a neutral option


def test_the_video_file_prompts_ask_the_protocols_questions_without_frame_wording():
    # For lmms-eval, whose model is handed the video file: no rate, no timestamps.
    assert video_file_prompts("emosign") == VIDEO_FILE_PROMPTS
    paper = video_file_prompts("paper")
    assert set(paper) == set(PAPER_PROMPTS)
    for task, prompt in paper.items():
        for caption in (None, "I lost my keys."):
            text = prompt.render(fps=10, caption=caption, video_name="clip_7")
            framed = PAPER_PROMPTS[task].render(fps=10, caption=caption, video_name="clip_7")
            assert "{" + "fps}" not in prompt.video + prompt.video_caption
            assert "frames per second" not in text and "seconds" not in text
            assert "frames per second" in framed
            # The same question, label set and answer format after the opening sentence(s).
            question = framed.split("\n\n", 1)[1]
            assert text.split("\n\n", 1)[1] == question and text != framed
            assert "order matters" in text and "American Sign Language" in text
        assert prompt.render(fps=10, video_name="a") == prompt.render(fps=2.5, video_name="a")
    assert paper["joint"].video.startswith("You are an expert on human emotions.")
    emotion = paper["emotion"].render(fps=0)
    assert "[joy]" in emotion and "neutral" not in emotion.lower()
    assert all(name in emotion for name in PAPER_EMOTIONS)
    with pytest.raises(ValueError, match=r"unknown protocol 'papers'; choose one of \['emosign', 'paper'\]"):
        video_file_prompts("papers")


def test_a_template_with_video_name_needs_one():
    prompt = Prompt(task="joint", video="{video_name}", video_caption="{caption}")
    assert prompt.render(fps=10, video_name="a") == "a"
    with pytest.raises(PromptError, match="video_name"):
        prompt.render(fps=10)
    assert get_protocol("paper") is PROTOCOLS["paper"]
    with pytest.raises(ValueError, match="unknown protocol 'papers'"):
        get_protocol("papers")


# --- prompt files --------------------------------------------------------------------------

EMOTION_TOML = '''\
task = "emotion"
video = """Frames at {fps} fps of {video_name}.
Which emotion? Answer in brackets, e.g. [joy]."""
video_caption = "Frames at {fps} fps. Translation: {caption}. Which emotion? Answer as [joy]."
'''
EMOTION_YAML = '''\
task: emotion
video: |-
  Frames at {fps} fps of {video_name}.
  Which emotion? Answer in brackets, e.g. [joy].
video_caption: "Frames at {fps} fps. Translation: {caption}. Which emotion? Answer as [joy]."
'''


def test_a_prompt_file_reads_as_toml_or_yaml_with_one_prompt_hash(tmp_path):
    toml = tmp_path / "p.toml"
    toml.write_text(EMOTION_TOML, encoding="utf-8")
    yaml = tmp_path / "p.yaml"
    yaml.write_text(EMOTION_YAML, encoding="utf-8")
    a, b = read_prompt_file(toml), read_prompt_file(yaml)
    assert a.prompt == b.prompt and a.prompt.sha256 == b.prompt.sha256
    assert a.sha256 == hashlib.sha256(toml.read_bytes()).hexdigest() != b.sha256
    assert a.prompt.render(fps=10, video_name="x").startswith("Frames at 10 fps of x.\n")


def test_on_python_3_10_a_toml_prompt_file_reads_through_tomli(tmp_path, monkeypatch):
    import sys
    from types import SimpleNamespace

    import tomllib

    from emosign.harness import prompts

    # Python 3.10 has no tomllib; the project then depends on tomli, which has its API.
    monkeypatch.setattr(prompts, "sys", SimpleNamespace(version_info=(3, 10, 0)))
    monkeypatch.setitem(sys.modules, "tomllib", None)  # `import tomllib` would fail
    monkeypatch.setitem(sys.modules, "tomli", tomllib)
    toml = tmp_path / "p.toml"
    toml.write_text(EMOTION_TOML, encoding="utf-8")
    assert read_prompt_file(toml).prompt.task == "emotion"
    toml.write_text("task = 'emotion\n", encoding="utf-8")
    with pytest.raises(PromptError, match="not valid TOML"):
        read_prompt_file(toml)


@pytest.mark.parametrize("name, content, fragment", [
    ("p.txt", EMOTION_TOML, "suffix '.txt'"),
    ("p.toml", EMOTION_TOML.replace('task = "emotion"', 'task = "sentiment_7"'), "harness task"),
    ("p.toml", EMOTION_TOML + 'videos = "x"\n', "unknown ['videos']"),
    ("p.toml", EMOTION_TOML.replace("video_caption =", "caption ="),
     "missing ['video_caption']"),
    ("p.toml", 'task = "emotion"\nvideo = 3\nvideo_caption = "{caption}"\n', "must be text"),
    ("p.toml", EMOTION_TOML.replace("{caption}", "{subtitle}"), "subtitle"),
    ("p.toml", "task = 'emotion\n", "not valid TOML"),
    ("p.yaml", "task: [emotion\n", "not valid YAML"),
    ("p.yaml", "- task\n- video\n", "not a list"),
    ("p.toml", b"task = '\xff'\n", "not UTF-8"),
])
def test_a_bad_prompt_file_gets_one_clear_error(tmp_path, name, content, fragment):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(PromptError) as err:
        read_prompt_file(path)
    assert fragment in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("template, fragment", [
    ("Rate {} it", "positional field"),
    ("Rate {0} it", "positional field"),
    ("At {fps:d} fps", "format spec ':d'"),
    ("At {fps:=10} fps", "format spec ':=10'"),
    ("Clip {video_name!z}", "conversion '!z'"),
    ("At {fps:{fps}} fps", "format spec"),
    ("At {fps.real} fps", "fps.real"),
    ("At {fps[0]} fps", "fps[0]"),
    ("At {fps:>30000000} fps", "1000000"),
    ("At {fps:>999999999999999999999999} fps", "1000000"),
    ("At " + "{fps:>600000}" * 2 + " fps", "1000000"),
])
def test_a_template_is_checked_when_the_file_is_read(tmp_path, template, fragment):
    # Issue 22, item 2: fields, conversions, format specs and the rendered size are checked
    # when the file is read, and the error names the file and the template; none of these
    # reaches a request as a traceback or as megabytes of padding.
    path = tmp_path / "p.toml"
    path.write_text(f"task = 'sentiment'\nvideo = '{template}'\n"
                    "video_caption = 'Say {caption}'\n", encoding="utf-8")
    with pytest.raises(PromptError) as err:
        read_prompt_file(path)
    message = str(err.value)
    assert fragment in message and str(path) in message and "'video' template" in message
    assert "\n" not in message


def test_a_template_with_harmless_format_specs_renders_as_checked(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("task = 'sentiment'\nvideo = 'At {fps:>4} fps, {video_name!r:.40}'\n"
                    "video_caption = 'Say {caption:s}'\n", encoding="utf-8")
    prompt = read_prompt_file(path).prompt
    assert prompt.render(fps=10, video_name="x") == "At   10 fps, 'x'"
    assert prompt.render(fps=10, caption=" hi ") == "Say hi"


def test_a_yaml_key_given_twice_is_refused(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(EMOTION_YAML + "task: sentiment\n", encoding="utf-8")
    with pytest.raises(PromptError) as err:
        read_prompt_file(path)
    message = str(err.value)
    assert str(path) in message and "'task' is given twice" in message and "line 6" in message


def test_a_prompt_file_that_is_no_regular_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(PromptError, match="not a regular file"):
        read_prompt_file(fifo)
    (tmp_path / "dir.toml").mkdir()
    with pytest.raises(PromptError, match="not a regular file"):
        read_prompt_file(tmp_path / "dir.toml")
    with pytest.raises(FileNotFoundError, match="prompt file not found"):
        read_prompt_file(tmp_path / "absent.toml")
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as f:
        f.truncate(MAX_PROMPT_FILE_BYTES + 1)
    with pytest.raises(PromptError, match=f"more than {MAX_PROMPT_FILE_BYTES} bytes"):
        read_prompt_file(huge)


# --- runs under a preset or a prompt file ---------------------------------------------------

LONG_CLIP = next(name for name in CLIPS if utterance(name) == 1001)
LONG_SECONDS = 6.0  # 60 frames at 10 fps: past the emosign preset's cap of 48


def clip_of(messages) -> str:
    """The clip a request is about, from its frame count (see fakes.write_clips)."""
    n = sum(part["type"] == "image_url" for part in messages[-1]["content"])
    if n in (10 * LONG_SECONDS, EMOSIGN_MAX_FRAMES):
        return LONG_CLIP
    return CLIP_OF_FRAMES[n]


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory) -> Path:
    """One mp4 per synthetic clip as fakes.write_clips writes it, but clip 1001 is 6 s long."""
    return write_clips(tmp_path_factory.mktemp("videos"),
                       seconds=lambda name: LONG_SECONDS if name == LONG_CLIP else
                       frames_of(name) / 10)


def paper_model(seen: list):
    """A local model answering as the paper asked: the sample format, phrases, [label]."""
    def answer(messages) -> str:
        name, prompt = clip_of(messages), message_prompt(messages)
        frames = sum(part["type"] == "image_url" for part in messages[-1]["content"])
        seen.append((name, frames, prompt))
        if '"QA"' in prompt:
            return paper_sample_answer(name, row_of(name), f"QA of {name}: raised brows.")
        if "Likert" in prompt or "seven phrases" in prompt:
            return PAPER_SENTIMENT[true_sentiment(name) + 3]
        label = SYNTHETIC_SINGLE[name]
        word = "joy" if label == "happiness" else label.replace("_pos", " (positive)")
        return f"[{word}]"
    return answer


def test_a_paper_protocol_run_reads_and_scores_every_answer(video_dir, labels_file, tmp_path):
    out, seen = tmp_path / "runs", []
    summary = run_mllm(model="m", task="joint", protocol="paper", client=paper_model(seen),
                       video_dir=video_dir, labels_file=labels_file, out=out, progress=False)
    assert summary.n_answered == 12
    frames = {name: n for name, n, _ in seen}
    assert frames[LONG_CLIP] == 10 * LONG_SECONDS  # no frame cap
    prompts = {name: prompt for name, _, prompt in seen}
    assert f'"filename": "{LONG_CLIP}"' in prompts[LONG_CLIP]
    manifest = json.loads(Path(summary.manifest_file).read_text())
    assert manifest["protocol"] == "paper" and manifest["prompt"]["file"] is None
    assert manifest["settings"]["fps"] == 10.0 and manifest["settings"]["max_frames"] is None
    assert manifest["prompt"]["sha256"] == PROTOCOLS["paper"].prompts["joint"].sha256

    results = score_run(out, labels_file=labels_file, n_boot=200)
    scores = results["runs"][0]["scores"]
    for scored in ("sentiment_7", "sentiment_3", "emotion_single"):
        assert scores[scored]["parse"]["parse_rate"] == 1.0, scored
        assert scores[scored]["evaluation"]["metrics"]["accuracy"] == 1.0, scored
    assert scores["emotion_intensity"]["evaluation"]["metrics"]["mae"] == 0.0
    # QA is the explanation, and cue grounding scores it.
    explanations = out / "m" / "joint.video.explanations.jsonl"
    lines = [json.loads(line) for line in explanations.read_text().splitlines()]
    assert {line["explanation"] for line in lines} == {f"QA of {n}: raised brows." for n in CLIPS}
    grounding = evaluate("cue_grounding", explanations, labels_file=labels_file, **FAST)
    assert grounding["n"] == 12


@pytest.mark.parametrize("task", ["sentiment", "emotion"])
def test_per_task_answers_in_the_papers_format_score_perfectly(task, video_dir, labels_file,
                                                              tmp_path):
    out, seen = tmp_path / "runs", []
    run_mllm(model="m", task=task, protocol="paper", client=paper_model(seen),
             video_dir=video_dir, labels_file=labels_file, out=out, progress=False)
    results = score_run(out, labels_file=labels_file, n_boot=200)
    for scored, entry in results["runs"][0]["scores"].items():
        assert entry["parse"]["parse_rate"] == 1.0, scored
        assert entry["evaluation"]["metrics"]["accuracy"] == 1.0, scored


def test_the_emosign_preset_caps_frames_and_options_override_a_preset(video_dir, labels_file,
                                                                      tmp_path):
    seen = []
    run_mllm(model="m", task="sentiment", client=paper_model(seen), video_dir=video_dir,
             labels_file=labels_file, out=tmp_path / "a", progress=False)
    assert {name: n for name, n, _ in seen}[LONG_CLIP] == EMOSIGN_MAX_FRAMES
    seen.clear()
    summary = run_mllm(model="m", task="sentiment", protocol="paper", max_frames=48,
                       client=paper_model(seen), video_dir=video_dir, labels_file=labels_file,
                       out=tmp_path / "b", progress=False)
    assert {name: n for name, n, _ in seen}[LONG_CLIP] == EMOSIGN_MAX_FRAMES
    manifest = json.loads(Path(summary.manifest_file).read_text())
    assert manifest["protocol"] == "paper" and manifest["settings"]["max_frames"] == 48


def test_a_run_with_a_prompt_file_records_its_hash(video_dir, labels_file, tmp_path):
    path = tmp_path / "emotion.toml"
    path.write_text(EMOTION_TOML, encoding="utf-8")
    out, seen = tmp_path / "runs", []
    summary = run_mllm(model="m", task="emotion", prompt_file=path, client=paper_model(seen),
                       video_dir=video_dir, labels_file=labels_file, out=out, progress=False)
    manifest = json.loads(Path(summary.manifest_file).read_text())
    assert manifest["prompt"]["file"] == {
        "path": str(path.resolve()), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()
    }
    assert manifest["prompt"]["sha256"] == read_prompt_file(path).prompt.sha256
    assert all(prompt == f"Frames at 10 fps of {name}.\nWhich emotion? Answer in brackets, "
               "e.g. [joy]." for name, _, prompt in seen)
    with pytest.raises(ValueError, match=f"prompt file {path} is for task 'emotion'"):
        run_mllm(model="m", task="sentiment", prompt_file=path, client=paper_model(seen),
                 video_dir=video_dir, labels_file=labels_file, out=out, progress=False)
    with pytest.raises(ValueError, match="not both"):
        run_mllm(model="m", task="emotion", prompt_file=path, prompt=DEFAULT_PROMPTS["emotion"],
                 client=paper_model(seen), video_dir=video_dir, labels_file=labels_file,
                 out=out, progress=False)


# --- LLM answer extraction, against a stand-in server ---------------------------------------

CODE_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
              "india", "juliett", "kilo", "lima")
CODE_OF = dict(zip(CLIPS, CODE_WORDS))
TRUE_PHRASE = {name: PAPER_SENTIMENT[true_sentiment(name) + 3] for name in CLIPS}
# Answers the rule reader cannot read, and what the text model makes of them.
UNREADABLE = [n for n in CLIPS if utterance(n) in (1003, 1005, 1008, 1010)]
EXTRACTED = {**{n: TRUE_PHRASE[n] for n in UNREADABLE}, UNREADABLE[-1]: "unknown"}


class ExtractingServer(FakeOpenAI):
    """The fake server, which also answers text-only requests (extraction) as a text model:
    it finds the clip by the code word in the answer it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.extractions: Counter = Counter()
        self.extraction_texts: list[str] = []

    def respond(self, body, headers) -> Reply:
        content = body["messages"][-1]["content"]
        if not isinstance(content, str):
            return super().respond(body, headers)
        clip = next(n for n in CLIPS if f"(ref {CODE_OF[n]})" in content)
        with self._lock:
            self.extractions[clip] += 1
            self.extraction_texts.append(content)
        return Reply(text=EXTRACTED.get(clip, TRUE_PHRASE[clip]))


@pytest.fixture
def text_server():
    stand_in = ExtractingServer().start()
    # Every answer names its clip by a code word; four cannot be read by the rules.
    stand_in.script = {
        name: [Reply(text=(f"The signer frowns hard (ref {CODE_OF[name]})" if name in UNREADABLE
                           else f"{TRUE_PHRASE[name]} (ref {CODE_OF[name]})"))]
        for name in CLIPS
    }
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def plain_videos(tmp_path_factory) -> Path:
    """The clips as fakes.write_clips writes them: clip 1000 + k has 5 + k frames at 10 fps."""
    return write_clips(tmp_path_factory.mktemp("plain-videos"))


def test_a_killed_extraction_resumes_without_asking_twice_and_scores_both_ways(
    text_server, plain_videos, labels_file, tmp_path, monkeypatch
):
    out = tmp_path / "runs"
    run_mllm(model="vlm", task="sentiment", base_url=text_server.url, video_dir=plain_videos,
             labels_file=labels_file, out=out, progress=False, retry=NO_WAIT)
    calls = Counter()
    ask = OpenAIChat.__call__

    def killed_after_two(self, messages):
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt  # as Ctrl-C would, in the middle of the extraction
        return ask(self, messages)

    with monkeypatch.context() as patch:
        patch.setattr(OpenAIChat, "__call__", killed_after_two)
        with pytest.raises(KeyboardInterrupt):
            extract_answers(out, model="text-llm", base_url=text_server.url, concurrency=1,
                            progress=False, retry=NO_WAIT)
    assert sum(text_server.extractions.values()) == 2
    record = json.loads((out / "vlm" / "sentiment.video.extract.json").read_text())
    assert record["status"] == "interrupted"

    [summary] = extract_answers(out, model="text-llm", base_url=text_server.url,
                                progress=False, retry=NO_WAIT)
    assert (summary.n_answers, summary.n_to_extract) == (12, 4)
    assert (summary.n_cached, summary.n_answered, summary.n_errors) == (2, 2, 0)
    # Only the unreadable answers were sent, each once, with the answer in the request.
    assert text_server.extractions == Counter({name: 1 for name in UNREADABLE})
    assert all('"""\nThe signer frowns hard' in text for text in text_server.extraction_texts)
    again = extract_answers(out, model="text-llm", base_url=text_server.url, progress=False)
    assert (again[0].n_cached, again[0].n_answered) == (4, 0)
    assert sum(text_server.extractions.values()) == 4

    results = score_run(out, labels_file=labels_file, n_boot=200)
    s7 = results["runs"][0]["scores"]["sentiment_7"]
    assert s7["parse"]["parsed"] == 8 and s7["parse"]["parse_rate"] == 8 / 12
    assert s7["evaluation"]["metrics"]["accuracy"] == pytest.approx(8 / 12)
    after = s7["extraction"]
    assert (after["model"], after["all_answers"], after["sent"], after["replied"]) == (
        "text-llm", False, 4, 4)
    assert after["parse"]["parsed"] == 11 and after["parse"]["parse_rate"] == 11 / 12
    assert after["parse"]["problems"] == {"unreadable": 1}
    assert after["evaluation"]["metrics"]["accuracy"] == pytest.approx(11 / 12)
    # The extracted predictions file rescores to the same numbers.
    rescored = evaluate("sentiment_7", out / after["predictions_file"], labels_file=labels_file,
                        on_invalid="wrong", **FAST)
    assert rescored["metrics"] == after["evaluation"]["metrics"]
    row = next(r for r in results["rows"] if r["task"] == "sentiment_3")
    assert row["parse_rate"] == 8 / 12 and row["extraction"]["parse_rate"] == 11 / 12
    table = format_scores(results)
    assert "66.7%" in table and "91.7%" in table and "+ 4 extracted by text-llm" in table


def test_extracting_every_answer_sends_the_rest_and_replaces_every_reading(
    text_server, plain_videos, labels_file, tmp_path
):
    out = tmp_path / "runs"
    run_mllm(model="vlm", task="sentiment", base_url=text_server.url, video_dir=plain_videos,
             labels_file=labels_file, out=out, progress=False, retry=NO_WAIT)
    extract_answers(out, model="text-llm", base_url=text_server.url, progress=False)
    [summary] = extract_answers(out, model="text-llm", base_url=text_server.url,
                                all_answers=True, progress=False)
    assert (summary.n_to_extract, summary.n_cached, summary.n_answered) == (12, 4, 8)
    assert text_server.extractions == Counter({name: 1 for name in CLIPS})
    results = score_run(out, labels_file=labels_file, n_boot=200)
    after = results["runs"][0]["scores"]["sentiment_7"]["extraction"]
    assert after["all_answers"] and after["sent"] == 12 and after["parse"]["parsed"] == 11
    # Another extraction model is another key: nothing of the first one's is reused.
    extract_answers(out, model="other-llm", base_url=text_server.url, progress=False)
    assert sum(text_server.extractions.values()) == 16


def test_mllm_run_with_extraction_then_score_on_the_command_line(
    text_server, plain_videos, labels_file, tmp_path, capsys
):
    out = tmp_path / "runs"
    code = main(["mllm", "run", "--model", "vlm", "--base-url", text_server.url,
                 "--task", "sentiment", "--protocol", "paper", "--video-dir", str(plain_videos),
                 "--labels-file", str(labels_file), "--out", str(out),
                 "--extract-with", "text-llm"])
    assert code == 0
    assert "4 of 12 answers to extract (unreadable) with text-llm" in capsys.readouterr().out
    manifest = json.loads((out / "vlm" / "sentiment.video.run.json").read_text())
    assert manifest["protocol"] == "paper" and manifest["settings"]["max_frames"] is None
    assert main(["mllm", "extract", str(out), "--model", "text-llm", "--base-url",
                 text_server.url, "--quiet"]) == 0
    assert "4 cached, 0 extracted now" in capsys.readouterr().out
    assert sum(text_server.extractions.values()) == 4
    assert main(["mllm", "score", str(out), "--labels-file", str(labels_file),
                 "--n-boot", "200"]) == 0
    table = capsys.readouterr().out
    assert "66.7%" in table and "91.7%" in table


@pytest.mark.parametrize("argv, fragment", [
    (["mllm", "extract", "{out}", "--model", "m", "--concurrency", "0"], "--concurrency"),
    (["mllm", "extract", "{missing}", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"],
     "run directory not found"),
    (["mllm", "run", "--model", "m", "--task", "emotion", "--video-dir", "{out}",
      "--max-frames", "0"], "--max-frames"),
    (["mllm", "run", "--model", "m", "--task", "emotion", "--video-dir", "{out}",
      "--prompt-file", "{out}"], "prompt file"),
    (["mllm", "run", "--model", "m", "--task", "emotion", "--video-dir", "{out}",
      "--protocol", "papers"], "--protocol"),
])
def test_bad_options_get_one_line_errors(argv, fragment, tmp_path, labels_file, capsys):
    argv = [a.format(out=tmp_path, missing=tmp_path / "none") for a in argv]
    if argv[1] == "run":
        argv += ["--labels-file", str(labels_file), "--base-url", "http://127.0.0.1:9/v1"]
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    assert code == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_an_empty_answer_is_never_sent_and_a_broken_record_is_named(
    plain_videos, labels_file, tmp_path
):
    empty, unreadable = CLIPS[0], CLIPS[1]

    def vlm(messages):
        name = CLIP_OF_FRAMES[sum(p["type"] == "image_url" for p in messages[-1]["content"])]
        return {empty: "", unreadable: "The signer frowns hard"}.get(name, TRUE_PHRASE[name])

    sent = []

    def text_model(messages):
        sent.append(messages[-1]["content"])
        return "Negative"

    out = tmp_path / "runs"
    run_mllm(model="vlm", task="sentiment", client=vlm, video_dir=plain_videos,
             labels_file=labels_file, out=out, progress=False)
    [summary] = extract_answers(out, model="t", client=text_model, all_answers=True,
                                progress=False)
    assert summary.n_to_extract == 11 and len(sent) == 11
    assert not any('"""\n\n"""' in text for text in sent)
    results = score_run(out, labels_file=labels_file, n_boot=200)
    parse = results["runs"][0]["scores"]["sentiment_7"]["extraction"]["parse"]
    assert parse["parsed"] == 11 and parse["problems"] == {"empty": 1}

    record = out / "vlm" / "sentiment.video.extract.json"
    record.write_text("{not json")
    with pytest.raises(ValueError, match=f"{record} is not an extraction record"):
        score_run(out, labels_file=labels_file, n_boot=200)


def test_an_extraction_reply_never_holds_the_key(plain_videos, labels_file, tmp_path,
                                                 monkeypatch):
    secret = "sk-test-EXTRACTION-SECRET"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    out = tmp_path / "runs"
    run_mllm(model="vlm", task="sentiment", client=lambda messages: "The signer frowns hard",
             video_dir=plain_videos, labels_file=labels_file, out=out, progress=False)

    calls = Counter()

    def echoing(messages):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError(f"bad key {secret}")  # an error line, scrubbed too
        return f"Negative, said the model holding {secret}"

    [summary] = extract_answers(out, model="t", client=echoing, concurrency=1, progress=False)
    assert (summary.n_answered, summary.n_errors) == (11, 1)
    written = b"".join(path.read_bytes() for path in (out / "vlm").iterdir())
    assert secret.encode() not in written and b"[redacted]" in written


def test_extraction_names_a_broken_run_record(plain_videos, labels_file, tmp_path, capsys):
    out = tmp_path / "runs"
    run_mllm(model="vlm", task="sentiment", client=lambda messages: "Negative",
             video_dir=plain_videos, labels_file=labels_file, out=out, progress=False)
    manifest = out / "vlm" / "sentiment.video.run.json"
    manifest.write_text("[1, 2")
    assert main(["mllm", "extract", str(out), "--model", "t", "--base-url",
                 "http://127.0.0.1:9/v1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"emosign: error: {manifest}, line 1: not a run manifest" in err
    assert len(err.strip().splitlines()) == 1
