"""The paper's protocol: its answer vocabulary, the prompt presets and prompt files, and the
LLM answer extraction (issue 12).

The paper's lists are written out here once, as the paper gives them (appendix A.2-A.4,
summarised in the project's paper_protocol.md), so that the package's vocabulary is checked
against an independent statement of them rather than against itself.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from conftest import SYNTHETIC_ROWS, SYNTHETIC_SINGLE

from emosign import vocab
from emosign.harness.answers import parse_joint, read_answer
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
