"""Tests for emosign._workers: the worker pool, and the shared-memory slots frames come back in.

The pool's public side (``iter_clip_frames(workers=N)`` giving the serial result, its errors
and option checks) is tested with the rest of emosign.video in test_video.py; here are the
machinery's guarantees: a slot is reused only once no array maps it (nor a forked child),
free slots beyond a few are deleted, a clip without room in shared memory is pickled, nothing
is left in /dev/shm however the iteration ends (an error, an early stop, a kill -9), and dead
workers are explained.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import write_mp4

from emosign import _workers
from emosign._workers import WorkerError, ordered_map
from emosign.video import VideoError, iter_clip_frames, sample_frames


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    return {
        "30fps": write_mp4(root / "c30.mp4", seconds=2.0, fps=30),
        "24fps": write_mp4(root / "c24.mp4", seconds=2.0, fps=24),
        "30fps_odd": write_mp4(root / "c30_odd.mp4", seconds=65 / 30, fps=30),  # 65 frames
    }


@pytest.fixture(scope="module")
def not_a_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("broken") / "notes.mp4"
    path.write_text("this is a text file, not a video\n" * 20)
    return path


# ---------------------------------------------------------------------------
# Frames from worker processes come through shared memory, and nothing is left behind
# ---------------------------------------------------------------------------


needs_shm = pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no /dev/shm here")


def _through_slot(slots, path, **option):
    """One clip as a worker process would write it and the caller would get it."""
    answer = _workers._sample_into_slot((None, path, option, slots.give()))
    assert answer.shape is not None and answer.frames.array.size == 0
    frames = slots.take(answer)
    reference = sample_frames(path, **option)
    np.testing.assert_array_equal(frames.array, reference.array)
    np.testing.assert_array_equal(frames.timestamps, reference.timestamps)
    return frames


@needs_shm
def test_a_slot_is_reused_only_once_no_array_maps_it(clips):
    import gc

    slots = _workers._Slots(keep=4)
    try:
        small = _through_slot(slots, clips["30fps_odd"], backend="pyav", max_side=32)
        view = small.array[1:, ::2]  # a view the caller keeps
        del small
        gc.collect()
        repeated = _through_slot(slots, clips["24fps"], fps=48)  # repeated frames
        assert len(slots.files) == 2  # slot 0 is still seen through the view
        kept = view.copy()
        del view
        gc.collect()
        # Slot 1 holds `repeated`, so this reuses slot 0, growing it.
        larger = _through_slot(slots, clips["30fps_odd"], backend="pyav")
        assert len(slots.files) == 2
        larger.array[:] = 7  # a private copy on write: the slot itself is untouched
        np.testing.assert_array_equal(
            kept, sample_frames(clips["30fps_odd"], max_side=32).array[1:, ::2])
        del larger
        gc.collect()
        _through_slot(slots, clips["30fps_odd"], backend="pyav")  # slot 0, with no 7 left
        assert len(slots.files) == 2 and repeated.array.size  # `repeated` held slot 1 throughout
    finally:
        slots.remove()
    assert not any(Path(file).exists() for file in slots.files)


@needs_shm
def test_free_slots_beyond_the_few_kept_are_deleted_and_their_memory_freed(clips):
    import gc

    slots = _workers._Slots(keep=2)
    try:
        held = [_through_slot(slots, clips["24fps"]) for _ in range(5)]
        assert len(slots.files) == 5
        del held
        gc.collect()
        _through_slot(slots, clips["24fps"])  # sorting the freed slots: 2 kept, 1 used
        alive = [file for file in slots.files if Path(file).exists()]
        assert len(alive) == 2
        # A worker drops its mapping of a deleted slot, so the memory is really freed.
        _workers._writable_slot(alive[0], 1)
        assert set(_workers._worker_mappings) <= set(alive)
    finally:
        slots.remove()


@needs_shm
def test_a_forked_child_keeps_its_frames_while_the_parent_goes_on(clips):
    import gc

    slots = _workers._Slots(keep=4)
    try:
        frames = _through_slot(slots, clips["30fps_odd"])
        expected = frames.array.copy()
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:  # the child: wait for the parent to go on, then compare
            os.close(writer)
            os.read(reader, 1)
            os._exit(0 if np.array_equal(frames.array, expected) else 1)
        os.close(reader)
        del frames
        gc.collect()
        # Freed here, but the child still sees that slot: it is not reused.
        for _ in range(3):
            later = _through_slot(slots, clips["24fps"], max_side=64)
            later.array[:] = 0
            del later
            gc.collect()
        os.write(writer, b"x")
        os.close(writer)
        _, status = os.waitpid(child, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        slots.remove()


@needs_shm
def test_a_clip_without_room_in_shared_memory_is_pickled(clips, monkeypatch):
    def full(file, size):
        raise OSError(28, "No space left on device")

    slots = _workers._Slots(keep=2)
    try:
        monkeypatch.setattr(_workers, "_writable_slot", full)
        answer = _workers._sample_into_slot((None, clips["24fps"], {}, slots.give()))
        assert answer.shape is None
        frames = slots.take(answer)
        np.testing.assert_array_equal(frames.array, sample_frames(clips["24fps"]).array)
        assert slots.give() == slots.files[0]  # free again at once
    finally:
        slots.remove()


@needs_shm
def test_no_slot_file_can_be_made_and_the_clips_are_pickled(clips, monkeypatch):
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/dev/shm")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    frames = list(iter_clip_frames([clips["24fps"], clips["30fps_odd"]], workers=2))
    np.testing.assert_array_equal(frames[1].array, sample_frames(clips["30fps_odd"]).array)


@needs_shm
def test_a_failing_clip_in_workers_leaves_no_shared_file(clips, not_a_video):
    before = set(Path("/dev/shm").glob("emosign-frames-*"))
    frames = iter_clip_frames([clips["24fps"], ("bad", not_a_video), clips["24fps"]],
                              workers=2)
    assert len(next(frames).array)
    with pytest.raises(VideoError, match="bad"):
        next(frames)
    assert set(Path("/dev/shm").glob("emosign-frames-*")) <= before


def make_file(path: str) -> str:
    """For ordered_map in a worker process: create a file, return its path."""
    Path(path).write_text("x")
    return path


def test_ordered_map_discards_results_the_caller_never_took(tmp_path):
    paths = [str(tmp_path / f"{i}.txt") for i in range(8)]
    results = ordered_map(make_file, paths, workers=2, window=4, discard=os.unlink)
    assert next(results) == paths[0]
    results.close()  # the caller stops early: computed results are discarded
    assert sorted(tmp_path.iterdir()) == [Path(paths[0])]


@needs_shm
def test_frames_outlive_an_iteration_stopped_early_and_nothing_is_left_behind(clips):
    before = set(Path("/dev/shm").glob("emosign-frames-*"))
    stream = iter_clip_frames([clips["30fps_odd"], clips["24fps"]] * 4, workers=2)
    first, second = next(stream), next(stream)
    stream.close()  # the caller stops early: workers stopped, slot files removed
    assert set(Path("/dev/shm").glob("emosign-frames-*")) <= before
    # The arrays the caller holds stay whole (their memory goes with them).
    np.testing.assert_array_equal(first.array, sample_frames(clips["30fps_odd"]).array)
    np.testing.assert_array_equal(second.array, sample_frames(clips["24fps"]).array)


def test_default_workers_counts_the_cores_this_process_may_use(monkeypatch):
    import subprocess
    import sys

    from emosign.video import check_workers, default_workers

    assert default_workers() >= 1 and check_workers(None) == default_workers()
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "1")  # a user's cap, as joblib reads it
    assert default_workers() == 1 and check_workers(None) == 1
    if hasattr(os, "sched_setaffinity"):  # a process pinned to one core gets one worker
        monkeypatch.delenv("LOKY_MAX_CPU_COUNT")
        pinned = subprocess.run(
            [sys.executable, "-c", "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
             "from emosign.video import default_workers; print(default_workers())"],
            capture_output=True, text=True, check=True)
        assert pinned.stdout.strip() == "1"


def die(item: object) -> None:
    """For ordered_map in a worker process: stop the process abruptly."""
    os._exit(3)


def test_a_worker_that_dies_is_a_worker_error_with_the_likely_causes():
    with pytest.raises(WorkerError, match="killed, out of memory.*workers=1"):
        list(ordered_map(die, [1, 2, 3], workers=2))


def test_a_script_read_from_stdin_is_told_at_once_why_workers_cannot_start(tmp_path, clips):
    import subprocess
    import sys

    script = (
        "from emosign.video import iter_clip_frames\n"
        f"for frames in iter_clip_frames([{str(clips['24fps'])!r}] * 3, workers=2):\n"
        "    pass\n"
    )
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 1
    assert "WorkerError: worker processes cannot start when the main script is '<stdin>'" \
        in done.stderr
    assert done.stderr.count("Traceback") == 1  # no worker was started to die


def test_a_script_without_the_main_guard_is_told_why_its_workers_died(tmp_path, clips):
    import subprocess
    import sys

    script = tmp_path / "no_guard.py"
    script.write_text(
        "from emosign.video import iter_clip_frames\n"
        f"for frames in iter_clip_frames([{str(clips['24fps'])!r}] * 3, workers=2):\n"
        "    pass\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 1
    assert 'WorkerError' in done.stderr and '`if __name__ == "__main__":` guard' in done.stderr


def _children_of(pid: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or not Path("/dev/shm").is_dir(),
                    reason="needs Linux /proc and /dev/shm")
def test_a_killed_caller_leaves_no_workers_and_no_shared_files(clips, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "consumer.py"
    script.write_text(
        "import sys, time\n"
        "from emosign.video import iter_clip_frames\n"
        "if __name__ == '__main__':\n"
        "    for frames in iter_clip_frames(sys.argv[1:] * 50, workers=2):\n"
        "        print('got', flush=True)\n"
        "        time.sleep(0.2)\n"
    )
    def mapped_slots(pids) -> set[str]:
        # The slot files these processes have mapped: theirs, not another run's on this machine.
        found = set()
        for pid in pids:
            try:
                maps = Path(f"/proc/{pid}/maps").read_text()
            except OSError:
                continue
            found |= {line.split()[-1].removesuffix(" (deleted)") for line in maps.splitlines()
                      if "/dev/shm/emosign-frames-" in line}
        return found

    caller = subprocess.Popen([sys.executable, str(script), str(clips["30fps"])],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert caller.stdout.readline() == "got\n"  # the workers are up and delivering
        workers = _children_of(caller.pid)
        assert workers
        slots = mapped_slots([caller.pid, *workers])
        assert slots  # frames came back through shared memory
    finally:
        caller.send_signal(signal.SIGKILL)
        caller.wait()
    # Generous: on a loaded machine the resource tracker and the workers' exit take a while.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        any(Path(f"/proc/{pid}").exists() for pid in workers)
        or any(Path(s).exists() for s in slots)
    ):
        time.sleep(0.2)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    assert not [s for s in slots if Path(s).exists()]
