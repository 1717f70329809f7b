"""Tests for emosign.hub: where the labels come from and how they are verified.

No test touches the network. The download path is exercised for real, through
``huggingface_hub.hf_hub_download``, against a stand-in Hub: a small HTTP server on
127.0.0.1 serving a synthetic CSV. An autouse fixture makes every HTTP request that
huggingface_hub sends to any other host fail the test.

The real labels file is checked only when ``EMOSIGN_LABELS`` names it.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants
from huggingface_hub import set_client_factory
from huggingface_hub.utils._http import default_client_factory

from emosign import hub

# Read before the autouse fixture below clears it for every test.
REAL_LABELS = os.environ.get("EMOSIGN_LABELS", "").strip() or None

SYNTHETIC_CSV = (
    b"video_id,sentiment,emotions\n"
    b"clip_001,2,joy\n"
    b"clip_002,-1,sadness;anger\n"
)
SYNTHETIC_SHA256 = hashlib.sha256(SYNTHETIC_CSV).hexdigest()

# A commit of the stand-in Hub other than the pinned one, and the one "main" points to.
OTHER_COMMIT = "0123456789abcdef0123456789abcdef01234567"
HUB_PATH_PREFIX = f"/datasets/{hub.HUB_REPO_ID}/resolve/"


# --------------------------------------------------------------------------- #
# Keep every test away from huggingface.co and from the developer's setup
# --------------------------------------------------------------------------- #


def _refuse_non_local_request(request) -> None:
    """httpx2 request hook: fail loudly if huggingface_hub tries to leave 127.0.0.1."""
    if request.url.host != "127.0.0.1":
        raise AssertionError(f"test tried to reach the network: {request.method} {request.url}")


def _local_only_client():
    """huggingface_hub's usual HTTP client, plus the hook above."""
    client = default_client_factory()
    hooks = client.event_hooks
    client.event_hooks = {**hooks, "request": [*hooks["request"], _refuse_non_local_request]}
    return client


@pytest.fixture(autouse=True)
def isolated_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No network beyond 127.0.0.1, no token sent, no inherited EmoSign/HF settings."""
    monkeypatch.delenv("EMOSIGN_LABELS", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    # A proxy from the environment would swallow requests to the stand-in Hub.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    # huggingface_hub read these at import time, so setting the env vars would not work.
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", True)
    set_client_factory(_local_only_client)
    yield
    set_client_factory(default_client_factory)


# --------------------------------------------------------------------------- #
# The stand-in Hub
# --------------------------------------------------------------------------- #


class StandInHub:
    """A minimal Hub on 127.0.0.1 serving ``emosign_dataset.csv`` at given commits.

    It answers ``HEAD`` and ``GET /datasets/catfang/emosign/resolve/<rev>/emosign_dataset.csv``
    with the headers ``hf_hub_download`` needs (``X-Repo-Commit``, ``ETag``,
    ``Content-Length``), resolves the branch ``main`` to ``main_commit``, and
    answers an unknown revision the way the Hub does (404 + ``X-Error-Code``).
    Every request is recorded in ``requests`` as ``(method, path)``. With
    ``act_as_hub=False`` it leaves out ``X-Repo-Commit``, like a server that is not a Hub.
    """

    def __init__(
        self, files: dict[str, bytes], *, main_commit: str | None = None, act_as_hub: bool = True
    ) -> None:
        self.files = files
        self.main_commit = main_commit
        self.act_as_hub = act_as_hub
        self.requests: list[tuple[str, str]] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def shutdown(self) -> None:
        """Stop serving and free the port: later requests get "connection refused"."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_HEAD(self) -> None:
                self._answer(send_body=False)

            def do_GET(self) -> None:
                self._answer(send_body=True)

            def _answer(self, *, send_body: bool) -> None:
                stand_in.requests.append((self.command, self.path))
                revision, body = self._lookup()
                if body is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "RevisionNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                if stand_in.act_as_hub:
                    self.send_header("X-Repo-Commit", revision)
                self.send_header("ETag", f'"{hashlib.sha1(body).hexdigest()}"')
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

            def _lookup(self) -> tuple[str, bytes | None]:
                """The commit and the bytes a request asks for, or ``("", None)``."""
                if not self.path.startswith(HUB_PATH_PREFIX):
                    return "", None
                revision, _, filename = self.path[len(HUB_PATH_PREFIX) :].partition("/")
                if revision == "main" and stand_in.main_commit is not None:
                    revision = stand_in.main_commit
                if filename != hub.HUB_FILENAME or revision not in stand_in.files:
                    return "", None
                return revision, stand_in.files[revision]

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep pytest output clean

        return Handler


@pytest.fixture
def stand_in_hub() -> Iterator[StandInHub]:
    """A stand-in Hub serving the synthetic CSV at the pinned commit and at OTHER_COMMIT."""
    server = StandInHub(
        {hub.HUB_REVISION: SYNTHETIC_CSV, OTHER_COMMIT: SYNTHETIC_CSV},
        main_commit=OTHER_COMMIT,
    )
    yield server
    server.shutdown()


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "hf-cache"


def _downloads(server: StandInHub) -> list[tuple[str, str]]:
    return [request for request in server.requests if request[0] == "GET"]


def test_requests_beyond_127_0_0_1_are_refused(stand_in_hub: StandInHub, cache_dir: Path) -> None:
    # Checks the guard itself, against a host that is only spelled differently,
    # so that even a broken guard would reach nothing but the stand-in.
    port = stand_in_hub.endpoint.rsplit(":", 1)[1]
    with pytest.raises(AssertionError, match="tried to reach the network"):
        hub.fetch_labels(
            revision=OTHER_COMMIT, sha256=None, cache_dir=cache_dir,
            endpoint=f"http://localhost:{port}",
        )
    assert stand_in_hub.requests == []


# --------------------------------------------------------------------------- #
# Constants and hashing
# --------------------------------------------------------------------------- #


def test_pinned_constants_are_well_formed() -> None:
    assert hub.HUB_REPO_ID == "catfang/emosign"
    assert hub.HUB_FILENAME == "emosign_dataset.csv"
    assert re.fullmatch(r"[0-9a-f]{40}", hub.HUB_REVISION)
    assert re.fullmatch(r"[0-9a-f]{64}", hub.HUB_SHA256)
    assert hub.HUB_NUM_BYTES == 67_018


def test_sha256_of_streams_the_whole_file(tmp_path: Path) -> None:
    # Bigger than one read chunk, so a hash of only the first chunk would differ.
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert hub.sha256_of(path) == hashlib.sha256(data).hexdigest()
    assert hub.sha256_of(str(path)) == hashlib.sha256(data).hexdigest()


def test_label_source_is_frozen(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes(SYNTHETIC_CSV)
    source = hub.local_labels(path)
    with pytest.raises(FrozenInstanceError):
        source.sha256 = "0" * 64  # type: ignore[misc]


# --------------------------------------------------------------------------- #
# Downloading from the stand-in Hub
# --------------------------------------------------------------------------- #


def test_download_with_matching_hash(stand_in_hub: StandInHub, cache_dir: Path) -> None:
    source = hub.fetch_labels(
        revision=OTHER_COMMIT,
        sha256=SYNTHETIC_SHA256,
        cache_dir=cache_dir,
        endpoint=stand_in_hub.endpoint,
    )
    assert source.origin == "hub"
    assert source.revision == OTHER_COMMIT
    assert source.sha256 == SYNTHETIC_SHA256
    assert source.num_bytes == len(SYNTHETIC_CSV)
    assert Path(source.path).read_bytes() == SYNTHETIC_CSV
    assert Path(source.path).resolve().is_relative_to(cache_dir.resolve())
    assert ("GET", f"{HUB_PATH_PREFIX}{OTHER_COMMIT}/{hub.HUB_FILENAME}") in stand_in_hub.requests


def test_expected_hash_is_case_insensitive(stand_in_hub: StandInHub, cache_dir: Path) -> None:
    source = hub.fetch_labels(
        revision=OTHER_COMMIT,
        sha256=SYNTHETIC_SHA256.upper(),
        cache_dir=cache_dir,
        endpoint=stand_in_hub.endpoint,
    )
    assert source.sha256 == SYNTHETIC_SHA256


def test_mismatched_hash_is_refused(stand_in_hub: StandInHub, cache_dir: Path) -> None:
    wrong = "ab" * 32
    with pytest.raises(hub.LabelHashError) as caught:
        hub.fetch_labels(
            revision=OTHER_COMMIT, sha256=wrong, cache_dir=cache_dir, endpoint=stand_in_hub.endpoint
        )
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.expected, error.actual, error.revision) == (wrong, SYNTHETIC_SHA256, OTHER_COMMIT)
    message = str(error)
    assert wrong in message
    assert SYNTHETIC_SHA256 in message
    assert f"catfang/emosign@{OTHER_COMMIT}" in message
    assert f'load_emosign(revision="{OTHER_COMMIT}", labels_sha256="{SYNTHETIC_SHA256}")' in message
    assert f'fetch_labels(revision="{OTHER_COMMIT}", sha256="{SYNTHETIC_SHA256}")' in message
    assert "sha256=None" in message


def test_pinned_revision_defaults_to_the_pinned_hash(
    stand_in_hub: StandInHub, cache_dir: Path
) -> None:
    # The stand-in serves synthetic bytes at the pinned commit, so the default
    # expectation (HUB_SHA256) must reject them.
    with pytest.raises(hub.LabelHashError) as caught:
        hub.fetch_labels(cache_dir=cache_dir, endpoint=stand_in_hub.endpoint)
    assert caught.value.expected == hub.HUB_SHA256
    assert caught.value.revision == hub.HUB_REVISION
    assert hub.HUB_SHA256 in str(caught.value)
    assert SYNTHETIC_SHA256 in str(caught.value)


def test_other_revision_without_a_hash_is_refused(
    stand_in_hub: StandInHub, cache_dir: Path
) -> None:
    with pytest.raises(hub.LabelHashError) as caught:
        hub.fetch_labels(revision=OTHER_COMMIT, cache_dir=cache_dir, endpoint=stand_in_hub.endpoint)
    assert caught.value.expected is None
    message = str(caught.value)
    assert "no sha256 was given" in message
    assert hub.HUB_REVISION in message
    assert f'sha256="{SYNTHETIC_SHA256}"' in message


def test_other_revision_accepted_with_sha256_none(
    stand_in_hub: StandInHub, cache_dir: Path
) -> None:
    source = hub.fetch_labels(
        revision=OTHER_COMMIT, sha256=None, cache_dir=cache_dir, endpoint=stand_in_hub.endpoint
    )
    assert source.sha256 == SYNTHETIC_SHA256
    assert source.revision == OTHER_COMMIT


def test_branch_is_recorded_as_its_commit(stand_in_hub: StandInHub, cache_dir: Path) -> None:
    source = hub.fetch_labels(
        revision="main", sha256=None, cache_dir=cache_dir, endpoint=stand_in_hub.endpoint
    )
    assert source.revision == OTHER_COMMIT


def test_branch_mismatch_suggests_pinning_the_commit(
    stand_in_hub: StandInHub, cache_dir: Path
) -> None:
    with pytest.raises(hub.LabelHashError) as caught:
        hub.fetch_labels(revision="main", cache_dir=cache_dir, endpoint=stand_in_hub.endpoint)
    assert caught.value.commit == OTHER_COMMIT
    assert f'revision="{OTHER_COMMIT}"' in str(caught.value)


def test_malformed_expected_hash_fails_before_any_request(
    stand_in_hub: StandInHub, cache_dir: Path
) -> None:
    with pytest.raises(ValueError, match="64 hex digits") as caught:
        hub.fetch_labels(
            revision=OTHER_COMMIT, sha256=OTHER_COMMIT, cache_dir=cache_dir,
            endpoint=stand_in_hub.endpoint,
        )
    assert not isinstance(caught.value, hub.LabelHashError)
    assert stand_in_hub.requests == []


def test_unknown_revision_gives_a_clear_error(stand_in_hub: StandInHub, cache_dir: Path) -> None:
    missing = "f" * 40
    with pytest.raises(hub.LabelFetchError) as caught:
        hub.fetch_labels(
            revision=missing, sha256=None, cache_dir=cache_dir, endpoint=stand_in_hub.endpoint
        )
    message = str(caught.value)
    assert f"could not fetch catfang/emosign@{missing}" in message
    assert "RevisionNotFoundError" in message
    assert "EMOSIGN_LABELS" in message and "labels_file=" in message


# --------------------------------------------------------------------------- #
# The cache, and working offline
# --------------------------------------------------------------------------- #


def _offline_by_argument(monkeypatch: pytest.MonkeyPatch) -> dict:
    return {"local_files_only": True}


def _offline_by_hf_constant(monkeypatch: pytest.MonkeyPatch) -> dict:
    # What HF_HUB_OFFLINE=1 in the shell amounts to: huggingface_hub reads it at import.
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    return {}


def _offline_by_env_set_late(monkeypatch: pytest.MonkeyPatch) -> dict:
    # Set after huggingface_hub was imported: fetch_labels must read it itself.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return {}


OFFLINE_WAYS = pytest.mark.parametrize(
    "go_offline",
    [_offline_by_argument, _offline_by_hf_constant, _offline_by_env_set_late],
    ids=["local_files_only", "hf-constant", "env-set-late"],
)


@OFFLINE_WAYS
@pytest.mark.parametrize("revision", [OTHER_COMMIT, "main"])
def test_second_call_is_served_from_the_cache_offline(
    stand_in_hub: StandInHub,
    cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    go_offline,
    revision: str,
) -> None:
    first = hub.fetch_labels(
        revision=revision, sha256=SYNTHETIC_SHA256, cache_dir=cache_dir,
        endpoint=stand_in_hub.endpoint,
    )
    assert len(_downloads(stand_in_hub)) == 1
    stand_in_hub.shutdown()

    second = hub.fetch_labels(
        revision=revision, sha256=SYNTHETIC_SHA256, cache_dir=cache_dir,
        endpoint=stand_in_hub.endpoint, **go_offline(monkeypatch),
    )
    assert second == first
    assert len(_downloads(stand_in_hub)) == 1


def test_cached_commit_needs_no_request_even_online(
    stand_in_hub: StandInHub, cache_dir: Path
) -> None:
    kwargs = dict(
        revision=OTHER_COMMIT, sha256=SYNTHETIC_SHA256, cache_dir=cache_dir,
        endpoint=stand_in_hub.endpoint,
    )
    first = hub.fetch_labels(**kwargs)
    seen = len(stand_in_hub.requests)
    assert hub.fetch_labels(**kwargs) == first
    assert len(stand_in_hub.requests) == seen


def test_cached_file_is_still_verified(stand_in_hub: StandInHub, cache_dir: Path) -> None:
    source = hub.fetch_labels(
        revision=OTHER_COMMIT, sha256=None, cache_dir=cache_dir, endpoint=stand_in_hub.endpoint
    )
    with pytest.raises(hub.LabelHashError):
        hub.fetch_labels(
            revision=OTHER_COMMIT, sha256="cd" * 32, cache_dir=cache_dir, local_files_only=True
        )
    assert Path(source.path).exists()


@OFFLINE_WAYS
def test_offline_with_empty_cache_gives_a_clear_error(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch, go_offline
) -> None:
    with pytest.raises(hub.LabelFetchError) as caught:
        hub.fetch_labels(cache_dir=cache_dir, **go_offline(monkeypatch))
    message = str(caught.value)
    assert f"could not fetch catfang/emosign@{hub.HUB_REVISION}" in message
    assert "offline and not cached" in message
    assert "EMOSIGN_LABELS" in message and "labels_file=" in message
    assert isinstance(caught.value, OSError)


def test_endpoint_that_is_not_a_hub_gives_a_clear_error(cache_dir: Path) -> None:
    # A server that answers but without X-Repo-Commit: huggingface_hub gives up
    # without retrying, and nothing is cached to fall back on.
    server = StandInHub({OTHER_COMMIT: SYNTHETIC_CSV}, act_as_hub=False)
    try:
        with pytest.raises(hub.LabelFetchError) as caught:
            hub.fetch_labels(revision=OTHER_COMMIT, sha256=None, cache_dir=cache_dir,
                             endpoint=server.endpoint)
    finally:
        server.shutdown()
    assert f"could not fetch catfang/emosign@{OTHER_COMMIT}" in str(caught.value)
    assert "no cached copy" in str(caught.value)
    assert server.requests  # it really asked the server, and then gave up


def test_prepopulated_cache_is_used_offline_and_verified(cache_dir: Path) -> None:
    # The layout hf_hub_download writes: a blob, and a snapshot entry for the commit.
    snapshot = cache_dir / "datasets--catfang--emosign" / "snapshots" / OTHER_COMMIT
    snapshot.mkdir(parents=True)
    (snapshot / hub.HUB_FILENAME).write_bytes(SYNTHETIC_CSV)

    source = hub.fetch_labels(
        revision=OTHER_COMMIT, sha256=SYNTHETIC_SHA256, cache_dir=cache_dir, local_files_only=True
    )
    assert source.origin == "hub"
    assert (source.sha256, source.revision) == (SYNTHETIC_SHA256, OTHER_COMMIT)


def test_tampered_cache_at_the_pinned_revision_is_refused(cache_dir: Path) -> None:
    snapshot = cache_dir / "datasets--catfang--emosign" / "snapshots" / hub.HUB_REVISION
    snapshot.mkdir(parents=True)
    (snapshot / hub.HUB_FILENAME).write_bytes(SYNTHETIC_CSV)
    with pytest.raises(hub.LabelHashError) as caught:
        hub.fetch_labels(cache_dir=cache_dir, local_files_only=True)
    assert caught.value.expected == hub.HUB_SHA256
    assert caught.value.actual == SYNTHETIC_SHA256


# --------------------------------------------------------------------------- #
# Local files and precedence
# --------------------------------------------------------------------------- #


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_local_labels_records_without_checking(tmp_path: Path) -> None:
    path = _write(tmp_path / "edited.csv", SYNTHETIC_CSV + b"clip_003,0,neutral\n")
    source = hub.local_labels(path)
    assert source.origin == "local"
    assert source.revision is None
    assert source.path == str(path.resolve())
    assert source.num_bytes == len(SYNTHETIC_CSV) + len(b"clip_003,0,neutral\n")
    assert source.sha256 == hub.sha256_of(path) != SYNTHETIC_SHA256


def test_local_labels_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "labels.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        hub.local_labels(missing)


def test_local_labels_rejects_a_directory(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match=re.escape(str(tmp_path))):
        hub.local_labels(tmp_path)


def test_local_labels_rejects_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        hub.local_labels(_write(tmp_path / "empty.csv", b""))


def test_explicit_labels_file_beats_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = _write(tmp_path / "explicit.csv", SYNTHETIC_CSV)
    from_env = _write(tmp_path / "from_env.csv", SYNTHETIC_CSV + b"clip_003,0,neutral\n")
    monkeypatch.setenv("EMOSIGN_LABELS", str(from_env))
    source = hub.resolve_label_source(explicit)
    assert source.path == str(explicit.resolve())
    assert source.origin == "local"


def test_environment_beats_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stand_in_hub: StandInHub
) -> None:
    from_env = _write(tmp_path / "from_env.csv", SYNTHETIC_CSV)
    monkeypatch.setenv("EMOSIGN_LABELS", str(from_env))
    source = hub.resolve_label_source(
        cache_dir=tmp_path / "cache", endpoint=stand_in_hub.endpoint
    )
    assert source.path == str(from_env.resolve())
    assert source.origin == "local"
    assert stand_in_hub.requests == []


def test_hub_is_the_last_resort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stand_in_hub: StandInHub
) -> None:
    monkeypatch.setenv("EMOSIGN_LABELS", "")  # empty counts as unset
    source = hub.resolve_label_source(
        revision=OTHER_COMMIT, sha256=SYNTHETIC_SHA256, cache_dir=tmp_path / "cache",
        endpoint=stand_in_hub.endpoint,
    )
    assert source.origin == "hub"
    assert source.revision == OTHER_COMMIT
    assert _downloads(stand_in_hub)


def test_resolve_keeps_the_hash_check(
    tmp_path: Path, stand_in_hub: StandInHub
) -> None:
    with pytest.raises(hub.LabelHashError):
        hub.resolve_label_source(cache_dir=tmp_path / "cache", endpoint=stand_in_hub.endpoint)


def test_missing_file_from_the_environment_names_path_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone.csv"
    monkeypatch.setenv("EMOSIGN_LABELS", str(missing))
    with pytest.raises(FileNotFoundError) as caught:
        hub.resolve_label_source()
    assert str(missing) in str(caught.value)
    assert "EMOSIGN_LABELS" in str(caught.value)


def test_missing_explicit_file_is_not_replaced_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMOSIGN_LABELS", str(_write(tmp_path / "ok.csv", SYNTHETIC_CSV)))
    missing = tmp_path / "typo.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        hub.resolve_label_source(missing)


# --------------------------------------------------------------------------- #
# The real labels file, when the environment provides it
# --------------------------------------------------------------------------- #

needs_real_labels = pytest.mark.skipif(
    REAL_LABELS is None, reason="set EMOSIGN_LABELS to the real emosign_dataset.csv"
)


@needs_real_labels
def test_real_labels_file_matches_the_pin() -> None:
    assert hub.sha256_of(REAL_LABELS) == hub.HUB_SHA256
    assert os.path.getsize(REAL_LABELS) == hub.HUB_NUM_BYTES
    source = hub.local_labels(REAL_LABELS)
    assert (source.sha256, source.num_bytes) == (hub.HUB_SHA256, hub.HUB_NUM_BYTES)


@needs_real_labels
def test_real_labels_pass_the_default_check_from_the_cache(cache_dir: Path) -> None:
    snapshot = cache_dir / "datasets--catfang--emosign" / "snapshots" / hub.HUB_REVISION
    snapshot.mkdir(parents=True)
    shutil.copyfile(REAL_LABELS, snapshot / hub.HUB_FILENAME)
    source = hub.fetch_labels(cache_dir=cache_dir, local_files_only=True)
    assert (source.sha256, source.revision) == (hub.HUB_SHA256, hub.HUB_REVISION)


# --------------------------------------------------------------------------- #
# No network: fail at once, in the caller's terms
# --------------------------------------------------------------------------- #


@pytest.fixture
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if huggingface_hub starts its retry backoff (it sleeps between tries)."""
    from huggingface_hub.utils import _http

    def refuse(seconds: float) -> None:
        raise AssertionError(f"huggingface_hub retried (sleep {seconds}s) instead of failing fast")

    monkeypatch.setattr(_http.time, "sleep", refuse)


def _closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on: connecting to it is refused at once."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_hub_fails_without_retrying(cache_dir: Path, no_retry_sleep) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(hub.LabelFetchError) as caught:
        hub.fetch_labels(cache_dir=cache_dir, endpoint=endpoint)
    message = str(caught.value)
    assert f"the Hub at {endpoint} cannot be reached" in message
    assert "no cached copy exists" in message
    assert "EMOSIGN_LABELS" in message and "labels_file=" in message
    assert "--labels-file" in caught.value.for_command_line()
    assert "labels_file=" not in caught.value.for_command_line()


def test_server_errors_are_not_retried(cache_dir: Path, no_retry_sleep) -> None:
    class Failing(http.server.BaseHTTPRequestHandler):
        calls = 0

        def do_HEAD(self) -> None:
            type(self).calls += 1
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        with pytest.raises(hub.LabelFetchError) as caught:
            hub.fetch_labels(cache_dir=cache_dir,
                             endpoint=f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert "answered HTTP 503" in str(caught.value)
    assert Failing.calls == 1


def test_unreachable_hub_falls_back_to_a_cached_branch(
    stand_in_hub: StandInHub, cache_dir: Path, no_retry_sleep
) -> None:
    first = hub.fetch_labels(
        revision="main", sha256=None, cache_dir=cache_dir, endpoint=stand_in_hub.endpoint
    )
    stand_in_hub.shutdown()
    again = hub.fetch_labels(
        revision="main", sha256=None, cache_dir=cache_dir, endpoint=stand_in_hub.endpoint
    )
    assert again.path == first.path and again.revision == OTHER_COMMIT


def test_a_cached_commit_is_used_without_asking_the_hub(
    stand_in_hub: StandInHub, cache_dir: Path
) -> None:
    hub.fetch_labels(revision=OTHER_COMMIT, sha256=None, cache_dir=cache_dir,
                     endpoint=stand_in_hub.endpoint)
    asked = len(stand_in_hub.requests)
    hub.fetch_labels(revision=OTHER_COMMIT, sha256=None, cache_dir=cache_dir,
                     endpoint=stand_in_hub.endpoint)
    assert len(stand_in_hub.requests) == asked


def _emosign(args: list[str], env_changes: dict[str, str], tmp_path: Path):
    """Run the emosign command in a fresh interpreter with an empty Hub cache."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"EMOSIGN_LABELS", "HF_HUB_OFFLINE"}}
    env.update({"HF_HOME": str(tmp_path / "hf-home"), **env_changes})
    return subprocess.run([sys.executable, "-m", "emosign.cli", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [["info"], ["export-labels", "--config", "clips"],
                                     ["evaluate", "--task", "sentiment_3", "--predictions", "p.csv"],
                                     ["repro"], ["cues"]])
@pytest.mark.parametrize("network", ["HF_HUB_OFFLINE=1", "closed port"])
def test_every_command_without_labels_says_how_to_give_them(
    command: list[str], network: str, tmp_path: Path
) -> None:
    if network == "HF_HUB_OFFLINE=1":
        env = {"HF_HUB_OFFLINE": "1"}
    else:
        env = {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}
    done = _emosign(command, env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("emosign: error: could not fetch catfang/emosign@")
    assert "Traceback" not in done.stderr and "labels_file=" not in done.stderr
    for way in ("--labels-file PATH", "EMOSIGN_LABELS=PATH", "once while online"):
        assert way in done.stderr
    assert ("offline and not cached" if network == "HF_HUB_OFFLINE=1" else "cannot be reached") in done.stderr


@pytest.mark.parametrize("network", ["HF_HUB_OFFLINE=1", "closed port"])
def test_export_hub_push_offline_fails_before_writing(network: str, tmp_path: Path) -> None:
    from conftest import SYNTHETIC_ROWS, write_label_file

    labels = write_label_file(tmp_path / "labels.csv", SYNTHETIC_ROWS)
    env = ({"HF_HUB_OFFLINE": "1"} if network == "HF_HUB_OFFLINE=1"
           else {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"})
    done = _emosign(["export-hub", "out", "--push", "someone/emosign", "--labels-file", str(labels)],
                    env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("emosign: error: cannot push to someone/emosign:")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_corrupt_cached_copy_is_one_command_line_error(tmp_path: Path) -> None:
    cache = tmp_path / "hf-home" / "hub"
    snapshot = cache / "datasets--catfang--emosign" / "snapshots" / hub.HUB_REVISION
    snapshot.mkdir(parents=True)
    (snapshot / hub.HUB_FILENAME).write_bytes(SYNTHETIC_CSV)
    done = _emosign(["info"], {"HF_HUB_OFFLINE": "1"}, tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("emosign: error: emosign_dataset.csv from the Hub cache does not "
                                  "have the pinned sha256")
    assert SYNTHETIC_SHA256 in done.stderr and "--labels-file PATH" in done.stderr
    assert "Traceback" not in done.stderr and "labels_sha256" not in done.stderr
