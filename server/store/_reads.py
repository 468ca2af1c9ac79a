"""Whether a read may be answered from memory: hit, miss (refresh first) or stale."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from connfacade.server.deadlines import bounded
from connfacade.server.domain import DomainError
from connfacade.server.store._edge import CacheResult, ReadInfo

if TYPE_CHECKING:
    from collections.abc import Callable

    from connfacade.server.store._edge import ReadOptions
    from connfacade.server.store._singleflight import SingleFlight
    from connfacade.server.store._table import Table


class FreshReads:
    """Decides, per read, whether the table answers as it is or after a refresh."""

    def __init__(
        self,
        table: Table,
        refresh: SingleFlight[None],
        *,
        max_staleness: float,
        stale_limit: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.table = table
        self._refresh = refresh
        self.max_staleness = max_staleness
        self.stale_limit = stale_limit
        self._clock = clock

    def _info(self, result: CacheResult) -> ReadInfo:
        return ReadInfo(result, self.table.revision, self.table.age() or 0.0)

    async def ensure(self, options: ReadOptions) -> ReadInfo:
        """Refreshes the store if this read needs it; raises if AWS fails and memory is too old."""
        arrived = self._clock()
        age = self.table.age()
        limit = self.max_staleness if options.max_staleness is None else options.max_staleness
        if not options.consistent and age is not None and age <= limit:
            return self._info(CacheResult.HIT)
        try:
            # The refresh is shared; this caller stops waiting for it at its own deadline.
            async with bounded("refreshing the store"):
                await self._refresh.do(not_before=arrived if options.consistent else None)
        except DomainError:
            # A consistent read promised fresh data: it fails rather than serve old data.
            age = self.table.age()
            if not options.consistent and age is not None and age <= self.stale_limit:
                return self._info(CacheResult.STALE)
            raise
        return self._info(CacheResult.MISS)
