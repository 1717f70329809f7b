"""The MLLM harness under attack (issues 13 and 14): secrets echoed back, nonsensical options,
two runs at once, kills, symlinks out of the run folder, broken files, dead and wrong servers.

Every server here is the fake of tests/fakes.py on 127.0.0.1; every video is written by the
tests.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from fakes import (
    CLIPS,
    NEUTRAL,
    a_dead_url,
    all_bytes,
    cli_run,
    one_error_line,
    run_options,
    subparser,
)

from emosign.cli import build_parser, main

pytest.importorskip("openai")
pytest.importorskip("PIL.Image")

from emosign.harness.client import MLLMError, OpenAIChat, redact  # noqa: E402
from emosign.harness.config import RetryPolicy  # noqa: E402
from emosign.harness.parallel import STOP_AFTER_FAILED_REQUESTS  # noqa: E402
from emosign.harness.runfiles import RunLockedError, read_cache  # noqa: E402
from emosign.harness.runner import (  # noqa: E402
    LocalModelFailed,
    RunStopped,
    run_mllm,
    score_run,
)

# --- secrets -------------------------------------------------------------------------------


def test_a_short_key_echoed_by_the_server_is_never_written(
    stand_in, video_dir, labels_file, tmp_path, monkeypatch
):
    key = "sk-1234"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    asked = Counter()
    sent = []

    def echo(body, headers):
        # A server that repeats what it was sent: the header, and the key alone, in its
        # answers and in its error bodies.
        asked["n"] += 1
        sent.append(headers["Authorization"])
        said = f"you sent {headers['Authorization']} (key {key}); "
        if asked["n"] % 3 == 1:
            return 500, said + "try again"
        if asked["n"] % 3 == 2:
            return 400, said + "bad request"
        return 200, said + NEUTRAL

    server = stand_in(echo)
    out = tmp_path / "runs"
    summary = run_mllm(**run_options(video_dir, labels_file, out, base_url=server.url,
                                     concurrency=1))
    assert set(sent) == {f"Bearer {key}"}
    assert summary.n_answered > 0 and summary.n_errors > 0  # both bodies were written
    messages = " ".join(e.message for e in summary.errors)
    assert "[redacted]" in messages and key not in messages
    score_run(out, labels_file=labels_file, n_boot=50)
    files = all_bytes(out)
    assert any(b"[redacted]" in data for data in files.values())
    for path, data in files.items():
        assert key.encode() not in data, path
        assert b"1234" not in data, path


def test_redact_takes_short_keys_as_words_and_whole_header_values():
    assert redact("you sent Bearer sk-1234.", ["sk-1234", "Bearer sk-1234"]) == "you sent [redacted]."
    assert redact('{"k": "sk-1234"}', ["sk-1234"]) == '{"k": "[redacted]"}'
    # A short key inside a longer word is not the key: the answer stays readable.
    assert redact("an explanation of x", ["x"]) == "an explanation of [redacted]"
    assert redact("a-long-secret-key-in-it", ["long-secret-key"]) == "a-[redacted]-in-it"
    assert redact("nothing", ["", "x"]) == "nothing"


# --- options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [("--limit", "-1"), ("--limit", "0"), ("--timeout", "-1"), ("--timeout", "nan"),
     ("--max-side", "0"), ("--max-side", "-5"), ("--concurrency", "0"), ("--fps", "0"),
     ("--fps", "nan"), ("--fps", "inf"), ("--fps", "1e6"), ("--timeout", "1e308"),
     ("--max-frames", "0"), ("--max-frames", "many")],
)
def test_nonsensical_numbers_are_refused_at_the_command_line_naming_the_option(
    option, value, video_dir, labels_file, tmp_path, capsys
):
    out = tmp_path / "runs"
    with pytest.raises(SystemExit) as exit_:
        main(cli_run(video_dir, labels_file, out, option, value))
    assert exit_.value.code == 2
    assert f"argument {option}: must be" in capsys.readouterr().err
    assert not out.exists()


def test_max_frames_none_means_no_cap():
    args = cli_run("v", "l", "o")
    assert build_parser().parse_args([*args, "--max-frames", "None"]).max_frames is None
    assert build_parser().parse_args([*args, "--max-frames", "7"]).max_frames == 7


@pytest.mark.parametrize(
    ("option", "value"),
    [("limit", -1), ("limit", 0), ("timeout", -1.0), ("timeout", float("nan")), ("max_side", 0),
     ("max_side", -5), ("concurrency", 1.5), ("fps", 0.0), ("fps", float("nan")),
     ("max_frames", 0), ("jpeg_quality", 0), ("jpeg_quality", 101), ("max_tokens", 0),
     ("temperature", float("inf")), ("max_side", 2.5), ("limit", True), ("fps", 1e6),
     ("timeout", 1e308)],
)
def test_run_mllm_refuses_nonsensical_numbers_naming_the_parameter(
    option, value, video_dir, labels_file, tmp_path
):
    out = tmp_path / "runs"
    asked = []
    with pytest.raises(ValueError, match=rf"^{option} must be"):
        run_mllm(**run_options(video_dir, labels_file, out, client=asked.append,
                               **{option: value}))
    assert not asked and not out.exists()


def test_an_out_that_is_a_file_is_refused(video_dir, labels_file, tmp_path, capsys):
    out = tmp_path / "runs.txt"
    out.write_text("mine")
    with pytest.raises(SystemExit) as exit_:
        main(cli_run(video_dir, labels_file, out))
    assert exit_.value.code == 2
    assert f"argument --out: {out} exists and is not a folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="is a file, not a folder"):
        run_mllm(**run_options(video_dir, labels_file, out, client=lambda m: NEUTRAL))
    with pytest.raises(ValueError, match="is a path under a file, not a folder"):
        run_mllm(**run_options(video_dir, labels_file, out / "sub", client=lambda m: NEUTRAL))
    assert out.read_text() == "mine"


def test_a_full_disk_stops_the_run_with_one_message_and_loses_nothing(
    video_dir, labels_file, tmp_path, monkeypatch
):
    out = tmp_path / "runs"
    real_fsync, synced = os.fsync, Counter()

    def disk_fills_up(fd):
        synced["n"] += 1
        if synced["n"] >= 3:  # the manifest and the first answer got to disk
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    def model(messages):
        return NEUTRAL

    monkeypatch.setattr(os, "fsync", disk_fills_up)
    cache = out / "stand-in" / "sentiment.video.jsonl"
    with pytest.raises(MLLMError, match=rf"^cannot write {re.escape(str(cache))}: No space left"):
        run_mllm(**run_options(video_dir, labels_file, out, client=model, concurrency=1))
    monkeypatch.setattr(os, "fsync", real_fsync)
    saved = read_cache(cache)
    assert saved and all(r["status"] == "ok" for r in saved)
    # The lock went with the failed run; the next one asks only what is missing.
    summary = run_mllm(**run_options(video_dir, labels_file, out, client=model))
    assert summary.n_cached == len(saved) and summary.n_cached + summary.n_answered == len(CLIPS)
    assert Counter(r["video_name"] for r in read_cache(cache)) == Counter(CLIPS)


def test_a_fifo_where_the_cache_belongs_is_refused_not_waited_on(video_dir, labels_file, tmp_path):
    out = tmp_path / "runs"
    (out / "stand-in").mkdir(parents=True)
    os.mkfifo(out / "stand-in" / "sentiment.video.jsonl")
    with pytest.raises(ValueError, match=r"answer cache is a FIFO"):
        run_mllm(**run_options(video_dir, labels_file, out, client=lambda m: NEUTRAL))


@pytest.mark.parametrize("name", ["sentiment.video.run.json", "sentiment.video.jsonl"])
def test_a_fifo_among_a_runs_files_is_refused_by_score_not_waited_on(
    name, video_dir, labels_file, tmp_path
):
    # Issue 22, item 3: `mllm score` waited forever on a run.json that is a FIFO, while
    # `mllm extract` refused the same folder at once. Every reader goes through the one
    # non-blocking reader; a subprocess, so that a hang fails the test instead of hanging it.
    out = tmp_path / "runs"
    run_mllm(**run_options(video_dir, labels_file, out, client=lambda m: NEUTRAL))
    target = out / "stand-in" / name
    target.unlink()
    os.mkfifo(target)
    for command in (["mllm", "score", str(out), "--labels-file", str(labels_file)],
                    ["mllm", "extract", str(out), "--model", "x", "--base-url", a_dead_url()]):
        done = subprocess.run([sys.executable, "-m", "emosign.cli", *command],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, (command, done.stderr)
        line = one_error_line(done.stderr)
        assert "FIFO" in line and name in line, line


def test_a_partial_run_is_marked_incomplete_in_every_row(video_dir, labels_file, tmp_path):
    # Issue 22, item 5: after `mllm run --limit`, the leaderboard showed n = 12 and the note
    # of a complete run; answered/total was only in the parse-rate section. Every row of
    # `mllm score`, the leaderboard and the report shows answered/total and says incomplete.
    from emosign.harness.runner import format_scores
    from emosign.report import build_report, collect_results, render_markdown

    n = len(CLIPS)
    partial, whole = tmp_path / "partial", tmp_path / "whole"
    run_mllm(**run_options(video_dir, labels_file, partial, client=lambda m: NEUTRAL, limit=4))
    run_mllm(**run_options(video_dir, labels_file, whole, client=lambda m: NEUTRAL))
    for out, answered in ((partial, 4), (whole, n)):
        results = score_run(out, labels_file=labels_file, n_boot=20)
        for row in results["rows"]:
            assert (row["answered"], row["n"]) == (answered, n)
        table = format_scores(results).splitlines()[2:]
        assert table and all(f"{answered}/{n}" in line for line in table)
        assert all(("incomplete" in line) == (answered < n) for line in table), table
    page = render_markdown(build_report(collect_results([partial, whole]), figures=False))
    leaderboard = [line for line in page.splitlines()
                   if line.startswith("| stand-in") and " answered) |" in line]
    incomplete = [line for line in leaderboard if f"4/{n} answered" in line]
    complete = [line for line in leaderboard if f"{n}/{n} answered" in line]
    assert incomplete and complete, page
    assert all("incomplete run" in line for line in incomplete)
    assert not any("incomplete" in line for line in complete)

    # Issue 22, item 6: a run's predictions that cannot be found are said, not dropped.
    (whole / "stand-in" / "sentiment.video.sentiment_3.csv").unlink()
    page = render_markdown(build_report(collect_results([whole]), figures=False))
    missing = page.split("## What is missing")[1].split("\n## ")[0]
    assert "sentiment.video.sentiment_3.csv cannot be found" in missing


# --- one writer per run --------------------------------------------------------------------


def test_a_second_run_on_the_same_answers_is_refused_naming_the_first(
    video_dir, labels_file, tmp_path
):
    out = tmp_path / "runs"
    first_asked, release = threading.Event(), threading.Event()
    asked = Counter()

    def slow_model(messages):
        asked["first"] += 1
        first_asked.set()
        release.wait(30)
        return NEUTRAL

    result = {}
    first = threading.Thread(target=lambda: result.update(summary=run_mllm(
        **run_options(video_dir, labels_file, out, client=slow_model))))
    first.start()
    try:
        assert first_asked.wait(30)

        def second_model(messages):
            asked["second"] += 1
            return NEUTRAL

        with pytest.raises(RunLockedError) as refused:
            run_mllm(**run_options(video_dir, labels_file, out, client=second_model))
        message = str(refused.value)
        assert f"pid {os.getpid()} on host {socket.gethostname()}, running since " in message
        assert "sentiment.video.lock" in message
        # Another task in the same folder is another run: it is not held up.
        other = run_mllm(**run_options(video_dir, labels_file, out, client=second_model,
                                       task="emotion"))
        assert other.n_answered == other.n_clips > 0
    finally:
        release.set()
        first.join(60)
    assert asked["second"] == other.n_clips  # the refused run asked nothing
    assert result["summary"].n_answered == len(CLIPS)
    cache = read_cache(out / "stand-in" / "sentiment.video.jsonl")
    assert Counter(r["video_name"] for r in cache) == Counter(CLIPS)  # nobody asked twice
    # The lock went with the first run: the next one starts (and has nothing to ask).
    again = run_mllm(**run_options(video_dir, labels_file, out, client=second_model))
    assert again.n_cached == len(CLIPS)


def test_the_cli_names_the_holder_of_the_run(stand_in, video_dir, labels_file, tmp_path, capsys):
    server = stand_in(delay=0.5)
    out = tmp_path / "runs"
    holder = subprocess.Popen(
        [sys.executable, "-m", "emosign.cli",
         *cli_run(video_dir, labels_file, out, "--base-url", server.url, "--concurrency", "1")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: cache_lines(out) >= 1)
        assert main(cli_run(video_dir, labels_file, out, "--base-url", server.url)) == 2
        line = one_error_line(capsys.readouterr().err)
        assert f"pid {holder.pid} on host {socket.gethostname()}" in line
    finally:
        holder.wait(60)
    assert holder.returncode == 0
    assert server.n_requests == len(CLIPS)


# --- kills ---------------------------------------------------------------------------------


def cache_lines(out: Path) -> int:
    path = out / "stand-in" / "sentiment.video.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the run did not get going"
        time.sleep(0.05)


def manifest_of(out: Path) -> dict:
    return json.loads((out / "stand-in" / "sentiment.video.run.json").read_text())


def start_cli_run(server, video_dir, labels_file, out) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "emosign.cli",
         *cli_run(video_dir, labels_file, out, "--base-url", server.url, "--concurrency", "1")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_sigterm_stops_the_run_cleanly_and_says_interrupted(
    stand_in, video_dir, labels_file, tmp_path
):
    server = stand_in(delay=0.5)
    out = tmp_path / "runs"
    process = start_cli_run(server, video_dir, labels_file, out)
    wait_for(lambda: cache_lines(out) >= 2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and "interrupted" in err and "Traceback" not in err
    manifest = manifest_of(out)
    assert manifest["status"] == "interrupted" and manifest["interrupted_by"] == "SIGTERM"
    answered = manifest["answered_now"]
    assert 2 <= answered < len(CLIPS)
    assert cache_lines(out) == answered  # the answer in flight was saved, and counted


def test_a_killed_run_is_recognised_and_reported_on_the_next_start(
    stand_in, video_dir, labels_file, tmp_path
):
    server = stand_in(delay=0.5)
    out = tmp_path / "runs"
    process = start_cli_run(server, video_dir, labels_file, out)
    wait_for(lambda: cache_lines(out) >= 2)
    process.kill()
    process.communicate(timeout=60)
    assert manifest_of(out)["status"] == "running"  # nothing can write on SIGKILL
    with pytest.warns(UserWarning, match="was cut off without recording its end"):
        score_run(out, labels_file=labels_file, n_boot=50)
    summary = run_mllm(**run_options(video_dir, labels_file, out, base_url=server.url))
    assert summary.n_cached >= 2 and summary.n_cached + summary.n_answered == len(CLIPS)
    (note,) = summary.notes
    assert f"pid {process.pid} on host {socket.gethostname()}" in note
    assert "ended without recording its end" in note
    manifest = manifest_of(out)
    assert manifest["status"] == "finished" and manifest["notes"] == [note]


# --- mllm score stays inside RUN_DIR -------------------------------------------------------


def test_score_refuses_a_model_folder_that_leads_out_of_the_run_dir(
    video_dir, labels_file, tmp_path, capsys
):
    elsewhere = tmp_path / "elsewhere"
    run_mllm(**run_options(video_dir, labels_file, elsewhere, client=lambda m: NEUTRAL))
    before = all_bytes(elsewhere)
    run_dir = tmp_path / "runs"
    run_dir.mkdir()
    (run_dir / "stand-in").symlink_to(elsewhere / "stand-in")
    assert main(["mllm", "score", str(run_dir), "--labels-file", str(labels_file),
                 "--n-boot", "50"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{run_dir / 'stand-in'} leads out of {run_dir}" in line
    assert all_bytes(elsewhere) == before  # nothing written there
    assert sorted(run_dir.iterdir()) == [run_dir / "stand-in"]


def test_score_refuses_two_model_folders_that_are_one_run(
    video_dir, labels_file, tmp_path, capsys
):
    run_dir = tmp_path / "runs"
    run_mllm(**run_options(video_dir, labels_file, run_dir, client=lambda m: NEUTRAL))
    (run_dir / "alias").symlink_to("stand-in")  # inside RUN_DIR, but the same run
    before = all_bytes(run_dir)
    assert main(["mllm", "score", str(run_dir), "--labels-file", str(labels_file),
                 "--n-boot", "50"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "are the same run" in line and "scored twice" in line
    assert str(run_dir / "alias") in line and str(run_dir / "stand-in") in line
    assert all_bytes(run_dir) == before  # nothing scored, nothing written
    (run_dir / "alias").unlink()
    assert main(["mllm", "score", str(run_dir), "--labels-file", str(labels_file),
                 "--n-boot", "50"]) == 0
    # A hard-linked copy (`cp -al`) is the same run too.
    copy = run_dir / "copy"
    copy.mkdir()
    for file in (run_dir / "stand-in").iterdir():
        os.link(file, copy / file.name)
    capsys.readouterr()
    assert main(["mllm", "score", str(run_dir), "--labels-file", str(labels_file),
                 "--n-boot", "50"]) == 2
    assert "are the same run" in one_error_line(capsys.readouterr().err)


# --- one line, not a traceback -------------------------------------------------------------


@pytest.fixture
def scored_run(video_dir, labels_file, tmp_path) -> Path:
    out = tmp_path / "runs"
    run_mllm(**run_options(video_dir, labels_file, out, client=lambda m: NEUTRAL))
    return out


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, r"line \d+: not a run manifest: the JSON is broken"),
     ('["model", "config"]\n', r"line 1: not a run manifest: a JSON list"),
     ('{"model": "m"}\n', r"not a run manifest: no 'config' field")],
)
def test_a_broken_manifest_is_one_line_naming_the_file(
    content, expected, scored_run, labels_file, capsys
):
    manifest = scored_run / "stand-in" / "sentiment.video.run.json"
    text = manifest.read_text()
    manifest.write_text(text[: len(text) // 2] if content is None else content)
    assert main(["mllm", "score", str(scored_run), "--labels-file", str(labels_file)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"emosign: error: {manifest}")
    assert re.search(expected, line), line


@pytest.mark.parametrize(
    ("edit", "expected"),
    [(lambda r: r.pop("video_name"), "no 'video_name' text"),
     (lambda r: r.update(status="maybe"), "status 'maybe' is neither"),
     (lambda r: r.update(response=["a"]), "'response' is not text")],
)
def test_a_cache_line_that_is_no_record_is_one_line_naming_file_and_line(
    edit, expected, scored_run, labels_file, capsys
):
    cache = scored_run / "stand-in" / "sentiment.video.jsonl"
    lines = cache.read_text().splitlines()
    record = json.loads(lines[4])
    edit(record)
    lines[4] = json.dumps(record)
    cache.write_text("\n".join(lines) + "\n")
    assert main(["mllm", "score", str(scored_run), "--labels-file", str(labels_file)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"{cache}, line 5: not a cache record of a run ({expected}" in line


@pytest.mark.parametrize("line", ["[1, 2]", "null", '"text"'])
def test_an_lmms_eval_samples_line_that_is_no_object_is_one_line(
    line, labels_file, tmp_path, capsys
):
    samples = tmp_path / "results" / "model" / "2025_samples_emosign_sentiment.jsonl"
    samples.parent.mkdir(parents=True)
    samples.write_text(line + "\n")
    assert main(["lmms-eval-score", str(tmp_path / "results"), "--labels-file",
                 str(labels_file)]) == 2
    message = one_error_line(capsys.readouterr().err)
    assert f"{samples}, line 1: a JSON " in message


# --- dead and wrong servers ----------------------------------------------------------------


def test_a_dead_server_stops_the_run_at_once(video_dir, labels_file, tmp_path, capsys):
    out = tmp_path / "runs"
    url = a_dead_url()
    attempts = Counter()
    chat = OpenAIChat(model="stand-in", base_url=url)

    def counted(messages):
        attempts["n"] += 1
        if attempts["n"] > STOP_AFTER_FAILED_REQUESTS + 1:
            raise MLLMError("the run went on asking a server that refuses every connection")
        return chat(messages)

    # Retries slower than the test: the run must not wait through them.
    slow = RetryPolicy(max_retries=5, base_delay=5.0, max_delay=5.0, jitter=0.0)
    with pytest.raises(LocalModelFailed) as raised:  # a client= that fails raises (issue 23)
        run_mllm(**run_options(video_dir, labels_file, out, client=counted, retry=slow,
                               concurrency=STOP_AFTER_FAILED_REQUESTS))
    summary = raised.value.summary
    assert summary.stopped in str(raised.value)
    assert summary.n_answered == 0 and summary.n_errors + summary.n_skipped == len(CLIPS)
    assert attempts["n"] == STOP_AFTER_FAILED_REQUESTS
    assert summary.stopped.startswith(
        f"stopped early: the first {STOP_AFTER_FAILED_REQUESTS} attempts to reach the model "
        "all failed to connect (connection failed")
    manifest = manifest_of(out)
    assert manifest["status"] == "stopped" and manifest["stopped"] == summary.stopped

    assert main(cli_run(video_dir, labels_file, tmp_path / "cli", "--base-url", url)) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert f"attempts to reach the server at {url} all failed to connect" in line
    assert re.search(rf"skipped\s+{len(CLIPS)}\s+\(not asked: the run stopped early\)",
                     captured.out)


def test_a_dead_server_through_base_url_raises_run_stopped_and_a_rerun_resumes(
    stand_in, video_dir, labels_file, tmp_path
):
    # Issue 23, item 8: an early stop raises, not a quiet return of a summary.
    out = tmp_path / "runs"
    live = stand_in()
    first = run_mllm(**run_options(video_dir, labels_file, out, base_url=live.url, limit=3))
    assert first.n_answered == 3
    url = a_dead_url()
    with pytest.raises(RunStopped) as raised:
        run_mllm(**run_options(video_dir, labels_file, out, base_url=url))
    stopped = raised.value
    assert isinstance(stopped, MLLMError) and not isinstance(stopped, LocalModelFailed)
    summary = stopped.summary
    assert stopped.reason == summary.stopped
    assert summary.stopped.startswith(
        f"stopped early: the first {STOP_AFTER_FAILED_REQUESTS} attempts to reach the server "
        f"at {url} all failed to connect")
    assert str(stopped).startswith(summary.stopped)
    left = len(CLIPS) - 3
    assert f"3 answer(s) kept in {summary.cache_file}; run again to ask the {left} clip(s)" \
        in str(stopped)
    assert (summary.n_cached, summary.n_answered) == (3, 0)
    assert summary.n_errors + summary.n_skipped == left
    manifest = manifest_of(out)
    assert manifest["status"] == "stopped" and manifest["stopped"] == summary.stopped
    assert sum(r["status"] == "ok" for r in read_cache(summary.cache_file)) == 3

    again = run_mllm(**run_options(video_dir, labels_file, out, base_url=live.url))
    assert (again.n_cached, again.n_answered, again.n_errors, again.stopped) == (3, left, 0, None)
    assert live.n_requests == len(CLIPS)  # none of the kept answers was asked again


def test_a_server_that_fails_every_request_raises_even_below_the_early_stop(
    stand_in, video_dir, labels_file, tmp_path
):
    # Two clips: too few for the early stop, yet the run answered nothing.
    server = stand_in(lambda body, headers: (400, "this is not a chat server"))
    limit = STOP_AFTER_FAILED_REQUESTS - 1
    with pytest.raises(RunStopped) as raised:
        run_mllm(**run_options(video_dir, labels_file, tmp_path / "runs", base_url=server.url,
                               limit=limit))
    summary = raised.value.summary
    assert (summary.n_answered, summary.n_errors, summary.stopped) == (0, limit, None)
    assert raised.value.reason.startswith(
        f"the server at {server.url} failed on every clip it was asked about ({limit}): ")
    assert "HTTP 400" in raised.value.reason


@pytest.mark.parametrize("drop", ["reset", "short"])
def test_a_live_server_that_drops_connections_is_retried_not_taken_for_dead(
    drop, stand_in, video_dir, labels_file, tmp_path, capsys
):
    # Issue 22, item 1: the first request of every worker is sent, then the connection is
    # reset (or the body cut short). The server is there: retry, never "is it running?".
    from fakes import Reply

    asked = Counter()
    lock = threading.Lock()

    def flaky(body, headers):
        with lock:
            asked["n"] += 1
            first = asked["n"] <= 2 * STOP_AFTER_FAILED_REQUESTS
        return Reply(text=NEUTRAL, drop=drop if first else None)

    server = stand_in(flaky)
    retry = RetryPolicy(max_retries=8, base_delay=0.0, jitter=0.0)
    summary = run_mllm(**run_options(video_dir, labels_file, tmp_path / "runs",
                                     base_url=server.url, retry=retry, concurrency=4))
    assert summary.stopped is None
    assert summary.n_answered == len(CLIPS) and summary.n_errors == 0
    assert server.n_requests == len(CLIPS) + 2 * STOP_AFTER_FAILED_REQUESTS


def test_a_wrong_server_exits_non_zero_with_a_summary_for_people(
    stand_in, video_dir, labels_file, tmp_path, capsys
):
    server = stand_in(lambda body, headers: (400, "this is not a chat server"))
    out = tmp_path / "runs"
    code = main(cli_run(video_dir, labels_file, out, "--base-url", server.url,
                        "--concurrency", "2"))
    captured = capsys.readouterr()
    assert code == 2
    assert server.n_requests <= STOP_AFTER_FAILED_REQUESTS + 1  # not one per clip
    assert "RunSummary(" not in captured.out
    for words in ("answered now", "failed", "skipped",
                  f"answers: {out / 'stand-in' / 'sentiment.video.jsonl'}",
                  "this is not a chat server", "next: run the same command again"):
        assert words in captured.out, words
    line = one_error_line(captured.err)
    assert "stopped early: the first 3 requests of this run all failed" in line
    assert "HTTP 400" in line


def test_a_rejected_key_on_the_command_line_is_one_error_line_after_the_counts(
    stand_in, video_dir, labels_file, tmp_path, capsys
):
    server = stand_in(lambda body, headers: (401, "invalid api key"))
    out = tmp_path / "runs"
    assert main(cli_run(video_dir, labels_file, out, "--base-url", server.url,
                        "--concurrency", "1")) == 2
    captured = capsys.readouterr()
    line = one_error_line(captured.err)
    assert "HTTP 401" in line and "check the key" in line
    assert re.search(rf"skipped\s+{len(CLIPS)}\s+\(not asked: the run stopped early\)",
                     captured.out)
    assert "next: run the same command again" in captured.out
    assert manifest_of(out)["status"] == "failed"


def test_a_good_run_prints_its_counts_and_the_next_command(
    stand_in, video_dir, labels_file, tmp_path, capsys
):
    server = stand_in()
    out = tmp_path / "runs"
    assert main(cli_run(video_dir, labels_file, out, "--base-url", server.url)) == 0
    captured = capsys.readouterr()
    assert "RunSummary(" not in captured.out
    assert re.search(rf"answered now\s+{len(CLIPS)}\b", captured.out)
    assert f"next: emosign mllm score {out}" in captured.out
    assert main(cli_run(video_dir, labels_file, out, "--base-url", server.url)) == 0
    assert re.search(rf"answered earlier\s+{len(CLIPS)}\b", capsys.readouterr().out)
    assert server.n_requests == len(CLIPS)


# --- --help --------------------------------------------------------------------------------


@pytest.mark.parametrize("names", [("mllm", "run"), ("mllm", "score"), ("lmms-eval-score",)])
def test_help_says_what_every_option_does_with_its_default_and_an_example(names):
    parser = subparser(*names)
    for action in parser._actions:
        if action.dest == "help":
            continue
        assert action.help, action.dest
        if action.option_strings and not action.required:
            assert "default" in action.help, action.dest
    assert parser.epilog.startswith("example:\n  ")
    assert "emosign " in parser.format_help().split("example:")[1]
