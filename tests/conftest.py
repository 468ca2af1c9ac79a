"""Fixtures shared by every test: no real AWS, a real emulator, a real server.

The stack under test is the production one: grpc.aio server → servicers →
aiobotocore over HTTP → the embedded emulator on loopback.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from aiobotocore.session import get_session

from connfacade.apprunner.v1 import connection_service_pb2_grpc as apprunner_grpc
from connfacade.codestar.v1 import connection_service_pb2_grpc as codestar_grpc
from connfacade.codestar.v1 import host_service_pb2_grpc as host_grpc
from connfacade.server.app import EMULATOR_CREDENTIALS, RunningFacade, start_facade
from connfacade.server.backend import AioBotoBackend
from connfacade.server.emulator import Emulator, EmulatorControl
from connfacade.server.store import StoreSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

    from aiobotocore.session import AioSession

    from connfacade.server.api.audit_trail import Auditor


def _strip_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    # No shared config or credentials file of the machine may leak in either.
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture(scope="session", autouse=True)
def _no_aws_environment_in_the_run() -> Iterator[None]:
    """Nothing made for the whole run (the sessions below) reads ambient AWS settings either."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _strip_aws_environment(monkeypatch)
        yield


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real AWS account through ambient credentials."""
    _strip_aws_environment(monkeypatch)


@pytest.fixture(scope="session")
def aws_session() -> AioSession:
    """One aiobotocore session for the run: it loads each service model and the endpoint data once.

    A new session costs tens of milliseconds per backend. Every client is made with
    explicit credentials, region, endpoint and retry settings, so no test's client
    depends on another's.
    """
    return get_session()


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(port=0) as emu:
        yield emu


@pytest.fixture
async def control(emulator: Emulator) -> AsyncIterator[EmulatorControl]:
    async with EmulatorControl(emulator.url) as ctl:
        yield ctl


@pytest.fixture
def backend_options() -> dict[str, Any]:
    """Keyword arguments of the test's `AioBotoBackend`; a folder, module or class overrides this."""
    # One attempt: fault tests must see each injected fault, not a retry of it.
    return {"max_attempts": 1}


@pytest.fixture
async def backend(
    emulator: Emulator, aws_session: AioSession, backend_options: dict[str, Any]
) -> AsyncIterator[AioBotoBackend]:
    async with AioBotoBackend(
        region="us-east-1",
        endpoint_url=emulator.url,
        credentials=EMULATOR_CREDENTIALS,
        session=aws_session,
        **backend_options,
    ) as b:
        yield b


@pytest.fixture
def store_settings() -> StoreSettings:
    """No background poller by default: every upstream call a test counts is one it caused."""
    return StoreSettings(poll=False)


@pytest.fixture
def auditor() -> Auditor | None:
    """No audit by default; audit tests give the facade a real one."""
    return None


@pytest.fixture
def facade_options(
    backend: AioBotoBackend, store_settings: StoreSettings, auditor: Auditor | None
) -> dict[str, Any]:
    """The arguments of `start_facade` for the test's facades.

    A folder, module or class that needs others overrides this fixture and
    extends what it asks for: ``facade_options | {"breaker": ...}``.
    """
    return {
        "backend": backend,
        "listen": ["127.0.0.1:0"],
        "store_settings": store_settings,
        "auditor": auditor,
    }


@pytest.fixture
async def facades(facade_options: dict[str, Any]) -> AsyncIterator[Callable[..., Awaitable[RunningFacade]]]:
    """Starts facades with ``facade_options`` and the changes given; all are stopped after the test."""
    started: list[RunningFacade] = []

    async def start(**changes: Any) -> RunningFacade:
        started.append(await start_facade(**(facade_options | changes)))
        return started[-1]

    yield start
    for running in reversed(started):
        await running.stop(0)


@pytest.fixture
async def facade(facades: Callable[..., Awaitable[RunningFacade]]) -> RunningFacade:
    """The facade of the test, on TCP loopback."""
    return await facades()


@pytest.fixture
async def channel(facade: RunningFacade) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(facade.addresses[0]) as ch:
        yield ch


@pytest.fixture
def apprunner(channel: grpc.aio.Channel) -> apprunner_grpc.ConnectionServiceStub:
    """The App Runner ConnectionService of the running facade."""
    return apprunner_grpc.ConnectionServiceStub(channel)


@pytest.fixture
def codestar(channel: grpc.aio.Channel) -> codestar_grpc.ConnectionServiceStub:
    """The CodeStar ConnectionService of the running facade."""
    return codestar_grpc.ConnectionServiceStub(channel)


@pytest.fixture
def hosts(channel: grpc.aio.Channel) -> host_grpc.HostServiceStub:
    """The CodeStar HostService of the running facade."""
    return host_grpc.HostServiceStub(channel)
