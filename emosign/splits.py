"""Cross-validation folds over EmoSign clips.

EmoSign has one split, ``test``; learned baselines are scored on out-of-fold predictions.
Two schemes, both built on scikit-learn's splitters and keyed by ``video_name``:

* :func:`leave_one_signer_out`: four folds, one per signer (Ben, Cory, Jonathan, Rachel, the
  two Rachel sessions counted as one signer), so no model is tested on a signer it saw.
* :func:`stratified_k_fold`: seeded stratified k-fold on a label column; a class with fewer
  clips than folds (the 3 neutral clips of 3-class sentiment) has one clip in each of as many
  test folds as it has clips.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

from emosign.errors import InputError, UnknownNameError
from emosign.labels import Clip
from emosign.tasks import TaskData

__all__ = [
    "Fold",
    "leave_one_signer_out",
    "stratified_k_fold",
]


@dataclass(frozen=True)
class Fold:
    """One train/test partition, as video names."""

    name: str
    train: tuple[str, ...]
    test: tuple[str, ...]


def leave_one_signer_out(clips: Iterable[Clip] | Any) -> tuple[Fold, ...]:
    """One fold per signer: that signer's clips are the test set, everyone else's the train.

    ``clips`` is a :class:`emosign.labels.Labels`, a sequence of clips, a task's clips
    (:class:`emosign.tasks.TaskData`) or a ``datasets.Dataset`` of any EmoSign config (it
    needs ``video_name`` and ``signer``).
    """
    names, signers = _columns(clips, "video_name", "signer")
    folds = []
    for train, test in LeaveOneGroupOut().split(names, groups=signers):
        folds.append(_fold(f"signer={signers[test[0]]}", names, train, test))
    return tuple(folds)


def stratified_k_fold(
    clips: Iterable[Clip] | Any,
    *,
    n_splits: int = 5,
    seed: int = 0,
    stratify: str = "sentiment_3",
) -> tuple[Fold, ...]:
    """Seeded, shuffled stratified k-fold on the label column ``stratify``.

    ``stratify`` is a clip attribute (``sentiment_3``, ``sentiment_7``, ``single_label``, ...)
    or a dataset column (``label`` for the expression configs).

    **Rare classes.** A class with fewer clips than ``n_splits`` cannot be in every test fold:
    its clips go to as many different test folds as it has clips, one each, and the other
    folds have none of it. On EmoSign this is the rule, not an accident (3-class sentiment
    has 3 neutral clips; the single-expression set has 3 anger clips), so scikit-learn's
    warning about it ("The least populated class in y has only 3 members") is not passed on;
    per-fold scores on such a class are therefore undefined in some folds, which is why
    EmoSign's out-of-fold protocol scores all folds' predictions together.

    Raises
    ------
    ValueError
        ``n_splits`` is not a whole number of at least 2, or exceeds the clips.
    """
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise InputError(f"n_splits must be a whole number >= 2, not {n_splits!r}")
    names, labels = _columns(clips, "video_name", stratify)
    if n_splits > len(names):
        raise InputError(f"n_splits={n_splits} is more than the {len(names)} clips")
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # Rare classes are expected and handled as the docstring says (one clip per fold).
        warnings.filterwarnings("ignore", message="The least populated class in y has only",
                                category=UserWarning)
        splits = list(splitter.split(names, labels))
    return tuple(
        _fold(f"fold {i + 1}/{n_splits}", names, train, test)
        for i, (train, test) in enumerate(splits)
    )


def _fold(name: str, names: Sequence[str], train: np.ndarray, test: np.ndarray) -> Fold:
    return Fold(name, tuple(names[i] for i in train), tuple(names[i] for i in test))


def _columns(clips: Iterable[Clip] | Any, *columns: str) -> list[list[Any]]:
    """Columns of a dataset (ClassLabels decoded to names), of a task's clips, or attributes
    of clips."""
    if isinstance(clips, TaskData):
        by_column = {"video_name": clips.video_names, "signer": clips.signers}
        return [list(by_column[c]) for c in columns]
    features = getattr(clips, "features", None)
    if features is not None:
        missing = [c for c in columns if c not in features]
        if missing:
            raise UnknownNameError(f"the dataset has no column(s) {missing}; it has {list(features)}")
        out = []
        for column in columns:
            values = clips[column]  # type: ignore[index]  # a datasets.Dataset (it has features)
            if hasattr(features[column], "int2str"):
                values = [features[column].int2str(v) for v in values]
            out.append(list(values))
        return out
    clips = list(clips)
    return [[getattr(c, column) for c in clips] for column in columns]
