"""EmoSign as Inspect tasks: ``inspect eval emosign/sentiment``, ``emosign/emotion``, ``emosign/joint``.

`Inspect <https://inspect.aisi.org.uk>`_ (``inspect-ai``, the ``inspect`` extra) reaches many
model providers through one interface and gives logs, a log viewer, retries, rate limits and
caching. This module is EmoSign's side of it; ``pyproject.toml`` registers it in the
``inspect_ai`` entry-point group, so the tasks are found by name once emosign is installed::

    inspect eval emosign/sentiment --model openai-api/local/my-vlm -T video_dir=videos/

**What is emosign's.** The clips and references come from :func:`emosign.labels.load_labels`;
each clip's frames from :func:`emosign.video.sample_frames` at the protocol's rate; the
message from :func:`emosign.harness.runner.build_messages` (a text part ``t=0.40s`` before
each frame, the frame as a JPEG image, then the prompt), so a model sees exactly what
``emosign mllm run`` sends it; the prompts from :mod:`emosign.harness.prompts`
(``protocol=emosign`` or ``paper``); each answer is read by
:func:`emosign.harness.answers.read_answer`; and the metrics are
:func:`emosign.metrics.evaluate`'s over the clips of the run, with its bootstrap interval.

**What is Inspect's.** The model provider, retries, rate limits, concurrency, caching, the
log (``--log-dir``) and its viewer (``inspect view``), ``--limit`` and resuming a run
(``inspect eval-retry LOG``).

**Task options** (``-T name=value``): ``video_dir`` (required), ``captions_file``,
``labels_file`` (default ``$EMOSIGN_LABELS``, then the pinned Hub file), ``protocol``
(``emosign`` or ``paper``), ``input`` (``video`` or ``video_caption``; default: ``video_caption``
when a captions file is given), ``fps`` and ``max_frames`` (default: the protocol's;
``max_frames=none`` for no cap), ``max_side`` (default: the harness's), ``n_boot`` (bootstrap
resamples of the intervals).

**A clip that cannot be asked** (no video file, an unreadable video, no caption in a caption
run) is not sent to the model: its sample ends at once with the reason in its metadata
(``skipped``) and in its score's explanation, and it is scored as a *missing* answer, which
counts as wrong, as in ``emosign mllm score``. The task refuses to start only when the
options are wrong, ``video_dir`` is not a folder, or not one clip of the task has a video
there (a wrong folder, not a few missing clips).

**Scores.** One scorer, ``answer``, reads each answer for every scored task its prompt feeds
(``SCORED_TASKS``): its value is ``{scored task: what was read}`` (a class name, the emotion
cells as JSON, ``<unparseable>``, or ``<missing>``), its metadata holds the clip, each scored
task's verdict (``parsed``, ``unreadable`` or ``missing``), the problem kind and the cells.
Each scored task gets the headline metrics of :data:`emosign.metrics.LEADERBOARD_METRICS`
under the paper's short names (``wAcc``, ``wF1``, ``acc``; ``microF1``, ``macroF1``;
``MAE``, ``rho``) with ``<name>_low`` and ``<name>_high``, the ends of the 95% percentile
bootstrap interval; unreadable and missing answers count as wrong.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosign import __version__, _defaults, vocab
from emosign._extras import install_hint
from emosign.errors import InputError, MissingExtraError

try:
    import anyio
    from inspect_ai import Epochs, Task, task
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.model import ChatMessageUser, Content, ContentImage, ContentText, GenerateConfig
    from inspect_ai.scorer import (
        Metric,
        SampleScore,
        Score,
        Scorer,
        ScoreReducer,
        Target,
        Value,
        metric,
        score_reducer,
        scorer,
    )
    from inspect_ai.solver import Generate, Solver, TaskState, generate, solver
except ImportError as err:  # pragma: no cover - tested in a subprocess without inspect_ai
    raise MissingExtraError(
        f"the Inspect tasks need the inspect-ai package ({err.name or err}): "
        f"{install_hint('inspect')}"
    ) from None

from emosign.captions import read_captions
from emosign.harness.answers import UNPARSEABLE, Reading, read_answer
from emosign.harness.config import MAX_FPS, ClientConfig, FrameConfig, check_number
from emosign.harness.inspect_logs import METADATA_KEY, evaluate_readings
from emosign.harness.prompts import (
    DEFAULT_PROTOCOL,
    HARNESS_TASKS,
    INPUTS,
    SCORED_TASKS,
    get_protocol,
)
from emosign.harness.runner import build_messages
from emosign.labels import load_labels
from emosign.metrics import LEADERBOARD_METRICS, SHORT_NAMES
from emosign.tasks import get_task
from emosign.video import VideoError, resolve_videos, sample_frames

__all__ = [
    "MISSING",
    "NOT_IN_TASK",
    "VERDICTS",
    "TaskOptions",
    "answer",
    "build_dataset",
    "emosign_frames",
    "emotion",
    "first_epoch",
    "headline",
    "joint",
    "make_task",
    "score_samples",
    "sentiment",
]

#: A scored task's value for a clip that got no answer (skipped: see the module docstring).
MISSING = "<missing>"
#: A scored task's value for a clip the scored task does not include (a multi-expression
#: clip's ``emotion_single`` in a joint run).
NOT_IN_TASK = "<not in task>"
#: How a clip's answer was read for one scored task.
VERDICTS: tuple[str, ...] = ("parsed", "unreadable", "missing")


# --- options -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskOptions:
    """The settings of one EmoSign Inspect task, checked and with the defaults filled in.

    Attributes
    ----------
    task : the harness task ("joint", "sentiment" or "emotion").
    video_dir : the folder of the clips, absolute.
    captions_file : the English translations (absolute), or None.
    labels_file : the label file as given (absolute), or None for the default.
    protocol : "emosign" or "paper".
    input : "video" or "video_caption".
    fps : frames per second sampled.
    max_frames : the frame cap (thinned evenly beyond it), or None for none.
    max_side : each frame's longer side in pixels, or None to keep the size.
    n_boot : bootstrap resamples of the metrics' intervals.
    """

    task: str
    video_dir: str
    captions_file: str | None
    labels_file: str | None
    protocol: str
    input: str
    fps: float
    max_frames: int | None
    max_side: int | None
    n_boot: int

    @classmethod
    def of(
        cls,
        task: str,
        *,
        video_dir: str | os.PathLike | None,
        captions_file: str | os.PathLike | None = None,
        labels_file: str | os.PathLike | None = None,
        protocol: str = DEFAULT_PROTOCOL,
        input: str | None = None,
        fps: float | None = None,
        max_frames: int | str | None = None,
        max_side: int | str | None = FrameConfig.max_side,
        n_boot: int = _defaults.N_BOOT,
    ) -> TaskOptions:
        """Check the options of :func:`make_task`; InputError naming the one that is wrong.

        Parameters
        ----------
        task : str
            The harness task: ``joint``, ``sentiment`` or ``emotion``.
        video_dir : str or os.PathLike
            The folder of the clips (required).
        captions_file : str or os.PathLike, optional
            The English translations; with ``input="video_caption"``.
        labels_file : str or os.PathLike, optional
            The label file (default ``$EMOSIGN_LABELS``, then the pinned Hub file).
        protocol : str
            ``emosign`` or ``paper``: whose prompts and frame sampling.
        input : str, optional
            ``video`` or ``video_caption`` (default: ``video_caption`` with a captions file).
        fps, max_frames : float, int or None
            The frame sampling (default: the protocol's).
        max_side : int or None
            The longest frame side in pixels.
        n_boot : int
            Bootstrap resamples of the metrics' intervals.

        Returns
        -------
        TaskOptions
        """
        if task not in HARNESS_TASKS:
            raise InputError(f"unknown harness task {task!r}; choose one of {list(HARNESS_TASKS)}")
        if video_dir is None or not str(video_dir).strip():
            raise InputError("video_dir is required: the folder of the clips (-T video_dir=DIR)")
        directory = Path(video_dir).expanduser()
        if not directory.is_dir():
            raise InputError(f"video_dir {directory} is not a folder")
        preset = get_protocol(protocol)
        if input is None:
            input = INPUTS[1] if captions_file is not None else INPUTS[0]
        if input not in INPUTS:
            raise InputError(f"unknown input {input!r}; choose one of {list(INPUTS)}")
        if input == "video_caption" and captions_file is None:
            raise InputError("input=video_caption needs captions_file (-T captions_file=FILE)")
        if input == "video" and captions_file is not None:
            raise InputError("captions_file is given but input=video: drop one of them")
        fps = preset.fps if fps is None else fps
        check_number("fps", fps, low=0, inclusive=False, below=MAX_FPS)
        cap = preset.max_frames if max_frames is None else _none_or(max_frames, "max_frames")
        check_number("max_frames", cap, low=1, whole=True, optional=True)
        side = _none_or(max_side, "max_side")
        check_number("max_side", side, low=1, whole=True, optional=True)
        check_number("n_boot", n_boot, low=1, whole=True)
        return cls(
            task=task,
            video_dir=str(directory.resolve()),
            captions_file=None if captions_file is None else _absolute(captions_file),
            labels_file=None if labels_file is None else _absolute(labels_file),
            protocol=preset.name,
            input=input,
            fps=float(fps),
            max_frames=cap,
            max_side=side,
            n_boot=int(n_boot),
        )


def _none_or(value: int | str | None, name: str) -> int | None:
    """``"none"`` (any case) or None -> None; anything else is kept for the range check."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    if isinstance(value, str):
        raise InputError(f"{name} must be a whole number or 'none', not {value!r}")
    return value


def _absolute(path: str | os.PathLike) -> str:
    return str(Path(path).expanduser().resolve())


# --- the dataset ---------------------------------------------------------------------------


def build_dataset(options: TaskOptions, labels: Any = None) -> tuple[MemoryDataset, dict[str, Any]]:
    """One sample per clip of the harness task, and what the run should record about itself.

    A sample's ``id`` is the clip's ``video_name``; its ``input`` the exact prompt text; its
    ``target`` the clip's reference, for the viewer; its ``metadata`` the clip
    (``video_name``, ``expression_set``), its video file (``video_path``, None when missing)
    and, for a clip that cannot be asked, the reason (``skipped``). ``labels`` are the
    labels already read (:class:`emosign.labels.Labels`), else ``options.labels_file`` is read.

    Parameters
    ----------
    options : TaskOptions
        The task's checked options.
    labels : emosign.labels.Labels, optional
        The labels already read; default: read ``options.labels_file``.

    Returns
    -------
    (dataset, metadata) where ``metadata`` is recorded in the task: the harness task,
    protocol, input, sampling, prompt sha256, the label file and the clips without a video.

    Raises
    ------
    InputError
        If the label or captions file cannot be read, or no clip of the task has a video in
        ``video_dir``.
    """
    labels = load_labels(options.labels_file if labels is None else labels)
    prompt = get_protocol(options.protocol).prompts[options.task]
    # emotion_single is scored on the single expression set only: nothing else is asked.
    clips = labels.subset("single") if options.task == "emotion" else labels.clips
    pairs = [(c.video_name, c.utterance_id) for c in clips]
    videos = resolve_videos(options.video_dir, pairs)
    if clips and len(videos.missing) == len(clips):
        raise InputError(
            f"no clip of the {options.task} task has a video file in {videos.video_dir} (looked "
            "for <utterance_id>/crop_original_video.mp4, <utterance_id>.mp4 and "
            "<video_name>.mp4): is it the right folder?"
        )
    captions = None
    if options.captions_file is not None:
        captions = read_captions(options.captions_file, pairs).texts
    samples = []
    for clip in clips:
        path = videos.paths[clip.video_name]
        caption = None if captions is None else captions.get(clip.video_name)
        skipped = None
        if path is None:
            skipped = f"no video file for clip {clip.video_name!r} in {videos.video_dir}"
        elif captions is not None and caption is None:
            skipped = f"the captions file has no caption for clip {clip.video_name!r}"
        text = prompt.render(fps=options.fps, caption=caption, video_name=clip.video_name)
        samples.append(Sample(
            id=clip.video_name,
            input=text,
            target=_reference(clip, options.task),
            metadata={"video_name": clip.video_name, "expression_set": clip.expression_set,
                      "video_path": path, "skipped": skipped},
        ))
    metadata = {
        "task": options.task,
        "protocol": options.protocol,
        "input": options.input,
        "settings": {"fps": options.fps, "max_frames": options.max_frames,
                     "max_side": options.max_side, "jpeg_quality": FrameConfig.jpeg_quality},
        "prompt_sha256": prompt.sha256,
        "labels": {"path": labels.source.path, "sha256": labels.source.sha256},
        "clips": len(samples),
        "missing_videos": list(videos.missing),
        "n_boot": options.n_boot,
        "emosign_version": __version__,
    }
    dataset = MemoryDataset(samples, name=f"emosign-{options.task}")
    return dataset, metadata


def _reference(clip: Any, task: str) -> str:
    """The clip's reference as text, for the viewer (scoring reads the label file)."""
    parts = []
    if task in ("joint", "sentiment"):
        parts.append(f"sentiment {clip.sentiment:+d} ({clip.sentiment_7})")
    if task in ("joint", "emotion") and clip.single_label is not None:
        parts.append(f"emotion {clip.single_label}")
    if task == "joint":
        present = [n for n, v in zip(vocab.EMOTION_NAMES, clip.intensities) if v]
        parts.append("present: " + (", ".join(present) or "none"))
    return "; ".join(parts)


# --- the solver: frames and prompt, as mllm run sends them ---------------------------------


@solver
def emosign_frames(
    fps: float,
    max_frames: int | None,
    max_side: int | None,
    jpeg_quality: int = FrameConfig.jpeg_quality,
) -> Solver:
    """Replace a sample's input by the clip's frames and its prompt, in one user message.

    The frames are sampled by :func:`emosign.video.sample_frames` (in a worker thread) and
    laid out by :func:`emosign.harness.runner.build_messages`. A clip that cannot be asked
    (its sample's ``skipped`` metadata, or a video that cannot be decoded) is not sent: the
    sample is completed at once with the reason in ``state.metadata["skipped"]``.

    Parameters
    ----------
    fps : float
        Frames per second sampled from each clip.
    max_frames : int or None
        The frame cap per clip (None: no cap).
    max_side : int or None
        The longest frame side in pixels.
    jpeg_quality : int
        The JPEG quality of each frame sent.

    Returns
    -------
    Solver
    """
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        meta = state.metadata
        if meta.get("skipped"):
            state.completed = True
            return state
        prompt_text = state.input_text

        def request() -> tuple[int, list[Content]]:
            # Decoding and JPEG encoding are CPU work: done off the event loop. Decoded at
            # the output size, as mllm run does: a 4K clip's frames never exist at full size.
            frames = sample_frames(meta["video_path"], fps=fps, max_frames=max_frames,
                                   max_side=max_side, clip=meta["video_name"])
            messages = build_messages(frames, prompt_text, max_side=None,
                                      jpeg_quality=jpeg_quality)
            return len(frames), _inspect_content(messages[0]["content"])

        try:
            n_frames, content = await anyio.to_thread.run_sync(request)
        except VideoError as err:
            meta["skipped"] = str(err)
            state.completed = True
            return state
        state.messages = [ChatMessageUser(content=content)]
        meta["frames"] = n_frames
        return state

    return solve


def _inspect_content(parts: Sequence[Mapping[str, Any]]) -> list[Content]:
    """Chat Completions content parts (text, image_url) as Inspect's content."""
    content: list[Content] = []
    for part in parts:
        if part["type"] == "text":
            content.append(ContentText(text=part["text"]))
        else:
            content.append(ContentImage(image=part["image_url"]["url"]))
    return content


# --- the scorer: emosign's answer reader ---------------------------------------------------


@scorer(metrics=[])
def answer(task: str) -> Scorer:
    """Read each answer with :func:`emosign.harness.answers.read_answer`.

    Parameters
    ----------
    task : str
        The harness task; the answer is read for each of ``SCORED_TASKS[task]``.

    Returns
    -------
    Scorer
        Scores a sample: the score's value is ``{scored task: what was read}``; its
        metadata holds ``video_name``, ``verdicts`` (``parsed``, ``unreadable`` or
        ``missing`` per scored task), ``problems``
        (:data:`emosign.harness.answers.PROBLEM_KINDS`, or None) and ``cells`` (the
        predictions cells, or None when missing).

    Raises
    ------
    InputError
        If ``task`` is not a harness task.
    """
    if task not in HARNESS_TASKS:
        raise InputError(f"unknown harness task {task!r}; choose one of {list(HARNESS_TASKS)}")

    async def score(state: TaskState, target: Target) -> Score:
        name = state.metadata["video_name"]
        skipped = state.metadata.get("skipped")
        scored_tasks = SCORED_TASKS[task]
        if skipped:
            return Score(
                value={s: MISSING for s in scored_tasks},
                answer=None,
                explanation=f"not asked: {skipped}",
                metadata={"video_name": name, "epoch": state.epoch, "skipped": skipped,
                          "verdicts": dict.fromkeys(scored_tasks, "missing"),
                          "problems": dict.fromkeys(scored_tasks), "cells": dict.fromkeys(scored_tasks)},
            )
        text = state.output.completion
        readings = read_answer(task, text)
        value: dict[str, str | int | float | bool | None] = {}
        for scored, reading in readings.items():
            # emotion_single is scored on the single expression set only
            in_task = scored != "emotion_single" or state.metadata.get("expression_set") == "single"
            value[scored] = _shown(reading) if in_task else NOT_IN_TASK
        return Score(
            value=value,
            answer=text,
            explanation="; ".join(
                f"{s}: {_shown(r)}" + (f" ({r.problem}: {r.detail})" if r.problem else "")
                for s, r in readings.items()
            ),
            metadata={
                "video_name": name,
                "epoch": state.epoch,
                "verdicts": {s: "parsed" if r.ok else "unreadable" for s, r in readings.items()},
                "problems": {s: r.problem for s, r in readings.items()},
                "cells": {s: dict(r.cells) for s, r in readings.items()},
            },
        )

    return score


def _shown(reading: Reading) -> str:
    """One scored task's reading as a score value: the class, or the cells as JSON."""
    if set(reading.cells) == {"prediction"}:
        return reading.cells["prediction"]
    if all(v == UNPARSEABLE for v in reading.cells.values()):
        return UNPARSEABLE
    return json.dumps(dict(reading.cells), separators=(",", ":"))


# --- epochs: one answer per clip ----------------------------------------------------------


@score_reducer(name="first_epoch")
def first_epoch() -> ScoreReducer:
    """Each clip's score from its first epoch, as :mod:`emosign.harness.inspect_logs` reads it.

    With ``--epochs N`` each clip is asked N times; EmoSign scores one answer per clip, and
    Inspect's usual reducers (a mean) do not apply to the classes read from an answer.
    """

    def reduce(scores: list[Score]) -> Score:
        return min(scores, key=lambda s: (s.metadata or {}).get("epoch", 1))

    return reduce


# --- the metrics: emosign's, over the clips of the run --------------------------------------


@metric
def headline(
    scored: str,
    labels_file: str | None = None,
    n_boot: int = _defaults.N_BOOT,
    ci: float = _defaults.CI,
    seed: int = _defaults.SEED,
) -> Metric:
    """A scored task's headline metrics, by :func:`emosign.metrics.evaluate`.

    The scores are those of the :func:`answer` scorer; the clips are the run's samples of
    the scored task (a ``--limit`` run is scored on its clips), and unreadable and missing
    answers count as wrong (``on_invalid="wrong"``). Returns ``{short name: value,
    <short name>_low: ..., <short name>_high: ...}`` for the metrics of
    :data:`emosign.metrics.LEADERBOARD_METRICS`, or ``{}`` when no clip of the run belongs to
    the scored task.

    Parameters
    ----------
    scored : str
        The scored task (``sentiment_3``, ``emotion_single``, ...).
    labels_file : str, optional
        The label file (default ``$EMOSIGN_LABELS``, then the pinned Hub file).
    n_boot, ci, seed : int, float, int
        The bootstrap of the intervals: resamples, coverage, seed.

    Returns
    -------
    Metric
    """

    def compute(scores: list[SampleScore]) -> Value:
        evaluation = score_samples(scored, [s.score.metadata or {} for s in scores],
                                   labels_file=labels_file, n_boot=n_boot, ci=ci, seed=seed)
        if evaluation is None:
            return {}
        out: dict[str, str | int | float | bool | None] = {}
        for name in LEADERBOARD_METRICS[_kind(scored)]:
            short = SHORT_NAMES.get(name, name)
            low, high = evaluation["ci"]["intervals"][name]
            out[short] = _finite(evaluation["metrics"][name])
            out[f"{short}_low"] = _finite(low)
            out[f"{short}_high"] = _finite(high)
        return out

    return compute


def _finite(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _kind(scored: str) -> str:
    return get_task(scored).kind


def score_samples(
    scored: str,
    metadata: Sequence[Mapping[str, Any]],
    *,
    labels_file: str | os.PathLike | Any | None = None,
    n_boot: int = _defaults.N_BOOT,
    ci: float = _defaults.CI,
    seed: int = _defaults.SEED,
) -> dict | None:
    """:func:`emosign.metrics.evaluate` on the :func:`answer` scores of a run's samples.

    Parameters
    ----------
    scored : the scored task.
    metadata : each sample's score metadata (``video_name``, ``verdicts``, ``cells``).
    labels_file : the label file (a path, :class:`emosign.labels.Labels`, or None for the
        default).
    n_boot, ci, seed : int, float, int
        The bootstrap of the intervals: resamples, coverage, seed.

    Returns
    -------
    :func:`emosign.harness.inspect_logs.evaluate_readings`'s result: evaluate on the run's
    clips of the task, unreadable and missing answers wrong; None when there are none.
    """
    clips, cells = [], {}
    for meta in metadata:
        name = meta.get("video_name")
        if not isinstance(name, str):
            continue
        clips.append(name)
        read = (meta.get("cells") or {}).get(scored)
        if (meta.get("verdicts") or {}).get(scored) != "missing" and read:
            cells[name] = read
    return evaluate_readings(scored, clips, cells, labels_file=labels_file, n_boot=n_boot,
                             ci=ci, seed=seed)


# --- the tasks -----------------------------------------------------------------------------


def make_task(
    harness_task: str,
    *,
    video_dir: str | None = None,
    captions_file: str | None = None,
    labels_file: str | None = None,
    protocol: str = DEFAULT_PROTOCOL,
    input: str | None = None,
    fps: float | None = None,
    max_frames: int | str | None = None,
    max_side: int | str | None = FrameConfig.max_side,
    n_boot: int = _defaults.N_BOOT,
) -> Task:
    """The Inspect task of one harness task; the options are those of the module docstring.

    Parameters
    ----------
    harness_task : str
        The harness task: ``joint``, ``sentiment`` or ``emotion``.
    video_dir : str or os.PathLike
        The folder of the clips (required).
    captions_file : str or os.PathLike, optional
        The English translations; with ``input="video_caption"``.
    labels_file : str or os.PathLike, optional
        The label file (default ``$EMOSIGN_LABELS``, then the pinned Hub file).
    protocol : str
        ``emosign`` or ``paper``: whose prompts and frame sampling.
    input : str, optional
        ``video`` or ``video_caption`` (default: ``video_caption`` with a captions file).
    fps, max_frames : float, int or None
        The frame sampling (default: the protocol's).
    max_side : int or None
        The longest frame side in pixels.
    n_boot : int
        Bootstrap resamples of the metrics' intervals.

    Returns
    -------
    Task

    Raises
    ------
    InputError
        If an option is wrong (the message names it) or no clip has a video.
    """
    options = TaskOptions.of(
        harness_task, video_dir=video_dir, captions_file=captions_file,
        labels_file=labels_file, protocol=protocol, input=input, fps=fps,
        max_frames=max_frames, max_side=max_side, n_boot=n_boot,
    )
    dataset, metadata = build_dataset(options, load_labels(options.labels_file))
    metrics: dict[str, list[Metric]] = {
        scored: [headline(scored, labels_file=options.labels_file, n_boot=options.n_boot)]
        for scored in SCORED_TASKS[harness_task]
    }
    return Task(
        dataset=dataset,
        solver=[emosign_frames(options.fps, options.max_frames, options.max_side), generate()],
        scorer=answer(harness_task),
        metrics=metrics,
        config=GenerateConfig(temperature=ClientConfig.temperature,
                              max_tokens=ClientConfig.max_tokens),
        metadata={METADATA_KEY: metadata},
        # --epochs N keeps this reducer: the metrics score each clip's first answer.
        epochs=Epochs(1, first_epoch()),
        name=f"emosign-{harness_task}",
    )


def _task_function(harness_task: str, summary: str) -> Callable[..., Task]:
    def build(
        video_dir: str | None = None,
        captions_file: str | None = None,
        labels_file: str | None = None,
        protocol: str = DEFAULT_PROTOCOL,
        input: str | None = None,
        fps: float | None = None,
        max_frames: int | str | None = None,
        max_side: int | str | None = FrameConfig.max_side,
        n_boot: int = _defaults.N_BOOT,
    ) -> Task:
        return make_task(harness_task, video_dir=video_dir, captions_file=captions_file,
                         labels_file=labels_file, protocol=protocol, input=input, fps=fps,
                         max_frames=max_frames, max_side=max_side, n_boot=n_boot)

    build.__name__ = build.__qualname__ = harness_task
    build.__doc__ = f"EmoSign, {summary}. Options: see emosign.harness.inspect_tasks."
    return build


sentiment = task(_task_function(
    "sentiment", "7-class sentiment as one of the seven phrases (scored on sentiment_7 and 3)"))
emotion = task(_task_function(
    "emotion", "the single most dominant emotion (scored on the 140 single-expression clips)"))
joint = task(_task_function(
    "joint", "the paper's joint JSON prompt (sentiment, ten intensities, cue explanation)"))
