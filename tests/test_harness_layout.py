"""The MLLM harness's layout: the stages share public building blocks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "emosign" / "harness"


def _emosign_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every ``from emosign... import name`` in a file, lazy ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("emosign"):
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names if alias.name.startswith("emosign")]
    return found


def test_the_extraction_stage_imports_no_private_name_of_another_module():
    private = [f"{module}.{name}" for module, name in _emosign_imports(HARNESS / "extract.py")
               if name.startswith("_") and not name.endswith("__")]  # __version__ is public
    assert not private, f"extract.py imports private names: {private}"


@pytest.mark.parametrize("building_block", ["runfiles.py", "parallel.py"])
def test_the_building_blocks_import_neither_stage(building_block):
    # runner and extract import them; the other way round would be a cycle.
    modules = {module for module, _ in _emosign_imports(HARNESS / building_block)}
    assert not modules & {"emosign.harness.runner", "emosign.harness.extract"}
