"""How long `emosign power` takes: 10,000 simulated system pairs, each tested with the paired
bootstrap, in CPU and wall seconds.

    python benchmarks/bench_power.py --labels-file path/to/emosign_dataset.csv

For each task and metric: one power estimate from ``--sims`` simulated pairs (default 10,000),
each pair tested with ``--n-boot`` paired bootstrap resamples (default 1,000), as
``emosign.power.simulate_power`` does it; then one full minimum-detectable-difference search
(10 steps of ``emosign power``'s default 2,000 simulations). Then the same for MAE on
sentiment_7 (errors correlated 0.5 around an MAE of 1.0) and micro- and macro-F1 on
emotion_presence (systems catching half the present emotions, agreement 0.7); ``--extra``
chooses which of these run. CPU seconds are the process's
(time.process_time), so they do not grow when other work shares the machine; wall seconds do.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-file", default=os.environ.get("EMOSIGN_LABELS"))
    parser.add_argument("--sims", type=int, default=10_000)
    parser.add_argument("--n-boot", type=int, default=1_000)
    parser.add_argument("--tasks", nargs="*", default=["sentiment_3", "sentiment_7", "emotion_single"])
    parser.add_argument("--metrics", nargs="+", default=["accuracy", "balanced_accuracy", "weighted_f1"])
    parser.add_argument("--extra", nargs="*", default=["sentiment_7:mae", "emotion_presence:micro_f1",
                                                       "emotion_presence:macro_f1"],
                        help="task:metric pairs of the MAE and multi-label models")
    args = parser.parse_args()
    if not args.labels_file:
        parser.error("give --labels-file or set EMOSIGN_LABELS")

    from emosign.labels import load_labels
    from emosign.power import (
        design_for_task,
        minimum_detectable_difference,
        simulate_power,
    )

    labels = load_labels(args.labels_file)
    runs = [(task, metric, dict(level=0.5, agreement=0.7)) for task in args.tasks
            for metric in args.metrics]
    for pair in args.extra:
        task, _, metric = pair.partition(":")
        runs.append((task, metric, dict(level=1.0, agreement=0.5) if metric == "mae"
                     else dict(level=0.5, agreement=0.7)))
    print(f"{'task':<18}{'metric':<19}{'what':<34}{'CPU s':>8}{'wall s':>8}")
    designs = {}
    for task, metric, model in runs:
        design = designs.setdefault(task, design_for_task(task, labels_file=labels))
        cpu, wall = time.process_time(), time.perf_counter()
        simulate_power(design, metric=metric, gap=0.1, n_sims=args.sims, n_boot=args.n_boot,
                       seed=0, **model)
        what = f"{args.sims:,} simulations x {args.n_boot:,}"
        print(f"{task:<18}{metric:<19}{what:<34}"
              f"{time.process_time() - cpu:>8.2f}{time.perf_counter() - wall:>8.2f}")
        cpu, wall = time.process_time(), time.perf_counter()
        minimum_detectable_difference(design, metric=metric, n_sims=2_000, n_boot=args.n_boot,
                                      seed=0, **model)
        print(f"{task:<18}{metric:<19}{'MDE search (10 x 2,000 sims)':<34}"
              f"{time.process_time() - cpu:>8.2f}{time.perf_counter() - wall:>8.2f}")


if __name__ == "__main__":
    main()
