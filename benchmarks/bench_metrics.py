"""How long a full `evaluate` takes, against a plain loop of scikit-learn calls doing the same work.

    python benchmarks/bench_metrics.py --labels-file "$EMOSIGN_LABELS"

`evaluate` reads the labels and the predictions, scores them, draws 10,000 bootstrap
resamples and computes every headline metric on each in batched form, plus per-class and
per-signer breakdowns. The loop does only the bootstrap part, the textbook way: for each
resample, index the arrays and call accuracy_score, balanced_accuracy_score and f1_score
(weighted and macro). The loop is timed on --loop-resamples resamples and scaled linearly
to 10,000 (it is linear by construction); pass --loop-resamples 10000 to time it all.
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
from _timing import median_seconds
from sklearn import metrics as skm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-file", default=os.environ.get("EMOSIGN_LABELS"))
    parser.add_argument("--n-boot", type=int, default=10_000)
    parser.add_argument("--loop-resamples", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.labels_file:
        parser.error("give --labels-file or set EMOSIGN_LABELS")

    from emosign.labels import read_labels
    from emosign.metrics import evaluate
    from emosign.vocab import SENTIMENT_3_NAMES

    labels = read_labels(args.labels_file)
    rng = np.random.default_rng(0)
    # A noisy model: the reference rating plus Gaussian noise, as a regression output.
    values = {c.video_name: float(c.sentiment + rng.normal(0, 1.2)) for c in labels}
    polarity = {c.video_name: SENTIMENT_3_NAMES[rng.integers(3)] for c in labels}
    single = {c.video_name: c.single_label if rng.random() < 0.5 else "happiness"
              for c in labels if c.single_label}

    print(f"{len(labels)} clips, {args.n_boot:,} bootstrap resamples, median of {args.repeat} runs")
    print(f"{'evaluate(...)':<44}{'seconds':>9}")
    cases = [("sentiment_3", polarity), ("emotion_single", single), ("sentiment_7", values)]
    timings = {}
    for task, predictions in cases:
        seconds = median_seconds(
            lambda: evaluate(task, predictions, labels_file=args.labels_file, n_boot=args.n_boot),
            args.repeat,
        )
        timings[task] = seconds
        extra = " (+ 9 ordinal metrics)" if task == "sentiment_7" else ""
        print(f"  {task + extra:<42}{seconds:>9.3f}")

    # The loop: the same four classification metrics on every resample of sentiment_3.
    y_true = np.array([c.sentiment_3 for c in labels])
    y_pred = np.array([polarity[c.video_name] for c in labels])
    n = len(y_true)
    indices = np.random.default_rng(0).integers(0, n, (args.loop_resamples, n))

    def loop():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for idx in indices:
                t, p = y_true[idx], y_pred[idx]
                skm.accuracy_score(t, p)
                skm.balanced_accuracy_score(t, p)
                skm.f1_score(t, p, labels=list(SENTIMENT_3_NAMES), average="weighted", zero_division=0)
                skm.f1_score(t, p, labels=list(SENTIMENT_3_NAMES), average="macro", zero_division=0)

    loop_seconds = median_seconds(loop, 1) * args.n_boot / args.loop_resamples
    scaled = "" if args.loop_resamples == args.n_boot else f", scaled from {args.loop_resamples:,}"
    print(f"\nplain loop of scikit-learn calls, sentiment_3 ({args.n_boot:,} resamples{scaled})")
    print(f"  {'4 metrics per resample':<42}{loop_seconds:>9.3f}")
    print(f"\nevaluate('sentiment_3') is {loop_seconds / timings['sentiment_3']:.0f}x faster than the loop,"
          f" and does more (per-class, per-signer, parsing)")


if __name__ == "__main__":
    main()
