"""What the MLLM harness tests share: the synthetic clips and their true answers, small
videos of them, one fake OpenAI-compatible server, and a few helpers.

conftest.py makes the server and the videos fixtures (``server``, ``stand_in``,
``video_dir``); a test file imports the rest from here, never from another test file.
Every server is on 127.0.0.1; every video is written by the tests.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conftest import SYNTHETIC_ROWS, SYNTHETIC_SINGLE, write_mp4

from emosign import vocab
from emosign.harness.config import RetryPolicy

CLIPS = [row["video_name"] for row in SYNTHETIC_ROWS]
NEUTRAL = vocab.SENTIMENT_LEVELS[3].phrase  # a readable sentiment answer
NO_WAIT = RetryPolicy(max_retries=2, base_delay=0.0, jitter=0.0)


# --- the synthetic clips and their true answers ---------------------------------------------


def utterance(name: str) -> int:
    """The utterance id of a clip: the number its name ends with (1001 ... 1012)."""
    match = re.search(r"(\d+)$", name)
    assert match, name
    return int(match.group(1))


def frames_of(name: str) -> int:
    """The frames of a clip as write_clips writes it by default: 5 + k for clip 1000 + k."""
    return 5 + utterance(name) - 1000


#: The clip a request is about, by its number of frames (see :func:`frames_of`).
CLIP_OF_FRAMES = {frames_of(name): name for name in CLIPS}
assert len(CLIP_OF_FRAMES) == len(CLIPS), "every clip has its own frame count"


def row_of(name: str) -> dict:
    return next(row for row in SYNTHETIC_ROWS if row["video_name"] == name)


def true_intensities(name: str) -> dict[str, int]:
    row = row_of(name)
    return {e: int(row[e]) - vocab.FILE_INTENSITY_OFFSET for e in vocab.EMOTION_NAMES}


def true_sentiment(name: str) -> int:
    return int(row_of(name)["Sentiment"])


def joint_answer(name: str) -> str:
    """A clean joint answer that gives the clip's true labels."""
    return json.dumps(
        {"sentiment": true_sentiment(name), **true_intensities(name),
         "explanation": "Raised eyebrows at t=0.2s. Large, fast signs."}
    )


def true_answer(task: str, name: str) -> str:
    """The answer of a model that is always right, to harness task ``task``'s prompt."""
    if task == "joint":
        return joint_answer(name)
    if task == "sentiment":
        return vocab.SENTIMENT_LEVELS[true_sentiment(name) + 3].phrase
    label = SYNTHETIC_SINGLE[name]
    return next(c.paper_name for c in vocab.EXPRESSION_CLASSES if c.name == label)


def task_of_prompt(text: str) -> str:
    """The harness task a prompt of the emosign preset is for."""
    if "JSON" in text:
        return "joint"
    return "sentiment" if "seven phrases" in text else "emotion"


def write_clips(directory: Path, *, seconds: float | Callable[[str], float] | None = None,
                fps: int = 20, size: tuple[int, int] = (64, 48)) -> Path:
    """One mp4 per synthetic clip, named by utterance id.

    ``seconds``: each clip's length, or a function of the clip's name giving it; None:
    ``frames_of(name) / 10``, so that at 10 fps clip 1000 + k has 5 + k frames (how the
    scripted server of :class:`FakeOpenAI` knows which clip it is asked about).
    """
    directory.mkdir(parents=True, exist_ok=True)
    for name in CLIPS:
        if seconds is None:
            length = frames_of(name) / 10
        else:
            length = seconds(name) if callable(seconds) else seconds
        write_mp4(directory / f"{utterance(name)}.mp4", seconds=length, fps=fps, size=size)
    return directory


# --- the fake server -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One reply of the fake server: an answer (status 200) or an error status."""

    status: int = 200
    text: str | None = None  # the answer, or the error message; None: the clip's true answer
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    echo_key: bool = False  # put the Authorization header into the error message
    #: drop the connection after the request was read: "reset" (an RST, no reply at all) or
    #: "short" (the headers and half the body, then closed); None replies in full
    drop: str | None = None


#: reply(request body, request headers) -> a Reply, or (HTTP status, text): the answer (200)
#: or the error message (any other status). The headers are http.server's, read
#: case-insensitively.
Responder = Callable[[dict, Any], "Reply | tuple[int, str]"]


class FakeOpenAI:
    """An OpenAI-compatible Chat Completions server on 127.0.0.1 that replies as told.

    Parameters
    ----------
    reply : Responder, optional
        How to reply to each request. None: the scripted replies, for requests about the
        clips of :func:`write_clips`: the clip is known by its number of frames,
        ``script[clip]`` lists the replies to its successive requests, and after them every
        request gets the clip's true answer (:func:`true_answer`).
    delay : float
        Seconds to wait before every reply.

    Attributes
    ----------
    n_requests : int
        Every request received.
    requests, answered : Counter
        Per clip (scripted replies only): requests received, and those answered with 200.
    auth : list of str
        The Authorization header of every request.
    bodies : list of dict
        Every request body.
    """

    def __init__(self, reply: Responder | None = None, *, delay: float = 0.0) -> None:
        self.reply, self.delay = reply, delay
        self.script: dict[str, list[Reply]] = {}
        self.n_requests = 0
        self.requests: Counter = Counter()
        self.answered: Counter = Counter()
        self.auth: list[str] = []
        self.bodies: list[dict] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake._handle(self, body)

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # a client that timed out closed its socket: expected here

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def respond(self, body: dict, headers: Any) -> Reply:
        """The reply to one request (a subclass may answer some requests its own way)."""
        if self.reply is None:
            return self.scripted(body)
        reply = self.reply(body, headers)
        return reply if isinstance(reply, Reply) else Reply(status=reply[0], text=reply[1])

    def scripted(self, body: dict) -> Reply:
        """The next scripted reply for the clip the request is about, or its true answer."""
        parts = body["messages"][-1]["content"]
        clip = CLIP_OF_FRAMES[sum(p["type"] == "image_url" for p in parts)]
        with self._lock:
            self.requests[clip] += 1
            queue = self.script.get(clip, [])
            reply = queue.pop(0) if queue else Reply()
            if reply.status == 200:
                self.answered[clip] += 1
        if reply.status == 200 and reply.text is None:
            text = true_answer(task_of_prompt(parts[-1]["text"]), clip)
            reply = Reply(text=text, headers=reply.headers, delay=reply.delay)
        return reply

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        with self._lock:
            self.n_requests += 1
            self.auth.append(handler.headers.get("Authorization", ""))
            self.bodies.append(body)
        time.sleep(self.delay)
        reply = self.respond(body, handler.headers)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.status == 200:
            payload: dict[str, Any] = {
                "id": "chatcmpl-test", "object": "chat.completion", "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply.text}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        else:
            message = reply.text if reply.text is not None else f"scripted {reply.status}"
            if reply.echo_key:
                message += f"; you sent {handler.headers.get('Authorization')}"
            payload = {"error": {"message": message, "type": "test", "code": reply.status}}
        data = json.dumps(payload).encode()
        if reply.drop is not None:
            self._drop(handler, reply.drop, data)
            return
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            for key, value in reply.headers.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting


    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler, how: str, data: bytes) -> None:
        """A connection dropped after the request arrived: reset, or the body cut short."""
        handler.close_connection = True
        try:
            if how == "short":
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(data)))
                handler.end_headers()
                handler.wfile.write(data[: len(data) // 2])
                handler.wfile.flush()
            elif how == "reset":
                # SO_LINGER with a zero timeout: close() sends an RST, not a FIN.
                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                              struct.pack("ii", 1, 0))
            else:
                raise ValueError(f"unknown drop {how!r}")
            handler.connection.close()
        except OSError:
            pass


def a_dead_url() -> str:
    """The URL of a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


# --- helpers -------------------------------------------------------------------------------


def run_options(video_dir, labels_file, out, **options) -> dict:
    """run_mllm's arguments for a quick sentiment run of the model "stand-in"."""
    return {"model": "stand-in", "task": "sentiment", "video_dir": video_dir,
            "labels_file": labels_file, "out": out, "retry": NO_WAIT, "progress": False,
            "concurrency": 2, **options}


def cli_run(video_dir, labels_file, out, *extra: str) -> list[str]:
    """`emosign mllm run`'s arguments for the same run."""
    return ["mllm", "run", "--model", "stand-in", "--task", "sentiment", "--video-dir",
            str(video_dir), "--labels-file", str(labels_file), "--out", str(out), "--quiet",
            *extra]


def all_bytes(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def one_error_line(err: str) -> str:
    """The one line the command line printed on stderr, checked to be an error, not a trace."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("emosign: error: "), err
    assert "Traceback" not in err
    return lines[0]


def subparser(*names: str):
    """The argparse parser of an `emosign` subcommand, e.g. ``subparser("mllm", "run")``."""
    import argparse

    from emosign.cli import build_parser

    parser = build_parser()
    for name in names:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


# --- reading a request ---------------------------------------------------------------------


def image_count(body: dict) -> int:
    """How many images the last message of a request holds."""
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return 0
    return sum(part.get("type") == "image_url" for part in content)


def last_text(body: dict) -> str:
    """The last text part of a request's last message (the prompt)."""
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return [part["text"] for part in content if part.get("type") == "text"][-1]
