"""A facade whose backend retries as production does (the root conftest's makes one attempt),
with its circuit breaker settings as a fixture of their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fault_helpers import MAX_ATTEMPTS

from connfacade.server.app import EMULATOR_CREDENTIALS, start_facade
from connfacade.server.backend import AioBotoBackend
from connfacade.server.backend.breaker import BreakerSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from connfacade.server.api.audit_trail import Auditor
    from connfacade.server.app import RunningFacade
    from connfacade.server.emulator import Emulator
    from connfacade.server.store import StoreSettings


@pytest.fixture
def retry_mode() -> str:
    return "standard"


@pytest.fixture
def max_attempts() -> int:
    return MAX_ATTEMPTS


@pytest.fixture
def breaker() -> BreakerSettings:
    return BreakerSettings()


@pytest.fixture
async def backend(emulator: Emulator, retry_mode: str, max_attempts: int) -> AsyncIterator[AioBotoBackend]:
    async with AioBotoBackend(
        region="us-east-1",
        endpoint_url=emulator.url,
        credentials=EMULATOR_CREDENTIALS,
        max_attempts=max_attempts,
        retry_mode=retry_mode,
    ) as b:
        yield b


@pytest.fixture
async def facade(
    backend: AioBotoBackend, store_settings: StoreSettings, auditor: Auditor | None, breaker: BreakerSettings
) -> AsyncIterator[RunningFacade]:
    running = await start_facade(
        backend, ["127.0.0.1:0"], store_settings=store_settings, auditor=auditor, breaker=breaker
    )
    yield running
    await running.stop(0)
