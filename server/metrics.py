"""Prometheus metrics: one registry per server, served on its own HTTP port."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from connfacade.server.store import CacheResult

if TYPE_CHECKING:
    from collections.abc import Callable

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class TrackedStore(Protocol):
    """What the metrics read of a store: its size, revision and age, and how its reads were answered."""

    @property
    def revision(self) -> int: ...

    def __len__(self) -> int: ...

    def age(self) -> float | None: ...

    def observe_reads(self, observer: Callable[[CacheResult], None]) -> None: ...


class TrackedBreaker(Protocol):
    """What the metrics read of a circuit breaker."""

    @property
    def state(self) -> int: ...


class Metrics:
    """Every metric the server exports; docs/store.md ("Metrics") lists them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.rpcs = Counter(
            "connfacade_rpcs", "RPCs handled, by method and status code.", ["method", "code"], registry=r
        )
        self.rpc_latency = Histogram(
            "connfacade_rpc_latency_seconds",
            "RPC handling time, by method.",
            ["method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.cache_reads = Counter(
            "connfacade_cache_reads",
            "Reads served by the store, by result.",
            ["service", "result"],
            registry=r,
        )
        self.upstream_calls = Counter(
            "connfacade_upstream_calls",
            "AWS calls, by operation and outcome.",
            ["service", "operation", "outcome"],
            registry=r,
        )
        self.upstream_latency = Histogram(
            "connfacade_upstream_latency_seconds",
            "AWS call time.",
            ["service", "operation"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.store_size = Gauge(
            "connfacade_store_connections", "Connections in the store.", ["service"], registry=r
        )
        self.store_revision = Gauge(
            "connfacade_store_revision", "The store's revision.", ["service"], registry=r
        )
        self.poll_duration = Histogram(
            "connfacade_poll_duration_seconds",
            "Time of one full listing.",
            ["service", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.audit_records = Counter(
            "connfacade_audit_records",
            "Audit records, by outcome (ok, error, sink_error).",
            ["outcome"],
            registry=r,
        )
        self.audit_write_latency = Histogram(
            "connfacade_audit_write_seconds",
            "Time to write one audit record to every sink.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.audit_sink_errors = Counter(
            "connfacade_audit_sink_errors", "Audit writes that failed.", registry=r
        )
        self.audit_recovered_intents = Counter(
            "connfacade_audit_recovered_intents",
            "Intents without a completion found at start-up, by what AWS showed "
            "(applied, not_applied, unknown, unreachable).",
            ["result"],
            registry=r,
        )
        self.last_good_poll_age = Gauge(
            "connfacade_last_good_poll_age_seconds",
            "Seconds since the last complete listing (-1: none yet).",
            ["service"],
            registry=r,
        )

        self.breaker_state = Gauge(
            "connfacade_breaker_state",
            "Circuit breaker of AWS calls: 0 closed, 1 half-open, 2 open.",
            ["service"],
            registry=r,
        )
        self.breaker_fast_failures = Counter(
            "connfacade_breaker_fast_failures",
            "Calls refused without calling AWS because the breaker was open.",
            ["service"],
            registry=r,
        )

    def track_breaker(self, service: str, breaker: TrackedBreaker) -> None:
        """Exports a breaker's state, read at scrape time (open turns half-open by the clock)."""
        self.breaker_state.labels(service).set_function(lambda: float(breaker.state))

    def track_store(self, service: str, store: TrackedStore) -> None:
        """Exports a store's size, revision and age, read at scrape time, and counts its reads by result."""
        self.store_size.labels(service).set_function(lambda: float(len(store)))
        self.store_revision.labels(service).set_function(lambda: float(store.revision))
        self.last_good_poll_age.labels(service).set_function(
            lambda: -1.0 if (a := store.age()) is None else a
        )
        # One child per result, made now: every result shows (as 0) before it first happens,
        # and a read costs no label lookup.
        reads = {result: self.cache_reads.labels(service, result.value) for result in CacheResult}
        store.observe_reads(lambda result: reads[result].inc())

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)


class MetricsServer:
    """`/metrics` over HTTP on its own port (a scrape must not compete with gRPC)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._runner: web.AppRunner | None = None
        self.address = ""

    async def start(self, host: str, port: int) -> str:
        """Serves on host:port (0: a free port); returns the bound address."""
        app = web.Application()
        app.router.add_get("/metrics", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        # The runner's public `addresses` are the bound sockets' names: (host, port[, flow, scope]).
        bound = next((a[1] for a in self._runner.addresses if isinstance(a, tuple)), port)
        self.address = f"{host}:{bound}"
        return self.address

    async def stop(self) -> None:
        """Stops serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, _request: web.Request) -> web.Response:
        body = self._metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
