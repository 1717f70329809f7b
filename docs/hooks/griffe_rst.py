"""A griffe extension for the API pages: the docstrings' reST roles and ``::`` as markdown.

emosign's docstrings are numpy style with Sphinx roles (:func:`evaluate`, :mod:`emosign.video`)
and ``Example::`` literal blocks; mkdocstrings renders docstrings as markdown, where those
would show as written. Each role becomes inline code, and a paragraph's closing ``::`` one
colon (the indented block after it is already a markdown code block).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|mod|class|meth|attr|data|exc|obj|const|term|ref):`~?([^`]+)`")
LITERAL = re.compile(r"(\S)::\n")


def rst_to_markdown(text: str) -> str:
    """The docstring with its roles as inline code and ``::`` as ``:``."""
    text = ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    return LITERAL.sub(r"\1:\n", text)


class RstRoles(griffe.Extension):
    """Rewrite every docstring as :func:`rst_to_markdown` says, once it is loaded."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rst_to_markdown(obj.docstring.value)
