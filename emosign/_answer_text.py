"""Read one free-text answer into a label: the one parser of models' words.

Both readers of answers use it: :mod:`emosign.predictions` (a predictions table's cells, when
scoring) and :mod:`emosign.harness.answers` (a multimodal LLM's reply, before it is written as
a predictions table), so an answer reads the same way in both. It imports nothing of the
package but ``vocab`` and ``errors``, so the harness can read answers without the scorer.

The rules (which words and numbers each task accepts, and which answers are refused rather
than guessed) are written for users in :mod:`emosign.predictions`.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from typing import TypeGuard

import numpy as np

from emosign import vocab
from emosign.errors import InputError

__all__ = [
    "EXPECTED",
    "SINGLE_LABEL_TASKS",
    "finite_number",
    "is_blank",
    "read_emotion_list",
    "read_intensity",
    "read_label",
    "read_presence",
    "sentiment_as_given",
]

#: The tasks whose answer is one label (see :mod:`emosign.tasks`); the others read one
#: cell per emotion (:func:`read_presence`, :func:`read_intensity`) or free text.
SINGLE_LABEL_TASKS: tuple[str, ...] = ("sentiment_7", "sentiment_3", "emotion_single", "emotion_multi")

# A marker for words that name a class only up to something the answer leaves open.
_AMBIGUOUS = "<ambiguous>"

# Words that turn a mention around or refuse to answer: "not sad", "I cannot tell", "unsure".
_REFUSALS = frozenset(
    {"not", "no", "cannot", "unable", "unclear", "unknown", "uncertain", "unsure", "neither", "nor"}
)

# A number standing alone: "-2", "+3", "2.0", "Sentiment: -1.6", but not the 107 of "sc107".
_NUMBER = re.compile(r"(?<![\w.])[+-]?\d+(?:\.\d+)?(?!\w|\.\d)")
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> tuple[str, ...]:
    """Lowercase words, punctuation, "_" and "-" read as spaces; "n't" read as "not"."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    text = re.sub(r"n't\b", " not", text)
    return tuple(_WORD.findall(text))


def _numbers_and_words(text: str) -> tuple[set[float], tuple[str, ...]]:
    """The distinct numbers standing alone in a text, and its other words."""
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")  # the minus sign
    return {float(m) for m in _NUMBER.findall(text)}, _words(_NUMBER.sub(" ", text))


def _phrase_table(aliases: Mapping[str, str | int], ambiguous: Sequence[str] = ()) -> dict:
    table: dict[tuple[str, ...], object] = {_words(p): label for p, label in aliases.items()}
    table.update({_words(p): _AMBIGUOUS for p in ambiguous})
    return table


_SENTIMENT_7 = _phrase_table(
    vocab.SENTIMENT_7_ALIASES,
    # The 3-class short forms ("neg", "pos") name a polarity: which of its three points? A bare
    # "negative" is no such word: it is -2 in the paper's list. Compared as words, since
    # "negative" (a 3-class name) and "Negative" (the paper's phrase) are one word.
    ambiguous=[
        p for p in vocab.SENTIMENT_3_ALIASES
        if _words(p) not in {_words(q) for q in vocab.SENTIMENT_7_ALIASES}
    ],
)
_SENTIMENT_3 = _phrase_table(vocab.SENTIMENT_3_ALIASES)
_EXPRESSION = _phrase_table(vocab.EXPRESSION_ALIASES, ambiguous=vocab.AMBIGUOUS_SURPRISE)
_HAPPINESS = vocab.MERGED_EMOTION_NAMES[0]
_NO_EMOTION = {p: c for p, c in vocab.EXPRESSION_ALIASES.items() if c == vocab.NEUTRAL}
_EMOTION = _phrase_table(
    {**vocab.EMOTION_ALIASES, **_NO_EMOTION},
    # Among the ten separate emotions, a word for happiness may mean joy or excited.
    ambiguous=[
        *vocab.AMBIGUOUS_SURPRISE,
        *(p for p, c in vocab.EXPRESSION_ALIASES.items()
          if c == _HAPPINESS and p not in vocab.EMOTION_ALIASES),
    ],
)


def _mentions(words: Sequence[str], table: Mapping[tuple[str, ...], object]) -> list | None:
    """The labels a text names, longest phrase first ("moderately negative" before
    "negative"); None if it names something ambiguous or holds a refusal word."""
    longest = max(len(k) for k in table)
    found, i = [], 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            label = table.get(tuple(words[i : i + n]))
            if label is not None:
                found.append(label)
                i += n
                break
        else:
            if words[i] in _REFUSALS:
                return None
            i += 1
    return None if _AMBIGUOUS in found else found


def is_blank(value: object) -> bool:
    """Whether a cell holds no answer: None, NaN, pandas' NA or NaT, or blank text.

    Parameters
    ----------
    value : a cell as read, of any type.

    Returns
    -------
    bool
    """
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    # pandas' missing values, without importing pandas here: a cell cannot hold pd.NA unless
    # pandas is already imported, and this module stays light for the MLLM harness.
    pandas = sys.modules.get("pandas")
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def _is_number(value: object) -> TypeGuard[int | float | np.integer | np.floating]:
    """A number given as one (numpy's too), not a boolean."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _as_text(value: object) -> str | None:
    """A raw answer as text: a list of names joined; None for anything else not text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        if all(isinstance(v, str) for v in value):
            return " , ".join(value)
    return None


def _rating_class(value: float) -> int:
    """The 7-point class of a rating: clipped to the scale, rounded half to even."""
    return int(np.round(np.clip(value, vocab.SENTIMENT_MIN, vocab.SENTIMENT_MAX)))


def sentiment_as_given(value: object) -> float | None:
    """The sentiment rating an answer gives, before clipping to -3...3.

    Parameters
    ----------
    value : the answer as given: a number, or text ("9", "Negative", "-1.5").

    Returns
    -------
    float or None
        The number as written ("9" -> 9.0, "-1.5" -> -1.5) or a phrase's rating
        ("Negative" -> -2.0); None if the answer names no single rating.
    """
    reading = _read_sentiment(value)
    return None if reading is None else reading[1]


def _read_sentiment(value: object) -> tuple[int, float] | None:
    """A sentiment answer as (class rating -3...3, value as given); None if unreadable."""
    if _is_number(value):
        try:
            number = float(value)
        except OverflowError:  # a Python int beyond any float: no rating
            return None
        return (_rating_class(number), number) if math.isfinite(number) else None
    text = _as_text(value)
    if text is None:
        return None
    numbers, words = _numbers_and_words(text)
    phrases = _mentions(words, _SENTIMENT_7)
    # Two numbers ("-3 to 3: 2") leave the rating open.
    if phrases is None or len(numbers) > 1 or not (numbers or phrases):
        return None
    ratings = {_rating_class(n) for n in numbers} | set(phrases)
    if len(ratings) != 1:
        return None  # "2 (somewhat positive)": the answer disagrees with itself
    rating = ratings.pop()
    return rating, (numbers.pop() if numbers else float(rating))


def _read_sentiment_3(value: object) -> str | None:
    if _is_number(value):
        reading = _read_sentiment(value)
        return None if reading is None else vocab.sentiment_3(reading[0])
    text = _as_text(value)
    if text is None:
        return None
    numbers, words = _numbers_and_words(text)
    names = _mentions(words, _SENTIMENT_3)
    if names is None or len(numbers) > 1:
        return None
    found = set(names) | {vocab.sentiment_3(_rating_class(n)) for n in numbers}
    return found.pop() if len(found) == 1 else None


def _read_expression(value: object) -> str | None:
    text = _as_text(value)
    names = None if text is None else _mentions(_words(text), _EXPRESSION)
    return names[0] if names and len(set(names)) == 1 else None


def _read_combination(value: object, classes: Sequence[str]) -> str | None:
    text = _as_text(value)
    names = None if text is None else _mentions(_words(text), _EXPRESSION)
    if not names or not set(names) <= set(vocab.MERGED_EMOTION_NAMES):
        return None  # nothing named, or neutral among the emotions
    name = vocab.combination_name(names)
    return name if name in classes else None


def read_emotion_list(value: object) -> frozenset[str] | None:
    """The emotions a list answer names as present (``emotion_presence`` in one column).

    Parameters
    ----------
    value : a list of names, or text ("joy, anger", "[]", "none").

    Returns
    -------
    frozenset of str or None
        Names of ``vocab.EMOTION_NAMES``; empty for "none", "neutral" or an empty list;
        None if the answer cannot be read (an unknown or ambiguous word, a negation, or
        "none" beside an emotion).
    """
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) == 0:
        return frozenset()
    text = _as_text(value)
    if text is None:
        return None
    if re.fullmatch(r"\s*\[\s*\]\s*", text):
        return frozenset()
    names = _mentions(_words(text), _EMOTION)
    if not names:
        return None
    if vocab.NEUTRAL in names:
        # "none" is an answer only on its own: "none, sadness" contradicts itself.
        return frozenset() if set(names) == {vocab.NEUTRAL} else None
    return frozenset(names)


_TRUE_WORDS = frozenset({"true", "yes", "y", "present"})
_FALSE_WORDS = frozenset({"false", "no", "n", "absent"})


def finite_number(value: object) -> float | None:
    """A finite number, given as one or as text ("2", " 0.5 "); None for anything else.

    Booleans, NaN, infinities and Python ints beyond any float are None.
    """
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not _is_number(value):
        return None
    try:
        number = float(value)
    except OverflowError:  # a Python int beyond any float
        return None
    return number if math.isfinite(number) else None


def read_intensity(value: object) -> float | None:
    """An emotion intensity cell: a number in 0...3 (``vocab.INTENSITY_MIN``...``MAX``),
    as given or as text; None for anything else."""
    number = finite_number(value)
    ok = number is not None and vocab.INTENSITY_MIN <= number <= vocab.INTENSITY_MAX
    return number if ok else None


def read_presence(value: object) -> bool | None:
    """An emotion presence cell: 0/1, true/false, yes/no, present/absent, or an intensity
    0...3 (present above 0); None for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    intensity = read_intensity(value)
    return None if intensity is None else intensity > vocab.INTENSITY_MIN


def read_label(
    value: object, *, task: str, classes: Sequence[str] = ()
) -> tuple[str | None, float]:
    """Read one raw single-label answer into a class name of ``task``.

    The parser behind :func:`emosign.predictions.parse_label` (which also checks ``classes``
    against the task) and the MLLM harness; the words and numbers each task accepts are
    described in :mod:`emosign.predictions`.

    Parameters
    ----------
    value : the answer as given: text ("Moderately Positive", "SP(N)", "worry+sadness"), a
        number (sentiment tasks), or a list of names.
    task : one of ``SINGLE_LABEL_TASKS``.
    classes : the task's classes; only ``emotion_multi`` reads them (its combinations come
        from the label file), and finds nothing without them.

    Returns
    -------
    (label, rating)
        ``label``: a class name of the task, or None if the answer is blank or cannot be
        read. ``rating``: on ``sentiment_7``, the rating as given (continuous, not clipped),
        NaN when unread; NaN on the other tasks.

    Raises
    ------
    InputError
        If ``task`` is not a single-label task.
    """
    if task not in SINGLE_LABEL_TASKS:
        raise InputError(f"read_label reads the single-label tasks {list(SINGLE_LABEL_TASKS)}, not {task!r}")
    if is_blank(value):
        return None, math.nan
    if task == "sentiment_7":
        reading = _read_sentiment(value)
        return (None, math.nan) if reading is None else (vocab.sentiment_7(reading[0]), reading[1])
    if task == "sentiment_3":
        return _read_sentiment_3(value), math.nan
    if task == "emotion_multi":
        return _read_combination(value, classes), math.nan
    return _read_expression(value), math.nan


#: What each task's answers may be, for messages about an answer that could not be read.
EXPECTED: dict[str, str] = {
    "sentiment_7": "a 7-point class name, one of the paper's phrases 'Extremely Negative', "
    "'Negative', 'Somewhat Negative', 'Neutral', ... 'Extremely Positive', or a rating in "
    "-3...3 ('-2', '1.6')",
    "sentiment_3": "negative, neutral or positive (or a 7-point phrase or rating, read by sign)",
    "emotion_single": "one class of " + ", ".join(vocab.SINGLE_EXPRESSION_NAMES) + " (or a "
    "Table 4 code such as 'SP(N)')",
    "emotion_presence": "0/1, true/false, yes/no or an intensity 0...3 per emotion, or a list "
    "of emotion names",
    "emotion_intensity": "a number in 0...3 per emotion",
    "cue_grounding": "a free-text explanation of the cues that carry the emotion",
}
