"""connfacade client: typed Python clients of the facade and the ``connfacade`` command.

``connfacade.client.aio`` holds the asyncio clients and ``connfacade.client.sync``
the blocking ones; both are re-exported here, the asyncio ones with an
``Async`` prefix (as httpx does). Generated stubs import as
``connfacade.apprunner.v1`` and ``connfacade.codestar.v1``.

Names load on first use (PEP 562), so that importing one module of the
package (the server reads ``connfacade.client.policy``) does not import the
clients.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connfacade.client._convert import USE_CLIENT_DEFAULT, UseClientDefault
    from connfacade.client.aio import AppRunnerClient as AsyncAppRunnerClient
    from connfacade.client.aio import CodeStarConnectionsClient as AsyncCodeStarConnectionsClient
    from connfacade.client.errors import (
        AbortedError,
        AlreadyExistsError,
        ConnfacadeError,
        DataLossError,
        DeadlineExceededError,
        ErrorInfo,
        FailedPreconditionError,
        FieldViolation,
        InternalError,
        InvalidArgumentError,
        NotFoundError,
        OutOfRangeError,
        PaginationError,
        PermissionDeniedError,
        QuotaViolation,
        ResourceExhaustedError,
        ResourceInfo,
        RpcCancelledError,
        UnauthenticatedError,
        UnavailableError,
        UnimplementedError,
        UnknownError,
        from_rpc_error,
    )
    from connfacade.client.paginators import AsyncPaginator, Paginator
    from connfacade.client.retry import RetryPolicy
    from connfacade.client.sync import AppRunnerClient, CodeStarConnectionsClient
    from connfacade.client.watch import AsyncConnectionWatch, ConnectionWatch, Resync

_LAZY: dict[str, tuple[str, str]] = {
    "AbortedError": ("connfacade.client.errors", "AbortedError"),
    "AlreadyExistsError": ("connfacade.client.errors", "AlreadyExistsError"),
    "AppRunnerClient": ("connfacade.client.sync", "AppRunnerClient"),
    "AsyncAppRunnerClient": ("connfacade.client.aio", "AppRunnerClient"),
    "AsyncCodeStarConnectionsClient": ("connfacade.client.aio", "CodeStarConnectionsClient"),
    "AsyncConnectionWatch": ("connfacade.client.watch", "AsyncConnectionWatch"),
    "AsyncPaginator": ("connfacade.client.paginators", "AsyncPaginator"),
    "CodeStarConnectionsClient": ("connfacade.client.sync", "CodeStarConnectionsClient"),
    "ConnectionWatch": ("connfacade.client.watch", "ConnectionWatch"),
    "ConnfacadeError": ("connfacade.client.errors", "ConnfacadeError"),
    "DataLossError": ("connfacade.client.errors", "DataLossError"),
    "DeadlineExceededError": ("connfacade.client.errors", "DeadlineExceededError"),
    "ErrorInfo": ("connfacade.client.errors", "ErrorInfo"),
    "FailedPreconditionError": ("connfacade.client.errors", "FailedPreconditionError"),
    "FieldViolation": ("connfacade.client.errors", "FieldViolation"),
    "InternalError": ("connfacade.client.errors", "InternalError"),
    "InvalidArgumentError": ("connfacade.client.errors", "InvalidArgumentError"),
    "NotFoundError": ("connfacade.client.errors", "NotFoundError"),
    "OutOfRangeError": ("connfacade.client.errors", "OutOfRangeError"),
    "PaginationError": ("connfacade.client.errors", "PaginationError"),
    "Paginator": ("connfacade.client.paginators", "Paginator"),
    "PermissionDeniedError": ("connfacade.client.errors", "PermissionDeniedError"),
    "QuotaViolation": ("connfacade.client.errors", "QuotaViolation"),
    "ResourceExhaustedError": ("connfacade.client.errors", "ResourceExhaustedError"),
    "ResourceInfo": ("connfacade.client.errors", "ResourceInfo"),
    "Resync": ("connfacade.client.watch", "Resync"),
    "RetryPolicy": ("connfacade.client.retry", "RetryPolicy"),
    "RpcCancelledError": ("connfacade.client.errors", "RpcCancelledError"),
    "USE_CLIENT_DEFAULT": ("connfacade.client._convert", "USE_CLIENT_DEFAULT"),
    "UnauthenticatedError": ("connfacade.client.errors", "UnauthenticatedError"),
    "UnavailableError": ("connfacade.client.errors", "UnavailableError"),
    "UnimplementedError": ("connfacade.client.errors", "UnimplementedError"),
    "UnknownError": ("connfacade.client.errors", "UnknownError"),
    "UseClientDefault": ("connfacade.client._convert", "UseClientDefault"),
    "from_rpc_error": ("connfacade.client.errors", "from_rpc_error"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "USE_CLIENT_DEFAULT",
    "AbortedError",
    "AlreadyExistsError",
    "AppRunnerClient",
    "AsyncAppRunnerClient",
    "AsyncCodeStarConnectionsClient",
    "AsyncConnectionWatch",
    "AsyncPaginator",
    "CodeStarConnectionsClient",
    "ConnectionWatch",
    "ConnfacadeError",
    "DataLossError",
    "DeadlineExceededError",
    "ErrorInfo",
    "FailedPreconditionError",
    "FieldViolation",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfRangeError",
    "PaginationError",
    "Paginator",
    "PermissionDeniedError",
    "QuotaViolation",
    "ResourceExhaustedError",
    "ResourceInfo",
    "Resync",
    "RetryPolicy",
    "RpcCancelledError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UnknownError",
    "UseClientDefault",
    "from_rpc_error",
]
