"""A folder held by one process: an open file with an exclusive lock and the holder's pid.

The kernel drops the lock when the process dies, however it dies (SIGKILL included), so a
crash never leaves a stale lock to clear by hand. Used by ``motiongen serve`` (one server per
job store), training (one process per run folder) and data preparation (one writer per cache;
the others wait for it and read what it wrote).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


class LockHeld(Exception):
    """Another process holds the lock; ``owner`` is its pid as it wrote it, or "unknown"."""

    def __init__(self, owner: str) -> None:
        super().__init__(f"held by pid {owner}")
        self.owner = owner


def hold_lock(file: Path, *, same_process_again: bool = False) -> IO[str]:
    """The open ``file`` (its folder made), exclusively locked and holding this pid, for as
    long as the returned handle stays open; ``LockHeld`` when another holder has it.

    same_process_again: a POSIX record lock, which this process may take again through another
    handle (closing any of its handles then drops it); otherwise a BSD lock, which a second
    handle of the same process is refused too.
    """
    import fcntl

    file.parent.mkdir(parents=True, exist_ok=True)
    handle = open(file, "a+")  # noqa: SIM115 - held for as long as the caller keeps it
    try:
        if same_process_again:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise LockHeld(owner) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


@contextmanager
def waiting_lock(file: Path) -> Iterator[None]:
    """Hold ``file``'s exclusive lock for the block, waiting while another process holds it."""
    import fcntl

    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
