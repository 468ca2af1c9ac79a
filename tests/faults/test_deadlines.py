"""The caller's gRPC deadline bounds the facade's work, but not work that other callers share.

AWS is made slow with the emulator's latency fault. That the facade answered
by itself (and was not cut off by gRPC) shows in the ErrorInfo it packs and in
the audit record of the call, which would say CANCELLED otherwise.
"""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest
from fault_helpers import aws_requests, create, error_info, eventually, failing, metric

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.server.api.audit_trail import Auditor
from connfacade.server.audit import FileSink

SLOW_MS = 3000  # AWS answers after this; every deadline below is shorter
DEADLINE = 1.0
CONSISTENT = (("x-connfacade-consistent-read", "true"),)
ALWAYS_REFRESH = (("x-connfacade-max-staleness-ms", "0"),)


@pytest.fixture
def audit_path(tmp_path):
    return tmp_path / "audit.jsonl"


@pytest.fixture
async def auditor(audit_path):
    sink = FileSink(audit_path, fsync="never")
    await sink.open()
    auditor = Auditor([sink])
    yield auditor
    await auditor.aclose()


def audit_records(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_a_create_slower_than_the_deadline_is_stopped_by_the_facade(
    apprunner, control, facade, audit_path
):
    """AWS slower than the deadline: the facade gives up on its own, answers DEADLINE_EXCEEDED, no retry."""
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=SLOW_MS)
    err = await failing(apprunner.CreateConnection(create("too-slow"), timeout=DEADLINE))
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_info(err).reason == "DeadlineExceeded"
    intent, record = audit_records(audit_path)
    assert (intent["stage"], record["intentID"]) == ("intent", intent["eventID"])
    assert (record["statusCode"], record["awsOutcome"]) == ("DEADLINE_EXCEEDED", "NoAnswer")
    # The one attempt is logged when the emulator answers it; nothing follows it.
    await eventually(lambda: _at_least(control, "CreateConnection", 1))
    await control.clear_faults()
    await apprunner.ListConnections(ar.ListConnectionsRequest())  # a later call, as a barrier
    assert await aws_requests(control, "CreateConnection") == 1
    assert (
        metric(
            facade,
            "connfacade_upstream_calls_total",
            service="apprunner",
            operation="CreateConnection",
            outcome="DeadlineExceeded",
        )
        == 1
    )


async def test_a_consistent_read_slower_than_the_deadline_is_deadline_exceeded(apprunner, control):
    """A consistent read cannot fall back to memory: when AWS is too slow it answers DEADLINE_EXCEEDED."""
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    await control.inject_fault(operation="ListConnections", kind="latency", latency_ms=SLOW_MS)
    err = await failing(
        apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=CONSISTENT, timeout=DEADLINE)
    )
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error_info(err).reason == "DeadlineExceeded"


async def test_a_read_whose_refresh_outlives_the_deadline_is_answered_stale(apprunner, control):
    """An ordinary read that cannot refresh in time is answered from memory, marked stale."""
    await apprunner.CreateConnection(create("remembered"))
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    await control.inject_fault(operation="ListConnections", kind="latency", latency_ms=SLOW_MS)
    call = apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=ALWAYS_REFRESH, timeout=DEADLINE)
    page = await call
    assert [c.connection_name for c in page.connection_summary_list] == ["remembered"]
    assert dict(await call.trailing_metadata())["x-connfacade-cache"] == "stale"


async def test_a_refresh_started_by_an_impatient_caller_still_serves_a_patient_one(
    apprunner, control, facade
):
    """A shared refresh outlives the deadline of the caller that started it; a caller that joined gets it."""
    await control.inject_fault(operation="ListConnections", kind="latency", latency_ms=SLOW_MS, count=1)
    impatient = asyncio.ensure_future(
        failing(apprunner.ListConnections(ar.ListConnectionsRequest(), timeout=DEADLINE))
    )
    flight = facade.stores["apprunner"]._flight

    async def in_flight():
        return flight.in_flight

    await eventually(in_flight)
    patient = apprunner.ListConnections(ar.ListConnectionsRequest(), timeout=60)
    await patient
    trailing = dict(await patient.trailing_metadata())
    assert trailing["x-connfacade-cache"] == "miss"
    assert trailing["x-aws-request-id"]  # the id of the listing made for it
    assert (await impatient).code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert flight.flights == 1
    assert await aws_requests(control, "ListConnections") == 1


async def _at_least(control, operation, n):
    return await aws_requests(control, operation) >= n
