"""The tutorial notebook (docs/tutorial.ipynb) runs from top to bottom, its figures inline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import REAL_LABELS

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb"


@pytest.mark.slow
def test_the_tutorial_notebook_runs(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="the test extra's nbclient is not installed")
    nbclient = pytest.importorskip("nbclient", reason="the test extra's nbclient is not installed")
    pytest.importorskip("ipykernel", reason="the test extra's ipykernel is not installed")
    if not REAL_LABELS:
        pytest.skip("EMOSIGN_LABELS is not set: the notebook reads the real label file")
    # The kernel inherits this environment: the real labels, offline, an empty cache and home.
    root = str(Path(__file__).resolve().parent.parent)
    monkeypatch.setenv("EMOSIGN_LABELS", str(Path(REAL_LABELS).resolve()))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        "the stored notebook holds outputs: store it clean, CI runs it"
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4, "the figures are shown inline"
