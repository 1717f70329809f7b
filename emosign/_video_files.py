"""Find a clip's video file inside a video directory, safely.

Clip names come from label files, i.e. from outside the program, so before
any path is built they are checked (no separators, no ``..``, nothing outside
``[A-Za-z0-9._-]``), and the file found must resolve to a regular file
inside the video directory: links that lead outside it, hard links, and ids
spelled two ways (``0123`` and ``123``) are refused rather than guessed at.

:func:`find_video` looks up one clip; :func:`resolve_videos` looks up many
and reports the missing ones in a :class:`VideoIndex`.  Users import them
from :mod:`emosign.video`.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from emosign.errors import InputError

__all__ = ["VideoIndex", "find_video", "resolve_videos"]

_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")


def _check_name(value: object, *, field: str) -> str:
    """Reject a name that could steer a path outside the video directory."""
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string, got {value!r}")
    # The specific checks come before the pattern so the error says *why*.
    if "\x00" in value:
        raise InputError(f"{field} {value!r} contains a NUL character")
    if "/" in value or "\\" in value:
        raise InputError(f"{field} {value!r} contains a path separator")
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute():
        raise InputError(f"{field} {value!r} is an absolute path")
    if value in (".", ".."):
        raise InputError(f"{field} {value!r} is a relative path component")
    if not _NAME_PATTERN.fullmatch(value):
        raise InputError(
            f"{field} {value!r} must be non-empty and contain only "
            "ASCII letters, digits, '.', '_' and '-'"
        )
    return value


def _existing_video_dir(video_dir: str | os.PathLike[str]) -> Path:
    directory = Path(video_dir).expanduser()  # "~/data/asllrp", as the README writes it
    if not directory.is_dir():
        raise FileNotFoundError(f"video directory not found: {directory}")
    return directory


def find_video(
    video_dir: str | os.PathLike[str],
    *,
    utterance_id: str,
    video_name: str,
) -> Path | None:
    """Locate one clip's video file inside ``video_dir``.

    The following layouts are tried in this order, and the first one that
    is an existing regular file wins:

    1. ``<video_dir>/<utterance_id>/crop_original_video.mp4``
    2. ``<video_dir>/<utterance_id>.mp4``
    3. ``<video_dir>/<video_name>.mp4``

    Parameters
    ----------
    video_dir : str or path-like
        Directory holding the clips.
    utterance_id : str
        ASLLRP utterance id of the clip.  Must match ``[A-Za-z0-9._-]+``.
    video_name : str
        EmoSign video name of the clip.  Must match ``[A-Za-z0-9._-]+``.

    Returns
    -------
    path : pathlib.Path or None
        Absolute, symlink-free path of the file, guaranteed to lie inside
        ``video_dir``; ``None`` when no layout matches.

    Raises
    ------
    FileNotFoundError
        If ``video_dir`` does not exist.
    ValueError
        If a name contains a path separator, NUL, ``..``, is absolute or
        has characters outside ``[A-Za-z0-9._-]``, or if a candidate is a
        symlink (or sits under a symlinked directory) that resolves outside
        ``video_dir``.  Such links are refused, not followed.  Also if the
        file is a hard link (more than one name: its other names may be
        outside ``video_dir``), or if a numeric ``utterance_id`` has another
        spelling with different leading zeros in ``video_dir`` (``0123`` and
        ``123``: either could be the clip).
    """
    directory = _existing_video_dir(video_dir)
    _check_name(utterance_id, field="utterance_id")
    _check_name(video_name, field="video_name")
    root = directory.resolve()
    _refuse_other_spellings(directory, utterance_id, video_name)
    for candidate in _candidates(directory, utterance_id, video_name):
        # lexists, not exists: a dangling link is still worth checking,
        # because its target tells us whether the directory is poisoned.
        if not os.path.lexists(candidate):
            continue
        resolved = candidate.resolve()
        if not resolved.is_relative_to(root):
            raise InputError(
                f"clip {video_name!r}: {candidate} resolves to {resolved}, which is "
                f"outside the video directory {root}; refusing to follow the link"
            )
        if resolved.is_file():
            links = resolved.stat().st_nlink
            if links > 1:
                # A hard link's other names cannot be found, so nothing
                # proves they are inside the video directory.
                raise InputError(
                    f"clip {video_name!r}: {resolved} is a hard link ({links} names for one "
                    "file), which may be a file outside the video directory; copy it "
                    "instead (cp without -l)"
                )
            return resolved
    return None


def _candidates(directory: Path, utterance_id: str, video_name: str) -> tuple[Path, ...]:
    return (
        directory / utterance_id / "crop_original_video.mp4",
        directory / f"{utterance_id}.mp4",
        directory / f"{video_name}.mp4",
    )


def _number_key(name: str) -> str | None:
    """``"0123"`` and ``"123"`` -> ``"123"``; None for a name that is not all digits."""
    if not name.isdigit():
        return None
    return name.lstrip("0") or "0"


def _refuse_other_spellings(directory: Path, utterance_id: str, video_name: str) -> None:
    """Refuse a numeric id whose zero-padded (or unpadded) spelling also has a file.

    A spreadsheet that stored ``0123`` as a number gives back ``123``; if
    ``123.mp4`` and ``0123.mp4`` (or folders) both exist, either could be
    the clip, so none is chosen.
    """
    key = _number_key(utterance_id)
    if key is None:
        return
    others = sorted(
        entry for entry in os.listdir(directory)
        if _number_key(entry.removesuffix(".mp4")) == key
        and entry.removesuffix(".mp4") != utterance_id
    )
    if others:
        raise InputError(
            f"clip {video_name!r}: utterance id {utterance_id!r} and {others[0]!r} in "
            f"{directory} differ only by leading zeros; rename one so that each clip "
            "has one spelling"
        )


@dataclass(frozen=True)
class VideoIndex:
    """Where each clip's video file is, and which clips have none.

    Attributes
    ----------
    video_dir : str
        The directory that was searched.
    paths : Mapping[str, str | None]
        ``video_name -> absolute path`` (``None`` when missing), in input
        order.  Read-only.
    missing : tuple of str
        Video names without a file, in input order.
    """

    video_dir: str
    paths: Mapping[str, str | None]
    missing: tuple[str, ...]

    def describe_missing(self, *, limit: int = 10) -> str:
        """Summarise the missing clips in one line.

        Parameters
        ----------
        limit : int, default=10
            At most this many names are listed; the rest are counted as
            ``"and N more"``.

        Returns
        -------
        message : str
            E.g. ``"2 of 200 clips have no video file in /data: a, b"``.
        """
        total = len(self.paths)
        if not self.missing:
            return f"all {total} clips have a video file in {self.video_dir}"
        shown = ", ".join(self.missing[:limit])
        hidden = len(self.missing) - limit
        if hidden > 0:
            shown += f" and {hidden} more"
        return (
            f"{len(self.missing)} of {total} clips have no video file "
            f"in {self.video_dir}: {shown}"
        )


def resolve_videos(
    video_dir: str | os.PathLike[str],
    clips: Iterable[tuple[str, str]],
) -> VideoIndex:
    """Locate the video files of many clips at once.

    Parameters
    ----------
    video_dir : str or path-like
        Directory holding the clips; see :func:`find_video` for layouts.
    clips : iterable of (video_name, utterance_id)
        One pair per clip.  A repeated ``video_name`` is looked up once.

    Returns
    -------
    index : VideoIndex

    Raises
    ------
    FileNotFoundError
        If ``video_dir`` does not exist.
    ValueError
        If any name is unsafe or any file refused (see :func:`find_video`),
        or if two clips' utterance ids differ only by leading zeros (``0123``
        and ``123``: a spreadsheet may have turned one into the other).  One poisoned label
        row fails the whole call rather than being silently skipped.
    """
    directory = _existing_video_dir(video_dir)
    paths: dict[str, str | None] = {}
    spellings: dict[str, str] = {}  # number -> the utterance id spelling it
    for video_name, utterance_id in clips:
        if video_name in paths:
            continue
        key = _number_key(utterance_id) if isinstance(utterance_id, str) else None
        if key is not None and spellings.setdefault(key, utterance_id) != utterance_id:
            raise InputError(
                f"clip {video_name!r}: utterance ids {spellings[key]!r} and {utterance_id!r} "
                "differ only by leading zeros (a spreadsheet may have dropped a zero); "
                "each clip needs an id of its own"
            )
        found = find_video(directory, utterance_id=utterance_id, video_name=video_name)
        paths[video_name] = None if found is None else str(found)
    missing = tuple(name for name, path in paths.items() if path is None)
    return VideoIndex(
        video_dir=str(directory.resolve()),
        paths=types.MappingProxyType(paths),
        missing=missing,
    )

