"""Paginators follow next_token through empty pages and stop on a repeated token."""

from __future__ import annotations

import pytest
from scripted_server import APPRUNNER, CODESTAR, HOSTS, paged

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.client import aio, sync
from connfacade.client.errors import PaginationError
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import host_service_pb2 as host_pb2
from connfacade.codestar.v1 import types_pb2


def _apprunner(*names):
    return [apprunner_pb2.Connection(connection_name=n) for n in names]


# An empty page that still carries a token, as App Runner is known to return.
_APPRUNNER_PAGES = {
    "": (_apprunner("a", "b"), "t1"),
    "t1": ([], "t2"),
    "t2": (_apprunner("c"), ""),
}


async def test_async_items_across_pages_and_an_empty_one(scripted_server):
    """Items of every page, in order; an empty page with a token does not end the listing."""
    scripted_server.on(
        APPRUNNER,
        "ListConnections",
        paged(apprunner_pb2.ListConnectionsResponse, "connection_summary_list", _APPRUNNER_PAGES),
    )
    async with aio.AppRunnerClient(scripted_server.target) as client:
        names = [
            c.connection_name async for c in client.paginate_connections(connection_name="", page_size=2)
        ]
    assert names == ["a", "b", "c"]
    requests = [call.request for call in scripted_server.calls]
    assert [r.next_token for r in requests] == ["", "t1", "t2"]
    assert all(r.max_results == 2 for r in requests)


async def test_async_pages(scripted_server):
    """pages() yields every response, empty ones included."""
    scripted_server.on(
        APPRUNNER,
        "ListConnections",
        paged(apprunner_pb2.ListConnectionsResponse, "connection_summary_list", _APPRUNNER_PAGES),
    )
    async with aio.AppRunnerClient(scripted_server.target) as client:
        pages = [page async for page in client.paginate_connections().pages()]
    assert [len(p.connection_summary_list) for p in pages] == [2, 0, 1]
    assert all(isinstance(p, apprunner_pb2.ListConnectionsResponse) for p in pages)
    assert not scripted_server.calls[0].request.HasField("max_results")


async def test_async_repeated_token_raises(scripted_server):
    """A server that hands back a token twice stops the paginator with a clear error."""
    scripted_server.on(
        HOSTS,
        "ListHosts",
        paged(
            host_pb2.ListHostsResponse, "hosts", {"": ([host_pb2.Host(name="h1")], "t1"), "t1": ([], "t1")}
        ),
    )
    seen = []

    async def collect(paginator):
        async for host in paginator:
            seen.append(host.name)  # noqa: PERF401 - the items before the error matter

    async with aio.CodeStarConnectionsClient(scripted_server.target) as client:
        with pytest.raises(PaginationError, match="'t1' a second time"):
            await collect(client.paginate_hosts())
    assert seen == ["h1"]
    assert len(scripted_server.calls) == 2


async def test_async_filters_are_sent_on_every_page(scripted_server):
    """CodeStar filters (enum by name) go with every page request."""
    scripted_server.on(
        CODESTAR,
        "ListConnections",
        paged(
            codestar_pb2.ListConnectionsResponse,
            "connections",
            {"": ([codestar_pb2.Connection(connection_name="x")], "n"), "n": ([], "")},
        ),
    )
    async with aio.CodeStarConnectionsClient(scripted_server.target) as client:
        items = await client.paginate_connections(
            provider_type_filter="gitlab", host_arn_filter="arn:h"
        ).to_list()
    assert [c.connection_name for c in items] == ["x"]
    for call in scripted_server.calls:
        assert call.request.provider_type_filter == types_pb2.PROVIDER_TYPE_GITLAB
        assert call.request.host_arn_filter == "arn:h"


async def test_async_bad_filter_fails_when_the_paginator_is_made(scripted_server):
    """An unknown provider name fails at paginate_connections(), not at the first page."""
    async with aio.CodeStarConnectionsClient(scripted_server.target) as client:
        with pytest.raises(ValueError, match="SVN"):
            client.paginate_connections(provider_type_filter="SVN")
    assert scripted_server.calls == []


def test_sync_items_pages_and_restart(scripted_server):
    """The sync paginator yields the same items; each iteration starts a fresh listing."""
    scripted_server.on(
        APPRUNNER,
        "ListConnections",
        paged(apprunner_pb2.ListConnectionsResponse, "connection_summary_list", _APPRUNNER_PAGES),
    )
    with sync.AppRunnerClient(scripted_server.target) as client:
        paginator = client.paginate_connections()
        assert [c.connection_name for c in paginator] == ["a", "b", "c"]
        assert [len(p.connection_summary_list) for p in paginator.pages()] == [2, 0, 1]
    assert len(scripted_server.calls) == 6


def test_sync_repeated_token_raises(scripted_server):
    """A token repeated after others (a cycle, not just a stuck page) is caught too."""
    scripted_server.on(
        CODESTAR,
        "ListConnections",
        paged(
            codestar_pb2.ListConnectionsResponse,
            "connections",
            {"": ([], "a"), "a": ([], "b"), "b": ([], "a")},
        ),
    )
    with sync.CodeStarConnectionsClient(scripted_server.target) as client, pytest.raises(PaginationError):
        client.paginate_connections().to_list()
    assert len(scripted_server.calls) == 3


def test_sync_single_page(scripted_server):
    """No token on the first page: one call."""
    with sync.CodeStarConnectionsClient(scripted_server.target) as client:
        assert client.paginate_hosts(page_size=10).to_list() == []
    assert len(scripted_server.calls) == 1
    assert scripted_server.calls[0].request.max_results == 10
