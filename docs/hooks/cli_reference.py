"""MkDocs hook: the command-line reference, generated from ``emosign.cli.build_parser()``.

``docs/cli.md`` holds the marker ``<!-- emosign-cli-reference -->``; when the site is built, it
is replaced by every command's ``--help``, so the reference cannot fall behind the parser.
``tests/test_docs.py`` checks that every command and option of the parser is on the page.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- emosign-cli-reference -->"
WIDTH = "100"


def commands(parser: argparse.ArgumentParser, prefix: str = "emosign"
             ) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """(``emosign mllm run``, its parser) for the parser and every subcommand, depth first."""
    yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{prefix} {name}")


def cli_reference() -> str:
    """The reference as markdown: one section per command, its help as printed."""
    from emosign.cli import build_parser

    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH  # argparse wraps to the terminal: the same page everywhere
    try:
        parts = []
        for name, parser in commands(build_parser()):
            level = "#" * min(2 + name.count(" "), 4)
            anchor = name.replace(" ", "-")
            parts.append(f"{level} `{name}` {{#{anchor}}}\n\n```text\n{parser.format_help()}```\n")
        return "\n".join(parts)
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Replace the marker with the reference (MkDocs calls this for every page)."""
    if MARKER in markdown:
        return markdown.replace(MARKER, cli_reference())
    return markdown
