"""The AWS API endpoint: one POST handler for both services' JSON 1.0 operations."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from connfacade.server.awsmodel import APPRUNNER, CODESTAR, validate, validation_exception_message
from connfacade.server.emulator import _apprunner, _codestar
from connfacade.server.emulator._calls import Call
from connfacade.server.emulator._faults import FaultRegistry
from connfacade.server.emulator._log import RequestLog
from connfacade.server.emulator._protocol import (
    INTERNAL_ERROR_CODE,
    AwsError,
    error_response,
    json_response,
    parse_body,
    parse_target,
    region_from_authorization,
)
from connfacade.server.emulator._tokens import PageTokens

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connfacade.server.emulator._calls import Handler
    from connfacade.server.emulator._faults import Fault
    from connfacade.server.emulator._state import EmulatorState

HANDLERS: Mapping[str, Mapping[str, Handler]] = {APPRUNNER: _apprunner.HANDLERS, CODESTAR: _codestar.HANDLERS}
OPERATIONS: Mapping[str, frozenset[str]] = {service: frozenset(ops) for service, ops in HANDLERS.items()}

_log = structlog.get_logger(__name__)


class _DroppedError(Exception):
    """The connection was closed on purpose, without an answer."""


@dataclass
class Core:
    """What the API endpoint and the control interface share."""

    state: EmulatorState
    faults: FaultRegistry = field(default_factory=lambda: FaultRegistry(OPERATIONS))
    log: RequestLog = field(default_factory=RequestLog)
    tokens: PageTokens = field(default_factory=PageTokens)


class AwsApi:
    """Answers AWS API calls the way AWS does, after any injected fault."""

    def __init__(self, core: Core) -> None:
        self._core = core

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for ``POST /``: every call is answered and logged, never a traceback."""
        request_id = str(uuid.uuid4())
        entry: dict[str, Any] = {
            "Service": None,
            "Operation": None,
            "Region": None,
            "Params": {},
            "Status": None,
            "ErrorCode": None,
            "Time": time.time(),
            "RequestId": request_id,
        }
        try:
            response = await self._answer(request, request_id, entry)
        except _DroppedError:
            entry["ErrorCode"] = "ConnectionDropped"
            self._core.log.append(entry)
            # The transport is closed: aiohttp discards this answer unsent.
            return web.Response(status=499)
        entry["Status"] = response.status
        self._core.log.append(entry)
        return response

    async def _answer(self, request: web.Request, request_id: str, entry: dict[str, Any]) -> web.Response:
        service: str | None = None
        try:
            target = parse_target(request.headers.get("X-Amz-Target"), OPERATIONS)
            service = entry["Service"] = target.service
            entry["Operation"] = target.operation
            region = entry["Region"] = region_from_authorization(request.headers.get("Authorization"))
            params = entry["Params"] = parse_body(await request.read())
            await self._inject_faults(request, target.service, target.operation)
            _validate(target.service, target.operation, params)
            self._core.state.settle()
            call = Call(target.service, target.operation, region, self._core.state, self._core.tokens)
            body = HANDLERS[target.service][target.operation](call, params)
            return json_response(body, request_id)
        except AwsError as error:
            entry["ErrorCode"] = error.code
            return error_response(error, request_id, service)
        except _DroppedError:
            raise
        except Exception:  # noqa: BLE001 - whatever breaks, the client gets AWS's 500, never a traceback
            _log.exception("emulator_internal_error", request_id=request_id, operation=entry["Operation"])
            code = INTERNAL_ERROR_CODE.get(service or APPRUNNER, "InternalServiceErrorException")
            entry["ErrorCode"] = code
            return error_response(AwsError(code, "An internal error occurred.", 500), request_id, service)

    async def _inject_faults(self, request: web.Request, service: str, operation: str) -> None:
        latency_ms, fault = self._core.faults.take(service, operation)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if fault is not None:
            _apply(fault, request, service)


def _validate(service: str, operation: str, params: dict[str, Any]) -> None:
    violations = validate(service, operation, params)
    if violations:
        raise AwsError("ValidationException", validation_exception_message(violations))


def _apply(fault: Fault, request: web.Request, service: str) -> None:
    if fault.kind == "drop":
        # Close the socket without a byte of answer: the client sees a
        # connection error, as when a load balancer or the network drops it.
        if request.transport is not None:
            request.transport.close()
        raise _DroppedError
    if fault.kind == "throttle":
        raise AwsError("ThrottlingException", fault.message or "Rate exceeded", fault.http_status or 400)
    raise AwsError(
        fault.code or INTERNAL_ERROR_CODE[service],
        fault.message or "An internal error occurred.",
        fault.http_status or 500,
    )
