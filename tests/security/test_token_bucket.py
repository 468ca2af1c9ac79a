"""The token bucket behind per-principal rate limits, on a clock the test moves."""

from __future__ import annotations

import pytest

from connfacade.server.domain import RateLimited
from connfacade.server.security import Principal, RateLimiter, Role


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


ALICE = Principal("alice", Role.VIEWER)


def test_a_full_bucket_allows_the_burst_then_refuses():
    """rate 2/s, burst 4: four calls pass at once, the fifth is refused."""
    limiter = RateLimiter(2, 4, clock=Clock())
    for _ in range(4):
        limiter.take(ALICE)
    with pytest.raises(RateLimited):
        limiter.take(ALICE)


def test_the_refusal_says_when_a_token_will_be_there():
    """Empty at 2/s: retry after half a second."""
    limiter = RateLimiter(2, 1, clock=Clock())
    limiter.take(ALICE)
    with pytest.raises(RateLimited) as caught:
        limiter.take(ALICE)
    assert caught.value.retry_after == pytest.approx(0.5)


def test_tokens_come_back_with_time():
    """After 1 s at 2/s, two more calls pass."""
    clock = Clock()
    limiter = RateLimiter(2, 2, clock=clock)
    limiter.take(ALICE)
    limiter.take(ALICE)
    clock.now += 1.0
    limiter.take(ALICE)
    limiter.take(ALICE)
    with pytest.raises(RateLimited):
        limiter.take(ALICE)


def test_saved_tokens_never_exceed_the_burst():
    """An hour idle saves up only `burst` calls."""
    clock = Clock()
    limiter = RateLimiter(1, 3, clock=clock)
    limiter.take(ALICE)
    clock.now += 3600
    for _ in range(3):
        limiter.take(ALICE)
    with pytest.raises(RateLimited):
        limiter.take(ALICE)


def test_a_rate_of_zero_is_unlimited():
    """The default: no bucket at all."""
    limiter = RateLimiter(0, 0, clock=Clock())
    for _ in range(10_000):
        limiter.take(ALICE)


def test_a_principal_limit_overrides_the_default():
    """A principal with rate_limit 1 and burst 1 is limited although the server default is none."""
    strict = Principal("strict", Role.VIEWER, rate_limit=1, rate_burst=1)
    limiter = RateLimiter(0, 0, clock=Clock())
    limiter.take(strict)
    with pytest.raises(RateLimited):
        limiter.take(strict)


def test_the_default_burst_is_one_second_of_calls():
    """rate 3/s with no burst set: three calls pass at once."""
    limiter = RateLimiter(3, 0, clock=Clock())
    for _ in range(3):
        limiter.take(ALICE)
    with pytest.raises(RateLimited):
        limiter.take(ALICE)
