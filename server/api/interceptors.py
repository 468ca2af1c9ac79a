"""Server interceptors: RPC metrics for every method, health and reflection included."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, cast

import grpc

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connfacade.server.metrics import Metrics


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]  # generic only in the stubs
    """Counts unary RPCs by method and code and times them."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method.lstrip("/")  # "connfacade.apprunner.v1.ConnectionService/..."
        # The stubs type handlers with the sync context; an aio server passes its own.
        inner = cast(
            "Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]", handler.unary_unary
        )
        rpcs, latency = self._metrics.rpcs, self._metrics.rpc_latency.labels(method)

        async def observed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            code = "OK"
            try:
                return await inner(request, context)
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except BaseException:
                status = context.code()
                code = status.name if isinstance(status, grpc.StatusCode) else "UNKNOWN"
                raise
            finally:
                rpcs.labels(method, code).inc()
                latency.observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            observed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
