"""The ``mllm`` commands: ``mllm run``, ``mllm score`` and ``mllm extract``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys

from emosign import _defaults
from emosign.cli._options import (
    add_labels_option,
    add_quiet_option,
    draws,
    frame_cap,
    frame_rate,
    positive_int,
    progress,
    request_timeout,
    run_folder,
    wrapped,
)
from emosign.cli._width import fit_text
from emosign.harness.config import (
    DEFAULT_OUT,
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

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``emosign`` parser's subcommands."""
    mllm = sub.add_parser("mllm", help="run a multimodal LLM on EmoSign the paper's way, and score it")
    mllm_sub = mllm.add_subparsers(dest="mllm_command", required=True)
    run = mllm_sub.add_parser(
        "run", help="ask a model about every clip (resumable)",
        description=wrapped(
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
    run.add_argument("--fps", type=frame_rate, default=FrameConfig.fps,
                     help=f"frames per second sampled from each clip, below {MAX_FPS:g} "
                          f"(default: the protocol's, {get_protocol(DEFAULT_PROTOCOL).fps:g})")
    run.add_argument("--max-frames", type=frame_cap, default=FrameConfig.max_frames,
                     help="frame cap per clip, longer clips thinned evenly, or 'none' "
                          f"(default: the protocol's: {EMOSIGN_MAX_FRAMES} for emosign, none for "
                          "paper)")
    run.add_argument("--max-side", type=positive_int, default=FrameConfig.max_side,
                     help="longest frame side in pixels, larger frames shrunk "
                          "(default %(default)s)")
    run.add_argument("--concurrency", type=positive_int, default=ClientConfig.concurrency,
                     help="requests in flight at once (default %(default)s)")
    run.add_argument("--timeout", type=request_timeout, default=ClientConfig.timeout,
                     help=f"seconds to wait for one answer before retrying, below {MAX_TIMEOUT:g} "
                          "(default %(default)g)")
    run.add_argument("--limit", type=positive_int,
                     help="only the first N clips, for a trial run (default: all)")
    run.add_argument("--out", type=run_folder, default=DEFAULT_OUT,
                     help="the run folder: one folder per model, answers, run records "
                          "(default %(default)s)")
    add_labels_option(run)
    add_quiet_option(run)
    run.set_defaults(run=_mllm_run_then_extract)
    score = mllm_sub.add_parser(
        "score", help="score a run directory",
        description=wrapped(
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
    score.add_argument("--n-boot", type=draws, default=_defaults.N_BOOT,
                       help="bootstrap resamples for the intervals, 1 to 1,000,000 (default: %(default)s)")
    add_labels_option(score)
    score.set_defaults(run=_mllm_score)
    extract = mllm_sub.add_parser(
        "extract", help="send answers the rule reader cannot read to a text model for their "
                        "label (resumable); `score` then scores both ways",
        description=wrapped(
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
    extract.add_argument("--concurrency", type=positive_int, default=EXTRACTION_CLIENT.concurrency,
                         help="requests in flight at once (default %(default)s)")
    extract.add_argument("--timeout", type=request_timeout, default=EXTRACTION_CLIENT.timeout,
                         help=f"seconds to wait for one reply before retrying, below {MAX_TIMEOUT:g} "
                              "(default %(default)g)")
    extract.add_argument("--max-tokens", type=positive_int, default=EXTRACTION_CLIENT.max_tokens,
                         help="the longest reply, in tokens: a label, or the joint answer's "
                              "eleven ratings as JSON (default %(default)s)")
    add_quiet_option(extract)
    extract.set_defaults(run=_mllm_extract)


def _mllm_run(args: argparse.Namespace) -> int:
    from emosign.harness.runner import RunStopped, format_summary, run_mllm

    error: str | None = None
    try:
        summary = run_mllm(
            model=args.model, task=args.task, video_dir=args.video_dir, out=args.out,
            client_config=ClientConfig(base_url=args.base_url, api_key_env=args.api_key_env,
                                       timeout=args.timeout, concurrency=args.concurrency),
            frame_config=FrameConfig(fps=args.fps, max_frames=args.max_frames,
                                     max_side=args.max_side),
            captions_file=args.captions_file, labels_file=args.labels_file,
            protocol=args.protocol, prompt_file=args.prompt_file, limit=args.limit,
            progress=progress(args),
        )
    except RunStopped as stopped:
        # What was kept and what to run next, then why, as the one error line.
        summary, error = stopped.summary, stopped.reason
    print(format_summary(summary))
    unanswered = summary.n_errors + summary.n_skipped
    if unanswered:
        print(f"next: run the same command again (once what failed is fixed) to ask the "
              f"{unanswered} clip(s) without an answer", end="")
        print(f"; or score what there is: emosign mllm score {shlex.quote(args.out)}"
              if summary.n_answered or summary.n_cached else "")
    else:
        print(f"next: emosign mllm score {shlex.quote(args.out)}")
    if error is None and unanswered and not summary.n_answered:
        error = "no clip was answered by this run"  # every clip's video or caption missing
    if error is not None:
        print(f"emosign: error: {error}", file=sys.stderr)
        return 2
    return 0


def _mllm_run_then_extract(args: argparse.Namespace) -> int:
    """`mllm run`, then, with --extract-with, `mllm extract` on the run just made."""
    code = _mllm_run(args)
    if code != 0 or not args.extract_with:
        return code
    from emosign.harness.runfiles import RunFiles

    files = RunFiles.of(args.out, model=args.model, task=args.task,
                        input="video" if args.captions_file is None else "video_caption")
    config = dataclasses.replace(
        EXTRACTION_CLIENT, base_url=args.extract_base_url or args.base_url,
        api_key_env=args.api_key_env, timeout=args.timeout, concurrency=args.concurrency,
    )
    return _extract_and_report(args.out, model=args.extract_with, client_config=config,
                               runs=[files.manifest], progress=progress(args))


def _mllm_extract(args: argparse.Namespace) -> int:
    config = dataclasses.replace(
        EXTRACTION_CLIENT, base_url=args.base_url, api_key_env=args.api_key_env,
        timeout=args.timeout, concurrency=args.concurrency, max_tokens=args.max_tokens,
    )
    return _extract_and_report(args.run_dir, model=args.model, client_config=config,
                               all_answers=args.all_answers, progress=progress(args))


def _extract_and_report(run_dir: str, **options) -> int:
    """`extract_answers(run_dir, **options)`, then a line per run and the next command; exit
    status 2, as `mllm run`'s, when it raised ExtractionStopped (it stopped early, or every
    request it sent for a run failed), after one error line saying why."""
    from emosign.harness.extract import ExtractionStopped, extract_answers, format_extraction

    error: str | None = None
    try:
        extracted = extract_answers(run_dir, **options)
    except ExtractionStopped as stopped:
        # What was kept and what to run next, then why, as the one error line.
        extracted, error = stopped.summaries, stopped.reason
    for summary in extracted:
        print(format_extraction(summary))
    if any(summary.n_errors + summary.n_skipped for summary in extracted):
        print("next: run the same command again (once what failed is fixed) to send the "
              "answers without a reply", end="")
        print(f"; or score what there is: emosign mllm score {shlex.quote(run_dir)}"
              if error is None else "")
    else:
        print(f"next: score both ways: emosign mllm score {shlex.quote(run_dir)}")
    if error is not None:
        print(f"emosign: error: {error}", file=sys.stderr)
        return 2
    return 0


def _mllm_score(args: argparse.Namespace) -> int:
    from emosign.harness.runner import format_scores, score_run

    results = score_run(args.run_dir, labels_file=args.labels_file, n_boot=args.n_boot)
    if args.format == "json":
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        print(fit_text(format_scores(results)))
    return 0
