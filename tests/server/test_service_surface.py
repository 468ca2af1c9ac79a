"""The served surface: every RPC implemented, health, reflection."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.server.api.apprunner import AppRunnerConnectionService
from connfacade.server.api.codestar import CodeStarConnectionService, CodeStarHostService
from connfacade.server.app import SERVICE_NAMES

SERVICERS = [
    (ar.DESCRIPTOR.services_by_name["ConnectionService"], AppRunnerConnectionService),
    (cs.DESCRIPTOR.services_by_name["ConnectionService"], CodeStarConnectionService),
    (hs.DESCRIPTOR.services_by_name["HostService"], CodeStarHostService),
]


@pytest.mark.parametrize(("service", "servicer"), SERVICERS, ids=lambda x: getattr(x, "full_name", ""))
def test_every_rpc_in_the_descriptors_is_implemented(service, servicer):
    """Each servicer defines a handler for every RPC its service descriptor names."""
    missing = [m.name for m in service.methods if not callable(servicer.__dict__.get(m.name))]
    assert missing == []


async def test_health_reports_serving_for_the_server_and_each_service(channel):
    """grpc.health.v1 answers SERVING overall and per service."""
    stub = health_pb2_grpc.HealthStub(channel)
    for name in ("", *SERVICE_NAMES):
        response = await stub.Check(health_pb2.HealthCheckRequest(service=name))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_goes_not_serving_on_graceful_shutdown(facade, channel):
    """Entering shutdown flips health to NOT_SERVING before the server stops."""
    await facade.health.enter_graceful_shutdown()
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=""))
    assert response.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_reflection_lists_the_three_services(channel):
    """Server reflection names every facade service, health and reflection itself."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def requests():
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    async for response in stub.ServerReflectionInfo(requests()):
        names = {s.name for s in response.list_services_response.service}
        break
    assert set(SERVICE_NAMES) <= names
    assert "grpc.health.v1.Health" in names


async def test_reflection_describes_a_service_file(channel):
    """A generic client can fetch the file descriptor of a service by symbol."""
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)

    async def requests():
        yield reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="connfacade.codestar.v1.HostService"
        )

    async for response in stub.ServerReflectionInfo(requests()):
        assert response.file_descriptor_response.file_descriptor_proto
        break


async def test_an_unknown_method_is_unimplemented(channel):
    """Calls to methods that do not exist fail cleanly."""
    call = channel.unary_unary("/connfacade.apprunner.v1.ConnectionService/Nope")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(b"")
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
