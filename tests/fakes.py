"""Stand-ins shared by the tests (imported by conftest.py and by tests, never test-to-test).

:class:`ChatServer` is an OpenAI-compatible Chat Completions server on 127.0.0.1: every
``POST .../chat/completions`` is answered by a function of the request body, so a test
decides per request what the "model" says (or which HTTP error it returns). Nothing leaves
the machine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One reply: an answer (status 200) or an error status with a message."""

    text: str = ""
    status: int = 200


class ChatServer:
    """An OpenAI-compatible Chat Completions server on 127.0.0.1.

    ``answer(body) -> Reply | str`` decides each reply (a str is a 200 answer). ``bodies``
    holds every request body received, ``auth`` every Authorization header. ``url`` is the
    base URL (``http://127.0.0.1:<port>/v1``) to give a client.
    """

    def __init__(self, answer: Callable[[dict], Reply | str]) -> None:
        self.answer = answer
        self.bodies: list[dict] = []
        self.auth: list[str] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server._handle(self, body)

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # a client that gave up closed its socket: expected here

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        with self._lock:
            self.bodies.append(body)
            self.auth.append(handler.headers.get("Authorization", ""))
        reply = self.answer(body)
        if isinstance(reply, str):
            reply = Reply(reply)
        if reply.status == 200:
            payload = {
                "id": "chatcmpl-test", "object": "chat.completion", "created": 0,
                "model": body.get("model", ""),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply.text}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        else:
            payload = {"error": {"message": reply.text or f"scripted {reply.status}",
                                 "type": "test", "code": reply.status}}
        data = json.dumps(payload).encode()
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting


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
