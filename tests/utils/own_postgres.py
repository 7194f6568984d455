"""A throwaway PostgreSQL server that a test owns, so it can stop and restart it (a real fault).

Built from the installed server binaries (``/usr/lib/postgresql/*/bin``);
as root the server runs as the ``postgres`` user, since PostgreSQL refuses
to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class OwnPostgres:
    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), "-o", options, "-l", str(self.data / "log"), "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), "-m", "fast", "-w", "stop")


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    """Initialise, start, yield, and always stop and remove a private cluster.

    It lives in a fresh folder under the system temp dir, not pytest's
    (which is private to root, so the ``postgres`` user could not enter it).
    """
    binaries = server_bin()
    assert binaries is not None, "no PostgreSQL server binaries"
    root = Path(tempfile.mkdtemp(prefix="concord-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    server = OwnPostgres(bin=binaries, data=root, port=free_port())
    try:
        server._run(str(binaries / "initdb"), "-D", str(root / "db"), "-A", "trust", "-U", "postgres", "--no-sync")
        server.start()
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass  # never started, or already stopped by the test
        shutil.rmtree(root, ignore_errors=True)
