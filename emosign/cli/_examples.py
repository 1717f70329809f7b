"""``emosign examples``: example inputs for every documented command (:mod:`emosign.examples`)."""

from __future__ import annotations

import argparse

from emosign.cli._options import add_labels_option, examples

__all__ = ["add_commands"]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``examples`` to the ``emosign`` parser's subcommands."""
    parser = sub.add_parser(
        "examples", help="write example inputs for every task and command into a folder",
        description="Write example inputs into OUT_DIR: predictions files for every task from "
        "this project's baselines and floors, cue explanations, stand-in captions, synthetic "
        "videos and a scored run of a stand-in model, so that every command of the "
        "documentation runs as written. OUT_DIR/README.md says what each file is.",
        **examples("emosign examples examples/",
                   "emosign examples examples/ --no-videos --overwrite"),
    )
    parser.add_argument("out_dir", help="the folder to write (new or empty, or an earlier "
                        "examples folder with --overwrite)")
    parser.add_argument("--no-videos", action="store_true",
                        help="leave out videos/ and runs/ (default: write them, about 1 MB)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier examples folder in OUT_DIR, never anything else")
    add_labels_option(parser)
    parser.set_defaults(run=_examples)


def _examples(args: argparse.Namespace) -> int:
    from emosign.examples import write_examples

    out = write_examples(args.out_dir, labels_file=args.labels_file,
                         videos=not args.no_videos, overwrite=args.overwrite)
    print(f"wrote example inputs to {out}/ (what each file is: {out}/README.md)")
    return 0
