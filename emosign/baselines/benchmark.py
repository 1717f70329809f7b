"""`emosign benchmark`: every baseline the inputs allow, under signer-independent
cross-validation, scored with intervals, beside the paper's reported rows.

Protocol. A learned baseline is scored on out-of-fold predictions: each clip is predicted
exactly once, by a model trained on the other signers' clips (leave-one-signer-out over Ben,
Cory, Jonathan and Rachel, both Rachel sessions one signer). The per-signer breakdown of the
result shows each held-out signer on its own (Ben's fold has 7 clips). As a second view,
repeated stratified k-fold gives the mean and standard deviation of each headline metric over
repeats. Baselines that learn nothing (uniform random, VADER, a constant) predict every clip
once with no folds. Seeds are fixed: the same command gives the same numbers.

Speed. The independent units of work (each baseline on each task, and each repeat of its
k-fold view) run in parallel in worker processes, one BLAS/OpenMP thread each: these fits
are small, and a thread pool per fit costs more than it saves (issue 16 measured a TF-IDF +
logistic regression fit on the cue texts at 6.3 s with the default threads, 0.7 s with one). The
units are seeded on their own and put back in order, so any number of workers gives the
numbers of a serial run, bit for bit.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import RepeatedStratifiedKFold

from emosign import __version__
from emosign._cache import cache_dir as default_cache_dir
from emosign._defaults import BENCHMARK_TASKS, KFOLD_REPEATS, N_BOOT, SEED, TEXT_WIDTH
from emosign._io import check_output_folder, staged_directory, write_atomically
from emosign._progress import progress_bar
from emosign._threads import one_thread
from emosign._workers import check_workers, dead_workers_explained
from emosign.baselines import visual
from emosign.baselines.catalog import all_baselines, get_baseline
from emosign.baselines.landmarks import landmark_extractor
from emosign.baselines.registry import SYSTEM_KINDS, Baseline, Example
from emosign.captions import read_captions
from emosign.errors import InputError
from emosign.labels import Labels, load_labels
from emosign.metrics import (
    SHORT_NAMES,
    UNSTABLE_MARK,
    UNSTABLE_REASON,
    classification_metrics,
    evaluate,
    format_metric,
)
from emosign.paper import reported_rows
from emosign.records import stamp
from emosign.splits import Fold, leave_one_signer_out
from emosign.tasks import TaskData, get_task
from emosign.video import resolve_videos

__all__ = [
    "DEFAULT_TASKS",
    "HEADLINE",
    "Inputs",
    "TEXT_WIDTH",
    "WRITER",
    "format_leaderboard",
    "out_of_fold_predictions",
    "repeated_kfold",
    "run_benchmark",
]

#: The writer's name: an output folder holds ``.emosign-benchmark``, listing what it wrote.
WRITER = "benchmark"
DEFAULT_TASKS: tuple[str, ...] = BENCHMARK_TASKS
HEADLINE: tuple[str, ...] = ("balanced_accuracy", "weighted_f1", "accuracy", "macro_f1")


@dataclass(frozen=True)
class Inputs:
    """What the caller gave: labels always; captions and video features when available.

    ``features`` maps an extractor name ("motion", "landmarks") to ``{video_name: vector}``;
    ``feature_gaps`` to the clips it has no vector for (missing or unreadable video).
    """

    labels: Labels
    captions: dict[str, str | None]
    features: dict[str, dict[str, np.ndarray]]
    feature_gaps: dict[str, tuple[str, ...]]

    @property
    def available(self) -> frozenset[str]:
        names = {"labels", "cues"}
        if any(self.captions.values()):
            names.add("captions")
        names |= {f"video:{name}" for name in self.features}
        return frozenset(names)

    def examples(self, video_names: Sequence[str]) -> list[Example]:
        clips = {c.video_name: c for c in self.labels}
        return [
            Example(
                video_name=name,
                signer=clips[name].signer,
                cues=clips[name].cues,
                caption=self.captions.get(name),
                features={k: v[name] for k, v in self.features.items() if name in v},
            )
            for name in video_names
        ]


def out_of_fold_predictions(
    baseline: Baseline,
    examples: Sequence[Example],
    y: np.ndarray,
    classes: Sequence[str],
    folds: Sequence[Fold],
    *,
    seed: int = SEED,
) -> np.ndarray:
    """Each clip predicted once by a model fitted on the other folds: (n,) class indices.

    A baseline that learns nothing is fitted once on every clip and predicts them all. Fits
    run with one BLAS/OpenMP thread (see "Speed" above).
    """
    with one_thread():
        if not baseline.learned:
            return baseline.make(seed).fit(examples, y, classes).predict(examples)
        index = {e.video_name: i for i, e in enumerate(examples)}
        predicted = np.full(len(examples), -1)
        for fold in folds:
            train = [index[n] for n in fold.train]
            test = [index[n] for n in fold.test]
            model = baseline.make(seed).fit([examples[i] for i in train], y[train], classes)
            predicted[test] = model.predict([examples[i] for i in test])
    if (predicted < 0).any():
        raise RuntimeError(f"the folds left {int((predicted < 0).sum())} clip(s) unpredicted")
    return predicted


def repeated_kfold(
    data: TaskData, *, n_splits: int = 5, n_repeats: int = KFOLD_REPEATS, seed: int = SEED
) -> list[list[Fold]]:
    """Repeated stratified k-fold on the task's classes: ``n_repeats`` lists of folds.

    A class with fewer clips than ``n_splits`` cannot be spread over every fold; scikit-learn
    warns and places it as well as it can.
    """
    names = np.array(data.video_names)
    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    with warnings.catch_warnings():
        # EmoSign's rare classes (3 neutral clips, 3 anger clips) always trigger it; said above.
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        folds = [
            Fold(f"repeat {i // n_splits + 1} fold {i % n_splits + 1}", tuple(names[tr]), tuple(names[te]))
            for i, (tr, te) in enumerate(splitter.split(names, data.y_true))
        ]
    return [folds[r * n_splits:(r + 1) * n_splits] for r in range(n_repeats)]


def run_benchmark(
    *,
    tasks: Sequence[str] = DEFAULT_TASKS,
    baselines: Sequence[str] | None = None,
    labels_file: str | os.PathLike | None = None,
    video_dir: str | os.PathLike | None = None,
    captions_file: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    cache_dir: str | os.PathLike | None = None,
    on_missing_video: str = "skip",
    n_boot: int = N_BOOT,
    kfold_repeats: int = KFOLD_REPEATS,
    seed: int = SEED,
    progress: bool | None = None,
    workers: int | None = None,
) -> dict:
    """Run the baselines the inputs allow on each task; return (and write) the results.

    With ``out_dir``: ``results.json``, ``leaderboard.md`` and
    ``predictions/<task>/<baseline>.csv`` (``video_name,prediction``, rescorable with
    ``emosign evaluate``), written whole at the end. ``out_dir`` may be absent, empty, or,
    with ``overwrite``, an earlier benchmark output (its ``.emosign-benchmark`` marker lists
    every file in it); anything else is refused before any work, even with ``overwrite``, as
    is a folder that is, is inside, or holds the label file, the videos, the captions file
    or the feature cache. Visual baselines need ``video_dir``; a clip without a usable video
    is left out of that baseline's scoring with the count in its row
    (``on_missing_video="skip"``), or stops the run (``"error"``).

    ``cache_dir``: where the video features are cached, by clip content and extractor
    version, so that a second run costs nothing (default: :func:`emosign._cache.cache_dir`,
    ``$EMOSIGN_CACHE`` if set, else ``emosign/features`` in the user's cache folder). Never
    the video folder or a folder inside it: nothing is written where the inputs are.

    ``workers``: processes that fit and score the baselines in parallel, one BLAS thread
    each, and that extract video features (default: :func:`emosign.video.default_workers`,
    the cores this process may use; 1 runs everything in this process). The numbers do not
    depend on it. Worker processes are forked, so baselines registered at run time are
    seen by them; where fork is not the safe default (macOS, Windows) the run is serial.
    ``progress``: a bar on stderr (None: only when stderr is a terminal).
    """
    for task in tasks:
        if get_task(task).kind != "single_label":
            raise InputError(f"the benchmark runs single-label tasks; {task} is not one")
    workers = check_workers(workers)
    chosen = all_baselines() if baselines is None else tuple(get_baseline(b) for b in baselines)
    labels = load_labels(labels_file)
    cache = _feature_cache(cache_dir, video_dir)
    read_from = [labels.source.path, *(p for p in (video_dir, captions_file, cache) if p)]
    if out_dir is not None:  # refused now, not after the run
        check_output_folder(out_dir, writer=WRITER, overwrite=overwrite, inputs=read_from)
    inputs = _gather_inputs(
        labels, chosen, video_dir=video_dir, captions_file=captions_file,
        cache_dir=cache, on_missing_video=on_missing_video, progress=progress,
        workers=workers,
    )

    plan = _Plan(inputs=inputs, n_boot=n_boot, seed=seed)
    rows: list[dict[str, Any]] = []
    for task in tasks:
        data = get_task(task).bind(labels)
        for baseline in chosen:
            row: dict[str, Any] = {"task": task, "system": baseline.name, "kind": baseline.kind,
                   "description": baseline.description, "reported": False}
            reason = _cannot_run(baseline, task, inputs)
            if reason:
                rows.append({**row, "skipped": reason})
                continue
            gaps = _feature_gaps(baseline, inputs)
            scored = data.restrict([n for n in data.video_names if n not in gaps]) if gaps else data
            signers = sorted(set(scored.signers))
            if baseline.learned and len(signers) < 2:
                # Leave-one-signer-out has nothing to train on when one signer is left.
                rows.append({**row, "skipped": "leave-one-signer-out needs clips of two signers "
                             f"or more; the usable clips are {', '.join(signers) or 'none'}'s only"})
                continue
            unit = len(plan.units)
            plan.units.append(_Unit(baseline, data, scored, inputs.examples(scored.video_names), len(gaps)))
            plan.jobs.append((unit, None))
            if baseline.learned and kfold_repeats:
                view = _kfold_folds(scored, kfold_repeats, seed)
                plan.kfold[unit] = view
                if isinstance(view, tuple):
                    plan.jobs += [(unit, r) for r in range(kfold_repeats)]
            rows.append({**row, "unit": unit})
        rows += _reported_rows(task)

    done = _run_jobs(plan, workers=workers, progress=progress)
    predictions_out: dict[tuple[str, str], pd.DataFrame] = {}
    for row in rows:
        unit = row.pop("unit", None)
        if unit is None:
            continue
        scored, frame = done[(unit, None)]
        row.update(scored)
        predictions_out[(row["task"], row["system"])] = frame
        if unit in plan.kfold:
            row["kfold"] = _kfold_summary(plan.kfold[unit], done, unit)
    for task in tasks:
        reported = [r for r in rows if r["task"] == task and r["reported"]]
        if reported:
            verdict = _unstable_on_every_clip(task, rows, labels)
            for r in reported:
                r["unstable"] = verdict

    results = stamp("benchmark", {
        "emosign_version": __version__,
        "labels": {"path": labels.source.path, "sha256": labels.source.sha256},
        "protocol": __doc__.split("\n\n")[1].replace("\n", " "),
        "seed": seed,
        "n_boot": n_boot,
        "inputs": sorted(inputs.available),
        "rows": rows,
    })
    if out_dir is not None:
        _write_outputs(Path(out_dir), results, predictions_out, overwrite=overwrite, inputs=read_from)
    return results


# --- the units of work, and running them in parallel ----------------------------------------


@dataclass(frozen=True)
class _Unit:
    """One baseline on one task: ``scored`` is the task's clips it can score."""

    baseline: Baseline
    data: TaskData
    scored: TaskData
    examples: list[Example]
    missing_videos: int


@dataclass
class _Plan:
    """Everything the jobs need. Workers inherit it by fork, so only job keys are sent.

    ``jobs``: (unit, None) is a unit's leave-one-signer-out run, (unit, r) repeat r of its
    k-fold view; ``kfold``: a unit's (n_splits, folds of each repeat), or why it has none.
    """

    inputs: Inputs
    n_boot: int
    seed: int
    units: list[_Unit] = field(default_factory=list)
    jobs: list[tuple[int, int | None]] = field(default_factory=list)
    kfold: dict[int, tuple | dict] = field(default_factory=dict)


# The plan of the run, in a worker process (set by _adopt_plan when the worker starts).
_PLAN: _Plan | None = None


def _adopt_plan(plan: _Plan) -> None:
    global _PLAN
    _PLAN = plan


def _run_job(job: tuple[int, int | None], plan: _Plan | None = None):
    """A job: (unit, None) is the leave-one-signer-out run of a unit, scored with intervals;
    (unit, r) is repeat r of its k-fold view."""
    plan = plan or _PLAN
    assert plan is not None, "a worker runs jobs only after _adopt_plan"
    unit_index, repeat = job
    unit = plan.units[unit_index]
    with one_thread():
        if repeat is None:
            return _score_unit(unit, plan)
        _, folds = plan.kfold[unit_index]
        return _kfold_repeat(unit, folds[repeat], plan.seed)


def _run_jobs(plan: _Plan, *, workers: int, progress: bool | None) -> dict:
    """Each job's result by its key; the same whichever process ran it."""
    # Heavy jobs first (a learned baseline's folds), so that no worker is left with one at the end.
    order = sorted(plan.jobs, key=lambda job: not plan.units[job[0]].baseline.learned)
    workers = min(workers, len(order))
    done = {}
    if workers <= 1 or not sys.platform.startswith("linux"):
        with progress_bar(len(order), "benchmark", enabled=progress, unit="run") as bar:
            for job in order:
                done[job] = _run_job(job, plan)
                bar.update(1)
        return done

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Forked workers inherit the plan (models, clips, baselines registered at run time) as
    # it is: nothing of it is pickled, only job keys and results travel.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_adopt_plan, initargs=(plan,))
    with pool, dead_workers_explained():
        # Every worker is forked at the first submit, before the progress bar starts a thread.
        futures = {pool.submit(_run_job, job): job for job in order}
        with progress_bar(len(order), "benchmark", enabled=progress, unit="run") as bar:
            try:
                for future in as_completed(futures):
                    done[futures[future]] = future.result()
                    bar.update(1)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return done


def _score_unit(unit: _Unit, plan: _Plan) -> tuple[dict, pd.DataFrame]:
    """The leave-one-signer-out predictions of a unit, scored: its row's numbers and the
    per-clip predictions."""

    baseline, data, scored = unit.baseline, unit.data, unit.scored
    folds = leave_one_signer_out(scored)
    predicted = out_of_fold_predictions(baseline, unit.examples, scored.y_true, data.classes, folds,
                                        seed=plan.seed)
    frame = pd.DataFrame({"video_name": scored.video_names,
                          "prediction": [data.classes[i] for i in predicted]})
    result = evaluate(data.task.name, frame, labels_file=plan.inputs.labels, n_boot=plan.n_boot,
                      seed=plan.seed, clips=scored.video_names if unit.missing_videos else None,
                      metrics=HEADLINE)
    return {
        "protocol": "leave-one-signer-out" if baseline.learned else "no training",
        "n": result["n"],
        "missing_videos": unit.missing_videos,
        "metrics": {k: result["metrics"][k] for k in HEADLINE},
        "ci": {k: result["ci"]["intervals"][k] for k in HEADLINE},
        "per_signer": result["per_signer"],
        "confusion_matrix": result["confusion_matrix"],
        # evaluate's own verdict on these clips: which class-averaged scores a small class
        # makes unstable (the leaderboard marks them).
        "unstable": result["unstable"],
    }, frame


def _kfold_folds(data: TaskData, n_repeats: int, seed: int) -> tuple[int, list[list[Fold]]] | dict:
    """The k-fold view's folds, (n_splits, repeats), or why it is skipped."""
    # Stratification needs at least n_splits clips in some class; small sets get fewer folds.
    n_splits = min(5, int(np.bincount(data.y_true).max()))
    if n_splits < 2:
        return {"skipped": "no class has two clips to stratify"}
    return n_splits, repeated_kfold(data, n_splits=n_splits, n_repeats=n_repeats, seed=seed)


def _kfold_repeat(unit: _Unit, folds: list[Fold], seed: int) -> dict[str, float]:

    data = unit.scored
    predicted = out_of_fold_predictions(unit.baseline, unit.examples, data.y_true, unit.data.classes,
                                        folds, seed=seed)
    m = classification_metrics(data.y_true, predicted, n_classes=len(unit.data.classes))
    return {k: float(m[k]) for k in HEADLINE}


def _kfold_summary(view: tuple | dict, done: dict, unit: int) -> dict:
    """Mean and standard deviation over the repeats of a unit's k-fold view."""
    if isinstance(view, dict):
        return view
    n_splits, folds = view
    scores = {k: [done[(unit, r)][k] for r in range(len(folds))] for k in HEADLINE}
    return {"protocol": f"stratified {n_splits}-fold x {len(folds)} repeats",
            **{k: {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0}
               for k, v in scores.items()}}


def _cannot_run(baseline: Baseline, task: str, inputs: Inputs) -> str | None:
    if baseline.tasks is not None and task not in baseline.tasks:
        return f"answers only {sorted(baseline.tasks)}"
    missing = baseline.missing_inputs(inputs.available)
    if missing:
        how = {"captions": "--captions-file", "video:motion": "--video-dir",
               "video:landmarks": "--video-dir and the 'landmarks' extra"}
        return "needs " + ", ".join(f"{m} ({how.get(m, m)})" for m in missing)
    if baseline.name == "caption_vader":
        try:
            import vaderSentiment  # noqa: F401
        except ImportError:
            return "needs the vaderSentiment package (pip install vaderSentiment)"
    return None


def _feature_gaps(baseline: Baseline, inputs: Inputs) -> set[str]:
    gaps: set[str] = set()
    for need in baseline.needs:
        if need.startswith("video:"):
            gaps |= set(inputs.feature_gaps.get(need.split(":", 1)[1], ()))
    return gaps


def _feature_cache(cache_dir: str | os.PathLike | None,
                   video_dir: str | os.PathLike | None) -> Path | None:
    """The video features' cache folder (None without videos), refused inside the videos."""
    if video_dir is None:
        return None
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    videos = Path(video_dir).expanduser().resolve()
    if cache.resolve().is_relative_to(videos):
        raise InputError(f"the feature cache {cache} is in the video folder {video_dir}, which "
                         "this only reads: choose a cache folder outside it")
    return cache


def _gather_inputs(labels, chosen, *, video_dir, captions_file, cache_dir,
                   on_missing_video, progress, workers=None) -> Inputs:
    keys = [(c.video_name, c.utterance_id) for c in labels]
    captions: dict[str, str | None] = {}
    if captions_file is not None:

        captions = dict(read_captions(captions_file, keys).texts)
    features: dict[str, dict[str, np.ndarray]] = {}
    gaps: dict[str, tuple[str, ...]] = {}
    wanted = {need.split(":", 1)[1] for b in chosen for need in b.needs if need.startswith("video:")}
    if video_dir is not None and wanted:

        index = resolve_videos(video_dir, keys)
        if index.missing and on_missing_video == "error":
            raise FileNotFoundError(index.describe_missing())
        for name in sorted(wanted):
            try:
                extractor = visual.MOTION if name == "motion" else _landmarks()
            except ImportError:
                continue  # the baseline is then skipped with the reason "needs video:landmarks"
            table = visual.extract_features(
                extractor, [(n, index.paths[n]) for n, _ in keys], cache_dir=cache_dir,
                on_missing="error" if on_missing_video == "error" else "skip",
                progress=sys.stderr.isatty() if progress is None else progress,
                workers=workers,
            )
            features[name] = dict(zip(table.video_names, table.X))
            gaps[name] = tuple(table.missing) + tuple(clip for clip, _ in table.failed)
    return Inputs(labels, captions, features, gaps)


def _landmarks():

    return landmark_extractor()


def _unstable_on_every_clip(task: str, rows: Sequence[dict], labels: Labels) -> dict:
    """evaluate's ``unstable`` verdict on all of ``task``'s clips, which the paper's rows
    were scored on: that of a row run here on every clip (a floor always is), else asked
    of evaluate (one cheap scoring of the reference itself), so that the rule stays
    evaluate's alone."""
    for r in rows:
        if r["task"] == task and "unstable" in r and not r.get("missing_videos"):
            return r["unstable"]
    data = get_task(task).bind(labels)
    answers = pd.DataFrame({"video_name": data.video_names,
                            "prediction": [data.classes[i] for i in data.y_true]})
    return evaluate(task, answers, labels_file=labels, n_boot=1, metrics=HEADLINE)["unstable"]


def _reported_rows(task: str) -> list[dict]:

    return [dict(row, reported=True) for row in reported_rows(task)]


# --- outputs -------------------------------------------------------------------------------


#: The printed table's longest system name, within TEXT_WIDTH (the full names, the
#: accuracy and the notes are in ``leaderboard.md`` and ``results.json``).
_NAME_WIDTH = 30

#: The scores the printed table shows, the paper's two; leaderboard.md shows every HEADLINE one.
_TEXT_METRICS = ("balanced_accuracy", "weighted_f1")


def format_leaderboard(results: dict, *, markdown: bool = False) -> str:
    """The leaderboard: per task, the systems, then the points of comparison apart.

    Parameters
    ----------
    results : dict
        What :func:`run_benchmark` returns (``results.json``).
    markdown : bool
        False (default): the printed form, no line wider than :data:`TEXT_WIDTH` (100)
        characters: wAcc and wF1 in percent with 95% intervals, names cut at 30
        characters, the protocol and each row's notes under the table. True: the form of
        ``leaderboard.md``, with every headline metric, full names and a note column.

    Returns
    -------
    str
        One block per task. Systems (text and visual baselines) come first; floors,
        references and the paper's reported rows follow apart as points of comparison, and
        nothing is ranked (``emosign report`` ranks the systems, with rank intervals). A
        score that averages over the classes is marked
        :data:`~emosign.metrics.UNSTABLE_MARK` where evaluate's verdict on the row's clips
        (its ``unstable``) says so, a class having fewer than
        :data:`~emosign.metrics.MIN_CLASS_CLIPS` clips, with
        :data:`~emosign.metrics.UNSTABLE_REASON` and the small classes under the table.
        Baselines that could not run are listed with the reason.
    """
    lines: list[str] = []
    for task in dict.fromkeys(r["task"] for r in results["rows"]):
        rows = [r for r in results["rows"] if r["task"] == task]
        run = [r for r in rows if "skipped" not in r]
        systems = [r for r in run if not _comparison(r)]
        apart = [r for r in run if _comparison(r)]
        skipped = [r for r in rows if "skipped" in r]
        lines += _task_block(task, systems, apart, markdown,
                             none_ran="none ran (see 'not run' below)" if skipped else "none asked for")
        small = _small_classes(run)
        if small:
            shown = ", ".join(f"{c} {n}" for c, n in small.items())
            lines += _wrapped(f"{UNSTABLE_REASON} (here: {shown} clips).", markdown)
        if skipped:
            lines += _wrapped("not run: " + "; ".join(f"{r['system']} ({r['skipped']})"
                                                      for r in skipped) + ".", markdown)
        lines.append("")
    return "\n".join(lines)


def _comparison(row: dict) -> bool:
    # Points of comparison, never ranked: floors, references and the paper's rows.
    return bool(row.get("reported")) or row.get("kind") not in SYSTEM_KINDS


def _small_classes(rows: Sequence[dict]) -> dict[str, int]:
    """The small classes evaluate named on these rows' clips, each with its fewest clips."""
    small: dict[str, int] = {}
    for r in rows:
        for name, n in ((r.get("unstable") or {}).get("classes") or {}).items():
            small[name] = min(int(n), small.get(name, int(n)))
    return small


def _cell(row: dict, metric: str) -> str:
    """A score in percent with its 95% interval, marked when evaluate's verdict says so."""
    value = row.get("metrics", {}).get(metric)
    text = format_metric(value, metric, row.get("ci", {}).get(metric))
    flagged = value is not None and metric in ((row.get("unstable") or {}).get("metrics") or ())
    return f"{text} {UNSTABLE_MARK}" if flagged else text


def _note(row: dict) -> str:
    if row.get("reported"):
        return "reported in the paper, not rerun"
    note = row.get("protocol", "")
    if row.get("missing_videos"):
        note += f"; {row['missing_videos']} clip(s) without a usable video left out"
    return note


def _task_block(task: str, systems: list[dict], apart: list[dict], markdown: bool, *,
                none_ran: str) -> list[str]:
    """A task's tables: the systems, and the points of comparison apart."""
    # Said when no system ran, so that a table of floors is not read as a ranking.
    groups = (("systems" if systems else f"systems: {none_ran}", systems),
              ("points of comparison, never ranked: floors, references, the paper's reported "
               "rows (no interval)", apart))
    if markdown:
        header = ["system", "kind", "n", *(_column(m) for m in HEADLINE), "note"]
        lines = [f"## {task}", ""]
        for i, (title, members) in enumerate(groups):
            if members or i == 0:
                lines += [f"{title[0].upper()}{title[1:]}" + (":" if members else "."), ""]
            if members:
                lines += _render(header, [[r["system"], r["kind"], str(r.get("n", "")),
                                           *(_cell(r, m) for m in HEADLINE), _note(r)]
                                          for r in members], markdown=True)
                lines.append("")
        return lines
    header = ["system", "kind", "n", *(_column(m) for m in _TEXT_METRICS)]
    table = [[_cut(r["system"]), r["kind"], str(r.get("n", "")),
              *(_cell(r, m) for m in _TEXT_METRICS)] for r in [*systems, *apart]]
    # One set of column widths for both groups, each group under its title.
    head, rule, *body = _render(header, table, markdown=False)
    lines = [f"{task}: wAcc = balanced accuracy, wF1 = weighted F1, in % with 95% intervals", "",
             head, rule]
    start = 0
    for title, members in groups:
        if members or not systems:
            lines += _wrapped(f"-- {title}", False)
        lines += body[start:start + len(members)]
        start += len(members)
    for r in [*systems, *apart]:
        if r.get("missing_videos"):
            lines += _wrapped(f"{r['system']}: {r['missing_videos']} clip(s) without a usable "
                              "video left out", False)
    protocols: dict[str, list[str]] = {}
    for r in [*systems, *apart]:
        if not r.get("reported"):
            protocols.setdefault(r.get("protocol", ""), []).append(r["system"])
    if protocols:
        lines += _wrapped("protocol: " + "; ".join(f"{p} ({', '.join(names)})"
                                                   for p, names in protocols.items()), False)
    return lines


def _column(metric: str) -> str:
    return f"{SHORT_NAMES.get(metric, metric)} %"


def _cut(name: str) -> str:
    """A name of at most ``_NAME_WIDTH`` characters: cut in the middle, so that two names that
    differ only at their end ("... (video)", "... (video+caption)") still print apart."""
    if len(name) <= _NAME_WIDTH:
        return name
    tail = (_NAME_WIDTH - 1) // 3
    return name[: _NAME_WIDTH - 1 - tail] + "…" + name[-tail:]


def _wrapped(text: str, markdown: bool) -> list[str]:
    """A note under a table: one paragraph in markdown, lines of at most TEXT_WIDTH printed."""
    if markdown:
        return [text, ""]
    return textwrap.wrap(text, TEXT_WIDTH, break_long_words=False, break_on_hyphens=False)


def _render(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
            "| " + " | ".join(r) + " |" for r in rows
        ]
    widths = [max(len(x) for x in column) for column in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [line.rstrip() for line in
            [fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows]]


def _write_outputs(out: Path, results: dict, predictions: dict[tuple[str, str], pd.DataFrame],
                   *, overwrite: bool, inputs: Sequence[str | os.PathLike]) -> None:
    with staged_directory(out, writer=WRITER, overwrite=overwrite, inputs=inputs) as staging:
        for (task, name), frame in predictions.items():
            # Task and baseline names come from registries whose names are checked, not files.
            target = staging / "predictions" / task / f"{name}.csv"
            write_atomically(target, frame.to_csv(index=False, lineterminator="\n"))
        write_atomically(staging / "results.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        write_atomically(staging / "leaderboard.md",
                         "# EmoSign leaderboard\n\n" + format_leaderboard(results, markdown=True))
