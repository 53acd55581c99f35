"""A throwaway ``redis-server`` on a loopback port: the shared-limit bench and the test fixture use it.

One starter, so the bench and the tests start Redis the same way (no persistence, loopback only)
and a fix to it lands in both. It imports nothing from pytest: the fixture in tests/conftest.py
turns ``RedisUnavailable`` into a skip and ``RedisStartError`` into a failure.

We use the distribution's binary (``apt-get install redis-server``): the budget's script needs
Redis ≥ 5 and the workers' ``XAUTOCLAIM`` Redis ≥ 6.2; a distribution package is what operators
run, and .ci/run installs it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from types import TracebackType

INSTALL_HINT = "apt-get install redis-server"


class RedisUnavailable(RuntimeError):
    """No ``redis-server`` binary on this machine."""


class RedisStartError(RuntimeError):
    """The binary is there but the server did not answer PING in time."""


def find_redis_server() -> str | None:
    """The ``redis-server`` binary, or None."""
    return shutil.which("redis-server") or shutil.which("/usr/bin/redis-server")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisProcess:
    """``redis-server --port P --bind 127.0.0.1 --save '' --appendonly no``; ``kill()`` then ``start()``
    restarts it on the same port (the tests of Redis going away mid-run)."""

    def __init__(self, port: int | None = None, *, binary: str | None = None) -> None:
        found = binary or find_redis_server()
        if found is None:
            raise RedisUnavailable(f"redis-server not found: {INSTALL_HINT}")
        self.binary = found
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> RedisProcess:
        """Start (or restart, on the same port) and return once it answers PING."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout  # bounded: a server that never listens is an error, not a hang
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RedisStartError(f"redis-server did not start on 127.0.0.1:{self.port}")
            time.sleep(0.05)  # polling a readiness condition, bounded above

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    stop = kill

    def __enter__(self) -> RedisProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.kill()
