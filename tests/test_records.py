"""Tests for ``emosign.records``: every writer stamps its result with a kind and a schema
version, and the one reader refuses, naming the file, whatever is not a record it can read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import SYNTHETIC_ROWS

from emosign.errors import EmosignError, InputError, UnknownNameError
from emosign.records import KINDS, NotARecordError, Record, read_record, stamp

NAMES = [r["video_name"] for r in SYNTHETIC_ROWS]


def write(path: Path, document) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# --- stamping ------------------------------------------------------------------------------


def test_a_stamp_comes_first_and_names_kind_and_version():
    record = stamp("benchmark", {"rows": [], "seed": 0})
    assert list(record)[:2] == ["kind", "schema_version"]
    assert record == {"kind": "benchmark", "schema_version": KINDS["benchmark"].schema_version,
                      "rows": [], "seed": 0}
    assert stamp("benchmark", record) == record  # stamping again as the same kind is a no-op


def test_a_stamp_of_an_unknown_or_other_kind_is_refused():
    with pytest.raises(UnknownNameError, match="unknown record kind 'leaderboard'"):
        stamp("leaderboard", {})
    with pytest.raises(InputError, match="already 'evaluate'"):
        stamp("benchmark", stamp("evaluate", {"task": "sentiment_3", "metrics": {}}))


def test_every_kind_has_a_version_a_command_and_fields():
    assert set(KINDS) == {"evaluate", "compare", "benchmark", "mllm-score", "lmms-eval-score",
                          "inspect-score", "power"}
    for name, kind in KINDS.items():
        assert kind.name == name and kind.schema_version >= 1 and kind.fields
        assert kind.command.startswith("emosign ") and kind.function.startswith("emosign.")


# --- reading -------------------------------------------------------------------------------


def test_a_record_reads_back_as_its_kind_and_payload(tmp_path):
    document = stamp("evaluate", {"task": "sentiment_3", "metrics": {"accuracy": 0.5}})
    path = write(tmp_path / "mine.json", document)
    record = read_record(path)
    assert record == Record(kind="evaluate", schema_version=KINDS["evaluate"].schema_version,
                            payload=document, source=str(path))
    assert record.writer == "`emosign evaluate` (emosign.evaluate)"


@pytest.mark.parametrize(("content", "message"), [
    ('{"task": "sentiment_3", ', "not readable as JSON"),
    ("[" * 100_000 + "]" * 100_000, "not readable as JSON"),
    (b"\xff\xfe{}", "not readable as JSON (not UTF-8 text)"),
    ('{"kind": "benchmark", "schema_version": 1, "rows": {}}', "'rows' is not a list"),
    ('{"kind": "evaluate", "schema_version": 1, "task": 3, "metrics": {}}', "'task' is not a string"),
    ('{"kind": "leaderboard", "schema_version": 1}', "unknown kind 'leaderboard'"),
    ('{"kind": ["x"], "schema_version": 1}', "unknown kind ['x']"),
    ('{"kind": "benchmark", "schema_version": 2, "rows": []}', "schema_version 2, newer than this"),
    ('{"kind": "benchmark", "schema_version": "1", "rows": []}', "unknown schema_version '1'"),
    ('{"kind": "benchmark", "schema_version": true, "rows": []}', "unknown schema_version True"),
    ('{"kind": "benchmark", "schema_version": 0, "rows": []}', "unknown schema_version 0"),
])
def test_what_is_not_a_readable_record_is_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "odd.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError) as caught:
        read_record(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text
    assert isinstance(caught.value, EmosignError) and not isinstance(caught.value, NotARecordError)


@pytest.mark.parametrize("document", [{"comment": "not a result"}, {"kind": "benchmark"}, [1, 2], "text",
                                      {"results": {}, "configs": {}}])
def test_json_that_is_no_record_is_refused_with_the_document(tmp_path, document):
    path = write(tmp_path / "other.json", document)
    with pytest.raises(NotARecordError, match="not a results file of emosign") as caught:
        read_record(path)
    assert str(caught.value).startswith(f"{path}: ") and caught.value.document == document
    assert "emosign mllm score" in str(caught.value)


def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path):
    fifo = tmp_path / "results.json"
    os.mkfifo(fifo)  # no writer: opening it for reading would block
    with pytest.raises(InputError, match="named pipe"):
        read_record(fifo)
    with pytest.raises(InputError, match="directory"):
        read_record(tmp_path)
    with pytest.raises(FileNotFoundError, match="results file not found"):
        read_record(tmp_path / "absent.json")
    big = write(tmp_path / "big.json", stamp("benchmark", {"rows": [0] * 1000}))
    with pytest.raises(InputError, match="holds more than 100 bytes"):
        read_record(big, max_bytes=100)


# --- every writer stamps -------------------------------------------------------------------


def test_evaluate_and_compare_stamp_their_results(labels_file, tmp_path):
    from emosign.metrics import compare, evaluate

    result = evaluate("sentiment_3", {n: "positive" for n in NAMES}, labels_file=labels_file, n_boot=50)
    # version 2: per-metric interval methods, per-class recall intervals, unstable scores
    assert (result["kind"], result["schema_version"]) == ("evaluate", 2)
    assert read_record(write(tmp_path / "a.json", result)).kind == "evaluate"
    both = compare("sentiment_3", {n: "positive" for n in NAMES}, {n: "negative" for n in NAMES},
                   labels_file=labels_file, n_boot=50)
    # version 2: the test block, p_holm and agrees per metric
    assert (both["kind"], both["schema_version"]) == ("compare", 2)
    assert read_record(write(tmp_path / "ab.json", both)).kind == "compare"


def test_cli_evaluate_output_and_power_json_are_records(labels_file, tmp_path, capsys):
    from emosign.cli import main

    predictions = tmp_path / "p.csv"
    predictions.write_text("video_name,prediction\n" + "".join(f"{n},neutral\n" for n in NAMES))
    out = tmp_path / "neutral.json"
    assert main(["evaluate", "--task", "sentiment_3", "--predictions", str(predictions),
                 "--labels-file", str(labels_file), "--n-boot", "50", "--format", "json",
                 "--output", str(out)]) == 0
    assert read_record(out).kind == "evaluate"
    capsys.readouterr()
    assert main(["power", "--task", "sentiment_3", "--format", "json", "--sims", "50",
                 "--n-boot", "50", "--labels-file", str(labels_file), "--quiet"]) == 0
    power = write(tmp_path / "power.json", json.loads(capsys.readouterr().out))
    assert read_record(power).kind == "power"


def test_benchmark_writes_a_record(labels_file, tmp_path):
    from emosign.baselines.benchmark import run_benchmark

    run_benchmark(tasks=["sentiment_3"], baselines=["majority"], labels_file=labels_file,
                  out_dir=tmp_path / "bench", n_boot=50, kfold_repeats=0, progress=False)
    record = read_record(tmp_path / "bench" / "results.json")
    assert record.kind == "benchmark" and record.payload["rows"]
