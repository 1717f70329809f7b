"""One BLAS/OpenMP thread for the small, many numerical calls of scoring and fitting.

EmoSign's matrices are small (10,000 resamples x 200 clips, a TF-IDF of 160 texts): a pool
of BLAS threads costs more to wake than the work it shares, and on a busy machine its
spinning threads burn CPU for nothing (a (2,000 x 200) @ (200 x 12) product took 8 ms of CPU
with the default threads, 0.4 ms with one). Parallelism belongs one level up, across
independent units of work in processes (``emosign benchmark --workers``).
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager

__all__ = [
    "one_thread",
]

_controller = None
_modules_seen = -1


def one_thread() -> AbstractContextManager:
    """A context in which BLAS and OpenMP libraries use one thread (threadpoolctl).

    Finding the loaded libraries takes ~3 ms, so it is done again only when modules were
    imported since the last scan (a new native library arrives with a new module).
    """
    global _controller, _modules_seen
    if _controller is None or len(sys.modules) != _modules_seen:
        from threadpoolctl import ThreadpoolController

        _controller, _modules_seen = ThreadpoolController(), len(sys.modules)
    return _controller.limit(limits=1)
