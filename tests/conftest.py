"""Fixtures shared by the tests: synthetic label files, small mp4s, the real labels if given.

No test reaches the network: the Hub is stood in for by tests/test_hub.py's local server,
and every other test reads a local label file.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from emosign.vocab import (
    CUE_COLUMNS,
    EMOTION_NAMES,
    FILE_INTENSITY_OFFSET,
    LABEL_FILE_COLUMNS,
)

# Read once, before the autouse fixture below hides it from the code under test.
REAL_LABELS = os.environ.get("EMOSIGN_LABELS")


@pytest.fixture(autouse=True)
def _offline_hub(monkeypatch):
    """Every test runs as if offline, and without a label file from the environment unless it
    asks for the real one through the ``real_labels`` fixture."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.delenv("EMOSIGN_LABELS", raising=False)


def label_row(name: str, sentiment: int = 1, cues=("a", "b", "c"), **intensities: int) -> dict:
    """One row of a label file as released: intensities given on the paper's 0...3 scale."""
    row = {"video_name": name, "Sentiment": str(sentiment)}
    for emotion in EMOTION_NAMES:
        row[emotion] = str(intensities.get(emotion, 0) + FILE_INTENSITY_OFFSET)
    row.update(zip(CUE_COLUMNS, cues))
    return row


def write_label_file(path: Path, rows: list[dict], columns=LABEL_FILE_COLUMNS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


# Twelve clips whose derived labels are known by construction:
# single: happiness x2 (joy/excited merged by max), worry, neutral x2, anger, frustration,
# multi: worry+sadness x3; excluded: fear+anger (its combination occurs once), joy=excited tie
# is not a tie (one merged class).
SYNTHETIC_ROWS = [
    label_row("10-Ben-Conclusion_1001", 2, joy=2, excited=3),
    label_row("Cory_2013-6-27_sc107_1002", 3, joy=3, excited=3, surprise_pos=1),
    label_row("Cory_2013-6-27_sc107_1003", -2, worry=3, sadness=1),
    label_row("Jonathan_2012-11-27_sc93_1004", 0),
    label_row("Jonathan_2012-11-27_sc93_1005", 1, cues=("  raised   brows ", "", "x\ny")),
    label_row("Rachel_2011-12-01_sc43_1006", -3, anger=3, frustration=2),
    label_row("Rachel_2012-12-01_sc44_1007", -1, frustration=1),
    label_row("Cory_2013-6-27_sc108_1008", -2, worry=2, sadness=2),
    label_row("Cory_2013-6-27_sc108_1009", -2, worry=3, sadness=3, fear=1),
    label_row("Rachel_2012-12-01_sc44_1010", -3, worry=1, sadness=1),
    label_row("Jonathan_2012-11-27_sc93_1011", -3, fear=2, anger=2),
    label_row("2-Ben-Voice-Identity_1012", 2, joy=1),
]
SYNTHETIC_SINGLE = {
    "10-Ben-Conclusion_1001": "happiness",
    "Cory_2013-6-27_sc107_1002": "happiness",
    "Cory_2013-6-27_sc107_1003": "worry",
    "Jonathan_2012-11-27_sc93_1004": "neutral",
    "Jonathan_2012-11-27_sc93_1005": "neutral",
    "Rachel_2011-12-01_sc43_1006": "anger",
    "Rachel_2012-12-01_sc44_1007": "frustration",
    "2-Ben-Voice-Identity_1012": "happiness",
}
SYNTHETIC_MULTI = {
    "Cory_2013-6-27_sc108_1008": "worry+sadness",
    "Cory_2013-6-27_sc108_1009": "worry+sadness",
    "Rachel_2012-12-01_sc44_1010": "worry+sadness",
}
SYNTHETIC_EXCLUDED = {"Jonathan_2012-11-27_sc93_1011"}


@pytest.fixture
def labels_file(tmp_path) -> Path:
    return write_label_file(tmp_path / "labels.csv", SYNTHETIC_ROWS)


@pytest.fixture
def real_labels() -> Path:
    """The released label file, when ``EMOSIGN_LABELS`` points at it (CI sets it)."""
    if not REAL_LABELS:
        pytest.skip("EMOSIGN_LABELS is not set: the real label file is not available")
    return Path(REAL_LABELS)


def write_mp4(path: Path, *, seconds: float = 1.0, fps: int = 30, size=(64, 48)) -> Path:
    """A small H.264 (or MPEG-4) clip whose frame i is a flat grey of level 8*i mod 256."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        try:
            stream = container.add_stream("libx264", rate=fps)
        except Exception:  # an FFmpeg build without x264
            stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(int(round(seconds * fps))):
            level = (8 * i) % 256
            image = np.full((size[1], size[0], 3), level, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def chat_server():
    """A stand-in OpenAI-compatible server on 127.0.0.1 (``tests/fakes.py``), started and
    stopped around the test; it answers every request with a 500 until the test sets its
    ``answer`` function."""
    from fakes import ChatServer, Reply

    with ChatServer(lambda body: Reply(status=500)) as server:
        yield server
