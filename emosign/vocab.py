"""The EmoSign label vocabulary: every label name, scale and rule, written once.

Everything else in the package imports these names instead of spelling them out again.
This module imports nothing from the rest of the package.

Scales (Chua et al., 2025, arXiv:2505.17090):

* **Sentiment** is rated on a 7-point scale, -3 (extremely negative) ... +3 (extremely
  positive). The 3-class task maps it by sign: negative < 0, neutral = 0, positive > 0.
* **Emotion intensity** is rated per emotion on 0 (not present at all) ... 3 (extremely
  present). The released label file stores it shifted by one, as 1 ... 4.
* **Single-label emotion** (the paper's "single expression set"): joy and excited are merged
  into happiness (they co-occur, Jaccard 0.81), taking the larger of the two intensities.
  A clip's dominant emotions are those at its highest merged intensity. A clip with no
  emotion present is neutral; a clip with exactly one dominant emotion has that label; a clip
  with several tied dominant emotions is ambiguous. Ambiguous clips whose combination of
  dominant emotions occurs in more than two clips form the "multi expression set"; the rest
  belong to neither set. On the released labels this rule gives exactly the paper's 140-clip
  single-expression set with Table 4's class supports, and its 37-clip multi-expression set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from emosign.errors import InputError

__all__ = [
    "AMBIGUOUS_SURPRISE",
    "COMBINATION_SEPARATOR",
    "CONFIG_NAMES",
    "CUE_COLUMNS",
    "DEFAULT_CONFIG",
    "EMOTIONS",
    "EMOTION_ALIASES",
    "EMOTION_NAMES",
    "EMOTION_SYNONYMS",
    "EXPRESSION_ALIASES",
    "EXPRESSION_CLASSES",
    "EXPRESSION_SETS",
    "EXPRESSION_SYNONYMS",
    "Emotion",
    "ExpressionClass",
    "FILE_INTENSITY_OFFSET",
    "HAPPINESS_SOURCES",
    "LABEL_FILE_COLUMNS",
    "MERGED_EMOTION_NAMES",
    "MULTI_EXPRESSION_MIN_SUPPORT",
    "NEUTRAL",
    "SENTIMENT_3_ALIASES",
    "SENTIMENT_3_NAMES",
    "SENTIMENT_3_SYNONYMS",
    "SENTIMENT_7_ALIASES",
    "SENTIMENT_7_NAMES",
    "SENTIMENT_COLUMN",
    "SENTIMENT_DEGREE_SYNONYMS",
    "SENTIMENT_LEVELS",
    "SIGNERS",
    "SINGLE_EXPRESSION_NAMES",
    "SentimentLevel",
    "TASK_NAMES",
    "combination_key",
    "combination_name",
    "dominant_emotions",
    "merged_intensities",
    "sentiment_3",
    "sentiment_7",
]


@dataclass(frozen=True)
class Emotion:
    """One of the ten rated emotions.

    ``name`` is its column in the label file and in this package. ``prompt_name`` is how the
    paper's prompts and its sample answer spell it (appendix A.2-A.4: "joy", "surprise
    (positive)", ...), the paper's answer vocabulary. ``paper_name`` is the same name
    capitalised, for tables, figures and this package's prompts.
    """

    name: str
    prompt_name: str

    @property
    def paper_name(self) -> str:
        return self.prompt_name[:1].upper() + self.prompt_name[1:]


EMOTIONS: tuple[Emotion, ...] = (
    Emotion("joy", "joy"),
    Emotion("excited", "excited"),
    Emotion("surprise_pos", "surprise (positive)"),
    Emotion("surprise_neg", "surprise (negative)"),
    Emotion("worry", "worry"),
    Emotion("sadness", "sadness"),
    Emotion("fear", "fear"),
    Emotion("disgust", "disgust"),
    Emotion("frustration", "frustration"),
    Emotion("anger", "anger"),
)
EMOTION_NAMES: tuple[str, ...] = tuple(e.name for e in EMOTIONS)

#: Paper scale of an emotion intensity, 0 (not present at all) ... 3 (extremely present).
INTENSITY_MIN, INTENSITY_MAX = 0, 3
#: The released file stores intensities as paper value + 1 (1 = not present).
FILE_INTENSITY_OFFSET = 1


@dataclass(frozen=True)
class SentimentLevel:
    """One point of the 7-point sentiment scale.

    ``name`` is this package's class name (the 7-class task's classes and the ``ClassLabel``
    names of the Hub configs; the paper has no class names). ``phrase`` is the point as the
    paper's per-task sentiment prompt words it: its answer list, in order from -3 to +3, is
    Extremely Negative, Negative, Somewhat Negative, Neutral, Somewhat Positive, Positive,
    Extremely Positive (appendix A.3). So on this scale a bare "Negative" is -2.
    """

    value: int  # -3 ... +3
    name: str
    phrase: str


SENTIMENT_LEVELS: tuple[SentimentLevel, ...] = (
    SentimentLevel(-3, "extremely_negative", "Extremely Negative"),
    SentimentLevel(-2, "moderately_negative", "Negative"),
    SentimentLevel(-1, "somewhat_negative", "Somewhat Negative"),
    SentimentLevel(0, "neutral", "Neutral"),
    SentimentLevel(1, "somewhat_positive", "Somewhat Positive"),
    SentimentLevel(2, "moderately_positive", "Positive"),
    SentimentLevel(3, "extremely_positive", "Extremely Positive"),
)
SENTIMENT_MIN, SENTIMENT_MAX = -3, 3
SENTIMENT_7_NAMES: tuple[str, ...] = tuple(level.name for level in SENTIMENT_LEVELS)
SENTIMENT_3_NAMES: tuple[str, ...] = ("negative", "neutral", "positive")


def sentiment_7(value: int) -> str:
    """Class name of a sentiment rating -3 ... 3 on the 7-class task."""
    if not SENTIMENT_MIN <= value <= SENTIMENT_MAX:
        raise InputError(f"sentiment {value!r} is outside {SENTIMENT_MIN}...{SENTIMENT_MAX}")
    return SENTIMENT_7_NAMES[value - SENTIMENT_MIN]


def sentiment_3(value: int) -> str:
    """Class name of a sentiment rating on the 3-class task: negative < 0, neutral = 0,
    positive > 0."""
    if not SENTIMENT_MIN <= value <= SENTIMENT_MAX:
        raise InputError(f"sentiment {value!r} is outside {SENTIMENT_MIN}...{SENTIMENT_MAX}")
    return SENTIMENT_3_NAMES[(value > 0) - (value < 0) + 1]


# --- single-label emotion ------------------------------------------------------------------

#: The emotions merged into "happiness" for the single-label task; the merged intensity is
#: the larger of the two.
HAPPINESS_SOURCES: tuple[str, ...] = ("joy", "excited")
NEUTRAL = "neutral"


@dataclass(frozen=True)
class ExpressionClass:
    """A class of the single-label emotion task: this package's name, its code in the paper's
    Table 4 ("SP(N)") and its name as the paper's text gives it ("Surprise (negative)")."""

    name: str
    code: str
    paper_name: str


EXPRESSION_CLASSES: tuple[ExpressionClass, ...] = (
    ExpressionClass("happiness", "HP", "Happiness"),
    ExpressionClass("surprise_pos", "SP(P)", "Surprise (positive)"),
    ExpressionClass("surprise_neg", "SP(N)", "Surprise (negative)"),
    ExpressionClass("worry", "WR", "Worry"),
    ExpressionClass("sadness", "SD", "Sadness"),
    ExpressionClass("fear", "FR", "Fear"),
    ExpressionClass("disgust", "DG", "Disgust"),
    ExpressionClass("frustration", "FS", "Frustration"),
    ExpressionClass("anger", "AG", "Anger"),
    ExpressionClass(NEUTRAL, "NE", "Neutral"),
)
#: Class names of the single-label task, in the paper's Table 4 order.
SINGLE_EXPRESSION_NAMES: tuple[str, ...] = tuple(c.name for c in EXPRESSION_CLASSES)
#: The nine merged emotions (every single-expression class but neutral).
MERGED_EMOTION_NAMES: tuple[str, ...] = SINGLE_EXPRESSION_NAMES[:-1]

#: Which set a clip belongs to. "excluded": ambiguous, with a rare combination.
EXPRESSION_SETS: tuple[str, ...] = ("single", "multi", "excluded")
#: "keeping only classes with more than 2 samples": a combination needs this many clips.
MULTI_EXPRESSION_MIN_SUPPORT = 3
#: Joins the emotions of a multi-expression class name, e.g. "worry+sadness".
COMBINATION_SEPARATOR = "+"


def merged_intensities(intensities: Sequence[int]) -> tuple[int, ...]:
    """Merge joy and excited into happiness.

    Parameters
    ----------
    intensities : sequence of 10 ints on the paper's 0...3 scale, in ``EMOTION_NAMES`` order.

    Returns
    -------
    tuple of 9 ints, in ``MERGED_EMOTION_NAMES`` order; happiness = max(joy, excited).
    """
    by_name = dict(zip(EMOTION_NAMES, intensities, strict=True))
    happiness = max(by_name[name] for name in HAPPINESS_SOURCES)
    rest = [by_name[name] for name in MERGED_EMOTION_NAMES[1:]]
    return (happiness, *rest)


def dominant_emotions(intensities: Sequence[int]) -> tuple[str, ...]:
    """The emotions at a clip's highest merged intensity, in class order.

    ``("neutral",)`` when no emotion is present; one name for a single-expression clip;
    several names for an ambiguous clip.
    """
    merged = merged_intensities(intensities)
    top = max(merged)
    if top == INTENSITY_MIN:
        return (NEUTRAL,)
    return tuple(name for name, value in zip(MERGED_EMOTION_NAMES, merged) if value == top)


def combination_name(emotions: Iterable[str]) -> str:
    """Name of a multi-expression class: its emotions in class order, joined by "+"."""
    chosen = set(emotions)
    return COMBINATION_SEPARATOR.join(n for n in MERGED_EMOTION_NAMES if n in chosen)


def combination_key(name: str) -> tuple[int, ...]:
    """Sort key of a multi-expression class name: its emotions' positions in class order."""
    return tuple(MERGED_EMOTION_NAMES.index(e) for e in name.split(COMBINATION_SEPARATOR))


# --- signers -------------------------------------------------------------------------------

#: The four signers. The two Rachel sessions (2011, 2012) are one signer.
SIGNERS: tuple[str, ...] = ("Ben", "Cory", "Jonathan", "Rachel")

# --- the label file ------------------------------------------------------------------------

SENTIMENT_COLUMN = "Sentiment"
CUE_COLUMNS: tuple[str, ...] = ("Reasoning_1", "Reasoning_2", "Reasoning_3")
LABEL_FILE_COLUMNS: tuple[str, ...] = ("video_name", SENTIMENT_COLUMN, *EMOTION_NAMES, *CUE_COLUMNS)

# --- dataset configs -----------------------------------------------------------------------

CONFIG_NAMES: tuple[str, ...] = ("clips", "sentiment", "single_expression", "multi_expression")
DEFAULT_CONFIG = "clips"

# --- evaluation tasks ----------------------------------------------------------------------

#: The scored tasks; emosign.tasks defines each (its clips, classes and reference).
TASK_NAMES: tuple[str, ...] = (
    "sentiment_7",
    "sentiment_3",
    "emotion_single",
    "emotion_multi",
    "emotion_presence",
    "emotion_intensity",
    "cue_grounding",
)

# --- aliases ---
# How models word their answers, for emosign.predictions. Each table maps a phrase to a label
# of this module. The parser lowercases and reads punctuation, "_" and "-" as spaces before
# comparing, so "Surprise (positive)", "[surprise (positive)]", "surprise_pos" and "SP(P)"
# are all found from the names, prompt names and codes above. Where each phrase comes from:
#
# * the paper: the seven sentiment phrases (SENTIMENT_LEVELS[...].phrase), the ten emotion
#   names as its prompts spell them (Emotion.prompt_name), Table 4's class names and codes
#   (ExpressionClass.paper_name, .code);
# * this package: the class names ("moderately_negative", "surprise_pos", "happiness") and
#   every synonym written out below, which are words models were seen to answer with, not
#   words of the paper.

#: Degree words of the 7-point scale, by |rating|. None of them is the paper's: its phrases
#: are "Extremely" (3), the bare polarity (2) and "Somewhat" (1). "moderately" is the word of
#: this package's class names for ±2 (and what its prompts asked for before 0.2).
SENTIMENT_DEGREE_SYNONYMS: dict[int, tuple[str, ...]] = {
    3: ("very", "highly", "strongly"),
    2: ("moderately", "fairly"),
    1: ("slightly", "mildly", "weakly", "a little", "a bit"),
}
#: Short forms of the 3-class names (this package's; the paper's 3-class task maps the
#: 7-point ratings by sign and has no answer words of its own).
SENTIMENT_3_SYNONYMS: dict[str, tuple[str, ...]] = {"negative": ("neg",), "positive": ("pos",)}


def _sentiment_7_aliases() -> dict[str, int]:
    aliases: dict[str, int] = {}
    for level in SENTIMENT_LEVELS:
        aliases[level.name] = aliases[level.phrase] = level.value
        if level.value:
            polarity = level.phrase.split()[-1]  # "Extremely Negative" -> "Negative"
            for degree in SENTIMENT_DEGREE_SYNONYMS[abs(level.value)]:
                aliases[f"{degree} {polarity}"] = level.value
    return aliases


#: Phrase -> rating -3...3: class names, the paper's seven phrases and their degree synonyms.
#: A bare "Negative"/"Positive" is ±2, as in the paper's list; the short forms "neg"/"pos"
#: are absent on purpose: they name a polarity, not a point of the scale.
SENTIMENT_7_ALIASES: dict[str, int] = _sentiment_7_aliases()
#: Phrase -> 3-class name: the names, their short forms, and every 7-point phrase by its sign
#: (so a bare "Negative" stays the negative class here).
SENTIMENT_3_ALIASES: dict[str, str] = {
    **{phrase: sentiment_3(value) for phrase, value in SENTIMENT_7_ALIASES.items()},
    **{name: name for name in SENTIMENT_3_NAMES},
    **{s: name for name, synonyms in SENTIMENT_3_SYNONYMS.items() for s in synonyms},
}

#: Synonyms of the ten rated emotions (this package's, not the paper's). Left out on purpose:
#: words that could mean either of two emotions ("nervous": worry or fear; "annoyed":
#: frustration or anger; "upset").
EMOTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "joy": ("joyful", "joyous"),
    "excited": ("excitement",),
    "surprise_pos": (
        "positive surprise",
        "pleasant surprise",
        "surprised (positive)",
        "positively surprised",
        "pleasantly surprised",
    ),
    "surprise_neg": (
        "negative surprise",
        "unpleasant surprise",
        "surprised (negative)",
        "negatively surprised",
        "unpleasantly surprised",
    ),
    "worry": ("worried", "anxious", "anxiety", "concerned"),
    "sadness": ("sad",),
    "fear": ("afraid", "scared", "fearful", "frightened"),
    "disgust": ("disgusted",),
    "frustration": ("frustrated",),
    "anger": ("angry", "mad"),
}
#: Synonyms of the single-label classes that are not one rated emotion (this package's; the
#: paper's emotion prompt has no neutral option, its labels do).
EXPRESSION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "happiness": ("happy",),
    NEUTRAL: ("none", "no emotion", "no emotions"),
}
#: Words for surprise without its valence, or shock (which can be either); never a class.
#: The paper always names the valence: "surprise (positive)", "surprise (negative)".
AMBIGUOUS_SURPRISE: tuple[str, ...] = ("surprise", "surprised", "surprising", "shock", "shocked")

#: Phrase -> one of the ten rated emotions (presence, intensity): names, the paper's prompt
#: names, synonyms.
EMOTION_ALIASES: dict[str, str] = {
    phrase: e.name
    for e in EMOTIONS
    for phrase in (e.name, e.prompt_name, *EMOTION_SYNONYMS[e.name])
}
#: Phrase -> single-label class: names, Table 4 codes and names, synonyms, and every word
#: for joy or excited (merged into happiness, as the paper scores its single-expression set:
#: an answer "[joy]" or "[excited]" is happiness).
EXPRESSION_ALIASES: dict[str, str] = {
    **{
        phrase: (MERGED_EMOTION_NAMES[0] if emotion in HAPPINESS_SOURCES else emotion)
        for phrase, emotion in EMOTION_ALIASES.items()
    },
    **{
        phrase: c.name
        for c in EXPRESSION_CLASSES
        for phrase in (c.name, c.code, c.paper_name, *EXPRESSION_SYNONYMS.get(c.name, ()))
    },
}
