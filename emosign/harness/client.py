"""The model side of the harness: an OpenAI-compatible client, its errors and its retries.

A model is any :data:`ChatFn`, a function from the Chat Completions messages of one request
to the answer text. :class:`OpenAIChat` is the one for an OpenAI-compatible server (OpenAI,
vLLM, Ollama, LM Studio, ...); :func:`call_with_retries` retries a :class:`TransientError`
with the backoff of a :class:`RetryPolicy`. The API key is read from the environment only,
and every message that could echo it is scrubbed (:func:`redact`).
"""

from __future__ import annotations

import email.utils
import os
import re
import socket
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from emosign._extras import install_hint
from emosign.errors import EmosignError, InputError, MissingExtraError
from emosign.harness.config import ClientConfig, RetryPolicy, configure, refuse_unknown

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from emosign.harness.config import ClientOptions

__all__ = [
    "REDACTED",
    "ChatFn",
    "ChatSetup",
    "ConnectionFailed",
    "MLLMError",
    "Message",
    "OpenAIChat",
    "RequestError",
    "TransientError",
    "call_with_retries",
    "chat_for",
    "public_url",
    "redact",
    "retry_after_seconds",
]

#: One Chat Completions message: ``{"role": "user", "content": [parts...]}``.
Message = dict[str, Any]
#: A model: takes the messages of one request, returns the answer text.
ChatFn = Callable[[list[Message]], str]


# --- errors and retries --------------------------------------------------------------------


class MLLMError(EmosignError, RuntimeError):
    """A problem that stops the whole run: no API key, a rejected key, an unknown model."""


class TransientError(Exception):
    """A request that may succeed if tried again: a rate limit, a server error, a timeout.

    A :data:`ChatFn` raises it to ask for a retry; ``retry_after`` is the server's
    ``Retry-After`` in seconds, if it sent one.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConnectionFailed(TransientError):
    """A request that never reached the server: refused, no route, a name that does not
    resolve. Retried like any :class:`TransientError`; a run stops early when its first
    attempts all end this way (see :func:`emosign.harness.runner.run_mllm`)."""


class RequestError(Exception):
    """A request for one clip that failed for good; the clip gets an error line.

    Parameters
    ----------
    message : str
        What went wrong (never the key).
    attempts : int
        The attempts made.
    """

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


def call_with_retries(
    chat: ChatFn,
    messages: list[Message],
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[str, int]:
    """Ask ``chat``, retrying on :class:`TransientError`.

    Parameters
    ----------
    chat : ChatFn
        The model.
    messages : list of Message
        The request.
    retry : RetryPolicy, optional
        When to retry (default ``RetryPolicy()``).
    sleep : callable
        Waits the given seconds between attempts (a test passes one that does not).

    Returns
    -------
    tuple of (str, int)
        The answer text, and the number of attempts made.

    Raises
    ------
    RequestError
        When the retries are used up; its ``attempts`` says how many were made.
    """
    retry = retry or RetryPolicy()
    for attempt in range(retry.max_retries + 1):
        try:
            return chat(messages), attempt + 1
        except TransientError as err:
            if attempt == retry.max_retries:
                raise RequestError(
                    f"gave up after {attempt + 1} attempt(s): {err}", attempts=attempt + 1
                ) from None
            sleep(retry.delay(attempt, err.retry_after))
    raise AssertionError("unreachable")


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a server asks for, in seconds.

    Parameters
    ----------
    headers : Mapping of str to str
        The response's headers (any case).

    Returns
    -------
    float or None
        ``Retry-After`` in seconds or as an HTTP date, or the ``retry-after-ms`` header some
        servers send; None if absent or unreadable.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return max(float(lowered["retry-after-ms"]) / 1000, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


# --- the OpenAI-compatible client ----------------------------------------------------------

# Statuses worth retrying: timeout, conflict, rate limit, and any server error.
_TRANSIENT_STATUS = frozenset({408, 409, 429})
# Statuses that no other clip will escape: a bad key, no access, no such model or endpoint.
_FATAL_STATUS = frozenset({401, 403, 404})
# Local servers (vLLM, Ollama, LM Studio) ignore the key, but the openai package needs one.
_PLACEHOLDER_KEY = "unused"


class OpenAIChat:
    """A :data:`ChatFn` that calls an OpenAI-compatible Chat Completions endpoint.

    Parameters
    ----------
    model : str
        The model name the server knows.
    config : ClientConfig, optional
        The server, the key's environment variable, the timeout, ``temperature`` and
        ``max_tokens`` (sent with every request; None leaves them to the server). The key
        is read from the environment only; without it a local server (``base_url`` given)
        is sent a placeholder, and api.openai.com is an error.
    **options
        Fields of :class:`~emosign.harness.config.ClientConfig`, overriding ``config``'s.

    Raises
    ------
    MLLMError
        If api.openai.com is asked without a key.
    MissingExtraError
        If the ``openai`` package (the ``mllm`` extra) is not installed.

    Notes
    -----
    A request's errors are raised as :class:`TransientError` (429, 408, 409, 5xx,
    timeouts; a :class:`ConnectionFailed` for a server that cannot be reached),
    :class:`MLLMError` (401, 403, 404: the run stops) or :class:`RequestError` (any other
    refusal of this one request, e.g. 400 for too many images). Their messages never hold
    the key.
    """

    def __init__(self, *, model: str, config: ClientConfig | None = None,
                 **options: Unpack[ClientOptions]) -> None:
        settings = dict(options)
        config = configure(config or ClientConfig(), settings)
        refuse_unknown("OpenAIChat", settings)
        base_url, api_key_env = config.base_url, config.api_key_env
        try:
            import openai  # the mllm extra: imported when a client is made
        except ImportError:
            raise MissingExtraError(
                f"the MLLM harness needs the openai package: {install_hint('mllm')}"
            ) from None
        key = os.environ.get(api_key_env)
        if not key:
            if base_url is None:
                raise MLLMError(
                    f"no API key: set the environment variable {api_key_env}, or pass "
                    "base_url for a local server that needs none"
                )
            key = _PLACEHOLDER_KEY
        self.model = model
        self.config = config
        self.base_url = base_url
        self.timeout = config.timeout
        self.temperature = config.temperature
        self.max_tokens = config.max_tokens
        self._openai = openai
        # The package's own retries are off: RetryPolicy decides, for every client alike.
        self._client = openai.OpenAI(api_key=key, base_url=base_url, timeout=config.timeout,
                                     max_retries=0)
        if key == _PLACEHOLDER_KEY:
            self.secrets: tuple[str, ...] = ()
        else:
            # The key, and every header value that carries it ("Bearer <key>"): a server may
            # echo either back, and both are scrubbed from whatever is kept.
            carried = [v for v in self._client.auth_headers.values()
                       if isinstance(v, str) and key in v]
            self.secrets = (*carried, key)

    def __repr__(self) -> str:
        return f"OpenAIChat(model={self.model!r}, base_url={public_url(self.base_url)!r})"

    def __call__(self, messages: list[Message]) -> str:
        openai = self._openai
        options: dict[str, Any] = {}
        if self.temperature is not None:
            options["temperature"] = self.temperature
        if self.max_tokens is not None:
            options["max_tokens"] = self.max_tokens
        try:
            # Message is the wire format's plain dicts; openai's TypedDicts describe the same.
            response = self._client.chat.completions.create(
                model=self.model, messages=cast(Any, messages), **options
            )
        except openai.APITimeoutError:
            raise TransientError(f"no answer within the timeout of {self.timeout:g} s") from None
        except openai.APIConnectionError as err:
            if _never_sent(err):
                raise ConnectionFailed(self.redact(f"connection failed: {err}")) from None
            # Reset, or the reply cut short, after the request went out: the server is
            # there, so this is no sign of a dead one; retried like a 5xx.
            raise TransientError(
                self.redact(f"connection dropped after the request was sent: {_cause(err)}")
            ) from None
        except openai.APIStatusError as err:
            status = err.status_code
            message = self.redact(f"HTTP {status}: {err.message}")
            if status in _TRANSIENT_STATUS or status >= 500:
                retry_after = retry_after_seconds(err.response.headers)
                raise TransientError(message, retry_after=retry_after) from None
            if status in _FATAL_STATUS:
                where = public_url(self.base_url) or "api.openai.com"
                raise MLLMError(
                    f"{message} (model {self.model!r} at {where}; check the key, the model "
                    "name and the base URL)"
                ) from None
            raise RequestError(message) from None
        if not response.choices:
            raise RequestError("the response holds no choices")
        reply = response.choices[0].message
        # A model that refuses may leave content empty and explain in "refusal".
        return reply.content or getattr(reply, "refusal", None) or ""

    def redact(self, text: str) -> str:
        """``text`` without the key or the header values that carried it.

        Parameters
        ----------
        text : str
            Anything that may hold them.

        Returns
        -------
        str
        """
        return redact(text, self.secrets)


# The transport errors (httpx's, by name: the openai package may bundle its own copy) and
# the OS errors that mean a request never went out.
_NOT_SENT_NAMES = frozenset({"ConnectError", "UnsupportedProtocol", "ProxyError"})


def _never_sent(err: BaseException) -> bool:
    """Whether a connection error happened before the request went out (refused, no route,
    a name that does not resolve, a scheme not spoken), as opposed to a connection reset or
    a reply cut short once the request was sent (a read or protocol error). Told by the
    errors the openai package wraps; without one that says "not sent", it counts as sent."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if type(cause).__name__ in _NOT_SENT_NAMES or isinstance(
            cause, (ConnectionRefusedError, socket.gaierror)
        ):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _cause(err: BaseException) -> str:
    """The transport error beneath a wrapped one, in one line."""
    inner = err.__cause__ or err.__context__ or err
    text = str(inner) or type(inner).__name__
    return " ".join(text.split())


@dataclass(frozen=True)
class ChatSetup:
    """The model a stage asks, and what the stage says and scrubs about it.

    Attributes
    ----------
    chat : ChatFn
        The model.
    name : str
        What it is, for a run's manifest ("openai-compatible chat completions", or
        "callable <name>").
    where : str
        Where it is, for messages ("the server at <url>", or the stage's words for a
        local model).
    secrets : tuple of str
        What is scrubbed from whatever is written, even if a server echoes it back: the key
        and the header values that carry it.
    """

    chat: ChatFn
    name: str
    where: str
    secrets: tuple[str, ...]


def chat_for(model: str, client: ChatFn | None, config: ClientConfig, *,
             local: str = "the model") -> ChatSetup:
    """The model to ask: ``client``, or an :class:`OpenAIChat` for ``model`` built from
    ``config``.

    Parameters
    ----------
    model : str
        The model's name, for the server.
    client : ChatFn or None
        A local model; None for an OpenAI-compatible server.
    config : ClientConfig
        The server's settings (a ``client`` is told none of them).
    local : str
        What a local model is called in messages.

    Returns
    -------
    ChatSetup

    Raises
    ------
    InputError
        If both ``client`` and ``config.base_url`` are given.
    """
    if client is not None and config.base_url is not None:
        raise InputError("pass either client (a local model) or base_url (a server), not both")
    if client is None:
        chat: ChatFn = OpenAIChat(model=model, config=config)
        name = "openai-compatible chat completions"
    else:
        chat = client
        name = f"callable {getattr(client, '__qualname__', type(client).__name__)}"
    secrets = [os.environ.get(config.api_key_env, "")]
    if isinstance(chat, OpenAIChat):
        where = f"the server at {public_url(chat.base_url) or 'api.openai.com'}"
        secrets.extend(chat.secrets)
    else:
        where = local
    return ChatSetup(chat=chat, name=name, where=where, secrets=tuple(secrets))


REDACTED = "[redacted]"
# A secret this long is scrubbed wherever it occurs, even inside a longer word: no answer
# holds such a string by chance. A shorter one ("sk-1234", or a placeholder such as "x" or
# "EMPTY" for a local server) is scrubbed wherever it stands as a word of its own, so that
# it never lands in a file while the words of an answer that merely contain it stay whole.
_MIN_SECRET_LENGTH = 8
_WORD_CHAR = "A-Za-z0-9"


def redact(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``"[redacted]"``, whatever its length.

    Longer secrets go first, so that a header value ``"Bearer <key>"`` is replaced whole. A
    secret of at least 8 characters is replaced wherever it occurs; a shorter one wherever
    it is not part of a longer run of letters and digits (``"sk-1234"`` goes from ``"you sent
    sk-1234."``; a key ``"x"`` leaves ``"explanation"`` alone). Empty secrets are ignored.

    Parameters
    ----------
    text : str
        Anything that may hold a secret.
    secrets : sequence of str
        The key, and the header values that carry it.

    Returns
    -------
    str
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
        else:
            pattern = rf"(?<![{_WORD_CHAR}]){re.escape(secret)}(?![{_WORD_CHAR}])"
            text = re.sub(pattern, REDACTED, text)
    return text


def public_url(url: str | None) -> str | None:
    """A URL without user, password, query or fragment, which may hold credentials.

    Parameters
    ----------
    url : str or None
        The URL.

    Returns
    -------
    str or None
        None if ``url`` is None.
    """
    if url is None:
        return None
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))
