"""One run per output folder: an exclusive ``flock`` on ``<out>/.worldsim.lock``, held while the command runs.

    with hold_folder("runs/eval", "worldsim eval"):   # ValueError at once if another run holds it
        ...

The lock is the OS's (``fcntl.flock``), so it dies with its process: a run killed by SIGKILL
leaves the file behind but not the lock, and the next run takes it. The file holds the
holder's pid, host, command and start time, which the refusal names. A process that already
holds a folder's lock may take it again (nested calls); it is released when the outermost
``with`` ends (the file is then removed). Worker processes are spawned or forked with the
descriptor closed or shared: they neither hold the lock on their own nor release it (only the
process that took it does). Output folders whose "is this folder empty?" checks must not count
the lock file use ``LOCK_NAME`` / ``contents``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = ".worldsim.lock"

_HELD: dict[str, list] = {}   # realpath of the folder -> [fd, depth, pid]


def contents(folder: str | Path) -> list[Path]:
    """The folder's entries other than the lock file (for "is the folder empty" checks)."""
    folder = Path(folder)
    return [p for p in folder.iterdir() if p.name != LOCK_NAME] if folder.is_dir() else []


def check_folder_path(folder: str | Path, what: str = "--out") -> Path:
    """ValueError when ``folder`` is an existing file (or lies under one)."""
    path = Path(folder)
    for p in (path, *path.parents):
        if p.exists() and not p.is_dir():
            raise ValueError(f"{what} {path}: {p} is a file, not a folder; give a folder path (new or one "
                             f"this command wrote)")
        if p.exists():
            break
    return path


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process (holder unknown)"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.get("started", 0)))
    return f"{info.get('command', 'a worldsim run')} (pid {info.get('pid')} on {info.get('host')}, started {started})"


def _acquire(folder: Path, command: str) -> int:
    import fcntl

    path = folder / LOCK_NAME
    for _ in range(20):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ValueError(f"output folder {folder} is in use by {_holder(path)}; wait for that run to end "
                             f"(or stop it), or choose another folder") from None
        try:   # the holder before us may have removed the file after we opened it: lock the current one
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "started": time.time()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
            return fd
        os.close(fd)
    raise ValueError(f"could not lock output folder {folder}: its lock file keeps changing")


def _release(folder: Path, fd: int) -> None:
    import fcntl

    with contextlib.suppress(OSError):
        os.unlink(folder / LOCK_NAME)   # while still locked: a waiting opener sees another inode and retries
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextlib.contextmanager
def hold_folder(folder: str | Path, command: str) -> Iterator[Path]:
    """Create ``folder`` if needed and hold its lock for the ``with`` block; ValueError naming the
    holder if another process holds it, or if ``folder`` is a file. A folder this call created is
    removed again if it is still empty at the end (a run refused for bad input leaves nothing)."""
    folder = check_folder_path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(folder)
    held = _HELD.get(key)
    if held is not None and held[2] == os.getpid():
        held[1] += 1
        try:
            yield folder
        finally:
            held[1] -= 1
        return
    fd = _acquire(folder, command)
    _HELD[key] = [fd, 1, os.getpid()]
    try:
        yield folder
    finally:
        if _HELD.get(key, [None, 0, None])[2] == os.getpid():
            del _HELD[key]
            _release(folder, fd)
            if created:
                with contextlib.suppress(OSError):
                    folder.rmdir()   # only if empty
