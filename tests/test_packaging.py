"""The package metadata: what an install from the folder (and, later, from an index) gets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _decord_marker():
    from packaging.requirements import Requirement

    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        if requirement.name == "decord":
            return requirement.marker
    raise AssertionError("decord is not a dependency")


@pytest.mark.parametrize(("system", "machine", "wanted"), [
    ("Linux", "x86_64", True),
    ("Windows", "AMD64", True),
    ("Darwin", "x86_64", False),   # Intel macOS: decord has no wheel there
    ("Darwin", "arm64", False),
    ("Linux", "aarch64", False),
])
def test_decord_only_where_it_has_wheels(system: str, machine: str, wanted: bool) -> None:
    marker = _decord_marker()
    assert marker.evaluate({"platform_system": system, "platform_machine": machine}) is wanted


def test_pyav_is_always_there_as_the_fallback() -> None:
    assert any(re.match(r"av\b", line) for line in PYPROJECT["project"]["dependencies"])


def test_licence_file_matches_the_declared_licence() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_source_archive_carries_licence_and_citation() -> None:
    included = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").split()
    assert {"LICENSE", "CITATION.cff", "README.md"} <= set(included)


def test_index_page_has_no_relative_links_or_images() -> None:
    readme = PYPROJECT["project"]["readme"]
    page = (ROOT / readme["file"]).read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]+)\)", page)
    assert targets, "the index page links the paper and the dataset"
    assert all(t.startswith("https://") for t in targets), targets
    assert "![" not in page


def test_project_urls_are_absolute() -> None:
    urls = PYPROJECT["project"]["urls"]
    assert urls and all(u.startswith("https://") for u in urls.values())


def test_no_message_suggests_installing_from_an_index() -> None:
    # emosign is installed from its folder; "emosign[extra]" would ask an index for it.
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "emosign").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"pip install ['\"]?emosign\b", line)
    ]
    assert not offenders


def test_every_module_is_on_the_map_in_docs_design() -> None:
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    modules = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "emosign").rglob("*.py"))
    assert len(modules) > 40
    missing = [m for m in modules if f"`{m}`" not in design]
    assert not missing, f"docs/design.md does not list {missing}"
