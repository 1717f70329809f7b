"""A run's files on disk: where they are, how they are read, written and locked.

One run (a model, a harness task, an input) keeps its files in ``<out>/<model slug>/``
(:class:`RunFiles`, :func:`find_runs`); :func:`read_manifest` and :func:`read_cache` read
them with one-line errors naming the file, :class:`CacheWriter` appends to a cache, and
:class:`RunLock` keeps a second writer out. Both stages of the harness, the run
(:mod:`emosign.harness.runner`) and the extraction (:mod:`emosign.harness.extract`), keep
their files this way.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import socket
import stat
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from emosign._io import parse_json, read_regular_file, write_atomically
from emosign.errors import InputError
from emosign.harness.client import MLLMError
from emosign.harness.prompts import HARNESS_TASKS, SCORED_TASKS

__all__ = [
    "CacheWriter",
    "RunFiles",
    "RunLock",
    "RunLockedError",
    "cannot_write",
    "cut_off_note",
    "describe_holder",
    "digest",
    "file_kind",
    "find_runs",
    "latest_answers",
    "model_slug",
    "now",
    "read_cache",
    "read_manifest",
    "require_regular_file",
    "write_record",
]

_MANIFEST_SUFFIX = ".run.json"
_LOCK_SUFFIX = ".lock"


# --- where a run keeps its files ---------------------------------------------------------

_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def model_slug(model: str) -> str:
    """A name for a model's folder that is safe on every file system and unique per model.

    Lowercase letters, digits, ".", "_" and "-" only, at most 64 characters plus a suffix,
    never empty, never starting with "." or "-" (so never ".."). A name that had to change
    gets the first 8 hex digits of its sha256, so "A/b" and "a_b" stay apart.

    Parameters
    ----------
    model : str
        The model's name.

    Returns
    -------
    str
    """
    cleaned = _UNSAFE.sub("_", model.lower()).strip("._-")[:64].strip("._-")
    if cleaned and cleaned == model:
        return cleaned
    digest = hashlib.sha256(model.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cleaned or 'model'}-{digest}"


@dataclass(frozen=True)
class RunFiles:
    """Where one run (a model, a harness task, an input) keeps its files.

    Parameters
    ----------
    directory : Path
        ``<out>/<model slug>``.
    task : str
        The harness task (joint, sentiment, emotion).
    input : str
        "video" or "video_caption".
    """

    directory: Path  # <out>/<model slug>
    task: str
    input: str

    @classmethod
    def of(cls, out: str | os.PathLike, *, model: str, task: str, input: str) -> RunFiles:
        """The files of ``model``'s run of ``task`` on ``input`` in the run folder ``out``.

        Parameters
        ----------
        out : path
            The run folder.
        model : str
            The model's name (its folder is :func:`model_slug` of it).
        task : str
            The harness task.
        input : str
            "video" or "video_caption".

        Returns
        -------
        RunFiles

        Raises
        ------
        InputError
            If the task or input is unknown, or the model's folder would lie outside ``out``.
        """
        if task not in HARNESS_TASKS:
            raise InputError(f"unknown harness task {task!r}; choose one of {list(HARNESS_TASKS)}")
        if input not in ("video", "video_caption"):
            raise InputError(f"input must be 'video' or 'video_caption', not {input!r}")
        root = Path(out)
        directory = root / model_slug(model)
        # model_slug cannot produce a separator or "..", but the check costs nothing.
        if directory.resolve().parent != root.resolve():
            raise InputError(f"model name {model!r} gives a folder outside {root}")
        return cls(directory=directory, task=task, input=input)

    @property
    def stem(self) -> str:
        """``<task>.<input>``: how every file of the run begins."""
        return f"{self.task}.{self.input}"

    @property
    def cache(self) -> Path:
        """The answer cache: every response, one JSON line each."""
        return self.directory / f"{self.stem}.jsonl"

    @property
    def manifest(self) -> Path:
        """The manifest of the latest run: model, settings, prompt, status."""
        return self.directory / f"{self.stem}{_MANIFEST_SUFFIX}"

    @property
    def explanations(self) -> Path:
        """The joint prompt's cue explanations, written by :func:`~emosign.harness.runner.score_run`."""
        return self.directory / f"{self.stem}.explanations.jsonl"

    @property
    def lock(self) -> Path:
        """The run's lock file (:class:`RunLock`)."""
        return self.directory / f"{self.stem}{_LOCK_SUFFIX}"

    def predictions(self, scored: str) -> Path:
        """The predictions file of the scored task ``scored``, written by ``score_run``.

        Parameters
        ----------
        scored : str
            A scored task the harness task feeds (``sentiment_7``, ...).

        Returns
        -------
        Path

        Raises
        ------
        InputError
            If the harness task is not scored on ``scored``.
        """
        if scored not in SCORED_TASKS[self.task]:
            raise InputError(f"harness task {self.task!r} is not scored on {scored!r}")
        return self.directory / f"{self.stem}.{scored}.csv"

    def extracted_predictions(self, scored: str) -> Path:
        """The predictions after LLM extraction (see :mod:`emosign.harness.extract`).

        Parameters
        ----------
        scored : str
            A scored task the harness task feeds.

        Returns
        -------
        Path
        """
        return self.predictions(scored).with_suffix(".extracted.csv")


def find_runs(run_dir: str | os.PathLike) -> list[RunFiles]:
    """Every run in ``run_dir`` (a ``<model>/<task>.<input>.run.json``), sorted.

    ``mllm score`` and ``mllm extract`` write beside each run, so a run whose folder or
    files (any ``<task>.<input>.*``) lead out of ``run_dir`` (a symbolic link to elsewhere)
    is refused: nothing is read or written outside the folder the user named.

    Parameters
    ----------
    run_dir : path
        A run folder (the ``out`` of :func:`~emosign.harness.runner.run_mllm`).

    Returns
    -------
    list of RunFiles

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` is no folder, or holds no run.
    InputError
        If a run's folder or one of its files leads out of ``run_dir``, or two model
        folders hold one run (a symbolic or hard link): the run would be scored twice.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory not found: {run_dir}")
    root = run_dir.resolve()
    found = []
    # A run's manifest as a file (device, inode) -> the path it was first found at:
    # a symbolic link and a hard link (`cp -al`) lead to the same file.
    seen: dict[tuple[int, int], Path] = {}
    for path in sorted(run_dir.glob(f"*/*{_MANIFEST_SUFFIX}")):
        try:
            info = path.stat()
        except OSError:
            info = None  # a broken link: read_manifest names it when the run is read
        if info is not None:
            same = seen.get((info.st_dev, info.st_ino))
            if same is not None:
                raise InputError(
                    f"{path} and {same} are the same run: one is a link (symbolic or hard) "
                    "to the other, so the run would be scored twice and its files written "
                    "through both; remove the link, or copy the run (`cp -r`) to keep two"
                )
            seen[(info.st_dev, info.st_ino)] = path
        parts = _stem_parts(path)
        if parts is None:
            continue
        files = RunFiles(directory=path.parent, task=parts[0], input=parts[1])
        for inside in (files.directory, *sorted(files.directory.glob(f"{files.stem}.*"))):
            if (inside.is_symlink() or inside.exists()) and \
                    not inside.resolve().is_relative_to(root):
                raise InputError(
                    f"{inside} leads out of {run_dir} (a symbolic link to "
                    f"{inside.resolve()}): mllm score and mllm extract write beside each "
                    f"run, and only inside the run folder; move or copy that run into {run_dir}"
                )
        found.append(files)
    if not found:
        raise FileNotFoundError(
            f"no MLLM runs in {run_dir} (no <model>/<task>.<input>{_MANIFEST_SUFFIX})"
        )
    return found


def _stem_parts(manifest: Path) -> tuple[str, str] | None:
    """(task, input) of a manifest file name, or None for a file that is no run's.

    Only names built from the fixed task and input names are accepted, so no file name
    read from disk ever reaches a path unchecked.
    """
    stem = manifest.name[: -len(_MANIFEST_SUFFIX)]
    task, _, input_name = stem.partition(".")
    if task in HARNESS_TASKS and input_name in ("video", "video_caption"):
        return task, input_name
    warnings.warn(
        f"{manifest}: not a run manifest (<task>.<input>{_MANIFEST_SUFFIX}); skipped", stacklevel=3
    )
    return None


# --- reading -----------------------------------------------------------------------------

# The fields score_run and a resumed run read from a manifest, with their types.
_MANIFEST_FIELDS = {"model": str, "config": str, "status": str, "settings": dict, "prompt": dict}


def read_manifest(path: str | os.PathLike) -> dict:
    """A run manifest (``<task>.<input>.run.json``) as a dict.

    Parameters
    ----------
    path : path
        The manifest.

    Returns
    -------
    dict

    Raises
    ------
    InputError
        If it is not a regular file, not JSON (cut off, say), not a JSON object, or lacks
        one of the fields a run writes; the message names the file (and line, for JSON).
    """
    path = Path(path)
    data = _read_run_file(path, "manifest")
    try:
        manifest = parse_json(data.decode("utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(
            f"{path}, line {err.lineno}: not a run manifest: the JSON is broken ({err.msg}); "
            "was it cut off? Running the same `emosign mllm run` again rewrites it"
        ) from None
    except UnicodeDecodeError:
        raise InputError(f"{path}, line 1: not a run manifest: not UTF-8 text") from None
    if not isinstance(manifest, dict):
        raise InputError(
            f"{path}, line 1: not a run manifest: a JSON {type(manifest).__name__}, not an object"
        )
    for field, kind in _MANIFEST_FIELDS.items():
        if not isinstance(manifest.get(field), kind):
            raise InputError(f"{path}: not a run manifest: no {field!r} field of type {kind.__name__}")
    if not isinstance(manifest["prompt"].get("sha256"), str):
        raise InputError(f"{path}: not a run manifest: no prompt sha256")
    return manifest


def read_cache(path: str | os.PathLike) -> list[dict]:
    """Every record of a cache file, in the order written; [] if there is none.

    A line that is not JSON is skipped with a warning: the last line may be cut off by a
    crash during its write; that is expected and said so.

    Parameters
    ----------
    path : path
        The cache (a run's, or an extraction's).

    Returns
    -------
    list of dict

    Raises
    ------
    InputError
        If ``path`` is not a regular file, or a line is JSON but not a cache record (no
        ``key``, ``status`` or ``video_name``): such a line was not written by a run, and
        the message names the file and the line.
    """
    path = Path(path)
    try:
        lines = _read_run_file(path, "answer cache").split(b"\n")
    except FileNotFoundError:
        return []
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = parse_json(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            # The usual cause: a crash or kill during the line's write, which leaves it cut
            # off; the cache writer then starts the next record on a line of its own.
            warnings.warn(
                f"{path}: line {number} is not a complete cache record (a write cut off by "
                "an interrupted run?); skipped, its clip will be asked again",
                stacklevel=2,
            )
            continue
        problem = _record_problem(record)
        if problem:
            raise InputError(
                f"{path}, line {number}: not a cache record of a run ({problem}); "
                "repair or remove the line, then run again"
            )
        records.append(record)
    return records


def _record_problem(record: object) -> str | None:
    """What makes a parsed line no cache record, or None."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    for field in ("key", "status", "video_name"):
        if not isinstance(record.get(field), str):
            return f"no {field!r} text" if field not in record else f"{field!r} is not text"
    if record["status"] not in ("ok", "error"):
        return f"status {record['status'][:40]!r} is neither 'ok' nor 'error'"
    if record["status"] == "ok" and not isinstance(record.get("response"), (str, type(None))):
        return "'response' is not text"
    return None


#: The largest run file read (a manifest, a cache): 256 MiB, far beyond the answers of many
#: runs of the 200 clips.
MAX_RUN_FILE_BYTES = 256 * 2**20


def _read_run_file(path: Path, what: str) -> bytes:
    """A run file's bytes through the one non-blocking reader: a FIFO, device or folder is
    refused at once, in the words of :func:`require_regular_file`."""
    try:
        return read_regular_file(path, what=f"the run's {what}", error=InputError,
                                 max_bytes=MAX_RUN_FILE_BYTES)
    except InputError:
        require_regular_file(path, what)  # says what is there instead
        raise


def require_regular_file(path: Path, what: str, *, writing: bool = False) -> None:
    """Refuse a folder, FIFO, device or socket where a run keeps a file.

    Reading a FIFO would wait forever, and a folder cannot be appended to. A writer also
    refuses a symbolic link, which could lead its writes out of the run folder.

    Parameters
    ----------
    path : Path
        Where the file is kept (it need not exist).
    what : str
        What the file is, for the message ("manifest", "answer cache", ...).
    writing : bool
        Whether the file is to be written.

    Raises
    ------
    InputError
        If something other than a regular file (or nothing) is at ``path``.
    """
    kind = file_kind(path)
    if writing and kind is not None and path.is_symlink():
        kind = "symbolic link"
    if kind not in (None, "file"):
        raise InputError(f"{path}: the run's {what} is a {kind}, not a regular file")


def file_kind(path: Path) -> str | None:
    """What is at ``path``, following links.

    Parameters
    ----------
    path : Path
        Any path.

    Returns
    -------
    str or None
        "file", "folder", "FIFO", "socket", "device", "broken symbolic link", "path under a
        file" or "special file"; None if nothing is there.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "broken symbolic link" if path.is_symlink() else None
    except NotADirectoryError:
        return "path under a file"
    for test, kind in ((stat.S_ISREG, "file"), (stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "FIFO"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device")):
        if test(mode):
            return kind
    return "special file"


def latest_answers(records: list[dict], config: str) -> tuple[dict[str, str], set[str], int]:
    """The last answer per clip under ``config``, the clips with errors, and how many answers
    were given under other (older) settings.

    Parameters
    ----------
    records : list of dict
        A run's cache records (:func:`read_cache`).
    config : str
        The sha256 of the run's current settings (its manifest's ``config``).

    Returns
    -------
    tuple of (dict of str to str, set of str, int)
        Clip -> answer text; the clips with an error line; the answers superseded.
    """
    answers: dict[str, str] = {}
    errors: set[str] = set()
    superseded = 0
    for record in records:
        if record.get("config") != config:
            superseded += record.get("status") == "ok"
        elif record.get("status") == "ok":
            answers[record["video_name"]] = record.get("response") or ""
        else:
            errors.add(record["video_name"])
    return answers, errors, superseded


# --- writing -----------------------------------------------------------------------------

class CacheWriter:
    """Appends records to a cache file, one line each, flushed and fsynced, thread-safe.

    Parameters
    ----------
    path : Path
        The cache; created if missing. A last line cut off by a crash is ended first, so
        that the next record starts a line of its own.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        cut_off = False
        if path.exists() and path.stat().st_size > 0:
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                cut_off = f.read(1) != b"\n"
        # Unbuffered: a write that fails (a full disk) leaves nothing behind to be written
        # later, half, when the file is closed.
        self._file = open(path, "ab", buffering=0)
        self._path = path
        self._lock = threading.Lock()
        if cut_off:
            # A line cut off by a crash must stay a line of its own, not the start of the next.
            self._write(b"\n")

    def _write(self, data: bytes) -> None:
        with self._lock:
            try:
                view = memoryview(data)
                while view:
                    view = view[self._file.write(view):]
                os.fsync(self._file.fileno())
            except OSError as err:
                raise cannot_write(self._path, err) from None

    def append(self, record: Mapping[str, Any]) -> None:
        """Append one record as one JSON line, synced to disk.

        Parameters
        ----------
        record : Mapping
            A cache record.

        Raises
        ------
        MLLMError
            If it cannot be written (see :func:`cannot_write`).
        """
        self._write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    """Write a stage's record (a run's manifest, an extraction's record) as JSON, atomically.

    Parameters
    ----------
    path : Path
        Where it is kept.
    record : Mapping
        The record.

    Raises
    ------
    MLLMError
        If it cannot be written (a full disk, say): see :func:`cannot_write`.
    """
    try:
        write_atomically(path, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    except OSError as err:
        raise cannot_write(path, err) from None


def cannot_write(path: Path, err: OSError) -> MLLMError:
    """The error that stops a run whose file cannot be written (a full disk, say).

    Parameters
    ----------
    path : Path
        The file.
    err : OSError
        Why it could not be written.

    Returns
    -------
    MLLMError
        Saying that every answer saved before is kept.
    """
    return MLLMError(f"cannot write {path}: {err.strerror or err}; the run stopped, and every "
                     "answer saved before is kept: free space and run the same command again")


def digest(value: object) -> str:
    """The sha256 of a JSON-ready value, the same for equal values (keys sorted).

    Parameters
    ----------
    value : object
        Anything ``json.dumps`` takes.

    Returns
    -------
    str
        64 hex digits.
    """
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def now() -> str:
    """The time now, in UTC, as ISO 8601 to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- the lock ----------------------------------------------------------------------------

class RunLockedError(MLLMError):
    """Another process is writing the same run (model, harness task and input)."""


class RunLock:
    """An exclusive lock on one run's files, held while the run writes.

    ``flock`` on ``<task>.<input>.lock`` beside the cache: the kernel drops it when the
    holder exits, however it exits (a SIGKILL included), so a lock is never left stale. The
    file says who holds it (pid, host, start time) for the message a second writer gets; it
    is left in place, since deleting a lock file races with the next taker. On Windows the
    lock is an ``msvcrt`` byte lock far past that note, dropped at release.

    Parameters
    ----------
    path : Path
        The lock file (:attr:`RunFiles.lock`).

    Notes
    -----
    Why not the ``filelock`` package (installed with ``datasets``)? It would not keep what
    tests/test_run_lock.py and the harness tests hold this lock to:

    - on Windows it locks byte 0 with ``LockFileEx``, a mandatory lock over the holder's
      note, so a second writer could no longer read who holds the run (the pid, host and
      start time its RunLockedError names), and by default it deletes the lock file at
      release, which races with the next taker;
    - it picks its Windows or POSIX lock when imported, calling kernel32 through ctypes,
      so the Windows path could no longer be tested on another system with a stand-in
      ``msvcrt``, as it is;
    - it has no shared probe for :meth:`is_free` (``mllm score`` asking whether a run is
      still written without ever refusing that run its lock).

    Stale locks (a SIGKILLed holder) are handled by both, and a FIFO, device, folder or
    link where the lock file belongs is refused by :func:`require_regular_file` before
    either would open it. The three points above are why this stays (about 100 lines, no
    dependency): filelock could replace it only by dropping tested guarantees.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, and write this process's name (pid, host, start time) into its file.

        Raises
        ------
        RunLockedError
            If another process holds it; the message names that process.
        InputError
            If the lock file is a folder, FIFO, link or the like.
        MLLMError
            If the lock file cannot be written.
        """
        require_regular_file(self.path, "lock file", writing=True)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(self.path, flags, 0o666)
        try:
            for attempt in range(5):
                try:
                    _lock_exclusively(fd)
                    break
                except BlockingIOError:
                    if attempt == 4:
                        raise
                    # `mllm score` probes the lock for an instant: let it pass
                    time.sleep(0.1)
        except BlockingIOError:
            holder = describe_holder(fd)
            os.close(fd)
            raise RunLockedError(
                f"another run (or an `mllm extract` of it) is writing "
                f"{self.path.parent / self.path.stem}: {holder} holds "
                f"{self.path}. Wait for it to finish (or stop it), or give another --out; two "
                "runs on the same answers would ask every question twice"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        note = {"pid": os.getpid(), "host": socket.gethostname(), "started": now()}
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, (json.dumps(note) + "\n").encode())
        except OSError as err:
            os.close(fd)
            raise cannot_write(self.path, err) from None
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the file stays, for the next taker)."""
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None

    def is_free(self) -> bool:
        """Whether nobody holds the lock now (a probe: a shared lock taken and dropped at
        once, so that a writer starting meanwhile is not refused)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return True
        try:
            _lock_exclusively(fd, shared=True)
        except BlockingIOError:
            return False
        else:
            _unlock(fd)
            return True
        finally:
            os.close(fd)


# Windows: the lock is one byte far past the holder's note, which stays readable.
_WINDOWS_LOCK_OFFSET = 1 << 30


def _locking() -> tuple[Any, Any]:
    """``(fcntl, None)`` on POSIX, ``(None, msvcrt)`` on Windows.

    Looked up at each call, not at import: the tests stand in for Windows by replacing
    these modules in ``sys.modules`` (tests/test_run_lock.py).
    """
    try:
        return importlib.import_module("fcntl"), None
    except ImportError:  # Windows
        return None, importlib.import_module("msvcrt")


def _lock_exclusively(fd: int, *, shared: bool = False) -> None:
    """Take a lock on ``fd`` without waiting; BlockingIOError if another process has it."""
    fcntl, msvcrt = _locking()
    if fcntl is None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            raise BlockingIOError("locked") from None
        return
    fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)


def _unlock(fd: int) -> None:
    """Drop the lock taken on ``fd`` before closing it.

    ``flock`` goes with the close; a Windows byte lock is dropped when Windows
    gets to it after the close, so the next taker could find it still held.
    """
    fcntl, msvcrt = _locking()
    if fcntl is None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def cut_off_note(record: Mapping[str, Any], what: str) -> str:
    """What to say of a stage whose record still says "running" when this process holds the
    run's lock: its writer was killed (SIGKILL) or the machine went down.

    Parameters
    ----------
    record : Mapping
        The record (with ``pid``, ``host`` and ``started`` when known).
    what : str
        The stage: "run" or "extraction".

    Returns
    -------
    str
        "the previous <what> (pid ..., started ...) ended without recording its end ...".
    """
    who = f"pid {record['pid']} on host {record.get('host')}, " if "pid" in record else ""
    return (f"the previous {what} ({who}started {record.get('started', '?')}) ended without "
            "recording its end (killed, or the machine went down)")


def describe_holder(fd: int) -> str:
    """Who holds a lock, as its file says.

    Parameters
    ----------
    fd : int
        The lock file, open for reading.

    Returns
    -------
    str
        "pid 123 on host h, running since <time>", or what is known.
    """
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        holder = parse_json(os.read(fd, 4096).decode("utf-8"))
        return f"pid {int(holder['pid'])} on host {holder['host']}, running since {holder['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (it has not written its name yet)"
