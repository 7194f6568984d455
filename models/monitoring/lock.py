"""An exclusive job lock that a crashed holder cannot leave behind.

The lock is an OS-level ``flock`` on a file in the data directory: the
kernel drops it when the holding process dies, however it dies (SIGKILL,
OOM, power loss of a container), so there is no stale lock to clean up and
no lease to tune. The file's text (pid, host, since) is only there to say
who holds it. ``flock`` is per host: schedule one job runner per data
directory (docs/monitoring.md).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Self


class LockBusy(RuntimeError):
    """Another process holds the lock (the message names it)."""


class JobLock:
    """``with JobLock(path, wait_seconds=0):`` — hold ``path`` exclusively or raise ``LockBusy``."""

    def __init__(self, path: Path, *, wait_seconds: float = 0.0, poll_seconds: float = 0.2) -> None:
        self.path = Path(path)
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    waited = f" after waiting {self.wait_seconds:g} s" if self.wait_seconds else ""
                    raise LockBusy(f"another job holds {self.path} ({holder}){waited}; try again later") from None
                time.sleep(self.poll_seconds)
        stamp = f"pid={os.getpid()} host={socket.gethostname()} since={dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, stamp.encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    text = os.pread(fd, 256, 0).decode(errors="replace").strip()
    return text or "holder unknown"
