"""The LLM answer extraction (`emosign mllm extract`) is as guarded as the first stage: it
stays inside RUN_DIR, names a broken file in one line, holds the run's lock, stops early on
a dead server, and never keeps the key. Stand-in servers on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections import Counter
from pathlib import Path

import pytest
from fakes import (
    CLIPS,
    NEUTRAL,
    NO_WAIT,
    a_dead_url,
    all_bytes,
    one_error_line,
    run_options,
    subparser,
)

from emosign.cli import main
from emosign.harness.client import MLLMError, OpenAIChat
from emosign.harness.config import RetryPolicy
from emosign.harness.extract import ExtractionStopped, extract_answers, format_extraction
from emosign.harness.parallel import STOP_AFTER_FAILED_REQUESTS, StageStopped
from emosign.harness.runfiles import RunLockedError, read_cache
from emosign.harness.runner import run_mllm

UNREADABLE = "The signer frowns hard"  # no label the rule reader can find


def first_stage(videos, labels_file, out, **options):
    """A finished run whose every answer needs extraction."""
    return run_mllm(**run_options(videos, labels_file, out,
                                  client=lambda messages: UNREADABLE, **options))


def cli_extract(out, *extra: str) -> list[str]:
    return ["mllm", "extract", str(out), "--model", "text-llm", "--quiet", *extra]


def extraction_record(out: Path) -> dict:
    return json.loads((out / "stand-in" / "sentiment.video.extract.json").read_text())


# --- inside RUN_DIR ------------------------------------------------------------------------


def test_extraction_refuses_a_model_folder_that_leads_out_of_the_run_dir(
    video_dir, labels_file, tmp_path, capsys
):
    elsewhere = tmp_path / "elsewhere"
    first_stage(video_dir, labels_file, elsewhere)
    before = all_bytes(elsewhere)
    run_dir = tmp_path / "runs"
    run_dir.mkdir()
    (run_dir / "stand-in").symlink_to(elsewhere / "stand-in")
    asked = []
    with pytest.raises(ValueError, match="leads out of"):
        extract_answers(run_dir, model="text-llm", client=asked.append, progress=False)
    assert main(cli_extract(run_dir, "--base-url", a_dead_url())) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{run_dir / 'stand-in'} leads out of {run_dir}" in line
    assert asked == [] and all_bytes(elsewhere) == before  # nothing sent, nothing written


def test_extraction_refuses_an_extraction_file_that_leads_out(video_dir, labels_file, tmp_path):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    outside = tmp_path / "precious.txt"
    outside.write_text("not yours\n")
    (out / "stand-in" / "sentiment.video.extract.jsonl").symlink_to(outside)
    with pytest.raises(ValueError, match="sentiment.video.extract.jsonl leads out of"):
        extract_answers(out, model="text-llm", client=lambda m: NEUTRAL, progress=False)
    assert outside.read_text() == "not yours\n"


def test_an_empty_run_dir_says_it_has_no_runs(tmp_path, capsys):
    assert main(cli_extract(tmp_path, "--base-url", a_dead_url())) == 2
    assert f"no MLLM runs in {tmp_path}" in one_error_line(capsys.readouterr().err)


# --- one line naming the file --------------------------------------------------------------


def test_a_cut_manifest_is_one_line_naming_the_file(video_dir, labels_file, tmp_path, capsys):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    manifest = out / "stand-in" / "sentiment.video.run.json"
    manifest.write_bytes(manifest.read_bytes()[:60])  # cut off mid-write
    assert main(cli_extract(out, "--base-url", a_dead_url())) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{manifest}, line " in line and "not a run manifest: the JSON is broken" in line
    assert not (out / "stand-in" / "sentiment.video.extract.json").exists()


def test_an_extraction_cache_line_that_is_no_record_is_named(video_dir, labels_file, tmp_path,
                                                              capsys):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    cache = out / "stand-in" / "sentiment.video.extract.jsonl"
    cache.write_text('["not", "a", "record"]\n')
    assert main(cli_extract(out, "--base-url", a_dead_url())) == 2
    assert f"{cache}, line 1: not a cache record" in one_error_line(capsys.readouterr().err)
    assert cache.read_text() == '["not", "a", "record"]\n'


# --- one writer per run --------------------------------------------------------------------


def test_a_second_extraction_of_a_run_is_refused_naming_the_first(video_dir, labels_file,
                                                                  tmp_path, capsys):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    first_asked, release = threading.Event(), threading.Event()
    second = []

    def slow_text_model(messages):
        first_asked.set()
        release.wait(30)
        return NEUTRAL

    result = {}
    first = threading.Thread(target=lambda: result.update(summaries=extract_answers(
        out, model="text-llm", client=slow_text_model, concurrency=1, progress=False)))
    first.start()
    try:
        assert first_asked.wait(30)
        with pytest.raises(RunLockedError) as refused:
            extract_answers(out, model="text-llm", client=second.append, progress=False)
        message = str(refused.value)
        assert f"pid {os.getpid()} on host {socket.gethostname()}, running since " in message
        assert "sentiment.video.lock" in message and "cannot extract" in message
        assert main(cli_extract(out, "--base-url", a_dead_url())) == 2
        assert f"pid {os.getpid()}" in one_error_line(capsys.readouterr().err)
    finally:
        release.set()
        first.join(60)
    assert second == []  # the refused extraction sent nothing
    [summary] = result["summaries"]
    assert summary.n_answered == len(CLIPS)
    replies = read_cache(out / "stand-in" / "sentiment.video.extract.jsonl")
    assert Counter(r["video_name"] for r in replies) == Counter(CLIPS)  # nobody asked twice


def test_extraction_is_refused_while_the_first_stage_writes_the_run(video_dir, labels_file,
                                                                    tmp_path):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out, limit=2)
    asked, release = threading.Event(), threading.Event()

    def slow_model(messages):
        asked.set()
        release.wait(30)
        return UNREADABLE

    running = threading.Thread(target=lambda: run_mllm(
        **run_options(video_dir, labels_file, out, client=slow_model)))
    running.start()
    try:
        assert asked.wait(30)
        with pytest.raises(RunLockedError, match=f"pid {os.getpid()} on host"):
            extract_answers(out, model="text-llm", client=lambda m: NEUTRAL, progress=False)
    finally:
        release.set()
        running.join(60)
    assert not (out / "stand-in" / "sentiment.video.extract.jsonl").exists()


def test_an_unfinished_run_is_extracted_with_a_note(video_dir, labels_file, tmp_path):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    manifest = out / "stand-in" / "sentiment.video.run.json"
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**record, "status": "running"}))  # as after a SIGKILL
    [summary] = extract_answers(out, model="text-llm", client=lambda m: NEUTRAL, progress=False)
    assert summary.n_answered == len(CLIPS)
    (note,) = summary.notes
    assert "was cut off without recording its end" in note
    assert note in format_extraction(summary) and extraction_record(out)["notes"] == [note]


def test_an_extraction_killed_before_recording_its_end_is_noted_next_time(
    video_dir, labels_file, tmp_path
):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    asked = []

    def answer(messages):
        asked.append(messages)
        return NEUTRAL

    extract_answers(out, model="text-llm", client=answer, progress=False)
    path = out / "stand-in" / "sentiment.video.extract.json"
    record = extraction_record(out)
    # As after a SIGKILL: the record still says running, and one reply never arrived.
    path.write_text(json.dumps({**record, "status": "running", "pid": 4242}))
    cache = out / "stand-in" / "sentiment.video.extract.jsonl"
    lines = cache.read_text().splitlines()
    cache.write_text("\n".join(lines[:-1]) + "\n")
    asked.clear()
    [summary] = extract_answers(out, model="text-llm", client=answer, progress=False)
    assert len(asked) == 1 and summary.n_cached == len(CLIPS) - 1
    (note,) = summary.notes
    assert "previous extraction (pid 4242 on host" in note and "ended without recording" in note
    assert note in format_extraction(summary) and extraction_record(out)["notes"] == [note]
    assert extraction_record(out)["status"] == "finished"
    [again] = extract_answers(out, model="text-llm", client=answer, progress=False)
    assert again.notes == ()  # the finished record needs no note


def test_an_extraction_record_that_is_a_fifo_is_named_as_one(video_dir, labels_file, tmp_path):
    from emosign.harness.runner import score_run

    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    os.mkfifo(out / "stand-in" / "sentiment.video.extract.json")
    with pytest.raises(ValueError, match="FIFO"):  # not "not an extraction record"
        score_run(out, labels_file=labels_file, n_boot=50)


# --- the key -------------------------------------------------------------------------------


def test_a_short_key_echoed_by_the_server_never_lands_in_the_extraction_cache(
    stand_in, video_dir, labels_file, tmp_path, monkeypatch
):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    key = "sk-Zq"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    asked = Counter()
    sent = []

    def echo(body, headers):
        asked["n"] += 1
        sent.append(headers["Authorization"])
        said = f"you sent {headers['Authorization']} (key {key}); "
        if asked["n"] % 3 == 1:
            return 500, said + "try again"
        if asked["n"] % 3 == 2:
            return 400, said + "bad request"
        return 200, said + NEUTRAL

    server = stand_in(echo)
    [summary] = extract_answers(out, model="text-llm", base_url=server.url, concurrency=1,
                                retry=NO_WAIT, progress=False)
    assert set(sent) == {f"Bearer {key}"}
    assert summary.n_answered > 0 and summary.n_errors > 0  # replies and errors were written
    written = all_bytes(out)
    cache = written[out / "stand-in" / "sentiment.video.extract.jsonl"]
    assert b"[redacted]" in cache
    for path, data in written.items():
        assert key.encode() not in data and b"Zq" not in data, path


# --- a dead server -------------------------------------------------------------------------


def test_a_dead_server_stops_the_extraction_early_with_exit_2(video_dir, labels_file,
                                                              tmp_path, capsys):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    url = a_dead_url()
    attempts = Counter()
    chat = OpenAIChat(model="text-llm", base_url=url)

    def counted(messages):
        attempts["n"] += 1
        return chat(messages)

    # Retries as slow as the default ones: the extraction must not wait through them.
    slow = RetryPolicy(max_retries=5, base_delay=60.0)
    with pytest.raises(ExtractionStopped) as raised:
        extract_answers(out, model="text-llm", client=counted, retry=slow,
                        concurrency=STOP_AFTER_FAILED_REQUESTS, progress=False)
    [summary] = raised.value.summaries
    assert attempts["n"] == STOP_AFTER_FAILED_REQUESTS
    assert summary.n_answered == 0 and summary.n_errors + summary.n_skipped == len(CLIPS)
    assert summary.stopped.startswith(f"stopped early: the first {STOP_AFTER_FAILED_REQUESTS} "
                                      "attempts to reach the text model all failed to connect")
    assert summary.failed
    record = extraction_record(out)
    assert record["status"] == "stopped" and record["stopped"] == summary.stopped

    assert main(cli_extract(out, "--base-url", url)) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert f"attempts to reach the server at {url} all failed to connect" in line
    assert f"{len(CLIPS)} of {len(CLIPS)} answers to extract" in captured.out
    assert "not sent (stopped early)" in captured.out


def extract_the_first(n: int, stand_in, out: Path) -> None:
    """An extraction by a server that replies to the first ``n`` answers, then fails."""
    asked = Counter()

    def reply(body, headers):
        asked["n"] += 1
        return (200, NEUTRAL) if asked["n"] <= n else (400, "no more")

    server = stand_in(reply)
    [summary] = extract_answers(out, model="text-llm", base_url=server.url, concurrency=1,
                                retry=NO_WAIT, progress=False)
    assert summary.n_answered == n  # the other answers failed: extract again to send them


def test_a_dead_server_through_base_url_raises_extraction_stopped_and_a_rerun_resumes(
    stand_in, video_dir, labels_file, tmp_path
):
    # Issue 23, item 8, for the second stage: an early stop raises, not a quiet return.
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    extract_the_first(3, stand_in, out)
    url = a_dead_url()
    with pytest.raises(ExtractionStopped) as raised:
        extract_answers(out, model="text-llm", base_url=url, retry=NO_WAIT, progress=False)
    stopped = raised.value
    assert isinstance(stopped, StageStopped) and isinstance(stopped, MLLMError)
    [summary] = stopped.summaries
    assert summary.stopped.startswith(
        f"stopped early: the first {STOP_AFTER_FAILED_REQUESTS} attempts to reach the server "
        f"at {url} all failed to connect")
    assert stopped.reason == f"{summary.run_manifest}: {summary.stopped}"
    assert str(stopped).startswith(stopped.reason)
    left = len(CLIPS) - 3
    assert f"(3 reply(ies) kept; extract again to send the {left} answer(s)" in str(stopped)
    assert (summary.n_cached, summary.n_answered, stopped.not_tried) == (3, 0, ())
    assert summary.n_errors + summary.n_skipped == left
    record = extraction_record(out)
    assert record["status"] == "stopped" and record["stopped"] == summary.stopped
    replies = read_cache(out / "stand-in" / "sentiment.video.extract.jsonl")
    assert sum(r["status"] == "ok" for r in replies) == 3

    live = stand_in()
    [again] = extract_answers(out, model="text-llm", base_url=live.url, progress=False)
    assert (again.n_cached, again.n_answered, again.n_errors, again.stopped) == (3, left, 0, None)
    assert live.n_requests == left  # none of the kept replies was asked for again


def test_a_rejected_key_raises_extraction_stopped_with_the_summaries(
    stand_in, video_dir, labels_file, tmp_path, capsys
):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    extract_the_first(2, stand_in, out)
    server = stand_in(lambda body, headers: (401, "invalid api key"))
    with pytest.raises(ExtractionStopped, match="HTTP 401") as raised:
        extract_answers(out, model="text-llm", base_url=server.url, concurrency=1,
                        progress=False)
    stopped = raised.value
    assert "HTTP 401" in str(stopped.__cause__) and "HTTP 401" in stopped.reason
    [summary] = stopped.summaries  # what the command line prints before its error line
    assert summary.stopped and "HTTP 401" in summary.stopped and summary.failed
    assert (summary.n_cached, summary.n_answered) == (2, 0)
    assert summary.n_errors + summary.n_skipped == len(CLIPS) - 2
    assert server.n_requests <= 2  # not one hopeless request per answer
    assert extraction_record(out)["status"] == "failed"

    # The command line: the line of counts and the next command, then one error line.
    assert main(cli_extract(out, "--base-url", server.url, "--concurrency", "1")) == 2
    captured = capsys.readouterr()
    assert "HTTP 401" in one_error_line(captured.err)
    assert f"{len(CLIPS)} of {len(CLIPS)} answers to extract (unreadable) with text-llm: " \
           "2 cached, 0 extracted now" in captured.out
    assert "next: run the same command again" in captured.out
    assert "or score what there is" not in captured.out


def test_a_stop_on_one_run_names_the_runs_not_tried_and_releases_their_locks(
    video_dir, labels_file, tmp_path
):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    first_stage(video_dir, labels_file, out, task="emotion")
    with pytest.raises(ExtractionStopped) as raised:
        extract_answers(out, model="text-llm", base_url=a_dead_url(), retry=NO_WAIT,
                        progress=False)
    stopped = raised.value
    [summary] = stopped.summaries
    [not_tried] = stopped.not_tried
    assert summary.stopped.endswith("(1 other run(s) not tried)")
    assert not_tried != summary.run_manifest and not_tried.endswith(".run.json")
    assert "and 1 run(s) not tried)" in str(stopped)
    # Raised after every lock was released: the next extraction goes ahead.
    summaries = extract_answers(out, model="text-llm", client=lambda m: NEUTRAL,
                                progress=False)
    assert {s.run_manifest for s in summaries} == {summary.run_manifest, not_tried}


def test_mllm_run_extract_with_a_rejected_key_prints_both_stages_then_one_error_line(
    stand_in, video_dir, labels_file, tmp_path, capsys
):
    from fakes import cli_run

    def reply(body, headers):  # the first stage answers; its extraction is refused
        images = any(part.get("type") == "image_url"
                     for part in body["messages"][-1]["content"]
                     if isinstance(part, dict))
        return (200, UNREADABLE) if images else (401, "invalid api key")

    server = stand_in(reply)
    out = tmp_path / "runs"
    assert main(cli_run(video_dir, labels_file, out, "--base-url", server.url,
                        "--extract-with", "text-llm")) == 2
    captured = capsys.readouterr()
    assert "HTTP 401" in one_error_line(captured.err)
    assert f"{len(CLIPS)} of {len(CLIPS)} answers to extract (unreadable) with text-llm: " \
           "0 cached, 0 extracted now" in captured.out
    assert extraction_record(out)["status"] == "failed"


def test_a_run_whose_every_request_failed_below_the_early_stop_raises(
    stand_in, video_dir, labels_file, tmp_path, capsys
):
    out = tmp_path / "runs"
    limit = STOP_AFTER_FAILED_REQUESTS - 1
    first_stage(video_dir, labels_file, out, limit=limit)  # too few answers to stop early
    server = stand_in(lambda body, headers: (400, "this is no chat server"))
    with pytest.raises(ExtractionStopped) as raised:
        extract_answers(out, model="text-llm", base_url=server.url, retry=NO_WAIT,
                        progress=False)
    [summary] = raised.value.summaries
    assert (summary.n_answered, summary.n_errors, summary.stopped) == (0, limit, None)
    assert raised.value.reason == (f"{summary.run_manifest}: no answer could be extracted: "
                                   "every request failed")
    assert main(cli_extract(out, "--base-url", server.url)) == 2
    captured = capsys.readouterr()
    assert one_error_line(captured.err) == f"emosign: error: {raised.value.reason}"
    assert f"{limit} of {limit} answers to extract" in captured.out


def test_a_local_text_model_that_always_fails_raises_naming_the_cause(video_dir, labels_file,
                                                                     tmp_path):
    # Issue 23, item 8, for the second stage: not a quiet return with errors in the summary.
    def broken_text_model(messages):
        return my_generate(messages)  # noqa: F821 - the user's undefined function

    out = tmp_path / "runs"
    limit = STOP_AFTER_FAILED_REQUESTS - 1
    first_stage(video_dir, labels_file, out, limit=limit)  # too few answers to stop early
    with pytest.raises(ExtractionStopped) as raised:
        extract_answers(out, model="text-llm", client=broken_text_model, progress=False)
    message = str(raised.value)
    assert "first failure: clip '" in message
    assert "NameError" in message and "my_generate" in message
    [summary] = raised.value.summaries
    assert (summary.n_answered, summary.n_errors, summary.stopped) == (0, limit, None)
    assert "NameError" in summary.first_error
    assert extraction_record(out)["status"] == "finished"  # every answer was tried


def test_a_server_that_refuses_every_request_exits_2(stand_in, video_dir, labels_file,
                                                     tmp_path, capsys):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    server = stand_in(lambda body, headers: (400, "this is no chat server"))
    assert main(cli_extract(out, "--base-url", server.url, "--concurrency", "1")) == 2
    captured = capsys.readouterr()
    assert server.n_requests <= STOP_AFTER_FAILED_REQUESTS + 1  # not one per answer
    assert "stopped early: the first 3 requests" in one_error_line(captured.err)
    assert "next: run the same command again" in captured.out


def test_a_good_extraction_prints_a_line_per_run_and_the_next_command(
    stand_in, video_dir, labels_file, tmp_path, capsys
):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)
    server = stand_in()
    assert main(cli_extract(out, "--base-url", server.url)) == 0
    captured = capsys.readouterr()
    assert f"{len(CLIPS)} of {len(CLIPS)} answers to extract (unreadable) with text-llm: " \
           f"0 cached, {len(CLIPS)} extracted now, 0 failed" in captured.out
    assert f"next: score both ways: emosign mllm score {out}" in captured.out
    assert captured.err == ""


# --- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize("option, value", [
    ("--concurrency", "0"), ("--timeout", "0"), ("--timeout", "nan"), ("--timeout", "1e9"),
    ("--max-tokens", "0"), ("--max-tokens", "1.5"),
])
def test_nonsensical_numbers_are_refused_naming_the_option(option, value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        main(cli_extract(tmp_path, option, value))
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert option in err and "Traceback" not in err


def test_extract_help_says_what_every_option_does_with_its_default_and_an_example():
    parser = subparser("mllm", "extract")
    for action in parser._actions:
        if action.dest == "help":
            continue
        assert action.help, action.dest
        if action.option_strings and not action.required:
            assert "default" in action.help, action.dest
    assert parser.epilog.startswith("example:\n  ")
    assert "emosign mllm extract " in parser.format_help().split("example:")[1]


# --- the report ----------------------------------------------------------------------------


def test_the_report_shows_parse_rates_and_the_score_after_extraction(video_dir, labels_file,
                                                                     tmp_path):
    from emosign.harness.runner import score_run
    from emosign.report import build_report, collect_results, render_markdown

    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)  # every answer unreadable by the rules
    extract_answers(out, model="text-llm", client=lambda m: NEUTRAL, progress=False)
    results = score_run(out, labels_file=labels_file, n_boot=50)
    row = next(r for r in results["rows"] if r["task"] == "sentiment_3")
    weighted = row["extraction"]["metrics"]["balanced_accuracy"]  # wAcc, sentiment_3's ranking metric
    page = render_markdown(build_report(collect_results([out]), figures=False))
    n = len(CLIPS)
    assert "| parse rate after LLM extraction | score after extraction |" in page
    assert f"| sentiment_3 | {n}/{n} | 0 | 0.0% | unreadable: {n} | 100.0% by text-llm ({n} extracted) | " \
           f"wAcc {100 * weighted:.2f} |" in page


def test_an_extraction_that_extracted_nothing_shows_no_extraction_row(video_dir, labels_file,
                                                                      tmp_path):
    # Issue 22, item 4: an extraction against a server that is not there extracted nothing,
    # yet `mllm score` showed "+ extracted by <model cut off>" rows and the report "100.0% by
    # <model>". A row exists only for answers that were extracted, with its count.
    from emosign.harness.runner import format_scores, score_run
    from emosign.report import build_report, collect_results, render_markdown

    out = tmp_path / "runs"
    model = "Qwen/Qwen3-8B-Instruct-a-long-model-name"
    first_stage(video_dir, labels_file, out)
    with pytest.raises(ExtractionStopped) as raised:
        extract_answers(out, model=model, base_url=a_dead_url(), retry=NO_WAIT, progress=False)
    [summary] = raised.value.summaries
    assert summary.n_answered == 0
    results = score_run(out, labels_file=labels_file, n_boot=20)
    assert all(row["extraction"] is None for row in results["rows"])
    table = format_scores(results)
    assert "extracted" not in table and "Qwen" not in table
    page = render_markdown(build_report(collect_results([out]), figures=False))
    assert f"by {model}" not in page and "after LLM extraction" not in page

    # Two answers extracted: the row says so, with the whole model name.
    def two(messages):
        two.n += 1
        if two.n > 2:
            raise RuntimeError("no more")
        return NEUTRAL
    two.n = 0
    extract_answers(out, model=model, client=two, concurrency=1, progress=False)
    results = score_run(out, labels_file=labels_file, n_boot=20)
    rows = [row for row in results["rows"] if row["extraction"]]
    assert rows and all(row["extraction"]["extracted"] == 2 for row in rows)
    table = format_scores(results)
    assert f"+ 2 extracted by {model}" in table
    page = render_markdown(build_report(collect_results([out]), figures=False))
    assert f"by {model} (2 extracted)" in page


def test_a_run_is_refused_while_its_answers_are_extracted(video_dir, labels_file, tmp_path):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out, limit=2)
    asked, release = threading.Event(), threading.Event()

    def slow_text_model(messages):
        asked.set()
        release.wait(30)
        return NEUTRAL

    extracting = threading.Thread(target=lambda: extract_answers(
        out, model="text-llm", client=slow_text_model, concurrency=1, progress=False))
    extracting.start()
    try:
        assert asked.wait(30)
        with pytest.raises(RunLockedError, match=r"or an `mllm extract` of it\) is writing"):
            first_stage(video_dir, labels_file, out)
    finally:
        release.set()
        extracting.join(60)
    assert first_stage(video_dir, labels_file, out).n_cached == 2  # the lock went with it


def test_a_broken_run_stops_the_extraction_before_anything_is_sent(video_dir, labels_file,
                                                                   tmp_path):
    out = tmp_path / "runs"
    first_stage(video_dir, labels_file, out)  # stand-in/sentiment.video
    first_stage(video_dir, labels_file, out, task="emotion")
    manifest = out / "stand-in" / "sentiment.video.run.json"  # the second run found
    manifest.write_text('{"model": "stand-in"}\n')
    sent = []
    with pytest.raises(ValueError, match=f"{manifest}: not a run manifest: no 'config' field"):
        extract_answers(out, model="text-llm", client=sent.append, progress=False)
    assert sent == [] and not list(out.glob("*/*.extract.*"))
