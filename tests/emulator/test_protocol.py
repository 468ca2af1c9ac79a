"""The AWS JSON 1.0 wire protocol, spoken raw over HTTP: targets, auth, errors, request ids."""

from __future__ import annotations

import json
import re

import aiohttp
import pytest

from connfacade.server.emulator import _apprunner

APPRUNNER_TARGET = "AppRunner.ListConnections"
CODESTAR_TARGET = "com.amazonaws.codestar.connections.CodeStar_connections_20191201.ListHosts"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def _auth(region: str = "us-east-1", service: str = "apprunner") -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/{region}/{service}/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
    )


async def _post(
    url: str, target: str | None, body: bytes = b"{}", auth: str | None = None
) -> tuple[int, dict, dict]:
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    if target is not None:
        headers["X-Amz-Target"] = target
    if auth is not None:
        headers["Authorization"] = auth
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/", data=body, headers=headers) as response,
    ):
        return response.status, dict(response.headers), json.loads(await response.read())


async def test_success_carries_request_id_and_json_content_type(emulator) -> None:
    """A successful answer is JSON 1.0 with an x-amzn-RequestId uuid4."""
    status, headers, body = await _post(
        emulator.url, CODESTAR_TARGET, auth=_auth(service="codestar-connections")
    )
    assert (status, body) == (200, {"Hosts": []})
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert UUID.fullmatch(headers["x-amzn-RequestId"])


async def test_missing_authorization_is_missing_authentication_token(emulator) -> None:
    """A request without a SigV4 Authorization header answers 400 MissingAuthenticationTokenException."""
    for auth in (None, "Basic dXNlcjpwYXNz"):
        status, headers, body = await _post(emulator.url, APPRUNNER_TARGET, auth=auth)
        assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
        assert UUID.fullmatch(headers["x-amzn-RequestId"])


async def test_malformed_credential_scope_is_incomplete_signature(emulator) -> None:
    """A SigV4 header without a credential scope answers IncompleteSignatureException."""
    status, _, body = await _post(emulator.url, APPRUNNER_TARGET, auth="AWS4-HMAC-SHA256 Signature=abc")
    assert (status, body["__type"]) == (400, "IncompleteSignatureException")


@pytest.mark.parametrize(
    "target",
    [None, "AppRunner.CreateService", "AppRunner.", "Nope.ListConnections", "ListConnections"],
)
async def test_unknown_target_is_unknown_operation(emulator, target: str | None) -> None:
    """A target naming no emulated operation answers 400 UnknownOperationException."""
    status, _, body = await _post(emulator.url, target, auth=_auth())
    assert (status, body["__type"]) == (400, "UnknownOperationException")


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
async def test_body_that_is_not_a_json_object_is_a_serialization_error(emulator, raw: bytes) -> None:
    """A body that is not a JSON object answers 400 SerializationException."""
    status, _, body = await _post(emulator.url, APPRUNNER_TARGET, raw, auth=_auth())
    assert (status, body["__type"]) == (400, "SerializationException")


async def test_empty_body_is_an_empty_request(emulator) -> None:
    """An empty body means no parameters."""
    status, _, body = await _post(emulator.url, APPRUNNER_TARGET, b"", auth=_auth())
    assert (status, body) == (200, {"ConnectionSummaryList": []})


async def test_region_comes_from_the_credential_scope(emulator) -> None:
    """The region a request is signed for decides where a connection is created."""
    create = b'{"ConnectionName": "my-conn", "ProviderType": "GITHUB"}'
    _, _, body = await _post(emulator.url, "AppRunner.CreateConnection", create, auth=_auth("ap-southeast-2"))
    assert body["Connection"]["ConnectionArn"].startswith("arn:aws:apprunner:ap-southeast-2:123456789012:")
    assert isinstance(body["Connection"]["CreatedAt"], float)


async def test_unknown_member_is_a_validation_exception(emulator) -> None:
    """A member the model does not know answers ValidationException naming it."""
    status, _, body = await _post(emulator.url, APPRUNNER_TARGET, b'{"Bogus": 1}', auth=_auth())
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "at 'bogus'" in body["message"]


async def test_unexpected_error_is_a_500_without_traceback(emulator, control, monkeypatch) -> None:
    """A bug in a handler answers 500 InternalServiceErrorException; no Python detail leaks."""

    def broken(_call, _params):
        raise RuntimeError("secret internal detail")

    monkeypatch.setitem(_apprunner.HANDLERS, "ListConnections", broken)
    status, headers, body = await _post(emulator.url, APPRUNNER_TARGET, auth=_auth())
    assert (status, body["__type"]) == (500, "InternalServiceErrorException")
    assert "secret" not in json.dumps(body)
    assert "Traceback" not in json.dumps(body)
    assert UUID.fullmatch(headers["x-amzn-RequestId"])
    (entry,) = await control.requests()
    assert (entry["Status"], entry["ErrorCode"]) == (500, "InternalServiceErrorException")
