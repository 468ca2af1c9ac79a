"""Authentication comes before decoding: a caller without credentials learns nothing of message types."""

from __future__ import annotations

import grpc
import pytest
from security_helpers import bearer

CREATE = "/connfacade.apprunner.v1.ConnectionService/CreateConnection"
NOT_PROTOBUF = b"\xff"


async def raw_error(channel: grpc.aio.Channel, metadata=()) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await channel.unary_unary(CREATE)(NOT_PROTOBUF, metadata=metadata, timeout=10)
    return caught.value


async def test_undecodable_bytes_without_credentials_are_unauthenticated(channel):
    """No token: UNAUTHENTICATED, and the answer names no request type."""
    err = await raw_error(channel)

    assert err.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "Request" not in err.details()


async def test_undecodable_bytes_of_an_authenticated_caller_are_invalid_argument(channel):
    """The same bytes with the editor's token: INVALID_ARGUMENT naming the request type."""
    err = await raw_error(channel, bearer("editor"))

    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "connfacade.apprunner.v1.CreateConnectionRequest" in err.details()
