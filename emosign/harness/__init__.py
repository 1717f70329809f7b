"""The MLLM harness: ask a multimodal model about every clip, the paper's way, and score it.

It is not a baseline: it runs someone else's model. One module per job:

- :mod:`emosign.harness.prompts`: the prompts and their answer formats;
- :mod:`emosign.harness.client`: the OpenAI-compatible client, its errors and retries;
- :mod:`emosign.harness.runfiles`: a run's files on disk (found, read, written, locked);
- :mod:`emosign.harness.parallel`: asking a model about many items at once;
- :mod:`emosign.harness.runner`: the resumable run over clips (:func:`run_mllm`) and its
  scoring (:func:`score_run`);
- :mod:`emosign.harness.answers`: reading a free-text answer into labels;
- :mod:`emosign.harness.extract`: the paper's second stage, a text model naming the label of
  each answer the rules cannot read (cached and resumable like the first);
- :mod:`emosign.harness.lmms_eval_task` and :mod:`emosign.harness.lmms_eval_scores`: the same
  prompts as an lmms-eval task, and the scoring of lmms-eval's logged samples;
- :mod:`emosign.harness.inspect_tasks` and :mod:`emosign.harness.inspect_logs`: the same
  frames, prompts, reader and metrics as Inspect tasks (the ``inspect`` extra), and Inspect's
  logs read back into emosign.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any


def _moved(old: str, *new: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` that keeps ``old``'s names importable, with a warning.

    The harness lived in ``emosign.baselines`` and the package root until 0.2; the old
    module names resolve for one release and then go away.
    """

    def __getattr__(name: str) -> Any:
        for module_name in new:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                warnings.warn(
                    f"{old} moved to {module_name}; import {name} from there "
                    f"(the old name goes away in the next release)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                return getattr(module, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__
