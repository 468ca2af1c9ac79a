"""Typed exceptions for failed facade calls, built from gRPC statuses in one place.

The facade sends every failure as a gRPC status with ``google.rpc`` rich details
packed in the ``grpc-status-details-bin`` trailer. :func:`from_rpc_error` turns a
``grpc.RpcError`` (sync or ``grpc.aio``) into the :class:`ConnfacadeError`
subclass registered for its status code, with the details unpacked and the
request ids read from the trailers. The clients call it at exactly one place,
:func:`translate_rpc_errors`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from google.protobuf import any_pb2
    from google.protobuf.message import Message

__all__ = [
    "AbortedError",
    "AlreadyExistsError",
    "ConnfacadeError",
    "DataLossError",
    "DeadlineExceededError",
    "ErrorInfo",
    "FailedPreconditionError",
    "FieldViolation",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "PaginationError",
    "PermissionDeniedError",
    "QuotaViolation",
    "ResourceExhaustedError",
    "ResourceInfo",
    "RpcCancelledError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
    "from_rpc_error",
    "translate_rpc_errors",
]

STATUS_DETAILS_KEY = "grpc-status-details-bin"
REQUEST_ID_KEY = "x-request-id"
AWS_REQUEST_ID_KEY = "x-aws-request-id"
#: Where a WatchConnections stream the server ended says to resume from.
RESUME_TOKEN_KEY = "x-connfacade-resume-token"  # noqa: S105 - a metadata key, not a secret

# The google.rpc detail types the facade sends (and the rest of the standard
# set, so that a newer server's details still arrive as typed messages).
_DETAIL_TYPES: Mapping[str, Any] = {
    cls.DESCRIPTOR.full_name: cls
    for cls in (
        error_details_pb2.BadRequest,
        error_details_pb2.DebugInfo,
        error_details_pb2.ErrorInfo,
        error_details_pb2.Help,
        error_details_pb2.LocalizedMessage,
        error_details_pb2.PreconditionFailure,
        error_details_pb2.QuotaFailure,
        error_details_pb2.RequestInfo,
        error_details_pb2.ResourceInfo,
        error_details_pb2.RetryInfo,
    )
}


class FieldViolation(NamedTuple):
    """One bad request field, from ``google.rpc.BadRequest``."""

    field: str
    description: str


class QuotaViolation(NamedTuple):
    """One exceeded quota, from ``google.rpc.QuotaFailure``."""

    subject: str
    description: str


@dataclasses.dataclass(frozen=True)
class ErrorInfo:
    """Why a call failed, from ``google.rpc.ErrorInfo`` (reason is the AWS error code)."""

    reason: str
    domain: str
    metadata: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class ResourceInfo:
    """The resource a call failed on, from ``google.rpc.ResourceInfo``."""

    resource_type: str
    resource_name: str
    owner: str
    description: str


class ConnfacadeError(Exception):
    """A facade call failed with a gRPC status.

    ``code`` is the status code, ``message`` the status message, ``details`` the
    unpacked ``google.rpc`` detail messages (an unknown detail type stays a
    ``google.protobuf.Any``), ``request_id`` and ``aws_request_id`` the ids the
    server put in the trailers, if any, and ``resume_token`` the position a
    WatchConnections stream that the server ended can resume from, if it said.
    """

    grpc_code: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        code: grpc.StatusCode | None = None,
        details: Sequence[Message] = (),
        request_id: str | None = None,
        aws_request_id: str | None = None,
        resume_token: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code: grpc.StatusCode = code if code is not None else self.grpc_code
        self.message = message
        self.details: list[Message] = list(details)
        self.request_id = request_id
        self.aws_request_id = aws_request_id
        self.resume_token = resume_token

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.name}, message={self.message!r})"

    def _details_of(self, full_name: str) -> Iterator[Any]:
        return (d for d in self.details if d.DESCRIPTOR.full_name == full_name)

    @property
    def field_violations(self) -> list[FieldViolation]:
        """Every ``(field, description)`` of every ``google.rpc.BadRequest`` detail."""
        return [
            FieldViolation(v.field, v.description)
            for detail in self._details_of("google.rpc.BadRequest")
            for v in detail.field_violations
        ]

    @property
    def retry_delay(self) -> float | None:
        """Seconds the server asks to wait before retrying (``google.rpc.RetryInfo``), if it says."""
        for detail in self._details_of("google.rpc.RetryInfo"):
            seconds: int = detail.retry_delay.seconds
            nanos: int = detail.retry_delay.nanos
            return seconds + nanos / 1e9
        return None

    @property
    def error_info(self) -> ErrorInfo | None:
        """The first ``google.rpc.ErrorInfo`` detail, if any."""
        for detail in self._details_of("google.rpc.ErrorInfo"):
            return ErrorInfo(detail.reason, detail.domain, dict(detail.metadata))
        return None

    @property
    def resource_info(self) -> ResourceInfo | None:
        """The first ``google.rpc.ResourceInfo`` detail, if any."""
        for d in self._details_of("google.rpc.ResourceInfo"):
            return ResourceInfo(d.resource_type, d.resource_name, d.owner, d.description)
        return None

    @property
    def quota_violations(self) -> list[QuotaViolation]:
        """Every ``(subject, description)`` of every ``google.rpc.QuotaFailure`` detail."""
        return [
            QuotaViolation(v.subject, v.description)
            for detail in self._details_of("google.rpc.QuotaFailure")
            for v in detail.violations
        ]


class RpcCancelledError(ConnfacadeError):
    """CANCELLED (named so that it does not shadow ``asyncio.CancelledError``)."""

    grpc_code = grpc.StatusCode.CANCELLED


class UnknownError(ConnfacadeError):
    """UNKNOWN."""

    grpc_code = grpc.StatusCode.UNKNOWN


class InvalidArgumentError(ConnfacadeError):
    """INVALID_ARGUMENT: see ``field_violations`` (request checks) or ``error_info`` (AWS)."""

    grpc_code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceededError(ConnfacadeError):
    """DEADLINE_EXCEEDED."""

    grpc_code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFoundError(ConnfacadeError):
    """NOT_FOUND: see ``resource_info``."""

    grpc_code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(ConnfacadeError):
    """ALREADY_EXISTS."""

    grpc_code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDeniedError(ConnfacadeError):
    """PERMISSION_DENIED: see ``error_info``."""

    grpc_code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhaustedError(ConnfacadeError):
    """RESOURCE_EXHAUSTED: see ``quota_violations``."""

    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPreconditionError(ConnfacadeError):
    """FAILED_PRECONDITION: see ``error_info``."""

    grpc_code = grpc.StatusCode.FAILED_PRECONDITION


class AbortedError(ConnfacadeError):
    """ABORTED."""

    grpc_code = grpc.StatusCode.ABORTED


class OutOfRangeError(ConnfacadeError):
    """OUT_OF_RANGE."""

    grpc_code = grpc.StatusCode.OUT_OF_RANGE


class UnimplementedError(ConnfacadeError):
    """UNIMPLEMENTED."""

    grpc_code = grpc.StatusCode.UNIMPLEMENTED


class InternalError(ConnfacadeError):
    """INTERNAL: report ``request_id`` to the facade's operators."""

    grpc_code = grpc.StatusCode.INTERNAL


class UnavailableError(ConnfacadeError):
    """UNAVAILABLE: retry, after ``retry_delay`` when the server gives one."""

    grpc_code = grpc.StatusCode.UNAVAILABLE


class DataLossError(ConnfacadeError):
    """DATA_LOSS."""

    grpc_code = grpc.StatusCode.DATA_LOSS


class UnauthenticatedError(ConnfacadeError):
    """UNAUTHENTICATED: see ``error_info``."""

    grpc_code = grpc.StatusCode.UNAUTHENTICATED


class PaginationError(RuntimeError):
    """A paginator stopped because the server broke the paging contract (a repeated token)."""


_REGISTRY: dict[grpc.StatusCode, type[ConnfacadeError]] = {
    cls.grpc_code: cls
    for cls in (
        RpcCancelledError,
        UnknownError,
        InvalidArgumentError,
        DeadlineExceededError,
        NotFoundError,
        AlreadyExistsError,
        PermissionDeniedError,
        ResourceExhaustedError,
        FailedPreconditionError,
        AbortedError,
        OutOfRangeError,
        UnimplementedError,
        InternalError,
        UnavailableError,
        DataLossError,
        UnauthenticatedError,
    )
}


def error_class_for(code: grpc.StatusCode) -> type[ConnfacadeError]:
    """The exception class registered for a status code (the base class if none is)."""
    return _REGISTRY.get(code, ConnfacadeError)


def _unpack_details(any_details: Iterable[any_pb2.Any]) -> list[Message]:
    unpacked: list[Message] = []
    for packed in any_details:
        cls = _DETAIL_TYPES.get(packed.TypeName())
        if cls is None:
            unpacked.append(packed)
            continue
        try:
            unpacked.append(cls.FromString(packed.value))
        except DecodeError:
            unpacked.append(packed)
    return unpacked


def _as_text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def from_rpc_error(err: grpc.RpcError) -> ConnfacadeError:
    """Translate a failed call into the typed exception registered for its status code.

    Works for sync errors (which are also ``grpc.Call``) and ``grpc.aio.AioRpcError``
    alike: both expose ``code()``, ``details()`` and ``trailing_metadata()``. The
    status-details trailer is parsed here rather than with
    ``grpc_status.rpc_status.from_call``, which raises when the packed status and
    the call's status disagree; a malformed trailer only loses the details.
    """
    code_of = getattr(err, "code", None)
    code = code_of() if callable(code_of) else None
    if not isinstance(code, grpc.StatusCode):
        code = grpc.StatusCode.UNKNOWN
    details_of = getattr(err, "details", None)
    message = details_of() if callable(details_of) else None
    trailers_of = getattr(err, "trailing_metadata", None)
    trailers = (trailers_of() if callable(trailers_of) else None) or ()

    details: list[Message] = []
    request_id: str | None = None
    aws_request_id: str | None = None
    resume_token: str | None = None
    for key, value in trailers:
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            try:
                status = status_pb2.Status.FromString(value)
            except DecodeError:
                continue
            details = _unpack_details(status.details)
            if not message:
                message = status.message
        elif key == REQUEST_ID_KEY:
            request_id = _as_text(value)
        elif key == AWS_REQUEST_ID_KEY:
            aws_request_id = _as_text(value)
        elif key == RESUME_TOKEN_KEY:
            resume_token = _as_text(value)

    return error_class_for(code)(
        message or "",
        code=code,
        details=details,
        request_id=request_id,
        aws_request_id=aws_request_id,
        resume_token=resume_token,
    )


@contextlib.contextmanager
def translate_rpc_errors() -> Iterator[None]:
    """Re-raise any ``grpc.RpcError`` of the block as its typed :class:`ConnfacadeError`.

    The one place where the clients convert transport errors; it works around
    ``await`` too, since entering and leaving it does not suspend.
    """
    try:
        yield
    except grpc.RpcError as err:
        raise from_rpc_error(err) from err
