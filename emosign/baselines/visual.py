"""Visual features of EmoSign clips, computed once per clip and cached on disk.

The EmoSign annotators say the emotion of an ASL utterance is carried by the
non-manual markers (eyebrows, eyes, mouth, head nods, shakes and tilts,
shoulders) and by how the signs are made: their size, speed, repetition and
holds.  This module turns each clip into one fixed-length vector of such cues,
for the visual baselines:

* :data:`MOTION`, the light extractor, needs only the video decoder, NumPy and
  OpenCV.  It measures how much, how fast, how often and how widely things
  move, separately in the head region (found with OpenCV's bundled face
  detector) and in the rest of the frame (the signing space).
* :func:`emosign.baselines.landmarks.landmark_extractor` (optional,
  ``pip install ".[landmarks]"``) reads face, hand and body landmarks with
  MediaPipe Holistic.

Both are :class:`~emosign.baselines.extractor.FeatureExtractor` values.

:func:`extract_features` runs an extractor over many clips, caches every
clip's vector on disk, and returns a :class:`FeatureTable` that lists the clips
it could not use.  A second run reads the cache and costs about one read of
each video file (to hash it).

Motion features
---------------
Frames are sampled by time at ``fps`` (10 per second, as in the paper) and
reduced to grey images ``width`` pixels wide (160; the height keeps the
aspect ratio).  For every step between consecutive samples the module
computes the absolute grey-level difference and the dense optical flow
(Farneback), and a pixel *moves* in a step when its flow speed exceeds
``moving_speed`` (0.05 frame widths per second).  Speeds are in frame widths
per second, so they do not depend on the video's resolution.  The flow
follows displacements up to about 20 pixels per step, i.e. about 1.25 frame
widths per second at the defaults (a hand crossing the frame in under a
second); faster movements are under-estimated, while their frame difference
still grows.  A higher ``fps`` raises that limit at a proportional cost.

The *face* region is the head: the median of the face boxes that the Haar
detector finds on ``detect_frames`` evenly spaced frames, enlarged to take in
the hair, ears and chin.  When no face is found in any of those frames, an
upper-centre box (where an ASLLRP signer's head is) is used instead and
``face_detected_fraction`` is 0.  The *body* region is the rest of the frame:
the hands, arms, shoulders and torso, i.e. the signing space.

Each region R in ``face`` and ``body`` gives:

=========================  ====================  =================================================
name                       unit                  meaning
=========================  ====================  =================================================
``R_diff_mean``            grey levels (0-255)   mean over steps of the region's mean absolute
                                                 frame difference (motion energy)
``R_diff_std``             grey levels           its standard deviation over steps
``R_diff_max``             grey levels           its largest step
``R_speed_mean``           frame widths / s      mean over steps of the region's mean flow speed
``R_speed_std``            frame widths / s      its standard deviation over steps
``R_speed_max``            frame widths / s      its largest step: how sharp the fastest movement is
``R_still_fraction``       0-1                   share of steps in which fewer than ``still_share``
                                                 (1 %) of the region's pixels move: pauses, holds
``R_peaks_per_s``          1 / s                 speed peaks per second (local maxima of the speed
                                                 series at moving steps, prominent by at least a
                                                 quarter of its maximum): repetition, rhythm
=========================  ====================  =================================================

and, once per clip:

=========================  ====================  =================================================
``body_extent_area``       0-1                   share of the frame covered by the body region's
                                                 motion footprint (pixels that move in at least
                                                 5 % of the steps): the size of the signing space
``body_extent_width``      frame widths          horizontal spread of the footprint (2nd to 98th
                                                 percentile of its pixels' x)
``body_extent_height``     frame heights         vertical spread of the footprint (same, on y)
``face_vertical_share``    0-1                   share of the head region's flow that is vertical,
                                                 sum |dy| / (sum |dx| + sum |dy|) over its moving
                                                 pixels and all steps: near 1 for nods,
                                                 near 0 for shakes, 0.5 when nothing moves
``face_detected_fraction`` 0-1                   share of the searched frames in which a face was
                                                 found
=========================  ====================  =================================================

The cache
---------
``<cache_dir>/<extractor name>/<clip>-<key>.json`` holds one clip's vector.
The key is a SHA-256 over the clip's name, the SHA-256 of the video file's
bytes (so a re-encoded or replaced video is never served stale features,
while a moved or copied one still hits), the extractor's name, version,
settings (sampling rate, working size, thresholds) and feature names.  File
names are built only from the clip name with everything outside
``[A-Za-z0-9_-]`` replaced, and from that hash, so no clip name can make the
cache write outside ``cache_dir``.  Writes go to a temporary file first and are
moved into place with :func:`os.replace`, so an interrupted run never leaves a
half-written entry.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from emosign._io import parse_json, write_atomically
from emosign._progress import progress_bar
from emosign._workers import check_workers, ordered_map
from emosign.baselines.extractor import FeatureExtractor
from emosign.errors import EmosignError, InputError, MissingExtraError
from emosign.video import DEFAULT_FPS, VideoError, sample_frames

__all__ = [
    "MOTION",
    "MOTION_FEATURE_NAMES",
    "FeatureExtractionError",
    "FeatureExtractor",
    "FeatureTable",
    "MotionSettings",
    "detect_faces",
    "extract_features",
    "head_box",
    "motion_extractor",
    "motion_features",
]


# ---------------------------------------------------------------------------
# Motion features
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MotionSettings:
    """Options of the motion extractor; all of them are part of the cache key.

    Attributes
    ----------
    fps : float
        Sampling rate in frames per second.
    width : int
        Width in pixels of the grey images the motion is measured on.
    detect_width : int
        Width in pixels of the images the face detector searches.
    detect_frames : int
        Number of evenly spaced frames searched for a face.
    moving_speed : float
        Flow speed, in frame widths per second, above which a pixel moves.
    still_share : float
        A step is still in a region when fewer than this share of the
        region's pixels move.
    footprint_share : float
        A pixel belongs to the motion footprint when it moves in at least
        this share of the steps.
    peak_prominence : float
        A speed peak must stand out from its surroundings by at least this
        share of the series' maximum.
    """

    fps: float = DEFAULT_FPS
    width: int = 160
    detect_width: int = 320
    detect_frames: int = 5
    moving_speed: float = 0.05
    still_share: float = 0.01
    footprint_share: float = 0.05
    peak_prominence: float = 0.25


_REGION_STATS = (
    "diff_mean", "diff_std", "diff_max",
    "speed_mean", "speed_std", "speed_max",
    "still_fraction", "peaks_per_s",
)  # fmt: skip

MOTION_FEATURE_NAMES: tuple[str, ...] = (
    *(f"face_{s}" for s in _REGION_STATS),
    *(f"body_{s}" for s in _REGION_STATS),
    "body_extent_area",
    "body_extent_width",
    "body_extent_height",
    "face_vertical_share",
    "face_detected_fraction",
)

# How a Haar face box (brows to chin, cheek to cheek) is grown into a head
# box: head motion (nods, shakes, tilts) moves the hair, ears and chin most.
_HEAD_GROW_SIDES = 0.25  # of the face width, on each side
_HEAD_GROW_TOP = 0.35  # of the face height
_HEAD_GROW_BOTTOM = 0.2  # of the face height

# Where an ASLLRP signer's head is when the detector finds no face: the
# signer faces the camera, centred, head in the upper third.
_DEFAULT_HEAD = (0.35, 0.02, 0.65, 0.38)  # (x0, y0, x1, y1) as shares of width, height

_CASCADE_FILE = "haarcascade_frontalface_default.xml"


def _cv2():
    """OpenCV, imported on first use so that ``import emosign`` stays light."""
    import cv2

    return cv2


_cascade = None


def _face_cascade():
    global _cascade
    if _cascade is None:
        cv2 = _cv2()
        data = getattr(cv2, "data", None)
        path = os.path.join(data.haarcascades, _CASCADE_FILE) if data else _CASCADE_FILE
        if not hasattr(cv2, "CascadeClassifier") or not os.path.isfile(path):
            # OpenCV 5's wheels no longer ship the Haar cascades.
            raise MissingExtraError(
                f"OpenCV {cv2.__version__} has no bundled Haar face detector; "
                "install 'opencv-python-headless>=4.8,<5'"
            )
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise MissingExtraError(f"OpenCV could not load its face detector from {path}")
        _cascade = cascade
    return _cascade


def detect_faces(grey: np.ndarray) -> list[tuple[int, int, int, int] | None]:
    """Find the largest frontal face in each image with OpenCV's Haar detector.

    Parameters
    ----------
    grey : ndarray of shape (T, H, W), dtype uint8
        Grey images.

    Returns
    -------
    boxes : list of (x, y, w, h) or None
        One per image, in pixels of ``grey``; ``None`` where no face is found.
    """
    cascade = _face_cascade()
    height, width = grey.shape[1:]
    # An ASLLRP signer's face is a fifth to a third of the frame's height;
    # much smaller boxes are false positives, and skipping the small scales
    # halves the detector's time.
    smallest = max(24, min(width, height) // 8)
    boxes: list[tuple[int, int, int, int] | None] = []
    for image in grey:
        found = cascade.detectMultiScale(
            image, scaleFactor=1.1, minNeighbors=5,
            minSize=(smallest, smallest),
        )
        if len(found) == 0:
            boxes.append(None)
        else:
            x, y, w, h = max(found, key=lambda b: b[2] * b[3])
            boxes.append((int(x), int(y), int(w), int(h)))
    return boxes


def head_box(
    boxes: Sequence[tuple[float, float, float, float] | None], *, width: int, height: int
) -> tuple[int, int, int, int]:
    """The head region: the median face box, enlarged, clipped to the frame.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h) or None
        Face boxes in pixels of a ``width`` x ``height`` frame; ``None``
        where no face was found.
    width, height : int
        Frame size in pixels.

    Returns
    -------
    box : (x0, y0, x1, y1)
        Pixel bounds, ``x0 <= x < x1``, ``y0 <= y < y1``, never empty.  The
        upper-centre default head box when no face was found at all.
    """
    found = np.array([b for b in boxes if b is not None], dtype=np.float64)
    if len(found) == 0:
        x0, y0, x1, y1 = _DEFAULT_HEAD
        bounds = (x0 * width, y0 * height, x1 * width, y1 * height)
    else:
        # The median resists a stray detection on a hand or the background.
        x, y, w, h = np.median(found, axis=0)
        bounds = (
            x - _HEAD_GROW_SIDES * w,
            y - _HEAD_GROW_TOP * h,
            x + w + _HEAD_GROW_SIDES * w,
            y + h + _HEAD_GROW_BOTTOM * h,
        )
    x0 = int(np.clip(round(bounds[0]), 0, width - 1))
    y0 = int(np.clip(round(bounds[1]), 0, height - 1))
    x1 = int(np.clip(round(bounds[2]), x0 + 1, width))
    y1 = int(np.clip(round(bounds[3]), y0 + 1, height))
    return x0, y0, x1, y1


def _to_grey(frames: np.ndarray, width: int) -> np.ndarray:
    """(T, H, W, 3) RGB uint8 -> (T, h, width) grey uint8, aspect ratio kept."""
    cv2 = _cv2()
    height = max(1, round(frames.shape[1] * width / frames.shape[2]))
    return np.stack([
        cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (width, height),
                   interpolation=cv2.INTER_AREA)
        for f in frames
    ])


def _flow(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Farneback dense optical flow, (h, w, 2) in pixels per step (dx, dy)."""
    cv2 = _cv2()
    # A 9-pixel window suits 160-pixel-wide frames: large enough to follow a
    # hand across a step, small enough not to smear it over the face.
    return cv2.calcOpticalFlowFarneback(
        previous, current, None, pyr_scale=0.5, levels=3, winsize=9,
        iterations=3, poly_n=5, poly_sigma=1.1, flags=0,
    )


def _count_peaks(speed: np.ndarray, moving: np.ndarray, prominence: float) -> int:
    """Local maxima of ``speed`` at moving steps, prominent by ``prominence`` x max."""
    from scipy.signal import find_peaks

    if len(speed) == 0 or not moving.any():
        return 0
    # Zero padding lets a movement that starts or ends the clip count.
    padded = np.concatenate([[0.0], speed, [0.0]])
    peaks, _ = find_peaks(padded, prominence=prominence * speed.max())
    return int(np.count_nonzero(moving[peaks - 1]))


def _spread(values: np.ndarray) -> float:
    if len(values) == 0:
        return 0.0
    low, high = np.percentile(values, [2, 98])
    return float(high - low)


def motion_features(
    frames: np.ndarray, *, settings: MotionSettings = MotionSettings()
) -> np.ndarray:
    """Motion features of one clip's sampled frames.

    Parameters
    ----------
    frames : ndarray of shape (T, H, W, 3), dtype uint8
        RGB frames sampled at ``settings.fps``; ``T >= 2``.
    settings : MotionSettings

    Returns
    -------
    x : ndarray of shape (len(MOTION_FEATURE_NAMES),), dtype float64
        Finite; see the module docstring for each feature.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) < 2:
        raise InputError(f"need (T >= 2, H, W, 3) RGB frames, got shape {frames.shape}")
    cv2 = _cv2()
    step_seconds = 1.0 / settings.fps
    grey = _to_grey(frames, settings.width)  # (T, h, w)
    n_frames, h, w = grey.shape

    # The head box, from a few evenly spaced frames at the detector's size.
    picks = np.unique(np.linspace(0, n_frames - 1, settings.detect_frames).round().astype(int))
    detect_grey = _to_grey(frames[picks], settings.detect_width)
    boxes = detect_faces(detect_grey)
    scale = w / settings.detect_width
    scaled = [None if b is None else tuple(v * scale for v in b) for b in boxes]
    x0, y0, x1, y1 = head_box(scaled, width=w, height=h)
    in_face = np.zeros((h, w), dtype=bool)
    in_face[y0:y1, x0:x1] = True
    regions = {"face": in_face, "body": ~in_face}

    # Per-step series: (steps,) per region.
    n_steps = n_frames - 1
    diff = {r: np.zeros(n_steps) for r in regions}
    speed = {r: np.zeros(n_steps) for r in regions}
    moving_share = {r: np.zeros(n_steps) for r in regions}
    moved_count = np.zeros((h, w), dtype=np.int32)
    face_dx = face_dy = 0.0  # summed |flow| of the head's moving pixels, in pixels
    for t in range(n_steps):
        absdiff = cv2.absdiff(grey[t + 1], grey[t]).astype(np.float32)
        flow = _flow(grey[t], grey[t + 1])
        pixel_speed = np.hypot(flow[..., 0], flow[..., 1]) / w / step_seconds  # widths/s
        moving = pixel_speed > settings.moving_speed
        moved_count += moving
        for r, mask in regions.items():
            if mask.any():  # a face filling the whole frame leaves no body
                diff[r][t] = absdiff[mask].mean()
                speed[r][t] = pixel_speed[mask].mean()
                moving_share[r][t] = moving[mask].mean()
        # Only moving pixels, so that flow noise on a still head has no say.
        face_moving = flow[in_face & moving]
        face_dx += float(np.abs(face_moving[:, 0]).sum())
        face_dy += float(np.abs(face_moving[:, 1]).sum())

    duration = n_steps * step_seconds
    values: list[float] = []
    for r in regions:
        moving_steps = moving_share[r] >= settings.still_share
        values += [
            diff[r].mean(), diff[r].std(), diff[r].max(),
            speed[r].mean(), speed[r].std(), speed[r].max(),
            1.0 - moving_steps.mean(),
            _count_peaks(speed[r], moving_steps, settings.peak_prominence) / duration,
        ]

    footprint = (moved_count >= max(1, math.ceil(settings.footprint_share * n_steps)))
    footprint &= regions["body"]
    ys, xs = np.nonzero(footprint)
    values += [footprint.mean(), _spread(xs) / w, _spread(ys) / h]

    total = face_dx + face_dy
    values.append(face_dy / total if total > 0 else 0.5)
    values.append(sum(b is not None for b in boxes) / len(boxes))
    return np.asarray(values, dtype=np.float64)


def _extract_motion(path: Path, *, settings: MotionSettings) -> np.ndarray:
    frames = sample_frames(path, fps=settings.fps)
    if len(frames) < 2:
        raise VideoError(
            path.name, str(path),
            f"too short for motion features: {len(frames)} frame(s) at {settings.fps:g} fps",
        )
    return motion_features(frames.array, settings=settings)


def motion_extractor(*, settings: MotionSettings = MotionSettings()) -> FeatureExtractor:
    """The light motion extractor, with non-default ``settings`` if given."""
    return FeatureExtractor(
        name="motion",
        # 2: frames decoded by PyAV rather than decord by default (pixels
        # differ by a grey level or two; the frames are the same ones).
        version="2",
        feature_names=MOTION_FEATURE_NAMES,
        # A partial of a module-level function pickles, for worker processes.
        function=functools.partial(_extract_motion, settings=settings),
        settings=settings,
    )


#: The motion extractor with default settings.
MOTION = motion_extractor()


# ---------------------------------------------------------------------------
# Running an extractor over many clips, with the cache
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureTable:
    """Features of many clips, and the clips that have none.

    Attributes
    ----------
    video_names : tuple of str
        Clips with features, in input order.
    X : ndarray of shape (len(video_names), len(feature_names)), dtype float64
        One row per clip; all values finite.
    feature_names : tuple of str
    missing : tuple of str
        Clips given without a video file, in input order.
    failed : tuple of (clip, reason)
        Clips whose video could not be read, in input order.
    extractor : str
        Name and version of the extractor, e.g. ``"motion v2"``.
    """

    video_names: tuple[str, ...]
    X: np.ndarray
    feature_names: tuple[str, ...]
    missing: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    extractor: str = ""

    def __post_init__(self) -> None:
        expected = (len(self.video_names), len(self.feature_names))
        if self.X.shape != expected:
            raise InputError(f"X has shape {self.X.shape}, expected {expected}")

    @property
    def n_requested(self) -> int:
        """Number of clips asked for: with features, missing or failed."""
        return len(self.video_names) + len(self.missing) + len(self.failed)

    def describe(self, *, limit: int = 10) -> str:
        """One line for the caller's output, e.g.
        ``"motion v2: features for 198 of 200 clips; 1 without a video: a; 1 unreadable: b (...)"``.
        """
        parts = [
            f"{self.extractor}: features for {len(self.video_names)} of {self.n_requested} clips"
        ]
        if self.missing:
            parts.append(f"{len(self.missing)} without a video: "
                         + _name_list(list(self.missing), limit))
        if self.failed:
            parts.append(f"{len(self.failed)} unreadable: " + _name_list(
                [f"{clip} ({reason})" for clip, reason in self.failed], limit))
        return "; ".join(parts)


class FeatureExtractionError(EmosignError, RuntimeError):
    """Clips without a video, or unreadable, when the caller asked to stop.

    Attributes
    ----------
    missing : tuple of str
    failed : tuple of (clip, reason)
    """

    def __init__(self, message: str, *, missing=(), failed=()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)
        self.failed = tuple(failed)


def _name_list(names: list[str], limit: int) -> str:
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        shown += f" and {len(names) - limit} more"
    return shown


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _safe_stem(text: str) -> str:
    """A file-name fragment made only of ``[A-Za-z0-9_-]``: no dots, no separators."""
    return _UNSAFE.sub("_", text)[:80] or "_"


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_file(cache_dir: Path, extractor: FeatureExtractor, clip: str, key: str) -> Path:
    return cache_dir / _safe_stem(extractor.name) / f"{_safe_stem(clip)}-{key[:24]}.json"


def _read_cached(path: Path, key: str, n_features: int) -> np.ndarray | None:
    """The cached vector, or None when absent, corrupt or for another key."""
    try:
        entry = parse_json(path.read_text(encoding="utf-8"))
        x = np.asarray(entry["features"], dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if entry.get("key") != key or x.shape != (n_features,) or not np.isfinite(x).all():
        return None
    return x


def _extract_one(job: tuple[FeatureExtractor, str]) -> tuple[np.ndarray | None, str]:
    """(features, "") or (None, reason): one clip, in a worker process or here."""
    extractor, path = job
    try:
        return extractor.extract(path), ""
    except VideoError as exc:
        return None, exc.reason


def extract_features(
    extractor: FeatureExtractor,
    clips: Sequence[tuple[str, str | os.PathLike[str] | None]],
    *,
    cache_dir: str | os.PathLike[str],
    on_missing: Literal["skip", "error"] = "skip",
    workers: int | None = None,
    progress: bool | None = None,
) -> FeatureTable:
    """Features of many clips, each computed once and then read from the cache.

    Parameters
    ----------
    extractor : FeatureExtractor
        E.g. :data:`MOTION`.
    clips : sequence of (video_name, path or None)
        ``None`` marks a clip without a video file (as in
        :attr:`emosign.video.VideoIndex.paths`).  Names must be unique.
    cache_dir : str or path-like
        Directory of the cache; created if needed.
    on_missing : {"skip", "error"}, default="skip"
        What to do with clips without a video or whose video cannot be
        read.  ``"skip"``: leave them out of ``X`` and list them in
        :attr:`FeatureTable.missing` / :attr:`FeatureTable.failed`.
        ``"error"``: raise :class:`FeatureExtractionError` naming them;
        missing videos are reported before any work is done, unreadable
        ones after every readable clip has been computed and cached.
    workers : int or None, default=None
        Processes computing clips in parallel, each with one thread for
        decoding, OpenCV and BLAS, and one clip in memory; None uses every
        core, 1 computes here.  The features are the same, bit for bit,
        whatever the number.  More than one needs an extractor that pickles
        and, in a script, an ``if __name__ == "__main__":`` guard.
    progress : bool or None, default=None
        Progress bar on stderr: True shows it, False hides it, None shows it
        when stderr is a terminal.

    Returns
    -------
    table : FeatureTable

    Raises
    ------
    FeatureExtractionError
        With ``on_missing="error"``, if any clip is missing or unreadable.
    ValueError
        On a repeated video name, a bad ``on_missing`` or ``workers``.
    TypeError
        With ``workers`` > 1 and an extractor that cannot be pickled.
    """
    if on_missing not in ("skip", "error"):
        raise InputError(f"on_missing must be 'skip' or 'error', got {on_missing!r}")
    workers = check_workers(workers)
    clips = list(clips)
    names = [name for name, _ in clips]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"repeated video names: {_name_list(repeated, 10)}")
    missing = tuple(name for name, path in clips if path is None)
    if missing and on_missing == "error":
        raise FeatureExtractionError(
            f"{len(missing)} of {len(clips)} clips have no video file: "
            + _name_list(list(missing), 10),
            missing=missing,
        )

    cache_root = Path(cache_dir)
    identity = extractor.cache_identity()
    n_features = len(extractor.feature_names)
    features: dict[str, np.ndarray] = {}
    reasons: dict[str, str] = {}
    to_compute: list[tuple[str, str, Path, str]] = []  # (name, path, cache entry, key)
    with progress_bar(len(clips) - len(missing), f"{extractor.name} features",
                      enabled=progress) as bar:
        # The cache first, here: hashing a file is cheap next to decoding it.
        for name, path in clips:
            if path is None:
                continue
            try:
                content = _file_sha256(os.fspath(path))
            except OSError as exc:
                reasons[name] = f"cannot read {path}: {exc.strerror or exc}"
                bar.update(1)
                continue
            key = hashlib.sha256(json.dumps(
                {"clip": name, "video_sha256": content, **identity}, sort_keys=True
            ).encode()).hexdigest()
            entry = _cache_file(cache_root, extractor, name, key)
            x = _read_cached(entry, key, n_features)
            if x is None:
                to_compute.append((name, os.fspath(path), entry, key))
            else:
                features[name] = x
                bar.update(1)

        jobs = [(extractor, path) for _, path, _, _ in to_compute]
        workers = min(workers, len(jobs))
        results: Iterator[tuple[np.ndarray | None, str]]
        if workers > 1:
            _check_picklable(extractor)
            results = ordered_map(_extract_one, jobs, workers=workers)
        else:
            results = map(_extract_one, jobs)
        # Results come back in input order; each is cached as soon as it
        # arrives, so an interrupted run keeps what it computed.
        for (name, _, entry, key), (x, reason) in zip(to_compute, results):
            if x is None:
                reasons[name] = reason
            else:
                write_atomically(entry, json.dumps({
                    "clip": name, "key": key, **identity, "features": x.tolist(),
                }, indent=1))
                features[name] = x
            bar.update(1)

    done = [name for name, _ in clips if name in features]
    failed = [(name, reasons[name]) for name, _ in clips if name in reasons]
    if failed and on_missing == "error":
        raise FeatureExtractionError(
            f"{len(failed)} of {len(clips)} clips could not be read: "
            + _name_list([f"{clip} ({reason})" for clip, reason in failed], 10),
            missing=missing, failed=failed,
        )
    return FeatureTable(
        video_names=tuple(done),
        X=np.array([features[name] for name in done], dtype=np.float64).reshape(
            len(done), n_features),
        feature_names=extractor.feature_names,
        missing=missing,
        failed=tuple(failed),
        extractor=f"{extractor.name} v{extractor.version}",
    )


def _check_picklable(extractor: FeatureExtractor) -> None:
    import pickle

    try:
        pickle.dumps(extractor)
    except Exception as exc:
        raise TypeError(
            f"extractor {extractor.name!r} cannot be sent to worker processes ({exc}); "
            "give it a module-level function (or a functools.partial of one), "
            "or pass workers=1"
        ) from exc
