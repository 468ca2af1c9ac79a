"""What can go wrong, in the facade's own terms.

Backends raise these (translated from AWS errors in exactly one place), the
validation layer raises InvalidArgument, and the gRPC boundary turns each into
a status with rich details in exactly one place (`connfacade.server.api.status`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad request field: its proto path (``tags[0].key``) and why."""

    field: str
    description: str


@dataclass(frozen=True, slots=True)
class PreconditionViolation:
    """One unmet precondition: its kind (``HOST_NOT_AVAILABLE``), what it is about (an ARN), and why."""

    type: str
    subject: str
    description: str


class DomainError(Exception):
    """Base of every failure the facade reports to callers.

    ``aws_code`` is AWS's error code when AWS produced the failure;
    ``aws_request_id`` travels back to the caller in trailing metadata.
    """

    def __init__(
        self,
        message: str,
        *,
        aws_code: str = "",
        aws_request_id: str = "",
        trailers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.aws_code = aws_code
        self.aws_request_id = aws_request_id
        self.trailers = trailers  # extra trailing metadata for the caller, e.g. a resume token


class InvalidArgument(DomainError):
    """The request violates the service model; nothing was sent to AWS."""

    def __init__(self, violations: list[FieldViolation], message: str = "") -> None:
        super().__init__(message or "; ".join(f"{v.field}: {v.description}" for v in violations))
        self.violations = violations


class OutOfRange(DomainError):
    """A position (resume token) the facade no longer has history for: start again."""

    def __init__(self, message: str, *, reason: str, action: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.action = action


class InvalidRequest(DomainError):
    """AWS rejected the request as invalid (InvalidRequestException and kin).

    ``violations`` are the request fields AWS's message names, when it names any.
    """

    def __init__(
        self,
        message: str,
        *,
        violations: Sequence[FieldViolation] = (),
        aws_code: str = "",
        aws_request_id: str = "",
    ) -> None:
        super().__init__(message, aws_code=aws_code, aws_request_id=aws_request_id)
        self.violations = list(violations)


class NotFound(DomainError):
    """The named resource does not exist."""

    def __init__(
        self,
        message: str,
        *,
        resource_type: str,
        resource_name: str,
        aws_code: str = "",
        aws_request_id: str = "",
    ) -> None:
        super().__init__(message, aws_code=aws_code, aws_request_id=aws_request_id)
        self.resource_type = resource_type
        self.resource_name = resource_name


class QuotaExceeded(DomainError):
    """An AWS quota or limit (or one of the facade's own) would be exceeded."""

    def __init__(
        self, message: str, *, subject: str, trailers: tuple[tuple[str, str], ...] = (), **kw: str
    ) -> None:
        super().__init__(message, trailers=trailers, **kw)
        self.subject = subject


class Throttled(DomainError):
    """AWS kept throttling after retries; the caller should retry later."""

    def __init__(
        self, message: str, *, retry_after: float = 1.0, aws_code: str = "", aws_request_id: str = ""
    ) -> None:
        super().__init__(message, aws_code=aws_code, aws_request_id=aws_request_id)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """AWS (or the resource) is unavailable for now; retrying may succeed."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float = 1.0,
        trailers: tuple[tuple[str, str], ...] = (),
        **kw: str,
    ) -> None:
        super().__init__(message, trailers=trailers, **kw)
        self.retry_after = retry_after


class UpstreamInternal(Unavailable):
    """AWS answered with a server-side error (5xx)."""


class AuditUnavailable(Unavailable):
    """The audit log cannot be written: mutations are refused before AWS (fail closed).

    It says nothing about AWS's health: AWS was not called.
    """

    def __init__(self, reason: str = "") -> None:
        because = f" ({reason})" if reason else ""
        super().__init__(
            f"the audit log cannot be written{because}, so no change is accepted until it can; retry later",
            aws_code="AuditUnavailable",
        )


class DeadlineExceeded(DomainError):
    """The caller's deadline left no time to finish; the facade stopped working on the call.

    The caller's own budget ran out, so it says nothing about AWS's health.
    """


class Conflict(DomainError):
    """The resource is in a state that does not allow the operation.

    ``preconditions`` name the resources whose state must change first, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        preconditions: Sequence[PreconditionViolation] = (),
        aws_code: str = "",
        aws_request_id: str = "",
    ) -> None:
        super().__init__(message, aws_code=aws_code, aws_request_id=aws_request_id)
        self.preconditions = list(preconditions)


class PermissionDenied(DomainError):
    """AWS refused the facade's credentials for this action."""


class AuthenticationFailed(DomainError):
    """AWS did not accept the facade's credentials at all."""


class Unauthenticated(DomainError):
    """The caller did not prove who it is (no, malformed or unknown credentials)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class AccessDenied(DomainError):
    """The caller's role or scope does not allow this call (said before anything is looked up)."""

    def __init__(self, message: str, *, reason: str, principal: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.principal = principal


class RateLimited(DomainError):
    """The caller exceeded its rate limit (or its calls in flight); retry after ``retry_after`` seconds."""

    def __init__(
        self, message: str, *, subject: str, retry_after: float, reason: str = "RATE_LIMITED"
    ) -> None:
        super().__init__(message)
        self.subject = subject
        self.retry_after = retry_after
        self.reason = reason
