"""`connfacade serve --principals-file ...`: the real process authenticates callers and limits them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import grpc
import pytest

from connfacade.apprunner.v1 import connection_service_pb2 as pb
from connfacade.apprunner.v1 import connection_service_pb2_grpc as pb_grpc
from connfacade.server.security import hash_token
from connfacade.server.testing import serve

if TYPE_CHECKING:
    from pathlib import Path

TOKEN = "served-viewer-token-0123456789"


@pytest.fixture
async def served(tmp_path: Path):
    principals = tmp_path / "principals.toml"
    principals.write_text(
        f'[[principals]]\nname = "reader"\nrole = "viewer"\ntoken_sha256 = "{hash_token(TOKEN)}"\n'
    )
    server = await serve(
        *("--listen", "127.0.0.1:0", "--emulator-address", "127.0.0.1:0"),
        *("--principals-file", str(principals), "--rate-limit", "0.1", "--rate-burst", "2"),
        expect=("grpc", "emulator"),
    )
    yield server
    code, _, _ = await server.stop()
    assert code == 0


async def codes(served, *metadata_sets) -> list[grpc.StatusCode]:
    address = served.address
    found = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.ConnectionServiceStub(channel)
        for metadata in metadata_sets:
            try:
                await stub.ListConnections(pb.ListConnectionsRequest(), metadata=metadata, timeout=10)
                found.append(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as err:
                found.append(err.code())
    return found


async def test_the_served_process_authenticates_and_rate_limits_per_its_flags(served):
    """No token: UNAUTHENTICATED; the token: OK twice (the burst), then RESOURCE_EXHAUSTED."""
    good = (("authorization", f"Bearer {TOKEN}"),)
    assert await codes(served, (), good, good, good) == [
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.OK,
        grpc.StatusCode.OK,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ]
