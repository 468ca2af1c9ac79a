"""AWS failures → domain errors: the one place that knows botocore's exceptions."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from connfacade.server.domain import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Throttled,
    Unavailable,
    UpstreamInternal,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from connfacade.server.domain import Service

_THROTTLING = {
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "Rate exceeded",
}
_AUTHENTICATION = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "MissingAuthenticationTokenException",
    "ExpiredTokenException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
}
_PERMISSION = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "NotAuthorized"}
_INVALID = {"InvalidRequestException", "ValidationException", "InvalidInputException"}
_CONFLICT = {
    "InvalidStateException",
    "ConflictException",
    "UnsupportedOperationException",
    "ConcurrentModificationException",
}
_QUOTA = {"ServiceQuotaExceededException", "LimitExceededException"}
_UNAVAILABLE = {"ResourceUnavailableException", "ServiceUnavailable", "ServiceUnavailableException"}
_RESOURCE_PARAMS = ("ConnectionArn", "HostArn", "ResourceArn", "HostArnFilter")
_INTERNAL = {
    "InternalServiceErrorException",
    "InternalServerException",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
}


# Checked in order: the first row whose codes contain AWS's code wins.
_TABLE: tuple[tuple[frozenset[str], type[DomainError]], ...] = (
    (frozenset(_THROTTLING), Throttled),
    (frozenset(_QUOTA), QuotaExceeded),
    (frozenset(_CONFLICT), Conflict),
    (frozenset(_INVALID), InvalidRequest),
    (frozenset(_PERMISSION), PermissionDenied),
    (frozenset(_AUTHENTICATION), AuthenticationFailed),
    (frozenset(_UNAVAILABLE), Unavailable),
    (frozenset(_INTERNAL), UpstreamInternal),
)


def _kind(code: str, status: int, message: str) -> type[DomainError]:
    if code == "ResourceNotFoundException":
        return NotFound
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return Throttled
    # A connection that a service still uses cannot be deleted; App Runner says
    # so only in the message of an InvalidRequestException.
    if code == "InvalidRequestException" and "in use" in message.lower():
        return Conflict
    for codes, kind in _TABLE:
        if code in codes:
            return kind
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return UpstreamInternal
    return InvalidRequest if status >= HTTPStatus.BAD_REQUEST else UpstreamInternal


def translate_client_error(
    err: ClientError, service: Service, operation: str, params: Mapping[str, Any]
) -> DomainError:
    """Maps a botocore ClientError to the domain error DESIGN.md's table names."""
    error = err.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")) or code
    meta = err.response.get("ResponseMetadata", {})
    request_id = str(meta.get("RequestId", ""))
    kind = _kind(code, int(meta.get("HTTPStatusCode", 0) or 0), message)
    if kind is NotFound:
        name = next((str(params[k]) for k in _RESOURCE_PARAMS if params.get(k)), "")
        resource = "host" if "Host" in operation else "connection"
        return NotFound(
            message,
            resource_type=f"{service.value}:{resource}",
            resource_name=name,
            aws_code=code,
            aws_request_id=request_id,
        )
    if kind is QuotaExceeded:
        return QuotaExceeded(
            message, subject=f"{service.value}:{operation}", aws_code=code, aws_request_id=request_id
        )
    return kind(message, aws_code=code, aws_request_id=request_id)


def translate_transport_error(err: BaseException, operation: str) -> DomainError:
    """Maps a failure to reach AWS at all (network, timeout, credentials)."""
    if isinstance(err, NoCredentialsError):
        return AuthenticationFailed(
            f"{operation}: the facade has no AWS credentials", aws_code="NoCredentials"
        )
    if isinstance(err, (ReadTimeoutError, ConnectTimeoutError, asyncio.TimeoutError)):
        return Unavailable(f"{operation}: AWS did not answer in time", aws_code="Timeout")
    if isinstance(err, (EndpointConnectionError, ConnectionClosedError)):
        return Unavailable(f"{operation}: could not reach AWS", aws_code="ConnectionError")
    if isinstance(err, BotoCoreError):
        return Unavailable(f"{operation}: {type(err).__name__}", aws_code=type(err).__name__)
    return Unavailable(f"{operation}: connection to AWS failed", aws_code=type(err).__name__)
