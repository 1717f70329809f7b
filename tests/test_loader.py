"""The datasets builder and load_emosign (emosign.loader)."""

from __future__ import annotations

import shutil
from collections import Counter

import datasets
import pytest
from conftest import (
    SYNTHETIC_EXCLUDED,
    SYNTHETIC_MULTI,
    SYNTHETIC_ROWS,
    SYNTHETIC_SINGLE,
    label_row,
    write_label_file,
    write_mp4,
)

from emosign import EmoSign, load_emosign, vocab
from emosign.loader import to_frame


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "hf_cache"


def test_clips_config_has_every_label(labels_file, cache):
    ds = load_emosign("clips", labels_file=labels_file, cache_dir=cache)
    assert list(ds) == ["test"]
    test = ds["test"]
    assert test.num_rows == len(SYNTHETIC_ROWS)
    features = test.features
    assert features["signer"].names == list(vocab.SIGNERS)
    assert features["sentiment_7"].names == list(vocab.SENTIMENT_7_NAMES)
    assert features["sentiment_3"].names == ["negative", "neutral", "positive"]
    assert features["single_label"].names == list(vocab.SINGLE_EXPRESSION_NAMES)

    frame = to_frame(test).set_index("video_name")
    ben = frame.loc["10-Ben-Conclusion_1001"]
    assert ben["signer"] == "Ben" and ben["utterance_id"] == "1001"
    assert ben["sentiment"] == 2 and ben["sentiment_7"] == "moderately_positive"
    assert ben["joy"] == 2 and ben["excited"] == 3 and bool(ben["joy_present"])
    assert not bool(ben["anger_present"])
    assert ben["single_label"] == "happiness" and ben["expression_set"] == "single"
    assert ben["video"] is None and ben["caption"] is None
    multi = frame.loc["Cory_2013-6-27_sc108_1008"]
    assert multi["single_label"] is None and multi["multi_label"] == "worry+sadness"
    assert multi["dominant_emotions"] == ["worry", "sadness"]
    assert frame.loc["Jonathan_2012-11-27_sc93_1005", "cues"] == ["raised brows", "", "x y"]


def test_task_views(labels_file, cache):
    sentiment = load_emosign("sentiment", labels_file=labels_file, cache_dir=cache)["test"]
    assert sentiment.num_rows == len(SYNTHETIC_ROWS)
    assert {"sentiment", "sentiment_7", "sentiment_3"} <= set(sentiment.column_names)
    assert "joy" not in sentiment.column_names

    single = load_emosign("single_expression", labels_file=labels_file, cache_dir=cache)["test"]
    assert single.features["label"].names == list(vocab.SINGLE_EXPRESSION_NAMES)
    assert dict(zip(single["video_name"], single.features["label"].int2str(list(single["label"])))) == SYNTHETIC_SINGLE

    multi = load_emosign("multi_expression", labels_file=labels_file, cache_dir=cache)["test"]
    assert multi.features["label"].names == ["worry+sadness"]
    frame = to_frame(multi)
    assert dict(zip(frame["video_name"], frame["label"])) == SYNTHETIC_MULTI
    assert all(e == ["worry", "sadness"] for e in frame["emotions"])


def test_unknown_config_is_refused(labels_file, cache):
    with pytest.raises(ValueError, match="unknown EmoSign config 'emotions'.*single_expression"):
        load_emosign("emotions", labels_file=labels_file, cache_dir=cache)


def test_second_load_comes_from_the_cache(labels_file, cache, monkeypatch):
    first = load_emosign("clips", labels_file=labels_file, cache_dir=cache)["test"]

    def no_generation(self):
        raise AssertionError("the warm load regenerated the examples")

    monkeypatch.setattr(EmoSign, "_generate_examples", no_generation)
    second = load_emosign("clips", labels_file=labels_file, cache_dir=cache)["test"]
    assert second.cache_files == first.cache_files
    assert second["video_name"] == first["video_name"]
    assert second.info.download_checksums == first.info.download_checksums


def test_changed_label_file_is_not_served_from_a_stale_cache(tmp_path, cache):
    path = write_label_file(tmp_path / "labels.csv", SYNTHETIC_ROWS)
    first = load_emosign("sentiment", labels_file=path, cache_dir=cache)["test"]
    changed = [dict(r) for r in SYNTHETIC_ROWS]
    changed[0]["Sentiment"] = "-3"
    write_label_file(path, changed)  # same path, new content
    second = load_emosign("sentiment", labels_file=path, cache_dir=cache)["test"]
    assert first["sentiment"][0] == 2 and second["sentiment"][0] == -3
    assert second.cache_files != first.cache_files


def test_label_hash_is_recorded_in_the_info(labels_file, cache):
    from emosign.hub import sha256_of

    info = load_emosign("clips", labels_file=labels_file, cache_dir=cache)["test"].info
    assert sha256_of(labels_file) in info.description
    assert [v["checksum"] for v in info.download_checksums.values()] == [sha256_of(labels_file)]


def test_environment_variable_names_the_label_file(labels_file, cache, monkeypatch):
    monkeypatch.setenv("EMOSIGN_LABELS", str(labels_file))
    assert load_emosign("sentiment", cache_dir=cache)["test"].num_rows == len(SYNTHETIC_ROWS)


def test_invalid_label_file_fails_before_datasets_sees_it(tmp_path, cache):
    path = write_label_file(tmp_path / "bad.csv", [label_row("Cory_1", 7)])
    with pytest.raises(ValueError, match=r"row 1 \(Cory_1\)"):
        load_emosign("clips", labels_file=path, cache_dir=cache)
    assert not (cache / "emosign").exists()


# --- videos and captions -------------------------------------------------------------------


@pytest.fixture
def video_dir(tmp_path):
    """Three layouts: <id>/crop_original_video.mp4, <id>.mp4, <video_name>.mp4; the rest missing."""
    root = tmp_path / "asllrp"
    clip = write_mp4(root / "1001" / "crop_original_video.mp4", seconds=0.5)
    shutil.copy(clip, root / "1002.mp4")
    shutil.copy(clip, root / "Cory_2013-6-27_sc107_1003.mp4")
    return root


def test_videos_are_matched_by_utterance_id(labels_file, cache, video_dir):
    with pytest.warns(UserWarning, match=f"{len(SYNTHETIC_ROWS) - 3} .*Jonathan_2012-11-27_sc93_1004"):
        ds = load_emosign("clips", labels_file=labels_file, video_dir=video_dir, cache_dir=cache)
    videos = dict(zip(ds["test"]["video_name"], ds["test"]["video"]))
    assert videos["10-Ben-Conclusion_1001"] == str((video_dir / "1001" / "crop_original_video.mp4").resolve())
    assert videos["Cory_2013-6-27_sc107_1002"] == str((video_dir / "1002.mp4").resolve())
    assert videos["Cory_2013-6-27_sc107_1003"].endswith("Cory_2013-6-27_sc107_1003.mp4")
    assert sum(v is None for v in videos.values()) == len(SYNTHETIC_ROWS) - 3


def test_missing_videos_are_counted_over_the_configs_clips(labels_file, cache, video_dir):
    # 1001, 1002 and 1003 have videos and are single-expression clips; 1004 is one too.
    with pytest.warns(UserWarning) as caught:
        load_emosign("single_expression", labels_file=labels_file, video_dir=video_dir, cache_dir=cache)
    (message,) = [str(w.message) for w in caught if "no video file" in str(w.message)]
    assert message.startswith(f"{len(SYNTHETIC_SINGLE) - 3} of {len(SYNTHETIC_SINGLE)} clips have no video")
    assert "Jonathan_2012-11-27_sc93_1004" in message
    assert not any(name in message for name in SYNTHETIC_EXCLUDED)


def test_missing_videos_can_be_an_error(labels_file, cache, video_dir):
    with pytest.raises(FileNotFoundError, match="Jonathan_2012-11-27_sc93_1004"):
        load_emosign(
            "clips", labels_file=labels_file, video_dir=video_dir, on_missing="error", cache_dir=cache
        )


def test_new_videos_are_not_hidden_by_the_cache(labels_file, cache, video_dir):
    with pytest.warns(UserWarning):
        before = load_emosign("sentiment", labels_file=labels_file, video_dir=video_dir, cache_dir=cache)
    shutil.copy(video_dir / "1002.mp4", video_dir / "1004.mp4")
    with pytest.warns(UserWarning):
        after = load_emosign("sentiment", labels_file=labels_file, video_dir=video_dir, cache_dir=cache)
    assert before["test"]["video"][3] is None and after["test"]["video"][3] is not None


def test_captions_fill_the_caption_column(labels_file, cache, tmp_path):
    captions = tmp_path / "captions.csv"
    captions.write_text("utterance_id,caption\n1001,I went home.\n999999,not an EmoSign clip\n")
    # Counted over the config's clips, not all of the label file's.
    with pytest.warns(UserWarning, match=f"{len(SYNTHETIC_SINGLE) - 1} clip"):
        ds = load_emosign("single_expression", labels_file=labels_file, captions_file=captions, cache_dir=cache)
    caption = dict(zip(ds["test"]["video_name"], ds["test"]["caption"]))
    assert caption["10-Ben-Conclusion_1001"] == "I went home."
    assert caption["Cory_2013-6-27_sc107_1002"] is None


# --- the released labels -------------------------------------------------------------------


def test_real_labels_configs(real_labels, cache):
    clips = load_emosign("clips", labels_file=real_labels, cache_dir=cache)["test"]
    assert clips.num_rows == 200
    signer = clips.features["signer"]
    assert Counter(signer.int2str(list(clips["signer"]))) == {
        "Cory": 87, "Jonathan": 54, "Rachel": 52, "Ben": 7,
    }
    single = load_emosign("single_expression", labels_file=real_labels, cache_dir=cache)["test"]
    assert single.num_rows == 140
    assert len(set(single["label"])) == 10
    multi = load_emosign("multi_expression", labels_file=real_labels, cache_dir=cache)["test"]
    assert multi.num_rows == 37
    assert isinstance(multi.features["label"], datasets.ClassLabel)
