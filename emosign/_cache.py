"""Where emosign keeps the files it derives (video features), written once: never in an input
folder, always in the user's cache folder unless told otherwise.

:func:`cache_dir` is ``$EMOSIGN_CACHE`` when it is set, else ``emosign/features`` under the
user's cache folder: ``$XDG_CACHE_HOME`` (default ``~/.cache``), or ``%LOCALAPPDATA%`` on
Windows. The library's functions take it as their default and the command line prints
:data:`DEFAULT_DESCRIPTION` in ``--help``. Imports nothing of the package (no dependency
either), so that building the command's parser costs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

__all__ = ["CACHE_ENV", "DEFAULT_DESCRIPTION", "cache_dir"]

#: The variable that, set, names the cache folder itself.
CACHE_ENV: Final = "EMOSIGN_CACHE"
_WINDOWS: Final = os.name == "nt"
#: The cache's place under the user's cache folder.
_UNDER_USER_CACHE: Final = ("emosign", "features")

#: The default, said for people (``--help``, docs).
DEFAULT_DESCRIPTION: Final = (
    f"${CACHE_ENV} if set, else {'/'.join(_UNDER_USER_CACHE)} in the user's cache folder: "
    "$XDG_CACHE_HOME or ~/.cache (%LOCALAPPDATA% on Windows)"
)


def cache_dir() -> Path:
    """The folder where derived files (video features) are cached.

    Returns
    -------
    Path
        ``$EMOSIGN_CACHE`` if it is set and not empty; else ``emosign/features`` under
        ``$XDG_CACHE_HOME`` (if set to an absolute path, as the XDG specification asks) or
        ``~/.cache``; on Windows under ``%LOCALAPPDATA%`` (default ``~/AppData/Local``).
        Not created here: the writer creates it when it first writes.
    """
    given = os.environ.get(CACHE_ENV)
    if given:
        return Path(given).expanduser()
    if _WINDOWS:
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base.joinpath(*_UNDER_USER_CACHE)
