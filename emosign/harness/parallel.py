"""Asking a model about many items at once, resumably: the one job loop of both stages.

:func:`run_jobs` is the loop of the run (:mod:`emosign.harness.runner`) and of the
extraction (:mod:`emosign.harness.extract`): it skips every job whose answer is cached
already, sends the others through a :class:`Worker` on a thread pool, counts what comes
back, stops early when the server is dead or the wrong one (the first
:data:`STOP_AFTER_FAILED_REQUESTS` attempts all fail to connect, or the first that many
jobs all fail), takes SIGTERM as Ctrl-C, and records how the work ended in the stage's
record. The worker asks (retrying as the
:class:`~emosign.harness.config.RetryPolicy` says), scrubs the key from what it keeps and
appends one cache line per job.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from emosign._progress import progress_bar
from emosign.harness.client import (
    ChatFn,
    ConnectionFailed,
    Message,
    MLLMError,
    RequestError,
    call_with_retries,
    redact,
)
from emosign.harness.config import ClientConfig, RetryPolicy
from emosign.harness.runfiles import CacheWriter, now, read_cache, write_record

__all__ = [
    "STOP_AFTER_FAILED_REQUESTS",
    "Job",
    "JobFailed",
    "JobsDone",
    "StageStopped",
    "Terminated",
    "WorkFailed",
    "Worker",
    "run_jobs",
]

#: A run stops when, before any answer, its first this-many attempts all fail to connect,
#: or its first this-many clips' requests all fail: the server is dead or not the one meant,
#: and every other clip would fail the same way after its retries.
STOP_AFTER_FAILED_REQUESTS = 3


class Job(Protocol):
    """What a worker reads of a job: the clip, the cache key, and the exact prompt."""

    @property
    def video_name(self) -> str:
        """The clip the job is about."""

    @property
    def key(self) -> str:
        """The cache key: a job whose key has an answer in the cache is not asked again."""

    @property
    def prompt_sha256(self) -> str:
        """The sha256 of :attr:`prompt_text`."""

    @property
    def prompt_text(self) -> str:
        """The exact text sent."""


@dataclass(frozen=True)
class JobsDone:
    """What :func:`run_jobs` did.

    ``n_jobs`` = ``n_cached`` (answered before, not asked) + ``n_answered`` (answered now)
    + ``len(failures)`` (failed for good now; their error records) + :attr:`n_skipped`.
    ``stopped`` says why the work stopped early, else None.
    """

    n_jobs: int
    n_cached: int
    n_answered: int
    failures: tuple[Mapping[str, Any], ...]
    stopped: str | None

    @property
    def n_skipped(self) -> int:
        """Jobs not asked, because the work stopped early."""
        return self.n_jobs - self.n_cached - self.n_answered - len(self.failures)


def run_jobs(
    worker: Worker,
    jobs: Sequence[Job],
    *,
    cache: Path,
    record: dict[str, Any],
    record_path: Path,
    config: ClientConfig,
    where: str,
    progress: bool | None,
    description: str,
    unit: str = "clip",
) -> JobsDone:
    """Ask about every job without an answer in ``cache``, resumably; the loop of both stages.

    Parameters
    ----------
    worker : Worker
        Asks about one job and appends its cache line.
    jobs : sequence of Job
        Every job of the work; those whose key has an answer in ``cache`` are skipped.
    cache : Path
        The stage's JSON Lines cache, appended to as answers arrive.
    record : dict
        The stage's record (a run's manifest, an extraction's record), saying "running":
        written to ``record_path`` before anything is asked, then updated with how the
        work ended (``status``, ``finished``, ``answered_now``, ``errors_now``, and
        ``stopped`` or ``interrupted_by``) and written again, however it ends.
    record_path : Path
        Where ``record`` is written.
    config : ClientConfig
        Its ``concurrency`` (requests in flight) and ``retry`` (when to retry).
    where : str
        What the model is, for the early stop's message ("the server at ...").
    progress : bool or None
        A progress bar on stderr: True, False, or None for "when stderr is a terminal".
    description, unit : str
        The progress bar's label and unit.

    Returns
    -------
    JobsDone

    Raises
    ------
    WorkFailed
        If the server rejects the key or does not know the model, or a cache line cannot
        be written (the record then says "failed"): the error's message, with what was done
        by then as ``done``.
    MLLMError
        If the record cannot be written at the end.
    KeyboardInterrupt
        Passed on after the requests in flight are answered and saved (SIGTERM too, as
        :class:`Terminated`, in the main thread); the record says "interrupted".
    """
    done = {r["key"] for r in read_cache(cache) if r["status"] == "ok"}
    todo = [job for job in jobs if job.key not in done]
    write_record(record_path, record)
    stop = threading.Event()
    breaker = _Breaker(STOP_AFTER_FAILED_REQUESTS, stop, where=where)
    writer = CacheWriter(cache)
    worker._session = _Session(writer=writer, stop=stop, breaker=breaker, retry=config.retry)
    tally = _Tally()
    futures: list[Future] = []
    stopped: str | None = None
    fatal: MLLMError | None = None
    status = "interrupted"
    try:
        with _sigterm_as_interrupt(), \
                progress_bar(len(todo), description, enabled=progress, unit=unit) as bar:

            def on_done(future: Future) -> None:
                if not tally.count(future):
                    return  # the work stopped before this job was asked
                if tally.failures:
                    bar.set_postfix(errors=len(tally.failures), refresh=False)
                bar.update()

            stopped = _ask_in_parallel(worker, todo, futures, concurrency=config.concurrency,
                                      stop=stop, breaker=breaker, on_done=on_done)
        status = "stopped" if stopped else "finished"
    except MLLMError as err:
        status = "failed"
        fatal = err  # raised below, with what was done by then
    except Terminated:
        record["interrupted_by"] = "SIGTERM"
        raise
    finally:
        stopping_on = sys.exc_info()[1] or fatal  # what ended the work, if anything did
        tally.count_rest(futures)
        writer.close()
        record.update(status=status, finished=now(), answered_now=tally.answered,
                      errors_now=len(tally.failures))
        if stopped:
            record["stopped"] = stopped
        try:
            write_record(record_path, record)
        except MLLMError:
            if stopping_on is None:
                raise
            # (a full disk, say) the error that ended the work is the one to report
    outcome = JobsDone(n_jobs=len(jobs), n_cached=len(jobs) - len(todo),
                       n_answered=tally.answered, failures=tuple(tally.failures),
                       stopped=stopped)
    if fatal is not None:
        raise WorkFailed(fatal, outcome) from fatal
    return outcome


class _Tally:
    """What the finished requests of a work brought: answers, and failures' error records."""

    def __init__(self) -> None:
        self.answered = 0
        self.failures: list[Mapping[str, Any]] = []
        self._counted: set[Future] = set()

    def count(self, future: Future) -> bool:
        """Count a finished request once; False if it was never asked."""
        self._counted.add(future)
        if future.cancelled() or future.exception() is not None or future.result() is None:
            return False
        result = future.result()
        if result["status"] == "ok":
            self.answered += 1
        else:
            self.failures.append(result)
        return True

    def count_rest(self, futures: Sequence[Future]) -> None:
        """Count those answered while the work was stopping: saved, so counted."""
        for future in futures:
            if future not in self._counted and future.done():
                self.count(future)


def _ask_in_parallel(
    work: Callable[[Any], Any],
    jobs: Sequence[Any],
    futures: list[Future],
    *,
    concurrency: int,
    stop: threading.Event,
    breaker: _Breaker,
    on_done: Callable[[Future], None],
) -> str | None:
    """Send every job through ``work`` on ``concurrency`` threads; ``on_done(future)`` is
    called once per request as it finishes. Used by the run and by the extraction stage.

    Returns why ``breaker`` stopped the work early (the jobs not yet started are cancelled,
    the requests in flight still finish), or None when every job was tried. Ctrl-C, SIGTERM
    or a fatal error (:class:`MLLMError` from ``future.result()``) sets ``stop``, so that
    nothing new starts and nothing is retried, and goes on once the requests in flight are
    answered and saved. The futures are appended to ``futures``, so that the caller can
    count those answered while it was stopping.
    """
    stopped = None
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures += [pool.submit(work, job) for job in jobs]
        try:
            for future in as_completed(futures):
                if not future.cancelled():
                    future.result()  # a fatal error (MLLMError) stops here
                if breaker.reason and stopped is None:
                    stopped = breaker.reason
                    for other in futures:
                        other.cancel()
                on_done(future)
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise
    return stopped


@dataclass(frozen=True)
class _Session:
    """What a worker shares with the loop that runs it."""

    writer: CacheWriter
    stop: threading.Event  # set: ask nothing more, retry nothing more
    breaker: _Breaker
    retry: RetryPolicy


class Worker:
    """Does one job: asks, writes one cache line, tells the breaker. Runs in the pool's threads.

    A job has ``video_name``, ``key``, ``prompt_sha256`` and ``prompt_text``; a subclass says
    what is sent for it in :meth:`ask` (the run: a clip's frames and prompt; the extraction:
    an answer in an instruction). :func:`run_jobs` gives it the cache writer, the stop
    event, the breaker and the retry policy of the work.

    Parameters
    ----------
    chat : ChatFn
        The model.
    base_record : Mapping
        The fields every cache line of the work starts with.
    secrets : sequence of str
        What is scrubbed from every answer and error kept (the key, its header values).
    """

    def __init__(self, *, chat: ChatFn, base_record: Mapping[str, Any],
                 secrets: Sequence[str]) -> None:
        self.chat = chat
        self.base_record = base_record
        self.secrets = secrets
        self._session: _Session | None = None

    @property
    def session(self) -> _Session:
        """The work this worker is part of (given by :func:`run_jobs`)."""
        if self._session is None:
            raise RuntimeError("a Worker asks only inside run_jobs")
        return self._session

    def __call__(self, job: Job) -> dict[str, Any] | None:
        """The job's cache record, also appended to the cache; None if the work stopped
        before the job was asked (nothing is written for it)."""
        session = self.session
        if session.stop.is_set():
            return None
        started = time.monotonic()
        record = {
            **self.base_record,
            "key": job.key,
            "video_name": job.video_name,
            "prompt_sha256": job.prompt_sha256,
            "prompt": job.prompt_text,
        }
        try:
            answer = self.ask(job, record)
        except _Stopped:
            return None
        except JobFailed as failure:
            if failure.kind != "request":
                del record["prompt"]  # never sent; the hash still names it
            record.update(status="error", response=None,
                          error={"kind": failure.kind, "message": self._scrub(failure.message)})
        else:
            record.update(status="ok", response=self._scrub(answer), error=None)
        record.update(seconds=round(time.monotonic() - started, 3), time=now())
        session.writer.append(record)
        session.breaker.count(record)
        return record

    def ask(self, job: Any, record: dict[str, Any]) -> str:
        """The answer to ``job``, asked by :meth:`request` (a subclass says what is sent).

        Parameters
        ----------
        job : Job
            The job.
        record : dict
            Its cache record so far, to which the subclass may add (frames, attempts).

        Returns
        -------
        str

        Raises
        ------
        JobFailed
            If there is no answer (the job gets an error line).
        """
        raise NotImplementedError

    def request(self, job: Job, messages: list[Message], record: dict[str, Any]) -> str:
        """The answer to ``messages``, retried as the work's retry policy says.

        Parameters
        ----------
        job : Job
            The job asked about.
        messages : list of Message
            The request.
        record : dict
            The job's cache record; ``attempts`` is set.

        Returns
        -------
        str

        Raises
        ------
        JobFailed
            If the request failed for good, or a local model raised.
        MLLMError
            Passed on: the whole work stops.
        """
        try:
            answer, record["attempts"] = call_with_retries(
                self._attempt, messages, retry=self.session.retry, sleep=self._wait_to_retry
            )
        except RequestError as err:
            record["attempts"] = err.attempts
            raise JobFailed("request", f"clip {job.video_name!r}: {err}") from None
        except MLLMError:
            raise  # the whole run stops
        except Exception as err:  # a local model's own failure: this clip only
            raise JobFailed(
                "request", f"clip {job.video_name!r}: {type(err).__name__}: {err}"
            ) from None
        if not isinstance(answer, str):
            raise JobFailed("request", f"the client returned {type(answer).__name__}, not text")
        return answer

    def _scrub(self, text: str) -> str:
        return redact(text, self.secrets)

    def _attempt(self, messages: list[Message]) -> str:
        """One request, told to the breaker: did it reach the server?"""
        breaker = self.session.breaker
        try:
            answer = self.chat(messages)
        except ConnectionFailed as err:
            breaker.connection_failed(str(err))
            raise
        except BaseException:
            breaker.reached()  # an HTTP error status, say: the server is there
            raise
        breaker.reached()
        return answer

    def _wait_to_retry(self, seconds: float) -> None:
        if self.session.stop.wait(seconds):
            raise _Stopped


class _Breaker:
    """Stops a run that cannot work: a dead server or the wrong one.

    Two signs, both only before anything was answered: the first ``limit`` attempts all
    failed to connect (a refused connection is no rate limit: stop at once, without waiting
    through the retries), or the first ``limit`` clips' requests all failed for good (a
    server that answers every request with an error). Told by the workers as things happen,
    so that no worker starts another clip once the run stops; ``reason`` then says why.
    """

    def __init__(self, limit: int, stop: threading.Event, *, where: str) -> None:
        self.limit, self.stop, self.where = limit, stop, where
        self.reason: str | None = None
        self._answered = self._reached = False
        self._failed_connections = self._failed_clips = 0
        self._lock = threading.Lock()

    def connection_failed(self, message: str) -> None:
        """An attempt never reached the server (``message`` says why)."""
        with self._lock:
            if self._reached:
                return
            self._failed_connections += 1
            if self._failed_connections >= self.limit:
                self._trip(f"the first {self._failed_connections} attempts to reach "
                           f"{self.where} all failed to connect ({message}); is it running, "
                           "and is the base URL right?")

    def reached(self) -> None:
        """An attempt reached the server (answered, or refused with a status)."""
        with self._lock:
            self._reached = True

    def count(self, record: Mapping[str, Any]) -> None:
        """A job ended with this cache record."""
        with self._lock:
            if record["status"] == "ok":
                self._answered = True
            elif record["error"]["kind"] == "request" and not self._answered:
                self._failed_clips += 1
                if self._failed_clips >= self.limit:
                    self._trip(f"the first {self._failed_clips} requests of this run all failed "
                               f"and none was answered, so the other clips would fail too; is "
                               f"{self.where} the right one, and is the model name right? "
                               f"Last error: {record['error']['message']}")

    def _trip(self, why: str) -> None:
        if self.reason is None:
            self.reason = f"stopped early: {why}"
            self.stop.set()


class _Stopped(BaseException):
    """The run stopped while a clip waited to retry: the clip is left for the next run.
    A BaseException, so that a local model's failures (``except Exception``) never catch it."""


class JobFailed(Exception):
    """A job that failed for good: ``kind`` says how ("request", or a run's "video" or
    "caption"), and the job gets an error line."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class WorkFailed(MLLMError):
    """A fatal error ended the work: a rejected key, an unknown model, a cache line that
    cannot be written.

    The message is the error's own (chained as ``__cause__``); every answer received before
    is in the cache and the record says "failed".

    Parameters
    ----------
    error : MLLMError
        The error that ended the work.
    done : JobsDone
        What the work did by then (``stopped`` is None: the work did not stop on its own).
    """

    def __init__(self, error: MLLMError, done: JobsDone) -> None:
        super().__init__(str(error))
        self.error = error
        self.done = done


class StageStopped(MLLMError):
    """A stage (a run, an extraction) that ended without asking about every job, or whose
    every request failed: the base of :class:`emosign.harness.runner.RunStopped` and
    :class:`emosign.harness.extract.ExtractionStopped`.

    Raised by the stage once everything done is saved (every answer in its cache, its record
    saying how it ended), so running it again resumes. The subclass carries the stage's
    summary of what it did.

    Parameters
    ----------
    message : str
        Why, and what was kept.
    reason : str
        Why, alone (the message without what was kept), for a caller that reports the
        counts itself, as the command line does.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the run stops cleanly and says so in its manifest."""


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While a run is going, SIGTERM stops it as Ctrl-C does (answers in flight saved, the
    manifest says "interrupted"). Only in the main thread, where Python runs signal
    handlers, and only if no one else has set a handler for SIGTERM."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills at once
        raise Terminated("SIGTERM")

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
