"""Tests for emosign.video: locating clip files and sampling frames by time.

Through the public face, emosign.video, for its three modules (_video_files, _decode and
_workers); the worker pool's machinery (slots in /dev/shm, dead workers) is tested in
test_workers.py.

The synthetic clips encode each frame's index as 8 black/white vertical
stripes (one bit per stripe), which survives lossy compression and
resizing, so a test can tell exactly which source frame it got back.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emosign.errors import EmosignError
from emosign.video import (
    DEFAULT_FPS,
    Frames,
    VideoError,
    VideoIndex,
    available_backends,
    find_video,
    iter_clip_frames,
    resolve_videos,
    sample_frames,
    sample_times,
)

WIDTH, HEIGHT = 64, 48
BITS = 8  # stripes per frame, so indices up to 255 are distinguishable

BACKENDS = [
    pytest.param(
        "decord",
        marks=pytest.mark.skipif(
            "decord" not in available_backends(),
            reason="decord is not importable here (no wheel for this platform)",
        ),
    ),
    "pyav",
]


# ---------------------------------------------------------------------------
# Synthetic clips
# ---------------------------------------------------------------------------


def _encode_index(index: int) -> np.ndarray:
    """An RGB frame whose stripes spell ``index`` in binary (bit 0 on the left)."""
    image = np.full((HEIGHT, WIDTH, 3), 32, dtype=np.uint8)
    stripe = WIDTH // BITS
    for bit in range(BITS):
        if index >> bit & 1:
            image[:, bit * stripe : (bit + 1) * stripe] = 224
    return image


def _decode_indices(array: np.ndarray) -> list[int]:
    """Read back the index of every frame in a (T, H, W, 3) array of any size."""
    _, _, width, _ = array.shape
    stripe = width / BITS
    decoded = []
    for image in array:
        value = 0
        for bit in range(BITS):
            # The middle half of each stripe, away from blurred edges.
            left = int(bit * stripe + stripe / 4)
            right = max(left + 1, int(bit * stripe + 3 * stripe / 4))
            if image[:, left:right].mean() > 128:
                value |= 1 << bit
        decoded.append(value)
    return decoded


def write_clip(
    path: Path,
    *,
    fps: int,
    n_frames: int,
    codec: str = "libx264",
    gop: int = 12,
    first_pts: int = 0,
    options: dict[str, str] | None = None,
) -> Path:
    """Write an mp4 whose frame i shows the index i; return its path."""
    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        # A short GOP makes decord seek between keyframes, with B-frames
        # (libx264's default) forcing reordering between decode and display.
        stream.codec_context.gop_size = gop
        if codec == "libx264":
            stream.options = {"crf": "12"}
        time_base = Fraction(1, fps * 512)
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(_encode_index(i), format="rgb24")
            frame.time_base = time_base
            frame.pts = first_pts + i * 512
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    return {
        "30fps": write_clip(root / "c30.mp4", fps=30, n_frames=60),  # 2.0 s
        "24fps": write_clip(root / "c24.mp4", fps=24, n_frames=48),  # 2.0 s
        "30fps_odd": write_clip(root / "c30_odd.mp4", fps=30, n_frames=65),  # 2.1667 s
        "24fps_odd": write_clip(root / "c24_odd.mp4", fps=24, n_frames=50),  # 2.0833 s
        "mpeg4": write_clip(root / "m30.mp4", fps=30, n_frames=60, codec="mpeg4"),
        # The stream starts at 0.5 s; timestamps must still count from 0.
        "offset": write_clip(root / "off.mp4", fps=30, n_frames=30, first_pts=7680),
    }


def expected_indices_at_rate(source_fps: int, n_frames: int, rate: int = 10) -> list[int]:
    """Frame on screen at t = k / rate, computed exactly with integers."""
    count = math.ceil(Fraction(n_frames, source_fps) * rate)
    return [k * source_fps // rate for k in range(count)]


# ---------------------------------------------------------------------------
# find_video / resolve_videos
# ---------------------------------------------------------------------------


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


@pytest.fixture
def video_dir(tmp_path) -> Path:
    directory = tmp_path / "videos"
    directory.mkdir()
    return directory


LAYOUTS = {
    "crop": lambda d: d / "utt1" / "crop_original_video.mp4",
    "utterance": lambda d: d / "utt1.mp4",
    "name": lambda d: d / "vid1.mp4",
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_find_video_each_layout(video_dir, layout):
    expected = _touch(LAYOUTS[layout](video_dir))
    found = find_video(video_dir, utterance_id="utt1", video_name="vid1")
    assert found == expected.resolve()
    assert found.is_absolute()


@pytest.mark.parametrize(
    ("present", "winner"),
    [
        (("crop", "utterance", "name"), "crop"),
        (("utterance", "name"), "utterance"),
        (("crop", "name"), "crop"),
    ],
)
def test_find_video_precedence(video_dir, present, winner):
    for layout in present:
        _touch(LAYOUTS[layout](video_dir))
    found = find_video(video_dir, utterance_id="utt1", video_name="vid1")
    assert found == LAYOUTS[winner](video_dir).resolve()


def test_find_video_skips_non_files(video_dir):
    # utt1/ exists without the crop file, and utt1.mp4 is a directory.
    (video_dir / "utt1").mkdir()
    (video_dir / "utt1.mp4").mkdir()
    expected = _touch(video_dir / "vid1.mp4")
    assert find_video(video_dir, utterance_id="utt1", video_name="vid1") == expected.resolve()


def test_find_video_none_when_absent(video_dir):
    _touch(video_dir / "other.mp4")
    assert find_video(video_dir, utterance_id="utt1", video_name="vid1") is None


def test_find_video_missing_dir(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="nope"):
        find_video(missing, utterance_id="u", video_name="v")


UNSAFE_NAMES = [
    "../outside",
    "..",
    ".",
    "a/b",
    "a\\b",
    "/etc/passwd",
    "C:evil",
    "x\x00y",
    "",
    "has space",
    "caf\u00e9",
    "name\n",
]


@pytest.mark.parametrize("field", ["utterance_id", "video_name"])
@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_find_video_rejects_unsafe_names(tmp_path, video_dir, field, name):
    # A real file sits where "../outside" would lead, so following the name
    # would succeed: only validation stops it.
    _touch(tmp_path / "outside.mp4")
    names = {"utterance_id": "utt1", "video_name": "vid1", field: name}
    with pytest.raises(ValueError) as info:
        find_video(video_dir, **names)
    assert repr(name) in str(info.value)
    assert field in str(info.value)


def test_find_video_refuses_symlink_outside(tmp_path, video_dir):
    target = _touch(tmp_path / "secret" / "data.mp4")
    (video_dir / "vid1.mp4").symlink_to(target)
    with pytest.raises(ValueError, match=r"'vid1'.*outside the video directory"):
        find_video(video_dir, utterance_id="utt1", video_name="vid1")


def test_find_video_refuses_symlinked_directory_outside(tmp_path, video_dir):
    _touch(tmp_path / "elsewhere" / "crop_original_video.mp4")
    (video_dir / "utt1").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(ValueError, match="outside the video directory"):
        find_video(video_dir, utterance_id="utt1", video_name="vid1")


def test_find_video_refuses_dangling_symlink_outside(tmp_path, video_dir):
    (video_dir / "vid1.mp4").symlink_to(tmp_path / "does-not-exist.mp4")
    with pytest.raises(ValueError, match="outside"):
        find_video(video_dir, utterance_id="utt1", video_name="vid1")


def test_find_video_allows_symlink_inside(video_dir):
    target = _touch(video_dir / "store" / "real.mp4")
    (video_dir / "vid1.mp4").symlink_to(target)
    assert find_video(video_dir, utterance_id="utt1", video_name="vid1") == target.resolve()


def test_resolve_videos_reports_missing_in_order(video_dir):
    _touch(video_dir / "b.mp4")
    _touch(video_dir / "u_d" / "crop_original_video.mp4")
    clips = [("c", "u_c"), ("b", "u_b"), ("a", "u_a"), ("d", "u_d"), ("c", "u_c")]
    index = resolve_videos(video_dir, clips)
    assert isinstance(index, VideoIndex)
    assert list(index.paths) == ["c", "b", "a", "d"]
    assert index.missing == ("c", "a")
    assert index.paths["b"] == str((video_dir / "b.mp4").resolve())
    assert index.paths["d"] == str((video_dir / "u_d" / "crop_original_video.mp4").resolve())
    assert index.paths["a"] is None
    message = index.describe_missing()
    assert message.startswith("2 of 4 clips have no video file")
    assert message.endswith(": c, a")


def test_resolve_videos_truncates_long_missing_list(video_dir):
    names = [f"clip{i:02d}" for i in range(13)]
    index = resolve_videos(video_dir, [(name, "u" + name) for name in names])
    message = index.describe_missing()
    assert message.startswith("13 of 13 clips")
    assert "clip09" in message and "clip10" not in message
    assert message.endswith("and 3 more")


def test_resolve_videos_nothing_missing(video_dir):
    _touch(video_dir / "a.mp4")
    index = resolve_videos(video_dir, [("a", "u")])
    assert index.missing == ()
    assert "all 1 clips" in index.describe_missing()


def test_resolve_videos_is_read_only(video_dir):
    index = resolve_videos(video_dir, [("a", "u")])
    with pytest.raises(TypeError):
        index.paths["a"] = "/etc/passwd"  # type: ignore[index]


def test_resolve_videos_missing_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent-dir"):
        resolve_videos(tmp_path / "absent-dir", [("a", "u")])


def test_resolve_videos_rejects_poisoned_row(video_dir):
    with pytest.raises(ValueError, match=r"'\.\./\.\./etc/passwd'"):
        resolve_videos(video_dir, [("ok", "u1"), ("../../etc/passwd", "u2")])


# ---------------------------------------------------------------------------
# sample_times
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "count"), [(2.0, 20), (2.05, 21), (4.8, 48), (4.8000002, 48), (0.05, 1)]
)
def test_sample_times_count_is_ceil(duration, count):
    times = sample_times(duration, fps=10)
    assert len(times) == count
    np.testing.assert_allclose(times, np.arange(count) / 10)


def test_sample_times_num_frames_are_segment_centres():
    np.testing.assert_allclose(sample_times(2.0, num_frames=4), [0.25, 0.75, 1.25, 1.75])
    np.testing.assert_allclose(sample_times(2.0, fps=None, num_frames=1), [1.0])


@settings(max_examples=200, deadline=None)
@given(
    duration=st.floats(0.01, 30.0),
    fps=st.floats(0.5, 120.0),
    max_frames=st.none() | st.integers(1, 50),
)
def test_sample_times_properties(duration, fps, max_frames):
    full = sample_times(duration, fps=fps)
    times = sample_times(duration, fps=fps, max_frames=max_frames)
    assert full.dtype == np.float64
    assert full[0] == 0.0
    assert np.all(full < duration)
    assert np.all(np.diff(full) > 0)
    # The next time would fall at (or within float noise of) the end.
    assert len(full) / fps >= duration - 1e-3
    if max_frames is None:
        np.testing.assert_array_equal(times, full)
    else:
        assert len(times) == min(max_frames, len(full))
        assert np.isin(times, full).all()
        assert times[0] == full[0]
        if max_frames > 1:
            assert times[-1] == full[-1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fps": 0}, "fps must be"),
        ({"fps": -5}, "fps must be"),
        ({"fps": float("nan")}, "fps must be"),
        ({"fps": float("inf")}, "fps must be"),
        ({"fps": True}, "fps must be"),
        ({"fps": None}, "one of fps or num_frames"),
        ({"fps": 5, "num_frames": 3}, "not both"),
        ({"num_frames": 0}, "num_frames must be"),
        ({"num_frames": 2.5}, "num_frames must be"),
        ({"max_frames": 0}, "max_frames must be"),
    ],
)
def test_invalid_sampling_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_times(2.0, **kwargs)


def test_num_frames_with_default_fps_is_accepted():
    # fps defaults to 10, so num_frames alone must not count as "both".
    assert len(sample_times(2.0, fps=DEFAULT_FPS, num_frames=3)) == 3


# ---------------------------------------------------------------------------
# sample_frames
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("name", "source_fps", "n_frames"),
    [("30fps", 30, 60), ("24fps", 24, 48), ("30fps_odd", 30, 65), ("24fps_odd", 24, 50)],
)
def test_sample_at_10fps_picks_frame_on_screen(clips, backend, name, source_fps, n_frames):
    frames = sample_frames(clips[name], backend=backend)
    expected = expected_indices_at_rate(source_fps, n_frames)

    assert isinstance(frames, Frames)
    assert len(frames) == math.ceil(n_frames / source_fps * 10)
    assert frames.array.shape == (len(expected), HEIGHT, WIDTH, 3)
    assert frames.array.dtype == np.uint8
    assert frames.timestamps.dtype == np.float64
    assert frames.indices.tolist() == expected
    assert _decode_indices(frames.array) == expected
    np.testing.assert_allclose(frames.timestamps, np.array(expected) / source_fps, atol=1e-5)
    assert frames.source_fps == pytest.approx(source_fps)
    assert frames.duration == pytest.approx(n_frames / source_fps, abs=1e-5)
    assert frames.path == str(clips[name])


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_moments_at_24_and_30_fps(clips, backend):
    # The point of sampling by time: both copies of a 2 s clip give 20
    # frames, each on screen within one source frame of k / 10 s.
    a = sample_frames(clips["30fps"], backend=backend)
    b = sample_frames(clips["24fps"], backend=backend)
    assert len(a) == len(b) == 20
    targets = np.arange(20) / 10
    assert np.all(a.timestamps <= targets + 1e-6) and np.all(targets - a.timestamps < 1 / 30)
    assert np.all(b.timestamps <= targets + 1e-6) and np.all(targets - b.timestamps < 1 / 24)


@pytest.mark.parametrize("backend", BACKENDS)
def test_stream_start_offset_is_removed(clips, backend):
    frames = sample_frames(clips["offset"], backend=backend)
    expected = expected_indices_at_rate(30, 30)
    assert frames.timestamps[0] == pytest.approx(0.0, abs=1e-6)
    assert _decode_indices(frames.array) == expected
    assert frames.duration == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_num_frames_evenly_spaced(clips, backend):
    frames = sample_frames(clips["30fps"], fps=None, num_frames=4, backend=backend)
    # Centres 0.25, 0.75, 1.25, 1.75 s fall inside frames 7, 22, 37, 52.
    assert _decode_indices(frames.array) == [7, 22, 37, 52]
    np.testing.assert_allclose(frames.timestamps, np.array([7, 22, 37, 52]) / 30, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_frames_thins_evenly(clips, backend):
    full = sample_frames(clips["24fps"], backend=backend)
    capped = sample_frames(clips["24fps"], max_frames=5, backend=backend)
    assert len(full) == 20 and len(capped) == 5
    assert capped.array.shape[0] == 5
    assert set(capped.indices.tolist()) <= set(full.indices.tolist())
    assert capped.indices[0] == full.indices[0] and capped.indices[-1] == full.indices[-1]
    assert _decode_indices(capped.array) == capped.indices.tolist()
    gaps = np.diff(capped.timestamps)
    assert gaps.max() - gaps.min() < 0.2  # evenly spread, up to rounding


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_frames_larger_than_count_is_noop(clips, backend):
    frames = sample_frames(clips["30fps"], max_frames=1000, backend=backend)
    assert len(frames) == 20


@pytest.mark.parametrize("backend", BACKENDS)
def test_resize(clips, backend):
    frames = sample_frames(clips["30fps"], size=(32, 24), backend=backend)
    assert frames.array.shape == (20, 24, 32, 3)
    assert _decode_indices(frames.array) == expected_indices_at_rate(30, 60)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rate_above_source_repeats_frames(clips, backend):
    frames = sample_frames(clips["24fps"], fps=48, backend=backend)
    assert len(frames) == 96
    assert frames.indices.tolist() == [k // 2 for k in range(96)]
    assert _decode_indices(frames.array) == frames.indices.tolist()


@pytest.mark.skipif(
    "decord" not in available_backends(),
    reason="decord is not importable here (no wheel for this platform)",
)
@pytest.mark.parametrize("name", ["30fps", "24fps", "30fps_odd", "24fps_odd", "mpeg4", "offset"])
@pytest.mark.parametrize(
    "options",
    [{}, {"fps": 7.5}, {"fps": None, "num_frames": 16}, {"max_frames": 6}, {"size": (40, 30)}],
)
def test_decord_and_pyav_agree(clips, name, options):
    a = sample_frames(clips[name], backend="decord", **options)
    b = sample_frames(clips[name], backend="pyav", **options)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.timestamps, b.timestamps, atol=1e-3)
    assert a.duration == pytest.approx(b.duration, abs=1e-3)
    assert a.source_fps == pytest.approx(b.source_fps)
    assert a.array.shape == b.array.shape
    diff = np.abs(a.array.astype(np.int16) - b.array.astype(np.int16))
    if "size" in options:
        # Both use a bilinear swscale; allow for scaler version differences.
        assert diff.mean() < 1
    else:
        assert diff.max() <= 2


def test_auto_backend_prefers_pyav(clips):
    frames = sample_frames(clips["30fps"], backend="auto")
    reference = sample_frames(clips["30fps"], backend="pyav")
    np.testing.assert_array_equal(frames.array, reference.array)
    assert available_backends()[0] == "pyav"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": (0, 10)}, "size must be"),
        ({"size": (32,)}, "size must be"),
        ({"size": [32, 24]}, "size must be"),
        ({"backend": "ffmpeg"}, "backend must be"),
        ({"fps": 0}, "fps must be"),
        ({"num_frames": 0}, "num_frames must be"),
    ],
)
def test_sample_frames_invalid_options(clips, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_frames(clips["30fps"], **kwargs)


def test_frames_repr_is_short(clips):
    frames = sample_frames(clips["30fps"], backend="pyav")
    text = repr(frames)
    assert "(20, 48, 64, 3)" in text
    assert len(text) < 300


# ---------------------------------------------------------------------------
# Broken files
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory, clips) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("broken")
    real = clips["30fps"].read_bytes()
    empty = root / "empty.mp4"
    empty.write_bytes(b"")
    truncated = root / "truncated.mp4"
    truncated.write_bytes(real[: len(real) // 2])
    text = root / "notes.mp4"
    text.write_text("this is a text file, not a video\n" * 20)
    # With the index at the front, cutting the file keeps it openable:
    # the damage only shows once packets run out.
    faststart = write_clip(
        root / "fs.mp4", fps=30, n_frames=60, options={"movflags": "faststart"}
    ).read_bytes()
    cut = root / "cut_faststart.mp4"
    cut.write_bytes(faststart[: len(faststart) * 3 // 4])
    # Cut exactly where packet 40's data starts: every remaining packet is
    # intact, so only the header's frame count reveals the damage.
    with av.open(str(root / "fs.mp4")) as container:
        offsets = [p.pos for p in container.demux(video=0) if p.size]
    cut_clean = root / "cut_at_packet.mp4"
    cut_clean.write_bytes(faststart[: offsets[40]])
    directory = root / "dir.mp4"
    directory.mkdir()
    return {
        "empty": empty,
        "truncated": truncated,
        "text": text,
        "cut_faststart": cut,
        "cut_at_packet": cut_clean,
        "missing": root / "absent.mp4",
        "directory": directory,
    }


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "case",
    ["empty", "truncated", "text", "cut_faststart", "cut_at_packet", "missing", "directory"],
)
def test_broken_file_raises_video_error(broken, backend, case):
    path = broken[case]
    with pytest.raises(VideoError) as info:
        sample_frames(path, backend=backend, clip="utt_0042")
    error = info.value
    assert isinstance(error, RuntimeError)
    assert "'utt_0042'" in str(error)
    assert str(path) in str(error)
    assert error.clip == "utt_0042" and error.path == str(path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_broken_file_error_defaults_to_file_name_and_chains(broken, backend):
    with pytest.raises(VideoError, match="'notes.mp4'") as info:
        sample_frames(broken["text"], backend=backend)
    # The decoder's own exception is kept for debugging.
    assert info.value.__cause__ is not None


# ---------------------------------------------------------------------------
# iter_clip_frames
# ---------------------------------------------------------------------------


def test_iter_clip_frames_streams_in_order(clips):
    paths = [clips["24fps"], ("named", clips["30fps_odd"])]
    results = list(iter_clip_frames(paths, fps=5, backend="pyav"))
    assert [len(f) for f in results] == [10, 11]
    assert results[0].path == str(clips["24fps"])
    assert _decode_indices(results[1].array) == expected_indices_at_rate(30, 65, rate=5)


def test_iter_clip_frames_names_failing_clip(clips, broken):
    stream = iter_clip_frames([clips["24fps"], ("utt_bad", broken["text"])])
    assert len(next(stream)) == 20
    with pytest.raises(VideoError, match="'utt_bad'"):
        next(stream)


def test_iter_clip_frames_rejects_clip_keyword(clips):
    with pytest.raises(TypeError, match="pairs"):
        next(iter_clip_frames([clips["24fps"]], clip="x"))


# What each of the video modules may import from the package: nothing above them.
VIDEO_MODULE_IMPORTS = {
    "emosign.video": {"emosign._decode", "emosign._video_files", "emosign._workers"},
    "emosign._workers": {"emosign._decode", "emosign.errors"},
    "emosign._decode": {"emosign.errors"},
    "emosign._video_files": {"emosign.errors"},
}


def _package_imports(module_name: str) -> set[str]:
    """The emosign modules a module imports, anywhere in its source."""
    import ast
    import importlib

    tree = ast.parse(Path(importlib.import_module(module_name).__file__).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module_name} uses a relative import"
            if node.module == "emosign":  # from emosign import _decode
                found |= {f"emosign.{alias.name}" for alias in node.names}
            else:
                found.add(node.module)
    return {name for name in found if name == "emosign" or name.startswith("emosign.")}


@pytest.mark.parametrize("module_name", sorted(VIDEO_MODULE_IMPORTS))
def test_video_modules_import_nothing_above_them(module_name):
    assert _package_imports(module_name) == VIDEO_MODULE_IMPORTS[module_name]


def test_video_is_the_public_face():
    from emosign import video

    assert set(video.__all__) == {
        "DEFAULT_FPS", "MAX_SAMPLED_FRAMES", "Frames", "VideoError", "VideoIndex", "WorkerError",
        "available_backends", "check_workers", "default_workers", "find_video",
        "iter_clip_frames", "resolve_videos", "sample_frames", "sample_times"}
    assert all(hasattr(video, name) for name in video.__all__)
    assert issubclass(video.VideoError, EmosignError) and issubclass(video.WorkerError, EmosignError)


# ---------------------------------------------------------------------------
# B-frames and irregular frame times: both backends end the clip the same way
# ---------------------------------------------------------------------------

# Gaps between frame starts, in ticks of 1/15360 s: 1/60 s to 2/15 s, so the
# median gap (the clip's last frame lasts that long) is not the nominal rate's.
IRREGULAR_TIME_BASE = Fraction(1, 15360)
# On this clip the decord and PyAV paths of emosign 0.1 disagreed (26 and 27 frames at 10 fps).
IRREGULAR_GAPS = [
    2048, 1024, 1024, 512, 512, 256, 256, 256, 256, 2048, 1024, 2048, 1024, 1024, 2048, 1024,
    1024, 1024, 1024, 2048, 512, 2048, 1024, 256, 512, 2048, 1024, 256, 2048, 1024, 2048, 256,
    256, 2048, 256, 1024, 256, 512, 512, 512,
]


def write_irregular_clip(path: Path) -> tuple[Path, np.ndarray]:
    """A libx264 clip with B-frames (up to 3 in a row) and irregular pts.

    Returns the path and each frame's start in seconds.  With B-frames the
    mp4's packet durations are stored in decode order, so the packet of the
    last displayed frame carries another frame's duration.
    """
    starts = np.concatenate([[0], np.cumsum(IRREGULAR_GAPS)[:-1]])
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.gop_size = 12
        stream.codec_context.time_base = IRREGULAR_TIME_BASE
        stream.options = {"crf": "12", "bframes": "3"}
        for i, pts in enumerate(starts):
            frame = av.VideoFrame.from_ndarray(_encode_index(i), format="rgb24")
            frame.time_base = IRREGULAR_TIME_BASE
            frame.pts = int(pts)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path, starts * float(IRREGULAR_TIME_BASE)


@pytest.fixture(scope="module")
def irregular(tmp_path_factory) -> tuple[Path, np.ndarray]:
    return write_irregular_clip(tmp_path_factory.mktemp("irregular") / "irregular.mp4")


def test_irregular_clip_really_has_b_frames_and_reordered_packets(irregular):
    path, starts = irregular
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
    pts = [p.pts for p in packets]
    assert pts != sorted(pts)  # decode order is not display order
    assert len(set(np.diff(starts))) > 2


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fps", [10, 30, 60])
def test_irregular_b_frame_clip_ends_one_median_interval_after_its_last_frame(
    irregular, backend, fps
):
    path, starts = irregular
    duration = starts[-1] + np.median(np.diff(starts))
    times = np.arange(math.ceil(duration * fps)) / fps
    times = times[times < duration - 1e-4]
    expected = np.searchsorted(starts, times + 1e-4, side="right") - 1
    frames = sample_frames(path, fps=fps, backend=backend)
    assert frames.duration == pytest.approx(duration, abs=1e-5)
    assert frames.indices.tolist() == expected.tolist()
    assert _decode_indices(frames.array) == expected.tolist()
    np.testing.assert_allclose(frames.timestamps, starts[expected], atol=1e-5)


@pytest.mark.skipif("decord" not in available_backends(), reason="decord is not importable here")
@pytest.mark.parametrize(
    "options", [{}, {"fps": 24}, {"fps": None, "num_frames": 16}, {"max_frames": 7},
                {"max_side": 32}],
)
def test_irregular_b_frame_clip_same_frames_in_both_backends(irregular, options):
    path, _ = irregular
    a = sample_frames(path, backend="decord", **options)
    b = sample_frames(path, backend="pyav", **options)
    assert a.indices.tolist() == b.indices.tolist()
    np.testing.assert_allclose(a.timestamps, b.timestamps, atol=1e-5)
    assert a.duration == pytest.approx(b.duration, abs=1e-5)
    assert _decode_indices(a.array) == _decode_indices(b.array) == a.indices.tolist()


# ---------------------------------------------------------------------------
# Decoding at the output size
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_side_shrinks_keeping_the_aspect_ratio(clips, backend):
    frames = sample_frames(clips["30fps"], max_side=32, backend=backend)
    assert frames.array.shape == (20, 24, 32, 3)  # 64x48 -> 32x24
    assert _decode_indices(frames.array) == expected_indices_at_rate(30, 60)


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_side_never_enlarges(clips, backend):
    frames = sample_frames(clips["30fps"], max_side=500, backend=backend)
    assert frames.array.shape == (20, HEIGHT, WIDTH, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_side": 0}, "max_side must be"),
        ({"max_side": -5}, "max_side must be"),
        ({"max_side": 2.5}, "max_side must be"),
        ({"max_side": True}, "max_side must be"),
        ({"max_side": 32, "size": (32, 24)}, "either size or max_side"),
        ({"threads": -1}, "threads must be"),
    ],
)
def test_max_side_and_threads_are_checked(clips, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sample_frames(clips["30fps"], **kwargs)


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_thread_decoding_gives_the_same_frames(clips, backend):
    a = sample_frames(clips["30fps_odd"], backend=backend, threads=1)
    b = sample_frames(clips["30fps_odd"], backend=backend, threads=0)
    np.testing.assert_array_equal(a.array, b.array)
    np.testing.assert_array_equal(a.timestamps, b.timestamps)


@pytest.fixture(scope="module")
def colour_clip(tmp_path_factory) -> Path:
    """A colour clip shaped like EmoSign's, small: a smooth backdrop, a moving figure, noise."""
    rng = np.random.default_rng(7)
    height, width = 120, 160
    yy, xx = np.mgrid[0:height, 0:width]
    backdrop = np.stack([60 + yy // 3, 70 + xx // 4, 90 + 0 * xx], axis=-1)
    path = tmp_path_factory.mktemp("colour") / "colour.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(45):
            image = backdrop + rng.integers(-3, 4, backdrop.shape)
            cx, cy = 40 + 2 * i, 60 + int(20 * np.sin(i / 5))
            image[(yy - cy) ** 2 + (xx - cx) ** 2 < 15**2] = (210, 160, 130)
            frame = av.VideoFrame.from_ndarray(np.clip(image, 0, 255).astype(np.uint8),
                                               format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.parametrize("options", [{}, {"size": (70, 50)}, {"max_side": 96}, {"fps": 45}])
def test_pyav_frames_are_the_pixels_of_frame_to_ndarray(colour_clip, options):
    # Each frame used to be converted with frame.to_ndarray (a new scaler per frame) and then
    # copied; one scaler for the clip, converting into the clip's array, gives the very same
    # bytes (70x50 rows are padded in PyAV's frame: the copy must skip the padding).
    frames = sample_frames(colour_clip, backend="pyav", **options)
    size = options.get("size") or ((96, 72) if "max_side" in options else (None, None))
    with av.open(str(colour_clip)) as container:
        decoded = sorted(container.decode(video=0), key=lambda frame: frame.pts)
        expected = np.stack([
            decoded[i].to_ndarray(format="rgb24", width=size[0], height=size[1],
                                  interpolation="BILINEAR")
            for i in frames.indices
        ])
    assert frames.array.dtype == np.uint8 and frames.array.shape == expected.shape
    np.testing.assert_array_equal(frames.array, expected)


def test_unrepeated_frames_are_returned_without_an_extra_copy(clips):
    # The decoder's own output array is handed back (no fancy-index copy).
    frames = sample_frames(clips["30fps"], backend="pyav")
    assert frames.array.base is None and frames.array.flags.c_contiguous
    assert frames.array.flags.writeable


# ---------------------------------------------------------------------------
# iter_clip_frames over a process pool
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_iter_clip_frames_workers_give_the_serial_result(clips, irregular, backend):
    paths = [clips["30fps"], ("irr", irregular[0]), clips["24fps_odd"], clips["offset"]]
    serial = list(iter_clip_frames(paths, workers=1, backend=backend, max_side=40))
    parallel = list(iter_clip_frames(paths, workers=2, backend=backend, max_side=40))
    assert [f.path for f in parallel] == [f.path for f in serial]
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a.array, b.array)
        np.testing.assert_array_equal(a.timestamps, b.timestamps)
        np.testing.assert_array_equal(a.indices, b.indices)


def test_iter_clip_frames_workers_name_the_failing_clip(clips, broken):
    stream = iter_clip_frames([clips["24fps"], ("utt_bad", broken["text"]), clips["30fps"]],
                              workers=2)
    assert len(next(stream)) == 20
    with pytest.raises(VideoError, match="'utt_bad'") as caught:
        next(stream)
    assert caught.value.clip == "utt_bad" and caught.value.path == str(broken["text"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"workers": 0}, ValueError, "workers must be"),
        ({"workers": "2"}, ValueError, "workers must be"),
        ({"workers": 10**6}, ValueError, "workers must be an integer from 1 to"),
        ({"fps": -1}, ValueError, "fps must be"),
        ({"max_side": 0}, ValueError, "max_side must be"),
        ({"colour": "rgb"}, TypeError, "unexpected options"),
    ],
)
def test_iter_clip_frames_checks_options_before_reading(kwargs, error, message):
    with pytest.raises(error, match=message):
        next(iter_clip_frames(["never-read.mp4"], **kwargs))


def test_video_error_survives_pickling():
    import pickle

    error = pickle.loads(pickle.dumps(VideoError("c", "/x.mp4", "truncated")))
    assert (error.clip, error.path, error.reason) == ("c", "/x.mp4", "truncated")
    assert str(error) == "cannot read clip 'c' from /x.mp4: truncated"


# ---------------------------------------------------------------------------
# Hard links and ids that differ only by leading zeros
# ---------------------------------------------------------------------------


def test_find_video_refuses_a_hard_link(tmp_path, video_dir):
    outside = _touch(tmp_path / "elsewhere" / "secret.mp4")
    os.link(outside, video_dir / "vid1.mp4")
    with pytest.raises(ValueError, match="hard link"):
        find_video(video_dir, utterance_id="utt1", video_name="vid1")
    with pytest.raises(ValueError, match="hard link"):
        resolve_videos(video_dir, [("vid1", "utt1")])


def test_resolve_videos_refuses_ids_that_differ_by_leading_zeros(video_dir):
    # Refused from the label rows alone, whatever is on disk.
    with pytest.raises(ValueError, match="'0123' and '123' differ only by leading zeros"):
        resolve_videos(video_dir, [("a", "0123"), ("b", "123")])


@pytest.mark.parametrize("asked", ["123", "0123"])
def test_find_video_refuses_an_id_with_another_spelling_on_disk(video_dir, asked):
    _touch(video_dir / "0123" / "crop_original_video.mp4")
    _touch(video_dir / "123.mp4")
    with pytest.raises(ValueError, match="leading zeros"):
        find_video(video_dir, utterance_id=asked, video_name="vid1")


def test_numeric_ids_with_one_spelling_each_are_found(video_dir):
    zero = _touch(video_dir / "0123.mp4")
    other = _touch(video_dir / "1230.mp4")
    index = resolve_videos(video_dir, [("a", "0123"), ("b", "1230"), ("c", "99")])
    assert index.paths == {"a": str(zero.resolve()), "b": str(other.resolve()), "c": None}


def test_pyav_demuxes_again_when_the_stream_is_too_large_to_hold(irregular, monkeypatch):
    from emosign import _decode

    path, _ = irregular
    held = sample_frames(path, backend="pyav")
    monkeypatch.setattr(_decode, "_MAX_HELD_BYTES", 100)  # a few packets
    streamed = sample_frames(path, backend="pyav")
    np.testing.assert_array_equal(streamed.array, held.array)
    np.testing.assert_array_equal(streamed.timestamps, held.timestamps)


# ---------------------------------------------------------------------------
# Absurd requests are refused before memory runs out
# ---------------------------------------------------------------------------


def test_a_frame_count_no_clip_needs_is_refused_before_anything_is_allocated():
    from emosign.video import MAX_SAMPLED_FRAMES

    with pytest.raises(ValueError, match="num_frames must be an integer from 1 to 100,000"):
        sample_times(4.8, fps=None, num_frames=10**9)
    with pytest.raises(ValueError, match=r"fps=1e\+12 on a 4.8 s clip asks for 4,800,000,000,000"):
        sample_times(4.8, fps=1e12)
    assert len(sample_times(100.0, fps=1000)) == MAX_SAMPLED_FRAMES  # the most allowed


def test_frames_larger_than_memory_are_refused_naming_the_clip(clips, monkeypatch):
    from emosign import _decode

    needed = sample_frames(clips["24fps"]).array.nbytes
    monkeypatch.setattr(_decode, "_physical_memory", lambda: needed - 1)  # just too small
    with pytest.raises(VideoError, match=r"utt_big.*frames of \d+x\d+ would take .* GiB.*max_side"):
        sample_frames(clips["24fps"], clip="utt_big")
    assert sample_frames(clips["24fps"], max_side=8).array.nbytes < needed  # small enough
    with pytest.raises(VideoError, match="would take"):  # repeated frames are checked too
        sample_frames(clips["24fps"], fps=48)
    monkeypatch.setattr(_decode, "_physical_memory", lambda: None)  # unknown: not checked
    assert sample_frames(clips["24fps"]).array.size
