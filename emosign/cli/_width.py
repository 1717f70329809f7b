"""Every command's text output fitted to 100 columns, one way for all of them.

The library's renderers (``format_table``, ``format_power``, ``format_scores``, ...) lay their
tables out for the data they hold, and a long class name, model name or note makes a line
wider than a terminal. :func:`fit_text` fits what a command prints, after the fact, so that no
renderer needs to know the terminal:

- a table (two or more consecutive lines whose columns are separated by two or more spaces) is
  laid out again with two spaces between columns; if it is still too wide, its last columns
  are dropped with a note saying where the rest is (``(2 columns more with --format json)``),
  or, for a command with no JSON output, moved under the table with the first column repeated;
- any other line is wrapped at spaces, its continuation indented two more spaces; a single
  word longer than the width (a long path) is never broken.

Lines that fit are left exactly as they are.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from emosign import _defaults

__all__ = ["WIDTH", "fit_text"]

#: The widest line a command prints (:data:`emosign._defaults.TEXT_WIDTH`, 100).
WIDTH = _defaults.TEXT_WIDTH

#: Two or more spaces between two non-spaces: what separates a table's columns, never a
#: sentence's words.
_GAP = re.compile(r"\S {2,}\S")
#: A horizontal rule under a table's header.
_RULE = re.compile(r"\s*([-=─])\1{2,}\s*")
_SEPARATOR = 2
#: The narrowest a column of phrases is wrapped to.
_NARROWEST = 20


def fit_text(text: str, *, width: int = WIDTH, rest: str | None = "--format json") -> str:
    """``text`` with every line at most ``width`` characters (but for a single unbreakable word).

    Parameters
    ----------
    text : str
        What a command prints: lines of prose and column-aligned tables.
    width : int, default 100
        The widest line wanted (at least 40).
    rest : str or None, default "--format json"
        Where the columns of a table that do not fit can be read, named in the note under it
        (``(N columns more with --format json)``). None: the command has no such output, so
        those columns are printed under the table instead, its first column repeated, and
        nothing is dropped.

    Returns
    -------
    str
        The fitted text; the same text when every line fits.
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        end = _table_end(lines, i)
        block = lines[i:end]
        if sum(_is_row(line) for line in block) >= 2:
            out.extend(_fit_table(block, width, rest) if _too_wide(block, width) else block)
            i = end
        else:
            out.extend(_wrap(lines[i], width))
            i += 1
    return "\n".join(out)


def _is_row(line: str) -> bool:
    return bool(_GAP.search(line)) and not _RULE.fullmatch(line)


def _table_end(lines: Sequence[str], start: int) -> int:
    """The end of the table starting at ``start``: its rows and rules, and the indented notes
    between its rows (as `emosign repro` prints under each statement)."""
    end = start
    j = start
    while j < len(lines):
        line = lines[j]
        if _GAP.search(line) or _RULE.fullmatch(line):
            end = j + 1
        elif not (line.startswith(" ") and line.strip()):
            break
        j += 1
    return end


def _too_wide(lines: Sequence[str], width: int) -> bool:
    return any(len(line.rstrip()) > width for line in lines)


def _wrap(line: str, width: int) -> list[str]:
    if len(line.rstrip()) <= width:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    return textwrap.wrap(line.strip(), width=width, initial_indent=indent,
                         subsequent_indent=indent + "  ", break_long_words=False,
                         break_on_hyphens=False)


def _columns(rows: Sequence[str]) -> list[tuple[int, int]]:
    """The spans of a table's columns: runs of characters between gaps of two or more
    positions that are blank on every row (a single blank, as in ``[0.25, 0.75]``, is
    inside a cell)."""
    length = max(len(row) for row in rows)
    blank = [all(p >= len(row) or row[p] == " " for row in rows) for p in range(length)]
    spans: list[tuple[int, int]] = []
    start: int | None = None
    p = 0
    while p < length:
        if not blank[p]:
            if start is None:
                start = p
            p += 1
            continue
        run = p
        while run < length and blank[run]:
            run += 1
        if start is not None and (run - p >= _SEPARATOR or run == length):
            spans.append((start, p))
            start = None
        p = run
    if start is not None:
        spans.append((start, length))
    # A column is what the header names: text beyond the header's last word (the metrics of
    # `mllm score`, two spaces apart) belongs to its last column.
    merged = spans[:1]
    for a, b in spans[1:]:
        if rows[0][a:b].strip():
            merged.append((a, b))
        else:
            merged[-1] = (merged[-1][0], b)
    return merged


def _fit_table(block: Sequence[str], width: int, rest: str | None) -> list[str]:
    """A table laid out again to fit ``width``: two spaces between columns; then cells of
    several words wrapped within their column; then the last columns dropped (``rest``) or
    moved under the table."""
    rows = [line.rstrip() for line in block if _is_row(line)]
    spans = _columns(rows)
    indent = " " * spans[0][0] if spans else ""
    right = [_right_aligned(rows, a, b) for a, b in spans]
    # A left-aligned cell keeps its own indent (`emosign repro`'s "*   happiness" under "* ").
    cells = [[row[a:b].strip() if right[k] else row[a:b].rstrip()
              for k, (a, b) in enumerate(spans)] for row in rows]
    widths = [max(len(row[k]) for row in cells) for k in range(len(spans))]

    def used(columns: Sequence[int]) -> int:
        return len(indent) + sum(widths[k] for k in columns) + _SEPARATOR * (len(columns) - 1)

    if len(spans) < 2 or used([0, 1]) > width:
        # Not a table it can lay out again: wrap its lines as prose rather than cut them.
        return [wrapped for line in block for wrapped in _wrap(line, width)]
    # Columns of phrases (not numbers, nor an interval's two bounds) may take several lines;
    # the widest gives up its width first, never below its longest word.
    for k in sorted(range(1, len(spans)), key=lambda k: -widths[k]):
        excess = used(range(len(spans))) - width
        if excess <= 0:
            break
        if any(len(cell.split()) > 2 for row in cells for cell in row[k:k + 1]):
            # Narrower than 20 (or its longest word), a phrase is one word a line: the column
            # is better dropped or moved.
            words = max(len(word) for row in cells for word in row[k].split() or [""])
            widths[k] = max(words, len(cells[0][k]), min(_NARROWEST, widths[k]), widths[k] - excess)
    groups: list[list[int]] = [[0]]
    for k in range(1, len(spans)):
        if used([*groups[-1], k]) > width:
            groups.append([0])
        groups[-1].append(k)
    if rest is not None:
        dropped = len(spans) - len(groups[0])
        shown = _render(block, width, cells, groups[0], widths, right, indent)
        if dropped:
            shown.append(f"({dropped} column{'s' if dropped > 1 else ''} more with {rest})")
        return shown
    out: list[str] = []
    for n, group in enumerate(groups):
        if n:
            out.append("")
        out.extend(_render(block if n == 0 else [line for line in block if _is_row(line)],
                           width, cells, group, widths, right, indent))
    return out


def _right_aligned(rows: Sequence[str], start: int, end: int) -> bool:
    """Whether a column's cells end at its right edge (numbers) rather than start at its left."""
    filled = [row[start:end] for row in rows if row[start:end].strip()]
    ends = all(len(cell.rstrip()) == len(cell) for cell in filled)
    starts = all(not cell[0].isspace() for cell in filled)
    return ends and not starts


def _render(block, width, cells, columns, widths, right, indent) -> list[str]:
    rows = iter(cells)
    table_width = sum(widths[k] for k in columns) + _SEPARATOR * (len(columns) - 1)
    out = []
    for line in block:
        rule = _RULE.fullmatch(line)
        if rule:
            out.append(indent + rule.group(1) * table_width)
            continue
        if not _is_row(line):  # a note between rows
            out.extend(_wrap(line, width))
            continue
        row = next(rows)
        parts = [_wrap_cell(row[k], widths[k]) for k in columns]
        for n in range(max(len(part) for part in parts)):
            shown = [(part[n] if n < len(part) else "") for part in parts]
            shown = [text.rjust(widths[k]) if right[k] else text.ljust(widths[k])
                     for text, k in zip(shown, columns)]
            out.append((indent + (" " * _SEPARATOR).join(shown)).rstrip())
    return out


def _wrap_cell(cell: str, width: int) -> list[str]:
    if len(cell) <= width:
        return [cell]
    indent = cell[: len(cell) - len(cell.lstrip())]
    return textwrap.wrap(cell, width, subsequent_indent=indent, break_long_words=False) or [""]
