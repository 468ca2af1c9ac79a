"""A mutation whose bytes are no request message is recorded like any refused mutation."""

from __future__ import annotations

import grpc
import pytest

CREATE = "/connfacade.apprunner.v1.ConnectionService/CreateConnection"
GARBLED = b"\x0a\x40conn"  # a connection name claiming 64 bytes, 4 of which follow


async def test_a_garbled_mutation_gets_one_record_with_its_size_and_no_parameters(channel, audit_records):
    """INVALID_ARGUMENT on the record, no parameters (there are none to parse), the bytes' size, the id."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary(CREATE)(GARBLED, metadata=(("x-request-id", "garbled-1"),))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    [record] = audit_records()
    assert record["eventName"] == "CreateConnection"
    assert record["statusCode"] == "INVALID_ARGUMENT"
    assert record["requestID"] == "garbled-1"
    assert record["requestParameters"] is None
    assert record["additionalEventData"] == {"undecodableRequestBytes": len(GARBLED)}
    assert "connfacade.apprunner.v1.CreateConnectionRequest" in record["errorMessage"]
