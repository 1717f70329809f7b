"""Floors: what a model gets without looking at the clip. All seeded.

Expected scores with class priors p_k (from the training clips) over K classes, n test clips:

=================  ==========================  ===========================
floor              accuracy                    balanced accuracy (wAcc)
=================  ==========================  ===========================
majority           p_max (on the test prior)   1 / K (recall 1 on one class)
constant c         p_c                         1 / K
uniform random     1 / K (expected)            1 / K (expected)
label-prior random sum_k p_k q_k (expected)    1 / K (expected)
=================  ==========================  ===========================

where q is the test prior. Balanced accuracy is the same 1/K for all of them, which is why
the paper's wAcc of 33.33 (3-class) and 14.29 (7-class) marks a model that answered one
class throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from emosign.baselines.registry import Baseline, Example, register
from emosign.errors import InputError
from emosign.vocab import NEUTRAL

__all__ = [
    "Constant",
    "Majority",
    "RandomGuess",
]


@dataclass
class Majority:
    """Predicts the most frequent training class (the lowest index on a tie)."""

    label: int = field(default=0, init=False)

    def fit(self, examples: Sequence[Example], y: np.ndarray, classes: Sequence[str]) -> Majority:
        self.label = int(np.argmax(np.bincount(y, minlength=len(classes))))
        return self

    def predict(self, examples: Sequence[Example]) -> np.ndarray:
        return np.full(len(examples), self.label)


@dataclass
class Constant:
    """Always predicts the class called ``name``."""

    name: str
    label: int = field(default=0, init=False)

    def fit(self, examples: Sequence[Example], y: np.ndarray, classes: Sequence[str]) -> Constant:
        if self.name not in classes:
            raise InputError(f"constant class {self.name!r} is not one of {list(classes)}")
        self.label = list(classes).index(self.name)
        return self

    def predict(self, examples: Sequence[Example]) -> np.ndarray:
        return np.full(len(examples), self.label)


@dataclass
class RandomGuess:
    """Draws each prediction at random: uniformly over the classes, or from the training prior."""

    seed: int
    stratified: bool
    probabilities: np.ndarray | None = field(default=None, init=False)

    def fit(self, examples: Sequence[Example], y: np.ndarray, classes: Sequence[str]) -> RandomGuess:
        n = len(classes)
        counts = np.bincount(y, minlength=n) if self.stratified else np.ones(n)
        self.probabilities = counts / counts.sum()
        return self

    def predict(self, examples: Sequence[Example]) -> np.ndarray:
        # Seeded per clip name, so a clip's guess does not depend on which fold it sits in.
        assert self.probabilities is not None, "predict before fit"
        out = []
        for example in examples:
            rng = np.random.default_rng([self.seed, _stable_hash(example.video_name)])
            out.append(rng.choice(len(self.probabilities), p=self.probabilities))
        return np.array(out, dtype=int)


def _stable_hash(text: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


register(Baseline("majority", "the most frequent class of the training clips", "floor",
                  frozenset({"labels"}), learned=True, make=lambda seed: Majority()))
register(Baseline("prior_random", "random class drawn from the training clips' label prior",
                  "floor", frozenset({"labels"}), learned=True,
                  make=lambda seed: RandomGuess(seed, stratified=True)))
register(Baseline("constant_neutral", "always the neutral class (a model that sees no emotion)",
                  "floor", frozenset({"labels"}), learned=False,
                  make=lambda seed: Constant(NEUTRAL),
                  tasks=frozenset({"sentiment_7", "sentiment_3", "emotion_single"})))
register(Baseline("uniform_random", "random class drawn uniformly", "floor",
                  frozenset({"labels"}), learned=False,
                  make=lambda seed: RandomGuess(seed, stratified=False)))
