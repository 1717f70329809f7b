"""Reading, validating and deriving labels (emosign.labels, emosign.vocab)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import (
    SYNTHETIC_EXCLUDED,
    SYNTHETIC_MULTI,
    SYNTHETIC_ROWS,
    SYNTHETIC_SINGLE,
    label_row,
    write_label_file,
)

from emosign import vocab
from emosign.labels import LabelFileError, read_labels, source_video
from emosign.paper import reported_results


def test_vocabulary_scales():
    assert len(vocab.EMOTION_NAMES) == 10 and len(set(vocab.EMOTION_NAMES)) == 10
    assert [vocab.sentiment_7(v) for v in (-3, 0, 3)] == [
        "extremely_negative",
        "neutral",
        "extremely_positive",
    ]
    assert [vocab.sentiment_3(v) for v in range(-3, 4)] == ["negative"] * 3 + ["neutral"] + [
        "positive"
    ] * 3
    with pytest.raises(ValueError, match="outside"):
        vocab.sentiment_3(4)
    assert vocab.merged_intensities((1, 3, 0, 0, 0, 0, 0, 0, 0, 2))[0] == 3
    assert vocab.dominant_emotions((0,) * 10) == ("neutral",)
    assert vocab.dominant_emotions((2, 0, 2, 0, 0, 0, 0, 0, 0, 0)) == ("happiness", "surprise_pos")
    assert vocab.combination_name(["sadness", "worry"]) == "worry+sadness"


def test_synthetic_labels_are_derived(labels_file):
    labels = read_labels(labels_file)
    assert len(labels) == len(SYNTHETIC_ROWS)
    by_name = {c.video_name: c for c in labels}
    assert {n: c.single_label for n, c in by_name.items() if c.single_label} == SYNTHETIC_SINGLE
    assert {n: c.multi_label for n, c in by_name.items() if c.multi_label} == SYNTHETIC_MULTI
    assert {n for n, c in by_name.items() if c.expression_set == "excluded"} == SYNTHETIC_EXCLUDED
    assert labels.multi_expression_classes == ("worry+sadness",)

    ben = by_name["10-Ben-Conclusion_1001"]
    assert (ben.signer, ben.utterance_id, ben.sentiment, ben.sentiment_3) == ("Ben", "1001", 2, "positive")
    assert ben.intensity("joy") == 2 and ben.intensity("excited") == 3  # paper scale, not 1...4
    assert ben.present[:3] == (True, True, False)
    # Both Rachel sessions are one signer.
    assert {by_name[n].signer for n in by_name if n.startswith("Rachel")} == {"Rachel"}
    # Whitespace collapsed, text otherwise untouched, empty kept: always three descriptions.
    assert by_name["Jonathan_2012-11-27_sc93_1005"].cues == ("raised brows", "", "x y")
    assert labels.source.origin == "local" and len(labels.source.sha256) == 64


def _write(tmp_path, rows, columns=vocab.LABEL_FILE_COLUMNS) -> Path:
    return write_label_file(tmp_path / "bad.csv", rows, columns)


@pytest.mark.parametrize(
    "row, fragment",
    [
        (label_row("Cory_2013_1", 4), "Sentiment='4' is not an integer in -3...3"),
        (label_row("Cory_2013_1", 1, joy=4), "joy='5' is not an integer in 1...4"),
        ({**label_row("Cory_2013_1"), "anger": "0"}, "anger='0'"),
        ({**label_row("Cory_2013_1"), "fear": ""}, "fear=''"),
        ({**label_row("Cory_2013_1"), "Sentiment": "nan"}, "Sentiment='nan'"),
        (label_row("Cory_2013_abc"), "does not end in an ASLLRP utterance id"),
        (label_row("Someone_2013_12"), "names none of the signers"),
        (label_row("../../etc/Cory_2013_12"), "may only hold letters"),
        (label_row("/abs/Cory_12"), "may only hold letters"),
        (label_row(""), "video_name is empty"),
    ],
)
def test_bad_rows_are_refused_and_named(tmp_path, row, fragment):
    path = _write(tmp_path, [label_row("Cory_2013_99"), row])
    with pytest.raises(LabelFileError) as err:
        read_labels(path)
    assert fragment in str(err.value)
    assert "row 2" in str(err.value)
    assert "nothing was loaded" in str(err.value)


def test_a_long_list_of_bad_rows_is_cut_short_and_kept_whole_in_a_file(tmp_path):
    rows = [label_row(f"Cory_{k}", 9) for k in range(1, 301)]
    with pytest.raises(LabelFileError) as err:
        read_labels(_write(tmp_path, rows))
    message = str(err.value)
    assert "300 invalid row(s)" in message and len(message.splitlines()) < 20
    listed = Path(re.search(r"all 300 are listed in (\S+)", message).group(1))
    assert listed.parent != tmp_path  # never beside the input
    full = listed.read_text()
    assert all(f"row {k} (Cory_{k})" in full for k in range(1, 301))


def test_every_offending_row_is_listed(tmp_path):
    rows = [label_row("Cory_1", 9), label_row("Cory_2"), label_row("Cory_3", joy=7), label_row("Cory_1")]
    with pytest.raises(LabelFileError) as err:
        read_labels(_write(tmp_path, rows))
    message = str(err.value)
    assert "row 1 (Cory_1)" in message and "row 3 (Cory_3)" in message and "row 4 (Cory_1)" in message
    assert "appears 2 times" in message
    assert "row 2" not in message


def test_duplicate_utterance_ids_are_refused(tmp_path):
    rows = [label_row("Cory_a_123"), label_row("Jonathan_b_123")]
    with pytest.raises(LabelFileError, match="utterance id 123 ends 2 video names"):
        read_labels(_write(tmp_path, rows))


def test_renamed_column_is_named(tmp_path):
    columns = [("sentiment" if c == "Sentiment" else c) for c in vocab.LABEL_FILE_COLUMNS]
    row = {("sentiment" if k == "Sentiment" else k): v for k, v in label_row("Cory_1").items()}
    with pytest.raises(LabelFileError) as err:
        read_labels(_write(tmp_path, [row], columns))
    assert "['Sentiment']" in str(err.value) and "'sentiment'" in str(err.value)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "is empty"),
        (b"   \n", "is empty"),
        (",".join(vocab.LABEL_FILE_COLUMNS).encode() + b"\n", "no rows"),
        (b"video_name,Sentiment\n\xff\xfe,1\n", "not UTF-8"),
    ],
)
def test_unreadable_files(tmp_path, content, fragment):
    path = tmp_path / "labels.csv"
    path.write_bytes(content)
    with pytest.raises(LabelFileError, match=fragment):
        read_labels(path)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_labels(tmp_path / "nope.csv")


# --- the released labels (CI sets EMOSIGN_LABELS) ------------------------------------------


def test_real_labels_reproduce_the_paper_sets(real_labels):
    labels = read_labels(real_labels)
    assert len(labels) == 200
    assert Counter(c.signer for c in labels) == {"Cory": 87, "Jonathan": 54, "Rachel": 52, "Ben": 7}
    assert sum(c.sentiment == 0 for c in labels) == 3

    supports = Counter(c.single_label for c in labels if c.single_label)
    # The class sizes Table 4's percentages allow, shipped with the package (emosign.paper):
    # the test reads nothing beside the label file.
    reported = reported_results()["single_expression_supports"]["supports"]
    assert sum(supports.values()) == sum(reported.values()) == 140
    assert {k: supports[k] for k in vocab.SINGLE_EXPRESSION_NAMES} == {
        k: reported[k] for k in vocab.SINGLE_EXPRESSION_NAMES
    }
    assert len(labels.subset("multi")) == 37
    multi = Counter(c.multi_label for c in labels.subset("multi"))
    assert min(multi.values()) >= vocab.MULTI_EXPRESSION_MIN_SUPPORT


def test_a_clips_source_video_is_its_name_without_the_utterance_id(real_labels):
    assert source_video("Cory_2013-6-27_sc114_24363254") == "Cory_2013-6-27_sc114"
    assert source_video("10-Ben-Conclusion_24363254") == "10-Ben-Conclusion"
    sources = {source_video(c.video_name) for c in read_labels(real_labels).clips}
    assert len(sources) == 22  # the recordings EmoSign's 200 clips were cut from
