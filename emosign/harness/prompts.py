"""The instructions sent to a multimodal LLM with a clip's frames, one per harness task.

The EmoSign paper prompts models in two ways (Chua et al., 2025, section 5): one prompt that
asks for every label at once, answered as JSON, and, for models that could not produce clean
JSON, one prompt per task. The harness has a task for each:

=============  ==========================================================  ======================
harness task   the model is asked for                                      scored on
=============  ==========================================================  ======================
``joint``      JSON: sentiment -3...3, each of the ten emotions 0...3, a   sentiment_7,
               two-sentence explanation of the cues                        sentiment_3,
                                                                           emotion_single,
                                                                           emotion_presence,
                                                                           emotion_intensity
``sentiment``  one of the seven phrases "Extremely Negative" ...           sentiment_7,
               "Extremely Positive"                                        sentiment_3
``emotion``    the one emotion expressed most strongly, of the ten         emotion_single
               (or "Neutral" when none is)
=============  ==========================================================  ======================

The wording below was written for this project, not copied from the paper. Each task has two
templates, for video alone and for video with its English translation (the paper's
"video+caption" setting). A template is a ``str.format`` string with the fields ``{fps}``
(the sampling rate, e.g. "10") and, in the caption template only, ``{caption}``; literal
braces are doubled. Pass your own :class:`Prompt` to change the wording: a run records the
exact text it sent and its sha256, so results from different wordings are never mixed up.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass

from emosign import vocab

#: The harness tasks, i.e. the kinds of prompt.
HARNESS_TASKS: tuple[str, ...] = ("joint", "sentiment", "emotion")

#: Which scored tasks (``emosign.tasks``) each harness task's answers are scored on.
SCORED_TASKS: Mapping[str, tuple[str, ...]] = {
    "joint": (
        "sentiment_7",
        "sentiment_3",
        "emotion_single",
        "emotion_presence",
        "emotion_intensity",
    ),
    "sentiment": ("sentiment_7", "sentiment_3"),
    "emotion": ("emotion_single",),
}

#: The two inputs of the paper: the frames alone, or the frames and the English translation.
INPUTS: tuple[str, ...] = ("video", "video_caption")

_FIELDS = {"video": {"fps"}, "video_caption": {"fps", "caption"}}


class PromptError(ValueError):
    """A prompt template that cannot be rendered."""


@dataclass(frozen=True)
class Prompt:
    """The instruction text of one harness task, for video alone and with a caption.

    Attributes
    ----------
    task : one of ``HARNESS_TASKS``; decides how the answer is read.
    video : template used without a caption; may use ``{fps}``.
    video_caption : template used with a caption; must use ``{caption}``, may use ``{fps}``.
    """

    task: str
    video: str
    video_caption: str

    def __post_init__(self) -> None:
        if self.task not in HARNESS_TASKS:
            raise PromptError(f"unknown harness task {self.task!r}; choose one of {HARNESS_TASKS}")
        for name, allowed in _FIELDS.items():
            template = getattr(self, name)
            try:
                used = {field for _, field, _, _ in string.Formatter().parse(template) if field}
            except ValueError as err:  # an unmatched brace
                raise PromptError(
                    f"the {name!r} template of the {self.task!r} prompt is not a valid "
                    f"str.format template ({err}); write literal braces as {{{{ and }}}}"
                ) from None
            unknown = used - allowed
            if unknown:
                raise PromptError(
                    f"the {name!r} template of the {self.task!r} prompt uses the field(s) "
                    f"{sorted(unknown)}; it may use only {sorted(allowed)} (write literal "
                    "braces, as in a JSON example, doubled: {{ and }})"
                )
        if "caption" not in {
            field for _, field, _, _ in string.Formatter().parse(self.video_caption) if field
        }:
            raise PromptError(
                f"the 'video_caption' template of the {self.task!r} prompt must contain "
                "{caption}, where the English translation goes"
            )

    @property
    def sha256(self) -> str:
        """Hex digest of the task and both templates: names this wording in a run's records."""
        blob = json.dumps(
            {"task": self.task, "video": self.video, "video_caption": self.video_caption},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def render(self, *, fps: float, caption: str | None = None) -> str:
        """The exact text sent to the model.

        Parameters
        ----------
        fps : the sampling rate in frames per second, written as e.g. "10" or "2.5".
        caption : the clip's English translation, or None for video alone. Inserted as given
            (surrounding whitespace stripped); braces in it are not read as fields.
        """
        if caption is None:
            return self.video.format(fps=f"{fps:g}")
        return self.video_caption.format(fps=f"{fps:g}", caption=caption.strip())


# --- the default wording -------------------------------------------------------------------

_FRAMES = (
    "The images above are frames from a video of one person signing in American Sign "
    "Language (ASL), sampled at {fps} frames per second and shown in order; the text before "
    "each image is its time in seconds."
)
_CAPTION = 'The English translation of the signing is: "{caption}"'
_CUES = (
    "Take into account the signer's face (eyebrows, eyes, mouth), head and body (tilts, "
    "nods, shakes, leaning, shoulders), the way the signs are made (size, speed, repetition, "
    "emphasis, holds) and what is being signed."
)


def _emotion_description(emotion: vocab.Emotion) -> str:
    # The two surprise keys are not self-explanatory; the others are plain words.
    valence = {"surprise_pos": "surprise, positive", "surprise_neg": "surprise, negative"}
    note = valence.get(emotion.name)
    return f'"{emotion.name}"' + (f" ({note})" if note else "")


def _joint_body() -> str:
    keys = ", ".join(_emotion_description(e) for e in vocab.EMOTIONS)
    skeleton = ", ".join(
        ['"sentiment": <integer>', *(f'"{e.name}": <integer>' for e in vocab.EMOTIONS)]
        + ['"explanation": "<two sentences>"']
    )
    # Literal JSON braces are doubled: the result is itself a str.format template.
    return (
        "Rate the emotion the signer expresses. " + _CUES + "\n\n"
        "Reply with one JSON object and no other text, with these keys:\n"
        f'- "sentiment": an integer from {vocab.SENTIMENT_MIN} (extremely negative) to '
        f"{vocab.SENTIMENT_MAX} (extremely positive); 0 means neutral.\n"
        f"- one key for each of these ten emotions: {keys}; each an integer from "
        f"{vocab.INTENSITY_MIN} (not present at all) to {vocab.INTENSITY_MAX} (extremely "
        "present).\n"
        '- "explanation": two sentences saying which moments, facial and body cues and '
        "signs carry the emotion.\n\n"
        f"Format: {{{{{skeleton}}}}}"
    )


def _sentiment_body() -> str:
    phrases = ", ".join(level.phrase for level in vocab.SENTIMENT_LEVELS)
    return (
        "What is the overall sentiment of what the signer expresses? " + _CUES + "\n\n"
        f"Reply with exactly one of these seven phrases and nothing else: {phrases}."
    )


def _emotion_body() -> str:
    names = ", ".join(e.paper_name for e in vocab.EMOTIONS)
    neutral = vocab.EXPRESSION_CLASSES[-1].paper_name
    return (
        "Which single emotion does the signer express most strongly? " + _CUES + "\n\n"
        f"Choose one of: {names}. If the signer expresses none of them, choose {neutral}. "
        "Reply with that one emotion and nothing else."
    )


def _prompt(task: str, opening: str, body: str) -> Prompt:
    return Prompt(
        task=task,
        video=f"{opening}\n\n{body}",
        video_caption=f"{opening}\n\n{_CAPTION}\n\n{body}",
    )


_BODIES = {"joint": _joint_body(), "sentiment": _sentiment_body(), "emotion": _emotion_body()}

#: The wording the harness uses unless given another :class:`Prompt`.
DEFAULT_PROMPTS: Mapping[str, Prompt] = {
    task: _prompt(task, _FRAMES, body) for task, body in _BODIES.items()
}

#: The same questions for harnesses that hand the model the video file and let it sample
#: the frames (lmms-eval): no sampling rate, no timestamps.
VIDEO_FILE_PROMPTS: Mapping[str, Prompt] = {
    task: _prompt(task, "The video shows one person signing in American Sign Language (ASL).", body)
    for task, body in _BODIES.items()
}
