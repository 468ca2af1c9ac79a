"""A generic client that knows nothing but server reflection can call every RPC."""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf import descriptor_pool, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from connfacade.server.app import SERVICE_NAMES

# An empty request is valid for some RPCs and rejected by validation for the
# others; either way the server must serve it, never answer UNIMPLEMENTED.
SERVED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND}


async def test_every_rpc_is_served_to_a_reflection_only_client(facade):
    """Descriptors come from reflection alone; every unary RPC answers with a served status."""
    # A blocking client, as generic tools are; in a thread, so the server's loop runs.
    called = await asyncio.to_thread(call_every_rpc, facade.addresses[0])
    assert len(called) == 8 + 8 + 5  # every unary RPC of the three services (WaitForConnection included)


def call_every_rpc(address):
    with grpc.insecure_channel(address) as channel:
        pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
        called = []
        for service_name in SERVICE_NAMES:
            service = pool.FindServiceByName(service_name)
            for method in service.methods:
                if method.server_streaming:
                    continue
                request_class = message_factory.GetMessageClass(method.input_type)
                response_class = message_factory.GetMessageClass(method.output_type)
                call = channel.unary_unary(
                    f"/{service.full_name}/{method.name}",
                    request_serializer=request_class.SerializeToString,
                    response_deserializer=response_class.FromString,
                )
                try:
                    call(request_class(), timeout=10)
                    code = grpc.StatusCode.OK
                except grpc.RpcError as err:
                    code = err.code()
                assert code in SERVED, f"{service.full_name}/{method.name}: {code}"
                called.append(method.name)
    return called
