"""Registers servicers on a grpc.aio server: prebuilt bytes allowed, metrics per method.

The generated ``add_*_to_server`` functions serialize with the response class,
so a handler could not return bytes it already built; and an interceptor would
build a wrapper on every call. Here both are settled once per method. Requests
reach the handlers undecoded (`EncodedRequest`): the RPC boundary decodes them
after authentication, so that bytes that are not the request message get a
status of the facade's own instead of gRPC's UNKNOWN.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import TYPE_CHECKING, Any, NoReturn

import grpc

from connfacade.client.policy import POLICY, RpcPolicy, policy_of
from connfacade.server.api.boundary import request_id_of, request_metadata
from connfacade.server.api.status import to_status
from connfacade.server.api.wire import EncodedRequest
from connfacade.server.domain import Unavailable
from connfacade.server.drain import REFUSAL, RETRY_AFTER

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from google.protobuf.descriptor import ServiceDescriptor
    from google.protobuf.message import Message

    from connfacade.server.drain import Drain
    from connfacade.server.metrics import Metrics

    Behavior = Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]


def _serialize(response: Message | bytes) -> bytes:
    return response if isinstance(response, bytes) else response.SerializeToString()


def _observed(behavior: Behavior, method: str, metrics: Metrics, drain: Drain) -> Behavior:
    rpcs, latency = metrics.rpcs, metrics.rpc_latency.labels(method)
    ok = rpcs.labels(method, "OK")

    async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if not drain.admit():
            await _refuse(context, method, metrics, drain)
        started = time.perf_counter()
        try:
            response = await behavior(request, context)
        except asyncio.CancelledError:
            rpcs.labels(method, "CANCELLED").inc()
            raise
        except BaseException:
            code = context.code()
            rpcs.labels(method, code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN").inc()
            raise
        finally:
            drain.leave()
            latency.observe(time.perf_counter() - started)
        ok.inc()
        return response

    return observed


async def _refuse(
    context: grpc.aio.ServicerContext[Any, Any], method: str, metrics: Metrics, drain: Drain
) -> NoReturn:
    """A call that came while the server drains: held, then UNAVAILABLE, which clients retry (drain.py)."""
    metrics.rpcs.labels(method, "UNAVAILABLE").inc()
    request_id, _ = request_id_of(request_metadata(context))
    await drain.hold(context.time_remaining())
    status = to_status(Unavailable(REFUSAL, retry_after=RETRY_AFTER), request_id=request_id)
    await context.abort(status.code, status.details, status.trailing_metadata)


def register(
    server: grpc.aio.Server,
    servicer: object,
    service: ServiceDescriptor,
    metrics: Metrics,
    drain: Drain,
    *,
    table: Mapping[str, RpcPolicy] = POLICY,
) -> None:
    """Serves each method of ``service`` (unary or server streaming) from the same-named servicer method.

    ``drain`` counts the calls in and out, and refuses new ones once the server drains.
    A method the RPC policy ``table`` does not classify stops the start
    (UnclassifiedRpcError): served, it could be a mutation nobody audits.
    """
    from google.protobuf import message_factory  # noqa: PLC0415 - only needed while registering

    for method in service.methods:
        policy_of(f"{service.full_name}/{method.name}", table)
    handlers = {}
    for method in service.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        behavior = _observed(
            getattr(servicer, method.name), f"{service.full_name}/{method.name}", metrics, drain
        )
        # Streaming handlers are coroutines that send with context.write, so
        # that they can end the stream with a status of their own.
        make = (
            grpc.unary_stream_rpc_method_handler
            if method.server_streaming
            else grpc.unary_unary_rpc_method_handler
        )
        handlers[method.name] = make(
            behavior,
            request_deserializer=functools.partial(EncodedRequest, message_class=request_class),
            response_serializer=_serialize,
        )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
