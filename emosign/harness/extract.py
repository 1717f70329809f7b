"""LLM answer extraction: a text model turns free-text answers into labels, as the paper did.

The paper read its models' free-text answers with a second, text-only model (Qwen3-8B),
asked for a brief answer naming the sentiment or the emotions the first model's output
describes. :func:`extract_answers` is that optional second stage for a run directory of
:func:`emosign.harness.runner.run_mllm`:

1. every answer of every run is read by the rule reader
   (:func:`emosign.harness.answers.read_answer`);
2. the answers it cannot read for some task (or all answers, with ``all_answers=True``;
   never an empty one, which holds no label a text model could find) are sent to a text
   model through the same OpenAI-compatible client, with an instruction asking for just the
   label (:data:`EXTRACTION_PROMPTS`, one per harness task);
3. the text model's reply is read by the rule reader again.

:func:`emosign.harness.runner.score_run` then scores every task both ways, so the effect of
the extraction step is visible: the rule reader alone, and with the extracted labels filling
in what it could not read (or replacing every reading, after ``all_answers=True``).

**Resumable like the first stage.** Every reply is appended to
``<model>/<task>.<input>.extract.jsonl`` as it arrives. A reply's key is the sha256 of the
extraction model, the harness task, the clip, the sha256 of the exact request text (the
instruction with the answer in it) and the generation settings, so a killed extraction asks
again only about what has no reply, and a new answer, instruction or extraction model is
never mixed up with an old one's reply. ``<model>/<task>.<input>.extract.json`` records the
latest extraction of a run: the model, whether all answers were sent, the instruction's
sha256, and counts.

**The same loop as the first stage.** The asking is
:func:`emosign.harness.parallel.run_jobs`, as in ``mllm run``, with the same settings
(:class:`~emosign.harness.config.ClientConfig`; by default
:data:`~emosign.harness.config.EXTRACTION_CLIENT`, at most 256 tokens per reply).

**As guarded as the first stage**: runs are found by
:func:`~emosign.harness.runfiles.find_runs` (a run folder or file that leads out of the run
directory through a symbolic link is refused), manifests and caches are read by
:func:`~emosign.harness.runfiles.read_manifest` and :func:`~emosign.harness.runfiles.read_cache`
(one-line errors naming the file), an extraction holds the run's own lock (so it is refused
while ``mllm run`` writes that run, and two extractions of one run refuse each other), a dead
server stops it early as it stops a run, and the key is scrubbed from every reply and error
kept (:func:`emosign.harness.client.redact`).

**It stops as the first stage stops**: an extraction that stopped early (a dead or wrong
server, a rejected key, an unknown model, a file that cannot be written), or one of whose
runs got no reply for any answer it sent, raises :class:`ExtractionStopped` (a
:class:`~emosign.harness.parallel.StageStopped`, like ``run_mllm``'s ``RunStopped``) once
every reply received and every extraction record are saved, carrying the summaries it
would have returned; extracting again resumes.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emosign import __version__, vocab
from emosign._io import parse_json, read_regular_file
from emosign.errors import InputError
from emosign.harness.answers import Reading, read_answer
from emosign.harness.client import ChatFn, ChatSetup, chat_for, public_url
from emosign.harness.config import EXTRACTION_CLIENT, ClientConfig, configure, refuse_unknown
from emosign.harness.parallel import StageStopped, Worker, WorkFailed, run_jobs
from emosign.harness.runfiles import (
    RunFiles,
    RunLock,
    RunLockedError,
    cut_off_note,
    describe_holder,
    digest,
    find_runs,
    latest_answers,
    now,
    read_cache,
    read_manifest,
    require_regular_file,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from emosign.harness.config import ClientOptions

__all__ = [
    "EXTRACTION_PROMPTS",
    "Extracted",
    "ExtractionStopped",
    "ExtractionSummary",
    "cache_path",
    "extract_answers",
    "extraction_key",
    "extraction_request",
    "format_extraction",
    "manifest_path",
    "needs_extraction",
    "read_extraction",
]
_CACHE_FORMAT = 1
_UNKNOWN = "unknown"  # what the text model says when the answer names no label: unreadable

# --- the instructions --------------------------------------------------------------------
# This project's wording. The answer is appended after the instruction, fenced, as data.


def _sentiment_instruction() -> str:
    phrases = ", ".join(level.phrase for level in vocab.SENTIMENT_LEVELS)
    return (
        "Below is another model's answer about the overall sentiment a person expresses in "
        "a video of American Sign Language. Which sentiment does that answer give? Reply with "
        f"just one of these seven phrases and nothing else: {phrases}. If the answer gives "
        f"none of them, or several, reply {_UNKNOWN}."
    )


def _emotion_instruction() -> str:
    names = ", ".join(e.prompt_name for e in vocab.EMOTIONS)
    return (
        "Below is another model's answer about the emotion a person expresses most strongly "
        "in a video of American Sign Language. Which single emotion does that answer name? "
        f"Reply with just one of these labels and nothing else: {names}, or {vocab.NEUTRAL} "
        f"if the answer says that no emotion is expressed. If it names none of them, or "
        f"several without saying which is strongest, reply {_UNKNOWN}."
    )


def _joint_instruction() -> str:
    keys = ", ".join(f'"{e.name}": <number>' for e in vocab.EMOTIONS)
    return (
        "Below is another model's answer rating a video of a person signing in American Sign "
        f"Language: the overall sentiment from {vocab.SENTIMENT_MIN} (extremely negative) to "
        f"{vocab.SENTIMENT_MAX} (extremely positive), and how present each of ten emotions is, "
        f"from {vocab.INTENSITY_MIN} (not present) to {vocab.INTENSITY_MAX} (extremely "
        "present). Write the ratings that answer gives as one JSON object and nothing else: "
        f'{{"sentiment": <number>, {keys}}}. Write null for a rating the answer does not give.'
    )


#: The instruction sent with each answer, per harness task.
EXTRACTION_PROMPTS: Mapping[str, str] = {
    "joint": _joint_instruction(),
    "sentiment": _sentiment_instruction(),
    "emotion": _emotion_instruction(),
}


def extraction_request(task: str, answer: str) -> str:
    """The exact text sent to the text model for one answer of harness task ``task``.

    Parameters
    ----------
    task : str
        The harness task the answer was to (joint, sentiment, emotion).
    answer : str
        The first model's answer.

    Returns
    -------
    str
        The task's instruction (:data:`EXTRACTION_PROMPTS`), then the answer, fenced.
    """
    return f'{EXTRACTION_PROMPTS[task]}\n\nThe answer:\n"""\n{answer}\n"""'


def _settings(temperature: float | None, max_tokens: int | None) -> dict[str, Any]:
    return {"temperature": temperature, "max_tokens": max_tokens}


def extraction_key(*, model: str, task: str, video_name: str, request: str,
                   settings: Mapping[str, Any]) -> str:
    """The cache key of one extraction request (see the module docstring).

    Parameters
    ----------
    model : str
        The text model.
    task : str
        The harness task.
    video_name : str
        The clip.
    request : str
        The exact request (:func:`extraction_request`).
    settings : Mapping
        The generation settings (``temperature``, ``max_tokens``).

    Returns
    -------
    str
        A sha256, in hex.
    """
    return digest({
        "model": model, "task": task, "video_name": video_name,
        "prompt_sha256": _sha256(request), "settings": dict(settings),
    })


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_path(files: RunFiles) -> Path:
    """Where the extraction replies of a run are kept.

    Parameters
    ----------
    files : RunFiles
        The run.

    Returns
    -------
    Path
        ``<model>/<task>.<input>.extract.jsonl``.
    """
    return files.directory / f"{files.stem}.extract.jsonl"


def manifest_path(files: RunFiles) -> Path:
    """Where the latest extraction of a run is recorded.

    Parameters
    ----------
    files : RunFiles
        The run.

    Returns
    -------
    Path
        ``<model>/<task>.<input>.extract.json``.
    """
    return files.directory / f"{files.stem}.extract.json"


def needs_extraction(readings: Mapping[str, Reading]) -> bool:
    """Whether the rule reader failed on any scored task of an answer.

    Parameters
    ----------
    readings : Mapping of str to Reading
        The answer's reading per scored task (:func:`emosign.harness.answers.read_answer`).

    Returns
    -------
    bool
    """
    return not all(reading.ok for reading in readings.values())


def _to_send(answer: str, readings: Mapping[str, Reading], all_answers: bool) -> bool:
    # An empty answer holds no label: a text model could only make one up.
    return bool(answer.strip()) and (all_answers or needs_extraction(readings))


# --- running -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractionSummary:
    """What :func:`extract_answers` did for one run.

    ``n_to_extract`` answers were to be sent (those the rule reader could not read, or all):
    ``n_cached`` had a reply already, ``n_answered`` got one now, ``n_errors`` did not
    (their requests failed for good) and ``n_skipped`` were not sent because the extraction
    stopped early; a next extraction asks again about the last two. ``stopped`` says why
    the extraction stopped early (a dead or wrong server, a rejected key), else None;
    ``notes`` what else the user should know (the run it read was unfinished, say);
    ``first_error`` the error message of the first answer (by clip) whose request failed
    for good, key scrubbed, else None. :func:`format_extraction` says this for people. An
    extraction with a summary that :attr:`failed` does not return its summaries: they are
    the ``summaries`` of the :class:`ExtractionStopped` raised.
    """

    run_manifest: str
    task: str
    input: str
    extraction_model: str
    all_answers: bool
    n_answers: int
    n_to_extract: int
    n_cached: int
    n_answered: int
    n_errors: int
    cache_file: str
    manifest_file: str
    n_skipped: int = 0
    stopped: str | None = None
    notes: tuple[str, ...] = ()
    first_error: str | None = None

    @property
    def failed(self) -> bool:
        """Whether nothing could be extracted now though something was to be: a stop, or
        every request sent failed (the rule of ``mllm run``'s exit status)."""
        return bool(self.stopped) or bool(self.n_errors + self.n_skipped and not self.n_answered)

    @property
    def why(self) -> str | None:
        """Why this run's extraction :attr:`failed`, naming the run; None if it did not."""
        if not self.failed:
            return None
        return (f"{self.run_manifest}: "
                f"{self.stopped or 'no answer could be extracted: every request failed'}")


class ExtractionStopped(StageStopped):
    """An extraction that stopped early, or that got no reply for any answer of a run
    (a :class:`~emosign.harness.parallel.StageStopped`, an ``MLLMError``).

    Raised by :func:`extract_answers` when it stopped early (a dead or wrong server, a
    rejected key, an unknown model, a file that cannot be written: the runs after that one
    are not tried) or when every request it sent for some run failed. Every reply received
    is kept in the runs' extraction caches and each extraction record says how it ended, so
    extracting again resumes.

    Parameters
    ----------
    message : str
        Why (for a run whose requests failed, with its first failure: a local model's
        exception, type and message, say), and what was kept.
    summaries : sequence of ExtractionSummary
        The summaries the extraction would have returned, one per run tried, in order (a
        stopped run's last, its ``stopped`` saying why and how many runs were not tried).
    reason : str
        Why, alone: one ``<run manifest>: <why>`` per run that :attr:`ExtractionSummary.failed`,
        joined by "; " (what the command line prints as its error line).
    not_tried : sequence of str
        The manifests of the runs not tried, because the extraction stopped before them.
    """

    def __init__(self, message: str, summaries: Sequence[ExtractionSummary], *, reason: str,
                 not_tried: Sequence[str] = ()) -> None:
        super().__init__(message, reason=reason)
        self.summaries = list(summaries)
        self.not_tried = tuple(not_tried)


def format_extraction(summary: ExtractionSummary) -> str:
    """One line per run for people (and a line per note): counts, and where they are kept.

    Parameters
    ----------
    summary : ExtractionSummary
        What :func:`extract_answers` did for one run.

    Returns
    -------
    str
    """
    which = "all" if summary.all_answers else "unreadable"
    line = (f"{summary.run_manifest}: {summary.n_to_extract} of {summary.n_answers} answers to "
            f"extract ({which}) with {summary.extraction_model}: {summary.n_cached} cached, "
            f"{summary.n_answered} extracted now, {summary.n_errors} failed")
    if summary.n_skipped:
        line += f", {summary.n_skipped} not sent (stopped early)"
    return "\n".join([line, *(f"  note: {note}" for note in summary.notes)])


@dataclass(frozen=True)
class _Job:
    """One answer to send; the fields :class:`emosign.harness.parallel.Worker` reads."""

    video_name: str
    prompt_text: str  # the exact request: the instruction with the answer in it
    prompt_sha256: str
    key: str


class _Extractor(Worker):
    """The worker of both stages (scrubbing, cache lines, retries, the early stop on a dead
    server), asking a text model about one answer instead of a model about one clip."""

    def ask(self, job: _Job, record: dict[str, Any]) -> str:
        # The request is the instruction with the run's answer in it, both kept elsewhere;
        # its sha256 names it.
        del record["prompt"]
        return self.request(job, [{"role": "user", "content": job.prompt_text}], record)


def extract_answers(
    run_dir: str | os.PathLike,
    *,
    model: str,
    client: ChatFn | None = None,
    client_config: ClientConfig | None = None,
    all_answers: bool = False,
    runs: Sequence[str | os.PathLike] | None = None,
    progress: bool | None = True,
    **options: Unpack[ClientOptions],
) -> list[ExtractionSummary]:
    """Send the answers of every run in ``run_dir`` that the rule reader cannot read to a
    text model, keeping every reply.

    Parameters
    ----------
    run_dir : path
        A run directory of :func:`emosign.harness.runner.run_mllm`.
    model : str
        The text model's name: sent to the server, and part of every cache key.
    client : ChatFn, optional
        A :data:`emosign.harness.client.ChatFn` for a local text model. None: an
        OpenAI-compatible client built from ``client_config`` (a client you pass is told
        nothing of ``temperature`` and ``max_tokens``, which are recorded as None).
    client_config : ClientConfig, optional
        How the text model is asked; default :data:`~emosign.harness.config.EXTRACTION_CLIENT` (a
        :class:`~emosign.harness.config.ClientConfig` with at most 256 tokens per reply).
        The key is read from the environment only and never written anywhere (a server
        that echoes it back gets it scrubbed from every reply and error kept, whatever its
        length).
    all_answers : bool
        Send every answer, not only those the rule reader cannot read.
    runs : sequence of paths, optional
        Only these runs' manifests (``<model>/<task>.<input>.run.json``); default all.
    progress : bool or None
        A progress bar on stderr: True, False, or None for "when it is a terminal".
    **options
        Fields of :class:`~emosign.harness.config.ClientConfig` (``base_url=``,
        ``concurrency=``, ...), overriding ``client_config``'s.

    Returns
    -------
    list of ExtractionSummary
        One per run extracted, every one with something extracted or nothing to send.

    Raises
    ------
    ExtractionStopped
        If the extraction stopped early, or every request it sent for some run failed: as
        in the first stage, when the first
        :data:`~emosign.harness.parallel.STOP_AFTER_FAILED_REQUESTS` attempts all fail to
        connect, or the first that many answers' requests all fail (a dead or wrong server),
        and when the server rejects the key or does not know the model, or a cache line
        cannot be written, the extraction stops and the runs after it are not tried. Raised
        once every reply received and every extraction record are saved (and the runs'
        locks released), so extracting again resumes; its ``summaries`` are the
        summaries it would have returned (the stopped run's ``stopped`` says why),
        ``reason`` the why alone, ``not_tried`` the runs not tried.
    FileNotFoundError
        If ``run_dir`` is no folder or holds no run.
    InputError
        If an option is out of range, a run's folder or file leads out of ``run_dir`` (a
        symbolic link), or a run's manifest or cache is not what a run writes (the message
        names the file).
    RunLockedError
        If another process writes one of the runs (``mllm run``, or another extraction):
        the message names it. Nothing is sent then.
    MLLMError
        If there is no API key, or an extraction record cannot be written at its end.
    KeyboardInterrupt
        Passed on after the requests in flight are answered and saved (SIGTERM too, in the
        main thread).
    """
    settings_given = dict(options)
    config = configure(client_config or EXTRACTION_CLIENT, settings_given)
    refuse_unknown("extract_answers", settings_given)
    if not model.strip():
        raise InputError("model must be a non-empty name: it identifies the extracted replies")
    if client is not None and config.base_url is not None:
        raise InputError("pass either client (a local model) or base_url (a server), not both")
    found = find_runs(run_dir)
    if runs is not None:
        wanted = {Path(path).resolve() for path in runs}
        found = [files for files in found if files.manifest.resolve() in wanted]
    chat = chat_for(model, client, config, local="the text model")
    generated = client is None  # a client you pass is told none of the settings
    settings = _settings(config.temperature if generated else None,
                         config.max_tokens if generated else None)
    common = {"model": model, "client": chat.name,
              "base_url": public_url(config.base_url) if generated else None,
              "settings": settings, "all_answers": all_answers}
    summaries = []
    not_tried: list[str] = []
    fatal: WorkFailed | None = None
    with ExitStack() as locks:
        # Every run's lock before anything is sent: a run still being written (its cache is
        # what is read here) or being extracted by another process is refused at once.
        for files in found:
            _lock(files, locks)
        # Every run read before anything is sent: a broken record stops all at once.
        plans = [_plan(files, model=model, settings=settings, all_answers=all_answers)
                 for files in found]
        for number, (files, plan) in enumerate(zip(found, plans), start=1):
            summary, fatal = _extract_run(files, plan, chat=chat, common=common,
                                          config=config, progress=progress)
            summaries.append(summary)
            if summary.stopped:
                not_tried = [str(later.manifest) for later in found[number:]]
                if not_tried:
                    summaries[-1] = replace(summary, stopped=(
                        f"{summary.stopped} ({len(not_tried)} other run(s) not tried)"))
                break
    # Every reply and record saved, every lock released: now say how it ended.
    _raise_if_failed(summaries, not_tried, fatal)
    return summaries


def _raise_if_failed(summaries: Sequence[ExtractionSummary], not_tried: Sequence[str],
                     fatal: WorkFailed | None) -> None:
    """Raise :class:`ExtractionStopped` if a run's extraction :attr:`~ExtractionSummary.failed`
    (chained to the error that ended the work, a rejected key say, if one did)."""
    failed = [summary for summary in summaries if summary.failed]
    if not failed:
        return
    reason = "; ".join(str(summary.why) for summary in failed)
    # The message names the cause too: the first failure, unless the why says it already.
    causes = [str(summary.why) if not summary.first_error or summary.first_error in str(summary.why)
              else f"{summary.why}; first failure: {summary.first_error}" for summary in failed]
    kept = sum(summary.n_cached + summary.n_answered for summary in summaries)
    left = sum(summary.n_errors + summary.n_skipped for summary in summaries)
    also = f" and {len(not_tried)} run(s) not tried" if not_tried else ""
    message = (f"{'; '.join(causes)} ({kept} reply(ies) kept; extract again to send the {left} "
               f"answer(s) without one{also})")
    raise ExtractionStopped(message, summaries, reason=reason, not_tried=not_tried) from (
        None if fatal is None else fatal.error)


def _lock(files: RunFiles, locks: ExitStack) -> None:
    """Take the run's own lock (the one ``mllm run`` holds while it writes), held until
    ``locks`` closes; RunLockedError naming the holder if another process has it."""
    lock = RunLock(files.lock)
    try:
        lock.acquire()
    except RunLockedError:
        raise RunLockedError(
            f"cannot extract {files.directory / files.stem} now: {_holder(files.lock)} holds "
            f"{files.lock} (an `emosign mllm run` writing its answers, or another `mllm "
            "extract`). Wait for it to finish (or stop it), then extract again"
        ) from None
    locks.callback(lock.release)


def _holder(lock_file: Path) -> str:
    """Who holds a run's lock, as the lock file says (pid, host, start time)."""
    try:
        fd = os.open(lock_file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return "another process"
    try:
        return describe_holder(fd)
    finally:
        os.close(fd)


_Plan = tuple[dict[str, Any], dict[str, str], list["_Job"]]


def _plan(files: RunFiles, *, model: str, settings: Mapping[str, Any],
          all_answers: bool) -> _Plan:
    """The run's manifest, its latest answers, and one job per answer to send."""
    manifest = read_manifest(files.manifest)
    answers, _, _ = latest_answers(read_cache(files.cache), manifest["config"])
    jobs = []
    for name, answer in answers.items():
        if _to_send(answer, read_answer(files.task, answer), all_answers):
            request = extraction_request(files.task, answer)
            key = extraction_key(model=model, task=files.task, video_name=name,
                                 request=request, settings=settings)
            jobs.append(_Job(video_name=name, prompt_text=request,
                             prompt_sha256=_sha256(request), key=key))
    return manifest, answers, jobs


def _unfinished_note(manifest: Mapping[str, Any]) -> str | None:
    """What to know when the run read is not finished (its lock is ours, so none writes it)."""
    status = manifest["status"]
    if status == "finished":
        return None
    how = "was cut off without recording its end" if status == "running" else f"is {status}"
    return (f"the run {how}: only the answers it has so far were read; after `emosign mllm "
            "run` finishes it, extract again to send the new ones")


def _read_record(path: Path) -> dict[str, Any] | None:
    """The extraction record at ``path``; None if there is none.

    Raises ValueError if it is not one (not JSON, cut off, or another file).
    """
    if not path.exists() and not path.is_symlink():
        return None
    data = read_regular_file(path, what="extraction record")  # a FIFO is named as one
    try:
        record = parse_json(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        record = None
    if not isinstance(record, dict) or not {"model", "settings", "all_answers"} <= set(record):
        raise InputError(
            f"{path} is not an extraction record; extract again (`emosign mllm extract`) to "
            "rewrite it"
        )
    return record


def _previous_extraction_note(path: Path) -> str | None:
    """What to know about the extraction this one follows, if it was cut off.

    Called with the run's lock held, so a record still saying "running" belongs to an
    extraction that did not get to record its end: killed (SIGKILL, the machine went down).
    """
    try:
        previous = _read_record(path)
    except ValueError as err:
        return f"the previous extraction record could not be read and is replaced ({err})"
    if previous is None or previous.get("status") != "running":
        return None
    return (cut_off_note(previous, "extraction") + "; its replies are kept, and only the "
            "answers without one are sent")


def _extract_run(files: RunFiles, plan: _Plan, *, chat: ChatSetup, common: Mapping[str, Any],
                 config: ClientConfig, progress: bool | None,
                 ) -> tuple[ExtractionSummary, WorkFailed | None]:
    """The run's extraction: its summary, and the error that ended it if one did (a
    rejected key, say; the summary's ``stopped`` is then its message)."""
    model, settings = common["model"], common["settings"]
    manifest, answers, jobs = plan
    cache, record_path = cache_path(files), manifest_path(files)
    for path, what in ((cache, "extraction cache"), (record_path, "extraction record")):
        require_regular_file(path, what, writing=True)
    notes = tuple(note for note in (_unfinished_note(manifest),
                                    _previous_extraction_note(record_path)) if note)
    record = {
        **common,
        "run_config": manifest["config"],
        "task": files.task,
        "input": files.input,
        "instruction_sha256": _sha256(EXTRACTION_PROMPTS[files.task]),
        "emosign_version": __version__,
        "answers": len(answers),
        "to_extract": len(jobs),
        "started": now(),
        "status": "running",
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    if notes:
        record["notes"] = list(notes)
    worker = _Extractor(
        chat=chat.chat, secrets=chat.secrets,
        base_record={"format": _CACHE_FORMAT, "model": model, "task": files.task,
                     "settings": settings},
    )
    try:
        outcome = run_jobs(worker, jobs, cache=cache, record=record, record_path=record_path,
                           config=config, where=chat.where, progress=progress,
                           description=f"extract {files.directory.name} {files.stem}",
                           unit="answer")
        fatal = None
    except WorkFailed as failed:
        # Raised by extract_answers as ExtractionStopped, with what was done before.
        outcome, fatal = failed.done, failed
    summary = ExtractionSummary(
        run_manifest=str(files.manifest), task=files.task, input=files.input,
        extraction_model=model, all_answers=common["all_answers"], n_answers=len(answers),
        n_to_extract=len(jobs), n_cached=outcome.n_cached, n_answered=outcome.n_answered,
        n_errors=len(outcome.failures), cache_file=str(cache), manifest_file=str(record_path),
        n_skipped=outcome.n_skipped, stopped=outcome.stopped if fatal is None else str(fatal),
        notes=notes, first_error=_first_error(outcome.failures),
    )
    return summary, fatal


def _first_error(failures: Sequence[Mapping[str, Any]]) -> str | None:
    """The error message of the first failed answer, by clip; None if none failed."""
    first = min(failures, key=lambda failure: failure["video_name"], default=None)
    return None if first is None else first["error"]["message"]


# --- reading the extracted labels -----------------------------------------------------------


@dataclass(frozen=True)
class Extracted:
    """The latest extraction of a run, as score_run uses it.

    ``readings``: clip -> {scored task: Reading} after extraction: a clip whose answer was
    sent and got a reply takes the reply's reading for every task the rule reader could not
    read (for every task, after ``all_answers``); every other reading is the rule reader's.
    ``sent``: answers that were to be sent; ``replied``: those with a reply.
    """

    model: str
    all_answers: bool
    sent: int
    replied: int
    readings: Mapping[str, Mapping[str, Reading]]


def read_extraction(files: RunFiles, answers: Mapping[str, str],
                    readings: Mapping[str, Mapping[str, Reading]]) -> Extracted | None:
    """The run's latest extraction applied to its answers; None if it has none.

    Replies are looked up by key, so a reply to an older answer, instruction or extraction
    model is never used.

    Parameters
    ----------
    files : RunFiles
        The run.
    answers : Mapping of str to str
        The run's latest answers (clip -> text).
    readings : Mapping
        The rule reader's readings of them (clip -> scored task -> Reading).

    Returns
    -------
    Extracted or None

    Raises
    ------
    InputError
        If the extraction record or cache is not what an extraction writes.
    """
    path = manifest_path(files)
    record = _read_record(path)
    if record is None:
        return None
    model, settings, all_answers = record["model"], record["settings"], bool(record["all_answers"])
    replies = {r["key"]: r.get("response") or "" for r in read_cache(cache_path(files))
               if r["status"] == "ok"}
    after: dict[str, Mapping[str, Reading]] = {}
    sent = replied = 0
    for name, before in readings.items():
        if not _to_send(answers[name], before, all_answers):
            after[name] = before
            continue
        sent += 1
        request = extraction_request(files.task, answers[name])
        key = extraction_key(model=model, task=files.task, video_name=name, request=request,
                             settings=settings)
        if key not in replies:
            after[name] = before
            continue
        replied += 1
        extracted = read_answer(files.task, replies[key])
        after[name] = {
            scored: extracted[scored] if all_answers or not reading.ok else reading
            for scored, reading in before.items()
        }
    return Extracted(model=model, all_answers=all_answers, sent=sent, replied=replied,
                     readings=after)
