"""grpc.health.v1 on a TCP port of its own, for kubelet gRPC probes."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from connfacade.server.testing import serve


async def test_the_health_port_answers_serving_and_serves_nothing_else(tmp_path):
    """The probe port says SERVING; the facade's RPCs live only on the main listener."""
    served = await serve(
        "--listen",
        f"unix:{tmp_path / 'grpc.sock'}",
        "--emulator-address",
        "127.0.0.1:0",
        "--health-address",
        "127.0.0.1:0",
        expect=("grpc", "health"),
    )
    address = served.health_address
    async with grpc.aio.insecure_channel(address) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert response.status == health_pb2.HealthCheckResponse.SERVING
        call = channel.unary_unary("/connfacade.apprunner.v1.ConnectionService/ListConnections")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(b"")
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert (await served.stop())[0] == 0
