"""Reading input files safely, and writing result files whole or not at all.

Every writer of the project goes through :func:`write_atomically` (one file) or
:func:`staged_directory` (a folder), and every reader of a user's file through
:func:`read_regular_file`, so the guarantees below hold for all of them:

- an output never replaces an input: a file written is never a file read, and a folder
  written is never one that is, is inside, or holds a file or folder read;
- a folder is only ever replaced when it holds an earlier output of the same writer (its
  marker file, ``.emosign-<writer>``, lists every file that writer put there) and nothing
  else; a folder holding anything emosign did not write is refused, even with ``overwrite``;
- an output is built beside its target and moved into place: a failure (a full disk, Ctrl-C)
  leaves the earlier output as it was and nothing half-written;
- a file read must be a regular file of at most ``max_bytes`` (a FIFO, a device or a
  directory is refused at once, without blocking on it).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emosign.errors import InputError

__all__ = [
    "MARKER_PREFIX",
    "MAX_INPUT_BYTES",
    "check_output_file",
    "check_output_folder",
    "decode_utf8",
    "describe_kind",
    "marker_name",
    "parse_json",
    "read_regular_file",
    "staged_directory",
    "write_atomically",
]

_UMASK_LOCK = threading.Lock()

#: The largest input file read (predictions, label file, captions, ratings): 64 MiB. The
#: real files are far smaller (the label file is ~0.1 MiB; 200 clips of predictions, even
#: with long explanations, well under 1 MiB), so a bigger one is the wrong file, or a device.
MAX_INPUT_BYTES = 64 * 2**20
#: The prefix of every writer's marker file: ``.emosign-report``, ``.emosign-export-hub``...
MARKER_PREFIX = ".emosign-"
_MARKER_HEADER = "written by emosign {version} {writer}; it may replace this folder, which holds:"
_MAX_MARKER_BYTES = 2**20
_UNLISTED: set[str] = {"/"}  # what an older marker, which lists no file, is read as


# --- reading ---------------------------------------------------------------------------------


def read_regular_file(
    path: str | os.PathLike,
    *,
    what: str,
    error: type[Exception] = ValueError,
    max_bytes: int | None = None,
) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``max_bytes``
    (default :data:`MAX_INPUT_BYTES`).

    The file is opened without blocking and checked on the open descriptor, so a FIFO with
    no writer, ``/dev/zero`` or a directory is refused at once, and a file swapped after
    the check cannot slip through. ``what`` names the file's role in messages
    ("predictions file", ...).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    PermissionError
        If it cannot be read.
    error
        If it is not a regular file, or holds more than ``max_bytes``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except PermissionError:
        raise PermissionError(f"cannot read {what} {path}: permission denied") from None
    except IsADirectoryError:  # some systems refuse to open a directory at all
        raise error(f"{what} {path} is a directory, not a file") from None
    if max_bytes is None:
        max_bytes = MAX_INPUT_BYTES
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{what} {path} is {describe_kind(mode)}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise error(
            f"{what} {path} holds more than {_size(max_bytes)}, the most emosign reads from "
            "one file (the real ones are far smaller): is it the right file?"
        )
    return data


def decode_utf8(
    data: bytes, *, path: str | os.PathLike, what: str, error: type[Exception] = ValueError
) -> str:
    """``data`` decoded as UTF-8 (a leading byte-order mark dropped), or ``error`` naming the
    file and the offset of the first invalid byte.

    The one decoder of the project's text inputs (label file, predictions, CSV tables), so
    that each says the same thing about a file saved in another encoding. ``what`` names the
    file's role in the message ("label file", "predictions file", ...).
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise error(
            f"{what} {path} is not UTF-8 text (invalid byte at offset {err.start}); "
            "save it as UTF-8"
        ) from None


def describe_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, for messages: "a directory", "a named pipe (FIFO)"."""
    kinds = [
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISREG, "a regular file"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _size(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


def parse_json(text: str | bytes, **options: Any) -> Any:
    """:func:`json.loads`, where input nested too deeply for Python's parser (``[[[[...``
    from a hostile file or a degenerate model answer) is a ``json.JSONDecodeError`` like any
    other broken JSON, not a RecursionError that would crash the command reading it."""
    try:
        return json.loads(text, **options)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply to read", text if isinstance(text, str)
                                   else "", 0) from None


# --- writing one file ------------------------------------------------------------------------


def write_atomically(
    path: str | os.PathLike, text: str | bytes, *, inputs: Iterable[str | os.PathLike] = ()
) -> None:
    """Write ``text`` (UTF-8 text, or bytes as they are) to ``path`` through a temporary
    file in the same directory, synced and
    renamed, so that a crash, Ctrl-C or a full disk never leaves half a file behind, and the
    earlier file stays as it was when writing fails.

    ``inputs`` are the files the caller read: ``path`` may be none of them. ``path`` may not
    be a directory or anything else but a regular file.

    Raises
    ------
    ValueError
        If ``path`` is one of ``inputs``.
    IsADirectoryError, FileExistsError
        If ``path`` is a directory, or exists and is not a regular file.
    OSError
        If writing fails (a full disk): its ``filename`` is ``path``.
    """
    path = Path(path)
    check_output_file(path, inputs=inputs)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as err:
        raise _naming(err, path.parent, temporary=path.parent) from None
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes files private (0600); results are ordinary files.
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise _naming(err, path, temporary=Path(tmp)) from None
        raise


def check_output_file(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = ()) -> None:
    """Refuse an output file that is an input, a directory, or not a regular file (a FIFO,
    ``/dev/null``): see :func:`write_atomically`. Call it before long work, to fail early."""
    path = Path(path)
    for given in inputs:
        if _same_file(path, Path(given)):
            raise InputError(f"{path} is {given}, which this reads: choose another output file")
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory; give a file name to write", str(path))
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        # A symbolic link is replaced by the file, its target left alone.
        raise FileExistsError(f"{path} is {describe_kind(mode)}; emosign writes only regular files")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b) or a.resolve() == b.resolve()
    except OSError:
        return a.resolve() == b.resolve()


def _naming(err: OSError, path: Path, *, temporary: Path) -> OSError:
    """``err`` naming ``path`` when it names no file or only the ``temporary`` one (a full
    disk while writing); an error about another file (an input) is left as it is."""
    if err.errno is None:
        if type(err) is OSError:  # a bare message (pyarrow's full disk): say where
            return OSError(f"cannot write {path}: {err}; nothing was written, {path} is as it was")
        return err
    named = isinstance(err.filename, (str, bytes, os.PathLike))  # not None, not a descriptor
    if named and not Path(os.fsdecode(err.filename)).is_relative_to(temporary):
        return err
    strerror = (err.strerror or str(err)).split("; nothing was written")[0]
    return OSError(err.errno, f"{strerror}; nothing was written, {path} is as it was", str(path))


# --- writing a folder ------------------------------------------------------------------------


def marker_name(writer: str) -> str:
    """The marker file of a writer: ``.emosign-<writer>``."""
    return MARKER_PREFIX + writer


@contextmanager
def staged_directory(
    out: str | os.PathLike,
    *,
    writer: str,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> Iterator[Path]:
    """Build a folder's content in a staging folder beside ``out``, then move it into place.

    The ``with`` body writes into the yielded (empty) folder. When the body finishes, a
    marker file ``.emosign-<writer>`` listing every file written is added and the staging
    folder replaces ``out``; when it raises, the staging folder is removed and ``out`` is
    left as it was. So an interrupted or failed export or report leaves nothing half-written.

    What ``out`` may be:

    - absent or empty: written;
    - an earlier output of the same ``writer`` (its marker, and no file the marker does not
      list): replaced if ``overwrite``, else refused (``FileExistsError``);
    - anything else non-empty, including an earlier output someone added files to: refused
      (``FileExistsError``), even with ``overwrite``: emosign never deletes what it did not
      write;
    - a folder that is, is inside, or holds one of ``inputs`` (the files and folders the
      writer reads: label file, videos, captions, results), or the working directory:
      refused (``ValueError``), even with ``overwrite``;
    - a symbolic link, or a file: refused (``FileExistsError``).

    Raises
    ------
    OSError
        If writing fails (a full disk): its ``filename`` is ``out``, which is as it was.
    """
    out = Path(out).absolute()
    inputs = list(inputs)
    check_output_folder(out, writer=writer, overwrite=overwrite, inputs=inputs)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    except PermissionError as err:
        raise PermissionError(f"cannot write in {out.parent}: {err.strerror}") from None
    except OSError as err:
        raise _naming(err, out, temporary=out.parent) from None
    try:
        yield staging
        _write_marker(staging, writer=writer)
        # Again: the folder may have changed while the body ran (a long export).
        check_output_folder(out, writer=writer, overwrite=overwrite, inputs=inputs)
        # mkdtemp makes folders private (0700); outputs are ordinary folders.
        os.chmod(staging, 0o777 & ~_umask())
        if out.exists():
            # Old aside, new in, old deleted: a failure in between puts the old one back.
            old = staging.with_name(staging.name + ".old")
            out.rename(old)
            try:
                staging.rename(out)
            except BaseException:
                old.rename(out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, OSError):
            raise _naming(err, out, temporary=staging) from None
        raise


def check_output_folder(
    out: str | os.PathLike,
    *,
    writer: str,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
) -> None:
    """Refuse ``out`` as :func:`staged_directory` would, without writing anything: call it
    before long work, so that a refusal comes first, not after an hour of computing."""
    marker = marker_name(writer)
    out = Path(out).absolute()
    if out.is_symlink():
        raise FileExistsError(f"{out} is a symbolic link; give the folder it points to")
    target = out.resolve()
    if Path.cwd().resolve().is_relative_to(target):
        raise InputError(f"{out} is or holds the working directory; choose another output folder")
    for given in inputs:
        source = Path(given).resolve()
        if source == target:
            raise InputError(f"{out} is {given}, which this reads: choose another output folder")
        if source.is_relative_to(target):
            raise InputError(f"{out} holds {given}, which this reads: choose another output folder")
        if target.is_relative_to(source):
            raise InputError(
                f"{out} is inside {given}, which this reads: choose an output folder outside it"
            )
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        _check_replaceable(out, writer=writer, marker=marker, overwrite=overwrite)


def _check_replaceable(out: Path, *, writer: str, marker: str, overwrite: bool) -> None:
    """Refuse a non-empty ``out`` unless it is an earlier output of ``writer`` and nothing
    else, and ``overwrite`` is given."""
    listed = _listed_files(out / marker)
    if listed is None:
        raise FileExistsError(
            f"{out} is not empty and was not written by emosign {writer} (it has no {marker} "
            "file): emosign never replaces a folder it did not write, even with --overwrite "
            "(overwrite=True); choose a new or empty folder"
        )
    if listed is _UNLISTED:
        raise FileExistsError(
            f"{out} holds an output of an older emosign {writer}, whose {marker} does not list "
            "the files it wrote, so emosign cannot tell them from yours: delete the folder "
            "yourself, or choose another"
        )
    foreign = _files_not_listed(out, listed | {marker})
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise FileExistsError(
            f"{out} holds an earlier output of emosign {writer}, and also files it did not "
            f"write ({shown}): emosign never deletes those, even with --overwrite "
            "(overwrite=True); move them out or choose another folder"
        )
    if not overwrite:
        raise FileExistsError(
            f"{out} is not empty: it holds an earlier output of emosign {writer}; pass "
            "--overwrite (overwrite=True) to replace it"
        )


def _listed_files(marker: Path) -> set[str] | None:
    """The files a marker lists, or None when it is absent or not a marker."""
    try:
        mode = marker.lstat().st_mode
        if not stat.S_ISREG(mode):
            return None
        text = read_regular_file(marker, what="marker file", max_bytes=_MAX_MARKER_BYTES)
        lines = text.decode("utf-8").splitlines()
    except (OSError, ValueError):
        return None
    if not lines or not lines[0].startswith("written by emosign "):
        return None
    if not lines[0].endswith("which holds:"):  # an older emosign's marker: no list
        return _UNLISTED
    return {line.rstrip("/") for line in lines[1:] if line}


def _files_not_listed(folder: Path, listed: set[str]) -> list[str]:
    """Everything under ``folder`` (files, links, folders) that is neither listed nor a
    folder on the way to a listed file; symbolic links are not followed."""
    keep = set(listed)
    for name in listed:
        parts = name.split("/")
        keep |= {"/".join(parts[:i]) for i in range(1, len(parts))}
    foreign = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted(dirs) + sorted(files):
            relative = (Path(root) / name).relative_to(folder).as_posix()
            if relative not in keep:
                foreign.append(relative)
        dirs[:] = [d for d in dirs if (Path(root) / d).relative_to(folder).as_posix() in keep]
    return sorted(foreign)


def _write_marker(staging: Path, *, writer: str) -> None:
    from emosign import __version__

    marker = marker_name(writer)
    # Folders end in "/"; the marker lists itself not.
    written = sorted(
        (Path(root) / name).relative_to(staging).as_posix() + ("/" if name in dirs else "")
        for root, dirs, files in os.walk(staging, followlinks=False)
        for name in [*dirs, *files]
        if not (root == str(staging) and name == marker)
    )
    header = _MARKER_HEADER.format(version=__version__, writer=writer)
    write_atomically(staging / marker, "\n".join([header, *written]) + "\n")


def _umask() -> int:
    with _UMASK_LOCK:
        umask = os.umask(0o022)
        os.umask(umask)
    return umask


def _new_file_mode() -> int:
    """The permissions open() gives a new file: 0o666 less the umask, which can only be
    read by setting it."""
    return 0o666 & ~_umask()
