"""The MLLM harness's layout: the stages share public building blocks."""

from __future__ import annotations

import ast
import re
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


# --- the settings: every default defined once, in emosign.harness.config --------------------


def test_the_keyword_forms_of_the_configs_name_exactly_their_fields():
    import dataclasses
    import typing

    from emosign.harness.config import (
        ClientConfig,
        ClientOptions,
        FrameConfig,
        FrameOptions,
        RunOptions,
    )

    for config, options in ((ClientConfig, ClientOptions), (FrameConfig, FrameOptions)):
        assert set(typing.get_type_hints(options)) == {f.name for f in dataclasses.fields(config)}
    assert set(typing.get_type_hints(RunOptions)) == (
        set(typing.get_type_hints(ClientOptions)) | set(typing.get_type_hints(FrameOptions)))


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda c, f: c(timeout=0), "timeout must be a finite number > 0 and < 86400, not 0"),
    (lambda c, f: c(timeout=float("inf")), "timeout must be"),
    (lambda c, f: c(concurrency=0), "concurrency must be a whole number >= 1, not 0"),
    (lambda c, f: c(concurrency=2.0), "concurrency must be a whole number"),
    (lambda c, f: c(temperature=-0.1), "temperature must be"),
    (lambda c, f: c(max_tokens=True), "max_tokens must be a whole number"),
    (lambda c, f: c(api_key_env=""), "api_key_env must name an environment variable"),
    (lambda c, f: c(base_url=""), "base_url must be a URL or None"),
    (lambda c, f: c(retry=3), "retry must be a RetryPolicy"),
    (lambda c, f: f(fps=0), "fps must be a finite number > 0 and < 1000, not 0"),
    (lambda c, f: f(max_frames=0), "max_frames must be a whole number >= 1, not 0"),
    (lambda c, f: f(max_side=-5), "max_side must be"),
    (lambda c, f: f(jpeg_quality=96), "jpeg_quality must be at most 95, not 96"),
    (lambda c, f: f(jpeg_quality=0), "jpeg_quality must be a whole number >= 1, not 0"),
])
def test_a_config_out_of_range_is_refused_naming_the_parameter(make, fragment):
    from emosign.errors import InputError
    from emosign.harness.config import ClientConfig, FrameConfig

    with pytest.raises(InputError, match=re.escape(fragment)):
        make(ClientConfig, FrameConfig)


def test_keyword_settings_override_a_config_and_an_unknown_one_is_a_type_error(tmp_path):
    from emosign.harness.config import ClientConfig, FrameConfig, RetryPolicy
    from emosign.harness.runner import run_mllm

    with pytest.raises(TypeError, match="unexpected keyword argument 'fsp'"):
        run_mllm(model="m", task="sentiment", video_dir=tmp_path, client=lambda m: "",
                 fsp=2.0)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="concurrency must be"):
        run_mllm(model="m", task="sentiment", video_dir=tmp_path, client=lambda m: "",
                 client_config=ClientConfig(concurrency=2), concurrency=0)
    with pytest.raises(ValueError, match="max_side must be"):
        run_mllm(model="m", task="sentiment", video_dir=tmp_path, client=lambda m: "",
                 frame_config=FrameConfig(), max_side=0)
    with pytest.raises(ValueError, match="max_retries must be"):
        RetryPolicy(max_retries=-1)


def test_the_command_line_takes_its_defaults_from_the_configs():
    from emosign.cli import build_parser
    from emosign.harness.config import EXTRACTION_CLIENT, ClientConfig, FrameConfig

    parser = build_parser()
    run = parser.parse_args(["mllm", "run", "--model", "m", "--task", "joint", "--video-dir", "v"])
    assert (run.api_key_env, run.timeout, run.concurrency) == (
        ClientConfig.api_key_env, ClientConfig.timeout, ClientConfig.concurrency)
    assert (run.fps, run.max_frames, run.max_side) == (
        FrameConfig.fps, FrameConfig.max_frames, FrameConfig.max_side)
    extract = parser.parse_args(["mllm", "extract", "runs", "--model", "m"])
    assert (extract.api_key_env, extract.timeout, extract.concurrency, extract.max_tokens) == (
        EXTRACTION_CLIENT.api_key_env, EXTRACTION_CLIENT.timeout, EXTRACTION_CLIENT.concurrency,
        EXTRACTION_CLIENT.max_tokens)
    assert EXTRACTION_CLIENT.max_tokens == 256 and ClientConfig.max_tokens == 1024


def test_no_harness_module_restates_a_default_of_the_configs():
    # The literals of the defaults appear in config.py alone (and in the docs).
    pattern = re.compile(r"\b(?:timeout|concurrency|max_side|jpeg_quality|max_tokens)\s*"
                         r"(?::[^=,)]*)?=\s*(?:120|4|512|85|1024|256)\b")
    for path in sorted(HARNESS.glob("*.py")) + sorted((HARNESS.parent / "cli").glob("*.py")):
        if path.name != "config.py":
            assert not pattern.search(path.read_text(encoding="utf-8")), path.name


def test_no_test_file_imports_another_and_one_fake_server_serves_them_all():
    tests = Path(__file__).resolve().parent
    for path in sorted(tests.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for alias in node.names]
        assert not [m for m in imported if m.startswith("test_")], path.name
        # A chat server is made in tests/fakes.py alone (test_hub's server is the Hub's).
        if path.name not in ("test_hub.py", Path(__file__).name):
            assert "HTTPServer" not in path.read_text(encoding="utf-8"), path.name


# --- every harness module: its job, its public names, numpydoc ------------------------------

DOCUMENTED = sorted(p for p in HARNESS.glob("*.py") if p.name != "__init__.py")


def _public_functions(tree: ast.Module):
    """(qualified name, node) of every public function and method, properties left out."""
    def visit(nodes, prefix=""):
        for node in nodes:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                yield from visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                yield f"{prefix}{node.name}", node
    yield from visit(tree.body)


@pytest.mark.parametrize("path", DOCUMENTED, ids=lambda p: p.name)
def test_a_harness_module_says_its_job_and_lists_its_public_names(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), path.name
    exported = next(node for node in tree.body if isinstance(node, ast.Assign)
                    and any(getattr(t, "id", None) == "__all__" for t in node.targets))
    names = [elt.value for elt in exported.value.elts]
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(t, ast.Name)}
    assert set(names) <= defined, set(names) - defined
    assert not [n for n in names if n.startswith("_")]


@pytest.mark.parametrize("path", DOCUMENTED, ids=lambda p: p.name)
def test_every_public_function_has_a_numpydoc_docstring_naming_each_parameter(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for name, node in _public_functions(tree):
        doc = ast.get_docstring(node)
        assert doc, f"{path.name}: {name} has no docstring"
        assert not re.search(r"^\s*(Args|Arguments|Returns|Raises|Yields):\s*$", doc, re.M), \
            f"{path.name}: {name} has a Google-style section"
        if any(isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list):
            continue
        arguments = node.args.args + node.args.kwonlyargs
        params = [a.arg for a in arguments if a.arg not in ("self", "cls")]
        if node.args.kwarg:
            params.append("**" + node.args.kwarg.arg)
        if not params:
            continue
        assert "Parameters\n----------" in doc, f"{path.name}: {name} has no Parameters section"
        for param in params:
            # "name : type" (or "a, b : type"), or "**options" alone.
            bare = param.lstrip("*")
            pattern = (rf"^\*\*{bare}$" if param.startswith("**")
                       else rf"^(?:\w+, )*{bare}(?:, \w+)* : \S")
            assert re.search(pattern, doc, re.M), f"{path.name}: {name}: {param} is not listed"
