"""Tags in memory: a slow fetch never undoes a write-through; consistent reads never fall back.

Tags are learned per resource (not from listings), so their freshness rules are
pinned here on a cache with an injected fetch, step by step.
"""

from __future__ import annotations

import asyncio

import pytest

from connfacade.server import callcontext
from connfacade.server.domain import (
    Connection,
    ConnectionStatus,
    NotFound,
    ProviderType,
    Service,
    Tag,
    Unavailable,
)
from connfacade.server.store import ConnectionCache, StoreSettings
from connfacade.server.store.reads import ReadOptions

ARN = "arn:aws:apprunner:us-east-1:123456789012:connection/tagged/" + "0" * 32
TEAM = Tag("team", "web")
PROD = Tag("env", "prod")


async def no_listing():
    return []


@pytest.fixture
def cache():
    cache = ConnectionCache(Service.APPRUNNER, no_listing, StoreSettings(poll=False))
    connection = Connection(
        service=Service.APPRUNNER,
        arn=ARN,
        name="tagged",
        provider_type=ProviderType.GITHUB,
        status=ConnectionStatus.AVAILABLE,
    )
    cache.store.upsert(connection, tags=[TEAM])
    return cache


def reading(**options):
    callcontext.begin("test", read_options=ReadOptions(**options))


async def test_a_fetch_that_began_before_a_tag_write_through_does_not_undo_it(cache):
    """AWS's answer to a read begun before TagResource is older than the write-through: it is not kept."""
    reading(consistent=True)
    answered = asyncio.Event()

    async def slow_fetch():
        await answered.wait()
        return (TEAM,)  # what AWS had when it was asked

    read = asyncio.create_task(cache.tags(ARN, slow_fetch))
    await asyncio.sleep(0)
    cache.store.merge_tags(ARN, added=[PROD])  # TagResource(env=prod) answered meanwhile
    answered.set()
    assert await read == (TEAM,)
    assert set(cache.store.tags(ARN)[0]) == {TEAM, PROD}


async def test_a_consistent_tag_read_fails_rather_than_answer_from_memory(cache):
    """AWS unavailable: a consistent read raises, although memory holds tags within the stale limit."""
    reading(consistent=True)

    async def failing():
        raise Unavailable("AWS is down")

    with pytest.raises(Unavailable):
        await cache.tags(ARN, failing)


async def test_not_found_is_never_answered_with_remembered_tags(cache):
    """A definite answer from AWS wins over memory: the resource is gone, its old tags are not served."""
    reading(max_staleness=0)

    async def gone():
        raise NotFound("no such connection", resource_type="apprunner:connection", resource_name=ARN)

    with pytest.raises(NotFound):
        await cache.tags(ARN, gone)


async def test_an_unavailable_aws_is_answered_with_remembered_tags_marked_stale(cache):
    """The stale-if-error rule of listings holds for tags too, for reads that are not consistent."""
    reading(max_staleness=0)

    async def failing():
        raise Unavailable("AWS is down")

    assert await cache.tags(ARN, failing) == (TEAM,)
    assert callcontext.current().read_info.result.value == "stale"


def test_a_tag_write_through_does_not_make_old_tags_fresh(cache):
    """TagResource vouches for the keys it changed, not for the rest: their age stays."""
    learned_at = cache.store.tags(ARN)[1]
    cache.store.merge_tags(ARN, added=[PROD])
    assert cache.store.tags(ARN)[1] == learned_at
