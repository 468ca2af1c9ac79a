"""``watch_connections``: a WatchConnections stream that resumes by itself.

A watch remembers the resume token of the last event it delivered. When the
stream ends for a reason worth retrying (UNAVAILABLE: the server is shutting
down or cannot be reached; RESOURCE_EXHAUSTED: the watcher fell behind, or the
server has too many), it opens a new stream from that token after a capped
exponential backoff with jitter, so the caller sees every event once, in
order. When the server no longer has the history to resume from
(OUT_OF_RANGE), the watch yields a :class:`Resync` marker and starts over
without a token: a fresh snapshot follows, as a Kubernetes reflector relists.

The decisions are made by :class:`_Session`, which does no I/O; the asyncio
and blocking iterators around it only open streams, read them and sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import random
import threading
import time
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar, overload

import grpc
import grpc.aio

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client.errors import ConnfacadeError, DeadlineExceededError, translate_rpc_errors

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Generator
    from types import TracebackType

__all__ = ["AsyncConnectionWatch", "ConnectionWatch", "Resync"]

#: Seconds before the first reconnection (before jitter); doubled after each failed one.
INITIAL_BACKOFF = 0.1
#: The default cap of the backoff, in seconds.
MAX_BACKOFF = 30.0

# Both connection services number their EventType alike (a test pins it).
_SYNCED = apprunner_pb2.EVENT_TYPE_SYNCED
_RESUMABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})


@dataclasses.dataclass(frozen=True, slots=True)
class Resync:
    """The watch lost its place: forget what it told you; a fresh snapshot follows.

    Yielded by ``watch_connections`` before it starts over without a resume
    token: next come ADDED events for every matching connection (none with
    ``skip_initial_snapshot``) and one SYNCED marker. ``reason`` says why:
    ``RESUME_TOKEN_TOO_OLD`` (the server's history no longer reaches back that
    far), ``RESUME_TOKEN_UNKNOWN`` (another server process issued it, e.g.
    before a restart), or ``SNAPSHOT_INTERRUPTED`` (the stream ended during its
    initial snapshot). ``message`` is the server's explanation, if any.
    """

    reason: str
    message: str = ""


class WatchEvent(Protocol):
    """What a watch reads of each streamed response (of either service)."""

    @property
    def type(self) -> int: ...
    @property
    def resume_token(self) -> str: ...


class WatchRequest(Protocol):
    """What a watch sets on the request of each stream it opens."""

    resume_token: str

    def __deepcopy__(self, memo: Any = None) -> Self: ...


_Event = TypeVar("_Event", bound=WatchEvent)
_Request = TypeVar("_Request", bound=WatchRequest)
Metadata = tuple[tuple[str, str], ...]


class _Backoff:
    """Capped exponential backoff with jitter: each delay is 50-100 % of its step."""

    def __init__(self, maximum: float, rng: random.Random | None = None) -> None:
        if maximum < 0:
            raise ValueError(f"max_backoff must not be negative, not {maximum!r}")
        self.maximum = maximum
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._failures = 0

    def reset(self) -> None:
        self._failures = 0

    def next(self, at_least: float | None = None) -> float:
        """The next delay; ``at_least`` (the server's RetryInfo) raises it, ``maximum`` caps it."""
        step = min(self.maximum, INITIAL_BACKOFF * 2.0**self._failures)
        self._failures = min(self._failures + 1, 64)
        delay = step * self._rng.uniform(0.5, 1.0)
        return min(self.maximum, max(delay, at_least or 0.0))


@dataclasses.dataclass(frozen=True, slots=True)
class _Reconnect:
    """Open the next stream after ``delay`` seconds, yielding ``resync`` first if set."""

    delay: float
    resync: Resync | None = None


class _Session:
    """Where a watch stands across its streams, and what each way of ending means."""

    def __init__(
        self,
        *,
        resume_token: str,
        timeout: float | None,
        max_backoff: float,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.resume_token = resume_token
        self._clock = clock
        self._deadline = None if timeout is None else clock() + timeout
        self._backoff = _Backoff(max_backoff, rng)
        self._opened_with = ""
        self._synced = False
        self._snapshot_events = 0

    def open(self) -> tuple[str, float | None]:
        """The token to open the next stream with, and the seconds left before the watch's deadline."""
        remaining = None
        if self._deadline is not None:
            remaining = self._deadline - self._clock()
            if remaining <= 0:
                raise DeadlineExceededError("the watch's timeout passed while it was reconnecting")
        self._opened_with = self.resume_token
        # A stream opened with a token continues after it (no snapshot); one
        # without starts with a snapshot whose events cannot be resumed from.
        self._synced = bool(self.resume_token)
        self._snapshot_events = 0
        return self.resume_token, remaining

    def received(self, event_type: int, token: str) -> None:
        """Notes one event of the current stream."""
        self._backoff.reset()  # the server is answering: the next reconnection starts fast
        if event_type == _SYNCED:
            self._synced = True
        if not self._synced:
            self._snapshot_events += 1
        elif token:
            self.resume_token = token

    @overload
    def ended(self, error: None) -> _Reconnect: ...
    @overload
    def ended(self, error: ConnfacadeError) -> _Reconnect | None: ...
    def ended(self, error: ConnfacadeError | None) -> _Reconnect | None:
        """What to do after the stream ended (``None``: it ended without an error); None means raise."""
        if error is None or error.code in _RESUMABLE:
            if error is not None and error.resume_token and self._synced:
                self.resume_token = error.resume_token  # the server knows best where this stream stood
            resync = None
            if not self._synced and self._snapshot_events:
                resync = Resync("SNAPSHOT_INTERRUPTED", "the stream ended during its initial snapshot")
            return _Reconnect(self._delay(None if error is None else error.retry_delay), resync)
        if error.code is grpc.StatusCode.OUT_OF_RANGE and self._opened_with:
            self.resume_token = ""
            info = error.error_info
            return _Reconnect(0.0, Resync(info.reason if info else "OUT_OF_RANGE", error.message))
        return None

    def _delay(self, at_least: float | None) -> float:
        delay = self._backoff.next(at_least)
        if self._deadline is not None:
            delay = max(0.0, min(delay, self._deadline - self._clock()))
        return delay


def _with_token(request: _Request, token: str) -> _Request:
    attempt = copy.deepcopy(request)
    attempt.resume_token = token
    return attempt


class _Cancellable(Protocol):
    def cancel(self) -> Any: ...


@dataclasses.dataclass(eq=False)
class _Current:
    """The call a watch has open, for ``close()`` to cancel, and whether it was closed.

    The event generators hold this, never the watch itself: a watch dropped
    after ``break`` is then freed at once, and so is its generator, whose
    cleanup cancels the call (no reference cycle waiting for the collector).
    """

    call: _Cancellable | None = None
    closed: threading.Event = dataclasses.field(default_factory=threading.Event)

    def close(self) -> None:
        self.closed.set()
        call = self.call
        if call is not None:
            call.cancel()


class AsyncConnectionWatch(Generic[_Event]):
    """The events of ``watch_connections`` on an asyncio client.

    Iterate it with ``async for``: it yields every streamed response (ADDED,
    MODIFIED, DELETED, BOOKMARK, SYNCED) and a :class:`Resync` marker when it
    had to start over. Leaving its ``async with`` block, or :meth:`aclose`,
    cancels the call; so does dropping it after a ``break``.
    """

    def __init__(
        self,
        rpc: grpc.aio.UnaryStreamMultiCallable[_Request, _Event],
        request: _Request,
        *,
        metadata: Metadata,
        resume_token: str,
        timeout: float | None,
        max_backoff: float,
    ) -> None:
        self._session = _Session(resume_token=resume_token, timeout=timeout, max_backoff=max_backoff)
        self._current = _Current()

        def open_stream(token: str, remaining: float | None) -> grpc.aio.UnaryStreamCall[Any, _Event]:
            return rpc(_with_token(request, token), timeout=remaining, metadata=metadata)

        self._events = _async_events(self._session, open_stream, self._current)

    @property
    def resume_token(self) -> str:
        """The position reached: pass it as ``resume_token`` to continue later (``""`` before SYNCED)."""
        return self._session.resume_token

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> _Event | Resync:
        return await anext(self._events)

    async def aclose(self) -> None:
        """Cancel the call and end the iteration."""
        self._current.close()
        # Being iterated by another task right now: the cancelled call ends it.
        with contextlib.suppress(RuntimeError):
            await self._events.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def _async_events(
    session: _Session,
    open_stream: Callable[[str, float | None], grpc.aio.UnaryStreamCall[Any, _Event]],
    current: _Current,
) -> AsyncGenerator[_Event | Resync, None]:
    while not current.closed.is_set():
        token, remaining = session.open()
        call = open_stream(token, remaining)
        current.call = call
        try:
            with translate_rpc_errors():
                async for event in call:
                    session.received(event.type, event.resume_token)
                    yield event
        except ConnfacadeError as err:
            if current.closed.is_set():
                return
            reconnect = session.ended(err)
            if reconnect is None:
                raise
            step = reconnect
        else:
            step = session.ended(None)
        finally:
            call.cancel()
            current.call = None
        if step.resync is not None:
            yield step.resync
        if step.delay > 0:
            await asyncio.sleep(step.delay)


class ConnectionWatch(Generic[_Event]):
    """The events of ``watch_connections`` on a blocking client.

    Iterate it with ``for``: the same events and :class:`Resync` markers as
    :class:`AsyncConnectionWatch`. Leaving its ``with`` block, or
    :meth:`close` (from any thread), cancels the call and ends the iteration;
    so does dropping it after a ``break``.
    """

    def __init__(
        self,
        rpc: grpc.UnaryStreamMultiCallable[_Request, _Event],
        request: _Request,
        *,
        metadata: Metadata,
        resume_token: str,
        timeout: float | None,
        max_backoff: float,
    ) -> None:
        self._session = _Session(resume_token=resume_token, timeout=timeout, max_backoff=max_backoff)
        self._current = _Current()

        def open_stream(token: str, remaining: float | None) -> grpc.CallIterator[_Event]:
            return rpc(_with_token(request, token), timeout=remaining, metadata=metadata)

        self._events = _sync_events(self._session, open_stream, self._current)

    @property
    def resume_token(self) -> str:
        """The position reached: pass it as ``resume_token`` to continue later (``""`` before SYNCED)."""
        return self._session.resume_token

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> _Event | Resync:
        return next(self._events)

    def close(self) -> None:
        """Cancel the call and end the iteration; safe from another thread."""
        self._current.close()
        # Being iterated by another thread right now: the cancelled call ends it.
        with contextlib.suppress(ValueError):
            self._events.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _sync_events(
    session: _Session,
    open_stream: Callable[[str, float | None], grpc.CallIterator[_Event]],
    current: _Current,
) -> Generator[_Event | Resync, None, None]:
    while not current.closed.is_set():
        token, remaining = session.open()
        call = open_stream(token, remaining)
        current.call = call
        try:
            with translate_rpc_errors():
                for event in call:
                    session.received(event.type, event.resume_token)
                    yield event
        except ConnfacadeError as err:
            if current.closed.is_set():
                return
            reconnect = session.ended(err)
            if reconnect is None:
                raise
            step = reconnect
        else:
            step = session.ended(None)
        finally:
            call.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leave it unannotated
            current.call = None
        if step.resync is not None:
            yield step.resync
        if step.delay > 0 and current.closed.wait(step.delay):
            return
