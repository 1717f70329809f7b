"""Reading predictions and aligning them with a task (emosign.predictions)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import (
    SYNTHETIC_EXCLUDED,
    SYNTHETIC_MULTI,
    SYNTHETIC_ROWS,
    SYNTHETIC_SINGLE,
)
from hypothesis import given
from hypothesis import strategies as st

from emosign import vocab
from emosign.labels import read_labels
from emosign.predictions import (
    Aligned,
    PredictionsError,
    align,
    parse_label,
    read_predictions,
)
from emosign.tasks import get_task

ALL_CLIPS = [row["video_name"] for row in SYNTHETIC_ROWS]
SINGLE_CLIPS = list(SYNTHETIC_SINGLE)
# Right on every clip but the first, which is answered "anger" instead of happiness; each
# answer worded differently, as models do.
SINGLE_ANSWERS = dict(
    zip(
        SINGLE_CLIPS,
        ["Anger", "HP", " worried.", "none", "Neutral", "angry", "Frustration", "joy"],
    )
)
SINGLE_EXPECTED = ["anger"] + [SYNTHETIC_SINGLE[n] for n in SINGLE_CLIPS[1:]]


def bind(labels_file, task: str):
    return get_task(task).bind(read_labels(labels_file))


def class_indices(data, names) -> np.ndarray:
    return np.array([data.classes.index(n) for n in names], dtype=np.intp)


def write_table(path: Path, rows: list[dict], *, delimiter: str = ",") -> Path:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def single_rows(answers: dict[str, object]) -> list[dict]:
    return [{"video_name": name, "prediction": answer} for name, answer in answers.items()]


# --- input forms -----------------------------------------------------------------------------


def test_every_input_form_aligns_the_same(labels_file, tmp_path):
    data = bind(labels_file, "emotion_single")
    rows = single_rows(SINGLE_ANSWERS)
    sources = {
        "csv": write_table(tmp_path / "p.csv", rows),
        "tsv": write_table(tmp_path / "p.tsv", rows, delimiter="\t"),
        "jsonl": tmp_path / "p.jsonl",
        "json list": tmp_path / "list.json",
        "json object": tmp_path / "object.json",
        "dict": dict(SINGLE_ANSWERS),
        "DataFrame": pd.DataFrame(rows),
        "records": rows,
    }
    sources["jsonl"].write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    sources["json list"].write_text(json.dumps(rows, indent=2))
    sources["json object"].write_text(json.dumps(SINGLE_ANSWERS))

    expected = class_indices(data, SINGLE_EXPECTED)
    for form, source in sources.items():
        predictions = read_predictions(source)
        assert list(predictions.table["video_name"]) == SINGLE_CLIPS, form
        aligned = align(predictions, data)
        np.testing.assert_array_equal(aligned.y_pred, expected, err_msg=form)
        assert aligned.y_pred.dtype == np.intp
        assert (aligned.n_given, aligned.n_outside_task) == (8, 0), form
        assert aligned.values is None and aligned.scores is None
        assert aligned.missing == aligned.unparseable == ()
    assert read_predictions(sources["csv"]).source == str(sources["csv"])
    assert read_predictions(sources["dict"]).source == "<dict>"
    assert read_predictions(sources["records"]).source == "<records>"
    assert read_predictions(sources["DataFrame"]).source == "<DataFrame>"


def test_read_keeps_cells_as_given(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("video_name,prediction,extra\n  clip_1 ,NA,\nclip_2,,007\n")
    table = read_predictions(path).table
    assert list(table["video_name"]) == ["clip_1", "clip_2"]  # stripped
    # No NaN conversion and no number parsing at read time.
    assert list(table["prediction"]) == ["NA", ""]
    assert list(table["extra"]) == ["", "007"]


def test_dataframe_is_copied_and_predictions_pass_through():
    frame = pd.DataFrame({"video_name": [" a "], "prediction": ["joy"]})
    predictions = read_predictions(frame)
    assert frame.loc[0, "video_name"] == " a "  # the caller's frame is untouched
    assert read_predictions(predictions) is predictions


def test_dict_values_that_are_dicts_become_columns_and_column_dicts_are_read_as_columns():
    nested = read_predictions({"a": {"joy": 1, "anger": 0}}).table
    assert nested.loc[0, "joy"] == 1 and nested.loc[0, "video_name"] == "a"
    columns = read_predictions({"video_name": ["a", "b"], "prediction": ["x", "y"]}).table
    assert list(columns["prediction"]) == ["x", "y"]


def test_align_accepts_a_source_directly(labels_file):
    data = bind(labels_file, "emotion_single")
    aligned = align(dict(SINGLE_ANSWERS), data)
    np.testing.assert_array_equal(aligned.y_pred, class_indices(data, SINGLE_EXPECTED))


def test_prediction_column_fallbacks(labels_file):
    data = bind(labels_file, "emotion_single")
    expected = class_indices(data, SINGLE_EXPECTED)
    for column in ("label", "pred"):
        frame = pd.DataFrame({"video_name": SINGLE_CLIPS, column: list(SINGLE_ANSWERS.values())})
        np.testing.assert_array_equal(align(frame, data).y_pred, expected)
    # "prediction" wins over the fallbacks.
    frame = pd.DataFrame(
        {"video_name": SINGLE_CLIPS, "prediction": list(SINGLE_ANSWERS.values()), "label": "x"}
    )
    np.testing.assert_array_equal(align(frame, data).y_pred, expected)
    # Both fallbacks and no "prediction": which one is meant?
    frame = pd.DataFrame({"video_name": SINGLE_CLIPS, "label": "joy", "pred": "anger"})
    with pytest.raises(PredictionsError, match="keep one"):
        align(frame, data)


# --- parsing answers -------------------------------------------------------------------------

PHRASINGS = [
    # sentiment_7
    ("sentiment_7", "Somewhat Negative", "somewhat_negative"),
    ("sentiment_7", " extremely positive.", "extremely_positive"),
    ("sentiment_7", "Moderately Positive", "moderately_positive"),
    ("sentiment_7", "**Moderately Negative**", "moderately_negative"),
    ("sentiment_7", "moderately_negative", "moderately_negative"),
    ("sentiment_7", "Very negative", "extremely_negative"),
    ("sentiment_7", "strongly positive", "extremely_positive"),
    ("sentiment_7", "fairly positive", "moderately_positive"),
    ("sentiment_7", "slightly negative", "somewhat_negative"),
    ("sentiment_7", "a little positive", "somewhat_positive"),
    ("sentiment_7", "Neutral", "neutral"),
    ("sentiment_7", "-2", "moderately_negative"),
    ("sentiment_7", "\u22122", "moderately_negative"),  # the Unicode minus sign
    ("sentiment_7", "+3", "extremely_positive"),
    ("sentiment_7", "3", "extremely_positive"),
    ("sentiment_7", "0", "neutral"),
    ("sentiment_7", "2.0", "moderately_positive"),
    ("sentiment_7", "-1.6", "moderately_negative"),
    ("sentiment_7", "Sentiment: -1", "somewhat_negative"),
    ("sentiment_7", "Sentiment: -2", "moderately_negative"),
    ("sentiment_7", "2 (moderately positive)", "moderately_positive"),
    ("sentiment_7", 2, "moderately_positive"),
    ("sentiment_7", -0.4, "neutral"),
    ("sentiment_7", "negative", "moderately_negative"),  # -2 in the paper's list
    ("sentiment_7", "Positive", "moderately_positive"),
    ("sentiment_7", "neg", None),  # which of the three negative points?
    ("sentiment_7", "2 (somewhat positive)", None),  # disagrees with itself
    ("sentiment_7", "-3 to 3: 2", None),  # two numbers
    ("sentiment_7", "not positive", None),
    ("sentiment_7", "I cannot determine the sentiment", None),
    ("sentiment_7", "N/A", None),
    ("sentiment_7", "", None),
    ("sentiment_7", True, None),
    # sentiment_3
    ("sentiment_3", "Negative", "negative"),
    ("sentiment_3", "neg", "negative"),
    ("sentiment_3", "Negative sentiment", "negative"),
    ("sentiment_3", "POS", "positive"),
    ("sentiment_3", "neutral", "neutral"),
    ("sentiment_3", "Extremely Positive", "positive"),
    ("sentiment_3", "somewhat_negative", "negative"),
    ("sentiment_3", "-2", "negative"),
    ("sentiment_3", "+1", "positive"),
    ("sentiment_3", "0.4", "neutral"),  # rounds to 0 on the 7-point scale
    ("sentiment_3", "0.6", "positive"),
    ("sentiment_3", "positive, negative", None),
    ("sentiment_3", "I don't know", None),
    ("sentiment_3", "not negative", None),
    # emotion_single
    ("emotion_single", "surprise (positive)", "surprise_pos"),
    ("emotion_single", "Surprise (Negative)", "surprise_neg"),
    ("emotion_single", "surprise_pos", "surprise_pos"),
    ("emotion_single", "pleasantly surprised", "surprise_pos"),
    ("emotion_single", "negative surprise", "surprise_neg"),
    ("emotion_single", "happy", "happiness"),
    ("emotion_single", "Joy", "happiness"),
    ("emotion_single", "Excitement", "happiness"),
    ("emotion_single", "joy and excited", "happiness"),  # both are happiness
    ("emotion_single", "HP", "happiness"),
    ("emotion_single", "SP(N)", "surprise_neg"),
    ("emotion_single", "sp(p)", "surprise_pos"),
    ("emotion_single", "WR", "worry"),
    ("emotion_single", "anxious", "worry"),
    ("emotion_single", "The signer looks sad.", "sadness"),
    ("emotion_single", "scared", "fear"),
    ("emotion_single", "Disgusted", "disgust"),
    ("emotion_single", "frustrated", "frustration"),
    ("emotion_single", "angry", "anger"),
    ("emotion_single", "Mad", "anger"),
    ("emotion_single", "Neutral", "neutral"),
    ("emotion_single", "none", "neutral"),
    ("emotion_single", "No emotion", "neutral"),
    ("emotion_single", ["sadness"], "sadness"),
    ("emotion_single", "I'm unable to determine the emotion", None),
    ("emotion_single", "surprise", None),
    ("emotion_single", "Surprised", None),
    ("emotion_single", "shocked", None),
    ("emotion_single", "sadness and anger", None),
    ("emotion_single", "not sad", None),
    ("emotion_single", "I'm not sure, maybe sadness", None),
    ("emotion_single", "N/A", None),
    ("emotion_single", "3", None),  # never a class index
    ("emotion_single", 3, None),
]


@pytest.mark.parametrize("task, answer, expected", PHRASINGS)
def test_parse_label_reads_model_phrasings(task, answer, expected):
    assert parse_label(answer, task=task) == expected


MULTI_CLASSES = ("worry+sadness", "fear+anger")


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("worry+sadness", "worry+sadness"),
        ("sadness, worry", "worry+sadness"),
        ("Sadness and Worry", "worry+sadness"),
        ("sadness; worried", "worry+sadness"),
        ('["worry", "sadness"]', "worry+sadness"),
        (["sadness", "worry"], "worry+sadness"),
        ("Anger + Fear", "fear+anger"),
        ("worry", None),  # one emotion is no combination
        ("worry, sadness, neutral", None),
        ("joy+anger", None),  # a combination, but not a class of this label file
        ("surprise, worry", None),
    ],
)
def test_parse_label_reads_combinations(answer, expected):
    assert parse_label(answer, task="emotion_multi", classes=MULTI_CLASSES) == expected


def test_parse_label_refuses_wrong_use():
    with pytest.raises(ValueError, match="pass classes"):
        parse_label("worry+sadness", task="emotion_multi")
    with pytest.raises(ValueError, match="per emotion"):
        parse_label("joy", task="emotion_presence")
    with pytest.raises(ValueError, match="has the classes"):
        parse_label("joy", task="emotion_single", classes=("joy",))
    with pytest.raises(ValueError, match="unknown task"):
        parse_label("joy", task="emotion")


def _decorated(phrase: str, draw) -> str:
    """A phrase as a model might write it: any case, padded, wrapped in punctuation."""
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in phrase)
    before, after = draw(st.sampled_from(["", " ", "**", '"', "\n"])), draw(
        st.sampled_from(["", ".", " ", "**", '"', "!\n"])
    )
    return before + cased + after


@given(st.sampled_from(sorted(vocab.SENTIMENT_7_ALIASES.items())), st.data())
def test_every_sentiment_phrase_round_trips(item, data):
    phrase, rating = item
    text = _decorated(phrase, data.draw)
    assert parse_label(text, task="sentiment_7") == vocab.sentiment_7(rating)
    assert parse_label(text, task="sentiment_3") == vocab.sentiment_3(rating)


@given(st.sampled_from(sorted(vocab.EXPRESSION_ALIASES.items())), st.data())
def test_every_expression_alias_round_trips(item, data):
    phrase, name = item
    assert parse_label(_decorated(phrase, data.draw), task="emotion_single") == name


@given(st.sampled_from(vocab.SINGLE_EXPRESSION_NAMES + vocab.SENTIMENT_7_NAMES))
def test_every_class_name_is_read_as_itself(name):
    task = "emotion_single" if name in vocab.SINGLE_EXPRESSION_NAMES else "sentiment_7"
    assert parse_label(name, task=task) == name


@given(st.floats(min_value=-9, max_value=9, allow_nan=False).map(lambda x: round(x, 3)))
def test_a_number_is_clipped_and_rounded_half_to_even(x):
    rating = int(np.round(np.clip(x, -3, 3)))
    assert parse_label(f"{x:.3f}", task="sentiment_7") == vocab.sentiment_7(rating)
    assert parse_label(f"{x:.3f}", task="sentiment_3") == vocab.sentiment_3(rating)


# --- strict errors -----------------------------------------------------------------------------


def _message(excinfo) -> str:
    return str(excinfo.value)


def test_every_offending_row_is_listed_in_one_error(labels_file, tmp_path):
    data = bind(labels_file, "emotion_single")
    answers = dict(SINGLE_ANSWERS)
    del answers[SINGLE_CLIPS[2]]  # missing
    del answers[SINGLE_CLIPS[3]]  # missing
    rows = single_rows(answers)
    rows[0]["prediction"] = "surprise"  # unparseable, row 1
    rows[4]["prediction"] = "sadness and anger"  # unparseable, row 5
    rows[5]["prediction"] = "  "  # empty, row 6
    rows.append({"video_name": "not_a_clip_9", "prediction": "joy"})  # unknown, row 7
    rows.append({"video_name": "Cory_2013-6-27_sc107_1002.mp4", "prediction": "joy"})  # row 8
    rows.append({"video_name": SINGLE_CLIPS[1], "prediction": "joy"})  # duplicate, row 9
    with pytest.raises(PredictionsError) as excinfo:
        align(read_predictions(write_table(tmp_path / "bad.csv", rows)), data)
    message = _message(excinfo)
    assert str(tmp_path / "bad.csv") in message and "emotion_single" in message
    for fragment in (
        "row 1 ('10-Ben-Conclusion_1001'): prediction='surprise'",
        "row 5 ('Rachel_2012-12-01_sc44_1007'): prediction='sadness and anger'",
        "row 6 ('2-Ben-Voice-Identity_1012'): prediction='  '",
        "row 7: 'not_a_clip_9'",
        "row 8: 'Cory_2013-6-27_sc107_1002.mp4' (the clip is 'Cory_2013-6-27_sc107_1002'",
        "'Cory_2013-6-27_sc107_1002' in rows 2, 9",
        repr(SINGLE_CLIPS[2]),
        repr(SINGLE_CLIPS[3]),
        "expected one class of happiness",
    ):
        assert fragment in message
    # Grouped by kind, with counts.
    assert "not clips of the label file (2)" in message
    assert "more than once (1)" in message
    assert "no prediction row (2)" in message
    assert "empty predictions (1)" in message
    assert "predictions that cannot be read (2); expected" in message


def test_500_bad_rows_are_an_error_of_a_screenful_naming_the_file_with_all(
        labels_file, tmp_path, monkeypatch, capsys):
    import re
    import tempfile

    from emosign.cli import main

    inputs, scratch = tmp_path / "inputs", tmp_path / "scratch"
    inputs.mkdir()
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # the system's temporary folder
    bad = write_table(inputs / "bad.csv", [{"video_name": f"not_a_clip_{i}", "prediction": "joy"}
                                           for i in range(500)])
    assert main(["evaluate", "--task", "emotion_single", "--predictions", str(bad),
                 "--labels-file", str(labels_file)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emosign: error: ") and "Traceback" not in err
    assert len(err.splitlines()) < 20
    assert "not clips of the label file (500)" in err and "... and " in err
    (named,) = re.findall(r"all (\d+) are listed in (\S+)", err)
    full = Path(named[1])
    # A new file in the temporary folder; the predictions' folder holds what it held.
    assert full.parent == scratch and full.name.startswith("emosign-errors-")
    assert sorted(p.name for p in inputs.iterdir()) == ["bad.csv"]
    listed = full.read_text(encoding="utf-8")
    assert all(f"row {i + 1}: 'not_a_clip_{i}'" in listed for i in range(500))
    # The missing clips of the task as well: every problem of the message.
    assert int(named[0]) == 500 + len(SINGLE_CLIPS)
    assert all(repr(name) in listed for name in SINGLE_CLIPS)


def test_many_rows_on_one_line_show_ten_and_name_the_file_with_all(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    bad = write_table(tmp_path / "bad.csv", [{"video_name": "", "prediction": "joy"}] * 30)
    with pytest.raises(PredictionsError) as excinfo:
        read_predictions(bad)
    message = _message(excinfo)
    assert "\n" not in message and "empty in row(s) 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ... and 20 more" in message
    (written,) = tmp_path.glob("emosign-errors-*.txt")
    assert f"all 30 are listed in {written}" in message
    assert written.read_text(encoding="utf-8").split() == [str(n) for n in range(1, 31)]


def test_a_listing_never_falls_back_on_the_current_folder(tmp_path, monkeypatch):
    import tempfile

    from emosign.errors import inline_listing

    # No usable temporary folder: Python's tempfile falls back on the current folder, here
    # the input's. The list is not written there, and the message says so.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    message = inline_listing([str(n) for n in range(30)])
    assert "could not be written (no writable temporary folder; set TMPDIR" in message
    assert list(tmp_path.iterdir()) == []
    # Named by TMPDIR, the current folder is where it was asked to go.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    message = inline_listing([str(n) for n in range(30)])
    (written,) = tmp_path.iterdir()
    assert f"all 30 are listed in {written}" in message


def test_a_listing_shows_each_group_and_never_replaces_a_file(tmp_path):
    from emosign.errors import listing

    few = listing("bad", [("a", ["1", "2"]), ("b", []), (None, ["3"])], ["fix it"])
    assert few == "bad\n  a:\n    1\n    2\n  3\n  fix it"
    assert list(tmp_path.iterdir()) == []
    many = listing("bad", [("a", [f"a{i}" for i in range(30)]), ("b", ["b0", "b1"])],
                   folder=tmp_path, limit=5).splitlines()
    # Both groups show, the first fills the rest of the five, and each says how many it hides.
    assert many[:9] == ["bad", "  a:", "    a0", "    a1", "    a2", "    a3", "    ... and 26 more",
                        "  b:", "    b0"]
    assert many[9] == "    ... and 1 more"
    (written,) = tmp_path.iterdir()
    assert many[10] == f"  all 32 are listed in {written}"
    again = listing("bad", [("a", [f"a{i}" for i in range(30)])], folder=tmp_path, limit=5)
    assert len(list(tmp_path.iterdir())) == 2 and str(written) not in again


def test_missing_clips_alone_suggest_on_invalid_wrong(labels_file):
    data = bind(labels_file, "emotion_single")
    with pytest.raises(PredictionsError, match="on_invalid='wrong'") as excinfo:
        align({SINGLE_CLIPS[0]: "joy"}, data)
    assert all(repr(name) in _message(excinfo) for name in SINGLE_CLIPS[1:])


def test_nan_and_none_are_empty(labels_file):
    data = bind(labels_file, "emotion_single")
    frame = pd.DataFrame({"video_name": SINGLE_CLIPS, "prediction": list(SINGLE_ANSWERS.values())})
    frame.loc[0, "prediction"] = np.nan
    frame.loc[1, "prediction"] = None
    with pytest.raises(PredictionsError, match=r"empty predictions \(2\)") as excinfo:
        align(frame, data)
    assert "row 1 (" in _message(excinfo) and "row 2 (" in _message(excinfo)


def test_no_video_name_column_is_named_strictly(tmp_path):
    path = write_table(tmp_path / "p.csv", [{"clip": "a", "prediction": "joy"}])
    with pytest.raises(PredictionsError) as excinfo:
        read_predictions(path)
    message = _message(excinfo)
    assert str(path) in message and "['clip', 'prediction']" in message
    assert "Only the exact name 'video_name'" in message
    indexed = pd.DataFrame({"video_name": ["a"], "prediction": ["joy"]}).set_index("video_name")
    with pytest.raises(PredictionsError, match=r"reset_index"):
        read_predictions(indexed)


def test_empty_video_names_are_listed(tmp_path):
    path = write_table(
        tmp_path / "p.csv",
        [{"video_name": "a", "prediction": "x"}, {"video_name": " ", "prediction": "x"},
         {"video_name": "b", "prediction": "x"}, {"video_name": "", "prediction": "x"}],
    )
    with pytest.raises(PredictionsError, match=r"empty in row\(s\) 2, 4"):
        read_predictions(path)


@pytest.mark.parametrize(
    "name, content, pattern",
    [
        ("empty.csv", b"", "is empty"),
        ("blank.jsonl", b" \n\n", "is empty"),
        ("header.csv", b"video_name,prediction\n", "no rows"),
        ("latin1.csv", "video_name,prediction\nclip,Fr\u00fchling\n".encode("latin-1"),
         r"not UTF-8 text \(invalid byte at offset 29\)"),
        ("bad.json", b'[{"video_name": "a",\n "prediction": }]', "not valid JSON: .* at line 2"),
        ("lines.json", b'{"video_name": "a"}\n{"video_name": "b"}\n', "name it .jsonl"),
        ("bad.jsonl", b'{"video_name": "a"}\n\n{"video_name": \n', "line 3 is not valid JSON"),
        ("array.jsonl", b'{"video_name": "a"}\n["b"]\n', "line 2 holds a JSON list"),
        ("scalar.json", b'"joy"', "holds a JSON str"),
        ("records.json", b'[{"video_name": "a"}, 3, "x"]', r"record\(s\) 2, 3 are not objects"),
        ("ragged.csv", b"video_name,prediction\na,joy\nb,joy,extra\n", "line 3"),
        ("p.txt", b"video_name,prediction\na,joy\n", "suffix '.txt'"),
    ],
)
def test_unreadable_files_are_named(tmp_path, name, content, pattern):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PredictionsError, match=pattern) as excinfo:
        read_predictions(path)
    assert str(path) in _message(excinfo)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        read_predictions(tmp_path / "nope.csv")


def test_missing_prediction_column(labels_file):
    data = bind(labels_file, "sentiment_3")
    needed = r"'prediction' column is needed.*\['video_name', 'answer'\]"
    with pytest.raises(PredictionsError, match=needed):
        align(pd.DataFrame({"video_name": ALL_CLIPS, "answer": "positive"}), data)


# --- on_invalid="wrong" and clips outside the task ----------------------------------------------


def test_on_invalid_wrong_scores_missing_and_unreadable_as_wrong(labels_file):
    data = bind(labels_file, "emotion_single")
    answers = dict(SINGLE_ANSWERS)
    del answers[SINGLE_CLIPS[7]]
    answers[SINGLE_CLIPS[1]] = "I'm not sure"
    answers[SINGLE_CLIPS[2]] = ""
    aligned = align(answers, data, on_invalid="wrong")
    expected = class_indices(data, SINGLE_EXPECTED)
    expected[[1, 2, 7]] = -1
    np.testing.assert_array_equal(aligned.y_pred, expected)
    # An empty answer is a missing one; an unreadable answer is not.
    assert aligned.missing == (SINGLE_CLIPS[2], SINGLE_CLIPS[7])
    assert aligned.unparseable == (SINGLE_CLIPS[1],)
    assert aligned.n_given == 7


def test_on_invalid_wrong_still_refuses_broken_files(labels_file):
    data = bind(labels_file, "emotion_single")
    with pytest.raises(PredictionsError, match="not_a_clip_9"):
        align({**SINGLE_ANSWERS, "not_a_clip_9": "joy"}, data, on_invalid="wrong")
    rows = single_rows(SINGLE_ANSWERS) + [{"video_name": SINGLE_CLIPS[0], "prediction": "joy"}]
    with pytest.raises(PredictionsError, match="rows 1, 9"):
        align(rows, data, on_invalid="wrong")
    with pytest.raises(ValueError, match="on_invalid"):
        align(rows, data, on_invalid="skip")


def test_clips_outside_the_subset_are_set_aside(labels_file):
    single = bind(labels_file, "emotion_single")
    answers = {name: "neutral" for name in ALL_CLIPS}
    answers.update(SINGLE_ANSWERS)
    aligned = align(answers, single)
    assert aligned.n_given == 12
    assert aligned.n_outside_task == len(SYNTHETIC_MULTI) + len(SYNTHETIC_EXCLUDED) == 4
    np.testing.assert_array_equal(aligned.y_pred, class_indices(single, SINGLE_EXPECTED))

    multi = bind(labels_file, "emotion_multi")
    answers = {name: "sadness and worry" for name in ALL_CLIPS}
    aligned = align(answers, multi)
    assert aligned.n_outside_task == 9 and aligned.y_pred.tolist() == [0, 0, 0]


# --- scores ------------------------------------------------------------------------------------


def _scored_frame(data, rng) -> tuple[pd.DataFrame, np.ndarray]:
    probabilities = rng.dirichlet(np.ones(len(data.classes)), size=data.n)
    frame = pd.DataFrame({"video_name": list(data.video_names), "prediction": "happy"})
    # Columns in reverse class order: the reader must reorder them.
    for j in reversed(range(len(data.classes))):
        frame[f"score_{data.classes[j]}"] = probabilities[:, j]
    return frame, probabilities


def test_scores_are_read_in_class_order(labels_file):
    data = bind(labels_file, "emotion_single")
    frame, probabilities = _scored_frame(data, np.random.default_rng(0))
    aligned = align(frame, data, scores_must_be_probabilities=True)
    np.testing.assert_allclose(aligned.scores, probabilities)
    assert aligned.scores.shape == (8, 10)
    # Through a CSV file, as text.
    assert align(frame.astype(str), data).scores == pytest.approx(probabilities)


def test_missing_score_columns_are_named(labels_file):
    data = bind(labels_file, "emotion_single")
    frame, _ = _scored_frame(data, np.random.default_rng(1))
    frame = frame.drop(columns=["score_worry", "score_anger"]).assign(score_angry=0.1)
    with pytest.raises(PredictionsError) as excinfo:
        align(frame, data)
    message = _message(excinfo)
    assert "['score_worry', 'score_anger'] are missing" in message
    assert "name no class of this task: ['score_angry']" in message


def test_scores_must_be_finite_and_may_be_required_to_be_probabilities(labels_file):
    data = bind(labels_file, "emotion_single")
    frame, _ = _scored_frame(data, np.random.default_rng(2))
    frame.loc[2, "score_happiness"] = 1.5
    frame.loc[4, "score_sadness"] = frame.loc[4, "score_sadness"] + 0.01
    # Any finite numbers pass when not asked to be probabilities...
    assert align(frame, data).scores[2, 0] == 1.5
    # ...and fail, every row named, when asked.
    with pytest.raises(PredictionsError) as excinfo:
        align(frame, data, scores_must_be_probabilities=True)
    message = _message(excinfo)
    assert "row 3 (" in message and "score_happiness=1.5 is not a probability" in message
    assert "row 5 (" in message and "sum to" in message
    frame["score_fear"] = frame["score_fear"].astype(object)
    frame.loc[6, "score_fear"] = "high"
    frame.loc[7, "score_fear"] = np.inf
    with pytest.raises(PredictionsError) as excinfo:
        align(frame, data)
    message = _message(excinfo)
    assert "row 7 (" in message and "score_fear='high' is not a finite number" in message
    assert "row 8 (" in message


def test_scores_of_missing_clips_are_nan(labels_file):
    data = bind(labels_file, "emotion_single")
    frame, probabilities = _scored_frame(data, np.random.default_rng(3))
    aligned = align(frame.iloc[1:], data, on_invalid="wrong")
    assert np.isnan(aligned.scores[0]).all()
    np.testing.assert_allclose(aligned.scores[1:], probabilities[1:])


# --- sentiment_7 values ----------------------------------------------------------------------


def test_sentiment_7_keeps_continuous_values_and_rounds_half_to_even(labels_file):
    data = bind(labels_file, "sentiment_7")
    given_values = ["0.5", "1.5", "4.2", "-2.5", "-0.5", "2.0", "Moderately Negative", "-1.6",
                    "2 (moderately positive)", "+3", "-7", "0"]
    aligned = align(dict(zip(ALL_CLIPS, given_values)), data)
    np.testing.assert_array_equal(
        aligned.values, [0.5, 1.5, 4.2, -2.5, -0.5, 2.0, -2.0, -1.6, 2.0, 3.0, -7.0, 0.0]
    )
    assert aligned.values.dtype == np.float64
    # Class index i is the rating i - 3.
    assert (aligned.y_pred - 3).tolist() == [0, 2, 3, -2, 0, 2, -2, -2, 2, 3, -3, 0]


def test_sentiment_7_values_are_nan_where_missing(labels_file):
    data = bind(labels_file, "sentiment_7")
    answers = dict(zip(ALL_CLIPS[1:], ["1"] * 11))
    answers[ALL_CLIPS[1]] = "pos"  # a polarity, no point of the scale
    aligned = align(answers, data, on_invalid="wrong")
    assert np.isnan(aligned.values[:2]).all() and (aligned.values[2:] == 1).all()
    assert aligned.y_pred[:2].tolist() == [-1, -1]
    assert aligned.missing == (ALL_CLIPS[0],) and aligned.unparseable == (ALL_CLIPS[1],)


def test_arrays_are_read_only(labels_file):
    aligned = align(dict(zip(ALL_CLIPS, ["1"] * 12)), bind(labels_file, "sentiment_7"))
    assert isinstance(aligned, Aligned)
    with pytest.raises(ValueError):
        aligned.y_pred[0] = 0


# --- per-emotion tasks -----------------------------------------------------------------------


def test_presence_from_columns_accepts_flags_words_and_intensities(labels_file):
    data = bind(labels_file, "emotion_presence")
    frame = pd.DataFrame({"video_name": ALL_CLIPS})
    truth = data.y_true
    spellings = {
        True: ["1", "yes", "True", "2.5", "present"],
        False: ["0", "no", "false", "0.0", "absent"],
    }
    for j, emotion in enumerate(vocab.EMOTION_NAMES):
        frame[emotion] = [spellings[bool(t)][(i + j) % 5] for i, t in enumerate(truth[:, j])]
    aligned = align(frame, data)
    assert aligned.y_pred.dtype == bool and aligned.y_pred.shape == (12, 10)
    np.testing.assert_array_equal(aligned.y_pred, truth)
    # Booleans and numbers from JSON work too.
    frame = pd.DataFrame(truth, columns=list(vocab.EMOTION_NAMES)).assign(video_name=ALL_CLIPS)
    np.testing.assert_array_equal(align(frame, data).y_pred, truth)


def test_presence_from_a_list_column(labels_file):
    data = bind(labels_file, "emotion_presence")
    answers = {
        name: [e for e, present in zip(vocab.EMOTION_NAMES, row) if present]
        for name, row in zip(ALL_CLIPS, data.y_true)
    }
    as_text = {name: ", ".join(names) if names else "none" for name, names in answers.items()}
    as_json = {name: json.dumps(names) for name, names in answers.items()}
    for form in (answers, as_text, as_json):
        np.testing.assert_array_equal(align(form, data).y_pred, data.y_true)
    # "happy" could be joy or excited; "none, worry" contradicts itself.
    as_text[ALL_CLIPS[0]] = "happy"
    as_text[ALL_CLIPS[3]] = "none, worry"
    with pytest.raises(PredictionsError) as excinfo:
        align(as_text, data)
    assert "row 1 (" in _message(excinfo) and "row 4 (" in _message(excinfo)


def test_presence_with_on_invalid_wrong_fills_the_opposite(labels_file):
    data = bind(labels_file, "emotion_presence")
    frame = pd.DataFrame(data.y_true.astype(int).astype(str), columns=list(vocab.EMOTION_NAMES))
    frame["video_name"] = ALL_CLIPS
    frame.loc[0, "joy"] = "maybe"  # one unreadable cell
    frame.loc[3, list(vocab.EMOTION_NAMES)] = ""  # no answer at all
    aligned = align(frame.iloc[:-1], data, on_invalid="wrong")  # and the last clip missing
    wrong = np.zeros_like(data.y_true)
    wrong[0, 0] = True
    wrong[3] = wrong[11] = True
    np.testing.assert_array_equal(aligned.y_pred, np.where(wrong, ~data.y_true, data.y_true))
    assert aligned.unparseable == (ALL_CLIPS[0],)
    assert aligned.missing == (ALL_CLIPS[3], ALL_CLIPS[11])


def test_intensity_reads_numbers_in_range(labels_file):
    data = bind(labels_file, "emotion_intensity")
    frame = pd.DataFrame(data.y_true + 0.25 * (data.y_true < 3), columns=list(vocab.EMOTION_NAMES))
    frame["video_name"] = ALL_CLIPS
    aligned = align(frame, data)
    assert aligned.y_pred.dtype == np.float64
    np.testing.assert_allclose(aligned.y_pred, data.y_true + 0.25 * (data.y_true < 3))

    frame = frame.astype(object)  # cells of any type, as from a JSON file
    frame.loc[1, "anger"] = 4
    frame.loc[5, "fear"] = -0.5
    frame.loc[6, "joy"] = "two"
    with pytest.raises(PredictionsError, match="expected a number in 0...3") as excinfo:
        align(frame, data)
    message = _message(excinfo)
    assert "row 2 (" in message and "anger=4" in message
    assert "row 6 (" in message and "fear=-0.5" in message
    assert "row 7 (" in message and "joy='two'" in message

    aligned = align(frame, data, on_invalid="wrong")
    # The farthest intensity from the reference: 3 for a reference of 0 or 1, 0 for 2 or 3.
    assert aligned.y_pred[1, 9] == (0 if data.y_true[1, 9] >= 2 else 3)
    assert not np.isnan(aligned.y_pred).any()
    assert aligned.unparseable == (ALL_CLIPS[1], ALL_CLIPS[5], ALL_CLIPS[6])


def test_intensity_needs_every_emotion_column(labels_file):
    data = bind(labels_file, "emotion_intensity")
    frame = pd.DataFrame(data.y_true, columns=list(vocab.EMOTION_NAMES))
    frame["video_name"] = ALL_CLIPS
    with pytest.raises(PredictionsError, match=r"\['surprise_neg', 'disgust'\] are missing"):
        align(frame.drop(columns=["surprise_neg", "disgust"]), data)
    with pytest.raises(PredictionsError, match="one column per emotion"):
        align({name: "joy" for name in ALL_CLIPS}, data)


# --- the real labels ------------------------------------------------------------------------------


def test_real_labels_all_clips_to_emotion_single(real_labels):
    labels = read_labels(real_labels)
    data = get_task("emotion_single").bind(labels)
    answers = {clip.video_name: clip.single_label or "neutral" for clip in labels}
    aligned = align(answers, data)
    assert (aligned.n_given, data.n, aligned.n_outside_task) == (200, 140, 60)
    np.testing.assert_array_equal(aligned.y_pred, data.y_true)
