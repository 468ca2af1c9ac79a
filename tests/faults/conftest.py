"""A facade whose backend retries as production does (the root conftest's makes one attempt),
with its circuit breaker settings as a fixture of their own."""

from __future__ import annotations

from typing import Any

import pytest
from fault_helpers import MAX_ATTEMPTS

from connfacade.server.backend.breaker import BreakerSettings


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
def backend_options(retry_mode: str, max_attempts: int) -> dict[str, Any]:
    return {"max_attempts": max_attempts, "retry_mode": retry_mode}


@pytest.fixture
def facade_options(facade_options: dict[str, Any], breaker: BreakerSettings) -> dict[str, Any]:
    return facade_options | {"breaker": breaker}
