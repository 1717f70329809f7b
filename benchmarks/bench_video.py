"""Benchmark emosign.video.sample_frames on a synthetic EmoSign-shaped corpus.

The corpus mimics EmoSign: 200 clips of 4.8 s at 30 fps (h264, yuv420p,
libx264 defaults, so one keyframe per clip and B-frames).  Each frame is a
static textured background with a moving bright blob and mild noise, so the
encoder has real work to do.  It is written once to a cache directory and
reused by later runs.

For each available backend it measures

* ``sampled``: ``sample_frames(path, fps=10)``, which converts only the
  wanted frames to RGB (and lets decord skip what it can), and
* ``decode-all``: the natural alternative, decoding every frame of the
  clip to RGB with the same library and then picking the 10 fps subset.

Each (backend, method) runs in a fresh subprocess, so the reported peak
resident memory (the kernel's ``VmHWM``, which unlike ``tracemalloc``
counts the decoders' C allocations) belongs to that method alone.
"growth" is that peak minus the resident size right after the imports.

Usage::

    python benchmarks/bench_video.py                      # 200 clips, 320x240
    python benchmarks/bench_video.py --clips 50 --resolution 640x480
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SAMPLE_FPS = 10.0
CORPUS_VERSION = 2  # bump when the generator changes, to invalidate caches


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------


def _write_clip(
    path: Path, *, width: int, height: int, fps: int, n_frames: int, seed: int
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


def build_corpus(
    directory: Path, *, clips: int, width: int, height: int, fps: int, seconds: float,
    write_clip=None, version: int = CORPUS_VERSION,
) -> list[Path]:
    """Write the corpus unless a complete one with the same shape exists.

    ``write_clip(path, *, width, height, fps, n_frames, seed)`` draws one clip (default: this
    script's moving textured block); ``version`` names the generator, for the cache marker.
    """
    write_clip = write_clip or _write_clip
    n_frames = round(seconds * fps)
    marker = directory / "complete.json"
    shape = {"version": version, "clips": clips, "width": width,
             "height": height, "fps": fps, "frames": n_frames}
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
# The two methods
# ---------------------------------------------------------------------------


def _pick(starts: np.ndarray, duration: float) -> np.ndarray:
    """Indices of the frames on screen at 0, 0.1, 0.2, ... s (same rule as emosign)."""
    from emosign.video import sample_times

    times = sample_times(duration, fps=SAMPLE_FPS)
    return np.clip(np.searchsorted(starts, times + 1e-4, side="right") - 1, 0, len(starts) - 1)


def decode_all_decord(path: Path) -> np.ndarray:
    import decord

    reader = decord.VideoReader(str(path))
    everything = reader.get_batch(list(range(len(reader)))).asnumpy()  # (N, H, W, 3)
    bounds = reader.get_frame_timestamp(np.arange(len(reader)))
    return everything[_pick(bounds[:, 0].astype(np.float64), float(bounds[-1, 1]))]


def decode_all_pyav(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        images, pts = [], []
        for frame in container.decode(stream):
            images.append(frame.to_ndarray(format="rgb24"))
            pts.append(frame.pts)
        time_base = float(stream.time_base)
        step = 1 / float(stream.average_rate)
    everything = np.stack(images)  # (N, H, W, 3)
    starts = (np.asarray(pts) - pts[0]) * time_base
    return everything[_pick(starts, float(starts[-1]) + step)]


def _resident_kib(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in KiB.

    ``getrusage``'s ``ru_maxrss`` is not used on Linux because it is
    inherited across fork/exec: a worker would report its parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    # Elsewhere (macOS: bytes, not KiB) only the peak is available.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def run_method(backend: str, method: str, paths: list[Path], *, repeat: int = 1) -> dict:
    """Process every clip; return the best of ``repeat`` timings and peak memory."""
    import importlib

    from emosign.video import sample_frames

    importlib.import_module("decord" if backend == "decord" else "av")
    if method == "sampled":
        def process(path: Path) -> np.ndarray:
            return sample_frames(path, fps=SAMPLE_FPS, backend=backend).array
    else:
        process = decode_all_decord if backend == "decord" else decode_all_pyav

    # Baseline after imports; the decoder's own buffers, first allocated
    # during the warm-up, count towards the method's growth.
    rss_before = _resident_kib("VmRSS")
    process(paths[0])  # warm-up: library initialisation, page cache
    timings = []
    for _ in range(repeat):
        frames_out = 0
        largest_output = 0
        start = time.perf_counter()
        for path in paths:
            array = process(path)
            frames_out += len(array)
            largest_output = max(largest_output, array.nbytes)
            del array  # one clip in memory at a time, as iter_clip_frames does
        timings.append(time.perf_counter() - start)
    # The minimum is the least disturbed by other activity on the machine.
    seconds = min(timings)
    return {
        "backend": backend,
        "method": method,
        "seconds": seconds,
        "clips": len(paths),
        "frames_out": frames_out,
        "rss_before_kib": rss_before,
        "rss_peak_kib": _resident_kib("VmHWM"),
        "largest_output_bytes": largest_output,
    }


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def _parse_resolution(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--resolution", type=_parse_resolution, default=(320, 240),
                        metavar="WxH", help="default 320x240")
    parser.add_argument("--fps", type=int, default=30, help="source frame rate")
    parser.add_argument("--seconds", type=float, default=4.8, help="clip length")
    parser.add_argument("--repeat", type=int, default=2,
                        help="passes over the corpus per method; the fastest is reported")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the corpus is kept (default: a folder in the temp dir)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # "backend:method"
    args = parser.parse_args(argv)
    width, height = args.resolution

    cache = args.cache_dir or Path(tempfile.gettempdir()) / (
        f"emosign-bench-{args.clips}x{width}x{height}-{args.fps}fps-{args.seconds:g}s"
    )

    if args.worker:
        backend, method = args.worker.split(":")
        paths = sorted(cache.glob("clip_*.mp4"))
        print(json.dumps(run_method(backend, method, paths, repeat=args.repeat)))
        return

    from emosign.video import available_backends, sample_frames

    print(f"corpus: {args.clips} clips, {args.seconds:g} s at {args.fps} fps, "
          f"{width}x{height}, in {cache}", flush=True)
    paths = build_corpus(cache, clips=args.clips, width=width, height=height,
                         fps=args.fps, seconds=args.seconds)
    total_bytes = sum(p.stat().st_size for p in paths)
    print(f"  {total_bytes / 2**20:.1f} MiB on disk", flush=True)

    backends = available_backends()
    # Sanity check: both methods must return the very same frames.
    for backend in backends:
        sampled = sample_frames(paths[0], fps=SAMPLE_FPS, backend=backend).array
        full = (decode_all_decord if backend == "decord" else decode_all_pyav)(paths[0])
        assert np.array_equal(sampled, full), f"{backend}: methods disagree"

    results = []
    for backend in backends:
        for method in ("sampled", "decode-all"):
            print(f"running {backend} / {method} ...", flush=True)
            output = subprocess.run(
                [sys.executable, __file__, "--worker", f"{backend}:{method}",
                 "--cache-dir", str(cache), "--repeat", str(args.repeat)],
                check=True, capture_output=True, text=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            ).stdout
            results.append(json.loads(output.strip().splitlines()[-1]))

    source_frames = args.clips * round(args.seconds * args.fps)
    print()
    print(f"{args.clips} clips x {args.seconds:g} s @ {args.fps} fps, {width}x{height}, "
          f"sampled at {SAMPLE_FPS:g} fps; {os.cpu_count()} CPU cores; "
          f"best of {args.repeat} passes")
    header = (f"{'backend':<8} {'method':<11} {'time s':>7} {'clips/s':>8} "
              f"{'out fr/s':>9} {'src fr/s':>9} {'peak RSS MiB':>13} {'growth MiB':>11} "
              f"{'returned/clip MiB':>18}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['backend']:<8} {r['method']:<11} {r['seconds']:>7.2f} "
              f"{r['clips'] / r['seconds']:>8.1f} {r['frames_out'] / r['seconds']:>9.0f} "
              f"{source_frames / r['seconds']:>9.0f} {r['rss_peak_kib'] / 1024:>13.0f} "
              f"{(r['rss_peak_kib'] - r['rss_before_kib']) / 1024:>11.0f} "
              f"{r['largest_output_bytes'] / 2**20:>18.1f}")
    print()
    by_key = {(r["backend"], r["method"]): r for r in results}
    for backend in backends:
        sampled, full = by_key[backend, "sampled"], by_key[backend, "decode-all"]
        growth = {k: (r["rss_peak_kib"] - r["rss_before_kib"]) / 1024
                  for k, r in (("sampled", sampled), ("full", full))}
        print(f"{backend}: sample_frames takes {sampled['seconds'] / full['seconds']:.2f}x the "
              f"time of decode-all (speedup {full['seconds'] / sampled['seconds']:.2f}x); "
              f"memory growth {growth['sampled']:.0f} vs {growth['full']:.0f} MiB")
    if len(backends) == 2:
        ratio = by_key["pyav", "sampled"]["seconds"] / by_key["decord", "sampled"]["seconds"]
        print(f"sample_frames, decord vs pyav: decord is {ratio:.2f}x as fast")


if __name__ == "__main__":
    main()
