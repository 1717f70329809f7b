"""Decode one clip's frames at given times, with PyAV or decord.

This module is the decoding half of :mod:`emosign.video` (which users import):
:func:`sample_times` says when to look, :func:`sample_frames` returns the frame
on screen at each of those times (the last frame whose presentation timestamp
is ``<= t``), and :class:`Frames` holds the result.

Reading it top to bottom:

* the sampling rule: :func:`sample_times` and the frame on screen at each time;
* the backends: each source (``_PyAVSource``, ``_DecordSource``) indexes the
  clip from its container packets into a ``_Timeline`` (frame starts in
  seconds from the stream's start, the clip ending one median frame interval
  after its last frame starts) and then decodes the file once, up to the last
  wanted frame, converting (and resizing) only the wanted frames, straight
  into one ``(T, H, W, 3)`` array;
* the guards: frames larger than the machine's memory are refused before they
  are allocated, and a file that is missing, empty, cut short or not a video
  is a :class:`VideoError` naming the clip and the path, whichever backend;
* :func:`sample_frames` and ``sample``, which also takes the function that
  allocates the frames' array (the worker processes of :mod:`emosign._workers`
  pass one that puts it in shared memory).

It imports nothing of the package but :mod:`emosign.errors`.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from emosign.errors import EmosignError, InputError

__all__ = [
    # Public, through emosign.video.
    "DEFAULT_FPS",
    "MAX_SAMPLED_FRAMES",
    "Frames",
    "VideoError",
    "available_backends",
    "sample_frames",
    "sample_times",
    # For the package: emosign.video and emosign._workers.
    "Allocate",
    "OPTIONS",
    "check_options",
    "is_positive_int",
    "new_array",
    "sample",
    "use_one_thread",
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

_BACKENDS = ("pyav", "decord")


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

    Notes
    -----
    The message always names both the clip and the path; the decoder's own
    exception, if any, is chained as ``__cause__``.
    """

    # Named where users import it from, in tracebacks and pickles.
    __module__ = "emosign.video"

    def __init__(self, clip: str, path: str, reason: str) -> None:
        super().__init__(f"cannot read clip {clip!r} from {path}: {reason}")
        self.clip = clip
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[VideoError], tuple[str, str, str]]:
        # Rebuilt from its three fields when it crosses a process boundary.
        return type(self), (self.clip, self.path, self.reason)


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


def is_positive_int(value: object) -> TypeGuard[int | np.integer]:
    """An int (or NumPy integer) >= 1, and not a bool."""
    return bool(isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                and value >= 1)


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
        if not is_positive_int(num_frames) or num_frames > MAX_SAMPLED_FRAMES:
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
    if max_frames is not None and not is_positive_int(max_frames):
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
    import av  # when a clip is decoded only: see _PyAVSource

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


#: How a source gets the array it writes a clip's frames into: ``allocate(shape)`` returns
#: an uninitialised uint8 array of that shape.
Allocate = Callable[[tuple[int, ...]], np.ndarray]


def new_array(shape: tuple[int, ...]) -> np.ndarray:
    """The default :data:`Allocate`: fresh memory, refused beyond the machine's memory."""
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
        import decord  # an optional decoder (no wheel on macOS or ARM)

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

    def read(self, indices: np.ndarray, allocate: Allocate = new_array) -> np.ndarray:
        if self._frame_size is not None:  # decord allocates the batch itself
            width, height = self._frame_size
            _check_memory((len(indices), height, width, 3))
        batch = self._reader.get_batch([int(i) for i in indices])
        # decord.bridge.set_bridge("torch") elsewhere in the process makes
        # get_batch return a tensor instead of a decord NDArray.
        array = batch.asnumpy() if hasattr(batch, "asnumpy") else np.asarray(batch)
        if allocate is new_array:
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
        # Imported here, not at the top: PyAV takes 40 ms to import (measured), and most
        # imports of this module (through emosign.video) only look up files.
        import av
        from av.video.reformatter import VideoReformatter

        self.errors: tuple[type[BaseException], ...] = (av.FFmpegError,)
        # One scaler for the clip, run with one thread (read() passes threads=1):
        # frame.to_ndarray(format=...) sets up a new swscale context, with slice threads,
        # for every frame it converts (0.151 ms of CPU a 640x480 frame, against 0.115).
        # The pixels are the same (tests/test_video.py checks).
        self._reformatter = VideoReformatter()
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
        assert stream.time_base is not None  # a demuxed stream always has one
        return _make_timeline((self._pts - origin) * float(stream.time_base), average_fps)

    def read(self, indices: np.ndarray, allocate: Allocate = new_array) -> np.ndarray:
        assert self._pts is not None, "timeline() must be called before read()"
        slot_of_pts = {int(self._pts[i]): slot for slot, i in enumerate(indices)}
        out: np.ndarray | None = None
        width, height = self._size if self._size is not None else (None, None)
        packets: Iterator[Any]
        if self._packets is None:  # too large to hold: demux again
            self._container.seek(0)
            packets = (p for p in self._container.demux(self._stream) if p.size)
        else:
            packets = iter(self._packets)
        for packet in itertools.chain(packets, [None]):  # None flushes the decoder
            for frame in self._stream.decode(packet):
                slot = None if frame.pts is None else slot_of_pts.pop(frame.pts, None)
                if slot is None:
                    continue  # decoded (it may be a reference) but not converted
                # BILINEAR is the closest match to decord's resize.  swscale converts into
                # a frame of PyAV's (PyAV has no call that scales into a caller's buffer),
                # to_ndarray is a view of it, and one memcpy puts it in the clip's array:
                # 0.025 ms of the 0.115 ms a 640x480 frame takes, about 1% of sampling.
                # (OpenCV could convert into the array itself, no faster, and its pixels
                # differ from swscale's by up to 3.)
                rgb = self._reformatter.reformat(frame, width=width, height=height,
                                                 format="rgb24", interpolation="BILINEAR",
                                                 threads=1)
                image = rgb.to_ndarray()
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
        isinstance(size, tuple) and len(size) == 2 and all(is_positive_int(v) for v in size)
    ):
        raise InputError(f"size must be a (width, height) tuple of integers >= 1, got {size!r}")
    if max_side is not None and not is_positive_int(max_side):
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
    return sample(path, fps=fps, num_frames=num_frames, max_frames=max_frames, size=size,
                  max_side=max_side, backend=backend, threads=threads, clip=clip)


#: The keyword options of :func:`sample_frames` that :func:`check_options` accepts.
OPTIONS = frozenset({"fps", "num_frames", "max_frames", "size", "max_side", "backend", "threads"})


def check_options(options: Mapping[str, Any]) -> None:
    """Check the values of :data:`OPTIONS` before any clip is read.

    Raises ValueError (:class:`~emosign.errors.InputError`) for a bad value, as
    :func:`sample_frames` would.
    """
    _check_sampling_options(options.get("fps", DEFAULT_FPS), options.get("num_frames"),
                            options.get("max_frames"))
    _check_size_options(options.get("size"), options.get("max_side"))
    _check_threads(options.get("threads"))
    _choose_backend(options.get("backend", "auto"))


# Decoder threads when sample_frames is given threads=None: 0 (one per core), but 1 in a
# worker process of emosign._workers, where the cores are already shared out.
_default_threads = 0


def use_one_thread() -> None:
    """Make ``threads=None`` mean one decoder thread in this process (a worker's)."""
    global _default_threads
    _default_threads = 1


def _check_threads(threads: object) -> None:
    if threads is not None and not (isinstance(threads, (int, np.integer))
                                    and not isinstance(threads, bool) and threads >= 0):
        raise InputError(f"threads must be an integer >= 0 or None, got {threads!r}")


def sample(
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
    allocate: Allocate = new_array,
) -> Frames:
    """:func:`sample_frames`, writing the frames into ``allocate(shape)`` (uint8)."""
    _check_sampling_options(fps, num_frames, max_frames)
    _check_size_options(size, max_side)
    _check_threads(threads)
    if threads is None:
        threads = _default_threads
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

    source_class: type[_DecordSource | _PyAVSource] = (
        _DecordSource if backend == "decord" else _PyAVSource)
    source: _DecordSource | _PyAVSource | None = None
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
