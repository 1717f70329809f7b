"""Read an EmoSign label file, validate it, and derive every per-clip field once.

The ``datasets`` builder, the task registry and the scorer all consume the :class:`Labels`
this module returns, so they cannot disagree about what a clip's label is. Reading is plain
pandas: scoring never has to build an Arrow dataset.

A bad file is refused as a whole with one :class:`LabelFileError` that lists every offending
row; no row is ever dropped silently.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from emosign import hub
from emosign._csv import read_csv_text
from emosign._io import decode_utf8, read_regular_file
from emosign.errors import InputError, listing
from emosign.vocab import (
    CUE_COLUMNS,
    EMOTION_NAMES,
    FILE_INTENSITY_OFFSET,
    INTENSITY_MAX,
    INTENSITY_MIN,
    LABEL_FILE_COLUMNS,
    MULTI_EXPRESSION_MIN_SUPPORT,
    SENTIMENT_COLUMN,
    SENTIMENT_MAX,
    SENTIMENT_MIN,
    SIGNERS,
    combination_key,
    combination_name,
    dominant_emotions,
    sentiment_3,
    sentiment_7,
)

__all__ = [
    "Clip",
    "LabelFileError",
    "Labels",
    "load_labels",
    "read_labels",
    "source_video",
]

# A video name becomes part of a file name when videos are looked up; anything but these
# characters (path separators, "..", NUL, a leading dot) is refused at the door.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_UTTERANCE_ID = re.compile(r"(\d+)$")
_SOURCE_SUFFIX = re.compile(r"_\d+$")
_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?")


def source_video(video_name: str) -> str:
    """The ASLLRP recording a clip was cut from: its video name without the trailing
    ``_<utterance id>`` (``Cory_2013-6-27_sc114_1234`` -> ``Cory_2013-6-27_sc114``). EmoSign's
    200 clips come from 22 of them; clips of one recording share a session and a signer, so
    they are not independent (``emosign compare --cluster source``)."""
    return _SOURCE_SUFFIX.sub("", video_name)


class LabelFileError(InputError):
    """A label file that cannot be read or does not hold valid EmoSign labels."""


@dataclass(frozen=True)
class Clip:
    """The labels of one EmoSign clip, on the paper's scales.

    ``intensities`` holds the ten emotions in ``vocab.EMOTION_NAMES`` order on 0...3;
    ``dominant`` the merged emotions at the clip's highest intensity (``("neutral",)`` when
    none is present); ``cues`` the three annotators' descriptions, whitespace collapsed.
    """

    video_name: str
    utterance_id: str
    signer: str
    sentiment: int
    intensities: tuple[int, ...]
    dominant: tuple[str, ...]
    expression_set: str  # one of vocab.EXPRESSION_SETS
    cues: tuple[str, ...]

    @property
    def sentiment_7(self) -> str:
        return sentiment_7(self.sentiment)

    @property
    def sentiment_3(self) -> str:
        return sentiment_3(self.sentiment)

    @property
    def present(self) -> tuple[bool, ...]:
        """Presence of each of the ten emotions (intensity above 0)."""
        return tuple(v > INTENSITY_MIN for v in self.intensities)

    def intensity(self, emotion: str) -> int:
        return self.intensities[EMOTION_NAMES.index(emotion)]

    @property
    def single_label(self) -> str | None:
        """The single-expression class, or None when the clip is ambiguous."""
        return self.dominant[0] if self.expression_set == "single" else None

    @property
    def multi_label(self) -> str | None:
        """The multi-expression class (e.g. ``"worry+sadness"``), or None outside that set."""
        return combination_name(self.dominant) if self.expression_set == "multi" else None


@dataclass(frozen=True)
class Labels:
    """Every clip of a label file, in file order, and where the file came from."""

    clips: tuple[Clip, ...]
    source: hub.LabelSource

    def __len__(self) -> int:
        return len(self.clips)

    def __iter__(self) -> Iterator[Clip]:
        return iter(self.clips)

    @property
    def multi_expression_classes(self) -> tuple[str, ...]:
        """The multi-expression classes present in this file, in class order of their emotions."""
        found = {c.multi_label for c in self.clips if c.multi_label}
        return tuple(sorted(found, key=combination_key))

    def subset(self, expression_set: str) -> tuple[Clip, ...]:
        return tuple(c for c in self.clips if c.expression_set == expression_set)

    def to_frame(self) -> pd.DataFrame:
        """One row per clip with the derived fields, for notebooks and quick checks."""
        rows = []
        for c in self.clips:
            row = {
                "video_name": c.video_name,
                "utterance_id": c.utterance_id,
                "signer": c.signer,
                "sentiment": c.sentiment,
                "sentiment_7": c.sentiment_7,
                "sentiment_3": c.sentiment_3,
                **dict(zip(EMOTION_NAMES, c.intensities)),
                "expression_set": c.expression_set,
                "single_label": c.single_label,
                "multi_label": c.multi_label,
            }
            rows.append(row)
        return pd.DataFrame(rows)


def load_labels(
    labels_file: str | os.PathLike | Labels | None = None,
    *,
    revision: str = hub.HUB_REVISION,
    sha256: str | None | hub.PinnedHash = hub.PINNED,
    cache_dir: str | os.PathLike | None = None,
) -> Labels:
    """Read the EmoSign labels from ``labels_file``, ``$EMOSIGN_LABELS`` or the pinned Hub file.

    The precedence and the hash check are those of :func:`emosign.hub.resolve_label_source`.
    Labels already read are returned as they are, so a caller scoring many runs reads once.
    """
    if isinstance(labels_file, Labels):
        return labels_file
    source = hub.resolve_label_source(
        labels_file, revision=revision, sha256=sha256, cache_dir=cache_dir
    )
    return read_labels(source)


def read_labels(source: str | os.PathLike | hub.LabelSource) -> Labels:
    """Read and validate one label file and derive its clip records.

    Parameters
    ----------
    source : path of a CSV with the columns of ``vocab.LABEL_FILE_COLUMNS`` (sentiment
        -3...3, intensities 1...4 as released), or a :class:`emosign.hub.LabelSource`.

    Raises
    ------
    LabelFileError
        If the file cannot be decoded or parsed, misses a column, or any row holds an
        invalid value; the message lists every offending row.
    """
    path = Path(source.path if isinstance(source, hub.LabelSource) else source)
    # A regular file of at most MAX_INPUT_BYTES: a FIFO or a device is refused, not read.
    data = read_regular_file(path, what="label file", error=LabelFileError)
    if not isinstance(source, hub.LabelSource):
        source = hub.LabelSource(
            path=str(path),
            sha256=hashlib.sha256(data).hexdigest(),
            origin="local",
            revision=None,
            num_bytes=len(data),
        )
    table = _parse_csv(data, path)
    return Labels(clips=_derive_clips(table, path), source=source)


def _parse_csv(data: bytes, path: Path) -> pd.DataFrame:
    if not data.strip():
        raise LabelFileError(f"label file {path} is empty")
    text = decode_utf8(data, path=path, what="label file", error=LabelFileError)
    # Every cell as text, nothing turned into NaN: validation below decides what is valid.
    table = read_csv_text(text, path=path, what="label file", error=LabelFileError)

    missing = [c for c in LABEL_FILE_COLUMNS if c not in table.columns]
    if missing:
        unexpected = [c for c in table.columns if c not in LABEL_FILE_COLUMNS]
        hint = f"; columns it has that EmoSign does not: {unexpected}" if unexpected else ""
        raise LabelFileError(
            f"label file {path} lacks the column(s) {missing}{hint}. "
            f"An EmoSign label file has the columns {list(LABEL_FILE_COLUMNS)}."
        )
    if table.empty:
        raise LabelFileError(f"label file {path} has a header but no rows")
    return table


def _derive_clips(table: pd.DataFrame, path: Path) -> tuple[Clip, ...]:
    problems: list[str] = []
    partial: list[tuple[str, str, str, int, tuple[int, ...], tuple[str, ...]]] = []

    names = table["video_name"].str.strip()
    name_counts = Counter(names)
    for i, record in enumerate(table.to_dict("records")):
        where = f"row {i + 1}"
        name = names.iloc[i]
        row_problems = []

        if not name:
            row_problems.append("video_name is empty")
        else:
            where += f" ({name})"
            if name_counts[name] > 1:
                row_problems.append(f"video_name appears {name_counts[name]} times")
            if not _SAFE_NAME.fullmatch(name):
                row_problems.append(
                    "video_name may only hold letters, digits, '.', '_' and '-' "
                    "and must start with a letter or digit"
                )
        id_match = _UTTERANCE_ID.search(name)
        if name and not id_match:
            row_problems.append("video_name does not end in an ASLLRP utterance id (digits)")
        signer = _signer_of(name)
        if name and signer is None:
            row_problems.append(f"video_name names none of the signers {list(SIGNERS)}")

        sentiment = _integer(record[SENTIMENT_COLUMN], SENTIMENT_MIN, SENTIMENT_MAX)
        if sentiment is None:
            row_problems.append(
                f"{SENTIMENT_COLUMN}={record[SENTIMENT_COLUMN]!r} is not an integer in "
                f"{SENTIMENT_MIN}...{SENTIMENT_MAX}"
            )
        low, high = INTENSITY_MIN + FILE_INTENSITY_OFFSET, INTENSITY_MAX + FILE_INTENSITY_OFFSET
        intensities: list[int] = []
        for emotion in EMOTION_NAMES:
            value = _integer(record[emotion], low, high)
            if value is None:
                row_problems.append(
                    f"{emotion}={record[emotion]!r} is not an integer in {low}...{high} "
                    "(the released file's scale)"
                )
            else:
                intensities.append(value - FILE_INTENSITY_OFFSET)

        if row_problems:
            problems.append(f"{where}: " + "; ".join(row_problems))
            continue
        # A row without problems has all of these (the checks above said so otherwise).
        assert id_match is not None and signer is not None and sentiment is not None
        cues = tuple(" ".join(record[c].split()) for c in CUE_COLUMNS)
        partial.append((name, id_match.group(1), signer, sentiment, tuple(intensities), cues))

    ids = Counter(p[1] for p in partial)
    problems += [
        f"utterance id {uid} ends {count} video names" for uid, count in ids.items() if count > 1
    ]
    if problems:
        raise LabelFileError(listing(
            f"label file {path} has {len(problems)} invalid row(s); nothing was loaded:",
            [(None, problems)]))

    # The multi-expression set depends on how often each combination occurs, so the
    # expression set is assigned in a second pass over the whole file.
    dominant = [dominant_emotions(p[4]) for p in partial]
    combination_counts = Counter(combination_name(d) for d in dominant if len(d) > 1)
    clips = []
    for (name, uid, signer, sentiment, levels, cues), dom in zip(partial, dominant):
        if len(dom) == 1:
            expression_set = "single"
        elif combination_counts[combination_name(dom)] >= MULTI_EXPRESSION_MIN_SUPPORT:
            expression_set = "multi"
        else:
            expression_set = "excluded"
        clips.append(Clip(name, uid, signer, sentiment, levels, dom, expression_set, cues))
    return tuple(clips)


def _signer_of(video_name: str) -> str | None:
    """The signer named in a clip's prefix: "Cory_2013-...", "10-Ben-Conclusion_...".

    Every Rachel session (2011, 2012) maps to the one signer "Rachel".
    """
    for token in re.split(r"[_-]", video_name):
        if token in SIGNERS:
            return token
    return None


def _integer(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        return None
    value = int(float(text))
    return value if low <= value <= high else None
