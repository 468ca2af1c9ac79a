"""What happens around every unary RPC: request id, logging, the status boundary."""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from connfacade.server import callcontext
from connfacade.server.api.status import to_status
from connfacade.server.domain import DomainError, FieldViolation, InvalidArgument
from connfacade.server.store.reads import ReadOptions

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import grpc

log = structlog.get_logger("connfacade.rpc")

Resp = TypeVar("Resp")

MAX_REQUEST_ID = 128


def metadata_value(context: grpc.aio.ServicerContext[Any, Any], key: str) -> str:
    """The first value of request metadata ``key``, or ''."""
    for item_key, value in context.invocation_metadata() or ():
        if item_key == key:
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return ""


def request_id_of(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The caller's ``x-request-id`` if it is sane, else a new one."""
    given = metadata_value(context, "x-request-id").strip()
    if given and len(given) <= MAX_REQUEST_ID and given.isprintable():
        return given
    return str(uuid.uuid4())


MAX_STALENESS_KEY = "x-connfacade-max-staleness-ms"
CONSISTENT_READ_KEY = "x-connfacade-consistent-read"


def read_options_of(context: grpc.aio.ServicerContext[Any, Any]) -> ReadOptions:
    """The read options the caller set in request metadata (DESIGN.md's names)."""
    violations = []
    max_staleness: float | None = None
    if raw := metadata_value(context, MAX_STALENESS_KEY).strip():
        if raw.isdigit():
            max_staleness = int(raw) / 1000
        else:
            violations.append(
                FieldViolation(MAX_STALENESS_KEY, "must be a whole number of milliseconds >= 0")
            )
    consistent = metadata_value(context, CONSISTENT_READ_KEY).strip().lower()
    if consistent not in {"", "true", "false"}:
        violations.append(FieldViolation(CONSISTENT_READ_KEY, "must be 'true' or 'false'"))
    if violations:
        raise InvalidArgument(violations)
    return ReadOptions(max_staleness=max_staleness, consistent=consistent == "true")


def response_metadata(call: callcontext.CallContext) -> tuple[tuple[str, str], ...]:
    """Trailing metadata of a successful call."""
    out = [("x-request-id", call.request_id)]
    if call.aws_request_id:
        out.append(("x-aws-request-id", call.aws_request_id))
    if (info := call.read_info) is not None:
        out += [
            ("x-connfacade-cache", info.result.value),
            ("x-connfacade-revision", str(info.revision)),
            ("x-connfacade-age-ms", str(round(info.age * 1000))),
        ]
    return tuple(out)


def unary(method: str) -> Callable[[Callable[..., Awaitable[Resp]]], Callable[..., Awaitable[Resp]]]:
    """Wraps a unary servicer method: the only place its failures become statuses."""

    def wrap(handler: Callable[..., Awaitable[Resp]]) -> Callable[..., Awaitable[Resp]]:
        @functools.wraps(handler)
        async def run(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Resp:
            call = callcontext.begin(request_id_of(context), method)
            started = time.perf_counter()
            bound = structlog.contextvars.bound_contextvars(request_id=call.request_id, method=method)
            with bound:
                try:
                    call.read_options = read_options_of(context)
                    response = await handler(self, request, context)
                except asyncio.CancelledError:
                    log.info("rpc.cancelled", duration_ms=_ms(started))
                    raise
                except Exception as err:  # noqa: BLE001 - this is the boundary
                    status = to_status(err, request_id=call.request_id, aws_request_id=call.aws_request_id)
                    _log_failure(err, status.code, started, call.aws_request_id)
                    await context.abort(status.code, status.details, status.trailing_metadata)
                context.set_trailing_metadata(response_metadata(call))
                log.info("rpc.ok", code="OK", duration_ms=_ms(started), aws_request_id=call.aws_request_id)
                return response

        return run

    return wrap


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _log_failure(err: Exception, code: grpc.StatusCode, started: float, aws_request_id: str) -> None:
    fields: dict[str, Any] = {
        "code": code.name,
        "duration_ms": _ms(started),
        "aws_request_id": aws_request_id,
    }
    if isinstance(err, DomainError):
        log.info("rpc.failed", error=err.message, aws_code=err.aws_code, **fields)
    else:
        log.error("rpc.internal_error", exc_info=err, **fields)
