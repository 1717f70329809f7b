"""The errors emosign raises when its input is wrong.

Every error that describes bad input (a label file, a predictions file, a run folder, an
option's value), a refused request or a missing optional extra derives from
:class:`EmosignError`, so a caller can tell "the input is wrong" from "emosign has a bug"
with one ``except``. Each also derives from the built-in error a Python caller would expect
(``ValueError``, ``KeyError``, ``ImportError``, ``RuntimeError``, ``OSError``), so existing
``except ValueError`` code keeps working.

Messages speak in the library's terms (parameter names such as ``on_invalid=``); the
``emosign`` command shows :meth:`EmosignError.for_command_line` instead, which an error
overrides where the command's option differs from the parameter.

A message that lists many things (every bad row of a 500-row file) is built with
:func:`listing` (one item a line) or :func:`inline_listing` (items on one line): it shows the
first few and the count, and writes every one to a new file it names, so that the terminal
gets a screenful and nothing is lost.

This module imports nothing from the package: every other module may import it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

__all__ = [
    "LISTED",
    "EmosignError",
    "InputError",
    "MissingExtraError",
    "UnknownNameError",
    "inline_listing",
    "listing",
]

#: How many items in all a message built by :func:`listing` shows before it names the file
#: holding every one: with its headings, such a message stays under 20 lines.
LISTED = 10
#: The start of the name of the file :func:`listing` writes a long message to.
LIST_FILE_PREFIX = "emosign-errors-"


class EmosignError(Exception):
    """Base class of every error emosign raises on bad input or a refused request."""

    def for_command_line(self) -> str:
        """The message in the ``emosign`` command's terms (its options, not parameters).

        The default is the message itself; errors whose message names a Python parameter
        override this.
        """
        if isinstance(self, KeyError) and self.args:
            # str(KeyError("x")) is "'x'": the quotes are KeyError's, not the message's.
            return str(self.args[0])
        return str(self) or type(self).__name__


class InputError(EmosignError, ValueError):
    """A value or a file's content is not what emosign accepts; the message names it."""


class UnknownNameError(EmosignError, KeyError):
    """A name (a clip, a column, a metric, a split) that the data does not have."""


class MissingExtraError(EmosignError, ImportError):
    """An optional extra is not installed; the message says how to install it."""


def listing(
    header: str,
    sections: Sequence[tuple[str | None, Sequence[str]]],
    footer: Sequence[str] = (),
    *,
    limit: int = LISTED,
    folder: str | os.PathLike | None = None,
) -> str:
    """An error message of items listed under headings, at most ``limit`` items shown.

    The message is ``header``, then each section's heading (indented 2 spaces) and its items
    (indented 4; or 2 under a heading of None), then the ``footer`` lines (indented 2). When
    the sections hold more than ``limit`` items in all, each shows its first ones (at least
    one each, then in order until ``limit`` are shown) and how many more it has, and the whole
    message, every item in it, is written to a new file whose path the message's last line
    gives.

    Parameters
    ----------
    header : str
        The first line: what is wrong and where.
    sections : sequence of (heading or None, items)
        The items, one line each, grouped; an empty group is left out.
    footer : sequence of str
        Lines after the items (what to do about them).
    limit : int, default LISTED (10)
        The most items shown, >= 1.
    folder : path or None
        Where the full list's file is made: a new file (``emosign-errors-*.txt``, never an
        existing one) in this folder, or in the system's temporary folder (None, the default;
        never Python's fallback on the current folder, unless TMPDIR names it).
        Never give a folder the command reads its input from.

    Returns
    -------
    str
        The message, at most ``1 + 2 * len(sections) + limit + len(footer) + 1`` lines.
    """
    if limit < 1:
        raise InputError(f"limit must be >= 1, not {limit}")
    sections = [(heading, list(items)) for heading, items in sections if items]
    every = [len(items) for _, items in sections]
    total = sum(every)
    if total <= limit:
        return _listed(header, sections, footer, every)
    # Every group shows its first item, then the first groups their next ones, up to the limit.
    shown = [1] * len(sections)
    room = limit - len(sections)
    for k, size in enumerate(every):
        shown[k] += max(0, min(room, size - 1))
        room -= shown[k] - 1
    where = _written(_listed(header, sections, footer, every), total, folder)
    return _listed(header, sections, [*footer, where], shown)


def inline_listing(items: Sequence[str], *, limit: int = LISTED,
                   folder: str | os.PathLike | None = None) -> str:
    """Items for one line of a message (``rows 3, 5, 9``): all of them, comma-separated, or
    the first ``limit``, how many more, and the new file holding every one, as :func:`listing`.

    Returns
    -------
    str
        ``"a, b"``, or ``"a, b, ... and 498 more (all 500 are listed in /tmp/emosign-errors-...)"``.
    """
    if limit < 1:
        raise InputError(f"limit must be >= 1, not {limit}")
    items = list(items)
    if len(items) <= limit:
        return ", ".join(items)
    where = _written("\n".join(items), len(items), folder)
    return f"{', '.join(items[:limit])}, ... and {len(items) - limit} more ({where})"


def _written(text: str, total: int, folder: str | os.PathLike | None) -> str:
    """Write ``text`` to a new file and say where; a failure is said instead of raised, so
    that the error being reported still goes out."""
    try:
        if folder is None:
            folder = tempfile.gettempdir()
            # With no usable temporary folder (TMPDIR, /tmp, /var/tmp), Python falls back on
            # the current one: often the folder of the command's input. Only where asked.
            here = os.path.realpath(os.getcwd())
            asked = {os.path.realpath(os.environ[name]) for name in ("TMPDIR", "TEMP", "TMP")
                     if os.environ.get(name)}
            if os.path.realpath(folder) == here and here not in asked:
                return (f"the full list of {total} could not be written (no writable temporary "
                        f"folder; set TMPDIR to one)")
        descriptor, path = tempfile.mkstemp(prefix=LIST_FILE_PREFIX, suffix=".txt",
                                            dir=os.fspath(folder))
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text + "\n")
    except OSError as err:
        return f"the full list of {total} could not be written ({err.strerror or err})"
    return f"all {total} are listed in {path}"


def _listed(header: str, sections: Sequence[tuple[str | None, Sequence[str]]],
            footer: Sequence[str], shown: Sequence[int]) -> str:
    lines = [header]
    for (heading, items), count in zip(sections, shown):
        indent = "  " if heading is None else "    "
        if heading is not None:
            lines.append(f"  {heading}:")
        lines += [indent + item for item in items[:count]]
        if count < len(items):
            lines.append(f"{indent}... and {len(items) - count} more")
    lines += [f"  {line}" for line in footer]
    return "\n".join(lines)
