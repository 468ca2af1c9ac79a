"""The store's edge: the in-memory store is a `ConnectionStore`; a read takes options, returns its outcome."""

from __future__ import annotations

import pytest

from connfacade.server.domain import Connection, ConnectionStatus, ProviderType, Service
from connfacade.server.store import (
    SERVER_DEFAULTS,
    CacheResult,
    ConnectionStore,
    MemoryStore,
    ReadOptions,
    StoreSettings,
)

ARN = "arn:aws:apprunner:us-east-1:123456789012:connection/edge/" + "0" * 32
CONNECTION = Connection(
    service=Service.APPRUNNER,
    arn=ARN,
    name="edge",
    provider_type=ProviderType.GITHUB,
    status=ConnectionStatus.AVAILABLE,
)


@pytest.fixture
def listings():
    """How many times the store listed AWS."""
    return []


@pytest.fixture
def store(listings):
    async def lister():
        listings.append(1)
        return [CONNECTION]

    return MemoryStore(Service.APPRUNNER, lister, StoreSettings(poll=False))


def test_the_in_memory_store_offers_every_operation_of_the_edge(store):
    """MemoryStore implements ConnectionStore, the edge a shared store would implement too."""
    assert isinstance(store, ConnectionStore)


async def test_a_read_takes_its_options_and_returns_how_it_was_answered(store, listings):
    """A consistent read lists AWS (miss); a read with the server's defaults right after is a hit."""
    consistent = await store.get(ARN, ReadOptions(consistent=True))
    default = await store.get(ARN, SERVER_DEFAULTS)
    assert (consistent.value, consistent.info.result) == (CONNECTION, CacheResult.MISS)
    assert (default.value, default.info.result) == (CONNECTION, CacheResult.HIT)
    assert default.info.revision == consistent.info.revision == store.revision
    assert len(listings) == 1


async def test_each_read_outcome_reaches_the_observers(store):
    """What the metrics count: every read's result, as it was returned."""
    seen = []
    store.observe_reads(seen.append)
    results = [
        (await store.find("edge", ReadOptions(max_staleness=0))).info.result,
        (await store.find("nobody", SERVER_DEFAULTS)).info.result,
    ]
    assert seen == results == [CacheResult.MISS, CacheResult.HIT]


async def test_a_wait_for_a_connection_the_store_does_not_hold_finds_none(store):
    """Waiting for an unknown connection ends at once with no connection (the caller says NOT_FOUND)."""
    available = frozenset({ConnectionStatus.AVAILABLE})
    read = await store.wait(arn=ARN.replace("edge", "gone"), statuses=available, options=SERVER_DEFAULTS)
    assert read.value is None
    assert read.info.result is CacheResult.MISS
