"""List RPCs page through AWS, following tokens through empty pages."""

from __future__ import annotations

import grpc
import pytest
from status_details import details_of

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.server.operations.paging import ENDLESS, MAX_EMPTY_HOPS

CONSISTENT = (("x-connfacade-consistent-read", "true"),)


async def make_apprunner(apprunner, n):
    for i in range(n):
        await apprunner.CreateConnection(
            ar.CreateConnectionRequest(connection_name=f"conn-{i:03d}", provider_type=ar.PROVIDER_TYPE_GITHUB)
        )


async def test_apprunner_pages_cover_every_connection_once(apprunner):
    """Walking next_token with max_results visits each connection exactly once."""
    await make_apprunner(apprunner, 7)
    seen, token, pages = [], "", 0
    while True:
        page = await apprunner.ListConnections(ar.ListConnectionsRequest(max_results=3, next_token=token))
        assert len(page.connection_summary_list) <= 3
        seen += [c.connection_name for c in page.connection_summary_list]
        pages += 1
        token = page.next_token
        if not token:
            break
    assert sorted(seen) == [f"conn-{i:03d}" for i in range(7)]
    assert pages == 3


async def test_empty_aws_page_with_token_is_followed(apprunner, control):
    """When AWS answers an empty page with a NextToken, the facade asks again."""
    await make_apprunner(apprunner, 2)
    await control.clear_requests()
    await control.empty_pages(1)
    page = await apprunner.ListConnections(ar.ListConnectionsRequest())
    assert sorted(c.connection_name for c in page.connection_summary_list) == ["conn-000", "conn-001"]
    assert len(await control.requests(operation="ListConnections")) == 2


async def list_calls(control, service):
    return len(await control.requests(service=service, operation="ListConnections"))


async def test_consecutive_empty_pages_cost_one_aws_call_each(apprunner, control):
    """Two empty pages in a row (one position, so one token) cost two calls more, not a failed listing."""
    await make_apprunner(apprunner, 3)
    await control.clear_requests()
    await control.empty_pages(2)
    page = await apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=CONSISTENT)
    assert [c.connection_name for c in page.connection_summary_list] == ["conn-000", "conn-001", "conn-002"]
    assert await list_calls(control, "apprunner") == 3  # empty, empty, the items


async def test_a_listing_that_never_ends_is_unavailable_not_a_hang(apprunner, control):
    """Empty pages for ever end the read with UNAVAILABLE, RetryInfo and reason EndlessListing."""
    await control.empty_pages(None)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=CONSISTENT)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    details = details_of(caught.value)
    assert details["ErrorInfo"].reason == ENDLESS
    assert "RetryInfo" in details
    assert await list_calls(control, "apprunner") == MAX_EMPTY_HOPS + 1


async def test_codestar_connections_paginate(codestar):
    """CodeStar ListConnections pages with max_results and next_token."""
    for i in range(5):
        await codestar.CreateConnection(cs.CreateConnectionRequest(connection_name=f"c{i}", provider_type=1))
    first = await codestar.ListConnections(cs.ListConnectionsRequest(max_results=2))
    assert len(first.connections) == 2
    assert first.next_token
    rest = await codestar.ListConnections(
        cs.ListConnectionsRequest(max_results=10, next_token=first.next_token)
    )
    names = [c.connection_name for c in (*first.connections, *rest.connections)]
    assert sorted(names) == [f"c{i}" for i in range(5)]
    assert rest.next_token == ""


async def test_hosts_paginate(hosts):
    """ListHosts pages with max_results and next_token."""
    for i in range(3):
        await hosts.CreateHost(
            hs.CreateHostRequest(name=f"h{i}", provider_type=3, provider_endpoint="https://h")
        )
    first = await hosts.ListHosts(hs.ListHostsRequest(max_results=2))
    rest = await hosts.ListHosts(hs.ListHostsRequest(next_token=first.next_token))
    assert sorted(h.name for h in (*first.hosts, *rest.hosts)) == ["h0", "h1", "h2"]
