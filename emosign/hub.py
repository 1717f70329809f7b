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

This module imports nothing from the rest of the ``emosign`` package.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

# huggingface_hub (~0.2 s to import) is imported where the Hub is asked, so that reading a
# local label file never loads it.

__all__ = [
    "HUB_FILENAME",
    "HUB_NUM_BYTES",
    "HUB_REPO_ID",
    "HUB_REVISION",
    "HUB_SHA256",
    "LABELS_ENV_VAR",
    "PINNED",
    "LabelFetchError",
    "LabelHashError",
    "LabelSource",
    "fetch_labels",
    "local_labels",
    "resolve_label_source",
    "sha256_of",
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

_HUB_REPO_TYPE: Final = "dataset"
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_HASH_CHUNK_BYTES = 1 << 20


class _PinnedHash:
    """Type of :data:`PINNED`, the default of the ``sha256`` arguments."""

    def __repr__(self) -> str:
        return "PINNED"


PINNED: Final = _PinnedHash()
"""Default ``sha256``: expect :data:`HUB_SHA256` if the revision is
:data:`HUB_REVISION`, and refuse any other revision until its hash is given.

A sentinel rather than ``None`` because ``None`` already means "do not check".
"""


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


class LabelHashError(ValueError):
    """A labels file from the Hub does not have the expected sha256.

    Also raised when a revision other than :data:`HUB_REVISION` is asked for
    without saying which hash to expect (``expected`` is then ``None``): an
    unverified file is never used silently.

    Attributes:
        path: The refused file (it stays in the Hub cache).
        revision: The revision that was asked for.
        commit: The commit it resolved to (equal to ``revision`` for a commit hash).
        expected: The sha256 that was expected, or ``None`` if none was given.
        actual: The sha256 the file has.
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


class LabelFetchError(OSError):
    """The labels could not be fetched from the Hub (offline, unreachable, or refused).

    The underlying ``huggingface_hub`` error is chained as ``__cause__``.
    """


# --------------------------------------------------------------------------- #
# What a label source is
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class LabelSource:
    """A labels file on disk, and where it came from.

    Attributes:
        path: Absolute path of the CSV file (for the Hub, a path in its cache).
        sha256: sha256 of the file's bytes, lowercase hex.
        origin: ``"hub"`` if downloaded (or taken from the Hub cache),
            ``"local"`` if named by the caller or by ``EMOSIGN_LABELS``.
        revision: For the Hub, the commit the file was taken from (a branch
            name like ``"main"`` is recorded as the commit it pointed to);
            ``None`` for a local file.
        num_bytes: Size of the file in bytes.
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

    Raises:
        FileNotFoundError: ``path`` does not exist (the message names it).
        IsADirectoryError: ``path`` is a directory, not the CSV file.
        ValueError: the file is empty.
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
    num_bytes = os.path.getsize(absolute)
    if num_bytes == 0:
        raise ValueError(f"EmoSign labels file is empty: {absolute} (from {named_by})")
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
    sha256: str | None | _PinnedHash = PINNED,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool | None = None,
    endpoint: str | None = None,
) -> LabelSource:
    """Download the labels from the Hub (or take them from its cache) and verify them.

    Args:
        revision: Commit, branch or tag of :data:`HUB_REPO_ID`.
        sha256: The hash the file must have. The default, :data:`PINNED`,
            expects :data:`HUB_SHA256` at :data:`HUB_REVISION` and refuses any
            other revision, so that moving to new labels is always deliberate:
            give the new revision's hash here, or ``None`` to skip the check.
        cache_dir: Hub cache directory; ``None`` uses huggingface_hub's default
            (``HF_HUB_CACHE``, usually ``~/.cache/huggingface/hub``).
        local_files_only: ``True`` never touches the network; ``False`` asks the
            Hub unless huggingface_hub is in offline mode; ``None`` means
            ``True`` if ``HF_HUB_OFFLINE`` is set in the environment now.
        endpoint: Hub URL, e.g. a mirror; ``None`` uses huggingface_hub's
            default (``HF_ENDPOINT``, else https://huggingface.co).

    Raises:
        LabelHashError: the file's sha256 is not the expected one, or a
            non-pinned revision was asked for with the default ``sha256``.
        LabelFetchError: the file could not be fetched (e.g. offline and not
            cached, Hub unreachable, unknown revision).
        ValueError: ``sha256`` is not 64 hex digits.
    """
    from huggingface_hub import constants as hf_constants
    from huggingface_hub import hf_hub_download

    skip_check = sha256 is None
    expected = None if skip_check else _expected_sha256(revision=revision, sha256=sha256)
    if local_files_only is None:
        # huggingface_hub reads HF_HUB_OFFLINE once, when it is imported; reading it
        # here too means setting it later in the same process still takes effect.
        local_files_only = _env_flag("HF_HUB_OFFLINE")
    offline = local_files_only or bool(hf_constants.HF_HUB_OFFLINE)

    try:
        path = hf_hub_download(
            repo_id=HUB_REPO_ID,
            filename=HUB_FILENAME,
            repo_type=_HUB_REPO_TYPE,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            endpoint=endpoint,
        )
    except _network_errors() as error:
        raise LabelFetchError(
            _fetch_failure_message(revision=revision, error=error, offline=offline)
        ) from error

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
        raise ValueError(
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


def _fetch_failure_message(*, revision: str, error: BaseException, offline: bool) -> str:
    """Say why the Hub download failed, and how to carry on without the Hub."""
    from huggingface_hub.errors import LocalEntryNotFoundError

    if offline and isinstance(error, LocalEntryNotFoundError):
        reason = "offline and not cached"
    elif isinstance(error, LocalEntryNotFoundError):
        reason = f"the Hub could not be reached and no cached copy exists ({error})"
    else:
        reason = f"{type(error).__name__}: {error}"
    return (
        f"could not fetch {HUB_REPO_ID}@{revision} ({HUB_FILENAME}): {reason}; "
        f"set {LABELS_ENV_VAR} or pass labels_file=... to use a local copy"
    )


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
    sha256: str | None | _PinnedHash = PINNED,
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

    Raises:
        FileNotFoundError, IsADirectoryError, ValueError: from a local file
            (see :func:`local_labels`); the message says whether the path came
            from ``labels_file`` or ``EMOSIGN_LABELS``.
        LabelHashError, LabelFetchError: from the Hub (see :func:`fetch_labels`).
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
