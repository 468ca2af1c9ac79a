"""The emulator's HTTP server: its life cycle and its routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Self

from aiohttp import web

from connfacade.server.emulator._api import AwsApi, Core
from connfacade.server.emulator._control import Control
from connfacade.server.emulator._log import RequestLog
from connfacade.server.emulator._state import EmulatorState, Quotas

if TYPE_CHECKING:
    from types import TracebackType

DEFAULT_ACCOUNT_ID = "123456789012"
# Keep-alive connections of clients must not hold stop() up for aiohttp's 60 s default.
_SHUTDOWN_TIMEOUT = 1.0


class Emulator:
    """AWS App Runner and CodeStar connections, emulated on a loopback HTTP endpoint.

    Point boto3, aiobotocore or the AWS CLI at :attr:`url` (``endpoint_url`` /
    ``--endpoint-url``) with any credentials; the region is the one the request
    is signed for. ``port=0`` picks a free port.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        account_id: str = DEFAULT_ACCOUNT_ID,
        quotas: Quotas | Mapping[str, int] | None = None,
        *,
        auto_complete_seconds: float | None = None,
        request_log_size: int = 10_000,
    ) -> None:
        if isinstance(quotas, Mapping):
            quotas = Quotas().updated(quotas)
        state = EmulatorState(account_id, quotas or Quotas(), auto_complete_seconds)
        self._core = Core(state, log=RequestLog(request_log_size))
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    def _application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/", AwsApi(self._core).handle)
        app.router.add_routes(Control(self._core).routes())
        return app

    async def start(self) -> None:
        """Listen; :attr:`url` is known from now on."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        runner = web.AppRunner(self._application(), access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self._runner, self._url = runner, f"http://{netloc}"

    async def stop(self) -> None:
        """Stop listening and close open connections; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        if self._url is None:
            raise RuntimeError("emulator not started")
        return self._url

    @property
    def account_id(self) -> str:
        """The account every resource belongs to."""
        return self._core.state.account_id

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
