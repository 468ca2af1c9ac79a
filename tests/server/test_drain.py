"""The drain at shutdown: calls in flight finish; calls that come meanwhile are refused UNAVAILABLE."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from status_details import details_of, trailer

from connfacade.apprunner.v1 import connection_service_pb2 as ar


async def _until(condition) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.005)


async def test_a_call_arriving_while_the_server_drains_is_refused_unavailable_with_retry_info(
    facade, apprunner, control
):
    """The call in flight at the stop finishes OK; one that arrives after is UNAVAILABLE with RetryInfo."""
    await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=400, count=1)
    create = asyncio.ensure_future(
        apprunner.CreateConnection(
            ar.CreateConnectionRequest(connection_name="in-flight", provider_type=ar.PROVIDER_TYPE_GITHUB)
        )
    )
    await _until(lambda: facade.drain.in_flight == 1)
    stopping = asyncio.create_task(facade.stop(5))
    await _until(lambda: facade.drain.draining)

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=(("x-request-id", "late-1"),))

    assert (await create).connection.connection_name == "in-flight"
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in caught.value.details()
    assert set(details_of(caught.value)) == {"RetryInfo", "ErrorInfo"}
    assert trailer(caught.value, "x-request-id") == "late-1"
    await stopping


async def test_a_refused_call_is_counted_unavailable(facade, apprunner):
    """A refusal during the drain counts as UNAVAILABLE in connfacade_rpcs_total."""
    stopping = asyncio.create_task(facade.stop(5))
    await _until(lambda: facade.drain.draining)
    with pytest.raises(grpc.aio.AioRpcError):
        await apprunner.ListConnections(ar.ListConnectionsRequest())
    await stopping
    method = "connfacade.apprunner.v1.ConnectionService/ListConnections"
    sample = {"method": method, "code": "UNAVAILABLE"}
    assert facade.metrics.registry.get_sample_value("connfacade_rpcs_total", sample) == 1
