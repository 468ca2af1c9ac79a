"""Every metric docs/store.md lists is exported, and changes when its event happens.

The list is parsed from the documentation, so a metric documented without a
case here fails, and so does one the server exports without documenting it.
Each event is driven through a real facade (emulator, aiobotocore, grpc.aio)
and the metrics are read from the `/metrics` endpoint, as Prometheus reads them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.server.api.audit_trail import Auditor
from connfacade.server.audit import FileSink
from connfacade.server.backend.breaker import BreakerSettings
from connfacade.server.metrics import Metrics, MetricsServer
from connfacade.server.operations.idempotency import IdempotencyCache
from connfacade.server.startup import resume_from_audit_log

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

DOC = Path(__file__).parents[2] / "docs" / "store.md"
SERVICE = "apprunner"
LIST = "connfacade.apprunner.v1.ConnectionService/ListConnections"
BREAKER_FAILURES = 2
CONSISTENT = (("x-connfacade-consistent-read", "true"),)
MAX_STALENESS_0 = (("x-connfacade-max-staleness-ms", "0"),)
NO_LABELS = "\N{EN DASH}"


def documented() -> dict[str, tuple[str, ...]]:
    """The metrics table of docs/store.md: name -> label names (a dash for none)."""
    rows = re.findall(r"^\| `(connfacade_\w+)` \| ([^|]*)\|", DOC.read_text(), re.MULTILINE)
    return {
        name: tuple(label.strip() for label in labels.split(",") if label.strip() not in {"", NO_LABELS})
        for name, labels in rows
    }


@dataclass
class World:
    """What an event may act on."""

    apprunner: object
    control: object
    disk: dict[str, bool]
    facade: object
    backend: object


@pytest.fixture
def disk():
    """Whether the audit file's disk is full (fsync fails)."""
    return {"full": False}


@pytest.fixture
async def facade_options(facade_options, disk, tmp_path):
    """A facade with an audit file whose disk can fill up, and a breaker that opens quickly."""

    def fsync(fd):
        if disk["full"]:
            raise OSError(28, "No space left on device")
        os.fsync(fd)

    metrics = Metrics()
    sink = FileSink(tmp_path / "audit.jsonl", fsync="always", fsync_fn=fsync)
    await sink.open()
    return facade_options | {
        "metrics": metrics,
        "auditor": Auditor([sink], metrics=metrics),
        "breaker": BreakerSettings(failures=BREAKER_FAILURES, reset_after=60.0),
    }


@pytest.fixture
async def scrape(facade):
    """Reads /metrics over HTTP: (sample name, labels) -> value."""
    server = MetricsServer(facade.metrics)
    address = await server.start("127.0.0.1", 0)
    async with aiohttp.ClientSession() as http:

        async def read() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
            async with http.get(f"http://{address}/metrics") as response:
                text = await response.text()
            return {
                (s.name, frozenset(s.labels.items())): s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
            }

        yield read
    await server.stop()


@pytest.fixture
def world(apprunner, control, disk, facade, backend):
    return World(apprunner, control, disk, facade, backend)


# ---- the events ------------------------------------------------------------------


async def list_connections(w: World) -> None:
    await w.apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=MAX_STALENESS_0)


async def create_connection(w: World) -> None:
    await w.apprunner.CreateConnection(
        ar.CreateConnectionRequest(connection_name="counted", provider_type=ar.PROVIDER_TYPE_GITHUB)
    )


async def create_on_a_full_disk(w: World) -> None:
    w.disk["full"] = True
    with pytest.raises(grpc.aio.AioRpcError):
        await create_connection(w)


async def aws_fails_until_the_breaker_opens(w: World) -> None:
    await w.control.inject_fault(service=SERVICE, operation="ListConnections", kind="error", http_status=503)
    for _ in range(BREAKER_FAILURES):
        with pytest.raises(grpc.aio.AioRpcError):
            await w.apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=CONSISTENT)


async def a_read_while_the_breaker_is_open(w: World) -> None:
    await aws_fails_until_the_breaker_opens(w)
    with pytest.raises(grpc.aio.AioRpcError):
        await w.apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=CONSISTENT)


async def a_start_that_finds_an_open_intent(w: World) -> None:
    """What a restart after a kill does: the log holds an intent with no completion; AWS is asked."""
    auditor = w.facade.auditor
    await auditor.write(
        {
            "stage": "intent",
            "eventID": "open-intent",
            "method": "apprunner.CreateConnection",
            "eventTime": datetime.now(tz=UTC).isoformat(),
            "requestParameters": {"connection_name": "never-made", "provider_type": "PROVIDER_TYPE_GITHUB"},
        }
    )
    resumed = await resume_from_audit_log(auditor, w.backend, IdempotencyCache())
    assert resumed is not None
    assert resumed.recovered == 1


@dataclass(frozen=True)
class Case:
    """An event, and the sample of the metric it must change."""

    event: Callable[[World], Awaitable[None]]
    sample: str
    labels: dict[str, str]


CASES = {
    "connfacade_rpcs_total": Case(list_connections, "connfacade_rpcs_total", {"method": LIST, "code": "OK"}),
    "connfacade_rpc_latency_seconds": Case(
        list_connections, "connfacade_rpc_latency_seconds_count", {"method": LIST}
    ),
    "connfacade_cache_reads_total": Case(
        list_connections, "connfacade_cache_reads_total", {"service": SERVICE, "result": "miss"}
    ),
    "connfacade_upstream_calls_total": Case(
        list_connections,
        "connfacade_upstream_calls_total",
        {"service": SERVICE, "operation": "ListConnections", "outcome": "ok"},
    ),
    "connfacade_upstream_latency_seconds": Case(
        list_connections,
        "connfacade_upstream_latency_seconds_count",
        {"service": SERVICE, "operation": "ListConnections"},
    ),
    "connfacade_store_connections": Case(
        create_connection, "connfacade_store_connections", {"service": SERVICE}
    ),
    "connfacade_store_revision": Case(create_connection, "connfacade_store_revision", {"service": SERVICE}),
    "connfacade_poll_duration_seconds": Case(
        list_connections, "connfacade_poll_duration_seconds_count", {"service": SERVICE, "outcome": "ok"}
    ),
    "connfacade_last_good_poll_age_seconds": Case(
        list_connections, "connfacade_last_good_poll_age_seconds", {"service": SERVICE}
    ),
    "connfacade_breaker_state": Case(
        aws_fails_until_the_breaker_opens, "connfacade_breaker_state", {"service": SERVICE}
    ),
    "connfacade_breaker_fast_failures_total": Case(
        a_read_while_the_breaker_is_open, "connfacade_breaker_fast_failures_total", {"service": SERVICE}
    ),
    "connfacade_audit_records_total": Case(
        create_connection, "connfacade_audit_records_total", {"outcome": "ok"}
    ),
    "connfacade_audit_write_seconds": Case(create_connection, "connfacade_audit_write_seconds_count", {}),
    "connfacade_audit_sink_errors_total": Case(
        create_on_a_full_disk, "connfacade_audit_sink_errors_total", {}
    ),
    "connfacade_audit_recovered_intents_total": Case(
        a_start_that_finds_an_open_intent,
        "connfacade_audit_recovered_intents_total",
        {"result": "not_applied"},
    ),
}


@pytest.mark.parametrize("name", sorted(documented()))
async def test_each_documented_metric_changes_when_its_event_happens(name, world, scrape):
    """The metric's sample (absent, or at its value) before the event differs after it."""
    case = CASES.get(name)
    assert case is not None, f"{name} is documented in docs/store.md, but no event here drives it"
    key = (case.sample, frozenset(case.labels.items()))
    before = (await scrape()).get(key)
    await case.event(world)
    after = (await scrape()).get(key)
    assert after is not None, f"{case.sample}{case.labels} is not exported after its event"
    assert after != before, f"{case.sample}{case.labels} stayed at {before} after its event"


def test_every_exported_metric_is_documented_with_its_labels():
    """What the server exports and what docs/store.md lists are the same metrics, with the same labels."""
    exported = {}
    for metric in vars(Metrics()).values():
        if hasattr(metric, "_labelnames"):
            suffix = "_total" if metric._type == "counter" else ""
            exported[metric._name + suffix] = tuple(metric._labelnames)
    assert exported == documented()


def cache_reads(samples, result):
    return samples.get(
        ("connfacade_cache_reads_total", frozenset({("service", SERVICE), ("result", result)})), 0.0
    )


@pytest.mark.parametrize("result", ["hit", "miss", "stale"])
async def test_each_read_counts_once_under_its_result(result, world, scrape, control):
    """A read answered hit, miss or stale adds one to that result, and nothing to the others."""
    await list_connections(world)  # the store has listed: reads may now hit, or be served stale
    if result == "stale":  # a refresh that fails, with data within the stale limit
        await control.inject_fault(
            service=SERVICE, operation="ListConnections", kind="error", http_status=503
        )
    before = await scrape()
    call = world.apprunner.ListConnections(
        ar.ListConnectionsRequest(), metadata=() if result == "hit" else MAX_STALENESS_0
    )
    await call
    assert dict(await call.trailing_metadata())["x-connfacade-cache"] == result
    after = await scrape()
    counted = {r: cache_reads(after, r) - cache_reads(before, r) for r in ("hit", "miss", "stale")}
    assert counted == {r: 1.0 if r == result else 0.0 for r in counted}
