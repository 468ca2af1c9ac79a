"""What happens around every unary RPC: request id, logging, the status boundary."""

from __future__ import annotations

import asyncio
import functools
import itertools
import re
import time
import uuid
from typing import TYPE_CHECKING, Any, NoReturn

import structlog
from google.protobuf.message import Message

from connfacade.server import callcontext
from connfacade.server.api.audit_trail import Auditor, CallAudit
from connfacade.server.api.responses import ReadAnswer
from connfacade.server.api.status import to_status
from connfacade.server.api.wire import EncodedRequest, UndecodableRequest
from connfacade.server.audit import AuditSinkError
from connfacade.server.domain import (
    AuditUnavailable,
    DomainError,
    FieldViolation,
    InvalidArgument,
    Unauthenticated,
)
from connfacade.server.security import OPEN_GATE, Gate, TooManyFailures, bind_caller
from connfacade.server.store import SERVER_DEFAULTS, ReadOptions

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    import grpc

    from connfacade.server.security import Principal
    from connfacade.server.store import ReadInfo

log = structlog.get_logger("connfacade.rpc")

MAX_REQUEST_ID = 128


# Request ids must be unique, not secret: a random per-process prefix and a
# counter are, at a fraction of uuid4's cost on every call.
_ID_PREFIX = uuid.uuid4().hex[:12]
_id_counter = itertools.count(1)


def new_request_id() -> str:
    """A request id unique across processes and calls."""
    return f"{_ID_PREFIX}-{next(_id_counter):x}"


def request_metadata(context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str]:
    """Text request metadata, first value per key."""
    found: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if key not in found and isinstance(value, str):
            found[key] = value
    return found


def request_id_of(metadata: Mapping[str, str]) -> tuple[str, bool]:
    """The caller's ``x-request-id`` if it is sane (and True), else a new one (and False)."""
    given = metadata.get("x-request-id", "").strip()
    if given and len(given) <= MAX_REQUEST_ID and given.isprintable():
        return given, True
    return new_request_id(), False


MAX_STALENESS_KEY = "x-connfacade-max-staleness-ms"
MAX_STALENESS_MS = 86_400_000  # a day: any older answer is no cache read worth asking for
_MILLISECONDS = re.compile(rf"0*([0-9]{{1,{len(str(MAX_STALENESS_MS))}}})")
CONSISTENT_READ_KEY = "x-connfacade-consistent-read"


def read_options_of(metadata: Mapping[str, str]) -> ReadOptions:
    """The read options the caller set in request metadata (DESIGN.md's names)."""
    if MAX_STALENESS_KEY not in metadata and CONSISTENT_READ_KEY not in metadata:
        return SERVER_DEFAULTS
    violations = []
    max_staleness: float | None = None
    if raw := metadata.get(MAX_STALENESS_KEY, "").strip():
        # Plain ASCII digits, few enough to fit the float of seconds (str.isdigit()
        # admits superscripts int() refuses; a 5,000-digit int() raises).
        if (found := _MILLISECONDS.fullmatch(raw)) and (ms := int(found[1])) <= MAX_STALENESS_MS:
            max_staleness = ms / 1000
        else:
            violations.append(
                FieldViolation(
                    MAX_STALENESS_KEY, f"must be a whole number of milliseconds from 0 to {MAX_STALENESS_MS}"
                )
            )
    consistent = metadata.get(CONSISTENT_READ_KEY, "").strip().lower()
    if consistent not in {"", "true", "false"}:
        violations.append(FieldViolation(CONSISTENT_READ_KEY, "must be 'true' or 'false'"))
    if violations:
        raise InvalidArgument(violations)
    return ReadOptions(max_staleness=max_staleness, consistent=consistent == "true")


def read_options(context: grpc.aio.ServicerContext[Any, Any]) -> ReadOptions:
    """The read options of the call ``context`` serves (the boundary has refused bad ones already)."""
    return read_options_of(request_metadata(context))


def response_metadata(
    call: callcontext.CallContext, read: ReadInfo | None = None
) -> tuple[tuple[str, str], ...]:
    """Trailing metadata of a successful call; ``read``: how the store answered it, for a read."""
    out = [("x-request-id", call.request_id)]
    if call.aws_request_id:
        out.append(("x-aws-request-id", call.aws_request_id))
    if read is not None:
        out += [
            ("x-connfacade-cache", read.result.value),
            ("x-connfacade-revision", str(read.revision)),
            ("x-connfacade-age-ms", str(round(read.age * 1000))),
        ]
    return tuple(out)


def rpc(method: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Wraps a servicer method (unary, or streaming through context.write).

    It is the only place a method's failures become statuses. A read's handler
    answers a `ReadAnswer`: the response goes to the caller, how the store
    answered into the trailing metadata.
    """

    event_name = method.partition(".")[2]

    def wrap(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(handler)
        async def run(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            metadata = request_metadata(context)
            request_id, supplied = request_id_of(metadata)
            call = callcontext.begin(request_id, method)
            call.request_id_supplied = supplied
            # An absolute time, so that every layer below measures against the same end.
            if (budget := context.time_remaining()) is not None:
                call.deadline = time.monotonic() + budget
            # grpc.aio runs each RPC in a task of its own, so what is bound here
            # stays with this call and needs no unbinding.
            structlog.contextvars.bind_contextvars(request_id=call.request_id, method=method)
            auditor: Auditor | None = getattr(self, "auditor", None)
            audit = None
            if auditor is not None and auditor.audits(event_name):  # reads at level none cost nothing
                audit = CallAudit(
                    auditor,
                    method=method,
                    context=context,
                    metadata=metadata,
                    request_id=call.request_id,
                    started=started,
                )
                call.write_ahead = audit.write_ahead()  # a mutation's intent precedes its AWS call
            try:
                gate: Gate = getattr(self, "gate", OPEN_GATE)
                principal = _identify(gate, context, metadata, request, audit)
                bind_caller(principal)
                # Only now is anything of the request looked at: its caller is known.
                request, undecodable = _decoded(request)
                if audit is not None:
                    known = principal.name if gate.authenticates else None
                    _note_request(audit, request, undecodable, known)
                gate.admit(principal, event_name)  # the call is in flight from here...
                try:
                    # Only now: the unauthenticated learn nothing of message types.
                    _refuse_undecodable(undecodable)
                    # Every call's read headers are checked, read or not; a read takes them
                    # from its request metadata (`read_options`) and answers a `ReadAnswer`.
                    read_options_of(metadata)
                    answer = await handler(self, request, context)
                finally:
                    gate.release(principal, event_name)  # ...to here
            except asyncio.CancelledError:
                log.info("rpc.cancelled", duration_ms=_ms(started))
                if audit is not None:
                    await _record_quietly(audit, **_cancelled(call))
                raise
            except Exception as err:  # noqa: BLE001 - this is the boundary
                await _fail(context, err, call, audit, started)
            response, read = _read_answered(answer)
            if audit is not None:
                await _record_success(context, audit, response, call)
            context.set_trailing_metadata(response_metadata(call, read))
            log.info("rpc.ok", code="OK", duration_ms=_ms(started), aws_request_id=call.aws_request_id)
            return response

        return run

    return wrap


def _read_answered(answer: Any) -> tuple[Any, ReadInfo | None]:
    """A handler's response, and how the store answered its read (None: no read)."""
    if isinstance(answer, ReadAnswer):
        return answer.response, answer.read
    return answer, None


def _identify(
    gate: Gate,
    context: grpc.aio.ServicerContext[Any, Any],
    metadata: Mapping[str, str],
    request: Any,
    audit: CallAudit | None,
) -> Principal:
    """The caller's principal; the record of a call refused before it is known holds only sizes."""
    try:
        return gate.identify(metadata, context.auth_context, context.peer)
    except (Unauthenticated, TooManyFailures) as err:
        if audit is not None:
            audit.unknown_caller(
                request_bytes=_request_bytes(request),
                metadata_bytes=sum(len(k) + len(v) for k, v in context.invocation_metadata() or ()),
                unrecorded=err.unnoted if isinstance(err, TooManyFailures) else 0,
            )
        raise


def _request_bytes(request: Any) -> int:
    if isinstance(request, EncodedRequest):
        return len(request.data)
    return int(request.ByteSize()) if isinstance(request, Message) else 0


def _decoded(request: Any) -> tuple[Any, UndecodableRequest | None]:
    """The request message, or None and why its bytes are not one (told the caller after authentication)."""
    if not isinstance(request, EncodedRequest):
        return request, None  # decoded already (a servicer registered another way)
    try:
        return request.decode(), None
    except UndecodableRequest as err:
        return None, err


def _note_request(
    audit: CallAudit, request: Any, undecodable: UndecodableRequest | None, principal: str | None
) -> None:
    """Puts the caller authentication found and the request on the record, whatever refuses the call next."""
    if principal is not None:
        audit.identify(principal)
    audit.parameters(request)
    if undecodable is not None:
        audit.undecodable(undecodable.size)


def _refuse_undecodable(err: UndecodableRequest | None) -> None:
    if err is not None:
        raise err


def _cancelled(call: callcontext.CallContext) -> dict[str, str]:
    """What the caller of a cancelled handler saw: gRPC cancels it for the caller's deadline too.

    Within the last margin before the deadline it is the deadline: the facade's own
    timeout would have answered by then had the event loop been on time.
    """
    if call.deadline is not None and time.monotonic() >= call.deadline - callcontext.DEADLINE_MARGIN:
        return {"code": "DEADLINE_EXCEEDED", "error_message": "the caller's deadline passed"}
    return {"code": "CANCELLED", "error_message": "the caller cancelled the call"}


async def _fail(
    context: grpc.aio.ServicerContext[Any, Any],
    err: Exception,
    call: callcontext.CallContext,
    audit: CallAudit | None,
    started: float,
) -> NoReturn:
    """Ends a failed call: its status (the one boundary), its log line, its audit record.

    A flood's refusals before authentication are noted only now and then: each
    noted one counts those that were not (`TooManyFailures`).
    """
    status = to_status(err, request_id=call.request_id, aws_request_id=call.aws_request_id)
    if isinstance(err, TooManyFailures) and err.quiet:
        await context.abort(status.code, status.details, status.trailing_metadata)
    _log_failure(err, status.code, started, call.aws_request_id)
    if audit is not None and not isinstance(err, AuditUnavailable):
        await _record_quietly(
            audit,
            code=status.code.name,
            error_message=status.details,
            aws_code=getattr(err, "aws_code", ""),
            aws_request_id=call.aws_request_id,
        )
    await context.abort(status.code, status.details, status.trailing_metadata)


async def _record_success(
    context: grpc.aio.ServicerContext[Any, Any],
    audit: CallAudit | None,
    response: Any,
    call: callcontext.CallContext,
) -> None:
    """Writes a successful call's record before its answer; no record, no answer (where required)."""
    if audit is None:
        return
    try:
        await audit.finish(code="OK", response=response, aws_request_id=call.aws_request_id)
    except AuditSinkError as err:
        log.error("audit.write_failed", error=str(err))  # noqa: TRY400 - no traceback needed
        if audit.must_succeed:
            status = to_status(
                AuditUnavailable(), request_id=call.request_id, aws_request_id=call.aws_request_id
            )
            await context.abort(status.code, status.details, status.trailing_metadata)


async def _record_quietly(audit: CallAudit, **outcome: str) -> None:
    """Records a failed or cancelled call; a sink failure is logged, the call's own status stands."""
    try:
        await audit.finish(**outcome)
    except AuditSinkError as err:
        log.error("audit.write_failed", error=str(err))  # noqa: TRY400 - no traceback needed


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _log_failure(err: Exception, code: grpc.StatusCode, started: float, aws_request_id: str) -> None:
    fields: dict[str, Any] = {
        "code": code.name,
        "duration_ms": _ms(started),
        "aws_request_id": aws_request_id,
    }
    if isinstance(err, TooManyFailures) and err.unnoted:
        fields["refused_unrecorded"] = err.unnoted
    if isinstance(err, DomainError):
        log.info("rpc.failed", error=err.message, aws_code=err.aws_code, **fields)
    else:
        log.error("rpc.internal_error", exc_info=err, **fields)
