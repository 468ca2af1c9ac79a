"""Injected faults as botocore and aiobotocore see them: throttling, errors, latency, drops."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError

from connfacade.server.emulator import EmulatorControlError


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


async def test_throttle_is_throttling_exception(apprunner, control) -> None:
    """A throttle fault answers 400 ThrottlingException "Rate exceeded"."""
    await control.inject_fault(operation="ListConnections", kind="throttle")
    with pytest.raises(ClientError) as error:
        await apprunner.list_connections()
    assert _code(error) == "ThrottlingException"
    assert error.value.response["Error"]["Message"] == "Rate exceeded"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


async def test_throttle_can_answer_429(apprunner, control) -> None:
    """A throttle fault may use HTTP 429 instead of 400."""
    await control.inject_fault(operation="ListConnections", kind="throttle", http_status=429)
    with pytest.raises(ClientError) as error:
        await apprunner.list_connections()
    assert (_code(error), error.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ThrottlingException",
        429,
    )


@pytest.mark.parametrize(
    ("http_status", "code", "message"),
    [
        (500, "InternalServiceErrorException", "An unexpected service exception occurred."),
        (503, "ServiceUnavailable", "Service unavailable"),
        (400, "AccessDeniedException", "User is not authorized"),
        (400, "UnrecognizedClientException", "The security token included in the request is invalid."),
        (400, "ResourceUnavailableException", "Resource not found"),
    ],
)
async def test_error_fault_answers_any_code(
    codestar, control, http_status: int, code: str, message: str
) -> None:
    """An error fault answers the given status, code and message, parsed by botocore as AWS's."""
    await control.inject_fault(
        operation="GetConnection", kind="error", http_status=http_status, code=code, message=message
    )
    with pytest.raises(ClientError) as error:
        await codestar.get_connection(
            ConnectionArn="arn:aws:codestar-connections:us-east-1:123456789012:connection/x"
        )
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == http_status
    assert (_code(error), error.value.response["Error"]["Message"]) == (code, message)


@pytest.mark.parametrize(
    ("service", "expected"),
    [("apprunner", "InternalServiceErrorException"), ("codestar-connections", "InternalServerException")],
)
async def test_error_fault_defaults_to_the_services_500(boto, control, service: str, expected: str) -> None:
    """Without a code an error fault is the service's own 500 error."""
    await control.inject_fault(operation="*", kind="error")
    with pytest.raises(ClientError) as error:
        await boto(service).list_connections()
    assert (_code(error), error.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (expected, 500)


async def test_latency_delays_the_answer(apprunner, control) -> None:
    """A latency fault delays the answer by at least the time injected, then answers normally."""
    await control.inject_fault(operation="ListConnections", kind="latency", latency_ms=200, count=1)
    started = time.monotonic()
    response = await apprunner.list_connections()
    assert time.monotonic() - started >= 0.2
    assert response["ConnectionSummaryList"] == []


async def test_drop_is_a_connection_error(apprunner, control) -> None:
    """A drop fault closes the connection without an answer: botocore sees a connection error."""
    await control.inject_fault(operation="ListConnections", kind="drop", count=1)
    with pytest.raises(ConnectionClosedError):
        await apprunner.list_connections()
    assert (await apprunner.list_connections())["ConnectionSummaryList"] == []


async def test_drop_seen_by_aiobotocore(aio, control) -> None:
    """aiobotocore sees a dropped connection as a connection error too."""
    client = await aio("codestar-connections")
    await control.inject_fault(operation="ListHosts", kind="drop", count=1)
    with pytest.raises(ConnectionClosedError):
        await client.list_hosts()


async def test_count_limits_a_fault(apprunner, control) -> None:
    """A fault with Count affects that many matching requests, then disappears."""
    await control.inject_fault(operation="ListConnections", kind="throttle", count=2)
    for _ in range(2):
        with pytest.raises(ClientError):
            await apprunner.list_connections()
    await apprunner.list_connections()
    assert await control.faults() == []


async def test_faults_match_service_and_operation(boto, control) -> None:
    """A fault affects only its service and operation; "*" matches every operation."""
    apprunner, codestar = boto("apprunner"), boto("codestar-connections")
    await control.inject_fault(operation="ListConnections", kind="throttle", service="codestar-connections")
    await apprunner.list_connections()
    await codestar.list_hosts()
    with pytest.raises(ClientError):
        await codestar.list_connections()
    await control.clear_faults()
    await control.inject_fault(operation="*", kind="throttle", service="apprunner")
    await codestar.list_connections()
    with pytest.raises(ClientError):
        await apprunner.list_tags_for_resource(
            ResourceArn="arn:aws:apprunner:us-east-1:123456789012:connection/x/y"
        )


async def test_faults_apply_before_validation(apprunner, control) -> None:
    """A fault answers even a request the model would reject."""
    await control.inject_fault(operation="CreateConnection", kind="throttle")
    with pytest.raises(ClientError) as error:
        await apprunner.create_connection(ConnectionName="!" * 40, ProviderType="GITHUB")
    assert _code(error) == "ThrottlingException"


async def test_list_and_clear_one_fault(apprunner, control) -> None:
    """Faults are listed with their settings and cleared one by one by id."""
    first = await control.inject_fault(operation="ListConnections", kind="throttle", count=5)
    second = await control.inject_fault(operation="*", kind="latency", latency_ms=1)
    listed = await control.faults()
    assert [(f["FaultId"], f["Kind"], f["Count"]) for f in listed] == [
        (first, "throttle", 5),
        (second, "latency", None),
    ]
    await control.clear_fault(first)
    assert [f["FaultId"] for f in await control.faults()] == [second]
    await apprunner.list_connections()
    with pytest.raises(EmulatorControlError) as error:
        await control.clear_fault(first)
    assert error.value.status == 404


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "explode"},
        {"kind": "latency"},
        {"kind": "throttle", "operation": "CreateService"},
        {"kind": "throttle", "service": "s3"},
        {"kind": "throttle", "count": 0},
    ],
    ids=["unknown-kind", "latency-without-ms", "unknown-operation", "unknown-service", "zero-count"],
)
async def test_malformed_faults_are_refused(control, spec) -> None:
    """The control interface refuses a fault it could not apply, with 400."""
    with pytest.raises(EmulatorControlError) as error:
        await control.inject_fault(**spec)
    assert error.value.status == 400
