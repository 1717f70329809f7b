"""The visual feature extractors on generated clips whose motion is known, and their cache.

Clips are written with PyAV at 30 fps.  Two kinds of content:

* a textured background with a bright block moving along a chosen path (motion only where
  the block goes), for the motion statistics;
* scikit-image's astronaut photograph (a real frontal face), moved as a whole or with only
  its head shifting (nods and shakes), for the face detector and the head region.

The landmark extractor's own tests run only when mediapipe is installed; its feature
arithmetic is tested on hand-made landmarks either way.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from emosign.baselines import landmarks, visual
from emosign.baselines.landmarks import (
    LANDMARK_FEATURE_NAMES,
    Landmarks,
    landmark_features,
)
from emosign.baselines.visual import (
    MOTION,
    MOTION_FEATURE_NAMES,
    FeatureExtractionError,
    FeatureExtractor,
    detect_faces,
    extract_features,
    head_box,
)
from emosign.video import sample_frames

FPS = 30

# The astronaut, resized to ASTRONAUT_SIZE pixels square, has her face (Haar box on the
# 512-pixel original: x 177-272, y 66-161) centred here, and her head inside HEAD_WINDOW
# (x0, y0, x1, y1), both in the resized image's pixels.
ASTRONAUT_SIZE = 200
FACE_CENTRE = (224.5 * 200 / 512, 113.5 * 200 / 512)
HEAD_WINDOW = (62, 16, 113, 70)


def features(path: Path) -> dict[str, float]:
    return dict(zip(MOTION_FEATURE_NAMES, MOTION.extract(path)))


# ---------------------------------------------------------------------------
# Clip generators
# ---------------------------------------------------------------------------


def write_clip(path: Path, frames: np.ndarray, *, fps: int = FPS) -> Path:
    """Encode (T, H, W, 3) uint8 RGB frames as an H.264 (or MPEG-4) mp4."""
    import av

    with av.open(str(path), "w") as container:
        try:
            stream = container.add_stream("libx264", rate=fps)
        except ValueError:  # UnknownCodecError: an FFmpeg build without x264
            stream = container.add_stream("mpeg4", rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def background(width: int = 160, height: int = 120) -> np.ndarray:
    """A static, smoothly textured grey background, (height, width, 3) uint8."""
    yy, xx = np.mgrid[0:height, 0:width]
    grey = 100 + 40 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    return np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)


def block_frames(positions, *, block: int = 20, width: int = 160, height: int = 120):
    """A bright block at (x, y) = positions[i] in frame i, over the background."""
    frames = []
    for x, y in positions:
        frame = background(width, height)
        frame[int(y) : int(y) + block, int(x) : int(x) + block] = 230
        frames.append(frame)
    return np.stack(frames)


def astronaut(size: int = ASTRONAUT_SIZE) -> np.ndarray:
    from skimage import data

    return cv2.resize(data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)


def astronaut_frames(offsets, *, head_only: bool, origin=(60, 0), width=320, height=240):
    """The astronaut on a grey canvas, shifted by offsets[i] = (dx, dy) in frame i.

    ``head_only``: the body stays put and only the content of HEAD_WINDOW moves (a nod or
    a shake); otherwise the whole photograph moves.
    """
    photo = astronaut()
    ox, oy = origin
    frames = []
    for dx, dy in offsets:
        canvas = np.full((height, width, 3), 90, dtype=np.uint8)
        if head_only:
            canvas[oy : oy + ASTRONAUT_SIZE, ox : ox + ASTRONAUT_SIZE] = photo
            x0, y0, x1, y1 = HEAD_WINDOW
            shifted = np.roll(photo, (dy, dx), axis=(0, 1))
            canvas[oy + y0 : oy + y1, ox + x0 : ox + x1] = shifted[y0:y1, x0:x1]
        else:
            x, y = ox + dx, oy + dy
            canvas[y : y + ASTRONAUT_SIZE, x : x + ASTRONAUT_SIZE] = photo
        frames.append(canvas)
    return np.stack(frames)


def oscillation(n: int, *, amplitude: float, hertz: float) -> np.ndarray:
    return np.round(amplitude * np.sin(2 * np.pi * hertz * np.arange(n) / FPS)).astype(int)


# ---------------------------------------------------------------------------
# Motion features on known motion
# ---------------------------------------------------------------------------


def test_still_clip_has_no_motion(tmp_path):
    f = features(write_clip(tmp_path / "still.mp4", np.stack([background()] * 60)))
    for region in ("face", "body"):
        assert f[f"{region}_speed_max"] < 1e-3
        assert f[f"{region}_diff_max"] < 0.5
        assert f[f"{region}_still_fraction"] == 1.0
        assert f[f"{region}_peaks_per_s"] == 0.0
    assert f["body_extent_area"] == 0.0
    assert f["face_vertical_share"] == 0.5
    assert f["face_detected_fraction"] == 0.0


def test_motion_in_the_lower_half_is_body_motion(tmp_path):
    # No face here, so the head region is the upper-centre default box.
    n = 60
    xs = 20 + 100 * (0.5 + 0.5 * np.sin(np.arange(n) / 4))
    f = features(write_clip(tmp_path / "lower.mp4", block_frames([(x, 85) for x in xs])))
    assert f["body_speed_mean"] > 0.01
    assert f["face_speed_max"] < 1e-3
    assert f["face_still_fraction"] == 1.0
    assert f["body_still_fraction"] < 0.5
    assert f["body_peaks_per_s"] > 1.0  # back and forth, several times
    # The block sweeps most of the width, in a band at the bottom.
    assert f["body_extent_width"] > 0.6
    assert f["body_extent_height"] < 0.45
    assert 0.0 < f["body_extent_area"] < 0.5


def test_motion_at_the_head_is_face_motion(tmp_path):
    n = 60
    xs = 70 + 8 * np.sin(np.arange(n) / 3)
    f = features(write_clip(tmp_path / "top.mp4", block_frames([(x, 12) for x in xs])))
    assert f["face_speed_mean"] > 5 * f["body_speed_mean"]
    assert f["face_diff_mean"] > 5 * f["body_diff_mean"]
    assert f["face_vertical_share"] < 0.3  # it moves sideways


def test_sharp_movement_has_higher_peak_speed_than_slow(tmp_path):
    n = 60
    slow = 20 + 100 * np.arange(n) / (n - 1)  # 100 pixels in 2 s
    sharp = 20 + 100 * np.clip((np.arange(n) - 27) / 6, 0, 1)  # the same in 0.2 s, then hold
    f_slow = features(write_clip(tmp_path / "slow.mp4", block_frames([(x, 85) for x in slow])))
    f_sharp = features(write_clip(tmp_path / "sharp.mp4", block_frames([(x, 85) for x in sharp])))
    assert f_sharp["body_speed_max"] > 2 * f_slow["body_speed_max"]
    assert f_sharp["body_diff_max"] > f_slow["body_diff_max"]
    # The slow one never stops; the sharp one holds before and after.
    assert f_slow["body_still_fraction"] < 0.1
    assert f_sharp["body_still_fraction"] > 0.7


def test_real_face_is_found_while_moving_across_the_frame(tmp_path):
    n = 60
    offsets = [(int(x), 0) for x in np.linspace(-60, 60, n)]
    path = write_clip(tmp_path / "across.mp4", astronaut_frames(offsets, head_only=False))
    frames = sample_frames(path, fps=10)
    grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames.array])
    boxes = detect_faces(grey)
    found = [(t, b) for t, b in enumerate(boxes) if b is not None]
    assert len(found) >= 0.9 * len(boxes)
    # Each box sits on the face where it is at that moment.
    for t, (x, y, w, h) in found:
        dx, _ = offsets[frames.indices[t]]
        assert abs(x + w / 2 - (60 + dx + FACE_CENTRE[0])) < 8
        assert abs(y + h / 2 - FACE_CENTRE[1]) < 8

    f = features(path)
    assert f["face_detected_fraction"] >= 0.9
    assert f["face_speed_mean"] > 0.01
    assert f["face_still_fraction"] < 0.2
    assert f["face_vertical_share"] < 0.3  # it moves sideways


def test_head_region_follows_the_detected_face():
    boxes = [(100, 40, 40, 40), None, (104, 42, 40, 40), (300, 200, 10, 10), (102, 41, 40, 40),
             (101, 41, 40, 40)]
    x0, y0, x1, y1 = head_box(boxes, width=320, height=240)
    # The median box (102, 41, 40, 40), grown, and the stray box has no say.
    assert (x0, y0, x1, y1) == (92, 27, 152, 89)
    assert head_box([None, None], width=100, height=100) == (35, 2, 65, 38)


@pytest.mark.parametrize(("kind", "vertical"), [("nod", True), ("shake", False)])
def test_nods_and_shakes_of_a_real_head(tmp_path, kind, vertical):
    n = 60
    swing = oscillation(n, amplitude=8, hertz=1.5)
    offsets = [(0, int(s)) if vertical else (int(s), 0) for s in swing]
    path = write_clip(tmp_path / f"{kind}.mp4", astronaut_frames(offsets, head_only=True))
    still = write_clip(tmp_path / "still.mp4", astronaut_frames([(0, 0)] * n, head_only=True))
    f, f_still = features(path), features(still)

    assert f["face_detected_fraction"] >= 0.9
    assert f_still["face_detected_fraction"] >= 0.9
    # The head moves, the body does not, and a still astronaut does not move at all.
    assert f["face_speed_mean"] > 5 * f["body_speed_mean"]
    assert f["face_speed_mean"] > 0.02
    assert f_still["face_speed_max"] < 1e-3
    assert f["face_peaks_per_s"] > 1.0
    if vertical:
        assert f["face_vertical_share"] > 0.7
    else:
        assert f["face_vertical_share"] < 0.3


def test_motion_features_are_finite_and_named():
    assert len(MOTION.feature_names) == len(set(MOTION.feature_names)) == 21
    rng = np.random.default_rng(0)
    x = visual.motion_features(rng.integers(0, 256, (5, 48, 64, 3), dtype=np.uint8))
    assert x.shape == (21,) and np.isfinite(x).all()
    with pytest.raises(ValueError, match="T >= 2"):
        visual.motion_features(np.zeros((1, 48, 64, 3), dtype=np.uint8))


# ---------------------------------------------------------------------------
# extract_features: the cache and the clips it cannot use
# ---------------------------------------------------------------------------


class Counting:
    """Wraps an extractor's function and counts the clips it computes."""

    def __init__(self, extractor: FeatureExtractor) -> None:
        self.calls: list[str] = []
        self.inner = extractor.function
        self.extractor = dataclasses.replace(extractor, function=self)

    def __call__(self, path: Path) -> np.ndarray:
        self.calls.append(path.name)
        return self.inner(path)


@pytest.fixture
def two_clips(tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    still = write_clip(videos / "a.mp4", np.stack([background()] * 30))
    moving = write_clip(videos / "b.mp4", block_frames([(10 + 3 * i, 85) for i in range(30)]))
    return [("clip_a", str(still)), ("clip_b", str(moving))]


def test_second_run_reads_the_cache(tmp_path, two_clips):
    counting = Counting(MOTION)
    first = extract_features(counting.extractor, two_clips, cache_dir=tmp_path / "cache",
                             progress=False, workers=1)
    assert counting.calls == ["a.mp4", "b.mp4"]
    second = extract_features(counting.extractor, two_clips, cache_dir=tmp_path / "cache",
                              progress=False, workers=1)
    assert counting.calls == ["a.mp4", "b.mp4"]  # nothing recomputed
    assert second.video_names == first.video_names == ("clip_a", "clip_b")
    assert np.array_equal(second.X, first.X)
    assert np.array_equal(first.X[1], MOTION.extract(two_clips[1][1]))
    assert first.feature_names == MOTION_FEATURE_NAMES
    assert first.missing == () and first.failed == ()


def test_a_new_version_or_a_changed_video_is_recomputed(tmp_path, two_clips):
    counting = Counting(MOTION)
    extract_features(counting.extractor, two_clips, cache_dir=tmp_path / "cache",
                     progress=False, workers=1)
    bumped = dataclasses.replace(counting.extractor, version=MOTION.version + ".1")
    extract_features(bumped, two_clips, cache_dir=tmp_path / "cache", progress=False, workers=1)
    assert counting.calls == ["a.mp4", "b.mp4"] * 2

    other_settings = dataclasses.replace(
        counting.extractor, settings=dataclasses.replace(MOTION.settings, width=128))
    extract_features(other_settings, two_clips[:1], cache_dir=tmp_path / "cache",
                     progress=False, workers=1)
    assert counting.calls[-1] == "a.mp4" and len(counting.calls) == 5

    # Same name, new content: only that clip is computed again.
    write_clip(Path(two_clips[0][1]), block_frames([(80, 10 + i) for i in range(30)]))
    table = extract_features(counting.extractor, two_clips, cache_dir=tmp_path / "cache",
                             progress=False, workers=1)
    assert counting.calls[5:] == ["a.mp4"]
    assert table.X[0, MOTION_FEATURE_NAMES.index("face_speed_max")] > 0


def test_missing_and_unreadable_clips_are_listed_by_name(tmp_path, two_clips):
    garbage = tmp_path / "videos" / "garbage.mp4"
    garbage.write_bytes(b"this is not a video" * 100)
    empty = tmp_path / "videos" / "empty.mp4"
    empty.write_bytes(b"")
    clips = [two_clips[0], ("no_video", None), ("clip_garbage", str(garbage)),
             ("clip_empty", str(empty)), ("gone", str(tmp_path / "deleted.mp4"))]
    table = extract_features(MOTION, clips, cache_dir=tmp_path / "cache", progress=False)

    assert table.video_names == ("clip_a",)
    assert table.X.shape == (1, len(MOTION_FEATURE_NAMES))
    assert table.missing == ("no_video",)
    assert [clip for clip, _ in table.failed] == ["clip_garbage", "clip_empty", "gone"]
    assert all(reason for _, reason in table.failed)
    assert "empty" in dict(table.failed)["clip_empty"]
    assert table.n_requested == 5
    line = table.describe()
    assert "1 of 5 clips" in line
    assert all(name in line for name in ("no_video", "clip_garbage", "clip_empty", "gone"))


def test_on_missing_error_names_the_clips(tmp_path, two_clips):
    counting = Counting(MOTION)
    with pytest.raises(FeatureExtractionError, match="no_video") as raised:
        extract_features(counting.extractor, [*two_clips, ("no_video", None)],
                         cache_dir=tmp_path / "cache", on_missing="error", progress=False,
                         workers=1)
    assert raised.value.missing == ("no_video",)
    assert counting.calls == []  # stopped before any work

    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 1000)
    with pytest.raises(FeatureExtractionError, match="clip_garbage") as raised:
        extract_features(counting.extractor, [*two_clips, ("clip_garbage", str(garbage))],
                         cache_dir=tmp_path / "cache", on_missing="error", progress=False,
                         workers=1)
    assert [clip for clip, _ in raised.value.failed] == ["clip_garbage"]
    # The readable clips were cached on the way.
    extract_features(counting.extractor, two_clips, cache_dir=tmp_path / "cache",
                     progress=False, workers=1)
    assert counting.calls == ["a.mp4", "b.mp4", "garbage.mp4"]


def test_cache_files_stay_inside_the_cache_dir(tmp_path, two_clips):
    path = two_clips[0][1]
    names = ["../../escape", "/etc/passwd", "..", "a\\..\\b", "x/../../y", ".hidden", "é名"]
    cache = tmp_path / "deep" / "cache"
    evil = dataclasses.replace(MOTION, name="../motion")
    table = extract_features(evil, [(n, path) for n in names], cache_dir=cache, progress=False)
    assert table.video_names == tuple(names)

    written = sorted(p for p in tmp_path.rglob("*") if p.is_file() and "videos" not in p.parts)
    assert len(written) == len(names)
    for file in written:
        assert file.resolve().parent.parent == cache.resolve()
        assert not file.name.startswith(".")
        assert set(file.stem) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def test_a_corrupt_cache_entry_is_recomputed(tmp_path, two_clips):
    counting = Counting(MOTION)
    first = extract_features(counting.extractor, two_clips[:1], cache_dir=tmp_path / "cache",
                             progress=False, workers=1)
    [entry] = (tmp_path / "cache").rglob("*.json")
    entry.write_text('{"features": [1, 2')
    again = extract_features(counting.extractor, two_clips[:1], cache_dir=tmp_path / "cache",
                             progress=False, workers=1)
    assert len(counting.calls) == 2
    assert np.array_equal(again.X, first.X)
    assert not list((tmp_path / "cache").rglob(".tmp-*"))  # no temporary file left behind


def test_bad_calls_are_refused(tmp_path, two_clips):
    with pytest.raises(ValueError, match="repeated"):
        extract_features(MOTION, [two_clips[0], two_clips[0]], cache_dir=tmp_path,
                         progress=False)
    with pytest.raises(ValueError, match="on_missing"):
        extract_features(MOTION, two_clips, cache_dir=tmp_path, on_missing="ignore",
                         progress=False)
    wrong_shape = dataclasses.replace(MOTION, function=lambda path: np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        wrong_shape.extract(two_clips[0][1])
    not_finite = dataclasses.replace(
        MOTION, function=lambda path: np.full(len(MOTION_FEATURE_NAMES), np.nan))
    with pytest.raises(ValueError, match="non-finite"):
        not_finite.extract(two_clips[0][1])


def test_an_empty_table_keeps_its_width(tmp_path):
    table = extract_features(MOTION, [("a", None)], cache_dir=tmp_path, progress=False)
    assert table.X.shape == (0, len(MOTION_FEATURE_NAMES))
    assert table.missing == ("a",)


# ---------------------------------------------------------------------------
# Landmarks
# ---------------------------------------------------------------------------


def test_landmark_extractor_without_mediapipe_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # makes "import mediapipe" fail
    with pytest.raises(ImportError, match=r'pip install "\.\[landmarks\]"'):
        landmarks.landmark_extractor()


def synthetic_landmarks(n: int = 20) -> Landmarks:
    """A signer facing the camera: eyes 40 px apart, mouth 10 px open and 30 px wide,
    shoulders 100 px apart at y=200, the right wrist 50 px above the shoulders moving
    right at 5 px per frame, the left wrist still at shoulder height.  No face in the
    last quarter of the frames; no hand landmarks at all."""
    face = np.zeros((n, 468, 2))
    face[:] = (150, 100)
    face[:, [33, 133]] = [(120, 100), (140, 100)]  # right eye centre (130, 100)
    face[:, [362, 263]] = [(160, 100), (180, 100)]  # left eye centre (170, 100)
    face[:, [159, 145]] = [(130, 96), (130, 104)]  # right eyelids 8 px apart
    face[:, [386, 374]] = [(170, 96), (170, 104)]
    face[:, [70, 63, 105, 66, 107]] = (130, 88)  # brows 12 px above the eyes
    face[:, [336, 296, 334, 293, 300]] = (170, 88)
    face[:, [13, 14]] = [(150, 125), (150, 135)]
    face[:, [61, 291]] = [(135, 130), (165, 130)]
    face[:, 1] = (150, 115)  # nose tip, centred below the eyes
    face[3 * n // 4 :] = np.nan
    pose = np.full((n, 33, 2), np.nan)
    pose[:, 0] = (150, 115)
    pose[:, 11] = (200, 200)
    pose[:, 12] = (100, 200)
    pose[:, 16] = np.stack([150 + 5 * np.arange(n), np.full(n, 150.0)], axis=1)
    pose[:, 15] = (200, 200)
    hands = np.full((n, 21, 2), np.nan)
    return Landmarks(face=face, pose=pose, left_hand=hands, right_hand=hands)


def test_landmark_features_measure_known_geometry():
    x = landmark_features(synthetic_landmarks(20), fps=10)
    f = dict(zip(LANDMARK_FEATURE_NAMES, x))
    assert x.shape == (len(LANDMARK_FEATURE_NAMES),) and np.isfinite(x).all()
    assert f["brow_raise_mean"] == pytest.approx(12 / 40)
    assert f["eye_open_mean"] == pytest.approx(8 / 40)
    assert f["mouth_open_mean"] == pytest.approx(10 / 40)
    assert f["mouth_width_mean"] == pytest.approx(30 / 40)
    assert f["head_yaw_mean"] == pytest.approx(0)
    assert f["head_pitch_mean"] == pytest.approx(15 / 40)
    assert f["head_roll_mean"] == pytest.approx(0)
    assert f["head_speed_p90"] == pytest.approx(0)
    assert f["shoulder_to_nose_mean"] == pytest.approx(85 / 100)
    # 5 px per frame at 10 frames/s over 100-px shoulders: 0.5 shoulder widths per second.
    assert f["hand_speed_mean"] == pytest.approx(0.5)
    assert f["hand_speed_std"] == pytest.approx(0, abs=1e-9)
    assert f["hand_height_mean"] == pytest.approx(0.5)
    assert f["hand_extent_x"] > 0.8  # the right wrist travels 0.95 shoulder widths
    assert f["face_detected_fraction"] == pytest.approx(0.75)
    assert f["pose_detected_fraction"] == 1.0
    assert f["hand_detected_fraction"] == 0.0


def test_landmark_features_without_any_face_or_body_are_zero():
    empty = Landmarks(face=np.full((5, 468, 2), np.nan), pose=np.full((5, 33, 2), np.nan),
                      left_hand=np.full((5, 21, 2), np.nan),
                      right_hand=np.full((5, 21, 2), np.nan))
    x = landmark_features(empty, fps=10)
    assert np.isfinite(x).all() and not x.any()


def test_landmarks_found_on_a_real_face_in_nearly_every_frame(tmp_path):
    pytest.importorskip("mediapipe")
    from emosign.baselines.landmarks import LandmarkSettings, detect_landmarks

    n = 60
    offsets = [(int(x), 0) for x in np.linspace(-40, 40, n)]
    path = write_clip(tmp_path / "across.mp4", astronaut_frames(offsets, head_only=False))
    frames = sample_frames(path, fps=10)
    found = detect_landmarks(frames.array, settings=LandmarkSettings())
    face_found = np.isfinite(found.face).all(axis=(1, 2))
    assert face_found.mean() >= 0.9
    assert np.isfinite(found.pose[:, [0, 11, 12]]).all(axis=(1, 2)).mean() >= 0.9
    # The nose tip follows the moving face.
    for t in np.flatnonzero(face_found):
        dx, _ = offsets[frames.indices[t]]
        assert abs(found.face[t, 1, 0] - (60 + dx + FACE_CENTRE[0])) < 12

    extractor = landmarks.landmark_extractor()
    table = extract_features(extractor, [("astronaut", str(path))], cache_dir=tmp_path / "c",
                             progress=False)
    f = dict(zip(extractor.feature_names, table.X[0]))
    assert f["face_detected_fraction"] >= 0.9
    assert 0.5 < f["mouth_width_mean"] < 1.5  # a mouth about as wide as the eyes are apart
    assert f["head_speed_mean"] > 0


# ---------------------------------------------------------------------------
# extract_features over a process pool
# ---------------------------------------------------------------------------


def test_workers_give_the_serial_features_bit_for_bit(tmp_path, two_clips):
    more = [*two_clips]
    for i, step in enumerate((2, 5)):
        path = write_clip(tmp_path / f"m{i}.mp4",
                          block_frames([(10 + step * k, 40 + k) for k in range(30)]))
        more.append((f"clip_m{i}", str(path)))
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video")
    more.append(("clip_garbage", str(garbage)))
    serial = extract_features(MOTION, more, cache_dir=tmp_path / "serial", progress=False,
                              workers=1)
    parallel = extract_features(MOTION, more, cache_dir=tmp_path / "parallel", progress=False,
                                workers=2)
    assert parallel.video_names == serial.video_names == tuple(n for n, _ in more[:-1])
    assert parallel.X.tobytes() == serial.X.tobytes()
    assert parallel.failed == serial.failed and parallel.failed[0][0] == "clip_garbage"
    # Each clip's cache entry is written by the parent, identical either way.
    for name in serial.video_names:
        (a,) = (tmp_path / "serial" / "motion").glob(f"{name}-*.json")
        (b,) = (tmp_path / "parallel" / "motion").glob(f"{name}-*.json")
        assert a.read_bytes() == b.read_bytes()


def _unpicklable_extractor() -> FeatureExtractor:
    return dataclasses.replace(MOTION, function=lambda path: MOTION.function(path))


def test_workers_need_an_extractor_that_pickles(tmp_path, two_clips):
    with pytest.raises(TypeError, match="cannot be sent to worker processes.*workers=1"):
        extract_features(_unpicklable_extractor(), two_clips, cache_dir=tmp_path,
                         progress=False, workers=2)
    # One worker computes here, so any callable will do.
    table = extract_features(_unpicklable_extractor(), two_clips, cache_dir=tmp_path,
                             progress=False, workers=1)
    assert table.video_names == ("clip_a", "clip_b")


def test_bad_workers_are_refused(tmp_path, two_clips):
    for workers in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="workers must be"):
            extract_features(MOTION, two_clips, cache_dir=tmp_path, workers=workers)


def test_motion_extractor_pickles_with_its_settings():
    import pickle

    settings = dataclasses.replace(MOTION.settings, width=96)
    extractor = pickle.loads(pickle.dumps(visual.motion_extractor(settings=settings)))
    assert extractor.settings == settings
    assert extractor.function.keywords == {"settings": settings}


def test_mediapipe_is_told_to_log_only_errors(monkeypatch):
    from emosign.baselines import landmarks

    monkeypatch.delenv("GLOG_minloglevel", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import fails after the settings
    with pytest.raises(ImportError):
        landmarks._import_mediapipe()
    import os

    assert os.environ["GLOG_minloglevel"] == "2" and os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
