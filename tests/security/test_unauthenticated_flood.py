"""A caller without credentials cannot fill the audit log, nor limit callers that have them.

The facade is built from `Settings` through `build_access`, as `connfacade
serve` builds it, with authentication on, a real hash-chained audit file, and
two listeners: TCP loopback (peer ``ipv4:127.0.0.1``) and a Unix socket (peer
``unix``). The failure budget refills so slowly (one failure in 100 s) that
no token comes back while a test runs.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.rpc import error_details_pb2
from rpc_details import detail
from security_helpers import PRINCIPALS, bearer

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server import config
from connfacade.server.access import build_access
from connfacade.server.api.audit_trail import Auditor
from connfacade.server.app import start_facade
from connfacade.server.audit import FileSink
from connfacade.server.security import FailureBudgets

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from connfacade.server.app import RunningFacade
    from connfacade.server.backend import AioBotoBackend
    from connfacade.server.store import StoreSettings

BURST = 5  # failed authentications a peer may make before it is refused
# The flooder's create: 50 tags of 256 characters, 14 KiB of request a record used to repeat.
BIG_CREATE = pb.CreateConnectionRequest(
    connection_name="flood",
    provider_type=pb.PROVIDER_TYPE_GITHUB,
    tags=[pb.Tag(key=f"key-{i:03d}", value="v" * 256) for i in range(50)],
)
RECORD_BOUND = 1024  # bytes a record of a call refused before authentication may take, chain fields included


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
async def auditor(audit_path: Path) -> AsyncIterator[Auditor]:
    sink = FileSink(audit_path, fsync="never")
    await sink.open()
    auditor = Auditor([sink])
    yield auditor
    await auditor.aclose()


@pytest.fixture
async def facade(
    backend: AioBotoBackend, store_settings: StoreSettings, auditor: Auditor, tmp_path: Path
) -> AsyncIterator[RunningFacade]:
    principals = tmp_path / "principals.toml"
    principals.write_text(PRINCIPALS)
    settings = config.Settings(
        listen=("127.0.0.1:0", f"unix:{tmp_path / 'grpc.sock'}"),
        principals_file=str(principals),
        auth_failure_rate=0.01,
        auth_failure_burst=BURST,
    )
    running = await start_facade(
        backend,
        settings.listen,
        store_settings=store_settings,
        auditor=auditor,
        access=build_access(settings),
    )
    yield running
    await running.stop(0)


@pytest.fixture
async def unix_stub(facade: RunningFacade) -> AsyncIterator[pb_grpc.ConnectionServiceStub]:
    """The App Runner service over the Unix socket: another peer than TCP loopback."""
    async with grpc.aio.insecure_channel(facade.addresses[1]) as channel:
        yield pb_grpc.ConnectionServiceStub(channel)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sizes(path: Path) -> list[int]:
    """The size in bytes of each record in the file (its line)."""
    return [len(line) for line in path.read_bytes().splitlines()]


async def code_of(call: object) -> grpc.StatusCode:
    """OK, or the code the call ended with."""
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as err:
        return err.code()
    return grpc.StatusCode.OK


async def refused(stub: pb_grpc.ConnectionServiceStub, count: int, *, concurrency: int = 1) -> list[str]:
    """Makes ``count`` token-less big creates, ``concurrency`` at a time; their codes."""
    codes: list[str] = []
    queue = list(range(count))

    async def worker() -> None:
        while queue:
            queue.pop()
            codes.append((await code_of(stub.CreateConnection(BIG_CREATE, timeout=30))).name)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return codes


async def test_a_create_refused_before_authentication_is_recorded_by_its_sizes_not_its_contents(
    apprunner: pb_grpc.ConnectionServiceStub, audit_path: Path
):
    """UNAUTHENTICATED, and a record under 1 KiB: the method, the peer, the request's and metadata's sizes."""
    assert await code_of(apprunner.CreateConnection(BIG_CREATE)) is grpc.StatusCode.UNAUTHENTICATED

    [record] = records(audit_path)
    assert record["eventName"] == "CreateConnection"
    assert record["statusCode"] == "UNAUTHENTICATED"
    assert record["requestParameters"] is None
    extra = record["additionalEventData"]
    assert extra["requestBytes"] == BIG_CREATE.ByteSize()
    assert extra["metadataBytes"] > 0
    assert sizes(audit_path)[0] <= RECORD_BOUND


async def test_a_long_user_agent_is_cut_on_the_record_of_an_unknown_caller(
    facade: RunningFacade, audit_path: Path
):
    """A caller's own text cannot make the compact record large: a 4,000-character user agent is cut."""
    options = (("grpc.primary_user_agent", "u" * 4000),)
    async with grpc.aio.insecure_channel(facade.addresses[0], options=options) as channel:
        stub = pb_grpc.ConnectionServiceStub(channel)
        assert await code_of(stub.CreateConnection(BIG_CREATE)) is grpc.StatusCode.UNAUTHENTICATED

    assert sizes(audit_path)[0] <= RECORD_BOUND


async def test_failures_past_a_peers_budget_are_resource_exhausted_naming_the_peer(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """After BURST failed authentications from 127.0.0.1: RESOURCE_EXHAUSTED, QuotaFailure, RetryInfo."""
    assert await refused(apprunner, BURST) == ["UNAUTHENTICATED"] * BURST

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await apprunner.CreateConnection(BIG_CREATE)

    err = caught.value
    assert err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    quota = detail(err, error_details_pb2.QuotaFailure)
    retry = detail(err, error_details_pb2.RetryInfo)
    info = detail(err, error_details_pb2.ErrorInfo)
    assert quota is not None
    assert quota.violations[0].subject == "peer:ipv4:127.0.0.1"
    assert retry is not None
    assert retry.retry_delay.ToTimedelta().total_seconds() > 0
    assert info is not None
    assert info.reason == "TOO_MANY_FAILED_AUTHENTICATIONS"


async def test_unix_socket_callers_are_one_peer(unix_stub: pb_grpc.ConnectionServiceStub):
    """gRPC does not say who is at the other end of a Unix socket: all its callers share one budget."""
    assert await refused(unix_stub, BURST) == ["UNAUTHENTICATED"] * BURST

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await unix_stub.CreateConnection(BIG_CREATE)

    quota = detail(caught.value, error_details_pb2.QuotaFailure)
    assert quota is not None
    assert quota.violations[0].subject == "peer:unix"


async def test_a_tokenless_flood_leaves_a_few_small_records_that_account_for_every_call(
    apprunner: pb_grpc.ConnectionServiceStub, audit_path: Path
):
    """300 refused creates: every record under 1 KiB, far fewer records than calls, none lost uncounted.

    A refusal past the budget is recorded at most once a second per peer,
    with how many of the peer's refusals since its previous record were not;
    one more call after a second's pause carries the last of them.
    """
    calls = 300
    codes = await refused(apprunner, calls, concurrency=20)
    await asyncio.sleep(FailureBudgets.NOTE_INTERVAL + 0.1)
    codes += await refused(apprunner, 1)

    assert codes.count("UNAUTHENTICATED") == BURST
    assert codes.count("RESOURCE_EXHAUSTED") == calls + 1 - BURST
    written = records(audit_path)
    assert len(written) < calls / 4
    assert max(sizes(audit_path)) <= RECORD_BOUND
    unrecorded = sum(r["additionalEventData"].get("refusedUnrecorded", 0) for r in written)
    assert len(written) + unrecorded == calls + 1


async def test_an_authenticated_caller_on_the_flooding_peer_is_served(
    apprunner: pb_grpc.ConnectionServiceStub,
):
    """Only failures count: with 127.0.0.1's budget spent, a valid token from 127.0.0.1 is still served."""
    await refused(apprunner, BURST + 10)

    served = await code_of(apprunner.ListConnections(pb.ListConnectionsRequest(), metadata=bearer("viewer")))

    assert served is grpc.StatusCode.OK


async def test_an_authenticated_caller_on_another_peer_is_served_during_a_flood(
    apprunner: pb_grpc.ConnectionServiceStub, unix_stub: pb_grpc.ConnectionServiceStub
):
    """While a token-less caller floods over TCP, 20 calls with a token over the Unix socket all succeed."""

    async def served() -> list[grpc.StatusCode]:
        return [
            await code_of(unix_stub.ListConnections(pb.ListConnectionsRequest(), metadata=bearer("viewer")))
            for _ in range(20)
        ]

    flood, answers = await asyncio.gather(refused(apprunner, 200, concurrency=20), served())

    assert set(flood) == {"UNAUTHENTICATED", "RESOURCE_EXHAUSTED"}
    assert answers == [grpc.StatusCode.OK] * 20
