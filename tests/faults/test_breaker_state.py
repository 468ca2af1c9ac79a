"""The circuit breaker's state machine, on a clock the tests move by hand."""

from __future__ import annotations

import pytest

from connfacade.server.backend.breaker import BreakerState, CircuitBreaker, Verdict, verdict_of
from connfacade.server.domain import (
    AuthenticationFailed,
    Conflict,
    DeadlineExceeded,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Throttled,
    Unavailable,
    UpstreamInternal,
)

FAILURES = 3
RESET = 10.0
NAME = lambda e: type(e).__name__  # noqa: E731 - a test id, named once


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def breaker(clock):
    return CircuitBreaker(FAILURES, RESET, clock=clock)


def fail(breaker, times=1):
    for _ in range(times):
        breaker.record(breaker.admit(), Verdict.FAILURE)


def opened(breaker):
    fail(breaker, FAILURES)
    assert breaker.state is BreakerState.OPEN
    return breaker


def test_a_new_breaker_is_closed_and_lets_calls_through(breaker):
    """Closed: every call is admitted, none as a probe."""
    assert breaker.state is BreakerState.CLOSED
    assert breaker.admit().probe is False


def test_fewer_consecutive_failures_than_the_limit_keep_it_closed(breaker):
    """One failure short of the limit, calls still go through."""
    fail(breaker, FAILURES - 1)
    assert breaker.state is BreakerState.CLOSED


def test_the_limit_of_consecutive_failures_opens_it(breaker):
    """N consecutive failures open the breaker; the next call is refused."""
    fail(breaker, FAILURES)
    assert breaker.state is BreakerState.OPEN
    assert breaker.admit() is None


def test_a_success_resets_the_count_of_consecutive_failures(breaker):
    """Failures must be consecutive: a success in between starts the count again."""
    fail(breaker, FAILURES - 1)
    breaker.record(breaker.admit(), Verdict.SUCCESS)
    fail(breaker, FAILURES - 1)
    assert breaker.state is BreakerState.CLOSED


def test_calls_without_a_verdict_neither_count_nor_reset(breaker):
    """A call cut short by its caller says nothing: the count stays where it was."""
    fail(breaker, FAILURES - 1)
    breaker.record(breaker.admit(), Verdict.NONE)
    fail(breaker)
    assert breaker.state is BreakerState.OPEN


def test_an_open_breaker_says_when_a_probe_may_go(breaker, clock):
    """retry_after counts down to the end of the reset period."""
    opened(breaker)
    clock.now += 4
    assert breaker.retry_after() == pytest.approx(RESET - 4)


def test_after_the_reset_period_it_is_half_open_and_admits_one_probe(breaker, clock):
    """Half-open: exactly one call goes through, as the probe; the others are refused."""
    opened(breaker)
    clock.now += RESET
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.admit().probe is True
    assert breaker.admit() is None
    assert breaker.admit() is None


def test_a_successful_probe_closes_it(breaker, clock):
    """The probe's success closes the breaker and clears the failure count."""
    opened(breaker)
    clock.now += RESET
    breaker.record(breaker.admit(), Verdict.SUCCESS)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker, FAILURES - 1)
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_probe_opens_it_for_another_reset_period(breaker, clock):
    """The probe's failure re-opens the breaker, counted from the probe's failure."""
    opened(breaker)
    clock.now += RESET + 5
    breaker.record(breaker.admit(), Verdict.FAILURE)
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_after() == pytest.approx(RESET)


def test_a_probe_without_a_verdict_lets_the_next_call_probe(breaker, clock):
    """A probe its caller gave up on decides nothing; the next call becomes the probe."""
    opened(breaker)
    clock.now += RESET
    breaker.record(breaker.admit(), Verdict.NONE)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.admit().probe is True


def test_late_answers_of_calls_admitted_while_closed_do_not_decide(breaker, clock):
    """Only the probe closes or re-opens: a slow call let through before the breaker opened does not."""
    early = breaker.admit()
    opened(breaker)
    clock.now += RESET
    breaker.record(early, Verdict.SUCCESS)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.admit().probe is True


def test_a_breaker_needs_a_positive_limit():
    """failures=0 means no breaker at all, which is the facade's business, not the breaker's."""
    with pytest.raises(ValueError, match="failures"):
        CircuitBreaker(0, RESET)


@pytest.mark.parametrize(
    "err",
    [
        Throttled("slow down"),
        UpstreamInternal("boom", aws_code="InternalServiceErrorException"),
        Unavailable("unreachable", aws_code="ConnectionError"),
        Unavailable("timed out", aws_code="Timeout"),
    ],
    ids=["throttled", "5xx", "unreachable", "timeout"],
)
def test_upstream_health_failures_count_against_aws(err):
    """Throttling after retries, 5xx and transport failures are failures."""
    assert verdict_of(err) is Verdict.FAILURE


@pytest.mark.parametrize(
    "err",
    [
        NotFound("gone", resource_type="apprunner:connection", resource_name="x"),
        InvalidRequest("bad"),
        Conflict("in use"),
        PermissionDenied("no"),
        AuthenticationFailed("who"),
        QuotaExceeded("full", subject="apprunner:CreateConnection"),
        Unavailable("host not ready", aws_code="ResourceUnavailableException"),
    ],
    ids=NAME,
)
def test_client_errors_show_aws_answering(err):
    """AWS answered, even if with an error about the request: that counts as success."""
    assert verdict_of(err) is Verdict.SUCCESS


@pytest.mark.parametrize(
    "err", [DeadlineExceeded("late"), RuntimeError("bug")], ids=lambda e: type(e).__name__
)
def test_the_callers_deadline_says_nothing_about_aws(err):
    """The caller's own deadline (or a bug of ours) is neither failure nor success."""
    assert verdict_of(err) is Verdict.NONE


def test_success_is_success():
    """A call that returned counts as success."""
    assert verdict_of(None) is Verdict.SUCCESS
