"""The ``benchmark`` command: every baseline under signer-independent evaluation."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from emosign import _cache, _defaults
from emosign.cli._options import (
    add_labels_option,
    add_quiet_option,
    draws,
    examples,
    non_negative_int,
    positive_int,
    progress,
    seed,
)
from emosign.errors import InputError

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``emosign`` parser's subcommands."""
    bench = sub.add_parser(
        "benchmark", help="run the baselines under leave-one-signer-out CV, with the paper's rows",
        description="Run every baseline the inputs allow (floors and the cue-text reference on "
        "the labels alone; caption and visual baselines with --captions-file and --video-dir) "
        "on out-of-fold predictions, and print the leaderboard beside the paper's reported rows.",
        **examples(
            "emosign benchmark --out results/",
            "emosign benchmark --tasks sentiment_3 --baselines majority cue_text_tfidf --n-boot 1000",
            "emosign benchmark --video-dir videos/ --captions-file captions.csv --out results/",
            "emosign benchmark --baseline-module mybaseline --baselines my_majority",
        ),
    )
    bench.add_argument("--tasks", nargs="+", default=list(_defaults.BENCHMARK_TASKS),
                       choices=["sentiment_3", "sentiment_7", "emotion_single", "emotion_multi"],
                       help=f"the tasks to run (default: {' '.join(_defaults.BENCHMARK_TASKS)})")
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
    bench.add_argument("--cache-dir", metavar="DIR",
                       help="where derived files (the video features) are cached, never in an "
                       f"input folder (default: {_cache.DEFAULT_DESCRIPTION.replace('%', '%%')})")
    bench.add_argument("--on-missing-video", choices=("skip", "error"), default="skip",
                       help="a clip without a usable video: leave it out of the visual baselines "
                       "and count it (skip), or stop (error) (default: skip)")
    bench.add_argument("--n-boot", type=draws, default=_defaults.N_BOOT,
                       help="bootstrap resamples for the intervals, 1 to 1,000,000 (default: %(default)s)")
    bench.add_argument("--kfold-repeats", type=non_negative_int, default=_defaults.KFOLD_REPEATS,
                       help="repeats of the stratified 5-fold view, about a third of the run's "
                       "time; 0 leaves it out (default: %(default)s)")
    bench.add_argument("--seed", type=seed, default=_defaults.SEED,
                       help="seed of the folds, the random floors and the bootstrap (default: %(default)s)")
    bench.add_argument(
        "--workers", type=positive_int, default=None,
        help="processes fitting and scoring baselines, and extracting video features, in "
        "parallel, one BLAS thread each; the numbers do not depend on it (default: the cores "
        "this process may use, a container's CPU quota included)",
    )
    add_labels_option(bench)
    add_quiet_option(bench)
    bench.set_defaults(run=_benchmark)


def _benchmark(args: argparse.Namespace) -> int:
    from emosign.baselines.benchmark import format_leaderboard, run_benchmark

    for module in args.baseline_module:
        _import_baseline_module(module)
    results = run_benchmark(
        tasks=args.tasks, baselines=args.baselines, labels_file=args.labels_file,
        video_dir=args.video_dir, captions_file=args.captions_file, out_dir=args.out,
        overwrite=args.overwrite,
        cache_dir=args.cache_dir, on_missing_video=args.on_missing_video,
        n_boot=args.n_boot, kfold_repeats=args.kfold_repeats, seed=args.seed,
        workers=args.workers, progress=progress(args),
    )
    print(format_leaderboard(results))
    if args.out:
        print(f"results, leaderboard and per-clip predictions written to {args.out}")
    return 0


def _import_baseline_module(name: str) -> None:
    """Import a user's module so that the baselines it registers exist (--baseline-module)."""

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
