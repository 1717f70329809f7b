"""The ``emosign`` command. It parses arguments and calls the library; nothing lives only here."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections import Counter
from typing import Sequence

from emosign import vocab
from emosign._io import write_atomically
from emosign.harness.prompts import HARNESS_TASKS

_MEDIA_AND_IDS = ("utterance_id", "signer", "video", "caption")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (`emosign info | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("emosign: interrupted; every answer received so far is kept: run the same "
              "command again to resume", file=sys.stderr)
        return 130
    except Exception as err:
        if not isinstance(err, _user_errors()):
            raise
        # Bad input is reported as one readable message, not a traceback.
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"emosign: error: {message}", file=sys.stderr)
        return 2


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that describe bad input or a refused request: one message, no traceback."""
    from emosign.harness.client import MLLMError
    from emosign.video import VideoError

    # ImportError: an optional extra is not installed; its message names the extra.
    return (ValueError, FileNotFoundError, FileExistsError, PermissionError, KeyError,
            ImportError, MLLMError, VideoError)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emosign", description="EmoSign: sentiment and emotion in American Sign Language."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="summarise the labels: signers, sentiment, emotion sets")
    _add_labels_option(info)
    info.set_defaults(run=_info)

    export = sub.add_parser(
        "export-labels", help="print one config's labels, one row per clip, on stdout"
    )
    export.add_argument("--config", required=True, choices=vocab.CONFIG_NAMES)
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--cache-dir", help="the datasets cache root (default: HF_DATASETS_CACHE)")
    _add_labels_option(export)
    export.set_defaults(run=_export_labels)

    evaluate = sub.add_parser("evaluate", help="score a predictions file on one task")
    evaluate.add_argument("--task", required=True, choices=vocab.TASK_NAMES)
    evaluate.add_argument("--predictions", required=True, help="CSV, TSV, JSONL or JSON file")
    evaluate.add_argument("--target", choices=("majority", "soft"), default="majority")
    evaluate.add_argument("--format", choices=("json", "table"), default="table")
    evaluate.add_argument("--ci", type=float, default=0.95, help="interval coverage (default 0.95)")
    evaluate.add_argument("--n-boot", type=int, default=10_000, help="bootstrap resamples")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument(
        "--on-invalid", choices=("raise", "wrong"), default="raise",
        help="refuse missing or unreadable predictions (default), or score them as wrong",
    )
    evaluate.add_argument("--output", help="also write the JSON result to this file")
    evaluate.add_argument(
        "--annotator-ratings", help="per-annotator ratings CSV (for --target soft on sentiment)"
    )
    _add_labels_option(evaluate)
    evaluate.set_defaults(run=_evaluate)

    compare = sub.add_parser("compare", help="paired bootstrap test between two systems")
    compare.add_argument("--task", required=True, choices=vocab.TASK_NAMES)
    compare.add_argument("--a", required=True, help="predictions of system A")
    compare.add_argument("--b", required=True, help="predictions of system B")
    compare.add_argument("--ci", type=float, default=0.95)
    compare.add_argument("--n-boot", type=int, default=10_000)
    compare.add_argument("--seed", type=int, default=0)
    _add_labels_option(compare)
    compare.set_defaults(run=_compare)

    power = sub.add_parser(
        "power",
        help="which differences EmoSign can detect: minimum detectable difference and power",
        description="The smallest difference in a metric that the paired bootstrap test "
        "(emosign compare's) detects with the given power, simulated on the task's real clips; "
        "with --difference the power to detect it; with --a/--b (or --a/--against) what a real "
        "comparison found and could have found.",
        epilog="example: emosign power --task sentiment_3 --metric wAcc --format json",
    )
    power.add_argument("--task", required=True, choices=("sentiment_3", "sentiment_7",
                                                          "emotion_single", "emotion_multi"),
                       help="a single-label task")
    power.add_argument("--metric", default="balanced_accuracy",
                       choices=("balanced_accuracy", "wAcc", "weighted_f1", "wF1", "accuracy",
                                "macro_f1"),
                       help="the metric compared (default balanced_accuracy, the paper's wAcc)")
    power.add_argument("--power", type=_coverage, default=0.8,
                       help="the chance of detecting the difference (default 0.8)")
    power.add_argument("--alpha", type=_coverage, default=0.05,
                       help="two-sided significance level (default 0.05)")
    power.add_argument("--level", type=_coverage, default=0.5,
                       help="the two systems' average chance of getting a clip right, the same "
                            "in every class (default 0.5)")
    power.add_argument("--agreement", type=_coverage, default=0.7,
                       help="share of clips both systems get right or both get wrong "
                            "(default 0.7)")
    power.add_argument("--difference", type=float,
                       help="also the power to detect this difference, a fraction (0.05 = 5 "
                            "points; default: none)")
    power.add_argument("--a", help="predictions of a real system A (default: none)")
    power.add_argument("--b", help="predictions of a real system B, compared with A "
                                   "(default: none)")
    power.add_argument("--against", metavar="NUMBER_OR_ROW",
                       help="a published number (a fraction) or one of the paper's rows for "
                            "the task, e.g. 'GPT-4o (video)': a one-sample test (default: none)")
    # Bounded so that a typo cannot ask for hours or gigabytes: 100,000 resamples of 200
    # clips are 160 MB of weights.
    power.add_argument("--sims", type=_number(int, 1, high=1_000_001), default=2_000,
                       help="simulated system pairs per step of the search, at most 1,000,000 "
                            "(default 2000)")
    power.add_argument("--n-boot", type=_number(int, 1, high=100_001), default=1_000,
                       help="bootstrap resamples per simulated test, at most 100,000 (default 1000)")
    power.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    power.add_argument("--format", choices=("json", "table"), default="table",
                       help="JSON or readable text (default table)")
    _add_labels_option(power)
    _add_quiet_option(power)
    power.set_defaults(run=_power)

    bench = sub.add_parser(
        "benchmark", help="run the baselines under leave-one-signer-out CV, with the paper's rows"
    )
    bench.add_argument("--tasks", nargs="+", default=["sentiment_3", "sentiment_7", "emotion_single"],
                       choices=["sentiment_3", "sentiment_7", "emotion_single", "emotion_multi"])
    bench.add_argument("--baselines", nargs="+", help="registered baseline names (default: all)")
    bench.add_argument("--video-dir", help="a directory of ASLLRP utterance videos")
    bench.add_argument("--captions-file", help="English translations, keyed by utterance id or video name")
    bench.add_argument("--out", help="write results.json, leaderboard.md and predictions/ here")
    bench.add_argument("--feature-cache", help="where video features are cached (default: <video-dir>/.emosign-features)")
    bench.add_argument("--on-missing-video", choices=("skip", "error"), default="skip")
    bench.add_argument("--n-boot", type=int, default=10_000)
    bench.add_argument("--kfold-repeats", type=int, default=3)
    bench.add_argument("--seed", type=int, default=0)
    _add_labels_option(bench)
    bench.set_defaults(run=_benchmark)

    hub_export = sub.add_parser(
        "export-hub", help="write a Hub-ready dataset repository (parquet per config + card)"
    )
    hub_export.add_argument("out_dir")
    hub_export.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT_DIR")
    hub_export.add_argument("--push", metavar="REPO_ID", help="then upload it with huggingface_hub")
    _add_labels_option(hub_export)
    hub_export.set_defaults(run=_export_hub)

    lmms = sub.add_parser(
        "export-lmms-eval", help="write an lmms-eval task folder (use it with --include_path)"
    )
    lmms.add_argument("out_dir")
    lmms.add_argument("--video-dir", required=True, help="the ASLLRP utterance videos")
    lmms.add_argument("--with-caption", action="store_true",
                      help="also write the video+caption tasks (needs --captions-file)")
    lmms.add_argument("--captions-file", help="English translations, keyed by utterance id or video name")
    lmms.add_argument("--prompts", nargs="+", choices=HARNESS_TASKS, default=list(HARNESS_TASKS),
                      help="which harness prompts (default all)")
    lmms.add_argument("--overwrite", action="store_true", help="replace a non-empty OUT_DIR")
    _add_labels_option(lmms)
    lmms.set_defaults(run=_export_lmms_eval)

    lmms_score = sub.add_parser(
        "lmms-eval-score", help="score lmms-eval's --log_samples output, with intervals"
    )
    lmms_score.add_argument("output_dir", help="lmms-eval's --output_path")
    lmms_score.add_argument("--format", choices=("json", "table"), default="table")
    lmms_score.add_argument("--n-boot", type=int, default=10_000)
    _add_labels_option(lmms_score)
    lmms_score.set_defaults(run=_lmms_eval_score)

    report = sub.add_parser(
        "report", help="one HTML page and a markdown twin from benchmark, evaluate or mllm results"
    )
    report.add_argument("results", nargs="+", metavar="RESULTS",
                        help="folders (or JSON files) written by emosign benchmark, evaluate, mllm score")
    report.add_argument("--out", help="where report.html, report.md and figures/ go "
                                      "(default: <RESULTS>/report for one folder)")
    report.add_argument("--overwrite", action="store_true",
                        help="replace a non-empty --out that is not an earlier report")
    report.add_argument("--labels-file",
                        help="the label file for the clip-level analysis (default: "
                             "$EMOSIGN_LABELS; without either, that section says how to add it)")
    _add_quiet_option(report)
    report.set_defaults(run=_report)

    repro = sub.add_parser("repro", help="check the paper's statements the released data supports")
    _add_labels_option(repro)
    repro.set_defaults(run=_repro)

    cues = sub.add_parser("cues", help="which cues annotators name, overall and by emotion/sentiment")
    cues.add_argument("--by", choices=("all", "single_label", "sentiment_3"), default="all")
    cues.add_argument("--ceiling", action="store_true", help="also print the human ceiling")
    _add_labels_option(cues)
    cues.set_defaults(run=_cues)

    mllm = sub.add_parser("mllm", help="run a multimodal LLM on EmoSign the paper's way, and score it")
    mllm_sub = mllm.add_subparsers(dest="mllm_command", required=True)
    run = mllm_sub.add_parser("run", help="ask a model about every clip (resumable)")
    run.add_argument("--model", required=True)
    run.add_argument("--base-url", help="an OpenAI-compatible endpoint, e.g. http://localhost:11434/v1")
    run.add_argument("--api-key-env", default="OPENAI_API_KEY",
                     help="the environment variable holding the API key (never written anywhere)")
    run.add_argument("--task", required=True, choices=HARNESS_TASKS)
    run.add_argument("--video-dir", required=True)
    run.add_argument("--captions-file", help="adds the English caption (the video+caption setting)")
    run.add_argument("--fps", type=float, default=10.0)
    run.add_argument("--max-frames", type=lambda v: None if v == "none" else int(v), default=48,
                     help="frame cap per clip ('none' for the paper's uncapped protocol)")
    run.add_argument("--max-side", type=int, default=512, help="longest frame side in pixels")
    run.add_argument("--concurrency", type=int, default=4)
    run.add_argument("--timeout", type=float, default=120.0)
    run.add_argument("--limit", type=int, help="only the first N clips (a trial run)")
    run.add_argument("--out", default="emosign-mllm-runs")
    _add_labels_option(run)
    run.set_defaults(run=_mllm_run)
    score = mllm_sub.add_parser("score", help="score a run directory")
    score.add_argument("run_dir")
    score.add_argument("--format", choices=("json", "table"), default="table")
    score.add_argument("--n-boot", type=int, default=10_000)
    _add_labels_option(score)
    score.set_defaults(run=_mllm_score)
    return parser


def _add_labels_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--labels-file",
        help="a local label file (default: $EMOSIGN_LABELS, else the pinned Hub file)",
    )


def _add_quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", action="store_true",
        help="no progress bar (default: a bar on stderr when it is a terminal)",
    )


def _progress(args: argparse.Namespace) -> bool | None:
    """The library's ``progress=``: off with --quiet, else shown only on a terminal."""
    return False if getattr(args, "quiet", False) else None


# Argument types that refuse a nonsensical number at the command line, where argparse names
# the option: "--limit: must be a whole number >= 1, not -1".
def _number(kind: type, low: float, *, inclusive: bool = True, high: float | None = None):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {'a whole number' if kind is int else 'a number'}, not {text!r}"
            ) from None
        too_low = value < low if inclusive else value <= low
        if too_low or (high is not None and value >= high) or value != value or abs(value) == float("inf"):
            bound = f"{'>=' if inclusive else '>'} {low:g}" + (f" and < {high:g}" if high else "")
            raise argparse.ArgumentTypeError(
                f"must be {'a whole number' if kind is int else 'a number'} {bound}, not {text}"
            )
        return value

    parse.__name__ = "whole number" if kind is int else "number"
    return parse


_positive_int = _number(int, 1)
_non_negative_int = _number(int, 0)
_positive_float = _number(float, 0, inclusive=False)
_coverage = _number(float, 0, inclusive=False, high=1)


def _info(args: argparse.Namespace) -> int:
    from emosign.labels import load_labels

    labels = load_labels(args.labels_file)
    source = labels.source
    print(f"EmoSign labels: {len(labels)} clips from {source.origin} file {source.path}")
    print(f"sha256 {source.sha256}\n")

    signers = Counter(c.signer for c in labels)
    _table("clips per signer", [(s, signers[s]) for s in vocab.SIGNERS])
    sentiment = Counter(c.sentiment for c in labels)
    _table(
        "sentiment",
        [(f"{lv.value:+d} {lv.phrase}", sentiment[lv.value]) for lv in vocab.SENTIMENT_LEVELS],
    )
    polarity = Counter(c.sentiment_3 for c in labels)
    _table("3-class sentiment", [(n, polarity[n]) for n in vocab.SENTIMENT_3_NAMES])
    sets = Counter(c.expression_set for c in labels)
    _table("expression sets", [(s, sets[s]) for s in vocab.EXPRESSION_SETS])
    single = Counter(c.single_label for c in labels)
    _table(
        "single expression classes",
        [(f"{c.code:6} {c.name}", single[c.name]) for c in vocab.EXPRESSION_CLASSES],
    )
    multi = Counter(c.multi_label for c in labels if c.multi_label)
    _table("multi expression classes", [(n, multi[n]) for n in labels.multi_expression_classes])
    present = [sum(c.present[i] for c in labels) for i in range(len(vocab.EMOTIONS))]
    _table("emotion present (intensity >= 1)", [(e.paper_name, n) for e, n in zip(vocab.EMOTIONS, present)])
    return 0


def _table(title: str, rows: list[tuple[str, int]]) -> None:
    width = max(len(label) for label, _ in rows)
    print(title)
    for label, count in rows:
        print(f"  {label:<{width}}  {count:>4}")
    print()


def _export_labels(args: argparse.Namespace) -> int:
    from emosign.loader import load_emosign, to_frame

    dataset = load_emosign(args.config, labels_file=args.labels_file, cache_dir=args.cache_dir)
    frame = to_frame(dataset["test"]).drop(columns=list(_MEDIA_AND_IDS), errors="ignore")
    if args.format == "jsonl":
        for record in frame.to_dict("records"):
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        # Lists (cues, dominant emotions) become JSON text in a CSV cell.
        lists = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, list)).any()]
        for column in lists:
            frame[column] = frame[column].map(lambda v: json.dumps(v, ensure_ascii=False))
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from emosign.metrics import evaluate, format_table

    result = evaluate(
        args.task,
        args.predictions,
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
        write_atomically(args.output, text + "\n")
    print(text if args.format == "json" else format_table(result))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from emosign.metrics import compare

    result = compare(
        args.task, args.a, args.b, labels_file=args.labels_file,
        ci=args.ci, n_boot=args.n_boot, seed=args.seed,
    )
    print(f"{args.task}: A = {args.a}, B = {args.b}, {result['n']} clips, "
          f"{round(args.ci * 100)}% paired bootstrap interval of A - B")
    print(f"{'metric':<20}{'A - B':>10}{'low':>10}{'high':>10}{'p':>10}")
    for name, row in result["comparison"].items():
        cells = "".join("       n/a" if row[k] is None else f"{row[k]:>10.4f}"
                        for k in ("difference", "low", "high", "p_value"))
        print(f"{name:<20}{cells}")
    return 0


def _power(args: argparse.Namespace) -> int:
    from emosign.power import format_power, power_report

    if args.difference is not None and not -1 <= args.difference <= 1:
        raise ValueError(f"--difference must be a fraction in [-1, 1] (0.05 = 5 points), not {args.difference}")
    result = power_report(
        args.task, metric=args.metric, power=args.power, alpha=args.alpha, level=args.level,
        agreement=args.agreement, difference=args.difference, predictions_a=args.a,
        predictions_b=args.b, against=args.against, n_sims=args.sims, n_boot=args.n_boot,
        seed=args.seed, labels_file=args.labels_file, progress=_progress(args),
    )
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.format == "json"
          else format_power(result))
    return 0


def _benchmark(args: argparse.Namespace) -> int:
    from emosign.baselines.benchmark import format_leaderboard, run_benchmark

    results = run_benchmark(
        tasks=args.tasks, baselines=args.baselines, labels_file=args.labels_file,
        video_dir=args.video_dir, captions_file=args.captions_file, out_dir=args.out,
        feature_cache_dir=args.feature_cache, on_missing_video=args.on_missing_video,
        n_boot=args.n_boot, kfold_repeats=args.kfold_repeats, seed=args.seed,
    )
    print(format_leaderboard(results))
    if args.out:
        print(f"results, leaderboard and per-clip predictions written to {args.out}")
    return 0


def _export_hub(args: argparse.Namespace) -> int:
    from emosign.export import export_hub, push_to_hub

    out = export_hub(args.out_dir, labels_file=args.labels_file, overwrite=args.overwrite)
    print(f"wrote {out}: README.md and data/<config>/test.parquet for each config")
    if args.push:
        print(push_to_hub(out, args.push))
    return 0


def _report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from emosign.report import write_report

    out = args.out
    if out is None:
        if len(args.results) == 1 and not Path(args.results[0]).exists():
            raise FileNotFoundError(f"results not found: {args.results[0]}")
        if len(args.results) != 1 or not Path(args.results[0]).is_dir():
            raise ValueError("give --out when the results are several paths or a file")
        out = Path(args.results[0]) / "report"
    collected = write_report(args.results, out, overwrite=args.overwrite,
                             labels_file=args.labels_file, progress=_progress(args))
    print(f"wrote {Path(out) / 'report.html'} and {Path(out) / 'report.md'}: "
          f"{sum(not s.reported for s in collected.systems)} result(s) from "
          f"{len(collected.sources)} file(s)")
    for note in collected.missing:
        print(f"missing: {note}", file=sys.stderr)
    return 0


def _export_lmms_eval(args: argparse.Namespace) -> int:
    from emosign.harness.lmms_eval_task import TAG, export_lmms_eval

    out = export_lmms_eval(
        args.out_dir, video_dir=args.video_dir, with_caption=args.with_caption,
        captions_file=args.captions_file, labels_file=args.labels_file,
        prompt_tasks=args.prompts, overwrite=args.overwrite,
    )
    tasks = sorted(p.stem for p in out.glob("*.yaml"))
    print(f"wrote {out}: tasks {', '.join(tasks)} (tag {TAG})")
    print(f"run: python -m lmms_eval --model <model> --include_path {shlex.quote(str(out.resolve()))} "
          f"--tasks {TAG}")
    return 0


def _lmms_eval_score(args: argparse.Namespace) -> int:
    from emosign.harness.lmms_eval_scores import RESULTS_FILE, score_samples
    from emosign.harness.runner import format_scores

    results = score_samples(args.output_dir, labels_file=args.labels_file, n_boot=args.n_boot)
    print(json.dumps(results, indent=2, ensure_ascii=False) if args.format == "json" else format_scores(results))
    print(f"written to {os.path.join(args.output_dir, RESULTS_FILE)}; "
          f"`emosign report {shlex.quote(args.output_dir)}` shows it with intervals", file=sys.stderr)
    return 0


def _repro(args: argparse.Namespace) -> int:
    from emosign.repro import format_repro, run_repro

    report = run_repro(labels_file=args.labels_file)
    print(format_repro(report))
    return 0 if report.ok else 1


def _cues(args: argparse.Namespace) -> int:
    from emosign.cues import cue_report, human_ceiling
    from emosign.labels import load_labels

    labels = load_labels(args.labels_file)
    report = cue_report(labels.clips)
    table = report[report["grouping"] == args.by].pivot(
        index="category", columns="group", values="description_rate"
    )
    print(f"share of the {3 * len(labels)} cue descriptions naming each category, by {args.by}")
    print((100 * table).round(1).to_string())
    if args.ceiling:
        ceiling = human_ceiling(labels.clips)
        print("\nhuman ceiling (each annotator against the other two; chance = other clips)")
        for key in ("cue_precision", "cue_recall", "cue_f1", "cue_f1_strict", "rouge_l"):
            chance = ceiling["chance"].get(key)
            tail = "" if chance is None else f"   chance {chance:.3f}"
            print(f"  {key:<16}{ceiling['mean'][key]:.3f}{tail}")
    return 0


def _mllm_run(args: argparse.Namespace) -> int:
    from emosign.harness.runner import run_mllm

    summary = run_mllm(
        model=args.model, task=args.task, video_dir=args.video_dir, out=args.out,
        base_url=args.base_url, api_key_env=args.api_key_env, captions_file=args.captions_file,
        labels_file=args.labels_file, fps=args.fps, max_frames=args.max_frames,
        max_side=args.max_side, timeout=args.timeout, concurrency=args.concurrency,
        limit=args.limit, progress=True,
    )
    print(summary)
    return 0


def _mllm_score(args: argparse.Namespace) -> int:
    from emosign.harness.runner import format_scores, score_run

    results = score_run(args.run_dir, labels_file=args.labels_file, n_boot=args.n_boot)
    print(json.dumps(results, indent=2, ensure_ascii=False) if args.format == "json" else format_scores(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
