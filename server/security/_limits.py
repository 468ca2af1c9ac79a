"""Limits: per principal a token bucket of calls, counts of calls in flight and of open watch streams;
per peer a token bucket of failed authentications."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

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


def peer_key(peer: str) -> str:
    """Who a call's peer is, for the limit on failed authentications: its address without the port.

    gRPC names TCP peers ``ipv4:10.0.0.7:51234`` and ``ipv6:%5Bfd00::7%5D:51234``
    (the port changes with every connection, so it is dropped; the brackets
    are unquoted). For a Unix
    socket it says only ``unix:``: grpcio does not expose the peer's
    credentials (SO_PEERCRED) or even the socket, so every caller over Unix
    sockets is the one peer ``unix`` (``unix-abstract`` for abstract sockets).
    """
    kind, _, rest = peer.partition(":")
    if kind in {"ipv4", "ipv6"}:
        host, _, port = rest.rpartition(":")
        if host and port.isdigit():
            return f"{kind}:{unquote(host)}"
        return peer
    if kind in {"unix", "unix-abstract"}:
        return kind
    return peer


class TooManyFailures(RateLimited):
    """A peer failed authentication more often than its budget; it is told so instead of UNAUTHENTICATED.

    Such refusals are noted (logged and audited) at most once per
    `FailureBudgets.NOTE_INTERVAL` per peer: ``quiet`` says this one is not,
    ``unnoted`` how many of the peer's refusals before this one were not.
    """

    def __init__(self, peer: str, *, rate: float, retry_after: float, quiet: bool, unnoted: int) -> None:
        super().__init__(
            f"too many failed authentications from {peer} (more than {rate:g} a second); "
            "check the credentials before calling again",
            subject=f"peer:{peer}",
            retry_after=retry_after,
            reason="TOO_MANY_FAILED_AUTHENTICATIONS",
        )
        self.quiet = quiet
        self.unnoted = unnoted


@dataclass(slots=True)
class _PeerFailures:
    bucket: TokenBucket
    unnoted: int = 0  # refusals since the last one noted
    noted_at: float = -math.inf


class FailureBudgets:
    """Failed authentications per peer (`peer_key`): a token bucket each; a rate of 0 means unlimited.

    Only failures count: a call that authenticates never takes from its
    peer's bucket and is never refused by it, so an app calling thousands of
    times a second with a valid token shares its peer with a flooder at no
    cost. At most ``max_peers`` buckets are kept; beyond them, the peer that
    failed least recently is forgotten (and starts again with a full burst).
    """

    NOTE_INTERVAL = 1.0  # seconds between noted refusals of one peer
    MAX_PEERS = 10_000

    def __init__(
        self,
        rate: float = 0.0,
        burst: int = 1,
        *,
        max_peers: int = MAX_PEERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1)
        self.max_peers = max_peers
        self._clock = clock
        self._peers: OrderedDict[str, _PeerFailures] = OrderedDict()

    def failed(self, peer: str) -> None:
        """Counts a failed authentication of ``peer`` (a `peer_key`); raises TooManyFailures past its budget.

        A refused call takes nothing: a flood of refusals does not delay the refill.
        """
        if self.rate <= 0:
            return
        now = self._clock()
        state = self._peers.get(peer)
        if state is None:
            state = self._peers[peer] = _PeerFailures(TokenBucket(self.rate, self.burst, self.burst, now))
            if len(self._peers) > self.max_peers:
                self._peers.popitem(last=False)
        else:
            self._peers.move_to_end(peer)
        wait = state.bucket.take(now)
        if not wait:
            return
        quiet = now - state.noted_at < self.NOTE_INTERVAL
        unnoted = state.unnoted
        if quiet:
            state.unnoted += 1
        else:
            state.unnoted, state.noted_at = 0, now
        raise TooManyFailures(peer, rate=self.rate, retry_after=wait, quiet=quiet, unnoted=unnoted)

    def peers(self) -> int:
        """How many peers' failures are remembered."""
        return len(self._peers)
