"""How long loading EmoSign takes: a cold build of a config, a warm load from the Arrow cache,
and, for scale, the raw CSV through ``datasets.load_dataset("csv")`` (what
``load_dataset("catfang/emosign")`` does, without the derived labels).

    python benchmarks/bench_loader.py --labels-file "$EMOSIGN_LABELS"

Times are medians over ``--repeat`` runs in one process, after the imports (importing
``datasets`` alone is timed separately, in a fresh interpreter).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
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


if __name__ == "__main__":
    main()
