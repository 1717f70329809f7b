"""Benchmark the visual feature extractors on a synthetic EmoSign-shaped corpus.

The corpus has EmoSign's shape: 200 clips of 4.8 s at 30 fps (h264, yuv420p,
libx264 defaults).  Unlike bench_video.py's corpus, every frame shows a person,
so that the face detector and MediaPipe do the work they do on real clips:
scikit-image's astronaut photograph (a real frontal face and shoulders) whose
head nods or shakes, over a textured background with sensor noise, plus a
bright textured "hand" that moves through the lower half with holds in
between.  It is written once to a cache directory and reused.

For each extractor it reports, through :func:`emosign.baselines.visual.extract_features`
with a fresh feature cache:

* ``cold``: the first run, computing every clip;
* ``cached``: a second run over the same clips, which only hashes the video
  files and reads the cache;

each with 1 and with 2 worker processes (``--workers``; wall and CPU seconds, the CPU of the
workers included), checking that the features are the same bit for bit;

and, for reference, ``decode only``: sampling the frames at 10 fps with
``emosign.video.sample_frames``, which every extractor does first.

The landmark extractor (MediaPipe Holistic, about 0.1 s per frame on a CPU
core) runs on the first ``--landmark-clips`` clips only (default 20), to keep
the run short; its clips/s does not depend on the corpus size.  The astronaut
shows no hands, so MediaPipe's hand models rarely run: on real signing, where
both hands are in view, expect it to be slower.

Usage::

    python benchmarks/bench_features.py --clips 50 --resolution 640x480   # README's figures
    python benchmarks/bench_features.py                      # 200 clips, 320x240
    python benchmarks/bench_features.py --landmark-clips 200  # all clips through MediaPipe
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_video import build_corpus

CORPUS_VERSION = 1  # bump when the generator changes, to invalidate caches


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------


def _write_signer_clip(
    path: Path, *, width: int, height: int, fps: int, n_frames: int, seed: int
) -> None:
    import av
    import cv2
    from skimage import data

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    background = 96 + 40 * np.sin(xx / (7 + seed % 5)) * np.cos(yy / 11)
    background = np.repeat(background[..., None], 3, axis=2).astype(np.int16)

    # The astronaut fills the frame's height, centred, as a signer would.
    side = height
    photo = cv2.resize(data.astronaut(), (side, side), interpolation=cv2.INTER_AREA)
    left = (width - side) // 2
    background[:, max(left, 0) : left + side] = photo[:, max(-left, 0) : width - left]
    # Her head, in the photograph's 512-pixel coordinates (x 150-300, y 30-190).
    hx0, hy0, hx1, hy1 = (int(v * side / 512) for v in (150, 30, 300, 190))
    nod = seed % 2 == 0
    head_amplitude = 0.015 * side * (0.5 + rng.random())
    head_hertz = 0.5 + 1.5 * rng.random()

    # A textured "hand" moving between random targets in the lower half,
    # sometimes holding still: speed, size, repetition and holds vary by clip.
    radius = max(4, width // 14)
    py, px = np.mgrid[-radius:radius, -radius:radius]
    disc = (px**2 + py**2) < radius**2
    hand = (150 + 50 * np.sin(px / 2.0) * np.cos(py / 3.0))[..., None].astype(np.int16)
    position = np.array([width / 2, 0.75 * height])
    target = position.copy()
    speed = 0.0

    noise_bank = rng.integers(-4, 5, (8, height, width, 3), dtype=np.int16)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(n_frames):
            image = background + noise_bank[rng.integers(len(noise_bank))]
            shift = round(head_amplitude * np.sin(2 * np.pi * head_hertz * i / fps))
            dy, dx = (shift, 0) if nod else (0, shift)
            x0, x1 = max(left + hx0, 0), min(left + hx1, width)
            image[hy0:hy1, x0:x1] = np.roll(image, (dy, dx), axis=(0, 1))[hy0:hy1, x0:x1]

            if np.linalg.norm(target - position) < 1 or speed == 0 and rng.random() < 0.1:
                target = np.array([rng.uniform(radius, width - radius),
                                   rng.uniform(height / 2, height - radius)])
                speed = 0.0 if rng.random() < 0.3 else rng.uniform(0.01, 0.05) * width
            step = target - position
            distance = np.linalg.norm(step)
            if speed and distance:
                position = position + step * min(1.0, speed / distance)
            cx, cy = (int(v) - radius for v in position)
            patch = image[cy : cy + 2 * radius, cx : cx + 2 * radius]
            patch[disc] = hand[disc]

            frame = av.VideoFrame.from_ndarray(np.clip(image, 0, 255).astype(np.uint8),
                                               format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the worker processes)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def time_decode(paths: list[Path]) -> tuple[float, float]:
    """(wall, CPU) seconds of sampling every clip at 10 fps, in this process."""
    from emosign.video import sample_frames

    wall, cpu = time.perf_counter(), _cpu()
    for path in paths:
        sample_frames(path, fps=10)
    return time.perf_counter() - wall, _cpu() - cpu


def time_extractor(extractor, paths: list[Path], workers: int):
    """(cold wall, cold CPU, cached wall, features) over ``paths`` with ``workers`` processes."""
    from emosign.baselines.visual import extract_features

    clips = [(path.stem, str(path)) for path in paths]
    cache = Path(tempfile.mkdtemp(prefix="emosign-bench-features-"))
    try:
        extractor.extract(paths[0])  # warm-up: imports, model and cascade loading
        wall, cpu = time.perf_counter(), _cpu()
        cold = extract_features(extractor, clips, cache_dir=cache, progress=False,
                                workers=workers)
        cold_wall, cold_cpu = time.perf_counter() - wall, _cpu() - cpu
        start = time.perf_counter()
        cached = extract_features(extractor, clips, cache_dir=cache, progress=False,
                                  workers=workers)
        cached_seconds = time.perf_counter() - start
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    assert cold.failed == () and np.array_equal(cold.X, cached.X)
    return cold_wall, cold_cpu, cached_seconds, cold.X


def main(argv: list[str] | None = None) -> None:
    # A sibling script, not a package: its resolution parser is shared.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_video import _parse_resolution

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--resolution", type=_parse_resolution, default=(320, 240),
                        metavar="WxH", help="default 320x240")
    parser.add_argument("--fps", type=int, default=30, help="source frame rate")
    parser.add_argument("--seconds", type=float, default=4.8, help="clip length")
    parser.add_argument("--landmark-clips", type=int, default=20,
                        help="clips run through MediaPipe (default 20; 0 skips it)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker processes to measure the extractors with (default 1 2)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the corpus is kept (default: a folder in the temp dir)")
    args = parser.parse_args(argv)
    width, height = args.resolution

    corpus_dir = args.cache_dir or Path(tempfile.gettempdir()) / (
        f"emosign-bench-signers-{args.clips}x{width}x{height}-{args.fps}fps-{args.seconds:g}s"
    )
    print(f"corpus: {args.clips} clips, {args.seconds:g} s at {args.fps} fps, "
          f"{width}x{height}, in {corpus_dir}", flush=True)
    paths = build_corpus(corpus_dir, write_clip=_write_signer_clip, version=CORPUS_VERSION,
                         clips=args.clips, width=width, height=height, fps=args.fps,
                         seconds=args.seconds)

    from emosign.baselines import landmarks, visual

    rows = []  # (what, workers, clips, wall seconds, CPU seconds)
    print("running decode only ...", flush=True)
    rows.append(("decode only (sample_frames, 10 fps)", 1, len(paths), *time_decode(paths)))

    features = {}
    for workers in args.workers:
        print(f"running motion, {workers} worker(s) ...", flush=True)
        cold, cpu, cached, features[workers] = time_extractor(visual.MOTION, paths, workers)
        rows += [("motion, cold", workers, len(paths), cold, cpu),
                 ("motion, cached", workers, len(paths), cached, float("nan"))]
    assert all(x.tobytes() == features[args.workers[0]].tobytes() for x in features.values()), \
        "the features depend on the number of workers"
    X = features[args.workers[0]]
    found = X[:, visual.MOTION_FEATURE_NAMES.index("face_detected_fraction")].mean()
    notes = [f"motion: the face detector found the astronaut in {found:.0%} of searched frames; "
             "features identical bit for bit whatever the number of workers"]

    if args.landmark_clips:
        try:
            extractor = landmarks.landmark_extractor()
        except ImportError as exc:
            notes.append(f"landmarks: not run ({exc})")
        else:
            subset = paths[: args.landmark_clips]
            for workers in args.workers:
                print(f"running landmarks on {len(subset)} clips, {workers} worker(s) ...",
                      flush=True)
                cold, cpu, cached, X = time_extractor(extractor, subset, workers)
                rows += [("landmarks, cold", workers, len(subset), cold, cpu),
                         ("landmarks, cached", workers, len(subset), cached, float("nan"))]
            names = extractor.feature_names
            notes.append(
                "landmarks: face mesh in "
                f"{X[:, names.index('face_detected_fraction')].mean():.0%} of frames, "
                f"pose in {X[:, names.index('pose_detected_fraction')].mean():.0%}"
            )

    print()
    print(f"{args.clips} clips x {args.seconds:g} s @ {args.fps} fps, {width}x{height}, "
          f"sampled at 10 fps; {os.cpu_count()} CPU cores")
    header = (f"{'':<38} {'workers':>7} {'clips':>6} {'wall s':>8} {'CPU s':>8} "
              f"{'clips/s':>8} {'ms/clip':>8}")
    print(header)
    print("-" * len(header))
    for what, workers, n, seconds, cpu in rows:
        print(f"{what:<38} {workers:>7} {n:>6} {seconds:>8.2f} {cpu:>8.2f} "
              f"{n / seconds:>8.1f} {1000 * seconds / n:>8.1f}")
    print()
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
