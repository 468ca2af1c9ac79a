"""The count of calls in flight behind each principal's fair share."""

from __future__ import annotations

import pytest

from connfacade.server.domain import RateLimited
from connfacade.server.security import CallCounts, Gate, Principal, Role

ALICE = Principal("alice", Role.EDITOR)
BOB = Principal("bob", Role.EDITOR)


def test_calls_up_to_the_limit_enter_and_the_next_is_refused():
    """Limit 3: three calls are in flight, the fourth is refused and not counted."""
    calls = CallCounts(3)
    for _ in range(3):
        calls.enter(ALICE)
    with pytest.raises(RateLimited) as refused:
        calls.enter(ALICE)
    assert refused.value.subject == "principal:alice:calls"
    assert refused.value.reason == "TOO_MANY_CALLS_IN_FLIGHT"
    assert calls.in_flight(ALICE) == 3


def test_a_call_that_ends_frees_its_slot():
    calls = CallCounts(1)
    calls.enter(ALICE)
    calls.leave(ALICE)
    calls.enter(ALICE)
    assert calls.in_flight(ALICE) == 1


def test_each_principal_has_its_own_share():
    """Alice at her limit does not stop Bob."""
    calls = CallCounts(1)
    calls.enter(ALICE)
    calls.enter(BOB)
    assert (calls.in_flight(ALICE), calls.in_flight(BOB)) == (1, 1)


def test_a_principals_own_max_calls_wins_over_the_default():
    calls = CallCounts(100)
    narrow = Principal("narrow", Role.VIEWER, max_calls=1)
    calls.enter(narrow)
    with pytest.raises(RateLimited):
        calls.enter(narrow)


def test_zero_means_no_limit():
    """No refusal however many calls, and nothing to count on the hot path."""
    calls = CallCounts(0)
    for _ in range(10_000):
        calls.enter(ALICE)
    calls.leave(ALICE)
    assert calls.in_flight(ALICE) == 0


def test_the_gate_counts_calls_but_not_watch_streams_or_waits():
    """Watches and waits are held open by design: the watcher limits count them instead."""
    gate = Gate(calls=CallCounts(1))
    gate.admit(ALICE, "WatchConnections")
    gate.admit(ALICE, "WaitForConnection")
    gate.admit(ALICE, "ListConnections")
    with pytest.raises(RateLimited):
        gate.admit(ALICE, "GetConnection")
    gate.release(ALICE, "ListConnections")
    gate.admit(ALICE, "GetConnection")


def test_a_call_the_role_refuses_is_not_counted():
    """A viewer's refused mutation leaves its share untouched."""
    viewer = Principal("viewer", Role.VIEWER)
    gate = Gate(calls=CallCounts(1))
    with pytest.raises(Exception, match="may not call"):
        gate.admit(viewer, "DeleteConnection")
    assert gate.calls.in_flight(viewer) == 0
