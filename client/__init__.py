"""connfacade client: typed Python clients of the facade and the ``connfacade`` command.

``connfacade.client.aio`` holds the asyncio clients and ``connfacade.client.sync``
the blocking ones; both are re-exported here, the asyncio ones with an
``Async`` prefix (as httpx does). Generated stubs import as
``connfacade.apprunner.v1`` and ``connfacade.codestar.v1``.
"""

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
