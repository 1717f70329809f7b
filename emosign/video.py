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

This module is what users import.  The work is done in three private
modules, one job each, which read top to bottom:

* :mod:`emosign._video_files`: find a clip's file safely (:func:`find_video`,
  :func:`resolve_videos`, :class:`VideoIndex`);
* :mod:`emosign._decode`: decode one clip's frames at given times
  (:func:`sample_frames`, :func:`sample_times`, :class:`Frames`, the PyAV and
  decord backends);
* :mod:`emosign._workers`: worker processes and the shared memory their frames
  come back through (:func:`default_workers`, :func:`check_workers`,
  :class:`WorkerError`, and the worker path of :func:`iter_clip_frames`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from emosign import _decode, _workers
from emosign._decode import (
    DEFAULT_FPS,
    MAX_SAMPLED_FRAMES,
    Frames,
    VideoError,
    available_backends,
    sample_frames,
    sample_times,
)
from emosign._video_files import VideoIndex, find_video, resolve_videos
from emosign._workers import WorkerError, check_workers, default_workers

__all__ = [
    "DEFAULT_FPS",
    "MAX_SAMPLED_FRAMES",
    "Frames",
    "VideoError",
    "VideoIndex",
    "WorkerError",
    "available_backends",
    "check_workers",
    "default_workers",
    "find_video",
    "iter_clip_frames",
    "resolve_videos",
    "sample_frames",
    "sample_times",
]


def iter_clip_frames(
    paths: Iterable[str | os.PathLike[str] | tuple[str, str | os.PathLike[str]]],
    *,
    workers: int | None = 1,
    **options: Any,
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
    unknown = set(options) - _decode.OPTIONS
    if unknown:
        raise TypeError(f"iter_clip_frames got unexpected options: {sorted(unknown)}")
    _decode.check_options(options)
    workers = check_workers(workers)
    items = (
        (item[0], item[1], options) if isinstance(item, tuple) else (None, item, options)
        for item in paths
    )
    if workers == 1:
        for clip, path, _ in items:
            yield sample_frames(path, clip=clip, **options)
    else:
        yield from _workers.sample_in_workers(items, workers)
