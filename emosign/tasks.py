"""The EmoSign evaluation tasks, as data.

=====================  ==========================  ==================================  =======================
task                   clips                       classes                             reference
=====================  ==========================  ==================================  =======================
``sentiment_7``        all 200                     the 7 sentiment levels (ordinal)    majority rating -3...3
``sentiment_3``        all 200                     negative, neutral, positive         sign of the rating
``emotion_single``     single expression set, 140  the 10 classes of Table 4           the single label
``emotion_multi``      multi expression set, 37    tied combinations (from the file)   the combination
``emotion_presence``   all 200                     the 10 emotions (multi-label)       intensity above 0
``emotion_intensity``  all 200                     the 10 emotions, 0...3 each         the intensities
``cue_grounding``      all 200                     (free text)                         the 3 cue descriptions
=====================  ==========================  ==================================  =======================

A :class:`Task` says which clips, which classes and how to read a clip's reference;
:meth:`Task.bind` applies it to a label file and gives the aligned arrays the metrics take.
Adding a task is adding one entry to :data:`TASKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any, Literal

import numpy as np

from emosign import vocab
from emosign.errors import InputError
from emosign.hub import LabelSource
from emosign.labels import Clip, Labels

__all__ = [
    "Kind",
    "TASKS",
    "Task",
    "TaskData",
    "get_task",
]

Kind = Literal["single_label", "multi_label", "intensity", "explanation"]


@dataclass(frozen=True)
class Task:
    """One scored task.

    ``kind`` is ``"single_label"`` (one class per clip), ``"multi_label"`` (a presence flag
    per emotion), ``"intensity"`` (0...3 per emotion) or ``"explanation"`` (free text).
    ``classes`` is None when the class set comes from the label file (the multi-expression
    combinations). ``ordinal`` marks the 7-point sentiment scale, whose classes are the values
    -3...3 in order.
    """

    name: str
    kind: Kind
    description: str
    expression_set: str | None  # the clip subset; None for all clips
    classes: tuple[str, ...] | None
    reference: Callable[[Clip], object]
    ordinal: bool = False

    def bind(self, labels: Labels) -> TaskData:
        """The task's clips and references in ``labels``, as aligned arrays."""
        clips = labels.clips if self.expression_set is None else labels.subset(self.expression_set)
        classes = self.classes if self.classes is not None else labels.multi_expression_classes
        references: list[Any] = [self.reference(c) for c in clips]
        if self.kind == "single_label":
            index = {name: i for i, name in enumerate(classes)}
            y_true = np.array([index[r] for r in references], dtype=np.intp)
        elif self.kind == "explanation":
            y_true = np.empty(len(clips), dtype=object)  # the clips' three descriptions
            for i, descriptions in enumerate(references):
                y_true[i] = descriptions
        else:
            y_true = np.array(references, dtype=bool if self.kind == "multi_label" else np.int8)
            y_true = y_true.reshape(len(clips), len(classes))
        return TaskData(
            task=self,
            classes=tuple(classes),
            video_names=tuple(c.video_name for c in clips),
            signers=tuple(c.signer for c in clips),
            y_true=y_true,
            label_video_names=frozenset(c.video_name for c in labels),
            labels_source=labels.source,
        )


@dataclass(frozen=True)
class TaskData:
    """A task applied to one label file.

    ``y_true`` has shape (n,) of class indices into ``classes`` for single-label tasks
    (for ``sentiment_7``, index i is the rating i - 3), or (n, 10) for the per-emotion tasks
    (bool presence, or int8 intensity 0...3), rows in ``video_names`` order.
    ``label_video_names`` holds every clip of the label file, so a prediction for a real clip
    outside this task's subset can be told from an unknown clip name.
    """

    task: Task
    classes: tuple[str, ...]
    video_names: tuple[str, ...]
    signers: tuple[str, ...]
    y_true: np.ndarray
    label_video_names: frozenset[str]
    labels_source: LabelSource

    @property
    def n(self) -> int:
        return len(self.video_names)

    def restrict(self, video_names: Iterable[str]) -> TaskData:
        """The same task on a subset of its clips (e.g. those with a video), in task order.

        Raises ValueError naming any clip that is not one of this task's clips.
        """
        keep = set(video_names)
        unknown = sorted(keep - set(self.video_names))
        if unknown:
            raise InputError(f"{len(unknown)} clip(s) are not clips of {self.task.name}: {unknown}")
        rows = [i for i, name in enumerate(self.video_names) if name in keep]
        return replace(
            self,
            video_names=tuple(self.video_names[i] for i in rows),
            signers=tuple(self.signers[i] for i in rows),
            y_true=self.y_true[rows],
        )


TASKS: Mapping[str, Task] = {
    task.name: task
    for task in (
        Task(
            "sentiment_7",
            "single_label",
            "7-class sentiment, -3 (extremely negative) ... +3 (extremely positive), all clips",
            None,
            vocab.SENTIMENT_7_NAMES,
            attrgetter("sentiment_7"),
            ordinal=True,
        ),
        Task(
            "sentiment_3",
            "single_label",
            "3-class sentiment: negative < 0, neutral = 0, positive > 0, all clips",
            None,
            vocab.SENTIMENT_3_NAMES,
            attrgetter("sentiment_3"),
        ),
        Task(
            "emotion_single",
            "single_label",
            "the dominant emotion on the single expression set (joy and excited merged)",
            "single",
            vocab.SINGLE_EXPRESSION_NAMES,
            attrgetter("single_label"),
        ),
        Task(
            "emotion_multi",
            "single_label",
            "the combination of tied dominant emotions on the multi expression set",
            "multi",
            None,
            attrgetter("multi_label"),
        ),
        Task(
            "emotion_presence",
            "multi_label",
            "which of the ten emotions are present (intensity above 0), all clips",
            None,
            vocab.EMOTION_NAMES,
            attrgetter("present"),
        ),
        Task(
            "emotion_intensity",
            "intensity",
            "the intensity 0...3 of each of the ten emotions, all clips",
            None,
            vocab.EMOTION_NAMES,
            attrgetter("intensities"),
        ),
        Task(
            "cue_grounding",
            "explanation",
            "free-text explanations scored against the annotators' cue descriptions "
            "(cue categories, ROUGE-L), each annotator left out in turn",
            None,
            (),
            attrgetter("cues"),
        ),
    )
}
assert tuple(TASKS) == vocab.TASK_NAMES, "every task named in vocab is defined here"


def get_task(name: str) -> Task:
    """The task called ``name``; a ValueError lists the valid names otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise InputError(f"unknown task {name!r}; choose one of {list(TASKS)}") from None
