"""The settings of the harness: how a model is asked, and how a clip becomes frames.

Each setting and its default is defined once, here, in the style of Inspect's
``GenerateConfig``: :class:`ClientConfig` says how a model is asked (which server, the
environment variable holding the key, how long to wait, when to retry, how many requests at
once, what to generate) for both stages of the harness, the run
(:func:`emosign.harness.runner.run_mllm`) and the extraction
(:func:`emosign.harness.extract.extract_answers`); :class:`FrameConfig` says how a clip is
sampled and encoded for a run. Both are frozen and checked when made: a value out of range
raises :class:`emosign.errors.InputError` naming the parameter, before anything is asked.
The command line (``emosign mllm run``, ``emosign mllm extract``) takes its option defaults
from these classes and builds them from its options.

:class:`RetryPolicy`, the retry part of a :class:`ClientConfig`, lives here too, so that the
client (:mod:`emosign.harness.client`) can take its settings from this module.

Example::

    from emosign.harness.config import ClientConfig, FrameConfig

    client = ClientConfig(base_url="http://localhost:11434/v1", concurrency=8)
    frames = FrameConfig(max_side=384)
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, cast

from emosign.errors import InputError
from emosign.harness.prompts import FROM_PROTOCOL, FromProtocol, Protocol

__all__ = [
    "DEFAULT_OUT",
    "EXTRACTION_CLIENT",
    "MAX_FPS",
    "MAX_JPEG_QUALITY",
    "MAX_TIMEOUT",
    "ClientConfig",
    "ClientOptions",
    "FrameConfig",
    "FrameOptions",
    "RetryPolicy",
    "RunOptions",
    "check_number",
    "configure",
    "refuse_unknown",
]

# Past these bounds lie no real use and real harm: a timeout the socket layer cannot
# represent, more frames per second than any camera (each one decoded), a JPEG quality
# Pillow advises against (the file grows, the picture hardly improves).
MAX_TIMEOUT = 86_400.0  # seconds per request: a day
#: The run folder of ``run_mllm`` (``--out``) when none is given.
DEFAULT_OUT = "emosign-mllm-runs"
MAX_FPS = 1000.0  # frames per second sampled
MAX_JPEG_QUALITY = 95


def check_number(name: str, value: object, *, low: float, inclusive: bool = True,
                 below: float | None = None, whole: bool = False, optional: bool = False) -> None:
    """Refuse a setting that is not a number in range, naming it.

    Parameters
    ----------
    name : str
        The parameter's name, as the message gives it.
    value : object
        The value to check.
    low : float
        The least value allowed (excluded if not ``inclusive``).
    inclusive : bool
        Whether ``low`` itself is allowed.
    below : float, optional
        A bound the value must stay under.
    whole : bool
        Whether the value must be a whole number.
    optional : bool
        Whether None is allowed.

    Raises
    ------
    InputError
        If ``value`` is not such a number (a bool never is).
    """
    if value is None and optional:
        return
    kind = "a whole number" if whole else "a finite number"
    bound = f"{'>=' if inclusive else '>'} {low:g}" + (f" and < {below:g}" if below else "")
    # numbers' ABCs take numpy's scalars too, without importing numpy at start-up.
    valid_type = isinstance(value, numbers.Integral if whole else numbers.Real)
    if isinstance(value, bool) or not valid_type:
        raise InputError(f"{name} must be {kind} {bound}{' or None' if optional else ''}, "
                         f"not {value!r}")
    number = cast(float, value)  # a number, checked above (an int may exceed any float)
    too_low = number < low or (number == low and not inclusive)
    too_high = below is not None and number >= below
    # math.isfinite: an int too large for a float is still finite, and not an error here.
    if too_low or too_high or (not isinstance(value, numbers.Integral)
                               and not math.isfinite(number)):
        raise InputError(f"{name} must be {kind} {bound}, not {value!r}")


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a request again.

    Attempt ``i`` (from 0) failing with a :class:`~emosign.harness.client.TransientError` is
    retried after the server's ``Retry-After`` (capped at ``max_retry_after``) or else after
    ``min(max_delay, base_delay * 2**i)`` seconds, stretched at random by up to ``jitter``
    of itself so that parallel requests do not retry in lockstep.

    Parameters
    ----------
    max_retries : int
        Retries after the first attempt (0: none).
    base_delay, max_delay : float
        The first backoff, and the longest, in seconds.
    jitter : float
        The largest random stretch of a backoff, as a fraction of it.
    max_retry_after : float
        The longest ``Retry-After`` honoured, in seconds.
    """

    max_retries: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.25
    max_retry_after: float = 600.0

    def __post_init__(self) -> None:
        check_number("max_retries", self.max_retries, low=0, whole=True)
        for name in ("base_delay", "max_delay", "jitter", "max_retry_after"):
            check_number(name, getattr(self, name), low=0)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retrying after failed attempt ``attempt`` (from 0).

        Parameters
        ----------
        attempt : int
            The failed attempt, from 0.
        retry_after : float or None
            The server's ``Retry-After`` in seconds, if it sent one.

        Returns
        -------
        float
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        backoff = min(self.max_delay, self.base_delay * 2**attempt)
        return backoff * (1 + self.jitter * random.random())


@dataclass(frozen=True)
class ClientConfig:
    """How a model is asked: the server, the key's variable, waiting, retrying, generating.

    Parameters
    ----------
    base_url : str or None
        An OpenAI-compatible API root, e.g. ``http://localhost:11434/v1`` (Ollama) or
        ``http://localhost:8000/v1`` (vLLM); None for api.openai.com.
    api_key_env : str
        The environment variable holding the API key. The key is read from the environment
        only and never written anywhere; without it a local server (``base_url`` given) is
        sent a placeholder.
    timeout : float
        Seconds to wait for one answer before retrying; > 0 and < :data:`MAX_TIMEOUT`.
    retry : RetryPolicy
        When to retry a request.
    concurrency : int
        Requests in flight at once, >= 1.
    temperature : float or None
        Sent with every request, >= 0; None leaves it to the server.
    max_tokens : int or None
        The longest answer, in tokens, >= 1; None leaves it to the server. The extraction
        stage's default is smaller (:data:`EXTRACTION_CLIENT`).

    Raises
    ------
    InputError
        If a value is out of range; the message names the parameter.
    """

    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency: int = 4
    temperature: float | None = 0.0
    max_tokens: int | None = 1024

    def __post_init__(self) -> None:
        if self.base_url is not None and not (isinstance(self.base_url, str) and self.base_url):
            raise InputError(f"base_url must be a URL or None, not {self.base_url!r}")
        if not isinstance(self.api_key_env, str) or not self.api_key_env.strip():
            raise InputError("api_key_env must name an environment variable, not "
                             f"{self.api_key_env!r}")
        check_number("timeout", self.timeout, low=0, inclusive=False, below=MAX_TIMEOUT)
        if not isinstance(self.retry, RetryPolicy):
            raise InputError(f"retry must be a RetryPolicy, not {self.retry!r}")
        check_number("concurrency", self.concurrency, low=1, whole=True)
        check_number("temperature", self.temperature, low=0, optional=True)
        check_number("max_tokens", self.max_tokens, low=1, whole=True, optional=True)


#: How the extraction stage (:mod:`emosign.harness.extract`) asks its text model by default:
#: as a run asks, but for at most 256 tokens (a label, or the joint answer's eleven numbers
#: as JSON).
EXTRACTION_CLIENT = ClientConfig(max_tokens=256)


@dataclass(frozen=True)
class FrameConfig:
    """How a clip becomes the frames a model is shown.

    Parameters
    ----------
    fps : float or FROM_PROTOCOL
        Frames per second sampled from each clip, > 0 and < :data:`MAX_FPS`; by default the
        protocol's (10).
    max_frames : int, None or FROM_PROTOCOL
        The cap beyond which frames are thinned evenly (None: no cap); by default the
        protocol's (48 for "emosign", none for "paper").
    max_side : int or None
        Each frame's longer side in pixels (shrunk, never enlarged; decoded at that size);
        None keeps the size decoded.
    jpeg_quality : int
        The JPEG quality of each frame sent, 1...95.

    Raises
    ------
    InputError
        If a value is out of range; the message names the parameter.
    """

    fps: float | FromProtocol = FROM_PROTOCOL
    max_frames: int | None | FromProtocol = FROM_PROTOCOL
    max_side: int | None = 512
    jpeg_quality: int = 85

    def __post_init__(self) -> None:
        if self.fps is not FROM_PROTOCOL:
            check_number("fps", self.fps, low=0, inclusive=False, below=MAX_FPS)
        if self.max_frames is not FROM_PROTOCOL:
            check_number("max_frames", self.max_frames, low=1, whole=True, optional=True)
        check_number("max_side", self.max_side, low=1, whole=True, optional=True)
        check_number("jpeg_quality", self.jpeg_quality, low=1, whole=True)
        if self.jpeg_quality > MAX_JPEG_QUALITY:
            raise InputError(f"jpeg_quality must be at most {MAX_JPEG_QUALITY}, "
                             f"not {self.jpeg_quality}")

    def for_protocol(self, protocol: Protocol) -> FrameConfig:
        """These settings with the protocol's sampling wherever they defer to it.

        Parameters
        ----------
        protocol : Protocol
            The preset (:func:`emosign.harness.prompts.get_protocol`).

        Returns
        -------
        FrameConfig
            With ``fps`` and ``max_frames`` set.
        """
        return dataclasses.replace(
            self,
            fps=protocol.fps if self.fps is FROM_PROTOCOL else self.fps,
            max_frames=protocol.max_frames if self.max_frames is FROM_PROTOCOL else self.max_frames,
        )


class ClientOptions(TypedDict, total=False):
    """The fields of :class:`ClientConfig` as keyword arguments (for type checkers)."""

    base_url: str | None
    api_key_env: str
    timeout: float
    retry: RetryPolicy
    concurrency: int
    temperature: float | None
    max_tokens: int | None


class FrameOptions(TypedDict, total=False):
    """The fields of :class:`FrameConfig` as keyword arguments (for type checkers)."""

    fps: float | FromProtocol
    max_frames: int | None | FromProtocol
    max_side: int | None
    jpeg_quality: int


Config = TypeVar("Config", ClientConfig, FrameConfig)


def configure(config: Config, options: dict[str, Any]) -> Config:
    """``config`` with those of ``options`` that name its fields, which are taken out.

    Lets a function take a config and the same settings as keyword arguments
    (``run_mllm(..., concurrency=8)``), the keywords overriding the config.

    Parameters
    ----------
    config : ClientConfig or FrameConfig
        The settings to start from.
    options : dict
        Keyword arguments; those naming a field of ``config`` are removed from it.

    Returns
    -------
    ClientConfig or FrameConfig
        A new config, checked, if any option applied; else ``config``.
    """
    names = {f.name for f in dataclasses.fields(config)} & set(options)
    if not names:
        return config
    return dataclasses.replace(config, **{name: options.pop(name) for name in sorted(names)})


def refuse_unknown(function: str, options: Mapping[str, Any]) -> None:
    """Raise the TypeError Python raises for an unknown keyword argument of ``function``.

    Parameters
    ----------
    function : str
        The function's name, for the message.
    options : Mapping
        The keyword arguments left once every config took its own.

    Raises
    ------
    TypeError
        If any is left.
    """
    if options:
        name = next(iter(options))
        raise TypeError(f"{function}() got an unexpected keyword argument {name!r}")


class RunOptions(ClientOptions, FrameOptions, total=False):
    """The fields of both configs as keyword arguments, as
    :func:`~emosign.harness.runner.run_mllm` takes them."""
