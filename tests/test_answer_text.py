"""The one parser of free-text answers (emosign._answer_text), shared by the scorer and the
MLLM harness. What each task accepts is tested through emosign.predictions.parse_label in
test_predictions.py and through the harness in test_mllm.py; here, what the module itself
promises."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from emosign import _answer_text
from emosign.errors import InputError
from emosign.harness.answers import parse_joint, read_answer
from emosign.predictions import parse_label
from emosign.tasks import TASKS


def test_the_single_label_tasks_are_those_of_emosign_tasks():
    kinds = tuple(name for name, task in TASKS.items() if task.kind == "single_label")
    assert _answer_text.SINGLE_LABEL_TASKS == kinds
    assert set(_answer_text.EXPECTED) <= set(TASKS)


def test_read_label_gives_the_class_and_the_rating_as_given():
    assert _answer_text.read_label("-1.6", task="sentiment_7") == ("moderately_negative", -1.6)
    label, rating = _answer_text.read_label("Somewhat Positive", task="sentiment_3")
    assert label == "positive" and math.isnan(rating)
    assert _answer_text.read_label("worry and sadness", task="emotion_multi")[0] is None  # no classes
    combination = _answer_text.read_label("worry and sadness", task="emotion_multi",
                                          classes=("worry+sadness",))
    assert combination[0] == "worry+sadness"
    with pytest.raises(InputError, match="single-label"):
        _answer_text.read_label("joy", task="emotion_presence")


@pytest.mark.parametrize("value", [None, "", "  \n", math.nan, np.float32("nan"), pd.NA, pd.NaT])
def test_blank_cells(value):
    assert _answer_text.is_blank(value)


@pytest.mark.parametrize("value", [0, 0.0, "0", "none", False, [], "nan?"])
def test_cells_that_are_not_blank(value):
    assert not _answer_text.is_blank(value)


def test_an_integer_beyond_any_float_is_unreadable_not_a_crash():
    huge = 10**400
    assert parse_label(huge, task="sentiment_7") is None
    assert _answer_text.sentiment_as_given(huge) is None
    assert _answer_text.finite_number(huge) is None
    answer = parse_joint('{"sentiment": 1' + "0" * 400 + ', "joy": 1' + "0" * 400 + "}")
    assert answer.sentiment is None and answer.intensities[0] is None
    assert {entry.split("=")[0] for entry in answer.invalid} == {"sentiment", "joy"}
    assert read_answer("joint", '{"sentiment": 1' + "0" * 400 + "}")["sentiment_7"].problem == "invalid"


def test_it_sits_low_in_the_import_graph():
    # The harness reads answers without the scorer: neither pandas nor the task or label modules.
    code = ("import json, sys, emosign._answer_text, emosign.harness.answers; "
            "print(json.dumps(list(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "pandas" not in loaded
    assert not {"emosign.predictions", "emosign.tasks", "emosign.labels", "emosign.metrics"} & loaded
