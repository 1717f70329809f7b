"""Soft targets: what the three annotators' ratings say beyond the majority label.

The released file holds majority labels only, so soft targets come from one of two places,
and every result says which:

* ``"annotators"``: per-annotator ratings a caller supplies (a long CSV, one row per clip
  and annotator: ``video_name``, ``annotator``, ``sentiment`` (-3...3), optionally the ten
  emotions on the paper's 0...3 scale and a ``confidence``). The target is the empirical
  distribution of the annotators' ratings; the majority is recomputed with the paper's
  tie-break (the most confident annotator's rating).
* ``"intensities"``: the released majority intensities, normalised into a distribution over
  the single-expression classes (joy and excited merged by max; neutral when nothing is
  present). Available for every clip, but it is a derived quantity, not annotator
  disagreement.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosign import vocab
from emosign._csv import read_text_table
from emosign.errors import InputError, inline_listing, listing
from emosign.labels import Clip

__all__ = [
    "AnnotatorFileError",
    "AnnotatorRatings",
    "intensity_target",
    "majority",
    "rating_distribution",
    "read_annotator_ratings",
    "sentiment_target",
]


class AnnotatorFileError(InputError):
    """A per-annotator ratings file that cannot be used."""


@dataclass(frozen=True)
class AnnotatorRatings:
    """Per-annotator ratings, aligned with ``video_names``.

    ``sentiment`` has shape (n_annotators, n_clips), NaN where an annotator did not rate a
    clip; ``emotions`` (n_annotators, n_clips, 10) on 0...3 or None; ``confidence`` like
    ``sentiment`` or None. Annotators are in ``annotators`` order.
    """

    video_names: tuple[str, ...]
    annotators: tuple[str, ...]
    sentiment: np.ndarray
    emotions: np.ndarray | None
    confidence: np.ndarray | None
    path: str


def read_annotator_ratings(path: str | os.PathLike, *, clips: Sequence[Clip]) -> AnnotatorRatings:
    """Read a long per-annotator CSV and align it with ``clips``.

    Raises
    ------
    AnnotatorFileError
        Missing columns, values off the scales, duplicate (clip, annotator) rows, unknown
        clips, or clips nobody rated; every offending row is listed.
    """
    path = Path(path)
    table = read_text_table(path, what="annotator ratings file", error=AnnotatorFileError)
    required = ["video_name", "annotator", "sentiment"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise AnnotatorFileError(
            f"annotator ratings file {path} lacks column(s) {missing}; it has {list(table.columns)}"
        )
    has_emotions = all(e in table.columns for e in vocab.EMOTION_NAMES)
    has_confidence = "confidence" in table.columns

    names = [c.video_name for c in clips]
    position = {n: i for i, n in enumerate(names)}
    annotators = tuple(dict.fromkeys(table["annotator"].str.strip()))
    rater = {a: i for i, a in enumerate(annotators)}
    shape = (len(annotators), len(names))
    sentiment = np.full(shape, np.nan)
    emotions = np.full((*shape, len(vocab.EMOTION_NAMES)), np.nan) if has_emotions else None
    confidence = np.full(shape, np.nan) if has_confidence else None

    problems = []
    seen = set()
    for i, row in enumerate(table.to_dict("records"), start=1):
        name, annotator = row["video_name"].strip(), row["annotator"].strip()
        where = f"row {i} ({name}, annotator {annotator!r})"
        if name not in position:
            problems.append(f"{where}: not a clip of the label file")
            continue
        if not annotator:
            problems.append(f"{where}: annotator is empty")
            continue
        if (name, annotator) in seen:
            problems.append(f"{where}: this annotator rated this clip twice")
            continue
        seen.add((name, annotator))
        a, j = rater[annotator], position[name]
        value = _number(row["sentiment"], vocab.SENTIMENT_MIN, vocab.SENTIMENT_MAX)
        if value is None:
            problems.append(f"{where}: sentiment={row['sentiment']!r} is not an integer in -3...3")
        else:
            sentiment[a, j] = value
        if emotions is not None:
            for k, emotion in enumerate(vocab.EMOTION_NAMES):
                value = _number(row[emotion], vocab.INTENSITY_MIN, vocab.INTENSITY_MAX)
                if value is None:
                    problems.append(f"{where}: {emotion}={row[emotion]!r} is not an integer in 0...3")
                else:
                    emotions[a, j, k] = value
        if confidence is not None:
            try:
                confidence[a, j] = float(row["confidence"])
            except ValueError:
                problems.append(f"{where}: confidence={row['confidence']!r} is not a number")
    unrated = [n for n, j in position.items() if np.isnan(sentiment[:, j]).all()]
    if unrated:
        problems.append(f"{len(unrated)} clip(s) have no rating: {inline_listing(unrated)}")
    if problems:
        raise AnnotatorFileError(listing(
            f"annotator ratings file {path} cannot be used:", [(None, problems)]))
    return AnnotatorRatings(tuple(names), annotators, sentiment, emotions, confidence, str(path))


def _number(text: str, low: int, high: int) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value.is_integer() and low <= value <= high else None


def rating_distribution(ratings: np.ndarray, values: Sequence[int]) -> np.ndarray:
    """Empirical distribution of each clip's ratings over ``values``.

    ratings: (n_annotators, n_clips) with NaN for a missing rating. Returns (n_clips, len(values)).
    """
    counts = np.stack([(ratings == v).sum(axis=0) for v in values], axis=1).astype(float)
    return counts / counts.sum(axis=1, keepdims=True)


def majority(ratings: np.ndarray, confidence: np.ndarray | None = None) -> np.ndarray:
    """Each clip's majority rating; a tie goes to the most confident annotator's rating
    (the paper's rule), or, without confidences, to the lowest tied rating.

    ratings, confidence: (n_annotators, n_clips). Returns (n_clips,).
    """
    out = np.empty(ratings.shape[1])
    for j in range(ratings.shape[1]):
        given = ~np.isnan(ratings[:, j])
        counts = Counter(ratings[given, j].tolist())
        top = max(counts.values())
        tied = sorted(v for v, c in counts.items() if c == top)
        if len(tied) > 1 and confidence is not None:
            candidates = [a for a in np.flatnonzero(given) if ratings[a, j] in tied]
            best = max(candidates, key=lambda a: confidence[a, j])
            out[j] = ratings[best, j]
        else:
            out[j] = tied[0]
    return out


def sentiment_target(ratings: AnnotatorRatings, *, classes: str = "sentiment_7") -> np.ndarray:
    """Soft sentiment targets: (n_clips, 7) over -3...3, or (n_clips, 3) over the polarities."""
    if classes == "sentiment_7":
        return rating_distribution(ratings.sentiment, range(vocab.SENTIMENT_MIN, vocab.SENTIMENT_MAX + 1))
    return rating_distribution(np.sign(ratings.sentiment), (-1, 0, 1))


def intensity_target(clips: Sequence[Clip]) -> np.ndarray:
    """Released intensities as a distribution over the single-expression classes.

    For each clip, the merged intensities (happiness = max(joy, excited)) divided by their sum;
    a clip with no emotion present is all neutral. Returns (n_clips, 10) in
    ``vocab.SINGLE_EXPRESSION_NAMES`` order.
    """
    rows = []
    for clip in clips:
        merged = np.array(vocab.merged_intensities(clip.intensities), dtype=float)
        total = merged.sum()
        rows.append(np.append(merged / total, 0.0) if total > 0 else np.eye(len(merged) + 1)[-1])
    return np.array(rows)
