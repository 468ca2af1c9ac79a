"""Per-principal rate limits, watch streams per principal, and the largest request accepted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2
from rpc_details import detail
from security_helpers import bearer

from connfacade.apprunner.v1 import connection_service_pb2 as pb

if TYPE_CHECKING:
    from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc

LIST = pb.ListConnectionsRequest()


async def test_a_principal_over_its_rate_answers_resource_exhausted_with_retry_info(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """`limited` bursts 3 calls at 0.05/s: the 4th is RESOURCE_EXHAUSTED with RetryInfo and QuotaFailure."""
    for _ in range(3):
        await apprunner.ListConnections(LIST, metadata=bearer("limited"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(LIST, metadata=bearer("limited"))
    err = caught.value
    assert err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    retry = detail(err, error_details_pb2.RetryInfo)
    quota = detail(err, error_details_pb2.QuotaFailure)
    assert retry is not None
    assert 0 < retry.retry_delay.ToTimedelta().total_seconds() <= 20  # one token at 0.05/s
    assert quota is not None
    assert quota.violations[0].subject == "principal:limited"


async def test_one_principal_over_its_rate_does_not_limit_another(apprunner: pb_grpc.ConnectionServiceStub):
    """Buckets are per principal: `limited` exhausted, `viewer` still answered."""
    for _ in range(3):
        await apprunner.ListConnections(LIST, metadata=bearer("limited"))
    with pytest.raises(grpc.aio.AioRpcError):
        await apprunner.ListConnections(LIST, metadata=bearer("limited"))
    await apprunner.ListConnections(LIST, metadata=bearer("viewer"))


async def test_a_principal_at_its_watcher_limit_is_refused_another_stream(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """`limited` may hold one watch stream: a second is RESOURCE_EXHAUSTED; closing the first frees it."""
    first = apprunner.WatchConnections(pb.WatchConnectionsRequest(), metadata=bearer("limited"))
    assert (await first.read()).type == pb.EVENT_TYPE_SYNCED
    second = apprunner.WatchConnections(pb.WatchConnectionsRequest(), metadata=bearer("limited"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await second.read()
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    quota = detail(caught.value, error_details_pb2.QuotaFailure)
    assert quota is not None
    assert quota.violations[0].subject == "principal:limited:watchers"


async def test_a_principal_holding_its_watch_stream_is_refused_a_wait(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """A wait is a long call too: `limited`, holding its one stream, gets RESOURCE_EXHAUSTED for a wait."""
    held = apprunner.WatchConnections(pb.WatchConnectionsRequest(), metadata=bearer("limited"))
    assert (await held.read()).type == pb.EVENT_TYPE_SYNCED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.WaitForConnection(
            pb.WaitForConnectionRequest(connection_name="any-name"), metadata=bearer("limited"), timeout=10
        )
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    quota = detail(caught.value, error_details_pb2.QuotaFailure)
    assert quota is not None
    assert quota.violations[0].subject == "principal:limited:watchers"
    held.cancel()


async def test_watch_streams_of_other_principals_do_not_count(apprunner: pb_grpc.ConnectionServiceStub):
    """The editor (no limit) opens streams while `limited` holds its one."""
    held = apprunner.WatchConnections(pb.WatchConnectionsRequest(), metadata=bearer("limited"))
    assert (await held.read()).type == pb.EVENT_TYPE_SYNCED
    others = [
        apprunner.WatchConnections(pb.WatchConnectionsRequest(), metadata=bearer("editor")) for _ in range(3)
    ]
    for stream in others:
        assert (await stream.read()).type == pb.EVENT_TYPE_SYNCED
        stream.cancel()
    held.cancel()


async def test_a_request_over_the_message_limit_is_resource_exhausted(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """A 2 MiB request (limit 1 MiB) is refused by gRPC before any handler runs."""
    huge = pb.CreateConnectionRequest(
        connection_name="x" * (2 * 2**20), provider_type=pb.PROVIDER_TYPE_GITHUB
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.CreateConnection(huge, metadata=bearer("editor"))
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
