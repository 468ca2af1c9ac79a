"""Fixtures shared by every test: no real AWS, a real emulator, a real server.

The stack under test is the production one: grpc.aio server → servicers →
aiobotocore over HTTP → the embedded emulator on loopback.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import grpc
import pytest

from connfacade.apprunner.v1 import connection_service_pb2_grpc as apprunner_grpc
from connfacade.codestar.v1 import connection_service_pb2_grpc as codestar_grpc
from connfacade.codestar.v1 import host_service_pb2_grpc as host_grpc
from connfacade.server.app import EMULATOR_CREDENTIALS, RunningFacade, start_facade
from connfacade.server.backend import AioBotoBackend
from connfacade.server.emulator import Emulator, EmulatorControl
from connfacade.server.store import StoreSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from connfacade.server.api.audit_trail import Auditor


@pytest.fixture(autouse=True)
def _no_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real AWS account through ambient credentials."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(port=0) as emu:
        yield emu


@pytest.fixture
async def control(emulator: Emulator) -> AsyncIterator[EmulatorControl]:
    async with EmulatorControl(emulator.url) as ctl:
        yield ctl


@pytest.fixture
async def backend(emulator: Emulator) -> AsyncIterator[AioBotoBackend]:
    # One attempt: fault tests must see each injected fault, not a retry of it.
    async with AioBotoBackend(
        region="us-east-1", endpoint_url=emulator.url, credentials=EMULATOR_CREDENTIALS, max_attempts=1
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
async def facade(
    backend: AioBotoBackend, store_settings: StoreSettings, auditor: Auditor | None
) -> AsyncIterator[RunningFacade]:
    running = await start_facade(backend, ["127.0.0.1:0"], store_settings=store_settings, auditor=auditor)
    yield running
    await running.stop(0)


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
