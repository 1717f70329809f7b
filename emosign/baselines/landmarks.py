"""Face, hand and body landmark features of EmoSign clips, from MediaPipe Holistic.

Optional: needs ``pip install ".[landmarks]"`` (``mediapipe==0.10.14``,
whose Holistic models ship inside the wheel and run offline).  This module
imports without it; :func:`landmark_extractor` raises an :class:`ImportError`
with the pip command when it is missing.

Frames are sampled by time at ``fps`` (10 per second, as in the paper) and
run through one Holistic graph per clip (its tracking state must not carry
over from one clip to the next).  Every frame gives, where found, the 468 face
mesh points, the 33 pose points and the 21 points of each hand, in pixels.
From them, per frame:

=====================  ===================  =====================================================
signal                 unit                 meaning
=====================  ===================  =====================================================
``brow_raise``         inter-ocular dist.   distance from each eye's centre to its eyebrow's
                                            centre, both eyes averaged: raised or furrowed brows
``eye_open``           inter-ocular dist.   upper to lower eyelid, both eyes averaged: widened
                                            or squinted eyes
``mouth_open``         inter-ocular dist.   inner upper lip to inner lower lip
``mouth_width``        inter-ocular dist.   mouth corner to mouth corner
``head_yaw``           inter-ocular dist.   nose tip offset along the eye line from the eyes'
                                            midpoint (signed; turning the head left or right)
``head_pitch``         inter-ocular dist.   nose tip offset across the eye line (nodding)
``head_roll``          degrees              angle of the eye line (tilting the head)
``head_speed``         shoulder widths / s  speed of the nose (pose point 0) relative to the
                                            shoulders' midpoint, between samples
``shoulder_to_nose``   shoulder widths      height of the nose above the shoulders' midpoint
                                            (smaller when the shoulders are raised)
``hand_speed``         shoulder widths / s  speed of the faster wrist relative to the
                                            shoulders' midpoint (signing speed)
``hand_height``        shoulder widths      height of the higher wrist above the shoulders'
                                            midpoint (where the signs are made)
=====================  ===================  =====================================================

Each signal is summarised over the frames where it exists by its mean,
standard deviation, 10th and 90th percentiles (``<signal>_mean``, ``_std``,
``_p10``, ``_p90``).  Per clip also:

=========================  ===============  =================================================
``hand_extent_x``          shoulder widths  horizontal spread of both wrists' positions
                                            (2nd to 98th percentile): size of the signing space
``hand_extent_y``          shoulder widths  vertical spread of the same
``face_detected_fraction`` 0-1              frames with a face mesh
``pose_detected_fraction`` 0-1              frames with a body pose
``hand_detected_fraction`` 0-1              frames with at least one hand's landmarks
=========================  ===============  =================================================

A signal that never exists in a clip (no face found at all, say) is
summarised as 0, and the detected fractions say so.  Distances on the face are
divided by the frame's inter-ocular distance and body distances by the clip's
median shoulder width, so they do not depend on how far the signer sits from
the camera.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emosign._extras import install_hint
from emosign.baselines.extractor import FeatureExtractor
from emosign.errors import MissingExtraError
from emosign.video import DEFAULT_FPS, VideoError, sample_frames

__all__ = [
    "LANDMARK_FEATURE_NAMES",
    "LandmarkSettings",
    "Landmarks",
    "detect_landmarks",
    "landmark_extractor",
    "landmark_features",
]

INSTALL_HINT = install_hint("landmarks")

# Face mesh points (MediaPipe's canonical 468-point topology).  "Right" is
# the signer's right, on the left of the image.
_RIGHT_EYE_CORNERS = (33, 133)
_LEFT_EYE_CORNERS = (362, 263)
_RIGHT_EYE_LIDS = (159, 145)  # upper, lower
_LEFT_EYE_LIDS = (386, 374)
_RIGHT_BROW = (70, 63, 105, 66, 107)
_LEFT_BROW = (336, 296, 334, 293, 300)
_INNER_LIPS = (13, 14)  # upper, lower
_MOUTH_CORNERS = (61, 291)
_NOSE_TIP = 1
# Pose points.
_POSE_NOSE = 0
_SHOULDERS = (11, 12)  # left, right
_WRISTS = (15, 16)
# Pose points the model itself doubts (e.g. a wrist out of the frame) are
# dropped rather than trusted.
_MIN_VISIBILITY = 0.5

_SIGNALS = (
    "brow_raise", "eye_open", "mouth_open", "mouth_width",
    "head_yaw", "head_pitch", "head_roll", "head_speed",
    "shoulder_to_nose", "hand_speed", "hand_height",
)  # fmt: skip
_STATS = ("mean", "std", "p10", "p90")

LANDMARK_FEATURE_NAMES: tuple[str, ...] = (
    *(f"{signal}_{stat}" for signal in _SIGNALS for stat in _STATS),
    "hand_extent_x",
    "hand_extent_y",
    "face_detected_fraction",
    "pose_detected_fraction",
    "hand_detected_fraction",
)


def _import_mediapipe():
    # MediaPipe logs through glog, absl and TF Lite, a few lines per graph,
    # i.e. per clip, which would scroll the progress bar away.  glog and TF
    # read these when they load; the user's own settings win.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import mediapipe
    except ImportError as exc:
        raise MissingExtraError(
            "the landmark extractor needs MediaPipe (mediapipe==0.10.14); "
            f"install it with: {INSTALL_HINT}"
        ) from exc
    try:
        from absl import logging as absl_logging
    except ImportError:
        pass
    else:
        absl_logging.set_verbosity(absl_logging.ERROR)
    return mediapipe


@dataclass(frozen=True)
class LandmarkSettings:
    """Options of the landmark extractor; all of them are part of the cache key.

    Attributes
    ----------
    fps : float
        Sampling rate in frames per second.
    max_width : int
        Wider frames are shrunk to this width (pixels) before MediaPipe,
        which resizes to its own small inputs anyway.
    model_complexity : int
        Holistic's pose model: 0 (lite), 1 (full) or 2 (heavy).
    min_detection_confidence, min_tracking_confidence : float
        Holistic's thresholds, in [0, 1].
    """

    fps: float = DEFAULT_FPS
    max_width: int = 640
    model_complexity: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


@dataclass(frozen=True)
class Landmarks:
    """Landmarks of one clip's sampled frames, in pixels; NaN where not found.

    Attributes
    ----------
    face : ndarray of shape (T, 468, 2)
        Face mesh (x, y).
    pose : ndarray of shape (T, 33, 2)
        Body pose (x, y); a point with visibility below 0.5 is NaN.
    left_hand, right_hand : ndarray of shape (T, 21, 2)
        Hand landmarks (x, y) of the signer's left and right hand.
    """

    face: np.ndarray
    pose: np.ndarray
    left_hand: np.ndarray
    right_hand: np.ndarray


def _points(landmark_list, count: int, width: int, height: int, *, visibility: bool = False):
    """MediaPipe's normalised landmarks -> (count, 2) pixels, NaN when absent."""
    out = np.full((count, 2), np.nan)
    if landmark_list is None:
        return out
    for i, point in enumerate(landmark_list.landmark):
        if visibility and point.visibility < _MIN_VISIBILITY:
            continue
        # Scaling both axes to pixels keeps distances isotropic.
        out[i] = (point.x * width, point.y * height)
    return out


def detect_landmarks(
    frames: np.ndarray, *, settings: LandmarkSettings = LandmarkSettings()
) -> Landmarks:
    """Run MediaPipe Holistic over one clip's frames, in order.

    Parameters
    ----------
    frames : ndarray of shape (T, H, W, 3), dtype uint8
        RGB frames of one clip, in time order.
    settings : LandmarkSettings

    Returns
    -------
    landmarks : Landmarks
        Pixel coordinates of the frames as given (before any shrinking).
    """
    mediapipe = _import_mediapipe()
    import cv2

    n_frames, height, width = frames.shape[:3]
    scale = min(1.0, settings.max_width / width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    face = np.full((n_frames, 468, 2), np.nan)
    pose = np.full((n_frames, 33, 2), np.nan)
    left = np.full((n_frames, 21, 2), np.nan)
    right = np.full((n_frames, 21, 2), np.nan)
    # A fresh graph per clip: its tracking state belongs to one clip.
    with warnings.catch_warnings(), mediapipe.solutions.holistic.Holistic(
        static_image_mode=False,
        model_complexity=settings.model_complexity,
        min_detection_confidence=settings.min_detection_confidence,
        min_tracking_confidence=settings.min_tracking_confidence,
    ) as holistic:
        # mediapipe 0.10.14 calls a protobuf method that protobuf 4.25 deprecates,
        # once per frame; the warning is about mediapipe, not the caller.
        warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype",
                                category=UserWarning)
        for t, frame in enumerate(frames):
            image = frame if scale == 1.0 else cv2.resize(frame, size,
                                                          interpolation=cv2.INTER_AREA)
            result = holistic.process(np.ascontiguousarray(image))
            face[t] = _points(result.face_landmarks, 468, width, height)
            pose[t] = _points(result.pose_landmarks, 33, width, height, visibility=True)
            left[t] = _points(result.left_hand_landmarks, 21, width, height)
            right[t] = _points(result.right_hand_landmarks, 21, width, height)
    return Landmarks(face=face, pose=pose, left_hand=left, right_hand=right)


def _summary(series: np.ndarray) -> list[float]:
    """Mean, std, 10th and 90th percentile of the finite values; zeros if none."""
    values = series[np.isfinite(series)]
    if len(values) == 0:
        return [0.0] * len(_STATS)
    p10, p90 = np.percentile(values, [10, 90])
    return [float(values.mean()), float(values.std()), float(p10), float(p90)]


def _spread(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return 0.0
    low, high = np.percentile(values, [2, 98])
    return float(high - low)


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean distance of (T, 2) arrays; NaN propagates."""
    return np.hypot(*(a - b).T)


def _speed(points: np.ndarray, seconds_per_step: float) -> np.ndarray:
    """(T, 2) positions -> (T-1,) speed per second; NaN where either end is missing."""
    return np.hypot(*np.diff(points, axis=0).T) / seconds_per_step


def landmark_features(landmarks: Landmarks, *, fps: float = DEFAULT_FPS) -> np.ndarray:
    """Landmark features of one clip; see the module docstring.

    Parameters
    ----------
    landmarks : Landmarks
        Pixel landmarks of frames sampled at ``fps``; NaN where not found.
    fps : float
        Sampling rate of the frames, in frames per second.

    Returns
    -------
    x : ndarray of shape (len(LANDMARK_FEATURE_NAMES),), dtype float64
        Finite.
    """
    face, pose = landmarks.face, landmarks.pose
    step = 1.0 / fps
    with np.errstate(invalid="ignore", divide="ignore"):
        # Face geometry, in inter-ocular distances.
        right_eye = face[:, _RIGHT_EYE_CORNERS].mean(axis=1)  # (T, 2)
        left_eye = face[:, _LEFT_EYE_CORNERS].mean(axis=1)
        iod = _distance(right_eye, left_eye)
        brow_raise = (
            _distance(face[:, _RIGHT_BROW].mean(axis=1), right_eye)
            + _distance(face[:, _LEFT_BROW].mean(axis=1), left_eye)
        ) / 2 / iod
        eye_open = (
            _distance(face[:, _RIGHT_EYE_LIDS[0]], face[:, _RIGHT_EYE_LIDS[1]])
            + _distance(face[:, _LEFT_EYE_LIDS[0]], face[:, _LEFT_EYE_LIDS[1]])
        ) / 2 / iod
        mouth_open = _distance(face[:, _INNER_LIPS[0]], face[:, _INNER_LIPS[1]]) / iod
        mouth_width = _distance(face[:, _MOUTH_CORNERS[0]], face[:, _MOUTH_CORNERS[1]]) / iod

        # Head pose proxies: where the nose tip sits in the frame of the eye
        # line (along it: yaw; across it, downwards: pitch) and that line's angle.
        along = (left_eye - right_eye) / iod[:, None]  # unit vectors, (T, 2)
        across = np.stack([-along[:, 1], along[:, 0]], axis=1)
        nose = face[:, _NOSE_TIP] - (right_eye + left_eye) / 2
        head_yaw = (nose * along).sum(axis=1) / iod
        head_pitch = (nose * across).sum(axis=1) / iod
        head_roll = np.degrees(np.arctan2(along[:, 1], along[:, 0]))

        # Body, in shoulder widths, relative to the shoulders' midpoint so
        # that the whole body swaying does not count as signing.  One width
        # for the clip (the median): dividing each frame by its own width
        # would turn the width's jitter into speed.
        shoulder_mid = pose[:, _SHOULDERS].mean(axis=1)  # (T, 2)
        widths = _distance(pose[:, _SHOULDERS[0]], pose[:, _SHOULDERS[1]])
        widths = widths[np.isfinite(widths)]
        shoulder_width = np.median(widths) if len(widths) else np.nan
        head = (pose[:, _POSE_NOSE] - shoulder_mid) / shoulder_width  # (T, 2)
        head_speed = _speed(head, step)
        shoulder_to_nose = -head[:, 1]  # image y points down
        wrists = (pose[:, _WRISTS] - shoulder_mid[:, None]) / shoulder_width  # (T, 2, 2)
        wrist_speeds = np.stack([_speed(wrists[:, k], step) for k in range(2)])  # (2, T-1)
        hand_speed = _fmax(wrist_speeds)
        hand_height = _fmax(-wrists[:, :, 1].T)

    values: list[float] = []
    for series in (brow_raise, eye_open, mouth_open, mouth_width, head_yaw, head_pitch,
                   head_roll, head_speed, shoulder_to_nose, hand_speed, hand_height):
        values += _summary(series)
    values += [_spread(wrists[..., 0].ravel()), _spread(wrists[..., 1].ravel())]
    hands = _found(landmarks.left_hand) | _found(landmarks.right_hand)
    values += [_found(face).mean(), _found(pose[:, _SHOULDERS]).mean(), hands.mean()]
    return np.asarray(values, dtype=np.float64)


def _found(points: np.ndarray) -> np.ndarray:
    """(T, K, 2) -> (T,) bool: every point of the frame was found."""
    return np.isfinite(points).all(axis=(1, 2))


def _fmax(rows: np.ndarray) -> np.ndarray:
    """Column-wise maximum over the rows that are finite; NaN where none is."""
    out = np.full(rows.shape[1], np.nan)
    finite = np.isfinite(rows)
    any_finite = finite.any(axis=0)
    out[any_finite] = np.where(finite, rows, -np.inf).max(axis=0)[any_finite]
    return out


def _extract_landmarks(path: Path, *, settings: LandmarkSettings) -> np.ndarray:
    frames = sample_frames(path, fps=settings.fps)
    if len(frames) < 2:
        raise VideoError(
            path.name, str(path),
            f"too short for landmark features: {len(frames)} frame(s) at {settings.fps:g} fps",
        )
    return landmark_features(detect_landmarks(frames.array, settings=settings),
                             fps=settings.fps)


def landmark_extractor(*, settings: LandmarkSettings = LandmarkSettings()) -> FeatureExtractor:
    """The MediaPipe Holistic extractor.

    Raises
    ------
    ImportError
        If mediapipe is not installed; the message gives the pip command.
    """
    mediapipe = _import_mediapipe()
    return FeatureExtractor(
        name="landmarks",
        # The installed MediaPipe's models decide the landmarks, so its
        # version is part of the extractor's (and so of the cache key).
        # 2: frames decoded by PyAV rather than decord by default.
        version=f"2+mediapipe{getattr(mediapipe, '__version__', 'unknown')}",
        feature_names=LANDMARK_FEATURE_NAMES,
        # A partial of a module-level function pickles, for worker processes.
        function=functools.partial(_extract_landmarks, settings=settings),
        settings=settings,
    )
