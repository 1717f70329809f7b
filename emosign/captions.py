"""English translations of the EmoSign utterances (the paper's "video+caption" setting).

The translations are an ASLLRP resource, not part of the EmoSign label file, so they come
from a caller's CSV: one row per utterance, a key column (``utterance_id`` or
``video_name``) and a text column (``caption`` or ``translation``). The file may cover more
ASLLRP utterances than EmoSign's 200; rows for other utterances are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from emosign._csv import read_text_table
from emosign.errors import InputError, listing

__all__ = [
    "CaptionFileError",
    "Captions",
    "KEY_COLUMNS",
    "TEXT_COLUMNS",
    "read_captions",
]

KEY_COLUMNS: tuple[str, ...] = ("utterance_id", "video_name")
TEXT_COLUMNS: tuple[str, ...] = ("caption", "translation")


class CaptionFileError(InputError):
    """A captions file that cannot be read or matched to the clips."""


@dataclass(frozen=True)
class Captions:
    """Captions matched to clips: ``texts`` maps every video name to its caption or None."""

    texts: Mapping[str, str | None]
    missing: tuple[str, ...]  # video names without a caption, in clip order
    path: str

    def describe_missing(self, limit: int = 10) -> str:
        shown = ", ".join(self.missing[:limit])
        more = f" and {len(self.missing) - limit} more" if len(self.missing) > limit else ""
        return f"{len(self.missing)} clip(s) have no caption in {self.path}: {shown}{more}"


def read_captions(path: str | os.PathLike, clips: Iterable[tuple[str, str]]) -> Captions:
    """Match a captions CSV to clips given as ``(video_name, utterance_id)`` pairs.

    Raises
    ------
    CaptionFileError
        If the file is not UTF-8 CSV, lacks a key or text column, or gives one clip two
        different captions.
    """
    path = Path(path)
    table = read_text_table(path, what="captions file", error=CaptionFileError)
    key = next((c for c in KEY_COLUMNS if c in table.columns), None)
    text = next((c for c in TEXT_COLUMNS if c in table.columns), None)
    if key is None or text is None:
        raise CaptionFileError(
            f"captions file {path} needs a key column (one of {list(KEY_COLUMNS)}) and a text "
            f"column (one of {list(TEXT_COLUMNS)}); it has {list(table.columns)}"
        )

    by_key: dict[str, set[str]] = {}
    for k, t in zip(table[key].str.strip(), table[text].str.strip()):
        if t:
            by_key.setdefault(k, set()).add(t)

    texts: dict[str, str | None] = {}
    conflicts = []
    for video_name, utterance_id in clips:
        found = by_key.get(utterance_id if key == "utterance_id" else video_name, set())
        if len(found) > 1:
            conflicts.append(f"{video_name}: {sorted(found)}")
        texts[video_name] = next(iter(found)) if len(found) == 1 else None
    if conflicts:
        raise CaptionFileError(listing(
            f"captions file {path} gives {len(conflicts)} clip(s) conflicting captions:",
            [(None, conflicts)]))
    missing = tuple(name for name, caption in texts.items() if caption is None)
    return Captions(texts=texts, missing=missing, path=str(path))
