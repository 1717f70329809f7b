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

* ``decord`` (preferred when installed): only the requested frames are
  converted to RGB and, where the keyframe layout allows, the decoder
  seeks past the frames it does not need.
* ``pyav`` (the ``av`` package): the fallback for platforms without decord
  wheels (Linux aarch64, macOS arm64).  Every frame must pass through the
  decoder, but only the requested ones are converted to RGB, and decoding
  stops after the last requested frame.

Both backends index the clip from its container packets, express every
timestamp in seconds relative to the stream's start time, and apply the
same frame-selection rule, so they pick the same frames and report the
same timestamps (to float32 precision, about 1e-6 s, because decord stores
timestamps as float32).  A file that is empty, cut short or not a video
raises :class:`VideoError` naming the clip and the path, whichever backend
is used.

Clip files are located with :func:`find_video` / :func:`resolve_videos`.
Clip names come from label files, i.e. from outside the program, so they
are validated and the resolved path is required to stay inside the video
directory.
"""

from __future__ import annotations

import functools
import math
import os
import re
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

__all__ = [
    "DEFAULT_FPS",
    "Frames",
    "VideoError",
    "VideoIndex",
    "available_backends",
    "find_video",
    "iter_clip_frames",
    "resolve_videos",
    "sample_frames",
    "sample_times",
]

#: Sampling rate used by the EmoSign paper, in frames per second.
DEFAULT_FPS = 10.0

# decord reports timestamps as float32, so a frame that starts exactly at
# 0.1 s can come back as 0.10000000149 s.  Treating frames that start
# within this tolerance after a target time as "on screen" keeps both
# backends choosing the same frame.  It is far below any frame interval
# (a 120 fps frame lasts 8.3 ms).
_TIME_TOLERANCE = 1e-4  # seconds

_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")

_BACKENDS = ("decord", "pyav")


class VideoError(RuntimeError):
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


# ---------------------------------------------------------------------------
# Locating clip files
# ---------------------------------------------------------------------------


def _check_name(value: object, *, field: str) -> str:
    """Reject a name that could steer a path outside the video directory."""
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string, got {value!r}")
    # The specific checks come before the pattern so the error says *why*.
    if "\x00" in value:
        raise ValueError(f"{field} {value!r} contains a NUL character")
    if "/" in value or "\\" in value:
        raise ValueError(f"{field} {value!r} contains a path separator")
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute():
        raise ValueError(f"{field} {value!r} is an absolute path")
    if value in (".", ".."):
        raise ValueError(f"{field} {value!r} is a relative path component")
    if not _NAME_PATTERN.fullmatch(value):
        raise ValueError(
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
        ``video_dir``.  Such links are refused, not followed.
    """
    directory = _existing_video_dir(video_dir)
    _check_name(utterance_id, field="utterance_id")
    _check_name(video_name, field="video_name")
    root = directory.resolve()
    candidates = (
        directory / utterance_id / "crop_original_video.mp4",
        directory / f"{utterance_id}.mp4",
        directory / f"{video_name}.mp4",
    )
    for candidate in candidates:
        # lexists, not exists: a dangling link is still worth checking,
        # because its target tells us whether the directory is poisoned.
        if not os.path.lexists(candidate):
            continue
        resolved = candidate.resolve()
        if not resolved.is_relative_to(root):
            raise ValueError(
                f"clip {video_name!r}: {candidate} resolves to {resolved}, which is "
                f"outside the video directory {root}; refusing to follow the link"
            )
        if resolved.is_file():
            return resolved
    return None


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
        If any name is unsafe (see :func:`find_video`).  One poisoned label
        row fails the whole call rather than being silently skipped.
    """
    directory = _existing_video_dir(video_dir)
    paths: dict[str, str | None] = {}
    for video_name, utterance_id in clips:
        if video_name in paths:
            continue
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
            raise ValueError(
                f"pass either fps or num_frames, not both (got fps={fps!r}, "
                f"num_frames={num_frames!r}); use fps=None with num_frames"
            )
        if not _is_positive_int(num_frames):
            raise ValueError(f"num_frames must be an integer >= 1, got {num_frames!r}")
    elif fps is None:
        raise ValueError("one of fps or num_frames must be given")
    elif (
        isinstance(fps, bool)
        or not isinstance(fps, (int, float, np.number))
        or not math.isfinite(fps)
        or fps <= 0
    ):
        raise ValueError(f"fps must be a finite number > 0, got {fps!r}")
    if max_frames is not None and not _is_positive_int(max_frames):
        raise ValueError(f"max_frames must be an integer >= 1 or None, got {max_frames!r}")


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
        neither of ``fps`` / ``num_frames``, or ``duration <= 0``.
    """
    _check_sampling_options(fps, num_frames, max_frames)
    if not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a finite number > 0, got {duration!r}")
    if num_frames is not None:
        times = (np.arange(num_frames) + 0.5) * (duration / num_frames)
    else:
        # Generate a slightly generous count, then keep the times strictly
        # before the end.  The tolerance stops a float32 duration such as
        # 4.8000002 s from adding a target at exactly 4.8 s.
        assert fps is not None
        candidates = np.arange(math.ceil(duration * fps) + 1) / fps
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
        A subset of ``("decord", "pyav")``, in that order.
    """
    found = []
    for name, module in (("decord", "decord"), ("pyav", "av")):
        try:
            __import__(module)
        except ImportError:
            continue
        found.append(name)
    return tuple(found)


def _choose_backend(backend: str) -> str:
    if backend not in ("auto", *_BACKENDS):
        raise ValueError(f"backend must be 'auto', 'decord' or 'pyav', got {backend!r}")
    available = available_backends()
    if backend == "auto":
        if not available:
            raise ValueError("no video backend is installed: install 'decord' or 'av'")
        return available[0]
    if backend not in available:
        raise ValueError(
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


def _make_timeline(starts: np.ndarray, stop: float, average_fps: float) -> _Timeline:
    """Shared clean-up of what a backend read from the container."""
    if len(starts) == 0:
        raise _Unreadable("the video stream has no frames")
    fps = average_fps if average_fps > 0 else len(starts) / max(stop, _TIME_TOLERANCE)
    # Some containers store no packet durations; the last frame then gets
    # the average frame interval instead of zero length.
    if stop <= starts[-1]:
        stop = float(starts[-1]) + 1.0 / fps
    return _Timeline(starts=starts.astype(np.float64), duration=float(stop), fps=float(fps))


def _truncation_message(declared: int, readable: int) -> str:
    return (
        f"the file is truncated: its header lists {declared} frames "
        f"but only {readable} could be read"
    )


def _declared_frame_count(path: Path) -> int | None:
    """Frame count stored in the container header (mp4 has one), if any.

    A file whose data was cut off but whose index sits at the front (a
    "faststart" mp4) still opens; demuxing just ends early, and decord then
    silently reports a shorter clip.  The header's count exposes that.
    Reading the header takes about 2 ms, against tens of ms for decoding.
    """
    if "pyav" not in available_backends():
        return None
    import av

    try:
        with av.open(str(path)) as container:
            streams = container.streams.video
            return int(streams[0].frames) if streams else None
    except av.FFmpegError:
        return None  # the decoder in use reports its own, better error


class _DecordSource:
    """Frames via decord: decodes only what ``get_batch`` asks for."""

    def __init__(self, path: Path, size: tuple[int, int] | None) -> None:
        import decord

        self.errors: tuple[type[BaseException], ...] = (decord.DECORDError, RuntimeError)
        self._path = path
        width, height = size if size is not None else (-1, -1)
        try:
            self._reader = decord.VideoReader(str(path), width=width, height=height)
        except self.errors as exc:
            raise _Unreadable(f"decord could not open the file: {exc}") from exc

    def timeline(self) -> _Timeline:
        count = len(self._reader)
        if count == 0:
            raise _Unreadable("the video stream has no frames")
        declared = _declared_frame_count(self._path)
        if declared and count < declared:
            raise _Unreadable(_truncation_message(declared, count))
        # (N, 2) float32 of [start, stop] seconds, relative to the stream's
        # start time, in presentation order.
        bounds = self._reader.get_frame_timestamp(np.arange(count))
        return _make_timeline(bounds[:, 0], float(bounds[-1, 1]), self._reader.get_avg_fps())

    def read(self, indices: np.ndarray) -> np.ndarray:
        batch = self._reader.get_batch([int(i) for i in indices])
        # decord.bridge.set_bridge("torch") elsewhere in the process makes
        # get_batch return a tensor instead of a decord NDArray.
        return batch.asnumpy() if hasattr(batch, "asnumpy") else np.asarray(batch)

    def close(self) -> None:
        # decord keeps the file open until the reader is garbage-collected.
        del self._reader


class _PyAVSource:
    """Frames via PyAV: decodes up to the last wanted frame, converts only wanted ones."""

    def __init__(self, path: Path, size: tuple[int, int] | None) -> None:
        import av

        self.errors: tuple[type[BaseException], ...] = (av.FFmpegError,)
        self._av = av
        self._path = path
        self._size = size
        self._pts: np.ndarray | None = None  # (N,) int64, sorted packet pts

    def _open(self):
        try:
            container = self._av.open(str(self._path))
        except self.errors as exc:
            raise _Unreadable(f"PyAV could not open the file: {exc}") from exc
        if not container.streams.video:
            container.close()
            raise _Unreadable("the file has no video stream")
        return container

    def timeline(self) -> _Timeline:
        # Demuxing reads packet headers only, no decoding: cheap.
        with self._open() as container:
            stream = container.streams.video[0]
            pts, durations = [], []
            for packet in container.demux(stream):
                if packet.size == 0:  # the flush packet that ends demuxing
                    continue
                if packet.pts is None:
                    raise _Unreadable("a video packet has no presentation timestamp")
                pts.append(packet.pts)
                durations.append(packet.duration or 0)
            # An mp4 whose data was cut off (but whose index survived) just
            # ends demuxing early; its header still knows the true count.
            if stream.frames and len(pts) < stream.frames:
                raise _Unreadable(_truncation_message(stream.frames, len(pts)))
            if not pts:
                raise _Unreadable("the video stream has no frames")
            order = np.argsort(pts, kind="stable")
            self._pts = np.asarray(pts, dtype=np.int64)[order]
            last_stop = self._pts[-1] + np.asarray(durations, dtype=np.int64)[order][-1]
            # Same convention as decord: seconds since the stream's start time.
            origin = stream.start_time if stream.start_time is not None else self._pts[0]
            seconds_per_tick = float(stream.time_base)
            average_fps = float(stream.average_rate) if stream.average_rate else 0.0
        return _make_timeline(
            (self._pts - origin) * seconds_per_tick,
            float((last_stop - origin) * seconds_per_tick),
            average_fps,
        )

    def read(self, indices: np.ndarray) -> np.ndarray:
        assert self._pts is not None, "timeline() must be called before read()"
        slot_of_pts = {int(self._pts[i]): slot for slot, i in enumerate(indices)}
        frames: list[np.ndarray | None] = [None] * len(indices)
        width, height = self._size if self._size is not None else (None, None)
        with self._open() as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # frame-parallel decoding, as decord does
            for frame in container.decode(stream):
                slot = slot_of_pts.pop(frame.pts, None)
                if slot is None:
                    continue  # decoded (it may be a reference) but not converted
                # BILINEAR is the closest match to decord's resize.
                frames[slot] = frame.to_ndarray(
                    format="rgb24", width=width, height=height, interpolation="BILINEAR"
                )
                if not slot_of_pts:
                    break  # nothing after the last wanted frame is needed
        if slot_of_pts:
            raise _Unreadable(
                f"the decoder produced no frame for {len(slot_of_pts)} of the "
                f"indexed timestamps (first missing pts: {min(slot_of_pts)})"
            )
        return np.stack(frames)

    def close(self) -> None:
        pass


def sample_frames(
    path: str | os.PathLike[str],
    *,
    fps: float | None = DEFAULT_FPS,
    num_frames: int | None = None,
    max_frames: int | None = None,
    size: tuple[int, int] | None = None,
    backend: str = "auto",
    clip: str | None = None,
) -> Frames:
    """Decode the frames of one clip at given times.

    The target times come from :func:`sample_times` (``0, 1/fps, ...`` or
    the centres of ``num_frames`` equal segments, optionally thinned to
    ``max_frames``).  For each target time the frame on screen at that
    time is returned: the last frame whose presentation timestamp is
    ``<= t``.  Only the chosen frames are converted to RGB.

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
        Resize every frame to this size (bilinear).  Note the order:
        width first, while ``array`` is indexed ``[t, y, x]``.
    backend : {"auto", "decord", "pyav"}, default="auto"
        Decoder.  ``"auto"`` uses decord when it is installed, else PyAV.
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
        On invalid options (see :func:`sample_times`), a bad ``size`` or an
        unknown or uninstalled ``backend``.
    VideoError
        If the file is missing, empty, truncated or cannot be decoded.  The
        message names ``clip`` and ``path``.
    """
    _check_sampling_options(fps, num_frames, max_frames)
    if size is not None and not (
        isinstance(size, tuple) and len(size) == 2 and all(_is_positive_int(v) for v in size)
    ):
        raise ValueError(f"size must be a (width, height) tuple of integers >= 1, got {size!r}")
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
        source = source_class(path, size)
        timeline = source.timeline()
        times = sample_times(
            timeline.duration, fps=fps, num_frames=num_frames, max_frames=max_frames
        )
        indices = _select_indices(timeline.starts, times)
        # Decode each distinct frame once, in order, then expand repeats.
        unique, positions = np.unique(indices, return_inverse=True)
        array = source.read(unique)[positions.reshape(-1)]
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
        array=np.ascontiguousarray(array, dtype=np.uint8),
        timestamps=timeline.starts[indices],
        indices=indices,
        source_fps=timeline.fps,
        duration=timeline.duration,
        path=str(path),
    )


def iter_clip_frames(
    paths: Iterable[str | os.PathLike[str] | tuple[str, str | os.PathLike[str]]],
    **options,
) -> Iterator[Frames]:
    """Sample clips one at a time, so memory holds a single clip's frames.

    Parameters
    ----------
    paths : iterable of path, or of (clip, path) pairs
        The video files.  With pairs, ``clip`` names the clip in errors.
    **options
        Keyword options of :func:`sample_frames` (``fps``, ``num_frames``,
        ``max_frames``, ``size``, ``backend``).

    Yields
    ------
    frames : Frames
        One per input, in input order.

    Raises
    ------
    VideoError
        When a clip cannot be read; the generator stops there.  Resolve
        paths with :func:`resolve_videos` first to skip missing clips.
    """
    if "clip" in options:
        raise TypeError("pass (clip, path) pairs to iter_clip_frames instead of clip=")
    for item in paths:
        if isinstance(item, tuple):
            clip, path = item
            yield sample_frames(path, clip=clip, **options)
        else:
            yield sample_frames(item, **options)
