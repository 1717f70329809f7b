"""Find EmoSign clips on disk and sample their frames by time.

EmoSign's 200 clips come from the ASLLRP corpus, but the copies people
actually have on disk differ: some are 30 fps, some were re-encoded at
24 fps.  Sampling "every third frame" would therefore give different
moments of the same utterance depending on which copy you hold.  This
module samples by **time** instead: for each target time ``t`` it returns
the frame that is on screen at ``t`` (the last frame whose presentation
timestamp is ``<= t``).  The default rate, 10 frames per second, is the
one used in the EmoSign paper, so two copies of a clip at different frame
rates yield the same number of frames showing the same moments.

Two decoders are supported and give the same frames:

* ``pyav`` (the ``av`` package, always installed; the default): the file is
  read once, every frame up to the last wanted one passes through the
  decoder, and only the wanted frames are converted to RGB (and resized).
  It is the fastest of the samplers measured by
  ``benchmarks/bench_video.py`` (decord, PyAV and OpenCV, hand-written).
* ``decord`` (Linux and Windows x86-64): ``get_batch`` does the same inside
  decord, about 1.5x the CPU time of PyAV on EmoSign-shaped clips.

Both backends index the clip from its container packets, express every
timestamp in seconds relative to the stream's start time, end the clip one
median frame interval after its last frame starts, and apply the same
frame-selection rule, so they pick the same frames and report the same
timestamps (to float32 precision, about 1e-6 s, because decord stores
timestamps as float32), B-frames and irregular frame times included.  A
file that is empty, cut short or not a video raises :class:`VideoError`
naming the clip and the path, whichever backend is used.

Clip files are located with :func:`find_video` / :func:`resolve_videos`.
Clip names come from label files, i.e. from outside the program, so they
are validated and the resolved path is required to stay inside the video
directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import math
import os
import re
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
from emosign.errors import EmosignError, InputError

__all__ = [
    "DEFAULT_FPS",
    "MAX_SAMPLED_FRAMES",
    "Frames",
    "VideoError",
    "VideoIndex",
    "WorkerError",
    "available_backends",
    "find_video",
    "check_workers",
    "default_workers",
    "iter_clip_frames",
    "resolve_videos",
    "sample_frames",
    "sample_times",
]

#: Sampling rate used by the EmoSign paper, in frames per second.
DEFAULT_FPS = 10.0

#: The most frames one clip may be sampled into: 100 s at 1,000 fps.  An fps or num_frames
#: beyond it is a mistake (a typo, a unit slip) that would otherwise exhaust memory.
MAX_SAMPLED_FRAMES = 100_000

# decord reports timestamps as float32, so a frame that starts exactly at
# 0.1 s can come back as 0.10000000149 s.  Treating frames that start
# within this tolerance after a target time as "on screen" keeps both
# backends choosing the same frame.  It is far below any frame interval
# (a 120 fps frame lasts 8.3 ms).
_TIME_TOLERANCE = 1e-4  # seconds

_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")

_BACKENDS = ("pyav", "decord")


class WorkerError(EmosignError, RuntimeError):
    """A worker process stopped abruptly: killed, out of memory, or never started.

    The last happens when a script starts workers without the ``if __name__
    == "__main__":`` guard that processes started with ``spawn`` need.
    """


class VideoError(EmosignError, RuntimeError):
    """A clip's video file is missing, empty, truncated or not decodable.

    Parameters
    ----------
    clip : str
        Name of the clip, as given by the caller (or the file name).
    path : str
        Path of the file that could not be read.
    reason : str
        What went wrong.

    The message always names both the clip and the path; the decoder's own
    exception, if any, is chained as ``__cause__``.
    """

    def __init__(self, clip: str, path: str, reason: str) -> None:
        super().__init__(f"cannot read clip {clip!r} from {path}: {reason}")
        self.clip = clip
        self.path = path
        self.reason = reason

    def __reduce__(self):
        # Rebuilt from its three fields when it crosses a process boundary.
        return type(self), (self.clip, self.path, self.reason)


# ---------------------------------------------------------------------------
# Locating clip files
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Sampling frames by time
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Frames:
    """Frames sampled from one clip.

    Attributes
    ----------
    array : ndarray of shape (T, H, W, 3), dtype uint8
        RGB frames in time order, values in [0, 255].
    timestamps : ndarray of shape (T,), dtype float64
        Presentation time, in seconds from the start of the stream, of each
        returned frame (not of the target time it was chosen for).
        Non-decreasing; a frame repeats when the sampling rate exceeds the
        clip's frame rate.
    indices : ndarray of shape (T,), dtype int64
        Position of each returned frame in the clip, counting frames in
        presentation order from 0.
    source_fps : float
        The clip's average frame rate.
    duration : float
        Clip length in seconds: end of the last frame's display interval.
    path : str
        The file the frames were read from.
    """

    array: np.ndarray
    timestamps: np.ndarray
    indices: np.ndarray
    source_fps: float
    duration: float
    path: str

    def __len__(self) -> int:
        return len(self.timestamps)

    def __repr__(self) -> str:
        # The default dataclass repr would print every pixel.
        return (
            f"Frames(array=<{self.array.shape} uint8>, timestamps=<{len(self)} s>, "
            f"source_fps={self.source_fps:g}, duration={self.duration:.3f}, "
            f"path={self.path!r})"
        )


def _is_positive_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1


def _check_sampling_options(
    fps: float | None, num_frames: int | None, max_frames: int | None
) -> None:
    if num_frames is not None:
        # fps has a default, so only an fps the caller clearly chose conflicts.
        if fps is not None and fps != DEFAULT_FPS:
            raise InputError(
                f"pass either fps or num_frames, not both (got fps={fps!r}, "
                f"num_frames={num_frames!r}); use fps=None with num_frames"
            )
        if not _is_positive_int(num_frames) or num_frames > MAX_SAMPLED_FRAMES:
            raise InputError(f"num_frames must be an integer from 1 to {MAX_SAMPLED_FRAMES:,} "
                             f"(MAX_SAMPLED_FRAMES), got {num_frames!r}")
    elif fps is None:
        raise InputError("one of fps or num_frames must be given")
    elif (
        isinstance(fps, bool)
        or not isinstance(fps, (int, float, np.number))
        or not math.isfinite(fps)
        or fps <= 0
    ):
        raise InputError(f"fps must be a finite number > 0, got {fps!r}")
    if max_frames is not None and not _is_positive_int(max_frames):
        raise InputError(f"max_frames must be an integer >= 1 or None, got {max_frames!r}")


def sample_times(
    duration: float,
    *,
    fps: float | None = DEFAULT_FPS,
    num_frames: int | None = None,
    max_frames: int | None = None,
) -> np.ndarray:
    """Target times at which a clip of the given length is sampled.

    Parameters
    ----------
    duration : float
        Clip length in seconds, > 0.
    fps : float or None, default=10.0
        Sampling rate.  Times are ``0, 1/fps, 2/fps, ...`` strictly before
        ``duration``, so there are ``ceil(duration * fps)`` of them (a 2 s
        clip gives 20 times at 10 fps, a 2.05 s clip gives 21).  Ignored
        when ``num_frames`` is given, in which case it must be ``None`` or
        left at its default.
    num_frames : int or None, default=None
        If given, return this many times: the centres of ``num_frames``
        equal segments of the clip, ``(i + 0.5) * duration / num_frames``.
        Centres, rather than ``linspace(0, duration)``, never land on the
        clip's very first or after its very last frame.
    max_frames : int or None, default=None
        Upper bound on the number of times.  If exceeded, the times are
        thinned evenly, keeping the first and last.

    Returns
    -------
    times : ndarray of shape (T,), dtype float64
        Increasing times in ``[0, duration)`` seconds; ``T >= 1``.

    Raises
    ------
    ValueError
        On ``fps <= 0``, ``num_frames < 1``, ``max_frames < 1``, both or
        neither of ``fps`` / ``num_frames``, ``duration <= 0``, or more than
        :data:`MAX_SAMPLED_FRAMES` times (before ``max_frames`` thins them).
    """
    _check_sampling_options(fps, num_frames, max_frames)
    if not (math.isfinite(duration) and duration > 0):
        raise InputError(f"duration must be a finite number > 0, got {duration!r}")
    if num_frames is not None:
        times = (np.arange(num_frames) + 0.5) * (duration / num_frames)
    else:
        # Generate a slightly generous count, then keep the times strictly
        # before the end.  The tolerance stops a float32 duration such as
        # 4.8000002 s from adding a target at exactly 4.8 s.
        assert fps is not None
        count = math.ceil(duration * fps)
        if count > MAX_SAMPLED_FRAMES:
            raise InputError(
                f"fps={fps:g} on a {duration:g} s clip asks for {count:,} frames, more than "
                f"{MAX_SAMPLED_FRAMES:,} (MAX_SAMPLED_FRAMES); lower fps, or give num_frames"
            )
        candidates = np.arange(count + 1) / fps
        times = candidates[candidates < duration - _TIME_TOLERANCE]
        if len(times) == 0:  # a clip shorter than the tolerance
            times = np.zeros(1)
    if max_frames is not None and len(times) > max_frames:
        keep = np.round(np.linspace(0, len(times) - 1, max_frames)).astype(np.int64)
        times = times[keep]
    return times.astype(np.float64)


def _select_indices(starts: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index of the frame on screen at each time: last frame with start <= t."""
    positions = np.searchsorted(starts, times + _TIME_TOLERANCE, side="right") - 1
    # A time before the first frame (a stream whose first pts is late) gets
    # the first frame rather than an invalid index.
    return np.clip(positions, 0, len(starts) - 1).astype(np.int64)


@functools.cache
def available_backends() -> tuple[str, ...]:
    """Names of the decoding backends importable here, preferred first.

    Returns
    -------
    backends : tuple of str
        A subset of ``("pyav", "decord")``, in that order.
    """
    found = []
    for name, module in (("pyav", "av"), ("decord", "decord")):
        try:
            __import__(module)
        except ImportError:
            continue
        found.append(name)
    return tuple(found)


def _choose_backend(backend: str) -> str:
    if backend not in ("auto", *_BACKENDS):
        raise InputError(f"backend must be 'auto', 'pyav' or 'decord', got {backend!r}")
    available = available_backends()
    if backend == "auto":
        if not available:
            raise InputError("no video backend is installed: install 'av' (or 'decord')")
        return available[0]
    if backend not in available:
        raise InputError(
            f"backend {backend!r} is not installed here; available: {available or 'none'}"
        )
    return backend


class _Unreadable(Exception):
    """Internal: the file is not a usable video; ``sample_frames`` adds context."""


@dataclass(frozen=True)
class _Timeline:
    starts: np.ndarray  # (N,) float64, frame start times in seconds, increasing
    duration: float
    fps: float


def _make_timeline(starts: np.ndarray, average_fps: float) -> _Timeline:
    """Shared clean-up of what a backend read from the container.

    The clip ends one typical frame interval (the median gap between frame
    starts) after the last frame starts.  Packet durations are not used:
    with B-frames they are stored in decode order, so the duration attached
    to the last *displayed* frame can belong to another frame, and decoders
    disagree about it (decord and PyAV once differed by 0.9 s on the same
    clip, so one of them repeated the last frame nine times).  The frame
    starts are the one thing both backends read identically.
    """
    if len(starts) == 0:
        raise _Unreadable("the video stream has no frames")
    starts = starts.astype(np.float64)
    gaps = np.diff(starts)
    if len(gaps):
        interval = float(np.median(gaps))
    else:  # a single frame: the container's nominal rate, else the sampling rate
        interval = 1.0 / average_fps if average_fps > 0 else 1.0 / DEFAULT_FPS
    stop = float(starts[-1]) + max(interval, _TIME_TOLERANCE)
    fps = average_fps if average_fps > 0 else len(starts) / stop
    return _Timeline(starts=starts, duration=stop, fps=float(fps))


def _truncation_message(declared: int, readable: int) -> str:
    return (
        f"the file is truncated: its header lists {declared} frames "
        f"but only {readable} could be read"
    )


def _output_size(
    width: int, height: int, size: tuple[int, int] | None, max_side: int | None
) -> tuple[int, int] | None:
    """The (width, height) frames are decoded to, or None for the stored size."""
    if size is not None:
        return size
    if max_side is None or max(width, height) <= max_side:
        return None  # never enlarged
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _probe(path: Path) -> tuple[int | None, int, int]:
    """(frame count in the container header or None, width, height), via PyAV.

    A file whose data was cut off but whose index sits at the front (a
    "faststart" mp4) still opens; demuxing just ends early, and decord then
    silently reports a shorter clip.  The header's count exposes that.
    Reading the header takes about 2 ms, against tens of ms for decoding.
    """
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise _Unreadable("the file has no video stream")
            stream = container.streams.video[0]
            return (int(stream.frames) or None, stream.codec_context.width,
                    stream.codec_context.height)
    except av.FFmpegError:
        return None, 0, 0  # the decoder in use reports its own, better error


# The most compressed video PyAV keeps in memory between indexing and
# decoding (an EmoSign clip at 640x480 is about 1 MB; a 4K one, tens of MB).
_MAX_HELD_BYTES = 256 * 2**20


def _new_array(shape: tuple[int, ...]) -> np.ndarray:
    _check_memory(shape)
    return np.empty(shape, dtype=np.uint8)


def _physical_memory() -> int | None:
    """This machine's memory in bytes, where the system says (not on Windows)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(shape: tuple[int, ...]) -> None:
    """Refuse frames of ``shape`` (uint8) larger than the machine's memory.

    Such an array would not fail at once: the kernel grants it, and kills the
    process once the frames fill it.
    """
    needed, memory = math.prod(shape), _physical_memory()
    if memory is not None and needed > memory:
        frames, height, width = shape[:3]
        raise _Unreadable(
            f"{frames:,} frames of {width}x{height} would take {needed / 2**30:,.1f} GiB, more "
            f"than this machine's {memory / 2**30:,.1f} GiB of memory; sample fewer frames "
            "(fps, num_frames, max_frames) or smaller ones (max_side, size)")


class _DecordSource:
    """Frames via decord: its ``get_batch`` decodes the clip once, in order,
    converting (and resizing) only the requested frames."""

    def __init__(
        self, path: Path, *, size: tuple[int, int] | None, max_side: int | None, threads: int
    ) -> None:
        import decord

        self.errors: tuple[type[BaseException], ...] = (decord.DECORDError, RuntimeError)
        self._declared, width, height = _probe(path)
        # decord resizes inside its decoder, so a 4K clip never exists at
        # full size in memory; it needs the output size before opening.
        out = _output_size(width, height, size, max_side) if width else size
        out_width, out_height = out if out is not None else (-1, -1)
        self._frame_size = out or ((width, height) if width else None)
        try:
            self._reader = decord.VideoReader(
                str(path), width=out_width, height=out_height, num_threads=threads
            )
        except self.errors as exc:
            raise _Unreadable(f"decord could not open the file: {exc}") from exc

    def timeline(self) -> _Timeline:
        count = len(self._reader)
        if count == 0:
            raise _Unreadable("the video stream has no frames")
        if self._declared and count < self._declared:
            raise _Unreadable(_truncation_message(self._declared, count))
        # (N, 2) float32 of [start, stop] seconds, relative to the stream's
        # start time, in presentation order.
        bounds = self._reader.get_frame_timestamp(np.arange(count))
        return _make_timeline(bounds[:, 0], self._reader.get_avg_fps())

    def read(self, indices: np.ndarray, allocate=_new_array) -> np.ndarray:
        if self._frame_size is not None:  # decord allocates the batch itself
            width, height = self._frame_size
            _check_memory((len(indices), height, width, 3))
        batch = self._reader.get_batch([int(i) for i in indices])
        # decord.bridge.set_bridge("torch") elsewhere in the process makes
        # get_batch return a tensor instead of a decord NDArray.
        array = batch.asnumpy() if hasattr(batch, "asnumpy") else np.asarray(batch)
        if allocate is _new_array:
            return array
        out = allocate(array.shape)
        out[...] = array
        return out

    def close(self) -> None:
        # decord keeps the file open until the reader is garbage-collected.
        del self._reader


class _PyAVSource:
    """Frames via PyAV, reading the file once.

    The video packets (the compressed clip, a few MB) are demuxed into
    memory, which gives the frame timeline; they are then decoded in order
    up to the last wanted frame, and only the wanted frames are converted
    (and resized) to RGB.  A stream larger than ``_MAX_HELD_BYTES`` is not
    held: it is demuxed a second time for decoding, so memory stays bounded.
    """

    def __init__(
        self, path: Path, *, size: tuple[int, int] | None, max_side: int | None, threads: int
    ) -> None:
        import av

        self.errors: tuple[type[BaseException], ...] = (av.FFmpegError,)
        self._packets: list | None = []  # None once the stream is too large to hold
        self._pts: np.ndarray | None = None  # (N,) int64, sorted packet pts
        try:
            self._container = av.open(str(path))
        except self.errors as exc:
            raise _Unreadable(f"PyAV could not open the file: {exc}") from exc
        if not self._container.streams.video:
            self._container.close()
            raise _Unreadable("the file has no video stream")
        self._stream = self._container.streams.video[0]
        context = self._stream.codec_context
        self._size = _output_size(context.width, context.height, size, max_side)
        if threads == 1:
            self._stream.thread_type = "NONE"
        else:  # frame-parallel decoding, as decord does; 0 = one thread per core
            self._stream.thread_type = "AUTO"
            self._stream.thread_count = threads

    def timeline(self) -> _Timeline:
        stream = self._stream
        pts: list[int] = []
        held = 0
        # Demuxing reads packet headers and data only, no decoding: cheap.
        for packet in self._container.demux(stream):
            if packet.size == 0:  # the flush packet that ends demuxing
                continue
            if packet.pts is None:
                raise _Unreadable("a video packet has no presentation timestamp")
            pts.append(packet.pts)
            if self._packets is not None:
                held += packet.size
                self._packets.append(packet)
                if held > _MAX_HELD_BYTES:
                    self._packets = None
        # An mp4 whose data was cut off (but whose index survived) just
        # ends demuxing early; its header still knows the true count.
        if stream.frames and len(pts) < stream.frames:
            raise _Unreadable(_truncation_message(stream.frames, len(pts)))
        if not pts:
            raise _Unreadable("the video stream has no frames")
        self._pts = np.sort(np.array(pts, dtype=np.int64))
        # Same convention as decord: seconds since the stream's start time.
        origin = stream.start_time if stream.start_time is not None else self._pts[0]
        average_fps = float(stream.average_rate) if stream.average_rate else 0.0
        return _make_timeline((self._pts - origin) * float(stream.time_base), average_fps)

    def read(self, indices: np.ndarray, allocate=_new_array) -> np.ndarray:
        assert self._pts is not None, "timeline() must be called before read()"
        slot_of_pts = {int(self._pts[i]): slot for slot, i in enumerate(indices)}
        out: np.ndarray | None = None
        width, height = self._size if self._size is not None else (None, None)
        if self._packets is None:  # too large to hold: demux again
            self._container.seek(0)
            packets = (p for p in self._container.demux(self._stream) if p.size)
        else:
            packets = iter(self._packets)
        for packet in itertools.chain(packets, [None]):  # None flushes the decoder
            for frame in self._stream.decode(packet):
                slot = slot_of_pts.pop(frame.pts, None)
                if slot is None:
                    continue  # decoded (it may be a reference) but not converted
                # BILINEAR is the closest match to decord's resize.
                image = frame.to_ndarray(
                    format="rgb24", width=width, height=height, interpolation="BILINEAR"
                )
                if out is None:
                    out = allocate((len(indices), *image.shape))
                out[slot] = image
            if not slot_of_pts:
                break  # nothing after the last wanted frame is needed
        if slot_of_pts or out is None:
            raise _Unreadable(
                f"the decoder produced no frame for {len(slot_of_pts)} of the "
                f"indexed timestamps (first missing pts: {min(slot_of_pts, default=None)})"
            )
        return out

    def close(self) -> None:
        self._packets = None
        self._container.close()


def _check_size_options(size: object, max_side: object) -> None:
    if size is not None and not (
        isinstance(size, tuple) and len(size) == 2 and all(_is_positive_int(v) for v in size)
    ):
        raise InputError(f"size must be a (width, height) tuple of integers >= 1, got {size!r}")
    if max_side is not None and not _is_positive_int(max_side):
        raise InputError(f"max_side must be an integer >= 1 or None, got {max_side!r}")
    if size is not None and max_side is not None:
        raise InputError("pass either size or max_side, not both")


def sample_frames(
    path: str | os.PathLike[str],
    *,
    fps: float | None = DEFAULT_FPS,
    num_frames: int | None = None,
    max_frames: int | None = None,
    size: tuple[int, int] | None = None,
    max_side: int | None = None,
    backend: str = "auto",
    threads: int | None = None,
    clip: str | None = None,
) -> Frames:
    """Decode the frames of one clip at given times.

    The target times come from :func:`sample_times` (``0, 1/fps, ...`` or
    the centres of ``num_frames`` equal segments, optionally thinned to
    ``max_frames``).  For each target time the frame on screen at that
    time is returned: the last frame whose presentation timestamp is
    ``<= t``.  The clip ends one typical frame interval (the median gap
    between frame starts) after its last frame starts, whatever the
    backend.  The file is decoded once, up to the last wanted frame, and
    only the wanted frames are converted to RGB (and resized).

    Parameters
    ----------
    path : str or path-like
        The video file.
    fps : float or None, default=10.0
        Sampling rate in frames per second; ``ceil(duration * fps)`` frames
        are returned.  Must be ``None`` or left at its default when
        ``num_frames`` is given.
    num_frames : int or None, default=None
        If given, return exactly this many frames, evenly spaced in time
        (centres of equal segments).
    max_frames : int or None, default=None
        Cap on the number of frames; excess target times are thinned evenly.
    size : (width, height) or None, default=None
        Resize every frame to exactly this size (bilinear), inside the
        decoder.  Note the order: width first, while ``array`` is indexed
        ``[t, y, x]``.
    max_side : int or None, default=None
        Shrink every frame, keeping its aspect ratio, so that its longer
        side is at most this many pixels; smaller clips are never enlarged.
        The decoder produces the small frames directly, so memory is
        bounded by ``T x H x W x 3`` bytes of the *output* size, not the
        clip's.  Exclusive with ``size``.
    backend : {"auto", "pyav", "decord"}, default="auto"
        Decoder.  ``"auto"`` uses PyAV (the fastest; see the module
        docstring), else decord.
        Both return the same frames at the same timestamps.
    threads : int or None, default=None
        Decoder threads: 0 lets the decoder use one per core (fastest for
        one clip at a time), 1 decodes in this thread only.  None means 0,
        except inside the worker processes of :func:`iter_clip_frames` and
        of feature extraction, where it means 1 (a process per core).
    clip : str or None, default=None
        Name used in error messages; defaults to the file name.

    Returns
    -------
    frames : Frames
        ``frames.array`` has shape (T, H, W, 3), dtype uint8, RGB;
        ``frames.timestamps`` has shape (T,), dtype float64, in seconds.

    Raises
    ------
    ValueError
        On invalid options (see :func:`sample_times`), a bad ``size`` or
        ``max_side``, or an unknown or uninstalled ``backend``.
    VideoError
        If the file is missing, empty, truncated or cannot be decoded.  The
        message names ``clip`` and ``path``.
    """
    return _sample(path, fps=fps, num_frames=num_frames, max_frames=max_frames, size=size,
                   max_side=max_side, backend=backend, threads=threads, clip=clip)


def _sample(path, *, fps, num_frames, max_frames, size, max_side, backend, threads, clip,
            allocate=_new_array) -> Frames:
    """:func:`sample_frames`, writing the frames into ``allocate(shape)`` (uint8)."""
    _check_sampling_options(fps, num_frames, max_frames)
    _check_size_options(size, max_side)
    if threads is None:
        threads = _default_threads
    elif not (isinstance(threads, (int, np.integer)) and not isinstance(threads, bool)
              and threads >= 0):
        raise InputError(f"threads must be an integer >= 0 or None, got {threads!r}")
    backend = _choose_backend(backend)
    path = Path(path)
    clip = path.name if clip is None else clip

    # Checked here rather than left to the decoders, whose messages for
    # these cases ("moov atom not found", "Invalid data") are cryptic.
    if not path.exists():
        raise VideoError(clip, str(path), "no such file")
    if not path.is_file():
        raise VideoError(clip, str(path), "not a regular file")
    if path.stat().st_size == 0:
        raise VideoError(clip, str(path), "the file is empty (0 bytes)")

    source_class = _DecordSource if backend == "decord" else _PyAVSource
    source = None
    try:
        source = source_class(path, size=size, max_side=max_side, threads=int(threads))
        timeline = source.timeline()
        times = sample_times(
            timeline.duration, fps=fps, num_frames=num_frames, max_frames=max_frames
        )
        indices = _select_indices(timeline.starts, times)
        # Decode each distinct frame once, in order; repeats (a sampling
        # rate above the clip's) are the only case that needs a second copy.
        unique, positions = np.unique(indices, return_inverse=True)
        if len(unique) == len(indices):
            array = source.read(unique, allocate)
        else:
            once = source.read(unique)
            array = allocate((len(indices), *once.shape[1:]))
            np.take(once, positions.reshape(-1), axis=0, out=array)
    except _Unreadable as exc:
        raise VideoError(clip, str(path), str(exc)) from exc.__cause__
    except Exception as exc:
        # Library errors get the clip's context; anything else is a bug
        # here and is re-raised as is.
        if source is None or not isinstance(exc, source.errors):
            raise
        raise VideoError(clip, str(path), f"{backend} failed: {exc}") from exc
    finally:
        if source is not None:
            source.close()

    return Frames(
        array=array,
        timestamps=timeline.starts[indices],
        indices=indices,
        source_fps=timeline.fps,
        duration=timeline.duration,
        path=str(path),
    )


def default_workers() -> int:
    """The cores this process may use (at least 1): the default ``workers``.

    As :func:`joblib.cpu_count` counts them (joblib comes with scikit-learn):
    the CPU affinity, a container's CPU quota (cgroups), and at most
    ``LOKY_MAX_CPU_COUNT`` when that is set.  ``os.cpu_count()`` would give a
    container limited to 2 CPUs on a 64-core host 64 workers.
    """
    from joblib import cpu_count

    return max(1, int(cpu_count()))


def check_workers(workers: object) -> int:
    """``workers`` as given, or :func:`default_workers` for None.

    Raises ValueError unless it is an integer from 1 to four per core: more
    processes than that only multiply the memory (a clip's frames each).
    """
    if workers is None:
        return default_workers()
    most = 4 * default_workers()
    if not _is_positive_int(workers) or workers > most:
        raise InputError(
            f"workers must be an integer from 1 to {most} (four per core) or None, "
            f"got {workers!r}"
        )
    return int(workers)


# Libraries that read these when they load get one thread per worker
# process; MediaPipe (glog, absl, TF Lite) then logs only errors, which
# keeps its per-clip start-up lines off the progress bar.
_WORKER_ENVIRONMENT = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "GLOG_minloglevel": "2",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


# Decoder threads when sample_frames is given threads=None: one per core,
# but one in a worker process, where the cores are already shared out.
_default_threads = 0


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed would otherwise wait for work forever."""
    import time

    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker() -> None:
    """Runs first in every worker process: one decoder/BLAS/OpenMP/OpenCV thread each."""
    import threading

    global _default_threads
    _default_threads = 1
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    os.environ.update(_WORKER_ENVIRONMENT)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn brings it; without it the variables above do
        pass
    else:
        # Pools already loaded (NumPy's BLAS) ignore the variables; this
        # limit applies to them, for the life of the process.
        threadpool_limits(1)
    try:
        import cv2
    except ImportError:
        pass
    else:
        cv2.setNumThreads(1)


def process_pool(workers: int):
    """A pool of ``workers`` processes with one thread each (see :func:`_init_worker`).

    Processes are started with ``spawn`` (no fork of a process that may hold
    decoder or BLAS threads), so a script that uses them needs the usual
    ``if __name__ == "__main__":`` guard.

    Raises
    ------
    WorkerError
        When the main script was read from standard input (``python - <
        script.py``): spawn would look for a file named ``<stdin>`` to import
        in every worker, and every worker would die.
    """
    import multiprocessing
    import sys
    from concurrent.futures import ProcessPoolExecutor

    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if script and getattr(main, "__spec__", None) is None and not os.path.isfile(script):
        raise WorkerError(
            f"worker processes cannot start when the main script is {script!r}, not a file "
            "(each worker imports the main script from its file); save the script to a "
            "file, or pass workers=1 (--workers 1) to work in this process"
        )
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
    )


@contextlib.contextmanager
def dead_workers_explained() -> Iterator[None]:
    """A process pool's ``BrokenProcessPool`` raised inside, as a :class:`WorkerError`
    that names what usually causes it and the way around it."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        yield
    except BrokenProcessPool as exc:
        raise WorkerError(
            "a worker process stopped abruptly (killed, out of memory, or started by a "
            'script without the `if __name__ == "__main__":` guard that worker processes '
            "need); pass workers=1 (--workers 1) to work in this process instead"
        ) from exc


def ordered_map(function, items: Iterable, *, workers: int, window: int | None = None,
                discard=None):
    """``map(function, items)`` over a process pool, results in input order.

    At most ``window`` (default ``2 * workers``) items are in flight at a
    time, so memory holds a bounded number of results however slowly the
    caller consumes them.  An exception from ``function`` is raised when its
    item's turn comes; the pool is then shut down and pending items cancelled.
    ``discard(result)`` is called on results computed but never handed out
    (when the caller stops early), to free what they hold.
    """
    from collections import deque
    from itertools import islice

    items = iter(items)
    window = window or 2 * workers
    pool = process_pool(workers)
    pending: deque = deque()
    try:
        with dead_workers_explained():
            pending.extend(pool.submit(function, item) for item in islice(items, window))
            while pending:
                result = pending.popleft().result()
                for item in islice(items, 1):
                    pending.append(pool.submit(function, item))
                yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            if discard and not future.cancelled() and future.exception() is None:
                discard(future.result())


def _sample_one(item: tuple[str | None, str | os.PathLike[str], dict]) -> Frames:
    clip, path, options = item
    return sample_frames(path, clip=clip, **options)


# A clip's frames (tens of MB) would cost several copies through a pipe, and a
# fresh shared-memory file per clip costs nearly as much in page faults
# (30 ms of CPU for a 44 MB clip, measured; the decoding itself takes 85 ms).
# So the parent keeps a few files in shared memory (tmpfs), "slots".  A
# worker writes a clip's frames straight into the slot it is given and keeps
# its mapping for the next clip; the caller gets an array on a private
# (copy-on-write) mapping of that slot, which behaves like ordinary memory.
# Once that array and every view of it are freed, the slot takes a later
# clip, or is deleted when enough slots are free already.  Where a slot
# cannot be had (no /dev/shm, or it is full), that clip's frames are pickled.
_SHARED_DIR = "/dev/shm"
_SLOT_PREFIX = "emosign-frames-"

# In a worker: its mapping of each slot it has written into.
_worker_mappings: dict[str, object] = {}  # mmap.mmap objects

# Forks of this process (os.fork, multiprocessing's "fork").  A forked child
# inherits the caller's arrays on slots, so a slot freed here after a fork may
# still be seen there: it is deleted rather than reused.
_forks = 0


def _count_fork() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_parent=_count_fork)


def _writable_slot(file: str, size: int):
    """In a worker: a shared mapping of slot ``file``, at least ``size`` bytes long.

    The file grows when a clip needs more room, with ``posix_fallocate`` so
    that a full /dev/shm is an OSError here rather than a SIGBUS while writing.
    """
    import mmap

    # Slots the parent has deleted are gone for good: drop them, freeing their memory.
    for gone in [name for name in _worker_mappings if not os.path.exists(name)]:
        del _worker_mappings[gone]
    mapped = _worker_mappings.get(file)
    if mapped is not None and len(mapped) >= size:
        return mapped
    fd = os.open(file, os.O_RDWR)
    try:
        size = max(size, os.fstat(fd).st_size, 1)
        os.posix_fallocate(fd, 0, size)
        mapped = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    _worker_mappings[file] = mapped
    return mapped


@dataclass(frozen=True)
class _FromWorker:
    """A worker's answer for one clip and the slot it was given (None: no slot).

    With ``shape`` set the pixels wait in the slot and ``frames`` has an empty
    array; with None (no slot, or no room in it) ``frames`` holds them.
    """

    frames: Frames
    slot: str | None
    shape: tuple[int, ...] | None


def _sample_into_slot(
    item: tuple[str | None, str | os.PathLike[str], dict, str | None]
) -> _FromWorker:
    """In a worker: sample one clip, writing its frames into the slot file."""
    clip, path, options, slot = item
    shapes: list[tuple[int, ...]] = []

    def allocate(shape: tuple[int, ...]) -> np.ndarray:
        if shapes or slot is None:  # one array per clip lives in the slot
            return _new_array(shape)
        try:
            mapped = _writable_slot(slot, math.prod(shape))
        except OSError:
            return _new_array(shape)
        shapes.append(shape)
        return np.ndarray(shape, dtype=np.uint8, buffer=mapped)

    frames = _sample(path, clip=clip, allocate=allocate, **{
        "fps": DEFAULT_FPS, "num_frames": None, "max_frames": None, "size": None,
        "max_side": None, "backend": "auto", "threads": None, **options})
    if not shapes or frames.array.shape != shapes[0]:
        return _FromWorker(frames=frames, slot=slot, shape=None)
    empty = dataclasses.replace(frames, array=_new_array((0, *shapes[0][1:])))
    return _FromWorker(frames=empty, slot=slot, shape=shapes[0])


class _Slots:
    """The parent's slot files: created as needed, kept while free (at most ``keep``
    of them), deleted when the iteration ends.

    :meth:`take` hands the caller an array on the slot itself, with no copy;
    the slot is given to a worker again only once every array (and view) on
    it has been freed, and no fork has happened since.  So the slots number
    the clips in flight plus those the caller holds, and shared memory holds
    no more than that and ``keep`` free slots.
    """

    def __init__(self, *, keep: int) -> None:
        import queue

        self.keep = keep
        self.files: list[str] = []  # every slot made, for the tests
        self._live: set[str] = set()
        self._free: list[str] = []
        # Put by weakref callbacks, which may run in any thread or in the
        # middle of another call: SimpleQueue is safe there.  They are sorted
        # out later, by give() and remove() (deleting a file there could
        # re-enter the resource tracker's lock).
        self._released: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()

    def give(self) -> str | None:
        """A slot no array maps: a free one, or a new empty file (None if none can be made)."""
        import tempfile

        self._sort_released()
        if self._free:
            return self._free.pop()
        try:
            fd, file = tempfile.mkstemp(prefix=_SLOT_PREFIX, dir=_SHARED_DIR)
        except OSError:  # no room or no permission in /dev/shm: this clip is pickled
            return None
        os.close(fd)
        self.files.append(file)
        self._live.add(file)
        # The resource tracker deletes the file if this process dies without
        # removing it (a POSIX shared-memory name is its file in /dev/shm).
        _track(file, register=True)
        return file

    def take(self, result: _FromWorker) -> Frames:
        """The Frames of a worker's answer, their array on a private mapping of its slot."""
        import mmap
        import weakref

        if result.shape is None:
            if result.slot is not None:
                self._released.put((result.slot, _forks))
            return result.frames
        size = math.prod(result.shape)
        fd = os.open(result.slot, os.O_RDONLY)
        try:
            # Private: what the caller writes stays in this process (copy on write).
            mapping = mmap.mmap(fd, size, access=mmap.ACCESS_COPY)
        finally:
            os.close(fd)
        flat = np.frombuffer(mapping, dtype=np.uint8, count=size)
        # Every view of the array, and anything built on it, keeps the mapping
        # alive (through NumPy's buffer object); when it goes, no one here
        # sees the slot.
        weakref.finalize(mapping, self._released.put, (result.slot, _forks))
        return dataclasses.replace(result.frames, array=flat.reshape(result.shape))

    def remove(self) -> None:
        """Delete every slot file; those still mapped keep their memory until their arrays go."""
        self._sort_released()
        for file in list(self._live):
            self._delete(file)

    def _sort_released(self) -> None:
        import queue

        while True:
            try:
                slot, forks = self._released.get_nowait()
            except queue.Empty:
                return
            if slot not in self._live:
                continue
            if forks != _forks or len(self._free) >= self.keep:
                self._delete(slot)
            else:
                self._free.append(slot)

    def _delete(self, file: str) -> None:
        self._live.discard(file)
        if file in self._free:
            self._free.remove(file)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(file)
        _track(file, register=False)


def _track(file: str, *, register: bool) -> None:
    """Tell multiprocessing's resource tracker about a shared file (Linux /dev/shm)."""
    from multiprocessing import resource_tracker

    name = "/" + os.path.basename(file)
    if register:
        resource_tracker.register(name, "shared_memory")
    else:
        resource_tracker.unregister(name, "shared_memory")


def _sample_in_workers(items: Iterator[tuple], workers: int) -> Iterator[Frames]:
    """:func:`iter_clip_frames` with ``workers`` processes (see the note on slots)."""
    window = 2 * workers
    if not (hasattr(os, "posix_fallocate") and os.path.isdir(_SHARED_DIR)):
        yield from ordered_map(_sample_one, items, workers=workers, window=window)
        return
    slots = _Slots(keep=window + 1)
    tasks = ((*item, slots.give()) for item in items)
    results = ordered_map(_sample_into_slot, tasks, workers=workers, window=window)
    try:
        for result in results:
            yield slots.take(result)
    finally:
        results.close()  # waits for the workers, which may still write into slots
        slots.remove()


def iter_clip_frames(
    paths: Iterable[str | os.PathLike[str] | tuple[str, str | os.PathLike[str]]],
    *,
    workers: int | None = 1,
    **options,
) -> Iterator[Frames]:
    """Sample many clips, in order, with a bounded number in memory at once.

    Parameters
    ----------
    paths : iterable of path, or of (clip, path) pairs
        The video files.  With pairs, ``clip`` names the clip in errors.
    workers : int or None, default=1
        Processes decoding clips in parallel, each with one decoder thread;
        None uses every core this process may run on.  The frames come back
        through shared memory without a copy: each array is a private
        (copy-on-write) mapping of the buffer a worker wrote, which takes
        another clip only once the array (and every view of it) is freed.  At
        most ``2 * workers`` clips are decoded ahead of the one being consumed.
        The workers are started with ``spawn``, so a script needs the usual
        ``if __name__ == "__main__":`` guard (a notebook does not); that is
        why the default, 1, decodes in this process, with the decoder's own
        threads, and starts nothing.  On 2 cores, ``workers=2`` samples
        1.2-1.4x as fast as 1 (see ``benchmarks/bench_video.py``).
    **options
        Keyword options of :func:`sample_frames` (``fps``, ``num_frames``,
        ``max_frames``, ``size``, ``max_side``, ``backend``, ``threads``).
        They are checked before any clip is read.

    Yields
    ------
    frames : Frames
        One per input, in input order; the same arrays whatever ``workers``.

    Raises
    ------
    VideoError
        When a clip cannot be read; the generator stops there.  Resolve
        paths with :func:`resolve_videos` first to skip missing clips.
    WorkerError
        When a worker process stops abruptly (killed, out of memory, or a
        script without the ``__main__`` guard).
    """
    if "clip" in options:
        raise TypeError("pass (clip, path) pairs to iter_clip_frames instead of clip=")
    unknown = set(options) - {"fps", "num_frames", "max_frames", "size", "max_side",
                              "backend", "threads"}
    if unknown:
        raise TypeError(f"iter_clip_frames got unexpected options: {sorted(unknown)}")
    _check_sampling_options(options.get("fps", DEFAULT_FPS), options.get("num_frames"),
                            options.get("max_frames"))
    _check_size_options(options.get("size"), options.get("max_side"))
    _choose_backend(options.get("backend", "auto"))
    workers = check_workers(workers)
    items = (
        (item[0], item[1], options) if isinstance(item, tuple) else (None, item, options)
        for item in paths
    )
    if workers == 1:
        yield from map(_sample_one, items)
    else:
        yield from _sample_in_workers(items, workers)
