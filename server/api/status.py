"""Domain errors → gRPC statuses with google.rpc details: the one boundary.

Every failure that leaves the server is built here, per DESIGN.md's table.
Every status fits what gRPC clients accept by default: trailing metadata of
at most 8 KiB (gRPC's C core, soft limit; Java's limit), beyond which a client
answers RESOURCE_EXHAUSTED "Stream removed" instead of the server's status.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from connfacade.server.domain import (
    AccessDenied,
    AuthenticationFailed,
    Conflict,
    DeadlineExceeded,
    DomainError,
    InvalidArgument,
    InvalidRequest,
    NotFound,
    OutOfRange,
    PermissionDenied,
    QuotaExceeded,
    RateLimited,
    Throttled,
    Unauthenticated,
    Unavailable,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from connfacade.server.domain import FieldViolation, PreconditionViolation

ERROR_DOMAIN = "connfacade.aws"
FACADE_DOMAIN = "connfacade"  # errors of the facade's own making (access, limits, positions)
DETAILS_KEY = "grpc-status-details-bin"

# Sizes in bytes as gRPC sends text (percent-encoded outside printable ASCII).
# The message travels twice (grpc-message and in the packed status); with the
# listed violations and a text field of each other detail at most, every
# status stays well under 8 KiB even base64-encoded.
MAX_MESSAGE = 1024
MAX_TEXT = 512  # any other text in a detail: a description, AWS's message
MAX_VIOLATIONS = 25  # field violations listed; the message says how many more there were
MAX_VIOLATIONS_BYTES = 2048
_CUT = "..."


@dataclass(frozen=True)
class RichStatus(grpc.Status):
    """A status with its packed details and extra trailing metadata."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def _duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


def _error_info(err: DomainError) -> error_details_pb2.ErrorInfo:
    meta = {"aws_request_id": err.aws_request_id} if err.aws_request_id else {}
    return error_details_pb2.ErrorInfo(
        reason=err.aws_code or type(err).__name__, domain=ERROR_DOMAIN, metadata=meta
    )


def _sent_size(char: str) -> int:
    return 1 if " " <= char <= "~" and char != "%" else 3 * len(char.encode("utf-8", "surrogatepass"))


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to at most ``limit`` bytes as sent, marked where it was cut."""
    if len(text) * 12 <= limit:  # no character is sent as more than 12 bytes
        return text
    cut_at = 0
    for i, size in enumerate(itertools.accumulate(map(_sent_size, text))):
        if size <= limit - len(_CUT):
            cut_at = i + 1
        elif size > limit:
            return text[:cut_at] + _CUT
    return text


def _bad_request(violations: Sequence[FieldViolation]) -> error_details_pb2.BadRequest:
    """The first violations, each cut to size, as many as fit; the message says how many more there were."""
    bad = error_details_pb2.BadRequest()
    size = 0
    for violation in violations[:MAX_VIOLATIONS]:
        item = error_details_pb2.BadRequest.FieldViolation(
            field=_clip(violation.field, MAX_TEXT // 4), description=_clip(violation.description)
        )
        size += item.ByteSize() + 3  # with its tag and length in the list
        if size > MAX_VIOLATIONS_BYTES:
            break
        bad.field_violations.append(item)
    return bad


def _clip_texts(message: Any) -> None:
    """Cuts every text of a detail (and of the messages in it) to MAX_TEXT."""
    for field, value in message.ListFields():
        if field.type == field.TYPE_STRING:
            if field.is_repeated:
                value[:] = [_clip(v) for v in value]
            else:
                setattr(message, field.name, _clip(value))
        elif field.type == field.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry:
                for key, item in list(value.items()):
                    if isinstance(item, str):
                        value[key] = _clip(item)
            else:
                for item in value if field.is_repeated else (value,):
                    _clip_texts(item)


def _fitted(err: BaseException, message: str, details: Sequence[object]) -> str:
    """Cuts the details' texts and the message to size; the message says how many violations went unlisted."""
    listed = 0
    for detail in details:
        if isinstance(detail, error_details_pb2.BadRequest):
            listed += len(detail.field_violations)  # built to size already
        else:
            _clip_texts(detail)
    unlisted = len(getattr(err, "violations", ())) - listed
    if unlisted <= 0:
        return _clip(message, MAX_MESSAGE)
    note = f" ({unlisted} more violations not listed in the details)"
    return _clip(message, MAX_MESSAGE - len(note)) + note


def _precondition_failure(
    violations: Sequence[PreconditionViolation],
) -> error_details_pb2.PreconditionFailure:
    return error_details_pb2.PreconditionFailure(
        violations=[
            error_details_pb2.PreconditionFailure.Violation(
                type=v.type, subject=v.subject, description=v.description
            )
            for v in violations
        ]
    )


def _facade_details(err: DomainError) -> tuple[grpc.StatusCode, list[object]] | None:
    """The rows of errors of the facade's own making: deadlines, positions, access, limits."""
    match err:
        case DeadlineExceeded():
            return grpc.StatusCode.DEADLINE_EXCEEDED, [_error_info(err)]
        case OutOfRange():
            return grpc.StatusCode.OUT_OF_RANGE, [
                error_details_pb2.ErrorInfo(
                    reason=err.reason, domain=FACADE_DOMAIN, metadata={"action": err.action}
                )
            ]
        case Unauthenticated():
            return grpc.StatusCode.UNAUTHENTICATED, [
                error_details_pb2.ErrorInfo(reason=err.reason, domain=FACADE_DOMAIN)
            ]
        case AccessDenied():
            return grpc.StatusCode.PERMISSION_DENIED, [
                error_details_pb2.ErrorInfo(
                    reason=err.reason, domain=FACADE_DOMAIN, metadata={"principal": err.principal}
                )
            ]
        case RateLimited():
            return grpc.StatusCode.RESOURCE_EXHAUSTED, [
                error_details_pb2.RetryInfo(retry_delay=_duration(err.retry_after)),
                error_details_pb2.QuotaFailure(
                    violations=[
                        error_details_pb2.QuotaFailure.Violation(subject=err.subject, description=err.message)
                    ]
                ),
                error_details_pb2.ErrorInfo(reason=err.reason, domain=FACADE_DOMAIN),
            ]
        case _:
            return None


def _details(err: DomainError) -> tuple[grpc.StatusCode, list[object]]:  # noqa: PLR0911 - one arm per row
    if (own := _facade_details(err)) is not None:
        return own
    match err:
        case InvalidArgument():
            return grpc.StatusCode.INVALID_ARGUMENT, [_bad_request(err.violations)]
        case InvalidRequest():
            # AWS's code stays the reason; the fields its message names make the BadRequest.
            bad = [_bad_request(err.violations)] if err.violations else []
            return grpc.StatusCode.INVALID_ARGUMENT, [_error_info(err), *bad]
        case NotFound():
            return grpc.StatusCode.NOT_FOUND, [
                error_details_pb2.ResourceInfo(
                    resource_type=err.resource_type, resource_name=err.resource_name, description=err.message
                )
            ]
        case QuotaExceeded():
            return grpc.StatusCode.RESOURCE_EXHAUSTED, [
                error_details_pb2.QuotaFailure(
                    violations=[
                        error_details_pb2.QuotaFailure.Violation(subject=err.subject, description=err.message)
                    ]
                ),
                _error_info(err),
            ]
        case Throttled() | Unavailable():
            return grpc.StatusCode.UNAVAILABLE, [
                error_details_pb2.RetryInfo(retry_delay=_duration(err.retry_after)),
                _error_info(err),
            ]
        case Conflict():
            unmet = [_precondition_failure(err.preconditions)] if err.preconditions else []
            return grpc.StatusCode.FAILED_PRECONDITION, [_error_info(err), *unmet]
        case PermissionDenied():
            return grpc.StatusCode.PERMISSION_DENIED, [_error_info(err)]
        case AuthenticationFailed():
            return grpc.StatusCode.UNAUTHENTICATED, [_error_info(err)]
        case _:
            return grpc.StatusCode.INTERNAL, [_error_info(err)]


def to_status(err: BaseException, *, request_id: str, aws_request_id: str = "") -> RichStatus:
    """The status the caller sees for ``err``; unexpected errors say only INTERNAL."""
    if isinstance(err, DomainError):
        code, details = _details(err)
        message = err.message
        aws_request_id = err.aws_request_id or aws_request_id
    else:
        code = grpc.StatusCode.INTERNAL
        details = [error_details_pb2.RequestInfo(request_id=request_id)]
        message = f"internal error; see the server log for request id {request_id}"
    message = _fitted(err, message, details)
    packed = []
    for detail in details:
        item = any_pb2.Any()
        item.Pack(detail)  # type: ignore[arg-type]  # every detail is a protobuf message
        packed.append(item)
    proto = status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=packed)
    trailing: list[tuple[str, str | bytes]] = [
        (DETAILS_KEY, proto.SerializeToString()),
        ("x-request-id", request_id),
    ]
    if aws_request_id:
        trailing.append(("x-aws-request-id", aws_request_id))
    if isinstance(err, DomainError):
        trailing.extend(err.trailers)
    return RichStatus(code=code, details=message, trailing_metadata=tuple(trailing))
