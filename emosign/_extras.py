"""How to install an optional extra, said once for every message that suggests one.

emosign is installed from its source folder (a clone or an unpacked source archive), not from a
package index, so installing ``"emosign[mllm]"`` by name would fail: the command installs the extra
from the folder instead.
"""

from __future__ import annotations

__all__ = [
    "install_hint",
]


def install_hint(extra: str) -> str:
    """The shell command that adds ``extra`` (e.g. ``"mllm"``) to an emosign install.

    >>> install_hint("mllm")
    'pip install ".[mllm]" (in the emosign source folder)'
    """
    return f'pip install ".[{extra}]" (in the emosign source folder)'
