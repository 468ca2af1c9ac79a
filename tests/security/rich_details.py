"""Reading google.rpc details out of a failed call."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from google.protobuf.message import Message
from grpc_status import rpc_status

if TYPE_CHECKING:
    import grpc

M = TypeVar("M", bound=Message)


def detail(err: grpc.aio.AioRpcError, kind: type[M]) -> M | None:
    """The first detail of type ``kind`` packed into ``err``'s status, if any."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    for packed in status.details if status else ():
        if packed.Is(kind.DESCRIPTOR):
            found = kind()
            packed.Unpack(found)
            return found
    return None
