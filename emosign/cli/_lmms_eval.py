"""The lmms-eval commands: ``export-lmms-eval`` and ``lmms-eval-score``."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

from emosign import _defaults
from emosign.cli._options import add_labels_option, draws, examples, wrapped
from emosign.cli._width import fit_text
from emosign.harness.prompts import DEFAULT_PROTOCOL, HARNESS_TASKS, PROTOCOL_NAMES

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``emosign`` parser's subcommands."""
    lmms = sub.add_parser(
        "export-lmms-eval", help="write an lmms-eval task folder (use it with --include_path)",
        description="Write an lmms-eval task folder: one task per harness prompt (tag emosign), "
        "local JSON Lines data pointing at your videos, and a utils.py that scores answers with "
        "emosign.metrics.evaluate.",
        **examples(
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
    add_labels_option(lmms)
    lmms.set_defaults(run=_export_lmms_eval)

    lmms_score = sub.add_parser(
        "lmms-eval-score", help="score lmms-eval's --log_samples output, with intervals",
        description=wrapped(
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
        "output_dir", metavar="OUTPUT_DIR",
        help="lmms-eval's --output_path: every *_samples_emosign_<prompt>.jsonl under it is scored")
    lmms_score.add_argument("--format", choices=("json", "table"), default="table",
                            help="a table (default) or the full results as JSON")
    lmms_score.add_argument("--n-boot", type=draws, default=_defaults.N_BOOT,
                            help="bootstrap resamples for the intervals, 1 to 1,000,000 "
                            "(default: %(default)s)")
    add_labels_option(lmms_score)
    lmms_score.set_defaults(run=_lmms_eval_score)


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
    print(json.dumps(results, indent=2, ensure_ascii=False) if args.format == "json"
          else fit_text(format_scores(results)))
    print(f"written to {os.path.join(args.output_dir, RESULTS_FILE)}; "
          f"`emosign report {shlex.quote(args.output_dir)}` shows it with intervals", file=sys.stderr)
    return 0
