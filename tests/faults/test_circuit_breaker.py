"""The circuit breaker on a real facade: it opens on AWS failures, fails fast, probes, closes.

AWS failures are injected as 503 answers of the emulator; whether a call
reached AWS is read from the emulator's request log, the breaker's state from
the facade's metrics.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest
from fault_helpers import aws_requests, create, error_info, eventually, failing, metric, retry_info

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.codestar.v1 import types_pb2 as cs_types
from connfacade.server.backend.breaker import CIRCUIT_OPEN, BreakerSettings, BreakerState
from connfacade.server.store import PollIntervals, StoreSettings

FAILURES = 3
LONG_RESET = 60.0  # never reached within a test
SHORT_RESET = 2.0  # waited for
ALWAYS_REFRESH = (("x-connfacade-max-staleness-ms", "0"),)
UNKNOWN_ARN = "arn:aws:apprunner:us-east-1:123456789012:connection/nobody/" + "0" * 32


@pytest.fixture
def max_attempts():
    return 1  # one AWS failure per call, so the calls count the failures


@pytest.fixture
def breaker():
    return BreakerSettings(failures=FAILURES, reset_after=LONG_RESET)


def state(facade, service="apprunner"):
    return BreakerState(int(metric(facade, "connfacade_breaker_state", service=service)))


async def fail_aws(control):
    """Every App Runner call answers 503 from now on."""
    await control.inject_fault(
        service="apprunner", operation="*", kind="error", http_status=503, code="ServiceUnavailableException"
    )


async def open_breaker(apprunner, control, facade):
    await fail_aws(control)
    for i in range(FAILURES):
        err = await failing(apprunner.CreateConnection(create(f"fails-{i}")))
        assert error_info(err).reason == "ServiceUnavailableException"  # AWS's own answer
    assert state(facade) is BreakerState.OPEN


async def warm(apprunner):
    await apprunner.CreateConnection(create("known"))
    await apprunner.ListConnections(ar.ListConnectionsRequest())


async def cache_of(call):
    await call
    return dict(await call.trailing_metadata())["x-connfacade-cache"]


async def test_consecutive_aws_failures_open_the_breaker_and_mutations_fail_fast(apprunner, control, facade):
    """After N failures a mutation is UNAVAILABLE at once, with RetryInfo and reason CircuitOpen."""
    await open_breaker(apprunner, control, facade)
    reached = await aws_requests(control)
    err = await failing(apprunner.CreateConnection(create("refused")))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(err).reason == CIRCUIT_OPEN
    assert 0 < retry_info(err).retry_delay.ToTimedelta().total_seconds() <= LONG_RESET
    assert await aws_requests(control) == reached
    assert metric(facade, "connfacade_breaker_fast_failures_total", service="apprunner") == 1
    upstream = metric(
        facade,
        "connfacade_upstream_calls_total",
        service="apprunner",
        operation="CreateConnection",
        outcome="ServiceUnavailableException",
    )
    assert upstream == FAILURES  # the refused call is no upstream call


async def test_reads_are_answered_stale_from_memory_while_the_breaker_is_open(apprunner, control, facade):
    """With the breaker open, a read that wants fresh data is answered from the store, marked stale."""
    await warm(apprunner)
    await open_breaker(apprunner, control, facade)
    await control.clear_requests()
    call = apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=ALWAYS_REFRESH)
    assert await cache_of(call) == "stale"
    assert [c.connection_name for c in (await call).connection_summary_list] == ["known"]
    assert await aws_requests(control) == 0


async def test_one_services_open_breaker_does_not_stop_the_other(apprunner, codestar, control, facade):
    """Breakers are per service: App Runner failing leaves CodeStar calls going to AWS."""
    await open_breaker(apprunner, control, facade)
    created = await codestar.CreateConnection(
        cs.CreateConnectionRequest(connection_name="still-fine", provider_type=cs_types.PROVIDER_TYPE_GITHUB)
    )
    assert created.connection_arn
    assert state(facade, "codestar-connections") is BreakerState.CLOSED


async def test_host_reads_fail_fast_while_the_codestar_breaker_is_open(codestar, hosts, control, facade):
    """Hosts have no store to answer from: with CodeStar's breaker open, GetHost fails fast too."""
    host_arn = (
        await hosts.CreateHost(
            hs.CreateHostRequest(
                name="ghes",
                provider_type=cs_types.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER,
                provider_endpoint="https://ghes.example.com",
            )
        )
    ).host_arn
    await control.inject_fault(
        service="codestar-connections",
        operation="*",
        kind="error",
        http_status=503,
        code="ServiceUnavailableException",
    )
    for i in range(FAILURES):
        await failing(
            codestar.CreateConnection(
                cs.CreateConnectionRequest(
                    connection_name=f"fails-{i}", provider_type=cs_types.PROVIDER_TYPE_GITHUB
                )
            )
        )
    assert state(facade, "codestar-connections") is BreakerState.OPEN
    reached = len(await control.requests(service="codestar-connections"))
    err = await failing(hosts.GetHost(hs.GetHostRequest(host_arn=host_arn)))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(err).reason == CIRCUIT_OPEN
    assert len(await control.requests(service="codestar-connections")) == reached


async def test_client_errors_do_not_open_the_breaker(apprunner, control, facade):
    """NOT_FOUND from AWS, again and again, is AWS answering: the breaker stays closed."""
    for _ in range(FAILURES + 2):
        err = await failing(
            apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=UNKNOWN_ARN))
        )
        assert err.code() == grpc.StatusCode.NOT_FOUND
    assert state(facade) is BreakerState.CLOSED
    assert await apprunner.CreateConnection(create("goes-through"))


class TestRecovery:
    @pytest.fixture
    def breaker(self):
        return BreakerSettings(failures=FAILURES, reset_after=SHORT_RESET)

    async def half_open(self, facade):
        async def probing_allowed():
            return state(facade) is BreakerState.HALF_OPEN

        await eventually(probing_allowed)

    async def test_after_the_reset_period_a_successful_probe_closes_the_breaker(
        self, apprunner, control, facade
    ):
        """Half-open, one read reaches AWS; AWS answers, the breaker closes and reads are fresh again."""
        await warm(apprunner)
        await open_breaker(apprunner, control, facade)
        await control.clear_faults()
        await self.half_open(facade)
        await control.clear_requests()
        read = apprunner.ListConnections(ar.ListConnectionsRequest(), metadata=ALWAYS_REFRESH)
        assert await cache_of(read) == "miss"
        assert await aws_requests(control, "ListConnections") == 1
        assert state(facade) is BreakerState.CLOSED
        assert await apprunner.CreateConnection(create("after-recovery"))

    async def test_a_failed_probe_opens_the_breaker_again(self, apprunner, control, facade):
        """Half-open with AWS still failing: the probe reaches AWS and fails; the next call fails fast."""
        await open_breaker(apprunner, control, facade)
        await self.half_open(facade)
        await control.clear_requests()
        probe = await failing(apprunner.CreateConnection(create("probe")))
        assert error_info(probe).reason == "ServiceUnavailableException"
        after = await failing(apprunner.CreateConnection(create("after-probe")))
        assert error_info(after).reason == CIRCUIT_OPEN
        assert await aws_requests(control) == 1

    async def test_while_the_probe_is_in_flight_other_calls_fail_fast(self, apprunner, control, facade):
        """Half-open lets exactly one call through: others fail fast until the probe has answered."""
        await open_breaker(apprunner, control, facade)
        await control.clear_faults()
        await control.inject_fault(operation="CreateConnection", kind="latency", latency_ms=5000, count=1)
        await self.half_open(facade)
        await control.clear_requests()
        probe = asyncio.ensure_future(apprunner.CreateConnection(create("slow-probe")))

        async def probe_reached_aws():
            return not await control.faults()  # the latency fault is used up on arrival

        await eventually(probe_reached_aws)
        other = await failing(apprunner.CreateConnection(create("meanwhile")))
        assert error_info(other).reason == CIRCUIT_OPEN
        assert (await probe).connection.connection_name == "slow-probe"
        assert state(facade) is BreakerState.CLOSED
        assert await aws_requests(control, "CreateConnection") == 1


class TestPoller:
    @pytest.fixture
    def breaker(self):
        return BreakerSettings(failures=FAILURES, reset_after=SHORT_RESET)

    @pytest.fixture
    def store_settings(self):
        return StoreSettings(intervals=PollIntervals(fast=0.1, slow=0.1, jitter=0.0, max_backoff=0.4))

    async def test_polls_open_the_breaker_and_a_poll_probes_it_closed(self, control, facade):
        """Polls go through the breaker: failing polls open it, and once AWS recovers a poll closes it."""

        async def is_(wanted):
            return state(facade) is wanted

        await fail_aws(control)
        await eventually(lambda: is_(BreakerState.OPEN))
        await control.clear_faults()
        await eventually(lambda: is_(BreakerState.CLOSED))
