"""The scoring commands: ``evaluate``, ``compare``, ``power`` and ``report``."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from emosign import _defaults, vocab
from emosign._io import write_atomically
from emosign.cli._options import (
    add_labels_option,
    add_quiet_option,
    add_scoring_options,
    coverage,
    draws,
    examples,
    finite_number,
    number,
    progress,
    seed,
)
from emosign.cli._width import fit_text
from emosign.errors import InputError

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``emosign`` parser's subcommands."""
    evaluate = sub.add_parser(
        "evaluate", help="score a predictions file on one task",
        description="Score one predictions file (video_name and prediction columns, or "
        "score_<class> columns) on one task, with bootstrap intervals, per-class and "
        "per-signer results. Strict: unknown, duplicate, missing or unreadable predictions "
        "stop the run with every offending row listed (the first 10 on screen, every one in a "
        "new file the error names).",
        **examples(
            "emosign evaluate --task sentiment_3 --predictions my_model.csv",
            "emosign evaluate --task emotion_single --predictions my_model.jsonl "
            "--format json --output results/emotion_single.json",
            "emosign evaluate --task cue_grounding --predictions explanations.csv",
        ),
    )
    evaluate.add_argument("--task", required=True, choices=vocab.TASK_NAMES,
                          help="the task to score (required): " + ", ".join(vocab.TASK_NAMES))
    evaluate.add_argument("--predictions", required=True,
                          help="the predictions: a CSV, TSV, JSONL or JSON file (required)")
    evaluate.add_argument("--target", choices=("majority", "soft"), default=_defaults.TARGET,
                          help="majority: the released majority labels; soft: score_<class> "
                          "probabilities against a distribution per clip (default: %(default)s)")
    evaluate.add_argument("--format", choices=("json", "table"), default="table",
                          help="a table in percent, or the whole result as JSON (default: table)")
    add_scoring_options(evaluate, interval="the bootstrap intervals")
    evaluate.add_argument("--output", help="also write the JSON result to this file (never one "
                          "it reads, nor a folder; default: print only)")
    evaluate.add_argument(
        "--annotator-ratings", help="per-annotator ratings CSV, video_name,annotator,sentiment "
        "(needed for --target soft on sentiment; default: none)"
    )
    add_labels_option(evaluate)
    evaluate.set_defaults(run=_evaluate)

    compare = sub.add_parser(
        "compare", help="paired test between two systems (permutation by default)",
        description="Compare two systems' predictions on the same clips: for each headline "
        "metric, the difference A - B, the two-sided p-value for 'A and B score the same', "
        "the interval that inverts the same test (so the two agree), and Holm's adjusted p "
        "over the metrics compared.",
        **examples(
            "emosign compare --task sentiment_3 --a model_a.csv --b model_b.csv",
            "emosign compare --task sentiment_3 --a model_a.csv --b model_b.csv --cluster source",
            "emosign compare --task emotion_single --a a.csv --b b.csv --test mcnemar",
        ),
    )
    compare.add_argument("--task", required=True, nargs="+", choices=vocab.TASK_NAMES,
                         help="the task both files answer (required); several tasks are one "
                         "family for Holm's adjustment")
    compare.add_argument("--a", required=True, help="predictions of system A (required)")
    compare.add_argument("--b", required=True, help="predictions of system B (required)")
    compare.add_argument("--test", choices=("permutation", "bootstrap", "mcnemar"),
                         default=_defaults.TEST,
                         help="permutation: swap A's and B's answers on random sets of clips "
                         "(exact under H0 for every metric); bootstrap: the paired bootstrap, "
                         "within reference classes; mcnemar: McNemar's exact test, accuracy only "
                         "(default: %(default)s)")
    compare.add_argument("--cluster", choices=("clip", "source", "signer"), default=_defaults.CLUSTER,
                         help="the unit swapped or resampled whole: clip, source video (22) or "
                         "signer (4) (default: %(default)s)")
    compare.add_argument("--n-perm", type=draws, default=_defaults.N_PERM,
                         help="random swap patterns of the permutation test, 1 to 1,000,000 "
                         "(default: %(default)s)")
    compare.add_argument("--p-value", choices=("mid", "conservative"),
                         help="the p-value of the permutation or McNemar test, and the interval "
                         "inverting it: mid counts outcomes tying with the data one half (size "
                         "alpha within Monte Carlo error; McNemar's mid-p test); conservative "
                         "counts them whole (size at most alpha, below it for accuracy; "
                         "McNemar's exact test); not with --test bootstrap (default: "
                         f"{_defaults.P_VALUE} for the permutation test, "
                         f"{_defaults.MCNEMAR_P_VALUE} for McNemar)")
    compare.add_argument("--metrics", nargs="+", metavar="METRIC",
                         help="compare only these headline metrics (default: all; accuracy "
                         "for --test mcnemar)")
    compare.add_argument("--format", choices=("json", "table"), default="table",
                         help="a table in percentage points, or the whole result as JSON "
                         "(default: table)")
    add_scoring_options(compare, interval="the interval of A - B")
    add_labels_option(compare)
    compare.set_defaults(run=_compare)

    power = sub.add_parser(
        "power",
        help="which differences EmoSign can detect: minimum detectable difference and power",
        description="The smallest difference in a metric that the paired permutation test "
        "(emosign compare's default) detects with the given power, simulated on the task's real "
        "clips, under a flat and a 'misses the rarest class' recall profile; a design analysis "
        "(Type S and Type M errors) at the given differences or at that MDE; with --a/--b (or "
        "--a/--against) the real comparison and the same answers at the two systems' level and "
        "agreement. A difference no test reaches is said to be not reachable, with the best "
        "power found.",
        epilog="example: emosign power --task sentiment_3 --metric wAcc --format json",
    )
    power.add_argument("--task", required=True, choices=("sentiment_3", "sentiment_7",
                                                          "emotion_single", "emotion_multi",
                                                          "emotion_presence"),
                       help="a single-label task, or emotion_presence (multi-label)")
    power.add_argument("--metric", default=None,
                       choices=("balanced_accuracy", "wAcc", "weighted_f1", "wF1", "accuracy",
                                "macro_f1", "mae", "MAE", "micro_f1", "microF1"),
                       help=f"the metric compared (default {_defaults.POWER_METRIC}, the paper's "
                            "wAcc; micro_f1 on emotion_presence); mae on sentiment_7, micro_f1 "
                            "and macro_f1 on emotion_presence")
    power.add_argument("--power", type=coverage, default=_defaults.POWER,
                       help="the chance of detecting the difference (default %(default)s)")
    power.add_argument("--alpha", type=coverage, default=_defaults.ALPHA,
                       help="two-sided significance level (default %(default)s)")
    power.add_argument("--level", type=number(float, 0, inclusive=False, high=1_000),
                       help="the two systems' average chance of getting a clip right, the same "
                            "in every class (default 0.5); for emotion_presence their chance of "
                            "flagging a present emotion (default 0.5); for mae their average "
                            "MAE in scale steps (default 1.0)")
    power.add_argument("--agreement", type=coverage, default=_defaults.AGREEMENT,
                       help="share of clips both systems get right or both get wrong (default "
                            "%(default)s); for emotion_presence, of (clip, emotion) cells with the "
                            "emotion present; for mae the correlation of the two systems' "
                            "per-clip absolute errors")
    power.add_argument("--spread", type=number(float, 0, inclusive=False, high=1_000),
                       default=_defaults.SPREAD,
                       help="mae only: standard deviation over mean of a system's per-clip "
                            "absolute errors (default %(default)s)")
    power.add_argument("--cluster", choices=("clip", "source", "signer"), default=_defaults.CLUSTER,
                       help="the unit the simulated test swaps whole, as compare --cluster: "
                            "clips, the 22 source videos or the 4 signers (refused: its test "
                            "cannot reach --alpha); the clips of a cluster are then dependent "
                            "(--icc) (default %(default)s)")
    power.add_argument("--icc", type=number(float, 0, high=1),
                       help="with --cluster source or signer: the intra-cluster correlation of "
                            "the clips' outcomes (default: estimated from --a/--b when both are "
                            f"given, else {_defaults.POWER_ICC}; docs/power.md says how to "
                            "choose it)")
    power.add_argument("--difference", type=finite_number, nargs="+",
                       help="true differences to analyse: power, Type S and Type M errors at "
                            "each, a fraction (0.05 = 5 points; MAE in scale steps; default: "
                            "at the MDE)")
    power.add_argument("--a", help="predictions of a real system A (default: none)")
    power.add_argument("--b", help="predictions of a real system B, compared with A "
                                   "(default: none)")
    power.add_argument("--against", metavar="NUMBER_OR_ROW",
                       help="a published number (a fraction) or one of the paper's rows for "
                            "the task, e.g. 'GPT-4o (video)': a one-sample test (default: none)")
    # Bounded so that a typo cannot ask for hours or gigabytes: 100,000 resamples of 200
    # clips are 160 MB of weights.
    power.add_argument("--sims", type=number(int, 1, high=1_000_001), default=_defaults.POWER_N_SIMS,
                       help="simulated system pairs per step of the search, at most 1,000,000 "
                            "(default %(default)s)")
    power.add_argument("--n-boot", type=number(int, 1, high=100_001), default=_defaults.POWER_N_BOOT,
                       help="swap patterns (permutation test) or resamples (one-sample "
                            "bootstrap) per simulated test, at most 100,000 (default "
                            "%(default)s); --alpha below 1/(1 + N) is refused")
    power.add_argument("--seed", type=seed, default=_defaults.SEED,
                       help="random seed (default %(default)s)")
    power.add_argument("--format", choices=("json", "table"), default="table",
                       help="JSON or readable text (default table)")
    add_labels_option(power)
    add_quiet_option(power)
    power.set_defaults(run=_power)

    report = sub.add_parser(
        "report", help="one HTML page and a markdown twin from benchmark, evaluate or mllm results"
    )
    report.add_argument("results", nargs="+", metavar="RESULTS",
                        help="folders (or JSON files) written by emosign benchmark, evaluate, mllm score")
    report.add_argument("--out", help="where report.html, report.md and figures/ go "
                                      "(default: <RESULTS>/report for one folder)")
    report.add_argument("--overwrite", action="store_true",
                        help="accepted for compatibility: an earlier report in --out is always "
                             "replaced, and nothing else ever is")
    report.add_argument("--labels-file",
                        help="the label file for the clip-level analysis (default: "
                             "$EMOSIGN_LABELS; without either, that section says how to add it)")
    add_quiet_option(report)
    report.set_defaults(run=_report)


def _evaluate(args: argparse.Namespace) -> int:
    from emosign._io import check_output_file
    from emosign.harness.inspect_logs import LOG_SUFFIXES, is_inspect_log, read_inspect_log
    from emosign.hub import LABELS_ENV_VAR
    from emosign.metrics import evaluate, format_table

    labels_file = args.labels_file or os.environ.get(LABELS_ENV_VAR, "").strip()
    read = [p for p in (args.predictions, args.annotator_ratings, labels_file) if p]
    if args.output:  # refused before the bootstrap, not after
        check_output_file(args.output, inputs=read)
    predictions = args.predictions
    if Path(predictions).suffix in LOG_SUFFIXES and is_inspect_log(predictions):
        # An Inspect log of an EmoSign task: its answers, read as `mllm score` reads a run's.
        predictions = read_inspect_log(predictions).predictions(args.task)
    result = evaluate(
        args.task,
        predictions,
        labels_file=args.labels_file,
        target=args.target,
        ci=args.ci,
        n_boot=args.n_boot,
        seed=args.seed,
        on_invalid=args.on_invalid,
        annotator_ratings=args.annotator_ratings,
    )
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.output:
        write_atomically(args.output, text + "\n", inputs=[*read, result["labels"]["path"]])
    if args.format == "table":
        print(fit_text(format_table(result)))
    elif args.output:
        # The JSON is in the file; the terminal gets what was written, in one line.
        print(_summary(result, args.output))
    else:
        print(text)
    return 0


def _summary(result: dict, path: str) -> str:
    """``wrote PATH: <task>, <n> clips, <headline metric> <value> [<low>, <high>], ...``."""
    from emosign.metrics import LEADERBOARD_METRICS, SHORT_NAMES, UNSTABLE_MARK, format_metric
    from emosign.tasks import get_task

    task = result["task"]
    metrics, intervals = result["metrics"], result["ci"]["intervals"]
    unstable = (result.get("unstable") or {}).get("metrics", ())
    names = [n for n in LEADERBOARD_METRICS.get(get_task(task).kind, ()) if metrics.get(n) is not None]
    line = f"wrote {path}: {task}, {result['n']} clips" + "".join(
        f", {SHORT_NAMES.get(n, n)} {format_metric(metrics[n], n, intervals.get(n))}"
        + (f" {UNSTABLE_MARK}" if n in unstable else "") for n in names)
    if unstable and set(names) & set(unstable):
        small = ", ".join(f"{c} {k}" for c, k in result["unstable"]["classes"].items())
        fewest = result["unstable"]["min_class_clips"]
        line += f" ({UNSTABLE_MARK} unstable: averages over a class of fewer than {fewest} clips: {small})"
    return line


def _compare(args: argparse.Namespace) -> int:
    from emosign.metrics import compare, holm_across

    tasks = list(dict.fromkeys(args.task))
    try:
        results = [compare(
            task, args.a, args.b, labels_file=args.labels_file,
            ci=args.ci, n_boot=args.n_boot, seed=args.seed, on_invalid=args.on_invalid,
            test=args.test, cluster=args.cluster, n_perm=args.n_perm, metrics=args.metrics,
            p_value=args.p_value,
        ) for task in tasks]
    except InputError as error:  # the library names its parameters; say the options
        raise InputError(_compare_options(str(error))) from None
    if len(results) > 1:
        results = holm_across(results)
    if args.format == "json":
        shown = results[0] if len(results) == 1 else results
        print(json.dumps(shown, indent=2, ensure_ascii=False))
        return 0
    for i, result in enumerate(results):
        if i:
            print()
        _print_comparison(args, result)
    return 0


def _print_comparison(args: argparse.Namespace, result: dict) -> None:
    from emosign._metric_names import fixed
    from emosign.metrics import NOT_PERCENT, UNSTABLE_MARK, UNSTABLE_REASON

    lines: list[str] = []
    test = result["test"]
    level = round(args.ci * 100)
    units = {"clip": "clips", "source": "source videos", "signer": "signers"}[test["cluster"]]
    if test["method"] == "mcnemar":
        draws = "exact" if test["exact"] else "binomial"
    elif test["exact"]:
        draws = "exact"
    elif "n_perm" in test:
        draws = f"{test['n_perm']:,} swap patterns"
    else:
        draws = f"{test['n_boot']:,} resamples"
    if test.get("p_value_type") == "mid":
        draws += ", mid-p"
    grouped = "" if test["cluster"] == "clip" else f" in {test['clusters']} {units}"
    lines.append(f"{result['task']}: A = {args.a}, B = {args.b}, {result['n']} clips{grouped}")
    lines.append(f"test: {test['method']} ({draws}, seed {test['seed']}); {level}% interval of "
                 "A - B from the same test")
    flagged = set((result.get("unstable") or {}).get("metrics", ()))
    lines.append(f"{'metric':<22}{'A - B':>9}   {f'{level}% interval':<20}{'p':>9}{'p_holm':>9}")
    own_units = []
    for name, row in result["comparison"].items():
        # As `evaluate` prints them: fractions in percentage points, the rest as they are.
        scale, digits = (1, 3) if name in NOT_PERCENT else (100, 2)
        if name in NOT_PERCENT:
            own_units.append(name)

        def shown(value, scale=scale, digits=digits, unbounded="inf"):
            return unbounded if value is None else fixed(scale * value, digits)

        interval = f"[{shown(row['low'], unbounded='-inf')}, {shown(row['high'])}]"
        p, p_holm = row["p_value"], row["p_holm"]
        label = name + (f" {UNSTABLE_MARK}" if name in flagged else "")
        lines.append(f"{label:<22}{shown(row['difference'], unbounded='n/a'):>9}   {interval:<20}"
                     + ("      n/a" if p is None else f"{p:>9.4f}")
                     + ("      n/a" if p_holm is None else f"{p_holm:>9.4f}"))
    note = "differences of fractions in percentage points"
    if own_units:
        note += f"; {', '.join(own_units)} in their own units"
    lines.append(f"{note}.")
    lines.append(f"p: {test['p_value_method']}.")
    lines.append(f"interval: {test['interval_method']}.")
    lines.append(f"p_holm: {test['p_holm_method']}.")
    if any(row["low"] is None for row in result["comparison"].values()):
        lines.append(f"[-inf, inf]: no difference can be rejected at {1 - args.ci:.2g} with this "
                     f"many {units} (the smallest attainable p is above it).")
    if flagged:
        small = ", ".join(f"{c} {n}" for c, n in result["unstable"]["classes"].items())
        lines.append(f"{UNSTABLE_REASON} (here: {small}).")
    print(fit_text("\n".join(lines)))


#: compare's refusals of option combinations name the library's parameters
#: (``test='mcnemar'``, ``leave p_value unset``): the command says its options.
_COMPARE_PARAMETER = re.compile(r"\b(p_value|test|cluster)='(\w+)'")


def _compare_options(message: str) -> str:
    """A compare error's message in the command's terms."""
    message = message.replace("leave p_value unset", "leave --p-value out")
    message = message.replace("(metrics=...)", "(--metrics)")
    return _COMPARE_PARAMETER.sub(
        lambda match: f"--{match[1].replace('_', '-')} {match[2]}", message)


#: The library's parameter names in power's messages, as the command's options.
_POWER_OPTIONS = {"predictions_a": "--a", "predictions_b": "--b", "against": "--against",
                  "n_boot": "--n-boot", "n_sims": "--sims", "alpha": "--alpha",
                  "power": "--power", "difference": "--difference", "level": "--level",
                  "agreement": "--agreement", "spread": "--spread", "metric": "--metric",
                  "cluster": "--cluster", "icc": "--icc"}


def _keep_freed_memory() -> None:
    """Let glibc's malloc keep freed blocks of up to 64 MB for reuse instead of returning
    each to the kernel: the power simulation allocates and frees arrays of a few MB at every
    step, and mapping them afresh each time cost it more system CPU than the computing
    (0.5-1.8 of its seconds, ``benchmarks/bench_power.py``). Nothing elsewhere than glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or "libc.so" not in name:
        return
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    mallopt(m_mmap_threshold, 64 * 2**20)
    mallopt(m_trim_threshold, 128 * 2**20)


def _power(args: argparse.Namespace) -> int:
    from emosign.power import format_power, power_report

    _keep_freed_memory()
    mae = (args.metric or "").lower() == "mae"
    bound = 6 if mae else 1
    for difference in args.difference or ():
        if not -bound <= difference <= bound:
            what = "in [-6, 6] scale steps" if mae else "a fraction in [-1, 1] (0.05 = 5 points)"
            raise InputError(f"--difference must be {what}, not {difference}")
    try:
        result = power_report(
            args.task, metric=args.metric, power=args.power, alpha=args.alpha, level=args.level,
            agreement=args.agreement, spread=args.spread, cluster=args.cluster, icc=args.icc,
            differences=args.difference,
            predictions_a=args.a, predictions_b=args.b, against=args.against, n_sims=args.sims,
            n_boot=args.n_boot, seed=args.seed, labels_file=args.labels_file,
            progress=progress(args),
        )
    except InputError as error:  # the library names its parameters; say the options
        message = str(error)
        for name, option in _POWER_OPTIONS.items():
            message = message.replace(f"`{name}`", option)
        raise InputError(message) from None
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.format == "json"
          else fit_text(format_power(result)))
    return 0


def _report(args: argparse.Namespace) -> int:
    from emosign.report import write_report

    out = args.out
    if out is None:
        if len(args.results) == 1 and not Path(args.results[0]).exists():
            raise FileNotFoundError(f"results not found: {args.results[0]}")
        if len(args.results) != 1 or not Path(args.results[0]).is_dir():
            raise InputError("give --out when the results are several paths or a file")
        out = Path(args.results[0]) / "report"
    collected = write_report(args.results, out, overwrite=args.overwrite,
                             labels_file=args.labels_file, progress=progress(args))
    print(fit_text(f"wrote {Path(out) / 'report.html'} and {Path(out) / 'report.md'}: "
                   f"{sum(not s.reported for s in collected.systems)} result(s) from "
                   f"{len(collected.sources)} file(s)"))
    for note in collected.missing:
        print(f"missing: {note}", file=sys.stderr)
    return 0
