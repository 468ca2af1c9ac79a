"""Failed authentications per peer: a token bucket each, on a clock the test moves."""

from __future__ import annotations

import pytest

from connfacade.server.security import FailureBudgets, TooManyFailures, peer_key


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def refusal(budgets: FailureBudgets, peer: str) -> TooManyFailures:
    """The refusal of one more failure of ``peer`` (which must be refused)."""
    with pytest.raises(TooManyFailures) as caught:
        budgets.failed(peer)
    return caught.value


@pytest.mark.parametrize(
    ("peer", "key"),
    [
        ("ipv4:10.0.0.7:51234", "ipv4:10.0.0.7"),
        ("ipv6:%5Bfd00::7%5D:51234", "ipv6:[fd00::7]"),
        ("ipv6:[::1]:8080", "ipv6:[::1]"),
        ("unix:", "unix"),
        ("unix:/var/run/connfacade/grpc.sock", "unix"),
        ("unix-abstract:connfacade", "unix-abstract"),
        ("something-else", "something-else"),
    ],
)
def test_a_peer_is_its_address_without_the_port(peer: str, key: str):
    """TCP peers by address (a new connection's port changes nothing); Unix-socket callers are one peer."""
    assert peer_key(peer) == key


def test_a_peer_may_fail_its_burst_then_is_refused():
    """rate 1/s, burst 3: three failures pass (UNAUTHENTICATED follows), the fourth is refused."""
    budgets = FailureBudgets(1, 3, clock=Clock())
    for _ in range(3):
        budgets.failed("ipv4:10.0.0.7")

    err = refusal(budgets, "ipv4:10.0.0.7")

    assert err.subject == "peer:ipv4:10.0.0.7"
    assert err.reason == "TOO_MANY_FAILED_AUTHENTICATIONS"
    assert err.retry_after == pytest.approx(1.0)


def test_peers_have_budgets_of_their_own():
    """One peer's spent budget leaves another's whole."""
    budgets = FailureBudgets(1, 1, clock=Clock())
    budgets.failed("ipv4:10.0.0.7")
    refusal(budgets, "ipv4:10.0.0.7")

    budgets.failed("ipv4:10.0.0.8")


def test_a_budget_refills_at_its_rate():
    """rate 2/s: half a second after the burst is spent, one more failure passes."""
    clock = Clock()
    budgets = FailureBudgets(2, 1, clock=clock)
    budgets.failed("unix")
    refusal(budgets, "unix")

    clock.now += 0.5

    budgets.failed("unix")


def test_refusals_are_noted_once_an_interval_counting_the_others():
    """The first refusal is noted; those in the next second are quiet; the next noted one counts them."""
    clock = Clock()
    budgets = FailureBudgets(0.001, 1, clock=clock)
    budgets.failed("unix")

    first = refusal(budgets, "unix")
    quiet = [refusal(budgets, "unix") for _ in range(5)]
    clock.now += FailureBudgets.NOTE_INTERVAL
    noted = refusal(budgets, "unix")

    assert (first.quiet, first.unnoted) == (False, 0)
    assert all(r.quiet for r in quiet)
    assert (noted.quiet, noted.unnoted) == (False, 5)


def test_a_rate_of_zero_never_refuses():
    """0 turns the limit off."""
    budgets = FailureBudgets(0, 1, clock=Clock())
    for _ in range(1000):
        budgets.failed("unix")
    assert budgets.peers() == 0


def test_the_peers_remembered_are_bounded_forgetting_the_least_recent():
    """At most max_peers buckets: a new peer beyond them drops the one that failed least recently."""
    budgets = FailureBudgets(0.001, 1, max_peers=2, clock=Clock())
    budgets.failed("a")
    budgets.failed("b")
    refusal(budgets, "a")  # a failed again: b is now the least recent

    budgets.failed("c")

    assert budgets.peers() == 2
    refusal(budgets, "a")  # still remembered, still spent
    budgets.failed("b")  # forgotten: a full burst again
