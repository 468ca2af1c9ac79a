"""Reads from memory: single flight, write-through, staleness, stale-if-error, pages.

Upstream calls are counted in the emulator's request log.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.client.errors import from_rpc_error
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.server.api.boundary import read_options_of
from connfacade.server.domain import InvalidArgument
from connfacade.server.store import StoreSettings

CONSISTENT = (("x-connfacade-consistent-read", "true"),)


def violated_fields(err):
    return [v.field for v in from_rpc_error(err).field_violations]


def staleness(ms):
    return (("x-connfacade-max-staleness-ms", str(ms)),)


async def lists(control, service=None):
    """How many ListConnections calls reached AWS."""
    return len(
        [
            r
            for r in await control.requests(operation="ListConnections")
            if service is None or r["Service"] == service
        ]
    )


async def create(apprunner, name):
    out = await apprunner.CreateConnection(
        ar.CreateConnectionRequest(connection_name=name, provider_type=ar.PROVIDER_TYPE_GITHUB)
    )
    return out.connection


async def answered(call):
    response = await call
    return response, dict(await call.trailing_metadata())


async def test_concurrent_cold_reads_cost_one_upstream_list(apprunner, control):
    """100 identical reads of a cold store share one AWS listing."""
    calls = [apprunner.ListConnections(ar.ListConnectionsRequest()) for _ in range(100)]
    await asyncio.gather(*calls)
    assert await lists(control) == 1
    results = [dict(await c.trailing_metadata())["x-connfacade-cache"] for c in calls]
    assert "miss" in results  # the rest joined that refresh or arrived after it
    assert set(results) <= {"miss", "hit"}


async def test_concurrent_cold_gets_cost_one_upstream_list(codestar, control):
    """Cold GetConnections, each of a different ARN, still share one listing."""
    arns = [
        (
            await codestar.CreateConnection(
                cs.CreateConnectionRequest(connection_name=f"c{i}", provider_type=1)
            )
        ).connection_arn
        for i in range(5)
    ]
    await control.clear_requests()
    got = await asyncio.gather(
        *[codestar.GetConnection(cs.GetConnectionRequest(connection_arn=a)) for a in arns * 20]
    )
    assert {g.connection.connection_arn for g in got} == set(arns)
    assert await lists(control) == 1


async def test_warm_reads_cost_no_upstream_call(apprunner, control):
    """Once the store is fresh, reads are answered from memory."""
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    await control.clear_requests()
    for _ in range(20):
        _, meta = await answered(apprunner.ListConnections(ar.ListConnectionsRequest()))
        assert meta["x-connfacade-cache"] == "hit"
    assert await control.requests() == []


async def test_write_through_is_visible_to_the_next_read_without_upstream_call(apprunner, control):
    """A connection created through the facade is readable at once, from memory."""
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    created = await create(apprunner, "written-through")
    await control.clear_requests()
    got, meta = await answered(
        apprunner.GetConnection(ar.GetConnectionRequest(connection_arn=created.connection_arn))
    )
    assert got.connection == created
    assert meta["x-connfacade-cache"] == "hit"
    assert await control.requests() == []


async def test_delete_write_through_is_visible_at_once(apprunner, control):
    """A connection deleted through the facade is gone from the next read."""
    created = await create(apprunner, "short-lived")
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    await apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=created.connection_arn))
    page = await apprunner.ListConnections(ar.ListConnectionsRequest())
    assert list(page.connection_summary_list) == []


async def test_tag_write_through_is_visible_without_upstream_call(apprunner, control):
    """Tags set through the facade are listed from memory."""
    created = await create(apprunner, "tagged")
    await apprunner.TagResource(
        ar.TagResourceRequest(resource_arn=created.connection_arn, tags=[ar.Tag(key="k", value="v")])
    )
    await control.clear_requests()
    tags, meta = await answered(
        apprunner.ListTagsForResource(ar.ListTagsForResourceRequest(resource_arn=created.connection_arn))
    )
    assert [(t.key, t.value) for t in tags.tags] == [("k", "v")]
    assert meta["x-connfacade-cache"] == "hit"
    assert await control.requests() == []


async def test_consistent_read_goes_upstream(apprunner, control):
    """x-connfacade-consistent-read: true always asks AWS."""
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    await control.clear_requests()
    _, meta = await answered(apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=CONSISTENT))
    assert meta["x-connfacade-cache"] == "miss"
    assert await lists(control) == 1


async def test_max_staleness_zero_goes_upstream(apprunner, control):
    """A per-call staleness of 0 ms refreshes before answering."""
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    await control.clear_requests()
    await asyncio.sleep(0.01)
    _, meta = await answered(apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=staleness(0)))
    assert meta["x-connfacade-cache"] == "miss"
    assert await lists(control) == 1


async def test_response_metadata_names_revision_and_age(apprunner):
    """Reads report the store's revision and age."""
    await create(apprunner, "conn-one")
    await create(apprunner, "conn-two")
    _, meta = await answered(apprunner.ListConnections(ar.ListConnectionsRequest()))
    assert int(meta["x-connfacade-revision"]) >= 2
    assert int(meta["x-connfacade-age-ms"]) >= 0


async def test_out_of_band_changes_are_seen_after_staleness(apprunner, control):
    """A handshake completed outside the facade shows once a read needs fresher data."""
    created = await create(apprunner, "out-of-band")
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    await control.complete_handshake(created.connection_arn, status="AVAILABLE")
    got = await apprunner.GetConnection(
        ar.GetConnectionRequest(connection_name="out-of-band"), metadata=staleness(0)
    )
    assert got.connection.status == ar.CONNECTION_STATUS_AVAILABLE


async def test_aws_failing_serves_stale_answers_marked_stale(apprunner, control):
    """When AWS fails, data within the stale limit is served and marked stale."""
    created = await create(apprunner, "survivor")
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    await control.inject_fault(operation="ListConnections", kind="throttle")
    got, meta = await answered(
        apprunner.GetConnection(
            ar.GetConnectionRequest(connection_arn=created.connection_arn), metadata=staleness(0)
        )
    )
    assert got.connection.connection_name == "survivor"
    assert meta["x-connfacade-cache"] == "stale"


async def test_consistent_read_does_not_fall_back_to_stale_data(apprunner, control):
    """A consistent read fails with the mapped error rather than answer from memory."""
    await apprunner.ListConnections(ar.ListConnectionsRequest())
    await control.inject_fault(operation="ListConnections", kind="throttle")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=CONSISTENT)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


class TestPastTheStaleLimit:
    @pytest.fixture
    def store_settings(self):
        return StoreSettings(poll=False, stale_limit=0.0)

    async def test_the_mapped_error_is_returned(self, apprunner, control):
        """Beyond the stale limit, a failing AWS fails the read with its mapped status."""
        await apprunner.ListConnections(ar.ListConnectionsRequest())
        await control.inject_fault(
            operation="ListConnections",
            kind="error",
            http_status=500,
            code="InternalServiceErrorException",
            message="down",
        )
        await asyncio.sleep(0.01)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=staleness(0))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_cold_store_with_aws_down_fails_with_the_mapped_error(apprunner, control):
    """With nothing in memory, there is nothing stale to serve."""
    await control.inject_fault(operation="ListConnections", kind="throttle")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(ar.ListConnectionsRequest())
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_forged_page_token_is_invalid_argument(apprunner):
    """A next_token the server did not issue names next_token in a BadRequest."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(ar.ListConnectionsRequest(next_token="forged-token"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "next_token" in caught.value.details()


async def test_page_token_of_another_filter_is_invalid_argument(codestar):
    """A token is bound to the filter of the listing that issued it."""
    for i in range(3):
        await codestar.CreateConnection(cs.CreateConnectionRequest(connection_name=f"c{i}", provider_type=1))
    first = await codestar.ListConnections(cs.ListConnectionsRequest(max_results=1))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await codestar.ListConnections(
            cs.ListConnectionsRequest(max_results=1, next_token=first.next_token, provider_type_filter=2)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_pages_are_stable_while_connections_are_added(apprunner):
    """Keyset pages neither skip nor repeat when connections are added mid-listing."""
    for i in range(4):
        await create(apprunner, f"conn-{i}")
    first = await apprunner.ListConnections(ar.ListConnectionsRequest(max_results=2))
    await create(apprunner, "conn-late")
    rest = await apprunner.ListConnections(ar.ListConnectionsRequest(next_token=first.next_token))
    names = [c.connection_name for c in (*first.connection_summary_list, *rest.connection_summary_list)]
    assert names == ["conn-0", "conn-1", "conn-2", "conn-3", "conn-late"]


@pytest.mark.parametrize(
    "value",
    ["soon", "-5", "1.5", "86400001", "1" + "0" * 320, "9" * 5000],
    ids=["word", "negative", "fraction", "over-a-day", "overflows-float", "past-int-limit"],
)
async def test_bad_max_staleness_is_invalid_argument_naming_the_key(apprunner, value):
    """A max staleness that is not 0 to 86,400,000 plain digits is refused, never INTERNAL."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(
            ar.ListConnectionsRequest(), metadata=(("x-connfacade-max-staleness-ms", value),)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(caught.value) == ["x-connfacade-max-staleness-ms"]


def test_a_non_ascii_digit_max_staleness_is_a_field_violation():
    """str.isdigit() admits '²', which int() refuses: the parse must not raise anything else.

    gRPC's Python client cannot send non-ASCII metadata, so this is checked on the parser itself.
    """
    with pytest.raises(InvalidArgument) as caught:
        read_options_of({"x-connfacade-max-staleness-ms": "\u00b2"})
    assert [v.field for v in caught.value.violations] == ["x-connfacade-max-staleness-ms"]


async def test_a_max_staleness_of_a_day_with_leading_zeros_is_accepted(apprunner):
    """Leading zeros do not count against the length; a day is the largest staleness."""
    await apprunner.ListConnections(
        ar.ListConnectionsRequest(), metadata=(("x-connfacade-max-staleness-ms", "00086400000"),)
    )


async def test_a_bad_consistent_read_value_is_invalid_argument_naming_the_key(apprunner):
    """Only 'true' and 'false' are consistent-read values."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(
            ar.ListConnectionsRequest(), metadata=(("x-connfacade-consistent-read", "yes"),)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(caught.value) == ["x-connfacade-consistent-read"]
