"""Domain errors → gRPC statuses with google.rpc details: the one boundary.

Every failure that leaves the server is built here, per DESIGN.md's table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def _bad_request(violations: Sequence[FieldViolation]) -> error_details_pb2.BadRequest:
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in violations
        ]
    )


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
                error_details_pb2.ErrorInfo(reason="RATE_LIMITED", domain=FACADE_DOMAIN),
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
