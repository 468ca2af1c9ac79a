"""Tags in memory: a slow fetch never undoes a write-through; consistent reads never fall back.

Tags are learned per resource (not from listings), so their freshness rules are
pinned here on a store with an injected fetch, step by step.
"""

from __future__ import annotations

import asyncio

import pytest

from connfacade.server.domain import (
    Connection,
    ConnectionStatus,
    NotFound,
    ProviderType,
    Service,
    Tag,
    Unavailable,
)
from connfacade.server.store import CacheResult, MemoryStore, ReadOptions, StoreSettings

ARN = "arn:aws:apprunner:us-east-1:123456789012:connection/tagged/" + "0" * 32
TEAM = Tag("team", "web")
PROD = Tag("env", "prod")


async def no_listing():
    return []


CONSISTENT = ReadOptions(consistent=True)
ALWAYS_ASK = ReadOptions(max_staleness=0)


@pytest.fixture
def store():
    store = MemoryStore(Service.APPRUNNER, no_listing, StoreSettings(poll=False))
    connection = Connection(
        service=Service.APPRUNNER,
        arn=ARN,
        name="tagged",
        provider_type=ProviderType.GITHUB,
        status=ConnectionStatus.AVAILABLE,
    )
    store.upsert(connection, tags=[TEAM])
    return store


def remembered(store):
    return store._table.tags(ARN)


async def test_a_fetch_that_began_before_a_tag_write_through_does_not_undo_it(store):
    """AWS's answer to a read begun before TagResource is older than the write-through: it is not kept."""
    answered = asyncio.Event()

    async def slow_fetch():
        await answered.wait()
        return (TEAM,)  # what AWS had when it was asked

    read = asyncio.create_task(store.tags(ARN, slow_fetch, CONSISTENT))
    await asyncio.sleep(0)
    store.merge_tags(ARN, added=[PROD])  # TagResource(env=prod) answered meanwhile
    answered.set()
    assert (await read).value == (TEAM,)
    assert set(remembered(store)[0]) == {TEAM, PROD}


async def test_a_consistent_tag_read_fails_rather_than_answer_from_memory(store):
    """AWS unavailable: a consistent read raises, although memory holds tags within the stale limit."""

    async def failing():
        raise Unavailable("AWS is down")

    with pytest.raises(Unavailable):
        await store.tags(ARN, failing, CONSISTENT)


async def test_not_found_is_never_answered_with_remembered_tags(store):
    """A definite answer from AWS wins over memory: the resource is gone, its old tags are not served."""

    async def gone():
        raise NotFound("no such connection", resource_type="apprunner:connection", resource_name=ARN)

    with pytest.raises(NotFound):
        await store.tags(ARN, gone, ALWAYS_ASK)


async def test_an_unavailable_aws_is_answered_with_remembered_tags_marked_stale(store):
    """The stale-if-error rule of listings holds for tags too, for reads that are not consistent."""

    async def failing():
        raise Unavailable("AWS is down")

    read = await store.tags(ARN, failing, ALWAYS_ASK)
    assert read.value == (TEAM,)
    assert read.info.result is CacheResult.STALE


def test_a_tag_write_through_does_not_make_old_tags_fresh(store):
    """TagResource vouches for the keys it changed, not for the rest: their age stays."""
    learned_at = remembered(store)[1]
    store.merge_tags(ARN, added=[PROD])
    assert remembered(store)[1] == learned_at
