"""Where the EmoSign labels come from, and proof that they are the right ones.

The labels of the 200 EmoSign clips live in one CSV file, ``emosign_dataset.csv``,
in the Hugging Face Hub dataset repo ``catfang/emosign``. This module finds that
file and returns a :class:`LabelSource` that says where it is, what its sha256 is
and where it came from, so that every result can name the exact labels it used.

There are three places the labels can come from, tried in this order by
:func:`resolve_label_source`:

1. a ``labels_file`` the caller names explicitly;
2. the file named by the environment variable ``EMOSIGN_LABELS``;
3. the Hub, at the pinned revision :data:`HUB_REVISION` (see :func:`fetch_labels`).

A file the caller names (1 and 2) is taken as it is: its hash is recorded but not
checked, because the caller chose it. A file from the Hub is checked against a
known sha256, because nobody chose it by hand: by default only the pinned
revision is accepted, and a newer revision must be accepted on purpose by giving
its hash (``sha256="<hash>"``) or by switching the check off (``sha256=None``).

Downloads go through :func:`huggingface_hub.hf_hub_download`, which keeps its own
cache: after the first download no network is needed, and with
``HF_HUB_OFFLINE=1`` a cached copy is used without contacting the Hub at all.
Without a cached copy, one request with a short timeout (:data:`PROBE_TIMEOUT`) and no
retries asks the Hub first: a machine without network fails at once with
:class:`LabelFetchError`, instead of waiting through huggingface_hub's retries.

This module imports nothing from the rest of the ``emosign`` package, and
``huggingface_hub`` (a few hundred ms to import ``hf_hub_download``) only where the Hub is
asked: :mod:`emosign.tasks` imports this module, and a local label file needs no Hub
(tests/test_perf.py checks that ``emosign info`` and ``evaluate`` on one never import it).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from emosign._io import describe_kind
from emosign._progress import import_tqdm_auto
from emosign.errors import EmosignError, InputError

# huggingface_hub (~0.2 s to import) is imported where the Hub is asked, so that reading a
# local label file never loads it. It imports tqdm.auto, which in a notebook without
# ipywidgets warns "IProgress not found": imported here first, without the warning.
import_tqdm_auto()

__all__ = [
    "HUB_FILENAME",
    "HUB_NUM_BYTES",
    "HUB_REPO_ID",
    "HUB_REVISION",
    "HUB_SHA256",
    "LABELS_ENV_VAR",
    "PINNED",
    "PinnedHash",
    "PROBE_TIMEOUT",
    "HubUnreachableError",
    "LabelFetchError",
    "LabelHashError",
    "LabelSource",
    "check_hub_reachable",
    "fetch_labels",
    "local_labels",
    "resolve_label_source",
    "sha256_of",
    "ways_to_give_labels",
]

# --------------------------------------------------------------------------- #
# The pinned labels
# --------------------------------------------------------------------------- #

HUB_REPO_ID: Final = "catfang/emosign"
"""The Hub dataset repo that holds the labels."""

HUB_FILENAME: Final = "emosign_dataset.csv"
"""The labels file inside :data:`HUB_REPO_ID` (the repo's only file)."""

HUB_REVISION: Final = "b52ae00b31cb51eddae73bdc1799b440a169729e"
"""The commit of :data:`HUB_REPO_ID` whose labels this toolkit was checked against."""

HUB_SHA256: Final = "9aecb77289381d1fedbf5d7fca1ed8634f43d0dba6fa0a6141f7f80722a5bb70"
"""sha256 of :data:`HUB_FILENAME` at :data:`HUB_REVISION`."""

HUB_NUM_BYTES: Final = 67_018
"""Size in bytes of :data:`HUB_FILENAME` at :data:`HUB_REVISION`."""

LABELS_ENV_VAR: Final = "EMOSIGN_LABELS"
"""Environment variable naming a local copy of the labels file."""

PROBE_TIMEOUT: Final = 3.0
"""Seconds to wait for the Hub's first answer before calling it unreachable (no retries)."""

_HUB_REPO_TYPE: Final = "dataset"
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_HASH_CHUNK_BYTES = 1 << 20


class _PinnedHash:
    """Type of :data:`PINNED`, the default of the ``sha256`` arguments."""

    def __repr__(self) -> str:
        return "PINNED"


PINNED: Final = _PinnedHash()

#: The type of :data:`PINNED`, for annotations.
PinnedHash = _PinnedHash
"""Default ``sha256``: expect :data:`HUB_SHA256` if the revision is
:data:`HUB_REVISION`, and refuse any other revision until its hash is given.

A sentinel rather than ``None`` because ``None`` already means "do not check".
"""


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


class LabelHashError(InputError):
    """A labels file from the Hub does not have the expected sha256.

    Also raised when a revision other than :data:`HUB_REVISION` is asked for
    without saying which hash to expect (``expected`` is then ``None``): an
    unverified file is never used silently.

    Attributes
    ----------
    path
        The refused file (it stays in the Hub cache).
    revision
        The revision that was asked for.
    commit
        The commit it resolved to (equal to ``revision`` for a commit hash).
    expected
        The sha256 that was expected, or ``None`` if none was given.
    actual
        The sha256 the file has.
    """

    def __init__(
        self, *, path: str, revision: str, commit: str, expected: str | None, actual: str
    ) -> None:
        self.path = path
        self.revision = revision
        self.commit = commit
        self.expected = expected
        self.actual = actual

        where = f"{HUB_REPO_ID}@{revision}"
        if commit != revision:
            where += f" (commit {commit})"
        if expected is None:
            problem = (
                f"refusing {HUB_FILENAME} from {where}: no sha256 was given for this revision, "
                f"and only the pinned revision {HUB_REVISION} has a known one.\n"
                f"  expected sha256: (none given)\n"
            )
            corrupt_hint = ""
        else:
            problem = (
                f"sha256 mismatch for {HUB_FILENAME} from {where}.\n"
                f"  expected sha256: {expected}\n"
            )
            corrupt_hint = (
                "\nIf you did not change the revision, the cached copy may be corrupt: "
                "delete it and fetch again."
            )
        super().__init__(
            f"{problem}"
            f"  actual sha256:   {actual}\n"
            f"  file:            {path}\n"
            f"To use this revision on purpose, pass its commit and the hash of its file:\n"
            f'    load_emosign(revision="{commit}", labels_sha256="{actual}")\n'
            f'    fetch_labels(revision="{commit}", sha256="{actual}")\n'
            f"or skip the check with labels_sha256=None (load_emosign) "
            f"or sha256=None (fetch_labels)."
            f"{corrupt_hint}"
        )

    def for_command_line(self) -> str:
        """The message in the ``emosign`` command's terms, which has no revision option."""
        expected = self.expected or "(none known for this revision)"
        return (
            f"{HUB_FILENAME} from the Hub cache does not have the pinned sha256 "
            f"(expected {expected}, found {self.actual}): {self.path}. The cached copy may be "
            f"corrupt: delete it and run again online, or give the labels with "
            f"--labels-file PATH or {LABELS_ENV_VAR}=PATH"
        )


def ways_to_give_labels(style: Literal["python", "cli"] = "python") -> str:
    """The three ways to give the labels, in a caller's own terms.

    ``style="python"`` names the ``labels_file=`` argument, ``style="cli"`` the
    ``--labels-file`` option; both name ``EMOSIGN_LABELS`` and the Hub cache.
    """
    from huggingface_hub import constants as hf_constants  # the Hub's: see the module's note

    argument = (
        "--labels-file PATH" if style == "cli" else 'labels_file="path/to/emosign_dataset.csv"'
    )
    return (
        f"give the labels with {argument}, or set {LABELS_ENV_VAR}=PATH, or download "
        f"{HUB_FILENAME} once while online (any emosign command does; it is kept in "
        f"{hf_constants.HF_HUB_CACHE} and used offline afterwards)"
    )


class LabelFetchError(EmosignError, OSError):
    """The labels could not be fetched from the Hub (offline, unreachable, or refused).

    Attributes
    ----------
    reason
        Why, in one clause (e.g. ``"offline and not cached"``).
    revision
        The revision that was asked for.

    ``str(error)`` says how to give the labels in Python terms; :meth:`for_command_line`
    says the same in the ``emosign`` command's terms. The underlying
    ``huggingface_hub`` error, if any, is chained as ``__cause__``.
    """

    def __init__(self, reason: str, *, revision: str) -> None:
        self.reason = reason
        self.revision = revision
        super().__init__(f"{self._problem()}; {ways_to_give_labels('python')}")

    def _problem(self) -> str:
        return f"could not fetch {HUB_REPO_ID}@{self.revision} ({HUB_FILENAME}): {self.reason}"

    def for_command_line(self) -> str:
        """The message with the hint in the ``emosign`` command's terms (``--labels-file``)."""
        return f"{self._problem()}; {ways_to_give_labels('cli')}"


class HubUnreachableError(EmosignError, OSError):
    """The Hub cannot be reached: offline mode, no network, or no answer in time."""


# --------------------------------------------------------------------------- #
# What a label source is
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class LabelSource:
    """A labels file on disk, and where it came from.

    Attributes
    ----------
    path
        Absolute path of the CSV file (for the Hub, a path in its cache).
    sha256
        sha256 of the file's bytes, lowercase hex.
    origin
        ``"hub"`` if downloaded (or taken from the Hub cache),
        ``"local"`` if named by the caller or by ``EMOSIGN_LABELS``.
    revision
        For the Hub, the commit the file was taken from (a branch
        name like ``"main"`` is recorded as the commit it pointed to);
        ``None`` for a local file.
    num_bytes
        Size of the file in bytes.
    """

    path: str
    sha256: str
    origin: Literal["hub", "local"]
    revision: str | None
    num_bytes: int


# --------------------------------------------------------------------------- #
# Hashing and local files
# --------------------------------------------------------------------------- #


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Return the sha256 of a file's bytes as lowercase hex, reading it in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def local_labels(path: str | os.PathLike[str]) -> LabelSource:
    """Describe a labels file the caller supplies, taken as it is.

    The hash is recorded in the returned :class:`LabelSource` but not checked:
    a caller who names a file may have edited it on purpose.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist (the message names it).
    IsADirectoryError
        ``path`` is a directory, not the CSV file.
    ValueError
        the file is empty.
    """
    return _local_source(path, named_by="labels_file")


def _local_source(path: str | os.PathLike[str], *, named_by: str) -> LabelSource:
    """:func:`local_labels`, with ``named_by`` saying in errors who named the path."""
    absolute = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if not os.path.exists(absolute):
        raise FileNotFoundError(f"EmoSign labels file not found: {absolute} (from {named_by})")
    if os.path.isdir(absolute):
        raise IsADirectoryError(
            f"EmoSign labels path is a directory, expected the CSV file "
            f"(e.g. {HUB_FILENAME}): {absolute} (from {named_by})"
        )
    mode = os.stat(absolute).st_mode
    if not stat.S_ISREG(mode):  # a FIFO would block the hash below; a device never ends
        raise InputError(f"EmoSign labels path is {describe_kind(mode)}, not a regular file: "
                         f"{absolute} (from {named_by})")
    num_bytes = os.path.getsize(absolute)
    if num_bytes == 0:
        raise InputError(f"EmoSign labels file is empty: {absolute} (from {named_by})")
    return LabelSource(
        path=absolute,
        sha256=sha256_of(absolute),
        origin="local",
        revision=None,
        num_bytes=num_bytes,
    )


# --------------------------------------------------------------------------- #
# The Hub
# --------------------------------------------------------------------------- #

def _network_errors() -> tuple[type[BaseException], ...]:
    """Every huggingface_hub error is an OSError, but the HTTP library under it
    (httpx2 in huggingface_hub 2.x, httpx in 1.x) raises its own transport errors
    for a few failures, e.g. a broken proxy or a connection lost mid-download."""
    errors: tuple[type[BaseException], ...] = (OSError,)
    for module_name in ("httpx2", "httpx"):
        try:
            errors += (importlib.import_module(module_name).HTTPError,)
        except (ImportError, AttributeError):
            pass
    return errors


def fetch_labels(
    *,
    revision: str = HUB_REVISION,
    sha256: str | None | PinnedHash = PINNED,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool | None = None,
    endpoint: str | None = None,
) -> LabelSource:
    """Download the labels from the Hub (or take them from its cache) and verify them.

    Parameters
    ----------
    revision
        Commit, branch or tag of :data:`HUB_REPO_ID`.
    sha256
        The hash the file must have. The default, :data:`PINNED`,
        expects :data:`HUB_SHA256` at :data:`HUB_REVISION` and refuses any
        other revision, so that moving to new labels is always deliberate:
        give the new revision's hash here, or ``None`` to skip the check.
    cache_dir
        Hub cache directory; ``None`` uses huggingface_hub's default
        (``HF_HUB_CACHE``, usually ``~/.cache/huggingface/hub``).
    local_files_only
        ``True`` never touches the network; ``False`` asks the
        Hub unless huggingface_hub is in offline mode; ``None`` means
        ``True`` if ``HF_HUB_OFFLINE`` is set in the environment now.
    endpoint
        Hub URL, e.g. a mirror; ``None`` uses huggingface_hub's
        default (``HF_ENDPOINT``, else https://huggingface.co).

    Raises
    ------
    LabelHashError
        the file's sha256 is not the expected one, or a
        non-pinned revision was asked for with the default ``sha256``.
    LabelFetchError
        the file could not be fetched (e.g. offline and not
        cached, Hub unreachable, unknown revision).
    ValueError
        ``sha256`` is not 64 hex digits.
    """
    # huggingface_hub only when the Hub is asked: see the module's note.
    from huggingface_hub import constants as hf_constants
    from huggingface_hub import hf_hub_download

    skip_check = sha256 is None
    expected = None if sha256 is None else _expected_sha256(revision=revision, sha256=sha256)
    if local_files_only is None:
        # huggingface_hub reads HF_HUB_OFFLINE once, when it is imported; reading it
        # here too means setting it later in the same process still takes effect.
        local_files_only = _env_flag("HF_HUB_OFFLINE")
    offline = local_files_only or bool(hf_constants.HF_HUB_OFFLINE)

    def download(*, local_only: bool) -> str:
        return hf_hub_download(
            repo_id=HUB_REPO_ID,
            filename=HUB_FILENAME,
            repo_type=_HUB_REPO_TYPE,
            revision=revision,
            cache_dir=None if cache_dir is None else os.fspath(cache_dir),
            local_files_only=local_only,
            endpoint=endpoint,
        )

    path = None
    # A commit never changes, so its cached copy needs no request; a branch is asked
    # about online, and its cached copy is only the fallback when the Hub is unreachable.
    if offline or _COMMIT_RE.fullmatch(revision):
        path = _cached(download)
    if path is None and offline:
        raise LabelFetchError("offline and not cached", revision=revision)
    if path is None:
        try:
            check_hub_reachable(endpoint=endpoint, revision=revision)
        except HubUnreachableError as unreachable:
            path = _cached(download)
            if path is None:
                raise LabelFetchError(
                    f"{unreachable}, and no cached copy exists", revision=revision
                ) from unreachable
    if path is None:
        try:
            path = download(local_only=False)
        except _network_errors() as error:
            raise LabelFetchError(_fetch_failure_reason(error), revision=revision) from error

    actual = sha256_of(path)
    commit = _commit_of_snapshot(path, fallback=revision)
    if not skip_check and actual != expected:
        raise LabelHashError(
            path=path, revision=revision, commit=commit, expected=expected, actual=actual
        )
    return LabelSource(
        path=path,
        sha256=actual,
        origin="hub",
        revision=commit,
        num_bytes=os.path.getsize(path),
    )


def _expected_sha256(*, revision: str, sha256: str | _PinnedHash) -> str | None:
    """Turn a ``sha256`` argument other than ``None`` into the hash to check against.

    Returns lowercase hex, or ``None`` for a non-pinned revision asked for with
    the default :data:`PINNED`, which has no known hash and so must be refused.
    """
    if isinstance(sha256, _PinnedHash):
        return HUB_SHA256 if revision == HUB_REVISION else None
    normalized = sha256.strip().lower()
    # Fail before any download: a 40-digit commit hash passed by mistake would
    # otherwise only show up later as a confusing mismatch.
    if not _SHA256_RE.fullmatch(normalized):
        raise InputError(
            f"sha256 must be 64 hex digits (or None to skip the check), got {sha256!r}"
        )
    return normalized


def _commit_of_snapshot(path: str, *, fallback: str) -> str:
    """Read the commit from a Hub cache path ``.../snapshots/<commit>/<file>``.

    This turns a branch name such as ``"main"`` into the commit it resolved to,
    which is what a result must record to be reproducible.
    """
    snapshot = Path(path).parent
    if snapshot.parent.name == "snapshots" and _COMMIT_RE.fullmatch(snapshot.name):
        return snapshot.name
    return fallback


def _cached(download) -> str | None:
    """The cached copy ``download(local_only=True)`` finds, or ``None``."""
    try:
        return download(local_only=True)
    except _network_errors():
        return None


def _fetch_failure_reason(error: BaseException) -> str:
    """Say in one clause why a Hub download failed."""
    from huggingface_hub.errors import LocalEntryNotFoundError  # see the module's note

    if isinstance(error, LocalEntryNotFoundError):
        return f"the Hub could not be reached and no cached copy exists ({error})"
    return f"{type(error).__name__}: {error}"


def check_hub_reachable(*, endpoint: str | None = None, revision: str = HUB_REVISION) -> None:
    """Ask the Hub once for the label file's metadata, without retries, and fail fast.

    One ``HEAD`` request with a :data:`PROBE_TIMEOUT`-second timeout: a host that
    cannot be resolved or refuses the connection fails at once, a silent one after the
    timeout, where huggingface_hub's own download would retry for about half a minute.
    Any answer, even "not found", counts as reachable (the download then says what is
    wrong); a server error (5xx) or rate limit (429) does not.

    Raises
    ------
    HubUnreachableError
        offline mode is on (``HF_HUB_OFFLINE``), or the Hub did not
        answer; the message names the endpoint and the reason.
    """
    from huggingface_hub import constants as hf_constants  # see the module's note

    if _env_flag("HF_HUB_OFFLINE") or hf_constants.HF_HUB_OFFLINE:
        raise HubUnreachableError("offline (HF_HUB_OFFLINE is set)")
    # Past the offline check: the full client only when the Hub is asked.
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError

    url = hf_hub_url(
        HUB_REPO_ID, HUB_FILENAME, repo_type=_HUB_REPO_TYPE, revision=revision, endpoint=endpoint
    )
    where = endpoint or hf_constants.ENDPOINT
    try:
        get_hf_file_metadata(url, timeout=PROBE_TIMEOUT, retry_on_errors=False)
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if status is not None and (status == 429 or status >= 500):
            raise HubUnreachableError(
                f"the Hub at {where} answered HTTP {status}"
            ) from error
    except _network_errors() as error:
        raise HubUnreachableError(
            f"the Hub at {where} cannot be reached ({type(error).__name__}: {error})"
        ) from error


def _env_flag(name: str) -> bool:
    """Whether an environment variable is set to a true value, as huggingface_hub reads them."""
    return os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}


# --------------------------------------------------------------------------- #
# Choosing a source
# --------------------------------------------------------------------------- #


def resolve_label_source(
    labels_file: str | os.PathLike[str] | None = None,
    *,
    revision: str = HUB_REVISION,
    sha256: str | None | PinnedHash = PINNED,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool | None = None,
    endpoint: str | None = None,
) -> LabelSource:
    """Find the labels file, in this order of precedence:

    1. ``labels_file``, if given: taken as it is (see :func:`local_labels`);
    2. else the environment variable ``EMOSIGN_LABELS``, if set and not empty:
       taken as it is, like ``labels_file``;
    3. else the Hub: :func:`fetch_labels` with ``revision``, ``sha256``,
       ``cache_dir``, ``local_files_only`` and ``endpoint``.

    The Hub options apply only to step 3; a local file's hash is recorded in
    the returned :class:`LabelSource` but not checked.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, ValueError
        from a local file
        (see :func:`local_labels`); the message says whether the path came
        from ``labels_file`` or ``EMOSIGN_LABELS``.
    LabelHashError, LabelFetchError
        from the Hub (see :func:`fetch_labels`).
    """
    if labels_file is not None:
        return _local_source(labels_file, named_by="labels_file")

    # An empty value counts as unset, so `EMOSIGN_LABELS= cmd` switches it off.
    from_env = os.environ.get(LABELS_ENV_VAR, "").strip()
    if from_env:
        return _local_source(from_env, named_by=f"the {LABELS_ENV_VAR} environment variable")

    return fetch_labels(
        revision=revision,
        sha256=sha256,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        endpoint=endpoint,
    )
