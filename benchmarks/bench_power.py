"""How long `emosign power` takes, in CPU and wall seconds, and against hand-written numpy.

    python benchmarks/bench_power.py --labels-file path/to/emosign_dataset.csv

1. ``emosign power --task T`` with its defaults (wAcc; micro-F1 on emotion_presence: an MDE
   under two recall profiles, its design analysis; 2,000 simulated pairs a step, each tested
   with 1,000 swap patterns) on every task, every other metric, against a paper's row and a
   number, and with ``--cluster source``, each as a fresh process as a user runs it: CPU
   seconds (the child's user + system time, which do not grow when other work shares the
   machine) and wall seconds. The target is under 2 CPU seconds; the commands over it are
   listed at the end.
2. One evaluation of the power (``--sims`` pairs, default 10,000, each tested by the paired
   permutation test), as ``emosign.power.simulate_power`` does it, against the best
   hand-written numpy alternative where one applies (accuracy and wAcc, whose difference is a
   sum of per-clip terms: draw the pairs, flip the signs of the terms with one
   (patterns x clips) @ (clips x pairs) product in float64, count the patterns at least as
   extreme), in CPU seconds and their ratio.
3. One MDE search (``minimum_detectable_difference``, 2,000 pairs a step) per metric, and how
   many evaluations of the power it took.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def numpy_power(design, metric: str, gap: float, *, level: float, agreement: float,
                n_sims: int, n_perm: int, seed: int) -> float:
    """The hand-written alternative: pairs drawn as emosign.power's model draws them (flat
    profile), tested by a plain numpy sign-flip permutation test with the mid-p: the p-values
    only, where emosign also inverts each test into its interval."""
    rng = np.random.default_rng(seed)
    y = design.y_true
    n = y.size
    supports = np.bincount(y)
    weight = (np.full(n, 1.0 / n) if metric == "accuracy"
              else 1.0 / (np.count_nonzero(supports) * supports[y]))
    d = 1 - agreement
    both, a_only, b_only = level - d / 2, (d + gap) / 2, (d - gap) / 2
    swaps = (rng.random((n_perm, n)) < 0.5).astype(float)
    rejected = 0
    for start in range(0, n_sims, 1_000):
        u = rng.random((min(1_000, n_sims - start), n))
        right_a = u < both + a_only
        right_b = (u < both) | ((u >= both + a_only) & (u < both + a_only + b_only))
        terms = (right_a.astype(float) - right_b) * weight  # (sims, n)
        observed = terms.sum(axis=1)
        flipped = observed - 2.0 * (swaps @ terms.T)  # (patterns, sims)
        # The mid-p, as emosign's default test: ties with the data (its own pattern one of
        # them) count one half; a zero difference is never rejected.
        size, t = np.abs(flipped), np.abs(observed)
        above = (size > t * (1 + 1e-9)).sum(axis=0)
        ties = (size >= t * (1 - 1e-9)).sum(axis=0) - above
        p_mid = (above + (ties + 1) / 2) / (1 + n_perm)
        rejected += int(((p_mid <= 0.05) & (t > 1e-12)).sum())
    return rejected / n_sims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-file", default=os.environ.get("EMOSIGN_LABELS"))
    parser.add_argument("--sims", type=int, default=10_000)
    parser.add_argument("--n-boot", type=int, default=1_000)
    parser.add_argument("--skip-commands", action="store_true")
    args = parser.parse_args()
    if not args.labels_file:
        parser.error("give --labels-file or set EMOSIGN_LABELS")

    print("1. emosign power, a fresh process each (target: under 2 CPU seconds by default)")
    print(f"{'command':<72}{'CPU s':>8}{'wall s':>8}")
    commands = [[f"--task={t}"] for t in ("sentiment_3", "sentiment_7", "emotion_single",
                                           "emotion_multi", "emotion_presence")]
    # Every metric on a task that has it, against a paper's row and a number, and the
    # clusters compare --cluster takes (signer is refused: its test cannot reach alpha).
    commands += [[f"--task={t}", f"--metric={m}"] for t, m in (
        ("sentiment_3", "accuracy"), ("sentiment_3", "wF1"), ("sentiment_3", "macro_f1"),
        ("sentiment_7", "wF1"), ("sentiment_7", "macro_f1"), ("sentiment_7", "MAE"),
        ("emotion_single", "wF1"), ("emotion_single", "macro_f1"),
        ("emotion_multi", "wF1"), ("emotion_presence", "macro_f1"))]
    commands += [["--task=sentiment_3", "--against=GPT-4o (video)"],
                 ["--task=sentiment_7", "--against=GPT-4o (video)"],
                 ["--task=emotion_single", "--against=GPT-4o (video)"],
                 ["--task=sentiment_3", "--metric=wF1", "--against=GPT-4o (video)"],
                 ["--task=sentiment_7", "--metric=MAE", "--against=1.0"],
                 ["--task=emotion_presence", "--against=0.5"]]
    commands += [["--task=sentiment_3", "--cluster=source"], ["--task=sentiment_7", "--cluster=source"],
                 ["--task=emotion_single", "--cluster=source"],
                 ["--task=sentiment_7", "--metric=MAE", "--cluster=source"],
                 ["--task=emotion_presence", "--cluster=source"],
                 ["--task=sentiment_3", "--metric=wF1", "--cluster=source"],
                 ["--task=sentiment_3", "--cluster=source", "--against=GPT-4o (video)"]]
    env = {**os.environ, "EMOSIGN_LABELS": args.labels_file}
    over = []
    for extra in [] if args.skip_commands else commands:
        argv = [sys.executable, "-m", "emosign.cli", "power", *extra, "--quiet", "--format=json"]
        cpu, wall = child_cpu(), time.perf_counter()
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
        shown = "emosign power " + " ".join(extra) + ("  (default)" if len(extra) == 1 else "")
        used = child_cpu() - cpu
        print(f"{shown:<72}{used:>8.2f}{time.perf_counter() - wall:>8.2f}")
        if used >= 2.0:
            over.append(shown)
    if not args.skip_commands:
        print(f"{len(commands) - len(over)} of {len(commands)} commands under 2 CPU seconds"
              + (f"; over: {'; '.join(over)}" if over else ""))

    from emosign.labels import load_labels
    from emosign.power import _Model, design_for_task, minimum_detectable_difference, simulate_power

    labels = load_labels(args.labels_file)
    designs = {t: design_for_task(t, labels_file=labels)
               for t in ("sentiment_3", "sentiment_7", "emotion_single", "emotion_presence")}
    print(f"\n2. one evaluation of the power: {args.sims:,} pairs x {args.n_boot:,} swap patterns, "
          "level 0.5, agreement 0.7, gap 0.1")
    print(f"{'task':<18}{'metric':<19}{'emosign CPU s':>14}{'wall s':>8}{'numpy CPU s':>13}"
          f"{'ratio':>7}{'power':>8}{'numpy':>8}")
    for task in ("sentiment_3", "sentiment_7", "emotion_single"):
        for metric in ("balanced_accuracy", "accuracy", "weighted_f1"):
            design = designs[task]
            cpu, wall = own_cpu(), time.perf_counter()
            found = simulate_power(design, metric=metric, gap=0.1, level=0.5, agreement=0.7,
                                   n_sims=args.sims, n_boot=args.n_boot, seed=0)
            ours, ours_wall = own_cpu() - cpu, time.perf_counter() - wall
            if metric == "weighted_f1":
                print(f"{task:<18}{metric:<19}{ours:>14.2f}{ours_wall:>8.2f}{'n/a':>13}{'':>7}"
                      f"{found.power:>8.3f}")
                continue
            cpu = own_cpu()
            theirs_power = numpy_power(design, metric, 0.1, level=0.5, agreement=0.7,
                                       n_sims=args.sims, n_perm=args.n_boot, seed=0)
            theirs = own_cpu() - cpu
            print(f"{task:<18}{metric:<19}{ours:>14.2f}{ours_wall:>8.2f}{theirs:>13.2f}"
                  f"{ours / theirs:>7.2f}{found.power:>8.3f}{theirs_power:>8.3f}")

    print("\n3. one MDE search (2,000 pairs a step, level 0.5, agreement 0.7; MAE: 1.0, 0.7)")
    print(f"{'task':<18}{'metric':<19}{'CPU s':>8}{'wall s':>8}{'evaluations':>13}{'MDE':>8}")
    runs = [(t, m) for t in ("sentiment_3", "sentiment_7", "emotion_single")
            for m in ("balanced_accuracy", "accuracy", "weighted_f1")]
    runs += [("sentiment_7", "mae"), ("emotion_presence", "micro_f1"), ("emotion_presence", "macro_f1")]
    original = _Model.run
    for task, metric in runs:
        count = [0]

        def counted(self, *a, count=count, **k):
            count[0] += 1
            return original(self, *a, **k)

        _Model.run = counted  # type: ignore[method-assign]
        model = dict(level=1.0, agreement=0.7) if metric == "mae" else dict(level=0.5, agreement=0.7)
        cpu, wall = own_cpu(), time.perf_counter()
        found = minimum_detectable_difference(designs[task], metric=metric, n_sims=2_000,
                                              n_boot=args.n_boot, seed=0, **model)
        _Model.run = original  # type: ignore[method-assign]
        shown = "n/r" if found.mde is None else f"{found.mde:.4f}"
        print(f"{task:<18}{metric:<19}{own_cpu() - cpu:>8.2f}{time.perf_counter() - wall:>8.2f}"
              f"{count[0]:>13}{shown:>8}")


if __name__ == "__main__":
    main()
