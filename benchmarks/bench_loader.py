"""How long loading EmoSign takes: a cold build of a config, a warm load from the Arrow cache,
and, for scale, the raw CSV through ``datasets.load_dataset("csv")`` (what
``load_dataset("catfang/emosign")`` does, without the derived labels).

    python benchmarks/bench_loader.py --labels-file "$EMOSIGN_LABELS"

Times are medians over ``--repeat`` runs in one process, after the imports (importing
``datasets`` alone is timed separately, in a fresh interpreter).

Startup, each in a fresh interpreter (CPU seconds with the wall in brackets, medians): ``import
emosign``, ``emosign info --labels-file`` and ``emosign evaluate`` on a local file, with
whether ``huggingface_hub`` or ``datasets`` was imported (neither should be). For the modules
behind a number, ``python -X importtime -c "import emosign"``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _timing import median_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-file", default=os.environ.get("EMOSIGN_LABELS"), required=False)
    parser.add_argument("--config", default="clips")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.labels_file:
        parser.error("give --labels-file or set EMOSIGN_LABELS")

    startup(args.labels_file, args.repeat)

    import_time = subprocess.run(
        [sys.executable, "-c", "import time; t=time.perf_counter(); import datasets; "
         "print(time.perf_counter()-t)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()

    import datasets

    from emosign import load_emosign

    datasets.disable_progress_bars()
    root = Path(tempfile.mkdtemp(prefix="emosign-bench-"))
    counter = iter(range(10**6))

    def cold():
        load_emosign(args.config, labels_file=args.labels_file, cache_dir=root / f"cold{next(counter)}")

    warm_cache = root / "warm"
    load_emosign(args.config, labels_file=args.labels_file, cache_dir=warm_cache)

    def warm():
        load_emosign(args.config, labels_file=args.labels_file, cache_dir=warm_cache)

    def raw_csv():
        datasets.load_dataset(
            "csv", data_files=args.labels_file, cache_dir=str(root / f"raw{next(counter)}")
        )

    cold_s = median_seconds(cold, args.repeat)
    warm_s = median_seconds(warm, args.repeat)
    raw_s = median_seconds(raw_csv, args.repeat)
    rows = load_emosign(args.config, labels_file=args.labels_file, cache_dir=warm_cache)["test"].num_rows

    print(f"config {args.config!r}, {rows} rows, median of {args.repeat} runs")
    print(f"  import datasets (fresh interpreter)        {float(import_time) * 1000:8.1f} ms")
    print(f"  cold build (validate, derive, write Arrow) {cold_s * 1000:8.1f} ms")
    print(f"  warm load from the Arrow cache             {warm_s * 1000:8.1f} ms"
          f"   ({cold_s / warm_s:.1f}x faster than cold)")
    print(f"  raw CSV via load_dataset('csv'), uncached  {raw_s * 1000:8.1f} ms"
          f"   (cold build / raw = {cold_s / raw_s:.2f})")


_REPORT = "\nimport json, sys; print(json.dumps([m for m in ('huggingface_hub', 'datasets') if m in sys.modules]))"


def startup(labels_file: str, repeat: int) -> None:
    """Fresh-interpreter CPU and wall seconds of the light entry points, and the heavy
    modules each one imported."""
    labels_file = str(Path(labels_file).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        predictions = Path(tmp) / "p.csv"
        code = ("from emosign.labels import read_labels\n"
                f"labels = read_labels({labels_file!r})\n"
                f"open({str(predictions)!r}, 'w').write('video_name,prediction\\n' + "
                "''.join(f'{c.video_name},{c.sentiment_3}\\n' for c in labels))")
        subprocess.run([sys.executable, "-c", code], check=True)
        cases = {
            "import emosign": "import emosign",
            "emosign info --labels-file F": f"from emosign.cli import main; main(['info', '--labels-file', {labels_file!r}])",
            "emosign evaluate (sentiment_3, local file)": (
                "from emosign.cli import main; main(['evaluate', '--task', 'sentiment_3', '--predictions', "
                f"{str(predictions)!r}, '--labels-file', {labels_file!r}])"),
        }
        print(f"startup, fresh interpreter, medians of {repeat} runs: CPU s (wall s); heavy modules imported")
        for name, code in cases.items():
            runs = [_fresh(code + _REPORT) for _ in range(repeat)]
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            heavy = ", ".join(runs[0][2]) or "neither huggingface_hub nor datasets"
            print(f"  {name:<44}{cpu:7.3f} ({wall:.3f})   {heavy}")
        print()


def _fresh(code: str) -> tuple[float, float, list[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, wall, json.loads(done.stdout.splitlines()[-1])


if __name__ == "__main__":
    main()
