"""Reading the rich status details a failed call carries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.rpc import error_details_pb2
from grpc_status import rpc_status

if TYPE_CHECKING:
    import grpc

DETAIL_TYPES = {
    "BadRequest": error_details_pb2.BadRequest,
    "ErrorInfo": error_details_pb2.ErrorInfo,
    "ResourceInfo": error_details_pb2.ResourceInfo,
    "QuotaFailure": error_details_pb2.QuotaFailure,
    "RetryInfo": error_details_pb2.RetryInfo,
    "RequestInfo": error_details_pb2.RequestInfo,
}


def details_of(err: grpc.aio.AioRpcError) -> dict[str, object]:
    """The google.rpc details packed into ``err``, by type name."""
    status = rpc_status.from_call(err)
    assert status is not None, "the status carries no rich details"
    found: dict[str, object] = {}
    for packed in status.details:
        for name, cls in DETAIL_TYPES.items():
            if packed.Is(cls.DESCRIPTOR):
                message = cls()
                packed.Unpack(message)
                found[name] = message
    return found


def violated_fields(err: grpc.aio.AioRpcError) -> list[str]:
    """The fields a BadRequest in ``err`` names."""
    bad = details_of(err)["BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    return [v.field for v in bad.field_violations]


def trailer(err_or_call: grpc.aio.AioRpcError, key: str) -> str:
    """One trailing metadata value of a failed call."""
    for k, v in err_or_call.trailing_metadata() or ():
        if k == key:
            return str(v)
    return ""
