"""Fixtures shared by the tests: synthetic label files, small mp4s, the real labels if given.

No test reaches the network: the Hub is stood in for by tests/test_hub.py's local server,
and every other test reads a local label file.
"""

from __future__ import annotations

import atexit
import csv
import os
import shutil
import tempfile
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

# `datasets` reads its cache folder once, when imported: the tests' builds go to a folder of
# their own, deleted at exit, never to the user's ~/.cache/huggingface/datasets.
_DATASETS_CACHE = tempfile.mkdtemp(prefix="emosign-tests-datasets-")
os.environ["HF_DATASETS_CACHE"] = _DATASETS_CACHE
atexit.register(shutil.rmtree, _DATASETS_CACHE, ignore_errors=True)

# Under pytest-xdist (pyproject's addopts) each core runs a worker: one BLAS/OpenMP thread per
# worker, and per program a test starts, so that the workers do not fight over the cores.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    from threadpoolctl import threadpool_limits

    for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")
    threadpool_limits(1)  # NumPy's BLAS is loaded already: the variables are read at load


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("emosign-cache")


@pytest.fixture(scope="session")
def _session_temp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tmp")


@pytest.fixture(autouse=True)
def _offline_hub(monkeypatch, _session_cache, _session_temp):
    """Every test runs as if offline, without a label file from the environment unless it
    asks for the real one through the ``real_labels`` fixture, and with derived files (video
    features) in a cache folder of the test session's own, not the user's; temporary files
    (an error's full list, say) go to the session's own folder, not the system's."""
    monkeypatch.setattr(tempfile, "tempdir", str(_session_temp))
    monkeypatch.setenv("TMPDIR", str(_session_temp))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.delenv("EMOSIGN_LABELS", raising=False)
    monkeypatch.setenv("EMOSIGN_CACHE", str(_session_cache))


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


# --- the MLLM harness: one fake OpenAI-compatible server, small clips (see fakes.py) --------


@pytest.fixture
def server():
    """The fake server with its scripted replies (``fakes.FakeOpenAI``), running."""
    from fakes import FakeOpenAI  # fakes imports this module: not at its top

    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


@pytest.fixture
def stand_in():
    """Starts fake servers: ``stand_in(reply=..., delay=...)``; by default each answers every
    request with a readable sentiment. All are stopped after the test."""
    from fakes import NEUTRAL, FakeOpenAI

    servers = []

    def start(reply=lambda body, headers: (200, NEUTRAL), **options):
        servers.append(FakeOpenAI(reply, **options).start())
        return servers[-1]

    yield start
    for fake in servers:
        fake.stop()


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory) -> Path:
    """One small mp4 per synthetic clip, named by utterance id (0.3 s at 10 fps, 32x24).
    Test files that need the scripted server's clips define their own ``video_dir``."""
    from fakes import write_clips

    return write_clips(tmp_path_factory.mktemp("videos"), seconds=0.3, fps=10, size=(32, 24))


@pytest.fixture
def chat_server():
    """The fake server answering by a function of the request body alone: the test sets
    ``chat_server.answer(body) -> Reply | str`` (a str is a 200 answer); until then every
    request gets a 500."""
    from fakes import FakeOpenAI, Reply

    def reply(body, headers):
        answer = fake.answer(body)
        return Reply(text=answer) if isinstance(answer, str) else answer

    fake = FakeOpenAI(reply)
    fake.answer = lambda body: Reply(status=500)
    fake.start()
    yield fake
    fake.stop()
