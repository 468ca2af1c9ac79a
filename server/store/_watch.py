"""Watchers of one store: filters, bounded buffers, resume, snapshot, shutdown.

One subscription to the store fans every batch of events out to the watchers
whose filter matches. Each watcher has a bounded buffer: one that falls
behind is marked overflowed and stops receiving (its stream ends, and the
watcher resumes from history), so a slow consumer never costs unbounded
memory. A stream whose reader stopped reading waits in a write (HTTP/2 flow
control) while its buffer fills like any other lag; the overflow, or the
shutdown, interrupts that write, or the stream would never end. Nothing here
knows gRPC.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from connfacade.server.domain import OutOfRange, QuotaExceeded, arn_key
from connfacade.server.store._resume import RESYNC, Position, ResumeTokens

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from connfacade.server.domain import Connection, ConnectionStatus, ProviderType
    from connfacade.server.store._events import ChangeEvent
    from connfacade.server.store._table import Table


@dataclass(frozen=True, slots=True)
class WatchFilter:
    """Which connections a watcher wants; empty sets match everything."""

    arns: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    provider_types: frozenset[ProviderType] = frozenset()
    statuses: frozenset[ConnectionStatus] = frozenset()
    # The caller's scope (name, ARN) -> visible, for restricted principals.
    scope: Callable[[str, str], bool] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "arns", frozenset(arn_key(a) for a in self.arns))

    @property
    def named(self) -> bool:
        """Whether the filter names its connections (by ARN or name), rather than taking a kind of them."""
        return bool(self.arns or self.names)

    def matches(self, c: Connection) -> bool:
        """Whether ``c`` passes every non-empty filter."""
        return (
            (not self.arns or arn_key(c.arn) in self.arns)
            and (not self.names or c.name in self.names)
            and (not self.provider_types or c.provider_type in self.provider_types)
            and (not self.statuses or c.status in self.statuses)
            and (self.scope is None or self.scope(c.name, c.arn))
        )


@dataclass(eq=False)
class Watcher:
    """One open watch: what it wants, what waits to be sent, and why it must stop."""

    filter: WatchFilter
    capacity: int
    position: int  # the revision the stream has reached (sent or filtered out)
    in_snapshot: bool = False  # the stream is still sending its snapshot (a cut restarts it)
    buffer: deque[ChangeEvent] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False
    closing: bool = False
    # The stream's task while it waits for a write to go out, and whether this
    # watcher cancelled that wait because the stream must end.
    writer: asyncio.Task[Any] | None = None
    interrupted: bool = False

    def offer(self, events: Sequence[ChangeEvent]) -> None:
        """Queues the matching events (called synchronously on every store change)."""
        if self.overflowed or self.closing:
            return
        matching = [e for e in events if self.filter.matches(e.connection)]
        if len(self.buffer) + len(matching) > self.capacity:
            self.overflowed = True
            self.buffer.clear()  # the history has them; the watcher resumes from its position
            self.interrupt_write()
        else:
            self.buffer.extend(matching)
        self.ready.set()

    def interrupt_write(self) -> None:
        """Cancels the write the stream waits in, if any: it must end, and its reader may never read again."""
        if self.writer is not None and not self.interrupted:
            self.interrupted = True
            self.writer.cancel()

    async def next_batch(self, max_wait: float) -> list[ChangeEvent] | None:
        """Buffered events, waiting up to ``max_wait`` s for some; None if none came (time for a bookmark)."""
        if not self.buffer and not self.overflowed and not self.closing:
            self.ready.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max_wait):
                    await self.ready.wait()
        if not self.buffer:
            return None
        batch = list(self.buffer)
        self.buffer.clear()
        return batch


@dataclass(frozen=True, slots=True)
class Opening:
    """A watcher and what must be sent before its buffered events."""

    watcher: Watcher
    snapshot: list[Connection] | None  # None: no snapshot (resumed, or skipped)
    replay: list[ChangeEvent]  # events missed since the resume position
    revision: int  # the store revision the opening was taken at


class WatchHub:
    """Every watcher of one store."""

    def __init__(
        self,
        store: Table,
        *,
        buffer_size: int = 1000,
        max_watchers: int = 20_000,
        on_named_watch: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.tokens = ResumeTokens(store.service.value)
        self.buffer_size = buffer_size
        self.max_watchers = max_watchers
        self._watchers: set[Watcher] = set()
        self._waiters: set[Watcher] = set()
        # What open watch streams name, counted, so that "is a pending connection
        # watched?" costs a look-up per pending connection, not a pass over every watcher.
        self._named_arns: Counter[str] = Counter()
        self._named_names: Counter[str] = Counter()
        self._on_named_watch = on_named_watch
        self._drained = asyncio.Event()
        self._drained.set()
        store.subscribe(self._dispatch)

    def __len__(self) -> int:
        return len(self._watchers)

    @property
    def waiters(self) -> int:
        """Open WaitForConnection calls."""
        return len(self._waiters)

    def attended(self) -> bool:
        """Whether someone waits (WaitForConnection) or a watch stream names a pending connection.

        A stream that names no connection (all of them, or a kind) does not
        count: a dashboard is no reason to poll AWS fast for a handshake
        nobody may ever complete.
        """
        if self._waiters:
            return True
        if not self._named_arns and not self._named_names:
            return False
        return any(
            self._named_arns[arn_key(c.arn)] or self._named_names[c.name] for c in self.store.pending()
        )

    def _dispatch(self, events: Sequence[ChangeEvent]) -> None:
        for watcher in (*self._watchers, *self._waiters):
            watcher.offer(events)

    def open(self, flt: WatchFilter, *, resume_token: str = "", snapshot: bool = True) -> Opening:
        """Registers a watcher, atomically with its snapshot or replay, so nothing falls between."""
        if len(self._watchers) >= self.max_watchers:
            raise QuotaExceeded(
                f"this server already serves {self.max_watchers} watchers of "
                f"{self.store.service.value}; retry later or elsewhere",
                subject="watchers",
            )
        replay: list[ChangeEvent] = []
        position = self.tokens.read(resume_token) if resume_token else None
        if position is not None and position.in_snapshot:
            position, snapshot = None, True  # cut before SYNCED: start over with a new snapshot
        if position is not None:
            missed = self.store.events_after(position.revision)
            if missed is None or position.revision > self.store.revision:
                raise OutOfRange(
                    f"the resume token's revision {position.revision} is older than the history this server "
                    f"keeps (events after {self.store.history_floor}); {RESYNC}",
                    reason="RESUME_TOKEN_TOO_OLD",
                    action=RESYNC,
                )
            replay = [e for e in missed if flt.matches(e.connection)]
            snapshot = False
        current = self.store.revision
        items = [c for c in self.store.connections() if flt.matches(c)] if snapshot else None
        watcher = Watcher(flt, self.buffer_size, position=position.revision if position else current)
        self._watchers.add(watcher)
        self._drained.clear()
        if flt.named:
            self._named_arns.update(flt.arns)
            self._named_names.update(flt.names)
            if self._on_named_watch is not None:
                self._on_named_watch()
        return Opening(watcher, items, replay, current)

    def open_waiter(self, flt: WatchFilter) -> Watcher:
        """A watcher for WaitForConnection (no snapshot), capped apart from watch streams.

        Waits are long calls too; a cap of their own, like the one on streams,
        keeps them from crowding out every other RPC.
        """
        if len(self._waiters) >= self.max_watchers:
            raise QuotaExceeded(
                f"this server already serves {self.max_watchers} WaitForConnection calls on "
                f"{self.store.service.value}; retry later or elsewhere",
                subject="waiters",
            )
        waiter = Watcher(flt, self.buffer_size, position=self.store.revision)
        self._waiters.add(waiter)
        self._drained.clear()
        return waiter

    def close(self, watcher: Watcher) -> None:
        """Forgets a watcher and its buffer."""
        if watcher in self._watchers and watcher.filter.named:
            _forget(self._named_arns, watcher.filter.arns)
            _forget(self._named_names, watcher.filter.names)
        self._watchers.discard(watcher)
        self._waiters.discard(watcher)
        watcher.buffer.clear()
        if not self._watchers and not self._waiters:
            self._drained.set()

    async def drained(self) -> None:
        """Returns once no watcher or waiter is open."""
        await self._drained.wait()

    def close_all(self) -> None:
        """Asks every watcher to end (shutdown); their streams end with a resume token."""
        for watcher in (*self._watchers, *self._waiters):
            watcher.closing = True
            watcher.ready.set()
            watcher.interrupt_write()

    def token(self, revision: int, *, in_snapshot: bool = False) -> str:
        """The resume token of a stream standing at ``revision``."""
        return self.tokens.issue(Position(revision, in_snapshot))


def _forget(counts: Counter[str], keys: Iterable[str]) -> None:
    """One fewer of each key; a key none is left of goes."""
    for key in keys:
        counts[key] -= 1
        if counts[key] <= 0:
            del counts[key]
