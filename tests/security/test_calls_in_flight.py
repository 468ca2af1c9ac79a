"""Calls in flight per principal: one caller cannot take the server from the others.

The facade is built from `Settings` through `build_access`, as `connfacade
serve` builds it. AWS is made slow (the emulator's latency fault) so that a
flood of consistent reads really is in flight at once.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2
from rpc_details import detail

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.client import errors
from connfacade.client.aio import AppRunnerClient
from connfacade.server import config
from connfacade.server.access import build_access
from connfacade.server.app import start_facade
from connfacade.server.security import hash_token

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from connfacade.server.app import RunningFacade
    from connfacade.server.backend import AioBotoBackend
    from connfacade.server.emulator import EmulatorControl
    from connfacade.server.store import StoreSettings

LIMIT = 8  # --max-calls-per-principal of the facade under test
FLOOD = 60
TOKENS = {"flooder": "flooder-token-0123456789abcdef", "other": "other-token-0123456789abcdef"}
NARROW_TOKEN = "narrow-token-0123456789abcdef"  # a principal whose own max_calls is 1
PRINCIPALS = "".join(
    f'[[principals]]\nname = "{name}"\nrole = "editor"\ntoken_sha256 = "{hash_token(token)}"\n'
    for name, token in TOKENS.items()
) + (
    f'[[principals]]\nname = "narrow"\nrole = "viewer"\n'
    f'token_sha256 = "{hash_token(NARROW_TOKEN)}"\nmax_calls = 1\n'
)
CONSISTENT = (("x-connfacade-consistent-read", "true"),)
LIST = pb.ListConnectionsRequest()


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


@pytest.fixture
async def facade(
    backend: AioBotoBackend, store_settings: StoreSettings, tmp_path: Path
) -> AsyncIterator[RunningFacade]:
    path = tmp_path / "principals.toml"
    path.write_text(PRINCIPALS)
    settings = config.Settings(
        listen=("127.0.0.1:0",), principals_file=str(path), max_calls_per_principal=LIMIT
    )
    running = await start_facade(
        backend, settings.listen, store_settings=store_settings, access=build_access(settings)
    )
    yield running
    await running.stop(0)


@pytest.fixture
async def slow_aws(control: EmulatorControl) -> None:
    """Every ListConnections takes AWS 300 ms."""
    await control.inject_fault(operation="ListConnections", kind="latency", latency_ms=300)


async def outcome(call) -> grpc.StatusCode | grpc.aio.AioRpcError:
    """OK, or the error the call ended with."""
    try:
        await call
    except grpc.aio.AioRpcError as err:
        return err
    return grpc.StatusCode.OK


async def test_a_flooding_principal_is_refused_while_another_is_served(
    apprunner: pb_grpc.ConnectionServiceStub, slow_aws: None
):
    """60 consistent reads at once: some of the flooder's are RESOURCE_EXHAUSTED; the other's 5 succeed."""
    flood = [
        outcome(apprunner.ListConnections(LIST, metadata=bearer(TOKENS["flooder"]) + CONSISTENT, timeout=30))
        for _ in range(FLOOD)
    ]
    others = [
        outcome(apprunner.ListConnections(LIST, metadata=bearer(TOKENS["other"]), timeout=30))
        for _ in range(5)
    ]

    results = await asyncio.gather(*flood, *others)

    flooded, served = results[:FLOOD], results[FLOOD:]
    assert served == [grpc.StatusCode.OK] * 5
    refused = [r for r in flooded if r is not grpc.StatusCode.OK]
    assert refused
    assert all(err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED for err in refused)
    assert len(refused) <= FLOOD - LIMIT  # at least LIMIT of the flood got through


async def test_a_refusal_says_which_quota_and_when_to_retry(
    apprunner: pb_grpc.ConnectionServiceStub, slow_aws: None
):
    """QuotaFailure subject `principal:NAME:calls`, RetryInfo, ErrorInfo `TOO_MANY_CALLS_IN_FLIGHT`."""
    results = await asyncio.gather(
        *(
            outcome(
                apprunner.ListConnections(LIST, metadata=bearer(TOKENS["flooder"]) + CONSISTENT, timeout=30)
            )
            for _ in range(LIMIT + 4)
        )
    )
    err = next(r for r in results if r is not grpc.StatusCode.OK)

    quota = detail(err, error_details_pb2.QuotaFailure)
    retry = detail(err, error_details_pb2.RetryInfo)
    info = detail(err, error_details_pb2.ErrorInfo)
    assert quota is not None
    assert quota.violations[0].subject == "principal:flooder:calls"
    assert retry is not None
    assert retry.retry_delay.ToTimedelta().total_seconds() > 0
    assert info is not None
    assert info.reason == "TOO_MANY_CALLS_IN_FLIGHT"


async def test_calls_that_ended_free_their_slots(apprunner: pb_grpc.ConnectionServiceStub, slow_aws: None):
    """After a refused flood has ended, the same principal's calls succeed again."""
    await asyncio.gather(
        *(
            outcome(
                apprunner.ListConnections(LIST, metadata=bearer(TOKENS["flooder"]) + CONSISTENT, timeout=30)
            )
            for _ in range(LIMIT * 2)
        )
    )

    again = await asyncio.gather(
        *(
            outcome(apprunner.ListConnections(LIST, metadata=bearer(TOKENS["flooder"]), timeout=30))
            for _ in range(LIMIT)
        )
    )

    assert again == [grpc.StatusCode.OK] * LIMIT


async def test_a_principals_own_max_calls_wins(apprunner: pb_grpc.ConnectionServiceStub, slow_aws: None):
    """`narrow` (max_calls = 1): of two calls at once, one is refused."""
    results = await asyncio.gather(
        *(
            outcome(apprunner.ListConnections(LIST, metadata=bearer(NARROW_TOKEN) + CONSISTENT, timeout=30))
            for _ in range(2)
        )
    )

    assert sorted(r is grpc.StatusCode.OK for r in results) == [False, True]


async def test_watch_streams_do_not_count_as_calls_in_flight(apprunner: pb_grpc.ConnectionServiceStub):
    """`narrow`, holding a watch stream open, still gets its one call: streams have their own limit."""
    stream = apprunner.WatchConnections(pb.WatchConnectionsRequest(), metadata=bearer(NARROW_TOKEN))
    assert (await stream.read()).type == pb.EVENT_TYPE_SYNCED

    assert await outcome(apprunner.ListConnections(LIST, metadata=bearer(NARROW_TOKEN))) is grpc.StatusCode.OK
    stream.cancel()


async def test_the_shipped_client_raises_a_refusal_without_calling_again(
    facade: RunningFacade, slow_aws: None
):
    """The Python client does not retry RESOURCE_EXHAUSTED: the server sees exactly the calls made."""
    calls = 3 * LIMIT
    async with AppRunnerClient(
        facade.addresses[0], metadata=bearer(TOKENS["flooder"]) + CONSISTENT, timeout=30
    ) as client:
        results = await asyncio.gather(
            *(client.list_connections() for _ in range(calls)), return_exceptions=True
        )

    refused = [r for r in results if isinstance(r, errors.ResourceExhaustedError)]
    assert refused
    assert all(not isinstance(r, Exception) or r in refused for r in results)
    method = "connfacade.apprunner.v1.ConnectionService/ListConnections"
    seen = sum(
        facade.metrics.registry.get_sample_value("connfacade_rpcs_total", {"method": method, "code": code})
        or 0
        for code in ("OK", "RESOURCE_EXHAUSTED")
    )
    assert seen == calls
