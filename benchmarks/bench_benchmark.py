"""How long the labels-only main job takes: `emosign benchmark` end to end, and its parts.

    python benchmarks/bench_benchmark.py --labels-file "$EMOSIGN_LABELS"

End to end: the command in a fresh interpreter, ``--repeat`` times for each worker count,
CPU seconds (the process and its workers: user + system) and wall seconds, medians. The
machine may be shared, so CPU seconds are the figure to compare; wall seconds show what both
cores buy when they are free.

Parts: the same work done serially in this process under one BLAS thread, each piece timed
on its own: the imports (in a fresh interpreter), reading the labels, the leave-one-signer-out
fits, scoring them with 10,000-resample intervals (``evaluate``), and the k-fold view's fits.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run_cli(args: list[str]) -> tuple[float, float]:
    """CPU (user + system, with every reaped descendant) and wall seconds of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


class _Clock:
    """Accumulates CPU and wall seconds of the blocks timed under each name."""

    def __init__(self):
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}

    def __call__(self, name: str):
        clock = self

        class _Block:
            def __enter__(self):
                self.cpu, self.wall = time.process_time(), time.perf_counter()

            def __exit__(self, *exc):
                clock.cpu[name] = clock.cpu.get(name, 0.0) + time.process_time() - self.cpu
                clock.wall[name] = clock.wall.get(name, 0.0) + time.perf_counter() - self.wall

        return _Block()


def parts(labels_file: str, n_boot: int) -> _Clock:
    """The serial run's pieces, as run_benchmark does them (one BLAS thread)."""
    from threadpoolctl import threadpool_limits

    clock = _Clock()
    with clock("import emosign's benchmark (this process)"):
        from emosign.baselines.benchmark import (
            DEFAULT_TASKS,
            HEADLINE,
            _kfold_folds,
            _reported_rows,
            out_of_fold_predictions,
        )
        from emosign.baselines.registry import all_baselines
        from emosign.labels import load_labels
        from emosign.metrics import classification_metrics, evaluate
        from emosign.splits import leave_one_signer_out
        from emosign.tasks import get_task
    import pandas as pd

    with threadpool_limits(1):
        with clock("read and validate the labels"):
            labels = load_labels(labels_file)
        for task in DEFAULT_TASKS:
            data = get_task(task).bind(labels)
            for baseline in all_baselines():
                if baseline.missing_inputs(frozenset({"labels", "cues"})):
                    continue
                if baseline.tasks is not None and task not in baseline.tasks:
                    continue
                examples = [_example(c) for c in _clips(labels, data)]
                with clock("leave-one-signer-out fits"):
                    predicted = out_of_fold_predictions(baseline, examples, data.y_true, data.classes,
                                                        leave_one_signer_out(data))
                frame = pd.DataFrame({"video_name": data.video_names,
                                      "prediction": [data.classes[i] for i in predicted]})
                with clock(f"evaluate, {n_boot:,} resamples, {len(HEADLINE)} metrics"):
                    evaluate(task, frame, labels_file=labels, n_boot=n_boot, metrics=HEADLINE)
                if baseline.learned:
                    view = _kfold_folds(data, 3, 0)
                    with clock("k-fold view fits (3 repeats)"):
                        for folds in view[1]:
                            p = out_of_fold_predictions(baseline, examples, data.y_true, data.classes, folds)
                            classification_metrics(data.y_true, p, n_classes=len(data.classes))
            with clock("reported rows"):
                _reported_rows(task)
    return clock


def _clips(labels, data):
    by_name = {c.video_name: c for c in labels}
    return [by_name[n] for n in data.video_names]


def _example(clip):
    from emosign.baselines.registry import Example

    return Example(video_name=clip.video_name, signer=clip.signer, cues=clip.cues, caption=None, features={})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-file", default=os.environ.get("EMOSIGN_LABELS"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n-boot", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts to time end to end (default: 1 2)")
    args = parser.parse_args()
    if not args.labels_file:
        parser.error("give --labels-file or set EMOSIGN_LABELS")
    labels_file = str(Path(args.labels_file).resolve())

    print(f"emosign benchmark on {labels_file}, labels only, {args.n_boot:,} resamples; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
          f"medians of {args.repeat} runs")
    print(f"\n{'end to end (fresh interpreter)':<52}{'CPU s':>8}{'wall s':>8}")
    # The installed console script, as a user runs it.
    emosign = [str(Path(sys.executable).with_name("emosign"))]
    for workers in args.workers:
        for kfold in (3, 0):
            runs = []
            for _ in range(args.repeat):
                with tempfile.TemporaryDirectory() as out:
                    runs.append(_run_cli(emosign + [
                        "benchmark", "--labels-file", labels_file, "--out", out, "--quiet",
                        "--workers", str(workers), "--n-boot", str(args.n_boot),
                        "--kfold-repeats", str(kfold)]))
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            what = f"--workers {workers}" + ("" if kfold else " --kfold-repeats 0")
            print(f"  emosign benchmark {what:<32}{cpu:>8.2f}{wall:>8.2f}")

    imports = [_run_cli([sys.executable, "-c", "import emosign.cli, emosign.baselines.benchmark, "
                         "emosign.baselines.text, emosign.metrics"]) for _ in range(args.repeat)]
    clock = parts(labels_file, args.n_boot)
    print(f"\n{'parts, serial, one BLAS thread':<52}{'CPU s':>8}{'wall s':>8}")
    cpu = statistics.median(r[0] for r in imports)
    wall = statistics.median(r[1] for r in imports)
    label = "imports (fresh interpreter)"
    print(f"  {label:<50}{cpu:>8.2f}{wall:>8.2f}")
    for name in clock.cpu:
        print(f"  {name:<50}{clock.cpu[name]:>8.2f}{clock.wall[name]:>8.2f}")
    total = sum(clock.cpu.values())
    print(f"  {'sum of the parts in this process':<50}{total:>8.2f}{sum(clock.wall.values()):>8.2f}")


if __name__ == "__main__":
    main()
