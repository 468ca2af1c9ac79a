"""AWS JSON 1.0 on the wire: targets, SigV4 credential scope, bodies and error documents."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from connfacade.server.awsmodel import APPRUNNER, CODESTAR, service_model

if TYPE_CHECKING:
    from collections.abc import Mapping

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
REQUEST_ID_HEADER = "x-amzn-RequestId"
SERVICES = (APPRUNNER, CODESTAR)

# AWS's generic 500 differs per service: App Runner models
# InternalServiceErrorException, CodeStar connections InternalServerException.
INTERNAL_ERROR_CODE = {APPRUNNER: "InternalServiceErrorException", CODESTAR: "InternalServerException"}

# The models that state each error's HTTP status, in the order asked. CodeStar
# connections' own model states none; the same service under its new name,
# codeconnections, states them for the same error shapes.
_STATUS_MODELS = {APPRUNNER: (APPRUNNER,), CODESTAR: (CODESTAR, "codeconnections")}
# An AWS JSON 1.0 client error whose status no model states.
DEFAULT_ERROR_STATUS = 400

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


class AwsError(Exception):
    """An error AWS would answer with: code, message and HTTP status.

    Without a status, the answer has the one the service's model gives the code
    (see `error_status`).
    """

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Target:
    """The service and operation an ``X-Amz-Target`` header names."""

    service: str
    operation: str


@functools.cache
def _target_prefixes() -> dict[str, str]:
    # Read from the models, as botocore builds the header from the same field.
    return {service_model(s).metadata["targetPrefix"]: s for s in SERVICES}


def parse_target(header: str | None, operations: Mapping[str, frozenset[str]]) -> Target:
    """Resolve ``X-Amz-Target`` to one of the emulated ``operations`` (service -> names)."""
    prefix, _, operation = (header or "").rpartition(".")
    service = _target_prefixes().get(prefix)
    if service is None or operation not in operations.get(service, frozenset()):
        raise AwsError("UnknownOperationException", f"Unknown operation {header or '(no X-Amz-Target)'}")
    return Target(service, operation)


def region_from_authorization(header: str | None) -> str:
    """Return the region of a SigV4 ``Authorization`` header's credential scope.

    Signatures are not verified: any access key and secret are accepted.
    """
    if not header or not header.startswith("AWS4-HMAC-SHA256 "):
        raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _CREDENTIAL_SCOPE.search(header)
    if match is None:
        raise AwsError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential' parameter with a valid credential scope.",
        )
    return match.group(2)


def parse_body(raw: bytes) -> dict[str, Any]:
    """Decode a JSON 1.0 request body; an empty body is an empty request."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AwsError("SerializationException", f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise AwsError("SerializationException", "Request body must be a JSON object")
    return body


def json_response(body: dict[str, Any], request_id: str, status: int = 200) -> web.Response:
    """A JSON 1.0 response carrying AWS's request id header."""
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": JSON_CONTENT_TYPE, REQUEST_ID_HEADER: request_id},
    )


@functools.cache
def modeled_status(service: str, code: str) -> int | None:
    """The HTTP status botocore's models give error ``code`` of ``service``; None when none does."""
    for name in _STATUS_MODELS.get(service, ()):
        for shape in service_model(name).error_shapes:
            error = shape.metadata.get("error", {})
            if code in (shape.name, error.get("code")) and "httpStatusCode" in error:
                return int(error["httpStatusCode"])
    return None


def error_status(error: AwsError, service: str | None) -> int:
    """The status ``error`` is answered with: its own, else its model's, else 400."""
    if error.status is not None:
        return error.status
    modeled = modeled_status(service, error.code) if service is not None else None
    return DEFAULT_ERROR_STATUS if modeled is None else modeled


def error_response(error: AwsError, request_id: str, service: str | None) -> web.Response:
    """AWS's error document ``{"__type": code, "message": text}`` with `error_status`."""
    return json_response(
        {"__type": error.code, "message": error.message}, request_id, error_status(error, service)
    )
