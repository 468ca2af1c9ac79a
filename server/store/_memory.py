"""The in-memory store of one service: table, single-flight refresh, freshness, poller, pages, watchers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connfacade.server.domain import DeadlineExceeded, Page, Throttled, Unavailable
from connfacade.server.store._edge import CacheResult, Read, ReadInfo
from connfacade.server.store._pagetokens import PageTokens
from connfacade.server.store._poller import Poller, PollIntervals
from connfacade.server.store._reads import FreshReads
from connfacade.server.store._singleflight import SingleFlight
from connfacade.server.store._table import Table
from connfacade.server.store._waiting import until_status
from connfacade.server.store._watch import WatchFilter, WatchHub

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from connfacade.server.domain import Connection, ConnectionStatus, Service, Tag
    from connfacade.server.store._edge import ReadOptions
    from connfacade.server.store._events import ChangeEvent
    from connfacade.server.store._watch import Opening, Watcher


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """How fresh reads must be and how the poller runs; see docs/store.md."""

    max_staleness: float = 30.0  # default for reads, seconds
    stale_limit: float = 300.0  # oldest data served when AWS fails, seconds
    intervals: PollIntervals = field(default_factory=PollIntervals)
    history_limit: int = 10_000
    default_page_size: int = 100
    poll: bool = True  # run the background poller
    watch_buffer: int = 1000  # events a watcher may fall behind before its stream is ended
    max_watchers: int = 20_000  # open WatchConnections streams per service
    bookmark_interval: float = 60.0  # seconds between BOOKMARK events, unless a watcher asks otherwise


class MemoryStore:
    """Everything that keeps one service's connections in memory and serves them (a `ConnectionStore`)."""

    def __init__(
        self,
        service: Service,
        lister: Callable[[], Awaitable[list[Connection]]],
        settings: StoreSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_refresh: Callable[[float, bool], None] | None = None,
    ) -> None:
        self._settings = settings
        self._table = Table(service, history_limit=settings.history_limit, clock=clock)
        self._lister = lister
        self._clock = clock
        self._on_refresh = on_refresh
        self._flight: SingleFlight[None] = SingleFlight(self._refresh, clock)
        self._reads = FreshReads(
            self._table,
            self._flight,
            max_staleness=settings.max_staleness,
            stale_limit=settings.stale_limit,
            clock=clock,
        )
        self._hub = WatchHub(
            self._table,
            buffer_size=settings.watch_buffer,
            max_watchers=settings.max_watchers,
            on_named_watch=lambda: self._poller.wake(),  # noqa: PLW0108 - the poller is made next
        )
        self._poller = Poller(
            self._table, self._flight, settings.intervals, attended=self._hub.attended, clock=clock
        )
        self._tokens = PageTokens()
        self._read_observers: list[Callable[[CacheResult], None]] = []
        # A new (or changed) pending connection must switch a slow-sleeping poller to fast now.
        self._table.subscribe(self._note_pending)

    def _note_pending(self, events: Sequence[ChangeEvent]) -> None:
        if any(e.connection.pending for e in events):
            self._poller.pending_changed()

    @property
    def revision(self) -> int:
        """Increases with every change."""
        return self._table.revision

    @property
    def bookmark_interval(self) -> float:
        """Seconds between BOOKMARK events of a watch that asks for no interval of its own."""
        return self._settings.bookmark_interval

    def __len__(self) -> int:
        return len(self._table)

    def age(self) -> float | None:
        """Seconds since the last complete listing, None if there was none."""
        return self._table.age()

    def observe_reads(self, observer: Callable[[CacheResult], None]) -> None:
        """Calls ``observer`` with how each read was answered (hit, miss or stale)."""
        self._read_observers.append(observer)

    def _answered(self, info: ReadInfo) -> ReadInfo:
        """Tells the observers how a read was answered; returns ``info`` for the caller."""
        for observer in self._read_observers:
            observer(info.result)
        return info

    async def _fresh(self, options: ReadOptions) -> ReadInfo:
        """Makes the table fresh enough for ``options`` (or stale within the limit); reports the outcome."""
        return self._answered(await self._reads.ensure(options))

    async def _refresh(self) -> None:
        started = self._clock()
        ok = False
        try:
            listing = await self._lister()
            self._table.replace_all(listing, started_at=started)
            ok = True
        finally:
            if self._on_refresh is not None:
                self._on_refresh(self._clock() - started, ok)

    def start(self) -> None:
        """Starts the poller, if configured."""
        if self._settings.poll:
            self._poller.start()

    async def stop(self) -> None:
        """Stops the poller and any running refresh."""
        await self._poller.stop()
        await self._flight.cancel()

    # ---- reads -------------------------------------------------------------

    async def get(self, arn: str, options: ReadOptions) -> Read[Connection | None]:
        """The connection with ``arn`` (either CodeStar prefix); None if there is none."""
        info = await self._fresh(options)
        return Read(self._table.get(arn), info)

    async def find(self, name: str, options: ReadOptions) -> Read[Connection | None]:
        """The connection named ``name``; None if there is none."""
        info = await self._fresh(options)
        return Read(self._table.find_by_name(name), info)

    async def page(
        self,
        keep: Callable[[Connection], bool],
        filter_key: str,
        max_results: int | None,
        next_token: str,
        options: ReadOptions,
    ) -> Read[Page[Connection]]:
        """One page of the connections ``keep`` accepts, in stable order."""
        info = await self._fresh(options)
        after = self._tokens.resume_after(next_token, filter_key)
        size = max_results or self._settings.default_page_size
        matching = [(seq, c) for seq, c in self._table.ordered() if seq > after and keep(c)]
        items = matching[:size]
        more = len(matching) > size
        token = self._tokens.issue(items[-1][0], filter_key) if more else ""
        return Read(Page(tuple(c for _, c in items), token), info)

    async def tags(
        self, arn: str, fetch: Callable[[], Awaitable[tuple[Tag, ...]]], options: ReadOptions
    ) -> Read[tuple[Tag, ...]]:
        """A resource's tags from memory when fresh enough, else from ``fetch`` (and remembered).

        Tags are not part of a listing, so they are learned per resource, on
        creation, on tag changes through the facade, and on reads like this one.
        """
        known = self._table.tags(arn)
        limit = self._settings.max_staleness if options.max_staleness is None else options.max_staleness
        now = self._clock()
        if known is not None and not options.consistent and now - known[1] <= limit:
            hit = ReadInfo(CacheResult.HIT, self._table.revision, now - known[1])
            return Read(known[0], self._answered(hit))
        version = self._table.tags_version(arn)
        try:
            tags = await fetch()
        except (Unavailable, Throttled, DeadlineExceeded):
            # AWS could not answer now: memory within the stale limit will do, but
            # not for a consistent read, and never over a definite answer (NotFound).
            if not options.consistent and known is not None and now - known[1] <= self._settings.stale_limit:
                stale = ReadInfo(CacheResult.STALE, self._table.revision, now - known[1])
                return Read(known[0], self._answered(stale))
            raise
        # A TagResource through the facade while AWS answered is newer than that answer.
        self._table.set_tags(arn, tags, if_version=version, learned_at=now)
        return Read(tags, self._answered(ReadInfo(CacheResult.MISS, self._table.revision, 0.0)))

    def known(self, arn: str) -> Connection | None:
        """The connection with ``arn`` as memory holds it now, without a read (None: not known)."""
        return self._table.get(arn)

    # ---- writes through ----------------------------------------------------

    def upsert(self, connection: Connection, tags: Sequence[Tag] | None = None) -> None:
        """Write-through of a create or change that AWS confirmed."""
        self._table.upsert(connection, tags=tags)

    def remove(self, arn: str) -> None:
        """Write-through of a delete that AWS confirmed."""
        self._table.remove(arn)

    def merge_tags(self, arn: str, added: Sequence[Tag] = (), removed: Sequence[str] = ()) -> None:
        """Write-through of TagResource / UntagResource onto known tags."""
        self._table.merge_tags(arn, added=added, removed=removed)

    # ---- waits and watches -------------------------------------------------

    async def wait(
        self, *, arn: str = "", name: str = "", statuses: frozenset[ConnectionStatus], options: ReadOptions
    ) -> Read[Connection | None]:
        """The connection (by ARN, or by name) once it is in one of ``statuses``; None if it is gone.

        The waiter is registered before the current state is read, so a change
        between the two cannot be missed; while it waits the poller runs fast.
        """
        flt = WatchFilter(arns=frozenset({arn} if arn else ()), names=frozenset({name} if name else ()))
        waiter = self._hub.open_waiter(flt)
        self._poller.wake()
        try:
            info = await self._fresh(options)
            table = self._table
            found = await until_status(
                waiter, lambda: table.get(arn) if arn else table.find_by_name(name), statuses
            )
            return Read(found, info)
        finally:
            self._hub.close(waiter)

    async def watch(
        self, flt: WatchFilter, *, resume_token: str = "", snapshot: bool = True, options: ReadOptions
    ) -> Opening:
        """Opens a watcher, atomically with its snapshot or replay, so nothing falls between."""
        if not resume_token:
            # A snapshot needs a table that has listed. Not reported: a stream has no read outcome.
            await self._reads.ensure(options)
        return self._hub.open(flt, resume_token=resume_token, snapshot=snapshot)

    def unwatch(self, watcher: Watcher) -> None:
        """Forgets a watcher and its buffer."""
        self._hub.close(watcher)

    def resume_token(self, revision: int, *, in_snapshot: bool = False) -> str:
        """The resume token of a stream standing at ``revision``."""
        return self._hub.token(revision, in_snapshot=in_snapshot)

    def end_watches(self) -> None:
        """Asks every watcher and waiter to end (shutdown); streams end with a resume token."""
        self._hub.close_all()

    async def watches_ended(self) -> None:
        """Returns once no watcher or waiter is open."""
        await self._hub.drained()
