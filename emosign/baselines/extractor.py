"""What a feature extractor is: one video file in, one fixed-length vector out.

The visual baselines' extractors (:data:`emosign.baselines.visual.MOTION`, and the MediaPipe
one of :mod:`emosign.baselines.landmarks`) are values of this type; the feature cache
(:func:`emosign.baselines.visual.extract_features`) keys its entries by
:meth:`FeatureExtractor.cache_identity`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emosign.errors import InputError

__all__ = ["FeatureExtractor"]


@dataclass(frozen=True)
class FeatureExtractor:
    """Turns one video file into a fixed-length feature vector.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"motion"``; also the cache sub-directory.
    version : str
        Bumped whenever the features change; part of the cache key.
    feature_names : tuple of str
        Name of each feature, in vector order.
    function : callable
        ``function(path) -> array`` doing the work.  It raises
        :class:`~emosign.video.VideoError` for a clip it cannot read.  To
        run in worker processes it must pickle: a module-level function or
        a :func:`functools.partial` of one.
    settings : frozen dataclass or None
        Every option that changes the features besides the code (sampling
        rate, working size, thresholds).  Its fields are part of the cache
        key.
    """

    name: str
    version: str
    feature_names: tuple[str, ...]
    function: Callable[[Path], np.ndarray] = field(repr=False)
    settings: Any = None

    def extract(self, path: str | os.PathLike[str]) -> np.ndarray:
        """Features of one clip.

        Returns
        -------
        x : ndarray of shape (len(feature_names),), dtype float64
            All values finite.

        Raises
        ------
        VideoError
            If the clip cannot be read.
        """
        x = np.asarray(self.function(Path(path)), dtype=np.float64)
        if x.shape != (len(self.feature_names),):
            raise InputError(
                f"extractor {self.name!r} returned shape {x.shape}, "
                f"expected ({len(self.feature_names)},)"
            )
        if not np.isfinite(x).all():
            bad = [n for n, v in zip(self.feature_names, x) if not math.isfinite(v)]
            raise InputError(f"extractor {self.name!r} returned non-finite {bad} for {path}")
        return x

    def cache_identity(self) -> dict:
        """Everything about the extractor that goes into the cache key (JSON-able)."""
        settings = self.settings
        if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
            settings = dataclasses.asdict(settings)
        return {
            "extractor": self.name,
            "version": self.version,
            "settings": settings,
            "feature_names": list(self.feature_names),
        }
