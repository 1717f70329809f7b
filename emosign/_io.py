"""Writing result files whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

_UMASK_LOCK = threading.Lock()


def write_atomically(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, synced and
    renamed, so that a crash or Ctrl-C never leaves half a file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes files private (0600); results are ordinary files.
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def staged_directory(
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    replaceable: Callable[[Path], bool] | None = None,
    inputs: Iterable[str | os.PathLike] = (),
) -> Iterator[Path]:
    """Build a folder's content in a staging folder beside ``out``, then move it into place.

    The ``with`` body writes into the yielded (empty) folder. When the body finishes, the
    staging folder replaces ``out``; when it raises, the staging folder is removed and
    ``out`` is left as it was. So an interrupted export or report leaves nothing half-written.

    A non-empty ``out`` is refused (``FileExistsError``) unless ``overwrite``, or unless
    ``replaceable(out)`` says it holds only an earlier output of the same writer. An ``out``
    that is or holds one of the writer's ``inputs`` (the results it reads, the videos it
    points at) is always refused (``ValueError``): replacing it would delete them. So are an
    ``out`` that is or holds the working directory, and a symbolic link.
    """
    out = Path(out).absolute()
    if out.is_symlink():
        raise FileExistsError(f"{out} is a symbolic link; give the folder it points to")
    target = out.resolve()
    if Path.cwd().resolve().is_relative_to(target):
        raise ValueError(f"{out} is or holds the working directory; choose another output folder")
    for given in inputs:
        source = Path(given).resolve()
        if source.is_relative_to(target):
            raise ValueError(f"{out} holds {given}, which this reads: choose another output folder")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory")
    if out.exists() and any(out.iterdir()) and not overwrite and not (replaceable and replaceable(out)):
        raise FileExistsError(f"{out} is not empty; pass overwrite=True (--overwrite) to replace it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    except PermissionError as err:
        raise PermissionError(f"cannot write in {out.parent}: {err.strerror}") from None
    try:
        yield staging
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
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _umask() -> int:
    with _UMASK_LOCK:
        umask = os.umask(0o022)
        os.umask(umask)
    return umask


def _new_file_mode() -> int:
    """The permissions open() gives a new file: 0o666 less the umask, which can only be
    read by setting it."""
    return 0o666 & ~_umask()
