"""Per-principal limits: a token bucket of calls, counts of calls in flight and of open watch streams."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connfacade.server.domain import RateLimited

if TYPE_CHECKING:
    from collections.abc import Callable

    from connfacade.server.security._principals import Principal


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; one call takes one token."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """0 if a token was taken, else the seconds until one will be there."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimiter:
    """One token bucket per principal; a rate of 0 means unlimited.

    A principal's own ``rate_limit`` / ``rate_burst`` override the defaults.
    Buckets live as long as the process: there is one per principal of the
    principals file (or the one anonymous caller), never one per request.
    """

    def __init__(
        self, rate: float = 0.0, burst: int = 0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def _limits(self, principal: Principal) -> tuple[float, float]:
        rate = self.rate if principal.rate_limit is None else principal.rate_limit
        burst = principal.rate_burst if principal.rate_burst is not None else self.burst
        # A burst below one would refuse every call; default to a second's worth.
        return rate, float(max(burst, 1) if burst else max(math.ceil(rate), 1))

    def take(self, principal: Principal) -> None:
        """Takes one call from the principal's bucket; raises RateLimited when it is empty."""
        if not self.rate and principal.rate_limit is None:
            return  # the common case, unlimited: no lookup on the hot path
        bucket = self._buckets.get(principal.name)
        if bucket is None:
            rate, burst = self._limits(principal)
            if rate <= 0:
                return
            bucket = self._buckets[principal.name] = TokenBucket(rate, burst, burst, self._clock())
        wait = bucket.take(self._clock())
        if wait:
            raise RateLimited(
                f"principal {principal.name!r} exceeded {bucket.rate:g} calls per second "
                f"(burst {bucket.burst:g})",
                subject=f"principal:{principal.name}",
                retry_after=wait,
            )


class CallCounts:
    """Calls each principal has in flight, its fair share of the server; 0 means unlimited.

    A principal's own ``max_calls`` overrides the default. Without
    authentication every caller is the one anonymous principal, so the default
    is sized for a single app calling its sidecar (docs/security.md).
    """

    RETRY_AFTER = 1.0  # seconds: a slot frees when one of its calls ends, which no one can say

    def __init__(self, per_principal: int = 0) -> None:
        self.per_principal = per_principal
        self._in_flight: dict[str, int] = {}

    def limit(self, principal: Principal) -> int:
        """How many calls ``principal`` may have in flight (0: no limit)."""
        return self.per_principal if principal.max_calls is None else principal.max_calls

    def enter(self, principal: Principal) -> None:
        """Counts one more call of ``principal``; raises RateLimited (nothing counted) at its limit."""
        limit = self.limit(principal)
        if not limit:
            return  # unlimited: nothing to count (and `leave` finds nothing to take off)
        count = self._in_flight.get(principal.name, 0)
        if count >= limit:
            raise RateLimited(
                f"principal {principal.name!r} already has {limit} calls in flight; retry when one has ended",
                subject=f"principal:{principal.name}:calls",
                retry_after=self.RETRY_AFTER,
                reason="TOO_MANY_CALLS_IN_FLIGHT",
            )
        self._in_flight[principal.name] = count + 1

    def leave(self, principal: Principal) -> None:
        """Counts one call of ``principal`` as ended."""
        count = self._in_flight.get(principal.name, 0) - 1
        if count > 0:
            self._in_flight[principal.name] = count
        else:
            self._in_flight.pop(principal.name, None)

    def in_flight(self, principal: Principal) -> int:
        """Calls ``principal`` has in flight now."""
        return self._in_flight.get(principal.name, 0)


class WatcherCounts:
    """Open watch streams per principal, across services; 0 means unlimited."""

    def __init__(self, per_principal: int = 0) -> None:
        self.per_principal = per_principal
        self._open: dict[str, int] = {}

    def limit(self, principal: Principal) -> int:
        """How many streams ``principal`` may hold open (0: no limit)."""
        return self.per_principal if principal.max_watchers is None else principal.max_watchers

    def open(self, principal: Principal) -> bool:
        """Counts one more stream for ``principal``; False (and nothing counted) if at its limit."""
        count = self._open.get(principal.name, 0)
        limit = self.limit(principal)
        if limit and count >= limit:
            return False
        self._open[principal.name] = count + 1
        return True

    def close(self, principal: Principal) -> None:
        """Counts one stream of ``principal`` as ended."""
        count = self._open.get(principal.name, 0) - 1
        if count > 0:
            self._open[principal.name] = count
        else:
            self._open.pop(principal.name, None)

    def open_for(self, principal: Principal) -> int:
        """Streams ``principal`` holds open now."""
        return self._open.get(principal.name, 0)
