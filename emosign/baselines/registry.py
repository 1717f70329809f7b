"""The baseline registry: what a baseline is, what it needs, and how to add your own.

A baseline is a :class:`Baseline` value: a name, the inputs it needs, whether it learns from
labels (then it is scored on out-of-fold predictions) and a factory ``make(seed)`` for a fresh
model. A model has ``fit(examples, y, classes)`` and ``predict(examples)``, where an
:class:`Example` is everything a baseline may see of one clip. Register your own in a module
(e.g. ``mybaseline.py``; a test runs this example)::

    import numpy as np

    from emosign.baselines.registry import Baseline, register


    class MostFrequent:
        # Answers the class seen most often in the training folds.

        def fit(self, examples, y, classes):
            self.answer = int(np.bincount(y, minlength=len(classes)).argmax())
            return self

        def predict(self, examples):
            return np.full(len(examples), self.answer)


    register(Baseline("my_majority", "the most frequent class of the training folds",
                      kind="floor", needs=frozenset({"labels"}), learned=True,
                      make=lambda seed: MostFrequent()))

and run it with ``emosign benchmark --baseline-module mybaseline --baselines my_majority``
(the module is imported first, from the current directory or the installed packages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from emosign.errors import InputError

__all__ = [
    "Baseline",
    "Example",
    "INPUTS",
    "KINDS",
    "Model",
    "REGISTRY",
    "SYSTEM_KINDS",
    "describe_inputs",
    "register",
]

#: The inputs a baseline can ask for. "labels" is always there; the others come from the
#: caller (captions file, video directory).
INPUTS: tuple[str, ...] = ("labels", "cues", "captions", "video:motion", "video:landmarks")

#: What a baseline is, which decides where leaderboards put it. A "floor" sees only the
#: training labels (chance, majority); "text" and "visual" model the caption or the video;
#: a "reference" is a point of comparison that is not a model of the clip, such as
#: ``cue_text_tfidf`` reading the annotators' own descriptions of the cues. References are
#: shown apart and never ranked with real systems.
KINDS: dict[str, str] = {
    "floor": "sees only the training labels: what chance and the label prior give",
    "text": "a model of the English caption",
    "visual": "a model of the video",
    "reference": "a point of comparison, not a model of the clip (never ranked)",
}

#: The kinds of baseline that are systems, ranked on a leaderboard; floors and references are
#: points of comparison, shown apart and never ranked.
SYSTEM_KINDS = frozenset({"text", "visual"})

#: How a leaderboard names what a system sees, by the inputs it needs.
_INPUT_NAMES = {"cues": "annotators' cue descriptions", "captions": "caption",
                "video:motion": "video", "video:landmarks": "video"}


@dataclass(frozen=True)
class Example:
    """What a baseline may see of one clip. ``features`` maps an extractor name to its vector."""

    video_name: str
    signer: str
    cues: tuple[str, ...]
    caption: str | None = None
    features: Mapping[str, np.ndarray] = field(default_factory=dict)


class Model(Protocol):
    def fit(self, examples: Sequence[Example], y: np.ndarray, classes: Sequence[str]) -> Model:
        """y: (n,) class indices into ``classes``."""
        ...

    def predict(self, examples: Sequence[Example]) -> np.ndarray:
        """(n,) class indices into the ``classes`` given to fit."""
        ...


@dataclass(frozen=True)
class Baseline:
    """A registered baseline.

    ``kind`` is one of :data:`KINDS` and decides where a leaderboard puts the baseline:
    "floor", "text", "visual", or "reference" (a point of comparison that is not a model of
    the video, such as the annotators' own descriptions; shown apart, never ranked).
    ``tasks`` limits the single-label tasks it answers (None: all).
    """

    name: str
    description: str
    kind: str
    needs: frozenset[str]
    learned: bool
    make: Callable[[int], Model]
    tasks: frozenset[str] | None = None

    def missing_inputs(self, available: frozenset[str]) -> tuple[str, ...]:
        return tuple(sorted(self.needs - available))

    @property
    def inputs(self) -> str:
        """What the baseline sees, as a leaderboard groups systems: "labels only", "video",
        "caption", "video+caption", "annotators' cue descriptions"."""
        return describe_inputs(self.needs)


def describe_inputs(needs: frozenset[str]) -> str:
    """The name of a set of :data:`INPUTS` (``"labels"`` alone is "labels only")."""
    names = sorted({_INPUT_NAMES[n] for n in needs if n in _INPUT_NAMES},
                   key=["video", "caption", "annotators' cue descriptions"].index)
    return "+".join(names) if names else "labels only"


REGISTRY: dict[str, Baseline] = {}


def register(baseline: Baseline, *, replace: bool = False) -> Baseline:
    """Add a baseline to :data:`REGISTRY` (refusing to overwrite one unless ``replace``)."""
    if baseline.kind not in KINDS:
        raise InputError(f"baseline {baseline.name!r} has kind {baseline.kind!r}; kinds are "
                         f"{list(KINDS)}")
    unknown = baseline.needs - set(INPUTS)
    if unknown:
        raise InputError(f"baseline {baseline.name!r} needs unknown input(s) {sorted(unknown)}; "
                         f"inputs are {list(INPUTS)}")
    if baseline.name in REGISTRY and not replace:
        raise InputError(f"a baseline named {baseline.name!r} is already registered")
    REGISTRY[baseline.name] = baseline
    return baseline
