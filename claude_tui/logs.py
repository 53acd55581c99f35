"""The log file: one line per request outcome, rotated, never holding the API key.

    setup_logging(settings)                      # once, at start
    pool.add_listener(RequestLogger(log_prompts=settings.log_prompts).observe)

The file (``<user_log_dir>/claude-tui.log``, 1 MB × 3 backups) and its directory are created
only when the first record is written. Lines carry job id, status, attempts/retries, timings,
request id and error kind; prompt and reply text only with ``log_prompts = true``. A filter on
the handler redacts anything shaped like an Anthropic key (``sk-ant-…``) and the exact key in
use, in messages, arguments and tracebacks alike.
"""

from __future__ import annotations

import errno
import logging
import logging.handlers
import os
import re
import sqlite3
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from . import paths
from .engine.events import AttemptFailed, BackingOff, Cancelled, Done, Failed, JobEvent, Submitted
from .engine.redact import KEY_PATTERN, REDACTED, redact  # noqa: F401 - re-exported: the one redaction

LOGGER_NAME = "claude_tui"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger(LOGGER_NAME)
_request_log = logging.getLogger(LOGGER_NAME + ".requests")


class RedactingFilter(logging.Filter):
    """Replaces API-key-like strings (and the given exact secrets) in the whole record."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 8]

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what we can
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None  # the redacted exc_text is printed instead
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_notifiers: list[Callable[[str], None]] = []


def storage_reason(exc: BaseException) -> str | None:
    """A few words for a write that failed for lack of storage, else None (a locked database, a bug).

    ``disk full`` for ENOSPC/EDQUOT and SQLITE_FULL; under a file-size limit (EFBIG) SQLite says
    only SQLITE_IOERR_WRITE ("disk I/O error"), which is reported as such: either way every later
    write would fail the same way.
    """
    if isinstance(exc, OSError):
        if exc.errno in _FULL_ERRNOS:
            return "disk full"
        return (exc.strerror or str(exc)).lower()
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_FULL:
            return "disk full"
        if code is not None and code & 0xFF == sqlite3.SQLITE_IOERR:
            return str(exc)
    return None


def notice(message: str) -> None:
    """Tell the user something switched itself off (``history off: disk full``), once, in one line.

    Goes to whoever registered with ``notices_to`` (the run's console, the app), else to stderr —
    never through the log, which may be the very thing that cannot be written.
    """
    if _notifiers:
        _notifiers[-1](message)
        return
    try:
        print(f"claude-tui: {message}", file=sys.stderr)
    except (OSError, ValueError):
        pass


@contextmanager
def notices_to(notify: Callable[[str], None]) -> Iterator[None]:
    """Send ``notice()`` lines to ``notify`` while the block runs."""
    _notifiers.append(notify)
    try:
        yield
    finally:
        _notifiers.remove(notify)


class _LazyRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Creates its directory (0700) and file (0600) on the first record, not before; writes in batches.

    Buffered: a record is formatted (and redacted) when logged, but written with the others of the
    last ``FLUSH_SECONDS`` in one write and one flush, by whichever comes first of a 100 ms timer, a
    full buffer, a warning or worse, or a rotation that falls due. A ``kill -9`` loses at most the
    last ~100 ms of lines (the history's promise is half a second). Measured on a 10,000-prompt
    ``run``: one write+flush and a seek/tell per line were 1.5 % of the client's CPU.

    The first record is written at once, so a log that cannot be written says so at the start.
    The log is best effort: when a write fails (disk full, a file-size limit) the handler switches
    itself off with one notice. logging's default prints a "--- Logging error ---" block with a
    traceback for every record — 296 of them in a 100-prompt run on a full disk.
    """

    FLUSH_SECONDS = 0.1
    BUFFER_RECORDS = 512

    disabled = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._buffer: list[str] = []
        self._buffered_bytes = 0
        self._size: int | None = None  # bytes in the file, counted (not a seek/tell per line)
        self._written_once = False
        self._wake = threading.Condition(self.lock)
        self._flusher: threading.Thread | None = None
        self._closing = False

    def _open(self):
        Path(self.baseFilename).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        return super()._open()

    def emit(self, record: logging.LogRecord) -> None:
        """Called under the handler's lock (``Handler.handle``), after the redacting filter."""
        if self.disabled:
            return
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._buffer.append(line)
        self._buffered_bytes += len(line)
        due = (not self._written_once or record.levelno >= logging.WARNING or len(self._buffer) >= self.BUFFER_RECORDS
               or (self.maxBytes > 0 and (self._size or 0) + self._buffered_bytes >= self.maxBytes))
        if due:
            self._write_buffer(record)
        elif self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_loop, name="claude-tui log flusher", daemon=True)
            self._flusher.start()
        else:
            self._wake.notify()

    def _flush_loop(self) -> None:
        """Writes what is buffered ~FLUSH_SECONDS after it arrived, so a quiet log is not left behind."""
        with self._wake:
            while not self._closing:
                if not self._buffer:
                    self._wake.wait()
                    continue
                self._wake.wait(self.FLUSH_SECONDS)
                if self._buffer and not self._closing:
                    self._write_buffer(None)

    def _write_buffer(self, record: logging.LogRecord | None) -> None:
        """Write the buffered lines (rotating where one falls due) and flush once. Under the lock."""
        lines, self._buffer, self._buffered_bytes = self._buffer, [], 0
        if self.disabled or not lines:
            return
        try:
            if self.stream is None:
                self.stream = self._open()
            if self._size is None:
                self.stream.seek(0, 2)
                self._size = self.stream.tell()
            chunk: list[str] = []
            for line in lines:
                size = len(line.encode("utf-8")) if not line.isascii() else len(line)
                if self.maxBytes > 0 and self._size + size >= self.maxBytes and self._size > 0:
                    self.stream.write("".join(chunk))
                    chunk = []
                    self.doRollover()
                    if self.stream is None:  # delay=True: doRollover leaves it closed
                        self.stream = self._open()
                    self._size = 0
                chunk.append(line)
                self._size += size
            self.stream.write("".join(chunk))
            self.stream.flush()
            self._written_once = True
        except Exception:
            self.handleError(record or logging.makeLogRecord({"msg": lines[-1]}))

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._buffer:
                self._write_buffer(None)
            elif self.stream is not None and not self.disabled:
                super().flush()

    def handleError(self, record: logging.LogRecord) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            return super().handleError(record)
        if not self.disabled:
            self.disabled = True
            self._buffer, self._buffered_bytes = [], 0
            self._drop_stream()
            notice(f"log off: {storage_reason(exc)}")  # an OSError always has a reason

    def _drop_stream(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            try:
                stream.close()  # flushes the failed buffer again: may raise the same error
            except OSError:
                pass

    def close(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._buffer and not self.disabled:
                self._write_buffer(None)
            self._closing = True
            self._wake.notify_all()
        flusher, self._flusher = self._flusher, None
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join(timeout=1.0)
        if self.disabled:
            self._drop_stream()
        try:
            super().close()
        except OSError:  # the last flush failed: the log is best effort, the exit must not be
            self._drop_stream()
            logging.Handler.close(self)


_handler: logging.Handler | None = None
_saved_propagate: bool | None = None


def setup_logging(
    settings: Any = None,
    *,
    path: str | os.PathLike[str] | None = None,
    level: int = logging.INFO,
    api_key: str | None = None,
    max_bytes: int = 1_000_000,
    backups: int = 3,
) -> logging.Handler:
    """Attach the rotating file handler to the ``claude_tui`` logger (idempotent: replaces a
    previous one). ``settings`` (a ``config.Settings``) supplies the key to redact; ``api_key``
    adds another. Returns the handler."""
    global _handler, _saved_propagate
    target = Path(path) if path is not None else paths.log_file()
    secrets = [getattr(settings, "api_key", None), api_key, os.environ.get("ANTHROPIC_API_KEY")]
    handler = _LazyRotatingFileHandler(target, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    handler.setLevel(level)
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
    _handler = handler
    log.addHandler(handler)
    log.setLevel(min(level, log.level) if log.level else level)
    if _saved_propagate is None:
        _saved_propagate = log.propagate
    log.propagate = False  # a TUI owns the terminal: never echo log lines to stderr
    return handler


def teardown_logging() -> None:
    """Detach and close the handler ``setup_logging`` attached (tests, clean exit)."""
    global _handler, _saved_propagate
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
        _handler = None
    if _saved_propagate is not None:
        log.propagate = _saved_propagate
        _saved_propagate = None


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def _q(text: Any) -> str:
    """A value safe on one key=value line."""
    if text is None:
        return "-"
    s = str(text)
    if not s or any(c.isspace() for c in s) or '"' in s:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return s


class RequestLogger:
    """A pool listener writing one ``key=value`` line per submitted job, failed attempt, backoff and outcome."""

    def __init__(self, logger: logging.Logger | None = None, *, log_prompts: bool = False) -> None:
        self.logger = logger or _request_log
        self.log_prompts = log_prompts

    def observe(self, event: JobEvent) -> None:
        # (The events are imported at module level: an import statement here, run for every event,
        # was half of this method's cost — 2 % of a 10,000-prompt run's CPU.)
        try:
            if isinstance(event, Submitted):  # its prompt only with log_prompts
                job = event.job
                line = f"job={job.id} submitted model={job.model} max_tokens={job.max_tokens}"
                if self.log_prompts:
                    line += f" prompt={_q(job.prompt)}"
                self.logger.info(line)
            elif isinstance(event, AttemptFailed):
                self.logger.warning(
                    "job=%s attempt=%d failed kind=%s status=%s retryable=%s request_id=%s elapsed_ms=%s message=%s",
                    event.job_id, event.attempt, event.kind, event.status_code or "-", event.retryable,
                    event.request_id or "-", _ms(event.ended - event.started), _q(event.message),
                )
            elif isinstance(event, BackingOff):
                self.logger.info(
                    "job=%s backing_off delay_s=%.2f next_attempt=%d/%d reason=%s status=%s retry_after=%s",
                    event.job_id, event.delay, event.attempt + 1, event.max_attempts, event.reason,
                    event.status_code or "-", "yes" if event.from_retry_after else "no",
                )
            elif isinstance(event, Done):
                t, u = event.timings, event.usage
                line = (
                    f"job={event.job_id} status=done model={event.model} attempts={event.attempts} retries={event.attempts - 1} "
                    f"ttft_ms={_ms(t.ttft)} latency_ms={_ms(t.latency)} total_ms={_ms(t.total)} "
                    f"input_tokens={u.input_tokens} output_tokens={u.output_tokens} "
                    f"cost={'-' if event.cost is None else f'{event.cost:.6f}'} stop_reason={event.stop_reason or '-'} "
                    f"request_id={event.request_id or '-'}"
                )
                if self.log_prompts:
                    line += f" reply={_q(event.text)}"
                self.logger.info(line)
            elif isinstance(event, Failed):
                t = event.timings
                self.logger.error(
                    "job=%s status=failed kind=%s status_code=%s attempts=%d retries=%d retryable=%s total_ms=%s request_id=%s message=%s",
                    event.job_id, event.kind, event.status_code or "-", event.attempts, max(0, event.attempts - 1),
                    event.retryable, _ms(t.total), event.request_id or "-", _q(event.message),
                )
            elif isinstance(event, Cancelled):
                self.logger.info(
                    "job=%s status=cancelled attempts=%d total_ms=%s kept_chars=%d",
                    event.job_id, event.attempts, _ms(event.timings.total), len(event.partial_text),
                )
        except Exception:  # logging must never break the pool
            pass

    __call__ = observe
