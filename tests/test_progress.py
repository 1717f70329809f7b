"""Progress bars in a Jupyter kernel: a text bar without ipywidgets, never a warning."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import types
import warnings

from emosign import _progress


def test_a_kernel_without_widgets_gets_a_text_bar_and_no_warning(monkeypatch):
    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails
    assert _progress.in_jupyter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with _progress.progress_bar(3, "clips") as bar:
            assert not bar.disable  # a cell shows stderr: the bar is on
            bar.update(3)
    assert type(bar).__module__ == "tqdm.std"


def test_outside_a_kernel_the_bar_follows_the_terminal(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    assert not _progress.in_jupyter()
    with _progress.progress_bar(1, "clips", enabled=False) as bar:
        assert bar.disable


# A Jupyter kernel without ipywidgets, as tqdm.auto and emosign detect one, in a fresh process
# (tqdm.auto warns when first imported).
_KERNEL_WITHOUT_WIDGETS = """
import sys, types, warnings
warnings.simplefilter("always")
shell = types.SimpleNamespace(config={"IPKernelApp": {}})
sys.modules["IPython"] = types.SimpleNamespace(get_ipython=lambda: shell)
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
sys.modules["ipywidgets"] = None
"""


def _in_a_kernel(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", _KERNEL_WITHOUT_WIDGETS + code],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_loader_imports_datasets_in_a_kernel_without_the_iprogress_warning():
    # datasets alone warns there: the condition is the one a notebook user meets.
    assert "IProgress not found" in _in_a_kernel("import datasets")
    said = _in_a_kernel(
        "import emosign.loader, tqdm.auto, tqdm.std\n"
        "from datasets.utils import tqdm as bar\n"
        "assert issubclass(bar, tqdm.std.tqdm) and not tqdm.auto.tqdm.__module__.endswith('notebook')\n"
        "from emosign import load_emosign\n"
    )
    assert "IProgress" not in said and "Warning" not in said, said


def test_the_hub_imports_huggingface_hub_in_a_kernel_without_the_iprogress_warning():
    # huggingface_hub alone warns there (it imports tqdm.auto); load_labels() from the Hub,
    # before any loader import, must not.
    assert "IProgress not found" in _in_a_kernel("import huggingface_hub.utils.tqdm")
    said = _in_a_kernel("import emosign.hub\nimport huggingface_hub.utils.tqdm\n")
    assert "IProgress" not in said and "Warning" not in said, said


def test_the_libraries_bars_and_logs_are_off_within_and_as_they_were_after():
    from datasets import utils as bars
    from huggingface_hub import utils as hub_bars

    logger = logging.getLogger("datasets")
    before = (bars.are_progress_bars_disabled(), hub_bars.are_progress_bars_disabled(),
              logger.level, os.environ.get("HF_DATASETS_DISABLE_PROGRESS_BARS"))
    with _progress.library_output():
        assert bars.are_progress_bars_disabled() and hub_bars.are_progress_bars_disabled()
        assert logger.level == logging.WARNING
        assert os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] == "1"  # for a later import
    with _progress.library_output(verbose=True):
        assert not bars.are_progress_bars_disabled() and not hub_bars.are_progress_bars_disabled()
        assert logger.level == logging.INFO
    assert (bars.are_progress_bars_disabled(), hub_bars.are_progress_bars_disabled(),
            logger.level, os.environ.get("HF_DATASETS_DISABLE_PROGRESS_BARS")) == before
