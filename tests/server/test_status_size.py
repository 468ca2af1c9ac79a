"""A failure's status fits what gRPC clients accept, however many rules the request broke.

gRPC clients refuse trailing metadata beyond 8 KiB (soft) / 16 KiB (hard) by
default, and answer RESOURCE_EXHAUSTED "Stream removed" instead of the
server's status. So the violations listed are capped, each description is
cut, and the message says how many were left out.
"""

from __future__ import annotations

import base64

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from status_details import details_of, trailer

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.codestar.v1 import host_service_pb2 as hs
from connfacade.codestar.v1 import types_pb2
from connfacade.server.api.status import to_status
from connfacade.server.domain import FieldViolation, InvalidArgument, InvalidRequest, NotFound

CLIENT_SOFT_LIMIT = 8192  # grpc.max_metadata_size, the default of gRPC's C core (Java's default too)
ENTRY_OVERHEAD = 32  # what HTTP/2 (and gRPC's accounting) adds to each header


def percent_encoded(text: str) -> int:
    """The length of ``text`` as grpc-message carries it (bytes outside printable ASCII, and %, as %XX)."""
    return sum(1 if 0x20 <= b <= 0x7E and b != ord("%") else 3 for b in text.encode())


def metadata_size(status) -> int:
    """The size of a status's trailers as a client counts them (binary values base64-encoded, to be safe)."""
    size = len("grpc-status") + 2 + len("grpc-message") + percent_encoded(status.details) + 2 * ENTRY_OVERHEAD
    for key, value in status.trailing_metadata:
        encoded = base64.b64encode(value) if isinstance(value, bytes) else value.encode()
        size += len(key) + len(encoded) + ENTRY_OVERHEAD
    return size


def bad_request(status) -> error_details_pb2.BadRequest:
    """The BadRequest packed into a status built by the server."""
    packed = status_pb2.Status.FromString(dict(status.trailing_metadata)["grpc-status-details-bin"])
    bad = error_details_pb2.BadRequest()
    assert packed.details[0].Unpack(bad)
    return bad


async def failing(call):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def test_fifty_bad_tags_get_invalid_argument_through_a_default_client(apprunner):
    """50 `aws:` keys with 300-character values: INVALID_ARGUMENT with a BadRequest and the request id."""
    request = ar.CreateConnectionRequest(
        connection_name="conn-1",
        provider_type=ar.PROVIDER_TYPE_GITHUB,
        tags=[ar.Tag(key=f"aws:key-{i}", value="v" * 300) for i in range(50)],
    )

    err = await failing(apprunner.CreateConnection(request))

    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(err)["BadRequest"].field_violations
    assert "not listed" in err.details()
    assert trailer(err, "x-request-id")


async def test_fifty_bad_subnet_ids_get_invalid_argument_through_a_default_client(hosts):
    """A host VPC configuration with 50 long, malformed subnet ids: INVALID_ARGUMENT, not a lost answer."""
    request = hs.CreateHostRequest(
        name="host-1",
        provider_type=types_pb2.PROVIDER_TYPE_GITHUB_ENTERPRISE_SERVER,
        provider_endpoint="https://github.example.com",
        vpc_configuration=hs.VpcConfiguration(
            vpc_id="vpc-0123456789abcdef0",
            subnet_ids=[f"not a subnet {'x' * 200} {i}" for i in range(50)],
            security_group_ids=["sg-0123456789abcdef0"],
        ),
    )

    err = await failing(hosts.CreateHost(request))

    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(err)["BadRequest"].field_violations
    assert trailer(err, "x-request-id")


def test_thousands_of_long_violations_fit_the_clients_limit():
    """1,000 violations of 1,000 characters (any script): the trailers stay under 8 KiB."""
    violations = [FieldViolation(f"tags[{i}].value", "é✓" * 500) for i in range(1000)]

    status = to_status(InvalidArgument(violations), request_id="r-1")

    assert metadata_size(status) < CLIENT_SOFT_LIMIT
    listed = len(bad_request(status).field_violations)
    assert listed >= 1
    assert f"({1000 - listed} more violations not listed in the details)" in status.details


@pytest.mark.parametrize(
    "err",
    [
        InvalidRequest("AWS says " + "no " * 20_000, violations=[FieldViolation("tags", "x" * 50_000)]),
        NotFound("gone " * 10_000, resource_type="apprunner:connection", resource_name="arn:" + "a" * 5000),
    ],
    ids=["long AWS message", "long resource"],
)
def test_long_messages_from_anywhere_fit_the_clients_limit(err):
    """Whatever its source (AWS's prose, a resource name), no status outgrows what clients accept."""
    status = to_status(err, request_id="r-1", aws_request_id="a-1")

    assert metadata_size(status) < CLIENT_SOFT_LIMIT
