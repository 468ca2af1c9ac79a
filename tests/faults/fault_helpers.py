"""What the fault tests share: failing calls, their details, waiting on conditions, metrics."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from connfacade.apprunner.v1 import connection_service_pb2 as ar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from connfacade.server.app import RunningFacade
    from connfacade.server.emulator import EmulatorControl

MAX_ATTEMPTS = 3  # botocore attempts per AWS call in these tests, as in production


async def failing(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    """The error ``call`` fails with."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


def error_info(err: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo packed into ``err``, if any."""
    return _detail(err, error_details_pb2.ErrorInfo)


def retry_info(err: grpc.aio.AioRpcError) -> error_details_pb2.RetryInfo | None:
    """The RetryInfo packed into ``err``, if any."""
    return _detail(err, error_details_pb2.RetryInfo)


def quota_failure(err: grpc.aio.AioRpcError) -> error_details_pb2.QuotaFailure | None:
    """The QuotaFailure packed into ``err``, if any."""
    return _detail(err, error_details_pb2.QuotaFailure)


def precondition_failure(err: grpc.aio.AioRpcError) -> error_details_pb2.PreconditionFailure | None:
    """The PreconditionFailure packed into ``err``, if any."""
    return _detail(err, error_details_pb2.PreconditionFailure)


def _detail(err, cls):
    status = rpc_status.from_call(err)
    for packed in status.details if status is not None else ():
        if packed.Is(cls.DESCRIPTOR):
            found = cls()
            packed.Unpack(found)
            return found
    return None


def create(name: str) -> ar.CreateConnectionRequest:
    """A valid App Runner CreateConnection request."""
    return ar.CreateConnectionRequest(connection_name=name, provider_type=ar.PROVIDER_TYPE_GITHUB)


async def aws_requests(control: EmulatorControl, operation: str | None = None) -> int:
    """How many App Runner calls (of ``operation``) reached the emulator."""
    return len(await control.requests(service="apprunner", operation=operation))


async def eventually(predicate: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    """Waits until ``predicate()`` holds; the timeout is generous, the machine is shared."""
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.02)


def metric(facade: RunningFacade, name: str, **labels: str) -> float:
    """The current value of one sample of the facade's metrics (0 when absent)."""
    return facade.metrics.registry.get_sample_value(name, labels) or 0.0
