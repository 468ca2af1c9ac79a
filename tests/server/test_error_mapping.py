"""AWS errors map to gRPC statuses with rich details, as DESIGN.md's table says.

Failures are produced by the emulator, either naturally (a duplicate name, an
unknown ARN, a quota) or by injecting AWS's error for the next call.
"""

from __future__ import annotations

import grpc
import pytest
from botocore.exceptions import CredentialRetrievalError, NoCredentialsError, PartialCredentialsError
from status_details import details_of, trailer

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.codestar.v1 import connection_service_pb2 as cs
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.server.backend.errors import translate_transport_error
from connfacade.server.domain import AuthenticationFailed, Unavailable

UNKNOWN_AR = "arn:aws:apprunner:us-east-1:123456789012:connection/ghost/0123456789abcdef0123456789abcdef"
UNKNOWN_CS = (
    "arn:aws:codestar-connections:us-east-1:123456789012:connection/7c2d9c53-fe1b-4d6e-a4cd-9f2a1f0c0f61"
)


async def failing(call):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


def create_ar(name="conn-1"):
    return ar.CreateConnectionRequest(connection_name=name, provider_type=ar.PROVIDER_TYPE_GITHUB)


INJECTED = [
    # (AWS status, AWS code, gRPC code, detail types)
    (400, "InvalidRequestException", grpc.StatusCode.INVALID_ARGUMENT, {"ErrorInfo"}),
    (400, "ServiceQuotaExceededException", grpc.StatusCode.RESOURCE_EXHAUSTED, {"QuotaFailure", "ErrorInfo"}),
    (400, "LimitExceededException", grpc.StatusCode.RESOURCE_EXHAUSTED, {"QuotaFailure", "ErrorInfo"}),
    (400, "ThrottlingException", grpc.StatusCode.UNAVAILABLE, {"RetryInfo", "ErrorInfo"}),
    (429, "TooManyRequestsException", grpc.StatusCode.UNAVAILABLE, {"RetryInfo", "ErrorInfo"}),
    (400, "InvalidStateException", grpc.StatusCode.FAILED_PRECONDITION, {"ErrorInfo"}),
    (409, "ConflictException", grpc.StatusCode.FAILED_PRECONDITION, {"ErrorInfo"}),
    (400, "ResourceUnavailableException", grpc.StatusCode.FAILED_PRECONDITION, {"ErrorInfo"}),
    (500, "InternalServiceErrorException", grpc.StatusCode.UNAVAILABLE, {"RetryInfo", "ErrorInfo"}),
    (503, "ServiceUnavailable", grpc.StatusCode.UNAVAILABLE, {"RetryInfo", "ErrorInfo"}),
    (400, "AccessDeniedException", grpc.StatusCode.PERMISSION_DENIED, {"ErrorInfo"}),
    (400, "UnrecognizedClientException", grpc.StatusCode.UNAUTHENTICATED, {"ErrorInfo"}),
    (403, "InvalidSignatureException", grpc.StatusCode.UNAUTHENTICATED, {"ErrorInfo"}),
    (400, "RequestExpired", grpc.StatusCode.UNAUTHENTICATED, {"ErrorInfo"}),
    (408, "RequestTimeoutException", grpc.StatusCode.UNAVAILABLE, {"RetryInfo", "ErrorInfo"}),
    (400, "PriorRequestNotComplete", grpc.StatusCode.UNAVAILABLE, {"RetryInfo", "ErrorInfo"}),
]


@pytest.mark.parametrize(
    ("http_status", "aws_code", "code", "detail_types"), INJECTED, ids=[c[1] for c in INJECTED]
)
async def test_injected_aws_error_maps_to_its_status(
    apprunner, control, http_status, aws_code, code, detail_types
):
    """Each AWS error code becomes the table's gRPC code with its details and AWS request id."""
    await control.inject_fault(
        operation="CreateConnection",
        kind="error",
        http_status=http_status,
        code=aws_code,
        message=f"injected {aws_code}",
        count=1,
    )
    err = await failing(apprunner.CreateConnection(create_ar()))
    assert err.code() == code
    assert f"injected {aws_code}" in err.details()
    details = details_of(err)
    assert set(details) == detail_types
    if "ErrorInfo" in details:
        assert details["ErrorInfo"].reason == aws_code
    assert trailer(err, "x-aws-request-id")
    assert trailer(err, "x-request-id")


async def test_duplicate_name_is_invalid_argument_with_aws_reason(apprunner):
    """App Runner refuses a second connection of the same name: INVALID_ARGUMENT, ErrorInfo."""
    await apprunner.CreateConnection(create_ar())
    err = await failing(apprunner.CreateConnection(create_ar()))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(err)["ErrorInfo"].reason == "InvalidRequestException"


async def test_unknown_arn_is_not_found_with_resource_info(apprunner):
    """Deleting an unknown connection is NOT_FOUND naming the resource."""
    err = await failing(apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=UNKNOWN_AR)))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    info = details_of(err)["ResourceInfo"]
    assert info.resource_name == UNKNOWN_AR
    assert info.resource_type == "apprunner:connection"


async def test_unknown_codestar_connection_is_not_found(codestar):
    """GetConnection of an unknown CodeStar ARN is NOT_FOUND."""
    err = await failing(codestar.GetConnection(cs.GetConnectionRequest(connection_arn=UNKNOWN_CS)))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert details_of(err)["ResourceInfo"].resource_name == UNKNOWN_CS


async def test_quota_reached_is_resource_exhausted(apprunner, control):
    """Past the connection quota, creation is RESOURCE_EXHAUSTED with a QuotaFailure."""
    await control.configure(quotas={"AppRunnerConnectionsPerRegion": 1})
    await apprunner.CreateConnection(create_ar("conn-1"))
    err = await failing(apprunner.CreateConnection(create_ar("conn-2")))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "QuotaFailure" in details_of(err)


@pytest.mark.parametrize("aws_code", ["LimitExceededException", "ServiceQuotaExceededException"])
async def test_a_quota_answered_with_http_429_is_resource_exhausted_not_throttling(
    apprunner, control, aws_code
):
    """AWS's code decides: a quota sent with 429 (as codeconnections models it) is RESOURCE_EXHAUSTED."""
    await control.inject_fault(
        operation="CreateConnection", kind="error", http_status=429, code=aws_code, message="quota", count=1
    )
    err = await failing(apprunner.CreateConnection(create_ar()))
    assert err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert set(details_of(err)) == {"QuotaFailure", "ErrorInfo"}


async def test_deleting_a_connection_in_use_is_failed_precondition(apprunner, control):
    """A connection still used by a service cannot be deleted: FAILED_PRECONDITION."""
    arn = (await apprunner.CreateConnection(create_ar())).connection.connection_arn
    await control.set_in_use(arn, True)
    err = await failing(apprunner.DeleteConnection(ar.DeleteConnectionRequest(connection_arn=arn)))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_updating_a_pending_host_is_failed_precondition(hosts):
    """UpdateHost on a host that is not AVAILABLE is AWS's ConflictException: FAILED_PRECONDITION."""
    arn = (
        await hosts.CreateHost(
            hs.CreateHostRequest(name="h", provider_type=3, provider_endpoint="https://h.example.com")
        )
    ).host_arn
    err = await failing(hosts.UpdateHost(hs.UpdateHostRequest(host_arn=arn, provider_endpoint="https://x")))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details_of(err)["ErrorInfo"].reason == "ConflictException"


async def test_dropped_connection_is_unavailable(apprunner, control):
    """AWS closing the connection without an answer is UNAVAILABLE with RetryInfo."""
    await control.inject_fault(operation="ListConnections", kind="drop", count=1)
    err = await failing(apprunner.ListConnections(ar.ListConnectionsRequest()))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert "RetryInfo" in details_of(err)


async def test_unexpected_failure_is_internal_without_a_traceback(apprunner, control):
    """AWS answering garbage still yields a clean status, never a stack trace."""
    await control.inject_fault(
        operation="ListConnections",
        kind="error",
        http_status=418,
        code="TeapotException",
        message="short and stout",
        count=1,
    )
    err = await failing(apprunner.ListConnections(ar.ListConnectionsRequest()))
    assert err.code() in {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INTERNAL}
    assert "Traceback" not in err.details()


@pytest.mark.parametrize(
    "error",
    [
        CredentialRetrievalError(provider="container-role", error_msg="connection refused"),
        PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
        NoCredentialsError(),
    ],
    ids=["credential-retrieval", "partial-credentials", "no-credentials"],
)
def test_the_facades_own_credential_failures_are_authentication_failures_not_outages(error):
    """IRSA/STS trouble is no AWS outage: not UNAVAILABLE (retry), and no circuit-breaker failure."""
    mapped = translate_transport_error(error, "CreateConnection")
    assert isinstance(mapped, AuthenticationFailed)
    assert not isinstance(mapped, Unavailable)
