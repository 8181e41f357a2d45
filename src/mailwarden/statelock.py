"""One process at a time in a state folder: an exclusive lock on `FOLDER/mailwarden.lock`.

The watcher and the notification outbox keep state that two processes would corrupt: the
outbox appends marks to its journal at offsets only its own process knows, and the watch
window, checkpoints and alert registry are read, changed and replaced whole. So a process
holds an exclusive, non-blocking `flock` on a lock file in the folder for as long as it uses
it, and a second process is refused at once with `StateInUseError`, naming the holder's pid
(which the holder writes into the file).

The lock belongs to the process: holding a folder the process already holds (the watch
loop around each cycle, the outbox inside a cycle) only counts, and the lock goes when the
last hold is released, or when the process ends however it ends: the kernel drops a
`flock` with its file, so a crash leaves no lock behind (the file stays, harmlessly).
Without `fcntl` (Windows) nothing is locked and keeping to one process is up to the user.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from mailwarden.errors import StateInUseError
from mailwarden.files import make_private_dirs

if sys.platform != "win32":
    import fcntl

LOCK_FILE = "mailwarden.lock"


@dataclass
class _Hold:
    fd: int
    pid: int
    count: int


_holds: dict[Path, _Hold] = {}
_guard = threading.Lock()


class FolderLock:
    """A hold on a state folder until `release()` (or the end of a `with` block)."""

    def __init__(self, folder: Path, key: Path) -> None:
        self.folder = folder
        self._key: Path | None = key

    def __repr__(self) -> str:
        return f"FolderLock({str(self.folder)!r})"

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Let go of this hold (again: nothing); the last one unlocks the folder."""
        key, self._key = self._key, None
        if key is None:
            return
        with _guard:
            hold = _holds.get(key)
            if hold is None or hold.pid != os.getpid():
                return
            hold.count -= 1
            if hold.count == 0:
                del _holds[key]
                os.close(hold.fd)  # closing the file drops the flock


def hold_folder(folder: Path, *, hint: str) -> FolderLock:
    """Hold `folder` (created 0700 if missing) for this process. Raises StateInUseError,
    ending in `hint` (what the person can do instead), when another process holds it."""
    make_private_dirs(folder)
    key = folder.resolve()
    with _guard:
        hold = _holds.get(key)
        if hold is not None and hold.pid == os.getpid():
            hold.count += 1
        else:  # a hold a forked parent took is not this process's
            _holds[key] = _Hold(fd=_lock(folder, key, hint), pid=os.getpid(), count=1)
    return FolderLock(folder, key)


def _lock(folder: Path, key: Path, hint: str) -> int:
    fd = os.open(key / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    if sys.platform == "win32":
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        pid = f" (pid {holder})" if holder else ""
        raise StateInUseError(f"another mailwarden process is using {folder}{pid}; stop it "
                              f"or {hint}") from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


def _holder(fd: int) -> str:
    """The pid the holder wrote, or "" while it has not yet (or it is not a number)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""
