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
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosign import __version__, vocab
from emosign._io import write_atomically
from emosign._progress import progress_bar
from emosign.harness.answers import Reading, read_answer
from emosign.harness.client import (
    DEFAULT_TIMEOUT,
    ChatFn,
    MLLMError,
    OpenAIChat,
    RequestError,
    RetryPolicy,
    call_with_retries,
    public_url,
    redact,
)
from emosign.harness.runner import (
    _MANIFEST_SUFFIX,
    RunFiles,
    _CacheWriter,
    _digest,
    _latest_answers,
    _now,
    _stem_parts,
    read_cache,
)

DEFAULT_MAX_TOKENS = 256  # a label, or the joint answer's eleven numbers as JSON
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
    """The exact text sent to the text model for one answer of harness task ``task``."""
    return f'{EXTRACTION_PROMPTS[task]}\n\nThe answer:\n"""\n{answer}\n"""'


def _settings(temperature: float | None, max_tokens: int | None) -> dict[str, Any]:
    return {"temperature": temperature, "max_tokens": max_tokens}


def extraction_key(*, model: str, task: str, video_name: str, request: str,
                   settings: Mapping[str, Any]) -> str:
    """The cache key of one extraction request (see the module docstring)."""
    return _digest({
        "model": model, "task": task, "video_name": video_name,
        "prompt_sha256": _sha256(request), "settings": dict(settings),
    })


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_path(files: RunFiles) -> Path:
    """Where the extraction replies of a run are kept."""
    return files.directory / f"{files.stem}.extract.jsonl"


def manifest_path(files: RunFiles) -> Path:
    """Where the latest extraction of a run is recorded."""
    return files.directory / f"{files.stem}.extract.json"


def needs_extraction(readings: Mapping[str, Reading]) -> bool:
    """Whether the rule reader failed on any scored task of an answer."""
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
    (their requests failed for good; a next extraction asks again).
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


@dataclass(frozen=True)
class _Job:
    video_name: str
    request: str
    key: str


def extract_answers(
    run_dir: str | os.PathLike,
    *,
    model: str,
    client: ChatFn | None = None,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    all_answers: bool = False,
    runs: Sequence[str | os.PathLike] | None = None,
    temperature: float | None = 0.0,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = 4,
    retry: RetryPolicy = RetryPolicy(),
    progress: bool | None = True,
) -> list[ExtractionSummary]:
    """Send the answers of every run in ``run_dir`` that the rule reader cannot read to a
    text model, keeping every reply.

    Parameters
    ----------
    run_dir : a run directory of :func:`emosign.harness.runner.run_mllm`.
    model : the text model's name: sent to the server, and part of every cache key.
    client : a :data:`emosign.harness.client.ChatFn` for a local text model. None: an
        OpenAI-compatible client for ``base_url`` (a client you pass is told nothing of
        ``temperature`` and ``max_tokens``, which are recorded as None).
    base_url, api_key_env, timeout : as for :func:`run_mllm`; the key is read from the
        environment only and never written anywhere.
    all_answers : send every answer, not only those the rule reader cannot read.
    runs : only these runs' manifests (``<model>/<task>.<input>.run.json``); default all.
    temperature, max_tokens : sent with every request (default 0 and 256).
    concurrency : requests in flight at once.
    retry : when to retry a request; see :class:`RetryPolicy`.
    progress : a progress bar on stderr: True, False, or None for "when it is a terminal".

    Returns
    -------
    One :class:`ExtractionSummary` per run.

    Raises
    ------
    MLLMError
        If the server rejects the key or does not know the model (replies so far are kept).
    KeyboardInterrupt
        Passed on after the requests in flight are answered and saved.
    """
    if not model.strip():
        raise ValueError("model must be a non-empty name: it identifies the extracted replies")
    if client is not None and base_url is not None:
        raise ValueError("pass either client (a local model) or base_url (a server), not both")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, not {concurrency!r}")
    found = _find_runs(Path(run_dir))
    if runs is not None:
        wanted = {Path(path).resolve() for path in runs}
        found = [files for files in found if files.manifest.resolve() in wanted]
    if client is None:
        chat: ChatFn = OpenAIChat(model=model, base_url=base_url, api_key_env=api_key_env,
                                  timeout=timeout, temperature=temperature,
                                  max_tokens=max_tokens)
        client_name = "openai-compatible chat completions"
    else:
        chat = client
        temperature = max_tokens = None
        client_name = f"callable {getattr(client, '__qualname__', type(client).__name__)}"
    env_key = os.environ.get(api_key_env, "")

    def scrub(text: str) -> str:
        """Whatever is written is scrubbed of the key, even if a server echoes it back."""
        text = redact(text, [env_key])
        return chat.redact(text) if isinstance(chat, OpenAIChat) else text

    settings = _settings(temperature, max_tokens)
    common = {"model": model, "client": client_name,
              "base_url": public_url(base_url) if client is None else None,
              "settings": settings, "all_answers": all_answers}
    return [
        _extract_run(files, chat=chat, common=common, scrub=scrub, retry=retry,
                     concurrency=concurrency, progress=progress)
        for files in found
    ]


def _find_runs(run_dir: Path) -> list[RunFiles]:
    """Every run in ``run_dir`` (each ``<model>/<task>.<input>.run.json``), sorted."""
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
    return found


def _plan(files: RunFiles, *, model: str, settings: Mapping, all_answers: bool):
    """The run's manifest, its latest answers, and one job per answer to send."""
    try:
        manifest = json.loads(files.manifest.read_text(encoding="utf-8"))
        config = manifest["config"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise ValueError(
            f"{files.manifest} is not a readable run record; run the same `emosign mllm run` "
            "again to rewrite it"
        ) from None
    answers, _, _ = _latest_answers(read_cache(files.cache), config)
    jobs = []
    for name, answer in answers.items():
        if _to_send(answer, read_answer(files.task, answer), all_answers):
            request = extraction_request(files.task, answer)
            key = extraction_key(model=model, task=files.task, video_name=name,
                                 request=request, settings=settings)
            jobs.append(_Job(video_name=name, request=request, key=key))
    return manifest, answers, jobs


def _extract_run(files: RunFiles, *, chat, common, scrub, retry, concurrency, progress):
    model, settings = common["model"], common["settings"]
    manifest, answers, jobs = _plan(files, model=model, settings=settings,
                                    all_answers=common["all_answers"])
    cache = cache_path(files)
    done = {r["key"] for r in read_cache(cache) if r["status"] == "ok"}
    todo = [job for job in jobs if job.key not in done]
    record = {
        **common,
        "run_config": manifest["config"],
        "task": files.task,
        "input": files.input,
        "instruction_sha256": _sha256(EXTRACTION_PROMPTS[files.task]),
        "emosign_version": __version__,
        "answers": len(answers),
        "to_extract": len(jobs),
        "started": _now(),
        "status": "running",
    }
    write_atomically(manifest_path(files), json.dumps(record, indent=2, ensure_ascii=False) + "\n")

    n_answered = n_errors = 0
    status = "interrupted"
    writer = _CacheWriter(cache)
    base = {"format": _CACHE_FORMAT, "model": model, "task": files.task, "settings": settings}

    def ask(job: _Job) -> dict:
        started = time.monotonic()
        line = {**base, "key": job.key, "video_name": job.video_name,
                "prompt_sha256": _sha256(job.request)}
        messages = [{"role": "user", "content": job.request}]
        try:
            reply, line["attempts"] = call_with_retries(chat, messages, retry=retry)
            if not isinstance(reply, str):
                raise RequestError(f"the client returned {type(reply).__name__}, not text")
        except RequestError as err:
            line.update(status="error", response=None,
                        error={"kind": "request", "message": scrub(str(err))})
        except MLLMError:
            raise
        except Exception as err:  # a local model's own failure: this answer only
            line.update(status="error", response=None, error={
                "kind": "request", "message": scrub(f"{type(err).__name__}: {err}")})
        else:
            line.update(status="ok", response=scrub(reply), error=None)
        line.update(seconds=round(time.monotonic() - started, 3), time=_now())
        writer.append(line)
        return line

    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool, progress_bar(
            len(todo), f"extract {files.directory.name} {files.stem}", enabled=progress,
            unit="answer",
        ) as bar:
            futures = [pool.submit(ask, job) for job in todo]
            try:
                for future in as_completed(futures):
                    if future.result()["status"] == "ok":
                        n_answered += 1
                    else:
                        n_errors += 1
                    bar.update()
            except BaseException:
                # Ctrl-C or a fatal error: start nothing new; the requests in flight finish
                # and their replies are saved.
                for future in futures:
                    future.cancel()
                raise
        status = "finished"
    except MLLMError:
        status = "failed"
        raise
    finally:
        writer.close()
        record.update(status=status, finished=_now(), answered_now=n_answered,
                      errors_now=n_errors)
        write_atomically(manifest_path(files),
                         json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return ExtractionSummary(
        run_manifest=str(files.manifest), task=files.task, input=files.input,
        extraction_model=model, all_answers=common["all_answers"], n_answers=len(answers),
        n_to_extract=len(jobs), n_cached=len(jobs) - len(todo), n_answered=n_answered,
        n_errors=n_errors, cache_file=str(cache), manifest_file=str(manifest_path(files)),
    )


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

    ``answers`` are the run's latest answers (clip -> text) and ``readings`` the rule
    reader's readings of them. Replies are looked up by key, so a reply to an older answer,
    instruction or extraction model is never used.
    """
    path = manifest_path(files)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        record = None
    if not isinstance(record, dict) or not {"model", "settings", "all_answers"} <= set(record):
        raise ValueError(
            f"{path} is not an extraction record; extract again (`emosign mllm extract`) to "
            "rewrite it"
        )
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
