"""Budget tests: the real simulator over loopback, and a real redis-server process (no mocks).

``redis_server`` starts ``redis-server --port <free> --save '' --appendonly no`` on 127.0.0.1 and
kills it at teardown; tests can ``kill()`` it mid-run. We use the Debian package's binary
(``apt-get install redis-server``): the script needs Redis ≥ 5 (``TIME`` before writes, effects
replication), and a distribution package is what operators run; .ci/run installs it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture
def sim_defaults() -> dict[str, Any]:
    return dict(ttft_ms=10, tps=5000, reply_tokens=20, fixed_length=True, jitter=0.0, seed=3, rpm=0, itpm=0, otpm=0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, on the same port) and return once it answers PING."""
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20  # bounded: a server that never listens fails the test, not hangs it
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)  # polling a readiness condition, bounded above

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if not shutil.which(REDIS_SERVER):
        pytest.skip("redis-server not found: apt-get install redis-server")
    server = RedisServer(_free_port())
    server.start()
    yield server
    server.kill()
