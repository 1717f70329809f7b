"""Worker processes: the pool, its errors, and the shared memory frames come back through.

Everything in emosign that runs in worker processes goes through this module:
:func:`iter_clip_frames <emosign.video.iter_clip_frames>` with ``workers > 1``,
feature extraction (:mod:`emosign.baselines.visual`) and the benchmark's
forked pool (:mod:`emosign.baselines.benchmark`).

Reading it top to bottom:

* how many workers: :func:`default_workers` (the cores this process may use)
  and :func:`check_workers`;
* the pool: :func:`process_pool` starts ``spawn`` workers with one thread
  each (BLAS, OpenMP, OpenCV and emosign's decoders; see ``_init_worker``),
  each exiting when its parent dies; :func:`ordered_map` maps over it in
  input order with a bounded window; :func:`dead_workers_explained` turns a
  dead worker into a :class:`WorkerError` that says why workers usually die;
* the slots: reusable files in ``/dev/shm`` that a worker decodes a clip's
  frames into and the caller maps without a copy (``_Slots``), and
  :func:`sample_in_workers`, the worker path of ``iter_clip_frames``.

It imports nothing of the package but :mod:`emosign.errors` and
:mod:`emosign._decode`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import mmap
import os
import queue
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from threadpoolctl import threadpool_limits

from emosign import _decode
from emosign._decode import Frames, is_positive_int, new_array
from emosign.errors import EmosignError, InputError

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

__all__ = [
    # Public, through emosign.video.
    "WorkerError",
    "check_workers",
    "default_workers",
    # For the package: emosign.video and emosign.baselines.
    "dead_workers_explained",
    "ordered_map",
    "process_pool",
    "sample_in_workers",
]

#: One clip for a worker: ``(clip name or None, path, options of sample_frames)``.
ClipItem = tuple[str | None, str | os.PathLike[str], dict[str, Any]]

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class WorkerError(EmosignError, RuntimeError):
    """A worker process stopped abruptly: killed, out of memory, or never started.

    The last happens when a script starts workers without the ``if __name__
    == "__main__":`` guard that processes started with ``spawn`` need.
    """

    # Named where users import it from, in tracebacks and pickles.
    __module__ = "emosign.video"


def default_workers() -> int:
    """The cores this process may use: the default number of worker processes.

    As :func:`joblib.cpu_count` counts them (joblib comes with scikit-learn):
    the CPU affinity, a container's CPU quota (cgroups), and at most
    ``LOKY_MAX_CPU_COUNT`` when that is set.  ``os.cpu_count()`` would give a
    container limited to 2 CPUs on a 64-core host 64 workers.

    Returns
    -------
    workers : int
        At least 1.
    """
    # Imported here: joblib takes 40 ms to import (measured), which only callers that
    # start workers should pay.
    from joblib import cpu_count

    return max(1, int(cpu_count()))


def check_workers(workers: object) -> int:
    """A number of worker processes, checked.

    Parameters
    ----------
    workers : int or None
        An integer from 1 to four per core (more processes than that only
        multiply the memory: a clip's frames each), or None for
        :func:`default_workers`.

    Returns
    -------
    workers : int
        ``workers`` as given, or :func:`default_workers` for None.

    Raises
    ------
    ValueError
        (:class:`~emosign.errors.InputError`) for anything else.
    """
    if workers is None:
        return default_workers()
    most = 4 * default_workers()
    if not is_positive_int(workers) or workers > most:
        raise InputError(
            f"workers must be an integer from 1 to {most} (four per core) or None, "
            f"got {workers!r}"
        )
    return int(workers)


# Libraries that read these when they load get one thread per worker
# process; MediaPipe (glog, absl, TF Lite) then logs only errors, which
# keeps its per-clip start-up lines off the progress bar.
_WORKER_ENVIRONMENT = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "GLOG_minloglevel": "2",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed would otherwise wait for work forever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _init_worker() -> None:
    """Runs first in every worker process: one decoder/BLAS/OpenMP/OpenCV thread each."""
    _decode.use_one_thread()
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    os.environ.update(_WORKER_ENVIRONMENT)
    # Pools already loaded (NumPy's BLAS) ignore the variables; this limit applies to them,
    # for the life of the process.
    threadpool_limits(1)
    # Here, not at the top: OpenCV takes a tenth of a second to import, paid by workers only.
    import cv2

    cv2.setNumThreads(1)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes with one thread each (see :func:`_init_worker`).

    Processes are started with ``spawn`` (no fork of a process that may hold
    decoder or BLAS threads), so a script that uses them needs the usual
    ``if __name__ == "__main__":`` guard.

    Raises
    ------
    WorkerError
        When the main script was read from standard input (``python - <
        script.py``): spawn would look for a file named ``<stdin>`` to import
        in every worker, and every worker would die.
    """
    # Imported here: concurrent.futures' process pool and multiprocessing take 15 ms to
    # import (measured), which callers that never start a worker need not pay.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if script and getattr(main, "__spec__", None) is None and not os.path.isfile(script):
        raise WorkerError(
            f"worker processes cannot start when the main script is {script!r}, not a file "
            "(each worker imports the main script from its file); save the script to a "
            "file, or pass workers=1 (--workers 1) to work in this process"
        )
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
    )


@contextlib.contextmanager
def dead_workers_explained() -> Iterator[None]:
    """A process pool's ``BrokenProcessPool`` raised inside, as a :class:`WorkerError`
    that names what usually causes it and the way around it."""
    from concurrent.futures.process import BrokenProcessPool  # 15 ms: see process_pool

    try:
        yield
    except BrokenProcessPool as exc:
        raise WorkerError(
            "a worker process stopped abruptly (killed, out of memory, or started by a "
            'script without the `if __name__ == "__main__":` guard that worker processes '
            "need); pass workers=1 (--workers 1) to work in this process instead"
        ) from exc


def ordered_map(
    function: Callable[[_Item], _Result],
    items: Iterable[_Item],
    *,
    workers: int,
    window: int | None = None,
    discard: Callable[[_Result], object] | None = None,
) -> Generator[_Result, None, None]:
    """``map(function, items)`` over a process pool, results in input order.

    Parameters
    ----------
    function : callable
        Run in the workers, so it must pickle (a module-level function).
    items : iterable
        Its arguments, one per call; read as the window moves.
    workers : int
        Processes (see :func:`process_pool`).
    window : int or None, default=None
        At most this many items (default ``2 * workers``) are in flight at a
        time, so memory holds a bounded number of results however slowly the
        caller consumes them.
    discard : callable or None, default=None
        Called on each result computed but never handed out (when the caller
        stops early), to free what it holds.

    Yields
    ------
    result
        ``function(item)``, in input order.  An exception from ``function``
        is raised when its item's turn comes; the pool is then shut down and
        pending items cancelled.

    Raises
    ------
    WorkerError
        When a worker stops abruptly (see :func:`dead_workers_explained`).
    """
    remaining = iter(items)
    window = window or 2 * workers
    pool = process_pool(workers)
    pending: deque[Future[_Result]] = deque()
    try:
        with dead_workers_explained():
            pending.extend(pool.submit(function, item) for item in islice(remaining, window))
            while pending:
                result = pending.popleft().result()
                for item in islice(remaining, 1):
                    pending.append(pool.submit(function, item))
                yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            if discard and not future.cancelled() and future.exception() is None:
                discard(future.result())


def _sample_one(item: ClipItem) -> Frames:
    """In a worker: one clip's frames, pickled back (where no slot can be had)."""
    clip, path, options = item
    return _decode.sample(path, clip=clip, **options)


# A clip's frames (tens of MB) would cost several copies through a pipe, and a
# fresh shared-memory file per clip costs nearly as much in page faults
# (30 ms of CPU for a 44 MB clip, measured; the decoding itself takes 85 ms).
# So the parent keeps a few files in shared memory (tmpfs), "slots".  A
# worker writes a clip's frames straight into the slot it is given and keeps
# its mapping for the next clip; the caller gets an array on a private
# (copy-on-write) mapping of that slot, which behaves like ordinary memory.
# Once that array and every view of it are freed, the slot takes a later
# clip, or is deleted when enough slots are free already.  Where a slot
# cannot be had (no /dev/shm, or it is full), that clip's frames are pickled.
_SHARED_DIR = "/dev/shm"
_SLOT_PREFIX = "emosign-frames-"

# In a worker: its mapping of each slot it has written into.
_worker_mappings: dict[str, mmap.mmap] = {}

# Forks of this process (os.fork, multiprocessing's "fork").  A forked child
# inherits the caller's arrays on slots, so a slot freed here after a fork may
# still be seen there: it is deleted rather than reused.
_forks = 0


def _count_fork() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_parent=_count_fork)


def _writable_slot(file: str, size: int) -> mmap.mmap:
    """In a worker: a shared mapping of slot ``file``, at least ``size`` bytes long.

    The file grows when a clip needs more room, with ``posix_fallocate`` so
    that a full /dev/shm is an OSError here rather than a SIGBUS while writing.
    """
    # Slots the parent has deleted are gone for good: drop them, freeing their memory.
    for gone in [name for name in _worker_mappings if not os.path.exists(name)]:
        del _worker_mappings[gone]
    mapped = _worker_mappings.get(file)
    if mapped is not None and len(mapped) >= size:
        return mapped
    fd = os.open(file, os.O_RDWR)
    try:
        size = max(size, os.fstat(fd).st_size, 1)
        os.posix_fallocate(fd, 0, size)
        mapped = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    _worker_mappings[file] = mapped
    return mapped


@dataclass(frozen=True)
class _FromWorker:
    """A worker's answer for one clip and the slot it was given (None: no slot).

    With ``shape`` set the pixels wait in the slot and ``frames`` has an empty
    array; with None (no slot, or no room in it) ``frames`` holds them.
    """

    frames: Frames
    slot: str | None
    shape: tuple[int, ...] | None


def _sample_into_slot(
    item: tuple[str | None, str | os.PathLike[str], dict[str, Any], str | None],
) -> _FromWorker:
    """In a worker: sample one clip, writing its frames into the slot file."""
    clip, path, options, slot = item
    shapes: list[tuple[int, ...]] = []

    def allocate(shape: tuple[int, ...]) -> np.ndarray:
        if shapes or slot is None:  # one array per clip lives in the slot
            return new_array(shape)
        try:
            mapped = _writable_slot(slot, math.prod(shape))
        except OSError:
            return new_array(shape)
        shapes.append(shape)
        return np.ndarray(shape, dtype=np.uint8, buffer=mapped)

    frames = _decode.sample(path, clip=clip, allocate=allocate, **options)
    if not shapes or frames.array.shape != shapes[0]:
        return _FromWorker(frames=frames, slot=slot, shape=None)
    empty = dataclasses.replace(frames, array=new_array((0, *shapes[0][1:])))
    return _FromWorker(frames=empty, slot=slot, shape=shapes[0])


class _Slots:
    """The parent's slot files: created as needed, kept while free (at most ``keep``
    of them), deleted when the iteration ends.

    :meth:`take` hands the caller an array on the slot itself, with no copy;
    the slot is given to a worker again only once every array (and view) on
    it has been freed, and no fork has happened since.  So the slots number
    the clips in flight plus those the caller holds, and shared memory holds
    no more than that and ``keep`` free slots.
    """

    def __init__(self, *, keep: int) -> None:
        self.keep = keep
        self.files: list[str] = []  # every slot made, for the tests
        self._live: set[str] = set()
        self._free: list[str] = []
        # Put by weakref callbacks, which may run in any thread or in the
        # middle of another call: SimpleQueue is safe there.  They are sorted
        # out later, by give() and remove() (deleting a file there could
        # re-enter the resource tracker's lock).
        self._released: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()

    def give(self) -> str | None:
        """A slot no array maps: a free one, or a new empty file (None if none can be made)."""
        self._sort_released()
        if self._free:
            return self._free.pop()
        try:
            fd, file = tempfile.mkstemp(prefix=_SLOT_PREFIX, dir=_SHARED_DIR)
        except OSError:  # no room or no permission in /dev/shm: this clip is pickled
            return None
        os.close(fd)
        self.files.append(file)
        self._live.add(file)
        # The resource tracker deletes the file if this process dies without
        # removing it (a POSIX shared-memory name is its file in /dev/shm).
        _track(file, register=True)
        return file

    def take(self, result: _FromWorker) -> Frames:
        """The Frames of a worker's answer, their array on a private mapping of its slot."""
        if result.shape is None or result.slot is None:
            if result.slot is not None:
                self._released.put((result.slot, _forks))
            return result.frames
        size = math.prod(result.shape)
        fd = os.open(result.slot, os.O_RDONLY)
        try:
            # Private: what the caller writes stays in this process (copy on write).
            mapping = mmap.mmap(fd, size, access=mmap.ACCESS_COPY)
        finally:
            os.close(fd)
        flat = np.frombuffer(mapping, dtype=np.uint8, count=size)
        # Every view of the array, and anything built on it, keeps the mapping
        # alive (through NumPy's buffer object); when it goes, no one here
        # sees the slot.
        weakref.finalize(mapping, self._released.put, (result.slot, _forks))
        return dataclasses.replace(result.frames, array=flat.reshape(result.shape))

    def remove(self) -> None:
        """Delete every slot file; those still mapped keep their memory until their arrays go."""
        self._sort_released()
        for file in list(self._live):
            self._delete(file)

    def _sort_released(self) -> None:
        while True:
            try:
                slot, forks = self._released.get_nowait()
            except queue.Empty:
                return
            if slot not in self._live:
                continue
            if forks != _forks or len(self._free) >= self.keep:
                self._delete(slot)
            else:
                self._free.append(slot)

    def _delete(self, file: str) -> None:
        self._live.discard(file)
        if file in self._free:
            self._free.remove(file)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(file)
        _track(file, register=False)


def _track(file: str, *, register: bool) -> None:
    """Tell multiprocessing's resource tracker about a shared file (Linux /dev/shm)."""
    from multiprocessing import resource_tracker  # with the pool's modules: see process_pool

    name = "/" + os.path.basename(file)
    if register:
        resource_tracker.register(name, "shared_memory")
    else:
        resource_tracker.unregister(name, "shared_memory")


def sample_in_workers(items: Iterable[ClipItem], workers: int) -> Iterator[Frames]:
    """Each clip's frames, in order, sampled by ``workers`` processes (see the note on slots).

    The worker path of :func:`emosign.video.iter_clip_frames`, which checks the options
    first.  At most ``2 * workers`` clips are decoded ahead of the one being consumed.
    """
    window = 2 * workers
    if not (hasattr(os, "posix_fallocate") and os.path.isdir(_SHARED_DIR)):
        yield from ordered_map(_sample_one, items, workers=workers, window=window)
        return
    slots = _Slots(keep=window + 1)
    tasks = ((*item, slots.give()) for item in items)
    results = ordered_map(_sample_into_slot, tasks, workers=workers, window=window)
    try:
        for result in results:
            yield slots.take(result)
    finally:
        results.close()  # waits for the workers, which may still write into slots
        slots.remove()

