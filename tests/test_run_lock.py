"""The run lock of the MLLM harness on Windows (msvcrt byte locks), on any system.

Windows locks a byte range per file handle, and drops a lock some time after its handle is
closed. A stand-in ``msvcrt`` with those rules takes the place of ``fcntl`` here.
"""

from __future__ import annotations

import os
import sys

import pytest

from emosign.harness.runfiles import RunLock, RunLockedError


class WindowsLocks:
    """``msvcrt.locking`` as Windows does it: per handle, mandatory, never dropped by close."""

    LK_UNLCK, LK_NBLCK = 0, 2

    def __init__(self) -> None:
        self.held: dict[tuple[int, int, int], int] = {}  # (device, inode, offset) -> fd

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        info = os.fstat(fd)
        key = (info.st_dev, info.st_ino, os.lseek(fd, 0, os.SEEK_CUR))
        if mode == self.LK_NBLCK:
            if key in self.held:
                raise OSError(36, "Resource deadlock avoided")
            self.held[key] = fd
        elif mode == self.LK_UNLCK:
            if self.held.get(key) != fd:
                raise OSError(13, "Permission denied")
            del self.held[key]


@pytest.fixture
def windows(monkeypatch) -> WindowsLocks:
    locks = WindowsLocks()
    monkeypatch.setitem(sys.modules, "fcntl", None)  # `import fcntl` fails, as on Windows
    monkeypatch.setitem(sys.modules, "msvcrt", locks)
    return locks


def test_a_windows_run_lock_refuses_a_second_writer_and_is_dropped_at_release(tmp_path, windows):
    path = tmp_path / "sentiment.video.lock"
    first = RunLock(path)
    first.acquire()
    assert len(windows.held) == 1
    with pytest.raises(RunLockedError, match=f"pid {os.getpid()} on host"):
        RunLock(path).acquire()  # the holder's note, before the locked byte, is readable
    assert not RunLock(path).is_free()
    first.release()
    assert windows.held == {}  # dropped now, not whenever Windows gets to it
    assert RunLock(path).is_free()
    assert windows.held == {}  # the probe drops what it took
    second = RunLock(path)
    second.acquire()
    second.release()
    assert windows.held == {}
