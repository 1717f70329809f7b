"""Visual baselines: a class-balanced logistic regression on per-clip video features
(:mod:`emosign.baselines.visual` extracts them: motion energy and optical flow in the face
region and the signing space; MediaPipe landmarks with the ``landmarks`` extra)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from emosign.baselines.registry import Baseline, Example, register

__all__ = [
    "FeatureClassifier",
]


@dataclass
class FeatureClassifier:
    """Standardised features of one extractor, then a class-balanced logistic regression."""

    extractor: str
    seed: int
    pipeline: Pipeline | None = field(default=None, init=False)
    only_class: int | None = field(default=None, init=False)

    def fit(self, examples: Sequence[Example], y: np.ndarray, classes: Sequence[str]) -> FeatureClassifier:
        if len(np.unique(y)) == 1:
            self.only_class = int(y[0])
            return self
        self.pipeline = make_pipeline(
            StandardScaler(),
            LogisticRegression(max_iter=5000, class_weight="balanced", C=0.5, random_state=self.seed),
        )
        self.pipeline.fit(self._matrix(examples), y)
        return self

    def predict(self, examples: Sequence[Example]) -> np.ndarray:
        if self.only_class is not None:
            return np.full(len(examples), self.only_class)
        assert self.pipeline is not None, "predict before fit"
        return self.pipeline.predict(self._matrix(examples)).astype(int)

    def _matrix(self, examples: Sequence[Example]) -> np.ndarray:
        return np.stack([e.features[self.extractor] for e in examples])


register(Baseline(
    "video_motion",
    "logistic regression on motion energy and optical flow, face region vs signing space",
    "visual", frozenset({"labels", "video:motion"}), learned=True,
    make=lambda seed: FeatureClassifier("motion", seed),
))
register(Baseline(
    "video_landmarks",
    "logistic regression on MediaPipe Holistic face, hand and body landmarks (extra 'landmarks')",
    "visual", frozenset({"labels", "video:landmarks"}), learned=True,
    make=lambda seed: FeatureClassifier("landmarks", seed),
))
