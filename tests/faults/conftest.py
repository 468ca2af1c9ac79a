"""A facade whose backend retries as production does (the root conftest's makes one attempt)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fault_helpers import MAX_ATTEMPTS

from connfacade.server.app import EMULATOR_CREDENTIALS
from connfacade.server.backend import AioBotoBackend

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from connfacade.server.emulator import Emulator


@pytest.fixture
def retry_mode() -> str:
    return "standard"


@pytest.fixture
async def backend(emulator: Emulator, retry_mode: str) -> AsyncIterator[AioBotoBackend]:
    async with AioBotoBackend(
        region="us-east-1",
        endpoint_url=emulator.url,
        credentials=EMULATOR_CREDENTIALS,
        max_attempts=MAX_ATTEMPTS,
        retry_mode=retry_mode,
    ) as b:
        yield b
