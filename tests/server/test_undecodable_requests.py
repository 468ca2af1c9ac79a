"""Bytes that are not the request message are a bad request like any other.

A generic client (identity serializers) sends raw bytes; the facade answers
INVALID_ARGUMENT naming the request type and, where the bytes tell, the field
whose encoding broke, with its request id and a log line, on every method,
streaming or not.
"""

from __future__ import annotations

import grpc
import pytest
import structlog
from status_details import details_of, trailer, violated_fields
from structlog.testing import capture_logs

from connfacade.apprunner.v1 import connection_service_pb2 as ar
from connfacade.server.app import APPRUNNER_SERVICE, CODESTAR_SERVICE, HOST_SERVICE

RPCS = [
    pytest.param(service, method, id=f"{service.full_name.split('.')[1]}.{service.name}.{method.name}")
    for service in (APPRUNNER_SERVICE, CODESTAR_SERVICE, HOST_SERVICE)
    for method in service.methods
]
NOT_PROTOBUF = b"\xff"  # a field tag cut short: no message of any type


async def send_raw(
    channel: grpc.aio.Channel, service, method, data: bytes, metadata=()
) -> grpc.aio.AioRpcError:
    """Sends ``data`` as the request of ``method``, bytes as they are; the error it answers."""
    path = f"/{service.full_name}/{method.name}"
    if method.server_streaming:
        answer = channel.unary_stream(path)(data, metadata=metadata, timeout=10).read()
    else:
        answer = channel.unary_unary(path)(data, metadata=metadata, timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await answer
    return caught.value


def create_bytes(*values: str) -> bytes:
    """A valid App Runner CreateConnection encoding with one tag per value."""
    return ar.CreateConnectionRequest(
        connection_name="conn-1",
        provider_type=ar.PROVIDER_TYPE_GITHUB,
        tags=[ar.Tag(key=f"k{i}", value=v) for i, v in enumerate(values)],
    ).SerializeToString()


@pytest.fixture
def logs():
    """What the server logs meanwhile (after undoing any level filter another test configured)."""
    structlog.reset_defaults()
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as captured:
        yield captured


@pytest.mark.parametrize(("service", "method"), RPCS)
async def test_bytes_that_are_no_request_answer_invalid_argument_naming_the_type(channel, service, method):
    """Every method, streaming or not: INVALID_ARGUMENT, the type's proto name, a BadRequest, a request id."""
    err = await send_raw(channel, service, method, NOT_PROTOBUF)

    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert f"not a valid {method.input_type.full_name}" in err.details()
    assert "class" not in err.details()
    assert "DecodeError" not in err.details()
    assert "BadRequest" in details_of(err)
    assert trailer(err, "x-request-id")


async def test_a_length_beyond_the_bytes_names_its_field(channel):
    """A CreateConnection cut inside its second tag: the violation names `tags[1]`."""
    data = create_bytes("team", "payments")

    err = await send_raw(
        channel, APPRUNNER_SERVICE, APPRUNNER_SERVICE.methods_by_name["CreateConnection"], data[:-3]
    )

    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err) == ["tags[1]"]


async def test_a_string_that_is_not_utf8_names_its_field(channel):
    """Bytes that are no UTF-8 in a tag's value: the violation names `tags[1].value`."""
    data = create_bytes("team", "XY").replace(b"XY", b"\xff\xfe")

    err = await send_raw(
        channel, APPRUNNER_SERVICE, APPRUNNER_SERVICE.methods_by_name["CreateConnection"], data
    )

    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(err) == ["tags[1].value"]
    assert "UTF-8" in err.details()


async def test_the_refusal_is_logged_under_its_request_id(channel, logs):
    """The server logs the refused call, with the request id the caller got back."""
    err = await send_raw(
        channel, APPRUNNER_SERVICE, APPRUNNER_SERVICE.methods_by_name["ListConnections"], NOT_PROTOBUF
    )

    failed = [e for e in logs if e["event"] == "rpc.failed" and e.get("code") == "INVALID_ARGUMENT"]
    assert [e.get("request_id") for e in failed] == [trailer(err, "x-request-id")]
