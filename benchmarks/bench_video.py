"""Benchmark emosign's frame sampler against the fastest hand-written sampler of each library.

The corpus is shaped like EmoSign: 50 clips of 4.8 s at 640x480 (h264, yuv420p, libx264 with
B-frames and a keyframe every ``--keyint`` frames, default 60), written once at 30 fps and
once at 24 fps to a cache directory and reused.  Each frame is a static textured background
with a moving bright blob and mild noise, so the encoder has real work to do.

``--emosign-shaped`` uses a corpus closer to the real clips instead (one signer in a studio):
a smooth background, a figure (torso, head, two hands) that sways and signs, mild sensor noise,
lengths spread over 3-6 s, at 30 fps (libx264 at crf 17: 0.35-0.75 MB a clip).  Its decoding
is cheaper than the textured corpus's, so what a sampler does per kept frame (conversion,
copies) weighs more.

Every sampler takes the frames on screen at 0, 0.1, 0.2, ... s (10 fps, as in the paper) and
returns them as one ``(T, H, W, 3)`` RGB uint8 array:

* ``emosign/decord``, ``emosign/pyav``: :func:`emosign.video.sample_frames`;
* ``decord get_batch``: ``VideoReader.get_frame_timestamp`` then ``get_batch`` of the kept
  indices (decord decodes once and converts only those);
* ``decord skip``: ``skip_frames`` / ``next`` over the same indices;
* ``pyav decode``: one pass of ``container.decode``, converting only the kept frames
  (chosen on the fly from each frame's pts);
* ``opencv grab``: one pass of ``VideoCapture.grab``, ``retrieve`` only for kept frames (each
  decided as it is grabbed, as ``retrieve`` converts the frame grabbed last), then BGR to RGB,
  stacked into one array.

The hand-written samplers pick the frames with emosign's rule (the last frame starting at or
before each time; the clip ends one median frame interval after its last frame starts), and
the script checks on the first clip that every sampler returns the same number of frames at
the same timestamps, that emosign's PyAV and decord paths return the very pixels of the
hand-written ones of the same library, and that OpenCV's pixels are PyAV's (both convert with
swscale).  With one process, emosign's time is also printed as a ratio to the OpenCV sampler's,
in CPU and in wall seconds.

Each sampler runs in a fresh subprocess, ``--repeat`` times in alternation with the others;
the least CPU time and the least wall time are reported (the machine may be shared: CPU
seconds count this process and its decoder threads and are less disturbed by other jobs).
"1 process" lets each library use its default decoder threads; "2 processes" splits the clips
over two processes (``concurrent.futures``) with one decoder thread each, and for emosign is
``iter_clip_frames(..., workers=2)``, which hands every frame to the caller's process (through
shared memory, without a copy).  Each hand-written sampler is timed twice with 2 processes:
once returning frame counts only (the frames stay in the workers, as when the work on them is
done there too: the decoders' limit), once handing every clip's array to the caller with
``Executor.map`` (pickled through a pipe: the usual way).

``--memory`` measures instead the peak memory of the MLLM harness's frames of one
3840x2160 clip (4.8 s, 30 fps): ``sample_frames(fps=10, max_frames=48)`` then the JPEG
messages of :func:`emosign.harness.runner.build_messages` at ``max_side=512``, once decoding
at full size and shrinking the frames afterwards ("before"), once decoding at the output size
with ``sample_frames(max_side=512)`` ("after"), each in a fresh subprocess, for each backend.
The peak is the subprocess's own (``VmHWM``, like ``getrusage``'s ``ru_maxrss``).

Usage::

    python benchmarks/bench_video.py                 # 50 clips, 640x480, 30 and 24 fps
    python benchmarks/bench_video.py --clips 20 --repeat 1
    python benchmarks/bench_video.py --emosign-shaped --clips 12 --processes 1 --repeat 5
    python benchmarks/bench_video.py --memory        # harness frames of a 4K clip
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

SAMPLE_FPS = 10.0
TOLERANCE = 1e-4  # seconds, as in emosign.video
CORPUS_VERSION = 3  # bump when the generator changes, to invalidate caches


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------


def _write_clip(
    path: Path, *, width: int, height: int, fps: int, n_frames: int, seed: int, keyint: int = 60
) -> None:
    import av

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    background = 96 + 40 * np.sin(xx / (7 + seed % 5)) * np.cos(yy / 11)
    background = (background[..., None] + rng.normal(0, 6, (height, width, 3))).astype(np.int16)
    # A bright blob moving like a signing hand, drawn from one precomputed
    # patch, and a small bank of sensor-noise frames: generating fresh
    # noise per frame would dominate the corpus build time.
    radius = max(4, width // 8)
    py, px = np.mgrid[-radius:radius, -radius:radius]
    patch = (120 * np.exp(-(px**2 + py**2) / (2 * (radius / 2) ** 2)))[..., None].astype(np.int16)
    noise_bank = rng.integers(-4, 5, (8, height, width, 3), dtype=np.int16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # A fixed keyframe interval, B-frames as libx264 makes them by default.
        stream.codec_context.gop_size = keyint
        stream.options = {"keyint_min": str(keyint), "sc_threshold": "0"}
        for i in range(n_frames):
            image = background + noise_bank[rng.integers(len(noise_bank))]
            cx = int((width - 2 * radius) * (0.5 + 0.45 * np.sin(i / 9 + seed)))
            cy = int((height - 2 * radius) * (0.5 + 0.45 * np.cos(i / 13 + seed)))
            image[cy : cy + 2 * radius, cx : cx + 2 * radius] += patch
            frame = av.VideoFrame.from_ndarray(
                np.clip(image, 0, 255).astype(np.uint8), format="rgb24"
            )
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


# --emosign-shaped: closer to the real clips (ASLLRP crops of one signer in a studio) than the
# textured corpus above, whose detailed background makes decoding dominate: a smooth
# background, a signer (torso, head, two hands) who sways and signs, mild sensor noise, and
# lengths of 3 to 6 s at 30 fps, as EmoSign's utterances; libx264 defaults otherwise.
EMOSIGN_SHAPED_VERSION = 1
EMOSIGN_SHAPED_CRF = "17"


def emosign_shaped_seconds(seed: int) -> float:
    """Clip ``seed``'s length: spread evenly over 3-6 s (golden-ratio steps), in whole frames."""
    return 3.0 + 3.0 * ((seed * 0.6180339887) % 1.0)


def _write_emosign_shaped_clip(
    path: Path, *, width: int, height: int, fps: int, n_frames: int, seed: int
) -> None:
    """One EmoSign-shaped clip; its length is :func:`emosign_shaped_seconds`, not ``n_frames``."""
    import av

    rng = np.random.default_rng(seed)
    n_frames = round(emosign_shaped_seconds(seed) * fps)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    # A smooth studio backdrop: a gentle vertical gradient with a soft vignette.
    tint = np.array([70, 80, 95], dtype=np.float32) + rng.uniform(-10, 10, 3)
    shade = 1.0 + 0.25 * (yy / height) - 0.2 * ((xx / width - 0.5) ** 2 + (yy / height - 0.5) ** 2)
    background = (shade[..., None] * tint).astype(np.int16)
    skin = np.array([200, 160, 130], dtype=np.int16) + rng.integers(-20, 20, 3).astype(np.int16)
    shirt = rng.integers(20, 120, 3).astype(np.int16)
    noise_bank = rng.normal(0, 2.5, (16, height, width, 3)).round().astype(np.int16)
    head_r, hand_r = height // 9, height // 18

    def disc(image, cx, cy, r, colour):
        y0, y1, x0, x1 = max(cy - r, 0), min(cy + r, height), max(cx - r, 0), min(cx + r, width)
        inside = (yy[y0:y1, x0:x1] - cy) ** 2 + (xx[y0:y1, x0:x1] - cx) ** 2 < r * r
        image[y0:y1, x0:x1][inside] = colour

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": EMOSIGN_SHAPED_CRF}
        for i in range(n_frames):
            t = i / fps
            image = background + noise_bank[rng.integers(len(noise_bank))]
            sway = int(0.02 * width * np.sin(2 * np.pi * 0.4 * t + seed))
            cx = width // 2 + sway
            top = height // 3
            image[top:, max(cx - width // 6, 0):cx + width // 6] = shirt  # torso
            disc(image, cx, top - head_r // 2, head_r, skin)  # head
            for side in (-1, 1):  # hands signing in front of the chest
                hx = cx + side * int(width * (0.12 + 0.08 * np.sin(2 * np.pi * 1.3 * t + side)))
                hy = int(height * (0.6 + 0.15 * np.sin(2 * np.pi * 0.9 * t + 2 * side + seed)))
                disc(image, hx, hy, hand_r, skin)
            frame = av.VideoFrame.from_ndarray(
                np.clip(image, 0, 255).astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def build_corpus(
    directory: Path, *, clips: int, width: int, height: int, fps: int, seconds: float,
    write_clip=None, version: int = CORPUS_VERSION, keyint: int | None = None,
) -> list[Path]:
    """Write the corpus unless a complete one with the same shape exists.

    ``write_clip(path, *, width, height, fps, n_frames, seed)`` draws one clip (default: this
    script's moving textured block, with a keyframe every ``keyint`` frames); ``version``
    names the generator, for the cache marker.
    """
    if write_clip is None:
        keyint = keyint or 60

        def write_clip(path, **shape):
            _write_clip(path, keyint=keyint, **shape)

    n_frames = round(seconds * fps)
    marker = directory / "complete.json"
    shape = {"version": version, "clips": clips, "width": width, "height": height,
             "fps": fps, "frames": n_frames, "keyint": keyint}
    paths = [directory / f"clip_{i:04d}.mp4" for i in range(clips)]
    if marker.exists() and json.loads(marker.read_text()) == shape:
        return paths
    directory.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    start = time.perf_counter()
    for i, path in enumerate(paths):
        write_clip(path, width=width, height=height, fps=fps, n_frames=n_frames, seed=i)
        if (i + 1) % 50 == 0:
            print(f"  wrote {i + 1}/{clips} clips", flush=True)
    # Written last, so an interrupted build is redone next time.
    marker.write_text(json.dumps(shape))
    print(f"  corpus written in {time.perf_counter() - start:.0f} s", flush=True)
    return paths


# ---------------------------------------------------------------------------
# Hand-written samplers: each returns (frames (T, H, W, 3) RGB uint8, timestamps (T,) s)
# ---------------------------------------------------------------------------


def _kept(starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique kept frame indices and, per target time, the position among them."""
    gaps = np.diff(starts)
    duration = starts[-1] + (float(np.median(gaps)) if len(gaps) else 1 / SAMPLE_FPS)
    times = np.arange(math.ceil(duration * SAMPLE_FPS) + 1) / SAMPLE_FPS
    times = times[times < duration - TOLERANCE]
    indices = np.clip(np.searchsorted(starts, times + TOLERANCE, side="right") - 1,
                      0, len(starts) - 1)
    return np.unique(indices, return_inverse=True)


def hand_decord_batch(path: Path, threads: int = 0):
    import decord

    reader = decord.VideoReader(str(path), num_threads=threads)
    starts = reader.get_frame_timestamp(np.arange(len(reader)))[:, 0].astype(np.float64)
    unique, positions = _kept(starts)
    frames = reader.get_batch(unique.tolist()).asnumpy()
    return frames[positions] if len(positions) > len(unique) else frames, starts[unique][positions]


def hand_decord_skip(path: Path, threads: int = 0):
    import decord

    reader = decord.VideoReader(str(path), num_threads=threads)
    starts = reader.get_frame_timestamp(np.arange(len(reader)))[:, 0].astype(np.float64)
    unique, positions = _kept(starts)
    frames, current = [], 0
    for index in unique:
        if index > current:
            reader.skip_frames(int(index - current))
        frames.append(reader.next().asnumpy())
        current = index + 1
    return np.stack(frames)[positions], starts[unique][positions]


def _online(frames_with_starts, convert):
    """Keep, in one pass, each frame on screen at a 10 fps target time.

    A frame's screen interval ends where the next frame starts, so each
    frame is decided when the next one arrives (the last one at the end,
    with the median interval).
    """
    kept, stamps, starts = [], [], []
    previous = None
    next_target = 0

    def keep_previous_until(stop: float) -> None:
        # The previous frame fills every target t with t < stop - tol.
        nonlocal next_target
        count = 0
        while next_target / SAMPLE_FPS < stop - TOLERANCE:
            next_target += 1
            count += 1
        if count:
            kept.extend([convert(previous[0])] * count)
            stamps.extend([previous[1]] * count)

    for frame, start in frames_with_starts:
        if previous is not None:
            keep_previous_until(start)
        previous = (frame, start)
        starts.append(start)
    gaps = np.diff(starts)
    keep_previous_until(starts[-1] + (float(np.median(gaps)) if len(gaps) else 1 / SAMPLE_FPS))
    return np.stack(kept), np.asarray(stamps)


def hand_pyav(path: Path, threads: int = 0):
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if threads == 1:
            stream.thread_type = "NONE"
        else:
            stream.thread_type = "AUTO"
        origin = stream.start_time or 0
        tick = float(stream.time_base)
        return _online(
            ((frame, (frame.pts - origin) * tick) for frame in container.decode(stream)),
            lambda frame: frame.to_ndarray(format="rgb24", interpolation="BILINEAR"),
        )


def hand_opencv(path: Path, threads: int = 0):
    import cv2

    params = [] if threads == 0 else [cv2.CAP_PROP_N_THREADS, threads]
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
    # retrieve() converts the frame grabbed last, so each frame is decided as it is grabbed:
    # it stays on screen one nominal frame interval (the corpora are constant-rate).
    interval = 1 / capture.get(cv2.CAP_PROP_FPS)
    kept, stamps = [], []
    next_target = 0
    try:
        while capture.grab():
            start = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
            count = 0
            while next_target / SAMPLE_FPS < start + interval - TOLERANCE:
                next_target += 1
                count += 1
            if count:
                image = cv2.cvtColor(capture.retrieve()[1], cv2.COLOR_BGR2RGB)
                kept.extend([image] * count)
                stamps.extend([start] * count)
    finally:
        capture.release()
    return np.stack(kept), np.asarray(stamps)


def emosign_sampler(backend: str):
    def sample(path: Path, threads: int = 0):
        from emosign.video import sample_frames

        frames = sample_frames(path, fps=SAMPLE_FPS, backend=backend, threads=threads)
        return frames.array, frames.timestamps

    return sample


SAMPLERS = {
    "emosign/decord": emosign_sampler("decord"),
    "emosign/pyav": emosign_sampler("pyav"),
    "decord get_batch": hand_decord_batch,
    "decord skip": hand_decord_skip,
    "pyav decode": hand_pyav,
    "opencv grab": hand_opencv,
}


def _library(name: str) -> str:
    return name.split("/")[-1].split()[0]


# ---------------------------------------------------------------------------
# Timing, one subprocess per (sampler, mode)
# ---------------------------------------------------------------------------


def _run_clips(name: str, paths: list[str], threads: int) -> int:
    sampler = SAMPLERS[name]
    return sum(len(sampler(Path(p), threads)[0]) for p in paths)


def _sample_array(name: str, path: str) -> np.ndarray:
    """In a pool worker: one clip's frames, pickled back to the caller."""
    return SAMPLERS[name](Path(path), 1)[0]


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_worker(name: str, paths: list[Path], processes: int, to_caller: bool) -> dict:
    """Time one sampler over every clip: CPU seconds (with decoder threads and
    worker processes) and wall seconds."""
    sampler = SAMPLERS[name]
    sampler(paths[0], 0)  # warm-up: imports, library initialisation, page cache
    cpu, children, wall = time.process_time(), _children_cpu(), time.perf_counter()
    if processes == 1:
        frames_out = sum(len(sampler(p, 0)[0]) for p in paths)
    elif name.startswith("emosign/"):
        from emosign.video import iter_clip_frames

        frames_out = sum(len(f.array) for f in iter_clip_frames(
            paths, fps=SAMPLE_FPS, backend=_library(name), workers=processes))
    elif to_caller:  # the usual way: Executor.map, each clip's array pickled back in order
        with ProcessPoolExecutor(processes) as pool:
            frames_out = sum(len(array) for array in pool.map(
                _sample_array, [name] * len(paths), [str(p) for p in paths]))
    else:
        chunks = [[str(p) for p in paths[i::processes]] for i in range(processes)]
        with ProcessPoolExecutor(processes) as pool:
            frames_out = sum(pool.map(_run_clips, [name] * processes, chunks,
                                      [1] * processes))
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu + _children_cpu() - children
    return {"sampler": name, "processes": processes, "cpu": cpu, "wall": wall,
            "frames_out": frames_out}


def check_agreement(path: Path, names: list[str]) -> None:
    """Same frame count and timestamps from every sampler; same pixels within a library."""
    results = {name: SAMPLERS[name](path, 0) for name in names}
    reference = results[names[0]][1]
    for name, (array, stamps) in results.items():
        assert len(array) == len(reference) and np.allclose(stamps, reference, atol=1e-5), (
            f"{name} disagrees on {path}: {len(array)} frames vs {len(reference)}")
    for emo, hand in (("emosign/pyav", "pyav decode"), ("emosign/decord", "decord get_batch")):
        if emo in results and hand in results:
            assert np.array_equal(results[emo][0], results[hand][0]), f"{emo} != {hand}"
    if "emosign/pyav" in results and "opencv grab" in results:
        # Both convert with swscale (bilinear), to BGR then RGB for OpenCV: the same frames,
        # give or take the rounding of another FFmpeg build.
        difference = np.abs(results["emosign/pyav"][0].astype(np.int16)
                            - results["opencv grab"][0])
        assert difference.mean() < 1, f"opencv grab returns other frames ({difference.mean()})"


def _peak_kib(field: str = "VmHWM") -> int:
    """This process's peak (``VmHWM``) or current (``VmRSS``) resident memory, in KiB."""
    import resource

    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def memory_worker(path: Path, backend: str, when: str) -> dict:
    """Harness frames of one clip, "before" (full size, shrunk while encoding) or "after"."""
    from emosign.harness.runner import build_messages
    from emosign.video import sample_frames

    __import__("decord" if backend == "decord" else "av")
    baseline = _peak_kib("VmRSS")
    if when == "before":
        frames = sample_frames(path, fps=SAMPLE_FPS, max_frames=48, backend=backend)
        messages = build_messages(frames, "prompt", max_side=512)
    else:
        frames = sample_frames(path, fps=SAMPLE_FPS, max_frames=48, backend=backend,
                               max_side=512)
        messages = build_messages(frames, "prompt", max_side=None)
    return {"backend": backend, "when": when, "baseline_kib": baseline,
            "peak_kib": _peak_kib(), "frames": len(frames), "shape": list(frames.array.shape),
            "message_bytes": sum(len(str(part)) for part in messages[0]["content"])}


def measure_memory(root: Path, backends: list[str]) -> None:
    import av

    path = root / "emosign-bench-video-4k-4.8s.mp4"
    if not path.exists():
        print(f"writing a 3840x2160 clip to {path} ...", flush=True)
        partial = path.with_suffix(".partial.mp4")
        rng = np.random.default_rng(0)
        base = rng.integers(0, 256, (2160 // 8, 3840 // 8, 3), dtype=np.uint8)
        with av.open(str(partial), "w") as container:
            stream = container.add_stream("libx264", rate=30)
            stream.width, stream.height, stream.pix_fmt = 3840, 2160, "yuv420p"
            stream.options = {"preset": "veryfast"}
            for i in range(144):
                image = np.roll(base, i, axis=1).repeat(8, axis=0).repeat(8, axis=1)
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        partial.rename(path)
    print(f"{'backend':<8} {'decode':<28} {'frames':>12} {'peak RSS MiB':>13} "
          f"{'above imports MiB':>18}")
    for backend in backends:
        for when, label in (("before", "full size, shrunk after"),
                            ("after", "at output size (max_side)")):
            output = subprocess.run(
                [sys.executable, __file__, "--memory-worker", f"{backend}|{when}|{path}"],
                check=True, capture_output=True, text=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            ).stdout
            r = json.loads(output.strip().splitlines()[-1])
            shape = "x".join(str(v) for v in r["shape"][:3])
            print(f"{backend:<8} {label:<28} {shape:>12} {r['peak_kib'] / 1024:>13.0f} "
                  f"{(r['peak_kib'] - r['baseline_kib']) / 1024:>18.0f}", flush=True)


def _available(name: str) -> bool:
    module = {"decord": "decord", "pyav": "av", "opencv": "cv2"}[_library(name)]
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _parse_resolution(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=50, help="clips per corpus (default 50)")
    parser.add_argument("--resolution", type=_parse_resolution, default=(640, 480),
                        metavar="WxH", help="default 640x480")
    parser.add_argument("--rates", type=int, nargs="+", default=None,
                        help="source frame rates, one corpus each (default 30 24; "
                             "30 with --emosign-shaped)")
    parser.add_argument("--emosign-shaped", action="store_true",
                        help="a corpus shaped like EmoSign's clips instead: a smooth background, "
                             "a moving signer, mild noise, 3-6 s each (--seconds and --keyint "
                             "do not apply)")
    parser.add_argument("--seconds", type=float, default=4.8, help="clip length (default 4.8)")
    parser.add_argument("--keyint", type=int, default=60,
                        help="frames between keyframes (default 60)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per sampler, alternating; the least time is kept (default 3)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2],
                        help="process counts to measure (default 1 2)")
    parser.add_argument("--samplers", nargs="+", choices=list(SAMPLERS), default=None,
                        help="default: all whose library is installed")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the corpora are kept (default: a folder in the temp dir)")
    parser.add_argument("--memory", action="store_true",
                        help="measure the harness's peak memory on a 4K clip instead")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # "sampler|processes|corpus"
    parser.add_argument("--memory-worker", help=argparse.SUPPRESS)  # "backend|when|path"
    args = parser.parse_args(argv)

    if args.memory_worker:
        backend, when, path = args.memory_worker.split("|")
        print(json.dumps(memory_worker(Path(path), backend, when)))
        return
    if args.memory:
        from emosign.video import available_backends

        measure_memory(args.cache_dir or Path(tempfile.gettempdir()), list(available_backends()))
        return
    if args.worker:
        name, processes, to_caller, corpus = args.worker.split("|")
        paths = sorted(Path(corpus).glob("clip_*.mp4"))
        print(json.dumps(run_worker(name, paths, int(processes), to_caller == "1")))
        return

    width, height = args.resolution
    names = [n for n in (args.samplers or SAMPLERS) if _available(n)]
    root = args.cache_dir or Path(tempfile.gettempdir())
    rates = args.rates or ([30] if args.emosign_shaped else [30, 24])
    print(f"machine: {os.cpu_count()} cores; samplers: {', '.join(names)}", flush=True)
    for rate in rates:
        if args.emosign_shaped:
            corpus = root / (f"emosign-bench-video-es{EMOSIGN_SHAPED_VERSION}-{args.clips}x{width}"
                             f"x{height}-{rate}fps")
            print(f"\ncorpus: {args.clips} EmoSign-shaped clips of 3-6 s at {rate} fps, "
                  f"{width}x{height}, in {corpus}", flush=True)
            paths = build_corpus(corpus, clips=args.clips, width=width, height=height, fps=rate,
                                 seconds=0, write_clip=_write_emosign_shaped_clip,
                                 version=EMOSIGN_SHAPED_VERSION)
        else:
            corpus = root / (f"emosign-bench-video-v{CORPUS_VERSION}-{args.clips}x{width}x"
                             f"{height}-{rate}fps-{args.seconds:g}s-k{args.keyint}")
            print(f"\ncorpus: {args.clips} clips, {args.seconds:g} s at {rate} fps, "
                  f"{width}x{height}, keyframe every {args.keyint} frames, in {corpus}",
                  flush=True)
            paths = build_corpus(corpus, clips=args.clips, width=width, height=height, fps=rate,
                                 seconds=args.seconds, keyint=args.keyint)
        check_agreement(paths[0], names)

        # A run: (sampler, processes, frames handed to the caller's process?).
        runs = [(name, processes, processes == 1 or name.startswith("emosign/"))
                for processes in args.processes for name in names]
        runs += [(name, processes, True) for processes in args.processes if processes > 1
                 for name in names if not name.startswith("emosign/")]
        best: dict[tuple[str, int, bool], dict] = {}
        for _ in range(args.repeat):
            for name, processes, to_caller in runs:
                output = subprocess.run(
                    [sys.executable, __file__, "--worker",
                     f"{name}|{processes}|{int(to_caller)}|{corpus}"],
                    check=True, capture_output=True, text=True,
                    env={**os.environ, "PYTHONWARNINGS": "ignore"},
                ).stdout
                result = json.loads(output.strip().splitlines()[-1])
                kept = best.setdefault((name, processes, to_caller), result)
                kept["cpu"] = min(kept["cpu"], result["cpu"])
                kept["wall"] = min(kept["wall"], result["wall"])

        print(f"{'sampler':<18} {'processes':>9} {'frames to caller':>16} {'CPU s':>7} "
              f"{'wall s':>7} {'clips/s':>8}")
        for (name, processes, to_caller), r in best.items():
            handed = "yes" if to_caller else "no"
            print(f"{name:<18} {processes:>9} {handed:>16} {r['cpu']:>7.2f} {r['wall']:>7.2f} "
                  f"{args.clips / r['wall']:>8.1f}")
        if any(p > 1 for p in args.processes):
            print("(frames to caller: no = the pool leaves the frames in its workers, as when "
                  "the work on them is done there; yes = every frame reaches the caller's "
                  "process, pickled by Executor.map for the hand-written pools)")
        for processes in args.processes:
            for to_caller in (True, False):
                rows = {n: r for (n, p, c), r in best.items() if p == processes}
                ours = {n: r for n, r in rows.items() if n.startswith("emosign/")}
                others = {n: r for (n, p, c), r in best.items()
                          if p == processes and c == to_caller and not n.startswith("emosign/")}
                if not ours or not others:
                    continue
                against = "" if processes == 1 else (
                    ", frames to caller" if to_caller else ", frames left in the workers")
                for measure in ("cpu", "wall"):
                    mine = min(ours, key=lambda n: ours[n][measure])
                    theirs = min(others, key=lambda n: others[n][measure])
                    print(f"{processes} process(es), {measure}: best emosign ({mine}) "
                          f"{ours[mine][measure]:.2f} s = "
                          f"{ours[mine][measure] / others[theirs][measure]:.2f}x the best "
                          f"hand-written sampler{against} ({theirs}, "
                          f"{others[theirs][measure]:.2f} s)")
        opencv = best.get(("opencv grab", 1, True))
        for name in ("emosign/pyav", "emosign/decord"):
            ours = best.get((name, 1, True))
            if ours and opencv:
                print(f"1 process: {name} against the hand-written OpenCV grab/retrieve sampler "
                      f"(the same (T, H, W, 3) array): CPU {ours['cpu']:.2f} / "
                      f"{opencv['cpu']:.2f} s = {ours['cpu'] / opencv['cpu']:.2f}x, wall "
                      f"{ours['wall']:.2f} / {opencv['wall']:.2f} s = "
                      f"{ours['wall'] / opencv['wall']:.2f}x")
        singles = {n: r for (n, p, _), r in best.items() if p == 1}
        for processes in (p for p in args.processes if p > 1):
            ours = {n: r for (n, p, _), r in best.items()
                    if p == processes and n.startswith("emosign/")}
            if ours and singles:
                mine = min(ours, key=lambda n: ours[n]["wall"])
                fastest = min(singles, key=lambda n: singles[n]["wall"])
                print(f"{processes} processes: emosign ({mine}) samples "
                      f"{singles[fastest]['wall'] / ours[mine]['wall']:.2f}x as fast (wall) as "
                      f"the fastest single-process sampler ({fastest}, "
                      f"{singles[fastest]['wall']:.2f} s), every frame handed to the caller")


if __name__ == "__main__":
    main()
