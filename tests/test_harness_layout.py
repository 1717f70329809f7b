"""The MLLM harness's layout: the stages share public building blocks, and old names stay."""

from __future__ import annotations

import ast
import importlib
import warnings
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[1] / "emosign" / "harness"

# Every name emosign.harness.runner offered before runfiles.py and parallel.py took over a
# run's files and the asking (its own names and those it imported from the package).
RUNNER_PUBLIC_NAMES = (
    # defined in runner.py then
    "ClipError", "DEFAULT_CONCURRENCY", "DEFAULT_JPEG_QUALITY", "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_SIDE", "DEFAULT_OUT", "MAX_FPS", "MAX_TIMEOUT", "RunFiles", "RunLockedError",
    "RunSummary", "STOP_AFTER_FAILED_REQUESTS", "ask_in_parallel", "build_messages",
    "encode_jpeg", "find_runs", "format_scores", "format_summary", "message_frames",
    "message_prompt", "model_slug", "read_cache", "read_manifest", "run_mllm", "score_run",
    # imported from other emosign modules
    "ChatFn", "ConnectionFailed", "DEFAULT_PROTOCOL", "DEFAULT_TIMEOUT", "EMOSIGN_MAX_FRAMES",
    "FROM_PROTOCOL", "Frames", "FromProtocol", "HARNESS_TASKS", "MLLMError", "Message",
    "OpenAIChat", "Prompt", "RequestError", "RetryPolicy", "SCORED_TASKS", "VideoError",
    "call_with_retries", "get_protocol", "parse_counts", "parse_joint", "progress_bar",
    "public_url", "read_answer", "read_prompt_file", "redact", "resolve_videos",
    "sample_frames", "write_atomically",
)


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


def test_every_old_public_name_of_the_runner_still_imports_from_it_and_its_old_name():
    runner = importlib.import_module("emosign.harness.runner")
    missing = [name for name in RUNNER_PUBLIC_NAMES if not hasattr(runner, name)]
    assert not missing, f"emosign.harness.runner no longer has {missing}"
    old = importlib.import_module("emosign.baselines.mllm")
    for name in RUNNER_PUBLIC_NAMES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(old, name)
        assert value is getattr(runner, name), name
        assert any("moved to emosign.harness.runner" in str(w.message) for w in caught), name
