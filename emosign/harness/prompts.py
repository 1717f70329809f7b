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
(the sampling rate, e.g. "10"), ``{video_name}`` (the clip's name, which the paper's joint
answer echoes as ``filename``) and, in the caption template only, ``{caption}``; literal
braces are doubled. Pass your own :class:`Prompt`, or a prompt file
(:func:`read_prompt_file`, TOML or YAML), to change the wording: a run records the exact
text it sent and its sha256, so results from different wordings are never mixed up.

Two **protocols** (:data:`PROTOCOLS`) bundle the prompts with the sampling they were meant
for. Both ask in this project's words and offer the paper's label sets:

=====================  ==================================  ==================================
                       ``emosign`` (default)               ``paper``
=====================  ==================================  ==================================
frames                 10 fps, at most 48 (thinned)        10 fps, no cap
emotion prompt         the ten emotions by their capital-  the ten emotions as the paper
                       ised names, or Neutral; one name    spells them, no Neutral; one label
                                                           in square brackets, ``[joy]``
joint answer keys      ``sentiment``, ``joy`` ...          ``filename``, ``Sentiment``, the
                       ``anger`` (the label file's         ten names as the paper spells
                       columns), ``explanation``;          them, ``QA``; every value a string
                       numbers as numbers
sentiment prompt       the paper's seven phrases           the paper's seven phrases
caption                inside the prompt                   inside the prompt
=====================  ==================================  ==================================

For a harness that hands the model the video file and lets it sample the frames (lmms-eval),
:func:`video_file_prompts` gives a protocol's prompts with an opening that names neither a
sampling rate nor timestamps; the protocol's frame sampling is then the model's own setting.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import re
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from emosign import vocab
from emosign._io import read_regular_file
from emosign.errors import InputError

__all__ = [
    "DEFAULT_PROMPTS",
    "DEFAULT_PROTOCOL",
    "EMOSIGN_MAX_FRAMES",
    "FROM_PROTOCOL",
    "HARNESS_TASKS",
    "INPUTS",
    "MAX_PROMPT_FILE_BYTES",
    "PAPER_PROMPTS",
    "PAPER_VIDEO_FILE_PROMPTS",
    "PROMPT_FILE_FORMATS",
    "PROMPT_FILE_KEYS",
    "PROTOCOLS",
    "PROTOCOL_NAMES",
    "SCORED_TASKS",
    "VIDEO_FILE_PROMPTS",
    "FromProtocol",
    "Prompt",
    "PromptError",
    "PromptFile",
    "Protocol",
    "get_protocol",
    "read_prompt_file",
    "video_file_prompts",
]

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


#: A prompt is a few kB; a larger file is a mistake, refused before it is read, and a
#: template that would render more (padding its fields) is refused when it is made.
MAX_PROMPT_FILE_BYTES = 1_000_000
_FIELDS = {"video": {"fps", "video_name"}, "video_caption": {"fps", "video_name", "caption"}}


class PromptError(InputError):
    """A prompt template that cannot be rendered."""


@dataclass(frozen=True)
class Prompt:
    """The instruction text of one harness task, for video alone and with a caption.

    Parameters
    ----------
    task : str
        One of ``HARNESS_TASKS``; decides how the answer is read.
    video : str
        The template used without a caption; may use ``{fps}`` and ``{video_name}``.
    video_caption : str
        The template used with a caption; must use ``{caption}``, may use ``{fps}`` and
        ``{video_name}``.

    Raises
    ------
    PromptError
        If a template cannot be rendered (an unknown field, an unmatched brace, a caption
        template without ``{caption}``).
    """

    task: str
    video: str
    video_caption: str

    def __post_init__(self) -> None:
        if self.task not in HARNESS_TASKS:
            raise PromptError(f"unknown harness task {self.task!r}; choose one of {HARNESS_TASKS}")
        for name, allowed in _FIELDS.items():
            _check_template(getattr(self, name), f"the {name!r} template of the "
                            f"{self.task!r} prompt", allowed)
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

    def render(
        self, *, fps: float, caption: str | None = None, video_name: str | None = None
    ) -> str:
        """The exact text sent to the model.

        Parameters
        ----------
        fps : float
            The sampling rate in frames per second, written as e.g. "10" or "2.5".
        caption : str, optional
            The clip's English translation, or None for video alone. Inserted as given
            (surrounding whitespace stripped); braces in it are not read as fields.
        video_name : str, optional
            The clip's name, for a template that uses ``{video_name}`` (required then,
            ignored otherwise).

        Returns
        -------
        str

        Raises
        ------
        PromptError
            If the template uses ``{video_name}`` and none is given.
        """
        template = self.video if caption is None else self.video_caption
        if video_name is None and "video_name" in _fields_of(template):
            raise PromptError(
                f"the {self.task!r} prompt uses {{video_name}}: pass the clip's video_name"
            )
        values = {"fps": f"{fps:g}", "video_name": video_name or ""}
        if caption is not None:
            values["caption"] = caption.strip()
        return template.format(**values)


def _fields_of(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


# A standard format spec, as str.format reads one: [[fill]align][sign][z][#][0][width]
# [grouping][.precision][type].
_FORMAT_SPEC = re.compile(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d+)?[,_]?(?:\.(?P<precision>\d+))?[a-zA-Z%]?",
    re.DOTALL,
)
# Stand-ins for the values a field may be given (all text), to try each field's format.
_SAMPLE_VALUES = {"fps": "10", "video_name": "clip", "caption": "a caption"}


def _check_template(template: str, what: str, allowed: set[str]) -> None:
    """Refuse a template that would fail, or swell, when rendered: an unmatched brace, a
    positional or unknown field, a conversion other than ``!s``, ``!r``, ``!a``, a format
    spec the field's text value cannot take (``{fps:d}``), a nested field in a spec, or
    padding that would render more than :data:`MAX_PROMPT_FILE_BYTES` (``{fps:>30000000}``).
    ``what`` names the template in the message."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as err:  # an unmatched brace
        raise PromptError(
            f"{what} is not a valid str.format template ({err}); write literal braces as "
            "{{ and }}"
        ) from None
    size = 0
    for literal, field, spec, conversion in parts:
        size += len(literal.encode("utf-8"))
        if field is None:
            continue
        shown = "{" + field + (f"!{conversion}" if conversion else "") + (
            f":{spec}" if spec else "") + "}"
        if field == "" or field.isdigit():
            raise PromptError(
                f"{what} has the positional field {shown}; name the field: "
                f"{', '.join('{' + f + '}' for f in sorted(allowed))}"
            )
        if field not in allowed:
            raise PromptError(
                f"{what} uses the field(s) {[field]}; it may use only {sorted(allowed)} "
                "(write literal braces, as in a JSON example, doubled: {{ and }})"
            )
        if conversion not in (None, "s", "r", "a"):
            raise PromptError(
                f"{what}: {shown} has the conversion '!{conversion}'; only !s, !r and !a exist"
            )
        match = _FORMAT_SPEC.fullmatch(spec or "")
        if "{" in (spec or "") or match is None:
            raise PromptError(
                f"{what}: {shown} has the format spec ':{spec}', which is not one a text "
                "value takes (and may not hold a field of its own)"
            )
        width = int(match["width"]) if match["width"] else 0
        if width > MAX_PROMPT_FILE_BYTES:
            raise PromptError(
                f"{what}: {shown} pads its value to {width} characters; a rendered prompt "
                f"may hold at most {MAX_PROMPT_FILE_BYTES} bytes"
            )
        value = _SAMPLE_VALUES[field]
        value = repr(value) if conversion == "r" else ascii(value) if conversion == "a" else value
        try:
            format(value, spec or "")
        except ValueError as err:
            raise PromptError(
                f"{what}: {shown} has the format spec ':{spec}', which text cannot take "
                f"({err}); the fields are text: use {{{field}}}"
            ) from None
        size += width
        if size > MAX_PROMPT_FILE_BYTES:
            raise PromptError(
                f"{what} pads its fields to more than {MAX_PROMPT_FILE_BYTES} bytes; a rendered "
                f"prompt may hold at most {MAX_PROMPT_FILE_BYTES} bytes besides the values"
            )


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
#: the frames (lmms-eval): no sampling rate, no timestamps. The ``emosign`` protocol's; see
#: :func:`video_file_prompts` for either protocol's.
VIDEO_FILE_PROMPTS: Mapping[str, Prompt] = {
    task: _prompt(task, "The video shows one person signing in American Sign Language (ASL).", body)
    for task, body in _BODIES.items()
}


# --- the paper's protocol, in this project's words -------------------------------------------

# Every fact of the paper's prompts that is not wording (appendix A.2-A.4): the frames'
# sampling and order, the scales, the label sets and answer formats, and the joint prompt's
# persona and what it attends to.
_PAPER_FRAMES = (
    "The images above are frames sampled uniformly at {fps} frames per second from a video, "
    "shown in order, and their order matters; the text before each image is its time in "
    "seconds. The video shows a person signing one sentence in American Sign Language (ASL)."
)
# For a model handed the video file, which samples the frames itself: the same facts
# without a sampling rate or timestamps.
_PAPER_VIDEO_FILE = (
    "The video shows a person signing one sentence in American Sign Language (ASL); watch "
    "its frames in order, since their order matters."
)


def _paper_persona(opening: str) -> str:
    return (
        "You are an expert on human emotions. " + opening + " Judge the emotion from the "
        "person's face and body language and from the setting and what happens, and "
        "disregard who the person is."
    )


_PAPER_PERSONA = _paper_persona(_PAPER_FRAMES)
_PAPER_CAPTION = 'The English translation of the signed sentence is: "{caption}"'


def _paper_joint_body() -> str:
    names = ", ".join(e.prompt_name for e in vocab.EMOTIONS)
    skeleton = ", ".join(
        ['"filename": "{video_name}"', f'"Sentiment": "<{vocab.SENTIMENT_MIN} to '
         f'{vocab.SENTIMENT_MAX}>"']
        + [f'"{e.prompt_name}": "<{vocab.INTENSITY_MIN} to {vocab.INTENSITY_MAX}>"'
           for e in vocab.EMOTIONS]
        + ['"QA": "<two sentences>"']
    )
    return (
        "Answer three questions about the video.\n"
        f"1. The overall sentiment, on a scale from {vocab.SENTIMENT_MIN} (extremely "
        f"negative) to {vocab.SENTIMENT_MAX} (extremely positive): a number between "
        f"{vocab.SENTIMENT_MIN} and {vocab.SENTIMENT_MAX}.\n"
        "2. How present each of these ten emotions is, from "
        f"{vocab.INTENSITY_MIN} (not present) to {vocab.INTENSITY_MAX} (extremely present); "
        f"several may be present: {names}.\n"
        "3. Which moments, actions or cues (such as the speed of the signing, the facial "
        "expressions or what the signs say) led to your answers, in two sentences.\n\n"
        "Reply with one JSON object and no other text. Every value is a string. Its keys are "
        '"filename" (the name of the video file, {video_name}), "Sentiment" (question 1), '
        'the ten emotion names exactly as written above (question 2) and "QA" (question 3).\n'
        # Literal JSON braces are doubled: the result is itself a str.format template.
        "Format: {{" + skeleton + "}}"
    )


def _paper_sentiment_body() -> str:
    phrases = ", ".join(level.phrase for level in vocab.SENTIMENT_LEVELS)
    return (
        "Rate the overall sentiment the person expresses on a 7-point Likert scale. Answer "
        "with exactly one item of this list, which runs from the most negative to the most "
        f"positive: {phrases}."
    )


def _paper_emotion_body() -> str:
    names = ", ".join(e.prompt_name for e in vocab.EMOTIONS)
    example = vocab.EMOTIONS[0].prompt_name
    return (
        "Which emotion does the person express most? Choose exactly one label from this "
        f"list: {names}.\n"
        "Rules: give one emotion only; if several are expressed, give the most dominant one; "
        "never leave the answer empty.\n"
        f"Write the label in square brackets, for example [{example}]."
    )


_PAPER_BODIES = {
    "joint": _paper_joint_body(),
    "sentiment": _paper_sentiment_body(),
    "emotion": _paper_emotion_body(),
}


def _paper_prompts(opening: str) -> dict[str, Prompt]:
    # The joint prompt opens with the persona, the per-task prompts with the opening alone.
    return {
        task: Prompt(
            task=task,
            video=f"{first}\n\n{body}",
            video_caption=f"{first}\n\n{_PAPER_CAPTION}\n\n{body}",
        )
        for task, body in _PAPER_BODIES.items()
        for first in [_paper_persona(opening) if task == "joint" else opening]
    }


#: The paper's protocol in this project's words: see the module docstring for what differs
#: from :data:`DEFAULT_PROMPTS`.
PAPER_PROMPTS: Mapping[str, Prompt] = _paper_prompts(_PAPER_FRAMES)

#: The paper's protocol for harnesses that hand the model the video file (lmms-eval): the
#: same questions, label sets and answer formats, opened without a sampling rate or
#: timestamps, since the model samples the frames itself.
PAPER_VIDEO_FILE_PROMPTS: Mapping[str, Prompt] = _paper_prompts(_PAPER_VIDEO_FILE)


# --- protocols: prompts and sampling together ----------------------------------------------


@dataclass(frozen=True, eq=False)  # eq=False: a mapping field is not hashable
class Protocol:
    """A preset of the harness: the prompts and the sampling they are meant for.

    Parameters
    ----------
    name : str
        "emosign" or "paper".
    prompts : Mapping of str to Prompt
        Harness task -> its prompt.
    fps : float
        Frames per second sampled from each clip.
    max_frames : int or None
        The cap beyond which frames are thinned evenly; None for no cap.
    """

    name: str
    prompts: Mapping[str, Prompt]
    fps: float
    max_frames: int | None


class FromProtocol(enum.Enum):
    """The type of :data:`FROM_PROTOCOL`."""

    PROTOCOL = "the protocol's"


#: For ``FrameConfig(fps=..., max_frames=...)`` (:mod:`emosign.harness.config`): take the
#: value from the chosen protocol (None already means "no frame cap").
FROM_PROTOCOL = FromProtocol.PROTOCOL

#: The default frame cap of the ``emosign`` protocol: 4.8 s at 10 fps, the average clip.
EMOSIGN_MAX_FRAMES = 48

PROTOCOLS: Mapping[str, Protocol] = MappingProxyType({
    "emosign": Protocol("emosign", MappingProxyType(dict(DEFAULT_PROMPTS)), 10.0,
                        EMOSIGN_MAX_FRAMES),
    "paper": Protocol("paper", MappingProxyType(dict(PAPER_PROMPTS)), 10.0, None),
})
PROTOCOL_NAMES: tuple[str, ...] = tuple(PROTOCOLS)
DEFAULT_PROTOCOL = "emosign"


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``.

    Parameters
    ----------
    name : str
        One of :data:`PROTOCOL_NAMES`.

    Returns
    -------
    Protocol

    Raises
    ------
    InputError
        If there is none of that name; the message names the choices.
    """
    try:
        return PROTOCOLS[name]
    except (KeyError, TypeError):
        raise InputError(
            f"unknown protocol {name!r}; choose one of {list(PROTOCOL_NAMES)}"
        ) from None


_VIDEO_FILE_PROMPTS: Mapping[str, Mapping[str, Prompt]] = MappingProxyType({
    "emosign": MappingProxyType(dict(VIDEO_FILE_PROMPTS)),
    "paper": MappingProxyType(dict(PAPER_VIDEO_FILE_PROMPTS)),
})


def video_file_prompts(protocol: str) -> Mapping[str, Prompt]:
    """The protocol's prompts for a model handed the video file (harness task -> prompt).

    What lmms-eval sends: the protocol's questions, label sets and answer formats, opened
    without a sampling rate or frame timestamps (render them with any ``fps``; it is not
    used). The frame sampling of the protocol is not part of them: the model does its own.

    Parameters
    ----------
    protocol : str
        One of :data:`PROTOCOL_NAMES`.

    Returns
    -------
    Mapping of str to Prompt

    Raises
    ------
    InputError
        If there is no such protocol; the message names the choices.
    """
    return _VIDEO_FILE_PROMPTS[get_protocol(protocol).name]


# --- prompt files --------------------------------------------------------------------------

#: The keys of a prompt file, all required, no others.
PROMPT_FILE_KEYS: tuple[str, ...] = ("task", "video", "video_caption")
#: Suffixes read, and as what.
PROMPT_FILE_FORMATS: Mapping[str, str] = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML"}


@dataclass(frozen=True)
class PromptFile:
    """A prompt read from a file: where it came from, the file's sha256, the prompt.

    Parameters
    ----------
    path : str
        The file, as given.
    sha256 : str
        The sha256 of its bytes.
    prompt : Prompt
        The prompt it holds.
    """

    path: str
    sha256: str
    prompt: Prompt


def read_prompt_file(path: str | os.PathLike) -> PromptFile:
    """Read a prompt from a TOML or YAML file.

    The file holds exactly three string keys: ``task`` (a harness task: joint, sentiment or
    emotion), ``video`` (the template for video alone) and ``video_caption`` (the template
    with the caption; it must contain ``{caption}``). Templates are ``str.format`` strings:
    see :class:`Prompt` for their fields. For example, in TOML::

        task = "emotion"
        video = "Frames at {fps} fps. Which emotion? Answer in brackets, e.g. [joy]."
        video_caption = "Frames at {fps} fps. Translation: {caption}. Which emotion?"

    Parameters
    ----------
    path : path
        A ``.toml``, ``.yaml`` or ``.yml`` file.

    Returns
    -------
    PromptFile

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    PromptError
        If it is not a regular file, larger than 1 MB, not UTF-8, not valid TOML/YAML, or
        its keys or templates are wrong; the message names the file.
    """
    path = Path(path)
    kind = PROMPT_FILE_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise PromptError(
            f"prompt file {path}: cannot tell its format from the suffix {path.suffix!r}; "
            f"use one of {list(PROMPT_FILE_FORMATS)}"
        )
    # The project's one reader of input files: a FIFO or a device is refused, not waited on.
    data = read_regular_file(path, what="prompt file", error=PromptError,
                             max_bytes=MAX_PROMPT_FILE_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise PromptError(
            f"prompt file {path} is not UTF-8 text (invalid byte at offset {err.start})"
        ) from None
    content = _parse_toml(text, path) if kind == "TOML" else _parse_yaml(text, path)
    if not isinstance(content, dict):
        raise PromptError(
            f"prompt file {path} must hold the keys {list(PROMPT_FILE_KEYS)}, not a "
            f"{type(content).__name__}"
        )
    unknown = sorted(str(k) for k in content if k not in PROMPT_FILE_KEYS)
    missing = [k for k in PROMPT_FILE_KEYS if k not in content]
    if unknown or missing:
        problems = ([f"missing {missing}"] if missing else []) + (
            [f"unknown {unknown}"] if unknown else []
        )
        raise PromptError(
            f"prompt file {path}: {'; '.join(problems)} (its keys are exactly "
            f"{list(PROMPT_FILE_KEYS)})"
        )
    not_text = [k for k in PROMPT_FILE_KEYS if not isinstance(content[k], str)]
    if not_text:
        raise PromptError(f"prompt file {path}: {not_text} must be text")
    try:
        prompt = Prompt(task=content["task"], video=content["video"],
                        video_caption=content["video_caption"])
    except PromptError as err:
        raise PromptError(f"prompt file {path}: {err}") from None
    return PromptFile(path=str(path), sha256=hashlib.sha256(data).hexdigest(), prompt=prompt)


def _parse_toml(text: str, path: Path) -> object:
    # Chosen at the call, by the running version: tomli is the extra of Python 3.10 only.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10 (tested by faking the version)
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PromptError(f"prompt file {path} is not valid TOML: {err}") from None
    except RecursionError:
        raise PromptError(f"prompt file {path} nests too deeply to read") from None


def _parse_yaml(text: str, path: Path) -> object:
    # ~10 ms (measured), and every `emosign` command imports this module: only when read.
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        """safe_load's loader, refusing a key given twice in one mapping (PyYAML keeps the
        last one silently)."""

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[object] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:  # an unhashable key: the base loader says so
                    continue
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is given twice", key_node.start_mark
                    )
            return super().construct_mapping(node, deep=deep)

    try:
        return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except RecursionError:
        raise PromptError(f"prompt file {path} nests too deeply to read") from None
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        problem = getattr(err, "problem", None) or type(err).__name__
        raise PromptError(f"prompt file {path} is not valid YAML: {problem}{at}") from None
