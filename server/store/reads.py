"""Whether a read may be answered from memory: hit, miss (refresh first) or stale."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connfacade.server import callcontext
from connfacade.server.domain import DomainError

if TYPE_CHECKING:
    from collections.abc import Callable

    from connfacade.server.store.singleflight import SingleFlight
    from connfacade.server.store.store import ConnectionStore


class CacheResult(enum.Enum):
    """How a read was answered; sent back as ``x-connfacade-cache``."""

    HIT = "hit"  # from memory, fresh enough
    MISS = "miss"  # after a refresh from AWS
    STALE = "stale"  # from memory, because AWS failed and the data is within the stale limit


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the caller asked for (request metadata), or the server's defaults."""

    max_staleness: float | None = None  # seconds; None: the server default
    consistent: bool = False


@dataclass(frozen=True, slots=True)
class ReadInfo:
    """What a read reports back: response metadata."""

    result: CacheResult
    revision: int
    age: float


class FreshReads:
    """Decides, per read, whether the store answers as it is or after a refresh."""

    def __init__(
        self,
        store: ConnectionStore,
        refresh: SingleFlight[None],
        *,
        max_staleness: float,
        stale_limit: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._refresh = refresh
        self.max_staleness = max_staleness
        self.stale_limit = stale_limit
        self._clock = clock

    def _info(self, result: CacheResult) -> ReadInfo:
        return ReadInfo(result, self.store.revision, self.store.age() or 0.0)

    async def ensure(self, options: ReadOptions) -> ReadInfo:
        """Refreshes the store if this read needs it; raises if AWS fails and memory is too old."""
        arrived = self._clock()
        age = self.store.age()
        limit = self.max_staleness if options.max_staleness is None else options.max_staleness
        if not options.consistent and age is not None and age <= limit:
            return self._info(CacheResult.HIT)
        try:
            # The refresh is shared; this caller stops waiting for it at its own deadline.
            async with callcontext.bounded("refreshing the store"):
                await self._refresh.do(not_before=arrived if options.consistent else None)
        except DomainError:
            # A consistent read promised fresh data: it fails rather than serve old data.
            age = self.store.age()
            if not options.consistent and age is not None and age <= self.stale_limit:
                return self._info(CacheResult.STALE)
            raise
        return self._info(CacheResult.MISS)
