"""Tests for the MLLM harness: prompts, frames to messages, reading answers, runs against a
stand-in OpenAI-compatible server on 127.0.0.1, resuming, retries, the API key, scoring.

The stand-in server tells the clips apart by the number of frames a request holds: the clip
with utterance id 1000 + k is written (5 + k) / 10 s long, so it has 5 + k frames at 10 fps.
Nothing here reaches the internet, and backoff delays are zero.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import SYNTHETIC_SINGLE, write_mp4
from fakes import (
    CLIP_OF_FRAMES,
    CLIPS,
    FakeOpenAI,
    Reply,
    frames_of,
    joint_answer,
    true_answer,
    utterance,
    write_clips,
)

from emosign import vocab
from emosign.errors import EmosignError
from emosign.harness.answers import UNPARSEABLE, parse_joint, read_answer
from emosign.harness.client import (
    MLLMError,
    OpenAIChat,
    RequestError,
    TransientError,
    call_with_retries,
    retry_after_seconds,
)
from emosign.harness.config import RetryPolicy
from emosign.harness.prompts import DEFAULT_PROMPTS, Prompt, PromptError
from emosign.harness.runfiles import RunFiles, model_slug, read_cache
from emosign.harness.runner import (
    LocalModelFailed,
    RunStopped,
    build_messages,
    encode_jpeg,
    format_scores,
    message_frames,
    message_prompt,
    run_mllm,
    score_run,
)
from emosign.metrics import evaluate
from emosign.video import sample_frames

# The harness's extra (emosign[mllm]); the module imports them only when used.
pytest.importorskip("openai")
Image = pytest.importorskip("PIL.Image")

NO_WAIT = RetryPolicy(max_retries=3, base_delay=0.0, jitter=0.0)
N_BOOT = 200


# --- clips on disk -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def video_dir(tmp_path_factory) -> Path:
    """One mp4 per synthetic clip, named by utterance id, 20 fps, (5 + k) / 10 s long: the
    clips the fake server's scripted replies know by their frame count."""
    return write_clips(tmp_path_factory.mktemp("videos"))


@pytest.fixture
def videos(video_dir, tmp_path) -> Path:
    """A private copy of the clips, which a test may delete from."""
    copy = tmp_path / "videos"
    copy.mkdir()
    for path in video_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    return copy


def run(server, videos, labels_file, out, **options):
    options = {"model": "stand-in-vlm", "task": "joint", "retry": NO_WAIT, "progress": False,
               "concurrency": 3, **options}
    if "client" not in options:
        options.setdefault("base_url", server.url)
    return run_mllm(video_dir=videos, labels_file=labels_file, out=out, **options)


def all_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


# --- prompts -------------------------------------------------------------------------------


def test_default_prompts_ask_for_the_protocols_answers():
    joint = DEFAULT_PROMPTS["joint"].render(fps=10)
    for emotion in vocab.EMOTION_NAMES:
        assert f'"{emotion}"' in joint
    assert '"sentiment"' in joint and '"explanation"' in joint and "10 frames per second" in joint
    sentiment = DEFAULT_PROMPTS["sentiment"].render(fps=10)
    for level in vocab.SENTIMENT_LEVELS:
        assert level.phrase in sentiment
    emotion = DEFAULT_PROMPTS["emotion"].render(fps=2.5)
    assert "2.5 frames per second" in emotion
    for e in vocab.EMOTIONS:
        assert e.paper_name in emotion
    # Without a caption nothing mentions one; with it, it is quoted as given.
    assert "translation" not in joint
    with_caption = DEFAULT_PROMPTS["joint"].render(fps=10, caption="  I {lost} my keys. ")
    assert 'The English translation of the signing is: "I {lost} my keys."' in with_caption


def test_prompt_templates_are_checked():
    with pytest.raises(PromptError, match="caption"):
        Prompt(task="emotion", video="Which emotion?", video_caption="Which emotion?")
    with pytest.raises(PromptError, match="model"):
        Prompt(task="emotion", video="Which emotion, {model}?", video_caption="{caption}")
    with pytest.raises(PromptError, match="braces"):
        Prompt(task="joint", video='Reply {"sentiment": 0}', video_caption="{caption}")
    with pytest.raises(PromptError, match="harness task"):
        Prompt(task="sentiment_7", video="x", video_caption="{caption}")
    a = Prompt(task="emotion", video="Which emotion?", video_caption="{caption} Which?")
    b = Prompt(task="emotion", video="Which emotion? ", video_caption="{caption} Which?")
    assert a.sha256 != b.sha256 and len(a.sha256) == 64


# --- frames to messages --------------------------------------------------------------------


def test_frames_become_timestamped_jpeg_parts_in_order(tmp_path):
    # Frame i of the clip is a flat grey of level 8 * i: the pixels tell which frame was sent.
    path = write_mp4(tmp_path / "clip.mp4", seconds=2.0, fps=30, size=(64, 48))
    frames = sample_frames(path, fps=10)
    assert len(frames) == 20
    messages = build_messages(frames, "Which emotion?", max_side=512, jpeg_quality=90)
    assert [m["role"] for m in messages] == ["user"]
    parts = messages[0]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"] * 20 + ["text"]
    assert parts[-1]["text"] == "Which emotion?" == message_prompt(messages)
    times = [float(re.fullmatch(r"t=(\d+\.\d\d)s", p["text"]).group(1)) for p in parts[:-1:2]]
    assert times == sorted(times) and times[0] == 0.0 and times[1] == pytest.approx(0.1)
    for part, index in zip(parts[1::2], frames.indices):
        url = part["image_url"]["url"]
        assert url.startswith("data:image/jpeg;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert image.format == "JPEG" and image.size == (64, 48)  # never enlarged
        level = np.asarray(image.convert("L"), dtype=float).mean()
        assert abs(level - (8 * int(index)) % 256) < 4
    unpacked = message_frames(messages)
    assert [t for t, _ in unpacked] == times and unpacked[0][1].size == (64, 48)


def test_frame_cap_and_resolution_cap(tmp_path):
    path = write_mp4(tmp_path / "clip.mp4", seconds=2.0, fps=30, size=(64, 48))
    frames = sample_frames(path, fps=10, max_frames=8)
    parts = build_messages(frames, "?", max_side=32)[0]["content"]
    images = [p for p in parts if p["type"] == "image_url"]
    assert len(images) == 8
    image = Image.open(io.BytesIO(base64.b64decode(images[0]["image_url"]["url"].split(",")[1])))
    assert image.size == (32, 24)  # the aspect ratio is kept
    assert len(encode_jpeg(frames.array[0], max_side=None, quality=95)) > 0


# --- reading answers -----------------------------------------------------------------------

# (answer, sentiment_7 prediction or problem, emotion_single prediction or problem)
JOINT_SHAPES = [
    # 1 clean JSON, vocab names
    ('{"sentiment": -2, "joy": 0, "excited": 0, "surprise_pos": 0, "surprise_neg": 1, '
     '"worry": 3, "sadness": 1, "fear": 0, "disgust": 0, "frustration": 0, "anger": 0, '
     '"explanation": "Furrowed brows. Slow signs."}', "-2", "worry"),
    # 2 fenced block after prose
    ('Here is my analysis.\n```json\n{"sentiment": 3, "joy": 3, "excited": 2, "surprise_pos": 1,'
     ' "surprise_neg": 0, "worry": 0, "sadness": 0, "fear": 0, "disgust": 0, "frustration": 0,'
     ' "anger": 0, "explanation": "Big smile."}\n```\nLet me know!', "3", "happiness"),
    # 3 inside prose, no fence
    ('Based on the frames, {"sentiment": 1, "joy": 1, "excited": 0, "surprise_pos": 0, '
     '"surprise_neg": 0, "worry": 0, "sadness": 0, "fear": 0, "disgust": 0, "frustration": 0, '
     '"anger": 0, "explanation": "A slight smile {t=0.3s}."} is my answer.', "1", "happiness"),
    # 4 trailing commas
    ('{"sentiment": -1, "joy": 0, "excited": 0, "surprise_pos": 0, "surprise_neg": 0, '
     '"worry": 0, "sadness": 0, "fear": 0, "disgust": 0, "frustration": 1, "anger": 0,}',
     "-1", "frustration"),
    # 5 single quotes, Python None
    ("{'sentiment': -3, 'joy': 0, 'excited': 0, 'surprise_pos': 0, 'surprise_neg': 0, "
     "'worry': 0, 'sadness': 0, 'fear': 0, 'disgust': 0, 'frustration': 2, 'anger': 3, "
     "'explanation': None}", "-3", "anger"),
    # 6 numbers as strings, signed
    ('{"sentiment": "+2", "joy": "2", "excited": "3", "surprise_pos": "0", "surprise_neg": "0",'
     ' "worry": "0", "sadness": "0", "fear": "0", "disgust": "0", "frustration": "0", '
     '"anger": "0"}', "2", "happiness"),
    # 7 the paper's spellings as keys
    ('{"Sentiment": 0, "Joy": 0, "Excited": 0, "Surprise (positive)": 0, '
     '"Surprise (negative)": 2, "Worry": 0, "Sadness": 0, "Fear": 0, "Disgust": 0, '
     '"Frustration": 0, "Anger": 0, "Explanation": "Eyes widen."}', "0", "surprise_neg"),
    # 8 other key spellings
    ('{"sentiment_score": 1, "joy_intensity": 0, "excitement": 0, "surprise_positive": 2, '
     '"surprise_negative": 0, "worried": 0, "sad": 0, "afraid": 0, "disgusted": 0, '
     '"frustrated": 0, "angry": 0, "reasoning": "Raised brows."}', "1", "surprise_pos"),
    # 9 nested emotions
    ('{"sentiment": -2, "emotions": {"joy": 0, "excited": 0, "surprise_pos": 0, '
     '"surprise_neg": 0, "worry": 2, "sadness": 2, "fear": 0, "disgust": 0, "frustration": 0,'
     ' "anger": 0}, "explanation": "Downturned mouth."}', "-2", "ambiguous"),
    # 10 a list of {emotion, intensity}
    ('{"sentiment": -1, "emotions": [{"emotion": "Joy", "intensity": 0}, {"emotion": "Excited",'
     ' "intensity": 0}, {"emotion": "Surprise (positive)", "intensity": 0}, {"emotion": '
     '"Surprise (negative)", "intensity": 0}, {"emotion": "Worry", "intensity": 0}, '
     '{"emotion": "Sadness", "intensity": 0}, {"emotion": "Fear", "intensity": 0}, '
     '{"emotion": "Disgust", "intensity": 3}, {"emotion": "Frustration", "intensity": 1}, '
     '{"emotion": "Anger", "intensity": 0}]}', "-1", "disgust"),
    # 11 "happy" instead of joy and excited: happiness for the merged task only
    ('{"sentiment": 2, "happy": 3, "surprise_pos": 0, "surprise_neg": 0, "worry": 0, '
     '"sadness": 0, "fear": 0, "disgust": 0, "frustration": 0, "anger": 1}', "2", "happiness"),
    # 12 all zero: neutral
    ('{"sentiment": 0, "joy": 0, "excited": 0, "surprise_pos": 0, "surprise_neg": 0, '
     '"worry": 0, "sadness": 0, "fear": 0, "disgust": 0, "frustration": 0, "anger": 0}',
     "0", "neutral"),
    # 13 sentiment as a phrase, fractional ratings
    ('{"sentiment": "Moderately Negative", "joy": 0, "excited": 0, "surprise_pos": 0, '
     '"surprise_neg": 0, "worry": 1.5, "sadness": 0.5, "fear": 0, "disgust": 0, '
     '"frustration": 0, "anger": 0}', "-2", "worry"),
    # 14 a fractional rating kept as given
    ('{"sentiment": -1.5, "joy": 0, "excited": 0, "surprise_pos": 0, "surprise_neg": 0, '
     '"worry": 0, "sadness": 2, "fear": 0, "disgust": 0, "frustration": 0, "anger": 0}',
     "-1.5", "sadness"),
    # 15 sentiment off the scale: invalid, never clipped
    ('{"sentiment": 5, "joy": 3, "excited": 0, "surprise_pos": 0, "surprise_neg": 0, '
     '"worry": 0, "sadness": 0, "fear": 0, "disgust": 0, "frustration": 0, "anger": 0}',
     "invalid", "happiness"),
    # 16 an intensity off the scale
    ('{"sentiment": -3, "joy": 0, "excited": 0, "surprise_pos": 0, "surprise_neg": 0, '
     '"worry": 0, "sadness": 0, "fear": 0, "disgust": 0, "frustration": 0, "anger": 4}',
     "-3", "invalid"),
    # 17 cut off by a token limit: what was written is read
    ('{\n  "sentiment": -2,\n  "joy": 0,\n  "excited": 0,\n  "surprise_pos', "-2", "incomplete"),
    # 18 cut off on one line
    ('{"sentiment": 1, "joy": 1, "excited": 0, "surpr', "1", "incomplete"),
    # 19 a markdown list instead of JSON
    ("**Sentiment:** -1 (Somewhat Negative)\n- Joy: 0\n- Excited: 0\n- Surprise (positive): 0\n"
     "- Surprise (negative): 0\n- Worry: 2\n- Sadness: 1\n- Fear: 0\n- Disgust: 0\n"
     "- Frustration: 0\n- Anger: 0\n**Explanation:** The brows are drawn together.",
     "-1", "worry"),
    # 20 unquoted keys
    ("{sentiment: 2, joy: 2, excited: 1, surprise_pos: 0, surprise_neg: 0, worry: 0, "
     "sadness: 0, fear: 0, disgust: 0, frustration: 0, anger: 0}", "2", "happiness"),
    # 21 curly quotes
    ("{\u201csentiment\u201d: -1, \u201cjoy\u201d: 0, \u201cexcited\u201d: 0, "
     "\u201csurprise_pos\u201d: 0, \u201csurprise_neg\u201d: 0, \u201cworry\u201d: 0, "
     "\u201csadness\u201d: 1, \u201cfear\u201d: 0, \u201cdisgust\u201d: 0, "
     "\u201cfrustration\u201d: 0, \u201canger\u201d: 0}", "-1", "sadness"),
    # 22 a refusal
    ("I'm sorry, but I can't help with identifying emotions of people in videos.",
     "refusal", "refusal"),
    # 23 nothing readable
    ("The signer appears calm and tells a story about a trip.", "unreadable", "unreadable"),
    # 24 empty
    ("", "empty", "empty"),
    # 25 a key given twice with different values
    ('{"sentiment": 1, "Sentiment": -1, "joy": 0, "excited": 0, "surprise_pos": 0, '
     '"surprise_neg": 0, "worry": 0, "sadness": 0, "fear": 0, "disgust": 0, "frustration": 0,'
     ' "anger": 1}', "invalid", "anger"),
    # 26 intensities in words and "n/3"
    ('{"sentiment": -2, "joy": "none", "excited": "not present", "surprise_pos": "0/3", '
     '"surprise_neg": "0", "worry": "2/3", "sadness": "3 (extremely present)", "fear": 0, '
     '"disgust": 0, "frustration": 0, "anger": 0}', "-2", "sadness"),
    # 27 nested sentiment object
    ('{"sentiment": {"score": -3, "label": "extremely negative"}, "joy": 0, "excited": 0, '
     '"surprise_pos": 0, "surprise_neg": 0, "worry": 0, "sadness": 0, "fear": 3, "disgust": 0,'
     ' "frustration": 0, "anger": 0}', "-3", "fear"),
    # 28 Table 4 codes as keys, two JSON objects (the first readable one counts)
    ('{"sentiment": 1, "HP": 2} {"sentiment": 1, "joy": 0, "excited": 0, "SP(P)": 2, '
     '"SP(N)": 0, "WR": 0, "SD": 0, "FR": 0, "DG": 0, "FS": 0, "AG": 0}', "1", "incomplete"),
]


@pytest.mark.parametrize("text, sentiment, emotion", JOINT_SHAPES)
def test_joint_answer_shapes(text, sentiment, emotion):
    readings = read_answer("joint", text)
    assert list(readings) == ["sentiment_7", "sentiment_3", "emotion_single",
                              "emotion_presence", "emotion_intensity"]
    for task, expected in (("sentiment_7", sentiment), ("emotion_single", emotion)):
        reading = readings[task]
        if expected in ("invalid", "incomplete", "ambiguous", "refusal", "unreadable", "empty"):
            assert reading.problem == expected, (task, reading)
            assert reading.cells["prediction"] == UNPARSEABLE
        else:
            assert reading.ok, (task, reading)
            assert reading.cells["prediction"] == expected


def test_joint_answer_fields_in_detail():
    answer = parse_joint(JOINT_SHAPES[0][0])
    assert answer.sentiment == -2 and answer.explanation == "Furrowed brows. Slow signs."
    assert answer.intensities == (0, 0, 0, 1, 3, 1, 0, 0, 0, 0)
    assert answer.missing == () and answer.invalid == ()
    readings = read_answer("joint", JOINT_SHAPES[0][0])
    assert readings["sentiment_3"].cells == {"prediction": "negative"}
    assert readings["emotion_presence"].cells["worry"] == "1"
    assert readings["emotion_presence"].cells["joy"] == "0"
    assert readings["emotion_intensity"].cells["worry"] == "3"
    # "happy" stands for the merged class only: joy and excited stay unknown.
    happy = read_answer("joint", JOINT_SHAPES[10][0])
    assert happy["emotion_intensity"].problem == "incomplete"
    assert happy["emotion_intensity"].cells["joy"] == UNPARSEABLE
    assert happy["emotion_intensity"].cells["anger"] == "1"
    # An invalid intensity spoils only its own cell.
    off_scale = read_answer("joint", JOINT_SHAPES[15][0])["emotion_intensity"]
    assert off_scale.problem == "invalid" and "anger=4" in off_scale.detail
    assert off_scale.cells["anger"] == UNPARSEABLE and off_scale.cells["joy"] == "0"


# (harness task, answer, {scored task: prediction, or a problem kind})
LABEL_SHAPES = [
    ("sentiment", "Moderately Negative", {"sentiment_7": "moderately_negative",
                                          "sentiment_3": "negative"}),
    ("sentiment", "extremely positive.", {"sentiment_7": "extremely_positive"}),
    ("sentiment", "**Somewhat Positive**\n\nThe signer smiles slightly.",
     {"sentiment_7": "somewhat_positive"}),
    ("sentiment", "Sentiment: Neutral", {"sentiment_7": "neutral", "sentiment_3": "neutral"}),
    ("sentiment", "The sentiment is Slightly Negative.", {"sentiment_7": "somewhat_negative"}),
    ("sentiment", "Moderately Negative\nThe signer does not smile and frowns.",
     {"sentiment_7": "moderately_negative"}),
    ("sentiment", "Answer: Extremely Negative", {"sentiment_7": "extremely_negative"}),
    ("sentiment", '{"sentiment": "Moderately Positive", "reason": "not angry"}',
     {"sentiment_7": "moderately_positive"}),
    ("sentiment", "Negative", {"sentiment_7": "moderately_negative", "sentiment_3": "negative"}),
    ("sentiment", "Somewhat Positive or Moderately Positive",
     {"sentiment_7": "unreadable", "sentiment_3": "positive"}),
    ("sentiment", "I cannot determine the sentiment from these frames.",
     {"sentiment_7": "refusal", "sentiment_3": "refusal"}),
    ("sentiment", "   ", {"sentiment_7": "empty"}),
    # A number off the -3...3 scale is invalid, as in a joint answer (not clipped to 3).
    ("sentiment", "9", {"sentiment_7": "invalid", "sentiment_3": "invalid"}),
    ("sentiment", '{"sentiment": 9}', {"sentiment_7": "invalid"}),
    ("sentiment", "Sentiment: -2", {"sentiment_7": "moderately_negative"}),
    ("sentiment", '{"sentiment": "Neutral", "sentiment_confidence": 90}', {"sentiment_7": "neutral"}),
    ("sentiment", '{"sentiment": "Somewhat Positive", "sentiment_score": 75}',
     {"sentiment_7": "somewhat_positive", "sentiment_3": "positive"}),
    ("emotion", "Sadness", {"emotion_single": "sadness"}),
    ("emotion", "joy", {"emotion_single": "happiness"}),
    ("emotion", "Excited", {"emotion_single": "happiness"}),
    ("emotion", "Happy", {"emotion_single": "happiness"}),
    ("emotion", "Surprise (positive)", {"emotion_single": "surprise_pos"}),
    ("emotion", "The signer appears frustrated.", {"emotion_single": "frustration"}),
    ("emotion", "Neutral", {"emotion_single": "neutral"}),
    ("emotion", "**Worry**\n\nFurrowed brows; the signer is not calm.",
     {"emotion_single": "worry"}),
    ("emotion", '```json\n{"emotion": "Fear"}\n```', {"emotion_single": "fear"}),
    ("emotion", "Sadness and anger", {"emotion_single": "unreadable"}),
    ("emotion", "Frustration, Anger", {"emotion_single": "unreadable"}),
    ("emotion", "Surprise", {"emotion_single": "unreadable"}),  # which valence?
    ("emotion", "I'm sorry, I can't identify emotions in videos.", {"emotion_single": "refusal"}),
]


@pytest.mark.parametrize("task, text, expected", LABEL_SHAPES)
def test_label_answer_shapes(task, text, expected):
    readings = read_answer(task, text)
    for scored, want in expected.items():
        reading = readings[scored]
        if want in ("unreadable", "refusal", "empty", "invalid"):
            assert reading.problem == want, reading
            assert reading.cells == {"prediction": UNPARSEABLE}
        else:
            assert reading.ok and reading.cells == {"prediction": want}, reading


def test_the_parser_table_is_large():
    assert len(JOINT_SHAPES) + len(LABEL_SHAPES) >= 30


# --- retries -------------------------------------------------------------------------------


def test_retry_policy_backs_off_exponentially_and_honours_retry_after():
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0.0)
    assert [policy.delay(i, None) for i in range(4)] == [0.5, 1.0, 2.0, 3.0]
    assert policy.delay(0, 7.0) == 7.0
    assert RetryPolicy(max_retry_after=10).delay(0, 3600) == 10
    jittered = RetryPolicy(base_delay=1.0, jitter=0.25).delay(0, None)
    assert 1.0 <= jittered <= 1.25


def test_call_with_retries_sleeps_as_told_then_gives_up():
    slept = []
    replies = [TransientError("429", retry_after=7.0), TransientError("503"), "Sadness"]

    def chat(messages):
        reply = replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    policy = RetryPolicy(max_retries=2, base_delay=0.5, jitter=0.0)
    assert call_with_retries(chat, [], retry=policy, sleep=slept.append) == ("Sadness", 3)
    assert slept == [7.0, 1.0]

    def always_busy(messages):
        raise TransientError("HTTP 503: busy")

    with pytest.raises(RequestError, match="gave up after 3 attempt") as caught:
        call_with_retries(always_busy, [], retry=policy, sleep=slept.append)
    assert caught.value.attempts == 3


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"Retry-After": "-5"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past
    ],
)
def test_retry_after_header(headers, expected):
    assert retry_after_seconds(headers) == expected


def test_retry_after_http_date_in_the_future():
    from email.utils import formatdate

    seconds = retry_after_seconds({"Retry-After": formatdate(time.time() + 3600, usegmt=True)})
    assert 3000 < seconds <= 3600


# --- runs against the stand-in server ------------------------------------------------------


def test_full_run_then_score(server, videos, labels_file, tmp_path):
    names = {utterance(n): n for n in CLIPS}
    fenced = f"Sure! Here it is:\n```json\n{joint_answer(names[1002])}\n```"
    messy = joint_answer(names[1004]).replace('"', "'").replace("}", ",}")
    server.script = {
        names[1002]: [Reply(text=fenced)],
        names[1003]: [Reply(text="I'm sorry, but I can't help with that.")],
        names[1004]: [Reply(text=messy)],
        names[1005]: [Reply(text="The signer seems calm.")],
        names[1006]: [Reply(429, headers={"Retry-After": "0"}), Reply(500)],
    }
    (videos / "1007.mp4").unlink()
    out = tmp_path / "runs"
    summary = run(server, videos, labels_file, out, progress=True)

    counts = (summary.n_clips, summary.n_cached, summary.n_answered, summary.n_errors)
    assert counts == (12, 0, 11, 1)
    assert summary.errors[0].video_name == names[1007] and summary.errors[0].kind == "video"
    assert names[1007] in summary.errors[0].message
    assert server.requests[names[1006]] == 3 and server.answered[names[1006]] == 1
    assert names[1007] not in server.requests
    assert all(server.requests[n] == 1 for n in CLIPS if utterance(n) not in (1006, 1007))

    # The cache: one line per request outcome, with what was sent.
    records = read_cache(summary.cache_file)
    assert len(records) == 12
    by_clip = {r["video_name"]: r for r in records}
    assert by_clip[names[1006]]["attempts"] == 3 and by_clip[names[1006]]["status"] == "ok"
    first = by_clip[names[1001]]
    assert first["frames"] == frames_of(names[1001]) == len(first["timestamps"])
    assert first["timestamps"] == sorted(first["timestamps"])
    assert first["prompt_sha256"] == hashlib.sha256(first["prompt"].encode()).hexdigest()
    assert first["response"] == joint_answer(names[1001])
    assert first["settings"]["fps"] == 10.0 and first["model"] == "stand-in-vlm"
    assert by_clip[names[1007]]["status"] == "error" and by_clip[names[1007]]["response"] is None
    assert f"no video file in {videos}" in by_clip[names[1007]]["error"]["message"]
    assert (out / "stand-in-vlm" / "joint.video.run.json").stat().st_mode & 0o777 != 0o600
    manifest = json.loads(Path(summary.manifest_file).read_text())
    assert manifest["status"] == "finished"
    assert manifest["prompt"]["sha256"] == DEFAULT_PROMPTS["joint"].sha256 == summary.prompt_sha256
    assert manifest["prompt"]["video"] == DEFAULT_PROMPTS["joint"].video

    # A second run finds everything answered; only the clip without a video is tried again.
    again = run(server, videos, labels_file, out)
    assert (again.n_cached, again.n_answered, again.n_errors) == (11, 0, 1)
    assert sum(server.requests.values()) == 13

    results = score_run(out, labels_file=labels_file, n_boot=N_BOOT)
    assert json.loads((out / "results.json").read_text()) == results
    scores = results["runs"][0]["scores"]
    s7 = scores["sentiment_7"]
    assert s7["parse"] == {"n": 12, "answered": 11, "parsed": 9, "unparseable": 2, "missing": 1,
                           "parse_rate": 9 / 11, "problems": {"refusal": 1, "unreadable": 1}}
    assert s7["evaluation"]["metrics"]["accuracy"] == pytest.approx(9 / 12)
    unparseable = s7["evaluation"]["predictions"]["unparseable"]
    assert sorted(unparseable) == sorted([names[1003], names[1005]])
    assert s7["evaluation"]["predictions"]["missing"] == [names[1007]]
    single = scores["emotion_single"]
    assert single["parse"]["n"] == 8 and single["parse"]["parsed"] == 5
    assert single["evaluation"]["metrics"]["accuracy"] == pytest.approx(5 / 8)
    assert scores["emotion_intensity"]["evaluation"]["metrics"]["mae"] > 0  # 3 clips wrong
    assert results["runs"][0]["errors"] == 1

    # Every predictions file rescores to the same numbers with emosign.metrics.evaluate.
    for scored, entry in scores.items():
        path = out / entry["predictions_file"]
        assert path.parent == out / model_slug("stand-in-vlm")
        rescored = evaluate(
            scored, path, labels_file=labels_file, on_invalid="wrong", n_boot=N_BOOT
        )
        assert rescored["metrics"] == entry["evaluation"]["metrics"]
    explanations = out / "stand-in-vlm" / "joint.video.explanations.jsonl"
    first_line = explanations.read_text().splitlines()[0]
    assert json.loads(first_line)["explanation"] == "Raised eyebrows at t=0.2s. Large, fast signs."

    table = format_scores(results)
    assert "stand-in-vlm" in table and "81.8%" in table and "wAcc" in table


def test_interrupted_run_resumes_without_asking_twice(server, videos, labels_file, tmp_path):
    chat = OpenAIChat(model="stand-in-vlm", base_url=server.url)
    calls = Counter()
    lock = threading.Lock()

    def killed_after_five(messages):
        with lock:
            calls["n"] += 1
            killed = calls["n"] > 5
        if killed:
            raise KeyboardInterrupt  # as Ctrl-C would, in the middle of the run
        return chat(messages)

    out = tmp_path / "runs"
    with pytest.raises(KeyboardInterrupt):
        run(server, videos, labels_file, out, client=killed_after_five, concurrency=2)
    before = read_cache(out / "stand-in-vlm" / "joint.video.jsonl")
    assert 5 <= len(before) < 12 and all(r["status"] == "ok" for r in before)
    manifest = json.loads((out / "stand-in-vlm" / "joint.video.run.json").read_text())
    assert manifest["status"] == "interrupted"

    summary = run(server, videos, labels_file, out, client=chat)
    assert summary.n_cached == len(before) and summary.n_answered == 12 - len(before)
    after = read_cache(summary.cache_file)
    assert after[: len(before)] == before  # nothing lost or rewritten
    assert Counter(r["video_name"] for r in after) == Counter(CLIPS)
    assert all(server.answered[name] == 1 for name in CLIPS)  # no clip was answered twice


def test_a_dead_server_costs_error_lines_only(server, videos, labels_file, tmp_path):
    out = tmp_path / "runs"
    chat = OpenAIChat(model="stand-in-vlm", base_url=server.url)
    calls = 0

    def server_dies_after_four(messages):
        nonlocal calls
        calls += 1
        if calls == 5:
            server.stop()
        return chat(messages)

    first = run(server, videos, labels_file, out, client=server_dies_after_four, concurrency=1,
                retry=RetryPolicy(max_retries=1, base_delay=0.0, jitter=0.0))
    assert (first.n_answered, first.n_errors) == (4, 8)
    assert all(e.kind == "request" and "connection failed" in e.message for e in first.errors)

    revived = FakeOpenAI().start()
    try:
        chat = OpenAIChat(model="stand-in-vlm", base_url=revived.url)
        second = run(revived, videos, labels_file, out, client=chat)
    finally:
        revived.stop()
    assert (second.n_cached, second.n_answered, second.n_errors) == (4, 8, 0)
    assert server.answered + revived.answered == Counter({name: 1 for name in CLIPS})
    results = score_run(out, labels_file=labels_file, n_boot=N_BOOT)
    assert results["rows"][0]["answered"] == 12 and results["rows"][0]["parse_rate"] == 1.0


def test_a_cut_off_last_line_is_skipped_and_its_clip_asked_again(videos, labels_file, tmp_path):
    asked = Counter()

    def local_model(messages):
        frames = message_frames(messages)
        asked[len(frames)] += 1
        return true_answer("sentiment", CLIP_OF_FRAMES[len(frames)])

    out = tmp_path / "runs"
    options = {"model": "local", "task": "sentiment", "client": local_model}
    run(None, videos, labels_file, out, **options)
    cache = out / "local" / "sentiment.video.jsonl"
    data = cache.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    cut_clip = json.loads(data[last_start:])["video_name"]
    cache.write_bytes(data[: last_start + 40])  # a crash in the middle of the last write

    with pytest.warns(UserWarning, match="line 12 is not a complete cache record"):
        assert len(read_cache(cache)) == 11
    with pytest.warns(UserWarning, match="line 12"):
        summary = run(None, videos, labels_file, out, **options)
    assert (summary.n_cached, summary.n_answered) == (11, 1)
    assert asked[frames_of(cut_clip)] == 2 and sum(asked.values()) == 13
    with pytest.warns(UserWarning, match="line 12"):
        records = read_cache(cache)
    assert len(records) == 12 and records[-1]["video_name"] == cut_clip
    assert Counter(r["video_name"] for r in records) == Counter(CLIPS)


def test_the_api_key_is_sent_but_never_written(server, videos, labels_file, tmp_path, monkeypatch):
    secret = "sk-test-SECRET"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    names = {utterance(n): n for n in CLIPS}
    server.script = {
        # The server puts the key into its error bodies, and a "model" repeats it.
        names[1001]: [Reply(500, echo_key=True)] * 4,
        names[1002]: [Reply(400, echo_key=True)],
        names[1003]: [Reply(text=f"Your key is {secret}. Moderately Negative")],
    }
    out = tmp_path / "runs"
    summary = run(server, videos, labels_file, out, task="sentiment")
    assert f"Bearer {secret}" in server.auth
    assert summary.n_errors == 2
    assert any("HTTP 500" in e.message and "[redacted]" in e.message for e in summary.errors)
    assert any("HTTP 400" in e.message for e in summary.errors)
    assert server.requests[names[1002]] == 1  # a 400 is not retried
    score_run(out, labels_file=labels_file, n_boot=N_BOOT)
    files = all_files(out)
    assert len(files) >= 5
    for path in files:
        assert secret.encode() not in path.read_bytes(), path
        assert b"SECRET" not in path.read_bytes(), path


def test_the_key_comes_from_the_named_variable(server, videos, labels_file, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    monkeypatch.setenv("MY_PROVIDER_KEY", "sk-provider")
    run(server, videos, labels_file, tmp_path / "runs", task="emotion",
        api_key_env="MY_PROVIDER_KEY")
    assert set(server.auth) == {"Bearer sk-provider"}
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(MLLMError, match="OPENAI_API_KEY"):
        OpenAIChat(model="gpt-4o")  # api.openai.com needs a key


def test_a_rejected_key_stops_the_run(server, videos, labels_file, tmp_path):
    server.script = {name: [Reply(401)] for name in CLIPS}
    out = tmp_path / "runs"
    with pytest.raises(RunStopped, match="^HTTP 401") as raised:
        run(server, videos, labels_file, out, concurrency=1)
    assert isinstance(raised.value, MLLMError) and "HTTP 401" in raised.value.reason
    assert "HTTP 401" in str(raised.value.__cause__)
    summary = raised.value.summary  # what the command line prints before its error line
    assert summary.stopped == str(raised.value) and summary.n_answered == 0
    assert summary.n_errors + summary.n_skipped == len(CLIPS)
    assert sum(server.requests.values()) <= 2  # not 12 hopeless requests
    manifest = json.loads((out / "stand-in-vlm" / "joint.video.run.json").read_text())
    assert manifest["status"] == "failed"


def test_a_request_that_times_out_is_retried_then_recorded(server, videos, labels_file, tmp_path):
    slow = CLIPS[0]
    server.script = {slow: [Reply(delay=3.0), Reply(delay=3.0)]}
    chat = OpenAIChat(model="stand-in-vlm", base_url=server.url, timeout=0.5)
    summary = run(server, videos, labels_file, tmp_path / "runs", client=chat, task="sentiment",
                  retry=RetryPolicy(max_retries=1, base_delay=0.0, jitter=0.0))
    assert summary.n_answered == 11 and summary.n_errors == 1
    error = summary.errors[0]
    assert error.video_name == slow and "timeout of 0.5 s" in error.message
    assert server.requests[slow] == 2


# --- the callable interface, captions, prompts ----------------------------------------------


def test_a_local_callable_on_the_emotion_task(videos, labels_file, tmp_path):
    seen = []

    def local_model(messages):
        frames = message_frames(messages)
        seen.append((len(frames), message_prompt(messages)))
        assert all(isinstance(t, float) for t, _ in frames)
        if len(frames) == frames_of(CLIPS[0]):
            raise RuntimeError("CUDA out of memory")  # a failure of this clip only
        return true_answer("emotion", CLIP_OF_FRAMES[len(frames)])

    out = tmp_path / "runs"
    summary = run(None, videos, labels_file, out, model="my-local-model", task="emotion",
                  client=local_model)
    assert summary.n_clips == len(SYNTHETIC_SINGLE) == 8  # the single expression set only
    assert summary.n_errors == 1 and "CUDA out of memory" in summary.errors[0].message
    assert {CLIP_OF_FRAMES[n] for n, _ in seen} == set(SYNTHETIC_SINGLE)
    assert all(prompt == DEFAULT_PROMPTS["emotion"].render(fps=10) for _, prompt in seen)
    manifest = json.loads(Path(summary.manifest_file).read_text())
    assert manifest["settings"]["temperature"] is None and manifest["base_url"] is None

    results = score_run(out, labels_file=labels_file, n_boot=N_BOOT)
    row = results["rows"][0]
    assert (row["model"], row["prompt"], row["task"], row["answered"]) == (
        "my-local-model", "emotion", "emotion_single", 7)
    assert row["metrics"]["accuracy"] == pytest.approx(7 / 8)


def test_a_local_model_that_always_fails_raises_naming_the_cause(videos, labels_file, tmp_path):
    # Issue 23, item 8: not a silent return with errors in the summary.
    def broken_model(messages):
        return my_generate(messages)  # noqa: F821 - the user's undefined function

    out = tmp_path / "runs"
    with pytest.raises(LocalModelFailed) as raised:
        run(None, videos, labels_file, out, task="sentiment", client=broken_model, limit=2)
    assert isinstance(raised.value, EmosignError)
    message = str(raised.value)
    assert "NameError" in message and "my_generate" in message and "broken_model" in message
    assert re.search(r"clip '[^']+'", message)
    summary = raised.value.summary
    assert (summary.n_answered, summary.n_errors, summary.stopped) == (0, 2, None)


def test_a_local_model_that_stops_the_run_keeps_the_answers_and_resumes(
    videos, labels_file, tmp_path
):
    out = tmp_path / "runs"
    good = lambda messages: "Neutral"  # noqa: E731
    first = run(None, videos, labels_file, out, task="sentiment", client=good, limit=3)
    assert first.n_answered == 3

    def out_of_memory(messages):
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(LocalModelFailed) as raised:
        run(None, videos, labels_file, out, task="sentiment", client=out_of_memory,
            concurrency=1)
    message = str(raised.value)
    assert "stopped early" in message and "RuntimeError: CUDA out of memory" in message
    assert raised.value.summary.n_cached == 3 and raised.value.summary.n_skipped > 0
    manifest = json.loads(Path(raised.value.summary.manifest_file).read_text())
    assert manifest["status"] == "stopped"
    kept = read_cache(raised.value.summary.cache_file)
    assert sum(r["status"] == "ok" for r in kept) == 3

    again = run(None, videos, labels_file, out, task="sentiment", client=good)
    assert (again.n_cached, again.n_answered, again.n_errors) == (3, len(CLIPS) - 3, 0)


def test_captions_go_into_the_prompt(videos, labels_file, tmp_path):
    captions = tmp_path / "captions.csv"
    lines = ["utterance_id,caption"] + [
        f"{utterance(name)},Caption of clip {utterance(name)}." for name in CLIPS[1:]
    ]
    captions.write_text("\n".join(lines) + "\n")
    prompts = {}

    def local_model(messages):
        prompts[CLIP_OF_FRAMES[len(message_frames(messages))]] = message_prompt(messages)
        return "Neutral"

    out = tmp_path / "runs"
    summary = run(None, videos, labels_file, out, task="sentiment", client=local_model,
                  captions_file=captions)
    assert summary.input == "video_caption"
    assert summary.cache_file.endswith("sentiment.video_caption.jsonl")
    assert summary.n_errors == 1 and summary.errors[0].kind == "caption"
    assert summary.errors[0].video_name == CLIPS[0] and CLIPS[0] not in prompts
    name = CLIPS[3]
    expected = f'The English translation of the signing is: "Caption of clip {utterance(name)}."'
    assert expected in prompts[name]


def test_a_new_prompt_asks_again_and_supersedes(videos, labels_file, tmp_path):
    calls = Counter()

    def local_model(messages):
        calls[message_prompt(messages)[:10]] += 1
        return "Neutral"

    out = tmp_path / "runs"
    options = {"task": "sentiment", "client": local_model, "model": "local"}
    run(None, videos, labels_file, out, **options)
    custom = Prompt(task="sentiment", video="Sentiment? Frames at {fps} fps.",
                    video_caption="Sentiment of: {caption}")
    summary = run(None, videos, labels_file, out, prompt=custom, **options)
    assert summary.n_cached == 0 and summary.n_answered == 12
    assert calls == {DEFAULT_PROMPTS["sentiment"].render(fps=10)[:10]: 12,
                     "Sentiment?": 12}
    record = read_cache(summary.cache_file)[-1]
    assert record["prompt"] == "Sentiment? Frames at 10 fps."
    assert json.loads(Path(summary.manifest_file).read_text())["prompt"]["sha256"] == custom.sha256
    results = score_run(out, labels_file=labels_file, n_boot=N_BOOT)
    assert results["runs"][0]["superseded"] == 12
    assert results["runs"][0]["prompt_sha256"] == custom.sha256
    # Settings are part of the key too: another frame rate asks again.
    again = run(None, videos, labels_file, out, prompt=custom, fps=5, **options)
    assert again.n_cached == 0


# --- file names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    ["../../x", "..", ".", "/etc/passwd", "a/../../b", "C:\\Windows\\x", "a\x00b", "", " ",
     "Qwen/Qwen2.5-VL-7B-Instruct", "x" * 500, "мой-модель", ".hidden"],
)
def test_model_names_become_safe_folder_names(model, tmp_path):
    slug = model_slug(model)
    assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", slug) and len(slug) <= 73
    files = RunFiles.of(tmp_path, model=model, task="joint", input="video")
    assert files.directory.parent == tmp_path and files.cache.parent == files.directory


def test_similar_model_names_stay_apart():
    names = ["A/b", "a_b", "a-b", "a b", "gpt-4o", "GPT-4o"]
    assert len({model_slug(n) for n in names}) == len(names)
    assert model_slug("gpt-4o") == "gpt-4o"  # a safe name is kept as it is


def test_a_hostile_model_name_writes_only_inside_the_run_dir(videos, labels_file, tmp_path):
    before = set(all_files(tmp_path))
    out = tmp_path / "sandbox" / "runs"
    summary = run(None, videos, labels_file, out, model="../../escaped", task="emotion",
                  client=lambda messages: "../../escaped.csv")
    results = score_run(out, labels_file=labels_file, n_boot=N_BOOT)
    entry = results["runs"][0]["scores"]["emotion_single"]
    assert entry["parse"]["parsed"] == 0 and entry["evaluation"] is None and entry["note"]
    created = set(all_files(tmp_path)) - before
    assert created and all(out in path.parents for path in created)
    assert summary.model == "../../escaped"
    assert json.loads(Path(summary.manifest_file).read_text())["model"] == "../../escaped"


def test_score_run_needs_runs(tmp_path, labels_file):
    with pytest.raises(FileNotFoundError, match="no MLLM runs"):
        score_run(tmp_path, labels_file=labels_file)


def test_bad_options_are_refused(videos, labels_file, tmp_path):
    with pytest.raises(ValueError, match="harness task"):
        run(None, videos, labels_file, tmp_path, task="sentiment_7", client=lambda m: "")
    with pytest.raises(ValueError, match="either client"):
        run_mllm(model="m", task="joint", video_dir=videos, client=lambda m: "",
                 base_url="http://127.0.0.1:1/v1", labels_file=labels_file, out=tmp_path)
    with pytest.raises(ValueError, match="prompt is for task"):
        run(None, videos, labels_file, tmp_path, task="joint", client=lambda m: "",
            prompt=DEFAULT_PROMPTS["emotion"])
    with pytest.raises(ValueError, match="non-empty"):
        run(None, videos, labels_file, tmp_path, model=" ", client=lambda m: "")
