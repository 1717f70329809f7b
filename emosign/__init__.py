"""emosign: the reference toolkit for EmoSign, sentiment and emotion in American Sign Language.

``load_emosign`` is imported lazily: importing ``datasets`` costs about a second, and the
label reader and scorer do not need it. ``__version__`` is read on first use too: asking
``importlib.metadata`` costs more than the rest of ``import emosign`` (about 30 of 35 ms).
"""

from __future__ import annotations

import functools

__all__ = ["EmoSign", "__version__", "load_emosign"]


@functools.cache
def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("emosign")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def __getattr__(name: str):
    if name == "__version__":
        return _version()
    if name in ("load_emosign", "EmoSign"):
        from emosign import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'emosign' has no attribute {name!r}")
