"""emosign: the reference toolkit for EmoSign, sentiment and emotion in American Sign Language.

``load_emosign`` is imported lazily: importing ``datasets`` costs about a second, and the
label reader and scorer do not need it.
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("emosign")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["EmoSign", "__version__", "load_emosign"]


def __getattr__(name: str):
    if name in ("load_emosign", "EmoSign"):
        from emosign import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'emosign' has no attribute {name!r}")
