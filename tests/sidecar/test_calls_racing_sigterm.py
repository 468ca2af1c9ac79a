"""Calls that race SIGTERM: each ends OK or UNAVAILABLE, never with a bare CANCELLED.

grpc.aio's server.stop() cancels the calls gRPC's core has accepted but not yet
handed to Python; the server drains first so that none is left there
(server/drain.py). Callers here call in a tight loop, answers or not, which is
the worst case: a caller that honours RetryInfo leaves the server more room.
"""

from __future__ import annotations

import asyncio
import collections

import grpc

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.apprunner.v1 import connection_service_pb2_grpc as ar_grpc
from connfacade.server.testing import serve

RUNS = 6
CALLERS = 8
RETRIED = {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}


async def _one_run(tmp_path, run: int) -> collections.Counter[grpc.StatusCode]:
    """One server, CALLERS callers of a cached GetConnection, SIGTERM mid-load; the codes they saw."""
    sock = tmp_path / f"run{run}.sock"
    served = await serve(
        "--backend", "emulator", "--emulator-address", "127.0.0.1:0", "--listen", f"unix:{sock}",
        "--shutdown-grace", "5",
    )  # fmt: skip
    codes: collections.Counter[grpc.StatusCode] = collections.Counter()
    async with grpc.aio.insecure_channel(f"unix:{sock}") as channel:
        stub = ar_grpc.ConnectionServiceStub(channel)
        created = await stub.CreateConnection(
            ar.CreateConnectionRequest(connection_name=f"racing-{run}", provider_type=ar.PROVIDER_TYPE_GITHUB)
        )
        request = ar.GetConnectionRequest(connection_arn=created.connection.connection_arn)
        exited = asyncio.Event()

        async def caller() -> None:
            while not exited.is_set():
                try:
                    await stub.GetConnection(request, timeout=10)
                    codes[grpc.StatusCode.OK] += 1
                except grpc.aio.AioRpcError as err:
                    codes[err.code()] += 1
                    await asyncio.sleep(0)  # the server is gone: let the loop see it exit

        callers = [asyncio.create_task(caller()) for _ in range(CALLERS)]
        while codes[grpc.StatusCode.OK] < 50 * CALLERS:  # every caller is in its loop
            await asyncio.sleep(0.01)
        code, _, err = await served.stop()
        exited.set()
        await asyncio.gather(*callers)
    assert code == 0, err
    return codes


async def test_calls_racing_sigterm_end_ok_or_unavailable(tmp_path, record_property):
    """Across repeated SIGTERMs under tight-loop load, no call ends with anything but OK or UNAVAILABLE."""
    seen: collections.Counter[grpc.StatusCode] = collections.Counter()
    for run in range(RUNS):
        seen += await _one_run(tmp_path, run)
    others = {code.name: n for code, n in seen.items() if code not in RETRIED}
    record_property("racing_calls", sum(seen.values()))
    record_property("racing_unavailable", seen[grpc.StatusCode.UNAVAILABLE])
    assert others == {}, f"{others} in {RUNS} runs x {CALLERS} callers ({sum(seen.values())} calls)"
