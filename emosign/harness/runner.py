"""Run a multimodal LLM on EmoSign the paper's way, resumably, and score its answers.

The protocol (Chua et al., 2025, section 5): each clip is sampled at 10 frames per second,
the frames are sent to the model with a prompt, with or without the English translation of
the signing, and the model's free-text answer is read into labels. :func:`run_mllm` does the
asking, :func:`score_run` the reading and scoring::

    from emosign.harness.runner import run_mllm, score_run

    run_mllm(model="qwen2.5vl:7b", base_url="http://localhost:11434/v1", task="joint",
             video_dir="videos/", out="runs/")
    results = score_run("runs/")          # also writes runs/results.json

**What is sent.** One user message: for every sampled frame, a text part with its time
("t=0.40s") and the frame as a JPEG ``image_url`` part (a base64 data URL), in temporal
order; then the prompt of :mod:`emosign.harness.prompts`. Frames come from
:func:`emosign.video.sample_frames` (10 fps, at most ``max_frames``, thinned evenly beyond
that), decoded at a size whose longer side is at most ``max_side`` pixels: the settings of
a :class:`~emosign.harness.config.FrameConfig`.

**Settings.** How the model is asked (server, key variable, timeout, retries, concurrency,
temperature, max tokens) is a :class:`~emosign.harness.config.ClientConfig`; both configs
hold their defaults and are checked when made. :func:`run_mllm` takes them, or their fields
as keyword arguments::

    from emosign.harness.config import ClientConfig, FrameConfig

    run_mllm(model="qwen2.5vl:7b", task="joint", video_dir="videos/", out="runs/",
             client_config=ClientConfig(base_url="http://localhost:11434/v1", concurrency=8),
             frame_config=FrameConfig(max_side=384))

**Clients.** Anything that maps the messages to the answer text, ``ChatFn =
Callable[[list[Message]], str]``: :class:`OpenAIChat` for an OpenAI-compatible server
(OpenAI, vLLM, Ollama, LM Studio, ...), or your own function around a local model
(:func:`message_frames` and :func:`message_prompt` unpack the messages). The API key is read
from the environment only and is never written anywhere.

**One loop.** The asking itself (skipping what is cached, threads, retries, the early stop
on a dead server, SIGTERM as Ctrl-C) is :func:`emosign.harness.parallel.run_jobs`, which
the extraction stage (:mod:`emosign.harness.extract`) runs too.

**Nothing is lost.** Every response is appended to a JSON Lines cache as soon as it arrives
(one line per request, flushed and fsynced). A line's ``key`` is the sha256 of the model, the
harness task, the clip, the sha256 of the exact prompt text and the sampling and generation
settings; a clip whose key has an answer is never requested again, so an interrupted run
(Ctrl-C, a crash, a rate limit) resumes where it stopped when started again with the same
arguments. A clip whose video is missing or unreadable, or whose request failed for good,
gets an error line and is tried again by the next run. Rate limits (429) and server errors
(5xx), timeouts and lost connections are retried with exponential backoff, honouring
``Retry-After``.

Layout of a run directory (``<slug>`` is a file-safe form of the model name)::

    <out>/<slug>/<task>.<input>.jsonl              the cache: every response, one a line
    <out>/<slug>/<task>.<input>.run.json           the latest run: model, settings, prompt
    <out>/<slug>/<task>.<input>.<scored>.csv       predictions, written by score_run
    <out>/<slug>/<task>.<input>.extract.jsonl      LLM extraction's replies (emosign.harness.extract)
    <out>/<slug>/<task>.<input>.extract.json       the latest extraction: model, settings
    <out>/<slug>/<task>.<input>.<scored>.extracted.csv  predictions after extraction
    <out>/<slug>/joint.<input>.explanations.jsonl  the joint prompt's cue explanations
    <out>/results.json                             score_run's results

where ``<task>`` is a harness task (joint, sentiment, emotion) and ``<input>`` is ``video``
or ``video_caption``.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import socket
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from emosign import __version__
from emosign._defaults import N_BOOT
from emosign._io import write_atomically
from emosign.captions import read_captions
from emosign.errors import InputError
from emosign.harness.answers import Reading, parse_counts, parse_joint, read_answer
from emosign.harness.client import ChatFn, Message, chat_for, public_url
from emosign.harness.config import (
    DEFAULT_OUT,
    ClientConfig,
    FrameConfig,
    check_number,
    configure,
    refuse_unknown,
)
from emosign.harness.extract import read_extraction
from emosign.harness.parallel import JobFailed, StageStopped, Worker, WorkFailed, run_jobs
from emosign.harness.prompts import (
    DEFAULT_PROTOCOL,
    HARNESS_TASKS,
    SCORED_TASKS,
    Prompt,
    PromptFile,
    Protocol,
    get_protocol,
    read_prompt_file,
)
from emosign.harness.runfiles import (
    RunFiles,
    RunLock,
    cut_off_note,
    digest,
    file_kind,
    find_runs,
    latest_answers,
    now,
    read_cache,
    read_manifest,
    require_regular_file,
)
from emosign.labels import load_labels
from emosign.metrics import LEADERBOARD_METRICS, SHORT_NAMES, evaluate, format_metric
from emosign.records import stamp
from emosign.tasks import get_task
from emosign.video import Frames, VideoError, resolve_videos, sample_frames

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from emosign.harness.config import RunOptions
    from emosign.hub import LabelSource

__all__ = [
    "ClipError",
    "LocalModelFailed",
    "RunStopped",
    "RunSummary",
    "build_messages",
    "encode_jpeg",
    "format_scores",
    "format_summary",
    "message_frames",
    "message_prompt",
    "run_mllm",
    "score_run",
]


_CACHE_FORMAT = 1
_RESULTS_FILE = "results.json"


# --- frames to messages ------------------------------------------------------------------


def encode_jpeg(
    image: np.ndarray,
    *,
    max_side: int | None = FrameConfig.max_side,
    quality: int = FrameConfig.jpeg_quality,
) -> bytes:
    """One RGB frame as JPEG bytes.

    Parameters
    ----------
    image : numpy.ndarray
        (H, W, 3) uint8 RGB.
    max_side : int or None
        Shrink (keeping the aspect ratio) so that neither side exceeds this many pixels; a
        smaller frame is never enlarged. None keeps the size.
    quality : int
        JPEG quality, 1...95.

    Returns
    -------
    bytes
    """
    from PIL import Image  # the mllm extra: imported when a frame is encoded

    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    if max_side is not None:
        picture.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def build_messages(
    frames: Frames,
    prompt_text: str,
    *,
    max_side: int | None = FrameConfig.max_side,
    jpeg_quality: int = FrameConfig.jpeg_quality,
) -> list[Message]:
    """The request for one clip: one user message, frames in time order, then the prompt.

    Parameters
    ----------
    frames : Frames
        The clip's frames and their times (:func:`emosign.video.sample_frames`).
    prompt_text : str
        The exact prompt.
    max_side : int or None
        Each frame's longer side in pixels (None: as given).
    jpeg_quality : int
        The JPEG quality of each frame, 1...95.

    Returns
    -------
    list of Message
        ``[{"role": "user", "content": parts}]`` where ``parts`` alternates a text part
        ``"t=0.40s"`` (the frame's presentation time, 2 decimals) and an ``image_url`` part
        holding the frame as a ``data:image/jpeg;base64,...`` URL, and ends with the prompt
        text.
    """
    parts: list[dict[str, Any]] = []
    for time_s, image in zip(frames.timestamps, frames.array):
        data = base64.b64encode(encode_jpeg(image, max_side=max_side, quality=jpeg_quality))
        parts.append({"type": "text", "text": f"t={time_s:.2f}s"})
        parts.append(
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + data.decode()}}
        )
    parts.append({"type": "text", "text": prompt_text})
    return [{"role": "user", "content": parts}]


_TIME_PART = re.compile(r"t=(\d+(?:\.\d+)?)s")


def message_frames(messages: Sequence[Message]) -> list[tuple[float | None, Any]]:
    """The frames of a request, in order: for a :data:`ChatFn` around a local model that takes
    images rather than data URLs.

    Parameters
    ----------
    messages : sequence of Message
        A request of :func:`build_messages`.

    Returns
    -------
    list of (float or None, PIL.Image.Image)
        Each frame's time in seconds (None before any time part) and its picture.
    """
    from PIL import Image  # the mllm extra: imported when a request is unpacked

    frames, time_s = [], None
    for part in messages[-1]["content"]:
        if part["type"] == "text" and (match := _TIME_PART.fullmatch(part["text"])):
            time_s = float(match.group(1))
        elif part["type"] == "image_url":
            encoded = part["image_url"]["url"].split(",", 1)[1]
            image = Image.open(io.BytesIO(base64.b64decode(encoded)))
            image.load()
            frames.append((time_s, image))
    return frames


def message_prompt(messages: Sequence[Message]) -> str:
    """The instruction text of a request (its last text part).

    Parameters
    ----------
    messages : sequence of Message
        A request of :func:`build_messages`.

    Returns
    -------
    str
    """
    return messages[-1]["content"][-1]["text"]


# --- running -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipError:
    """A clip that got no answer in a run, and why."""

    video_name: str
    kind: str  # "video" (missing or unreadable), "caption" (none given) or "request"
    message: str


@dataclass(frozen=True)
class RunSummary:
    """What :func:`run_mllm` did.

    ``n_clips`` = ``n_cached`` (answered by an earlier run, not asked again) +
    ``n_answered`` (answered now) + ``n_errors`` (no answer; see ``errors``) +
    ``n_skipped`` (not asked, because the run stopped early: ``stopped`` says why).
    ``notes`` are things the user should know, e.g. that the previous run was killed.
    :func:`format_summary` says all this for people. A run that stopped early, or whose
    every request failed, does not return it: it is the ``summary`` of the
    :class:`RunStopped` raised.
    """

    model: str
    task: str
    input: str  # "video" or "video_caption"
    cache_file: str
    manifest_file: str
    prompt_sha256: str
    config_sha256: str
    n_clips: int
    n_cached: int
    n_answered: int
    n_errors: int
    errors: tuple[ClipError, ...]
    n_skipped: int = 0
    stopped: str | None = None
    notes: tuple[str, ...] = ()


class RunStopped(StageStopped):
    """A run that ended without asking every clip, or whose every request failed (a
    :class:`~emosign.harness.parallel.StageStopped`, an ``MLLMError``).

    Raised by :func:`run_mllm` when the run stopped early (a dead or wrong server, a
    rejected key, an unknown model, a file that cannot be written) or when every clip it
    asked about failed and none was answered. Every answer received is kept in the run's
    cache and its manifest says how the run ended, so running again resumes.

    Parameters
    ----------
    message : str
        Why, and what was kept.
    summary : RunSummary
        The summary the run would have returned: counts, failures, ``stopped``.
    reason : str
        Why, alone (the message without what was kept), for a caller that reports the
        counts itself, as the command line does.
    """

    def __init__(self, message: str, summary: RunSummary, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.summary = summary


class LocalModelFailed(RunStopped):
    """A local model (``run_mllm``'s ``client=``) failed: the run stopped early, or no clip
    it was asked about got an answer.

    The message names the cause (the clip, the client's exception type and message); every
    answer received is kept in the run's cache, so running again resumes. ``summary`` is the
    :class:`RunSummary` the run would have returned.
    """


@dataclass(frozen=True)
class _Job:
    video_name: str
    video_path: str | None  # None: no video file found
    caption_missing: bool  # a caption run, but the captions file has none for this clip
    prompt_text: str
    prompt_sha256: str
    key: str


def run_mllm(
    *,
    model: str,
    task: str,
    video_dir: str | os.PathLike,
    out: str | os.PathLike = DEFAULT_OUT,
    client: ChatFn | None = None,
    client_config: ClientConfig | None = None,
    frame_config: FrameConfig | None = None,
    captions_file: str | os.PathLike | None = None,
    labels_file: str | os.PathLike | None = None,
    protocol: str = DEFAULT_PROTOCOL,
    prompt_file: str | os.PathLike | None = None,
    prompt: Prompt | None = None,
    limit: int | None = None,
    progress: bool | None = True,
    **options: Unpack[RunOptions],
) -> RunSummary:
    """Ask a model about every clip of a harness task, keeping every answer in ``out``.

    Parameters
    ----------
    model : str
        The model's name: sent to the server, and part of every cache key.
    task : str
        "joint" (200 clips), "sentiment" (200) or "emotion" (the 140 clips of the single
        expression set, the only ones it is scored on).
    video_dir : path
        The clip videos, in any layout :func:`emosign.video.find_video` knows.
    out : path
        The run directory; see the module docstring for its layout.
    client : ChatFn, optional
        A :data:`~emosign.harness.client.ChatFn` for a local model. None: an
        :class:`~emosign.harness.client.OpenAIChat` built from ``client_config`` (a client
        you pass is told none of its settings; ``temperature`` and ``max_tokens`` are then
        recorded as None).
    client_config : ClientConfig, optional
        How the model is asked: server, key variable, timeout, retries, concurrency,
        temperature, max tokens (:class:`~emosign.harness.config.ClientConfig`).
    frame_config : FrameConfig, optional
        How each clip becomes frames: fps, frame cap, size, JPEG quality
        (:class:`~emosign.harness.config.FrameConfig`); fps and the cap default to the
        protocol's (10 fps; a cap of 48 for "emosign", none for "paper").
    captions_file : path, optional
        English translations (a CSV, see :mod:`emosign.captions`); given, the run is the
        "video_caption" input, else "video".
    labels_file : path, optional
        The label file that lists the clips (default ``$EMOSIGN_LABELS``, else the pinned
        Hub file).
    protocol : str
        "emosign" (default) or "paper": the preset of prompts and sampling
        (:data:`emosign.harness.prompts.PROTOCOLS`); recorded in the run's manifest.
    prompt_file : path, optional
        A TOML or YAML prompt file (:func:`emosign.harness.prompts.read_prompt_file`) whose
        wording replaces the protocol's; its task must be ``task``. Its path and the file's
        sha256 are recorded in the manifest. Not together with ``prompt``.
    prompt : Prompt, optional
        The wording (default: the protocol's prompt for ``task``); its task must be ``task``.
    limit : int, optional
        Ask about the first ``limit`` clips only (to try a model out).
    progress : bool or None
        A progress bar with ETA on stderr: True, False, or None for "when it is a terminal".
    **options
        Fields of either config (``base_url=``, ``concurrency=``, ``max_frames=``, ...),
        overriding ``client_config``'s and ``frame_config``'s.

    Returns
    -------
    RunSummary

    Raises
    ------
    RunStopped
        If the run stopped early (a dead or wrong server, see Notes; a rejected key or an
        unknown model; a cache line that cannot be written), or every clip it asked about
        failed: the message says why; every answer received is kept and the manifest says
        how the run ended, so running again resumes. Its ``summary`` is the
        :class:`RunSummary` the run would have returned, ``reason`` the why alone.
    LocalModelFailed
        The :class:`RunStopped` of a ``client`` (a local model): the message names the clip
        and the client's exception (type and message).
    MLLMError
        If there is no API key, or the run's manifest cannot be written at its end.
    RunLockedError
        If another process is writing the same run (model, task, input) in ``out``; the
        message names it (pid, host, start time).
    InputError
        If an option is out of range (the message names it), or ``out`` or one of the
        run's files is not what a run writes there (a file where a folder belongs, a FIFO,
        a cache line that is not a run's).
    KeyboardInterrupt
        Passed on after the requests in flight are answered and saved; the run is recorded
        as ``interrupted``. SIGTERM does the same when ``run_mllm`` runs in the main thread.

    Notes
    -----
    When, before any answer, the first
    :data:`~emosign.harness.parallel.STOP_AFTER_FAILED_REQUESTS` attempts all fail to
    connect, or the first that many clips' requests all fail (a dead or wrong server), the
    run stops early rather than failing every clip in turn, and raises :class:`RunStopped`:
    its summary's ``stopped`` says why and ``n_skipped`` counts the clips not asked.
    """
    settings_given = dict(options)
    config = configure(client_config or ClientConfig(), settings_given)
    frames = configure(frame_config or FrameConfig(), settings_given)
    refuse_unknown("run_mllm", settings_given)
    if not model.strip():
        raise InputError("model must be a non-empty name: it identifies the run's answers")
    if client is not None and config.base_url is not None:
        raise InputError("pass either client (a local model) or base_url (a server), not both")
    _check_out(Path(out))
    if task not in HARNESS_TASKS:
        raise InputError(f"unknown harness task {task!r}; choose one of {list(HARNESS_TASKS)}")
    preset = get_protocol(protocol)
    prompt, source = _choose_prompt(task, preset, prompt, prompt_file)
    frames = frames.for_protocol(preset)
    check_number("limit", limit, low=1, whole=True, optional=True)
    input_name = "video" if captions_file is None else "video_caption"
    files = RunFiles.of(out, model=model, task=task, input=input_name)
    _check_run_files(files)

    chat = chat_for(model, client, config)
    generated = client is None  # a client you pass is told none of the settings
    settings = {
        "fps": float(cast(float, frames.fps)),  # the protocol's, if not given
        "max_frames": frames.max_frames,
        "max_side": frames.max_side,
        "jpeg_quality": frames.jpeg_quality,
        "temperature": config.temperature if generated else None,
        "max_tokens": config.max_tokens if generated else None,
    }
    run_config = digest({
        "model": model, "task": task, "input": input_name,
        "prompt_sha256": prompt.sha256, "settings": settings,
    })
    jobs, labels_source = _plan(
        task=task, model=model, prompt=prompt, settings=settings, video_dir=video_dir,
        captions_file=captions_file, labels_file=labels_file, limit=limit,
    )
    manifest = {
        "model": model,
        "task": task,
        "input": input_name,
        "config": run_config,
        "client": chat.name,
        "base_url": public_url(config.base_url) if generated else None,
        "settings": settings,
        "protocol": preset.name,
        "prompt": {"sha256": prompt.sha256, "video": prompt.video,
                   "video_caption": prompt.video_caption,
                   "file": None if source is None else {"path": str(Path(source.path).resolve()),
                                                        "sha256": source.sha256}},
        "labels": {"path": labels_source.path, "sha256": labels_source.sha256},
        "video_dir": str(Path(video_dir).resolve()),
        "captions_file": None if captions_file is None else str(Path(captions_file).resolve()),
        "emosign_version": __version__,
        "clips": len(jobs),
        "started": now(),
        "status": "running",
        "pid": os.getpid(),
        "host": socket.gethostname(),
    }
    worker = _ClipWorker(
        chat=chat.chat, secrets=chat.secrets, frames=frames, video_dir=str(video_dir),
        base_record={"format": _CACHE_FORMAT, "config": run_config, "model": model,
                     "task": task, "input": input_name, "settings": settings},
    )
    notes: list[str] = []
    lock = RunLock(files.lock)
    files.directory.mkdir(parents=True, exist_ok=True)
    lock.acquire()  # from here on this process alone writes the run's files
    try:
        note = _previous_run_note(files)
        if note:
            notes.append(note)
            manifest["notes"] = notes
        outcome = run_jobs(worker, jobs, cache=files.cache, record=manifest,
                           record_path=files.manifest, config=config, where=chat.where,
                           progress=progress, description=f"{model} {task}")
        fatal = None
    except WorkFailed as failed:
        # Raised below as RunStopped, with the summary of what was done before.
        outcome, fatal = failed.done, failed
    finally:
        lock.release()

    errors = [ClipError(r["video_name"], **r["error"]) for r in outcome.failures]
    summary = RunSummary(
        model=model,
        task=task,
        input=input_name,
        cache_file=str(files.cache),
        manifest_file=str(files.manifest),
        prompt_sha256=prompt.sha256,
        config_sha256=run_config,
        n_clips=len(jobs),
        n_cached=outcome.n_cached,
        n_answered=outcome.n_answered,
        n_errors=len(errors),
        errors=tuple(sorted(errors, key=lambda e: e.video_name)),
        n_skipped=outcome.n_skipped,
        stopped=outcome.stopped if fatal is None else str(fatal),
        notes=tuple(notes),
    )
    if fatal is not None:
        # Its message says what to do (check the key, free space); the summary the counts.
        raise RunStopped(str(fatal), summary, reason=str(fatal)) from fatal.error
    _raise_if_failed(summary, chat.name if client is not None else None, where=chat.where)
    return summary


def _raise_if_failed(summary: RunSummary, local: str | None, *, where: str) -> None:
    """Raise :class:`RunStopped` if ``summary``'s run stopped early, or every clip it asked
    about failed (none answered now); :class:`LocalModelFailed`, its message starting with
    the client's name, if the model is the local model ``local``."""
    failed = [e for e in summary.errors if e.kind == "request"]
    if not summary.stopped and not (failed and not summary.n_answered):
        return
    if summary.stopped:
        why = summary.stopped
        if local is not None and failed and "Last error:" not in why:
            why += f"; first failure: {failed[0].message}"
    else:
        model = "the local model" if local is not None else where
        why = (f"{model} failed on every clip it was asked about "
               f"({len(failed)}): {failed[0].message}")
    kept = summary.n_cached + summary.n_answered
    message = (f"{why} ({kept} answer(s) kept in {summary.cache_file}; run again to ask the "
               f"{summary.n_errors + summary.n_skipped} clip(s) without one)")
    if local is None:
        raise RunStopped(message, summary, reason=why)
    raise LocalModelFailed(f"{local}: {message}", summary, reason=why)


def _choose_prompt(task: str, preset: Protocol, prompt: Prompt | None,
                   prompt_file: str | os.PathLike | None) -> tuple[Prompt, PromptFile | None]:
    """The run's prompt (given, from a file, or the protocol's) and the file it came from."""
    if prompt is not None and prompt_file is not None:
        raise InputError("pass either prompt or prompt_file, not both")
    source = None if prompt_file is None else read_prompt_file(prompt_file)
    if source is not None:
        prompt = source.prompt
    prompt = prompt or preset.prompts[task]
    if prompt.task != task:
        where = f"prompt file {source.path}" if source is not None else "the prompt"
        raise InputError(f"{where} is for task {prompt.task!r}, not {task!r}")
    return prompt, source


# --- the run's guards ---------------------------------------------------------------------


def _check_out(out: Path) -> None:
    kind = file_kind(out)
    if kind not in (None, "folder"):
        raise InputError(f"{out} is a {kind}, not a folder: the run folder (out, --out) holds "
                         "one folder per model; give a folder, new or from an earlier run")


def _check_run_files(files: RunFiles) -> None:
    """Refuse what no run writes where a run keeps its files, before anything is written."""
    kind = file_kind(files.directory)
    if kind not in (None, "folder"):
        raise InputError(f"{files.directory}: the model's folder of the run is a {kind}, "
                         "not a folder")
    for path, what in ((files.cache, "answer cache"), (files.manifest, "manifest"),
                       (files.lock, "lock file")):
        require_regular_file(path, what, writing=True)


def _previous_run_note(files: RunFiles) -> str | None:
    """What the user should know about the run this one resumes, if anything.

    Called with the run's lock held, so a manifest still saying "running" belongs to a run
    that did not get to record its end: killed (SIGKILL, the machine went down) or crashed.
    """
    if not files.manifest.exists():
        return None
    try:
        previous = read_manifest(files.manifest)
    except ValueError as err:
        return f"the record of the previous run could not be read and is replaced ({err})"
    if previous["status"] != "running":
        return None
    return (cut_off_note(previous, "run") + "; its answers are kept, and only the clips "
            "without one are asked")


def format_summary(summary: RunSummary) -> str:
    """:func:`run_mllm`'s summary for people: counts, failures, where the answers are.

    Why a run stopped early (``summary.stopped``) is left to the caller, which reports it as
    its error (the command line does, on stderr).

    Parameters
    ----------
    summary : RunSummary
        What the run did.

    Returns
    -------
    str
    """
    lines = [
        f"{summary.model}: {summary.task} prompt, {summary.input.replace('_', '+')} input, "
        f"{summary.n_clips} clips",
        f"  answered now        {summary.n_answered:>5}",
        f"  answered earlier    {summary.n_cached:>5}   (kept from an earlier run, not asked again)",
        f"  failed              {summary.n_errors:>5}",
        f"  skipped             {summary.n_skipped:>5}"
        + ("   (not asked: the run stopped early)" if summary.stopped else ""),
        f"answers: {summary.cache_file}",
    ]
    if summary.errors:
        lines.append("failed clips (each has an error line in the answers file):")
        shown = 5
        lines += [f"  {e.kind}: {e.message}" for e in summary.errors[:shown]]
        if summary.n_errors > shown:
            lines.append(f"  ... and {summary.n_errors - shown} more")
    lines += [f"note: {note}" for note in summary.notes]
    return "\n".join(lines)


def _plan(*, task: str, model: str, prompt: Prompt, settings: Mapping[str, Any],
          video_dir: str | os.PathLike, captions_file: str | os.PathLike | None,
          labels_file: str | os.PathLike | None, limit: int | None,
          ) -> tuple[list[_Job], LabelSource]:
    """One job per clip of the task, with its video, caption, exact prompt and cache key."""
    labels = load_labels(labels_file)
    # emotion_single is scored on the single expression set only: ask about nothing else.
    clips = labels.subset("single") if task == "emotion" else labels.clips
    clips = clips[:limit] if limit is not None else clips
    pairs = [(c.video_name, c.utterance_id) for c in clips]
    videos = resolve_videos(video_dir, pairs)
    captions = None if captions_file is None else read_captions(captions_file, pairs).texts
    jobs = []
    for clip in clips:
        caption = None if captions is None else captions.get(clip.video_name)
        # A clip without a caption in a caption run gets an error line from the worker
        # rather than the video-only question; its key is then never an answer's.
        text = prompt.render(fps=settings["fps"], caption=caption, video_name=clip.video_name)
        prompt_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        key = digest({
            "model": model, "task": task, "video_name": clip.video_name,
            "prompt_sha256": prompt_sha256, "settings": settings,
        })
        jobs.append(_Job(
            video_name=clip.video_name,
            video_path=videos.paths[clip.video_name],
            caption_missing=captions is not None and caption is None,
            prompt_text=text,
            prompt_sha256=prompt_sha256,
            key=key,
        ))
    return jobs, labels.source


class _ClipWorker(Worker):
    """Does one clip: frames, request, one cache line. Runs in the pool's threads."""

    def __init__(self, *, frames: FrameConfig, video_dir: str, chat: ChatFn,
                 base_record: Mapping[str, Any], secrets: Sequence[str]) -> None:
        super().__init__(chat=chat, base_record=base_record, secrets=secrets)
        self.video_dir = video_dir
        self.frames = frames

    def ask(self, job: _Job, record: dict[str, Any]) -> str:
        if job.video_path is None:
            raise JobFailed(
                "video",
                f"clip {job.video_name!r}: no video file in {self.video_dir} (looked for "
                "<utterance_id>/crop_original_video.mp4, <utterance_id>.mp4 and "
                "<video_name>.mp4)",
            )
        if job.caption_missing:
            raise JobFailed(
                "caption", f"clip {job.video_name!r}: the captions file has no caption for it"
            )
        try:
            # Decoded at the output size: a 4K clip's frames never exist at full size.
            frames = sample_frames(
                # fps and max_frames are numbers here: FrameConfig.for_protocol set them.
                job.video_path, fps=cast(float, self.frames.fps),
                max_frames=cast("int | None", self.frames.max_frames),
                max_side=self.frames.max_side, clip=job.video_name,
            )
        except VideoError as err:
            raise JobFailed("video", str(err)) from None
        messages = build_messages(
            frames, job.prompt_text, max_side=None, jpeg_quality=self.frames.jpeg_quality,
        )
        record["frames"] = len(frames)
        record["timestamps"] = [round(float(t), 3) for t in frames.timestamps]
        return self.request(job, messages, record)


# --- scoring -------------------------------------------------------------------------------


def score_run(
    run_dir: str | os.PathLike,
    *,
    labels_file: str | os.PathLike | None = None,
    n_boot: int = N_BOOT,
) -> dict:
    """Read every run in ``run_dir`` and score its answers on each task they feed.

    For each run (a ``*.run.json`` in a model folder), the latest answer of every clip under
    the run's current settings and prompt is read (:func:`emosign.harness.answers.read_answer`),
    written as a predictions CSV per scored task (``video_name``, ``prediction`` or one
    column per emotion, and ``parse_problem``) that ``emosign evaluate`` can rescore, and
    scored with :func:`emosign.metrics.evaluate` with ``on_invalid="wrong"``: an
    unparseable answer and a clip without an answer both count as wrong.

    Parameters
    ----------
    run_dir : path
        The ``out`` folder of :func:`run_mllm`.
    labels_file : path, optional
        The label file (default ``$EMOSIGN_LABELS``, else the pinned Hub file).
    n_boot : int
        Bootstrap resamples for the intervals.

    Returns
    -------
    dict
        JSON-ready, also written atomically to ``<run_dir>/results.json``.

        ``runs``: one entry per run: ``model``, ``task``, ``input``, ``prompt_sha256``,
        ``settings``, counts (``clips``, ``answers``, ``errors``, ``superseded`` answers from
        older settings), and per scored task ``parse`` (``n`` clips of the task, ``answered``,
        ``parsed``, ``unparseable``, ``missing``, ``parse_rate`` = parsed / answered, and
        ``problems`` by kind), ``predictions_file`` and ``evaluation`` (evaluate's result, or
        None when the run has no answers yet).

        When a run has an LLM extraction (:func:`emosign.harness.extract.extract_answers`),
        each scored task also has ``extraction``: the extraction ``model``, ``all_answers``,
        ``sent`` and ``replied`` answers, and ``parse``, ``predictions_file``
        (``<task>.<input>.<scored>.extracted.csv``), ``evaluation`` and ``note`` as above,
        after extraction. The entries above stay the rule reader's alone, so both ways are
        there to compare.

        ``rows``: one flat row per run and scored task for a leaderboard: model, input,
        prompt (the harness task), task, n, answered, parsed, parse_rate, the headline
        metrics, and ``extraction`` (None, or the extraction model, the answers it
        ``extracted``, parsed, parse_rate and metrics after it). An extraction that extracted
        no answer (its server was not there, say) gets no ``extraction`` entry or row.

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` is no folder or holds no run.
    InputError
        If a run's files are not what a run writes (the message names the file).
    """
    run_dir = Path(run_dir)
    found = find_runs(run_dir)
    for files in found:
        _warn_if_unfinished(files)
    labels = load_labels(labels_file)
    clip_names = {c.video_name for c in labels}

    runs, rows = [], []
    for files in found:
        manifest = read_manifest(files.manifest)
        answers, errors, superseded = latest_answers(read_cache(files.cache), manifest["config"])
        unknown = sorted(set(answers) - clip_names)
        readings = {
            c.video_name: read_answer(files.task, answers[c.video_name])
            for c in labels if c.video_name in answers
        }
        if files.task == "joint":
            _write_explanations(files, {name: answers[name] for name in readings})
        run = {
            "model": manifest["model"],
            "task": files.task,
            "input": files.input,
            "prompt_sha256": manifest["prompt"]["sha256"],
            "config": manifest["config"],
            "settings": manifest["settings"],
            "clips": manifest.get("clips"),
            "answers": len(answers),
            "errors": len(errors - set(answers)),
            "superseded": superseded,
            "unknown_clips": unknown,
            "scores": {},
        }
        extracted = read_extraction(files, answers, readings)
        run["protocol"] = manifest.get("protocol")
        for scored in SCORED_TASKS[files.task]:
            data = get_task(scored).bind(labels)
            options: dict[str, Any] = {"run_dir": run_dir, "labels_file": labels_file,
                                       "n_boot": n_boot}
            entry = _score_readings(files.predictions(scored), data, readings, **options)
            row_extraction = None
            # Only an extraction that extracted something gets a row: one that replied to
            # nothing (a server that was not there) would repeat the rule reader's.
            if extracted is not None and extracted.replied:
                after = _score_readings(files.extracted_predictions(scored), data,
                                        extracted.readings, **options)
                entry["extraction"] = {"model": extracted.model,
                                       "all_answers": extracted.all_answers,
                                       "sent": extracted.sent, "replied": extracted.replied,
                                       **after}
                row_extraction = {
                    "model": extracted.model,
                    "extracted": extracted.replied,
                    "parsed": after["parse"]["parsed"],
                    "parse_rate": after["parse"]["parse_rate"],
                    "metrics": after["evaluation"]["metrics"] if after["evaluation"] else None,
                }
            run["scores"][scored] = entry
            parse, evaluation = entry["parse"], entry["evaluation"]
            rows.append({
                "model": manifest["model"],
                "input": files.input,
                "prompt": files.task,
                "task": scored,
                "n": parse["n"],
                "answered": parse["answered"],
                "parsed": parse["parsed"],
                "parse_rate": parse["parse_rate"],
                "metrics": evaluation["metrics"] if evaluation else None,
                "extraction": row_extraction,
            })
        runs.append(run)

    results = stamp("mllm-score", {"emosign_version": __version__, "run_dir": str(run_dir),
                                   "scored": now(), "n_boot": n_boot, "runs": runs, "rows": rows})
    text = json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    write_atomically(run_dir / _RESULTS_FILE, text)
    return results


def _warn_if_unfinished(files: RunFiles) -> None:
    try:
        status = read_manifest(files.manifest).get("status")
    except (OSError, ValueError):
        return  # read_manifest says what is wrong when the run is scored
    if status != "running":
        return
    if RunLock(files.lock).is_free():
        state = ("was cut off without recording its end (killed, or the machine went down); "
                 "run the same `emosign mllm run` again to finish it")
    else:
        state = "is still being written by another process: the scores cover its answers so far"
    warnings.warn(f"{files.directory / files.stem}: the run {state}", stacklevel=3)


def _write_predictions(path: Path, scored: str, readings: Mapping[str, Mapping[str, Reading]]) -> None:
    columns = ["video_name", *next(iter(readings.values()))[scored].cells, "parse_problem"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for name, reading in readings.items():
        cell = reading[scored]
        writer.writerow({"video_name": name, **cell.cells, "parse_problem": cell.problem or ""})
    write_atomically(path, buffer.getvalue())


def _score_readings(path: Path, data: Any, readings: Mapping[str, Mapping[str, Reading]], *,
                    run_dir: Path, labels_file: str | os.PathLike | None,
                    n_boot: int) -> dict[str, Any]:
    """Write one scored task's predictions file from the readings and evaluate it."""
    scored = data.task.name
    parse = parse_counts(data.video_names, {n: r[scored] for n, r in readings.items()})
    evaluation, note = None, None
    if readings:
        _write_predictions(path, scored, readings)
    if parse["parsed"]:
        evaluation = evaluate(
            scored, path, labels_file=labels_file, on_invalid="wrong", n_boot=n_boot
        )
    else:
        # evaluate() cannot compute its agreement statistic without a single readable
        # prediction; every clip is wrong, and the parse counts say so.
        note = "no answer could be read for this task: every clip counts as wrong"
    return {
        "parse": parse,
        "predictions_file": str(path.relative_to(run_dir)) if readings else None,
        "evaluation": evaluation,
        "note": note,
    }


def _write_explanations(files: RunFiles, answers: Mapping[str, str]) -> None:
    # JSON Lines rather than CSV: free text a model wrote is never read as a spreadsheet formula.
    lines = [
        json.dumps({"video_name": name, "explanation": parse_joint(text).explanation},
                   ensure_ascii=False)
        for name, text in answers.items()
    ]
    write_atomically(files.explanations, "".join(line + "\n" for line in lines))


# --- a table for people --------------------------------------------------------------------


def format_scores(results: Mapping[str, Any]) -> str:
    """:func:`score_run`'s results as a text table: one line per run and scored task, and under
    it a "+ extracted by <model>" line when the run has an LLM extraction.

    Parameters
    ----------
    results : Mapping
        What :func:`score_run` returned (or its ``results.json``).

    Returns
    -------
    str
    """
    table = []
    for row in results["rows"]:
        shown = [(str(row["model"]), row["parse_rate"], row["metrics"])]
        extraction = row.get("extraction")
        if extraction:
            # The same answers, with what the rule reader could not read extracted by an LLM.
            shown.append((f"  + {extraction.get('extracted', '?')} extracted by "
                          f"{extraction['model']}", extraction["parse_rate"],
                          extraction["metrics"]))
        table.append((row, shown))
    # Names are never cut off: the column is as wide as the longest.
    width = max([28, *(len(label) for _, shown in table for label, _, _ in shown)])
    header = (
        f"{'model':<{width}} {'input':<13} {'prompt':<9} {'task':<17} {'answered':>9} "
        f"{'parsed':>7}  metrics"
    )
    lines = [header, "-" * len(header)]
    for row, shown in table:
        answered = f"{row['answered']}/{row['n']}"
        # A run that has not answered every clip says so on each of its lines.
        incomplete = ("  (incomplete run: missing answers scored as wrong)"
                      if row["answered"] < row["n"] else "")
        for label, rate, metrics in shown:
            lines.append(
                f"{label:<{width}} {row['input']:<13} {row['prompt']:<9} {row['task']:<17} "
                f"{answered:>9} {_rate(rate):>7}  "
                f"{'  '.join(_shown_metrics(row['task'], metrics)) or 'no answers'}{incomplete}"
            )
    return "\n".join(lines)


def _rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.1f}%"


def _shown_metrics(task: str, metrics: Mapping[str, Any] | None) -> list[str]:
    shown = []
    for name in LEADERBOARD_METRICS[get_task(task).kind]:
        values = metrics or {}
        if name in values:
            value = values[name]
            text = "n/a" if value is None else format_metric(value, name)
            shown.append(f"{SHORT_NAMES[name]} {text}")
    return shown
