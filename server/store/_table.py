"""The store's table: every connection of one service, a revision, a history.

Modelled on the Kubernetes API server's watch cache. The table is plain data
and synchronous; the poller and write-through keep it current, readers decide
whether it is fresh enough (`_reads`).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from connfacade.server.domain import Connection, ConnectionStatus, arn_key
from connfacade.server.store._events import ChangeEvent, EventType

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from connfacade.server.domain import Service, Tag


@dataclass(slots=True)
class _Entry:
    connection: Connection
    seq: int  # order of first sight: the stable listing order
    written_at: float  # monotonic time of the last change through the facade
    tags: tuple[Tag, ...] | None = None
    tags_at: float | None = None
    tags_version: int = 0  # counts tag writes, so a fetch that began before one cannot undo it


class Table:
    """Every connection of one service (and account/region), in memory.

    ``revision`` increases with every change; the last ``history_limit`` change
    events are kept for watchers. ``synced_at`` is the monotonic time of the
    last complete listing from AWS (None until the first).
    """

    def __init__(
        self, service: Service, *, history_limit: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.service = service
        self.revision = 0
        self.synced_at: float | None = None
        self.history: deque[ChangeEvent] = deque(maxlen=history_limit)
        self.history_floor = 0  # the newest event that left the history
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._tombstones: dict[str, float] = {}  # key -> when deleted through the facade
        self._seq = 0
        self._listeners: list[Callable[[Sequence[ChangeEvent]], None]] = []
        self._ordered: list[tuple[int, Connection]] = []
        self._ordered_at = -1

    # ---- reading -----------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def age(self) -> float | None:
        """Seconds since the last complete listing, None if there was none."""
        return None if self.synced_at is None else self._clock() - self.synced_at

    def connections(self) -> list[Connection]:
        """Every connection, in stable order (first seen first)."""
        return [c for _, c in self.ordered()]

    def ordered(self) -> list[tuple[int, Connection]]:
        """(sequence, connection) pairs in stable order; sequences key page tokens.

        Built once per revision: reads vastly outnumber changes.
        """
        if self._ordered_at != self.revision:
            self._ordered = [
                (e.seq, e.connection) for e in sorted(self._entries.values(), key=lambda e: e.seq)
            ]
            self._ordered_at = self.revision
        return self._ordered

    def get(self, arn: str) -> Connection | None:
        """The connection with ``arn`` (either CodeStar prefix), if known."""
        entry = self._entries.get(arn_key(arn))
        return entry.connection if entry else None

    def find_by_name(self, name: str) -> Connection | None:
        """The connection named ``name``, if known (App Runner names are unique)."""
        return next((c for c in self.connections() if c.name == name), None)

    def has_pending(self) -> bool:
        """Whether any connection waits for its handshake."""
        return any(e.connection.status is ConnectionStatus.PENDING_HANDSHAKE for e in self._entries.values())

    def pending(self) -> list[Connection]:
        """The connections that wait for their handshake."""
        return [e.connection for e in self._entries.values() if e.connection.pending]

    def tags(self, arn: str) -> tuple[tuple[Tag, ...], float] | None:
        """The connection's tags and when they were learned, if known."""
        entry = self._entries.get(arn_key(arn))
        if entry is None or entry.tags is None or entry.tags_at is None:
            return None
        return entry.tags, entry.tags_at

    def tags_version(self, arn: str) -> int:
        """A number that changes with every write of the connection's tags (0 if unknown)."""
        entry = self._entries.get(arn_key(arn))
        return entry.tags_version if entry is not None else 0

    # ---- changing ----------------------------------------------------------

    def subscribe(self, listener: Callable[[Sequence[ChangeEvent]], None]) -> Callable[[], None]:
        """Calls ``listener`` with every batch of new events; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _record(self, events: list[ChangeEvent]) -> list[ChangeEvent]:
        if events:
            for event in events:
                if len(self.history) == self.history.maxlen:
                    self.history_floor = self.history[0].revision
                self.history.append(event)
            for listener in list(self._listeners):
                listener(events)
        return events

    def events_after(self, revision: int) -> list[ChangeEvent] | None:
        """Every event after ``revision``, or None if some of them left the history."""
        if revision < self.history_floor:
            return None
        return [e for e in self.history if e.revision > revision]

    def _event(self, kind: EventType, connection: Connection) -> ChangeEvent:
        self.revision += 1
        return ChangeEvent(self.revision, kind, connection)

    def _put(self, connection: Connection, *, through_facade: bool) -> ChangeEvent | None:
        key = arn_key(connection.arn)
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None:
            self._seq += 1
            self._entries[key] = _Entry(connection, self._seq, now if through_facade else 0.0)
            return self._event(EventType.ADDED, connection)
        if through_facade:
            entry.written_at = now
        if entry.connection == connection:
            return None
        entry.connection = connection
        return self._event(EventType.MODIFIED, connection)

    def _drop(self, key: str) -> ChangeEvent | None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        return self._event(EventType.DELETED, replace(entry.connection, status=ConnectionStatus.DELETED))

    def replace_all(self, listing: Iterable[Connection], *, started_at: float) -> list[ChangeEvent]:
        """Applies a complete listing that began at ``started_at``; returns the changes.

        Changes made through the facade after the listing began win over it:
        the listing cannot know of them, and undoing them would show watchers
        a change that never happened.
        """
        seen: set[str] = set()
        events: list[ChangeEvent] = []
        for connection in listing:
            key = arn_key(connection.arn)
            seen.add(key)
            entry = self._entries.get(key)
            if self._tombstones.get(key, -1.0) >= started_at:
                continue  # deleted through the facade after the listing began
            if entry is not None and entry.written_at >= started_at:
                continue  # written through the facade after the listing began
            if (event := self._put(connection, through_facade=False)) is not None:
                events.append(event)
        gone = [k for k, e in self._entries.items() if k not in seen and e.written_at < started_at]
        events.extend(event for key in gone if (event := self._drop(key)) is not None)
        self._tombstones = {k: t for k, t in self._tombstones.items() if t >= started_at}
        self.synced_at = max(self.synced_at or started_at, started_at)
        return self._record(events)

    def upsert(self, connection: Connection, tags: Sequence[Tag] | None = None) -> ChangeEvent | None:
        """Write-through of a create or change that AWS confirmed."""
        self._tombstones.pop(arn_key(connection.arn), None)
        event = self._put(connection, through_facade=True)
        if tags is not None:
            self.set_tags(connection.arn, tags)
        return self._record([event])[0] if event else None

    def remove(self, arn: str) -> ChangeEvent | None:
        """Write-through of a delete that AWS confirmed."""
        key = arn_key(arn)
        self._tombstones[key] = self._clock()
        event = self._drop(key)
        return self._record([event])[0] if event else None

    def set_tags(
        self,
        arn: str,
        tags: Sequence[Tag],
        *,
        if_version: int | None = None,
        learned_at: float | None = None,
    ) -> None:
        """Remembers the connection's complete tag set (no watch event: tags are not in it).

        ``if_version``: only if no tag write happened since `tags_version` said so
        (a fetch from AWS that began before a write-through is older than it).
        ``learned_at``: when the tags were known to be right (default: now).
        """
        entry = self._entries.get(arn_key(arn))
        if entry is None or (if_version is not None and entry.tags_version != if_version):
            return
        if entry.tags is not None and entry.tags != tuple(tags):
            self.revision += 1  # a change; first learning them is not
        entry.tags = tuple(tags)
        entry.tags_at = self._clock() if learned_at is None else learned_at
        entry.tags_version += 1

    def merge_tags(self, arn: str, added: Sequence[Tag] = (), removed: Sequence[str] = ()) -> None:
        """Write-through of TagResource / UntagResource onto known tags."""
        known = self.tags(arn)
        if known is None:
            return
        merged = {t.key: t for t in known[0]}
        merged.update({t.key: t for t in added})
        for key in removed:
            merged.pop(key, None)
        # Only the changed keys are news: the rest is as fresh as it was.
        self.set_tags(arn, list(merged.values()), learned_at=known[1])
