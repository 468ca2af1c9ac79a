"""AWS failures → domain errors: the one place that knows botocore's exceptions."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)
from botocore.model import ListShape, OperationNotFoundError, Shape, StructureShape

from connfacade.server.awsmodel import service_model, snake_path
from connfacade.server.domain import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    FieldViolation,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PreconditionViolation,
    QuotaExceeded,
    Throttled,
    Unavailable,
    UpstreamInternal,
)

if TYPE_CHECKING:
    from connfacade.server.awsmodel._validate import Path
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
    "RequestExpired",  # the signature's time is off: a clock to fix, not a request to resend
}
_PERMISSION = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "NotAuthorized"}
_INVALID = {"InvalidRequestException", "ValidationException", "InvalidInputException"}
# CodeStar's answer when the host a request names is not AVAILABLE. A pending host
# leaves PENDING only when a person completes its setup: retrying cannot help.
_HOST_NOT_AVAILABLE = "ResourceUnavailableException"
_CONFLICT = {
    "InvalidStateException",
    "ConflictException",
    "UnsupportedOperationException",
    "ConcurrentModificationException",
    _HOST_NOT_AVAILABLE,
}
# A quota answer stays a quota whatever its HTTP status (codeconnections models
# LimitExceededException as 429), and is never retried (see `retries`).
QUOTA_CODES = frozenset({"ServiceQuotaExceededException", "LimitExceededException"})
_UNAVAILABLE = {
    "ServiceUnavailable",
    "ServiceUnavailableException",
    # 4xx answers that botocore itself counts as transient: worth a retry, not the caller's mistake.
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "BandwidthLimitExceeded",
}
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
    (QUOTA_CODES, QuotaExceeded),
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
    # A connection that a service still uses cannot be deleted; App Runner says
    # so only in the message of an InvalidRequestException.
    if code == "InvalidRequestException" and "in use" in message.lower():
        return Conflict
    # AWS's code says what happened; the HTTP status only speaks for codes not known here.
    for codes, kind in _TABLE:
        if code in codes:
            return kind
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return Throttled
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
    if kind is InvalidRequest:
        return InvalidRequest(
            message,
            violations=upstream_field_violations(service.value, operation, message, params),
            aws_code=code,
            aws_request_id=request_id,
        )
    if kind is QuotaExceeded:
        return QuotaExceeded(
            message, subject=f"{service.value}:{operation}", aws_code=code, aws_request_id=request_id
        )
    if kind is Conflict and code == _HOST_NOT_AVAILABLE and params.get("HostArn"):
        unmet = PreconditionViolation("HOST_NOT_AVAILABLE", str(params["HostArn"]), message)
        return Conflict(message, preconditions=[unmet], aws_code=code, aws_request_id=request_id)
    return kind(message, aws_code=code, aws_request_id=request_id)


# Which request fields AWS's refusal of a request names. AWS says it in prose,
# in one of four ways, all read off the operation's input shape (so a member is
# found even when the request left it out):
#   its model name            "A HostArn is required for ProviderType ..."
#   its path, quoted          "Value 'x' at 'vpcConfiguration.subnetIds' failed ..."
#   its name in words         "A resource can have at most 50 tags ..."
#   the value sent for it     "Connection with name my-conn already exists"

_VALIDATION_ERRORS = re.compile(r"^\d+ validation errors? detected: (?P<clauses>.*)$", re.DOTALL)
# A lowerCamel member path in quotes; the quoted value of "Value '...' at" is not one.
_QUOTED_PATH = re.compile(r"(?<!Value )'(?P<path>[a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*)'")
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*")
# What may not touch a name or value for it to count as a whole one.
_BEFORE = r"(?<![\w-])"
_AFTER = r"(?![\w-])"


@dataclass(frozen=True, slots=True)
class _Member:
    """One member of an operation's input, reachable through structures only."""

    path: tuple[str, ...]
    field: str
    by_name: re.Pattern[str]
    by_words: re.Pattern[str]
    last_word: str


def _member(path: tuple[str, ...]) -> _Member:
    name = path[-1]
    words = _NAME_WORDS.findall(name)
    # The last word singular or plural: "tag" and "tags" both name Tags.
    stem = words[-1].removesuffix("s")
    spoken = r"\s+".join([*map(re.escape, words[:-1]), re.escape(stem) + "s?"])
    return _Member(
        path=path,
        field=snake_path(path),
        by_name=re.compile(rf"{_BEFORE}{re.escape(name)}{_AFTER}"),
        by_words=re.compile(rf"{_BEFORE}{spoken}{_AFTER}", re.IGNORECASE),
        last_word=words[-1],
    )


def _walk(shape: StructureShape, prefix: tuple[str, ...], seen: frozenset[str]) -> Iterator[_Member]:
    # Members inside list items are left out: a message naming "Key" does not say which tag.
    for name, member in shape.members.items():
        path = (*prefix, name)
        yield _member(path)
        if isinstance(member, StructureShape) and member.name not in seen:
            yield from _walk(member, path, seen | {member.name})


@functools.cache
def _input(service: str, operation: str) -> tuple[StructureShape | None, tuple[_Member, ...]]:
    try:
        shape = service_model(service).operation_model(operation).input_shape
    except OperationNotFoundError:
        return None, ()
    if not isinstance(shape, StructureShape):
        return None, ()
    return shape, tuple(_walk(shape, (), frozenset({shape.name})))


def _resolve(shape: Shape, aws_path: str) -> Path | None:
    """``tags.1.member.key`` -> ``("Tags", 0, "Key")``; None unless every step is in the model."""
    parts = aws_path.split(".")
    path: list[str | int] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(shape, StructureShape):
            name = next((n for n in shape.members if n[:1].lower() + n[1:] == part), None)
            if name is None:
                return None
            path.append(name)
            shape = shape.members[name]
            i += 1
        elif isinstance(shape, ListShape) and part.isdigit() and parts[i + 1 : i + 2] == ["member"]:
            # AWS numbers list items from 1, the proto path from 0.
            path.append(int(part) - 1)
            shape = shape.member
            i += 2
        else:
            return None
    return tuple(path)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _masked(text: str, params: Mapping[str, Any]) -> str:
    """``text`` with the caller's values blanked out, so that a value cannot pass for a name.

    Blanking keeps the length, so positions in both texts agree.
    """
    for value in sorted(set(_strings(params)) - {""}, key=len, reverse=True):
        text = re.sub(rf"{_BEFORE}{re.escape(value)}{_AFTER}", lambda m: "\x00" * len(m.group()), text)
    return text


def _sent(params: Mapping[str, Any], path: tuple[str, ...]) -> object:
    value: object = params
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _named_in(
    clause: str, shape: StructureShape, members: tuple[_Member, ...], params: Mapping[str, Any]
) -> list[tuple[int, str]]:
    """(position, proto field path) of every member ``clause`` names."""
    text = _masked(clause, params)
    found: list[tuple[int, str]] = []
    for match in _QUOTED_PATH.finditer(text):
        if path := _resolve(shape, match["path"]):
            found.append((match.start(), snake_path(path)))
            # A resolved path names only its own leaf: "tags" in 'tags.2.member.key' is not all tags.
            text = text[: match.start()] + "\x00" * len(match.group()) + text[match.end() :]
    for member in members:
        hit = member.by_name.search(text) or member.by_words.search(text)
        value = _sent(params, member.path)
        if hit is None and isinstance(value, str) and value:
            echo = rf"{_BEFORE}(?i:{re.escape(member.last_word)})\s+'?{re.escape(value)}'?{_AFTER}"
            hit = re.search(echo, clause)
        if hit is not None:
            found.append((hit.start(), member.field))
    return sorted(found)


def upstream_field_violations(
    service: str, operation: str, message: str, params: Mapping[str, Any]
) -> list[FieldViolation]:
    """The request fields (proto paths) that AWS's refusal ``message`` of ``operation`` names.

    One violation per field, in the order the message names them; its
    description is the part of the message about it (a whole validation error,
    or the whole message). Empty when the message names no member of the
    operation's input.
    """
    shape, members = _input(service, operation)
    if shape is None:
        return []
    many = _VALIDATION_ERRORS.match(message)
    clauses = re.split(r"; (?=Value )", many["clauses"]) if many else [message]
    violations: dict[str, FieldViolation] = {}
    for clause in clauses:
        for _, field in _named_in(clause, shape, members, params):
            violations.setdefault(field, FieldViolation(field, clause))
    return list(violations.values())


def translate_transport_error(err: BaseException, operation: str) -> DomainError:
    """Maps a failure to reach AWS at all (network, timeout, credentials)."""
    if isinstance(err, NoCredentialsError):
        return AuthenticationFailed(
            f"{operation}: the facade has no AWS credentials", aws_code="NoCredentials"
        )
    if isinstance(err, (CredentialRetrievalError, PartialCredentialsError, TokenRetrievalError, SSOError)):
        # An IRSA / STS / SSO problem of the facade's own credentials: AWS itself is
        # not failing (so no breaker failure), and the caller cannot fix it by retrying.
        return AuthenticationFailed(
            f"{operation}: the facade's AWS credentials could not be loaded ({type(err).__name__})",
            aws_code=type(err).__name__,
        )
    if isinstance(err, (ReadTimeoutError, ConnectTimeoutError, asyncio.TimeoutError)):
        return Unavailable(f"{operation}: AWS did not answer in time", aws_code="Timeout")
    if isinstance(err, (EndpointConnectionError, ConnectionClosedError)):
        return Unavailable(f"{operation}: could not reach AWS", aws_code="ConnectionError")
    if isinstance(err, BotoCoreError):
        return Unavailable(f"{operation}: {type(err).__name__}", aws_code=type(err).__name__)
    return Unavailable(f"{operation}: connection to AWS failed", aws_code=type(err).__name__)
