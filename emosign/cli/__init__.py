"""The ``emosign`` command. It parses arguments and calls the library; nothing lives only here.

One module per command group adds its commands to the parser (``add_commands``) and holds
their handlers, which import the library when they run: building the parser imports no numpy,
pandas or ``datasets``, so ``emosign --help`` and a mistyped option answer at once. The
options' defaults come from the library (:mod:`emosign._defaults`,
:mod:`emosign.harness.config`). :func:`main` is the one place errors are caught: bad input is
one line, a bug keeps its traceback.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import traceback
from collections.abc import Iterable, Sequence
from typing import NoReturn

from emosign._progress import library_output
from emosign.cli import _baselines, _examples, _labels, _lmms_eval, _mllm, _scoring
from emosign.errors import EmosignError

__all__ = ["build_parser", "main"]

def build_parser() -> argparse.ArgumentParser:
    """The ``emosign`` command's parser, every command and option in it.

    Returns
    -------
    argparse.ArgumentParser
        Each command's namespace carries ``run``, the handler to call with it.
    """
    parser = _Parser(
        prog="emosign", description="EmoSign: sentiment and emotion in American Sign Language."
    )
    parser.add_argument("--version", action="version", version=f"emosign {_version()}",
                        help="print emosign's version and exit")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (_labels, _scoring, _baselines, _lmms_eval, _mllm, _examples):
        group.add_commands(sub)
    # Also after the command (`emosign export-hub out/ --verbose`), where people type it;
    # there it is left unset unless given, so that it does not undo one before the command.
    for _, command in _commands(parser):
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                             help=VERBOSE_HELP)
    return parser


#: --verbose, before or after the command.
VERBOSE_HELP = ("also show the progress bars and info logs of the libraries emosign calls "
                "(datasets, huggingface_hub) (default: off; emosign's own progress bar is "
                "shown on a terminal, and --quiet, where a command has it, turns it off)")


def _commands(parser: argparse.ArgumentParser) -> Iterable[tuple[str, argparse.ArgumentParser]]:
    """Every command's parser (``mllm``'s and each of its commands), depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield name, command
                yield from _commands(command)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose refusal of a mistyped command, choice or option suggests the
    closest ones (Python 3.14's ``suggest_on_error``, for every Python emosign runs on)."""

    def error(self, message: str) -> NoReturn:
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            known = re.findall(r"'?([\w.-]+)'?", choice.group(2))
            message += _did_you_mean(choice.group(1), known)
        super().error(message)


def _refuse_unknown_options(parser: argparse.ArgumentParser, words: Sequence[str]) -> None:
    """Refuse, with the closest of the command's own options, an option it does not have:
    argparse would first complain of a missing required option instead of naming the
    mistyped one."""
    command = parser
    for word in words:
        if word == "--":
            return
        if not word.startswith("-"):
            command = _subcommand(command, word) or command
            continue
        name = word.split("=")[0]
        known = [o for action in command._actions for o in action.option_strings]
        if name.startswith("--") and not any(option.startswith(name) for option in known):
            command.error(f"unrecognized option: {name}" + _did_you_mean(name, known))


def _subcommand(parser: argparse.ArgumentParser, word: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and word in action.choices:
            return action.choices[word]
    return None


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _version() -> str:
    from emosign import __version__

    return str(__version__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``emosign`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 done, 1 a bug (its traceback printed), 2 bad input or a refused
        request (one ``emosign: error:`` line), 130 interrupted.
    """
    parser = build_parser()
    words = sys.argv[1:] if argv is None else list(argv)
    _refuse_unknown_options(parser, words)
    args = parser.parse_args(words)
    try:
        if getattr(args, "needs_labels", False) and args.labels_file is None:
            # Find the labels before the command imports pandas or datasets: without any, the
            # error comes at once. Later lookups read the same file (or the Hub cache) again.
            from emosign.hub import resolve_label_source

            resolve_label_source()
        # The libraries' own bars ("Generating test split") say nothing a user of the
        # command needs, and would fill a log; --verbose shows them.
        with library_output(verbose=args.verbose):
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
    if isinstance(err, EmosignError):
        message = err.for_command_line()
    elif err.filename is not None and err.strerror:
        # "[Errno 28] No space left on device: 'out'" -> "out: No space left on device"
        names = " -> ".join(str(n) for n in (err.filename, err.filename2) if n is not None)
        message = f"{names}: {err.strerror}"
    else:
        message = str(err) or type(err).__name__
    # The library speaks in parameters; the command line has options. (Imported here, on the
    # error path only: predictions imports pandas.)
    from emosign.predictions import ON_INVALID_HINT

    return message.replace(ON_INVALID_HINT, "pass --on-invalid wrong")
