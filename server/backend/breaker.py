"""Circuit breakers: while AWS keeps failing, fail fast instead of queueing more calls on it.

Closed, a breaker passes every call and counts consecutive upstream failures;
at the limit it opens. Open, it refuses calls for ``reset_after`` seconds.
Then it is half-open: exactly one call (the probe) goes through while the
others are still refused; the probe's success closes it, its failure opens it
again for another ``reset_after``.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from connfacade.server.domain import (
    AuditUnavailable,
    DeadlineExceeded,
    DomainError,
    Service,
    Throttled,
    Unavailable,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from connfacade.server.backend.protocol import AwsBackend
    from connfacade.server.metrics import Metrics

log = structlog.get_logger("connfacade.breaker")

CIRCUIT_OPEN = "CircuitOpen"  # ErrorInfo reason of a refused call
PROBE_WAIT = 1.0  # retry_after while a probe is in flight: its answer decides soon
# AWS codes that map to Unavailable but speak of one resource's state, not of AWS's health.
_RESOURCE_STATE_CODES = frozenset({"ResourceUnavailableException"})


class BreakerState(enum.IntEnum):
    """A breaker's state; the value is what the Prometheus gauge shows."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class Verdict(enum.Enum):
    """What one finished call says about AWS's health."""

    SUCCESS = "success"  # AWS answered (client errors included)
    FAILURE = "failure"  # AWS is unhealthy: throttling after retries, 5xx, unreachable
    NONE = "none"  # says nothing: the caller's deadline or cancellation


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """How many consecutive failures open a breaker (0: no breaker) and for how long."""

    failures: int = 5
    reset_after: float = 10.0  # seconds


@dataclass(frozen=True, slots=True)
class Admission:
    """A call let through; ``probe`` when it is the one call of a half-open breaker."""

    probe: bool


class CircuitBreaker:
    """The state machine of one breaker; the clock is injectable for tests."""

    def __init__(
        self,
        failures: int,
        reset_after: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str = "",
    ) -> None:
        if failures < 1:
            raise ValueError("a breaker needs failures >= 1")
        self.failures = failures
        self.reset_after = reset_after
        self.name = name
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None  # None: closed
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker turns half-open by the clock alone)."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def admit(self) -> Admission | None:
        """Lets a call through, or None when it must fail fast."""
        state = self.state
        if state is BreakerState.CLOSED:
            return Admission(probe=False)
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            log.info("breaker.probe", breaker=self.name)
            return Admission(probe=True)
        return None

    def retry_after(self) -> float:
        """Seconds until a refused call may be let through (as a probe)."""
        if self._opened_at is None:
            return 0.0
        left = self._opened_at + self.reset_after - self._clock()
        return left if left > 0 else PROBE_WAIT

    def record(self, admission: Admission, verdict: Verdict) -> None:
        """Takes the outcome of a call that ``admit`` let through."""
        if admission.probe:
            self._probing = False
            if verdict is Verdict.SUCCESS:
                self._close()
            elif verdict is Verdict.FAILURE:
                self._open()
            return  # no verdict: the next call probes
        if self._opened_at is not None:
            return  # a call let through before the breaker opened: only the probe decides now
        if verdict is Verdict.SUCCESS:
            self._consecutive = 0
        elif verdict is Verdict.FAILURE:
            self._consecutive += 1
            if self._consecutive >= self.failures:
                self._open()

    def _open(self) -> None:
        self._opened_at = self._clock()
        log.warning("breaker.opened", breaker=self.name, reset_after=self.reset_after)

    def _close(self) -> None:
        self._opened_at = None
        self._consecutive = 0
        log.info("breaker.closed", breaker=self.name)


def verdict_of(err: BaseException | None) -> Verdict:
    """Whether a call's outcome (None: success) counts against AWS's health."""
    if err is None:
        return Verdict.SUCCESS
    if not isinstance(err, DomainError) or isinstance(err, DeadlineExceeded | AuditUnavailable):
        # Cancelled, out of the caller's own time, refused for want of an audit record,
        # or a bug of ours: nothing learned about AWS.
        return Verdict.NONE
    if isinstance(err, Throttled):
        return Verdict.FAILURE
    if isinstance(err, Unavailable):
        return Verdict.SUCCESS if err.aws_code in _RESOURCE_STATE_CODES else Verdict.FAILURE
    return Verdict.SUCCESS  # AWS answered: not found, invalid, conflict, denied...


class BreakerBackend:
    """Wraps a backend with one breaker per AWS service; refused calls never reach ``inner``.

    It wraps the metered backend, so a refused call is counted as a fast
    failure, not as an upstream call.
    """

    def __init__(
        self,
        inner: AwsBackend,
        settings: BreakerSettings,
        *,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._metrics = metrics
        self.breakers = {
            s: CircuitBreaker(settings.failures, settings.reset_after, clock=clock, name=s.value)
            for s in Service
        }
        if metrics is not None:
            for service, breaker in self.breakers.items():
                metrics.track_breaker(service.value, breaker)

    async def call(self, service: Service, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Calls ``inner`` unless the service's breaker is open; then `Unavailable` at once."""
        breaker = self.breakers[service]
        admission = breaker.admit()
        if admission is None:
            if self._metrics is not None:
                self._metrics.breaker_fast_failures.labels(service.value).inc()
            raise Unavailable(
                f"{operation}: {service.value} has been failing; not calling AWS for now",
                retry_after=breaker.retry_after(),
                aws_code=CIRCUIT_OPEN,
            )
        try:
            response = await self._inner.call(service, operation, params)
        except BaseException as err:
            breaker.record(admission, verdict_of(err))
            raise
        breaker.record(admission, Verdict.SUCCESS)
        return response
