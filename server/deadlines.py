"""The caller's deadline, kept by every wait and AWS call made for it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from connfacade.server import callcontext
from connfacade.server.domain import DeadlineExceeded

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def bounded(what: str) -> AsyncIterator[None]:
    """Runs the body within the current caller's deadline; raises `DeadlineExceeded` when it passes."""
    budget = callcontext.remaining()
    if budget is None:
        yield
        return
    if budget <= 0:
        raise DeadlineExceeded(f"{what}: the caller's deadline left no time")
    try:
        async with asyncio.timeout(budget) as scope:
            yield
    except TimeoutError as err:
        if scope.expired():
            raise DeadlineExceeded(f"{what}: not done before the caller's deadline") from err
        raise
