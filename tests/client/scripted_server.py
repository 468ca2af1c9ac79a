"""A scripted gRPC server that serves the facade's services over a real transport.

The real facade server is not needed to test the client's wire behaviour: this
server implements the generated servicers (registered with the generated
``add_*Servicer_to_server`` functions), records every call with its metadata,
and answers each RPC with whatever the test scripted (an empty response by
default, or an abort with a chosen status and packed ``google.rpc`` details).

It is a thread-pool ``grpc.server``, so that the blocking client (which would
block an event loop serving the server) and the asyncio client can both call it.
It lives in a module of its own rather than in conftest.py: every test folder
has a conftest, and ``from conftest import ...`` could pick another folder's.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import any_pb2, message_factory
from google.rpc import status_pb2

from connfacade.apprunner.v1 import connection_service_pb2 as apprunner_pb2
from connfacade.apprunner.v1 import connection_service_pb2_grpc as apprunner_grpc
from connfacade.codestar.v1 import connection_service_pb2 as codestar_pb2
from connfacade.codestar.v1 import connection_service_pb2_grpc as codestar_grpc
from connfacade.codestar.v1 import host_service_pb2 as host_pb2
from connfacade.codestar.v1 import host_service_pb2_grpc as host_grpc

APPRUNNER = "connfacade.apprunner.v1.ConnectionService"
CODESTAR = "connfacade.codestar.v1.ConnectionService"
HOSTS = "connfacade.codestar.v1.HostService"

_SERVICES = {
    APPRUNNER: (apprunner_pb2, apprunner_grpc.add_ConnectionServiceServicer_to_server),
    CODESTAR: (codestar_pb2, codestar_grpc.add_ConnectionServiceServicer_to_server),
    HOSTS: (host_pb2, host_grpc.add_HostServiceServicer_to_server),
}

Handler = Callable[[Any, grpc.ServicerContext], Any]


class _Status(
    collections.namedtuple("_Status", ("code", "details", "trailing_metadata")),  # noqa: PYI024
    grpc.Status,
):
    pass


def rich_status(
    code: grpc.StatusCode,
    message: str,
    details: Sequence[Any] = (),
    trailers: Sequence[tuple[str, str]] = (),
) -> grpc.Status:
    """A status carrying packed google.rpc details plus extra trailers, as the facade sends them."""
    packed = []
    for detail in details:
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)
        packed.append(any_detail)
    status = status_pb2.Status(code=code.value[0], message=message, details=packed)
    return _Status(code, message, (("grpc-status-details-bin", status.SerializeToString()), *tuple(trailers)))


def abort_with(status: grpc.Status) -> Handler:
    """A handler that fails the call with ``status``."""

    def handler(request: Any, context: grpc.ServicerContext) -> Any:
        context.abort_with_status(status)

    return handler


def paged(
    response_type: type[Any], items_field: str, pages: Mapping[str, tuple[Sequence[Any], str]]
) -> Handler:
    """A List handler answering the page for each request token: ``{token: (items, next_token)}``."""

    def handler(request: Any, context: grpc.ServicerContext) -> Any:
        items, next_token = pages[request.next_token]
        response = response_type(next_token=next_token)
        getattr(response, items_field).extend(items)
        return response

    return handler


@dataclasses.dataclass
class RecordedCall:
    """One call the scripted server received."""

    service: str
    method: str
    request: Any
    metadata: dict[str, str]
    deadline_seconds: float | None


class ScriptedServer:
    """Answers each RPC as scripted with :meth:`on`, and records every call in :attr:`calls`."""

    def __init__(self, address: str) -> None:
        self.calls: list[RecordedCall] = []
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        for service_name, (module, add_to_server) in _SERVICES.items():
            add_to_server(self._servicer(service_name, module), self._server)
        port = self._server.add_insecure_port(address)
        self.target = address.replace(":0", f":{port}") if address.endswith(":0") else address

    def on(self, service: str, method: str, handler: Handler) -> None:
        self._handlers[service, method] = handler

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop(grace=None)

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def _servicer(self, service_name: str, module: Any) -> Any:
        descriptor = module.DESCRIPTOR.services_by_name[service_name.rsplit(".", 1)[1]]
        servicer = type(f"Scripted{descriptor.name}", (), {})()
        for method in descriptor.methods:
            setattr(servicer, method.name, self._dispatcher(service_name, method))
        return servicer

    def _dispatcher(self, service_name: str, method: Any) -> Handler:
        response_type = message_factory.GetMessageClass(method.output_type)

        def dispatch(request: Any, context: grpc.ServicerContext) -> Any:
            remaining = context.time_remaining()
            self.calls.append(
                RecordedCall(
                    service_name,
                    method.name,
                    request,
                    {key: value for key, value in context.invocation_metadata() if isinstance(value, str)},
                    None if remaining is None or remaining > 1e6 else remaining,
                )
            )
            handler = self._handlers.get((service_name, method.name))
            if handler is None:
                return response_type()
            return handler(request, context)

        return dispatch
