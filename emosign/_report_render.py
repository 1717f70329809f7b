"""The report's page, as blocks, and its two renderings: one HTML page and a markdown twin.

A report is a list of blocks (:class:`Heading`, :class:`Paragraph`, :class:`Items`,
:class:`Table`, :class:`Figure`, :class:`Contents`); :func:`render_html` makes one
self-contained page of them (inline CSS, figures as PNG data, no script, no link outside the
page) and :func:`render_markdown` its twin (figures as links to PNG files beside it), so the
two cannot disagree. Every string is escaped where it is rendered: a name read from a results
file stays text in both.

This module knows nothing of results: it imports nothing of the package.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "Block",
    "Contents",
    "Figure",
    "Heading",
    "Items",
    "Paragraph",
    "Table",
    "render_html",
    "render_markdown",
]

# --- blocks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    """A heading of ``level`` 1 to 3; levels 2 and 3 are listed in the contents."""

    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of plain text."""

    text: str


@dataclass(frozen=True)
class Items:
    """A bulleted list of plain text."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table: ``kind`` is its CSS class (``leaderboard``, ``comparison``, ...), ``muted``
    the rows shown set apart (the paper's reported numbers)."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kind: str
    muted: frozenset[int] = frozenset()  # rows shown set apart: the paper's reported numbers


@dataclass(frozen=True)
class Figure:
    """A figure; ``name`` is made here (never read from a file) and names its PNG file."""

    name: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Contents:
    """A table of contents: (level, heading text) of the headings that follow."""

    entries: tuple[tuple[int, str], ...]


Block = Heading | Paragraph | Items | Table | Figure | Contents


# --- rendering -------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em;
       color: #111; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
caption { text-align: left; font-style: italic; padding-bottom: 0.3em; }
th, td { border-bottom: 1px solid #ccc; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.reported td { color: #555; font-style: italic; }
table.comparison { background: #f7f7f7; }
table.comparison caption { color: #555; }
div.wide { overflow-x: auto; max-width: 100%; }
nav ul { list-style: none; padding-left: 0; columns: 2; }
nav li.toc3 { padding-left: 1.5em; }
figure { display: inline-block; margin: 0.5em 1em 1.5em 0; vertical-align: top; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #333; max-width: 40em; }
"""


def render_html(blocks: Iterable[Block]) -> str:
    """One self-contained HTML page: inline CSS, figures as PNG data URIs, no script, no
    link outside the page.

    Parameters
    ----------
    blocks : iterable of Block
        The report, in reading order.

    Returns
    -------
    str
        The page, every string in it escaped.
    """
    body = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f'<h{block.level} id="{_slug(block.text)}">{_e(block.text)}</h{block.level}>')
        elif isinstance(block, Contents):
            body.append('<nav aria-label="Contents"><p>Contents</p><ul>' + "".join(
                f'<li class="toc{level}"><a href="#{_slug(text)}">{_e(text)}</a></li>'
                for level, text in block.entries) + "</ul></nav>")
        elif isinstance(block, Paragraph):
            body.append(f"<p>{_e(block.text)}</p>")
        elif isinstance(block, Items):
            body.append("<ul>" + "".join(f"<li>{_e(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Table):
            body.append(_html_table(block))
        else:
            data = base64.b64encode(block.png).decode("ascii")
            body.append(f'<figure id="{block.name}"><img src="data:image/png;base64,{data}" '
                        f'alt="{_e(block.caption)}"><figcaption>{_e(block.caption)}</figcaption></figure>')
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>EmoSign report</title>\n<style>" + _CSS + "</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def _html_table(table: Table) -> str:
    head = "".join(f"<th scope=\"col\">{_e(h)}</th>" for h in table.header)
    rows = []
    for i, row in enumerate(table.rows):
        cells = "".join(
            f"<td class=\"num\">{_e(c)}</td>" if _numeric(c) else f"<td>{_e(c)}</td>" for c in row
        )
        opening = '<tr class="reported">' if i in table.muted else "<tr>"
        rows.append(f"{opening}{cells}</tr>")
    # Wrapped so that a wide table scrolls on its own, not the whole page.
    return (f"<div class=\"wide\"><table class=\"{table.kind}\"><caption>{_e(table.caption)}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _numeric(cell: str) -> bool:
    return bool(cell) and (cell[0].isdigit() or cell[0] in "-." and cell[1:2].isdigit())


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def render_markdown(blocks: Iterable[Block], *, figure_dir: str = "figures") -> str:
    """The markdown twin of :func:`render_html`.

    Parameters
    ----------
    blocks : iterable of Block
        The report, in reading order.
    figure_dir : str
        The folder, relative to the markdown file, of the figures: a figure is a link to
        ``<figure_dir>/<name>.png``.

    Returns
    -------
    str
        The markdown (GitHub-flavoured), every string in it escaped.
    """
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + _md(block.text), ""]
        elif isinstance(block, Contents):
            # Headings are made here, never read from a file; GitHub gives each the anchor
            # _slug computes.
            lines += ["**Contents**", ""] + [
                f"{'  ' * (level - 2)}- [{_md(text)}](#{_slug(text)})" for level, text in block.entries
            ] + [""]
        elif isinstance(block, Paragraph):
            lines += [_md(block.text), ""]
        elif isinstance(block, Items):
            lines += [f"- {_md(i)}" for i in block.items] + [""]
        elif isinstance(block, Table):
            lines += [f"*{_md(block.caption)}*", "",
                      "| " + " | ".join(_md(h) for h in block.header) + " |",
                      "|" + "---|" * len(block.header)]
            lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in block.rows] + [""]
        else:
            # The alt text is the figure's own name: captions hold names read from files.
            lines += [f"![{block.name}]({figure_dir}/{block.name}.png)", "",
                      f"*{_md(block.caption)}*", ""]
    return "\n".join(lines)


# Markdown escaping: only what could make markup of text read from a file. Backslash, code,
# emphasis, link and image brackets, raw HTML, table cells and strikethrough are escaped;
# "_" only where it could open or close emphasis (not inside a word, so `cue_text_tfidf`
# stays readable); "&" only where it could start an entity. "(" ")" "!" need nothing once
# "[" "]" are escaped; "#", "." "-" "+" ">" only matter at the start of a line, and every
# line here has a fixed prefix.
_MD_ALWAYS = re.compile(r"[\\`*\[\]<|~]")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# GitHub-flavoured autolinks: "www.", "http://", "https://", "ftp://", "mailto:", "xmpp:"
# become links in plain text, and "user@host.org" is linked after parsing, so an escape does
# not stop it; an empty HTML comment after the "@" does (it splits the text, and renders as
# nothing).
_MD_SCHEME = re.compile(r"(?i)\b(https?|ftp|mailto|xmpp):")
_MD_WWW = re.compile(r"(?i)\b(www)\.")


def _md(text: str) -> str:
    text = " ".join(str(text).split())
    text = _MD_ALWAYS.sub(lambda m: "\\" + m.group(0), text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_ENTITY.sub(r"\\&", text)
    text = _MD_SCHEME.sub(r"\1\\:", text)
    text = _MD_WWW.sub(r"\1\\.", text)
    return text.replace("@", "@<!-- -->")


def _slug(text: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation but "-" and "_" dropped,
    spaces as "-"."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")
