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

This module imports nothing from the package: every other module may import it.
"""

from __future__ import annotations

__all__ = [
    "EmosignError",
    "InputError",
    "MissingExtraError",
    "UnknownNameError",
]


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
