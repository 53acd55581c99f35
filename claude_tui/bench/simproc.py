"""The simulator in a process of its own, so the client's CPU seconds are the client's alone.

``SimProcess(**config)`` runs ``python -m claude_tui.bench.simproc CONFIG_JSON``: the child starts
``SimulatorConfig(**config)`` with ``start_in_thread`` and prints its URL; the parent then asks
it for stats, its request log (summarised), resets and injected faults, one JSON line per command
over stdin/stdout. A plain subprocess rather than multiprocessing's spawn, so the caller's main
module is never re-imported. Nothing here imports aiohttp in the parent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

#: What each request-log record is reduced to before crossing the pipe.
LOG_FIELDS = ("status", "outcome", "fault", "stream", "retry_count", "retry_after", "output_tokens",
              "received_at", "finished_at")


def _serve(config: dict[str, Any]) -> None:  # runs in the child process
    """Start the simulator in a thread, then answer one JSON command per stdin line until EOF/stop."""
    import dataclasses

    from claude_tui.simulator import SimulatorConfig, start_in_thread

    out = sys.stdout
    try:
        sim = start_in_thread(SimulatorConfig(**config))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        out.write(json.dumps(["error", f"{type(exc).__name__}: {exc}"]) + "\n")
        out.flush()
        return
    out.write(json.dumps(["ready", sim.base_url]) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            command, args = json.loads(line)
            reply: Any = None
            if command == "stats":
                reply = dataclasses.asdict(sim.stats)
                reply["server_cpu_s"] = time.process_time()
            elif command == "log":
                reply = [{name: getattr(r, name) for name in LOG_FIELDS} for r in sim.request_log]
            elif command == "reset":
                sim.reset_stats()
            elif command == "inject":
                sim.inject(**args)
            elif command == "stop":
                out.write(json.dumps(["ok", None]) + "\n")
                out.flush()
                break
            else:
                raise ValueError(f"unknown command {command!r}")
            out.write(json.dumps(["ok", reply]) + "\n")
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            out.write(json.dumps(["error", f"{type(exc).__name__}: {exc}"]) + "\n")
        out.flush()
    sim.stop()


class SimProcess:
    """A simulator in a separate (spawned) process. Use as a context manager."""

    def __init__(self, **config: Any) -> None:
        self.config = dict(config)
        self.base_url = ""
        self._proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30.0) -> str:
        env = dict(os.environ)
        env.pop("ANTHROPIC_API_KEY", None)
        # The child imports this package the way the parent did, installed or not.
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "claude_tui.bench.simproc", json.dumps(self.config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env,
        )
        self._proc = proc
        status, value = self._read(timeout, "start")
        if status != "ready":
            self.stop()
            raise RuntimeError(f"the simulator process failed to start: {value}")
        self.base_url = value
        return value

    def _read(self, timeout: float, what: str) -> tuple[str, Any]:
        import selectors

        proc = self._proc
        assert proc is not None and proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise RuntimeError(f"the simulator process did not answer {what!r} in {timeout:g} s")
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulator process exited (code {proc.poll()}) during {what!r}")
        status, value = json.loads(line)
        return status, value

    def _call(self, command: str, args: Any = None, timeout: float = 30.0) -> Any:
        proc = self._proc
        if proc is None or proc.stdin is None:
            raise RuntimeError("the simulator process is not running")
        proc.stdin.write(json.dumps([command, args]) + "\n")
        proc.stdin.flush()
        status, value = self._read(timeout, command)
        if status != "ok":
            raise RuntimeError(f"simulator: {value}")
        return value

    def stats(self) -> dict[str, Any]:
        """``requests_total``, ``in_flight``, ``peak_in_flight``, ``status_counts``, ``fault_counts``,
        ``output_tokens_total`` and ``server_cpu_s`` (the server process's CPU seconds so far)."""
        stats = self._call("stats")
        stats["status_counts"] = {int(k): v for k, v in stats["status_counts"].items()}
        return stats

    def log(self) -> list[dict[str, Any]]:
        return self._call("log")

    def reset(self) -> None:
        self._call("reset")

    def inject(self, kind: str, count: int = 1, retry_after: float | None = None, after_tokens: int | None = None) -> None:
        self._call("inject", {"kind": kind, "count": count, "retry_after": retry_after, "after_tokens": after_tokens})

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None and proc.stdin is not None:
                proc.stdin.write(json.dumps(["stop", None]) + "\n")
                proc.stdin.close()
            proc.wait(5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(2)
        finally:
            if proc.stdout is not None:
                proc.stdout.close()

    def __enter__(self) -> "SimProcess":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    try:
        _serve(json.loads(sys.argv[1]))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the parent reports it
        pass
