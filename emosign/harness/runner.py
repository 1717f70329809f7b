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
that), decoded at a size whose longer side is at most ``max_side`` pixels.

**Clients.** Anything that maps the messages to the answer text, ``ChatFn =
Callable[[list[Message]], str]``: :class:`OpenAIChat` for an OpenAI-compatible server
(OpenAI, vLLM, Ollama, LM Studio, ...), or your own function around a local model
(:func:`message_frames` and :func:`message_prompt` unpack the messages). The API key is read
from the environment only and is never written anywhere.

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
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from emosign import __version__
from emosign._io import write_atomically
from emosign._progress import progress_bar
from emosign.harness.answers import parse_counts, parse_joint, read_answer
from emosign.harness.client import (
    DEFAULT_TIMEOUT,
    ChatFn,
    Message,
    MLLMError,
    OpenAIChat,
    RequestError,
    RetryPolicy,
    call_with_retries,
    public_url,
    redact,
)
from emosign.harness.prompts import (
    DEFAULT_PROMPTS,
    HARNESS_TASKS,
    SCORED_TASKS,
    Prompt,
)
from emosign.video import DEFAULT_FPS, Frames, VideoError, resolve_videos, sample_frames

DEFAULT_MAX_FRAMES = 48  # 4.8 s at 10 fps, the average clip; longer clips are thinned
DEFAULT_MAX_SIDE = 512  # pixels; the longer side of each frame is shrunk to this
DEFAULT_JPEG_QUALITY = 85
DEFAULT_CONCURRENCY = 4
DEFAULT_OUT = "emosign-mllm-runs"

_CACHE_FORMAT = 1
_MANIFEST_SUFFIX = ".run.json"
_RESULTS_FILE = "results.json"


# --- frames to messages ------------------------------------------------------------------


def encode_jpeg(
    image: np.ndarray,
    *,
    max_side: int | None = DEFAULT_MAX_SIDE,
    quality: int = DEFAULT_JPEG_QUALITY,
) -> bytes:
    """One RGB frame as JPEG bytes.

    Parameters
    ----------
    image : (H, W, 3) uint8 RGB.
    max_side : shrink (keeping the aspect ratio) so that neither side exceeds this many
        pixels; a smaller frame is never enlarged. None keeps the size.
    quality : JPEG quality, 1...95.
    """
    from PIL import Image

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
    max_side: int | None = DEFAULT_MAX_SIDE,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
) -> list[Message]:
    """The request for one clip: one user message, frames in time order, then the prompt.

    Returns
    -------
    ``[{"role": "user", "content": parts}]`` where ``parts`` alternates a text part
    ``"t=0.40s"`` (the frame's presentation time, 2 decimals) and an ``image_url`` part
    holding the frame as a ``data:image/jpeg;base64,...`` URL, and ends with the prompt text.
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


def message_frames(messages: Sequence[Message]) -> list[tuple[float, Any]]:
    """The frames of a request as ``(time in seconds, PIL.Image)`` pairs, in order.

    For a :data:`ChatFn` around a local model that takes images rather than data URLs.
    """
    from PIL import Image

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
    """The instruction text of a request (its last text part)."""
    return messages[-1]["content"][-1]["text"]


# --- files of a run ------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def model_slug(model: str) -> str:
    """A name for a model's folder that is safe on every file system and unique per model.

    Lowercase letters, digits, ".", "_" and "-" only, at most 64 characters plus a suffix,
    never empty, never starting with "." or "-" (so never ".."). A name that had to change
    gets the first 8 hex digits of its sha256, so "A/b" and "a_b" stay apart.
    """
    cleaned = _UNSAFE.sub("_", model.lower()).strip("._-")[:64].strip("._-")
    if cleaned and cleaned == model:
        return cleaned
    digest = hashlib.sha256(model.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned or 'model'}-{digest}"


@dataclass(frozen=True)
class RunFiles:
    """Where one run (a model, a harness task, an input) keeps its files."""

    directory: Path  # <out>/<model slug>
    task: str
    input: str

    @classmethod
    def of(cls, out: str | os.PathLike, *, model: str, task: str, input: str) -> RunFiles:
        if task not in HARNESS_TASKS:
            raise ValueError(f"unknown harness task {task!r}; choose one of {list(HARNESS_TASKS)}")
        if input not in ("video", "video_caption"):
            raise ValueError(f"input must be 'video' or 'video_caption', not {input!r}")
        root = Path(out)
        directory = root / model_slug(model)
        # model_slug cannot produce a separator or "..", but the check costs nothing.
        if directory.resolve().parent != root.resolve():
            raise ValueError(f"model name {model!r} gives a folder outside {root}")
        return cls(directory=directory, task=task, input=input)

    @property
    def stem(self) -> str:
        return f"{self.task}.{self.input}"

    @property
    def cache(self) -> Path:
        return self.directory / f"{self.stem}.jsonl"

    @property
    def manifest(self) -> Path:
        return self.directory / f"{self.stem}{_MANIFEST_SUFFIX}"

    @property
    def explanations(self) -> Path:
        return self.directory / f"{self.stem}.explanations.jsonl"

    def predictions(self, scored: str) -> Path:
        if scored not in SCORED_TASKS[self.task]:
            raise ValueError(f"harness task {self.task!r} is not scored on {scored!r}")
        return self.directory / f"{self.stem}.{scored}.csv"




def read_cache(path: str | os.PathLike) -> list[dict]:
    """Every record of a cache file, in the order written; [] if there is none.

    A line that is not a JSON object is skipped with a warning. The last line may be cut
    off by a crash during its write; that is expected and said so.
    """
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            record = None
        if not isinstance(record, dict) or "key" not in record or "status" not in record:
            # The usual cause: a crash or kill during the line's write, which leaves it cut
            # off; the cache writer then starts the next record on a line of its own.
            warnings.warn(
                f"{path}: line {number} is not a complete cache record (a write cut off by "
                "an interrupted run?); skipped, its clip will be asked again",
                stacklevel=2,
            )
            continue
        records.append(record)
    return records


class _CacheWriter:
    """Appends records to a cache file, one line each, flushed and fsynced, thread-safe."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        cut_off = False
        if path.exists() and path.stat().st_size > 0:
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                cut_off = f.read(1) != b"\n"
        self._file = open(path, "ab")
        self._lock = threading.Lock()
        if cut_off:
            # A line cut off by a crash must stay a line of its own, not the start of the next.
            self._write(b"\n")

    def _write(self, data: bytes) -> None:
        with self._lock:
            self._file.write(data)
            self._file.flush()
            os.fsync(self._file.fileno())

    def append(self, record: Mapping[str, Any]) -> None:
        self._write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))

    def close(self) -> None:
        self._file.close()


def _digest(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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
    ``n_answered`` (answered now) + ``n_errors`` (no answer; see ``errors``).
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
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    captions_file: str | os.PathLike | None = None,
    labels_file: str | os.PathLike | None = None,
    fps: float = DEFAULT_FPS,
    max_frames: int | None = DEFAULT_MAX_FRAMES,
    max_side: int | None = DEFAULT_MAX_SIDE,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
    temperature: float | None = 0.0,
    max_tokens: int | None = 1024,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = DEFAULT_CONCURRENCY,
    retry: RetryPolicy = RetryPolicy(),
    prompt: Prompt | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> RunSummary:
    """Ask a model about every clip of a harness task, keeping every answer in ``out``.

    Parameters
    ----------
    model : the model's name: sent to the server, and part of every cache key.
    task : "joint" (200 clips), "sentiment" (200) or "emotion" (the 140 clips of the
        single expression set, the only ones it is scored on).
    video_dir : the clip videos, in any layout :func:`emosign.video.find_video` knows.
    out : the run directory; see the module docstring for its layout.
    client : a :data:`ChatFn` for a local model. None: an :class:`OpenAIChat` built from
        ``base_url``, ``api_key_env``, ``timeout``, ``temperature`` and ``max_tokens``
        (a client you pass is told none of these, and they are recorded as None).
    captions_file : English translations (a CSV, see :mod:`emosign.captions`); given, the
        run is the "video_caption" input, else "video".
    labels_file : the label file that lists the clips (default ``$EMOSIGN_LABELS``, else
        the pinned Hub file).
    fps, max_frames : frames per second, and the cap beyond which they are thinned evenly
        (None: no cap, the paper's protocol).
    max_side, jpeg_quality : each frame's longest side in pixels (None: as decoded) and its
        JPEG quality.
    concurrency : requests in flight at once.
    retry : when to retry; see :class:`RetryPolicy`.
    prompt : the wording (default ``DEFAULT_PROMPTS[task]``); its task must be ``task``.
    limit : ask about the first ``limit`` clips only (to try a model out).
    progress : show a progress bar with ETA on stderr.

    Returns
    -------
    RunSummary

    Raises
    ------
    MLLMError
        If the server rejects the key or does not know the model (the answers received so
        far are kept).
    KeyboardInterrupt
        Passed on after the requests in flight are answered and saved.
    """
    if not model.strip():
        raise ValueError("model must be a non-empty name: it identifies the run's answers")
    if client is not None and base_url is not None:
        raise ValueError("pass either client (a local model) or base_url (a server), not both")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency!r}")
    if task not in HARNESS_TASKS:
        raise ValueError(f"unknown harness task {task!r}; choose one of {list(HARNESS_TASKS)}")
    prompt = prompt or DEFAULT_PROMPTS[task]
    if prompt.task != task:
        raise ValueError(f"the prompt is for task {prompt.task!r}, not {task!r}")
    input_name = "video" if captions_file is None else "video_caption"
    files = RunFiles.of(out, model=model, task=task, input=input_name)

    if client is None:
        chat: ChatFn = OpenAIChat(
            model=model, base_url=base_url, api_key_env=api_key_env, timeout=timeout,
            temperature=temperature, max_tokens=max_tokens,
        )
        client_name = "openai-compatible chat completions"
    else:
        chat = client
        temperature = max_tokens = None
        client_name = f"callable {getattr(client, '__qualname__', type(client).__name__)}"
    # Whatever is written is scrubbed of the key, even if a server echoes it back.
    secrets = [os.environ.get(api_key_env, "")]
    if isinstance(chat, OpenAIChat):
        secrets.append(chat._secret or "")

    settings = {
        "fps": float(fps),
        "max_frames": max_frames,
        "max_side": max_side,
        "jpeg_quality": jpeg_quality,
        "temperature": temperature,
        "max_tokens": max_tokens,
    }
    config = _digest({
        "model": model, "task": task, "input": input_name,
        "prompt_sha256": prompt.sha256, "settings": settings,
    })
    jobs, labels_source = _plan(
        task=task, model=model, prompt=prompt, settings=settings, video_dir=video_dir,
        captions_file=captions_file, labels_file=labels_file, limit=limit,
    )

    done = {r["key"] for r in read_cache(files.cache) if r["status"] == "ok"}
    todo = [job for job in jobs if job.key not in done]
    manifest = {
        "model": model,
        "task": task,
        "input": input_name,
        "config": config,
        "client": client_name,
        "base_url": public_url(base_url) if client is None else None,
        "settings": settings,
        "prompt": {"sha256": prompt.sha256, "video": prompt.video,
                   "video_caption": prompt.video_caption},
        "labels": {"path": labels_source.path, "sha256": labels_source.sha256},
        "video_dir": str(Path(video_dir).resolve()),
        "captions_file": None if captions_file is None else str(Path(captions_file).resolve()),
        "emosign_version": __version__,
        "clips": len(jobs),
        "started": _now(),
        "status": "running",
    }
    write_atomically(files.manifest, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")

    base_record = {
        "format": _CACHE_FORMAT, "config": config, "model": model, "task": task,
        "input": input_name, "settings": settings,
    }
    errors: list[ClipError] = []
    n_answered = 0
    status = "interrupted"
    writer = _CacheWriter(files.cache)
    try:
        work = _Worker(
            chat=chat, writer=writer, base_record=base_record, settings=settings,
            retry=retry, secrets=secrets, video_dir=str(video_dir),
        )
        with ThreadPoolExecutor(max_workers=concurrency) as pool, progress_bar(
            len(todo), f"{model} {task}", enabled=progress
        ) as bar:
            futures = [pool.submit(work, job) for job in todo]
            try:
                for future in as_completed(futures):
                    record = future.result()
                    if record["status"] == "ok":
                        n_answered += 1
                    else:
                        errors.append(ClipError(record["video_name"], **record["error"]))
                        bar.set_postfix(errors=len(errors), refresh=False)
                    bar.update()
            except BaseException:
                # Ctrl-C or a fatal error: start nothing new; the pool's exit waits for
                # the requests in flight, whose answers are saved.
                for future in futures:
                    future.cancel()
                raise
        status = "finished"
    except MLLMError:
        status = "failed"
        raise
    finally:
        writer.close()
        manifest.update(
            status=status, finished=_now(), answered_now=n_answered, errors_now=len(errors)
        )
        write_atomically(files.manifest, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")

    return RunSummary(
        model=model,
        task=task,
        input=input_name,
        cache_file=str(files.cache),
        manifest_file=str(files.manifest),
        prompt_sha256=prompt.sha256,
        config_sha256=config,
        n_clips=len(jobs),
        n_cached=len(jobs) - len(todo),
        n_answered=n_answered,
        n_errors=len(errors),
        errors=tuple(sorted(errors, key=lambda e: e.video_name)),
    )


def _plan(*, task, model, prompt, settings, video_dir, captions_file, labels_file, limit):
    """One job per clip of the task, with its video, caption, exact prompt and cache key."""
    from emosign.captions import read_captions
    from emosign.labels import load_labels

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
        text = prompt.render(fps=settings["fps"], caption=caption)
        prompt_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        key = _digest({
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


class _Worker:
    """Does one clip: frames, request, one cache line. Runs in the pool's threads."""

    def __init__(self, *, chat, writer, base_record, settings, retry, secrets, video_dir) -> None:
        self.chat = chat
        self.video_dir = video_dir
        self.writer = writer
        self.base_record = base_record
        self.settings = settings
        self.retry = retry
        self.secrets = secrets

    def __call__(self, job: _Job) -> dict:
        started = time.monotonic()
        record = {
            **self.base_record,
            "key": job.key,
            "video_name": job.video_name,
            "prompt_sha256": job.prompt_sha256,
            "prompt": job.prompt_text,
        }
        try:
            answer = self._ask(job, record)
        except _ClipFailed as failure:
            if failure.kind != "request":
                del record["prompt"]  # never sent; the hash still names it
            record.update(status="error", response=None,
                          error={"kind": failure.kind, "message": self._scrub(failure.message)})
        else:
            record.update(status="ok", response=self._scrub(answer), error=None)
        record.update(seconds=round(time.monotonic() - started, 3), time=_now())
        self.writer.append(record)
        return record

    def _ask(self, job: _Job, record: dict) -> str:
        if job.video_path is None:
            raise _ClipFailed(
                "video",
                f"clip {job.video_name!r}: no video file in {self.video_dir} (looked for "
                "<utterance_id>/crop_original_video.mp4, <utterance_id>.mp4 and "
                "<video_name>.mp4)",
            )
        if job.caption_missing:
            raise _ClipFailed(
                "caption", f"clip {job.video_name!r}: the captions file has no caption for it"
            )
        try:
            # Decoded at the output size: a 4K clip's frames never exist at full size.
            frames = sample_frames(
                job.video_path, fps=self.settings["fps"], max_frames=self.settings["max_frames"],
                max_side=self.settings["max_side"], clip=job.video_name,
            )
        except VideoError as err:
            raise _ClipFailed("video", str(err)) from None
        messages = build_messages(
            frames, job.prompt_text, max_side=None, jpeg_quality=self.settings["jpeg_quality"],
        )
        record["frames"] = len(frames)
        record["timestamps"] = [round(float(t), 3) for t in frames.timestamps]
        try:
            answer, record["attempts"] = call_with_retries(self.chat, messages, retry=self.retry)
        except RequestError as err:
            record["attempts"] = err.attempts
            raise _ClipFailed("request", f"clip {job.video_name!r}: {err}") from None
        except MLLMError:
            raise  # the whole run stops
        except Exception as err:  # a local model's own failure: this clip only
            raise _ClipFailed(
                "request", f"clip {job.video_name!r}: {type(err).__name__}: {err}"
            ) from None
        if not isinstance(answer, str):
            raise _ClipFailed("request", f"the client returned {type(answer).__name__}, not text")
        return answer

    def _scrub(self, text: str) -> str:
        return redact(text, self.secrets)


class _ClipFailed(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --- scoring -------------------------------------------------------------------------------


def score_run(
    run_dir: str | os.PathLike,
    *,
    labels_file: str | os.PathLike | None = None,
    n_boot: int = 10_000,
) -> dict:
    """Read every run in ``run_dir`` and score its answers on each task they feed.

    For each run (a ``*.run.json`` in a model folder), the latest answer of every clip under
    the run's current settings and prompt is read (:func:`emosign.harness.answers.read_answer`),
    written as a predictions CSV per scored task (``video_name``, ``prediction`` or one
    column per emotion, and ``parse_problem``) that ``emosign evaluate`` can rescore, and
    scored with :func:`emosign.metrics.evaluate` with ``on_invalid="wrong"``: an
    unparseable answer and a clip without an answer both count as wrong.

    Returns
    -------
    A JSON-ready dict, also written atomically to ``<run_dir>/results.json``:

    ``runs``: one entry per run: ``model``, ``task``, ``input``, ``prompt_sha256``,
    ``settings``, counts (``clips``, ``answers``, ``errors``, ``superseded`` answers from
    older settings), and per scored task ``parse`` (``n`` clips of the task, ``answered``,
    ``parsed``, ``unparseable``, ``missing``, ``parse_rate`` = parsed / answered, and
    ``problems`` by kind), ``predictions_file`` and ``evaluation`` (evaluate's result, or
    None when the run has no answers yet).

    ``rows``: one flat row per run and scored task for a leaderboard: model, input, prompt
    (the harness task), task, n, answered, parsed, parse_rate, and the headline metrics.
    """
    from emosign.labels import load_labels
    from emosign.metrics import evaluate
    from emosign.tasks import get_task

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory not found: {run_dir}")
    found = []
    for path in sorted(run_dir.glob(f"*/*{_MANIFEST_SUFFIX}")):
        parts = _stem_parts(path)
        if parts is not None:
            found.append(RunFiles(directory=path.parent, task=parts[0], input=parts[1]))
    if not found:
        raise FileNotFoundError(
            f"no MLLM runs in {run_dir} (no <model>/<task>.<input>{_MANIFEST_SUFFIX})"
        )
    labels = load_labels(labels_file)
    clip_names = {c.video_name for c in labels}

    runs, rows = [], []
    for files in found:
        manifest = json.loads(files.manifest.read_text(encoding="utf-8"))
        answers, errors, superseded = _latest_answers(read_cache(files.cache), manifest["config"])
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
        for scored in SCORED_TASKS[files.task]:
            data = get_task(scored).bind(labels)
            parse = parse_counts(data.video_names, {n: r[scored] for n, r in readings.items()})
            path = files.predictions(scored)
            evaluation, note = None, None
            if readings:
                _write_predictions(path, scored, readings)
            if parse["parsed"]:
                evaluation = evaluate(
                    scored, path, labels_file=labels_file, on_invalid="wrong", n_boot=n_boot
                )
            else:
                # evaluate() cannot compute its agreement statistic without a single
                # readable prediction; every clip is wrong, and the parse counts say so.
                note = "no answer could be read for this task: every clip counts as wrong"
            run["scores"][scored] = {
                "parse": parse,
                "predictions_file": str(path.relative_to(run_dir)) if readings else None,
                "evaluation": evaluation,
                "note": note,
            }
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
            })
        runs.append(run)

    from emosign import __version__

    results = {"emosign_version": __version__, "run_dir": str(run_dir), "scored": _now(),
               "n_boot": n_boot, "runs": runs, "rows": rows}
    text = json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    write_atomically(run_dir / _RESULTS_FILE, text)
    return results


def _stem_parts(manifest: Path) -> tuple[str, str] | None:
    """(task, input) of a manifest file name, or None for a file that is no run's.

    Only names built from the fixed task and input names are accepted, so no file name
    read from disk ever reaches a path unchecked.
    """
    stem = manifest.name[: -len(_MANIFEST_SUFFIX)]
    task, _, input_name = stem.partition(".")
    if task in HARNESS_TASKS and input_name in ("video", "video_caption"):
        return task, input_name
    warnings.warn(
        f"{manifest}: not a run manifest (<task>.<input>{_MANIFEST_SUFFIX}); skipped", stacklevel=3
    )
    return None


def _latest_answers(records: list[dict], config: str) -> tuple[dict[str, str], set[str], int]:
    """The last answer per clip under ``config``, the clips with errors, and how many
    answers were given under other (older) settings."""
    answers: dict[str, str] = {}
    errors: set[str] = set()
    superseded = 0
    for record in records:
        if record.get("config") != config:
            superseded += record.get("status") == "ok"
        elif record.get("status") == "ok":
            answers[record["video_name"]] = record.get("response") or ""
        else:
            errors.add(record["video_name"])
    return answers, errors, superseded


def _write_predictions(path: Path, scored: str, readings: Mapping[str, dict]) -> None:
    columns = ["video_name", *next(iter(readings.values()))[scored].cells, "parse_problem"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for name, reading in readings.items():
        cell = reading[scored]
        writer.writerow({"video_name": name, **cell.cells, "parse_problem": cell.problem or ""})
    write_atomically(path, buffer.getvalue())


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
    """:func:`score_run`'s results as a text table: one line per run and scored task."""
    from emosign.metrics import LEADERBOARD_METRICS, SHORT_NAMES, format_metric
    from emosign.tasks import get_task

    header = (
        f"{'model':<28} {'input':<13} {'prompt':<9} {'task':<17} {'answered':>9} {'parsed':>7}"
        "  metrics"
    )
    lines = [header, "-" * len(header)]
    for row in results["rows"]:
        answered = f"{row['answered']}/{row['n']}"
        rate = "n/a" if row["parse_rate"] is None else f"{100 * row['parse_rate']:.1f}%"
        metrics = row["metrics"] or {}
        shown = []
        for name in LEADERBOARD_METRICS[get_task(row["task"]).kind]:
            if name in metrics:
                text = "n/a" if metrics[name] is None else format_metric(metrics[name], name)
                shown.append(f"{SHORT_NAMES[name]} {text}")
        lines.append(
            f"{row['model'][:28]:<28} {row['input']:<13} {row['prompt']:<9} {row['task']:<17} "
            f"{answered:>9} {rate:>7}  {'  '.join(shown) or 'no answers'}"
        )
    return "\n".join(lines)
