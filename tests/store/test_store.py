"""The store's table: diffs, revisions, history and write-through races."""

from __future__ import annotations

from connfacade.server.domain import Connection, ConnectionStatus, ProviderType, Service, Tag
from connfacade.server.store import EventType
from connfacade.server.store._table import Table


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def conn(name, status=ConnectionStatus.PENDING_HANDSHAKE, arn=None):
    return Connection(
        Service.CODESTAR,
        arn or f"arn:aws:codestar-connections:us-east-1:123456789012:connection/{name}",
        name,
        ProviderType.GITHUB,
        status,
    )


def new_store(history=100):
    clock = Clock()
    return Table(Service.CODESTAR, history_limit=history, clock=clock), clock


def test_first_listing_adds_every_connection_in_order():
    """A first listing yields one ADDED per connection, revisions 1..n."""
    store, clock = new_store()
    events = store.replace_all([conn("a"), conn("b")], started_at=clock())
    assert [(e.type, e.connection.name, e.revision) for e in events] == [
        (EventType.ADDED, "a", 1),
        (EventType.ADDED, "b", 2),
    ]
    assert store.revision == 2
    assert [c.name for c in store.connections()] == ["a", "b"]


def test_unchanged_listing_records_nothing():
    """Listing the same connections again changes nothing."""
    store, clock = new_store()
    store.replace_all([conn("a")], started_at=clock())
    assert store.replace_all([conn("a")], started_at=clock()) == []
    assert store.revision == 1


def test_status_change_is_modified_and_disappearance_is_deleted():
    """A changed connection is MODIFIED; a missing one is DELETED with status DELETED."""
    store, clock = new_store()
    store.replace_all([conn("a"), conn("b")], started_at=clock())
    events = store.replace_all([conn("a", ConnectionStatus.AVAILABLE)], started_at=clock())
    assert [(e.type, e.connection.name, e.connection.status) for e in events] == [
        (EventType.MODIFIED, "a", ConnectionStatus.AVAILABLE),
        (EventType.DELETED, "b", ConnectionStatus.DELETED),
    ]


def test_history_is_bounded():
    """Only the newest history_limit events are kept."""
    store, clock = new_store(history=3)
    store.replace_all([conn(str(i)) for i in range(5)], started_at=clock())
    assert [e.revision for e in store.history] == [3, 4, 5]


def test_codeconnections_arn_finds_the_same_connection():
    """Both CodeStar ARN prefixes name one entry."""
    store, clock = new_store()
    store.replace_all([conn("a")], started_at=clock())
    renamed = conn("a").arn.replace("codestar-connections", "codeconnections")
    assert store.get(renamed) == conn("a")


def test_write_through_after_a_listing_began_wins_over_it():
    """A create confirmed while a listing was under way is not undone by that listing."""
    store, clock = new_store()
    started = clock()
    clock.now += 1
    store.upsert(conn("new"))
    events = store.replace_all([], started_at=started)
    assert events == []
    assert store.get(conn("new").arn) is not None


def test_delete_after_a_listing_began_is_not_resurrected():
    """A delete confirmed while a listing was under way stays deleted."""
    store, clock = new_store()
    store.replace_all([conn("a")], started_at=clock())
    started = clock()
    clock.now += 1
    store.remove(conn("a").arn)
    assert store.replace_all([conn("a")], started_at=started) == []
    assert store.get(conn("a").arn) is None


def test_a_later_listing_sees_out_of_band_deletes_of_written_entries():
    """Once a listing starts after the write, it may delete the entry."""
    store, clock = new_store()
    store.upsert(conn("a"))
    clock.now += 1
    events = store.replace_all([], started_at=clock())
    assert [e.type for e in events] == [EventType.DELETED]


def test_listeners_get_each_batch():
    """Subscribers receive every batch of events; unsubscribing stops them."""
    store, clock = new_store()
    batches = []
    unsubscribe = store.subscribe(batches.append)
    store.replace_all([conn("a")], started_at=clock())
    store.upsert(conn("b"))
    unsubscribe()
    store.remove(conn("a").arn)
    assert [[e.connection.name for e in b] for b in batches] == [["a"], ["b"]]


def test_tags_merge_on_write_through():
    """Tag and untag write-through merge onto known tags and bump the revision."""
    store, _clock = new_store()
    store.upsert(conn("a"), tags=[Tag("k", "v")])
    before = store.revision
    store.merge_tags(conn("a").arn, added=[Tag("x", "y")], removed=["k"])
    assert store.tags(conn("a").arn)[0] == (Tag("x", "y"),)
    assert store.revision > before


def test_age_counts_from_the_last_complete_listing():
    """age() is None before the first listing, then seconds since it."""
    store, clock = new_store()
    assert store.age() is None
    store.replace_all([], started_at=clock())
    clock.now += 7
    assert store.age() == 7
