"""How long a full `evaluate` takes on every task, against the fair anchors doing the same
bootstrap: `scipy.stats.bootstrap` (vectorised, paired) and a plain numpy loop.

    python benchmarks/bench_metrics.py --labels-file "$EMOSIGN_LABELS"
    python benchmarks/bench_metrics.py --labels-file "$EMOSIGN_LABELS" --scale 10 100

`evaluate` reads the labels and the predictions, scores them, draws 10,000 bootstrap
resamples, computes every headline metric of the task on each, and adds per-class and
per-signer breakdowns (and, on cue_grounding, the chance level and the human ceiling).

The anchors do only the bootstrap of the same headline metrics on the same aligned arrays,
written the natural numpy way on resampled clips (ranks by scipy.stats.rankdata):

On cue_grounding both start from the explanations: the anchors score each clip's
explanation (``emosign.cues.grounding_scores``, the same code) before resampling.

* ``scipy``: ``scipy.stats.bootstrap((clip indices,), statistic, paired resampling,
  vectorized=True, method="percentile", batch=2000)``: the statistic sees 2,000 resamples
  at a time, as emosign's does.
* ``numpy loop``: for each resample, draw indices and call the same statistic on one row.
* ``sklearn loop`` (sentiment_3 only, for the README's old comparison): accuracy_score,
  balanced_accuracy_score and two f1_score calls per resample, timed on
  ``--sklearn-resamples`` resamples and scaled linearly (it is linear by construction).

Times are CPU seconds (this process, all threads) and wall seconds, medians of ``--repeat``
runs; the ratio is anchor CPU / evaluate CPU (above 1: evaluate is faster).

``--scale 10 100`` also scores synthetic label files with 10x and 100x the clips (the real
rows repeated under new utterance ids), each task in a fresh interpreter: CPU seconds and
peak memory (VmHWM, the peak RSS), to show time linear in the clips and memory bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.stats import bootstrap, rankdata

TASKS = ("sentiment_3", "sentiment_7", "emotion_single", "emotion_multi", "emotion_presence",
         "emotion_intensity", "cue_grounding")


def noisy_predictions(task: str, labels, rng: np.random.Generator):
    """A model that is right about half the time: what evaluate and the anchors score."""
    from emosign.tasks import get_task

    data = get_task(task).bind(labels)
    kind = data.task.kind
    if kind == "single_label":
        if task == "sentiment_7":  # a regression output: the nine ordinal metrics as well
            return {n: float(y - 3 + rng.normal(0, 1.2)) for n, y in zip(data.video_names, data.y_true)}
        return {n: data.classes[y if rng.random() < 0.5 else rng.integers(len(data.classes))]
                for n, y in zip(data.video_names, data.y_true)}
    if kind == "multi_label":
        return [{"video_name": n, **{c: bool(t if rng.random() < 0.7 else not t) for c, t in zip(data.classes, row)}}
                for n, row in zip(data.video_names, data.y_true)]
    if kind == "intensity":
        return [{"video_name": n, **{c: int(np.clip(t + rng.integers(-1, 2), 0, 3)) for c, t in zip(data.classes, row)}}
                for n, row in zip(data.video_names, data.y_true)]
    clips = {c.video_name: c for c in labels}
    return {n: clips[n].cues[int(rng.integers(3))] for n in data.video_names}


# --- the anchors' statistic: headline metrics of resampled clips, numpy on (B, n) arrays ---


def _classification(t, p, k, mask=None):
    """accuracy, balanced accuracy, weighted F1, macro F1 of (B, n) class indices."""
    m = np.ones(t.shape, bool) if mask is None else mask
    total = m.sum(-1)
    acc = ((t == p) & m).sum(-1) / np.maximum(total, 1)
    recall, f1, support = [], [], []
    for c in range(k):
        tc, pc = (t == c) & m, (p == c) & m
        tp, sup, pred = (tc & pc).sum(-1), tc.sum(-1), pc.sum(-1)
        recall.append(np.where(sup > 0, tp / np.maximum(sup, 1), 0.0))
        f1.append(np.where(sup + pred > 0, 2 * tp / np.maximum(sup + pred, 1), 0.0))
        support.append(sup)
    recall, f1, support = np.array(recall), np.array(f1), np.array(support)
    balanced = (recall * (support > 0)).sum(0) / np.maximum((support > 0).sum(0), 1)
    weighted = (f1 * support).sum(0) / np.maximum(support.sum(0), 1)
    return [acc, balanced, weighted, f1.mean(0)]


def _pearson(x, y):
    dx = x - x.mean(-1, keepdims=True)
    dy = y - y.mean(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (dx * dy).sum(-1) / np.sqrt((dx * dx).sum(-1) * (dy * dy).sum(-1))


def _qwk(t, p, k):
    rows = t.shape[0]
    cells = (t * k + p + (np.arange(rows) * k * k)[:, None]).ravel()
    c = np.bincount(cells, minlength=rows * k * k).reshape(rows, k, k).astype(float)
    i, j = np.indices((k, k))
    penalty = (i - j) ** 2 / (k - 1) ** 2
    expected = c.sum(2)[:, :, None] * c.sum(1)[:, None, :] / c.sum((1, 2))[:, None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - (penalty * c).sum((1, 2)) / (penalty * expected).sum((1, 2))


def anchor_statistic(task: str, data, aligned, per_clip=None):
    """``statistic(idx)``: idx (B, n) resampled clip indices -> (m, B) headline metrics."""
    kind = data.task.kind
    if kind == "single_label":
        t, p, k = data.y_true, aligned.y_pred, len(data.classes)
        values = aligned.values if task == "sentiment_7" else None

        def statistic(idx, axis=-1):
            out = _classification(t[idx], p[idx], k)
            if values is not None:
                tt, v = t[idx] - 3.0, values[idx]
                rounded = np.round(np.clip(v, -3, 3))
                nonzero = tt != 0
                has0 = _classification((tt >= 0).astype(int), (v >= 0).astype(int), 2)
                non0 = _classification((tt > 0).astype(int), (v > 0).astype(int), 2, mask=nonzero)
                out += [np.abs(v - tt).mean(-1), _pearson(tt, v),
                        _pearson(rankdata(tt, axis=-1), rankdata(v, axis=-1)),
                        _qwk((tt + 3).astype(int), (rounded + 3).astype(int), 7),
                        (rounded == tt).mean(-1), has0[0], has0[2], non0[0], non0[2]]
            return np.stack(out)

    elif kind == "multi_label":
        t, p = data.y_true.astype(bool), aligned.y_pred.astype(bool)

        def statistic(idx, axis=-1):
            tt, pp = t[idx], p[idx]
            tp, fp, fn = (tt & pp).sum(1), (~tt & pp).sum(1), (tt & ~pp).sum(1)
            micro = 2 * tp.sum(1) / np.maximum(2 * tp.sum(1) + fp.sum(1) + fn.sum(1), 1)
            macro = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0).mean(1)
            return np.stack([micro, macro, (tt != pp).mean((1, 2)), (tt == pp).all(2).mean(1)])

    elif kind == "intensity":
        t, p = data.y_true.astype(float), aligned.y_pred.astype(float)

        def statistic(idx, axis=-1):
            tt, pp = t[idx], p[idx]
            rho = np.stack([_pearson(rankdata(tt[..., j], axis=-1), rankdata(pp[..., j], axis=-1))
                            for j in range(t.shape[1])])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return np.stack([np.abs(pp - tt).mean(1).mean(-1), np.nanmean(rho, axis=0)])

    else:
        c = {k: np.asarray(v, dtype=float) for k, v in per_clip.items()}

        def statistic(idx, axis=-1):
            def total(key):
                return c[key][idx].sum(-1)

            named, out = total("cue_named"), []
            for suffix in ("", "_strict"):
                hits, expected = total(f"cue_hits{suffix}"), total(f"cue_expected{suffix}")
                out += [2 * hits / np.maximum(named + expected, 1e-300), hits / np.maximum(named, 1e-300),
                        hits / np.maximum(expected, 1e-300)]
            n = idx.shape[-1]
            return np.stack(out[:4] + [named / n, total("rouge_l") / n])

    return statistic


def _cpu_wall(run, repeat: int) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        run()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(cpu), statistics.median(wall)


def compare(labels_file: str, n_boot: int, repeat: int, loop_resamples: int, sklearn_resamples: int) -> None:
    from emosign import cues
    from emosign.labels import read_labels
    from emosign.metrics import evaluate
    from emosign.predictions import align, read_predictions
    from emosign.tasks import get_task

    labels = read_labels(labels_file)
    print(f"{len(labels)} clips, {n_boot:,} bootstrap resamples, medians of {repeat} runs; CPU seconds "
          f"(wall in brackets); ratio = anchor CPU / evaluate CPU\n")
    head = (f"{'task':<19}{'evaluate':>15}{'scipy vectorised':>19}{'ratio':>7}"
            f"{'numpy loop':>16}{'ratio':>7}")
    print(head)
    print("-" * len(head))
    for task in TASKS:
        predictions = noisy_predictions(task, labels, np.random.default_rng(0))
        data = get_task(task).bind(labels)
        aligned = align(read_predictions(predictions), data)
        clips = {c.video_name: c for c in labels}

        # Each closure is called within this iteration; the defaults bind its variables.
        def the_statistic(task=task, data=data, aligned=aligned, clips=clips):
            per_clip = None
            if task == "cue_grounding":
                per_clip = cues.grounding_scores(list(aligned.y_pred), [clips[n] for n in data.video_names])
            return anchor_statistic(task, data, aligned, per_clip)

        evaluate(task, predictions, labels_file=labels, n_boot=50)  # warm: imports and caches
        ours = _cpu_wall(lambda task=task, predictions=predictions: evaluate(
            task, predictions, labels_file=labels, n_boot=n_boot), repeat)

        def scipy_run(data=data, the_statistic=the_statistic):
            bootstrap((np.arange(data.n),), the_statistic(), n_resamples=n_boot, vectorized=True,
                      paired=True, method="percentile", batch=2000, random_state=np.random.default_rng(0))

        def loop_run(data=data, the_statistic=the_statistic):
            rng = np.random.default_rng(0)
            statistic = the_statistic()
            samples = [statistic(rng.integers(0, data.n, (1, data.n))) for _ in range(loop_resamples)]
            np.nanquantile(np.concatenate(samples, axis=1), [0.025, 0.975], axis=1)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scipy_t = _cpu_wall(scipy_run, repeat)
            loop_t = _cpu_wall(loop_run, 1)
        scale = n_boot / loop_resamples
        loop_t = (loop_t[0] * scale, loop_t[1] * scale)
        print(f"{task:<19}{_fmt(ours):>15}{_fmt(scipy_t):>19}{scipy_t[0] / ours[0]:>6.1f}x"
              f"{_fmt(loop_t):>16}{loop_t[0] / ours[0]:>6.0f}x")
    if loop_resamples != n_boot:
        print(f"(numpy loop timed on {loop_resamples:,} resamples and scaled to {n_boot:,})")
    _sklearn_loop(labels, n_boot, sklearn_resamples, repeat)


def _sklearn_loop(labels, n_boot, resamples, repeat):
    from sklearn import metrics as skm

    from emosign.metrics import evaluate
    from emosign.vocab import SENTIMENT_3_NAMES

    rng = np.random.default_rng(0)
    polarity = {c.video_name: SENTIMENT_3_NAMES[rng.integers(3)] for c in labels}
    y_true = np.array([c.sentiment_3 for c in labels])
    y_pred = np.array([polarity[c.video_name] for c in labels])
    indices = np.random.default_rng(0).integers(0, len(y_true), (resamples, len(y_true)))

    def loop():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for idx in indices:
                t, p = y_true[idx], y_pred[idx]
                skm.accuracy_score(t, p)
                skm.balanced_accuracy_score(t, p)
                skm.f1_score(t, p, labels=list(SENTIMENT_3_NAMES), average="weighted", zero_division=0)
                skm.f1_score(t, p, labels=list(SENTIMENT_3_NAMES), average="macro", zero_division=0)

    seconds = _cpu_wall(loop, 1)[0] * n_boot / resamples
    ours = _cpu_wall(lambda: evaluate("sentiment_3", polarity, labels_file=labels, n_boot=n_boot), repeat)[0]
    print(f"\nscikit-learn loop, sentiment_3, 4 metric calls per resample ({n_boot:,} resamples, timed on "
          f"{resamples:,} and scaled): {seconds:.1f} s CPU, {seconds / ours:,.0f}x evaluate; mostly "
          "scikit-learn's per-call checks, so the fair anchors are the two above")


def _fmt(t: tuple[float, float]) -> str:
    return f"{t[0]:.3f} ({t[1]:.2f})"


# --- scale: 10x and 100x the clips ----------------------------------------------------------


def scaled_label_file(labels_file: str, factor: int, out: Path) -> Path:
    """The real rows repeated ``factor`` times, copy k's utterance ids shifted by k * 10^9."""
    import pandas as pd

    frame = pd.read_csv(labels_file, dtype=str, keep_default_na=False)
    copies = []
    for k in range(factor):
        copy = frame.copy()
        stem = copy["video_name"].str.rsplit("_", n=1)
        copy["video_name"] = stem.str[0] + "_" + (stem.str[1].astype(np.int64) + k * 10**9).astype(str)
        copies.append(copy)
    path = out / f"labels_x{factor}.csv"
    pd.concat(copies).to_csv(path, index=False)
    return path


_ONE_TASK = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {here!r})
from bench_metrics import noisy_predictions
from emosign.labels import read_labels
from emosign.metrics import evaluate
labels = read_labels({path!r})
predictions = noisy_predictions({task!r}, labels, np.random.default_rng(0))
cpu, wall = time.process_time(), time.perf_counter()
evaluate({task!r}, predictions, labels_file=labels, n_boot={n_boot})
try:  # this process's own peak: ru_maxrss would carry the parent's over the exec
    peak = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps([time.process_time() - cpu, time.perf_counter() - wall, peak / 1024]))
"""


def scale(labels_file: str, factors: list[int], n_boot: int) -> None:
    from emosign.labels import read_labels

    base = len(read_labels(labels_file))
    print(f"\nscale: evaluate with {n_boot:,} resamples, one task per fresh interpreter; "
          "CPU seconds / peak RSS (MiB)")
    print(f"{'task':<19}" + "".join(f"{f'{base * f:,} clips':>22}" for f in [1, *factors]))
    with tempfile.TemporaryDirectory() as tmp:
        paths = [labels_file] + [str(scaled_label_file(labels_file, f, Path(tmp))) for f in factors]
        for task in TASKS:
            cells = []
            for path in paths:
                code = _ONE_TASK.format(here=str(Path(__file__).parent), path=path, task=task, n_boot=n_boot)
                done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                cpu, _, rss = json.loads(done.stdout.splitlines()[-1])
                cells.append(f"{cpu:8.2f} s {rss:6.0f} MiB")
            print(f"{task:<19}" + "".join(f"{c:>22}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-file", default=os.environ.get("EMOSIGN_LABELS"))
    parser.add_argument("--n-boot", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-resamples", type=int, default=10_000,
                        help="resamples the numpy loop is timed on (default: all 10,000)")
    parser.add_argument("--sklearn-resamples", type=int, default=1_000)
    parser.add_argument("--scale", type=int, nargs="*", default=[],
                        help="also score 10x, 100x ... the clips (synthetic), e.g. --scale 10 100")
    args = parser.parse_args()
    if not args.labels_file:
        parser.error("give --labels-file or set EMOSIGN_LABELS")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    compare(args.labels_file, args.n_boot, args.repeat, args.loop_resamples, args.sklearn_resamples)
    if args.scale:
        scale(args.labels_file, args.scale, args.n_boot)


if __name__ == "__main__":
    main()
