"""One live store of one service: store, single-flight refresh, freshness, poller, pages."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connfacade.server import callcontext
from connfacade.server.domain import DeadlineExceeded, Page, Throttled, Unavailable
from connfacade.server.store.pagetokens import PageTokens
from connfacade.server.store.poller import Poller, PollIntervals
from connfacade.server.store.reads import CacheResult, FreshReads, ReadInfo, ReadOptions
from connfacade.server.store.singleflight import SingleFlight
from connfacade.server.store.store import ConnectionStore
from connfacade.server.store.watch import WatchHub

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from connfacade.server.domain import Connection, Service, Tag
    from connfacade.server.store.events import ChangeEvent


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


class ConnectionCache:
    """Everything that keeps one service's connections in memory and serves them."""

    def __init__(
        self,
        service: Service,
        lister: Callable[[], Awaitable[list[Connection]]],
        settings: StoreSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_refresh: Callable[[float, bool], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = ConnectionStore(service, history_limit=settings.history_limit, clock=clock)
        self._lister = lister
        self._clock = clock
        self._on_refresh = on_refresh
        self.flight: SingleFlight[None] = SingleFlight(self._refresh, clock)
        self.reads = FreshReads(
            self.store,
            self.flight,
            max_staleness=settings.max_staleness,
            stale_limit=settings.stale_limit,
            clock=clock,
        )
        self.hub = WatchHub(
            self.store,
            buffer_size=settings.watch_buffer,
            max_watchers=settings.max_watchers,
            on_named_watch=lambda: self.poller.wake(),  # noqa: PLW0108 - the poller is made next
        )
        self.poller = Poller(
            self.store, self.flight, settings.intervals, attended=self.hub.attended, clock=clock
        )
        self.tokens = PageTokens()
        self._read_observers: list[Callable[[CacheResult], None]] = []
        # A new (or changed) pending connection must switch a slow-sleeping poller to fast now.
        self.store.subscribe(self._note_pending)

    def _note_pending(self, events: Sequence[ChangeEvent]) -> None:
        if any(e.connection.pending for e in events):
            self.poller.pending_changed()

    def observe_reads(self, observer: Callable[[CacheResult], None]) -> None:
        """Calls ``observer`` with how each read was answered (hit, miss or stale)."""
        self._read_observers.append(observer)

    def _answered(self, info: ReadInfo) -> None:
        """Reports a read's outcome: to the caller's response metadata and to the observers."""
        callcontext.record_read(info)
        for observer in self._read_observers:
            observer(info.result)

    async def _refresh(self) -> None:
        started = self._clock()
        ok = False
        try:
            listing = await self._lister()
            self.store.replace_all(listing, started_at=started)
            ok = True
        finally:
            if self._on_refresh is not None:
                self._on_refresh(self._clock() - started, ok)

    def start(self) -> None:
        """Starts the poller, if configured."""
        if self.settings.poll:
            self.poller.start()

    async def stop(self) -> None:
        """Stops the poller and any running refresh."""
        await self.poller.stop()
        await self.flight.cancel()

    async def read(self, options: ReadOptions) -> ReadInfo:
        """Makes the store fresh enough for ``options`` (or stale within the limit)."""
        return await self.reads.ensure(options)

    def page(
        self, keep: Callable[[Connection], bool], filter_key: str, max_results: int | None, next_token: str
    ) -> Page[Connection]:
        """One page of the connections ``keep`` accepts, in stable order."""
        after = self.tokens.resume_after(next_token, filter_key)
        size = max_results or self.settings.default_page_size
        matching = [(seq, c) for seq, c in self.store.ordered() if seq > after and keep(c)]
        items = matching[:size]
        more = len(matching) > size
        return Page(tuple(c for _, c in items), self.tokens.issue(items[-1][0], filter_key) if more else "")

    async def tags(self, arn: str, fetch: Callable[[], Awaitable[tuple[Tag, ...]]]) -> tuple[Tag, ...]:
        """A resource's tags from memory when fresh enough, else from ``fetch`` (and remembered).

        Tags are not part of a listing, so they are learned per resource, on
        creation, on tag changes through the facade, and on reads like this one.
        """
        options = callcontext.read_options()
        known = self.store.tags(arn)
        limit = self.settings.max_staleness if options.max_staleness is None else options.max_staleness
        now = self._clock()
        if known is not None and not options.consistent and now - known[1] <= limit:
            self._answered(ReadInfo(CacheResult.HIT, self.store.revision, now - known[1]))
            return known[0]
        version = self.store.tags_version(arn)
        try:
            tags = await fetch()
        except (Unavailable, Throttled, DeadlineExceeded):
            # AWS could not answer now: memory within the stale limit will do, but
            # not for a consistent read, and never over a definite answer (NotFound).
            if not options.consistent and known is not None and now - known[1] <= self.settings.stale_limit:
                self._answered(ReadInfo(CacheResult.STALE, self.store.revision, now - known[1]))
                return known[0]
            raise
        # A TagResource through the facade while AWS answered is newer than that answer.
        self.store.set_tags(arn, tags, if_version=version, learned_at=now)
        self._answered(ReadInfo(CacheResult.MISS, self.store.revision, 0.0))
        return tags

    async def read_recorded(self) -> None:
        """`read` with the current call's options; the outcome goes to its response metadata and metrics."""
        self._answered(await self.read(callcontext.read_options()))
