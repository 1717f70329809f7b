"""Read a multimodal LLM's free-text answer into predictions for the scored tasks.

Models rarely answer exactly as asked. This module reads what they do write and refuses to
guess when an answer is unclear: such an answer is *unparseable*, kept with its raw text and
scored as wrong.

**Joint answers** (a JSON object with a sentiment, ten emotion intensities and an
explanation). The paper's sample answer format is read as it is: the keys ``filename``
(ignored), ``Sentiment``, the ten emotion names as the paper spells them ("joy", "surprise
(positive)", ...) and ``QA`` (the explanation, scored for cue grounding), every value a
string ("2"). The object may sit in a fenced block or inside prose; trailing commas, single
quotes, Python's True/None, unquoted keys, curly quotes and numbers written as strings are
all read. Keys may be spelled in other ways ("Sentiment", "sentiment_score", "Surprise
(positive)", "surprise_positive", "SP(P)", "joy_intensity") and the emotions may be nested
(``{"emotions": {"joy": 1, ...}}`` or ``[{"emotion": "joy", "intensity": 1}, ...]``). An
answer without any JSON is read line by line ("Sentiment: -2", "- **Joy**: 0"), which also
rescues a JSON object cut off by a token limit. Values:

* sentiment: a number in -3...3 (kept as given, e.g. -1.5), or one of the paper's seven
  phrases ("Negative" is -2) read as :func:`emosign.predictions.parse_label` reads them. A
  number outside the scale is invalid, never clipped: a model answering on another scale
  must not be silently rescaled.
* each emotion: a number in 0...3 ("2", "2/3", "2 (moderately present)"), or "none",
  "absent", "not present" for 0. Anything else is invalid.
* a "happy"/"happiness" key stands for the merged class happiness; it is used for
  ``emotion_single`` only, and only when joy and excited are both absent.

``emotion_single`` is the dominant emotion of the merged intensities (happiness = max(joy,
excited)), as for the labels: all zero is neutral, and a tie at the top is *ambiguous* and
counts as unparseable, since the model named no single emotion. A key given twice with two
different values is invalid.

**Per-task answers** (one sentiment phrase, or one emotion) are read as
:func:`emosign.predictions.parse_label` reads them (both use :mod:`emosign._answer_text`,
the one parser of answers), first on the whole answer and, if that fails, on the
places an answer usually sits: a JSON value, a line starting "Answer:" (or "Sentiment:",
"Emotion:"), bold text, a label in square brackets (the paper's emotion format, "[joy]"), the
first line. "Sadness\\n\\nThe signer is not smiling" is sadness; "sadness and anger",
"surprise" (valence unknown) and refusals are unparseable.

Why an answer could not be read is one of ``PROBLEM_KINDS``.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from emosign import vocab
from emosign._answer_text import finite_number, read_label, sentiment_as_given
from emosign._io import parse_json
from emosign.errors import InputError
from emosign.harness.prompts import HARNESS_TASKS, SCORED_TASKS

__all__ = [
    "PROBLEM_KINDS",
    "UNPARSEABLE",
    "JointAnswer",
    "Reading",
    "parse_counts",
    "parse_joint",
    "read_answer",
]

#: Written in a predictions cell that could not be read. ``emosign.predictions`` reads it as
#: unparseable (neither a class name nor a refusal word), so a rescore counts it the same way.
UNPARSEABLE = "<unparseable>"

#: Why an answer (or one task's part of it) could not be read.
PROBLEM_KINDS: tuple[str, ...] = (
    "empty",  # the model returned nothing
    "refusal",  # it declined ("I'm sorry, I can't ...") and gave nothing readable
    "unreadable",  # no label found, or several different ones
    "incomplete",  # a joint answer without the fields this task needs
    "invalid",  # a field present but not a value on its scale
    "ambiguous",  # a joint answer whose top emotions tie
)

_FIELD_SENTIMENT = "sentiment"
_FIELD_EXPLANATION = "explanation"
_FIELD_HAPPINESS = "happiness"


# --- what a reading is ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One answer read for one scored task.

    Attributes
    ----------
    cells : the clip's cells in the task's predictions table, column -> text:
        ``{"prediction": "worry"}`` for a single-label task (``sentiment_7`` from a joint
        answer holds the rating as given, e.g. ``"-1.5"``), or one cell per emotion
        (``"joy"`` ... ``"anger"``) for ``emotion_presence`` ("0"/"1") and
        ``emotion_intensity`` (0...3). A cell that could not be read holds ``UNPARSEABLE``.
    problem : None if everything was read, else one of ``PROBLEM_KINDS``.
    detail : what exactly was wrong, for people ("sentiment 5 is outside -3...3").
    """

    cells: Mapping[str, str]
    problem: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the answer was read: no ``problem``."""
        return self.problem is None


@dataclass(frozen=True)
class JointAnswer:
    """What a joint answer says, field by field.

    Attributes
    ----------
    sentiment : the rating in -3...3 as given (may be fractional), or None.
    intensities : ten values in ``vocab.EMOTION_NAMES`` order, each in 0...3 or None.
    happiness : a "happiness"/"happy" value in 0...3, or None.
    explanation : the cue explanation, whitespace collapsed, or None.
    missing : fields not found, of "sentiment", the ten emotion names and "explanation".
    invalid : fields found whose value could not be read, with the raw value shown.
    """

    sentiment: float | None
    intensities: tuple[float | None, ...]
    happiness: float | None
    explanation: str | None
    missing: tuple[str, ...]
    invalid: tuple[str, ...]

    @property
    def found_anything(self) -> bool:
        """True when at least one of the answer's fields was found."""
        return len(self.missing) < 2 + len(vocab.EMOTION_NAMES)


# --- reading one answer for its scored tasks -----------------------------------------------


def read_answer(task: str, text: str | None) -> dict[str, Reading]:
    """Read a model's answer to one harness task for each scored task it feeds.

    Parameters
    ----------
    task : the harness task ("joint", "sentiment" or "emotion").
    text : the model's answer as returned; None counts as empty.

    Returns
    -------
    ``{scored task: Reading}`` for the tasks of ``SCORED_TASKS[task]``, in that order.
    """
    if task not in HARNESS_TASKS:
        raise InputError(f"unknown harness task {task!r}; choose one of {HARNESS_TASKS}")
    text = text or ""
    if task == "joint":
        return _read_joint(text)
    return {scored: _read_single_label(text, scored) for scored in SCORED_TASKS[task]}


def parse_counts(video_names: Sequence[str], readings: Mapping[str, Reading]) -> dict:
    """How the answers for one scored task were read.

    Parameters
    ----------
    video_names : the task's clips.
    readings : the clips that got an answer, each mapped to its :class:`Reading`.

    Returns
    -------
    dict
        ``n`` (clips of the task), ``answered``, ``parsed``, ``unparseable``, ``missing``,
        ``parse_rate`` = parsed / answered (None without an answer) and ``problems``:
        ``{kind: count}`` in ``PROBLEM_KINDS`` order, zeros left out.
    """
    answered = [name for name in video_names if name in readings]
    problems = Counter(readings[name].problem for name in answered)
    parsed = problems.pop(None, 0)
    return {
        "n": len(video_names),
        "answered": len(answered),
        "parsed": parsed,
        "unparseable": len(answered) - parsed,
        "missing": len(video_names) - len(answered),
        "parse_rate": parsed / len(answered) if answered else None,
        "problems": {kind: problems[kind] for kind in PROBLEM_KINDS if problems[kind]},
    }


def _failed(scored: str, kind: str, detail: str) -> Reading:
    if scored in ("emotion_presence", "emotion_intensity"):
        cells = {name: UNPARSEABLE for name in vocab.EMOTION_NAMES}
    else:
        cells = {"prediction": UNPARSEABLE}
    return Reading(cells=cells, problem=kind, detail=detail)


_REFUSAL = re.compile(
    r"\b(sorry|apolog|i\s*(?:can\s*not|cannot|can't|am\s+unable|'m\s+unable|am\s+not\s+able|"
    r"won't)|unable\s+to|not\s+able\s+to|as\s+an\s+ai)",
    re.IGNORECASE,
)


def _nothing_found(text: str) -> tuple[str, str]:
    """Kind and detail of an answer in which nothing could be read."""
    if not text.strip():
        return "empty", "the answer is empty"
    if _REFUSAL.search(text):
        return "refusal", "the model declined to answer"
    return "unreadable", "no answer could be found in the text"


# --- per-task answers ------------------------------------------------------------------------


def _read_single_label(text: str, scored: str) -> Reading:
    for candidate in _answer_candidates(text):
        if scored.startswith("sentiment"):
            given = sentiment_as_given(candidate)
            if given is not None and not vocab.SENTIMENT_MIN <= given <= vocab.SENTIMENT_MAX:
                # A predictions file's regression output is clipped to -3...3, but a model
                # that answers "9" used another scale: invalid, as in a joint answer.
                return _failed(scored, "invalid", f"sentiment {given:g} is outside -3...3")
        label, _ = read_label(candidate, task=scored)
        if label is not None:
            return Reading(cells={"prediction": label})
    kind, detail = _nothing_found(text)
    if kind == "unreadable":
        detail = f"no single {scored} class could be read"
    return _failed(scored, kind, detail)


_LABELLED_LINE = re.compile(
    r"^[\s>*#\-•]*(?:final\s+)?(?:answer|sentiment|emotion|label|prediction)[*\s]*[:=]\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__", re.DOTALL)
# The paper's emotion answer format: the label in square brackets, "[surprise (negative)]".
_BRACKETED = re.compile(r"\[([^\[\]\n]{1,40})\]")
_ANSWER_KEY_WORDS = {"answer", "label", "prediction", "sentiment", "emotion", "class"}


def _answer_candidates(text: str) -> Iterator[str]:
    """Where a one-label answer may be, most complete first."""
    yield text
    for obj in _json_objects(text):
        for key, value in obj.items():
            scalar = isinstance(value, (str, int, float)) and not isinstance(value, bool)
            if scalar and _ANSWER_KEY_WORDS & set(_key_words(str(key))):
                yield str(value)
    labelled = _LABELLED_LINE.findall(text)
    if labelled:
        yield labelled[-1]  # "Final answer:" comes last
    bold = [a or b for a, b in _BOLD.findall(text)]
    if bold:
        yield " , ".join(bold)
    bracketed = _BRACKETED.findall(text)
    if bracketed:
        yield bracketed[-1]  # "... so the answer is [worry]"
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    yield first_line.strip(" \t>*#-•`\"'")


# --- joint answers ---------------------------------------------------------------------------


def parse_joint(text: str | None) -> JointAnswer:
    """Read a joint answer's fields.

    Parameters
    ----------
    text : the model's answer as returned; None counts as empty. See the module docstring
        for the shapes and spellings accepted.

    Returns
    -------
    JointAnswer
        Each field as read, None where it is missing or invalid (listed in ``missing`` and
        ``invalid``).
    """
    text = text or ""
    raw = _joint_fields(text)

    invalid: list[str] = []
    sentiment = None
    if _FIELD_SENTIMENT in raw:
        sentiment = _read_rating(raw[_FIELD_SENTIMENT])
        if sentiment is None:
            invalid.append(f"sentiment={_shown(raw[_FIELD_SENTIMENT])}")
    intensities = []
    for name in vocab.EMOTION_NAMES:
        value = _read_level(raw[name]) if name in raw else None
        if name in raw and value is None:
            invalid.append(f"{name}={_shown(raw[name])}")
        intensities.append(value)
    happiness = _read_level(raw[_FIELD_HAPPINESS]) if _FIELD_HAPPINESS in raw else None
    if _FIELD_HAPPINESS in raw and happiness is None:
        invalid.append(f"happiness={_shown(raw[_FIELD_HAPPINESS])}")
    explanation = raw.get(_FIELD_EXPLANATION)
    if isinstance(explanation, (list, tuple)):
        explanation = " ".join(str(part) for part in explanation)
    if explanation is not None and explanation is not _CONFLICT:
        explanation = " ".join(str(explanation).split()) or None
    else:
        explanation = None

    fields = (_FIELD_SENTIMENT, *vocab.EMOTION_NAMES, _FIELD_EXPLANATION)
    return JointAnswer(
        sentiment=sentiment,
        intensities=tuple(intensities),
        happiness=happiness,
        explanation=explanation,
        missing=tuple(f for f in fields if f not in raw),
        invalid=tuple(invalid),
    )


def _read_joint(text: str) -> dict[str, Reading]:
    answer = parse_joint(text)
    if not answer.found_anything:
        kind, detail = _nothing_found(text)
        if kind == "unreadable":
            detail = "no JSON object and no 'key: value' lines with known keys"
        return {scored: _failed(scored, kind, detail) for scored in SCORED_TASKS["joint"]}
    readings = {}

    # Sentiment: the rating as given for sentiment_7, its sign class for sentiment_3.
    if answer.sentiment is None:
        kind, detail = _field_problem(answer, [_FIELD_SENTIMENT])
        readings["sentiment_7"] = _failed("sentiment_7", kind, detail)
        readings["sentiment_3"] = _failed("sentiment_3", kind, detail)
    else:
        readings["sentiment_7"] = Reading(cells={"prediction": _number(answer.sentiment)})
        label, _ = read_label(answer.sentiment, task="sentiment_3")
        # A rating in -3...3 always has a sign class; the check is for the type checker.
        readings["sentiment_3"] = (
            Reading(cells={"prediction": label}) if label is not None
            else _failed("sentiment_3", "invalid", f"sentiment {answer.sentiment:g} has no class")
        )

    readings["emotion_single"] = _dominant(answer)

    # Presence and intensity keep every emotion that was read; only the others are wrong.
    unread = [n for n, v in zip(vocab.EMOTION_NAMES, answer.intensities) if v is None]
    problem: tuple[str | None, str] = _field_problem(answer, unread) if unread else (None, "")
    intensity_cells, presence_cells = {}, {}
    for name, value in zip(vocab.EMOTION_NAMES, answer.intensities):
        intensity_cells[name] = UNPARSEABLE if value is None else _number(value)
        presence_cells[name] = (
            UNPARSEABLE if value is None else str(int(value > vocab.INTENSITY_MIN))
        )
    readings["emotion_presence"] = Reading(presence_cells, *problem)
    readings["emotion_intensity"] = Reading(intensity_cells, *problem)
    return {scored: readings[scored] for scored in SCORED_TASKS["joint"]}


def _field_problem(answer: JointAnswer, fields: list[str]) -> tuple[str, str]:
    """"invalid" if any of the fields was given but unreadable, else "incomplete"."""
    invalid = [entry for entry in answer.invalid if entry.split("=", 1)[0] in fields]
    if invalid:
        return "invalid", "unreadable value(s): " + ", ".join(invalid)
    return "incomplete", "missing: " + ", ".join(f for f in fields if f in answer.missing)


def _dominant(answer: JointAnswer) -> Reading:
    """The single-expression class of a joint answer: its top merged emotion."""
    by_name = dict(zip(vocab.EMOTION_NAMES, answer.intensities))
    sources = [by_name[n] for n in vocab.HAPPINESS_SOURCES]
    rated_sources = [v for v in sources if v is not None]
    happiness: float | None
    if len(rated_sources) == len(sources):
        happiness = max(rated_sources)
    elif not rated_sources and answer.happiness is not None:
        happiness = answer.happiness
    else:
        happiness = None
    merged = {vocab.MERGED_EMOTION_NAMES[0]: happiness}
    merged.update({n: by_name[n] for n in vocab.MERGED_EMOTION_NAMES[1:]})
    unread = [n for n, v in merged.items() if v is None]
    if unread:
        # Name the rated emotions behind a missing happiness, which the model never saw.
        fields = [f for n in unread for f in (vocab.HAPPINESS_SOURCES if n == "happiness" else [n])]
        kind, detail = _field_problem(answer, fields)
        return _failed("emotion_single", kind, detail)
    rated = {n: v for n, v in merged.items() if v is not None}  # all of them, by now
    top = max(rated.values())
    if top <= vocab.INTENSITY_MIN:
        return Reading(cells={"prediction": vocab.NEUTRAL})
    winners = [n for n, v in rated.items() if v == top]
    if len(winners) > 1:
        return _failed(
            "emotion_single", "ambiguous", f"tied at {_number(top)}: {', '.join(winners)}"
        )
    return Reading(cells={"prediction": winners[0]})


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- finding the fields of a joint answer ----------------------------------------------------

class _Conflict:
    """The value of a key given twice with different values: read as invalid."""

    def __repr__(self) -> str:
        return "<given twice, with different values>"


_CONFLICT = _Conflict()

_FILLER_WORDS = frozenset(
    {"intensity", "score", "level", "rating", "value", "the", "emotion", "emotions", "degree",
     "of", "overall", "present", "presence"}
)
# "qa" is the paper's own key for the explanation, in the sample answer of its joint prompt
# (appendix A.2); the other words are spellings models were seen to use.
_EXPLANATION_WORDS = frozenset(
    {"explanation", "explain", "reasoning", "reason", "reasons", "rationale", "cue", "cues",
     "justification", "evidence", "qa"}
)
_SENTIMENT_WORDS = frozenset({"sentiment", "valence", "polarity"})
_NAME_KEYS = frozenset({"emotion", "name", "label", "type", "category"})
_VALUE_KEYS = frozenset({"intensity", "score", "value", "level", "rating"})


def _key_words(key: str) -> tuple[str, ...]:
    text = unicodedata.normalize("NFKC", key).lower()
    return tuple(re.findall(r"[a-z0-9]+", text))


def _emotion_key_table() -> dict[tuple[str, ...], str]:
    table: dict[tuple[str, ...], str] = {}
    for phrase, emotion in vocab.EMOTION_ALIASES.items():
        table[_key_words(phrase)] = emotion
    for c in vocab.EXPRESSION_CLASSES:  # Table 4 codes: "SP(P)", "WR", ...
        if c.name in vocab.EMOTION_NAMES:
            table[_key_words(c.code)] = c.name
    # Spellings seen in JSON keys that the label aliases do not cover.
    for valence, name in (("positive", "surprise_pos"), ("negative", "surprise_neg")):
        table[("surprise", valence)] = name
        table[("surprised", valence)] = name
        table[(valence, "surprise")] = name
    for phrase in ("happy", "happiness"):
        table[(phrase,)] = _FIELD_HAPPINESS
    return table


_EMOTION_KEYS = _emotion_key_table()


def _field_of(key: str) -> str | None:
    """Which joint-answer field a key names, or None."""
    words = _key_words(key)
    if _EXPLANATION_WORDS & set(words):
        return _FIELD_EXPLANATION
    if _SENTIMENT_WORDS & set(words):
        return _FIELD_SENTIMENT
    return _EMOTION_KEYS.get(tuple(w for w in words if w not in _FILLER_WORDS))


def _joint_fields(text: str) -> dict[str, object]:
    """Field -> raw value, from the first JSON object with a known key, else from lines."""
    for obj in _json_objects(text):
        fields: dict[str, object] = {}
        _collect(obj, fields)
        if fields:
            return fields
    fields = {}
    for key, value in _key_value_lines(text):
        field = _field_of(key)
        if field is not None:
            _put(fields, field, value)
    # Pairs inside a line: JSON cut off by a token limit, "Sentiment: -2, Joy: 0" in prose.
    inline: dict[str, object] = {}
    for key, value in _inline_pairs(text):
        field = _field_of(key)
        if field is not None:
            _put(inline, field, value)
    return {**inline, **fields}


def _put(fields: dict[str, object], field: str, value: object) -> None:
    if field in fields and fields[field] != value:
        fields[field] = _CONFLICT
    else:
        fields[field] = value


def _collect(obj: Mapping, fields: dict[str, object]) -> None:
    for key, value in obj.items():
        field = _field_of(str(key))
        if isinstance(value, Mapping):
            if field == _FIELD_SENTIMENT:
                _put(fields, field, _sentiment_in(value))
            else:
                _collect(value, fields)  # {"emotions": {"joy": 1, ...}}
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for item in value:
                pair = _name_and_value(item)
                if pair is None:
                    _collect(item, fields)
                elif (named := _field_of(pair[0])) is not None:
                    _put(fields, named, pair[1])
        elif field is not None:
            _put(fields, field, value)


def _name_and_value(item: Mapping) -> tuple[str, object] | None:
    """``{"emotion": "joy", "intensity": 2}`` -> ("joy", 2); None for other shapes."""
    name = value = None
    for key, v in item.items():
        words = set(_key_words(str(key)))
        if words & _NAME_KEYS and isinstance(v, str):
            name = v
        elif words & _VALUE_KEYS:
            value = v
    return None if name is None or value is None else (name, value)


def _sentiment_in(value: Mapping) -> object:
    """``{"score": -2, "label": "negative"}`` -> -2; the label if no score."""
    for wanted in (_VALUE_KEYS, _NAME_KEYS):
        for key, v in value.items():
            if wanted & set(_key_words(str(key))):
                return v
    return value  # unreadable as it is; reported as invalid


_KEY_VALUE_LINE = re.compile(
    r"""^[\s>*#•\-\d.)]*["'*_`]*(?P<key>[A-Za-z][A-Za-z0-9 _()/-]*?)["'*_`]*\s*[:=]\s*"""
    r"""(?P<value>.*?)[\s,;]*$"""
)


def _key_value_lines(text: str) -> Iterator[tuple[str, str]]:
    """``key: value`` pairs, one a line: markdown lists, "Sentiment: -2", cut-off JSON."""
    for line in text.splitlines():
        match = _KEY_VALUE_LINE.match(line)
        if match:
            value = match.group("value").strip().strip("*_`").strip().strip("\"'").strip()
            if value:
                yield match.group("key"), value


_INLINE_PAIR = re.compile(
    r"""(?:^|[{,;\s])["']?(?P<key>[A-Za-z][A-Za-z0-9_ ()/-]{0,40}?)["']?\s*:\s*"""
    r"""(?P<value>"[^"]*"|'[^']*'|[+-]?\d+(?:\.\d+)?)""",
    re.MULTILINE,
)


def _inline_pairs(text: str) -> Iterator[tuple[str, str]]:
    """``key: value`` pairs anywhere, values quoted or numeric."""
    for match in _INLINE_PAIR.finditer(text):
        yield match.group("key"), match.group("value").strip("\"'")


# --- JSON that models write ------------------------------------------------------------------

_FENCE = re.compile(r"```[A-Za-z0-9]*\s*\n?(.*?)```", re.DOTALL)
_CURLY_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def _json_objects(text: str) -> Iterator[dict]:
    """Every JSON-like object in a text that can be read, fenced blocks first."""
    fenced = _FENCE.findall(text)
    for block in [*fenced, text]:
        for span in _brace_spans(block):
            obj = _loads_leniently(span)
            if isinstance(obj, dict):
                yield obj


def _brace_spans(text: str) -> Iterator[str]:
    """Top-level ``{...}`` spans; braces inside double-quoted strings do not count."""
    depth, start, in_string, escaped = 0, None, False, False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"' and depth:
            in_string = True
        elif char == "{":
            if depth == 0:
                start = i
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                yield text[start : i + 1]


_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_ ()-]*?)\s*:")
_JSON_WORDS = {"true": "True", "false": "False", "null": "None"}


def _loads_leniently(span: str) -> object:
    """Parse a JSON-ish object, trying gentler repairs first; None if nothing works."""
    span = span.translate(_CURLY_QUOTES)
    no_trailing = _TRAILING_COMMA.sub(r"\1", span)
    for attempt in (span, no_trailing, _BARE_KEY.sub(r'\1"\2":', no_trailing)):
        try:
            return parse_json(attempt)
        except ValueError:
            pass
    # Single quotes, True/None: a Python literal. literal_eval evaluates no code.
    pythonish = re.sub(r"\b(true|false|null)\b", lambda m: _JSON_WORDS[m.group(1)], no_trailing)
    try:
        return ast.literal_eval(pythonish)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


# --- values ----------------------------------------------------------------------------------

_LEVEL_TEXT = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(?:/\s*3)?\s*(?:[(\-–:,].*)?$", re.DOTALL)
_ZERO_WORDS = frozenset({"none", "absent", "not present", "no", "not present at all"})
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")


def _finite(value: object) -> float | None:
    """A finite number given as a number (not as text); None for anything else."""
    return None if isinstance(value, str) else finite_number(value)


def _read_level(value: object) -> float | None:
    """An emotion intensity in 0...3, or None."""
    if isinstance(value, str):
        text = value.strip().strip("\"'").strip()
        if text.lower() in _ZERO_WORDS:
            return 0.0
        match = _LEVEL_TEXT.match(text)
        value = float(match.group(1)) if match else None
    number = _finite(value)
    if number is None or not vocab.INTENSITY_MIN <= number <= vocab.INTENSITY_MAX:
        return None
    return number


def _read_rating(value: object) -> float | None:
    """A sentiment rating in -3...3 (kept as given), or None."""
    if isinstance(value, str) and _PLAIN_NUMBER.match(value.strip()):
        value = float(value.strip())
    number = _finite(value)
    if number is not None:
        return number if vocab.SENTIMENT_MIN <= number <= vocab.SENTIMENT_MAX else None
    if not isinstance(value, str):
        return None
    label, _ = read_label(value, task="sentiment_7")  # "Negative", "-2 (negative)"
    if label is None:
        return None
    return float(vocab.SENTIMENT_7_NAMES.index(label) + vocab.SENTIMENT_MIN)
