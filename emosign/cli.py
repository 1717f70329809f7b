"""The ``emosign`` command. It parses arguments and calls the library; nothing lives only here."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
import traceback
from collections import Counter
from collections.abc import Sequence

from emosign import vocab
from emosign._io import write_atomically
from emosign.errors import EmosignError, InputError
from emosign.harness.config import (
    EXTRACTION_CLIENT,
    MAX_FPS,
    MAX_TIMEOUT,
    ClientConfig,
    FrameConfig,
)
from emosign.harness.prompts import (
    DEFAULT_PROTOCOL,
    EMOSIGN_MAX_FRAMES,
    HARNESS_TASKS,
    PROTOCOL_NAMES,
    get_protocol,
)

__all__ = [
    "main",
]

# export-labels leaves out the media (paths on this machine) everywhere, and the ids derived from
# the video name in the narrow configs (video_name,label); `clips`, every label, keeps them.
_MEDIA = ("video", "caption")
_IDS = ("utterance_id", "signer")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "needs_labels", False) and args.labels_file is None:
            # Find the labels before the command imports pandas or datasets: without any, the
            # error comes at once. Later lookups read the same file (or the Hub cache) again.
            from emosign.hub import resolve_label_source

            resolve_label_source()
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (`emosign info | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        if getattr(args, "command", None) == "mllm":
            print("emosign: interrupted; every answer received so far is kept: run the same "
                  "command again to resume", file=sys.stderr)
        else:
            print("emosign: interrupted; no output is left half-written", file=sys.stderr)
        return 130
    except (EmosignError, OSError) as err:
        # Bad input, a refused request, a missing extra or a failing disk (a missing file, a
        # full disk, a permission) is one readable message, not a traceback.
        print(f"emosign: error: {_message(err)}", file=sys.stderr)
        return 2
    except Exception:
        # Anything else is a bug in emosign: its traceback is what a fix needs.
        traceback.print_exc()
        print("emosign: internal error: this is a bug in emosign, not a problem with your "
              "input; please report it with the command you ran and the traceback above",
              file=sys.stderr)
        return 1


def _message(err: EmosignError | OSError) -> str:
    """One line (or one block) naming the culprit, in the command line's words."""
    from emosign.predictions import ON_INVALID_HINT

    if isinstance(err, EmosignError):
        message = err.for_command_line()
    elif err.filename is not None and err.strerror:
        # "[Errno 28] No space left on device: 'out'" -> "out: No space left on device"
        names = " -> ".join(str(n) for n in (err.filename, err.filename2) if n is not None)
        message = f"{names}: {err.strerror}"
    else:
        message = str(err) or type(err).__name__
    # The library speaks in parameters; the command line has options.
    return message.replace(ON_INVALID_HINT, "pass --on-invalid wrong")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emosign", description="EmoSign: sentiment and emotion in American Sign Language."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser(
        "info", help="summarise the labels: signers, sentiment, emotion sets",
        description="Print the label file's source and sha256, and counts of clips per signer, "
        "sentiment, expression set, class and emotion.",
        **_examples("emosign info", "emosign info --labels-file emosign_dataset.csv"),
    )
    _add_labels_option(info)
    info.set_defaults(run=_info)

    export = sub.add_parser(
        "export-labels", help="print one config's labels, one row per clip, on stdout",
        description="Print one config of load_emosign as a table on stdout: the narrow configs "
        "as video_name and their labels, `clips` with every label and the clip's signer and "
        "utterance id (never the video paths).",
        **_examples("emosign export-labels --config single_expression > single.csv",
                    "emosign export-labels --config clips --format jsonl > clips.jsonl"),
    )
    export.add_argument("--config", required=True, choices=vocab.CONFIG_NAMES,
                        help="which view of the labels (required): " + ", ".join(vocab.CONFIG_NAMES))
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                        help="csv (lists as JSON text in a cell) or jsonl, one object per clip "
                        "(default: csv)")
    export.add_argument("--cache-dir", help="the datasets cache root (default: HF_DATASETS_CACHE)")
    _add_labels_option(export)
    export.set_defaults(run=_export_labels)

    evaluate = sub.add_parser(
        "evaluate", help="score a predictions file on one task",
        description="Score one predictions file (video_name and prediction columns, or "
        "score_<class> columns) on one task, with bootstrap intervals, per-class and "
        "per-signer results. Strict: unknown, duplicate, missing or unreadable predictions "
        "stop the run with every offending row listed.",
        **_examples(
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
    evaluate.add_argument("--target", choices=("majority", "soft"), default="majority",
                          help="majority: the released majority labels; soft: score_<class> "
                          "probabilities against a distribution per clip (default: majority)")
    evaluate.add_argument("--format", choices=("json", "table"), default="table",
                          help="a table in percent, or the whole result as JSON (default: table)")
    _add_scoring_options(evaluate, interval="the bootstrap intervals")
    evaluate.add_argument("--output", help="also write the JSON result to this file (never one "
                          "it reads, nor a folder; default: print only)")
    evaluate.add_argument(
        "--annotator-ratings", help="per-annotator ratings CSV, video_name,annotator,sentiment "
        "(needed for --target soft on sentiment; default: none)"
    )
    _add_labels_option(evaluate)
    evaluate.set_defaults(run=_evaluate)

    compare = sub.add_parser(
        "compare", help="paired bootstrap test between two systems",
        description="Compare two systems' predictions on the same clips: for each headline "
        "metric, the difference A - B, its paired bootstrap interval and the two-sided p-value "
        "for 'A and B score the same'.",
        **_examples("emosign compare --task sentiment_3 --a model_a.csv --b model_b.csv"),
    )
    compare.add_argument("--task", required=True, choices=vocab.TASK_NAMES,
                         help="the task both files answer (required)")
    compare.add_argument("--a", required=True, help="predictions of system A (required)")
    compare.add_argument("--b", required=True, help="predictions of system B (required)")
    _add_scoring_options(compare, interval="the paired interval of A - B")
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
                                                          "emotion_single", "emotion_multi",
                                                          "emotion_presence"),
                       help="a single-label task, or emotion_presence (multi-label)")
    power.add_argument("--metric", default="balanced_accuracy",
                       choices=("balanced_accuracy", "wAcc", "weighted_f1", "wF1", "accuracy",
                                "macro_f1", "mae", "MAE", "micro_f1", "microF1"),
                       help="the metric compared (default balanced_accuracy, the paper's wAcc); "
                            "mae on sentiment_7, micro_f1 and macro_f1 on emotion_presence")
    power.add_argument("--power", type=_coverage, default=0.8,
                       help="the chance of detecting the difference (default 0.8)")
    power.add_argument("--alpha", type=_coverage, default=0.05,
                       help="two-sided significance level (default 0.05)")
    power.add_argument("--level", type=_number(float, 0, inclusive=False, high=1_000),
                       help="the two systems' average chance of getting a clip right, the same "
                            "in every class (default 0.5); for emotion_presence their chance of "
                            "flagging a present emotion (default 0.5); for mae their average "
                            "MAE in scale steps (default 1.0)")
    power.add_argument("--agreement", type=_coverage, default=0.7,
                       help="share of clips both systems get right or both get wrong (default "
                            "0.7); for emotion_presence, of (clip, emotion) cells with the "
                            "emotion present; for mae the correlation of the two systems' "
                            "per-clip absolute errors")
    power.add_argument("--spread", type=_number(float, 0, inclusive=False, high=1_000), default=0.8,
                       help="mae only: standard deviation over mean of a system's per-clip "
                            "absolute errors (default 0.8)")
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
        "benchmark", help="run the baselines under leave-one-signer-out CV, with the paper's rows",
        description="Run every baseline the inputs allow (floors and the cue-text reference on "
        "the labels alone; caption and visual baselines with --captions-file and --video-dir) "
        "on out-of-fold predictions, and print the leaderboard beside the paper's reported rows.",
        **_examples(
            "emosign benchmark --out results/",
            "emosign benchmark --tasks sentiment_3 --baselines majority cue_text_tfidf --n-boot 1000",
            "emosign benchmark --video-dir videos/ --captions-file captions.csv --out results/",
            "emosign benchmark --baseline-module mybaseline --baselines my_majority",
        ),
    )
    bench.add_argument("--tasks", nargs="+", default=["sentiment_3", "sentiment_7", "emotion_single"],
                       choices=["sentiment_3", "sentiment_7", "emotion_single", "emotion_multi"],
                       help="the tasks to run (default: sentiment_3 sentiment_7 emotion_single)")
    bench.add_argument("--baselines", nargs="+", help="registered baseline names (default: all)")
    bench.add_argument("--baseline-module", action="append", default=[], metavar="MODULE",
                       help="import this Python module first (e.g. mypkg.mybaseline), so that the "
                       "baselines it registers can run; searched in the current directory, then "
                       "the installed packages; may be repeated (default: none)")
    bench.add_argument("--video-dir", help="a directory of ASLLRP utterance videos, for the visual "
                       "baselines (default: none, visual baselines are listed as not run)")
    bench.add_argument("--captions-file", help="English translations, keyed by utterance id or "
                       "video name, for the caption baselines (default: none)")
    bench.add_argument("--out", help="write results.json, leaderboard.md and predictions/ here: "
                       "a new or empty folder, or an earlier one with --overwrite (default: "
                       "print the leaderboard only)")
    bench.add_argument("--overwrite", action="store_true",
                       help="replace an earlier benchmark output in --out, never anything else "
                       "(default: refuse a non-empty --out)")
    bench.add_argument("--feature-cache", help="where video features are cached (default: <video-dir>/.emosign-features)")
    bench.add_argument("--on-missing-video", choices=("skip", "error"), default="skip",
                       help="a clip without a usable video: leave it out of the visual baselines "
                       "and count it (skip), or stop (error) (default: skip)")
    bench.add_argument("--n-boot", type=_positive_int, default=10_000,
                       help="bootstrap resamples for the intervals (default: 10000)")
    bench.add_argument("--kfold-repeats", type=_non_negative_int, default=3,
                       help="repeats of the stratified 5-fold view, about a third of the run's "
                       "time; 0 leaves it out (default: 3)")
    bench.add_argument("--seed", type=int, default=0,
                       help="seed of the folds, the random floors and the bootstrap (default: 0)")
    bench.add_argument(
        "--workers", type=_positive_int, default=None,
        help="processes fitting and scoring baselines, and extracting video features, in "
        "parallel, one BLAS thread each; the numbers do not depend on it (default: the cores "
        "this process may use, a container's CPU quota included)",
    )
    _add_labels_option(bench)
    _add_quiet_option(bench)
    bench.set_defaults(run=_benchmark)

    hub_export = sub.add_parser(
        "export-hub", help="write a Hub-ready dataset repository (parquet per config + card)",
        description="Write a dataset repository that datasets.load_dataset reads without this "
        "package: one parquet file per config and a README with the configs and the dataset "
        "card. No video is ever written.",
        **_examples("emosign export-hub hub-folder/",
                    "emosign export-hub hub-folder/ --push your-name/emosign"),
    )
    hub_export.add_argument("out_dir", help="the folder to write (new or empty, or an earlier "
                            "export-hub output with --overwrite)")
    hub_export.add_argument("--overwrite", action="store_true",
                            help="replace an earlier export-hub output in OUT_DIR, never anything "
                            "else (default: refuse a non-empty OUT_DIR)")
    hub_export.add_argument("--push", metavar="REPO_ID", help="then upload it to this Hub dataset "
                            "repository with huggingface_hub (default: no upload)")
    _add_labels_option(hub_export)
    hub_export.set_defaults(run=_export_hub)

    lmms = sub.add_parser(
        "export-lmms-eval", help="write an lmms-eval task folder (use it with --include_path)",
        description="Write an lmms-eval task folder: one task per harness prompt (tag emosign), "
        "local JSON Lines data pointing at your videos, and a utils.py that scores answers with "
        "emosign.metrics.evaluate.",
        **_examples(
            "emosign export-lmms-eval emosign-lmms/ --video-dir videos/",
            "emosign export-lmms-eval emosign-lmms/ --video-dir videos/ --with-caption "
            "--captions-file captions.csv --overwrite",
            "emosign export-lmms-eval emosign-lmms/ --video-dir videos/ --protocol paper "
            "--overwrite",
        ),
    )
    lmms.add_argument("out_dir", help="the task folder to write (must be new or empty)")
    lmms.add_argument("--video-dir", required=True, help="the ASLLRP utterance videos (required)")
    lmms.add_argument("--with-caption", action="store_true",
                      help="also write the video+caption tasks (needs --captions-file; default: off)")
    lmms.add_argument("--captions-file", help="English translations, keyed by utterance id or "
                      "video name (default: none)")
    lmms.add_argument("--prompts", nargs="+", choices=HARNESS_TASKS, default=list(HARNESS_TASKS),
                      help=f"which harness prompts (default: all, {' '.join(HARNESS_TASKS)})")
    lmms.add_argument("--protocol", choices=PROTOCOL_NAMES, default=DEFAULT_PROTOCOL,
                      help="whose prompts the tasks ask: 'emosign' (this project's prompts) or "
                           "'paper' (the paper's label sets and answer formats); the frame "
                           "sampling stays the lmms-eval model's own setting; default "
                           "%(default)s")
    lmms.add_argument("--overwrite", action="store_true",
                      help="replace an earlier export-lmms-eval output in OUT_DIR, never anything "
                      "else (default: refuse a non-empty OUT_DIR)")
    _add_labels_option(lmms)
    lmms.set_defaults(run=_export_lmms_eval)

    lmms_score = sub.add_parser(
        "lmms-eval-score", help="score lmms-eval's --log_samples output, with intervals",
        description=_wrapped(
            "Score the samples files lmms-eval wrote for the EmoSign task folder (`emosign "
            "export-lmms-eval`) with intervals, per-class and per-signer results; writes "
            "OUTPUT_DIR/emosign_results.json, which `emosign report` shows."),
        epilog="example:\n  emosign export-lmms-eval emosign-lmms/ --video-dir videos/\n"
               "  python -m lmms_eval --model qwen2_5_vl --include_path emosign-lmms/ \\\n"
               "      --tasks emosign --log_samples --output_path results/\n"
               "  emosign lmms-eval-score results/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lmms_score.add_argument(
        "output_dir", metavar="OUTPUT_DIR", help="lmms-eval's --output_path: every *_samples_emosign_<prompt>.jsonl "
                           "under it is scored")
    lmms_score.add_argument("--format", choices=("json", "table"), default="table",
                            help="a table (default) or the full results as JSON")
    lmms_score.add_argument("--n-boot", type=_positive_int, default=10_000,
                            help="bootstrap resamples for the intervals (default 10000)")
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
                        help="accepted for compatibility: an earlier report in --out is always "
                             "replaced, and nothing else ever is")
    report.add_argument("--labels-file",
                        help="the label file for the clip-level analysis (default: "
                             "$EMOSIGN_LABELS; without either, that section says how to add it)")
    _add_quiet_option(report)
    report.set_defaults(run=_report)

    repro = sub.add_parser(
        "repro", help="check the paper's statements the released data supports",
        description="Check every statement of the paper that the released labels can decide and "
        "print statement, paper value, computed value and verdict. Exit status 1 if a statement "
        "that should reproduce does not.",
        **_examples("emosign repro", "emosign repro --labels-file emosign_dataset.csv"),
    )
    _add_labels_option(repro)
    repro.set_defaults(run=_repro)

    cues = sub.add_parser(
        "cues", help="which cues annotators name, overall and by emotion/sentiment",
        description="Print the share of the annotators' cue descriptions that name each cue "
        "category (eyebrows, mouth, sign speed, ...), over all clips or per group.",
        **_examples("emosign cues", "emosign cues --by single_label --ceiling"),
    )
    cues.add_argument("--by", choices=("all", "single_label", "sentiment_3"), default="all",
                      help="one column for all clips, or one per single-expression class (the "
                      "140 single-expression clips) or per 3-class sentiment (default: all)")
    cues.add_argument("--ceiling", action="store_true",
                      help="also print the human ceiling and chance level of cue grounding "
                      "(default: off)")
    _add_labels_option(cues)
    cues.set_defaults(run=_cues)

    mllm = sub.add_parser("mllm", help="run a multimodal LLM on EmoSign the paper's way, and score it")
    mllm_sub = mllm.add_subparsers(dest="mllm_command", required=True)
    run = mllm_sub.add_parser(
        "run", help="ask a model about every clip (resumable)",
        description=_wrapped(
            "Ask a multimodal model about every clip of a harness task through an "
            "OpenAI-compatible server, keeping every answer in OUT as it arrives. Run the "
            "same command again to resume: only clips without an answer are asked. One run "
            "at a time per model, task and input in OUT (a second is refused). The API key "
            "is read from the environment only."),
        epilog="example:\n  emosign mllm run --model qwen2.5vl:7b --base-url "
               "http://localhost:11434/v1 \\\n      --task joint --video-dir videos/ --out runs/\n"
               "  emosign mllm score runs/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--model", required=True,
                     help="the model name the server knows; also names its folder in OUT")
    run.add_argument("--base-url",
                     help="an OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 "
                          "(default: api.openai.com)")
    run.add_argument("--api-key-env", default=ClientConfig.api_key_env,
                     help="the environment variable holding the API key, never written "
                          "anywhere (default %(default)s; unset: a local server is sent "
                          "a placeholder)")
    run.add_argument("--task", required=True, choices=HARNESS_TASKS,
                     help="the prompt: joint (JSON of sentiment, emotions and cues), "
                          "sentiment or emotion")
    run.add_argument("--video-dir", required=True,
                     help="the clip videos (<utterance_id>/crop_original_video.mp4, "
                          "<utterance_id>.mp4 or <video_name>.mp4)")
    run.add_argument("--captions-file",
                     help="adds the English caption (the video+caption setting; default: "
                          "video only)")
    run.add_argument("--protocol", choices=PROTOCOL_NAMES, default=DEFAULT_PROTOCOL,
                     help="the preset of prompts and sampling: 'emosign' (this project's "
                          f"prompts, at most {EMOSIGN_MAX_FRAMES} frames) or 'paper' (the "
                          "paper's label sets and answer formats, no frame cap); default "
                          "%(default)s")
    run.add_argument("--prompt-file", metavar="FILE",
                     help="a TOML or YAML file (keys task, video, video_caption) whose wording "
                          "replaces the protocol's prompt; its sha256 is recorded in the run "
                          "(default: the protocol's prompt)")
    run.add_argument("--extract-with", metavar="TEXT_MODEL",
                     help="afterwards, send the answers the rule reader cannot read to this "
                          "text model for their label, as `mllm extract` does (default: no "
                          "extraction)")
    run.add_argument("--extract-base-url",
                     help="the OpenAI-compatible endpoint of --extract-with (default: --base-url)")
    run.add_argument("--fps", type=_frame_rate, default=FrameConfig.fps,
                     help=f"frames per second sampled from each clip, below {MAX_FPS:g} "
                          f"(default: the protocol's, {get_protocol(DEFAULT_PROTOCOL).fps:g})")
    run.add_argument("--max-frames", type=_frame_cap, default=FrameConfig.max_frames,
                     help="frame cap per clip, longer clips thinned evenly, or 'none' "
                          f"(default: the protocol's: {EMOSIGN_MAX_FRAMES} for emosign, none for "
                          "paper)")
    run.add_argument("--max-side", type=_positive_int, default=FrameConfig.max_side,
                     help="longest frame side in pixels, larger frames shrunk "
                          "(default %(default)s)")
    run.add_argument("--concurrency", type=_positive_int, default=ClientConfig.concurrency,
                     help="requests in flight at once (default %(default)s)")
    run.add_argument("--timeout", type=_request_timeout, default=ClientConfig.timeout,
                     help=f"seconds to wait for one answer before retrying, below {MAX_TIMEOUT:g} "
                          "(default %(default)g)")
    run.add_argument("--limit", type=_positive_int,
                     help="only the first N clips, for a trial run (default: all)")
    run.add_argument("--out", type=_run_folder, default="emosign-mllm-runs",
                     help="the run folder: one folder per model, answers, run records "
                          "(default emosign-mllm-runs)")
    _add_labels_option(run)
    _add_quiet_option(run)
    run.set_defaults(run=_mllm_run_then_extract)
    score = mllm_sub.add_parser(
        "score", help="score a run directory",
        description=_wrapped(
            "Read every run in RUN_DIR, write one predictions file per scored task beside "
            "each run, score them (unanswered and unreadable answers count as wrong) and "
            "write RUN_DIR/results.json."),
        epilog="example:\n  emosign mllm score runs/\n  emosign mllm score runs/ "
               "--format json > scores.json\n  emosign report runs/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    score.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of `emosign mllm run`")
    score.add_argument("--format", choices=("json", "table"), default="table",
                       help="a table (default) or the full results as JSON")
    score.add_argument("--n-boot", type=_positive_int, default=10_000,
                       help="bootstrap resamples for the intervals (default 10000)")
    _add_labels_option(score)
    score.set_defaults(run=_mllm_score)
    extract = mllm_sub.add_parser(
        "extract", help="send answers the rule reader cannot read to a text model for their "
                        "label (resumable); `score` then scores both ways",
        description=_wrapped(
            "The paper's answer extraction: send the answers of every run in RUN_DIR that the "
            "rule reader cannot read (or all, with --all) to a text model through an "
            "OpenAI-compatible server, asking for just the label, and keep every reply beside "
            "the run as it arrives. Run the same command again to resume: only answers "
            "without a reply are sent. Refused while `mllm run` or another extraction writes "
            "one of the runs. The API key is read from the environment only. Exit status 2 "
            "when nothing could be extracted (a dead server stops it early)."),
        epilog="example:\n  emosign mllm extract runs/ --model Qwen/Qwen3-8B --base-url "
               "http://localhost:8001/v1\n  emosign mllm score runs/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    extract.add_argument("run_dir", metavar="RUN_DIR",
                         help="the --out folder of `emosign mllm run`; every run in it is "
                              "extracted")
    extract.add_argument("--model", required=True,
                         help="the text model's name the server knows; part of every reply's "
                              "cache key (required)")
    extract.add_argument("--base-url",
                         help="its OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 "
                              "(default: api.openai.com)")
    extract.add_argument("--api-key-env", default=EXTRACTION_CLIENT.api_key_env,
                         help="the environment variable holding the API key, never written "
                              "anywhere (default %(default)s; unset: a local server is sent a "
                              "placeholder)")
    extract.add_argument("--all", action="store_true", dest="all_answers",
                         help="send every answer, not only those the rule reader cannot read "
                              "(default: only those)")
    extract.add_argument("--concurrency", type=_positive_int, default=EXTRACTION_CLIENT.concurrency,
                         help="requests in flight at once (default %(default)s)")
    extract.add_argument("--timeout", type=_request_timeout, default=EXTRACTION_CLIENT.timeout,
                         help=f"seconds to wait for one reply before retrying, below {MAX_TIMEOUT:g} "
                              "(default %(default)g)")
    extract.add_argument("--max-tokens", type=_positive_int, default=EXTRACTION_CLIENT.max_tokens,
                         help="the longest reply, in tokens: a label, or the joint answer's "
                              "eleven ratings as JSON (default %(default)s)")
    _add_quiet_option(extract)
    extract.set_defaults(run=_mllm_extract)
    return parser


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with the examples epilog kept line by line as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def _examples(*commands: str) -> dict:
    """``add_parser`` keywords that end a command's --help with examples."""
    return {
        "epilog": "examples:\n" + "\n".join(f"  {command}" for command in commands),
        "formatter_class": _HelpFormatter,
    }


def _add_labels_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--labels-file",
        help="a local label file (default: $EMOSIGN_LABELS, else the pinned Hub file)",
    )
    parser.set_defaults(needs_labels=True)


def _add_scoring_options(parser: argparse.ArgumentParser, *, interval: str) -> None:
    """The bootstrap and invalid-answer options that evaluate and compare share."""
    parser.add_argument("--ci", type=_coverage, default=0.95,
                        help=f"coverage of {interval}, in (0, 1) (default: 0.95)")
    parser.add_argument("--n-boot", type=_positive_int, default=10_000,
                        help="bootstrap resamples of the clips (default: 10000)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the bootstrap resamples (default: 0)")
    parser.add_argument(
        "--on-invalid", choices=("raise", "wrong"), default="raise",
        help="refuse missing or unreadable predictions (default), or score them as wrong",
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


def _wrapped(text: str) -> str:
    """A description paragraph for a parser whose epilog keeps its line breaks."""
    import textwrap

    return textwrap.fill(text, width=88)


def _frame_rate(text: str) -> float:
    """``--fps`` of mllm run: > 0 and below the harness's bound."""
    return _number(float, 0, inclusive=False, high=MAX_FPS)(text)


def _request_timeout(text: str) -> float:
    """``--timeout`` of mllm run: > 0 and below the harness's bound."""
    return _number(float, 0, inclusive=False, high=MAX_TIMEOUT)(text)


def _frame_cap(text: str) -> int | None:
    """``--max-frames``: a whole number >= 1, or "none" for no cap."""
    return None if text.strip().lower() == "none" else _positive_int(text)


def _run_folder(text: str) -> str:
    """``--out`` of mllm run: a folder, new or not, never an existing file."""
    if os.path.lexists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    return text


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
    dropped = _MEDIA if args.config == "clips" else _MEDIA + _IDS
    frame = to_frame(dataset["test"]).drop(columns=list(dropped), errors="ignore")
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
    from emosign._io import check_output_file
    from emosign.hub import LABELS_ENV_VAR
    from emosign.metrics import evaluate, format_table

    labels_file = args.labels_file or os.environ.get(LABELS_ENV_VAR, "").strip()
    read = [p for p in (args.predictions, args.annotator_ratings, labels_file) if p]
    if args.output:  # refused before the bootstrap, not after
        check_output_file(args.output, inputs=read)
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
        write_atomically(args.output, text + "\n", inputs=[*read, result["labels"]["path"]])
    print(text if args.format == "json" else format_table(result))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from emosign.metrics import NOT_PERCENT, compare

    result = compare(
        args.task, args.a, args.b, labels_file=args.labels_file,
        ci=args.ci, n_boot=args.n_boot, seed=args.seed, on_invalid=args.on_invalid,
    )
    level = round(args.ci * 100)
    print(f"{args.task}: A = {args.a}, B = {args.b}, {result['n']} clips, "
          f"{level}% paired bootstrap interval of A - B ({args.n_boot:,} resamples)")
    print(f"{'metric':<20}{'A - B':>10}{'low':>10}{'high':>10}{'p':>10}")
    units = []
    for name, row in result["comparison"].items():
        # As `evaluate` prints them: fractions in percentage points, the rest as they are.
        scale, digits = (1, 3) if name in NOT_PERCENT else (100, 2)
        if name in NOT_PERCENT:
            units.append(name)
        cells = "".join("       n/a" if row[k] is None else f"{scale * row[k]:>10.{digits}f}"
                        for k in ("difference", "low", "high"))
        p = row["p_value"]
        cells += "       n/a" if p is None else f"{p:>10.4f}"
        print(f"{name:<20}{cells}")
    note = "differences of fractions in percentage points"
    if units:
        note += f"; {', '.join(units)} in their own units"
    print(f"{note}.\np: two-sided paired bootstrap p-value for \"A and B score the same\" "
          f"(smallest possible: 1/(1 + {args.n_boot:,}) = {1 / (1 + args.n_boot):.4f})")
    return 0


def _power(args: argparse.Namespace) -> int:
    from emosign.power import format_power, power_report

    mae = args.metric.lower() == "mae"
    if args.difference is not None and not (-6 <= args.difference <= 6 if mae else -1 <= args.difference <= 1):
        raise InputError(f"--difference must be {'in [-6, 6] scale steps' if mae else 'a fraction in [-1, 1] (0.05 = 5 points)'}, "
                         f"not {args.difference}")
    result = power_report(
        args.task, metric=args.metric, power=args.power, alpha=args.alpha, level=args.level,
        agreement=args.agreement, spread=args.spread, difference=args.difference, predictions_a=args.a,
        predictions_b=args.b, against=args.against, n_sims=args.sims, n_boot=args.n_boot,
        seed=args.seed, labels_file=args.labels_file, progress=_progress(args),
    )
    print(json.dumps(result, indent=2, ensure_ascii=False) if args.format == "json"
          else format_power(result))
    return 0


def _benchmark(args: argparse.Namespace) -> int:
    from emosign.baselines.benchmark import format_leaderboard, run_benchmark

    for module in args.baseline_module:
        _import_baseline_module(module)
    results = run_benchmark(
        tasks=args.tasks, baselines=args.baselines, labels_file=args.labels_file,
        video_dir=args.video_dir, captions_file=args.captions_file, out_dir=args.out,
        overwrite=args.overwrite,
        feature_cache_dir=args.feature_cache, on_missing_video=args.on_missing_video,
        n_boot=args.n_boot, kfold_repeats=args.kfold_repeats, seed=args.seed,
        workers=args.workers, progress=_progress(args),
    )
    print(format_leaderboard(results))
    if args.out:
        print(f"results, leaderboard and per-clip predictions written to {args.out}")
    return 0


def _import_baseline_module(name: str) -> None:
    """Import a user's module so that the baselines it registers exist (--baseline-module)."""
    import importlib

    # As `python -c "import NAME"` would in this directory: a project's own module is found.
    here = os.getcwd()
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        importlib.import_module(name)
    except ImportError as err:
        raise InputError(f"--baseline-module {name}: cannot import it ({err})") from err
    except Exception as err:  # the user's module failed while it ran: say where and why
        raise InputError(f"--baseline-module {name}: importing it raised "
                         f"{type(err).__name__}: {err}") from err
    finally:
        if added:
            sys.path.remove(here)


def _export_hub(args: argparse.Namespace) -> int:
    from emosign.export import export_hub, push_to_hub
    from emosign.hub import HubUnreachableError, check_hub_reachable

    if args.push:
        # Offline, say so before writing anything rather than after the export.
        try:
            check_hub_reachable()
        except HubUnreachableError as err:
            raise HubUnreachableError(
                f"cannot push to {args.push}: {err}; nothing was written (export without "
                f"--push now, and upload the folder later with --push or `hf upload`)"
            ) from err
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
            raise InputError("give --out when the results are several paths or a file")
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
        prompt_tasks=args.prompts, protocol=args.protocol, overwrite=args.overwrite,
    )
    tasks = sorted(p.stem for p in out.glob("*.yaml"))
    print(f"wrote {out}: tasks {', '.join(tasks)} (tag {TAG}, protocol {args.protocol})")
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
    rows = report[report["grouping"] == args.by]
    table = rows.pivot(index="category", columns="group", values="description_rate")
    # Counted over the clips the grouping covers (single_label: the 140 single-expression clips).
    per_group = rows.drop_duplicates("group")
    clips, descriptions = int(per_group["n_clips"].sum()), int(per_group["n_descriptions"].sum())
    print(f"% of the {descriptions} cue descriptions ({clips} clips) naming each category, "
          f"by {args.by}" + ("" if args.by == "all" else "; each column is one group's descriptions"))
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
    from emosign.harness.runner import format_summary, run_mllm

    summary = run_mllm(
        model=args.model, task=args.task, video_dir=args.video_dir, out=args.out,
        client_config=ClientConfig(base_url=args.base_url, api_key_env=args.api_key_env,
                                   timeout=args.timeout, concurrency=args.concurrency),
        frame_config=FrameConfig(fps=args.fps, max_frames=args.max_frames,
                                 max_side=args.max_side),
        captions_file=args.captions_file, labels_file=args.labels_file,
        protocol=args.protocol, prompt_file=args.prompt_file, limit=args.limit,
        progress=_progress(args),
    )
    print(format_summary(summary))
    unanswered = summary.n_errors + summary.n_skipped
    if unanswered:
        print(f"next: run the same command again (once what failed is fixed) to ask the "
              f"{unanswered} clip(s) without an answer", end="")
        print(f"; or score what there is: emosign mllm score {shlex.quote(args.out)}"
              if summary.n_answered or summary.n_cached else "")
    else:
        print(f"next: emosign mllm score {shlex.quote(args.out)}")
    if summary.stopped or (unanswered and not summary.n_answered):
        print(f"emosign: error: {summary.stopped or 'no clip was answered by this run'}",
              file=sys.stderr)
        return 2
    return 0


def _mllm_run_then_extract(args: argparse.Namespace) -> int:
    """`mllm run`, then, with --extract-with, `mllm extract` on the run just made."""
    code = _mllm_run(args)
    if code != 0 or not args.extract_with:
        return code
    from emosign.harness.extract import extract_answers
    from emosign.harness.runfiles import RunFiles

    files = RunFiles.of(args.out, model=args.model, task=args.task,
                        input="video" if args.captions_file is None else "video_caption")
    config = dataclasses.replace(
        EXTRACTION_CLIENT, base_url=args.extract_base_url or args.base_url,
        api_key_env=args.api_key_env, timeout=args.timeout, concurrency=args.concurrency,
    )
    extracted = extract_answers(args.out, model=args.extract_with, client_config=config,
                                runs=[files.manifest], progress=_progress(args))
    return _report_extractions(extracted, args.out)


def _mllm_extract(args: argparse.Namespace) -> int:
    from emosign.harness.extract import extract_answers

    config = dataclasses.replace(
        EXTRACTION_CLIENT, base_url=args.base_url, api_key_env=args.api_key_env,
        timeout=args.timeout, concurrency=args.concurrency, max_tokens=args.max_tokens,
    )
    extracted = extract_answers(args.run_dir, model=args.model, client_config=config,
                                all_answers=args.all_answers, progress=_progress(args))
    return _report_extractions(extracted, args.run_dir)


def _report_extractions(extracted, run_dir: str) -> int:
    """A line per run; exit status 2, as `mllm run`'s, when an extraction stopped early or
    every request it sent failed."""
    from emosign.harness.extract import format_extraction

    for summary in extracted:
        print(format_extraction(summary))
    failed = [summary for summary in extracted if summary.failed]
    if any(summary.n_errors + summary.n_skipped for summary in extracted):
        print("next: run the same command again (once what failed is fixed) to send the "
              "answers without a reply", end="")
        print(f"; or score what there is: emosign mllm score {shlex.quote(run_dir)}"
              if not failed else "")
    else:
        print(f"next: score both ways: emosign mllm score {shlex.quote(run_dir)}")
    for summary in failed:
        print(f"emosign: error: {summary.run_manifest}: "
              f"{summary.stopped or 'no answer could be extracted: every request failed'}",
              file=sys.stderr)
    return 2 if failed else 0


def _mllm_score(args: argparse.Namespace) -> int:
    from emosign.harness.runner import format_scores, score_run

    results = score_run(args.run_dir, labels_file=args.labels_file, n_boot=args.n_boot)
    if args.format == "json":
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print(format_scores(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
