"""When the last byte of a response arrived: what the stall timer reads.

The stall timer must count bytes, not events. The SDK drops ``ping`` events (and one event may arrive
over many reads), so a timer fed by events cut off a stream that sends nothing but pings while a long
thinking block is prepared: it was called stalled after ``stall_timeout``, retried, and failed. Here
each chunk the HTTP layer receives stamps the time on a ``ByteClock``; the attempt's watchdog checks
that stamp when its deadline comes, so the hot path costs one clock read per chunk.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, AsyncGenerator, AsyncIterator

import httpx2

if TYPE_CHECKING:
    import datetime


class ByteClock:
    """The monotonic time (``time.monotonic()``) at which the last byte arrived; starts at creation,
    so the wait for the response headers counts too."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = time.monotonic()


class _Stamped(httpx2.AsyncByteStream):
    """A response body that stamps ``clock.last`` on every chunk it receives."""

    def __init__(self, inner: httpx2.AsyncByteStream, clock: ByteClock) -> None:
        self._inner = inner
        self._clock = clock

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _stamped(self._inner, self._clock)

    async def aclose(self) -> None:
        await self._inner.aclose()

    @property
    def elapsed(self) -> "datetime.timedelta | None":
        """httpx reads ``Response.elapsed`` from its own body wrapper; keep it readable through ours."""
        return getattr(self._inner, "elapsed", None)


def stamp_body(response: httpx2.Response, clock: ByteClock) -> None:
    """Make every chunk of ``response``'s body stamp ``clock`` (call before the body is read)."""
    response.stream = _Stamped(response.stream, clock)  # type: ignore[arg-type]


class StampedBody:
    """``response``'s body for ``AsyncStream.raw_events``, every chunk stamping ``clock``.

    A body that is not content-encoded (an event stream, in practice) is read straight from the
    transport: httpx's decode, chunk and byte-count layers over it are two more async generators per
    chunk, i.e. per text delta. An encoded body still goes through httpx's decoders.
    """

    __slots__ = ("_response", "_clock")

    def __init__(self, response: httpx2.Response, clock: ByteClock) -> None:
        self._response = response
        self._clock = clock

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        response = self._response
        if response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
            stamp_body(response, self._clock)
            return response.aiter_bytes()
        return _stamped(response.stream, self._clock)  # type: ignore[arg-type]


async def _stamped(stream: httpx2.AsyncByteStream, clock: ByteClock) -> AsyncIterator[bytes]:
    """``stream``'s chunks, each stamping ``clock.last`` as it arrives."""
    now = time.monotonic
    chunks = stream.__aiter__()
    try:
        async for chunk in chunks:
            clock.last = now()
            yield chunk
    finally:
        if isinstance(chunks, AsyncGenerator):
            await chunks.aclose()
