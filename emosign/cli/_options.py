"""What the ``emosign`` commands share: option helpers, argument types and the help layout.

The argument types refuse a nonsensical number at the command line, where argparse names the
option ("--limit: must be a whole number >= 1, not -1"). Defaults come from the library
(:mod:`emosign._defaults`, :mod:`emosign.harness.config`), never restated here.
"""

from __future__ import annotations

import argparse
import os
import textwrap

from emosign import _defaults
from emosign.harness.config import MAX_FPS, MAX_TIMEOUT

__all__ = [
    "add_labels_option",
    "add_quiet_option",
    "add_scoring_options",
    "coverage",
    "examples",
    "finite_number",
    "frame_cap",
    "frame_rate",
    "non_negative_int",
    "number",
    "positive_float",
    "positive_int",
    "progress",
    "request_timeout",
    "run_folder",
    "seed",
    "wrapped",
]


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with the examples epilog kept line by line as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def examples(*commands: str) -> dict:
    """``add_parser`` keywords that end a command's --help with examples."""
    return {
        "epilog": "examples:\n" + "\n".join(f"  {command}" for command in commands),
        "formatter_class": HelpFormatter,
    }


def add_labels_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--labels-file",
        help="a local label file (default: $EMOSIGN_LABELS, else the pinned Hub file)",
    )
    parser.set_defaults(needs_labels=True)


def add_scoring_options(parser: argparse.ArgumentParser, *, interval: str) -> None:
    """The bootstrap and invalid-answer options that evaluate and compare share."""
    parser.add_argument("--ci", type=coverage, default=_defaults.CI,
                        help=f"coverage of {interval}, in (0, 1) (default: %(default)s)")
    parser.add_argument("--n-boot", type=draws, default=_defaults.N_BOOT,
                        help="bootstrap resamples of the clips, 1 to 1,000,000 (default: %(default)s)")
    parser.add_argument("--seed", type=seed, default=_defaults.SEED,
                        help="seed of the bootstrap resamples (default: %(default)s)")
    parser.add_argument(
        "--on-invalid", choices=("raise", "wrong"), default=_defaults.ON_INVALID,
        help="refuse missing or unreadable predictions (default), or score them as wrong",
    )


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", action="store_true",
        help="no progress bar (default: a bar on stderr when it is a terminal)",
    )


def progress(args: argparse.Namespace) -> bool | None:
    """The library's ``progress=``: off with --quiet, else shown only on a terminal."""
    return False if getattr(args, "quiet", False) else None


def number(kind: type, low: float, *, inclusive: bool = True, high: float | None = None):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {'a whole number' if kind is int else 'a number'}, not {text!r}"
            ) from None
        too_low = value < low if inclusive else value <= low
        if too_low or (high is not None and value >= high) or value != value or abs(value) == float("inf"):
            bound = f"{'>=' if inclusive else '>'} {_shown(low)}" + (
                f" and < {_shown(high)}" if high else "")
            raise argparse.ArgumentTypeError(
                f"must be {'a whole number' if kind is int else 'a number'} {bound}, not {text}"
            )
        return value

    parse.__name__ = "whole number" if kind is int else "number"
    return parse


def _shown(bound: float) -> str:
    """A bound as people write it: 4294967296, not 4.29497e+09."""
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


positive_int = number(int, 1)
#: Bootstrap resamples and swap patterns: 1 ... MAX_DRAWS.
draws = number(int, 1, high=_defaults.MAX_DRAWS + 1)
non_negative_int = number(int, 0)
positive_float = number(float, 0, inclusive=False)
coverage = number(float, 0, inclusive=False, high=1)
#: ``--seed``: a whole number >= 0 and below 2**32, which numpy and scikit-learn both take.
seed = number(int, 0, high=2**32)


def finite_number(text: str) -> float:
    """Any finite number (not nan or inf); the command checks its range, naming the option."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if value != value or abs(value) == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


finite_number.__name__ = "number"


def wrapped(text: str) -> str:
    """A description paragraph for a parser whose epilog keeps its line breaks."""
    return textwrap.fill(text, width=88)


def frame_rate(text: str) -> float:
    """``--fps`` of mllm run: > 0 and below the harness's bound."""
    return number(float, 0, inclusive=False, high=MAX_FPS)(text)


def request_timeout(text: str) -> float:
    """``--timeout`` of mllm run: > 0 and below the harness's bound."""
    return number(float, 0, inclusive=False, high=MAX_TIMEOUT)(text)


def frame_cap(text: str) -> int | None:
    """``--max-frames``: a whole number >= 1, or "none" for no cap."""
    return None if text.strip().lower() == "none" else positive_int(text)


def run_folder(text: str) -> str:
    """``--out`` of mllm run: a folder, new or not, never an existing file."""
    if os.path.lexists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} exists and is not a folder")
    return text

