"""Progress bars in a Jupyter kernel: a text bar without ipywidgets, never a warning."""

from __future__ import annotations

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
