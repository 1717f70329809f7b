"""Cross-validation folds (emosign.splits)."""

from __future__ import annotations

from collections import Counter

import pytest

from emosign import load_emosign
from emosign.labels import read_labels
from emosign.splits import leave_one_signer_out, stratified_k_fold


def _check_partition(folds, names):
    tested = [n for f in folds for n in f.test]
    assert sorted(tested) == sorted(names)  # every clip is tested exactly once
    for fold in folds:
        assert not set(fold.train) & set(fold.test)
        assert set(fold.train) | set(fold.test) == set(names)


def test_leave_one_signer_out_on_clips(labels_file):
    labels = read_labels(labels_file)
    folds = leave_one_signer_out(labels)
    assert [f.name for f in folds] == ["signer=Ben", "signer=Cory", "signer=Jonathan", "signer=Rachel"]
    _check_partition(folds, [c.video_name for c in labels])
    signer = {c.video_name: c.signer for c in labels}
    for fold in folds:
        held_out = fold.name.split("=")[1]
        assert {signer[n] for n in fold.test} == {held_out}
        assert held_out not in {signer[n] for n in fold.train}


def test_folds_from_a_dataset_match_folds_from_labels(labels_file, tmp_path):
    ds = load_emosign("sentiment", labels_file=labels_file, cache_dir=tmp_path)["test"]
    assert leave_one_signer_out(ds) == leave_one_signer_out(read_labels(labels_file))
    with pytest.raises(KeyError, match="no column"):
        stratified_k_fold(ds, stratify="label")


@pytest.mark.filterwarnings("error")  # the README's call must not warn (3 neutral clips)
def test_stratified_k_fold_is_seeded_and_stratified(real_labels):
    labels = read_labels(real_labels)
    folds = stratified_k_fold(labels, n_splits=5, seed=3, stratify="sentiment_3")
    assert folds == stratified_k_fold(labels, n_splits=5, seed=3, stratify="sentiment_3")
    assert folds != stratified_k_fold(labels, n_splits=5, seed=4, stratify="sentiment_3")
    _check_partition(folds, [c.video_name for c in labels])
    polarity = {c.video_name: c.sentiment_3 for c in labels}
    negatives = [Counter(polarity[n] for n in f.test)["negative"] for f in folds]
    assert max(negatives) - min(negatives) <= 1  # 121 negatives spread 24/25 per fold


def test_real_leave_one_signer_out_sizes(real_labels):
    folds = leave_one_signer_out(read_labels(real_labels))
    assert {f.name: len(f.test) for f in folds} == {
        "signer=Ben": 7, "signer=Cory": 87, "signer=Jonathan": 54, "signer=Rachel": 52,
    }


@pytest.mark.filterwarnings("error")
def test_a_class_rarer_than_the_folds_has_one_clip_in_each_of_as_many_folds(real_labels):
    labels = read_labels(real_labels)
    folds = stratified_k_fold(labels, n_splits=5, seed=0)  # as the README calls it
    polarity = {c.video_name: c.sentiment_3 for c in labels}
    neutral_per_fold = [Counter(polarity[n] for n in f.test)["neutral"] for f in folds]
    assert sorted(neutral_per_fold) == [0, 0, 1, 1, 1]


@pytest.mark.parametrize("n_splits", [1, 0, 2.5, True])
def test_nonsense_fold_counts_are_refused(labels_file, n_splits):
    with pytest.raises(ValueError, match="n_splits must be a whole number >= 2"):
        stratified_k_fold(read_labels(labels_file), n_splits=n_splits)


def test_more_folds_than_clips_is_refused(labels_file):
    with pytest.raises(ValueError, match="n_splits=13 is more than the 12 clips"):
        stratified_k_fold(read_labels(labels_file), n_splits=13)
