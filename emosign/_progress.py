"""One progress bar for every long job: tqdm on stderr, quiet when asked or not on a terminal.

In a Jupyter kernel the bar is a widget when ``ipywidgets`` is installed, and otherwise tqdm's
text bar in the cell's output, never ``tqdm.auto``'s "IProgress not found" warning: neither
emosign's own bar nor, through :func:`import_tqdm_auto`, the bars of ``datasets``, which
imports ``tqdm.auto`` (and would print that warning) when emosign's loader imports it.

The libraries emosign calls have bars and logs of their own (``datasets`` prints "Generating
test split" for every config it builds); the ``emosign`` command keeps them off unless
``--verbose`` (:func:`library_output`).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "import_tqdm_auto",
    "in_jupyter",
    "library_output",
    "progress_bar",
]

#: The libraries whose bars and logs :func:`library_output` sets: (module, environment
#: variable that turns its bars off when it is imported, its log level's variable).
_LIBRARIES = (
    ("datasets", "HF_DATASETS_DISABLE_PROGRESS_BARS", "DATASETS_VERBOSITY"),
    ("huggingface_hub", "HF_HUB_DISABLE_PROGRESS_BARS", "HF_HUB_VERBOSITY"),
)


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


def import_tqdm_auto() -> None:
    """Import ``tqdm.auto`` (as ``datasets`` does on its import) without its warning.

    In a Jupyter kernel without ``ipywidgets``, ``tqdm.auto`` warns "IProgress not found"
    when it is first imported, and then gives tqdm's text bar anyway: the bar emosign's own
    :func:`progress_bar` shows there too. Imported once here, under a filter of that warning,
    it is not imported (nor warns) again. Outside a kernel it does nothing.
    """
    if "tqdm.auto" in sys.modules or not in_jupyter():
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"IProgress not found")
        importlib.import_module("tqdm.auto")


@contextmanager
def library_output(*, verbose: bool = False) -> Iterator[None]:
    """Within: the progress bars and info logs of ``datasets`` and ``huggingface_hub`` off,
    or on with ``verbose``; as they were after. emosign's own bar is not concerned.

    A library imported within reads the setting from its environment variables
    (``HF_DATASETS_DISABLE_PROGRESS_BARS``, ``DATASETS_VERBOSITY``, and the ``HF_HUB_``
    ones): off, they are set unless the user set them; ``verbose`` overrides them. A library
    imported before is told directly. One imported within keeps the setting for the rest of
    the process, which for the ``emosign`` command is the command.

    Parameters
    ----------
    verbose : bool, default False
        Show the libraries' bars and their logs from INFO up; else no bars, WARNING up.
    """
    level = logging.INFO if verbose else logging.WARNING
    saved_env = {name: os.environ.get(name) for _, *names in _LIBRARIES for name in names}
    undo = []
    for module, bars_off, verbosity in _LIBRARIES:
        if verbose:  # asked for on the command line: it wins over the environment
            os.environ.pop(bars_off, None)
            os.environ[verbosity] = "info"
        else:
            os.environ.setdefault(bars_off, "1")
            os.environ.setdefault(verbosity, "warning")
        if module in sys.modules:
            undo.append(_set_loaded(module, shown=verbose, level=level))
    try:
        yield
    finally:
        for restore in undo:
            restore()
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _set_loaded(module: str, *, shown: bool, level: int):
    """Set the bars and log level of a library already imported; return what undoes it."""
    # Both libraries' public switches (datasets.utils and huggingface_hub.utils export them).
    bars = importlib.import_module("datasets.utils" if module == "datasets" else "huggingface_hub.utils")
    disabled = bars.are_progress_bars_disabled
    turn = {True: bars.enable_progress_bars, False: bars.disable_progress_bars}
    logger = logging.getLogger(module)
    was_shown, was_level = not disabled(), logger.level
    with warnings.catch_warnings():
        # The user's own environment variable has the last word, and the library says so.
        warnings.simplefilter("ignore")
        turn[shown]()
    logger.setLevel(level)

    def restore() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            turn[was_shown]()
        logger.setLevel(was_level)

    return restore
