"""Asking a model about many items at once: threads, retries, the early stop, Ctrl-C.

:func:`ask_in_parallel` sends every job through a :class:`Worker` on a thread pool; the
worker asks (retrying as a :class:`~emosign.harness.client.RetryPolicy` says), scrubs the
key from what it keeps, appends one cache line per job, and tells the :class:`Breaker`,
which stops the work early when the server is dead or the wrong one. Both stages of the
harness, the run (:mod:`emosign.harness.runner`) and the extraction
(:mod:`emosign.harness.extract`), ask this way; :func:`check_number` checks their options.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

import numpy as np

from emosign.harness.client import (
    ConnectionFailed,
    Message,
    MLLMError,
    RequestError,
    call_with_retries,
    redact,
)
from emosign.harness.runfiles import now
from emosign.errors import InputError

DEFAULT_CONCURRENCY = 4
#: A run stops when, before any answer, its first this-many attempts all fail to connect,
#: or its first this-many clips' requests all fail: the server is dead or not the one meant,
#: and every other clip would fail the same way after its retries.
STOP_AFTER_FAILED_REQUESTS = 3
MAX_TIMEOUT = 86_400.0  # seconds per request: a day


def ask_in_parallel(
    work: Callable[[Any], Any],
    jobs: Sequence[Any],
    futures: list,
    *,
    concurrency: int,
    stop: threading.Event,
    breaker: Breaker,
    on_done: Callable[[Any], None],
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


class Worker:
    """Does one job: asks, writes one cache line, tells the breaker. Runs in the pool's threads.

    A job has ``video_name``, ``key``, ``prompt_sha256`` and ``prompt_text``; a subclass says
    what is sent for it in :meth:`ask` (the run: a clip's frames and prompt; the extraction:
    an answer in an instruction).
    """

    def __init__(self, *, chat, writer, base_record, retry, secrets, stop, breaker) -> None:
        self.stop = stop  # set: ask nothing more, retry nothing more
        self.breaker = breaker
        self.chat = chat
        self.writer = writer
        self.base_record = base_record
        self.retry = retry
        self.secrets = secrets

    def __call__(self, job: Any) -> dict | None:
        """The clip's cache record, also appended to the cache; None if the run stopped
        before the clip was asked (nothing is written for it)."""
        if self.stop.is_set():
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
        self.writer.append(record)
        self.breaker.count(record)
        return record

    def ask(self, job: Any, record: dict) -> str:
        """The answer to ``job`` (by :meth:`request`); JobFailed if there is none."""
        raise NotImplementedError

    def request(self, job: Any, messages: list[Message], record: dict) -> str:
        """The answer to ``messages``, retried as ``self.retry`` says; ``JobFailed`` if
        the request failed for good (MLLMError passes: the whole run stops)."""
        try:
            answer, record["attempts"] = call_with_retries(
                self._attempt, messages, retry=self.retry, sleep=self._wait_to_retry
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
        try:
            answer = self.chat(messages)
        except ConnectionFailed as err:
            self.breaker.connection_failed(str(err))
            raise
        except BaseException:
            self.breaker.reached()  # an HTTP error status, say: the server is there
            raise
        self.breaker.reached()
        return answer

    def _wait_to_retry(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise _Stopped


class Breaker:
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
        with self._lock:
            if self._reached:
                return
            self._failed_connections += 1
            if self._failed_connections >= self.limit:
                self._trip(f"the first {self._failed_connections} attempts to reach "
                           f"{self.where} all failed to connect ({message}); is it running, "
                           "and is the base URL right?")

    def reached(self) -> None:
        with self._lock:
            self._reached = True

    def count(self, record: Mapping[str, Any]) -> None:
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


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the run stops cleanly and says so in its manifest."""


@contextmanager
def sigterm_as_interrupt():
    """While a run is going, SIGTERM stops it as Ctrl-C does (answers in flight saved, the
    manifest says "interrupted"). Only in the main thread, where Python runs signal
    handlers, and only if no one else has set a handler for SIGTERM."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def terminate(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills at once
        raise Terminated("SIGTERM")

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def check_number(name: str, value: object, *, low: float, inclusive: bool = True,
                  below: float | None = None, whole: bool = False, optional: bool = False) -> None:
    """Refuse an option that is not a number >= ``low`` (> ``low`` if not ``inclusive``)
    and < ``below``, whole if ``whole``, or None if ``optional``; the message names it."""
    if value is None and optional:
        return
    kind = "a whole number" if whole else "a finite number"
    bound = f"{'>=' if inclusive else '>'} {low:g}" + (f" and < {below:g}" if below else "")
    valid_type = isinstance(value, (int, np.integer)) if whole else isinstance(value, (int, float, np.number))
    if isinstance(value, bool) or not valid_type:
        raise InputError(f"{name} must be {kind} {bound}{' or None' if optional else ''}, "
                         f"not {value!r}")
    too_low = value < low or (value == low and not inclusive)
    too_high = below is not None and value >= below
    # math.isfinite: an int too large for a float is still finite, and not an error here.
    if too_low or too_high or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        raise InputError(f"{name} must be {kind} {bound}, not {value!r}")
