"""One progress bar for every long job: tqdm on stderr, quiet when asked or not on a terminal."""

from __future__ import annotations

import sys
from typing import Any

__all__ = [
    "progress_bar",
]


def progress_bar(total: int | None, description: str, *, enabled: bool | None = None,
                 unit: str = "clip") -> Any:
    """A tqdm bar on stderr (use it as a context manager; ``update(n)`` advances it).

    ``enabled``: True shows it, False hides it, None (the default) shows it only when stderr
    is a terminal, so that logs and pipes stay clean.
    """
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if enabled is None else not enabled
    return tqdm(total=total, desc=description, unit=unit, dynamic_ncols=True,
                disable=disable, file=sys.stderr)
