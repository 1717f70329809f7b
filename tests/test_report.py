"""Tests for ``emosign report``: what it reads from benchmark, evaluate and MLLM results, what
it says is missing, how it escapes what it reads, where it writes, and the page in a real
headless browser (Debian's chromium)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import SYNTHETIC_ROWS, SYNTHETIC_SINGLE, write_mp4

from emosign import vocab
from emosign.baselines.benchmark import run_benchmark
from emosign.cli import main
from emosign.labels import load_labels
from emosign.metrics import compare, evaluate
from emosign.paper import reported_results
from emosign.records import read_record
from emosign.report import (
    Figure,
    Table,
    build_report,
    collect_results,
    render_markdown,
    write_report,
)

pytest.importorskip("matplotlib")  # the report's figures (emosign[figures])

N_BOOT = 200
PAPER_SENTIMENT_3 = sum(r["task"] == "sentiment_3" for r in reported_results()["rows"])


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory) -> Path:
    from conftest import write_label_file

    root = tmp_path_factory.mktemp("bench")
    labels = write_label_file(root / "labels.csv", SYNTHETIC_ROWS)
    run_benchmark(tasks=["sentiment_3", "emotion_single"], baselines=["majority", "uniform_random"],
                  labels_file=labels, out_dir=root / "out", n_boot=N_BOOT, kfold_repeats=0,
                  progress=False)
    return root / "out"


def bench_copy(bench_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "bench"
    shutil.copytree(bench_dir, copy)
    return copy


class Page(HTMLParser):
    """The tables (as lists of rows of cell text) and image sources of an HTML page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []
        self.scripts = 0
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def leaderboard(page: Page, task_rows: int) -> list[list[str]]:
    return next(t for t in page.tables if len(t) == task_rows + 1)


# --- reading results -----------------------------------------------------------------------


def test_benchmark_results_become_leaderboard_rows_with_intervals(bench_dir):
    results = json.loads((bench_dir / "results.json").read_text())
    collected = collect_results([bench_dir])
    assert collected.sources == (str(bench_dir / "results.json"),)
    ran = [r for r in results["rows"] if not r["reported"] and "skipped" not in r]
    ours = [s for s in collected.systems if s.origin == "benchmark"]
    assert len(ours) == len(ran) == 4
    for row in ran:
        system = next(s for s in ours if (s.task, s.system) == (row["task"], row["system"]))
        assert system.metrics["balanced_accuracy"] == row["metrics"]["balanced_accuracy"]
        assert list(system.intervals["balanced_accuracy"]) == row["ci"]["balanced_accuracy"]
        assert system.confusion_matrix == {k: row["confusion_matrix"][k] for k in ("labels", "matrix")}
    paper = [s for s in collected.systems if s.reported]
    assert len([s for s in paper if s.task == "sentiment_3"]) == PAPER_SENTIMENT_3
    assert collected.missing == ()

    blocks = build_report(collected)
    tables = [b for b in blocks if isinstance(b, Table)]
    board = next(t for t in tables if t.kind == "leaderboard" and t.caption.startswith("sentiment_3"))
    apart = next(t for t in tables if t.kind == "comparison" and t.caption.startswith("sentiment_3"))
    # The systems in one table, the paper's rows apart in another, never ranked.
    assert len(board.rows) == 2 and len(apart.rows) == PAPER_SENTIMENT_3
    assert board.header[:4] == ("system", "kind", "inputs", "rank (same inputs)")
    assert apart.header[:4] == ("system", "kind", "inputs", "n")
    majority = next(r for r in board.rows if r[0] == "majority")
    m, ci = ran[0]["metrics"], ran[0]["ci"]
    assert ran[0]["system"] == "majority" and ran[0]["task"] == "sentiment_3"
    assert majority[1:3] == ("floor", "labels only")
    # wAcc averages over classes of fewer than MIN_CLASS_CLIPS clips here: marked, with a
    # footnote and the small classes' recall with exact intervals after the tables.
    assert majority[5] == (f"{100 * m['balanced_accuracy']:.2f} "
                           f"[{100 * ci['balanced_accuracy'][0]:.1f}, {100 * ci['balanced_accuracy'][1]:.1f}]"
                           " †")
    footnote = blocks[blocks.index(apart) + 1]
    assert type(footnote).__name__ == "Paragraph" and footnote.text.startswith("† unstable")
    small = next(t for t in tables if t.kind == "small-classes" and t.caption.startswith("sentiment_3"))
    assert small.header[2].endswith("recall") and "/" in small.rows[0][2]
    assert all(r[1] == "reported" and r[2] in ("video", "video+caption") for r in apart.rows)
    assert apart.muted == frozenset(range(len(apart.rows))) and not board.muted
    # Ordered by wAcc, best first; ranked among the two floors, which see the same inputs.
    shown = [float(r[5].split()[0]) for r in board.rows]
    assert shown == sorted(shown, reverse=True)
    assert [r[3] for r in board.rows] == (["1 of 2", "2 of 2"] if shown[0] > shown[1] else ["1 of 2"] * 2)
    figures = {b.name for b in blocks if isinstance(b, Figure)}
    assert {"forest-sentiment_3", "forest-emotion_single"} <= figures
    assert sum(name.startswith("confusion-") for name in figures) == 4


def test_an_evaluate_output_is_one_system_named_by_its_file(labels_file, tmp_path):
    names = [r["video_name"] for r in SYNTHETIC_ROWS]
    result = evaluate("sentiment_3", {n: "positive" for n in names}, labels_file=labels_file,
                      n_boot=N_BOOT)
    path = tmp_path / "all_positive.json"
    path.write_text(json.dumps(result))
    collected = collect_results([tmp_path])
    ours = [s for s in collected.systems if not s.reported]
    assert [(s.system, s.task, s.origin) for s in ours] == [("all_positive", "sentiment_3", "evaluate")]
    assert ours[0].metrics == result["metrics"]
    assert ours[0].per_signer == result["per_signer"]
    # The paper's rows for the task come along, marked as reported.
    assert sum(s.reported for s in collected.systems) == PAPER_SENTIMENT_3
    assert "intervals" not in ours[0].note

    narrower = evaluate("sentiment_3", {n: "positive" for n in names}, labels_file=labels_file,
                        n_boot=N_BOOT, ci=0.9)
    path.write_text(json.dumps(narrower))
    [system] = [s for s in collect_results([path]).systems if not s.reported]
    assert "90% intervals, not 95%" in system.note


def test_lower_is_better_metrics_rank_ascending(labels_file, tmp_path):
    from emosign.labels import load_labels as read

    labels = read(labels_file)
    for name, shift in (("off_by_two", 2), ("off_by_one", 1)):
        predictions = [{"video_name": c.video_name,
                        **{e: min(3, v + shift) for e, v in zip(vocab.EMOTION_NAMES, c.intensities)}}
                       for c in labels]
        result = evaluate("emotion_intensity", predictions, labels_file=labels_file, n_boot=N_BOOT)
        (tmp_path / f"{name}.json").write_text(json.dumps(result))
    blocks = build_report(collect_results([tmp_path]))
    forest = next(b for b in blocks if isinstance(b, Figure) and b.name == "forest-emotion_intensity")
    # No reported row on this task: the caption promises none.
    assert "lower is better" in forest.caption and "hollow" not in forest.caption
    assert "below the line" not in forest.caption
    board = next(b for b in blocks if isinstance(b, Table) and b.kind == "leaderboard")
    assert board.header[5] == "MAE [95% CI, lower is better]"
    assert [row[0] for row in board.rows] == ["off_by_one", "off_by_two"]
    assert float(board.rows[0][5].split()[0]) < float(board.rows[1][5].split()[0])
    # Inputs of an evaluated file are not recorded: shown, sorted, but not ranked.
    assert {row[3] for row in board.rows} == {"not ranked: inputs not recorded"}


def test_mllm_runs_bring_their_parse_rates(labels_file, tmp_path):
    pytest.importorskip("PIL")
    from emosign.harness.runner import run_mllm, score_run

    videos = tmp_path / "videos"
    videos.mkdir()
    for row in SYNTHETIC_ROWS:
        write_mp4(videos / f"{row['video_name'].rsplit('_', 1)[1]}.mp4", seconds=0.3, fps=10)
    somewhat_positive = vocab.SENTIMENT_LEVELS[4].phrase
    answers = iter(["I cannot tell."] + [somewhat_positive] * 100)
    out = tmp_path / "runs"
    run_mllm(model="local/model-1", task="sentiment", video_dir=videos, out=out,
             labels_file=labels_file, client=lambda messages: next(answers), concurrency=1)
    score_run(out, labels_file=labels_file, n_boot=N_BOOT)
    assert read_record(out / "results.json").kind == "mllm-score"

    collected = collect_results([out])
    runs = [s for s in collected.systems if s.origin == "mllm"]
    assert {s.task for s in runs} == {"sentiment_7", "sentiment_3"}
    n = len(SYNTHETIC_ROWS)
    for system in runs:
        assert system.system == "local/model-1 (video, sentiment prompt)"
        assert (system.parse["answered"], system.parse["parsed"]) == (n, n - 1)
    page = render_markdown(build_report(collected, figures=False))
    assert f"| {n}/{n} | {n - 1} | {100 * (n - 1) / n:.1f}% |" in page


# --- what is missing -----------------------------------------------------------------------


def test_older_and_broken_files_are_named_and_the_rest_is_rendered(bench_dir, tmp_path):
    bench = bench_copy(bench_dir, tmp_path)
    results = json.loads((bench / "results.json").read_text())
    for row in results["rows"]:
        row.pop("confusion_matrix", None)  # as written before confusion matrices were kept
    (bench / "results.json").write_text(json.dumps(results))
    (bench / "broken.json").write_text('{"task": "sentiment_3", ')
    (bench / "notes.json").write_text('{"comment": "not a result"}')
    unscored = bench / "mllm" / "some-model"
    unscored.mkdir(parents=True)
    (unscored / "joint.video.run.json").write_text("{}")

    collected = collect_results([bench])
    missing = "\n".join(collected.missing)
    assert "no confusion matrix for 4 row(s)" in missing and "rerun" in missing
    assert "broken.json: not readable as JSON" in missing
    assert "notes.json: not a results file" in missing
    assert f"emosign mllm score {bench / 'mllm'}" in missing and "not scored yet" in missing
    out = tmp_path / "report"
    write_report([bench], out)
    page = Page((out / "report.html").read_text())
    text = (out / "report.html").read_text()
    assert "What is missing" in text and html.escape("broken.json") in text
    assert len(leaderboard(page, 2)) == 3
    assert len(leaderboard(page, PAPER_SENTIMENT_3)) == 1 + PAPER_SENTIMENT_3
    assert not any("confusion" in p.name for p in (out / "figures").iterdir())


def test_records_are_read_by_kind_and_newer_or_unknown_ones_are_refused(bench_dir, labels_file,
                                                                        tmp_path):
    bench = bench_copy(bench_dir, tmp_path)
    results = json.loads((bench / "results.json").read_text())
    assert (results["kind"], results["schema_version"]) == ("benchmark", 1)
    (bench / "newer.json").write_text(json.dumps({**results, "schema_version": 99}))
    (bench / "future.json").write_text(json.dumps({**results, "kind": "leaderboard-v9"}))
    (bench / "flat.json").write_text(json.dumps({**results, "rows": {"a": 1}}))
    old = {k: v for k, v in results.items() if k not in ("kind", "schema_version")}
    (bench / "unstamped.json").write_text(json.dumps(old))  # as written before records
    names = [r["video_name"] for r in SYNTHETIC_ROWS]
    both = compare("sentiment_3", {n: "positive" for n in names}, {n: "negative" for n in names},
                   labels_file=labels_file, n_boot=N_BOOT)
    (bench / "ab.json").write_text(json.dumps(both))

    collected = collect_results([bench])
    missing = {Path(m.split(": ", 1)[0]).name: m for m in collected.missing}
    assert "schema_version 99, newer than this emosign reads (1): upgrade emosign" in missing["newer.json"]
    assert "unknown kind 'leaderboard-v9'" in missing["future.json"]
    assert "'rows' is not a list" in missing["flat.json"]
    assert 'not a results file of emosign (an object without "kind" and "schema_version")' in \
        missing["unstamped.json"]
    assert "results of `emosign compare`, which the report does not show" in missing["ab.json"]
    assert all(m.endswith("; left out") and "\n" not in m for m in missing.values())
    assert collected.sources == (str(bench / "results.json"),)
    assert len([s for s in collected.systems if s.origin == "benchmark"]) == 4


def test_a_results_file_with_a_bad_row_is_named_not_a_crash(bench_dir, tmp_path):
    bench = bench_copy(bench_dir, tmp_path)
    results = json.loads((bench / "results.json").read_text())
    results["rows"][0]["task"] = "../../etc/passwd"
    results["rows"][1]["metrics"]["balanced_accuracy"] = "NaN-ish"
    (bench / "results.json").write_text(json.dumps(results))
    collected = collect_results([bench])
    assert any("unknown task '../../etc/passwd'" in m for m in collected.missing)
    odd = next(s for s in collected.systems if s.system == results["rows"][1]["system"]
               and s.task == results["rows"][1]["task"])
    assert odd.metrics["balanced_accuracy"] is None  # shown as "-", never as the string


def test_malformed_parts_are_named_and_the_rest_is_rendered(bench_dir, tmp_path):
    bench = bench_copy(bench_dir, tmp_path)
    results = json.loads((bench / "results.json").read_text())
    ran = [r for r in results["rows"] if "metrics" in r and not r["reported"]]
    ran[0]["per_signer"] = ["Ben", "Cory"]
    ran[1]["confusion_matrix"] = {"labels": ["a", "b"], "matrix": [[1]]}
    ran[2]["confusion_matrix"] = {"matrix": [[1, 0], [0, 1]]}
    del results["rows"][-1]["task"]
    (bench / "results.json").write_text(json.dumps(results))
    (bench / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    out = tmp_path / "report"
    collected = write_report([bench, bench / "results.json"], out)  # the same file twice
    missing = "\n".join(collected.missing)
    assert f"{ran[0]['system']} on {ran[0]['task']}: per-signer results are not a table" in missing
    assert "the confusion matrix cannot be read (1 rows for 2 classes)" in missing
    assert "the confusion matrix cannot be read ('labels')" in missing
    assert f"row {len(results['rows'])} cannot be read (KeyError: 'task')" in missing
    assert "deep.json: not readable as JSON" in missing
    assert collected.sources == (str(bench / "results.json"),)  # read once
    assert len([s for s in collected.systems if s.origin == "benchmark"]) == 4
    assert len(list((out / "figures").glob("confusion-*.png"))) == 2


def test_soft_targets_and_subsets_are_said(labels_file, tmp_path):
    names = [r["video_name"] for r in SYNTHETIC_ROWS]
    full = evaluate("sentiment_3", {n: "negative" for n in names}, labels_file=labels_file,
                    n_boot=N_BOOT)
    subset = evaluate("sentiment_3", {n: "negative" for n in names}, labels_file=labels_file,
                      n_boot=N_BOOT, clips=names[:6])
    soft = evaluate("emotion_single", {n: "happiness" for n in SYNTHETIC_SINGLE},
                    labels_file=labels_file, n_boot=N_BOOT, target="soft")
    for name, result in (("full", full), ("subset", subset), ("soft", soft)):
        (tmp_path / f"{name}.json").write_text(json.dumps(result))
    collected = collect_results([tmp_path])
    assert any("soft.json: scored against soft targets" in m for m in collected.missing)
    assert {s.system for s in collected.systems if not s.reported} == {"full", "subset"}
    small = next(s for s in collected.systems if s.system == "subset")
    assert "scored on 6 of the task's 12 clips" in small.note
    table = next(b for b in build_report(collected, figures=False)
                 if isinstance(b, Table) and b.kind == "per-signer")
    # The two systems saw different clips of some signers: counts go in the cells.
    full_row = next(r for r in table.rows if r[0] == "full")
    assert table.header[:2] == ("system", "kind")
    varying = [i for i, h in enumerate(table.header[2:], 2) if "(n=" not in h]
    assert varying and all("(n=" in full_row[i] for i in varying)


def test_nothing_readable_is_an_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no results found"):
        collect_results([tmp_path / "empty"])
    assert main(["report", str(tmp_path / "absent")]) == 2
    assert "results not found" in capsys.readouterr().err


def test_different_label_files_are_flagged(bench_dir, labels_file, tmp_path):
    names = [r["video_name"] for r in SYNTHETIC_ROWS]
    result = evaluate("sentiment_3", {n: "neutral" for n in names}, labels_file=labels_file,
                      n_boot=N_BOOT)
    result["labels"]["sha256"] = "f" * 64
    (tmp_path / "other.json").write_text(json.dumps(result))
    collected = collect_results([bench_dir, tmp_path / "other.json"])
    assert any("different label files" in m for m in collected.missing)


# --- escaping and where files go -----------------------------------------------------------


HOSTILE = [
    '<img src=x onerror=alert(1)>|../../x',
    "x](https://evil.example/pixel.png) y",
    "__init__ &lt;script&gt; $\\undefinedmacro$",
    "maj\ud800ority",  # a lone surrogate, as JSON allows
    "w" * 5000,
]


def test_names_from_files_are_escaped_and_never_become_paths(bench_dir, tmp_path):
    bench = bench_copy(bench_dir, tmp_path)
    results = json.loads((bench / "results.json").read_text())
    for row, name in zip(results["rows"], HOSTILE):
        row["system"] = name
    (bench / "results.json").write_text(json.dumps(results))
    out = tmp_path / "report"
    write_report([bench], out)
    text = (out / "report.html").read_text()
    assert "<img src=x" not in text and html.escape(HOSTILE[0]) in text
    assert "&amp;lt;script&amp;gt;" in text and "w" * 300 not in text
    page = Page(text)
    assert page.scripts == 0 and all(src.startswith("data:image/png;base64,") for src in page.images)
    # Every figure was still drawn: odd names cannot stop matplotlib.
    assert len(list((out / "figures").glob("confusion-*.png"))) == 4
    markdown = (out / "report.md").read_text()
    assert "\\<img src=x onerror=alert(1)>\\|../../x" in markdown
    # The only links are the figures' and the contents': an escaped "](" in a name makes none.
    links = re.findall(r"(?<!\\)\]\((?!\\)", markdown)
    assert len(links) == len(re.findall(r"\]\(figures/[a-z0-9_-]+\.png\)", markdown)) + len(
        re.findall(r"\]\(#[a-z0-9_-]+\)", markdown))
    assert re.findall(r"\]\(figures/", markdown)
    assert "](https://evil" not in markdown
    assert "\\_\\_init\\_\\_ \\&lt;script\\&gt;" in markdown
    written = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert all(re.fullmatch(r"\.emosign-report|report\.(html|md)|figures(/(forest|confusion)-[a-z0-9_]+(-\d\d)?\.png)?", w)
               for w in written), written
    assert not (tmp_path / "x").exists()


URL_NAMES = ["see https://evil.example/x", "www.evil.example", "mail me@evil.example",
             "ftp://evil.example/f", "<https://evil.example/a>", "[x](https://evil.example/b)"]


def test_names_holding_urls_stay_inert_in_the_page_and_on_github(bench_dir, tmp_path):
    import cmarkgfm  # GitHub's own markdown renderer (cmark-gfm), with its autolinks

    bench = bench_copy(bench_dir, tmp_path)
    results = json.loads((bench / "results.json").read_text())
    for row, name in zip(results["rows"], URL_NAMES):
        row["system"] = name
    (bench / "results.json").write_text(json.dumps(results))
    out = tmp_path / "report"
    write_report([bench], out)
    rendered = {"report.html": (out / "report.html").read_text(),
                "report.md": cmarkgfm.github_flavored_markdown_to_html((out / "report.md").read_text())}
    for name, page in rendered.items():
        targets = re.findall(r'href="([^"]*)"', page)
        assert targets and all(t.startswith("#") for t in targets), (name, targets)
        assert "evil.example" not in "".join(re.findall(r'src="([^"]*)"', page))
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        for system in URL_NAMES[:4]:
            assert system in text, (name, system)  # shown as written, only inert


def test_markdown_escapes_only_what_needs_it(bench_dir, tmp_path):
    out = tmp_path / "report"
    write_report([bench_dir], out)
    markdown = (out / "report.md").read_text()
    assert "uniform_random" in markdown and "\\_" not in markdown
    assert "(n=" in markdown and "\\(" not in markdown and "\\)" not in markdown
    # Per-signer headers count clips in whole numbers.
    assert not re.search(r"n=\d+\.0\b", markdown)


def test_markdown_twin_links_every_figure_and_has_the_same_tables(bench_dir, tmp_path):
    out = tmp_path / "report"
    write_report([bench_dir], out)
    markdown = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", markdown)
    assert links and all((out / link).stat().st_size > 0 for link in links)
    page = Page((out / "report.html").read_text())
    assert len(links) == len(page.images)
    assert markdown.count("\n|---|") == len(page.tables)


def test_out_dir_rules(bench_dir, tmp_path, capsys):
    out = tmp_path / "report"
    write_report([bench_dir], out)
    (out / "report.md").write_text("stale")
    write_report([bench_dir], out)  # an earlier report is replaced without asking
    assert (out / "report.md").read_text().startswith("# EmoSign report")

    other = tmp_path / "notes"
    other.mkdir()
    (other / "draft.txt").write_text("keep me")
    assert main(["report", str(bench_dir), "--out", str(other)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (other / "draft.txt").read_text() == "keep me"

    # A folder that merely looks like a report (a paper's figures/ and report.md) is not one.
    paper = tmp_path / "paper"
    (paper / "figures").mkdir(parents=True)
    (paper / "figures" / "fig1.pdf").write_text("%PDF")
    (paper / "report.md").write_text("my notes")
    assert main(["report", str(bench_dir), "--out", str(paper)]) == 2
    assert (paper / "figures" / "fig1.pdf").is_file()
    # Nor is a report someone added their own files to.
    (out / "figures" / "fig1.pdf").write_text("%PDF")
    assert main(["report", str(bench_dir), "--out", str(out)]) == 2
    assert (out / "figures" / "fig1.pdf").is_file()


def test_the_report_never_replaces_the_results_it_reads(bench_dir, tmp_path, capsys):
    bench = bench_copy(bench_dir, tmp_path)
    before = sorted(p.relative_to(bench) for p in bench.rglob("*"))
    for out in (bench, tmp_path):  # the results folder itself, or a folder holding it
        assert main(["report", str(bench), "--out", str(out), "--overwrite"]) == 2
        assert "which this reads" in capsys.readouterr().err
    assert sorted(p.relative_to(bench) for p in bench.rglob("*")) == before


def test_a_failure_leaves_the_earlier_report_untouched(bench_dir, tmp_path, monkeypatch):
    out = tmp_path / "report"
    write_report([bench_dir], out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(blocks):
        raise RuntimeError("disk full")

    monkeypatch.setattr("emosign.report.render_html", broken)
    with pytest.raises(RuntimeError):
        write_report([bench_dir], out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


def test_cli_default_out_is_inside_the_results_folder(bench_dir, tmp_path, capsys):
    bench = bench_copy(bench_dir, tmp_path)
    assert main(["report", str(bench)]) == 0
    assert (bench / "report" / "report.html").is_file()
    assert "report.html" in capsys.readouterr().out
    assert main(["report", str(bench), str(bench / "results.json")]) == 2  # which folder?


def test_report_on_the_real_labels(real_labels, tmp_path):
    run_benchmark(tasks=["sentiment_3"], baselines=["majority"], labels_file=real_labels,
                  out_dir=tmp_path / "bench", n_boot=N_BOOT, kfold_repeats=0, progress=False)
    collected = write_report([tmp_path / "bench"], tmp_path / "report")
    majority = next(s for s in collected.systems if s.system == "majority")
    assert majority.n == 200
    counts = Counter(c.sentiment_3 for c in load_labels(real_labels))
    # Leave-one-signer-out majority: the most common class of the other signers' clips,
    # which on EmoSign is "negative" (121 of 200 clips) for every fold.
    assert counts.most_common(1)[0] == ("negative", 121)
    assert majority.metrics["accuracy"] == pytest.approx(counts["negative"] / 200)


# --- in a real browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")

# Appended to a copy of the page: once everything has loaded, it writes what the browser
# made of the page into an attribute that --dump-dom prints. The report itself has no script.
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight]);
  const tables = [...document.querySelectorAll("table")].map(t => t.rows.length);
  const widest = Math.max(...[...document.images].map(i => i.getBoundingClientRect().width));
  const headings = [...document.querySelectorAll("h2, h3")].map(h => h.textContent);
  const kinds = [...document.querySelectorAll("table")].map(
    t => [...t.querySelectorAll("th")].some(th => th.textContent === "kind"));
  const contents = [...document.querySelectorAll("nav a")].map(
    a => document.getElementById(a.getAttribute("href").slice(1)) !== null);
  document.body.setAttribute("data-probe", JSON.stringify({images, tables, widest, headings, kinds, contents}));
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_page_renders_in_headless_chromium(bench_dir, tmp_path):
    assert CHROMIUM, "CI must have chromium: .ci/run installs Debian's chromium package"
    out = tmp_path / "report"
    write_report([bench_dir], out, labels_file=bench_dir.parent / "labels.csv")
    source = (out / "report.html").read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(source.replace("</body>", PROBE + "</body>"))
    run = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1200,900", "--virtual-time-budget=10000", "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r'data-probe="([^"]*)"', run.stdout)
    assert found, run.stdout[:2000]
    probe = json.loads(html.unescape(found.group(1)))
    expected = Page(source)
    assert probe["tables"] == [len(t) for t in expected.tables]
    assert len(probe["images"]) == len(expected.images) > 0
    assert all(complete and width > 0 and height > 0 for complete, width, height in probe["images"])
    assert 0 < probe["widest"] <= 1200  # figures fit the window
    # The clip-level section is there, every leaderboard-like table says each row's kind,
    # and every entry of the contents leads to its heading.
    assert "Clips" in probe["headings"] and "sentiment_3 clips" in probe["headings"]
    table_kinds = re.findall(r'<table class="([^"]+)"', source)
    with_systems = [k in ("leaderboard", "comparison", "per-signer") for k in table_kinds]
    assert any(with_systems) and all(kind for kind, needs in zip(probe["kinds"], with_systems) if needs)
    assert probe["contents"] and all(probe["contents"])

    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile2'}",
                    "--window-size=1200,900", f"--screenshot={shot}", (out / "report.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    from PIL import Image

    pixels = Image.open(shot).convert("L").getextrema()
    assert pixels[0] < 100 < pixels[1]  # dark text on a light page, not a blank screen
