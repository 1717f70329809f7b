"""emosign: the reference toolkit for EmoSign, sentiment and emotion in American Sign Language.

The names below are the package's public API; everything a user needs for the main jobs is
importable from here::

    from emosign import load_emosign, evaluate, compare

    clips = load_emosign("clips")                       # a datasets.Dataset, cached
    result = evaluate("sentiment_3", "my_model.csv")    # scores with 95% intervals

Each public module (``emosign.metrics``, ``emosign.video``, ``emosign.harness.runner``, ...)
declares its own names in ``__all__``; modules whose names start with an underscore are
internal and may change without notice.

The names are imported on first use (PEP 562): importing ``datasets`` costs about a second
and the scorer does not need it, and ``__version__`` asks ``importlib.metadata``, which costs
more than the rest of ``import emosign``.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emosign.errors import EmosignError, InputError
    from emosign.labels import Clip, Labels, load_labels
    from emosign.loader import EmoSign, load_emosign
    from emosign.metrics import compare, evaluate
    from emosign.tasks import TASKS, Task, get_task
    from emosign.vocab import TASK_NAMES

#: Public name -> the module that defines it.
_LAZY = {
    "EmoSign": "emosign.loader",
    "load_emosign": "emosign.loader",
    "Clip": "emosign.labels",
    "Labels": "emosign.labels",
    "load_labels": "emosign.labels",
    "evaluate": "emosign.metrics",
    "compare": "emosign.metrics",
    "TASKS": "emosign.tasks",
    "TASK_NAMES": "emosign.vocab",
    "Task": "emosign.tasks",
    "get_task": "emosign.tasks",
    "EmosignError": "emosign.errors",
    "InputError": "emosign.errors",
}

__all__ = [
    "TASKS",
    "TASK_NAMES",
    "Clip",
    "EmoSign",
    "EmosignError",
    "InputError",
    "Labels",
    "Task",
    "__version__",
    "compare",
    "evaluate",
    "get_task",
    "load_emosign",
    "load_labels",
]


@functools.cache
def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("emosign")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'emosign' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
