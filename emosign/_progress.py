"""One progress bar for every long job: tqdm on stderr, quiet when asked or not on a terminal.

In a Jupyter kernel the bar is a widget when ``ipywidgets`` is installed, and otherwise tqdm's
text bar in the cell's output, never ``tqdm.auto``'s "IProgress not found" warning.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = [
    "in_jupyter",
    "progress_bar",
]


def in_jupyter() -> bool:
    """Whether this process is a Jupyter (IPython) kernel."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # an IPython too old or half-imported
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _has_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def progress_bar(total: int | None, description: str, *, enabled: bool | None = None,
                 unit: str = "clip") -> Any:
    """A tqdm bar on stderr (use it as a context manager; ``update(n)`` advances it).

    ``enabled``: True shows it, False hides it, None (the default) shows it only when stderr
    is a terminal or a Jupyter cell's output, so that logs and pipes stay clean.
    """
    jupyter = in_jupyter()
    if jupyter and _has_widgets():
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    shown = (sys.stderr.isatty() or jupyter) if enabled is None else enabled
    return tqdm(total=total, desc=description, unit=unit, dynamic_ncols=True,
                disable=not shown, file=sys.stderr)
