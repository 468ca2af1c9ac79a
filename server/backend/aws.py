"""The aiobotocore backend: one long-lived client per AWS service."""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Self

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from connfacade.server import callcontext
from connfacade.server.backend.errors import translate_client_error, translate_transport_error
from connfacade.server.backend.retries import answer_quotas_at_once
from connfacade.server.deadlines import bounded
from connfacade.server.domain import Service

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from aiobotocore.session import AioSession

_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")


def _method_name(operation: str) -> str:
    return _SNAKE.sub("_", operation).lower()


class AioBotoBackend:
    """Calls AWS (or the emulator, through ``endpoint_url``) with aiobotocore.

    Clients are created once at `start` and reused: each holds a connection
    pool, sized deliberately (aiobotocore's default of 10 starves concurrent
    callers). Credentials come from the default chain unless given.

    ``session`` is the aiobotocore session the clients come from; without one
    the backend makes its own. A session loads and keeps the service models
    and endpoint data (tens of milliseconds), so backends made side by side,
    as in tests, share one.
    """

    def __init__(
        self,
        *,
        region: str,
        endpoint_url: str | None = None,
        credentials: tuple[str, str] | None = None,
        max_pool_connections: int = 64,
        max_attempts: int = 3,
        retry_mode: str = "standard",
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        session: AioSession | None = None,
    ) -> None:
        self.region = region
        self._session = session
        self.endpoint_url = endpoint_url
        self._credentials = credentials
        self._config = AioConfig(
            region_name=region,
            # total_max_attempts counts the first try; botocore's max_attempts counts only retries.
            # adaptive adds client-side rate limiting on top of standard's backoff.
            # Either way a quota answer is not retried (see `answer_quotas_at_once`).
            retries={"mode": retry_mode, "total_max_attempts": max_attempts},
            max_pool_connections=max_pool_connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._stack = AsyncExitStack()
        self._clients: dict[Service, Any] = {}

    async def start(self) -> None:
        """Creates the clients; call once before `call`."""
        session = self._session if self._session is not None else get_session()
        extra: dict[str, str] = {}
        if self._credentials is not None:
            extra = {"aws_access_key_id": self._credentials[0], "aws_secret_access_key": self._credentials[1]}
        for service in Service:
            client = session.create_client(
                service.value, endpoint_url=self.endpoint_url, config=self._config, **extra
            )
            self._clients[service] = await self._stack.enter_async_context(client)
            answer_quotas_at_once(self._clients[service])

    async def close(self) -> None:
        """Closes the clients and their connection pools."""
        self._clients.clear()
        await self._stack.aclose()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def call(self, service: Service, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Calls one AWS operation; every failure of AWS or of reaching it leaves as a domain error."""
        client = self._clients.get(service)
        if client is None:
            raise RuntimeError("AioBotoBackend.call before start()")
        method = getattr(client, _method_name(operation))
        # Retries included, the call ends before the caller's deadline: work past it is wasted.
        async with bounded(operation):
            try:
                response: dict[str, Any] = await method(**params)
            except ClientError as err:
                meta = err.response.get("ResponseMetadata", {})
                callcontext.record_aws_request_id(str(meta.get("RequestId", "")))
                raise translate_client_error(err, service, operation, params) from err
            except ParamValidationError:
                # botocore refused to send what the facade's own validation let through:
                # the facade's bug, not AWS's state. It leaves as an unexpected error
                # (INTERNAL with a request id, its traceback logged), never as a status to retry.
                raise
            except (BotoCoreError, aiohttp.ClientError, OSError, TimeoutError) as err:
                raise translate_transport_error(err, operation) from err
        callcontext.record_aws_request_id(str(response.get("ResponseMetadata", {}).get("RequestId", "")))
        return response
