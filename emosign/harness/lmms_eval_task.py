"""EmoSign as an lmms-eval task folder: ``emosign export-lmms-eval``.

lmms-eval (EvolvingLMMs-Lab) finds a benchmark as a folder of task YAML files given with
``--include_path``. :func:`export_lmms_eval` writes one for EmoSign:

=================================  ==========================================================
``_default_template_yaml``         what every task shares: local JSON data, the functions
                                   below, greedy decoding
``emosign_<prompt>[_caption].yaml``  one task per harness prompt (``joint``, ``sentiment``,
                                   ``emotion``), and per input (video, or video + caption)
``utils.py``                       three lines per function: the logic is here, in emosign
``data/<task>.jsonl``              one document per clip: names, the video's path, caption
``data/labels.csv``                the label file the scores are computed against
``README.md``                      how to run it
=================================  ==========================================================

Every task carries the tag ``emosign``: ``--tasks emosign`` runs them all. The prompts are
a protocol's (``protocol="emosign"``, the default, or ``"paper"``: see
:mod:`emosign.harness.prompts`) as :func:`emosign.harness.prompts.video_file_prompts` gives
them: the model is given the video file and samples the frames itself, so the protocol's
frame sampling is the lmms-eval model's own setting, not the task's. Each document records
its protocol (``"protocol"``; a document without it, from an older export, is ``emosign``).
Answers are read with :func:`emosign.harness.answers.read_answer`, which reads both
protocols' formats (the paper's ``[joy]`` and its joint keys among them), and each metric is
computed by :func:`emosign.metrics.evaluate` with ``on_invalid="wrong"``, as ``emosign mllm
score`` does: an unreadable answer counts as wrong. So a score printed by lmms-eval equals
``emosign evaluate --on-invalid wrong`` on the same answers. Metrics that are fractions are
printed in percent, as in the paper.

The videos are never copied (the ASLLRP terms forbid redistributing them): each document holds
the absolute path found at export time, and ``EMOSIGN_VIDEO_DIR`` points lmms-eval at another
copy of the same folder.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emosign import vocab
from emosign._io import staged_directory, write_atomically
from emosign.captions import read_captions
from emosign.errors import InputError
from emosign.harness.answers import read_answer
from emosign.harness.prompts import (
    DEFAULT_PROTOCOL,
    HARNESS_TASKS,
    INPUTS,
    SCORED_TASKS,
    get_protocol,
    video_file_prompts,
)
from emosign.labels import Labels, load_labels
from emosign.metrics import (
    LEADERBOARD_METRICS,
    LOWER_IS_BETTER,
    NOT_PERCENT,
    SHORT_NAMES,
    evaluate,
)
from emosign.tasks import get_task
from emosign.video import resolve_videos

__all__ = [
    "MAX_NEW_TOKENS",
    "TAG",
    "VIDEO_DIR_ENV",
    "Metric",
    "aggregation",
    "doc_to_text",
    "doc_to_visual",
    "export_lmms_eval",
    "process_results",
    "task_metrics",
    "task_name",
]

#: Environment variable that relocates the video folder at evaluation time.
VIDEO_DIR_ENV = "EMOSIGN_VIDEO_DIR"
TAG = "emosign"
#: Tokens each prompt may need, in either protocol: the joint prompt asks for JSON and two
#: sentences (the paper's adds the file name and quotes every value: still far below 512).
MAX_NEW_TOKENS = {"joint": 512, "sentiment": 32, "emotion": 32}
# Bootstrap resamples evaluate() draws; lmms-eval shows point estimates only.
_N_BOOT = 200


@dataclass(frozen=True)
class Metric:
    """One lmms-eval metric: a headline metric of one scored task, or its parse rate."""

    scored_task: str
    metric: str  # a key of evaluate()'s ``metrics``, or "parse_rate"

    @property
    def name(self) -> str:
        """The metric's name in lmms-eval's table, e.g. ``sentiment_3_wAcc``."""
        return f"{self.scored_task}_{SHORT_NAMES.get(self.metric, self.metric)}"

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger value is better (lmms-eval's ``higher_is_better``)."""
        return self.metric not in LOWER_IS_BETTER


def task_metrics(prompt_task: str) -> list[Metric]:
    """The metrics of a harness prompt's task: each scored task's leaderboard metrics and its
    parse rate (parsed / answered, in percent).

    Parameters
    ----------
    prompt_task : str
        A harness task (joint, sentiment, emotion).

    Returns
    -------
    list of Metric
    """
    metrics = []
    for scored in SCORED_TASKS[prompt_task]:
        metrics += [Metric(scored, m) for m in LEADERBOARD_METRICS[get_task(scored).kind]]
        metrics.append(Metric(scored, "parse_rate"))
    return metrics


def task_name(prompt_task: str, with_caption: bool) -> str:
    """The lmms-eval task's name for a harness prompt and input.

    Parameters
    ----------
    prompt_task : str
        A harness task (joint, sentiment, emotion).
    with_caption : bool
        The video + caption input.

    Returns
    -------
    str
        ``emosign_<prompt_task>``, with ``_caption`` for the caption input.
    """
    return f"{TAG}_{prompt_task}" + ("_caption" if with_caption else "")


# --- writing the folder --------------------------------------------------------------------


def export_lmms_eval(
    out_dir: str | os.PathLike,
    *,
    video_dir: str | os.PathLike,
    with_caption: bool = False,
    captions_file: str | os.PathLike | None = None,
    labels_file: str | os.PathLike | None = None,
    prompt_tasks: Sequence[str] = HARNESS_TASKS,
    protocol: str = DEFAULT_PROTOCOL,
    overwrite: bool = False,
) -> Path:
    """Write the lmms-eval task folder into ``out_dir`` and return its path.

    Parameters
    ----------
    out_dir : path
        The folder to give lmms-eval as ``--include_path``; absent, empty, or, with
        ``overwrite``, an earlier export (its ``.emosign-export-lmms-eval`` marker lists
        every file in it); anything else is refused even with ``overwrite``, as is a folder
        that is, is inside, or holds the videos, the label file or the captions file. It is
        built beside ``out_dir`` and moved into place.
    video_dir : path
        The ASLLRP utterance videos (layouts as in :func:`emosign.video.find_video`). Every
        clip of every task must have one; the missing ones are listed otherwise.
    with_caption : bool
        Also write the video + caption tasks (the paper's second input), which need
        ``captions_file``.
    captions_file : path, optional
        The English translations (see :mod:`emosign.captions`), with a caption for every
        clip when ``with_caption``.
    labels_file : path, optional
        The label file (default ``$EMOSIGN_LABELS``, else the pinned Hub file); it is copied
        into ``data/labels.csv`` and scored against.
    prompt_tasks : sequence of str
        Which harness prompts become tasks (default all three).
    protocol : str
        Whose prompts the tasks ask: "emosign" (default) or "paper" (the paper's label sets
        and answer formats; see :mod:`emosign.harness.prompts`). Recorded in every document;
        the task names are the same for both. The protocol's frame sampling is not exported:
        each lmms-eval model samples the video file with its own setting.
    overwrite : bool
        Replace an earlier export in ``out_dir``.

    Returns
    -------
    Path
        The folder written.

    Raises
    ------
    InputError
        If an option is refused (unknown prompt tasks or protocol, captions missing).
    FileNotFoundError
        If a clip has no video.
    """
    video_file_prompts(protocol)  # ValueError naming the protocols, before anything is read
    unknown = [t for t in prompt_tasks if t not in HARNESS_TASKS]
    if unknown or not prompt_tasks:
        raise InputError(f"prompt tasks must be some of {HARNESS_TASKS}, not {list(prompt_tasks)}")
    if with_caption and captions_file is None:
        raise InputError("the caption tasks need the English translations: give captions_file "
                         "(--captions-file)")
    labels = load_labels(labels_file)
    pairs = [(c.video_name, c.utterance_id) for c in labels]
    videos = resolve_videos(video_dir, pairs)
    if videos.missing:
        raise FileNotFoundError(
            f"{videos.describe_missing()}; every clip needs its video for lmms-eval "
            "(a clip left out would be scored as wrong)"
        )
    captions = None
    if captions_file is not None:
        captions = read_captions(captions_file, pairs)
        if with_caption and captions.missing:
            raise InputError(captions.describe_missing())
    video_root = Path(videos.video_dir).resolve()
    paths = {name: path for name, path in videos.paths.items() if path is not None}  # all
    caption_texts = captions.texts if captions is not None else {}

    caption_inputs = [False, True] if with_caption else [False]
    read_from = [video_root, labels.source.path, *([captions_file] if captions_file else [])]
    with staged_directory(out_dir, writer="export-lmms-eval", overwrite=overwrite,
                          inputs=read_from) as staging:
        data = staging / "data"
        data.mkdir()
        shutil.copyfile(labels.source.path, data / "labels.csv")
        for prompt_task in prompt_tasks:
            clips = labels.subset("single") if prompt_task == "emotion" else labels.clips
            for caption_input in caption_inputs:
                name = task_name(prompt_task, caption_input)
                docs = [
                    {
                        "video_name": c.video_name,
                        "utterance_id": c.utterance_id,
                        "signer": c.signer,
                        "prompt_task": prompt_task,
                        "protocol": protocol,
                        "input": INPUTS[1] if caption_input else INPUTS[0],
                        "video": Path(paths[c.video_name]).relative_to(video_root).as_posix(),
                        "video_path": paths[c.video_name],
                        "caption": (caption_texts[c.video_name] or "") if caption_input else "",
                    }
                    for c in clips
                ]
                write_atomically(data / f"{name}.jsonl", "".join(
                    json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs))
                write_atomically(staging / f"{name}.yaml",
                                 _task_yaml(name, prompt_task, protocol, Path(out_dir).resolve()))
        write_atomically(staging / _TEMPLATE_NAME, _TEMPLATE)
        write_atomically(staging / "utils.py", _utils_py(prompt_tasks))
        write_atomically(staging / "README.md",
                         _readme(Path(out_dir).resolve(), video_root, labels, protocol))
    return Path(out_dir)


_TEMPLATE_NAME = "_default_template_yaml"  # not *.yaml: lmms-eval registers no task for it
_TEMPLATE = """\
# Written by `emosign export-lmms-eval`; shared by every EmoSign task in this folder.
dataset_path: json
test_split: test
output_type: generate_until
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
doc_to_target: video_name
process_results: !function utils.process_results
lmms_eval_specific_kwargs:
  default:
    pre_prompt: ""
    post_prompt: ""
metadata:
  version: 1.0
  scorer: "emosign.metrics.evaluate (on_invalid=wrong); fractions in percent"
"""


def _task_yaml(name: str, prompt_task: str, protocol: str, folder: Path) -> str:
    metrics = "\n".join(
        f"  - metric: {m.name}\n"
        f"    aggregation: !function utils.{m.name}\n"
        f"    higher_is_better: {str(m.higher_is_better).lower()}"
        for m in task_metrics(prompt_task)
    )
    # Absolute paths: lmms-eval looks for an include in the working directory first, and
    # before 0.7.3 resolves data files against it too. JSON strings are valid YAML scalars.
    return (
        f"# Written by `emosign export-lmms-eval`: the {prompt_task!r} prompt of the "
        f"{protocol!r} protocol.\n"
        f"include: {_yaml_string(folder / _TEMPLATE_NAME)}\n"
        f"task: {name}\n"
        f"tag: {TAG}\n"
        "dataset_kwargs:\n"
        "  data_files:\n"
        f"    test: {_yaml_string(folder / 'data' / f'{name}.jsonl')}\n"
        "generation_kwargs:\n"
        f"  max_new_tokens: {MAX_NEW_TOKENS[prompt_task]}\n"
        "  temperature: 0\n"
        "  do_sample: false\n"
        "metric_list:\n"
        f"{metrics}\n"
    )


def _yaml_string(path: Path) -> str:
    # A JSON string is a YAML scalar; ensure_ascii=False keeps characters outside the BMP
    # whole (PyYAML would read their \\u surrogate pairs as two broken characters).
    return json.dumps(str(path), ensure_ascii=False)


def _utils_py(prompt_tasks: Sequence[str]) -> str:
    metrics = {m.name: m for task in prompt_tasks for m in task_metrics(task)}
    assert all(name.isidentifier() for name in metrics), "metric names name functions in utils.py"
    aggregations = "\n".join(
        f"{name} = lmms.aggregation({m.scored_task!r}, {m.metric!r}, LABELS)"
        for name, m in metrics.items()
    )
    return f'''"""EmoSign for lmms-eval, written by `emosign export-lmms-eval`.

The logic lives in emosign.harness.lmms_eval_task (install it in lmms-eval's environment:
pip install /path/to/emosign); this file only binds it to this folder's label file.
"""

from pathlib import Path

from emosign.harness import lmms_eval_task as lmms

LABELS = Path(__file__).resolve().parent / "data" / "labels.csv"

doc_to_visual = lmms.doc_to_visual
doc_to_text = lmms.doc_to_text
process_results = lmms.process_results

# One aggregation per metric: lmms-eval hands each only the list of per-clip values.
{aggregations}
'''


def _readme(folder: Path, video_root: Path, labels: Labels, protocol: str) -> str:
    preset = get_protocol(protocol)
    cap = ("no frame cap" if preset.max_frames is None
           else f"at most {preset.max_frames} frames, longer clips thinned")
    single = labels.subset("single")
    neutral = sum(c.single_label == vocab.NEUTRAL for c in single)
    if protocol == "paper":
        prompts = (
            "the paper's label sets and answer formats, in this project's words: the emotion "
            "answer is one of the ten emotions as the paper spells them, in square brackets "
            f"(`[joy]`), with no neutral option, so {neutral} of the {len(single)} clips of the "
            "single expression set, labelled neutral, cannot be answered right, as with the "
            "paper's prompt; the joint answer has the paper's keys (`filename`, `Sentiment`, "
            "the ten emotion names, `QA`) with every value a string"
        )
    else:
        prompts = (
            "this project's prompts: the emotion answer is one of the ten emotions or "
            f"{vocab.EXPRESSION_CLASSES[-1].paper_name}; the joint answer's keys are the label "
            "file's columns and `explanation`"
        )
    about = textwrap.fill(
        f"Protocol: `{protocol}` (recorded in every document of `data/`): {prompts}. Both "
        "protocols' answers are read by the same reader as `emosign mllm`.", width=92)
    return f"""# EmoSign for lmms-eval

Written by `emosign export-lmms-eval --protocol {protocol}`. Scores are computed by
`emosign.metrics.evaluate` against `data/labels.csv` (sha256 {labels.source.sha256}); an
unreadable answer counts as wrong, and `<task>_parse_rate` says how many answers could be
read. Fractions are in percent.

    pip install /path/to/emosign   # its source folder, in the environment that runs lmms-eval
    python -m lmms_eval --model qwen2_5_vl --model_args pretrained=Qwen/Qwen2.5-VL-7B-Instruct \\
        --include_path {shlex.quote(str(folder))} --tasks {TAG} --log_samples --output_path results/

{about}

Frames: lmms-eval hands the model the video file and the model picks the frames with its
own setting in `--model_args`; the task cannot set them. In lmms-eval's own models that
setting is a number of frames spread evenly over the clip, not a rate: `max_num_frames` for
`qwen2_5_vl` and `qwen2_vl`, `max_frames_num` for `llava_onevision` (for another model, see
its arguments in lmms-eval). So the `{protocol}` protocol's sampling ({preset.fps:g} frames
per second, {cap}) is not reproduced here, and the prompts name no sampling rate;
`emosign mllm run --protocol {protocol}` sends exactly that sampling.

Videos are read from {video_root} (the path recorded at export). To use another copy of the
same folder, set `{VIDEO_DIR_ENV}=/path/to/videos`.

Tasks: `{TAG}_joint` (one JSON answer: sentiment, ten emotion intensities, an explanation),
`{TAG}_sentiment` (seven phrases) and `{TAG}_emotion` (one emotion, single expression set);
`_caption` variants add the English translation to the prompt.
"""


# --- what lmms-eval calls ------------------------------------------------------------------


def doc_to_visual(doc: Mapping[str, Any]) -> list[str]:
    """The clip's video file, as a one-element list.

    With ``EMOSIGN_VIDEO_DIR`` set, the clip's path under that folder (a copy of the folder
    the export saw); the path must stay inside it.

    Parameters
    ----------
    doc : Mapping
        One document of the task's ``data/<task>.jsonl``.

    Returns
    -------
    list of str

    Raises
    ------
    InputError
        If the relocated path leaves ``EMOSIGN_VIDEO_DIR``.
    FileNotFoundError
        If the relocated video is missing.
    """
    relocated = os.environ.get(VIDEO_DIR_ENV)
    if not relocated:
        return [doc["video_path"]]
    root = Path(relocated).resolve()
    path = (root / doc["video"]).resolve()
    if not doc["video"] or not path.is_relative_to(root):
        raise InputError(f"clip {doc['video_name']!r}: video path {doc['video']!r} leaves {root}")
    if not path.is_file():
        raise FileNotFoundError(f"clip {doc['video_name']!r}: no video at {path} "
                                f"({VIDEO_DIR_ENV}={relocated})")
    return [str(path)]


def doc_to_text(doc: Mapping[str, Any], lmms_eval_specific_kwargs: Mapping | None = None) -> str:
    """The EmoSign question for the clip in the document's protocol, with its caption in the
    caption tasks.

    The protocol is the document's ``"protocol"`` (absent, as in an older export: ``emosign``).
    ``pre_prompt`` and ``post_prompt`` from lmms-eval's per-model settings are put around it.

    Parameters
    ----------
    doc : Mapping
        One document of the task.
    lmms_eval_specific_kwargs : Mapping, optional
        lmms-eval's per-model settings.

    Returns
    -------
    str
    """
    kwargs = lmms_eval_specific_kwargs or {}
    protocol = doc.get("protocol")
    try:
        prompts = video_file_prompts(DEFAULT_PROTOCOL if protocol is None else protocol)
    except ValueError as err:
        raise InputError(f"clip {doc['video_name']!r}: {err}") from None
    prompt = prompts[doc["prompt_task"]]
    caption = doc["caption"] if doc["input"] == INPUTS[1] else None
    # The paper's joint answer echoes the clip's name as "filename".
    text = prompt.render(fps=0, caption=caption, video_name=doc["video_name"])
    return f"{kwargs.get('pre_prompt', '')}{text}{kwargs.get('post_prompt', '')}"


def process_results(doc: Mapping[str, Any], results: Sequence[str]) -> dict[str, dict]:
    """Read the model's answer for every scored task of the prompt.

    Parameters
    ----------
    doc : Mapping
        One document of the task.
    results : sequence of str
        The model's answers (the first is read).

    Returns
    -------
    dict
        ``{metric name: value}`` for every metric of the task, where the value is the clip's
        reading of that scored task: ``{"video_name", "cells", "problem", "protocol"}`` (the
        protocol goes into lmms-eval's logged samples, for ``emosign lmms-eval-score``).
    """
    answer = results[0] if results else ""
    readings = read_answer(doc["prompt_task"], answer)
    protocol = doc.get("protocol") or DEFAULT_PROTOCOL
    values = {}
    for m in task_metrics(doc["prompt_task"]):
        reading = readings[m.scored_task]
        values[m.name] = {"video_name": doc["video_name"], "cells": dict(reading.cells),
                          "problem": reading.problem, "protocol": protocol}
    return values


def aggregation(scored_task: str, metric: str, labels_file: str | os.PathLike) -> Callable[[list], float]:
    """The function lmms-eval calls with every clip's value of one metric.

    It scores the readings with :func:`emosign.metrics.evaluate` (``on_invalid="wrong"``)
    against ``labels_file`` and returns the metric, in percent unless it is in the scale's
    units. ``parse_rate`` is parsed / answered, in percent.

    Parameters
    ----------
    scored_task : str
        The scored task (``sentiment_3``, ...).
    metric : str
        A key of evaluate()'s ``metrics``, or "parse_rate".
    labels_file : path
        The export's ``data/labels.csv``.

    Returns
    -------
    callable
        From the list of per-clip values to the metric (NaN when nothing could be read).
    """

    def aggregate(values: list) -> float:
        # The joint prompt asks about all clips; emotion_single scores its 140 of them, and
        # parse rates count the scored clips, as in `emosign mllm score`.
        in_task = set(_task_clips(scored_task, str(labels_file)))
        values = [v for v in values if v["video_name"] in in_task]
        parsed = sum(v["problem"] is None for v in values)
        if metric == "parse_rate":
            return 100.0 * parsed / len(values) if values else float("nan")
        if not parsed:
            return float("nan")  # as `emosign mllm score`: no answer read, no score
        # Scored on the clips lmms-eval ran: all of the task's, or the first N with --limit.
        value = _evaluate(scored_task, str(labels_file), _records_key(values))["metrics"][metric]
        if value is None:
            return float("nan")
        return value if metric in NOT_PERCENT else 100.0 * value

    aggregate.__name__ = f"{scored_task}_{metric}"
    return aggregate


def _records_key(values: list) -> tuple:
    # A hashable form, so that the metrics of one task share one evaluate() call.
    return tuple(
        (v["video_name"], tuple(sorted(v["cells"].items())))
        for v in sorted(values, key=lambda v: v["video_name"])
    )


_CACHE: dict[tuple, dict] = {}


def _evaluate(scored_task: str, labels_file: str, records: tuple) -> dict:
    key = (scored_task, labels_file, records)
    if key not in _CACHE:
        predictions = [{"video_name": name, **dict(cells)} for name, cells in records]
        _CACHE.clear()  # one task's answers at a time: memory stays flat over a long run
        _CACHE[key] = evaluate(scored_task, predictions, labels_file=_labels(labels_file),
                               on_invalid="wrong", n_boot=_N_BOOT,
                               clips=[name for name, _ in records])
    return _CACHE[key]


@functools.cache
def _task_clips(scored_task: str, labels_file: str) -> tuple[str, ...]:
    return get_task(scored_task).bind(_labels(labels_file)).video_names


@functools.cache
def _labels(labels_file: str) -> Labels:
    # Read and checked once per evaluation run, not once per metric of every task.
    return load_labels(labels_file)
